//! The app's side of training: the data choice, the trainer thread, and the history of every
//! run while the app is open (so runs can be overlaid). Each frame drains the trainer's events
//! within a small time budget; plots only read the history.

use crate::data::augment::Rgba;
use crate::data::{DataSpec, Dataset, FolderOptions, Toy, ToyOptions};
use crate::design::{Design, Shape};
use crate::engine::{
    Command, DeviceChoice, EpochMetrics, Event, Job, NodeStats, RunOptions, Trainer, WeightsReport,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{Duration, Instant};

/// Where training data comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum DataChoice {
    /// The built-in Fashion-MNIST subset.
    Builtin,
    /// A generated 2-d set.
    Toy(Toy),
    /// A folder of images, one subfolder per class.
    Folder(PathBuf),
}

impl DataChoice {
    /// The default for a design: images → built-in, 2 features → the spiral.
    pub fn default_for(input: Option<Shape>) -> DataChoice {
        match input.and_then(|s| s.as_vector()) {
            Some(_) => DataChoice::Toy(Toy::Spiral),
            None => DataChoice::Builtin,
        }
    }

    /// A short label.
    pub fn label(&self) -> String {
        match self {
            DataChoice::Builtin => "Fashion-MNIST (built-in)".to_owned(),
            DataChoice::Toy(t) => format!("toy: {}", t.name()),
            DataChoice::Folder(p) => format!("folder: {}", p.display()),
        }
    }

    fn spec(&self) -> DataSpec {
        match self {
            DataChoice::Builtin => DataSpec::BuiltinFashionMnist,
            DataChoice::Toy(t) => DataSpec::Toy(*t, ToyOptions::default()),
            DataChoice::Folder(p) => DataSpec::Folder(p.clone()),
        }
    }
}

/// What the net does with validation images at the end of an epoch (see `Event::Views`).
pub struct Views {
    /// 1-based epoch.
    pub epoch: u64,
    /// `(conv node, one image per channel)`.
    pub feature_maps: Vec<(String, Vec<Rgba>)>,
    /// The first convolution's kernels.
    pub filters: Vec<Rgba>,
    /// `(image, true, predicted)`.
    pub predictions: Vec<(Rgba, u32, u32)>,
}

/// Textures of [`Views`], made on the UI thread.
pub struct ViewTextures {
    /// Per conv node.
    pub maps: Vec<(String, Vec<egui::TextureHandle>)>,
    /// The first conv's kernels.
    pub filters: Vec<egui::TextureHandle>,
    /// `(image, true, predicted)`.
    pub predictions: Vec<(egui::TextureHandle, u32, u32)>,
}

/// Where a run is.
#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    /// Loading data or compiling.
    Starting,
    /// Training.
    Running,
    /// Ended normally or by Stop.
    Finished,
    /// Failed, with the reason.
    Failed(String),
}

/// Everything one run reported, kept while the app is open.
pub struct RunHistory {
    /// E.g. "#2 lenet5 · adam 0.002".
    pub name: String,
    /// (step, loss) per batch.
    pub losses: Vec<[f64; 2]>,
    /// Per-epoch metrics.
    pub epochs: Vec<EpochMetrics>,
    /// The latest histograms, gradient norms, dead ReLUs.
    pub stats: Vec<NodeStats>,
    /// The latest augmented inputs, and the step they were fed at.
    pub samples: Vec<crate::data::augment::Rgba>,
    /// The step of `samples`.
    pub samples_step: u64,
    /// Every histogram of every node, by node, oldest first (the last 200 of each).
    pub histograms: std::collections::BTreeMap<String, Vec<(u64, crate::engine::Histogram)>>,
    /// Class names of the data.
    pub classes: Vec<String>,
    /// The latest epoch-end views: (epoch, feature maps by conv, filters, predictions).
    pub views: Option<Views>,
    /// Progress: (epoch, step in epoch, steps per epoch, samples/s, ETA s).
    pub progress: Option<(u64, u64, u64, f64, f64)>,
    /// Epochs in the run.
    pub total_epochs: u64,
    /// The device it runs on.
    pub device: String,
    /// Where it is.
    pub status: RunStatus,
    /// Its run folder (checkpoints, metrics.csv), when the app has a runs folder.
    pub dir: Option<PathBuf>,
    /// The design it trains (a copy taken at Train), for Continue.
    pub design: Design,
    /// The data it trains on, for Continue.
    pub data: DataChoice,
    /// Stopped before its last epoch, with a checkpoint to continue from.
    pub stopped: bool,
    /// How the pretrained weights it started from mapped, if it started from some.
    pub weights: Option<crate::engine::WeightsReport>,
}

