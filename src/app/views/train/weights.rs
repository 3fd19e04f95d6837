//! Pretrained weights in the Train view: the file in use, the head to replace, and the review
//! of a file's mapping onto the design before anything is applied.

use crate::app::training::{Pretrained, RunAction, TrainAction, Training, WeightsChoice};
use crate::ui::theme;

/// Starting from pretrained weights: pick a file, see how it maps, replace the head.
pub fn pretrained(
    ui: &mut egui::Ui,
    training: &Training,
    head: Option<(String, u64)>,
    out: &mut Vec<TrainAction>,
) {
    ui.heading("Pretrained weights").on_hover_text(
        "Transfer learning: start from weights trained on another task (.safetensors, or a PyTorch .pt/.pth state dict). Tensors map onto blocks by name: conv1.weight goes to conv1.",
    );
    match training.pretrained() {
        Pretrained::None => {
            if ui.button("Start from pretrained weights…").clicked() {
                out.push(TrainAction::PickWeights);
            }
        }
        Pretrained::Checking(path, _, _) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("reading {}", file_name(path)));
            });
        }
        Pretrained::Review(_) => {
            ui.label("review the mapping…");
        }
        Pretrained::Using(w) => {
            let r = &w.report;
            let loaded = w.loaded();
            ui.label(format!(
                "from {}: {} to load, {} re-initialised",
                file_name(&w.path),
                crate::units::count(loaded as u64, "tensor"),
                r.missing.len() + r.mismatched.len() + r.matched.len() - loaded
            ));
            ui.horizontal(|ui| {
                if ui.button("Review…").clicked() {
                    out.push(RunAction::ReviewWeights.into());
                }
                if ui.button("Clear").clicked() {
                    out.push(RunAction::ClearWeights.into());
                }
            });
        }
    }
    if let Some(e) = training.pretrained_error() {
        ui.colored_label(theme::ERROR, e);
    }
    if let Some((name, width)) = head {
        ui.horizontal(|ui| {
            let classes = training.preview().classes().map_or(width, |c| c as u64);
            ui.label(format!("head {name}: {width} outputs"));
            if classes != width
                && ui
                    .button(format!("Replace head ({classes} classes)"))
                    .on_hover_text(
                        "Give the last Linear one output per class of this data; it starts from a fresh initialisation",
                    )
                    .clicked()
            {
                out.push(TrainAction::ReplaceHead(classes));
            }
        });
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The mapping of a weights file onto the design, before anything is applied: what matched,
/// what is missing or unexpected, and shape mismatches with both shapes. Matched blocks can be
/// left out one by one.
pub fn review(ctx: &egui::Context, choice: &WeightsChoice) -> Vec<TrainAction> {
    let mut out = Vec::new();
    let r = &choice.report;
    let shape = |s: &[i64]| format!("{s:?}");
    egui::Modal::new(egui::Id::new("weights_review")).show(ctx, |ui| {
        ui.set_max_width(720.0);
        ui.heading(format!("Pretrained weights: {}", file_name(&choice.path)));
        ui.label(format!(
            "{} matched · {} missing in the file · {} unexpected in the file · {} shape mismatches",
            r.matched.len(),
            r.missing.len(),
            r.unexpected.len(),
            r.mismatched.len()
        ));
        ui.label(
            egui::RichText::new(
                "Only matched tensors are loaded; the rest keep a fresh initialisation.",
            )
            .color(theme::MUTED),
        );
        ui.separator();
        ui.label("load into these blocks:");
        egui::ScrollArea::vertical()
            .id_salt("review_nodes")
            .max_height(140.0)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for (node, count) in choice.matched_nodes() {
                        let mut on = !choice.skip.contains(&node);
                        if ui.checkbox(&mut on, format!("{node} ({count})")).changed() {
                            out.push(RunAction::LoadNode(node, on).into());
                        }
                    }
                });
            });
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("review_table")
            .max_height(300.0)
            .show(ui, |ui| {
                egui::Grid::new("review_grid").striped(true).show(ui, |ui| {
                    for h in ["", "tensor", "in the file", "in the design"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for (n, f, d) in &r.mismatched {
                        ui.colored_label(theme::ERROR, "shape mismatch");
                        ui.label(n);
                        ui.label(shape(f));
                        ui.label(shape(d));
                        ui.end_row();
                    }
                    for (n, s) in &r.missing {
                        ui.colored_label(theme::FOCUS, "missing in the file");
                        ui.label(n);
                        ui.label("–");
                        ui.label(shape(s));
                        ui.end_row();
                    }
                    for (n, s) in &r.unexpected {
                        ui.colored_label(theme::MUTED, "unexpected in the file");
                        ui.label(n);
                        ui.label(shape(s));
                        ui.label("–");
                        ui.end_row();
                    }
                    for (n, s) in &r.matched {
                        ui.colored_label(theme::OK, "matched");
                        ui.label(n);
                        ui.label(shape(s));
                        ui.label(shape(s));
                        ui.end_row();
                    }
                });
            });
        ui.separator();
        ui.horizontal(|ui| {
            let usable = choice
                .matched_nodes()
                .iter()
                .any(|(n, _)| !choice.skip.contains(n));
            if ui
                .add_enabled(usable, egui::Button::new("Use the matched weights"))
                .on_disabled_hover_text("Nothing matches: no tensor of the file fits a block")
                .clicked()
            {
                out.push(RunAction::UseWeights.into());
            }
            if ui.button("Cancel").clicked() {
                out.push(RunAction::ClearWeights.into());
            }
        });
    });
    out
}
