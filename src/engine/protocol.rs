//! The trainer's protocol, at the bottom of the engine: what the app and the CLI ask for
//! ([`RunRequest`], [`Command`]) and what comes back ([`Event`]). Plain data only, so that it
//! crosses threads and is read by any renderer (the app's plots, the CLI's progress bar).
//!
//! Every event carries the [`RunId`] of the job it belongs to (a run, a data load, a weights
//! check): one stream serves them all, and a late event of an old job is told apart.

use super::device::DeviceChoice;
use super::metrics::{Confusion, NodeStats};
use super::regression::RegressionFit;
use super::segmentation::SegmentationFit;
use super::weights_map::WeightsReport;
use crate::data::augment::Rgba;
use crate::data::{DataSpec, Dataset};
use crate::design::Design;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

/// Numbers the jobs of one [`super::Trainer`]: runs, data loads and weights checks.
pub type RunId = u64;

/// How a run is carried out (not part of the design: where, how often to log, where to save).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Where to train.
    pub device: DeviceChoice,
    /// The run directory; None keeps nothing on disk.
    pub out_dir: Option<PathBuf>,
    /// Continue the run saved in `out_dir`.
    pub resume: bool,
    /// A metrics.csv row every this many steps.
    pub log_every: u64,
    /// Histograms, gradient norms and input samples every this many steps.
    pub stats_every: u64,
    /// Leave one CPU core to the UI (libtorch's intra-op threads = cores − 1).
    pub leave_core_for_ui: bool,
    /// CPU threads to train with; None: what the process may really use (engine::cpus).
    pub threads: Option<usize>,
    /// Stop (with a checkpoint) after this many global steps.
    pub max_steps: Option<u64>,
    /// Read the losses off the device every this many steps (None: one on the CPU, where a
    /// read costs nothing, `log_every` on a GPU; see `engine::pending`).
    pub sync_every: Option<u64>,
    /// A new run in a folder that holds one replaces that run's files (never the user's).
    pub overwrite: bool,
    /// A resumed run may carry on on data other than what its folder records.
    pub new_data: bool,
    /// Pause after each epoch but the last (its checkpoint written), until the owner sends
    /// Resume or Stop: a sweep decides from the epoch's metrics whether the trial goes on, and
    /// the trial must not run ahead of that decision (or it would end differently each time).
    pub hold_after_epoch: bool,
    /// Which CUDA GPU, when the device is CUDA (None: the first); a sweep puts its trials on
    /// every GPU.
    pub gpu: Option<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            device: DeviceChoice::Auto,
            out_dir: None,
            resume: false,
            log_every: 10,
            stats_every: 50,
            leave_core_for_ui: false,
            threads: None,
            max_steps: None,
            sync_every: None,
            overwrite: false,
            new_data: false,
            hold_after_epoch: false,
            gpu: None,
        }
    }
}

/// Where a run's data comes from.
#[derive(Clone, Debug)]
pub enum DataSource {
    /// Loaded on the trainer thread, sized for the design's input (folders are resized to it).
    Spec(DataSpec),
    /// Already in memory (the app's preview holds it; tests make their own), with the spec it
    /// was loaded from when there is one (the run folder records it).
    Loaded(Arc<Dataset>, Option<DataSpec>),
    /// The data the resumed run's folder records (its data.json); for a folder from before
    /// runs recorded their data, the design's default, said.
    OfRun,
}

/// Pretrained weights to start from (not when resuming): every tensor that matches a node by
/// name and shape is loaded; the mapping is reported as [`EventKind::WeightsLoaded`].
#[derive(Clone, Debug, PartialEq)]
pub struct InitWeights {
    /// The .safetensors or .pt/.pth file.
    pub path: PathBuf,
    /// Tensors or nodes to leave at their fresh initialisation even when they match.
    pub skip: Vec<String>,
}

/// One run, as the app and the CLI both ask for it: the one way a run is put together.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// A copy of the design (its training settings included).
    pub design: Design,
    /// The data.
    pub data: DataSource,
    /// How to run.
    pub options: RunOptions,
    /// Pretrained weights to start from.
    pub init: Option<InitWeights>,
}

/// A request with its data in memory: what the training loop runs.
#[derive(Clone, Debug)]
pub struct Job {
    /// A copy of the design (its training settings included).
    pub design: Design,
    /// The data, shared read-only.
    pub data: Arc<Dataset>,
    /// Where the data came from, when known: recorded in the run folder.
    pub data_spec: Option<DataSpec>,
    /// How to run.
    pub options: RunOptions,
    /// Pretrained weights to start from.
    pub init: Option<InitWeights>,
}

/// What the UI or CLI asks of the trainer thread.
#[derive(Debug)]
pub enum Command {
    /// Load the data, then train (see [`super::Trainer::start`], which numbers the run).
    Start(RunId, Box<RunRequest>),
    /// Hold before the next batch, keeping the weights.
    Pause,
    /// Continue after Pause.
    Resume,
    /// End the run before the next batch, with a checkpoint.
    Stop,
}

