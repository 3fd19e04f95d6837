//! The Train view's left column: the data with its preprocessing, augmentation and preview,
//! pretrained weights, the training settings and device, the run buttons and progress.

use crate::app::training::{RunAction, TrainAction, Training};
use crate::design::{DataSettings, Optimizer, Schedule, TrainingSettings};
use crate::engine::{DeviceChoice, Progress, RunHistory, RunStatus, available_devices};
use crate::ui::{self, theme};

fn settings_editor(ui: &mut egui::Ui, s: &TrainingSettings) -> Option<TrainingSettings> {
    let mut new = s.clone();
    egui::Grid::new("train_settings")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("optimizer");
            let current = new.optimizer.label();
            let mut chosen = new.optimizer;
            egui::ComboBox::from_id_salt("optimizer")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for o in Optimizer::ALL {
                        ui.selectable_value(&mut chosen, o, o.label());
                    }
                });
            if chosen != new.optimizer {
                new.switch_optimizer(chosen);
            }
            ui.end_row();
            ui.label("learning rate");
            ui.add(
                egui::DragValue::new(&mut new.learning_rate)
                    .speed(0.0005)
                    .range(1e-6..=10.0)
                    .max_decimals(5),
            );
            ui.end_row();
            // Only the optimizers that use momentum show it (Adam's β₁ plays that part).
            if new.optimizer.uses_momentum() {
                ui.label("momentum");
                ui.add(
                    egui::DragValue::new(&mut new.momentum)
                        .speed(0.01)
                        .range(0.0..=0.999),
                );
                ui.end_row();
            }
            ui.label("weight decay");
            ui.add(
                egui::DragValue::new(&mut new.weight_decay)
                    .speed(0.0001)
                    .range(0.0..=1.0)
                    .max_decimals(5),
            );
            ui.end_row();
            ui.label("batch size");
            ui.add(egui::DragValue::new(&mut new.batch_size).range(1..=4096));
            ui.end_row();
            ui.label("epochs");
            ui.add(egui::DragValue::new(&mut new.epochs).range(1..=1000));
            ui.end_row();
            ui.label("schedule");
            let name = match new.schedule {
                Schedule::Constant => "constant",
                Schedule::Step { .. } => "step",
                Schedule::Exponential { .. } => "exponential",
                Schedule::Cosine { .. } => "cosine",
            };
            egui::ComboBox::from_id_salt("schedule")
                .selected_text(name)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut new.schedule, Schedule::Constant, "constant");
                    ui.selectable_value(
                        &mut new.schedule,
                        Schedule::Step {
                            step_epochs: 3,
                            gamma: 0.1,
                        },
                        "step (×0.1 every 3 epochs)",
                    );
                    ui.selectable_value(
                        &mut new.schedule,
                        Schedule::Exponential { gamma: 0.9 },
                        "exponential (×0.9 per epoch)",
                    );
                    ui.selectable_value(
                        &mut new.schedule,
                        Schedule::Cosine { min_lr: 0.0 },
                        "cosine to 0",
                    );
                });
            ui.end_row();
            ui.label("warm-up steps");
            ui.add(egui::DragValue::new(&mut new.warmup_steps).range(0..=100_000));
            ui.end_row();
            super::settings::precision(ui, &mut new);
            super::settings::unfreezing(ui, &mut new);
        });
    (new != *s).then_some(new)
}

/// Preprocessing, augmentation and their preview.
fn inputs(ui: &mut egui::Ui, training: &Training, data: &DataSettings, out: &mut Vec<TrainAction>) {
    if let Some(d) = ui::data_panel::settings(ui, data) {
        out.push(TrainAction::DataSettings(d));
    }
    let p = training.preview();
    if let Some(note) = &p.note {
        ui.label(egui::RichText::new(note).color(theme::MUTED));
    }
    if let Some(skipped) = p.skipped() {
        ui.add(egui::Label::new(egui::RichText::new(skipped).color(theme::WARNING)).wrap());
    }
    for note in p.notes() {
        ui.add(egui::Label::new(egui::RichText::new(note).color(theme::MUTED).small()).wrap());
    }
    if let Some(data) = training.preview_data() {
        super::table::preview(ui, data);
    }
    if !p.pairs.is_empty() {
        ui.horizontal(|ui| {
            let masks = training
                .preview_data()
                .is_some_and(crate::data::Dataset::is_segmentation);
            ui.label(if masks {
                "image and mask / augmented together"
            } else {
                "original / augmented"
            });
            if ui
                .button("Re-roll")
                .on_hover_text("another random draw")
                .clicked()
            {
                out.push(RunAction::Reroll.into());
            }
        });
        egui::Grid::new("preview").show(ui, |ui| {
            for row in p.pairs.chunks(4) {
                for (a, _) in row {
                    ui.image((a.id(), egui::vec2(52.0, 52.0)));
                }
                ui.end_row();
                for (_, b) in row {
                    ui.image((b.id(), egui::vec2(52.0, 52.0)));
                }
                ui.end_row();
            }
        });
    }
}

