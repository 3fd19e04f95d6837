//! The inspector for a collapsed group: its name (its members' path), kind, shapes, parameter
//! count, frozen state and members.

use super::inspector::Inspector;
use super::theme;
use crate::design::edit::Edit;
use crate::design::grouping::name_free;
use crate::design::{Analysis, Design, Group, GroupId, GroupInput};

impl Inspector {
    /// Shows the group `id`; returns an edit when the user changed something valid.
    pub fn show_group(
        &mut self,
        ui: &mut egui::Ui,
        design: &Design,
        analysis: &Analysis,
        id: GroupId,
    ) -> Option<Edit> {
        ui.heading("Inspector");
        let g = design.group(id)?;
        if self.group != Some(id) {
            self.group = Some(id);
            self.group_name.clone_from(&g.name);
            self.group_kind.clone_from(&g.kind);
        }
        ui.label(egui::RichText::new(format!("Group · {}", g.kind)).strong());
        let mut edit = None;
        egui::Grid::new("group_fields")
            .num_columns(2)
            .show(ui, |ui| {
                let label = ui.label("name");
                if ui
                    .text_edit_singleline(&mut self.group_name)
                    .labelled_by(label.id)
                    .changed()
                    && name_free(design, id, &self.group_name)
                {
                    edit = Some(Edit::RenameGroup(id, self.group_name.clone()));
                }
                ui.end_row();
                let label = ui.label("kind");
                if ui
                    .text_edit_singleline(&mut self.group_kind)
                    .labelled_by(label.id)
                    .changed()
                    && !self.group_kind.trim().is_empty()
                {
                    edit = Some(Edit::GroupKind(id, self.group_kind.trim().to_owned()));
                }
                ui.end_row();
            });
        if !name_free(design, id, &self.group_name) && self.group_name != g.name {
            ui.colored_label(
                theme::ERROR,
                "the name must be a valid path (layer1.0) that no other block or group uses",
            );
        }
        ui.small("Its blocks are named by this path, as PyTorch names a module's parameters.");

        let trainable: Vec<_> = g
            .members
            .iter()
            .copied()
            .filter(|m| analysis.report(*m).is_some_and(|r| r.params > 0))
            .collect();
        let mut frozen = !trainable.is_empty()
            && trainable
                .iter()
                .all(|m| design.node(*m).is_some_and(|n| n.frozen));
        if !trainable.is_empty()
            && ui
                .checkbox(&mut frozen, "frozen")
                .on_hover_text("Freezing a group freezes every block in it")
                .changed()
        {
            edit = Some(Edit::Freeze {
                nodes: trainable,
                frozen,
            });
        }
        ui.horizontal(|ui| {
            if ui.button("Expand").clicked() {
                edit = Some(Edit::Collapse {
                    group: id,
                    collapsed: false,
                });
            }
            if ui.button("Ungroup").clicked() {
                edit = Some(Edit::Ungroup(id));
            }
        });
        ui.separator();
        summary(ui, design, analysis, g);
        edit
    }
}

/// A group's shapes in and out, its size and its members (with their problems).
fn summary(ui: &mut egui::Ui, design: &Design, analysis: &Analysis, g: &Group) {
    let params: u64 = g
        .members
        .iter()
        .filter_map(|m| analysis.report(*m))
        .map(|r| r.params)
        .sum();
    let b = design.pins(g);
    let shape_of = |n| {
        analysis
            .report(n)
            .and_then(|r| r.output)
            .map_or_else(|| "?".to_owned(), |s| s.to_string())
    };
    let inputs: Vec<String> = b
        .inputs
        .iter()
        .map(|i| match i {
            GroupInput::From(n) => shape_of(*n),
            GroupInput::Open { .. } => "unconnected".to_owned(),
        })
        .collect();
    let outputs: Vec<String> = b.outputs.iter().map(|n| shape_of(*n)).collect();
    ui.label(format!("in {}", inputs.join(", ")));
    ui.label(format!("out {}", outputs.join(", ")));
    ui.label(format!(
        "{} blocks, {} params",
        g.members.len(),
        crate::units::thousands(params)
    ));
    for m in &g.members {
        if let Some(n) = design.node(*m) {
            ui.label(egui::RichText::new(format!("{} · {}", n.name, n.op.kind_name())).small());
        }
        for p in analysis.problems_of(*m) {
            ui.colored_label(theme::ERROR, &p.message);
        }
    }
}
