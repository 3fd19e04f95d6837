//! The training view: data, settings and device on the left with the controls and progress;
//! live plots of every run of this session in the middle.

use super::theme;
use crate::app::training::{DataChoice, RunStatus, Training};
use crate::data::Toy;
use crate::design::{Optimizer, Schedule, TrainingSettings};
use crate::engine::DeviceChoice;
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// What the panel asks the app to do.
pub enum TrainAction {
    /// Start a run with the design as it is.
    Start,
    /// Pause the run.
    Pause,
    /// Resume it.
    Resume,
    /// Stop it (it keeps a checkpoint).
    Stop,
    /// Continue the stopped run from its checkpoint.
    Continue,
    /// Train on other data.
    Data(DataChoice),
    /// Ask for a folder of images.
    PickFolder,
    /// Train on another device.
    Device(DeviceChoice),
    /// New training settings (part of the design, so undoable).
    Settings(TrainingSettings),
    /// Show this block's activations.
    Watch(String),
    /// Show this conv block's feature maps.
    WatchConv(String),
    /// New preprocessing/augmentation settings (part of the design, so undoable).
    DataSettings(crate::design::DataSettings),
    /// Draw the augmentation preview again with another seed.
    Reroll,
    /// Save every run's metrics as CSV.
    SaveCsv,
    /// Save the plots (the window) as PNG.
    SavePng,
    /// Ask for a weights file to start from.
    PickWeights,
    /// Show the mapping of the weights in use again.
    ReviewWeights,
    /// Load (true) or leave out (false) a node's matched weights.
    LoadNode(String, bool),
    /// Start runs from the reviewed weights.
    UseWeights,
    /// Start runs from a fresh initialisation again.
    ClearWeights,
    /// Give the last Linear this many outputs; it is re-initialised.
    ReplaceHead(u64),
}

const OPTIMIZERS: [(Optimizer, &str); 6] = [
    (Optimizer::Sgd, "SGD"),
    (Optimizer::Nesterov, "SGD + Nesterov"),
    (Optimizer::Adagrad, "AdaGrad"),
    (Optimizer::Rmsprop, "RMSProp"),
    (Optimizer::Adam, "Adam"),
    (Optimizer::Adamw, "AdamW"),
];

fn settings_editor(ui: &mut egui::Ui, s: &TrainingSettings) -> Option<TrainingSettings> {
    let mut new = s.clone();
    egui::Grid::new("train_settings")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("optimizer");
            let current = OPTIMIZERS
                .iter()
                .find(|(o, _)| *o == new.optimizer)
                .map_or("?", |(_, n)| n);
            egui::ComboBox::from_id_salt("optimizer")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for (o, name) in OPTIMIZERS {
                        ui.selectable_value(&mut new.optimizer, o, name);
                    }
                });
            ui.end_row();
            ui.label("learning rate");
            ui.add(
                egui::DragValue::new(&mut new.learning_rate)
                    .speed(0.0005)
                    .range(1e-6..=10.0)
                    .max_decimals(5),
            );
            ui.end_row();
            ui.label("momentum");
            ui.add(
                egui::DragValue::new(&mut new.momentum)
                    .speed(0.01)
                    .range(0.0..=0.999),
            );
            ui.end_row();
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
        });
    (new != *s).then_some(new)
}

