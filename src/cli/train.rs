//! `netloom train DESIGN.json`: trains on a background thread with a progress bar (a terminal)
//! or plain lines (a pipe or log), writing the run directory.

use super::common;
use crate::design::{Design, Optimizer, Precision};
use crate::engine::run_dir::RunDir;
use crate::engine::{
    Command, DataSource, DeviceChoice, EventKind, InitWeights, RunHistory, RunOptions, RunRequest,
    Stage, Trainer, run_dir,
};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `netloom train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The design file.
    #[arg(value_name = "DESIGN.json")]
    pub design: PathBuf,
    /// The data: builtin:fashion-mnist, toy:spiral|moons|circles|xor, idx:DIR, cifar10:DIR,
    /// folder:DIR, csv:FILE?target=COLUMN, masks:DIR (images/ and masks/) or a path (default: built-in for images, toy:spiral
    /// for 2 features).
    #[arg(long, value_name = "SPEC")]
    pub data: Option<String>,
    /// Passes over the training set (overrides the design).
    #[arg(long, value_name = "N")]
    pub epochs: Option<u64>,
    /// Samples per step (overrides the design).
    #[arg(long, value_name = "B")]
    pub batch_size: Option<u64>,
    /// Learning rate (overrides the design).
    #[arg(long, value_name = "X")]
    pub lr: Option<f64>,
    /// sgd, nesterov, adagrad, rmsprop, adam or adamw (overrides the design).
    #[arg(long, value_name = "NAME", value_parser = parse_optimizer)]
    pub optimizer: Option<Optimizer>,
    /// Where to train.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    /// Seed for initialisation, shuffling, augmentation and dropout (overrides the design).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// The run directory (default: runs/<design name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the run saved in DIR (its design.json, settings and data; --epochs may
    /// extend it).
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// Replace the run that --out holds (its files only: anything else in the folder stays).
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
    /// With --resume and --data: carry the run on on data other than the data it trained on.
    #[arg(long, requires = "resume", requires = "data")]
    pub new_data: bool,
    /// Stop after this many steps in all, with a checkpoint to resume from.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// A metrics.csv row every N steps.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub log_every: u64,
    /// Start from pretrained weights (.safetensors, or a .pt/.pth state dict): every tensor
    /// whose name and shape match a node is loaded; the mapping is printed first.
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub init_weights: Option<PathBuf>,
    /// With --init-weights: a node (or tensor) to leave freshly initialised even though it
    /// matches, e.g. a head to retrain. Repeatable.
    #[arg(long, value_name = "NODE", requires = "init_weights")]
    pub init_skip: Vec<String>,
    /// Start from fresh weights even though the design names pretrained ones (its
    /// `training.pretrained`, which a run otherwise starts from, as in the app).
    #[arg(long, conflicts_with_all = ["init_weights", "resume"])]
    pub from_scratch: bool,
    /// Gradual unfreezing: every K epochs make one more frozen block trainable, from the head
    /// down (overrides the design's training.unfreeze_every).
    #[arg(long, value_name = "K")]
    pub unfreeze_every: Option<u64>,
    /// The number format of the forward and backward pass: auto (bf16 on CUDA GPUs from
    /// compute capability 8.0, fp32 elsewhere), fp32, bf16 or fp16 (with loss scaling).
    /// Overrides the design's training.precision.
    #[arg(long, value_name = "P", value_parser = parse_precision)]
    pub precision: Option<Precision>,
    /// The same results from the same seed, bit for bit: cuDNN's autotuner off on a GPU, and on
    /// the CPU the thread count fixed (netloom otherwise trains with fewer threads while the
    /// machine is busy, and results differ in their last digits between thread counts).
    #[arg(long)]
    pub deterministic: bool,
    /// Read the loss off the device every N steps instead of after each (default: every step
    /// on the CPU, where reading costs nothing; every --log-every steps on a GPU).
    #[arg(long, value_name = "N")]
    pub sync_every: Option<u64>,
    /// CPU threads to train with (default: the cores this process may run on, capped by its
    /// cgroup's CPU quota, e.g. a container's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub threads: Option<u64>,
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    Precision::parse(s)
        .ok_or_else(|| format!("unknown precision \"{s}\": use auto, fp32, bf16 or fp16"))
}

fn parse_optimizer(s: &str) -> Result<Optimizer, String> {
    serde_json::from_value(serde_json::Value::String(s.to_lowercase())).map_err(|_| {
        format!("unknown optimizer \"{s}\": use sgd, nesterov, adagrad, rmsprop, adam or adamw")
    })
}

/// Runs the command.
pub fn run(args: &TrainArgs) -> ExitCode {
    match request(args) {
        Ok(request) => train(request, &args.design),
        Err(msg) => {
            eprintln!("netloom: {msg}");
            ExitCode::from(super::EXIT_UNREADABLE)
        }
    }
}

/// The run the arguments ask for: the same [`RunRequest`] the app builds.
fn request(args: &TrainArgs) -> Result<RunRequest, String> {
    let design = design(args)?;
    // The gate every run passes (the app's and the engine's too), plus where to see them all.
    if let Err(e) = crate::design::Plan::of(&design) {
        return Err(format!("{e} (`netloom check` lists them)"));
    }
    let data = match (&args.data, &args.resume) {
        // A resume carries on on the data its folder records.
        (None, Some(_)) => DataSource::OfRun,
        (spec, _) => DataSource::Spec(common::data_spec(spec.as_deref(), &design)?),
    };
    let stem = args
        .design
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().into_owned());
    let out_dir = args
        .resume
        .clone()
        .or_else(|| args.out.clone())
        .unwrap_or_else(|| PathBuf::from("runs").join(stem));
    let init = init_weights(args, &design)?;
    if args.overwrite {
        // --overwrite removes the run's files: never one the run is made from.
        let mut inputs = vec![args.design.clone()];
        inputs.extend(init.as_ref().map(|i| i.path.clone()));
        inputs.extend(
            args.data
                .as_deref()
                .and_then(|s| crate::data::DataSpec::parse(s).ok())
                .and_then(|s| s.path().map(Path::to_path_buf)),
        );
        crate::fsio::refuse_overwriting_inputs(&out_dir, &inputs)
            .map_err(|e| format!("{e} (--overwrite would replace the run there)"))?;
    }
    let options = RunOptions {
        device: args.device,
        out_dir: Some(out_dir),
        resume: args.resume.is_some(),
        log_every: args.log_every.max(1),
        max_steps: args.max_steps,
        sync_every: args.sync_every,
        threads: args.threads.map(|n| n as usize),
        overwrite: args.overwrite,
        new_data: args.new_data,
        ..RunOptions::default()
    };
    Ok(RunRequest {
        design,
        data,
        options,
        init,
    })
}

/// The weights a new run starts from: --init-weights, else the design's own pretrained
/// weights (what the app starts from), unless --from-scratch or resuming.
fn init_weights(args: &TrainArgs, design: &Design) -> Result<Option<InitWeights>, String> {
    if let Some(path) = &args.init_weights {
        return Ok(Some(InitWeights {
            path: path.clone(),
            skip: args.init_skip.clone(),
        }));
    }
    if args.from_scratch || args.resume.is_some() {
        return Ok(None);
    }
    let Some(p) = &design.training.pretrained else {
        return Ok(None);
    };
    let path = PathBuf::from(&p.path);
    if !path.is_file() {
        return Err(format!(
            "the design starts from the pretrained weights {}, which are not there: give others with --init-weights, or train from fresh weights with --from-scratch",
            path.display()
        ));
    }
    eprintln!(
        "netloom: starting from the design's pretrained weights {} (--init-weights picks others, --from-scratch none)",
        path.display()
    );
    Ok(Some(InitWeights {
        path,
        skip: p.skip.clone(),
    }))
}

/// The design file with the command line's overrides; when resuming, the design saved in the
/// run (which must be the same network).
fn design(args: &TrainArgs) -> Result<Design, String> {
    let given = common::design(&args.design)?;
    let mut design = match &args.resume {
        Some(dir) => {
            let saved_path = RunDir::at(dir).design();
            if !dir.is_dir() {
                return Err(format!(
                    "nothing to resume: {} is not a run folder (it doesn't exist). Start a run there with --out {}",
                    dir.display(),
                    dir.display()
                ));
            }
            if !saved_path.exists() {
                // Stopped before it wrote anything: the engine starts it over, and says so.
                given
            } else {
                // The run's own settings carry on (the flags below change them for this
                // attempt); the given network goes to the engine, which refuses one that
                // isn't the network the folder trained.
                let saved = common::design(&saved_path)?;
                Design {
                    training: saved.training,
                    data: saved.data,
                    ..given
                }
            }
        }
        None => given,
    };
    let t = &mut design.training;
    if let Some(v) = args.epochs {
        t.epochs = v;
    }
    if let Some(v) = args.batch_size {
        t.batch_size = v;
    }
    if let Some(v) = args.lr {
        t.learning_rate = v;
    }
    if let Some(v) = args.optimizer {
        t.optimizer = v;
    }
    if let Some(v) = args.seed {
        t.seed = v;
    }
    if let Some(v) = args.unfreeze_every {
        t.unfreeze_every = Some(v);
    }
    if let Some(v) = args.precision {
        t.precision = v;
    }
    if args.deterministic {
        t.deterministic = true;
    }
    Ok(design)
}

/// Ctrl+C (SIGINT) and SIGTERM, seen by `train`: the first asks the run to stop after the
/// batch in progress, with a checkpoint; once stopping, another one quits at once.
pub(super) struct Signals {
    /// The signal that arrived (0 for none).
    got: Arc<AtomicUsize>,
    /// Set once the stop was asked for: signal-hook then exits on the next signal.
    stopping: Arc<AtomicBool>,
}

impl Signals {
    pub(super) fn register() -> Signals {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let signals = Signals {
            got: Arc::new(AtomicUsize::new(0)),
            stopping: Arc::new(AtomicBool::new(false)),
        };
        for sig in [SIGINT, SIGTERM] {
            // Registered first, so it sees `stopping` as it was before this signal.
            let _ = signal_hook::flag::register_conditional_shutdown(
                sig,
                128 + sig,
                Arc::clone(&signals.stopping),
            );
            let _ = signal_hook::flag::register_usize(sig, Arc::clone(&signals.got), sig as usize);
        }
        signals
    }

    /// The signal to act on now, once.
    pub(super) fn take(&self) -> Option<i32> {
        let sig = self.got.swap(0, Ordering::SeqCst);
        if sig == 0 || self.stopping.swap(true, Ordering::SeqCst) {
            return None;
        }
        i32::try_from(sig).ok()
    }
}

/// Starts the run and renders its events until it ends: the CLI is a second renderer of the
/// stream the app draws from.
fn train(request: RunRequest, design_path: &Path) -> ExitCode {
    let trainer = match Trainer::spawn(None, false) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("netloom: could not start the trainer thread: {e}");
            return ExitCode::from(1);
        }
    };
    let signals = Signals::register();
    let dir = request.options.out_dir.clone().unwrap_or_default();
    let mut history = RunHistory::new(String::new(), request.design.training.epochs, Some(dir));
    let mut printer = Printer {
        tty: std::io::stderr().is_terminal(),
        last_line: Instant::now(),
        interrupted: None,
        design: design_path.to_owned(),
        regression: false,
        segmentation: false,
    };
    let id = trainer.start(request);
    loop {
        if let Some(sig) = signals.take() {
            printer.clear_bar();
            eprintln!(
                "netloom: {}: stopping after this batch, with a checkpoint (press Ctrl+C again to quit at once)",
                if sig == signal_hook::consts::SIGINT {
                    "Ctrl+C"
                } else {
                    "SIGTERM"
                }
            );
            printer.interrupted = Some(sig);
            trainer.send(Command::Stop);
        }
        let Some(event) = trainer.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        if event.run != id {
            continue;
        }
        history.apply(&event.kind);
        if let Some(code) = printer.print(&event.kind, &history) {
            return code;
        }
    }
}

/// Writes a run's events to the terminal: a progress bar on a terminal, a line every 10 s in
/// a pipe or log.
struct Printer {
    tty: bool,
    last_line: Instant,
    /// The signal that stopped the run, if one did: the exit code is then 128 + it.
    interrupted: Option<i32>,
    /// The design file, for the resume command printed after an interruption.
    design: PathBuf,
    /// Whether the data is a regression (its best is an R², not an accuracy).
    regression: bool,
    /// Whether the data is a segmentation (its best is a mean IoU).
    segmentation: bool,
}

impl Printer {
    /// Prints one event; the exit code once the run has ended.
    fn print(&mut self, event: &EventKind, run: &RunHistory) -> Option<ExitCode> {
        let epochs = run.total_epochs;
        match event {
            EventKind::DataLoaded(data) => {
                self.regression = data.0.quantity.is_some();
                self.segmentation = data.0.is_segmentation();
                eprintln!(
                    "netloom: training on {} ({} training, {} validation samples) into {}",
                    data.0.name,
                    data.0.train.len(),
                    data.0.val.len(),
                    run.dir.clone().unwrap_or_default().display()
                );
                if let Some(skipped) = data.0.skipped_summary() {
                    eprintln!("netloom: {skipped} (all listed in skipped.txt in the run folder)");
                }
                for note in &data.0.notes {
                    eprintln!("netloom: data: {note}");
                }
            }
            EventKind::WeightsLoaded(report) => {
                println!("pretrained weights: {}", report.table().trim_end());
            }
            EventKind::Compiled { .. } => Self::compiled(run),
            EventKind::Batch { loss, .. } => self.batch(*loss, run),
            EventKind::Epoch(m) => {
                self.clear_bar();
                if let Some(fit) = &m.segmentation {
                    eprintln!(
                        "epoch {}/{epochs}: train loss {:.4} | val loss {:.4} pixel acc {:.2}% mIoU {:.4} | {:.1} s",
                        m.epoch,
                        m.train_loss,
                        m.val_loss,
                        fit.pixel_accuracy * 100.0,
                        fit.mean_iou,
                        m.seconds
                    );
                    return None;
                }
                if let Some(fit) = &m.regression {
                    eprintln!(
                        "epoch {}/{epochs}: train loss {:.4} | val loss {:.4} MAE {} RMSE {} R² {:.4} | {:.1} s",
                        m.epoch,
                        m.train_loss,
                        m.val_loss,
                        crate::units::sig(fit.mae),
                        crate::units::sig(fit.rmse),
                        fit.r2,
                        m.seconds
                    );
                    return None;
                }
                eprintln!(
                    "epoch {}/{epochs}: train loss {:.4} acc {:.2}% | val loss {:.4} acc {:.2}% | {:.1} s",
                    m.epoch,
                    m.train_loss,
                    m.train_acc * 100.0,
                    m.val_loss,
                    m.val_acc * 100.0,
                    m.seconds
                );
            }
            EventKind::Finished(_) => return Some(self.finished(run)),
            EventKind::Failed { stage, message } => {
                if self.tty {
                    eprintln!();
                }
                return Some(match stage {
                    Stage::Loading => {
                        eprintln!("netloom: {message}");
                        ExitCode::from(super::EXIT_UNREADABLE)
                    }
                    Stage::Training => {
                        eprintln!("netloom: training failed: {message}");
                        ExitCode::from(1)
                    }
                });
            }
            EventKind::Notice(text) => {
                self.clear_bar();
                eprintln!("netloom: {text}");
            }
            EventKind::Thawed(t) => {
                self.clear_bar();
                eprintln!(
                    "netloom: epoch {}: unfroze {} ({} trainable parameters, {} block(s) still frozen)",
                    t.epoch,
                    t.thawed_now.join(", "),
                    crate::units::thousands(t.trainable),
                    t.still_frozen
                );
            }
            EventKind::Histograms { .. }
            | EventKind::Samples { .. }
            | EventKind::Views(_)
            | EventKind::Boundary(_)
            | EventKind::Paused { .. }
            | EventKind::Checkpoint { .. } => {}
        }
        None
    }

    fn compiled(run: &RunHistory) {
        let (params, frozen) = run.params;
        let frozen = if frozen > 0 {
            format!(" ({} frozen)", crate::units::thousands(frozen))
        } else {
            String::new()
        };
        let threads = if run.threads.is_empty() {
            String::new()
        } else {
            format!(" [{}]", run.threads)
        };
        eprintln!(
            "netloom: {} trainable parameters{frozen} on {}{threads}, in {}",
            crate::units::thousands(params),
            run.device,
            run.precision
        );
        if let Some((e, s)) = run.resumed_at {
            eprintln!("netloom: resuming after epoch {e}, step {s}");
        }
    }

    fn batch(&mut self, loss: f32, run: &RunHistory) {
        let Some(p) = run.progress else { return };
        let (epoch, epochs, in_epoch, per_epoch) = (
            p.epoch,
            run.total_epochs,
            p.step_in_epoch,
            p.steps_per_epoch,
        );
        let eta = if p.eta_s.is_finite() {
            format!("{}:{:02}", p.eta_s as u64 / 60, p.eta_s as u64 % 60)
        } else {
            "–".to_owned()
        };
        let line = format!(
            "epoch {epoch}/{epochs} step {in_epoch}/{per_epoch} loss {loss:.4} {:.0} samples/s ETA {eta}",
            p.samples_per_s
        );
        if self.tty {
            let width = 24;
            let filled = (in_epoch * width / per_epoch.max(1)).min(width) as usize;
            eprint!(
                "\r[{}{}] {line}  ",
                "#".repeat(filled),
                ".".repeat(width as usize - filled)
            );
            let _ = std::io::stderr().flush();
        } else if self.last_line.elapsed() >= Duration::from_secs(10) {
            eprintln!("{line}");
            self.last_line = Instant::now();
        }
    }

    fn finished(&self, run: &RunHistory) -> ExitCode {
        self.clear_bar();
        let Some(s) = &run.summary else {
            return ExitCode::from(1);
        };
        let how = if s.stopped {
            "stopped (resume with --resume)"
        } else {
            "done"
        };
        let dir = run.dir.clone().unwrap_or_default();
        if let Some(sig) = self.interrupted.filter(|_| s.stopped) {
            eprintln!(
                "netloom: stopped after {} epochs, {} steps; the checkpoint is in {}. Resume with:\n  netloom train {} --resume {}",
                s.epochs,
                s.steps,
                dir.display(),
                self.design.display(),
                dir.display()
            );
            return ExitCode::from(u8::try_from(128 + sig).unwrap_or(1));
        }
        let best = s.best_val_acc.map_or(String::new(), |(a, e)| {
            if self.regression {
                format!(", best val R² {a:.4} at epoch {e}")
            } else if self.segmentation {
                format!(", best val mIoU {a:.4} at epoch {e}")
            } else {
                format!(", best val acc {:.2}% at epoch {e}", a * 100.0)
            }
        });
        eprintln!(
            "netloom: {how} after {} epochs, {} steps in {:.1} s{best}; weights in {}",
            s.epochs,
            s.steps,
            s.seconds,
            run.dir
                .clone()
                .unwrap_or_default()
                .join(run_dir::WEIGHTS)
                .display()
        );
        ExitCode::SUCCESS
    }

    fn clear_bar(&self) {
        if self.tty {
            eprint!("\r{:90}\r", "");
        }
    }
}