/// Metrics at the end of an epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: u64,
    /// Global steps done.
    pub step: u64,
    /// Mean training loss over the epoch (train mode).
    pub train_loss: f64,
    /// Training accuracy over the epoch.
    pub train_acc: f64,
    /// Validation loss (eval mode).
    pub val_loss: f64,
    /// Validation accuracy.
    pub val_acc: f64,
    /// Validation confusion matrix (empty for regression).
    pub confusion: Confusion,
    /// For regression, the validation fit: MAE, RMSE, R² and predicted-vs-actual points.
    pub regression: Option<RegressionFit>,
    /// For segmentation, pixel accuracy (also `val_acc`) and IoU per class and on average.
    pub segmentation: Option<SegmentationFit>,
    /// Wall time of the epoch, seconds.
    pub seconds: f64,
}

impl EpochMetrics {
    /// What "best" means for a checkpoint, higher being better: validation accuracy, for
    /// regression R², for segmentation the mean IoU.
    pub fn score(&self) -> f64 {
        let s = match (&self.regression, &self.segmentation) {
            (Some(f), _) => f.r2,
            (_, Some(f)) => f.mean_iou,
            _ => self.val_acc,
        };
        // Undefined (an R² of targets that are all the same) ranks lowest, and stays a
        // number a state file can hold.
        if s.is_nan() { f64::MIN } else { s }
    }
}

/// A two-feature network's decision map: the input plane on a grid, each cell classified.
#[derive(Clone, Debug, PartialEq)]
pub struct Boundary {
    /// Global steps done when it was drawn.
    pub step: u64,
    /// Cells along each side.
    pub size: usize,
    /// The plane: `[[x_min, x_max], [y_min, y_max]]` in the data's own units.
    pub plane: [[f64; 2]; 2],
    /// The predicted class of each cell, row by row, row 0 at the top (largest y).
    pub classes: Vec<u32>,
    /// The predicted class's probability in each cell.
    pub confidence: Vec<f32>,
    /// Training points to draw on top, with their labels.
    pub points: Vec<([f32; 2], u32)>,
    /// The first hidden layer's units: `(name, value per cell)`.
    pub units: Vec<(String, Vec<f32>)>,
}

impl Boundary {
    /// The cell (column, row) holding the point (x, y); None outside the plane.
    pub fn cell(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let [[x0, x1], [y0, y1]] = self.plane;
        let fx = (x - x0) / (x1 - x0);
        let fy = (y1 - y) / (y1 - y0);
        if !((0.0..1.0).contains(&fx) && (0.0..1.0).contains(&fy)) {
            return None;
        }
        let n = self.size as f64;
        Some(((fx * n) as usize, (fy * n) as usize))
    }

    /// The class the map shows at (x, y): the class of the cell the point falls in.
    pub fn class_at(&self, x: f64, y: f64) -> Option<u32> {
        let (i, j) = self.cell(x, y)?;
        self.classes.get(j * self.size + i).copied()
    }
}

/// What gradual unfreezing has made trainable for one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Thawing {
    /// The 1-based epoch it applies from.
    pub epoch: u64,
    /// The blocks thawed just now, head first.
    pub thawed_now: Vec<String>,
    /// Every block thawed so far, head first.
    pub thawed: Vec<String>,
    /// Blocks still frozen.
    pub still_frozen: usize,
    /// Trainable parameter values from this epoch on.
    pub trainable: u64,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Epochs done.
    pub epochs: u64,
    /// Steps done.
    pub steps: u64,
    /// True when stopped early (Stop or max_steps); the checkpoint allows resuming.
    pub stopped: bool,
    /// The last epoch's metrics.
    pub last: Option<EpochMetrics>,
    /// Best validation accuracy and its epoch.
    pub best_val_acc: Option<(f64, u64)>,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// What the net does with validation images at the end of an epoch, for image data.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochViews {
    /// 1-based epoch.
    pub epoch: u64,
    /// `(conv node, one grey image per channel, at most 32)` for the first validation image.
    pub feature_maps: Vec<(String, Vec<Rgba>)>,
    /// The first convolution's kernels, each scaled to [0, 1] (grey, or RGB on RGB input).
    pub filters: Vec<Rgba>,
    /// `(image, true class, predicted class)` for the first 16 validation samples.
    pub predictions: Vec<(Rgba, u32, u32)>,
    /// For segmentation, the first validation images: as they are, with their true mask
    /// over them, and with the predicted one.
    pub segments: Vec<[Rgba; 3]>,
}

/// Data in memory, handed over by a load (compared by identity: it is the same load or not).
#[derive(Clone, Debug)]
pub struct Loaded(pub Arc<Dataset>);

