//! File → Export…: the design as PyTorch code, ONNX or TorchScript, with the weights the user
//! picks (none, the last run's best, a file) and where to write. The export runs on a helper
//! thread; its result lands in the notice bar, or the error bar with the dialog left open.

use super::actions::{AppCommand, ExportAction};
use super::{FilePurpose, NetloomApp, Source};
use crate::engine::run_dir::RunDir;
use crate::export::{ExportFormat, ExportRequest};
use std::path::{Path, PathBuf};

/// Which weights go with the export.
#[derive(Clone, Debug, PartialEq)]
pub enum WeightsPick {
    /// None: the PyTorch code starts from scratch.
    None,
    /// The newest run's best.safetensors (and its fitted preprocessing).
    LastRun,
    /// A weights file the user chose.
    File(PathBuf),
}

/// The Export window's state.
#[derive(Debug)]
pub struct ExportDialog {
    /// Whether the window shows.
    pub open: bool,
    /// What to write.
    pub format: ExportFormat,
    /// Which weights.
    pub weights: WeightsPick,
    /// The destination, as typed or chosen.
    pub out: String,
    /// True once the user typed or chose the destination; until then it follows the format.
    out_chosen: bool,
}

impl Default for ExportDialog {
    fn default() -> Self {
        ExportDialog {
            open: false,
            format: ExportFormat::Pytorch,
            weights: WeightsPick::None,
            out: String::new(),
            out_chosen: false,
        }
    }
}

fn describe(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Pytorch => {
            "model.py (an nn.Module with torchvision's layout) and train.py (runs alone or under torchrun on many GPUs), with the design, the fitted preprocessing and the data netloom ships"
        }
        ExportFormat::Onnx => {
            "The inference graph at opset 17 with a dynamic batch size, for onnxruntime, TensorRT, OpenVINO…"
        }
        ExportFormat::Torchscript => {
            "A torch.jit archive for torch.jit.load (Python) and torch::jit::load (C++)"
        }
        ExportFormat::RayTune => {
            "The PyTorch folder and tune.py, which runs a sweep's trials with Ray Tune on one machine or a cluster"
        }
    }
}

impl NetloomApp {
    /// The design's name and folder, for titles and default destinations.
    fn export_base(&self) -> (String, PathBuf) {
        match &self.doc.source {
            Source::File(p) => (
                p.file_stem()
                    .map_or_else(|| "design".to_owned(), |s| s.to_string_lossy().into_owned()),
                p.parent().map_or_else(PathBuf::new, Path::to_path_buf),
            ),
            _ => (
                self.design_title(),
                std::env::var_os("HOME").map_or_else(PathBuf::new, PathBuf::from),
            ),
        }
    }

    /// A file-name-safe title for a design that has no file (`lenet5` for the example).
    fn design_title(&self) -> String {
        let name: String = match &self.doc.source {
            Source::Example(n) => n.trim_end_matches(".json").to_owned(),
            Source::Template(n) => n.clone(),
            Source::Imported(p) => p.file_stem().map_or_else(
                || "imported".to_owned(),
                |s| s.to_string_lossy().into_owned(),
            ),
            _ => "untitled".to_owned(),
        }
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
        if name.is_empty() {
            "design".to_owned()
        } else {
            name
        }
    }

    /// The destination offered for the chosen format until the user picks one.
    fn default_destination(&self) -> String {
        let (stem, dir) = self.export_base();
        let name = match self.export.format {
            ExportFormat::Pytorch => format!("{stem}-pytorch"),
            ExportFormat::Onnx => format!("{stem}.onnx"),
            ExportFormat::Torchscript => format!("{stem}.pt"),
            ExportFormat::RayTune => format!("{stem}-ray-tune"),
        };
        dir.join(name).display().to_string()
    }

    /// Does what the Export window asked.
    pub(super) fn export_action(&mut self, ctx: &egui::Context, action: ExportAction) {
        match action {
            ExportAction::Open => {
                self.export.open = true;
                if !self.export.out_chosen {
                    self.export.out = self.default_destination();
                }
            }
            ExportAction::ChooseDestination => {
                self.ask_file(ctx, FilePurpose::ExportTo(self.export.format));
            }
            ExportAction::ChooseWeights => self.ask_file(ctx, FilePurpose::ExportWeights),
            ExportAction::Start => self.start_export(ctx),
        }
    }