/// The left column: data, settings, device, controls, progress.
pub fn controls(
    ui: &mut egui::Ui,
    training: &Training,
    settings: &TrainingSettings,
    data: &DataSettings,
    head: Option<(String, u64)>,
    input: Option<crate::design::Shape>,
) -> Vec<TrainAction> {
    let mut out = Vec::new();
    ui.heading("Data");
    super::data::source(ui, training, input, &mut out);
    inputs(ui, training, data, &mut out);
    ui.separator();
    super::weights::pretrained(ui, training, head, &mut out);
    ui.separator();
    ui.heading("Training");
    if let Some(s) = settings_editor(ui, settings) {
        out.push(TrainAction::Settings(s));
    }
    device(ui, training.device(), &mut out);
    threads(ui, training.threads(), &mut out);
    out
}

/// The CPU thread count: auto (the cores this process may use, capped by a container's quota,
/// one left to the window, and fewer while the machine stays busy), or a fixed number.
fn threads(ui: &mut egui::Ui, current: Option<usize>, out: &mut Vec<TrainAction>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    ui.horizontal(|ui| {
        ui.label("CPU threads")
            .on_hover_text("auto: what this machine offers, one left to the window, and fewer while other programs keep it busy. A fixed count makes runs repeat bit for bit (a run at another count differs in the weights' last digits).");
        let shown = current.map_or_else(|| "auto".to_owned(), |n| n.to_string());
        egui::ComboBox::from_id_salt("threads")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if ui.selectable_label(current.is_none(), "auto").clicked() {
                    out.push(RunAction::Threads(None).into());
                }
                for n in 1..=cores.max(1) {
                    if ui.selectable_label(current == Some(n), n.to_string()).clicked() {
                        out.push(RunAction::Threads(Some(n)).into());
                    }
                }
            });
    });
}

/// The run bar, pinned under the settings so it stays in view at any window height: Train,
/// A message in the run bar: wrapped, at most four lines (the whole of it on hover), so that
/// however long it is it never squeezes the settings above it.
fn message(ui: &mut egui::Ui, colour: egui::Color32, text: &str) {
    let mut job = egui::text::LayoutJob::simple(
        text.to_owned(),
        egui::TextStyle::Body.resolve(ui.style()),
        colour,
        ui.available_width(),
    );
    job.wrap.max_rows = 4;
    job.wrap.overflow_character = Some('…');
    let galley = ui.fonts_mut(|f| f.layout_job(job));
    let cut = galley.elided;
    let response = ui.add(egui::Label::new(galley));
    if cut {
        response.on_hover_text(text);
    }
}

/// Why training can't start, the run's progress, its folder and exports.
pub fn run_bar(
    ui: &mut egui::Ui,
    training: &Training,
    (input, regression_head): (Option<crate::design::Shape>, bool),
    blocked: Option<String>,
) -> Vec<TrainAction> {
    let mut out = Vec::new();
    ui.add_space(4.0);
    if let Some(why) = &blocked {
        message(ui, theme::ERROR, &format!("Can't train yet: {why}"));
    }
    // Vectors of another width (a table's encoding): one click makes the Input fit.
    let widths = (
        training.preview_shape().and_then(|s| s.as_vector()),
        input.and_then(|s| s.as_vector()),
    );
    if let (Some(data), Some(design)) = widths
        && data != design
        && ui
            .button(format!("Set the Input to {data} features"))
            .on_hover_text(
                "The data's samples are this wide; the layer after the Input takes the new width",
            )
            .clicked()
    {
        out.push(TrainAction::FitInput(data));
    }
    // Regression data and a classifier's head: one click makes it a regression's.
    if training
        .preview_data()
        .is_some_and(|d| d.quantity.is_some())
        && !regression_head
        && ui
            .button("Make the head a regression (1 output, MSE loss)")
            .on_hover_text(
                "The data predicts a quantity: the last Linear gives one value and the Output \
                 measures the squared error (metrics: MAE, RMSE and R²)",
            )
            .clicked()
    {
        out.push(TrainAction::FitRegression);
    }
    if let Some(why) = training.start_error() {
        message(ui, theme::ERROR, &format!("The run did not start: {why}"));
    }
    if let Some(run) = training.runs().last() {
        progress(ui, run);
        run_folder(ui, run, &mut out);
        ui.horizontal(|ui| {
            if ui.button("Save metrics (CSV)…").clicked() {
                out.push(TrainAction::SaveCsv);
            }
            if ui.button("Save plots (PNG)…").clicked() {
                out.push(TrainAction::SavePng);
            }
        });
    }
    saved_runs(ui, training, &mut out);
    ui.add_space(4.0);
    out
}

