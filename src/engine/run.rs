//! One training run, start to finish, on the trainer thread: the loop that turns a design,
//! data and settings into weights, metrics and events.
//!
//! Every random draw derives from the design's seed and the position in the run (shuffling from
//! the epoch, augmentation and dropout from the global step), so a run stopped anywhere and
//! resumed produces exactly what an uninterrupted run does.

use super::batch::{mix, prepare_inputs};
use super::checkpoint::{
    Checkpoints, RunState, WEIGHTS, latest_checkpoint, read_optimizer, write_text,
};
use super::device::ResolvedDevice;
use super::error::EngineError;
use super::metrics::Throughput;
use super::network::{Network, check_against_data};
use super::optim::Optim;
use super::protocol::{Control, Emitter, EpochMetrics, EventKind, Job, Summary};
use super::schedule::learning_rate;
use super::weights::{WeightsReport, apply_weights, load_weights};
use crate::data::augment::{Augmenter, ColorBasis};
use crate::data::rng::Rng;
use crate::data::{Dataset, Preprocessor};
use crate::design::{Augment, Design, to_json};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;
use tch::{Device, Tensor};

/// metrics.csv, appended row by row; its length is saved with each checkpoint.
pub(super) struct Csv {
    file: Option<std::fs::File>,
    pub(super) len: u64,
}

const CSV_HEADER: &str =
    "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s\n";

impl Csv {
    /// Opens DIR/metrics.csv: a new one with its header, or for a resume the one there cut to
    /// the rows the checkpoint knows. A resumed run's file that is missing, shorter than the
    /// checkpoint expects, or not netloom's is repaired, and the repair is said (the second
    /// value): its complete rows are kept, a foreign file is set aside as metrics.csv.damaged.
    fn open(
        dir: Option<&Path>,
        resume_len: Option<u64>,
    ) -> Result<(Csv, Option<String>), EngineError> {
        let Some(dir) = dir else {
            return Ok((Csv { file: None, len: 0 }, None));
        };
        let path = dir.join("metrics.csv");
        let (keep, notice) = match resume_len {
            None => (None, None),
            Some(len) => Self::usable(&path, len)?,
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(keep.is_none())
            .open(&path)
            .map_err(|e| EngineError::io("open metrics.csv", &path, e))?;
        let len = match keep {
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
        Ok((
            Csv {
                file: Some(file),
                len,
            },
            notice,
        ))
    }

    /// How much of a resumed run's metrics.csv to keep (None: start it afresh), and what had
    /// to be repaired.
    fn usable(path: &Path, want: u64) -> Result<(Option<u64>, Option<String>), EngineError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((None, Some(
                    "metrics.csv was missing: the curves before this point are lost; it starts again here".to_owned(),
                )));
            }
            Err(e) => return Err(EngineError::io("read metrics.csv", path, e)),
        };
        if !bytes.starts_with(CSV_HEADER.as_bytes()) {
            let aside = path.with_extension("csv.damaged");
            std::fs::rename(path, &aside)
                .map_err(|e| EngineError::io("set aside metrics.csv", path, e))?;
            return Ok((
                None,
                Some(format!(
                    "metrics.csv is not netloom's (its header differs): it was set aside as {}, and a new one starts here",
                    aside.display()
                )),
            ));
        }
        let want = usize::try_from(want).unwrap_or(usize::MAX);
        let clean = bytes.len() >= want
            && want >= CSV_HEADER.len()
            && bytes.get(want - 1) == Some(&b'\n')
            && !bytes[..want].contains(&0);
        if clean {
            return Ok((Some(want as u64), None));
        }
        // Keep the complete, NUL-free lines before the damage.
        let end = bytes.len().min(want);
        let good = bytes[..end].iter().position(|&b| b == 0).unwrap_or(end);
        let cut = bytes[..good]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(CSV_HEADER.len(), |i| i + 1)
            .max(CSV_HEADER.len());
        Ok((
            Some(cut as u64),
            Some(format!(
                "metrics.csv holds {} of the {want} bytes the checkpoint expects: its complete rows are kept, the ones after them are lost",
                bytes.len()
            )),
        ))
    }

    pub(super) fn row(&mut self, row: String) {
        if let Some(f) = &mut self.file
            && f.write_all(row.as_bytes()).is_ok()
        {
            self.len += row.len() as u64;
        }
    }

    /// Flushes the rows to the disk before a checkpoint records their length.
    pub(super) fn sync(&self) {
        if let Some(f) = &self.file {
            let _ = f.sync_data();
        }
    }
}