    /// A path the file dialog gave for the export.
    pub(super) fn export_chosen(&mut self, purpose: FilePurpose, path: PathBuf) {
        match purpose {
            FilePurpose::ExportWeights => self.export.weights = WeightsPick::File(path),
            _ => {
                self.export.out = path.display().to_string();
                self.export.out_chosen = true;
            }
        }
    }

    fn start_export(&mut self, ctx: &egui::Context) {
        let out = self.export.out.trim();
        if out.is_empty() {
            self.error = Some("choose where to write the export".to_owned());
            return;
        }
        let (weights, preprocessor) = match &self.export.weights {
            WeightsPick::None => (None, None),
            WeightsPick::File(p) => (Some(p.clone()), None),
            WeightsPick::LastRun => match self.training.last_run_with_weights(&self.doc.design) {
                Some((_, dir)) => {
                    let pre = RunDir::at(dir).preprocessor();
                    (Some(RunDir::at(dir).best()), pre.is_file().then_some(pre))
                }
                None => {
                    self.error = Some(
                        "no run has kept weights yet: train first, or pick a weights file"
                            .to_owned(),
                    );
                    return;
                }
            },
        };
        // The files the export reads, which it must never write over.
        let mut inputs = Vec::new();
        if let Source::File(p) = &self.doc.source {
            inputs.push(p.clone());
        }
        if let WeightsPick::LastRun = &self.export.weights
            && let Some((_, dir)) = self.training.last_run_with_weights(&self.doc.design)
        {
            inputs.push(dir.to_path_buf());
        }
        let classes = self.training.preview_data().map(|d| d.classes.clone());
        let request = ExportRequest {
            design: self.doc.design.clone(),
            title: self.export_base().0,
            format: self.export.format,
            weights,
            preprocessor,
            data: Some(self.training.data().clone()),
            out: PathBuf::from(out),
            inputs,
            opset: crate::export::OPSET,
            classes,
            sweep: None,
        };
        self.error = None;
        self.training.export(request, ctx);
    }

    /// Shows how the last export ended: a notice (and the window closes), or the error bar
    /// with the window left open so the choice can be fixed.
    pub(super) fn show_export_result(&mut self) {
        let Some(result) = self.training.take_exported() else {
            return;
        };
        match result {
            Ok(summary) => {
                let bytes: u64 = summary.files.iter().map(|(_, n)| n).sum();
                let mut notice = format!(
                    "Exported {} to {} ({} file{}, {:.1} MB)",
                    self.export.format.label(),
                    summary.out.display(),
                    summary.files.len(),
                    if summary.files.len() == 1 { "" } else { "s" },
                    bytes as f64 / 1e6
                );
                for note in &summary.notes {
                    notice += &format!(". Note: {note}");
                }
                self.notice = Some(notice);
                self.export.open = false;
            }
            Err(e) => self.error = Some(format!("export failed: {e}")),
        }
    }

    /// The Export window, while open.
    pub(super) fn export_window(&mut self, ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
        let mut open = self.export.open;
        let busy = self.training.exporting();
        let last_run = self
            .training
            .last_run_with_weights(&self.doc.design)
            .map(|(name, _)| name.to_owned());
        let data = self.training.data().label();
        let misfit = self
            .training
            .data_mismatch(&self.doc.design, &self.doc.analysis);
        egui::Window::new("Export the design")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            // Its top left corner fixed: the format's own options change its size, and a
            // centred window would jump under the pointer each time the format changes.
            .min_width(560.0)
            .fixed_pos(egui::pos2(
                ((ctx.content_rect().width() - 560.0) / 2.0).max(8.0),
                60.0,
            ))
            .show(ctx, |ui| {
                ui.add_enabled_ui(!busy, |ui| {
                    self.export_form(ui, cmds, last_run.as_deref(), &data, misfit.as_deref());
                });
                ui.separator();
                ui.horizontal(|ui| {
                    let no_weights = self.export.format.needs_weights()
                        && self.export.weights == WeightsPick::None;
                    let ready = !(busy || no_weights || self.export.out.trim().is_empty());
                    if ui.add_enabled(ready, egui::Button::new("Export")).clicked() {
                        cmds.push(AppCommand::Export(ExportAction::Start));
                    }
                    if ui.add_enabled(!busy, egui::Button::new("Cancel")).clicked() {
                        self.export.open = false;
                    }
                    if busy {
                        ui.spinner();
                        ui.label("Writing…");
                    }
                });
            });
        self.export.open &= open;
    }

