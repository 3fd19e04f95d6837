//! Parallel coordinates: an axis per parameter and one for the objective, each trial a line
//! across them coloured by its result. Dragging along an axis brushes a range of it; the table
//! shows only the trials inside every brush (a click on an axis clears its brush).

use super::{Experiments, Shown};
use crate::engine::sweep::trials_csv::TrialRecord;
use egui::{Color32, Pos2, Rect, Sense, Stroke, vec2};
use serde_json::Value;

/// One axis: a parameter (numbers, or names as categories) or the objective.
pub(super) struct Axis {
    /// The parameter's address, or "best METRIC".
    pub name: String,
    /// Its values run on a log scale.
    pub log: bool,
    /// For names: each category, in order.
    pub categories: Vec<String>,
    /// The range of its values (log10 of them on a log axis).
    pub range: (f64, f64),
    /// Whether it is the objective.
    pub objective: bool,
}

impl Axis {
    /// `r`'s raw value on this axis (a category's index).
    pub fn value(&self, shown: &Shown, r: &TrialRecord) -> Option<f64> {
        if self.objective {
            return r.best(&shown.sweep).map(|b| b.0);
        }
        match r.trial.values.get(&self.name)? {
            Value::Number(n) => n.as_f64(),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            other => {
                let text = super::table::shown_value(Some(other));
                self.categories
                    .iter()
                    .position(|c| *c == text)
                    .map(|i| i as f64)
            }
        }
    }

    /// Where a raw value sits, 0 (bottom) to 1 (top).
    pub fn unit(&self, v: f64) -> f64 {
        let v = if self.log {
            v.max(f64::MIN_POSITIVE).log10()
        } else {
            v
        };
        let (lo, hi) = self.range;
        if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }
    }

    /// The raw value at `u` (0 to 1).
    pub fn at(&self, u: f64) -> f64 {
        let (lo, hi) = self.range;
        let v = lo + u * (hi - lo);
        if self.log { 10f64.powf(v) } else { v }
    }
}

/// The axes of the shown sweep: its parameters, then the objective.
pub(super) fn axes(shown: &Shown) -> Vec<Axis> {
    let mut out = Vec::new();
    let names = shown.sweep.parameters.keys().map(|k| (k.clone(), false));
    let objective = std::iter::once((
        format!("best {}", shown.sweep.objective.metric.name()),
        true,
    ));
    for (name, is_objective) in names.chain(objective) {
        let log = !is_objective
            && shown
                .sweep
                .parameters
                .get(&name)
                .is_some_and(|d| d.is_log());
        // A list spanning two decades or more (0.001, 0.01, 0.1) reads on a log scale too.
        let listed: Vec<f64> = shown
            .records
            .iter()
            .filter_map(|r| r.trial.values.get(&name).and_then(Value::as_f64))
            .collect();
        let spread = listed.iter().all(|v| *v > 0.0)
            && listed.iter().copied().fold(f64::MIN, f64::max)
                >= 100.0 * listed.iter().copied().fold(f64::MAX, f64::min);
        let log = log || (!is_objective && listed.len() > 1 && spread);
        let mut axis = Axis {
            name: name.clone(),
            log,
            categories: Vec::new(),
            range: (0.0, 1.0),
            objective: is_objective,
        };
        if !is_objective {
            for r in &shown.records {
                if let Some(v) = r
                    .trial
                    .values
                    .get(&name)
                    .filter(|v| v.is_string() || v.is_object() || v.is_array())
                {
                    let text = super::table::shown_value(Some(v));
                    if !axis.categories.contains(&text) {
                        axis.categories.push(text);
                    }
                }
            }
        }
        let values: Vec<f64> = shown
            .records
            .iter()
            .filter_map(|r| axis.value(shown, r))
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .map(|v| if log { v.log10() } else { v })
            .collect();
        if let (Some(lo), Some(hi)) = (
            values.iter().copied().reduce(f64::min),
            values.iter().copied().reduce(f64::max),
        ) {
            axis.range = (lo, hi);
        }
        out.push(axis);
    }
    out
}

/// Whether trial `i` is inside every brush.
pub(super) fn passes(ex: &Experiments, shown: &Shown, i: usize) -> bool {
    if ex.brushes.is_empty() {
        return true;
    }
    let r = &shown.records[i];
    axes(shown).iter().all(|a| match ex.brushes.get(&a.name) {
        None => true,
        Some((lo, hi)) => a.value(shown, r).is_some_and(|v| *lo <= v && v <= *hi),
    })
}

/// A colour from blue (worst) to orange (best).
fn shade(u: f64) -> Color32 {
    let u = u.clamp(0.0, 1.0) as f32;
    let (a, b) = ([70.0, 110.0, 220.0], [240.0, 140.0, 40.0]);
    let mix = |i: usize| (a[i] + (b[i] - a[i]) * u) as u8;
    Color32::from_rgb(mix(0), mix(1), mix(2))
}