impl PartialEq for Loaded {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Which part of a job failed: the CLI tells unreadable input (exit 2) from a failed run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Reading the data or a weights file.
    Loading,
    /// Building the network or training it.
    Training,
}

/// One event of one job.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The job it belongs to.
    pub run: RunId,
    /// What happened.
    pub kind: EventKind,
}

/// What a job reports. Plain data only.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// The run's data is in memory.
    DataLoaded(Loaded),
    /// Pretrained weights were loaded: how the file's tensors mapped onto the network.
    WeightsLoaded(WeightsReport),
    /// The network is built and about to train.
    Compiled {
        /// Trainable parameters.
        params: u64,
        /// Parameters of frozen nodes.
        frozen: u64,
        /// The device, named for people.
        device: String,
        /// On the CPU, why it uses the threads it does and how they wait ("2 cores;
        /// OMP_WAIT_POLICY=PASSIVE"); empty on a GPU.
        threads: String,
        /// The number format the layers compute in ("fp32", "bf16", "fp16").
        precision: String,
        /// `(epochs, steps)` already done when resuming.
        resumed_at: Option<(u64, u64)>,
    },
    /// One optimizer step done.
    Batch {
        /// 1-based epoch.
        epoch: u64,
        /// Global steps done.
        step: u64,
        /// Steps done in this epoch.
        step_in_epoch: u64,
        /// Steps an epoch has.
        steps_per_epoch: u64,
        /// The batch's loss.
        loss: f32,
        /// The learning rate used.
        lr: f64,
        /// Recent throughput.
        samples_per_s: f64,
        /// Estimated seconds left (NaN until known).
        eta_s: f64,
    },
    /// An epoch ended.
    Epoch(EpochMetrics),
    /// Per-node activation histograms, gradient norms and dead-ReLU fractions.
    Histograms {
        /// The step they were taken at.
        step: u64,
        /// One entry per hidden node, in execution order.
        nodes: Vec<NodeStats>,
    },
    /// The augmented inputs the network was fed at `step`, before normalisation.
    Samples {
        /// The step.
        step: u64,
        /// Up to 16 images.
        images: Vec<Rgba>,
        /// Their labels.
        labels: Vec<u32>,
    },
    /// At the end of each epoch, for image data: feature maps, filters and predictions.
    Views(EpochViews),
    /// A checkpoint was written.
    Checkpoint {
        /// The latest weights file.
        path: PathBuf,
        /// Epochs done.
        epoch: u64,
        /// True when it is also the new best.
        best: bool,
    },
    /// Gradual unfreezing thawed blocks at the start of an epoch.
    Thawed(Thawing),
    /// The run holds before its next batch (Pause took effect), `step` steps done; nothing
    /// trains until Resume or Stop.
    Paused {
        /// Steps done so far.
        step: u64,
    },
    /// A two-feature network's decision map, every few steps.
    Boundary(Box<Boundary>),
    /// Something the user should know that doesn't stop the run, e.g. that a resumed run's
    /// metrics.csv had to be repaired: said by the CLI and the Train view, never dropped.
    Notice(String),
    /// The run ended (normally or by Stop).
    Finished(Summary),
    /// The job failed; nothing after the last checkpoint is kept.
    Failed {
        /// Where it failed.
        stage: Stage,
        /// What went wrong and what to change.
        message: String,
    },
}

/// The flags shared between a handle and its worker (burn's `Interrupter`): checked before
/// every batch, so Pause and Stop act within one batch even while the thread is busy.
#[derive(Debug, Default)]
pub struct Control {
    paused: AtomicBool,
    stop: AtomicBool,
}

impl Control {
    /// Blocks while paused; false when the run should stop.
    pub(crate) fn wait_while_paused(&self) -> bool {
        while self.paused.load(Ordering::Acquire) && !self.stop.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(10));
        }
        !self.stop.load(Ordering::Acquire)
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    pub(crate) fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Clears both flags for a new run.
    pub(crate) fn reset(&self) {
        self.stop.store(false, Ordering::Release);
        self.paused.store(false, Ordering::Release);
    }
}

/// Sends one job's events to the owner and wakes it up.
#[derive(Clone)]
pub struct Emitter {
    pub(crate) run: RunId,
    pub(crate) tx: SyncSender<Event>,
    pub(crate) notify: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Emitter {
    /// Sends an event the owner must see (waits when the queue is full).
    pub(crate) fn send(&self, kind: EventKind) {
        let _ = self.tx.send(Event {
            run: self.run,
            kind,
        });
        self.wake();
    }

    /// Sends a bulky, periodic event only if there is room: a slow UI skips a histogram
    /// rather than holding up training.
    pub(crate) fn offer(&self, kind: EventKind) {
        let event = Event {
            run: self.run,
            kind,
        };
        if let Err(TrySendError::Full(_)) = self.tx.try_send(event) {
            return;
        }
        self.wake();
    }

    fn wake(&self) {
        if let Some(n) = &self.notify {
            n();
        }
    }
}
