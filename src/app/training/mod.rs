//! The app's side of training: the data and device chosen, the trainer handle, and the
//! history of every run while the app is open (so runs can be overlaid).
//!
//! Runs, the preview's data and weights checks are all jobs of the one trainer handle; each
//! frame drains its event stream within a small time budget and hands each event to the job
//! it belongs to (by its run id). Plots only read the histories.

mod events;
mod pretrained;
mod preview;
mod run_dir;
pub mod run_store;
mod runs_folder;
mod textures;

pub use pretrained::{Pretrained, WeightsChoice};
pub use preview::Preview;
pub use run_dir::run_dir_name;
pub use textures::{Textures, ViewTextures, texture};

use crate::data::DataSpec;
use crate::design::{DataSettings, Design, TrainingSettings};
use crate::engine::{
    Command, DataSource, DeviceChoice, Notify, RunHistory, RunId, RunOptions, RunRequest, Trainer,
};
use crate::export::{ExportRequest, ExportSummary};
use std::path::PathBuf;
use std::sync::Arc;

/// What the Train view asks for. `Run` actions change only the training side and go to
/// [`Training::apply`]; the rest need the app (a file dialog, or an undoable design edit).
#[derive(Clone, Debug)]
pub enum TrainAction {
    /// An action for the training side.
    Run(RunAction),
    /// Ask for a folder of images.
    PickFolder,
    /// Ask for a table (CSV or TSV).
    PickTable,
    /// Ask for a segmentation folder (images/ and masks/).
    PickMasks,
    /// New training settings (part of the design, so undoable).
    Settings(TrainingSettings),
    /// New preprocessing/augmentation settings (part of the design, so undoable).
    DataSettings(DataSettings),
    /// Save every run's metrics as CSV.
    SaveCsv,
    /// Save the plots (the window) as PNG.
    SavePng,
    /// Ask for a weights file to start from.
    PickWeights,
    /// Give the last Linear this many outputs; it is re-initialised.
    ReplaceHead(u64),
    /// Make the vector Input this many features wide (a table's encoded width).
    FitInput(u64),
    /// Make the design's head a regression's: the last Linear gives 1 output and the Output's
    /// loss is MSE (one undoable edit).
    FitRegression,
    /// Show a run's folder in the file manager.
    OpenFolder(PathBuf),
    /// Delete the saved run folders older than the newest this many (this session's stay).
    DeleteOldRuns(usize),
    /// How many of the newest saved runs "delete old runs" keeps.
    KeepRuns(usize),
    /// Open the Learn view's activations lesson (from a dead-ReLU warning).
    ExplainActivations,
}

/// What [`Training`] does by itself: runs, data and device choices, views, the weights review.
#[derive(Clone, Debug)]
pub enum RunAction {
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
    Data(DataSpec),
    /// Train on another device.
    Device(DeviceChoice),
    /// Train with this many CPU threads (None: what the machine offers, fewer while it is
    /// busy).
    Threads(Option<usize>),
    /// Show this block's activations.
    Watch(String),
    /// Show this conv block's feature maps.
    WatchConv(String),
    /// Draw the augmentation preview again with another seed.
    Reroll,
    /// Show the mapping of the weights in use again.
    ReviewWeights,
    /// Load (true) or leave out (false) a node's matched weights.
    LoadNode(String, bool),
    /// Start runs from the reviewed weights.
    UseWeights,
    /// Start runs from a fresh initialisation again.
    ClearWeights,
}

impl From<RunAction> for TrainAction {
    fn from(action: RunAction) -> Self {
        Self::Run(action)
    }
}

