//! The Train view's plots: loss per step (raw and smoothed) of every run, accuracy and loss
//! per epoch, the confusion matrix and the gradient norm of each block.
//!
//! Every run has one colour in every plot, named once in the legend row above them (no legend
//! drawn over the data). The mouse wheel scrolls the page; it pans a plot only once that plot
//! has been clicked, and Ctrl+wheel zooms.

use crate::app::training::{TrainAction, Training};
use crate::engine::{EpochMetrics, RunHistory};
use crate::ui::theme;
use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints, PlotUi, Points};

/// The plots for every run of the session.
pub fn plots(ui: &mut egui::Ui, training: &Training) -> Vec<TrainAction> {
    let mut out = Vec::new();
    if training.runs().is_empty() {
        ui.label(
            egui::RichText::new(
                "Press Train: the loss, accuracy and what happens inside the net appear here, live.",
            )
            .color(theme::MUTED),
        );
        return out;
    }
    legend(ui, training.runs());
    // Two-feature data: the Playground's picture first.
    super::boundary::show(ui, training);
    let h = (ui.available_height() / 4.0).clamp(110.0, 220.0);
    ui.label("loss per step (faint: every step, bold: smoothed)");
    let names = legend_names(training.runs());
    show(ui, "loss_plot", Plot::new("loss_plot").height(h), |p| {
        for (i, run) in training.runs().iter().enumerate() {
            let c = theme::run_colour(i);
            p.line(
                Line::new(
                    format!("{} raw", names[i]),
                    PlotPoints::from(run.losses.clone()),
                )
                .color(c.gamma_multiply(0.35)),
            );
            p.line(
                Line::new(
                    names[i].clone(),
                    PlotPoints::from(smoothed(&run.losses, 0.05)),
                )
                .color(c)
                .width(2.0),
            );
        }
    });
    ui.columns(2, |cols| {
        let acc = Plot::new("acc_plot").height(h);
        // A regression has no accuracy: its plot is of R² (validation only); a
        // segmentation's is of mean IoU.
        let runs = training.runs();
        let what = if runs.iter().all(|r| r.regression) {
            "R²"
        } else if runs.iter().all(|r| r.segmentation) {
            "mean IoU"
        } else if runs.iter().any(|r| r.regression || r.segmentation) {
            "accuracy (R² for regression, mean IoU for segmentation)"
        } else {
            "accuracy"
        };
        epoch_plot(
            &mut cols[0],
            acc,
            "acc_plot",
            what,
            (runs, &names),
            |m| match (&m.regression, &m.segmentation) {
                (Some(f), _) => (f.r2, f64::NAN),
                (_, Some(s)) => (s.mean_iou, f64::NAN),
                _ => (m.val_acc, m.train_acc),
            },
        );
        let loss = Plot::new("epoch_loss_plot").height(h);
        epoch_plot(
            &mut cols[1],
            loss,
            "epoch_loss_plot",
            "loss",
            (runs, &names),
            |m| (m.val_loss, m.train_loss),
        );
    });
    if let Some(run) = training.runs().last() {
        ui.columns(2, |cols| {
            evaluation(&mut cols[0], run, h);
            gradients(&mut cols[1], run, h, &mut out);
        });
    }
    super::network::inside(ui, training, &mut out);
    super::network::views(ui, training, &mut out);
    out
}

/// What the latest epoch says of the validation data: the confusion matrix, or a regression's
/// predicted-vs-actual scatter, or a segmentation's IoU per class.
fn evaluation(ui: &mut egui::Ui, run: &RunHistory, h: f32) {
    match run.epochs.last() {
        Some(m) if m.segmentation.is_some() => {
            if let Some(fit) = &m.segmentation {
                super::iou::bars(ui, m, fit, &run.classes);
            }
        }
        None if run.segmentation => {
            ui.label(
                egui::RichText::new("The IoU of each class appears after the first epoch.")
                    .color(theme::MUTED),
            );
        }
        Some(m) if m.regression.is_some() => {
            if let Some(fit) = &m.regression {
                super::scatter::predicted_vs_actual(ui, m, fit, h);
            }
        }
        None if run.regression => {
            ui.label(
                egui::RichText::new(
                    "Predicted against actual values appear after the first epoch.",
                )
                .color(theme::MUTED),
            );
        }
        Some(m) if m.confusion.counts.is_empty() => {
            ui.label(
                egui::RichText::new(
                    "No confusion matrix: this run was read back from its metrics.csv.",
                )
                .color(theme::MUTED),
            );
        }
        Some(m) => super::confusion::heat_map(ui, m, &run.classes),
        None => {
            ui.label(
                egui::RichText::new("The confusion matrix appears after the first epoch.")
                    .color(theme::MUTED),
            );
        }
    }
}

