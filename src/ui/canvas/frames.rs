//! Expanded groups' frames: a titled box behind the group's blocks, whose title collapses it.

use super::scene::Block;
use crate::design::layout::{FRAME_PAD, FRAME_TITLE};
use crate::design::{Design, GroupId};
use crate::ui::theme;
use egui::{Pos2, Rect};
use std::collections::HashMap;

/// Each expanded group's frame in graph space, from its members' rectangles of the last frame,
/// with its title (`⏷ layer1.0 · BasicBlock`).
pub(super) fn frames(
    design: &Design,
    rects: &HashMap<Block, Rect>,
) -> Vec<(GroupId, Rect, String)> {
    design
        .groups
        .iter()
        .filter(|g| !g.collapsed)
        .filter_map(|g| {
            let inner = g
                .members
                .iter()
                .filter_map(|m| rects.get(&Block::Node(*m)))
                .fold(Rect::NOTHING, |a, r| a.union(*r));
            if !inner.is_finite() {
                return None;
            }
            let outer = Rect::from_min_max(
                Pos2::new(
                    inner.min.x - FRAME_PAD,
                    inner.min.y - FRAME_PAD - FRAME_TITLE,
                ),
                Pos2::new(inner.max.x + FRAME_PAD, inner.max.y + FRAME_PAD),
            );
            Some((g.id, outer, format!("⏷ {}  ·  {}", g.name, g.kind)))
        })
        .collect()
}

/// The title strip of a frame: clicking it collapses the group.
pub(super) fn title_rect(frame: Rect) -> Rect {
    Rect::from_min_size(frame.min, egui::vec2(frame.width(), FRAME_TITLE))
}

/// Paints a frame and its title with `painter` (graph space, behind the blocks), the title
/// crisp under `transform`.
pub(super) fn draw(
    painter: &egui::Painter,
    transform: egui::emath::TSTransform,
    frame: Rect,
    title: &str,
) {
    painter.rect(
        frame,
        6.0,
        theme::GROUP.gamma_multiply(0.55),
        egui::Stroke::new(1.5, theme::GROUP_EDGE),
        egui::StrokeKind::Inside,
    );
    let strip = title_rect(frame);
    painter.rect_filled(strip, 6.0, theme::GROUP);
    let (shape, _, _) = super::crisp::text(
        painter,
        transform,
        strip.left_center() + egui::vec2(8.0, 0.0),
        egui::Align2::LEFT_CENTER,
        title.to_owned(),
        egui::FontId::proportional(14.0),
        theme::GROUP_EDGE,
    );
    painter.add(shape);
}