/// The training side of the app.
pub struct Training {
    data: DataSpec,
    device: DeviceChoice,
    /// CPU threads; None: engine::cpus's budget, tuned while the machine is busy.
    threads: Option<usize>,
    runs: Vec<RunHistory>,
    trainer: Option<Trainer>,
    repaint: Option<Notify>,
    /// The run in flight (its job id), if any.
    current: Option<RunId>,
    /// The request of the latest run, for Continue.
    last_request: Option<RunRequest>,
    textures: Textures,
    watched: Option<String>,
    watched_conv: Option<String>,
    preview: Preview,
    runs_dir: Option<PathBuf>,
    pretrained: Pretrained,
    pretrained_error: Option<String>,
    /// Why the last Train press never became a run (the data would not load, say).
    start_error: Option<String>,
    /// What the runs folder holds, measured when it may have changed.
    usage: Option<run_store::Usage>,
    /// How many of the newest saved runs "delete old runs" keeps.
    pub keep_runs: usize,
    /// Data sources from disk used before (spec text), newest first: offered again.
    recent_data: Vec<String>,
    /// The export being written on a helper thread, if any.
    exporting: Option<crate::jobs::Job<ExportSummary>>,
}

impl Default for Training {
    fn default() -> Self {
        Training {
            data: DataSpec::BuiltinFashionMnist,
            device: DeviceChoice::Auto,
            threads: None,
            runs: Vec::new(),
            trainer: None,
            repaint: None,
            current: None,
            last_request: None,
            textures: Textures::default(),
            watched: None,
            watched_conv: None,
            preview: Preview::default(),
            runs_dir: None,
            pretrained: Pretrained::None,
            recent_data: Vec::new(),
            pretrained_error: None,
            start_error: None,
            exporting: None,
            usage: None,
            keep_runs: 5,
        }
    }
}

impl Training {
    /// The data runs train on.
    pub fn data(&self) -> &DataSpec {
        &self.data
    }

    /// The default data for a design just opened (see [`DataSpec::default_for`]).
    pub fn choose_data_for(&mut self, design: &Design) {
        self.data =
            DataSpec::default_for(design.input_shape()).unwrap_or(DataSpec::BuiltinFashionMnist);
    }

    /// The shape of the data the preview holds for the chosen data, once it has loaded.
    pub fn preview_shape(&self) -> Option<crate::design::Shape> {
        self.preview.current(&self.data).map(|d| d.shape)
    }

    /// Data sources used before that come from disk, newest first (as spec text).
    pub fn recent_data(&self) -> &[String] {
        &self.recent_data
    }

    /// Puts the chosen data first among the recent sources, when it comes from disk.
    pub fn remember_data(&mut self) {
        if self.data.path().is_some() {
            let spec = self.data.unconverted().to_spec();
            self.recent_data.retain(|s| *s != spec);
            self.recent_data.insert(0, spec);
            self.recent_data.truncate(8);
        }
    }

    /// Restores the recent data sources a session saved.
    pub fn set_recent_data(&mut self, recent: Vec<String>) {
        self.recent_data = recent;
    }

    /// Trains on `spec` from now (a design reopened names its data).
    pub fn set_data(&mut self, spec: DataSpec) {
        self.data = spec;
    }

    /// Forgets the pretrained weights (a design opened without any).
    pub fn clear_weights(&mut self) {
        self.pretrained = Pretrained::None;
        self.pretrained_error = None;
    }

    /// The device runs train on.
    pub fn device(&self) -> DeviceChoice {
        self.device
    }

    /// The CPU threads asked for (None: chosen by netloom).
    pub fn threads(&self) -> Option<usize> {
        self.threads
    }

    /// All runs of this session, oldest first.
    pub fn runs(&self) -> &[RunHistory] {
        &self.runs
    }

    /// The textures of the latest run's images.
    pub fn textures(&self) -> &Textures {
        &self.textures
    }

    /// The block whose activations are shown, and the conv whose feature maps are.
    pub fn watched(&self) -> (Option<&str>, Option<&str>) {
        (self.watched.as_deref(), self.watched_conv.as_deref())
    }

    /// Shows `name`'s activations (and its feature maps, when it is a convolution).
    pub fn watch(&mut self, name: &str, conv: bool) {
        if self.watched.as_deref() != Some(name) {
            self.watched = Some(name.to_owned());
            if conv {
                self.watched_conv = Some(name.to_owned());
            }
        }
    }

