//! What the canvas does with the pointer and the keyboard: focus and selection, Delete,
//! Ctrl+D and Ctrl+G, dragged blocks and groups, and clicks on groups (a double click expands
//! one, a click on an expanded group's title collapses it).

use super::scene::Block;
use super::{Canvas, frames};
use crate::design::edit::Edit;
use crate::design::{Design, GroupId, NodeId};
use egui::{Pos2, Ui};

impl Canvas {
    /// The selected nodes: snarl's selection (a collapsed group standing for its members)
    /// with the focused block first.
    pub(super) fn selected(&mut self, ui: &Ui, id: egui::Id, design: &Design) -> Vec<NodeId> {
        let members = |b: Block| match b {
            Block::Node(n) => vec![n],
            Block::Group(g) => design
                .group(g)
                .map(|g| g.members.clone())
                .unwrap_or_default(),
        };
        let mut selected: Vec<NodeId> = egui_snarl::ui::get_selected_nodes(id, ui.ctx())
            .into_iter()
            .filter_map(|i| self.snarl.get_node(i).copied())
            .flat_map(members)
            .collect();
        self.picked.retain(|n| design.node(*n).is_some());
        for n in &self.picked {
            if !selected.contains(n) {
                selected.push(*n);
            }
        }
        if let Some(f) = self.focus {
            for (i, n) in members(f).into_iter().enumerate() {
                selected.retain(|s| *s != n);
                selected.insert(i, n);
            }
        }
        if selected != self.selection {
            // The inspector was drawn before the canvas this frame: draw again to show it.
            ui.ctx().request_repaint();
            self.selection = selected.clone();
        }
        selected
    }

    /// Keys act on the selection, unless a text field has the keyboard.
    pub(super) fn keys(&self, ui: &Ui, selected: &[NodeId]) -> Vec<Edit> {
        let mut edits = Vec::new();
        if ui.ctx().egui_wants_keyboard_input() || selected.is_empty() {
            return edits;
        }
        let (delete, duplicate, group) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::Delete) || i.key_pressed(egui::Key::Backspace),
                i.modifiers.command && i.key_pressed(egui::Key::D),
                i.modifiers.command && i.key_pressed(egui::Key::G),
            )
        });
        if delete {
            edits.push(Edit::Remove(selected.to_vec()));
        }
        if duplicate {
            edits.push(Edit::Duplicate(selected.to_vec()));
        }
        if group {
            edits.push(Edit::Group(selected.to_vec()));
        }
        edits
    }

    /// Blocks the user dragged, once the pointer is up.
    pub(super) fn moves(&self, ui: &Ui, design: &Design) -> Vec<Edit> {
        if ui.input(|i| i.pointer.any_down()) {
            return Vec::new();
        }
        let far = |a: [f32; 2], b: Pos2| (a[0] - b.x).abs() > 0.5 || (a[1] - b.y).abs() > 0.5;
        let mut nodes = Vec::new();
        let mut groups = Vec::new();
        for (pos, block) in self.snarl.nodes_pos() {
            match *block {
                Block::Node(id) => {
                    if let Some(n) = design.node(id).filter(|n| far(n.pos, pos)) {
                        nodes.push((n.id, [pos.x, pos.y]));
                    }
                }
                Block::Group(id) => {
                    if let Some(g) = design.group(id).filter(|g| far(g.pos, pos)) {
                        groups.push((g.id, [pos.x, pos.y]));
                    }
                }
            }
        }
        let mut edits = Vec::new();
        if !nodes.is_empty() {
            edits.push(Edit::Moved(nodes));
        }
        if !groups.is_empty() {
            edits.push(Edit::GroupsMoved(groups));
        }
        edits
    }

    /// A plain click on a block focuses it and one on empty canvas clears the focus; a click
    /// on an expanded group's title collapses it, a double click on a collapsed one expands it.
    pub(super) fn clicks(
        &mut self,
        ui: &Ui,
        clip: egui::Rect,
        frames: &[(GroupId, egui::Rect, String)],
    ) -> Vec<Edit> {
        let (click, double) = ui.input(|i| {
            let at = i.pointer.interact_pos();
            (
                at.filter(|_| i.pointer.primary_clicked()),
                at.filter(|_| {
                    i.pointer
                        .button_double_clicked(egui::PointerButton::Primary)
                }),
            )
        });
        // Only a click that landed on the canvas itself: not one that answered a dialog or a
        // menu drawn over it (egui knows which layer was on top where the pointer is).
        let on_canvas = |p: &Pos2| {
            clip.contains(*p)
                && ui
                    .ctx()
                    .layer_id_at(*p)
                    .is_none_or(|layer| layer == ui.layer_id())
        };
        let hit = |pos: Pos2| {
            self.rects
                .iter()
                .find(|(_, r)| (self.transform * **r).contains(pos))
                .map(|(b, _)| *b)
        };
        if let Some(pos) = double.filter(on_canvas) {
            match hit(pos) {
                Some(Block::Group(g)) => {
                    return vec![Edit::Collapse {
                        group: g,
                        collapsed: false,
                    }];
                }
                // On empty canvas: fit, readably (snarl's own centering is off).
                None if self.on_frame_title(pos, frames).is_none() => {
                    self.fit_as(super::Fit::Readable);
                    ui.ctx().request_repaint();
                    return Vec::new();
                }
                _ => {}
            }
        }
        let Some(pos) = click.filter(on_canvas) else {
            return Vec::new();
        };
        let block = hit(pos);
        if !self.picked.is_empty() && !ui.input(|i| i.modifiers.shift) {
            self.picked.clear();
            ui.ctx().request_repaint();
        }
        if block.is_none()
            && let Some(g) = self.on_frame_title(pos, frames)
        {
            return vec![Edit::Collapse {
                group: g,
                collapsed: true,
            }];
        }
        if block != self.focus {
            self.focus = block;
            ui.ctx().request_repaint();
        }
        Vec::new()
    }

    /// The expanded group whose title is at `pos` (screen): its strip, or the title the
    /// overview writes above the strip far out, which is the one a user sees and clicks.
    fn on_frame_title(
        &self,
        pos: Pos2,
        frames: &[(GroupId, egui::Rect, String)],
    ) -> Option<GroupId> {
        frames.iter().find_map(|(g, r, _)| {
            let strip = self.transform * frames::title_rect(*r);
            let label = self.overview_titles.get(g);
            (strip.contains(pos) || label.is_some_and(|l| l.contains(pos))).then_some(*g)
        })
    }
}
