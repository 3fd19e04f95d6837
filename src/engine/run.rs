//! One training run, start to finish, on the trainer thread: the loop that turns a design,
//! data and settings into weights, metrics and events.
//!
//! Every random draw derives from the design's seed and the position in the run (shuffling from
//! the epoch, augmentation and dropout from the global step), so a run stopped anywhere and
//! resumed produces exactly what an uninterrupted run does.

use super::checkpoint::{RunState, read_state, read_tensors, write_text};
use super::device::{DeviceChoice, ResolvedDevice};
use super::error::{EngineError, TorchContext};
use super::metrics::Confusion;
use super::network::{Network, check_against_data};
use super::optim::Optim;
use super::schedule::learning_rate;
use super::step::Throughput;
use super::trainer::{Control, Emitter, Event};
use super::weights::{WeightsReport, apply_weights};
use crate::data::augment::{Augmenter, ColorBasis};
use crate::data::rng::Rng;
use crate::data::{Dataset, Preprocessor, Samples, Split};
use crate::design::{Augment, Design, Loss, to_json};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tch::{Device, Kind, Reduction, Tensor};

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
    /// Stop (with a checkpoint) after this many global steps.
    pub max_steps: Option<u64>,
    /// Pretrained weights to start from (not when resuming): every tensor that matches a
    /// node by name and shape is loaded; the mapping is reported as `Event::WeightsLoaded`.
    pub init_weights: Option<PathBuf>,
    /// Tensors or nodes to leave at their fresh initialisation even when they match.
    pub init_skip: Vec<String>,
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
            max_steps: None,
            init_weights: None,
            init_skip: Vec::new(),
        }
    }
}

/// Everything the trainer needs; plain data, sent to the thread by value.
#[derive(Clone, Debug)]
pub struct Job {
    /// A copy of the design (its training settings included).
    pub design: Design,
    /// The data, shared read-only.
    pub data: Arc<Dataset>,
    /// How to run.
    pub options: RunOptions,
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
    /// Validation confusion matrix.
    pub confusion: Confusion,
    /// Wall time of the epoch, seconds.
    pub seconds: f64,
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

/// Loss, accuracy and confusion of a network on a split.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalReport {
    /// Mean loss.
    pub loss: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Confusion matrix.
    pub confusion: Confusion,
}