    /// The augmentation preview.
    pub fn preview(&self) -> &Preview {
        &self.preview
    }

    /// The pretrained weights' state.
    pub fn pretrained(&self) -> &Pretrained {
        &self.pretrained
    }

    /// Why the last weights file could not be used.
    pub fn pretrained_error(&self) -> Option<&str> {
        self.pretrained_error.as_deref()
    }

    /// The weights reviewed or in use, to change which nodes load.
    pub fn weights_choice_mut(&mut self) -> Option<&mut WeightsChoice> {
        self.pretrained.choice_mut()
    }

    /// True while a run is loading or training.
    pub fn busy(&self) -> bool {
        self.runs.last().is_some_and(RunHistory::is_active)
    }

    /// True while paused (the trainer's own flag: the pause is kept in one place).
    pub fn paused(&self) -> bool {
        self.busy() && self.trainer.as_ref().is_some_and(Trainer::is_paused)
    }

    /// Whether the last run can carry on from its checkpoint as a run of `design`, the one
    /// open now: it was stopped, has a folder, and trained the same network (a run of another
    /// design, opened since, is not offered).
    pub fn can_continue(&self, design: &Design) -> bool {
        !self.busy()
            && self
                .runs
                .last()
                .is_some_and(|r| r.stopped && r.dir.is_some())
            && self
                .last_request
                .as_ref()
                .is_some_and(|r| r.design.same_network(design))
    }

    /// Every run's metrics as CSV (what "Save metrics (CSV)" writes).
    pub fn metrics_csv(&self) -> String {
        crate::engine::metrics_csv(&self.runs)
    }

    /// Carries out what the Train view asked for that concerns training alone; the app
    /// handles the rest (dialogs, design edits). Errors are kept for the view to show.
    pub fn apply(&mut self, action: RunAction, design: &Design, ctx: &egui::Context) {
        self.connect(ctx);
        match action {
            RunAction::Start => self.start(design),
            RunAction::Pause => self.control(Command::Pause),
            RunAction::Resume => self.control(Command::Resume),
            RunAction::Stop => self.control(Command::Stop),
            RunAction::Continue => self.continue_last(design),
            RunAction::Data(d) => self.data = d,
            RunAction::Device(d) => self.device = d,
            RunAction::Threads(n) => self.threads = n,
            RunAction::Watch(name) => self.watched = Some(name),
            RunAction::WatchConv(name) => self.watched_conv = Some(name),
            RunAction::Reroll => self.preview.seed = self.preview.seed.wrapping_add(1),
            RunAction::ReviewWeights => self.pretrained.review(),
            RunAction::UseWeights => self.pretrained.accept(),
            RunAction::LoadNode(node, on) => {
                if let Pretrained::Review(w) = &mut self.pretrained {
                    w.set_loaded(node, on);
                }
            }
            RunAction::ClearWeights => {
                self.pretrained = Pretrained::None;
                self.pretrained_error = None;
            }
        }
    }

    /// Remembers how to wake the UI, for the trainer handle made on first use. An event asks
    /// for a frame within 33 ms, not at once: a run sends one per step, hundreds a second, and
    /// a window redrawn for each took, where it is drawn on the CPU (a VM, a remote desktop,
    /// Xvfb), the cores the training needed; 30 frames a second keep the plots live.
    fn connect(&mut self, ctx: &egui::Context) {
        if self.repaint.is_none() {
            let ctx = ctx.clone();
            self.repaint = Some(Arc::new(move || {
                ctx.request_repaint_after(std::time::Duration::from_millis(33));
            }));
        }
    }

    /// The trainer handle, started on first use.
    fn trainer(&mut self) -> Result<&Trainer, String> {
        if self.trainer.is_none() {
            let t = Trainer::spawn(self.repaint.clone(), true)
                .map_err(|e| format!("could not start the trainer: {e}"))?;
            self.trainer = Some(t);
        }
        self.trainer
            .as_ref()
            .ok_or_else(|| "could not start the trainer".to_owned())
    }