/// Each run's colour and name, once for all the plots; the whole of what it ran on hover.
/// (The plots' own legends are off: this one row names every run.)
fn legend(ui: &mut egui::Ui, runs: &[RunHistory]) {
    let names = legend_names(runs);
    ui.horizontal_wrapped(|ui| {
        for (i, run) in runs.iter().enumerate() {
            let (r, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
            ui.painter()
                .rect_filled(r.shrink(2.0), 2.0, theme::run_colour(i));
            let all: Vec<String> = run.about.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let label = ui.label(&names[i]);
            if !all.is_empty() {
                label.on_hover_text(all.join("\n"));
            }
            ui.add_space(10.0);
        }
    });
}

/// What names each run in the legend and the plots: its number and what differs between the
/// runs shown (the network, the data, the optimizer, a setting), so "#1" and "#4" never read
/// alike for runs of different designs; with one run, or runs that differ in nothing
/// recorded, its optimizer and rate.
pub(super) fn legend_names(runs: &[RunHistory]) -> Vec<String> {
    let keys: Vec<&str> = runs
        .first()
        .map(|r| r.about.iter().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    let value = |r: &RunHistory, k: &str| {
        r.about
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let differ: Vec<&str> = keys
        .into_iter()
        .filter(|k| runs.iter().any(|r| value(r, k) != value(&runs[0], k)))
        .collect();
    runs.iter()
        .map(|r| {
            let number = r.name.split(' ').next().unwrap_or(&r.name);
            if runs.len() < 2 || differ.is_empty() {
                return r.name.clone();
            }
            let parts: Vec<String> = differ
                .iter()
                .map(|k| {
                    let v = value(r, k).unwrap_or_else(|| "?".to_owned());
                    match *k {
                        "network" | "data" => v,
                        _ => format!("{k} {v}"),
                    }
                })
                .collect();
            format!("{number} {}", parts.join(" · "))
        })
        .collect()
}

/// Shows `plot` with `add`, leaving the mouse wheel to the page until the plot is pressed on
/// (then the wheel pans it, until a press elsewhere); Ctrl+wheel zooms, a drag pans.
pub(in crate::app::views) fn show(
    ui: &mut egui::Ui,
    id: &str,
    plot: Plot<'_>,
    add: impl FnOnce(&mut PlotUi<'_>),
) {
    let key = egui::Id::new("netloom_active_plot");
    let me = egui::Id::new(id);
    let active = ui.data(|d| d.get_temp::<egui::Id>(key)) == Some(me);
    // A global id: the plot keeps its view wherever the page has scrolled (and tests can read
    // its bounds).
    let response = plot.id(me).allow_scroll(active).show(ui, add).response;
    if response.is_pointer_button_down_on() {
        ui.data_mut(|d| d.insert_temp(key, me));
    } else if active && ui.input(|i| i.pointer.any_pressed()) && !response.hovered() {
        ui.data_mut(|d| d.remove::<egui::Id>(key));
    }
}

/// One value per epoch for every run in its colour, validation solid and training dashed, a
/// marker at each epoch (one epoch is one point, which a line alone would not show).
/// (The Experiments view draws the selected trials' curves with it, under the trials' names.)
pub(in crate::app::views) fn epoch_plot(
    ui: &mut egui::Ui,
    plot: Plot<'_>,
    id: &str,
    what: &str,
    (runs, names): (&[RunHistory], &[String]),
    value: impl Fn(&EpochMetrics) -> (f64, f64),
) {
    ui.label(format!(
        "{what} per epoch (validation solid, training dashed)"
    ));
    show(ui, id, plot, |p| {
        for (i, run) in runs.iter().enumerate() {
            let c = theme::run_colour(i);
            let name = &names[i];
            // A value a run didn't record (a run read back from a metrics.csv without it) is
            // left out: one NaN would take the plot's bounds, and its axis labels, with it.
            let at = |pick: fn((f64, f64)) -> f64| -> Vec<[f64; 2]> {
                run.epochs
                    .iter()
                    .map(|m| [m.epoch as f64, pick(value(m))])
                    .filter(|p| p[1].is_finite())
                    .collect()
            };
            let (val, train) = (at(|v| v.0), at(|v| v.1));
            p.line(Line::new(format!("{name} val"), PlotPoints::from(val.clone())).color(c));
            p.points(
                Points::new(format!("{name} val"), PlotPoints::from(val))
                    .color(c)
                    .radius(3.5),
            );
            p.line(
                Line::new(format!("{name} train"), PlotPoints::from(train.clone()))
                    .color(c)
                    .style(egui_plot::LineStyle::dashed_loose()),
            );
            p.points(
                Points::new(format!("{name} train"), PlotPoints::from(train))
                    .color(c)
                    .filled(false)
                    .radius(3.5),
            );
        }
    });
}

/// The latest gradient norm of each block with parameters, one bar each, named by block down
/// the side; and a warning for every ReLU that has mostly died.
fn gradients(ui: &mut egui::Ui, run: &RunHistory, height: f32, out: &mut Vec<TrainAction>) {
    ui.label("gradient norm per block (latest step)");
    let named: Vec<(String, f32)> = run
        .stats
        .iter()
        .filter_map(|s| s.grad_norm.map(|g| (s.node.clone(), g)))
        .collect();
    if named.is_empty() {
        return;
    }
    // Top to bottom in network order: the first block at the top.
    let n = named.len();
    let bars: Vec<Bar> = named
        .iter()
        .enumerate()
        .map(|(i, (name, g))| Bar::new((n - 1 - i) as f64, f64::from(*g)).name(name))
        .collect();
    let names: Vec<String> = named.iter().map(|(n, _)| n.clone()).collect();
    let label = move |y: f64| {
        let i = y.round();
        (i >= 0.0 && (i as usize) < n && (y - i).abs() < 0.01)
            .then(|| names[n - 1 - i as usize].clone())
    };
    let widest = named.iter().map(|(n, _)| n.len()).max().unwrap_or(4);
    let plot = Plot::new("grad_plot")
        .height(height.max(16.0 * n as f32))
        .show_grid([true, false])
        .show_x(false)
        .show_y(false)
        .y_axis_min_width(widest as f32 * 6.5 + 8.0)
        .y_axis_formatter(move |mark, _| label(mark.value).unwrap_or_default());
    let marks: Vec<egui_plot::GridMark> = (0..n)
        .map(|i| egui_plot::GridMark {
            value: i as f64,
            step_size: 1.0,
        })
        .collect();
    let plot = plot.y_grid_spacer(move |_| marks.clone());
    show(ui, "grad_plot", plot, |p| {
        p.bar_chart(
            BarChart::new("gradient norm", bars)
                .horizontal()
                .color(theme::WIRE_LABEL)
                .element_formatter(Box::new(|bar, _| {
                    format!("{}: {:.3e}", bar.name, bar.value)
                })),
        );
    });
    for s in &run.stats {
        if let Some(dead) = s.dead_fraction
            && dead > 0.5
        {
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(
                    theme::ERROR,
                    format!(
                        "{}: {:.0}% of its ReLUs are dead (never positive in a batch): lower the learning rate, or try LeakyReLU.",
                        s.node,
                        dead * 100.0
                    ),
                );
                if ui.link("Why? (Learn › Activations)").clicked() {
                    out.push(TrainAction::ExplainActivations);
                }
            });
        }
    }
}

/// Exponential moving average, for the smoothed loss curve.
fn smoothed(points: &[[f64; 2]], alpha: f64) -> Vec<[f64; 2]> {
    let mut acc = None;
    points
        .iter()
        .map(|&[x, y]| {
            let v = acc.map_or(y, |a: f64| a + alpha * (y - a));
            acc = Some(v);
            [x, v]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::legend_names;
    use crate::engine::RunHistory;

    fn run(name: &str, about: &[(&str, &str)]) -> RunHistory {
        let mut r = RunHistory::new(name.to_owned(), 1, None);
        r.about = about
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        r
    }

    #[test]
    fn runs_are_named_by_what_differs_between_them() {
        let a = run(
            "#1 sgd lr 0.01",
            &[
                ("network", "design 1 (61,706 params)"),
                ("data", "Fashion-MNIST (built-in)"),
                ("lr", "0.01"),
            ],
        );
        let b = run(
            "#2 sgd lr 0.01",
            &[
                ("network", "design 2 (19,994 params)"),
                ("data", "toy: spiral"),
                ("lr", "0.01"),
            ],
        );
        assert_eq!(
            legend_names(&[a.clone(), b]),
            [
                "#1 design 1 (61,706 params) · Fashion-MNIST (built-in)",
                "#2 design 2 (19,994 params) · toy: spiral"
            ]
        );
        let c = run(
            "#3 sgd lr 0.1",
            &[
                ("network", "design 1 (61,706 params)"),
                ("data", "Fashion-MNIST (built-in)"),
                ("lr", "0.1"),
            ],
        );
        assert_eq!(legend_names(&[a.clone(), c]), ["#1 lr 0.01", "#3 lr 0.1"]);
        // One run, or runs alike in all that is recorded: the optimizer and rate.
        assert_eq!(legend_names(std::slice::from_ref(&a)), ["#1 sgd lr 0.01"]);
    }
}