/// A run folder's name: the UTC start time, sortable, and the run's number in this session,
/// e.g. `2026-11-27_170355-2`.
pub fn run_dir_name(at: std::time::SystemTime, number: usize) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}_{:02}{:02}{:02}-{number}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// What the loader thread hands over: the data, or why it could not be read.
type Loaded = Result<Arc<Dataset>, String>;

/// Data on its way from the loader thread, with the job it is for.
type Loading = (Receiver<Loaded>, Design, RunOptions);

/// Loads `choice` on its own thread, sized for `design`'s input (folders are resized to it),
/// and calls `done` when the result is waiting in the returned channel.
fn spawn_loader(
    choice: &DataChoice,
    design: &Design,
    done: impl FnOnce() + Send + 'static,
) -> Result<Receiver<Loaded>, String> {
    let (tx, rx) = sync_channel(1);
    let spec = choice.spec();
    let input = input_shape(design);
    std::thread::Builder::new()
        .name("data-loader".to_owned())
        .spawn(move || {
            let folder = input.map_or_else(FolderOptions::default, |s| {
                FolderOptions::for_input(&s, crate::data::Fit::Resize)
            });
            let _ = tx.send(spec.load(&folder).map(Arc::new).map_err(|e| e.to_string()));
            done();
        })
        .map_err(|e| format!("could not start loading the data: {e}"))?;
    Ok(rx)
}

/// An egui texture of an RGBA image (crisp pixels: these are small images shown large).
fn texture(ctx: &egui::Context, name: String, img: &Rgba) -> egui::TextureHandle {
    ctx.load_texture(
        name,
        egui::ColorImage::from_rgba_unmultiplied([img.width, img.height], &img.pixels),
        egui::TextureOptions::NEAREST,
    )
}

/// The training side of the app.
pub struct Training {
    /// The data to train on.
    pub data: DataChoice,
    /// The device to train on.
    pub device: DeviceChoice,
    /// All runs of this session, oldest first.
    pub runs: Vec<RunHistory>,
    trainer: Option<Trainer>,
    loading: Option<Loading>,
    paused: bool,
    repaint: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Textures of the latest input samples: (run, step) they show, and the handles.
    pub sample_textures: Option<((usize, u64), Vec<egui::TextureHandle>)>,
    /// The block whose activations the histogram view shows.
    pub watched: Option<String>,
    /// Textures of the latest views: (run, epoch) they show.
    pub view_textures: Option<((usize, u64), ViewTextures)>,
    /// The conv block whose feature maps are shown.
    pub watched_conv: Option<String>,
    /// The augmentation preview.
    pub preview: Preview,
    /// Where runs keep their folders (the app's data dir); None keeps nothing on disk.
    pub runs_dir: Option<PathBuf>,
    /// Pretrained weights to start runs from.
    pub pretrained: Pretrained,
    /// Why the last weights file could not be used.
    pub pretrained_error: Option<String>,
}

/// Pretrained weights, from being checked against the design to being used by runs.
pub enum Pretrained {
    /// Runs start from a fresh initialisation.
    None,
    /// The file is being read and mapped on a thread.
    Checking(PathBuf, Receiver<Result<WeightsReport, String>>),
    /// The mapping is shown for review; nothing is applied yet.
    Review(WeightsChoice),
    /// Runs start from the matched weights.
    Using(WeightsChoice),
}

impl Pretrained {
    /// Shows the mapping of the weights in use again.
    pub fn review(&mut self) {
        *self = match std::mem::replace(self, Pretrained::None) {
            Pretrained::Using(w) => Pretrained::Review(w),
            other => other,
        };
    }

