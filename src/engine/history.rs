//! Everything one run reported, folded from its events: the one reader of the event stream
//! (burn's `EventProcessor`). The app draws its plots from it; the CLI prints from it. No egui.

use super::metrics::{Histogram, NodeStats};
use super::metrics_csv::{HEADER as RUN_CSV_HEADER, is_header};
use super::protocol::{EpochMetrics, EpochViews, EventKind, Summary};
use super::weights_map::WeightsReport;
use crate::data::augment::Rgba;
use crate::engine::run_dir::RunDir;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Histograms kept per node (the oldest go first).
const HISTOGRAMS_KEPT: usize = 200;

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

/// Where the latest batch left the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// 1-based epoch.
    pub epoch: u64,
    /// Steps done in this epoch.
    pub step_in_epoch: u64,
    /// Steps an epoch has.
    pub steps_per_epoch: u64,
    /// Recent throughput.
    pub samples_per_s: f64,
    /// Estimated seconds left (NaN until known).
    pub eta_s: f64,
}

/// Everything one run reported.
#[derive(Clone, Debug)]
pub struct RunHistory {
    /// E.g. "#2 adam lr 0.002".
    pub name: String,
    /// (step, loss) per batch.
    pub losses: Vec<[f64; 2]>,
    /// Per-epoch metrics.
    pub epochs: Vec<EpochMetrics>,
    /// The latest histograms, gradient norms, dead ReLUs.
    pub stats: Vec<NodeStats>,
    /// The latest augmented inputs.
    pub samples: Vec<Rgba>,
    /// The step of `samples`.
    pub samples_step: u64,
    /// Every histogram of every node, by node, oldest first (the last 200 of each).
    pub histograms: BTreeMap<String, Vec<(u64, Histogram)>>,
    /// Class names of the data.
    pub classes: Vec<String>,
    /// Whether the data is a regression (known once it has loaded, or from a read-back
    /// metrics.csv's regression cells).
    pub regression: bool,
    /// Whether the data is a segmentation (the same way).
    pub segmentation: bool,
    /// The latest epoch-end views.
    pub views: Option<EpochViews>,
    /// Where the latest batch left the run.
    pub progress: Option<Progress>,
    /// Epochs in the run.
    pub total_epochs: u64,
    /// Trainable and frozen parameters, once compiled.
    pub params: (u64, u64),
    /// The device it runs on.
    pub device: String,
    /// On the CPU, why it uses the threads it does and how they wait (empty on a GPU).
    pub threads: String,
    /// The number format it computes in ("fp32", "bf16", "fp16"; empty until known).
    pub precision: String,
    /// Where it is.
    pub status: RunStatus,
    /// Its run folder (checkpoints, metrics.csv), if it keeps one.
    pub dir: Option<PathBuf>,
    /// `(epochs, steps)` done before, when it resumed a saved run.
    pub resumed_at: Option<(u64, u64)>,
    /// How the run ended, once it has.
    pub summary: Option<Summary>,
    /// Stopped before its last epoch, with a checkpoint to continue from.
    pub stopped: bool,
    /// What the run was of, as (what, value) pairs in a fixed order: the network, the data,
    /// the optimizer and its main settings. The legend names a run by those that differ
    /// between the runs shown.
    pub about: Vec<(String, String)>,
    /// The network it trained, to tell whether its weights fit a design.
    pub network: Option<crate::design::Design>,
    /// How the pretrained weights it started from mapped, if it started from some.
    pub weights: Option<WeightsReport>,
    /// What the run said along the way that the user should know ([`EventKind::Notice`]).
    pub notices: Vec<String>,
    /// Each thawing step of gradual unfreezing, in order.
    pub thawing: Vec<super::protocol::Thawing>,
    /// The latest decision map (two-feature data).
    pub boundary: Option<Box<super::protocol::Boundary>>,
}

impl RunHistory {
    /// A run about to start.
    pub fn new(name: String, total_epochs: u64, dir: Option<PathBuf>) -> RunHistory {
        RunHistory {
            name,
            losses: Vec::new(),
            epochs: Vec::new(),
            stats: Vec::new(),
            samples: Vec::new(),
            samples_step: 0,
            histograms: BTreeMap::new(),
            classes: Vec::new(),
            regression: false,
            segmentation: false,
            views: None,
            progress: None,
            total_epochs,
            params: (0, 0),
            device: String::new(),
            threads: String::new(),
            precision: String::new(),
            status: RunStatus::Starting,
            dir,
            resumed_at: None,
            summary: None,
            stopped: false,
            about: Vec::new(),
            network: None,
            weights: None,
            notices: Vec::new(),
            thawing: Vec::new(),
            boundary: None,
        }
    }

