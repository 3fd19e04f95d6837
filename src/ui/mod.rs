//! Widgets drawn by the app. They read the design and its analysis and return the edits the
//! user asked for; the app applies them (with undo).
pub mod canvas;
pub mod data_panel;
pub mod inspector;
pub mod palette;
pub mod summary;
pub mod theme;
pub mod train_panel;
