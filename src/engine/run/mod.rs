//! One training run, start to finish, on the trainer thread: the loop that turns a design,
//! data and settings into weights, metrics and events.
//!
//! Every random draw derives from the design's seed and the position in the run (shuffling from
//! the epoch, augmentation and dropout from the global step), so a run stopped anywhere and
//! resumed produces exactly what an uninterrupted run does.
//!
//! The run's [`Session`] is private to this folder: its steps (`step`), the GPU's queue of
//! unsynchronised steps (`pending`), decision maps (`boundary`) and gradual unfreezing
//! (`thaw`) are its children, so nothing else in the engine reaches into a run's state.

mod boundary;
mod pending;
mod step;
mod thaw;

use super::batch::{mix, prepare_inputs};
use super::checkpoint::{Checkpoints, WEIGHTS, latest_checkpoint, read_optimizer};
use super::device::ResolvedDevice;
use super::error::EngineError;
use super::files::write_text;
use super::metrics::Throughput;
use super::metrics_csv::Csv;
use super::network::{Network, check_against_data};
use super::optim::Optim;
use super::protocol::{Control, Emitter, EpochMetrics, EventKind, Job, Summary};
use super::run_dir::DataRecord;
use super::run_dir::{RunDir, RunState};
use super::weights::load_weights;
use super::weights_map::{WeightsReport, apply_weights};
use crate::data::augment::{Augmenter, ColorBasis};
use crate::data::rng::Rng;
use crate::data::{Dataset, Preprocessor};
use crate::design::{Augment, Design, to_json};
use pending::PendingStep;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;
use tch::{Device, Tensor};

/// Steps between decision maps (two-feature data): often enough to watch the boundary move.
const BOUNDARY_EVERY: u64 = 10;

/// The state of a run in progress.
struct Session<'a> {
    job: &'a Job,
    net: Network,
    optim: Optim,
    pre: Preprocessor,
    aug: Option<Augmenter>,
    state: RunState,
    csv: Csv,
    histogram_edges: HashMap<String, (f32, f32)>,
    train: (Tensor, Tensor),
    val: (Tensor, Tensor),
    steps_per_epoch: u64,
    /// How the pretrained weights mapped, when the run started from some.
    init_report: Option<WeightsReport>,
    /// A resumed run's design (its settings, perhaps changed for this attempt), written with
    /// the attempt's first checkpoint: an attempt that fails before one (`--lr 1e6` diverging)
    /// leaves the run's settings as they were.
    design_pending: bool,
    /// What resuming had to repair or give up, said when the run starts.
    notices: Vec<String>,
    /// Where checkpoints go (None without a run folder).
    checkpoints: Option<Checkpoints>,
    /// Gradual unfreezing: the frozen blocks, head first, as (block, its nodes' names); empty
    /// when the settings don't ask for it.
    thaw: Vec<(String, Vec<String>)>,
    /// How many of `thaw` are trainable now.
    thawed: usize,
    /// Whether anything trains before any block is thawed.
    others_train: bool,
    /// The plane a two-feature dataset covers (for the decision map); None for other data.
    plane: Option<[[f64; 2]; 2]>,
    /// Steps done whose loss and accuracy haven't been read off the device yet.
    pending: Vec<PendingStep>,
    /// Read them every this many steps ([`super::pending`]).
    sync_every: u64,
    /// Fewer threads while the machine stays busy (CPU runs whose count isn't fixed), with the
    /// machine's load at the start of its window.
    tuner: Option<(super::tuner::ThreadTuner, Option<super::cpus::Load>)>,
    /// Whether the run trains on the CPU: its metrics.csv rows then say the thread count.
    on_cpu: bool,
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
    let pre = Preprocessor::load(&RunDir::at(dir).preprocessor())?;
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

/// A resumed run must be the network its folder trained (its settings may change for this
/// attempt): checked here, where every resume passes (the CLI's, the app's, a sweep's), before
/// anything is built. A folder stopped before it wrote its design starts over.
fn same_design(job: &Job, dir: &Path) -> Result<(), EngineError> {
    let path = RunDir::at(dir).design();
    if !job.options.resume || !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| EngineError::io("read the run's design", &path, e))?;
    let saved = crate::design::from_json(&text).map_err(|e| EngineError::BadFile {
        problem: format!("the run's design can't be read ({e})"),
        path: path.clone(),
    })?;
    if saved.nodes != job.design.nodes || saved.edges != job.design.edges {
        return Err(EngineError::RunFolder {
            problem: "this is not the design trained in this run folder (its blocks or wires differ): resume with the same design, or start a new run with --out".to_owned(),
            path: dir.to_owned(),
        });
    }
    Ok(())
}

