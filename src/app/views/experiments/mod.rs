//! The Experiments view: the sweep editor on the left; in the middle the trials of the sweep
//! being run or opened (netloom's, or a Ray Tune export's results): a sortable, filterable
//! table with notes, parallel coordinates whose axes brush the table, one parameter against
//! the objective, and the curves of the trials picked, overlaid with the Train view's plots.
//! One file per panel; the sweep itself runs in the engine ([`crate::engine::sweep`]).

mod coords;
mod detail;
mod editor;
mod editor_view;
mod table;

use crate::app::NetloomApp;
use crate::app::actions::AppCommand;
use crate::design::Design;
use crate::design::sweep::Sweep;
use crate::engine::sweep::trials_csv::TrialRecord;
use crate::engine::sweep::{SweepEvent, SweepRun, SweepSetup, read_results};
use crate::engine::{DeviceChoice, EventKind, RunHistory};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The sweep shown: its definition, design, folder and trials, with the user's notes.
pub(super) struct Shown {
    sweep: Sweep,
    design: Design,
    folder: PathBuf,
    records: Vec<TrialRecord>,
    notes: BTreeMap<String, String>,
}

/// The view's state (not saved between sessions: a sweep lives in its folder).
#[derive(Default)]
pub struct Experiments {
    /// The sweep being written.
    editor: editor::Editor,
    /// The sweep training now, if any.
    run: Option<SweepRun>,
    /// The sweep shown (the one training, or one opened).
    shown: Option<Shown>,
    /// Each trial's curves: live from its events, or read from its run folder.
    histories: BTreeMap<usize, RunHistory>,
    table: table::TableState,
    /// Ranges brushed on the parallel coordinates' axes, by axis name.
    brushes: BTreeMap<String, (f64, f64)>,
    /// Trials picked in the table (their curves are overlaid).
    selected: BTreeSet<usize>,
    /// The parameter against the objective in the scatter.
    scatter: Option<String>,
    /// What went wrong last (a sweep that can't start, a folder that can't be read).
    error: Option<String>,
    /// What the sweep said (trials skipped, the concurrency chosen).
    notices: Vec<String>,
    /// "Train longer" adds this many epochs.
    longer: u64,
}

/// The notes file in a sweep folder: the table's "note" column.
const NOTES: &str = "notes.json";

impl Experiments {
    /// Whether a sweep is training.
    pub fn busy(&self) -> bool {
        self.run.as_ref().is_some_and(|r| !r.is_over())
    }

