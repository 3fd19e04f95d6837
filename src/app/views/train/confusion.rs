//! The confusion matrix as a heat map: true classes down, predictions across, named; each
//! cell coloured by its share of its row (so a rare class reads as well as a common one), with
//! the count or the row percentage written in it.

use crate::engine::EpochMetrics;
use crate::ui::theme;
use egui::{Align2, Color32, FontId, Rect, Sense, vec2};

/// Draws `m`'s confusion matrix, classes named by `classes` where known.
pub fn heat_map(ui: &mut egui::Ui, m: &EpochMetrics, classes: &[String]) {
    let id = ui.id().with("confusion_percent");
    let mut percent = ui.data(|d| d.get_temp::<bool>(id)).unwrap_or(true);
    ui.horizontal(|ui| {
        ui.label(format!("confusion matrix, epoch {}", m.epoch));
        ui.selectable_value(&mut percent, true, "row %");
        ui.selectable_value(&mut percent, false, "counts");
    });
    ui.data_mut(|d| d.insert_temp(id, percent));
    let rows = &m.confusion.counts;
    let n = rows.len();
    if n == 0 {
        return;
    }
    let name = |i: usize| classes.get(i).cloned().unwrap_or_else(|| i.to_string());
    let font = FontId::proportional(11.0);
    let label_w = (0..n)
        .map(|i| {
            ui.painter()
                .layout_no_wrap(name(i), font.clone(), Color32::WHITE)
                .size()
                .x
        })
        .fold(0.0f32, f32::max)
        + 8.0;
    let cell = ((ui.available_width() - label_w) / n as f32).clamp(14.0, 34.0);
    let header = 16.0;
    let size = vec2(label_w + cell * n as f32, header + cell * n as f32);
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    // Exactly the map (a column's layout would widen the allocation's response to its width).
    let response = ui.interact(rect, ui.id().with("confusion_map"), Sense::hover());
    // For screen readers (and tests): what the picture shows, in words.
    let right: u64 = (0..n).map(|i| rows[i][i]).sum();
    let all: u64 = rows.iter().flatten().sum::<u64>().max(1);
    let names: Vec<String> = (0..n).map(name).collect();
    let summary = format!(
        "confusion matrix of epoch {}: {} classes ({}), {:.0}% on the diagonal",
        m.epoch,
        n,
        names.join(", "),
        right as f64 * 100.0 / all as f64
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Other, true, &summary));
    let painter = ui.painter_at(rect);
    let text = ui.visuals().text_color();
    let origin = rect.min + vec2(label_w, header);
    for (i, row) in rows.iter().enumerate() {
        let total: u64 = row.iter().sum::<u64>().max(1);
        painter.text(
            rect.min + vec2(label_w - 4.0, header + (i as f32 + 0.5) * cell),
            Align2::RIGHT_CENTER,
            name(i),
            font.clone(),
            text,
        );
        for (j, &count) in row.iter().enumerate() {
            let share = count as f32 / total as f32;
            let r = Rect::from_min_size(origin + vec2(j as f32, i as f32) * cell, vec2(cell, cell));
            let hue = if i == j { theme::OK } else { theme::ERROR };
            let fill = Color32::from_gray(30).lerp_to_gamma(hue, share.sqrt());
            painter.rect_filled(r.shrink(0.5), 1.0, fill);
            // Rounded half up (1 of 200 is 1 %, not 0), and never 0 for a non-empty cell.
            let rounded = (share * 100.0).round();
            let label = if percent && rounded < 1.0 {
                "<1".to_owned()
            } else if percent {
                format!("{rounded}")
            } else {
                count.to_string()
            };
            if cell >= 18.0 && count > 0 {
                let ink = if share > 0.4 { Color32::BLACK } else { text };
                painter.text(
                    r.center(),
                    Align2::CENTER_CENTER,
                    label,
                    FontId::proportional(9.5),
                    ink,
                );
            }
        }
    }
    // Predicted classes across the top: their first letters, the full name on hover.
    for j in 0..n {
        let short: String = name(j)
            .chars()
            .take(((cell / 6.5) as usize).max(1))
            .collect();
        painter.text(
            origin + vec2((j as f32 + 0.5) * cell, -3.0),
            Align2::CENTER_BOTTOM,
            short,
            font.clone(),
            text,
        );
    }
    let hovered = response.hover_pos().and_then(|p| {
        let at = (p - origin) / cell;
        let (i, j) = (at.y.floor(), at.x.floor());
        (i >= 0.0 && j >= 0.0 && (i as usize) < n && (j as usize) < n)
            .then_some((i as usize, j as usize))
    });
    let caption = caption(rows, hovered, &name);
    ui.label(egui::RichText::new(caption).small().color(theme::MUTED));
}

/// Under the map: the cell under the pointer in words, else how to read the map.
fn caption(
    rows: &[Vec<u64>],
    cell: Option<(usize, usize)>,
    name: &dyn Fn(usize) -> String,
) -> String {
    match cell {
        Some((i, j)) => {
            let total: u64 = rows[i].iter().sum::<u64>().max(1);
            format!(
                "true {} predicted as {}: {} of {} ({:.1}%)",
                name(i),
                name(j),
                rows[i][j],
                total,
                rows[i][j] as f64 * 100.0 / total as f64
            )
        }
        None => "rows: true class · columns: predicted · green: right · red: confused".to_owned(),
    }
}