/// The record of its data the run folder should hold from now on (None: leave it as it is),
/// checked before anything is built: a new run records what it trains on; a resumed run must
/// carry on on the data its record names, and other data is refused, saying what differs,
/// unless the user said it is meant (`--new-data`).
fn data_record(
    job: &Job,
    dir: &Path,
    notices: &mut Vec<String>,
) -> Result<Option<DataRecord>, EngineError> {
    let data = job.data.as_ref();
    let fresh = || job.data_spec.as_ref().map(|s| DataRecord::new(s, data));
    if !job.options.resume {
        return Ok(fresh());
    }
    let Some(record) = DataRecord::read(dir)? else {
        // A run from before runs recorded their data: recorded from now on.
        return Ok(fresh());
    };
    let differs = record.differences(data);
    if differs.is_empty() {
        // The same data, perhaps from another place (a folder moved): recorded anew.
        return Ok(fresh().filter(|r| r.resolved != record.resolved));
    }
    let given = job
        .data_spec
        .as_ref()
        .map_or_else(|| data.name.clone(), |s| s.to_spec());
    let same_place = job
        .data_spec
        .as_ref()
        .is_some_and(|s| s.resolved().to_spec() == record.resolved);
    if !job.options.new_data {
        let problem = if same_place {
            format!(
                "the data at {} has changed since this run trained on it: it now has {}. Add --data {} --new-data to carry on on it as it is now",
                record.spec,
                differs.join(", "),
                record.spec
            )
        } else {
            format!(
                "{given} is not the data this run trained on ({}): it has {}. Leave out --data to resume on the run's own data, or add --new-data to carry on on this data",
                record.spec,
                differs.join(", ")
            )
        };
        return Err(EngineError::RunFolder {
            problem,
            path: dir.to_owned(),
        });
    }
    notices.push(format!(
        "carrying on on new data, {given} ({}); the run trained on {} until now",
        differs.join(", "),
        record.spec
    ));
    Ok(fresh())
}

/// What a run keeps in its folder before its first step: the record of its data (first: a
/// folder with a design has its data's record), and for a new run its design and fitted
/// preprocessing; the files the data left out, when some were.
fn write_run_files(
    job: &Job,
    dir: &Path,
    record: Option<&DataRecord>,
    pre: &Preprocessor,
) -> Result<(), EngineError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| EngineError::io("create the run directory", dir, e))?;
    if let Some(record) = record {
        record.write(dir)?;
    }
    if !job.options.resume {
        write_text(
            &RunDir::at(dir).design(),
            "write the design",
            &to_json(&job.design),
        )?;
        pre.save(&RunDir::at(dir).preprocessor())?;
    }
    if !job.data.skipped.is_empty() {
        // What the data left out stays with the run (the CLI and the app say it too).
        write_text(
            &RunDir::at(dir).skipped(),
            "write the list of skipped files",
            &job.data.skipped_list(),
        )?;
    }
    Ok(())
}

/// Refuses inconsistent or empty data and invalid training settings, before anything is built.
fn refuse_unrunnable(design: &Design, data: &Dataset) -> Result<(), EngineError> {
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
    Ok(())
}

/// cuDNN times its algorithms for each layer's shapes on the first steps and keeps the fastest
/// (shapes are fixed through a run); that choice can vary from run to run, so `deterministic`
/// turns it off.
fn autotune(design: &Design, device: Device) {
    if let Device::Cuda(_) = device {
        tch::Cuda::cudnn_set_benchmark(!design.training.deterministic);
    }
}

