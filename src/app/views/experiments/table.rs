//! The trials table: one row per trial, sortable by any column, filtered by text and by the
//! ranges brushed on the parallel coordinates, "only what differs" hiding the parameters every
//! trial shown shares; a note per trial; a click on a trial picks it.

use super::{Experiments, Shown};
use crate::engine::sweep::trials_csv::{TrialRecord, TrialStatus};
use serde_json::Value;

/// The most the table takes before it scrolls.
const TABLE_HEIGHT: f32 = 260.0;

/// What the table is sorted by.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Key {
    Trial,
    Status,
    Param(String),
    Best,
    Epochs,
    Seconds,
    Params,
}

/// The table's own state.
#[derive(Clone, Debug, Default)]
pub(super) struct TableState {
    /// The column and whether ascending.
    pub sort: Option<(Key, bool)>,
    /// Rows whose text holds this.
    pub filter: String,
    /// Hide the parameters every shown trial has the same value of.
    pub only_differs: bool,
}

/// A parameter's value as the table shows it.
pub(super) fn shown_value(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.as_f64().map_or_else(|| n.to_string(), crate::units::sig),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// The trials to show, in order: those the filter and every brush let through, sorted.
pub(super) fn visible(ex: &Experiments) -> Vec<usize> {
    let Some(shown) = &ex.shown else {
        return Vec::new();
    };
    let needle = ex.table.filter.trim().to_lowercase();
    let mut rows: Vec<usize> = (0..shown.records.len())
        .filter(|&i| {
            let r = &shown.records[i];
            let text = format!(
                "{} {} {} {}",
                r.trial.name(),
                r.status.word(),
                r.trial
                    .values
                    .values()
                    .map(|v| shown_value(Some(v)))
                    .collect::<Vec<_>>()
                    .join(" "),
                shown.notes.get(&r.trial.name()).map_or("", String::as_str)
            )
            .to_lowercase();
            needle.is_empty() || text.contains(&needle)
        })
        .filter(|&i| super::coords::passes(ex, shown, i))
        .collect();
    if let Some((key, ascending)) = &ex.table.sort {
        let best = |r: &TrialRecord| r.best(&shown.sweep).map_or(f64::NAN, |b| b.0);
        rows.sort_by(|&a, &b| {
            let (ra, rb) = (&shown.records[a], &shown.records[b]);
            let order = match key {
                Key::Trial => ra.trial.number.cmp(&rb.trial.number),
                Key::Status => ra.status.word().cmp(rb.status.word()),
                Key::Param(p) => compare_values(ra.trial.values.get(p), rb.trial.values.get(p)),
                // Trials without a value go last either way.
                Key::Best => match (best(ra).is_nan(), best(rb).is_nan()) {
                    (false, false) => best(ra).total_cmp(&best(rb)),
                    (a, b) => return a.cmp(&b),
                },
                Key::Epochs => ra.epochs.cmp(&rb.epochs),
                Key::Seconds => ra.seconds.total_cmp(&rb.seconds),
                Key::Params => ra.params.cmp(&rb.params),
            };
            if *ascending { order } else { order.reverse() }
        });
    }
    rows
}

fn compare_values(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    match (a.and_then(Value::as_f64), b.and_then(Value::as_f64)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => shown_value(a).cmp(&shown_value(b)),
    }
}

/// The parameters to show as columns.
fn columns(shown: &Shown, rows: &[usize], only_differs: bool) -> Vec<String> {
    shown
        .sweep
        .parameters
        .keys()
        .filter(|k| {
            !only_differs || {
                let mut values = rows.iter().map(|&i| shown.records[i].trial.values.get(*k));
                let first = values.next().flatten();
                values.any(|v| v != first)
            }
        })
        .cloned()
        .collect()
}

/// A header that sorts: a click sorts by it, a second click reverses.
fn header(ui: &mut egui::Ui, table: &mut TableState, key: Key, label: &str) {
    let arrow = match &table.sort {
        Some((k, true)) if *k == key => " ⏶",
        Some((k, false)) if *k == key => " ⏷",
        _ => "",
    };
    let clicked = ui
        .add(egui::Button::new(egui::RichText::new(label).strong()).frame(false))
        .on_hover_text(format!("Sort by {label}{arrow}"))
        .clicked();
    if clicked {
        // The metric and the other numbers sort best-first; names ascending.
        let first = !matches!(key, Key::Best | Key::Epochs | Key::Params);
        table.sort = match &table.sort {
            Some((k, asc)) if *k == key => Some((key, !asc)),
            _ => Some((key, first)),
        };
    }
}

/// The status cell: where it is, with the reason on hover.
fn status(ui: &mut egui::Ui, r: &TrialRecord, epochs: u64) {
    let text = match &r.status {
        TrialStatus::Running => format!("running {}/{epochs}", r.curve.len()),
        s => s.word().to_owned(),
    };
    let colour = match r.status {
        TrialStatus::Invalid(_) | TrialStatus::Failed(_) => crate::ui::theme::ERROR,
        TrialStatus::Pruned(_) => crate::ui::theme::MUTED,
        _ => ui.visuals().text_color(),
    };
    let label = ui.colored_label(colour, text);
    if !r.status.message().is_empty() {
        label.on_hover_text(r.status.message());
    }
}

/// Draws the table; true when a note changed.
pub(super) fn show(ui: &mut egui::Ui, ex: &mut Experiments) -> bool {
    ui.horizontal(|ui| {
        ui.label("filter");
        ui.add(
            egui::TextEdit::singleline(&mut ex.table.filter)
                .desired_width(160.0)
                .hint_text("a trial, a value, a note"),
        )
        .widget_info(|| {
            egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, "filter trials")
        });
        ui.checkbox(&mut ex.table.only_differs, "show only what differs");
        if !ex.brushes.is_empty() && ui.small_button("clear the brushes").clicked() {
            ex.brushes.clear();
        }
    });
    let rows = visible(ex);
    let Some(shown) = ex.shown.as_mut() else {
        return false;
    };
    let metric = shown.sweep.objective.metric.name();
    let epochs = shown.sweep.epochs.unwrap_or(shown.design.training.epochs);
    let params = columns(shown, &rows, ex.table.only_differs);
    let mut changed = false;
    // The table keeps its height as the brushes filter it: a picture below that jumped up in
    // the middle of a drag would brush somewhere else than the pointer.
    let table = egui::ScrollArea::both()
        .id_salt("trials_table")
        .max_height(TABLE_HEIGHT)
        .show(ui, |ui| {
            egui::Grid::new("trials")
                .striped(true)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    header(ui, &mut ex.table, Key::Trial, "trial");
                    header(ui, &mut ex.table, Key::Status, "status");
                    for p in &params {
                        header(ui, &mut ex.table, Key::Param(p.clone()), p);
                    }
                    header(ui, &mut ex.table, Key::Best, &format!("best {metric}"));
                    header(ui, &mut ex.table, Key::Epochs, "epochs");
                    header(ui, &mut ex.table, Key::Seconds, "seconds");
                    header(ui, &mut ex.table, Key::Params, "parameters");
                    ui.strong("note");
                    ui.end_row();
                    for &i in &rows {
                        let r = &shown.records[i];
                        let name = r.trial.name();
                        let picked = ex.selected.contains(&i);
                        if ui
                            .selectable_label(picked, &name)
                            .on_hover_text("Pick it (its curves are overlaid below)")
                            .clicked()
                        {
                            if picked {
                                ex.selected.remove(&i);
                            } else {
                                ex.selected.insert(i);
                            }
                        }
                        status(ui, r, epochs);
                        for p in &params {
                            ui.label(shown_value(r.trial.values.get(p)));
                        }
                        match r.best(&shown.sweep) {
                            Some((b, e)) => {
                                ui.label(format!("{}  (epoch {e})", crate::units::sig(b)))
                            }
                            None => ui.label("–"),
                        };
                        ui.label(r.epochs.to_string());
                        ui.label(format!("{:.1}", r.seconds));
                        ui.label(crate::units::thousands(r.params));
                        let note = shown.notes.entry(name.clone()).or_default();
                        let edit = ui.add(egui::TextEdit::singleline(note).desired_width(140.0));
                        edit.widget_info(|| {
                            egui::WidgetInfo::labeled(
                                egui::WidgetType::TextEdit,
                                true,
                                format!("note {name}"),
                            )
                        });
                        changed |= edit.changed();
                        ui.end_row();
                    }
                });
        });
    // The area shrinks to its rows (its inner_rect says the most it may take).
    let used = table.content_size.y.min(TABLE_HEIGHT);
    let tallest = ui.data(|d| d.get_temp::<f32>(egui::Id::new("trials_table_tallest")));
    let keep = tallest.unwrap_or(0.0).max(used).min(TABLE_HEIGHT);
    ui.data_mut(|d| d.insert_temp(egui::Id::new("trials_table_tallest"), keep));
    ui.add_space(keep - used);
    if rows.is_empty() && !shown.records.is_empty() {
        ui.label(
            egui::RichText::new("No trial passes the filter and the brushes.")
                .color(crate::ui::theme::MUTED),
        );
    }
    changed
}
