//! A table's preview in the data panel: its first rows as read, each column's kind and what
//! became of it, and the target's balance (class counts) or spread (a histogram of the
//! quantity): what a user checks before training on their own data.

use crate::data::Dataset;
use crate::data::table::TablePreview;
use crate::ui::theme;

/// Bins of a regression target's histogram.
const BINS: usize = 24;

/// The preview of `data`'s table (nothing for other data).
pub fn preview(ui: &mut egui::Ui, data: &Dataset) {
    let Some(t) = &data.table else {
        return;
    };
    egui::CollapsingHeader::new(format!(
        "table: {} rows × {} columns",
        crate::units::thousands(t.total_rows as u64),
        t.names.len()
    ))
    .id_salt("table_preview")
    .default_open(true)
    .show(ui, |ui| {
        rows(ui, t);
        ui.add_space(4.0);
        match &data.quantity {
            Some(q) => spread(ui, data, &q.name),
            None => balance(ui, data),
        }
    });
}

/// The first rows, under a header of names, kinds and roles; scrolls sideways when wide.
fn rows(ui: &mut egui::Ui, t: &TablePreview) {
    egui::ScrollArea::horizontal()
        .id_salt("table_rows")
        .show(ui, |ui| {
            egui::Grid::new("table_grid")
                .striped(true)
                .spacing(egui::vec2(10.0, 2.0))
                .show(ui, |ui| {
                    for n in &t.names {
                        ui.label(egui::RichText::new(n).strong());
                    }
                    ui.end_row();
                    for (kind, role) in t.kinds.iter().zip(&t.roles) {
                        let colour = if role.starts_with("target") {
                            theme::OK
                        } else if role.starts_with("dropped") {
                            theme::WARNING
                        } else {
                            theme::MUTED
                        };
                        let short: String = role.chars().take(28).collect();
                        ui.label(
                            egui::RichText::new(format!("{kind} · {short}"))
                                .small()
                                .color(colour),
                        )
                        .on_hover_text(role);
                    }
                    ui.end_row();
                    for row in &t.rows {
                        for cell in row {
                            let text: String = cell.chars().take(16).collect();
                            if cell.is_empty() {
                                ui.label(egui::RichText::new("—").color(theme::MUTED))
                                    .on_hover_text("missing");
                            } else {
                                ui.label(text);
                            }
                        }
                        ui.end_row();
                    }
                });
        });
}

/// Training rows per class, as bars.
fn balance(ui: &mut egui::Ui, data: &Dataset) {
    let counts = data.train.class_counts(data.classes.len());
    let most = counts.iter().copied().max().unwrap_or(1).max(1);
    ui.label("class balance (training rows)");
    egui::Grid::new("class_balance").show(ui, |ui| {
        for (name, &n) in data.classes.iter().zip(&counts).take(20) {
            ui.label(name);
            let (rect, _) = ui.allocate_exact_size(egui::vec2(120.0, 10.0), egui::Sense::hover());
            let w = rect.width() * n as f32 / most as f32;
            ui.painter().rect_filled(
                egui::Rect::from_min_size(rect.min, egui::vec2(w, rect.height())),
                2.0,
                theme::run_colour(0),
            );
            ui.label(crate::units::thousands(n as u64));
            ui.end_row();
        }
    });
    if data.classes.len() > 20 {
        ui.label(format!("… and {} more classes", data.classes.len() - 20));
    }
}

/// A histogram of the training rows' target, in its own units.
fn spread(ui: &mut egui::Ui, data: &Dataset, target: &str) {
    let Some(q) = &data.quantity else {
        return;
    };
    let values: Vec<f64> = data
        .train
        .values
        .iter()
        .map(|&v| q.unscale(f64::from(v)))
        .collect();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
        return;
    }
    let width = (hi - lo) / BINS as f64;
    let mut counts = [0u32; BINS];
    for v in &values {
        counts[(((v - lo) / width) as usize).min(BINS - 1)] += 1;
    }
    ui.label(format!(
        "\"{target}\" on the training rows: mean {}, std {}",
        crate::units::sig(q.mean),
        crate::units::sig(q.std)
    ));
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            egui_plot::Bar::new(lo + (i as f64 + 0.5) * width, f64::from(c)).width(width)
        })
        .collect();
    egui_plot::Plot::new("target_histogram")
        .height(90.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .show(ui, |p| {
            p.bar_chart(egui_plot::BarChart::new("rows", bars).color(theme::run_colour(0)));
        });
}
