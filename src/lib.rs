//! netloom: draw a neural network, see every shape as you edit, train it on libtorch.
//!
//! The layers point one way: `app` → `ui` → `engine` → `data`/`document` → `design`, with
//! `cli` beside `app`, and the leaves (`units`, `fsio`, `pth`) below them all. [`design`] is
//! pure: no egui, no tch, no file I/O. `tests/layers.rs` holds the table, and forbids circles
//! between the sibling modules of the engine and of the app. docs/architecture.md explains it.
pub mod app;
pub mod cli;
pub mod data;
pub mod design;
pub mod document;
pub mod engine;
pub mod examples;
pub mod export;
pub mod fsio;
pub mod import;
pub mod jobs;
pub mod onnx_proto;
pub mod pth;
pub mod ui;
pub mod units;