/// Steps between decision maps (two-feature data): often enough to watch the boundary move.
const BOUNDARY_EVERY: u64 = 10;

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
    /// A resumed run's design (its settings, perhaps changed for this attempt), written with
    /// the attempt's first checkpoint: an attempt that fails before one (`--lr 1e6` diverging)
    /// leaves the run's settings as they were.
    pub(super) design_pending: bool,
    /// What resuming had to repair or give up, said when the run starts.
    pub(super) notices: Vec<String>,
    /// Where checkpoints go (None without a run folder).
    pub(super) checkpoints: Option<Checkpoints>,
    /// Gradual unfreezing: the frozen blocks, head first, as (block, its nodes' names); empty
    /// when the settings don't ask for it.
    pub(super) thaw: Vec<(String, Vec<String>)>,
    /// How many of `thaw` are trainable now.
    pub(super) thawed: usize,
    /// Whether anything trains before any block is thawed.
    pub(super) others_train: bool,
    /// The plane a two-feature dataset covers (for the decision map); None for other data.
    pub(super) plane: Option<[[f64; 2]; 2]>,
}

/// Refuses, before anything is allocated, a design whose training needs more memory than this
/// machine has (on the CPU; a GPU's memory isn't known before libtorch uses it). The estimate
/// is [`crate::design::training_memory`]: weights, gradients, two optimizer moments and the
/// activations at the batch size.
fn fits_this_machine(design: &Design, device: Device) -> Result<(), EngineError> {
    let Some(total) = super::device::total_memory().filter(|_| device == Device::Cpu) else {
        return Ok(());
    };
    let batch = design.training.batch_size.max(1);
    let analysis = crate::design::analyse(design);
    let (need, largest) = crate::design::training_memory(&analysis.nodes, batch);
    if need <= total {
        return Ok(());
    }
    let node = largest
        .and_then(|i| analysis.nodes.get(i))
        .map_or_else(String::new, |r| r.name.clone());
    Err(EngineError::TooBigForMachine {
        need_gb: need.div_ceil(1 << 30),
        total_gb: total >> 30,
        node,
    })
}

/// A run folder's newest complete checkpoint, read back to resume: the weights into `net`, the
/// optimizer's state into `optim` (a missing or foreign one is said in `notices`, as is a newer
/// checkpoint passed over), the preprocessor and the run state, and the checkpoint's number.
fn resume_from(
    dir: &Path,
    net: &Network,
    optim: &mut Optim,
    notices: &mut Vec<String>,
) -> Result<(Preprocessor, RunState, Option<u64>), EngineError> {
    let found = latest_checkpoint(dir)?;
    notices.extend(found.notices);
    let state = found.state;
    load_weights(&net.params, &found.folder.join(WEIGHTS))?;
    let named = match read_optimizer(&found.folder)? {
        Some(named) => named,
        None => {
            if state.optimizer_steps > 0 {
                notices.push("optimizer.safetensors is missing: any optimizer state (momentum, running averages) starts again from zero, so this resume won't match an uninterrupted run exactly".to_owned());
            }
            Vec::new()
        }
    };
    let foreign = optim.load_state(&net.params, named, state.optimizer_steps);
    if let Some(first) = foreign.first() {
        notices.push(format!(
            "optimizer.safetensors doesn't belong to this run ({} of its tensors fit no parameter, e.g. \"{first}\"): the optimizer's state starts again from zero, so this resume won't match an uninterrupted run exactly",
            foreign.len()
        ));
    }
    let pre = Preprocessor::load(&dir.join("preprocessor.json"))?;
    Ok((pre, state, found.number))
}