    /// Uses the reviewed weights for the next runs.
    pub fn accept(&mut self) {
        *self = match std::mem::replace(self, Pretrained::None) {
            Pretrained::Review(w) => Pretrained::Using(w),
            other => other,
        };
    }
}

/// A weights file, how it maps onto the design, and the nodes the user left out.
#[derive(Clone, Debug)]
pub struct WeightsChoice {
    /// The file.
    pub path: PathBuf,
    /// The mapping by name.
    pub report: WeightsReport,
    /// Nodes not to load even though they match (e.g. a head to re-initialise).
    pub skip: Vec<String>,
}

impl WeightsChoice {
    /// The matched tensors grouped by node: (node, tensors), in the design's order.
    pub fn matched_nodes(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for t in self
            .report
            .matched
            .iter()
            .map(|(n, _)| n)
            .chain(&self.report.skipped)
        {
            let n = crate::engine::node_of(t).to_owned();
            match out.iter_mut().find(|(m, _)| *m == n) {
                Some((_, count)) => *count += 1,
                None => out.push((n, 1)),
            }
        }
        out
    }

    /// How many matched tensors will load (those not left out).
    pub fn loaded(&self) -> usize {
        let left_out = |t: &str| crate::engine::is_skipped(t, &self.skip);
        self.report
            .matched
            .iter()
            .filter(|(t, _)| !left_out(t))
            .count()
    }
}

/// Originals next to their augmented versions, for the data settings.
#[derive(Default)]
pub struct Preview {
    data: Option<(DataChoice, Arc<Dataset>)>,
    loading: Option<(DataChoice, Receiver<Loaded>)>,
    key: String,
    /// The seed of the random draw; "Re-roll" changes it.
    pub seed: u64,
    /// (original, augmented) pairs.
    pub pairs: Vec<(egui::TextureHandle, egui::TextureHandle)>,
    /// Why there is no preview.
    pub note: Option<String>,
}

impl Preview {
    /// The number of classes of the loaded data, once it is loaded.
    pub fn classes(&self) -> Option<usize> {
        self.data.as_ref().map(|(_, d)| d.classes.len())
    }

    /// The data already loaded for `choice`, when it has the design's input shape.
    fn loaded(&self, choice: &DataChoice, input: Option<Shape>) -> Option<Arc<Dataset>> {
        let (c, data) = self.data.as_ref()?;
        (c == choice && input == Some(data.shape)).then(|| Arc::clone(data))
    }

    /// Loads `choice` in the background when it isn't loaded, and redraws the pairs when the
    /// data, the augmentation or the seed changed.
    pub fn update(&mut self, ctx: &egui::Context, choice: &DataChoice, design: &Design) {
        if let Some((c, rx)) = &self.loading
            && let Ok(result) = rx.try_recv()
        {
            match result {
                Ok(d) => self.data = Some((c.clone(), d)),
                Err(e) => self.note = Some(e),
            }
            self.loading = None;
        }
        let loaded = self.data.as_ref().is_some_and(|(c, _)| c == choice);
        let in_flight = self.loading.as_ref().is_some_and(|(c, _)| c == choice);
        if !loaded && !in_flight {
            let repaint = ctx.clone();
            match spawn_loader(choice, design, move || repaint.request_repaint()) {
                Ok(rx) => self.loading = Some((choice.clone(), rx)),
                Err(e) => self.note = Some(e),
            }
            return;
        }
        let Some((_, data)) = &self.data else { return };
        let key = format!(
            "{choice:?}{}{}",
            serde_json::to_string(&design.data.augmentation).unwrap_or_default(),
            self.seed
        );
        if key == self.key {
            return;
        }
        self.key = key;
        self.pairs.clear();
        self.note = None;
        if data.shape.as_image().is_none() {
            self.note = Some("the preview shows images; this data is vectors".to_owned());
            return;
        }
        let ops = design.data.augmentation.clone();
        let needs_basis = ops
            .iter()
            .any(|a| matches!(a, crate::design::Augment::PcaColor { .. }));
        let basis = if needs_basis {
            crate::data::augment::ColorBasis::fit(data).ok().flatten()
        } else {
            None
        };
        let result = crate::data::augment::Augmenter::new(ops, basis)
            .and_then(|a| crate::data::augment::preview(data, &a, 8, self.seed));
        match result {
            Ok(pairs) => {
                let tex = |name, img| texture(ctx, name, img);
                self.pairs = pairs
                    .iter()
                    .enumerate()
                    .map(|(i, (a, b))| (tex(format!("orig{i}"), a), tex(format!("aug{i}"), b)))
                    .collect();
            }
            Err(e) => self.note = Some(e.to_string()),
        }
    }
}