    /// The chosen data, once the preview has loaded it.
    pub fn preview_data(&self) -> Option<&crate::data::Dataset> {
        self.preview.current(&self.data)
    }

    /// Why the last Train press did not become a run, if it didn't.
    pub fn start_error(&self) -> Option<&str> {
        self.start_error.as_deref()
    }

    /// Why the chosen data can't train `design`, checked as soon as the data has loaded (for
    /// the preview), so Train is disabled with the reason rather than failing when pressed.
    /// The messages are the engine's own.
    pub fn data_mismatch(
        &self,
        design: &Design,
        analysis: &crate::design::Analysis,
    ) -> Option<String> {
        self.mismatch(design, analysis).map(|(_, full)| full)
    }

    /// The same, in a few words for the status bar ("data 1×28×28 doesn't fit the 3×32×32
    /// input"), so it never says "valid" alone while the Train view says the data won't do.
    pub fn data_mismatch_short(
        &self,
        design: &Design,
        analysis: &crate::design::Analysis,
    ) -> Option<(String, String)> {
        self.mismatch(design, analysis)
    }

    /// What doesn't fit: a few words, and the whole sentence with what to change
    /// ([`crate::data::fit`], the rule a run checks too).
    fn mismatch(
        &self,
        design: &Design,
        analysis: &crate::design::Analysis,
    ) -> Option<(String, String)> {
        let data = self.preview.current(&self.data)?;
        crate::data::fit::check(design, analysis, data)
            .err()
            .map(|m| (m.short(), m.to_string()))
    }

    /// Starts a run of a copy of `design`. The data comes from the preview when it holds the
    /// same data at the design's input shape; otherwise the trainer loads it. The UI never
    /// waits for either. With a runs folder, the run keeps its checkpoints there.
    fn start(&mut self, design: &Design) {
        if self.busy() {
            return;
        }
        self.start_error = None;
        let t = &design.training;
        let number = self.runs.len() + 1;
        let name = format!("#{number} {:?} lr {}", t.optimizer, t.learning_rate).to_lowercase();
        let dir = self
            .runs_dir
            .as_ref()
            .map(|d| d.join(run_dir_name(std::time::SystemTime::now(), number)));
        let mut run = RunHistory::new(name, t.epochs, dir.clone());
        run.about = self.about(design);
        run.network = Some(design.clone());
        self.runs.push(run);
        let data = match self.preview.loaded(&self.data, design.input_shape()) {
            Some(loaded) => DataSource::Loaded(loaded, Some(self.data.clone())),
            None => DataSource::Spec(self.data.clone()),
        };
        let request = RunRequest {
            design: design.clone(),
            data,
            options: RunOptions {
                device: self.device,
                threads: self.threads,
                out_dir: dir,
                leave_core_for_ui: true,
                stats_every: 20,
                ..RunOptions::default()
            },
            init: self.pretrained.init(),
        };
        self.launch(request);
    }

    /// What a run of `design` on the chosen data is of, for telling runs apart (see
    /// `RunHistory::about`): the network (numbered in the order this session met it), the
    /// data, and the settings people compare.
    fn about(&self, design: &Design) -> Vec<(String, String)> {
        let mut networks: Vec<&Design> = Vec::new();
        for r in &self.runs {
            if let Some(n) = &r.network
                && !networks.iter().any(|m| m.same_network(n))
            {
                networks.push(n);
            }
        }
        let number = networks
            .iter()
            .position(|m| m.same_network(design))
            .unwrap_or(networks.len())
            + 1;
        let params = crate::design::analyse(design).totals.params;
        let t = &design.training;
        vec![
            (
                "network".to_owned(),
                format!(
                    "design {number} ({} params)",
                    crate::units::thousands(params)
                ),
            ),
            ("data".to_owned(), self.data.label()),
            (
                "optimizer".to_owned(),
                format!("{:?}", t.optimizer).to_lowercase(),
            ),
            ("lr".to_owned(), t.learning_rate.to_string()),
            ("batch".to_owned(), t.batch_size.to_string()),
            ("weight decay".to_owned(), t.weight_decay.to_string()),
            ("epochs".to_owned(), t.epochs.to_string()),
            ("seed".to_owned(), t.seed.to_string()),
        ]
    }

