//! `netloom sweep SWEEP.json --out DIR`: trains every trial of a sweep, a few at a time,
//! each into a run folder under DIR, with DIR/trials.csv; `--resume DIR` continues one.

use super::common;
use super::train::Signals;
use crate::data::DataSpec;
use crate::design::sweep::Sweep;
use crate::engine::DeviceChoice;
use crate::engine::sweep::trials_csv::{TRIALS_CSV, TrialRecord, TrialStatus};
use crate::engine::sweep::{SweepEvent, SweepRun, SweepSetup};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `netloom sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The sweep file (docs/design-format.md, "Sweeps"); optional with --resume.
    #[arg(value_name = "SWEEP.json", required_unless_present = "resume")]
    pub sweep: Option<PathBuf>,
    /// The design the trials vary (default: the sweep file's "design").
    #[arg(long, value_name = "DESIGN.json")]
    pub design: Option<PathBuf>,
    /// The data every trial trains on (default: the sweep file's "data", else the design's).
    #[arg(long, value_name = "SPEC")]
    pub data: Option<String>,
    /// The sweep folder: a run folder per trial, and trials.csv.
    #[arg(long, value_name = "DIR", required_unless_present = "resume")]
    pub out: Option<PathBuf>,
    /// Continue the sweep in DIR: finished trials kept, running ones resumed from their
    /// checkpoints, pending ones started.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "design", "data"])]
    pub resume: Option<PathBuf>,
    /// Trials trained at once, the CPU threads divided between them (default: measured on
    /// the first trials: one on every thread, then two on half each, …).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub parallel: Option<u64>,
    /// CPU threads in all (default: the cores this process may run on).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub threads: Option<u64>,
    /// Where the trials train.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
}

/// Runs the command.
pub fn run(args: &SweepArgs) -> ExitCode {
    let parallel = args.parallel.map(|n| n as usize);
    let threads = args.threads.map(|n| n as usize);
    let started = match &args.resume {
        Some(dir) => resume(args, dir, parallel, threads),
        None => setup(args, parallel, threads)
            .and_then(|s| SweepRun::create(s, None).map_err(|e| e.to_string())),
    };
    match started {
        Ok(sweep) => drive(sweep),
        Err(msg) => {
            eprintln!("netloom: {msg}");
            ExitCode::from(super::EXIT_UNREADABLE)
        }
    }
}

fn resume(
    args: &SweepArgs,
    dir: &Path,
    parallel: Option<usize>,
    threads: Option<usize>,
) -> Result<SweepRun, String> {
    let run =
        SweepRun::resume(dir, parallel, threads, args.device, None).map_err(|e| e.to_string())?;
    if let Some(path) = &args.sweep {
        // The file given must be the sweep the folder ran (the trials are its).
        let given = read_sweep(path)?;
        let same = |s: &Sweep| {
            (
                s.method,
                s.parameters.clone(),
                s.repeats,
                s.max_trials,
                s.seed,
                s.epochs,
            )
        };
        if same(&given) != same(run.sweep()) {
            return Err(format!(
                "{} is not the sweep that {} holds (their parameters or trials differ): resume with --resume alone, or start this one with another --out",
                path.display(),
                dir.display()
            ));
        }
    }
    Ok(run)
}

fn read_sweep(path: &Path) -> Result<Sweep, String> {
    let text = crate::fsio::read_regular_to_string(path)
        .map_err(|e| format!("can't read {} ({e})", path.display()))?;
    Sweep::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The sweep, its design and its data, from the file and the flags.
fn setup(
    args: &SweepArgs,
    parallel: Option<usize>,
    threads: Option<usize>,
) -> Result<SweepSetup, String> {
    let path = args.sweep.as_deref().unwrap_or(Path::new("sweep.json"));
    let sweep = read_sweep(path)?;
    let folder = path.parent().unwrap_or(Path::new("")).to_owned();
    let beside = |p: &Path| {
        if p.is_relative() {
            folder.join(p)
        } else {
            p.to_owned()
        }
    };
    let design_path = match (&args.design, &sweep.design) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => beside(Path::new(d)),
        (None, None) => {
            return Err(format!(
                "{} names no design: give one with --design, or add \"design\": \"FILE\" to it",
                path.display()
            ));
        }
    };
    let design = common::design(&design_path)?;
    if let Err(e) = crate::design::Plan::of(&design) {
        return Err(format!(
            "{e} (`netloom check {}` lists them)",
            design_path.display()
        ));
    }
    let data = match (&args.data, &sweep.data) {
        (Some(s), _) => common::data_spec(Some(s), &design)?,
        (None, Some(s)) => DataSpec::parse(s)
            .map_err(|e| format!("{}: its data \"{s}\": {e}", path.display()))?
            .map_paths(&|p| beside(p)),
        (None, None) => common::data_spec(None, &design)?,
    };
    let out = args
        .out
        .clone()
        .ok_or("give the sweep folder with --out DIR")?;
    Ok(SweepSetup {
        sweep,
        design,
        data,
        out,
        parallel,
        threads,
        device: args.device,
    })
}

/// Runs the sweep to its end (or Ctrl+C), printing each trial's progress.
fn drive(mut sweep: SweepRun) -> ExitCode {
    let signals = Signals::register();
    let total = sweep.records().len();
    let left = sweep
        .records()
        .iter()
        .filter(|r| !r.status.is_final())
        .count();
    eprintln!(
        "netloom: sweep of {total} trials ({left} to train) into {}",
        sweep.out().display()
    );
    let mut interrupted = false;
    while !sweep.is_over() {
        if signals.take().is_some() {
            eprintln!(
                "netloom: stopping every trial after its batch, with a checkpoint (press Ctrl+C again to quit at once)"
            );
            interrupted = true;
            sweep.stop();
        }
        for event in sweep.poll(Duration::from_millis(100)) {
            print_event(&sweep, &event);
        }
    }
    if let Some(e) = sweep.write_error() {
        eprintln!("netloom: {e}");
    }
    let dir = sweep.out().to_owned();
    if interrupted {
        eprintln!(
            "netloom: sweep stopped; trials.csv and every trial's checkpoint are in {}. Continue with:\n  netloom sweep --resume {}",
            dir.display(),
            dir.display()
        );
        return ExitCode::from(130);
    }
    print_summary(&sweep);
    let trained = sweep
        .records()
        .iter()
        .any(|r| matches!(r.status, TrialStatus::Done | TrialStatus::Pruned(_)));
    if trained {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A trial's values, `a=1, b=x`.
fn values(r: &TrialRecord) -> String {
    r.trial
        .values
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::Number(n) => format!(
                "{k}={}",
                n.as_f64().map_or(n.to_string(), crate::units::sig)
            ),
            serde_json::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_event(sweep: &SweepRun, event: &SweepEvent) {
    let metric = sweep.sweep().objective.metric.name();
    let name = |i: usize| sweep.records()[i].trial.name();
    match event {
        SweepEvent::Started {
            trial,
            resumed,
            threads,
        } => eprintln!(
            "{} {} ({}) [{threads} thread{}]",
            name(*trial),
            if *resumed { "resumed" } else { "started" },
            values(&sweep.records()[*trial]),
            if *threads == 1 { "" } else { "s" }
        ),
        SweepEvent::Epoch { trial, metrics } => {
            let v = sweep.records()[*trial]
                .curve
                .last()
                .copied()
                .unwrap_or(f64::NAN);
            eprintln!(
                "{} epoch {}: {metric} {} ({:.1} s)",
                name(*trial),
                metrics.epoch,
                crate::units::sig(v),
                metrics.seconds
            );
        }
        SweepEvent::Ended { trial } => {
            let r = &sweep.records()[*trial];
            let best = r.best(sweep.sweep()).map_or(String::new(), |(b, e)| {
                format!(": best {metric} {} at epoch {e}", crate::units::sig(b))
            });
            match &r.status {
                TrialStatus::Running => eprintln!(
                    "{} stopped after {} epochs (resumable)",
                    r.trial.name(),
                    r.epochs
                ),
                TrialStatus::Pruned(why) => eprintln!("{} pruned{best}; {why}", r.trial.name()),
                TrialStatus::Invalid(_) => {}
                TrialStatus::Failed(why) => eprintln!("{} failed: {why}", r.trial.name()),
                _ => eprintln!("{} done{best} ({:.1} s)", r.trial.name(), r.seconds),
            }
        }
        SweepEvent::Notice(text) => eprintln!("netloom: {text}"),
        SweepEvent::Run { .. } => {}
    }
}

/// The best trials, best first, and where the table is.
fn print_summary(sweep: &SweepRun) {
    let s = sweep.sweep();
    let metric = s.objective.metric.name();
    let mut ranked: Vec<(&TrialRecord, f64)> = sweep
        .records()
        .iter()
        .filter_map(|r| r.best(s).map(|(b, _)| (r, b)))
        .collect();
    ranked.sort_by(|a, b| {
        s.objective
            .oriented(b.1)
            .total_cmp(&s.objective.oriented(a.1))
    });
    let count = |w: &str| {
        sweep
            .records()
            .iter()
            .filter(|r| r.status.word() == w)
            .count()
    };
    eprintln!(
        "netloom: sweep over: {} done, {} pruned, {} invalid, {} failed; the best by {metric}:",
        count("done"),
        count("pruned"),
        count("invalid"),
        count("failed")
    );
    for (r, best) in ranked.iter().take(5) {
        println!(
            "  {} {metric} {}  {}",
            r.trial.name(),
            crate::units::sig(*best),
            values(r)
        );
    }
    eprintln!(
        "netloom: every trial in {} (each trial's run folder beside it)",
        sweep.out().join(TRIALS_CSV).display()
    );
}