/// Mixes a seed with a counter (SplitMix64's finaliser), for per-step and per-epoch streams.
pub(super) fn mix(seed: u64, salt: u64, k: u64) -> u64 {
    let mut z =
        seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ k.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A split as device tensors: samples `[n, …shape]` in their stored type (u8 stays u8, a
/// quarter of the memory) and labels as int64.
pub fn prepare_inputs(
    split: &Split,
    data: &Dataset,
    device: Device,
) -> Result<(Tensor, Tensor), EngineError> {
    let mut dims: Vec<i64> = vec![split.len() as i64];
    dims.extend(data.shape.dims().iter().map(|&d| d as i64));
    let x = match &split.samples {
        Samples::U8(v) => Tensor::from_slice(v),
        Samples::F32(v) => Tensor::from_slice(v),
    };
    let x = x
        .f_reshape(dims.as_slice())
        .ctx("shaping the data")?
        .to_device(device);
    let labels: Vec<i64> = split.labels.iter().map(|&l| i64::from(l)).collect();
    Ok((x, Tensor::from_slice(&labels).to_device(device)))
}

/// Rows `idx` of the stored samples as f32, bytes scaled to [0, 1].
pub(super) fn gather(x: &Tensor, idx: &Tensor) -> Result<Tensor, EngineError> {
    let b = x.f_index_select(0, idx).ctx("taking a batch")?;
    Ok(if b.kind() == Kind::Uint8 {
        b.to_kind(Kind::Float) / 255.0
    } else {
        b
    })
}

pub(super) fn loss_of(net: &Network, logits: &Tensor, y: &Tensor) -> Result<Tensor, EngineError> {
    match net.loss {
        Loss::CrossEntropy => logits
            .f_cross_entropy_loss(y, None::<Tensor>, Reduction::Mean, -100, 0.0)
            .ctx("cross-entropy"),
        Loss::Mse => {
            let classes = logits.size().last().copied().unwrap_or(1);
            let target = y.f_one_hot(classes).ctx("one-hot")?.to_kind(Kind::Float);
            logits.f_mse_loss(&target, Reduction::Mean).ctx("mse")
        }
    }
}

/// Evaluates `net` (eval mode) on stored samples `x`/`y` in batches.
pub fn evaluate(
    net: &Network,
    pre: &Preprocessor,
    x: &Tensor,
    y: &Tensor,
    classes: usize,
    batch: i64,
) -> Result<EvalReport, EngineError> {
    let _guard = tch::no_grad_guard();
    let n = y.size().first().copied().unwrap_or(0);
    let (mut loss_sum, mut confusion) = (0.0, Confusion::new(classes));
    let mut start = 0;
    while start < n {
        let len = batch.min(n - start);
        let idx =
            Tensor::f_arange_start(start, start + len, (Kind::Int64, x.device())).ctx("eval")?;
        let xb = pre.apply(&gather(x, &idx)?)?;
        let yb = y.f_index_select(0, &idx).ctx("eval")?;
        let logits = net.forward(&xb, false, None)?;
        loss_sum += loss_of(net, &logits, &yb)?.double_value(&[]) * len as f64;
        let pred: Vec<i64> = Vec::try_from(
            logits
                .f_argmax(1, false)
                .ctx("eval")?
                .to_device(Device::Cpu),
        )
        .map_err(|e| EngineError::torch("eval", e))?;
        let truth: Vec<i64> =
            Vec::try_from(yb.to_device(Device::Cpu)).map_err(|e| EngineError::torch("eval", e))?;
        confusion.add(&truth, &pred);
        start += len;
    }
    Ok(EvalReport {
        loss: if n > 0 { loss_sum / n as f64 } else { f64::NAN },
        accuracy: confusion.accuracy(),
        confusion,
    })
}

/// metrics.csv, appended row by row; its length is saved with each checkpoint.
pub(super) struct Csv {
    file: Option<std::fs::File>,
    pub(super) len: u64,
}

const CSV_HEADER: &str =
    "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s\n";

impl Csv {
    fn open(dir: Option<&Path>, resume_len: Option<u64>) -> Result<Csv, EngineError> {
        let Some(dir) = dir else {
            return Ok(Csv { file: None, len: 0 });
        };
        let path = dir.join("metrics.csv");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(resume_len.is_none())
            .open(&path)
            .map_err(|e| EngineError::io("open metrics.csv", &path, e))?;
        let len = match resume_len {
            Some(len) => {
                file.set_len(len)
                    .map_err(|e| EngineError::io("trim metrics.csv", &path, e))?;
                len
            }
            None => {
                file.write_all(CSV_HEADER.as_bytes())
                    .map_err(|e| EngineError::io("write metrics.csv", &path, e))?;
                CSV_HEADER.len() as u64
            }
        };
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(len))
            .map_err(|e| EngineError::io("write metrics.csv", &path, e))?;
        Ok(Csv {
            file: Some(file),
            len,
        })
    }

    pub(super) fn row(&mut self, row: String) {
        if let Some(f) = &mut self.file
            && f.write_all(row.as_bytes()).is_ok()
        {
            self.len += row.len() as u64;
        }
    }
}

/// The state of a run in progress.
pub(super) struct Session<'a> {
    pub(super) job: &'a Job,
    pub(super) net: Network,
    pub(super) optim: Optim,
    pub(super) pre: Preprocessor,
    pub(super) aug: Option<Augmenter>,
    pub(super) state: RunState,
    pub(super) csv: Csv,
    pub(super) edges: HashMap<String, (f32, f32)>,
    pub(super) train: (Tensor, Tensor),
    pub(super) val: (Tensor, Tensor),
    pub(super) steps_per_epoch: u64,
    /// How the pretrained weights mapped, when the run started from some.
    pub(super) init_report: Option<WeightsReport>,
}

/// Sets libtorch's intra-op threads: all cores for the CLI, all but one beside the UI.
fn set_threads(leave_core: bool) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
    tch::set_num_threads(if leave_core {
        (cores - 1).max(1)
    } else {
        cores
    });
}

fn augmenter(design: &Design, data: &Dataset) -> Result<Option<Augmenter>, EngineError> {
    let ops = &design.data.augmentation;
    if ops.is_empty() || data.shape.as_image().is_none() {
        return Ok(None);
    }
    let needs_basis = ops.iter().any(|a| matches!(a, Augment::PcaColor { .. }));
    let basis = if needs_basis {
        ColorBasis::fit(data)?
    } else {
        None
    };
    Ok(Some(Augmenter::new(ops.clone(), basis)?))
}

/// Runs a job to the end (or to Stop), emitting events. Errors end the run; what was last
/// checkpointed stays on disk.
pub(crate) fn run(job: &Job, control: &Control, emit: &Emitter) -> Result<Summary, EngineError> {
    let started = Instant::now();
    set_threads(job.options.leave_core_for_ui);
    let ResolvedDevice { device, name } = job
        .options
        .device
        .resolve()
        .map_err(EngineError::Mismatch)?;
    let mut session = Session::new(job, device)?;
    if let Some(report) = session.init_report.take() {
        emit.send(Event::WeightsLoaded(report));
    }
    emit.send(Event::Compiled {
        params: session.net.params.trainable_count(),
        frozen: session.net.params.frozen_count(),
        device: name,
        resumed_at: job
            .options
            .resume
            .then_some((session.state.epochs_done, session.state.step)),
    });
    session.train_loop(control, emit, started)
}

