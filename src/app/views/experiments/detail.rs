//! Below the table: one parameter against the objective (a log axis where its range is log),
//! the picked trials' curves overlaid with the Train view's plots, the first picked trial's
//! confusion matrix or regression scatter, and what to do with a trial: open its design, train
//! it longer.

use super::Experiments;
use crate::app::actions::AppCommand;
use crate::design::sweep::trial_design;
use egui_plot::{Plot, PlotPoints, Points};

/// Draws the scatter, the curves and the picked trial's actions.
pub(super) fn show(
    ui: &mut egui::Ui,
    ex: &mut Experiments,
    cmds: &mut Vec<AppCommand>,
    ctx: &egui::Context,
) {
    scatter(ui, ex);
    let picked: Vec<usize> = ex.selected.iter().copied().collect();
    if picked.is_empty() {
        ui.label(
            egui::RichText::new(
                "Pick trials in the table (click their names) to overlay their curves.",
            )
            .color(crate::ui::theme::MUTED),
        );
        return;
    }
    actions(ui, ex, &picked, cmds, ctx);
    curves(ui, ex, &picked);
}

/// One parameter (picked) against the best objective, every trial a point.
fn scatter(ui: &mut egui::Ui, ex: &mut Experiments) {
    let Some(shown) = ex.shown.as_ref() else {
        return;
    };
    let axes = super::coords::axes(shown);
    let Some(objective) = axes.last() else { return };
    ui.add_space(6.0);
    let mut choice = ex.scatter.clone().unwrap_or_default();
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("scatter_param")
            .selected_text(&choice)
            .show_ui(ui, |ui| {
                for a in axes.iter().filter(|a| !a.objective) {
                    ui.selectable_value(&mut choice, a.name.clone(), &a.name);
                }
            });
        ui.label(format!("against {}", objective.name));
    });
    ex.scatter = Some(choice.clone());
    let Some(axis) = axes.iter().find(|a| a.name == choice) else {
        return;
    };
    let visible = super::table::visible(ex);
    let (mut inside, mut outside, mut picked) = (Vec::new(), Vec::new(), Vec::new());
    for (i, r) in shown.records.iter().enumerate() {
        let (Some(x), Some(y)) = (axis.value(shown, r), objective.value(shown, r)) else {
            continue;
        };
        let x = if axis.log {
            x.max(f64::MIN_POSITIVE).log10()
        } else {
            x
        };
        let bucket = if ex.selected.contains(&i) {
            &mut picked
        } else if visible.contains(&i) {
            &mut inside
        } else {
            &mut outside
        };
        bucket.push([x, y]);
    }
    let log = axis.log;
    let categories = axis.categories.clone();
    let plot = Plot::new("sweep_scatter")
        .height(180.0)
        .x_axis_label(if log {
            format!("{} (log scale)", axis.name)
        } else {
            axis.name.clone()
        })
        .y_axis_label(objective.name.clone())
        .x_axis_formatter(move |mark, _| {
            if log {
                crate::units::sig(10f64.powf(mark.value))
            } else if !categories.is_empty() {
                categories
                    .get(mark.value.round() as usize)
                    .cloned()
                    .unwrap_or_default()
            } else {
                crate::units::sig(mark.value)
            }
        });
    crate::app::views::train::plots::show(ui, "sweep_scatter", plot, |p| {
        let muted = crate::ui::theme::MUTED;
        p.points(
            Points::new("brushed out", PlotPoints::from(outside))
                .color(muted.gamma_multiply(0.4))
                .radius(3.0),
        );
        p.points(
            Points::new("trials", PlotPoints::from(inside))
                .color(crate::ui::theme::run_colour(0))
                .radius(4.0),
        );
        p.points(
            Points::new("picked", PlotPoints::from(picked))
                .color(crate::ui::theme::run_colour(1))
                .radius(6.0),
        );
    });
}