/// Draws the coordinates and takes the brushing.
pub(super) fn show(ui: &mut egui::Ui, ex: &mut Experiments) {
    let Some(shown) = ex.shown.as_ref() else {
        return;
    };
    let axes = axes(shown);
    if shown.records.iter().all(|r| r.best(&shown.sweep).is_none()) {
        return;
    }
    ui.add_space(6.0);
    ui.label("parallel coordinates (drag along an axis to brush a range; the table follows; a click clears it)");
    // Clear of the page's scroll bar.
    let width = (ui.available_width() - 14.0).max(300.0);
    let (rect, _) = ui.allocate_exact_size(vec2(width, 230.0), Sense::hover());
    let plot = Rect::from_min_max(rect.min + vec2(40.0, 26.0), rect.max - vec2(40.0, 22.0));
    let x = |k: usize| plot.left() + plot.width() * k as f32 / (axes.len().max(2) - 1) as f32;
    let y = |u: f64| plot.bottom() - plot.height() * u.clamp(0.0, 1.0) as f32;
    let painter = ui.painter_at(rect);
    let objective = axes.last();
    let visible: Vec<usize> = super::table::visible(ex);
    // Brushed-out trials first, faint; then the others over them, coloured by result.
    let mut order: Vec<usize> = (0..shown.records.len()).collect();
    order.sort_by_key(|i| visible.contains(i));
    for i in order {
        let r = &shown.records[i];
        let points: Option<Vec<Pos2>> = axes
            .iter()
            .enumerate()
            .map(|(k, a)| a.value(shown, r).map(|v| Pos2::new(x(k), y(a.unit(v)))))
            .collect();
        let Some(points) = points else { continue };
        let colour = if !visible.contains(&i) {
            ui.visuals().weak_text_color().gamma_multiply(0.35)
        } else {
            objective
                .and_then(|a| a.value(shown, r).map(|v| shade(a.unit(v))))
                .unwrap_or(Color32::GRAY)
        };
        let width = if ex.selected.contains(&i) { 3.0 } else { 1.5 };
        painter.add(egui::Shape::line(points, Stroke::new(width, colour)));
    }
    let text = ui.visuals().text_color();
    let font = egui::FontId::proportional(11.0);
    for (k, a) in axes.iter().enumerate() {
        let ax = x(k);
        painter.line_segment(
            [Pos2::new(ax, plot.top()), Pos2::new(ax, plot.bottom())],
            Stroke::new(1.0, text),
        );
        // The end axes' names lie inside the picture, not half outside it.
        let (anchor, at) = match k {
            0 => (egui::Align2::LEFT_TOP, rect.left() + 2.0),
            k if k + 1 == axes.len() => (egui::Align2::RIGHT_TOP, rect.right() - 2.0),
            _ => (egui::Align2::CENTER_TOP, ax),
        };
        painter.text(
            Pos2::new(at, rect.top() + 2.0),
            anchor,
            &a.name,
            font.clone(),
            text,
        );
        let label = |v: f64| {
            if a.categories.is_empty() {
                crate::units::sig(v)
            } else {
                a.categories
                    .get(v.round() as usize)
                    .cloned()
                    .unwrap_or_default()
            }
        };
        painter.text(
            Pos2::new(ax + 4.0, plot.top()),
            egui::Align2::LEFT_CENTER,
            label(a.at(1.0)),
            font.clone(),
            text,
        );
        painter.text(
            Pos2::new(ax + 4.0, plot.bottom()),
            egui::Align2::LEFT_CENTER,
            label(a.at(0.0)),
            font.clone(),
            text,
        );
        brush(
            ui,
            ex,
            a,
            Rect::from_x_y_ranges(ax - 12.0..=ax + 12.0, plot.y_range()),
            &painter,
        );
    }
}

/// One axis's brush: drag to set it, click to clear it; drawn as a band.
fn brush(ui: &mut egui::Ui, ex: &mut Experiments, a: &Axis, strip: Rect, painter: &egui::Painter) {
    let id = egui::Id::new(("axis_brush", &a.name));
    let response = ui
        .interact(strip, id, Sense::click_and_drag())
        .on_hover_text(format!("Drag to brush a range of {}", a.name));
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::WidgetType::Slider, true, format!("axis {}", a.name))
    });
    // A few pixels from an end is the end: the best trial sits exactly at the top.
    let unit_at = |p: Pos2| {
        let u = f64::from((strip.bottom() - p.y) / strip.height());
        let snap = 4.0 / f64::from(strip.height().max(1.0));
        if u >= 1.0 - snap {
            1.0 + 1e-9
        } else if u <= snap {
            -1e-9
        } else {
            u
        }
    };
    if response.clicked() {
        ex.brushes.remove(&a.name);
    }
    if response.dragged()
        && let (Some(start), Some(now)) = (
            ui.input(|i| i.pointer.press_origin()),
            response.interact_pointer_pos(),
        )
    {
        let (u0, u1) = (unit_at(start), unit_at(now));
        let (lo, hi) = (a.at(u0.min(u1)), a.at(u0.max(u1)));
        // A category axis brushes whole categories.
        let (lo, hi) = if a.categories.is_empty() {
            (lo, hi)
        } else {
            (lo.ceil(), hi.floor())
        };
        ex.brushes.insert(a.name.clone(), (lo, hi));
    }
    if let Some((lo, hi)) = ex.brushes.get(&a.name) {
        let (ulo, uhi) = (a.unit(*lo) as f32, a.unit(*hi) as f32);
        let band = Rect::from_x_y_ranges(
            strip.x_range(),
            strip.bottom() - strip.height() * uhi..=strip.bottom() - strip.height() * ulo,
        );
        painter.rect_filled(band, 2.0, crate::ui::theme::WIRE_LABEL.gamma_multiply(0.35));
    }
}
