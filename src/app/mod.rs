//! The desktop app (eframe): the node canvas with a palette and an inspector, shapes and problems
//! updated on every edit, undo/redo, the file commands, and the Train view.
//!
//! Split by job (rerun's `re_viewer/src/app`): this file holds the state and the frame;
//! `commands` the deferred commands and their one end-of-frame path; `document` opening,
//! saving and the unsaved-changes question; `menu` the menu bar; `views` one file per screen;
//! `training` the runs.

mod about;
mod actions;
mod commands;
mod crash;
mod dialogs;
mod document;
mod export;
pub mod files;
mod frame_stats;
mod help;
mod import;
mod menu;
mod setup;
#[cfg(any(test, feature = "testing"))]
mod testing;
pub mod training;
pub mod undo;
mod views;

pub use dialogs::FilePurpose;
pub use document::Source;
pub use frame_stats::FrameStats;

use crate::design::{self, Analysis, Design};
use crate::examples::DEFAULT_DESIGN;
use crate::ui;
use crate::ui::canvas::Canvas;
use crate::ui::inspector::Inspector;
use actions::AppCommand;
use std::path::PathBuf;
use undo::History;

/// Which screen is showing (persisted: the app reopens on the last one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum View {
    /// The node editor.
    Design,
    /// Training settings, controls and live plots.
    Train,
    /// Sweeps: many trainings with settings varied, compared.
    Experiments,
    /// The lessons behind the blocks, live.
    Learn,
}

/// The document: the design being edited and what belongs to it alone (its file, its
/// analysis, its undo history, whether it is saved). Every change reaches it through one door,
/// `NetloomApp::apply_edit`.
struct Document {
    design: Design,
    analysis: Analysis,
    source: Source,
    /// Bumped on every structural change; the canvas rebuilds when it lags behind.
    revision: u64,
    /// True when the design differs from its file.
    dirty: bool,
    history: History,
    /// The document's file as this window last read or wrote it (its CRC-32), so that a save
    /// over changes another window or program made since is asked about, not done silently.
    on_disk: Option<(PathBuf, u32)>,
}

/// The netloom window.
pub struct NetloomApp {
    view: View,
    training: training::Training,
    /// The Learn view's lessons.
    learn: views::learn::Learn,
    /// The Experiments view: the sweep being written, run or looked at.
    experiments: views::experiments::Experiments,
    /// The design being edited, with its file, analysis and undo history.
    doc: Document,
    canvas: Canvas,
    inspector: Inspector,
    palette_query: String,
    /// The last load or save error, shown until the next success; the open design is kept.
    error: Option<String>,
    /// What the last file action did (e.g. where the metrics went), shown until dismissed.
    notice: Option<String>,
    /// The file dialogs: native, or in-app once the native one failed.
    file_dialogs: dialogs::FileDialogs,
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
    /// A save waiting for the answer to "the file changed on disk: replace it?".
    save_conflict: Option<PathBuf>,
    /// Frame-time measurement, when asked for with --frame-stats.
    pub frame_stats: Option<FrameStats>,
    /// Frames drawn so far when started with --exit-after-first-frame (the start-up benchmark).
    exit_after_first_frame: Option<u8>,
    /// Where the next screenshot of the window goes (Save plots as PNG).
    png_to: Option<PathBuf>,
    /// File → Export…'s window.
    export: export::ExportDialog,
    /// Help → About's window, with what it shows, while open.
    about: Option<about::About>,
    /// Help's other window (shortcuts, documentation), while open.
    help: actions::HelpWindow,
    /// The weights a reopened design names, to read on the next frame (and the blocks it
    /// left out of them).
    restore_weights: Option<(PathBuf, Vec<String>)>,
    /// The Input shape the default data was chosen for (see `setup::follow_input`).
    defaults_for: Option<design::Shape>,
    /// File → Import ONNX… while it runs.
    importing: Option<import::Importing>,
    /// The last import's summary and mapping, until dismissed or another document opens.
    import_result: Option<import::ImportResult>,
    /// Where imported weights go: the data folder's `imports` (None: the temporary folder).
    imports_dir: Option<PathBuf>,
}

