//! The canvas's right-click menus: adding a block, a block's own menu (duplicate, delete,
//! group, freeze) and a collapsed group's (expand, ungroup, duplicate, delete, freeze).

use super::scene::Block;
use super::viewer::Viewer;
use crate::design::catalogue::BLOCKS;
use crate::design::edit::Edit;
use crate::design::{GroupId, NodeId};
use egui::{Pos2, Ui};

impl Viewer<'_> {
    /// The canvas's own menu: a block of the catalogue to add where it was right-clicked.
    pub(super) fn add_menu(&mut self, ui: &mut Ui, pos: Pos2) {
        ui.label("Add a block");
        let mut group = "";
        for block in BLOCKS {
            if block.group != group {
                group = block.group;
                ui.separator();
            }
            if ui.button(block.label).on_hover_text(block.help).clicked() {
                self.edits.push(block.add_at([pos.x, pos.y]));
                ui.close();
            }
        }
    }

    /// A block's menu: duplicate, delete, group, freeze.
    pub(super) fn node_menu(&mut self, ui: &mut Ui, id: NodeId) {
        if ui.button("Duplicate").clicked() {
            self.edits.push(Edit::Duplicate(vec![id]));
            ui.close();
        }
        if ui.button("Delete").clicked() {
            self.edits.push(Edit::Remove(vec![id]));
            ui.close();
        }
        ui.separator();
        self.grouping_items(ui, id);
        ui.separator();
        let frozen = self.design.node(id).is_some_and(|n| n.frozen);
        let (label, help) = if frozen {
            ("Unfreeze", "Train this block again")
        } else {
            (
                "Freeze",
                "Keep this block's weights as they are while the rest trains (fine-tuning)",
            )
        };
        if ui.button(label).on_hover_text(help).clicked() {
            self.edits.push(Edit::Freeze {
                nodes: vec![id],
                frozen: !frozen,
            });
            ui.close();
        }
        if ui
            .button("Freeze everything up to here")
            .on_hover_text("Freeze this block and every block before it: the pretrained features")
            .clicked()
        {
            // Only blocks with parameters: freezing a ReLU or a pooling means nothing.
            let nodes = self
                .design
                .upstream(id)
                .into_iter()
                .filter(|n| self.analysis.report(*n).is_some_and(|r| r.params > 0))
                .collect();
            self.edits.push(Edit::Freeze {
                nodes,
                frozen: true,
            });
            ui.close();
        }
    }

    /// The menu of a collapsed group.
    pub(super) fn group_menu(&mut self, ui: &mut Ui, g: GroupId) {
        let members = self.members(&Block::Group(g)).to_vec();
        if ui
            .button("Expand")
            .on_hover_text("Show its blocks in place (double-click)")
            .clicked()
        {
            self.edits.push(Edit::Collapse {
                group: g,
                collapsed: false,
            });
            ui.close();
        }
        if ui
            .button("Ungroup")
            .on_hover_text("Dissolve the group; its blocks stay")
            .clicked()
        {
            self.edits.push(Edit::Ungroup(g));
            ui.close();
        }
        if ui
            .button("Duplicate")
            .on_hover_text("Another instance of the same kind")
            .clicked()
        {
            self.edits.push(Edit::Duplicate(members.clone()));
            ui.close();
        }
        if ui.button("Delete").clicked() {
            self.edits.push(Edit::Remove(members.clone()));
            ui.close();
        }
        ui.separator();
        let frozen = self.params(Block::Group(g)).1;
        let label = if frozen {
            "Unfreeze group"
        } else {
            "Freeze group"
        };
        if ui
            .button(label)
            .on_hover_text("Freezing a group freezes every block in it")
            .clicked()
        {
            self.edits.push(Edit::Freeze {
                nodes: members,
                frozen: !frozen,
            });
            ui.close();
        }
    }

    /// The grouping items of a node's menu.
    fn grouping_items(&mut self, ui: &mut Ui, id: NodeId) {
        if let Some(g) = self.design.group_of(id) {
            if ui.button(format!("Collapse {}", g.name)).clicked() {
                self.edits.push(Edit::Collapse {
                    group: g.id,
                    collapsed: true,
                });
                ui.close();
            }
            return;
        }
        let mut nodes = self.selection.to_vec();
        if !nodes.contains(&id) {
            nodes = vec![id];
        }
        let label = format!(
            "Group {} block{} (Ctrl+G)",
            nodes.len(),
            if nodes.len() == 1 { "" } else { "s" }
        );
        if ui
            .button(label)
            .on_hover_text("Make the selected blocks one named block, like a PyTorch module")
            .clicked()
        {
            self.edits.push(Edit::Group(nodes));
            ui.close();
        }
    }
}
