//! Running a sweep: its trials as ordinary runs, a few at a time, each on a trainer of its
//! own, in one folder that `--resume` continues.
//!
//! The folder holds `sweep.json` (the definition as run, its data spec resolved),
//! `design.json` (the design the trials vary), `trials.csv` ([`trials_csv`]) and a run folder
//! per trial (`trial-001/`, which `netloom eval`, `export` and `train --resume` take as any
//! other). Trials pause after each epoch until the sweep has applied its early-stopping rule
//! ([`crate::engine::RunOptions::hold_after_epoch`]), so what is stopped doesn't depend on how
//! fast the machine is; with one trial at a time a sweep is reproducible, and a killed sweep
//! resumed ends with the table an uninterrupted one has.
//!
//! The owner (the CLI's loop, the app's frame) calls [`SweepRun::poll`], which starts trials
//! and hands back what happened as [`SweepEvent`]s.

mod concurrency;
mod folder;
mod request;
pub mod trials_csv;

use super::protocol::{DataSource, EpochMetrics, EventKind, RunId, RunOptions, RunRequest};
use super::{DeviceChoice, EngineError, Notify, Trainer};
use crate::data::Dataset;
use crate::design::sweep::{Peer, Sweep, Verdict, decide, trial_design};
use crate::design::{Design, to_json};
use concurrency::Concurrency;
pub use folder::{SweepResults, metric_of, read_results};
use folder::{fresh_records, refuse_existing, write_file};
pub use request::{SweepEvent, SweepSetup};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use trials_csv::{TrialRecord, TrialStatus};

/// The sweep definition as run, in the sweep folder.
pub const SWEEP_JSON: &str = "sweep.json";
/// The design the trials vary, in the sweep folder.
pub const BASE_DESIGN: &str = "design.json";

/// A trainer and the trial it trains, if any.
struct Slot {
    trainer: Trainer,
    busy: Option<Busy>,
}

struct Busy {
    index: usize,
    run: RunId,
    /// The rule's reason, once it has stopped the trial.
    verdict: Option<String>,
    /// Training samples per epoch, for the concurrency measurement.
    samples: usize,
}

/// A sweep in progress.
pub struct SweepRun {
    setup: SweepSetup,
    records: Vec<TrialRecord>,
    slots: Vec<Slot>,
    data: Option<Arc<Dataset>>,
    notify: Option<Notify>,
    concurrency: Concurrency,
    stopping: bool,
    /// A failure to write trials.csv, said once.
    write_error: Option<String>,
    /// Trials trained on beyond the sweep's epochs ("train this trial longer"): their epochs
    /// in all. The early-stopping rule leaves them alone.
    longer: std::collections::BTreeMap<usize, u64>,
    /// CUDA GPUs the trials are spread over (0 off CUDA): trainer k trains on GPU k mod this.
    gpus: usize,
}

impl SweepRun {
    /// Starts a new sweep in `setup.out`, which must not hold one (or any trial folder).
    pub fn create(setup: SweepSetup, notify: Option<Notify>) -> Result<SweepRun, EngineError> {
        let out = &setup.out;
        refuse_existing(out)?;
        std::fs::create_dir_all(out)
            .map_err(|e| EngineError::io("create the sweep folder", out, e))?;
        let mut recorded = setup.sweep.clone();
        recorded.design = Some(BASE_DESIGN.to_owned());
        recorded.data = Some(setup.data.resolved().to_spec());
        write_file(&out.join(BASE_DESIGN), &to_json(&setup.design))?;
        write_file(&out.join(SWEEP_JSON), &recorded.to_json())?;
        let records = fresh_records(&setup.sweep, &setup.design);
        Ok(Self::with_records(setup, records, notify))
    }

    /// Continues the sweep in `out`: its own definition, design and data (`parallel`,
    /// `threads` and `device` may change). Finished trials are kept, running ones resume from
    /// their checkpoints, pending ones start.
    pub fn resume(
        out: &Path,
        parallel: Option<usize>,
        threads: Option<usize>,
        device: DeviceChoice,
        notify: Option<Notify>,
    ) -> Result<SweepRun, EngineError> {
        let SweepResults {
            sweep,
            design,
            data,
            records,
        } = read_results(out)?;
        let setup = SweepSetup {
            sweep,
            design,
            data,
            out: out.to_owned(),
            parallel,
            threads,
            device,
        };
        let mut run = Self::with_records(setup, records, notify);
        // A trial killed after the rule stopped it, before it ended, is stopped again.
        for i in 0..run.records.len() {
            if run.records[i].status == TrialStatus::Running
                && let Verdict::Stop(why) = run.verdict(i)
            {
                run.records[i].status = TrialStatus::Pruned(why);
            }
        }
        run.save();
        Ok(run)
    }