    /// True while loading or training.
    pub fn is_active(&self) -> bool {
        matches!(self.status, RunStatus::Starting | RunStatus::Running)
    }

    /// Takes in one event of this run.
    pub fn apply(&mut self, event: &EventKind) {
        match event {
            EventKind::DataLoaded(loaded) => {
                self.classes = loaded.0.classes.clone();
                self.regression = loaded.0.quantity.is_some();
                self.segmentation = loaded.0.is_segmentation();
            }
            EventKind::WeightsLoaded(report) => self.weights = Some(report.clone()),
            EventKind::Compiled {
                params,
                frozen,
                device,
                threads,
                precision,
                resumed_at,
            } => {
                self.params = (*params, *frozen);
                self.device = device.clone();
                self.threads = threads.clone();
                self.precision = precision.clone();
                self.resumed_at = *resumed_at;
                self.status = RunStatus::Running;
            }
            EventKind::Batch {
                epoch,
                step,
                step_in_epoch,
                steps_per_epoch,
                loss,
                samples_per_s,
                eta_s,
                ..
            } => {
                self.losses.push([*step as f64, f64::from(*loss)]);
                self.progress = Some(Progress {
                    epoch: *epoch,
                    step_in_epoch: *step_in_epoch,
                    steps_per_epoch: *steps_per_epoch,
                    samples_per_s: *samples_per_s,
                    eta_s: *eta_s,
                });
            }
            EventKind::Epoch(m) => self.epochs.push(m.clone()),
            EventKind::Histograms { step, nodes } => self.histograms(*step, nodes),
            EventKind::Samples { step, images, .. } => {
                self.samples = images.clone();
                self.samples_step = *step;
            }
            EventKind::Views(v) => self.views = Some(v.clone()),
            EventKind::Checkpoint { .. } | EventKind::Paused { .. } => {}
            EventKind::Notice(text) => self.notices.push(text.clone()),
            EventKind::Boundary(b) => self.boundary = Some(b.clone()),
            EventKind::Thawed(t) => {
                self.params.0 = t.trainable;
                self.thawing.push(t.clone());
            }
            EventKind::Finished(summary) => {
                self.status = RunStatus::Finished;
                self.stopped = summary.stopped;
                self.summary = Some(summary.clone());
            }
            EventKind::Failed { message, .. } => self.status = RunStatus::Failed(message.clone()),
        }
    }

    fn histograms(&mut self, step: u64, nodes: &[NodeStats]) {
        for n in nodes {
            let h = self.histograms.entry(n.node.clone()).or_default();
            h.push((step, n.activation.clone()));
            if h.len() > HISTOGRAMS_KEPT {
                h.remove(0);
            }
        }
        self.stats = nodes.to_vec();
    }

    /// Continues after a stop: the plots carry on where they stopped.
    pub fn resume(&mut self) {
        self.status = RunStatus::Starting;
        self.stopped = false;
        self.summary = None;
    }
}

