//! The design summary: a table of nodes with shapes and costs, the problems, and totals.
use super::theme;
use crate::design::Analysis;
use crate::units::{bytes, thousands};

/// One row per node, in execution order; invalid nodes in red with their problem on hover.
pub fn node_table(ui: &mut egui::Ui, analysis: &Analysis) {
    egui::ScrollArea::vertical()
        .max_height(ui.available_height() * 0.7)
        .show(ui, |ui| {
            egui::Grid::new("nodes")
                .striped(true)
                .num_columns(6)
                .show(ui, |ui| {
                    for h in ["name", "kind", "output", "params", "MACs"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for r in analysis.in_execution_order() {
                        let problems: Vec<String> = analysis
                            .problems_of(r.id)
                            .map(|p| p.message.clone())
                            .collect();
                        if problems.is_empty() {
                            ui.label(&r.name);
                        } else {
                            ui.colored_label(theme::ERROR, &r.name)
                                .on_hover_text(problems.join("\n"));
                        }
                        ui.label(r.kind);
                        ui.label(
                            r.output
                                .as_ref()
                                .map_or_else(|| "?".to_owned(), ToString::to_string),
                        );
                        for n in [r.params, r.macs] {
                            let right = egui::Layout::right_to_left(egui::Align::Center);
                            ui.with_layout(right, |ui| {
                                ui.colored_label(theme::MUTED, thousands(n));
                            });
                        }
                        // An empty last cell keeps the right-aligned MACs column from
                        // stretching to the window's edge.
                        ui.label("");
                        ui.end_row();
                    }
                });
        });
}

/// Every problem, each worded so that a learner can fix it.
pub fn problem_list(ui: &mut egui::Ui, analysis: &Analysis) {
    if analysis.problems.is_empty() {
        return;
    }
    ui.separator();
    ui.strong(crate::units::count(
        analysis.problems.len() as u64,
        "problem",
    ));
    egui::ScrollArea::vertical()
        .id_salt("problems")
        .show(ui, |ui| {
            for p in &analysis.problems {
                ui.colored_label(theme::ERROR, format!("• {p}"));
            }
        });
}

/// Totals of the design and whether it is valid, and whether the chosen data fits it (a few
/// words, and the whole sentence on hover). With frozen blocks, the parameters are split into
/// trainable and frozen.
pub fn status_bar(
    ui: &mut egui::Ui,
    analysis: &Analysis,
    frozen: u64,
    data_misfit: Option<(String, String)>,
) {
    ui.horizontal(|ui| {
        let t = analysis.totals;
        ui.label(format!("{} parameters", thousands(t.params)));
        if frozen > 0 {
            ui.label(format!(
                "({} trainable,",
                thousands(t.params.saturating_sub(frozen))
            ));
            ui.colored_label(theme::FROZEN, format!("{} frozen)", thousands(frozen)));
        }
        ui.separator();
        ui.label(format!("{} MACs per sample", thousands(t.macs)));
        ui.separator();
        ui.label(format!(
            "{} activations per sample",
            bytes(t.activation_bytes)
        ));
        ui.separator();
        match (analysis.is_valid(), data_misfit) {
            (true, None) => {
                ui.colored_label(theme::OK, "valid");
            }
            (true, Some((short, full))) => {
                ui.colored_label(theme::OK, "design valid");
                ui.label("·");
                ui.colored_label(theme::ERROR, short).on_hover_text(full);
            }
            (false, _) => {
                ui.colored_label(
                    theme::ERROR,
                    crate::units::count(analysis.problems.len() as u64, "problem"),
                );
            }
        }
    });
}
