//! The desktop app (eframe). For now it opens a design and shows, live, what the design core
//! knows about it: every node's output shape, parameters and MACs, and every problem.

use crate::design::{self, Analysis, Design};
use crate::examples::{DEFAULT_DESIGN, EXAMPLES};
use crate::ui;
use std::path::PathBuf;

/// Where the current design came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// A bundled example, by file name.
    Example(&'static str),
}

/// Things the UI asks for while drawing; applied after the frame (egui's deferred-command habit).
enum AppCommand {
    OpenDialog,
    OpenFile(PathBuf),
    OpenExample(&'static str, &'static str),
    Quit,
}

/// The netloom window.
pub struct NetloomApp {
    design: Design,
    analysis: Analysis,
    source: Source,
    /// The last load error, shown until the next successful load; the open design is kept.
    error: Option<String>,
}

impl NetloomApp {
    /// Opens `path`, or the default design (LeNet-5) when none is given or it can't be read.
    pub fn new(path: Option<PathBuf>) -> Self {
        let (name, text) = DEFAULT_DESIGN;
        let design = design::from_json(text).unwrap_or_default();
        let mut app = Self {
            analysis: design::analyse(&design),
            design,
            source: Source::Example(name),
            error: None,
        };
        if let Some(path) = path {
            app.open_file(path);
        }
        app
    }

    /// The design on screen.
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// The window title: the file's name.
    pub fn title(&self) -> String {
        let name = match &self.source {
            Source::File(p) => p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            Source::Example(n) => format!("{n} (example)"),
        };
        format!("{name} — netloom")
    }

    fn set_design(&mut self, design: Design, source: Source) {
        self.analysis = design::analyse(&design);
        self.design = design;
        self.source = source;
        self.error = None;
    }

    fn open_file(&mut self, path: PathBuf) {
        match crate::document::load_design(&path) {
            Ok(d) => self.set_design(d, Source::File(path)),
            Err(msg) => self.error = Some(msg),
        }
    }

    fn apply(&mut self, ctx: &egui::Context, cmd: AppCommand) {
        match cmd {
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
            AppCommand::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(self.title()));
    }

    fn menu_bar(&self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
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
                ui.separator();
                if ui.button("Quit").clicked() {
                    cmds.push(AppCommand::Quit);
                }
            });
        });
    }
}

impl eframe::App for NetloomApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let mut cmds = Vec::new();
        // A .json dropped onto the window opens.
        for file in ctx.input(|i| i.raw.dropped_files.clone()) {
            let path = file.path();
            if !path.as_os_str().is_empty() {
                cmds.push(AppCommand::OpenFile(path.to_path_buf()));
            }
        }
        egui::Panel::top("top_bar").show(ui, |ui| self.menu_bar(ui, &mut cmds));
        egui::Panel::bottom("status_bar")
            .show(ui, |ui| ui::summary::status_bar(ui, &self.analysis));
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(err) = &self.error {
                ui.colored_label(ui::theme::ERROR, format!("Could not open: {err}"));
                ui.separator();
            }
            ui.heading(self.title());
            ui::summary::node_table(ui, &self.analysis);
            ui::summary::problem_list(ui, &self.analysis);
        });
        for cmd in cmds {
            self.apply(&ctx, cmd);
        }
    }
}

/// Opens the app window and runs it until closed.
pub fn run(path: Option<PathBuf>) -> eframe::Result {
    let app = NetloomApp::new(path);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(app.title())
            .with_inner_size([960.0, 640.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native("netloom", options, Box::new(|_cc| Ok(Box::new(app))))
}
