//! The data a run trains on: the built-in set, the toy sets, data used before, a folder of
//! images; and, for images that don't fit the design's Input, the conversions that make them
//! fit (grey ↔ RGB, a resize), which a 3-channel example on the built-in set needs.

use crate::app::training::{RunAction, TrainAction, Training};
use crate::data::table::TableOptions;
use crate::data::{Convert, DataSpec, Toy, ToyOptions};
use crate::design::Shape;

/// The data picker and the conversions.
pub fn source(
    ui: &mut egui::Ui,
    training: &Training,
    input: Option<Shape>,
    out: &mut Vec<TrainAction>,
) {
    let current = training.data();
    let base = current.unconverted();
    egui::ComboBox::from_id_salt("data")
        .selected_text(base.label())
        .width(230.0)
        .show_ui(ui, |ui| {
            let offered = std::iter::once(DataSpec::BuiltinFashionMnist).chain(
                Toy::ALL
                    .into_iter()
                    .map(|t| DataSpec::Toy(t, ToyOptions::default())),
            );
            for c in offered {
                if ui.selectable_label(*base == c, c.label()).clicked() {
                    out.push(RunAction::Data(c).into());
                }
            }
            // Data used before, from disk (newest first), while it is still there.
            let recent: Vec<DataSpec> = training
                .recent_data()
                .iter()
                .filter_map(|s| DataSpec::parse(s).ok())
                .filter(|s| s.path().is_some_and(std::path::Path::exists))
                .collect();
            if !recent.is_empty() {
                ui.separator();
                ui.label(egui::RichText::new("used before").small().weak());
                for c in recent {
                    let same = base == c.unconverted();
                    if ui.selectable_label(same, c.label()).clicked() {
                        out.push(RunAction::Data(c).into());
                    }
                }
            }
            ui.separator();
            if ui.button("Folder of images…").clicked() {
                out.push(TrainAction::PickFolder);
            }
            if ui
                .button("Table (CSV)…")
                .on_hover_text("A CSV or TSV (gzipped or not) with one row per sample; the last column is what to predict (its classes or a quantity)")
                .clicked()
            {
                out.push(TrainAction::PickTable);
            }
            if ui
                .button("Images with masks…")
                .on_hover_text("Segmentation: a folder with images/ and masks/, a PNG mask per image (class indices, a palette, or RGB colours named in classes.json)")
                .clicked()
            {
                out.push(TrainAction::PickMasks);
            }
        });
    if let DataSpec::Table(path, options) = base {
        target_picker(ui, path, options, out);
    }
    conversions(ui, training, input, out);
}

/// The column a table's rows are classified by: its names are read (the first row only) when
/// the list opens.
fn target_picker(
    ui: &mut egui::Ui,
    path: &std::path::Path,
    options: &TableOptions,
    out: &mut Vec<TrainAction>,
) {
    ui.horizontal(|ui| {
        ui.label("target").on_hover_text(
            "The column to predict: its classes, or a quantity. The other columns are the features.",
        );
        let shown = options.target.as_deref().unwrap_or("(the last column)");
        egui::ComboBox::from_id_salt("table_target")
            .selected_text(shown)
            .width(150.0)
            .show_ui(ui, |ui| {
                match crate::data::table::column_names(path, options) {
                    Ok(names) => {
                        for name in names {
                            let on = options.target.as_deref() == Some(name.as_str());
                            if ui.selectable_label(on, &name).clicked() {
                                let mut o = options.clone();
                                o.target = Some(name);
                                let spec = DataSpec::Table(path.to_owned(), o);
                                out.push(RunAction::Data(spec).into());
                            }
                        }
                    }
                    Err(e) => {
                        ui.colored_label(crate::ui::theme::ERROR, e.to_string());
                    }
                }
            });
        use crate::data::table::Task;
        let words = |t: Option<Task>| match t {
            None => "inferred",
            Some(Task::Classification) => "classes",
            Some(Task::Regression) => "a quantity",
        };
        egui::ComboBox::from_id_salt("table_task")
            .selected_text(words(options.task))
            .width(90.0)
            .show_ui(ui, |ui| {
                for task in [None, Some(Task::Classification), Some(Task::Regression)] {
                    if ui
                        .selectable_label(options.task == task, words(task))
                        .clicked()
                    {
                        let mut o = options.clone();
                        o.task = task;
                        let spec = DataSpec::Table(path.to_owned(), o);
                        out.push(RunAction::Data(spec).into());
                    }
                }
            })
            .response
            .on_hover_text(
                "Classes: a classifier (cross-entropy). A quantity: a regression (MSE; MAE, RMSE and R²). \
                 Inferred: text or a few whole numbers are classes, other numbers a quantity.",
            );
    });
}

/// Grey ↔ RGB and "resize to H×W", offered where the images don't fit the Input (and kept
/// on screen while they are in use, so they can be turned off).
fn conversions(
    ui: &mut egui::Ui,
    training: &Training,
    input: Option<Shape>,
    out: &mut Vec<TrainAction>,
) {
    let Some((ic, ih, iw)) = input.and_then(|s| s.as_image()) else {
        return;
    };
    let current = training.data();
    let convert = current.conversion();
    // The data's own shape, as the preview loaded it (converted, when it is).
    let Some((dc, dh, dw)) = training.preview_shape().and_then(|s| s.as_image()) else {
        return;
    };
    let mut set = |new: Convert| {
        out.push(RunAction::Data(current.unconverted().clone().converted(new)).into());
    };
    let channels_differ = dc != ic && matches!((dc, ic), (1, 3) | (3, 1));
    if convert.channels.is_some() || channels_differ {
        // Named by what it does now when on (a design's file may convert for another Input),
        // else by what the Input needs.
        let (label, help) = if convert.channels.map_or(ic == 3, |c| c == 3) {
            (
                "grey to RGB",
                "Copy each grey image into R, G and B: what a 3-channel design needs to train on grey images",
            )
        } else {
            (
                "RGB to grey",
                "Reduce each colour image to its brightness (ITU-R 601 luma)",
            )
        };
        let mut on = convert.channels.is_some();
        if ui.checkbox(&mut on, label).on_hover_text(help).changed() {
            set(Convert {
                channels: on.then_some(ic as u32),
                ..convert
            });
        }
    }
    if let Some(n) = convert.limit {
        ui.label(
            egui::RichText::new(format!(
                "the first {} training images (all of them converted would not fit in memory)",
                crate::units::thousands(u64::from(n))
            ))
            .color(crate::ui::theme::MUTED),
        );
    }
    if convert.size.is_some() || (dh, dw) != (ih, iw) {
        let mut on = convert.size.is_some();
        if ui
            .checkbox(&mut on, {
                let (h, w) = convert.size.unwrap_or((ih as u32, iw as u32));
                format!("resize to {h}×{w}")
            })
            .on_hover_text(
                "Resize every image to the Input's height and width (a triangle filter, as for folders of images)",
            )
            .changed()
        {
            set(Convert {
                size: on.then_some((ih as u32, iw as u32)),
                ..convert
            });
        }
    }
}