/// How much the app's runs folder holds, and deleting old runs (with a confirmation).
fn saved_runs(ui: &mut egui::Ui, training: &Training, out: &mut Vec<TrainAction>) {
    let Some(usage) = training.runs_usage().filter(|u| !u.runs.is_empty()) else {
        return;
    };
    let armed_id = ui.id().with("delete_armed");
    let mut keep = training.keep_runs;
    let mut armed = ui.data(|d| d.get_temp::<bool>(armed_id)).unwrap_or(false);
    let (doomed, bytes) = usage.older_than_newest(keep, &training.session_dirs());
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "saved runs: {}, {:.1} MB",
            usage.runs.len(),
            usage.total() as f64 / 1e6
        ))
        .on_hover_text("Every run the app trains keeps a folder (checkpoints, metrics, design)");
    });
    // Wrapped: the left column may be narrow, and the button must not be cut off.
    ui.horizontal_wrapped(|ui| {
        ui.label("keep the newest");
        if ui
            .add(egui::DragValue::new(&mut keep).range(0..=1000))
            .changed()
        {
            out.push(TrainAction::KeepRuns(keep));
            armed = false;
        }
        let label = format!(
            "Delete {} older ({:.1} MB)…",
            doomed.len(),
            bytes as f64 / 1e6
        );
        if ui
            .add_enabled(
                !doomed.is_empty() && !training.busy(),
                egui::Button::new(label),
            )
            .clicked()
        {
            armed = true;
        }
    });
    if armed && !doomed.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                theme::ERROR,
                format!("Delete {} run folders for good?", doomed.len()),
            );
            if ui.button("Delete them").clicked() {
                out.push(TrainAction::DeleteOldRuns(keep));
                armed = false;
            }
            if ui.button("Keep them").clicked() {
                armed = false;
            }
        });
    }
    ui.data_mut(|d| d.insert_temp(armed_id, armed));
}

/// The device selector: auto, or any device this machine offers.
fn device(ui: &mut egui::Ui, current: DeviceChoice, out: &mut Vec<TrainAction>) {
    ui.horizontal(|ui| {
        ui.label("device");
        let name = format!("{current:?}").to_lowercase();
        egui::ComboBox::from_id_salt("device")
            .selected_text(name)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(current == DeviceChoice::Auto, "auto")
                    .clicked()
                {
                    out.push(RunAction::Device(DeviceChoice::Auto).into());
                }
                for (choice, dev) in available_devices() {
                    if ui.selectable_label(current == choice, dev.name).clicked() {
                        out.push(RunAction::Device(choice).into());
                    }
                }
            });
    });
}

/// Train, Pause/Resume, Stop and Continue.
pub fn run_buttons(
    ui: &mut egui::Ui,
    training: &Training,
    design: &crate::design::Design,
    blocked: Option<&str>,
) -> Vec<TrainAction> {
    let mut out = Vec::new();
    ui.add_space(4.0);
    // A fixed, global id scope: the preview above appears when its data has loaded, and would
    // otherwise shift these buttons' ids (and so accessibility actions aimed at them).
    let controls = egui::UiBuilder::new().id(egui::Id::new("netloom_run_controls"));
    ui.scope_builder(controls, |ui| {
        ui.horizontal(|ui| {
            // One width for all, so Pause turning into Resume doesn't move Stop.
            let button = |text: &str| egui::Button::new(text).min_size(egui::vec2(64.0, 0.0));
            let busy = training.busy();
            let train = ui.add_enabled(!busy && blocked.is_none(), button("Train"));
            let train = match blocked {
                Some(why) => train.on_disabled_hover_text(why),
                None => train,
            };
            if train.clicked() {
                out.push(RunAction::Start.into());
            }
            if training.paused() {
                if ui.add_enabled(busy, button("Resume")).clicked() {
                    out.push(RunAction::Resume.into());
                }
            } else if ui.add_enabled(busy, button("Pause")).clicked() {
                out.push(RunAction::Pause.into());
            }
            if ui.add_enabled(busy, button("Stop")).clicked() {
                out.push(RunAction::Stop.into());
            }
            if training.can_continue(design)
                && ui
                    .button("Continue")
                    .on_hover_text("Carry on the stopped run from its checkpoint")
                    .clicked()
            {
                out.push(RunAction::Continue.into());
            }
        });
    });
    ui.add_space(4.0);
    out
}