impl NetloomApp {
    /// Opens `path`, or the default design (LeNet-5) when none is given or it can't be read.
    pub fn new(path: Option<PathBuf>) -> Self {
        let (name, text) = DEFAULT_DESIGN;
        let design = design::from_json(text).unwrap_or_default();
        let mut app = Self {
            view: View::Design,
            training: training::Training::default(),
            learn: views::learn::Learn::default(),
            experiments: views::experiments::Experiments::default(),
            doc: Document {
                analysis: design::analyse(&design),
                design,
                source: Source::Example(name),
                revision: 0,
                dirty: false,
                history: History::default(),
                on_disk: None,
            },
            canvas: Canvas::default(),
            inspector: Inspector::default(),
            palette_query: String::new(),
            error: None,
            notice: None,
            file_dialogs: dialogs::FileDialogs::default(),
            pending: None,
            after_save: None,
            allow_close: false,
            recent: Vec::new(),
            autosave: files::Autosave::off(),
            recovered: None,
            save_conflict: None,
            frame_stats: None,
            exit_after_first_frame: None,
            png_to: None,
            export: export::ExportDialog::default(),
            about: None,
            help: actions::HelpWindow::None,
            restore_weights: None,
            defaults_for: None,
            importing: None,
            import_result: None,
            imports_dir: None,
        };
        app.training.choose_data_for(&app.doc.design);
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
        if let Some(recent) =
            storage.and_then(|s| eframe::get_value::<Vec<String>>(s, "recent_data"))
        {
            self.training.set_recent_data(recent);
        }
        if let Some(view) = storage.and_then(|s| eframe::get_value::<View>(s, "view")) {
            self.view = view;
        }
        self.training
            .set_runs_dir(data_dir.as_ref().map(|d| d.join("runs")));
        self.imports_dir = data_dir.as_ref().map(|d| d.join("imports"));
        if let Some(report) = data_dir.as_deref().and_then(crash::take_report) {
            self.notice = Some(format!(
                "netloom stopped with an internal error last time. Unsaved work, if any, is offered back; the crash report is {}: please attach it to a bug report.",
                report.display()
            ));
        }
        self.autosave = files::Autosave::new(data_dir);
        match self.autosave.recovered() {
            Some(Ok(design)) => self.recovered = Some(design),
            Some(Err(why)) => self.error = Some(why),
            None => {}
        }
        self
    }

    /// Saves the window, as it is drawn next frame, to `path` as PNG (what "Save plots (PNG)"
    /// does once a file is chosen). Errors show in the error bar.
    pub fn save_png(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.png_to = Some(path);
        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(egui::UserData::default()));
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
        match saved {
            Ok(()) => self.notice = Some(format!("Saved the plots to {}", path.display())),
            Err(e) => self.save_failed(&path, e),
        }
    }

    /// Says in the error bar that `path` could not be written; the design stays as it is.
    fn save_failed(&mut self, path: &std::path::Path, e: impl std::fmt::Display) {
        self.error = Some(format!("could not save {}: {e}", path.display()));
    }

    /// The bars both views share: menu, error bar, status bar.
    fn bars(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        egui::Panel::top("top_bar").show(ui, |ui| self.menu_bar(ui, cmds));
        // A failed open or save is said at the top of either view until dismissed or
        // superseded; the open design is never lost.
        message_bar(ui, "error_bar", &mut self.error, ui::theme::ERROR);
        self.import_bar(ui);
        message_bar(
            ui,
            "notice_bar",
            &mut self.notice,
            ui.visuals().text_color(),
        );
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            let frozen = self
                .doc
                .design
                .nodes
                .iter()
                .filter(|n| n.frozen)
                .filter_map(|n| self.doc.analysis.report(n.id))
                .map(|r| r.params)
                .sum();
            ui.horizontal(|ui| {
                let misfit = self
                    .training
                    .data_mismatch_short(&self.doc.design, &self.doc.analysis);
                ui::summary::status_bar(ui, &self.doc.analysis, frozen, misfit);
                if let Some(text) = self.running_run() {
                    ui.separator();
                    // From either view: a run is training, and a click shows it.
                    if ui.link(text).on_hover_text("Show the Train view").clicked() {
                        cmds.push(AppCommand::Show(View::Train));
                    }
                }
            });
        });
    }
}

impl NetloomApp {
    /// "training #2: epoch 3/10, loss 0.412" while a run is in flight.
    fn running_run(&self) -> Option<String> {
        if !self.training.busy() {
            return None;
        }
        let run = self.training.runs().last()?;
        let paused = if self.training.paused() {
            " (paused)"
        } else {
            ""
        };
        let number = run.name.split_whitespace().next().unwrap_or("");
        Some(match (&run.progress, run.losses.last()) {
            (Some(p), Some([_, loss])) => format!(
                "⏵ training {number}{paused}: epoch {}/{}, loss {loss:.3}",
                p.epoch, run.total_epochs
            ),
            _ => format!("⏵ training {number}: loading data and compiling…"),
        })
    }
}

