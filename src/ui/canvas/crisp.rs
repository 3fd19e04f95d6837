//! Text on the zoomed canvas, rasterized at the size it has on the screen.
//!
//! snarl draws the blocks on a layer that egui scales by the zoom, so a label laid out the
//! usual way keeps the glyph bitmaps of zoom 1 and the GPU shrinks them. Glyph bitmaps are
//! cut tight around the ink, and a glyph at the start of a galley sits on a whole pixel, so
//! its left stem (the I of Input, the r of relu1, the f of fc1) fills the bitmap's first
//! column; shrunk, the screen pixels sample past that column and the stem vanishes. That was
//! the "nput" and "elu1" a new user met at the zoom the app opens with.
//!
//! Here a label is laid out at its on-screen size (rounded to half a pixel, so a smooth zoom
//! rasterizes a few sizes rather than hundreds) and put on a whole screen pixel; the shape is
//! scaled down by the zoom before it is added, so the layer's transform scales it back to
//! exactly the bitmaps' size. The text keeps its place in the layer: a block on top still
//! covers the one under it, label included.

use egui::emath::GuiRounding as _;
use egui::emath::TSTransform;
use egui::epaint::TextShape;
use egui::{Align2, Color32, FontId, Pos2, Rect};

/// The font size a label of `size` points is drawn at under zoom `scale`: half-pixel steps,
/// never below the exact size (a title meant to be 11 px is not drawn at 10.5).
pub(super) fn screen_size(size: f32, scale: f32) -> f32 {
    ((size * scale * 2.0).ceil() / 2.0).max(1.0)
}

/// The text shape that draws `text` anchored at `anchor` (graph space, placed by `align`),
/// crisp under `transform`; and the rectangle it covers on the screen, with its font size.
pub(super) fn text(
    painter: &egui::Painter,
    transform: TSTransform,
    anchor: Pos2,
    align: Align2,
    text: String,
    font: FontId,
    color: Color32,
) -> (egui::Shape, Rect, f32) {
    let scale = transform.scaling;
    let px = screen_size(font.size, scale);
    let galley = painter.layout_no_wrap(text, FontId::new(px, font.family), color);
    let at = align.anchor_size(transform * anchor, galley.size());
    let on_screen = Rect::from_min_size(
        at.min.round_to_pixels(painter.pixels_per_point()),
        at.size(),
    );
    let pos = transform.inverse() * on_screen.min;
    let mut shape = TextShape::new(Pos2::ZERO, galley, color);
    shape.transform(TSTransform::from_scaling(1.0 / scale));
    shape.pos = pos;
    (shape.into(), on_screen, px)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_up_to_half_pixels() {
        assert_eq!(screen_size(12.5, 1.0), 12.5);
        assert_eq!(screen_size(12.5, 0.88), 11.0);
        assert_eq!(screen_size(12.5, 0.65), 8.5);
        assert!(screen_size(12.5, 0.001) >= 1.0);
    }
}
