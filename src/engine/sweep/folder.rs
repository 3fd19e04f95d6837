//! A sweep folder on disk: reading back what netloom or tune.py wrote (the definition, the
//! design, the data and every trial's row and curve), and the checks that keep a new sweep off
//! an old one.

use super::trials_csv::{self, TrialRecord, TrialStatus};
use super::{BASE_DESIGN, SWEEP_JSON};
use crate::data::DataSpec;
use crate::design::Design;
use crate::design::sweep::{Metric, Sweep};
use crate::engine::{EngineError, EpochMetrics, RunHistory};
use std::path::{Path, PathBuf};

/// A sweep folder as it stands: what netloom or tune.py wrote.
#[derive(Clone, Debug)]
pub struct SweepResults {
    /// The definition as run.
    pub sweep: Sweep,
    /// The design it varies.
    pub design: Design,
    /// The data its trials train on.
    pub data: DataSpec,
    /// Every trial, with what trials.csv and the trials' run folders say.
    pub records: Vec<TrialRecord>,
}

/// Reads the sweep folder `out` (netloom's, or a Ray Tune export's results): its definition,
/// design, data and trials, each running trial's curve as far as its run folder got.
pub fn read_results(out: &Path) -> Result<SweepResults, EngineError> {
    let (sweep, design, data) = read_folder(out)?;
    let mut records = fresh_records(&sweep, &design);
    let path = out.join(trials_csv::TRIALS_CSV);
    if let Ok(text) = crate::fsio::read_regular_to_string(&path) {
        trials_csv::read_into(&text, &sweep, &mut records, &path).map_err(|problem| {
            EngineError::RunFolder {
                problem,
                path: path.clone(),
            }
        })?;
    }
    for r in records
        .iter_mut()
        .filter(|r| r.status == TrialStatus::Running)
    {
        // The run folder knows how far the trial got (a kill can fall between its
        // checkpoint and the table's row).
        if let Ok(h) = RunHistory::from_metrics_csv(String::new(), &out.join(r.trial.name())) {
            r.curve = h
                .epochs
                .iter()
                .map(|m| metric_of(m, sweep.objective.metric))
                .collect();
            r.epochs = r.curve.len() as u64;
        }
    }
    Ok(SweepResults {
        sweep,
        design,
        data,
        records,
    })
}

/// Every trial, pending, with its seed.
pub(super) fn fresh_records(sweep: &Sweep, design: &Design) -> Vec<TrialRecord> {
    sweep
        .trials()
        .into_iter()
        .map(|t| {
            let seed = design.training.seed.wrapping_add(t.repeat);
            TrialRecord::new(t, seed)
        })
        .collect()
}

/// The objective's value in an epoch's metrics (NaN where the run has no such metric).
pub fn metric_of(m: &EpochMetrics, metric: Metric) -> f64 {
    match metric {
        Metric::ValAcc => m.val_acc,
        Metric::ValLoss => m.val_loss,
        Metric::TrainAcc => m.train_acc,
        Metric::TrainLoss => m.train_loss,
        Metric::ValR2 => m.regression.as_ref().map_or(f64::NAN, |f| f.r2),
        Metric::ValMae => m.regression.as_ref().map_or(f64::NAN, |f| f.mae),
        Metric::ValRmse => m.regression.as_ref().map_or(f64::NAN, |f| f.rmse),
        Metric::ValMiou => m.segmentation.as_ref().map_or(f64::NAN, |f| f.mean_iou),
    }
}

/// Refuses a folder that holds a sweep or trial folders already: a new sweep never writes
/// over another's results.
pub(super) fn refuse_existing(out: &Path) -> Result<(), EngineError> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    let theirs: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n == SWEEP_JSON || n == trials_csv::TRIALS_CSV || n.starts_with("trial-"))
        .collect();
    if theirs.is_empty() {
        return Ok(());
    }
    Err(EngineError::RunFolder {
        problem: format!(
            "a sweep is already here ({}): continue it with --resume, or give another --out",
            theirs.join(", ")
        ),
        path: out.to_owned(),
    })
}

/// A sweep folder's definition, base design and data.
fn read_folder(out: &Path) -> Result<(Sweep, Design, DataSpec), EngineError> {
    let bad = |problem: String, path: PathBuf| EngineError::RunFolder { problem, path };
    let path = out.join(SWEEP_JSON);
    let text = crate::fsio::read_regular_to_string(&path).map_err(|e| {
        bad(
            format!(
                "there is no sweep here ({e}): a sweep folder is one netloom sweep --out or an exported tune.py wrote"
            ),
            path.clone(),
        )
    })?;
    let sweep = Sweep::from_json(&text).map_err(|e| bad(e.to_string(), path.clone()))?;
    let design_path = out.join(BASE_DESIGN);
    let text = crate::fsio::read_regular_to_string(&design_path).map_err(|e| {
        bad(
            format!("the sweep's design is missing ({e})"),
            design_path.clone(),
        )
    })?;
    let design =
        crate::design::from_json(&text).map_err(|e| bad(e.to_string(), design_path.clone()))?;
    let spec = sweep.data.clone().unwrap_or_default();
    let data = DataSpec::parse(&spec)
        .map_err(|e| bad(format!("its data \"{spec}\": {e}"), path.clone()))?;
    Ok((sweep, design, data))
}

pub(super) fn write_file(path: &Path, text: &str) -> Result<(), EngineError> {
    crate::fsio::atomic_write_bytes(path, text.as_bytes())
        .map_err(|e| EngineError::io("write", path, e))
}
