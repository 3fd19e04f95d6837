//! The document's life: opening, saving, the unsaved mark, the "save your changes?" question
//! and the offer of work recovered after a crash. A failed open or save keeps the open design
//! and says why in the error bar.

use super::actions::AppCommand;
use super::{FilePurpose, NetloomApp, files};
use crate::design::{self, Design};
use std::path::PathBuf;

/// Where the current design came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// A bundled example, by file name.
    Example(&'static str),
    /// A template (`netloom template`'s), by name: `resnet18`.
    Template(String),
    /// An imported model (File → Import ONNX…), by its file; not saved yet.
    Imported(PathBuf),
    /// A new design not saved yet.
    Untitled,
}

impl NetloomApp {
    /// The window title: the file's name, with a • when there are unsaved changes.
    pub fn title(&self) -> String {
        let mark = if self.doc.dirty { "• " } else { "" };
        format!("{mark}{} — netloom", self.document_name())
    }

    fn document_name(&self) -> String {
        match &self.doc.source {
            Source::File(p) => p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            Source::Example(n) => format!("{n} (example)"),
            Source::Template(n) => format!("{n} (template)"),
            Source::Imported(p) => format!("{} (imported)", file_name(p)),
            Source::Untitled => "untitled".to_owned(),
        }
    }

    /// The name a first Save proposes: the file's own, the example's, the template's
    /// (`resnet18.json`), else `design.json`.
    pub(super) fn save_name(&self) -> String {
        match &self.doc.source {
            Source::File(p) => p.file_name().map_or_else(
                || "design.json".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            ),
            Source::Example(n) => (*n).to_owned(),
            Source::Template(n) => format!("{n}.json"),
            Source::Imported(p) => format!("{}.json", stem(p)),
            Source::Untitled => "design.json".to_owned(),
        }
    }

    pub(super) fn set_design(&mut self, design: Design, source: Source) {
        self.doc.analysis = design::analyse(&design);
        self.doc.design = design;
        self.doc.source = source;
        self.error = None;
        self.doc.dirty = false;
        super::crash::remember_unsaved(None);
        self.doc.revision += 1;
        self.doc.history.clear();
        self.notice = None;
        self.import_result = None;
        self.restore_setup();
        // A design opens fitted to the view, readably.
        self.canvas.fit();
    }

    /// After an edit (undo has recorded the old design): new analysis, unsaved mark, and a
    /// rebuilt canvas when the structure changed.
    pub(super) fn changed(&mut self, structural: bool) {
        self.doc.analysis = design::analyse(&self.doc.design);
        self.follow_input();
        self.doc.dirty = true;
        // What the panic hook saves if the UI thread ever panics (app/crash.rs).
        super::crash::remember_unsaved(
            self.autosave
                .path
                .clone()
                .map(|path| (path, &self.doc.design)),
        );
        if structural {
            self.doc.revision += 1;
        }
    }

