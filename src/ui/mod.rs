//! Widgets drawn by the app; they read the design and its analysis and never mutate them.
pub mod summary;
pub mod theme;
