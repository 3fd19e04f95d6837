//! The desktop app (eframe): the node canvas with a palette and an inspector, shapes and problems
//! updated on every edit, undo/redo, and the file commands.

use crate::design::{self, Analysis, Design};
use crate::examples::{DEFAULT_DESIGN, EXAMPLES};
use crate::ui;
use crate::ui::canvas::{Canvas, CanvasEdit};
use crate::ui::inspector::{Inspector, InspectorEdit};
use edit::History;
use std::path::PathBuf;

pub mod edit;
pub mod files;
pub mod training;

/// Where the current design came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// A bundled example, by file name.
    Example(&'static str),
    /// A new design not saved yet.
    Untitled,
}

/// Things the UI asks for while drawing; applied after the frame (egui's deferred-command habit).
enum AppCommand {
    New,
    OpenDialog,
    OpenFile(PathBuf),
    OpenExample(&'static str, &'static str),
    /// A new design from a template of a known architecture (torchvision's names).
    OpenTemplate(&'static str),
    Save,
    RestoreAutosave,
    DiscardAutosave,
    Copy,
    Paste(String),
    Train(ui::train_panel::TrainAction),
    Show(View),
    SaveAs,
    Undo,
    Redo,
    Layout,
    Canvas(CanvasEdit),
    Inspector(InspectorEdit),
    Quit,
}

/// Frame times (CPU seconds in `ui`), split by whether a run was training.
#[derive(Default)]
pub struct FrameStats {
    idle: Vec<f32>,
    training: Vec<f32>,
}

impl FrameStats {
    fn summary(name: &str, v: &mut [f32]) -> String {
        if v.is_empty() {
            return format!("{name}: no frames");
        }
        v.sort_by(f32::total_cmp);
        let at = |q: f32| v[((v.len() - 1) as f32 * q).round() as usize] * 1000.0;
        format!(
            "{name}: {} frames, median {:.2} ms, p99 {:.2} ms",
            v.len(),
            at(0.5),
            at(0.99)
        )
    }

    /// One line per state, for stderr.
    pub fn report(&mut self) -> String {
        format!(
            "{}\n{}",
            Self::summary("idle", &mut self.idle),
            Self::summary("training", &mut self.training)
        )
    }
}

/// Which screen is showing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The node editor.
    Design,
    /// Training settings, controls and live plots.
    Train,
}

/// The netloom window.
pub struct NetloomApp {
    view: View,
    training: training::Training,
    design: Design,
    analysis: Analysis,
    source: Source,
    /// Bumped on every structural change; the canvas rebuilds when it lags behind.
    revision: u64,
    /// True when the design differs from its file.
    dirty: bool,
    history: History,
    canvas: Canvas,
    inspector: Inspector,
    palette_query: String,
    /// The last load or save error, shown until the next success; the open design is kept.
    error: Option<String>,
    /// A command waiting for the answer to "save your changes?".
    pending: Option<AppCommand>,
    /// The command to run once the save the user chose has succeeded.
    after_save: Option<AppCommand>,
    /// Set once the user agreed to close with unsaved changes.
    allow_close: bool,
    /// Recently opened or saved files, newest first (persisted).
    recent: Vec<PathBuf>,
    autosave: files::Autosave,
    /// Work recovered from a session that ended without saving, offered back.
    recovered: Option<Design>,
    /// Frame-time measurement, when asked for with --frame-stats.
    pub frame_stats: Option<FrameStats>,
    /// Where the next screenshot of the window goes (Save plots as PNG).
    png_to: Option<PathBuf>,
}

