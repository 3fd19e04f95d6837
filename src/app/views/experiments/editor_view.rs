//! The sweep editor's widgets: a block per parameter (a setting picked from the design, or
//! any address typed; a list or a range), the sweep's own settings, and its buttons.

use super::editor::{Editor, Kind, Row, addresses};
use crate::design::Design;
use crate::design::sweep::{Method, Metric};

/// What the editor's buttons asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// Run the sweep.
    Run,
    /// Save it as a sweep file.
    Save,
    /// Open a sweep file into it.
    Open,
}

/// Draws the editor; what its buttons asked for.
pub fn show(
    ui: &mut egui::Ui,
    editor: &mut Editor,
    design: &Design,
    running: bool,
) -> Option<Asked> {
    ui.heading("Sweep");
    ui.label(
        egui::RichText::new(
            "Train the design many times with some settings varied: any training setting, augmentation or block setting.",
        )
        .small(),
    );
    parameters(ui, editor, &addresses(design));
    ui.separator();
    settings(ui, editor);
    ui.separator();
    buttons(ui, running)
}

/// One block of widgets per parameter, and "Add a parameter".
fn parameters(ui: &mut egui::Ui, editor: &mut Editor, choices: &[String]) {
    let mut remove = None;
    for (i, row) in editor.rows.iter_mut().enumerate() {
        ui.separator();
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt(("sweep_param", i))
                .width(170.0)
                .selected_text(if row.address.is_empty() {
                    "pick a setting"
                } else {
                    &row.address
                })
                .show_ui(ui, |ui| {
                    for c in choices {
                        ui.selectable_value(&mut row.address, c.clone(), c);
                    }
                });
            if ui
                .small_button("remove")
                .on_hover_text("Remove this parameter")
                .clicked()
            {
                remove = Some(i);
            }
        });
        ui.add(
            egui::TextEdit::singleline(&mut row.address)
                .hint_text("or type: layer4.frozen, BasicBlock.conv2.out_channels")
                .desired_width(220.0),
        )
        .widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::WidgetType::TextEdit,
                true,
                format!("parameter {}", i + 1),
            )
        });
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt(("sweep_kind", i))
                .selected_text(row.kind.label())
                .show_ui(ui, |ui| {
                    for k in Kind::ALL {
                        ui.selectable_value(&mut row.kind, k, k.label());
                    }
                });
            if row.kind == Kind::Values {
                let field = ui
                    .add(egui::TextEdit::singleline(&mut row.values).desired_width(130.0))
                    .on_hover_text("comma-separated, e.g. 0.001, 0.01 or sgd, adam");
                field.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::WidgetType::TextEdit,
                        true,
                        format!("values of parameter {}", i + 1),
                    )
                });
            } else {
                ui.add(egui::TextEdit::singleline(&mut row.low).desired_width(60.0));
                ui.label("to");
                ui.add(egui::TextEdit::singleline(&mut row.high).desired_width(60.0));
            }
        });
    }
    if let Some(i) = remove {
        editor.rows.remove(i);
    }
    if ui.button("Add a parameter").clicked() {
        editor.rows.push(Row {
            address: String::new(),
            kind: Kind::Values,
            values: String::new(),
            low: "0".to_owned(),
            high: "1".to_owned(),
        });
    }
}

/// Run, save, open.
fn buttons(ui: &mut egui::Ui, running: bool) -> Option<Asked> {
    let mut asked = None;
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!running, egui::Button::new("⏵ Run sweep"))
            .on_hover_text(
                "Trains every trial into a sweep folder (a run folder per trial, trials.csv)",
            )
            .clicked()
        {
            asked = Some(Asked::Run);
        }
        if ui
            .button("Save sweep…")
            .on_hover_text(
                "As a sweep file beside the design, for netloom sweep or a Ray Tune export",
            )
            .clicked()
        {
            asked = Some(Asked::Save);
        }
        if ui
            .button("Open sweep…")
            .on_hover_text("A sweep file, into this editor")
            .clicked()
        {
            asked = Some(Asked::Open);
        }
    });
    asked
}

/// Grid or random, how many, epochs, the objective and the stopping rule.
fn settings(ui: &mut egui::Ui, e: &mut Editor) {
    egui::Grid::new("sweep_settings").num_columns(2).show(ui, |ui| {
        ui.label("search");
        ui.horizontal(|ui| {
            ui.selectable_value(&mut e.method, Method::Random, "random");
            ui.selectable_value(&mut e.method, Method::Grid, "grid");
        });
        ui.end_row();
        ui.label("trials at most");
        ui.add(egui::DragValue::new(&mut e.max_trials).range(1..=1000));
        ui.end_row();
        ui.label("repeats (seeds)");
        ui.add(egui::DragValue::new(&mut e.repeats).range(1..=20));
        ui.end_row();
        ui.label("epochs a trial");
        ui.add(egui::DragValue::new(&mut e.epochs).range(1..=1000));
        ui.end_row();
        ui.label("random seed");
        ui.add(egui::DragValue::new(&mut e.seed));
        ui.end_row();
        ui.label("judge by");
        egui::ComboBox::from_id_salt("sweep_metric")
            .selected_text(e.metric.name())
            .show_ui(ui, |ui| {
                for m in [
                    Metric::ValAcc,
                    Metric::ValLoss,
                    Metric::TrainLoss,
                    Metric::ValR2,
                    Metric::ValMiou,
                ] {
                    ui.selectable_value(&mut e.metric, m, m.name());
                }
            });
        ui.end_row();
        ui.label("stop early");
        egui::ComboBox::from_id_salt("sweep_stopping")
            .selected_text(["never", "median rule", "successive halving"][e.stopping.min(2)])
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut e.stopping, 0, "never");
                ui.selectable_value(&mut e.stopping, 1, "median rule")
                    .on_hover_text("Stop a trial whose best so far is below the median of the others at that epoch");
                ui.selectable_value(&mut e.stopping, 2, "successive halving")
                    .on_hover_text("ASHA: at epochs 1, 3, 9, … keep the top third");
            });
        ui.end_row();
    });
}
