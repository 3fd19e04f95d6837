//! A regression's answer to the confusion matrix: predicted against actual on validation
//! samples, with the line a perfect model would sit on, and MAE, RMSE and R² above it.

use crate::engine::EpochMetrics;
use crate::engine::regression::RegressionFit;
use crate::ui::theme;
use egui_plot::{Line, Plot, PlotPoints, Points};

/// Draws `fit` (of epoch `m`) as a predicted-vs-actual scatter `h` points high.
pub fn predicted_vs_actual(ui: &mut egui::Ui, m: &EpochMetrics, fit: &RegressionFit, h: f32) {
    ui.label(format!(
        "predicted vs actual, epoch {}: MAE {} · RMSE {} · R² {:.3}",
        m.epoch,
        crate::units::sig(fit.mae),
        crate::units::sig(fit.rmse),
        fit.r2
    ))
    .on_hover_text(
        "Each dot is a validation sample: across, its true value; up, the network's prediction. \
         A perfect model puts every dot on the diagonal. MAE and RMSE are in the target's units; \
         R² is the share of the target's variance the model explains (1 is perfect, 0 is no \
         better than always predicting the mean).",
    );
    if fit.points.is_empty() {
        ui.label(
            egui::RichText::new("No points: this run was read back from its metrics.csv.")
                .color(theme::MUTED),
        );
        return;
    }
    let (lo, hi) = fit
        .points
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(f64::from(v)), hi.max(f64::from(v)))
        });
    let points: Vec<[f64; 2]> = fit
        .points
        .iter()
        .map(|&[a, p]| [f64::from(a), f64::from(p)])
        .collect();
    let plot = Plot::new("regression_scatter")
        .height(h)
        .data_aspect(1.0)
        .x_axis_label("actual")
        .y_axis_label("predicted");
    super::plots::show(ui, "regression_scatter", plot, |p| {
        p.line(
            Line::new("perfect", PlotPoints::from(vec![[lo, lo], [hi, hi]]))
                .color(theme::MUTED)
                .style(egui_plot::LineStyle::dashed_loose()),
        );
        p.points(
            Points::new("validation", PlotPoints::from(points))
                .color(theme::run_colour(0))
                .radius(2.0),
        );
    });
}
