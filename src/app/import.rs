//! File → Import ONNX…: a network from another tool opens on the canvas.
//!
//! The import runs on a helper thread (a big model takes a second or more to read and its
//! weights to write), with its stage in a bar meanwhile. Its weights go to netloom's data
//! folder, named after the file and its checksum (importing the same file again reuses the
//! name), and the design opens as a new, unsaved document that starts from them: they are its
//! pretrained weights, reviewed in the Train view as any others.

use super::{NetloomApp, Source};
use crate::design::Design;
use crate::jobs::{Job, Poll};
use std::path::{Path, PathBuf};

/// An import under way.
pub(super) struct Importing {
    path: PathBuf,
    job: Job<Imported>,
}

/// What a finished import hands back.
struct Imported {
    design: Design,
    summary: String,
    report: String,
}

/// A finished import's summary, shown in a bar until dismissed, and its full mapping report
/// (matched, folded, dropped), shown in a window on request.
pub(super) struct ImportResult {
    file: String,
    pub(super) summary: String,
    report: String,
    window: bool,
}

/// Where imported weights go when netloom has no data folder (tests, a read-only home).
fn fallback_dir() -> PathBuf {
    std::env::temp_dir().join("netloom-imports")
}

/// The import itself, off the UI thread: read, convert, write the weights into `dir`.
fn run(path: &Path, dir: &Path, progress: &crate::jobs::Progress) -> Result<Imported, String> {
    progress.stages(2);
    let bytes = crate::fsio::read_regular(path).map_err(|e| format!("can't read it: {e}"))?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let imported = crate::import::import_bytes(&bytes, path, folder).map_err(|e| e.to_string())?;
    progress.advance("writing the weights");
    std::fs::create_dir_all(dir).map_err(|e| format!("can't make {}: {e}", dir.display()))?;
    let stem = path
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let weights = dir.join(format!(
        "{stem}-{:08x}.safetensors",
        crc32fast::hash(&bytes)
    ));
    let (design, report) = imported
        .write_weights(&weights)
        .map_err(|e| e.to_string())?;
    let mut summary = format!(
        "Imported {}: {}. Its weights ({}) are the pretrained weights runs start from.",
        path.display(),
        report.summary(),
        weights.display()
    );
    for n in report.notes() {
        summary.push(' ');
        summary.push_str(n);
    }
    progress.advance("done");
    Ok(Imported {
        design,
        summary,
        report: report.text(true),
    })
}

impl NetloomApp {
    /// Starts importing `path`.
    pub(super) fn import_onnx(&mut self, ctx: &egui::Context, path: PathBuf) {
        let dir = self.imports_dir.clone().unwrap_or_else(fallback_dir);
        let repaint = ctx.clone();
        let file = path.clone();
        let job = Job::spawn(
            "onnx-import",
            Some(std::sync::Arc::new(move || repaint.request_repaint())),
            move |progress| run(&file, &dir, progress),
        );
        self.error = None;
        self.importing = Some(Importing { path, job });
    }

    /// Opens a finished import, or says why it failed; the open design stays until then.
    pub(super) fn poll_import(&mut self) {
        let Some(importing) = &mut self.importing else {
            return;
        };
        let answer = match importing.job.poll() {
            Poll::Working => return,
            Poll::Done(answer) => answer,
            Poll::Taken => Err("the import ended without an answer".to_owned()),
        };
        let path = importing.path.clone();
        self.importing = None;
        match answer {
            Ok(imported) => {
                self.set_design(imported.design, Source::Imported(path.clone()));
                // An import is opened to be looked at: on the canvas.
                self.view = super::View::Design;
                self.import_result = Some(ImportResult {
                    file: path
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                    summary: imported.summary,
                    report: imported.report,
                    window: false,
                });
            }
            Err(e) => {
                self.error = Some(format!(
                    "Can't import {}: {e}. The open design is unchanged.",
                    path.display()
                ));
            }
        }
    }

    /// "Importing model.onnx: writing the weights…" while an import runs; then the import's
    /// summary, with its mapping a click away, until dismissed.
    pub(super) fn import_bar(&mut self, ui: &mut egui::Ui) {
        if let Some(importing) = &self.importing {
            let name = importing
                .path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let stage = importing.job.progress().stage();
            let stage = if stage.is_empty() {
                "reading the graph".to_owned()
            } else {
                stage
            };
            egui::Panel::top("import_bar").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("Importing {name}: {stage}…"));
                });
            });
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
            return;
        }
        let Some(result) = &mut self.import_result else {
            return;
        };
        let mut dismissed = false;
        egui::Panel::top("import_result_bar").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label(&result.summary);
                if ui.small_button("Show the mapping").clicked() {
                    result.window = true;
                }
                if ui.small_button("Dismiss").clicked() {
                    dismissed = true;
                }
            });
        });
        if dismissed {
            self.import_result = None;
        }
    }

    /// The import's mapping report: every weight the file gave, and what was folded or dropped.
    pub(super) fn import_report_window(&mut self, ctx: &egui::Context) {
        let Some(result) = &mut self.import_result else {
            return;
        };
        if !result.window {
            return;
        }
        let mut open = true;
        egui::Window::new(format!("Import of {}", result.file))
            .open(&mut open)
            .collapsible(false)
            .default_width(640.0)
            .default_height(420.0)
            .show(ctx, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for line in result.report.lines() {
                        ui.label(egui::RichText::new(line).monospace());
                    }
                });
            });
        result.window = open;
    }
}