    /// Starts the editor's sweep of `design` on `data`, in a new folder under `runs_dir`.
    fn start(
        &mut self,
        design: &Design,
        data: &crate::data::DataSpec,
        runs_dir: Option<&Path>,
        device: DeviceChoice,
        ctx: &egui::Context,
    ) {
        self.error = None;
        let sweep = match self
            .editor
            .sweep()
            .and_then(|s| check_addresses(&s, design).map(|()| s))
        {
            Ok(s) => s,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        let base = runs_dir.map_or_else(
            || std::env::temp_dir().join("netloom-sweeps"),
            Path::to_path_buf,
        );
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let folder = (0..)
            .map(|k| {
                base.join(format!(
                    "sweep-{stamp}{}",
                    if k == 0 {
                        String::new()
                    } else {
                        format!("-{k}")
                    }
                ))
            })
            .find(|p| !p.exists())
            .unwrap_or_else(|| base.join("sweep"));
        let setup = SweepSetup {
            sweep: sweep.clone(),
            design: design.clone(),
            data: data.clone(),
            out: folder.clone(),
            parallel: None,
            threads: None,
            device,
        };
        let repaint = ctx.clone();
        let notify: crate::engine::Notify = std::sync::Arc::new(move || repaint.request_repaint());
        match SweepRun::create(setup, Some(notify)) {
            Ok(run) => {
                self.show_sweep(sweep, design.clone(), folder, run.records().to_vec());
                self.run = Some(run);
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn show_sweep(
        &mut self,
        sweep: Sweep,
        design: Design,
        folder: PathBuf,
        records: Vec<TrialRecord>,
    ) {
        let notes = crate::fsio::read_regular_to_string(&folder.join(NOTES))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        self.scatter = sweep.parameters.keys().next().cloned();
        self.shown = Some(Shown {
            sweep,
            design,
            folder,
            records,
            notes,
        });
        self.histories.clear();
        self.brushes.clear();
        self.selected.clear();
        self.notices.clear();
    }

    /// Writes the editor's sweep to `path`, naming `design_file` (the open design's file,
    /// relative to the sweep's folder when it lies there) and `data`.
    pub fn save_file(
        &mut self,
        path: &Path,
        design_file: Option<&Path>,
        data: &crate::data::DataSpec,
    ) {
        let mut sweep = match self.editor.sweep() {
            Ok(s) => s,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        let folder = path.parent().unwrap_or(Path::new(""));
        // Relative to the sweep's folder when the design lies in it, else absolute (a design
        // opened by a relative path is relative to where netloom started, not to the sweep).
        sweep.design = design_file.map(|d| {
            let d = std::path::absolute(d).unwrap_or_else(|_| d.to_path_buf());
            let folder = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
            d.strip_prefix(&folder).unwrap_or(&d).display().to_string()
        });
        sweep.data = Some(data.resolved().to_spec());
        match crate::fsio::atomic_write_bytes(path, sweep.to_json().as_bytes()) {
            Ok(()) => self.error = None,
            Err(e) => self.error = Some(format!("can't save {} ({e})", path.display())),
        }
    }

    /// Reads the sweep file `path` into the editor.
    pub fn open_file(&mut self, path: &Path) {
        let read = crate::fsio::read_regular_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Sweep::from_json(&t).map_err(|e| e.to_string()));
        match read {
            Ok(sweep) => {
                self.editor = editor::Editor::from_sweep(&sweep);
                self.error = None;
            }
            Err(e) => self.error = Some(format!("{}: {e}", path.display())),
        }
    }

    /// Opens the sweep folder `dir` (netloom's, or tune.py's results).
    pub fn open_folder(&mut self, dir: &Path) {
        if self.busy() {
            self.error = Some("a sweep is training: stop it before opening another".to_owned());
            return;
        }
        match read_results(dir) {
            Ok(r) => {
                self.run = None;
                self.error = None;
                self.show_sweep(r.sweep, r.design, dir.to_owned(), r.records);
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// Takes in what the training sweep did since the last frame.
    pub fn poll(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        for event in run.poll(std::time::Duration::ZERO) {
            match event {
                SweepEvent::Started { trial, .. } => {
                    let name = run.records()[trial].trial.name();
                    let dir = run.out().join(&name);
                    let epochs = run.sweep().epochs.unwrap_or(1);
                    self.histories
                        .entry(trial)
                        .or_insert_with(|| RunHistory::new(name, epochs, Some(dir)));
                }
                SweepEvent::Epoch { trial, metrics } => {
                    if let Some(h) = self.histories.get_mut(&trial) {
                        h.apply(&EventKind::Epoch(*metrics));
                    }
                }
                SweepEvent::Run { trial, kind } => {
                    if let Some(h) = self.histories.get_mut(&trial) {
                        h.apply(&kind);
                    }
                }
                SweepEvent::Notice(text) => self.notices.push(text),
                SweepEvent::Ended { .. } => {}
            }
        }
        if let Some(shown) = self.shown.as_mut() {
            shown.records = run.records().to_vec();
        }
    }

    /// The curves of trial `i`: live, or read from its run folder once.
    fn history(&mut self, i: usize) -> Option<&RunHistory> {
        let shown = self.shown.as_ref()?;
        if let std::collections::btree_map::Entry::Vacant(slot) = self.histories.entry(i) {
            let name = shown.records.get(i)?.trial.name();
            let dir = shown.folder.join(&name);
            slot.insert(RunHistory::from_metrics_csv(name, &dir).ok()?);
        }
        self.histories.get(&i)
    }

    /// Saves the notes beside trials.csv.
    fn save_notes(&mut self) {
        let Some(shown) = &self.shown else { return };
        let text = serde_json::to_string_pretty(&shown.notes).unwrap_or_default();
        if let Err(e) = crate::fsio::atomic_write_bytes(&shown.folder.join(NOTES), text.as_bytes())
        {
            self.error = Some(format!(
                "can't save the notes in {} ({e})",
                shown.folder.display()
            ));
        }
    }

    /// Trains trial `i` on for `self.longer` more epochs, in the sweep's folder.
    fn train_longer(&mut self, i: usize, ctx: &egui::Context) {
        if self.run.is_none()
            && let Some(shown) = &self.shown
        {
            let repaint = ctx.clone();
            let notify: crate::engine::Notify =
                std::sync::Arc::new(move || repaint.request_repaint());
            match SweepRun::resume(&shown.folder, None, None, DeviceChoice::Auto, Some(notify)) {
                Ok(run) => self.run = Some(run),
                Err(e) => {
                    self.error = Some(e.to_string());
                    return;
                }
            }
        }
        if let Some(run) = self.run.as_mut()
            && let Err(e) = run.train_longer(i, self.longer.max(1))
        {
            self.error = Some(e);
        }
        self.histories.remove(&i);
    }
}

#[cfg(any(test, feature = "testing"))]
impl Experiments {
    pub(crate) fn visible_for_tests(&self) -> Vec<(String, Option<f64>)> {
        let Some(shown) = &self.shown else {
            return Vec::new();
        };
        table::visible(self)
            .into_iter()
            .map(|i| {
                let r = &shown.records[i];
                (r.trial.name(), r.best(&shown.sweep).map(|b| b.0))
            })
            .collect()
    }

    pub(crate) fn error_for_tests(&self) -> Option<String> {
        self.error.clone()
    }

    pub(crate) fn set_epochs_for_tests(&mut self, epochs: u64) {
        self.editor.epochs = epochs;
    }
}

/// Refuses a sweep whose parameters name nothing in `design`, before anything trains (each
/// parameter's first value written into a copy).
fn check_addresses(sweep: &Sweep, design: &Design) -> Result<(), String> {
    let first = sweep
        .trials()
        .into_iter()
        .next()
        .ok_or("the sweep has no trials")?;
    let mut d = design.clone();
    for (address, value) in &first.values {
        crate::design::sweep::apply::set(&mut d, address, value)?;
    }
    Ok(())
}

/// Draws the Experiments view.
pub(in crate::app) fn show(app: &mut NetloomApp, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
    let ctx = ui.ctx().clone();
    app.experiments.poll();
    if app.experiments.busy() {
        ctx.request_repaint_after(std::time::Duration::from_millis(200));
    }
    egui::Panel::left("sweep_editor").default_size(290.0).show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            let busy = app.experiments.busy();
            match editor_view::show(ui, &mut app.experiments.editor, &app.doc.design, busy) {
                Some(editor_view::Asked::Run) => {
                    let runs = app.training.runs_dir().map(Path::to_path_buf);
                    let data = app.training.data().clone();
                    let device = app.training.device();
                    app.experiments.start(&app.doc.design, &data, runs.as_deref(), device, &ctx);
                }
                Some(editor_view::Asked::Save) => cmds.push(AppCommand::SaveSweepDialog),
                Some(editor_view::Asked::Open) => cmds.push(AppCommand::OpenSweepDialog),
                None => {}
            }
            if busy && ui.button("⏹ Stop the sweep").on_hover_text("Every trial stops after its batch, with a checkpoint; the sweep folder resumes with netloom sweep --resume").clicked()
                && let Some(run) = app.experiments.run.as_mut()
            {
                run.stop();
            }
            ui.separator();
            if ui.button("Open a sweep folder…").on_hover_text("A folder netloom sweep or an exported tune.py wrote (trials.csv, sweep.json)").clicked() {
                cmds.push(AppCommand::OpenSweepFolder);
            }
            if let Some(e) = &app.experiments.error {
                ui.colored_label(crate::ui::theme::ERROR, e);
            }
        });
    });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| results(app, ui, cmds, &ctx));
    });
}