    fn export_form(
        &mut self,
        ui: &mut egui::Ui,
        cmds: &mut Vec<AppCommand>,
        last_run: Option<&str>,
        data: &str,
        misfit: Option<&str>,
    ) {
        let before = self.export.format;
        egui::Grid::new("export_form")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                ui.label("Format");
                ui.vertical(|ui| {
                    for f in ExportFormat::ALL {
                        ui.radio_value(&mut self.export.format, f, f.label());
                    }
                    ui.add(
                        egui::Label::new(egui::RichText::new(describe(self.export.format)).small())
                            .wrap(),
                    );
                });
                ui.end_row();
                ui.label("Weights");
                ui.vertical(|ui| self.weights_choice(ui, cmds, last_run));
                ui.end_row();
                if self.export.format == ExportFormat::Pytorch {
                    ui.label("Data for train.py");
                    ui.vertical(|ui| {
                        ui.label(data)
                            .on_hover_text("The data chosen in the Train view");
                        // The PyTorch export checks the data as training does, and refuses it.
                        if let Some(why) = misfit {
                            let red = |t: String| {
                                egui::RichText::new(t)
                                    .color(crate::ui::theme::ERROR)
                                    .small()
                            };
                            ui.label(red("train.py can't train on this data:".to_owned()));
                            ui.add(
                                egui::Label::new(red(format!(
                                    "{why}. Choose data that fits in the Train view first: the export refuses this data."
                                )))
                                .wrap(),
                            );
                        }
                    });
                    ui.end_row();
                }
                ui.label("Write to");
                ui.horizontal(|ui| {
                    let edit = ui.add(
                        egui::TextEdit::singleline(&mut self.export.out)
                            .desired_width(380.0)
                            .hint_text("a folder for PyTorch code, a file otherwise"),
                    );
                    if edit.changed() {
                        self.export.out_chosen = true;
                    }
                    if ui.button("Choose…").clicked() {
                        cmds.push(AppCommand::Export(ExportAction::ChooseDestination));
                    }
                });
                ui.end_row();
            });
        if self.export.format != before {
            if !self.export.out_chosen {
                self.export.out = self.default_destination();
            }
            if self.export.format.needs_weights() && self.export.weights == WeightsPick::None {
                self.export.weights = if last_run.is_some() {
                    WeightsPick::LastRun
                } else {
                    WeightsPick::None
                };
            }
        }
    }

    fn weights_choice(
        &mut self,
        ui: &mut egui::Ui,
        cmds: &mut Vec<AppCommand>,
        last_run: Option<&str>,
    ) {
        let pick = &mut self.export.weights;
        let needs = self.export.format.needs_weights();
        ui.add_enabled_ui(!needs, |ui| {
            ui.radio_value(
                pick,
                WeightsPick::None,
                "None: the code starts from fresh weights",
            )
        });
        let run_label = match last_run {
            Some(name) => format!("The last run's best weights ({name})"),
            None => "The last run's best weights (no run yet)".to_owned(),
        };
        ui.add_enabled_ui(last_run.is_some(), |ui| {
            ui.radio_value(pick, WeightsPick::LastRun, run_label)
        });
        ui.horizontal(|ui| {
            let chosen = match pick {
                WeightsPick::File(p) => p.display().to_string(),
                _ => "A file…".to_owned(),
            };
            if ui
                .radio(matches!(pick, WeightsPick::File(_)), chosen)
                .clicked()
                || ui.button("Choose…").clicked()
            {
                cmds.push(AppCommand::Export(ExportAction::ChooseWeights));
            }
        });
        if needs && *pick == WeightsPick::None {
            ui.colored_label(
                crate::ui::theme::ERROR,
                "ONNX and TorchScript carry trained weights: pick a run's or a file",
            );
        }
    }
}