impl RunHistory {
    /// A finished run read back from a run folder's `metrics.csv`: one netloom wrote, or one
    /// an exported train.py wrote on a cluster. Its curves join the Train view's as a run of
    /// their own. A row that doesn't parse is an error naming its line.
    pub fn from_metrics_csv(name: String, dir: &std::path::Path) -> Result<RunHistory, String> {
        let path = RunDir::at(dir).metrics();
        let text = crate::fsio::read_regular_to_string(&path)
            .map_err(|e| format!("can't read {} ({e}): is this a run folder?", path.display()))?;
        let mut lines = text.lines();
        let header = lines.next().map(str::trim);
        if !header.is_some_and(is_header) {
            return Err(format!(
                "{} doesn't start with netloom's columns ({RUN_CSV_HEADER})",
                path.display()
            ));
        }
        let mut run = RunHistory::new(name, 0, Some(dir.to_owned()));
        for (i, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let bad = |what: &str| format!("{} line {}: {what}", path.display(), i + 2);
            let cells: Vec<&str> = line.split(',').collect();
            // 10 to 12 cells in older folders; a resumed older run adds rows of today's 17.
            if !matches!(cells.len(), 10..=17) {
                return Err(bad(&format!("{} cells, not 17", cells.len())));
            }
            let num = |k: usize| -> Result<f64, String> {
                cells[k]
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| bad(&format!("\"{}\" is not a number", cells[k])))
            };
            let int = |k: usize| num(k).map(|v| v.max(0.0) as u64);
            // A metric the run doesn't have (a regression's accuracy) is an empty cell.
            let metric = |k: usize| match cells.get(k).map(|c| c.trim()) {
                None | Some("") => Ok(f64::NAN),
                Some(_) => num(k),
            };
            match cells[0] {
                "step" => run.losses.push([num(2)?, num(4)?]),
                "epoch" => {
                    if let Some(p) = cells.get(10).map(|c| c.trim()).filter(|c| !c.is_empty()) {
                        p.clone_into(&mut run.precision);
                    }
                    run.epochs.push(EpochMetrics {
                        epoch: int(1)?,
                        step: int(2)?,
                        train_loss: num(5)?,
                        train_acc: metric(6)?,
                        val_loss: num(7)?,
                        val_acc: metric(8)?,
                        confusion: super::metrics::Confusion::new(0),
                        regression: match (metric(12)?, metric(13)?, metric(14)?) {
                            (mae, rmse, r2) if !mae.is_nan() => {
                                Some(super::regression::RegressionFit {
                                    mae,
                                    rmse,
                                    r2,
                                    points: Vec::new(),
                                })
                            }
                            _ => None,
                        },
                        segmentation: match metric(15)? {
                            miou if !miou.is_nan() => Some(super::segmentation::SegmentationFit {
                                pixel_accuracy: metric(8)?,
                                mean_iou: miou,
                                iou: cells
                                    .get(16)
                                    .copied()
                                    .unwrap_or_default()
                                    .split(';')
                                    .map(|v| v.trim().parse().unwrap_or(f64::NAN))
                                    .collect(),
                            }),
                            _ => None,
                        },
                        seconds: f64::NAN,
                    });
                }
                other => return Err(bad(&format!("unknown row kind \"{other}\""))),
            }
        }
        if run.losses.is_empty() && run.epochs.is_empty() {
            return Err(format!("{} has no rows yet", path.display()));
        }
        run.total_epochs = run.epochs.last().map_or(0, |m| m.epoch);
        run.regression = run.epochs.iter().any(|m| m.regression.is_some());
        run.segmentation = run.epochs.iter().any(|m| m.segmentation.is_some());
        run.status = RunStatus::Finished;
        Ok(run)
    }
}

