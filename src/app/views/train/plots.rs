//! The Train view's plots: loss per step (raw and smoothed) of every run, accuracy and loss
//! per epoch, gradient norms and dead ReLUs, and the confusion matrix.

use crate::app::training::{TrainAction, Training};
use crate::engine::EpochMetrics;
use crate::ui::theme;
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// The plots: loss per step (raw and smoothed) of every run, accuracy and loss per epoch,
/// and the inside of the net for the latest run.
pub fn plots(ui: &mut egui::Ui, training: &Training) -> Vec<TrainAction> {
    let mut out = Vec::new();
    if training.runs().is_empty() {
        ui.label(egui::RichText::new("Press Train: the loss, accuracy and what happens inside the net appear here, live.").color(theme::MUTED));
        return out;
    }
    let h = (ui.available_height() / 4.0).max(110.0);
    ui.label("loss per step");
    Plot::new("loss_plot")
        .height(h)
        .legend(Legend::default())
        .show(ui, |p| {
            for run in training.runs() {
                p.line(
                    Line::new(
                        format!("{} raw", run.name),
                        PlotPoints::from(run.losses.clone()),
                    )
                    .color(theme::MUTED.gamma_multiply(0.5)),
                );
                p.line(Line::new(
                    run.name.clone(),
                    PlotPoints::from(smoothed(&run.losses, 0.05)),
                ));
            }
        });
    ui.columns(3, |cols| {
        epoch_plot(&mut cols[0], "acc_plot", "accuracy", h, training, |m| (m.val_acc, m.train_acc));
        epoch_plot(&mut cols[1], "epoch_loss_plot", "loss", h, training, |m| (m.val_loss, m.train_loss));
        let cols = &mut cols[1..];
        cols[1].label("gradient norm per block (latest)");
        if let Some(run) = training.runs().last() {
            let bars: Vec<egui_plot::Bar> = run
                .stats
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.grad_norm.map(|g| egui_plot::Bar::new(i as f64, f64::from(g)).name(&s.node)))
                .collect();
            Plot::new("grad_plot").height(h).show(&mut cols[1], |p| p.bar_chart(egui_plot::BarChart::new("gradient norm", bars)));
            for s in &run.stats {
                if let Some(dead) = s.dead_fraction
                    && dead > 0.5
                {
                    cols[1].colored_label(theme::ERROR, format!("{}: {:.0}% of its ReLUs are dead (never positive in a batch): lower the learning rate, or try LeakyReLU", s.node, dead * 100.0));
                }
            }
        }
    });
    super::network::inside(ui, training, &mut out);
    super::network::views(ui, training, &mut out);
    if let Some(m) = training.runs().last().and_then(|r| r.epochs.last()) {
        ui.label(format!(
            "confusion matrix, epoch {} (rows: true class, columns: predicted)",
            m.epoch
        ));
        egui::Grid::new("confusion").show(ui, |ui| {
            for row in &m.confusion.counts {
                for c in row {
                    ui.label(c.to_string());
                }
                ui.end_row();
            }
        });
    }
    out
}

/// One value per epoch for every run, validation solid and training dashed.
fn epoch_plot(
    ui: &mut egui::Ui,
    id: &str,
    what: &str,
    height: f32,
    training: &Training,
    value: impl Fn(&EpochMetrics) -> (f64, f64),
) {
    ui.label(format!("{what} per epoch (train dashed, validation solid)"));
    Plot::new(id)
        .height(height)
        .legend(Legend::default())
        .show(ui, |p| {
            for run in training.runs() {
                let at = |pick: fn((f64, f64)) -> f64| -> Vec<[f64; 2]> {
                    run.epochs
                        .iter()
                        .map(|m| [m.epoch as f64, pick(value(m))])
                        .collect()
                };
                p.line(Line::new(
                    format!("{} val", run.name),
                    PlotPoints::from(at(|v| v.0)),
                ));
                p.line(
                    Line::new(format!("{} train", run.name), PlotPoints::from(at(|v| v.1)))
                        .style(egui_plot::LineStyle::dashed_loose()),
                );
            }
        });
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