/// A message across the top of either view until dismissed (or replaced); nothing when
/// `message` is None.
fn message_bar(
    ui: &mut egui::Ui,
    id: &'static str,
    message: &mut Option<String>,
    colour: egui::Color32,
) {
    let Some(text) = message.clone() else {
        return;
    };
    egui::Panel::top(id).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(colour, text);
            if ui.small_button("Dismiss").clicked() {
                *message = None;
            }
        });
    });
}

impl eframe::App for NetloomApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let started = std::time::Instant::now();
        let ctx = ui.ctx().clone();
        // Ctrl+= / Ctrl+− / Ctrl+0 zoom the canvas (see `help::SHORTCUTS`), not the whole UI.
        if ctx.options(|o| o.zoom_with_keyboard) {
            ctx.options_mut(|o| o.zoom_with_keyboard = false);
        }
        if let Some(stats) = &mut self.frame_stats {
            // cpu_usage is the previous frame's time in `ui`; redraw continuously to measure.
            if let Some(t) = frame.info().cpu_usage {
                stats.push(t, self.training.busy());
            }
            stats.start(started, self.training.busy());
            ctx.request_repaint();
        }
        self.restore_weights_now(&ctx);
        let mut cmds = self.input_commands(&ctx);
        self.autosave.tick(&self.doc.design, self.doc.dirty);
        self.dialogs(&ctx, &mut cmds);
        if let Some((purpose, path)) = self.file_dialogs.show(&ctx) {
            cmds.push(AppCommand::Chosen(purpose, path));
        }
        self.training.drain(std::time::Duration::from_millis(8));
        self.show_export_result();
        self.poll_import();
        self.save_screenshot(&ctx);
        self.bars(ui, &mut cmds);
        match self.view {
            View::Design => views::design::show(self, ui, &mut cmds),
            View::Train => views::train::show(self, ui, &mut cmds),
            View::Experiments => views::experiments::show(self, ui, &mut cmds),
            View::Learn => views::learn::show(self, ui, &mut cmds),
        }
        if self.export.open {
            self.export_window(&ctx, &mut cmds);
        }
        self.about_window(&ctx);
        self.import_report_window(&ctx);
        self.help_windows(&ctx);
        self.end_frame(&ctx, cmds);
        let busy = self.training.busy();
        if let Some(stats) = &mut self.frame_stats {
            stats.push_ui(started.elapsed().as_secs_f32(), busy);
        }
        if let Some(frames) = &mut self.exit_after_first_frame {
            // The first frame has been painted once `ui` runs a second time.
            *frames += 1;
            if *frames >= 2 {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            } else {
                ctx.request_repaint();
            }
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, "recent_files", &self.recent);
        eframe::set_value(storage, "recent_data", &self.training.recent_data());
        eframe::set_value(storage, "view", &self.view);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(stats) = &mut self.frame_stats {
            #[allow(clippy::print_stderr)] // asked for on the command line, read on stderr
            {
                eprintln!("netloom frame times (CPU per frame)\n{}", stats.report());
            }
        }
        // A clean exit: nothing left to recover (unsaved work was deliberately discarded).
        self.autosave.clear();
    }
}

/// The window's icon, from the same artwork as the installers' (assets/icons).
fn window_icon() -> egui::IconData {
    // The PNG is compiled in and known to decode; an empty icon (the desktop's default) would
    // only follow a broken build, never a user's input.
    eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icons/netloom-256.png"))
        .unwrap_or_default()
}

/// Opens the app window and runs it until closed; `frame_stats` measures frame times, and
/// `exit_after_first_frame` closes it once the first frame is on screen (the start-up benchmark,
/// scripts/bench-startup.sh).
pub fn run(
    path: Option<PathBuf>,
    frame_stats: bool,
    exit_after_first_frame: bool,
) -> eframe::Result {
    let mut app = NetloomApp::new(path);
    if frame_stats {
        app.frame_stats = Some(FrameStats::default());
    }
    if exit_after_first_frame {
        app.exit_after_first_frame = Some(0);
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(app.title())
            .with_inner_size([1280.0, 800.0])
            .with_drag_and_drop(true)
            // Wayland matches the window to netloom.desktop by this id (packaging/linux).
            .with_app_id("netloom")
            .with_icon(window_icon()),
        ..Default::default()
    };
    let data_dir = eframe::storage_dir("netloom");
    crash::install(data_dir.clone());
    eframe::run_native(
        "netloom",
        options,
        Box::new(|cc| Ok(Box::new(app.with_storage(cc.storage, data_dir)))),
    )
}