impl NetloomApp {
    /// Opens `path`, or the default design (LeNet-5) when none is given or it can't be read.
    pub fn new(path: Option<PathBuf>) -> Self {
        let (name, text) = DEFAULT_DESIGN;
        let design = design::from_json(text).unwrap_or_default();
        let mut app = Self {
            view: View::Design,
            training: training::Training::default(),
            analysis: design::analyse(&design),
            design,
            source: Source::Example(name),
            revision: 0,
            dirty: false,
            history: History::default(),
            canvas: Canvas::default(),
            inspector: Inspector::default(),
            palette_query: String::new(),
            error: None,
            pending: None,
            after_save: None,
            allow_close: false,
            recent: Vec::new(),
            autosave: files::Autosave::off(),
            recovered: None,
            frame_stats: None,
            png_to: None,
        };
        app.training.data = training::DataChoice::default_for(training::input_shape(&app.design));
        if let Some(path) = path {
            app.open_file(path);
        }
        app
    }

    /// Restores what the last session saved (recent files) and turns on autosave in `data_dir`,
    /// offering back work a crashed session left there.
    pub fn with_storage(
        mut self,
        storage: Option<&dyn eframe::Storage>,
        data_dir: Option<PathBuf>,
    ) -> Self {
        if let Some(recent) =
            storage.and_then(|s| eframe::get_value::<Vec<PathBuf>>(s, "recent_files"))
        {
            self.recent = recent;
        }
        self.training.runs_dir = data_dir.as_ref().map(|d| d.join("runs"));
        self.autosave = files::Autosave::new(data_dir);
        self.recovered = self.autosave.recovered();
        self
    }

    /// The design on screen.
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// The block the inspector shows.
    pub fn focused(&self) -> Option<crate::design::NodeId> {
        self.canvas.selection.first().copied()
    }

    /// Where a block is on the screen (for tests and scripted clicks).
    pub fn node_screen_rect(&self, id: crate::design::NodeId) -> Option<egui::Rect> {
        self.canvas.screen_rect(id)
    }

    /// Where a block's pin is on the screen (for tests and scripted drags).
    pub fn pin_screen_pos(
        &self,
        id: crate::design::NodeId,
        side: crate::ui::canvas::PinSide,
    ) -> Option<egui::Pos2> {
        self.canvas.pin_screen_pos(id, side)
    }

    /// True when there are unsaved changes.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The window title: the file's name, with a • when there are unsaved changes.
    pub fn title(&self) -> String {
        let name = match &self.source {
            Source::File(p) => p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            Source::Example(n) => format!("{n} (example)"),
            Source::Untitled => "untitled".to_owned(),
        };
        let mark = if self.dirty { "• " } else { "" };
        format!("{mark}{name} — netloom")
    }

    /// The screen showing.
    pub fn view(&self) -> View {
        self.view
    }

    /// Every run's metrics as CSV (what "Save metrics (CSV)" writes).
    pub fn metrics_csv(&self) -> String {
        self.training.metrics_csv()
    }

    /// Every run of this session.
    pub fn runs(&self) -> &[training::RunHistory] {
        &self.training.runs
    }

    fn set_design(&mut self, design: Design, source: Source) {
        self.training.data = training::DataChoice::default_for(training::input_shape(&design));
        self.analysis = design::analyse(&design);
        self.design = design;
        self.source = source;
        self.error = None;
        self.dirty = false;
        self.revision += 1;
        self.history.clear();
    }

    /// Replaces the design after an edit (undo has recorded the old one).
    fn changed(&mut self, structural: bool) {
        self.analysis = design::analyse(&self.design);
        self.dirty = true;
        if structural {
            self.revision += 1;
        }
    }

    fn open_file(&mut self, path: PathBuf) {
        match crate::document::load_design(&path) {
            Ok(d) => {
                files::remember(&mut self.recent, &path);
                self.set_design(d, Source::File(path));
            }
            Err(msg) => self.error = Some(msg),
        }
    }

    /// Applies a canvas edit as if made on the canvas (with undo). Tests and scripts use it.
    pub fn edit(&mut self, edit: CanvasEdit) {
        let before = self.design.clone();
        if edit::apply(&mut self.design, &edit) {
            self.history.record(before);
            self.changed(true);
        } else {
            self.changed(false);
        }
    }

