//! Deferred commands (egui's `run_cmd`, rerun's `SystemCommand`): panels, menus, shortcuts and
//! dialogs queue an [`AppCommand`] while drawing; the app applies the queue at the end of the
//! frame, whichever view is showing.

use super::actions::AppCommand;
use super::dialogs::{Asked, FilePurpose};
use super::training::{Pretrained, RunAction, TrainAction};
use super::undo::Burst;
use super::{NetloomApp, View};
use crate::design::edit::{self, Edit};
use crate::design::{self, Design};
use std::path::PathBuf;

impl NetloomApp {
    /// Commands from the window itself: dropped files, shortcuts, copy and paste.
    pub(super) fn input_commands(&mut self, ctx: &egui::Context) -> Vec<AppCommand> {
        let mut cmds = Vec::new();
        // A .json dropped onto the window opens.
        for file in ctx.input(|i| i.raw.dropped_files.clone()) {
            let path = file.path();
            if !path.as_os_str().is_empty() {
                cmds.push(AppCommand::OpenFile(path.to_path_buf()));
            }
        }
        if ctx.input(|i| i.viewport().close_requested()) && self.doc.dirty && !self.allow_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.pending = Some(AppCommand::Quit);
        }
        // netloom's own file dialog takes the keyboard while it is open.
        if !ctx.egui_wants_keyboard_input() && !self.file_dialogs.is_open() {
            super::help::shortcut_commands(ctx, &mut cmds);
            // Copy and paste blocks (the clipboard holds text, so this works between files).
            ctx.input(|i| {
                for e in &i.events {
                    match e {
                        egui::Event::Copy => cmds.push(AppCommand::Copy),
                        egui::Event::Paste(text) => cmds.push(AppCommand::Paste(text.clone())),
                        _ => {}
                    }
                }
            });
        }
        cmds
    }

    /// The one end-of-frame path of both views: applies the queued commands, then goes on
    /// with what the unsaved-changes question held back once its "Save" really saved. While
    /// the in-app Save dialog is still open, the held-back command waits for it; a cancelled or
    /// failed save drops it (the design stays, unsaved).
    pub(super) fn end_frame(&mut self, ctx: &egui::Context, cmds: Vec<AppCommand>) {
        for cmd in cmds {
            self.apply(ctx, cmd);
        }
        if !self.file_dialogs.is_asking(FilePurpose::SaveDesign)
            && let Some(cmd) = self.after_save.take()
            && !self.doc.dirty
        {
            self.apply(ctx, cmd);
        }
    }

    pub(super) fn apply(&mut self, ctx: &egui::Context, cmd: AppCommand) {
        if cmd.replaces_document() && self.doc.dirty && !self.allow_close {
            self.pending = Some(cmd);
            return;
        }
        self.apply_now(ctx, cmd);
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(self.title()));
    }

    fn apply_now(&mut self, ctx: &egui::Context, cmd: AppCommand) {
        match cmd {
            AppCommand::New => self.set_design(Design::default(), super::Source::Untitled),
            AppCommand::OpenDialog => self.ask_file(ctx, FilePurpose::OpenDesign),
            AppCommand::ImportDialog => self.ask_file(ctx, FilePurpose::ImportOnnx),
            AppCommand::OpenRunFolder => self.ask_file(ctx, FilePurpose::RunFolder),
            AppCommand::OpenSweepFolder => self.ask_file(ctx, FilePurpose::SweepFolder),
            AppCommand::SaveSweepDialog => self.ask_file(ctx, FilePurpose::SaveSweep),
            AppCommand::OpenSweepDialog => self.ask_file(ctx, FilePurpose::OpenSweep),
            AppCommand::OpenTrialDesign(design, trial) => {
                self.set_design(*design, super::Source::Untitled);
                // Unsaved: it is the trial's, not a file's, until saved.
                self.doc.dirty = true;
                self.notice = Some(format!(
                    "Opened {trial}'s design: the sweep's design with {trial}'s values. It is not saved yet."
                ));
                self.view = View::Design;
            }
            AppCommand::About => self.about = Some(super::about::About::gather()),
            AppCommand::OpenFile(path) => self.open_file(path),
            AppCommand::OpenExample(name, text) => self.open_example(name, text),
            AppCommand::OpenTemplate(name) => self.open_template(name),
            AppCommand::Save => self.save(ctx),
            AppCommand::SaveAs => self.ask_file(ctx, FilePurpose::SaveDesign),
            AppCommand::Chosen(purpose, path) => self.chosen(ctx, purpose, path),
            AppCommand::Discarding(cmd) => self.apply_now(ctx, *cmd),
            AppCommand::Undo => {
                if let Some(d) = self.doc.history.undo(&self.doc.design) {
                    self.doc.design = d;
                    self.changed(true);
                }
            }
            AppCommand::Redo => {
                if let Some(d) = self.doc.history.redo(&self.doc.design) {
                    self.doc.design = d;
                    self.changed(true);
                }
            }
            AppCommand::Layout(direction) => self.edit(Edit::Layout(direction)),
            AppCommand::Edit(e) => self.edit(e),
            AppCommand::Zoom(zoom) => {
                use super::actions::Zoom;
                match zoom {
                    Zoom::In => self.canvas.zoom_by(crate::ui::canvas::ZOOM_STEP),
                    Zoom::Out => self.canvas.zoom_by(1.0 / crate::ui::canvas::ZOOM_STEP),
                    Zoom::Fit(fit) => self.canvas.fit_as(fit),
                }
                // Zooming shows the canvas it zooms.
                self.view = View::Design;
            }
            AppCommand::Help(window) => self.help = window,
            AppCommand::Quit => {
                self.allow_close = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            AppCommand::RestoreAutosave => self.restore_autosave(),
            AppCommand::DiscardAutosave => {
                self.recovered = None;
                self.autosave.clear();
            }
            AppCommand::Train(action) => self.train_action(ctx, action),
            AppCommand::Export(action) => self.export_action(ctx, action),
            AppCommand::Show(view) => self.view = view,
            AppCommand::Lesson(lesson, node) => {
                self.learn.open(lesson, node);
                self.view = View::Learn;
            }
            AppCommand::Copy => {
                if let Some(text) = edit::copy_text(&self.doc.design, &self.canvas.selection) {
                    ctx.copy_text(text);
                }
            }
            // The copies become the selection (select_new), so Delete removes them, not the
            // originals.
            AppCommand::Paste(text) => self.edit(Edit::Paste(text)),
        }
    }

    /// Applies an edit of the design as if made on the canvas or in the inspector (with undo:
    /// a burst of typed or dragged values to one block is one step). Tests and scripts use it.
    pub fn edit(&mut self, edit: Edit) {
        self.apply_edit(edit, true);
    }

    /// The one door every change of the document goes through: applies `edit`, records the
    /// design before it for undo (a burst as one step when `coalesce`), and analyses anew.
    fn apply_edit(&mut self, edit: Edit, coalesce: bool) {
        let before = self.doc.design.clone();
        let structural = edit::apply(&mut self.doc.design, &edit);
        if edit.is_setup() {
            // The set-up: recorded when it changed; the canvas stays.
            if self.doc.design != before {
                if coalesce && matches!(edit, Edit::Training(_)) {
                    // Dragging a value is one undo step, as in the inspector.
                    self.doc
                        .history
                        .record_coalesced(before, Burst::TrainingSettings);
                } else {
                    self.doc.history.record(before);
                }
                self.changed(false);
            }
            return;
        }
        if !structural {
            self.changed(false);
            return;
        }
        self.select_new(&before, &edit);
        match (coalesce, edit.burst_node(), edit.burst_group()) {
            (true, Some(id), _) => self.doc.history.record_coalesced(before, Burst::Node(id)),
            (true, None, Some(id)) => self.doc.history.record_coalesced(before, Burst::Group(id)),
            _ => self.doc.history.record(before),
        }
        self.changed(true);
        if matches!(edit, Edit::Layout(_)) {
            self.canvas.fit();
        }
    }

    /// After an edit that made blocks (add, duplicate) or a group, those are the selection,
    /// as in any editor: the inspector shows the new one, Delete removes it.
    fn select_new(&mut self, before: &design::Design, edit: &Edit) {
        if matches!(edit, Edit::Group(_))
            && let Some(g) = self
                .doc
                .design
                .groups
                .iter()
                .find(|g| before.group(g.id).is_none())
        {
            let id = g.id;
            self.canvas.select_group(id);
            return;
        }
        let new: Vec<design::NodeId> = self
            .doc
            .design
            .nodes
            .iter()
            .map(|n| n.id)
            .filter(|id| before.node(*id).is_none())
            .collect();
        if let Some(first) = new.first().and_then(|id| self.doc.design.node(*id)) {
            let (pos, size) = (first.pos, design::layout::block_size(first));
            self.canvas.select(new);
            self.canvas.reveal(pos, size);
        }
    }

    /// What the Train view asked for: dialogs and design edits here, the rest in `Training`.
    fn train_action(&mut self, ctx: &egui::Context, action: TrainAction) {
        match action {
            TrainAction::PickFolder => self.ask_file(ctx, FilePurpose::DataFolder),
            TrainAction::PickTable => self.ask_file(ctx, FilePurpose::DataTable),
            TrainAction::PickMasks => self.ask_file(ctx, FilePurpose::DataMasks),
            TrainAction::PickWeights => self.ask_file(ctx, FilePurpose::Weights),
            TrainAction::SaveCsv => self.ask_file(ctx, FilePurpose::MetricsCsv),
            TrainAction::SavePng => self.ask_file(ctx, FilePurpose::PlotsPng),
            TrainAction::OpenFolder(dir) => self.open_folder(ctx, &dir),
            TrainAction::KeepRuns(keep) => self.set_runs_to_keep(keep),
            TrainAction::ExplainActivations => {
                self.learn.open(super::actions::Lesson::Activations, None);
                self.view = View::Learn;
            }
            TrainAction::DeleteOldRuns(keep) => match self.training.delete_old_runs(keep) {
                Ok((n, bytes)) => {
                    self.notice = Some(format!(
                        "Deleted {n} old run folder{} ({:.1} MB freed)",
                        if n == 1 { "" } else { "s" },
                        bytes as f64 / 1e6
                    ));
                }
                Err(e) => self.error = Some(e),
            },
            TrainAction::ReplaceHead(classes) => self.replace_head(classes),
            TrainAction::FitInput(features) => self.fit_input(features),
            TrainAction::FitRegression => self.fit_regression(),
            TrainAction::DataSettings(data) => self.edit(Edit::Data(Box::new(data))),
            TrainAction::Settings(settings) => self.edit(Edit::Training(Box::new(settings))),
            TrainAction::Run(action) => {
                let (data, weights) = (
                    matches!(action, RunAction::Data(_)),
                    matches!(
                        action,
                        RunAction::UseWeights | RunAction::ClearWeights | RunAction::LoadNode(..)
                    ),
                );
                self.training.apply(action, &self.doc.design, ctx);
                if data {
                    self.record_data();
                }
                if weights {
                    self.record_weights();
                }
            }
        }
    }

    /// Asks for a path for `purpose`; the answer comes back through [`Self::chosen`], now
    /// (native dialog) or in a later frame (in-app dialog).
    pub(super) fn ask_file(&mut self, ctx: &egui::Context, purpose: FilePurpose) {
        // Start where the user works: for data, beside the last data used; else the design's
        // folder, else the last file's.
        let last_data = matches!(
            purpose,
            FilePurpose::DataFolder | FilePurpose::DataTable | FilePurpose::DataMasks
        )
        .then(|| {
            self.training
                .recent_data()
                .iter()
                .filter_map(|s| crate::data::DataSpec::parse(s).ok())
                .find_map(|s| {
                    s.path()
                        .and_then(|p| p.parent())
                        .map(std::path::Path::to_path_buf)
                })
        })
        .flatten();
        let start = last_data
            .or_else(|| match &self.doc.source {
                super::Source::File(p) => p.parent().map(std::path::Path::to_path_buf),
                _ => None,
            })
            .or_else(|| {
                self.recent
                    .first()
                    .and_then(|p| p.parent())
                    .map(std::path::Path::to_path_buf)
            })
            .filter(|d| d.is_dir())
            // A first save or export of an example or template: the user's documents folder (the
            // process's working folder is wherever the app was started from).
            .or_else(documents_dir);
        let name = (purpose == FilePurpose::SaveDesign).then(|| self.save_name());
        match self
            .file_dialogs
            .ask(purpose, start.as_deref(), name.as_deref())
        {
            Asked::Picked(path) => self.chosen(ctx, purpose, path),
            Asked::InApp {
                fell_back: Some(why),
            } => self.error = Some(why),
            Asked::Cancelled | Asked::InApp { fell_back: None } => {}
        }
    }

    /// Does what a path was asked for.
    fn chosen(&mut self, ctx: &egui::Context, purpose: FilePurpose, path: PathBuf) {
        match purpose {
            FilePurpose::OpenDesign => self.open_file(path),
            FilePurpose::SaveDesign => self.save_to(path),
            FilePurpose::DataFolder => self.use_data_folder(ctx, path),
            FilePurpose::DataTable => self.use_data(
                ctx,
                crate::data::DataSpec::Table(path, crate::data::table::TableOptions::default()),
            ),
            FilePurpose::DataMasks => self.use_data(
                ctx,
                crate::data::DataSpec::Masks(path, crate::data::masks::MaskOptions::default()),
            ),
            FilePurpose::Weights => self.load_weights(ctx, path),
            FilePurpose::ImportOnnx => self.import_onnx(ctx, path),
            FilePurpose::MetricsCsv => self.save_csv(&path),
            FilePurpose::PlotsPng => self.save_png(ctx, path),
            FilePurpose::ExportTo(_) | FilePurpose::ExportWeights => {
                self.export_chosen(purpose, path);
            }
            FilePurpose::RunFolder => self.open_run_folder(&path),
            FilePurpose::SaveSweep => {
                let design = match &self.doc.source {
                    super::Source::File(p) => Some(p.clone()),
                    _ => None,
                };
                let data = self.training.data().clone();
                self.experiments.save_file(&path, design.as_deref(), &data);
                if design.is_none() {
                    self.notice = Some(format!(
                        "Saved the sweep to {}. The design isn't saved in a file yet, so the sweep names none: save the design, or give netloom sweep --design.",
                        path.display()
                    ));
                }
            }
            FilePurpose::OpenSweep => self.experiments.open_file(&path),
            FilePurpose::SweepFolder => {
                self.experiments.open_folder(&path);
                self.view = View::Experiments;
            }
        }
    }

    /// How many of the newest saved runs "delete old runs" keeps (the Train view's number).
    pub fn set_runs_to_keep(&mut self, keep: usize) {
        self.training.keep_runs = keep;
    }

    /// Shows a run folder's curves in the Train view beside this session's runs.
    pub fn open_run_folder(&mut self, path: &std::path::Path) {
        match self.training.open_run_folder(path) {
            Ok(name) => {
                self.notice = Some(format!("Opened run {name} from {}", path.display()));
                self.view = View::Train;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Writes every run's metrics to `path` and says where they went.
    pub fn save_csv(&mut self, path: &std::path::Path) {
        match std::fs::write(path, self.training.metrics_csv()) {
            Ok(()) => {
                let runs = self.training.runs().len();
                self.notice = Some(format!(
                    "Saved the metrics of {runs} run{} to {}",
                    if runs == 1 { "" } else { "s" },
                    path.display()
                ));
            }
            Err(e) => self.save_failed(path, e),
        }
    }

    /// Shows a run's folder in the desktop's file manager; where there is none, copies the
    /// path and says so.
    fn open_folder(&mut self, ctx: &egui::Context, dir: &std::path::Path) {
        if !dir.is_dir() {
            self.error = Some(format!(
                "the run folder {} is gone (it was moved or deleted)",
                dir.display()
            ));
            return;
        }
        if let Err(e) = open::that_detached(dir) {
            ctx.copy_text(dir.display().to_string());
            self.notice = Some(format!(
                "No file manager could be started ({e}); the folder's path is copied: {}",
                dir.display()
            ));
        }
    }

    /// Trains on the images in `folder` (what choosing it in "Folder of images…" does; tests
    /// and scripts use it).
    pub fn use_data_folder(&mut self, ctx: &egui::Context, folder: PathBuf) {
        self.use_data(ctx, crate::data::DataSpec::Folder(folder));
    }

    /// Trains on `spec` from now on, and remembers it among the data used before.
    fn use_data(&mut self, ctx: &egui::Context, spec: crate::data::DataSpec) {
        self.training
            .apply(RunAction::Data(spec), &self.doc.design, ctx);
        self.record_data();
    }

    /// Makes the vector Input `features` wide, as one undoable edit.
    pub fn fit_input(&mut self, features: u64) {
        let input = self
            .doc
            .design
            .nodes
            .iter()
            .find(|n| matches!(n.op, design::Op::Input(_)))
            .map(|n| n.id);
        if let Some(id) = input {
            let op = design::Op::Input(design::InputOp::vector(features));
            self.apply_edit(Edit::SetOp(id, op), false);
        }
    }

    /// Makes the head a regression's, as one undoable edit: the Output's loss MSE and the last
    /// Linear one output (left out of pretrained weights, as a new head is).
    pub fn fit_regression(&mut self) {
        let design = &self.doc.design;
        let mut edits = Vec::new();
        for n in &design.nodes {
            if let design::Op::Output(o) = &n.op
                && o.loss != design::Loss::Mse
            {
                let op = design::Op::Output(design::OutputOp {
                    loss: design::Loss::Mse,
                });
                edits.push(Edit::SetOp(n.id, op));
            }
        }
        if let Some((id, _, width)) = design.head(&self.doc.analysis)
            && width != 1
            && let Some(design::Op::Linear(mut head)) = design.node(id).map(|n| n.op.clone())
        {
            head.out_features = 1;
            edits.push(Edit::SetOp(id, design::Op::Linear(head)));
        }
        if !edits.is_empty() {
            self.apply_edit(Edit::Many(edits), false);
        }
    }

    /// Gives the last Linear `classes` outputs, as one undoable edit; it is left out of the
    /// pretrained weights, so it starts from a fresh initialisation.
    pub fn replace_head(&mut self, classes: u64) {
        let Some((id, name, _)) = self.doc.design.head(&self.doc.analysis) else {
            return;
        };
        let Some(design::Op::Linear(mut head)) = self.doc.design.node(id).map(|n| n.op.clone())
        else {
            return;
        };
        head.out_features = classes;
        let mut edits = vec![Edit::SetOp(id, design::Op::Linear(head))];
        if let Some(w) = self.training.weights_choice_mut()
            && !w.skip.contains(&name)
        {
            // The new head is left out of the weights, in the same undo step.
            w.skip.push(name);
            if let Some(now) = self.weights_source() {
                edits.push(Edit::Pretrained(now));
            }
        }
        self.apply_edit(Edit::Many(edits), false);
    }

    /// Reads a weights file and maps it onto the design (on a helper thread); the review
    /// window follows. What "Start from pretrained weights…" does once a file is chosen.
    pub fn load_weights(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.training
            .check_weights(path, &self.doc.design, ctx, None);
    }

    /// The pretrained weights' state in the Train view.
    pub fn pretrained(&self) -> &Pretrained {
        self.training.pretrained()
    }
}

/// The user's documents folder (the desktop's, else ~/Documents where it exists), else their
/// home folder; None where neither is known.
fn documents_dir() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    let home = dirs.home_dir();
    let documents = dirs
        .document_dir()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| home.join("Documents"));
    Some(if documents.is_dir() {
        documents
    } else {
        home.to_path_buf()
    })
}
