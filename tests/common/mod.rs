//! What the integration tests share, pulled in one way: `mod common;`, then
//! - `common::reference`: libtorch's own answers for the design tests (ops run with tch,
//!   independently of netloom's shape inference), and the bundled examples;
//! - `common::run`: the CLI, temporary folders, run folders' metrics, the Python reference;
//! - `common::ui`: the app under egui_kittest, driven as a user would.
//!
//! Each test file uses some of it; the rest is not dead code in the others.
#![allow(dead_code)]

pub mod reference;
pub mod run;
pub mod ui;