    /// Saves to `path` atomically and makes it the document's file.
    pub fn save_to(&mut self, path: PathBuf) {
        match crate::document::save_design(&self.design, &path) {
            Ok(()) => {
                files::remember(&mut self.recent, &path);
                self.source = Source::File(path);
                self.dirty = false;
                self.error = None;
                self.autosave.clear();
            }
            Err(e) => self.error = Some(format!("could not save {}: {e}", path.display())),
        }
    }

    fn apply(&mut self, ctx: &egui::Context, cmd: AppCommand) {
        let replaces_document = matches!(
            cmd,
            AppCommand::New
                | AppCommand::OpenDialog
                | AppCommand::OpenFile(_)
                | AppCommand::OpenExample(..)
                | AppCommand::OpenTemplate(_)
                | AppCommand::RestoreAutosave
                | AppCommand::Quit
        );
        if replaces_document && self.dirty && !self.allow_close {
            self.pending = Some(cmd);
            return;
        }
        match cmd {
            AppCommand::New => self.set_design(Design::default(), Source::Untitled),
            AppCommand::OpenDialog => {
                let picked = rfd::FileDialog::new()
                    .set_title("Open a netloom design")
                    .add_filter("netloom design", &["json"])
                    .pick_file();
                if let Some(path) = picked {
                    self.open_file(path);
                }
            }
            AppCommand::OpenFile(path) => self.open_file(path),
            AppCommand::OpenExample(name, text) => match design::from_json(text) {
                Ok(d) => self.set_design(d, Source::Example(name)),
                Err(e) => self.error = Some(format!("{e} ({name})")),
            },
            AppCommand::OpenTemplate(name) => {
                // torchvision's own sizes, so that its weights load as they are; "Replace head"
                // and the Input block adapt it to other data.
                let (input, classes) = if name == "lenet" {
                    ([1, 28, 28], 10)
                } else {
                    ([3, 224, 224], 1000)
                };
                match design::templates::template(name, input, classes) {
                    Some(d) => self.set_design(d, Source::Untitled),
                    None => self.error = Some(format!("there is no template \"{name}\"")),
                }
            }
            AppCommand::Save => match &self.source {
                Source::File(p) => self.save_to(p.clone()),
                _ => self.apply(ctx, AppCommand::SaveAs),
            },
            AppCommand::SaveAs => {
                let picked = rfd::FileDialog::new()
                    .set_title("Save the design")
                    .add_filter("netloom design", &["json"])
                    .set_file_name("design.json")
                    .save_file();
                if let Some(path) = picked {
                    self.save_to(path);
                }
            }
            AppCommand::Undo => {
                if let Some(d) = self.history.undo(&self.design) {
                    self.design = d;
                    self.changed(true);
                }
            }
            AppCommand::Redo => {
                if let Some(d) = self.history.redo(&self.design) {
                    self.design = d;
                    self.changed(true);
                }
            }
            AppCommand::Layout => {
                self.history.record(self.design.clone());
                design::layout::auto_layout(&mut self.design);
                self.changed(true);
            }
            AppCommand::Canvas(e) => self.edit(e),
            AppCommand::Inspector(e) => {
                let before = self.design.clone();
                let id = match &e {
                    InspectorEdit::Freeze(id, frozen) => {
                        self.edit(CanvasEdit::Freeze {
                            nodes: vec![*id],
                            frozen: *frozen,
                        });
                        return;
                    }
                    InspectorEdit::Rename(id, _)
                    | InspectorEdit::SetOp(id, _)
                    | InspectorEdit::LrMult(id, _) => *id,
                };
                if let Some(n) = self.design.nodes.iter_mut().find(|n| n.id == id) {
                    match e {
                        InspectorEdit::Rename(_, name) => n.name = name,
                        InspectorEdit::SetOp(_, op) => n.op = op,
                        InspectorEdit::LrMult(_, m) => n.lr_mult = m,
                        InspectorEdit::Freeze(..) => {}
                    }
                    self.history.record_coalesced(before, edit::Burst::Node(id));
                    self.changed(true);
                }
            }
            AppCommand::Quit => {
                self.allow_close = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            AppCommand::RestoreAutosave => {
                if let Some(d) = self.recovered.take() {
                    self.set_design(d, Source::Untitled);
                    self.dirty = true;
                }
            }
            AppCommand::DiscardAutosave => {
                self.recovered = None;
                self.autosave.clear();
            }
            AppCommand::Train(action) => self.train_action(ctx, action),
            AppCommand::Show(view) => self.view = view,
            AppCommand::Copy => {
                if let Some(text) = edit::copy_text(&self.design, &self.canvas.selection) {
                    ctx.copy_text(text);
                }
            }
            AppCommand::Paste(text) => {
                let before = self.design.clone();
                if edit::paste(&mut self.design, &text).is_some() {
                    self.history.record(before);
                    self.changed(true);
                }
            }
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(self.title()));
    }

    fn menu_bar(&self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("New").clicked() {
                    cmds.push(AppCommand::New);
                }
                if ui.button("Open…").clicked() {
                    cmds.push(AppCommand::OpenDialog);
                }
                ui.menu_button("Examples", |ui| {
                    for &(name, text) in EXAMPLES {
                        if ui.button(name).clicked() {
                            cmds.push(AppCommand::OpenExample(name, text));
                        }
                    }
                });
                ui.menu_button("Templates", |ui| {
                    for (name, what) in design::templates::TEMPLATES {
                        if ui.button(name).on_hover_text(what).clicked() {
                            cmds.push(AppCommand::OpenTemplate(name));
                        }
                    }
                });
                ui.menu_button("Recent", |ui| {
                    if self.recent.is_empty() {
                        ui.label("no recent files");
                    }
                    for p in &self.recent {
                        if ui.button(p.display().to_string()).clicked() {
                            cmds.push(AppCommand::OpenFile(p.clone()));
                        }
                    }
                });
                ui.separator();
                if ui.button("Save").clicked() {
                    cmds.push(AppCommand::Save);
                }
                if ui.button("Save As…").clicked() {
                    cmds.push(AppCommand::SaveAs);
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    cmds.push(AppCommand::Quit);
                }
            });
            ui.menu_button("Edit", |ui| {
                let (undo, redo) = self.history.can();
                if ui.add_enabled(undo, egui::Button::new("Undo")).clicked() {
                    cmds.push(AppCommand::Undo);
                }
                if ui.add_enabled(redo, egui::Button::new("Redo")).clicked() {
                    cmds.push(AppCommand::Redo);
                }
                ui.separator();
                if ui
                    .button("Auto layout")
                    .on_hover_text("Arrange the blocks left to right by depth, branches in lanes")
                    .clicked()
                {
                    cmds.push(AppCommand::Layout);
                }
            });
            ui.separator();
            for (view, label) in [(View::Design, "Design"), (View::Train, "Train")] {
                if ui.selectable_label(self.view == view, label).clicked() {
                    cmds.push(AppCommand::Show(view));
                }
            }
        });
    }

    fn train_action(&mut self, ctx: &egui::Context, action: ui::train_panel::TrainAction) {
        use crate::engine::Command;
        use ui::train_panel::TrainAction;
        match action {
            TrainAction::Start => self.training.start(&self.design, ctx),
            TrainAction::Pause => self.training.control(Command::Pause),
            TrainAction::Resume => self.training.control(Command::Resume),
            TrainAction::Stop => self.training.control(Command::Stop),
            TrainAction::Continue => self.training.continue_last(ctx),
            TrainAction::Data(d) => self.training.data = d,
            TrainAction::PickFolder => {
                if let Some(dir) = rfd::FileDialog::new()
                    .set_title("A folder with one subfolder of images per class")
                    .pick_folder()
                {
                    self.training.data = training::DataChoice::Folder(dir);
                }
            }
            TrainAction::PickWeights => {
                if let Some(path) = rfd::FileDialog::new()
                    .set_title("Pretrained weights")
                    .add_filter("weights", &["safetensors", "pt", "pth", "bin"])
                    .pick_file()
                {
                    self.load_weights(&ctx.clone(), path);
                }
            }
            TrainAction::ReviewWeights => self.training.pretrained.review(),
            TrainAction::LoadNode(node, on) => {
                if let training::Pretrained::Review(w) = &mut self.training.pretrained {
                    w.skip.retain(|n| *n != node);
                    if !on {
                        w.skip.push(node);
                    }
                }
            }
            TrainAction::UseWeights => self.training.pretrained.accept(),
            TrainAction::ClearWeights => {
                self.training.pretrained = training::Pretrained::None;
                self.training.pretrained_error = None;
            }
            TrainAction::ReplaceHead(classes) => self.replace_head(classes),
            TrainAction::Device(d) => self.training.device = d,
            TrainAction::Watch(name) => self.training.watched = Some(name),
            TrainAction::WatchConv(name) => self.training.watched_conv = Some(name),
            TrainAction::SaveCsv => {
                let picked = rfd::FileDialog::new()
                    .set_title("Save the metrics of every run")
                    .add_filter("CSV", &["csv"])
                    .set_file_name("metrics.csv")
                    .save_file();
                if let Some(path) = picked
                    && let Err(e) = std::fs::write(&path, self.training.metrics_csv())
                {
                    self.error = Some(format!("could not save {}: {e}", path.display()));
                }
            }
            TrainAction::SavePng => {
                let picked = rfd::FileDialog::new()
                    .set_title("Save the plots")
                    .add_filter("PNG", &["png"])
                    .set_file_name("training.png")
                    .save_file();
                if let Some(path) = picked {
                    self.save_png(ctx, path);
                }
            }
            TrainAction::Reroll => {
                self.training.preview.seed = self.training.preview.seed.wrapping_add(1)
            }
            TrainAction::DataSettings(data) => {
                self.history.record(self.design.clone());
                self.design.data = data;
                self.changed(false);
            }
            TrainAction::Settings(settings) => {
                let before = self.design.clone();
                self.design.training = settings;
                // Dragging a value is one undo step, as in the inspector.
                self.history
                    .record_coalesced(before, edit::Burst::TrainingSettings);
                self.changed(false);
            }
        }
    }

    /// Saves the window, as it is drawn next frame, to `path` as PNG (what "Save plots (PNG)"
    /// does once a file is chosen). Errors show in the error bar.
    pub fn save_png(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.png_to = Some(path);
        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(egui::UserData::default()));
    }

    /// Reads a weights file and maps it onto the design (on a thread); the review window
    /// follows. What "Start from pretrained weights…" does once a file is chosen.
    pub fn load_weights(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.training.pretrained_error = None;
        self.training.check_weights(path, &self.design, ctx);
    }

    /// Gives the last Linear `classes` outputs, as one undoable edit; it is left out of the
    /// pretrained weights, so it starts from a fresh initialisation.
    pub fn replace_head(&mut self, classes: u64) {
        let Some((id, name, _)) = ui::train_panel::head_of(&self.design, &self.analysis) else {
            return;
        };
        let before = self.design.clone();
        if let Some(n) = self.design.nodes.iter_mut().find(|n| n.id == id)
            && let design::Op::Linear(l) = &mut n.op
        {
            l.out_features = classes;
            self.history.record(before);
            self.changed(true);
        }
        if let training::Pretrained::Using(w) | training::Pretrained::Review(w) =
            &mut self.training.pretrained
            && !w.skip.contains(&name)
        {
            w.skip.push(name);
        }
    }

    /// The pretrained weights' state in the Train view.
    pub fn pretrained(&self) -> &training::Pretrained {
        &self.training.pretrained
    }

    /// The error shown in the error bar, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Writes the screenshot asked for by "Save plots (PNG)".
    fn save_screenshot(&mut self, ctx: &egui::Context) {
        let Some(path) = self.png_to.clone() else {
            return;
        };
        let shot = ctx.input(|i| {
            i.events.iter().find_map(|e| match e {
                egui::Event::Screenshot { image, .. } => Some(image.clone()),
                _ => None,
            })
        });
        let Some(image) = shot else { return };
        self.png_to = None;
        let [w, h] = image.size;
        let bytes: Vec<u8> = image
            .pixels
            .iter()
            .flat_map(|p| p.to_srgba_unmultiplied())
            .collect();
        let saved = image::RgbaImage::from_raw(w as u32, h as u32, bytes)
            .ok_or_else(|| "the screenshot had the wrong size".to_owned())
            .and_then(|img| img.save(&path).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            self.error = Some(format!("could not save {}: {e}", path.display()));
        }
    }

    /// Why training can't start, if it can't.
    fn train_blocked(&self) -> Option<String> {
        if let Some(p) = self.analysis.problems.first() {
            return Some(format!(
                "the design has {} problem(s), e.g. {}",
                self.analysis.problems.len(),
                p.message
            ));
        }
        self.design.training.problems().into_iter().next()
    }

    /// The "save changes?" question and the offer of recovered work.
    fn dialogs(&mut self, ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
        if self.pending.is_some() {
            let name = self
                .title()
                .trim_start_matches("• ")
                .trim_end_matches(" — netloom")
                .to_owned();
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
                Some(0) => {
                    cmds.push(AppCommand::Save);
                    self.after_save = self.pending.take();
                }
                Some(1) => {
                    self.dirty = false;
                    self.autosave.clear();
                    if let Some(cmd) = self.pending.take() {
                        cmds.push(cmd);
                    }
                }
                Some(_) => self.pending = None,
                None => {}
            }
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

    fn shortcuts(ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let table: [(KeyboardShortcut, fn() -> AppCommand); 5] = [
            (redo, || AppCommand::Redo),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Y), || {
                AppCommand::Redo
            }),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Z), || {
                AppCommand::Undo
            }),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::S), || {
                AppCommand::Save
            }),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::O), || {
                AppCommand::OpenDialog
            }),
        ];
        for (shortcut, cmd) in table {
            if ctx.input_mut(|i| i.consume_shortcut(&shortcut)) {
                cmds.push(cmd());
            }
        }
    }
}