/// Every run's metrics as CSV: a row per step and per epoch, the run named in each row.
pub fn metrics_csv(runs: &[RunHistory]) -> String {
    let mut out = String::from(
        "run,kind,epoch,step,loss,train_loss,train_acc,val_loss,val_acc,val_mae,val_rmse,val_r2,val_miou\n",
    );
    let cell = |v: f64| {
        if v.is_nan() {
            String::new()
        } else {
            v.to_string()
        }
    };
    for run in runs {
        let name = run.name.replace(',', ";");
        for [step, loss] in &run.losses {
            out += &format!("{name},step,,{step},{loss},,,,,,,,\n");
        }
        for m in &run.epochs {
            let fit = m.regression.as_ref().map_or_else(
                || ",,".to_owned(),
                |f| format!("{},{},{}", cell(f.mae), cell(f.rmse), cell(f.r2)),
            );
            let miou = m
                .segmentation
                .as_ref()
                .map_or(String::new(), |s| cell(s.mean_iou));
            out += &format!(
                "{name},epoch,{},{},,{},{},{},{},{fit},{miou}\n",
                m.epoch,
                m.step,
                m.train_loss,
                cell(m.train_acc),
                m.val_loss,
                cell(m.val_acc)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::protocol::Stage;
    use super::*;

    #[test]
    fn a_history_follows_its_events() {
        let mut h = RunHistory::new("#1".to_owned(), 2, None);
        assert!(h.is_active());
        h.apply(&EventKind::Compiled {
            params: 10,
            frozen: 2,
            device: "CPU".to_owned(),
            threads: String::new(),
            precision: "fp32".to_owned(),
            resumed_at: None,
        });
        assert_eq!(h.status, RunStatus::Running);
        h.apply(&EventKind::Batch {
            epoch: 1,
            step: 1,
            step_in_epoch: 1,
            steps_per_epoch: 4,
            loss: 2.5,
            lr: 0.1,
            samples_per_s: 100.0,
            eta_s: 3.0,
        });
        assert_eq!(h.losses, vec![[1.0, 2.5]]);
        assert_eq!(h.progress.map(|p| p.steps_per_epoch), Some(4));
        h.apply(&EventKind::Failed {
            stage: Stage::Loading,
            message: "no data".to_owned(),
        });
        assert_eq!(h.status, RunStatus::Failed("no data".to_owned()));
        assert!(!h.is_active());
        assert!(metrics_csv(&[h]).contains("#1,step,,1,2.5"));
    }

    #[test]
    fn a_run_folder_reads_back_and_a_damaged_one_is_named() {
        let dir = std::env::temp_dir().join(format!("netloom-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = format!(
            "{RUN_CSV_HEADER}\nstep,1,10,0.01,1.5,,,,,,,2\nepoch,1,20,0.01,,1.2,0.6,1.1,0.65,900.0,bf16,1\n"
        );
        std::fs::write(dir.join("metrics.csv"), csv).unwrap();
        let run = RunHistory::from_metrics_csv("#1 cluster".to_owned(), &dir).unwrap();
        assert_eq!(run.losses, vec![[10.0, 1.5]]);
        assert_eq!(run.precision, "bf16");
        assert_eq!(run.epochs.len(), 1);
        assert!((run.epochs[0].val_acc - 0.65).abs() < 1e-12);
        assert_eq!(
            (run.total_epochs, run.status.clone()),
            (1, RunStatus::Finished)
        );
        std::fs::write(
            dir.join("metrics.csv"),
            format!("{RUN_CSV_HEADER}\nstep,1,x,0.1,1,,,,,\n"),
        )
        .unwrap();
        let err = RunHistory::from_metrics_csv("#2".to_owned(), &dir).unwrap_err();
        assert!(err.contains("line 2") && err.contains("\"x\""), "{err}");
        // A folder from before the precision column still reads, and says no precision; one
        // from before the threads column, resumed since, has rows of both widths.
        let [before_regression, before_threads, before_precision] =
            super::super::metrics_csv::OLDER_HEADERS;
        std::fs::write(
            dir.join("metrics.csv"),
            format!("{before_precision}\nepoch,1,20,0.01,,1.2,0.6,1.1,0.65,900.0\n"),
        )
        .unwrap();
        let old = RunHistory::from_metrics_csv("#3".to_owned(), &dir).unwrap();
        assert_eq!((old.epochs.len(), old.precision.as_str()), (1, ""));
        std::fs::write(
            dir.join("metrics.csv"),
            format!("{before_threads}\nepoch,1,20,0.01,,1.2,0.6,1.1,0.65,900.0,fp32\nepoch,2,40,0.01,,1.1,0.7,1.0,0.7,950.0,fp32,2\n"),
        )
        .unwrap();
        let old = RunHistory::from_metrics_csv("#4".to_owned(), &dir).unwrap();
        assert_eq!((old.epochs.len(), old.precision.as_str()), (2, "fp32"));
        // One from before the regression columns, resumed since: a classifier's rows leave
        // them empty; a regression's leave its accuracies empty and read back its fit.
        std::fs::write(
            dir.join("metrics.csv"),
            format!("{before_regression}\nepoch,1,20,0.01,,1.2,0.6,1.1,0.65,900.0,fp32,2\nepoch,2,40,0.01,,1.1,0.7,1.0,0.7,950.0,fp32,2,,,\n"),
        )
        .unwrap();
        let old = RunHistory::from_metrics_csv("#5".to_owned(), &dir).unwrap();
        assert!(!old.regression && old.epochs[1].regression.is_none());
        std::fs::write(
            dir.join("metrics.csv"),
            format!("{RUN_CSV_HEADER}\nepoch,1,20,0.01,,0.2,,0.1,,900.0,fp32,2,3.5,4.25,0.93,,\nepoch,2,40,0.01,,0.2,,0.1,0.9,900.0,fp32,2,,,,0.75,0.5;1;\n"),
        )
        .unwrap();
        let fit = RunHistory::from_metrics_csv("#6".to_owned(), &dir).unwrap();
        assert!(fit.regression && fit.epochs[0].val_acc.is_nan());
        let r = fit.epochs[0].regression.clone().unwrap();
        assert_eq!((r.mae, r.rmse, r.r2), (3.5, 4.25, 0.93));
        // A segmentation's row: its mean and per-class IoU (one class never seen: empty).
        let s = fit.epochs[1].segmentation.clone().unwrap();
        assert_eq!((s.pixel_accuracy, s.mean_iou), (0.9, 0.75));
        assert_eq!(&s.iou[..2], &[0.5, 1.0]);
        assert!(s.iou[2].is_nan());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