/// Sets libtorch's intra-op threads to what the process may really use (its cores, its
/// cgroup's quota), all but one beside the UI, or the number asked for; says why.
fn set_threads(options: &super::RunOptions) -> super::cpus::CpuBudget {
    let budget = super::cpus::budget(options.threads, options.leave_core_for_ui);
    super::cpus::use_threads(budget.threads);
    budget
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
    let budget = set_threads(&job.options);
    let ResolvedDevice { device, name } = job.options.device.resolve_gpu(job.options.gpu)?;
    let threads = if device == Device::Cpu {
        format!("{}; {}", budget.why, super::cpus::wait_policy())
    } else {
        String::new()
    };
    let mut session = Session::new(job, device)?;
    // On the CPU, unless the count is fixed (--threads, or --deterministic: results differ in
    // their last digits between thread counts).
    let tunable = device == Device::Cpu
        && job.options.threads.is_none()
        && !job.design.training.deterministic
        && budget.threads > 1;
    session.tuner = tunable.then(|| {
        (
            super::tuner::ThreadTuner::new(budget.threads),
            super::cpus::load_now(),
        )
    });
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
        threads,
        precision: session.net.compute.name().to_owned(),
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
        let dir = job.options.out_dir.as_deref();
        let mut notices = Vec::new();
        let record = match dir {
            Some(dir) => {
                same_design(job, dir)?;
                data_record(job, dir, &mut notices)?
            }
            None => None,
        };
        refuse_unrunnable(design, data)?;
        fits_this_machine(design, device)?;
        let mut net = Network::compile(design, device)?;
        net.set_compute(super::precision::resolve(
            design.training.precision,
            device,
        )?);
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
        let mut optim = Optim::new(&design.training);
        let (pre, mut state, resumed) = match (dir, job.options.resume) {
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
            write_run_files(job, dir, record.as_ref(), &pre)?;
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
        let histogram_edges = state
            .histogram_edges
            .iter()
            .map(|(n, lo, hi)| (n.clone(), (*lo, *hi)))
            .collect();
        // fp16's loss scale lives in the run state, so each checkpoint carries it; other
        // formats have none.
        state.loss_scale =
            (net.compute.kind == tch::Kind::Half).then(|| state.loss_scale.unwrap_or_default());
        autotune(design, device);
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
            histogram_edges,
            steps_per_epoch,
            init_report,
            design_pending: job.options.resume,
            notices,
            checkpoints: dir.map(|d| Checkpoints::new(d, resumed)),
            thaw,
            thawed: 0,
            others_train,
            plane: boundary::plane_of(data),
            pending: Vec::new(),
            sync_every: pending::sync_every(job.options.sync_every, device, job.options.log_every),
            tuner: None,
            on_cpu: device == Device::Cpu,
        })
    }

    fn settings(&self) -> &crate::design::TrainingSettings {
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
            // The epoch's rows go once to where the data is; each step takes its slice there.
            let order_on_device = Tensor::from_slice(&order).to_device(self.train.0.device());
            while self.state.step_in_epoch < self.steps_per_epoch {
                if control.is_paused() {
                    // What was done before the pause is shown during it.
                    self.flush(emit)?;
                    emit.send(EventKind::Paused {
                        step: self.state.step,
                    });
                }
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
                let step_started = Instant::now();
                self.train_step(&order, &order_on_device, &mut rate, emit)?;
                self.tune_threads(step_started.elapsed().as_secs_f64(), emit);
                if self.state.step.is_multiple_of(BOUNDARY_EVERY)
                    && let Some(b) = self.boundary()?
                {
                    emit.offer(EventKind::Boundary(Box::new(b)));
                }
            }
            let m = self.finish_epoch(epoch_started, emit)?;
            if self.job.options.hold_after_epoch && self.state.epochs_done < epochs {
                // Before the event, so the owner's Resume can't come before the pause.
                control.set_paused(true);
            }
            emit.send(EventKind::Epoch(m.clone()));
            if let Some(b) = self.boundary()? {
                emit.send(EventKind::Boundary(Box::new(b)));
            }
            if let Some(views) = self.views()? {
                emit.offer(EventKind::Views(views));
            }
            let best = self.state.best_val_acc.is_none_or(|(b, _)| m.score() > b);
            if best {
                self.state.best_val_acc = Some((m.score(), m.epoch));
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

    /// metrics.csv's `threads` cell: the CPU threads training uses now (empty on a GPU).
    fn threads_cell(&self) -> String {
        if self.on_cpu {
            tch::get_num_threads().to_string()
        } else {
            String::new()
        }
    }

    /// Gives the step's time to the thread tuner and applies what it decides.
    fn tune_threads(&mut self, seconds: f64, emit: &Emitter) {
        let Some((tuner, last)) = self.tuner.as_mut() else {
            return;
        };
        // Asked only when a window ends, not every step.
        let mut others = || {
            let now = super::cpus::load_now();
            let cores = last
                .zip(now)
                .and_then(|(a, b)| super::cpus::others_cores(a, b, super::cpus::machine_cpus()));
            *last = now;
            cores
        };
        let Some(change) = tuner.observe(seconds, &mut others) else {
            return;
        };
        super::cpus::use_threads(change.threads);
        if let Some(said) = change.said {
            emit.send(EventKind::Notice(said));
        }
    }

    fn epoch_order(&self) -> Vec<i64> {
        let mut order: Vec<i64> = (0..self.job.data.train.len() as i64).collect();
        Rng::new(mix(self.state.seed, 1, self.state.epochs_done)).shuffle(&mut order);
        order
    }
}