    fn with_records(
        setup: SweepSetup,
        records: Vec<TrialRecord>,
        notify: Option<Notify>,
    ) -> SweepRun {
        let total = super::cpus::budget(setup.threads, false).threads;
        let device = setup.device.resolve().map(|d| d.device);
        let gpus = match device {
            Ok(tch::Device::Cuda(_)) => super::device::cuda_count().max(1),
            _ => 0,
        };
        let left = records.iter().filter(|r| !r.status.is_final()).count();
        // On the CPU the threads are divided (N given or measured); on CUDA a trial per GPU
        // (or N, sharing them); elsewhere (MPS) one at a time.
        let fixed = match device {
            Ok(tch::Device::Cpu) => setup.parallel,
            _ if gpus > 0 => Some(setup.parallel.unwrap_or(gpus)),
            _ => Some(1),
        };
        let concurrency = Concurrency::new(total, fixed, left > 2);
        let mut run = SweepRun {
            setup,
            records,
            slots: Vec::new(),
            data: None,
            notify,
            concurrency,
            stopping: false,
            write_error: None,
            longer: std::collections::BTreeMap::new(),
            gpus,
        };
        run.save();
        run
    }

    /// The trials, in order, as they stand.
    pub fn records(&self) -> &[TrialRecord] {
        &self.records
    }

    /// The definition being run.
    pub fn sweep(&self) -> &Sweep {
        &self.setup.sweep
    }

    /// The sweep folder.
    pub fn out(&self) -> &Path {
        &self.setup.out
    }

    /// Trials at once: chosen, or being tried while measuring.
    pub fn at_once(&self) -> usize {
        self.concurrency.at_once()
    }

    /// Trials training now.
    pub fn running(&self) -> usize {
        self.slots.iter().filter(|s| s.busy.is_some()).count()
    }

    /// Whether nothing trains and nothing more will start.
    pub fn is_over(&self) -> bool {
        self.running() == 0
            && (self.stopping
                || !self
                    .records
                    .iter()
                    .any(|r| r.status == TrialStatus::Pending || r.status == TrialStatus::Running))
    }

    /// Stops every running trial after its batch, with a checkpoint (each stays `running` in
    /// the table, for `--resume`), and starts no more.
    pub fn stop(&mut self) {
        self.stopping = true;
        for s in &self.slots {
            if s.busy.is_some() {
                s.trainer.send(super::Command::Stop);
            }
        }
    }

    /// Trains trial `i` on from its checkpoint for `more` epochs, beyond the sweep's (and
    /// past the early-stopping rule, which leaves it alone); it queues like any trial.
    pub fn train_longer(&mut self, i: usize, more: u64) -> Result<(), String> {
        let Some(r) = self.records.get(i) else {
            return Err("there is no such trial".to_owned());
        };
        if !matches!(r.status, TrialStatus::Done | TrialStatus::Pruned(_)) {
            return Err(format!(
                "{} is {}: only a trial that has trained can train longer",
                r.trial.name(),
                r.status.word()
            ));
        }
        if !self.setup.out.join(r.trial.name()).is_dir() {
            return Err(format!("{} has no run folder to continue", r.trial.name()));
        }
        self.longer.insert(i, r.epochs + more.max(1));
        self.records[i].status = TrialStatus::Running;
        self.stopping = false;
        self.save();
        Ok(())
    }