impl<'a> Session<'a> {
    fn new(job: &'a Job, device: Device) -> Result<Session<'a>, EngineError> {
        let (design, data) = (&job.design, job.data.as_ref());
        if let Err(problem) = data.check() {
            return Err(EngineError::Mismatch(format!(
                "the dataset is inconsistent: {problem}"
            )));
        }
        if data.train.is_empty() || data.val.is_empty() {
            return Err(EngineError::Mismatch(format!(
                "{} needs both training and validation samples",
                data.name
            )));
        }
        let problems = design.training.problems();
        if let Some(first) = problems.first() {
            return Err(EngineError::InvalidDesign {
                count: problems.len(),
                first: first.clone(),
            });
        }
        let net = Network::compile(design, device)?;
        check_against_data(design, &net, data)?;
        let dir = job.options.out_dir.as_deref();
        let mut optim = Optim::new(&design.training);
        let (pre, state) = match (dir, job.options.resume) {
            (Some(dir), true) => {
                let state = read_state(dir)?;
                super::checkpoint::load_weights(&net.params, &dir.join("weights.safetensors"))?;
                let opt_path = dir.join("optimizer.safetensors");
                let named = if opt_path.exists() {
                    read_tensors(&opt_path)?
                } else {
                    Vec::new()
                };
                optim.load_state(&net.params, named, state.optimizer_steps);
                (Preprocessor::load(&dir.join("preprocessor.json"))?, state)
            }
            (None, true) => {
                return Err(EngineError::Mismatch(
                    "resuming needs the run directory".to_owned(),
                ));
            }
            _ => (
                Preprocessor::fit(design.data.preprocessing, data)?,
                RunState {
                    seed: design.training.seed,
                    ..RunState::default()
                },
            ),
        };
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| EngineError::io("create the run directory", dir, e))?;
            write_text(
                &dir.join("design.json"),
                "write the design",
                &to_json(design),
            )?;
            pre.save(&dir.join("preprocessor.json"))?;
        }
        let init_report = match (&job.options.init_weights, job.options.resume) {
            (Some(path), false) => Some(apply_weights(&net.params, path, &job.options.init_skip)?),
            _ => None,
        };
        let csv = Csv::open(dir, job.options.resume.then_some(state.metrics_len))?;
        let batch = design.training.batch_size.max(1);
        let n = data.train.len() as u64;
        // A last batch of one sample would break BatchNorm's batch statistics; drop it.
        let steps_per_epoch = (n / batch + u64::from(n % batch >= 2)).max(1);
        let edges = state
            .histogram_edges
            .iter()
            .map(|(n, lo, hi)| (n.clone(), (*lo, *hi)))
            .collect();
        Ok(Session {
            job,
            aug: augmenter(design, data)?,
            train: prepare_inputs(&data.train, data, device)?,
            val: prepare_inputs(&data.val, data, device)?,
            net,
            optim,
            pre,
            state,
            csv,
            edges,
            steps_per_epoch,
            init_report,
        })
    }

    pub(super) fn settings(&self) -> &crate::design::TrainingSettings {
        &self.job.design.training
    }

    fn train_loop(
        &mut self,
        control: &Control,
        emit: &Emitter,
        started: Instant,
    ) -> Result<Summary, EngineError> {
        let epochs = self.settings().epochs;
        let mut last = None;
        let mut rate = Throughput::new(
            self.steps_per_epoch * epochs - self.state.step.min(self.steps_per_epoch * epochs),
        );
        while self.state.epochs_done < epochs {
            let epoch_started = Instant::now();
            let order = self.epoch_order();
            while self.state.step_in_epoch < self.steps_per_epoch {
                if !control.wait_while_paused()
                    || self
                        .job
                        .options
                        .max_steps
                        .is_some_and(|m| self.state.step >= m)
                {
                    self.checkpoint(emit, false)?;
                    return Ok(self.summary(true, last, started));
                }
                let (samples, loss) = self.train_step(&order, emit)?;
                rate.tick(samples);
                let lr = learning_rate(self.settings(), self.state.step - 1, self.steps_per_epoch);
                emit.send(Event::Batch {
                    epoch: self.state.epochs_done + 1,
                    step: self.state.step,
                    step_in_epoch: self.state.step_in_epoch,
                    steps_per_epoch: self.steps_per_epoch,
                    loss,
                    lr,
                    samples_per_s: rate.samples_per_s(),
                    eta_s: rate.eta_s(),
                });
            }
            let m = self.finish_epoch(epoch_started)?;
            emit.send(Event::Epoch(m.clone()));
            if let Some(views) = self.views()? {
                emit.offer(views);
            }
            let best = self.state.best_val_acc.is_none_or(|(b, _)| m.val_acc > b);
            if best {
                self.state.best_val_acc = Some((m.val_acc, m.epoch));
            }
            self.checkpoint(emit, best)?;
            last = Some(m);
        }
        Ok(self.summary(false, last, started))
    }

    fn summary(&self, stopped: bool, last: Option<EpochMetrics>, started: Instant) -> Summary {
        Summary {
            epochs: self.state.epochs_done,
            steps: self.state.step,
            stopped,
            last,
            best_val_acc: self.state.best_val_acc,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    fn epoch_order(&self) -> Vec<i64> {
        let mut order: Vec<i64> = (0..self.job.data.train.len() as i64).collect();
        Rng::new(mix(self.state.seed, 1, self.state.epochs_done)).shuffle(&mut order);
        order
    }
}
