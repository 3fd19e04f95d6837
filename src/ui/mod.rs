//! Widgets drawn by the app. They read the design and its analysis and return the design's own
//! edits ([`crate::design::edit::Edit`]) or new settings; the app applies them (with undo).
//! Nothing here imports the app.
pub mod activation_plot;
pub mod canvas;
pub mod data_panel;
pub mod inspector;
mod inspector_group;
pub mod palette;
pub mod still_plot;
pub mod summary;
pub mod theme;