/// The middle: the shown sweep's table, coordinates, scatter and curves.
fn results(
    app: &mut NetloomApp,
    ui: &mut egui::Ui,
    cmds: &mut Vec<AppCommand>,
    ctx: &egui::Context,
) {
    let ex = &mut app.experiments;
    let Some(shown) = ex.shown.as_ref() else {
        ui.label(
            egui::RichText::new("Set up a sweep on the left and run it, or open a sweep folder: every trial appears here, live, to sort, filter and compare.")
                .color(crate::ui::theme::MUTED),
        );
        return;
    };
    let done = shown.records.iter().filter(|r| r.status.is_final()).count();
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("{} trials", shown.records.len()));
        ui.label(format!("({done} finished) in {}", shown.folder.display()));
        if let Some(run) = &ex.run
            && ex.run.as_ref().is_some_and(|r| !r.is_over())
        {
            ui.label(format!("· {} training at once", run.at_once()));
        }
    });
    for n in &ex.notices {
        ui.label(
            egui::RichText::new(n)
                .small()
                .color(crate::ui::theme::MUTED),
        );
    }
    let notes_changed = table::show(ui, ex);
    if notes_changed {
        ex.save_notes();
    }
    coords::show(ui, ex);
    detail::show(ui, ex, cmds, ctx);
}
