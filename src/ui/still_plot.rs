//! A plot that holds still: a picture with axes (a contour map, a decision map, a cloud, an
//! activation curve) that the mouse doesn't drag, zoom or scroll away, so a wheel over it
//! scrolls the page as it would anywhere else.

use egui_plot::Plot;

/// A plot of `size` points that ignores dragging, zooming and the wheel.
pub fn still_plot(id: impl egui::AsId, size: egui::Vec2) -> Plot<'static> {
    Plot::new(id)
        .width(size.x)
        .height(size.y)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
}