impl Default for Training {
    fn default() -> Self {
        Training {
            data: DataChoice::Builtin,
            device: DeviceChoice::Auto,
            runs: Vec::new(),
            trainer: None,
            loading: None,
            paused: false,
            repaint: None,
            sample_textures: None,
            watched: None,
            view_textures: None,
            watched_conv: None,
            preview: Preview::default(),
            runs_dir: None,
            pretrained: Pretrained::None,
            pretrained_error: None,
        }
    }
}

impl Training {
    /// True while a run is loading or training.
    pub fn busy(&self) -> bool {
        self.runs
            .last()
            .is_some_and(|r| matches!(r.status, RunStatus::Starting | RunStatus::Running))
    }

    /// Makes textures of the latest run's input samples when they changed.
    pub fn update_textures(&mut self, ctx: &egui::Context) {
        let Some((i, run)) = self.runs.iter().enumerate().next_back() else {
            return;
        };
        if run.samples.is_empty()
            || self
                .sample_textures
                .as_ref()
                .is_some_and(|(k, _)| *k == (i, run.samples_step))
        {
            return;
        }
        let handles = run
            .samples
            .iter()
            .enumerate()
            .map(|(j, img)| texture(ctx, format!("sample{j}"), img))
            .collect();
        self.sample_textures = Some(((i, run.samples_step), handles));
    }

    /// Every run's metrics as CSV: a row per step and per epoch, the run named in each row.
    pub fn metrics_csv(&self) -> String {
        let mut out =
            String::from("run,kind,epoch,step,loss,train_loss,train_acc,val_loss,val_acc\n");
        for run in &self.runs {
            let name = run.name.replace(',', ";");
            for [step, loss] in &run.losses {
                out += &format!("{name},step,,{step},{loss},,,,\n");
            }
            for m in &run.epochs {
                out += &format!(
                    "{name},epoch,{},{},,{},{},{},{}\n",
                    m.epoch, m.step, m.train_loss, m.train_acc, m.val_loss, m.val_acc
                );
            }
        }
        out
    }

    /// Makes textures of the latest run's epoch views when they changed.
    pub fn update_view_textures(&mut self, ctx: &egui::Context) {
        let Some((i, run)) = self.runs.iter().enumerate().next_back() else {
            return;
        };
        let Some(v) = &run.views else { return };
        if self
            .view_textures
            .as_ref()
            .is_some_and(|(k, _)| *k == (i, v.epoch))
        {
            return;
        }
        let tex = |name, img| texture(ctx, name, img);
        let textures = ViewTextures {
            maps: v
                .feature_maps
                .iter()
                .map(|(n, imgs)| {
                    (
                        n.clone(),
                        imgs.iter()
                            .enumerate()
                            .map(|(j, m)| tex(format!("fm-{n}-{j}"), m))
                            .collect(),
                    )
                })
                .collect(),
            filters: v
                .filters
                .iter()
                .enumerate()
                .map(|(j, m)| tex(format!("filter{j}"), m))
                .collect(),
            predictions: v
                .predictions
                .iter()
                .enumerate()
                .map(|(j, (m, t, p))| (tex(format!("pred{j}"), m), *t, *p))
                .collect(),
        };
        self.view_textures = Some(((i, v.epoch), textures));
    }

