//! netloom: draw a neural network, see every shape as you edit, train it on libtorch.
//!
//! The layers point one way: `app`/`ui`/`cli` → `data`/`document` → `design`. [`design`] is pure:
//! no egui, no tch, no file I/O.
pub mod app;
pub mod cli;
pub mod data;
pub mod design;
pub mod document;
pub mod engine;
pub mod examples;
pub mod fsio;
pub mod ui;
pub mod units;