/// Open the picked trial's design; train it longer.
fn actions(
    ui: &mut egui::Ui,
    ex: &mut Experiments,
    picked: &[usize],
    cmds: &mut Vec<AppCommand>,
    ctx: &egui::Context,
) {
    use crate::engine::sweep::trials_csv::TrialStatus;
    let first = picked[0];
    let Some((name, can_continue, epochs)) = ex.shown.as_ref().and_then(|s| {
        let r = s.records.get(first)?;
        let can = matches!(r.status, TrialStatus::Done | TrialStatus::Pruned(_));
        Some((r.trial.name(), can, s.sweep.epochs.unwrap_or(1)))
    }) else {
        return;
    };
    if ex.longer == 0 {
        ex.longer = epochs.max(1);
    }
    let busy = ex.busy();
    let (mut open, mut longer) = (false, false);
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("{name}:"));
        open = ui
            .button("Open this trial's design")
            .on_hover_text("Into the editor, as a new unsaved design (the sweep's design with this trial's values)")
            .clicked();
        ui.add(egui::DragValue::new(&mut ex.longer).range(1..=1000).suffix(" more epochs"));
        longer = ui
            .add_enabled(can_continue && !busy, egui::Button::new("Train this trial longer"))
            .on_hover_text("From its checkpoint, in its run folder; the table follows")
            .clicked();
    });
    if open && let Some(shown) = ex.shown.as_ref() {
        match trial_design(&shown.sweep, &shown.design, &shown.records[first].trial) {
            Ok(d) => cmds.push(AppCommand::OpenTrialDesign(Box::new(d), name.clone())),
            Err(e) => ex.error = Some(format!("{name}: {e}")),
        }
    }
    if longer {
        ex.train_longer(first, ctx);
    }
}

/// The picked trials' curves, and the first one's confusion matrix or regression scatter.
fn curves(ui: &mut egui::Ui, ex: &mut Experiments, picked: &[usize]) {
    let mut runs = Vec::new();
    for &i in picked {
        if let Some(h) = ex.history(i) {
            runs.push(h.clone());
        }
    }
    if runs.is_empty() {
        ui.label("The picked trials have no curves yet.");
        return;
    }
    let names: Vec<String> = runs.iter().map(|r| r.name.clone()).collect();
    ui.horizontal_wrapped(|ui| {
        for (i, n) in names.iter().enumerate() {
            ui.colored_label(crate::ui::theme::run_colour(i), n);
        }
    });
    let regression = runs.iter().all(|r| r.regression);
    let segmentation = runs.iter().all(|r| r.segmentation);
    let what = if regression {
        "R²"
    } else if segmentation {
        "mean IoU"
    } else {
        "accuracy"
    };
    ui.columns(2, |cols| {
        use crate::app::views::train::plots::epoch_plot;
        epoch_plot(
            &mut cols[0],
            Plot::new("sweep_acc").height(170.0),
            "sweep_acc",
            what,
            (&runs, &names),
            |m| match (&m.regression, &m.segmentation) {
                (Some(f), _) => (f.r2, f64::NAN),
                (_, Some(s)) => (s.mean_iou, f64::NAN),
                _ => (m.val_acc, m.train_acc),
            },
        );
        epoch_plot(
            &mut cols[1],
            Plot::new("sweep_loss").height(170.0),
            "sweep_loss",
            "loss",
            (&runs, &names),
            |m| (m.val_loss, m.train_loss),
        );
    });
    let run = &runs[0];
    match run.epochs.last() {
        Some(m) if !m.confusion.counts.is_empty() => {
            ui.label(format!("{}: the last epoch's confusion matrix", run.name));
            crate::app::views::train::confusion::heat_map(ui, m, &run.classes);
        }
        Some(m) if m.regression.as_ref().is_some_and(|f| !f.points.is_empty()) => {
            if let Some(fit) = &m.regression {
                crate::app::views::train::scatter::predicted_vs_actual(ui, m, fit, 200.0);
            }
        }
        _ => {
            ui.label(
                egui::RichText::new(format!(
                    "{}'s confusion matrix is drawn for trials trained in this session; for one read from its folder, `netloom eval {}` prints it.",
                    run.name,
                    run.dir.as_ref().map_or(String::new(), |d| d.display().to_string())
                ))
                .color(crate::ui::theme::MUTED),
            );
        }
    }
}