    /// True while paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Starts a run of a copy of `design`: the data loads on its own thread (or comes from the
    /// preview, when that holds the same data), then the trainer takes the job. The UI never
    /// waits for either. With a runs folder, the run keeps its checkpoints there.
    pub fn start(&mut self, design: &Design, ctx: &egui::Context) {
        if self.busy() {
            return;
        }
        let t = &design.training;
        let number = self.runs.len() + 1;
        let name = format!("#{number} {:?} lr {}", t.optimizer, t.learning_rate).to_lowercase();
        let dir = self
            .runs_dir
            .as_ref()
            .map(|d| d.join(run_dir_name(std::time::SystemTime::now(), number)));
        self.runs.push(RunHistory {
            name,
            losses: Vec::new(),
            epochs: Vec::new(),
            stats: Vec::new(),
            samples: Vec::new(),
            samples_step: 0,
            histograms: std::collections::BTreeMap::new(),
            classes: Vec::new(),
            views: None,
            progress: None,
            total_epochs: t.epochs,
            device: String::new(),
            status: RunStatus::Starting,
            dir: dir.clone(),
            design: design.clone(),
            data: self.data.clone(),
            stopped: false,
            weights: None,
        });
        let options = RunOptions {
            out_dir: dir,
            ..self.options()
        };
        self.launch(design.clone(), self.data.clone(), options, ctx);
    }

    /// True when the latest run was stopped early and kept a checkpoint to continue from.
    pub fn can_continue(&self) -> bool {
        !self.busy()
            && self
                .runs
                .last()
                .is_some_and(|r| r.stopped && r.dir.is_some())
    }

    /// Continues the latest run from its checkpoint, on the data and design it started with;
    /// the plots carry on where they stopped.
    pub fn continue_last(&mut self, ctx: &egui::Context) {
        if !self.can_continue() {
            return;
        }
        let options = self.options();
        let Some(run) = self.runs.last_mut() else {
            return;
        };
        run.status = RunStatus::Starting;
        run.stopped = false;
        let options = RunOptions {
            out_dir: run.dir.clone(),
            resume: true,
            ..options
        };
        let (design, data) = (run.design.clone(), run.data.clone());
        self.launch(design, data, options, ctx);
    }

    /// How the app runs the trainer: the chosen device, a core left to the UI, frequent stats,
    /// and the pretrained weights in use.
    fn options(&self) -> RunOptions {
        let (init_weights, init_skip) = match &self.pretrained {
            Pretrained::Using(w) => (Some(w.path.clone()), w.skip.clone()),
            _ => (None, Vec::new()),
        };
        RunOptions {
            device: self.device,
            leave_core_for_ui: true,
            stats_every: 20,
            init_weights,
            init_skip,
            ..RunOptions::default()
        }
    }