    pub(super) fn open_file(&mut self, path: PathBuf) {
        match crate::document::load_design(&path) {
            Ok(d) => {
                files::remember(&mut self.recent, &path);
                self.doc.on_disk = file_crc(&path).map(|crc| (path.clone(), crc));
                self.set_design(d, Source::File(path));
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    pub(super) fn open_example(&mut self, name: &'static str, text: &str) {
        match design::from_json(text) {
            Ok(d) => self.set_design(d, Source::Example(name)),
            Err(e) => self.error = Some(format!("{e} ({name})")),
        }
    }

    pub(super) fn open_template(&mut self, name: &str) {
        // torchvision's own input size, so that its pretrained weights load (all but the
        // head, which is sized for the built-in set's 10 classes and starts afresh, as a
        // fine-tuning head does); it opens on the built-in set converted to 3×224×224.
        let segmentation = matches!(name, "unet" | "fcn_resnet18");
        let (input, classes) = if name == "lenet" {
            ([1, 28, 28], 10)
        } else if segmentation {
            ([3, 224, 224], 2)
        } else {
            ([3, 224, 224], 10)
        };
        match design::templates::template(name, input, classes) {
            Some(d) => {
                self.set_design(d, Source::Template(name.to_owned()));
                if segmentation {
                    self.notice = Some(format!(
                        "{name} predicts a class at every pixel: train it on images with masks (in the Train view, data, \"Images with masks…\"; or --data masks:DIR). It opens at 3×224×224 with 2 classes: set the Input to your images' size and the last convolution to your classes."
                    ));
                } else if name != "lenet" {
                    // What it trains on as it opens, said once rather than found out.
                    self.notice = Some(format!(
                        "{name} opens at torchvision's 3×224×224 with a 10-class head, on the first 1,000 images of the built-in Fashion-MNIST converted to 224×224 RGB (a CPU takes minutes an epoch at that size; set the Input to 3×32×32 for a quick run). Pretrained weights load into all but the head."
                    ));
                }
            }
            None => self.error = Some(format!("there is no template \"{name}\"")),
        }
    }

    /// Saves to the document's file, or asks where when it has none. When the file changed on
    /// disk since this window read or wrote it (another netloom window, an editor, a `git
    /// checkout`), it asks before replacing those changes.
    pub(super) fn save(&mut self, ctx: &egui::Context) {
        match &self.doc.source {
            Source::File(p) if self.changed_on_disk(p) => self.save_conflict = Some(p.clone()),
            Source::File(p) => self.save_to(p.clone()),
            _ => self.ask_file(ctx, FilePurpose::SaveDesign),
        }
    }

    /// Whether `path` now holds something other than what this window last read or wrote there
    /// (a file deleted since is not a conflict: saving puts it back).
    fn changed_on_disk(&self, path: &std::path::Path) -> bool {
        match (&self.doc.on_disk, file_crc(path)) {
            (Some((known, crc)), Some(now)) => known == path && *crc != now,
            _ => false,
        }
    }

    /// Saves to `path` atomically and makes it the document's file.
    pub fn save_to(&mut self, path: PathBuf) {
        self.save_conflict = None;
        match crate::document::save_design(&self.doc.design, &path) {
            Ok(()) => {
                self.doc.on_disk = file_crc(&path).map(|crc| (path.clone(), crc));
                files::remember(&mut self.recent, &path);
                self.doc.source = Source::File(path);
                self.doc.dirty = false;
                super::crash::remember_unsaved(None);
                self.error = None;
                self.autosave.clear();
            }
            Err(e) => self.save_failed(&path, e),
        }
    }

    pub(super) fn restore_autosave(&mut self) {
        if let Some(d) = self.recovered.take() {
            self.set_design(d, Source::Untitled);
            self.doc.dirty = true;
        }
    }

    /// The "save changes?" question, the "changed on disk" one and the offer of recovered
    /// work.
    pub(super) fn dialogs(&mut self, ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
        if self.pending.is_some() {
            self.unsaved_question(ctx, cmds);
        }
        if let Some(path) = self.save_conflict.clone() {
            self.conflict_question(ctx, path);
        }
        if let Some(d) = &self.recovered {
            let blocks = d.nodes.len();
            egui::Modal::new(egui::Id::new("recovered")).show(ctx, |ui| {
                ui.heading("Recovered work");
                ui.label(format!("netloom didn't close cleanly last time. Unsaved work with {blocks} blocks was kept. Restore it?"));
                ui.horizontal(|ui| {
                    if ui.button("Restore").clicked() {
                        cmds.push(AppCommand::RestoreAutosave);
                    }
                    if ui.button("Discard").clicked() {
                        cmds.push(AppCommand::DiscardAutosave);
                    }
                });
            });
        }
    }

    /// The file to save over changed on disk since this window read it: replace those changes,
    /// save under another name, or don't save.
    fn conflict_question(&mut self, ctx: &egui::Context, path: PathBuf) {
        let name = self.document_name();
        let mut answer = None;
        egui::Modal::new(egui::Id::new("save-conflict")).show(ctx, |ui| {
            ui.heading("The file changed on disk");
            ui.label(format!(
                "{name} was changed by another window or program since netloom opened or saved it. Saving now replaces those changes with this design."
            ));
            ui.horizontal(|ui| {
                if ui.button("Replace").clicked() {
                    answer = Some(0);
                }
                if ui.button("Save as…").clicked() {
                    answer = Some(1);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(2);
                }
            });
        });
        match answer {
            Some(0) => self.save_to(path),
            Some(1) => {
                self.save_conflict = None;
                self.ask_file(ctx, FilePurpose::SaveDesign);
            }
            Some(_) => {
                self.save_conflict = None;
                self.after_save = None;
            }
            None => {}
        }
    }

    fn unsaved_question(&mut self, ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
        let name = self.document_name();
        let mut answer = None;
        egui::Modal::new(egui::Id::new("unsaved")).show(ctx, |ui| {
            ui.heading("Unsaved changes");
            ui.label(format!("Save the changes to {name} first?"));
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    answer = Some(0);
                }
                if ui.button("Don't save").clicked() {
                    answer = Some(1);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(2);
                }
            });
        });
        match answer {
            // The held-back command goes on at the end of the frame, once the save succeeded.
            Some(0) => {
                cmds.push(AppCommand::Save);
                self.after_save = self.pending.take();
            }
            // The design stays marked unsaved until something replaces it: if the Open that
            // asked is cancelled or fails, the edits are still there and still unsaved.
            Some(1) => {
                self.autosave.clear();
                if let Some(cmd) = self.pending.take() {
                    cmds.push(AppCommand::Discarding(Box::new(cmd)));
                }
            }
            Some(_) => self.pending = None,
            None => {}
        }
    }
}

/// The CRC-32 of a file's bytes, when it can be read.
fn file_crc(path: &std::path::Path) -> Option<u32> {
    std::fs::read(path).ok().map(|b| crc32fast::hash(&b))
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn stem(p: &std::path::Path) -> String {
    p.file_stem()
        .map_or_else(|| "design".to_owned(), |n| n.to_string_lossy().into_owned())
}