/// The design's frozen blocks in the order gradual unfreezing thaws them (none when it isn't
/// asked for), by name.
fn thaw_blocks(design: &Design) -> Vec<(String, Vec<String>)> {
    if design.training.unfreeze_every.is_none() {
        return Vec::new();
    }
    let analysis = crate::design::analyse(design);
    crate::design::unfreeze::thaw_order(design, &analysis)
        .into_iter()
        .map(|b| {
            let nodes = b
                .nodes
                .iter()
                .filter_map(|&id| design.node(id).map(|n| n.name.clone()))
                .collect();
            (b.name, nodes)
        })
        .collect()
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
    let ResolvedDevice { device, name } = job.options.device.resolve()?;
    let mut session = Session::new(job, device)?;
    for notice in std::mem::take(&mut session.notices) {
        emit.send(EventKind::Notice(notice));
    }
    if let Some(report) = session.init_report.take() {
        emit.send(EventKind::WeightsLoaded(report));
    }
    emit.send(EventKind::Compiled {
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
            return Err(EngineError::BadData { problem });
        }
        if data.train.is_empty() || data.val.is_empty() {
            return Err(EngineError::EmptySplit {
                data: data.name.clone(),
            });
        }
        let problems = design.training.problems();
        if let Some(first) = problems.first() {
            return Err(EngineError::InvalidDesign {
                count: problems.len(),
                first: first.clone(),
            });
        }
        fits_this_machine(design, device)?;
        let net = Network::compile(design, device)?;
        check_against_data(design, &net, data)?;
        let thaw = thaw_blocks(design);
        let others_train = net.params.trainable_count() > 0;
        if !others_train && thaw.is_empty() {
            // libtorch would otherwise fail at the first backward pass, in its own words; said
            // before the run folder is made.
            return Err(EngineError::NothingToTrain {
                frozen: net.params.frozen_count(),
            });
        }
        let dir = job.options.out_dir.as_deref();
        let mut notices = Vec::new();
        let mut optim = Optim::new(&design.training);
        let (pre, state, resumed) = match (dir, job.options.resume) {
            (Some(dir), true) => resume_from(dir, &net, &mut optim, &mut notices)?,
            (None, true) => return Err(EngineError::NoRunDir),
            _ => (
                Preprocessor::fit(design.data.preprocessing, data)?,
                RunState {
                    seed: design.training.seed,
                    ..RunState::default()
                },
                None,
            ),
        };
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| EngineError::io("create the run directory", dir, e))?;
            if !job.options.resume {
                write_text(
                    &dir.join("design.json"),
                    "write the design",
                    &to_json(design),
                )?;
                pre.save(&dir.join("preprocessor.json"))?;
            }
            if !data.skipped.is_empty() {
                // What the data left out stays with the run (the CLI and the app say it too).
                write_text(
                    &dir.join("skipped.txt"),
                    "write the list of skipped files",
                    &data.skipped_list(),
                )?;
            }
        }
        let init_report = match (&job.init, job.options.resume) {
            (Some(init), false) => Some(apply_weights(&net.params, &init.path, &init.skip)?),
            _ => None,
        };
        let (csv, repaired) = Csv::open(dir, job.options.resume.then_some(state.metrics_len))?;
        notices.extend(repaired);
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
            design_pending: job.options.resume,
            notices,
            checkpoints: dir.map(|d| Checkpoints::new(d, resumed)),
            thaw,
            thawed: 0,
            others_train,
            plane: super::boundary::plane_of(data),
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
            self.thaw_for_epoch(emit)?;
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
                if self.state.step.is_multiple_of(BOUNDARY_EVERY)
                    && let Some(b) = self.boundary()?
                {
                    emit.offer(EventKind::Boundary(Box::new(b)));
                }
                let lr = learning_rate(self.settings(), self.state.step - 1, self.steps_per_epoch);
                emit.send(EventKind::Batch {
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
            emit.send(EventKind::Epoch(m.clone()));
            if let Some(b) = self.boundary()? {
                emit.send(EventKind::Boundary(Box::new(b)));
            }
            if let Some(views) = self.views()? {
                emit.offer(EventKind::Views(views));
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