    /// Reads `path` and maps it onto `design` on a thread; the review follows.
    pub fn check_weights(&mut self, path: PathBuf, design: &Design, ctx: &egui::Context) {
        let (tx, rx) = sync_channel(1);
        let (file, design, repaint) = (path.clone(), design.clone(), ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("weights-check".to_owned())
            .spawn(move || {
                let report = crate::engine::read_weights(&file)
                    .and_then(|named| {
                        crate::engine::report_for(&design, &crate::engine::shapes_of(&named), &[])
                    })
                    .map_err(|e| e.to_string());
                let _ = tx.send(report);
                repaint.request_repaint();
            });
        match spawned {
            Ok(_) => self.pretrained = Pretrained::Checking(path, rx),
            Err(e) => self.pretrained_error = Some(format!("could not read the weights: {e}")),
        }
    }

    /// Takes in a finished weights check.
    fn poll_weights(&mut self) {
        if let Pretrained::Checking(path, rx) = &self.pretrained
            && let Ok(result) = rx.try_recv()
        {
            self.pretrained = match result {
                Ok(report) => Pretrained::Review(WeightsChoice {
                    path: path.clone(),
                    report,
                    skip: Vec::new(),
                }),
                Err(e) => {
                    self.pretrained_error = Some(e);
                    Pretrained::None
                }
            };
        }
    }

    /// Gets the data to the trainer: the preview's copy when it is the same data at the
    /// design's input shape, otherwise a fresh load on a thread.
    fn launch(
        &mut self,
        design: Design,
        data: DataChoice,
        options: RunOptions,
        ctx: &egui::Context,
    ) {
        let repaint_ctx = ctx.clone();
        let repaint: Arc<dyn Fn() + Send + Sync> = Arc::new(move || repaint_ctx.request_repaint());
        self.repaint = Some(Arc::clone(&repaint));
        let rx = match self.preview.loaded(&data, input_shape(&design)) {
            Some(loaded) => {
                let (tx, rx) = sync_channel(1);
                let _ = tx.send(Ok(loaded));
                rx
            }
            None => match spawn_loader(&data, &design, move || repaint()) {
                Ok(rx) => rx,
                Err(e) => return self.fail(e),
            },
        };
        self.loading = Some((rx, design, options));
    }

    fn fail(&mut self, message: String) {
        if let Some(r) = self.runs.last_mut() {
            r.status = RunStatus::Failed(message);
        }
    }

    /// Pause, resume or stop the run in progress.
    pub fn control(&mut self, command: Command) {
        match command {
            Command::Pause => self.paused = true,
            Command::Resume | Command::Stop => self.paused = false,
            Command::Start(_) => {}
        }
        if let Some(t) = &self.trainer {
            t.send(command);
        }
    }

    /// Takes in what happened since the last frame, spending at most `budget`.
    pub fn drain(&mut self, budget: Duration) {
        self.poll_weights();
        if let Some((rx, ..)) = &self.loading
            && let Ok(result) = rx.try_recv()
            && let Some((_, design, options)) = self.loading.take()
        {
            match result {
                Ok(data) => {
                    if let Some(r) = self.runs.last_mut() {
                        r.classes = data.classes.clone();
                    }
                    let job = Job {
                        design,
                        data,
                        options,
                    };
                    if self.trainer.is_none() {
                        match Trainer::spawn(self.repaint.clone()) {
                            Ok(t) => self.trainer = Some(t),
                            Err(e) => {
                                return self.fail(format!("could not start the trainer: {e}"));
                            }
                        }
                    }
                    if let Some(t) = &self.trainer {
                        t.send(Command::Start(Box::new(job)));
                    }
                }
                Err(e) => return self.fail(e),
            }
        }
        let Some(trainer) = &self.trainer else { return };
        let started = Instant::now();
        while started.elapsed() < budget {
            let Some(event) = trainer.try_recv() else {
                break;
            };
            let Some(run) = self.runs.last_mut() else {
                break;
            };
            match event {
                Event::WeightsLoaded(report) => run.weights = Some(report),
                Event::Compiled { device, .. } => {
                    run.device = device;
                    run.status = RunStatus::Running;
                }
                Event::Batch {
                    epoch,
                    step,
                    step_in_epoch,
                    steps_per_epoch,
                    loss,
                    samples_per_s,
                    eta_s,
                    ..
                } => {
                    run.losses.push([step as f64, f64::from(loss)]);
                    run.progress =
                        Some((epoch, step_in_epoch, steps_per_epoch, samples_per_s, eta_s));
                }
                Event::Epoch(m) => run.epochs.push(m),
                Event::Histograms { step, nodes } => {
                    for n in &nodes {
                        let h = run.histograms.entry(n.node.clone()).or_default();
                        h.push((step, n.activation.clone()));
                        if h.len() > 200 {
                            h.remove(0);
                        }
                    }
                    run.stats = nodes;
                }
                Event::Samples { step, images, .. } => {
                    run.samples = images;
                    run.samples_step = step;
                }
                Event::Views {
                    epoch,
                    feature_maps,
                    filters,
                    predictions,
                } => {
                    run.views = Some(Views {
                        epoch,
                        feature_maps,
                        filters,
                        predictions,
                    });
                }
                Event::Checkpoint { .. } => {}
                Event::Finished(summary) => {
                    run.status = RunStatus::Finished;
                    run.stopped = summary.stopped;
                    self.paused = false;
                }
                Event::Failed { message } => {
                    run.status = RunStatus::Failed(message);
                    self.paused = false;
                }
            }
        }
    }
}

/// The design's Input shape, when it has a valid one.
pub fn input_shape(design: &Design) -> Option<Shape> {
    let id = design
        .nodes
        .iter()
        .find(|n| matches!(n.op, crate::design::Op::Input(_)))?
        .id;
    crate::design::analyse(design).report(id)?.output
}