    /// Continues the latest run from its checkpoint, on the data and design it started with;
    /// the plots carry on where they stopped.
    fn continue_last(&mut self, design: &Design) {
        if !self.can_continue(design) {
            return;
        }
        let (Some(run), Some(mut request)) = (self.runs.last_mut(), self.last_request.clone())
        else {
            return;
        };
        run.resume();
        request.options.resume = true;
        request.init = None;
        self.launch(request);
    }

    fn launch(&mut self, request: RunRequest) {
        self.last_request = Some(request.clone());
        match self.trainer() {
            Ok(trainer) => self.current = Some(trainer.start(request)),
            Err(message) => {
                if let Some(r) = self.runs.last_mut() {
                    r.status = crate::engine::RunStatus::Failed(message);
                }
            }
        }
    }

    fn control(&mut self, command: Command) {
        if let Some(t) = &self.trainer {
            t.send(command);
        }
    }

    /// Writes `request` on a helper thread; [`Training::take_exported`] gives the result.
    pub fn export(&mut self, request: ExportRequest, ctx: &egui::Context) {
        self.connect(ctx);
        self.exporting = Some(crate::jobs::Job::spawn(
            "exporter",
            self.repaint.clone(),
            move |_| crate::export::export(&request).map_err(|e| e.to_string()),
        ));
    }

    /// True while an export is being written.
    pub fn exporting(&self) -> bool {
        self.exporting
            .as_ref()
            .is_some_and(crate::jobs::Job::is_pending)
    }

    /// How the last export ended, once.
    pub fn take_exported(&mut self) -> Option<Result<ExportSummary, String>> {
        match self.exporting.as_mut()?.poll() {
            crate::jobs::Poll::Done(result) => {
                self.exporting = None;
                Some(result)
            }
            crate::jobs::Poll::Working => None,
            crate::jobs::Poll::Taken => {
                self.exporting = None;
                None
            }
        }
    }

    /// Reads `path` and maps it onto `design` on a helper thread; the review follows.
    pub fn check_weights(
        &mut self,
        path: PathBuf,
        design: &Design,
        ctx: &egui::Context,
        restore: Option<Vec<String>>,
    ) {
        self.connect(ctx);
        self.pretrained_error = None;
        let (file, design) = (path.clone(), design.clone());
        let job = crate::jobs::Job::spawn("weights-check", self.repaint.clone(), move |_| {
            crate::engine::check_weights_file(&file)
                .and_then(|shapes| crate::engine::report_for(&design, &shapes, &[]))
                .map_err(|e| e.to_string())
        });
        self.pretrained = Pretrained::Checking(path, job, restore);
    }

    /// Keeps the preview's data loaded for the chosen data and redraws it when needed.
    /// Also makes textures of the latest run's images where they changed.
    pub fn update_views(&mut self, ctx: &egui::Context, design: &Design) {
        self.connect(ctx);
        self.textures.update(ctx, &self.runs);
        if self.preview.needs_load(&self.data) {
            let spec = self.data.clone();
            let (load, input) = (spec.clone(), design.input_shape());
            let job = crate::jobs::Job::spawn("data-loader", self.repaint.clone(), move |_| {
                load.load_for(input)
                    .map(std::sync::Arc::new)
                    .map_err(|e| e.to_string())
            });
            self.preview.loading(spec, job);
            return;
        }
        let choice = self.data.clone();
        self.preview.redraw(ctx, &choice, design);
    }
}