impl eframe::App for NetloomApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if let Some(stats) = &mut self.frame_stats {
            // cpu_usage is the previous frame's time in `ui`; redraw continuously to measure.
            if let Some(t) = frame.info().cpu_usage {
                if self.training.busy() {
                    stats.training.push(t)
                } else {
                    stats.idle.push(t)
                }
            }
            ctx.request_repaint();
        }
        let mut cmds = Vec::new();
        // A .json dropped onto the window opens.
        for file in ctx.input(|i| i.raw.dropped_files.clone()) {
            let path = file.path();
            if !path.as_os_str().is_empty() {
                cmds.push(AppCommand::OpenFile(path.to_path_buf()));
            }
        }
        if ctx.input(|i| i.viewport().close_requested()) && self.dirty && !self.allow_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.pending = Some(AppCommand::Quit);
        }
        if !ctx.egui_wants_keyboard_input() {
            Self::shortcuts(&ctx, &mut cmds);
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
        self.autosave.tick(&self.design, self.dirty);
        self.dialogs(&ctx, &mut cmds);
        self.training.drain(std::time::Duration::from_millis(8));
        self.save_screenshot(&ctx);
        egui::Panel::top("top_bar").show(ui, |ui| self.menu_bar(ui, &mut cmds));
        // A failed open or save is said at the top of either view until dismissed or
        // superseded; the open design is never lost.
        if let Some(err) = self.error.clone() {
            egui::Panel::top("error_bar").show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.colored_label(ui::theme::ERROR, err);
                    if ui.small_button("Dismiss").clicked() {
                        self.error = None;
                    }
                });
            });
        }
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            let frozen = self
                .design
                .nodes
                .iter()
                .filter(|n| n.frozen)
                .filter_map(|n| self.analysis.report(n.id))
                .map(|r| r.params)
                .sum();
            ui::summary::status_bar(ui, &self.analysis, frozen);
        });
        if self.view == View::Train {
            let blocked = self.train_blocked();
            egui::Panel::left("train_controls")
                .default_size(280.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        let actions = ui::train_panel::controls(
                            ui,
                            &self.training,
                            &self.design.training,
                            &self.design.data,
                            ui::train_panel::head_of(&self.design, &self.analysis)
                                .map(|(_, n, w)| (n, w)),
                            blocked,
                        );
                        cmds.extend(actions.into_iter().map(AppCommand::Train));
                    });
                });
            if let training::Pretrained::Review(choice) = &self.training.pretrained {
                let actions = ui::train_panel::weights_review(&ctx, choice);
                cmds.extend(actions.into_iter().map(AppCommand::Train));
            }
            self.training.update_textures(&ctx);
            self.training.update_view_textures(&ctx);
            let choice = self.training.data.clone();
            self.training.preview.update(&ctx, &choice, &self.design);
            egui::CentralPanel::default().show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for a in ui::train_panel::plots(ui, &self.training) {
                        cmds.push(AppCommand::Train(a));
                    }
                });
            });
            for cmd in cmds {
                self.apply(&ctx, cmd);
            }
            return;
        }
        egui::Panel::left("palette")
            .default_size(150.0)
            .show(ui, |ui| {
                if let Some(i) = ui::palette::show(ui, &mut self.palette_query) {
                    // New blocks appear in view, clear of the blocks already there.
                    let [x, y] = self.canvas.free_spot(&self.design);
                    cmds.push(AppCommand::Canvas(CanvasEdit::Add {
                        block: i,
                        pos: [x, y],
                    }));
                }
            });
        let selected = self.canvas.selection.first().copied();
        // The block clicked on the canvas is the one whose activations the Train view shows.
        if let Some(node) = selected.and_then(|id| self.design.node(id))
            && self.training.watched.as_deref() != Some(node.name.as_str())
        {
            self.training.watched = Some(node.name.clone());
            if node.op.kind_name() == "Conv2d" {
                self.training.watched_conv = Some(node.name.clone());
            }
        }
        egui::Panel::right("inspector")
            .default_size(240.0)
            .show(ui, |ui| {
                if let Some(e) = self
                    .inspector
                    .show(ui, &self.design, &self.analysis, selected)
                {
                    cmds.push(AppCommand::Inspector(e));
                }
                ui.separator();
                ui::summary::problem_list(ui, &self.analysis);
            });
        egui::CentralPanel::default().show(ui, |ui| {
            if self.canvas.shown != Some(self.revision) {
                self.canvas.rebuild(&self.design, self.revision);
            }
            for e in self.canvas.show(ui, &self.design, &self.analysis) {
                cmds.push(AppCommand::Canvas(e));
            }
        });
        for cmd in cmds {
            self.apply(&ctx, cmd);
        }
        // "Save" answered the question: go on with what was asked once it really saved.
        if !self.dirty
            && let Some(cmd) = self.after_save.take()
        {
            self.apply(&ctx, cmd);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, "recent_files", &self.recent);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(stats) = &mut self.frame_stats {
            eprintln!("netloom frame times (CPU per frame)\n{}", stats.report());
        }
        // A clean exit: nothing left to recover (unsaved work was deliberately discarded).
        self.autosave.clear();
    }
}

/// Opens the app window and runs it until closed; `frame_stats` measures frame times.
pub fn run(path: Option<PathBuf>, frame_stats: bool) -> eframe::Result {
    let mut app = NetloomApp::new(path);
    if frame_stats {
        app.frame_stats = Some(FrameStats::default());
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(app.title())
            .with_inner_size([1280.0, 800.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let data_dir = eframe::storage_dir("netloom");
    eframe::run_native(
        "netloom",
        options,
        Box::new(|cc| Ok(Box::new(app.with_storage(cc.storage, data_dir)))),
    )
}