/// Preprocessing, augmentation and their preview.
fn inputs(
    ui: &mut egui::Ui,
    training: &Training,
    data: &crate::design::DataSettings,
    out: &mut Vec<TrainAction>,
) {
    if let Some(d) = super::data_panel::settings(ui, data) {
        out.push(TrainAction::DataSettings(d));
    }
    let p = &training.preview;
    if let Some(note) = &p.note {
        ui.label(egui::RichText::new(note).color(theme::MUTED));
    }
    if !p.pairs.is_empty() {
        ui.horizontal(|ui| {
            ui.label("original / augmented");
            if ui
                .button("Re-roll")
                .on_hover_text("another random draw")
                .clicked()
            {
                out.push(TrainAction::Reroll);
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
    data: &crate::design::DataSettings,
    head: Option<(String, u64)>,
    blocked: Option<String>,
) -> Vec<TrainAction> {
    let mut out = Vec::new();
    ui.heading("Data");
    egui::ComboBox::from_id_salt("data")
        .selected_text(training.data.label())
        .show_ui(ui, |ui| {
            if ui
                .selectable_label(
                    training.data == DataChoice::Builtin,
                    DataChoice::Builtin.label(),
                )
                .clicked()
            {
                out.push(TrainAction::Data(DataChoice::Builtin));
            }
            for t in Toy::ALL {
                let c = DataChoice::Toy(t);
                if ui.selectable_label(training.data == c, c.label()).clicked() {
                    out.push(TrainAction::Data(c));
                }
            }
            if ui.button("Folder of images…").clicked() {
                out.push(TrainAction::PickFolder);
            }
        });
    inputs(ui, training, data, &mut out);
    ui.separator();
    pretrained(ui, training, head, &mut out);
    ui.separator();
    ui.heading("Training");
    if let Some(s) = settings_editor(ui, settings) {
        out.push(TrainAction::Settings(s));
    }
    ui.horizontal(|ui| {
        ui.label("device");
        let name = format!("{:?}", training.device).to_lowercase();
        egui::ComboBox::from_id_salt("device")
            .selected_text(name)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(training.device == DeviceChoice::Auto, "auto")
                    .clicked()
                {
                    out.push(TrainAction::Device(DeviceChoice::Auto));
                }
                for (choice, dev) in crate::engine::available_devices() {
                    if ui
                        .selectable_label(training.device == choice, dev.name)
                        .clicked()
                    {
                        out.push(TrainAction::Device(choice));
                    }
                }
            });
    });
    ui.separator();
    // A fixed, global id scope: the preview above appears when its data has loaded, and would
    // otherwise shift these buttons' ids (and so accessibility actions aimed at them).
    let controls = egui::UiBuilder::new().id(egui::Id::new("netloom_run_controls"));
    ui.scope_builder(controls, |ui| {
        ui.horizontal(|ui| {
            let busy = training.busy();
            let train = ui.add_enabled(!busy && blocked.is_none(), egui::Button::new("Train"));
            let train = match &blocked {
                Some(why) => train.on_disabled_hover_text(why.as_str()),
                None => train,
            };
            if train.clicked() {
                out.push(TrainAction::Start);
            }
            if training.paused() {
                if ui.add_enabled(busy, egui::Button::new("Resume")).clicked() {
                    out.push(TrainAction::Resume);
                }
            } else if ui.add_enabled(busy, egui::Button::new("Pause")).clicked() {
                out.push(TrainAction::Pause);
            }
            if ui.add_enabled(busy, egui::Button::new("Stop")).clicked() {
                out.push(TrainAction::Stop);
            }
            if training.can_continue()
                && ui
                    .button("Continue")
                    .on_hover_text("Carry on the stopped run from its checkpoint")
                    .clicked()
            {
                out.push(TrainAction::Continue);
            }
        });
    });
    if let Some(why) = &blocked {
        ui.colored_label(theme::ERROR, format!("Can't train yet: {why}"));
    }
    if let Some(run) = training.runs.last() {
        progress(ui, run);
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
                    .on_hover_text(format!("{}\nClick to copy the path", dir.display()))
                    .clicked()
                {
                    ui.ctx().copy_text(dir.display().to_string());
                }
            });
        }
        ui.horizontal(|ui| {
            if ui.button("Save metrics (CSV)…").clicked() {
                out.push(TrainAction::SaveCsv);
            }
            if ui.button("Save plots (PNG)…").clicked() {
                out.push(TrainAction::SavePng);
            }
        });
    }
    out
}

