//! A wire's right-click menu: the wire stays highlighted while the menu says what it carries
//! and offers to delete it or to insert a block on it. (snarl itself deletes a right-clicked
//! wire at once, with no highlight and no way back short of undo.)

use super::scene::Block;
use super::{Canvas, PinSide};
use crate::design::catalogue::BLOCKS;
use crate::design::edit::Edit;
use crate::design::{Analysis, Design};
use crate::ui::theme;

impl Canvas {
    /// Draws the open wire menu, if any; returns the edit chosen.
    pub(super) fn wire_menu(
        &mut self,
        ui: &egui::Ui,
        design: &Design,
        analysis: &Analysis,
        opened_now: bool,
    ) -> Vec<Edit> {
        let Some(menu) = self.wire_menu else {
            return Vec::new();
        };
        let Some(src) = self.scene.source(menu.from.0, menu.from.1) else {
            self.wire_menu = None;
            return Vec::new();
        };
        let out_side = match menu.from.0 {
            Block::Group(_) => PinSide::GroupOut(menu.from.1 as u32),
            Block::Node(_) => PinSide::Out,
        };
        let ends = (
            self.pins.get(&(menu.from.0, out_side)),
            self.pins.get(&(menu.to.0, PinSide::In(menu.to.1 as u32))),
        );
        let (Some(&a), Some(&b)) = ends else {
            // The wire is gone (undone, deleted elsewhere): so is its menu.
            self.wire_menu = None;
            return Vec::new();
        };
        let ctx = ui.ctx();
        let highlight = egui::LayerId::new(egui::Order::Foreground, ui.id().with("wire highlight"));
        ctx.layer_painter(highlight).line_segment(
            [self.transform * a, self.transform * b],
            egui::Stroke::new(4.0, theme::FOCUS.gamma_multiply(0.8)),
        );
        let name = |b: Block| match b {
            Block::Node(n) => design.node(n).map(|n| n.name.clone()),
            Block::Group(g) => design.group(g).map(|g| g.name.clone()),
        };
        let shape = analysis
            .report(src)
            .and_then(|r| r.output)
            .map_or_else(|| "?".to_owned(), |s| s.to_string());
        let mid = (a + b.to_vec2()) / 2.0;
        let mut edits = Vec::new();
        let mut close = false;
        let area = egui::Area::new(ui.id().with("wire menu"))
            .order(egui::Order::Foreground)
            .fixed_pos(menu.at)
            .show(ctx, |ui| {
                egui::Frame::menu(ui.style()).show(ui, |ui| {
                    ui.label(format!(
                        "{} ⏵ {}  ({shape})",
                        name(menu.from.0).unwrap_or_default(),
                        name(menu.to.0).unwrap_or_default()
                    ));
                    ui.separator();
                    if ui.button("Delete wire").clicked() {
                        edits.push(self.scene.disconnect(design, menu.from, menu.to));
                        close = true;
                    }
                    ui.menu_button("Insert a block here", |ui| {
                        for block in BLOCKS.iter().filter(|b| b.goes_between()) {
                            if ui.button(block.label).on_hover_text(block.help).clicked() {
                                let new = design.next_id();
                                let add = block.add_at([mid.x - 60.0, mid.y + 50.0]);
                                let into = self.scene.connect(design, new, menu.to.0, menu.to.1);
                                let feed = Edit::Connect {
                                    from: src,
                                    to: new,
                                    port: 0,
                                };
                                edits.push(Edit::Many(vec![add, feed, into]));
                                close = true;
                            }
                        }
                    });
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            });
        let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
        // The right-click that opened the menu is a click outside it too: not a dismissal.
        let dismissed = !opened_now && area.response.clicked_elsewhere();
        if close || escape || dismissed {
            self.wire_menu = None;
        }
        edits
    }
}