/// The run's folder: click to show it in the file manager.
fn run_folder(ui: &mut egui::Ui, run: &RunHistory, out: &mut Vec<TrainAction>) {
    if let Some(dir) = &run.dir {
        ui.horizontal(|ui| {
            ui.label("run folder").on_hover_text(
                "Checkpoints (weights, optimizer state), metrics.csv and the design of this run",
            );
            let shown = dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            if ui
                .link(shown)
                .on_hover_text(format!(
                    "{}\nClick to show it in the file manager",
                    dir.display()
                ))
                .clicked()
            {
                out.push(TrainAction::OpenFolder(dir.clone()));
            }
        });
    }
}

/// Where the run is: a progress bar, throughput, how it ended, the latest accuracy.
fn progress(ui: &mut egui::Ui, run: &RunHistory) {
    for notice in &run.notices {
        message(ui, theme::WARNING, notice);
    }
    if let Some(t) = run.thawing.last() {
        let all = t.thawed.join(", ");
        ui.label(format!(
            "epoch {}: unfroze {} · {} block(s) still frozen",
            t.epoch,
            t.thawed_now.join(", "),
            t.still_frozen
        ))
        .on_hover_text(format!("Trainable so far, head first: {all}"));
    }
    match &run.status {
        RunStatus::Starting => {
            ui.label("loading data and compiling…");
        }
        RunStatus::Failed(msg) => {
            message(ui, theme::ERROR, &format!("Training failed: {msg}"));
        }
        RunStatus::Running | RunStatus::Finished => {
            if let Some(Progress {
                epoch,
                step_in_epoch: step,
                steps_per_epoch: steps,
                samples_per_s: sps,
                eta_s: eta,
            }) = run.progress
            {
                let done =
                    ((epoch - 1) * steps + step) as f32 / (run.total_epochs * steps).max(1) as f32;
                // Only a run in progress has time left (a stopped one kept showing its last).
                let eta = if run.status != RunStatus::Running {
                    String::new()
                } else if eta.is_finite() {
                    format!(" · ETA {}:{:02}", eta as u64 / 60, eta as u64 % 60)
                } else {
                    " · ETA –".to_owned()
                };
                ui.add(egui::ProgressBar::new(done).text(format!(
                    "epoch {epoch}/{} · step {step}/{steps}",
                    run.total_epochs
                )));
                // Two short lines rather than one that wraps or not with the number's width,
                // so the run bar doesn't jump as the throughput changes.
                ui.label(format!("{sps:.0} samples/s{eta}"));
                if run.precision.is_empty() {
                    ui.label(&run.device);
                } else {
                    ui.label(format!("{} · {}", run.device, run.precision));
                }
            }
            if run.status == RunStatus::Finished {
                ui.label(if run.stopped && run.dir.is_some() {
                    "stopped: Continue carries on from the checkpoint"
                } else if run.stopped {
                    "stopped"
                } else {
                    "finished"
                });
            }
            match run.epochs.last() {
                Some(m) if m.segmentation.is_some() => {
                    let fit = m.segmentation.as_ref();
                    ui.label(format!(
                        "epoch {}: val mean IoU {:.3} · pixel accuracy {:.1}% · val loss {:.4}",
                        m.epoch,
                        fit.map_or(f64::NAN, |f| f.mean_iou),
                        m.val_acc * 100.0,
                        m.val_loss
                    ));
                }
                Some(m) if m.regression.is_some() => {
                    let fit = m.regression.as_ref();
                    ui.label(format!(
                        "epoch {}: val R² {:.3} · MAE {} · val loss {:.4}",
                        m.epoch,
                        fit.map_or(f64::NAN, |f| f.r2),
                        crate::units::sig(fit.map_or(f64::NAN, |f| f.mae)),
                        m.val_loss
                    ));
                }
                Some(m) => {
                    ui.label(format!(
                        "epoch {}: val accuracy {:.1}% · val loss {:.4}",
                        m.epoch,
                        m.val_acc * 100.0,
                        m.val_loss
                    ));
                }
                None => {}
            }
        }
    }
}
