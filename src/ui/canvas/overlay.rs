//! What the canvas paints over snarl's drawing: the zoomed-out overview and the wires' shapes.

use super::Canvas;
use super::scene::Block;
use crate::design::{Analysis, Design};
use crate::ui::theme;
use egui::{Pos2, Ui};
use std::collections::HashSet;

/// Whether a block is frozen, as the overview and the minimap mark it: a node the user froze,
/// or a group whose every block with weights is frozen.
pub(super) fn frozen(design: &Design, block: Block) -> bool {
    let learns = |op: &crate::design::Op| op.learns();
    match block {
        Block::Node(id) => design.node(id).is_some_and(|n| n.frozen && learns(&n.op)),
        Block::Group(g) => design.group(g).is_some_and(|g| {
            let learning: Vec<_> = g
                .members
                .iter()
                .filter_map(|m| design.node(*m))
                .filter(|n| learns(&n.op))
                .collect();
            !learning.is_empty() && learning.iter().all(|n| n.frozen)
        }),
    }
}

impl Canvas {
    /// Far out: each block as a box in its kind's colour with its name in readable type, where
    /// the name fits (the full view shows the rest).
    pub(super) fn overview(&mut self, painter: &egui::Painter, design: &Design) {
        self.overview_titles.clear();
        let clip = painter.clip_rect();
        let font = egui::FontId::proportional(11.0);
        // A name may run into the gap beside its box.
        let spare = crate::design::layout::LAYER_GAP * self.transform.scaling;
        for (g, frame, title) in super::frames::frames(design, &self.rects) {
            let strip = self.transform * super::frames::title_rect(frame);
            // The whole title where it fits over the frame, else the group's name alone.
            let name = design.group(g).map(|g| g.name.clone()).unwrap_or_default();
            for text in [title, name] {
                let galley = painter.layout_no_wrap(text, font.clone(), theme::GROUP_EDGE);
                if galley.size().x <= strip.width() {
                    let at = strip.left_top() + egui::vec2(2.0, -2.0 - galley.size().y);
                    self.overview_titles
                        .insert(g, egui::Rect::from_min_size(at, galley.size()));
                    painter.galley(at, galley, theme::GROUP_EDGE);
                    break;
                }
            }
        }
        for (block, r) in &self.rects {
            let (name, colour) = match *block {
                // Inside an expanded group the path is on the frame: the block's own part will do.
                Block::Node(id) => match design.node(id) {
                    Some(n) => {
                        let local = design
                            .group_of(id)
                            .and_then(|g| n.name.strip_prefix(&format!("{}.", g.name)))
                            .unwrap_or(&n.name);
                        (local, theme::kind_colour(&n.op))
                    }
                    None => continue,
                },
                Block::Group(g) => match design.group(g) {
                    Some(g) => (g.name.as_str(), theme::GROUP_EDGE),
                    None => continue,
                },
            };
            let drawn = self.transform * *r;
            if !clip.intersects(drawn) {
                continue;
            }
            // At least tall enough to hold a name, centred where the block is.
            let rect = egui::Rect::from_center_size(
                drawn.center(),
                egui::vec2(drawn.width(), drawn.height().max(16.0)),
            );
            painter.rect_filled(rect, 2.0, colour.gamma_multiply(0.85));
            let selected = match *block {
                Block::Node(id) => self.selection.contains(&id),
                Block::Group(_) => false,
            };
            if self.focus == Some(*block) || selected {
                painter.rect_stroke(
                    rect.expand(1.5),
                    2.0,
                    egui::Stroke::new(2.0, theme::FOCUS),
                    egui::StrokeKind::Outside,
                );
            } else if frozen(design, *block) {
                // Frozen blocks keep their mark far out: an icy edge, as on the full block.
                painter.rect_stroke(
                    rect,
                    2.0,
                    egui::Stroke::new(2.0, theme::FROZEN),
                    egui::StrokeKind::Inside,
                );
            }
            // Dark type on light boxes, white on dark ones.
            let ink = if colour.intensity() > 0.55 {
                egui::Color32::from_gray(20)
            } else {
                egui::Color32::WHITE
            };
            // 11 px where it fits, else 9 px: small, but a name rather than none.
            for size in [11.0, 9.0] {
                let galley =
                    painter.layout_no_wrap(name.to_owned(), egui::FontId::proportional(size), ink);
                if galley.size().x <= rect.width() + spare {
                    painter.galley(rect.center() - galley.size() / 2.0, galley, ink);
                    break;
                }
            }
        }
    }

    /// Each wire's tensor shape, painted at its middle (once for a wire that stands for
    /// several edges into a collapsed group).
    pub(super) fn wire_labels(
        &self,
        ui: &Ui,
        clip: egui::Rect,
        design: &Design,
        analysis: &Analysis,
    ) {
        let painter = ui.painter().with_clip_rect(clip);
        let scale = self.transform.scaling;
        let mut done = HashSet::new();
        for e in &design.edges {
            let Some((from, to)) = self.scene.wire(e) else {
                continue;
            };
            if !done.insert((from, to)) {
                continue;
            }
            let (Some(a), Some(b)) = (self.rects.get(&from.0), self.rects.get(&to.0)) else {
                continue;
            };
            let Some(shape) = analysis.report(e.from).and_then(|r| r.output) else {
                continue;
            };
            // Node rectangles are in graph space; the painter draws on the screen.
            let mid = self.transform
                * Pos2::new(
                    (a.right() + b.left()) / 2.0,
                    (a.center().y + b.center().y) / 2.0,
                );
            painter.text(
                mid - egui::vec2(0.0, 4.0 * scale),
                egui::Align2::CENTER_BOTTOM,
                shape.to_string(),
                egui::FontId::proportional(11.0 * scale),
                theme::WIRE_LABEL,
            );
        }
    }
}