    /// Starts what may start, then waits up to `timeout` for the trials' events and returns
    /// what happened.
    pub fn poll(&mut self, timeout: Duration) -> Vec<SweepEvent> {
        let mut out = Vec::new();
        self.start_trials(&mut out);
        let deadline = std::time::Instant::now() + timeout;
        loop {
            for s in 0..self.slots.len() {
                while let Some(event) = self.slots[s].trainer.try_recv() {
                    self.handle(s, event, &mut out);
                }
            }
            if !out.is_empty() || std::time::Instant::now() >= deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Fills free trainers with the next trials the concurrency allows.
    fn start_trials(&mut self, out: &mut Vec<SweepEvent>) {
        while !self.stopping && self.concurrency.may_start(self.running()) {
            let Some(i) = self.next_trial() else { return };
            let record = &self.records[i];
            let design = match trial_design(&self.setup.sweep, &self.setup.design, &record.trial) {
                Ok(d) => d,
                Err(why) => {
                    out.push(SweepEvent::Notice(format!(
                        "{} skipped: {why}",
                        record.trial.name()
                    )));
                    self.records[i].status = TrialStatus::Invalid(why);
                    out.push(SweepEvent::Ended { trial: i });
                    self.save();
                    continue;
                }
            };
            if let Err(e) = self.start(i, design, out) {
                self.records[i].status = TrialStatus::Failed(e.to_string());
                out.push(SweepEvent::Ended { trial: i });
                self.save();
            }
        }
    }

    /// The first trial to run: one to resume, else the first pending.
    fn next_trial(&self) -> Option<usize> {
        let taken = |i: usize| {
            self.slots
                .iter()
                .any(|s| s.busy.as_ref().is_some_and(|b| b.index == i))
        };
        let find = |st: TrialStatus| {
            (0..self.records.len()).find(|&i| self.records[i].status == st && !taken(i))
        };
        find(TrialStatus::Running).or_else(|| find(TrialStatus::Pending))
    }

    fn start(
        &mut self,
        i: usize,
        mut design: Design,
        out: &mut Vec<SweepEvent>,
    ) -> Result<(), EngineError> {
        if let Some(&epochs) = self.longer.get(&i) {
            design.training.epochs = epochs;
        }
        let dir = self.setup.out.join(self.records[i].trial.name());
        let resumed = self.records[i].status == TrialStatus::Running && dir.is_dir();
        if !resumed {
            self.records[i].curve.clear();
        }
        let data = self.data_for(&design)?;
        let samples = match &data {
            DataSource::Loaded(d, _) => d.train.len(),
            _ => 0,
        };
        let threads = self.concurrency.threads();
        let slot = match self.slots.iter().position(|s| s.busy.is_none()) {
            Some(s) => s,
            None => {
                let trainer = Trainer::spawn(self.notify.clone(), false)
                    .map_err(|e| EngineError::io("start a trainer thread", &self.setup.out, e))?;
                self.slots.push(Slot {
                    trainer,
                    busy: None,
                });
                self.slots.len() - 1
            }
        };
        let options = RunOptions {
            device: self.setup.device,
            out_dir: Some(dir),
            resume: resumed,
            threads: Some(threads),
            hold_after_epoch: self.setup.sweep.early_stopping.is_some()
                && !self.longer.contains_key(&i),
            gpu: (self.gpus > 0).then(|| slot % self.gpus),
            ..RunOptions::default()
        };
        let request = RunRequest {
            design,
            data,
            options,
            init: None,
        };
        let run = self.slots[slot].trainer.start(request);
        self.slots[slot].busy = Some(Busy {
            index: i,
            run,
            verdict: None,
            samples,
        });
        self.records[i].status = TrialStatus::Running;
        self.concurrency.started(i);
        out.push(SweepEvent::Started {
            trial: i,
            resumed,
            threads,
        });
        self.save();
        Ok(())
    }

    /// The data, loaded once for every trial whose input is the design's (one that changes
    /// the input loads its own).
    fn data_for(&mut self, design: &Design) -> Result<DataSource, EngineError> {
        let spec = self.setup.data.clone();
        if design.input_shape() != self.setup.design.input_shape() {
            return Ok(DataSource::Spec(spec));
        }
        let data = match &self.data {
            Some(d) => Arc::clone(d),
            None => {
                let d = Arc::new(spec.load_for(design.input_shape())?);
                self.data = Some(Arc::clone(&d));
                d
            }
        };
        Ok(DataSource::Loaded(data, Some(spec)))
    }

    fn handle(&mut self, s: usize, event: super::Event, out: &mut Vec<SweepEvent>) {
        let Some(busy) = self.slots[s].busy.as_ref().filter(|b| b.run == event.run) else {
            return;
        };
        let i = busy.index;
        if let EventKind::Compiled { params, .. } = &event.kind {
            self.records[i].params = *params;
        }
        match event.kind {
            EventKind::Epoch(m) => self.epoch_ended(s, i, m, out),
            EventKind::Finished(summary) => {
                let verdict = self.slots[s].busy.take().and_then(|b| b.verdict);
                let r = &mut self.records[i];
                r.epochs = summary.epochs;
                r.seconds += summary.seconds;
                r.status = match verdict {
                    Some(why) => TrialStatus::Pruned(why),
                    None if summary.stopped => TrialStatus::Running,
                    None => TrialStatus::Done,
                };
                self.trial_ended(i, out);
            }
            EventKind::Failed { message, .. } => {
                self.slots[s].busy = None;
                self.records[i].status = TrialStatus::Failed(message);
                self.trial_ended(i, out);
            }
            kind => out.push(SweepEvent::Run {
                trial: i,
                kind: Box::new(kind),
            }),
        }
    }

    fn trial_ended(&mut self, i: usize, out: &mut Vec<SweepEvent>) {
        if let Some(said) = self.concurrency.ended(i) {
            out.push(SweepEvent::Notice(said));
        }
        out.push(SweepEvent::Ended { trial: i });
        self.save();
    }

    /// Records the epoch, asks the rule, and lets the trial go on or stops it.
    fn epoch_ended(&mut self, s: usize, i: usize, m: EpochMetrics, out: &mut Vec<SweepEvent>) {
        let value = metric_of(&m, self.setup.sweep.objective.metric);
        let r = &mut self.records[i];
        // A resumed trial repeats no epoch; keep the curve one value per epoch.
        r.curve.truncate((m.epoch as usize).saturating_sub(1));
        r.curve.push(value);
        r.epochs = m.epoch;
        if m.epoch == 1 || self.concurrency.measuring() {
            let samples = self.slots[s].busy.as_ref().map_or(0, |b| b.samples);
            if samples > 0
                && m.seconds > 0.0
                && let Some(said) = self.concurrency.first_epoch(i, samples as f64 / m.seconds)
            {
                out.push(SweepEvent::Notice(said));
            }
        }
        if self.setup.sweep.early_stopping.is_some() && !self.longer.contains_key(&i) {
            let verdict = self.verdict(i);
            let slot = &mut self.slots[s];
            match verdict {
                Verdict::Stop(why) => {
                    if let Some(b) = slot.busy.as_mut() {
                        b.verdict = Some(why);
                    }
                    slot.trainer.send(super::Command::Stop);
                }
                Verdict::Continue => slot.trainer.send(super::Command::Resume),
            }
        }
        out.push(SweepEvent::Epoch {
            trial: i,
            metrics: Box::new(m),
        });
        self.save();
    }

    /// The rule's verdict on trial `i` as its curve stands, beside every other trial.
    fn verdict(&self, i: usize) -> Verdict {
        let Some(rule) = &self.setup.sweep.early_stopping else {
            return Verdict::Continue;
        };
        let peers: Vec<Peer> = self
            .records
            .iter()
            .enumerate()
            .filter(|(j, r)| *j != i && !r.curve.is_empty())
            .map(|(_, r)| Peer { curve: &r.curve })
            .collect();
        let epochs = self
            .setup
            .sweep
            .epochs
            .unwrap_or(self.setup.design.training.epochs);
        decide(
            rule,
            &self.setup.sweep.objective,
            epochs,
            &self.records[i].curve,
            &peers,
        )
    }

    /// Writes trials.csv; a failure is said once (the trials go on, their folders intact).
    fn save(&mut self) {
        if let Err(e) = trials_csv::write(&self.setup.out, &self.setup.sweep, &self.records) {
            let said = format!(
                "can't write {} ({e}); the trials go on, and their run folders keep their results",
                self.setup.out.join(trials_csv::TRIALS_CSV).display()
            );
            if self.write_error.as_deref() != Some(said.as_str()) {
                log::warn!("{said}");
                self.write_error = Some(said);
            }
        }
    }

    /// The latest trials.csv write error, if any.
    pub fn write_error(&self) -> Option<&str> {
        self.write_error.as_deref()
    }
}
