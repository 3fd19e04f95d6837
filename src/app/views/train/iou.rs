//! A segmentation's answer to the confusion matrix: each class's intersection over union as a
//! bar in the class's overlay colour, with the pixel accuracy and mean IoU above.

use crate::data::masks::CLASS_COLOURS;
use crate::engine::EpochMetrics;
use crate::engine::segmentation::SegmentationFit;
use crate::ui::theme;

/// Draws `fit` (of epoch `m`), classes named by `classes`.
pub fn bars(ui: &mut egui::Ui, m: &EpochMetrics, fit: &SegmentationFit, classes: &[String]) {
    ui.label(format!(
        "IoU per class, epoch {}: pixel accuracy {:.1}% · mean IoU {:.3}",
        m.epoch,
        fit.pixel_accuracy * 100.0,
        fit.mean_iou
    ))
    .on_hover_text(
        "A class's IoU (intersection over union) is the pixels both truly and predicted of the \
         class, over the pixels either says are: 1 is a perfect outline, 0 none of it. The mean \
         is over the classes present; ignored pixels count nowhere.",
    );
    egui::Grid::new("iou_bars").show(ui, |ui| {
        for (k, &iou) in fit.iou.iter().enumerate() {
            let name = classes.get(k).cloned().unwrap_or_else(|| k.to_string());
            ui.label(name);
            let (rect, _) = ui.allocate_exact_size(egui::vec2(160.0, 12.0), egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 2.0, theme::MUTED.gamma_multiply(0.25));
            if iou.is_finite() {
                let [r, g, b] = CLASS_COLOURS[k % CLASS_COLOURS.len()];
                // Class 0 (the background) has no overlay colour: drawn grey.
                let colour = if k == 0 {
                    theme::MUTED
                } else {
                    egui::Color32::from_rgb(r, g, b)
                };
                let w = rect.width() * iou.clamp(0.0, 1.0) as f32;
                ui.painter().rect_filled(
                    egui::Rect::from_min_size(rect.min, egui::vec2(w, rect.height())),
                    2.0,
                    colour,
                );
                ui.label(format!("{iou:.3}"));
            } else {
                ui.label(egui::RichText::new("absent").color(theme::MUTED))
                    .on_hover_text("in neither the masks nor the predictions");
            }
            ui.end_row();
        }
    });
}