fn progress(ui: &mut egui::Ui, run: &crate::app::training::RunHistory) {
    match &run.status {
        RunStatus::Starting => {
            ui.label("loading data and compiling…");
        }
        RunStatus::Failed(msg) => {
            ui.colored_label(theme::ERROR, format!("Training failed: {msg}"));
        }
        RunStatus::Running | RunStatus::Finished => {
            if let Some((epoch, step, steps, sps, eta)) = run.progress {
                let done =
                    ((epoch - 1) * steps + step) as f32 / (run.total_epochs * steps).max(1) as f32;
                let eta = if eta.is_finite() {
                    format!("{}:{:02}", eta as u64 / 60, eta as u64 % 60)
                } else {
                    "–".to_owned()
                };
                ui.add(egui::ProgressBar::new(done).text(format!(
                    "epoch {epoch}/{} · step {step}/{steps}",
                    run.total_epochs
                )));
                ui.label(format!("{sps:.0} samples/s · ETA {eta} · {}", run.device));
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
            if let Some(m) = run.epochs.last() {
                ui.label(format!(
                    "epoch {}: val accuracy {:.1}% · val loss {:.4}",
                    m.epoch,
                    m.val_acc * 100.0,
                    m.val_loss
                ));
            }
        }
    }
}

/// One value per epoch for every run, validation solid and training dashed.
fn epoch_plot(
    ui: &mut egui::Ui,
    id: &str,
    what: &str,
    height: f32,
    training: &Training,
    value: impl Fn(&crate::engine::EpochMetrics) -> (f64, f64),
) {
    ui.label(format!("{what} per epoch (train dashed, validation solid)"));
    Plot::new(id)
        .height(height)
        .legend(Legend::default())
        .show(ui, |p| {
            for run in &training.runs {
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

/// The inside of the net for the latest run: the input batch it is being fed, and how the
/// activations of a chosen block move during training (the last histograms, newest brightest).
fn inside(ui: &mut egui::Ui, training: &Training, out: &mut Vec<TrainAction>) {
    let Some(run) = training.runs.last() else {
        return;
    };
    ui.columns(2, |cols| {
        cols[0].label(format!(
            "inputs being fed (augmented), step {}",
            run.samples_step
        ));
        if let Some((_, textures)) = &training.sample_textures {
            cols[0].horizontal_wrapped(|ui| {
                for t in textures {
                    ui.image((t.id(), egui::vec2(48.0, 48.0)));
                }
            });
        }
        let ui = &mut cols[1];
        let watched = training
            .watched
            .clone()
            .or_else(|| run.histograms.keys().next().cloned());
        ui.horizontal(|ui| {
            ui.label("activations of");
            egui::ComboBox::from_id_salt("watched")
                .selected_text(watched.clone().unwrap_or_default())
                .show_ui(ui, |ui| {
                    for name in run.histograms.keys() {
                        if ui
                            .selectable_label(watched.as_deref() == Some(name), name)
                            .clicked()
                        {
                            out.push(TrainAction::Watch(name.clone()));
                        }
                    }
                });
        });
        let Some(history) = watched.as_ref().and_then(|w| run.histograms.get(w)) else {
            return;
        };
        let shown: Vec<_> = history.iter().rev().take(6).rev().collect();
        Plot::new("hist_plot")
            .height(140.0)
            .legend(Legend::default())
            .show(ui, |p| {
                for (k, (step, h)) in shown.iter().enumerate() {
                    let width = f64::from(h.hi - h.lo) / h.counts.len().max(1) as f64;
                    let pts: Vec<[f64; 2]> = h
                        .counts
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| [f64::from(h.lo) + (i as f64 + 0.5) * width, f64::from(c)])
                        .collect();
                    let strength = (k + 1) as f32 / shown.len() as f32;
                    p.line(
                        Line::new(format!("step {step}"), PlotPoints::from(pts))
                            .color(theme::WIRE_LABEL.gamma_multiply(strength)),
                    );
                }
            });
    });
}

/// Feature maps, filters and predictions at the end of the latest epoch.
fn views(ui: &mut egui::Ui, training: &Training, out: &mut Vec<TrainAction>) {
    let (Some(run), Some(((_, epoch), t))) = (training.runs.last(), &training.view_textures) else {
        return;
    };
    ui.separator();
    ui.columns(3, |cols| {
        let watched = training
            .watched_conv
            .clone()
            .or_else(|| t.maps.first().map(|(n, _)| n.clone()));
        cols[0].horizontal(|ui| {
            ui.label(format!("feature maps (epoch {epoch}) of"));
            egui::ComboBox::from_id_salt("watched_conv")
                .selected_text(watched.clone().unwrap_or_default())
                .show_ui(ui, |ui| {
                    for (name, _) in &t.maps {
                        if ui
                            .selectable_label(watched.as_deref() == Some(name), name)
                            .clicked()
                        {
                            out.push(TrainAction::WatchConv(name.clone()));
                        }
                    }
                });
        });
        if let Some((_, maps)) = t.maps.iter().find(|(n, _)| Some(n) == watched.as_ref()) {
            cols[0].horizontal_wrapped(|ui| {
                for m in maps {
                    ui.image((m.id(), egui::vec2(40.0, 40.0)));
                }
            });
        }
        cols[1].label("the first convolution's filters");
        cols[1].horizontal_wrapped(|ui| {
            for f in &t.filters {
                ui.image((f.id(), egui::vec2(28.0, 28.0)));
            }
        });
        cols[2].label("validation samples: predicted (true)");
        cols[2].horizontal_wrapped(|ui| {
            for (img, truth, pred) in &t.predictions {
                let name = |c: &u32| {
                    run.classes
                        .get(*c as usize)
                        .cloned()
                        .unwrap_or_else(|| c.to_string())
                };
                let color = if truth == pred {
                    theme::OK
                } else {
                    theme::ERROR
                };
                ui.vertical(|ui| {
                    ui.image((img.id(), egui::vec2(44.0, 44.0)));
                    ui.label(
                        egui::RichText::new(format!("{} ({})", name(pred), name(truth)))
                            .small()
                            .color(color),
                    );
                });
            }
        });
    });
}

/// The plots: loss per step (raw and smoothed) of every run, accuracy and loss per epoch,
/// and the inside of the net for the latest run.
pub fn plots(ui: &mut egui::Ui, training: &Training) -> Vec<TrainAction> {
    let mut out = Vec::new();
    if training.runs.is_empty() {
        ui.label(egui::RichText::new("Press Train: the loss, accuracy and what happens inside the net appear here, live.").color(theme::MUTED));
        return out;
    }
    let h = (ui.available_height() / 4.0).max(110.0);
    ui.label("loss per step");
    Plot::new("loss_plot")
        .height(h)
        .legend(Legend::default())
        .show(ui, |p| {
            for run in &training.runs {
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
        if let Some(run) = training.runs.last() {
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
    inside(ui, training, &mut out);
    views(ui, training, &mut out);
    if let Some(m) = training.runs.last().and_then(|r| r.epochs.last()) {
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

/// The last Linear of the design and its width: the head that "Replace head" changes.
pub fn head_of(
    design: &crate::design::Design,
    analysis: &crate::design::Analysis,
) -> Option<(crate::design::NodeId, String, u64)> {
    analysis.order.iter().rev().find_map(|&id| {
        let n = design.node(id)?;
        match &n.op {
            crate::design::Op::Linear(l) => Some((id, n.name.clone(), l.out_features)),
            _ => None,
        }
    })
}

/// Starting from pretrained weights: pick a file, see how it maps, replace the head.
fn pretrained(
    ui: &mut egui::Ui,
    training: &Training,
    head: Option<(String, u64)>,
    out: &mut Vec<TrainAction>,
) {
    use crate::app::training::Pretrained;
    ui.heading("Pretrained weights").on_hover_text(
        "Transfer learning: start from weights trained on another task (.safetensors, or a PyTorch .pt/.pth state dict). Tensors map onto blocks by name: conv1.weight → conv1.",
    );
    match &training.pretrained {
        Pretrained::None => {
            if ui.button("Start from pretrained weights…").clicked() {
                out.push(TrainAction::PickWeights);
            }
        }
        Pretrained::Checking(path, _) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("reading {}", file_name(path)));
            });
        }
        Pretrained::Review(_) => {
            ui.label("review the mapping…");
        }
        Pretrained::Using(w) => {
            let r = &w.report;
            let loaded = w.loaded();
            ui.label(format!(
                "from {}: {loaded} tensors load, {} re-initialised",
                file_name(&w.path),
                r.missing.len() + r.mismatched.len() + r.matched.len() - loaded
            ));
            ui.horizontal(|ui| {
                if ui.button("Review…").clicked() {
                    out.push(TrainAction::ReviewWeights);
                }
                if ui.button("Clear").clicked() {
                    out.push(TrainAction::ClearWeights);
                }
            });
        }
    }
    if let Some(e) = &training.pretrained_error {
        ui.colored_label(theme::ERROR, e);
    }
    if let Some((name, width)) = head {
        ui.horizontal(|ui| {
            let classes = training.preview.classes().map_or(width, |c| c as u64);
            ui.label(format!("head {name}: {width} outputs"));
            if classes != width
                && ui
                    .button(format!("Replace head ({classes} classes)"))
                    .on_hover_text(
                        "Give the last Linear one output per class of this data; it starts from a fresh initialisation",
                    )
                    .clicked()
            {
                out.push(TrainAction::ReplaceHead(classes));
            }
        });
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The mapping of a weights file onto the design, before anything is applied: what matched,
/// what is missing or unexpected, and shape mismatches with both shapes. Matched blocks can be
/// left out one by one.
pub fn weights_review(
    ctx: &egui::Context,
    choice: &crate::app::training::WeightsChoice,
) -> Vec<TrainAction> {
    let mut out = Vec::new();
    let r = &choice.report;
    let shape = |s: &[i64]| format!("{s:?}");
    egui::Modal::new(egui::Id::new("weights_review")).show(ctx, |ui| {
        ui.set_max_width(720.0);
        ui.heading(format!("Pretrained weights: {}", file_name(&choice.path)));
        ui.label(format!(
            "{} matched · {} missing in the file · {} unexpected in the file · {} shape mismatches",
            r.matched.len(),
            r.missing.len(),
            r.unexpected.len(),
            r.mismatched.len()
        ));
        ui.label(
            egui::RichText::new(
                "Only matched tensors are loaded; the rest keep a fresh initialisation.",
            )
            .color(theme::MUTED),
        );
        ui.separator();
        ui.label("load into these blocks:");
        egui::ScrollArea::vertical()
            .id_salt("review_nodes")
            .max_height(140.0)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for (node, count) in choice.matched_nodes() {
                        let mut on = !choice.skip.contains(&node);
                        if ui.checkbox(&mut on, format!("{node} ({count})")).changed() {
                            out.push(TrainAction::LoadNode(node, on));
                        }
                    }
                });
            });
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("review_table")
            .max_height(300.0)
            .show(ui, |ui| {
                egui::Grid::new("review_grid").striped(true).show(ui, |ui| {
                    for h in ["", "tensor", "in the file", "in the design"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for (n, f, d) in &r.mismatched {
                        ui.colored_label(theme::ERROR, "shape mismatch");
                        ui.label(n);
                        ui.label(shape(f));
                        ui.label(shape(d));
                        ui.end_row();
                    }
                    for (n, s) in &r.missing {
                        ui.colored_label(theme::FOCUS, "missing in the file");
                        ui.label(n);
                        ui.label("–");
                        ui.label(shape(s));
                        ui.end_row();
                    }
                    for (n, s) in &r.unexpected {
                        ui.colored_label(theme::MUTED, "unexpected in the file");
                        ui.label(n);
                        ui.label(shape(s));
                        ui.label("–");
                        ui.end_row();
                    }
                    for (n, s) in &r.matched {
                        ui.colored_label(theme::OK, "matched");
                        ui.label(n);
                        ui.label(shape(s));
                        ui.label(shape(s));
                        ui.end_row();
                    }
                });
            });
        ui.separator();
        ui.horizontal(|ui| {
            let usable = choice
                .matched_nodes()
                .iter()
                .any(|(n, _)| !choice.skip.contains(n));
            if ui
                .add_enabled(usable, egui::Button::new("Use the matched weights"))
                .on_disabled_hover_text("Nothing matches: no tensor of the file fits a block")
                .clicked()
            {
                out.push(TrainAction::UseWeights);
            }
            if ui.button("Cancel").clicked() {
                out.push(TrainAction::ClearWeights);
            }
        });
    });
    out
}
