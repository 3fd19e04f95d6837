//! A sweep's `trials.csv`: one row per trial, in the sweep's order, with its parameters,
//! status and results. Rewritten whole (atomically) whenever a trial starts, ends an epoch or
//! ends, so a kill leaves the last complete table; `--resume` reads it back.

use crate::design::sweep::{Sweep, Trial};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The file's name in the sweep folder.
pub const TRIALS_CSV: &str = "trials.csv";

/// Where a trial is.
#[derive(Clone, Debug, PartialEq)]
pub enum TrialStatus {
    /// Not started.
    Pending,
    /// Training (or stopped with a checkpoint, to be resumed).
    Running,
    /// Trained all its epochs.
    Done,
    /// Stopped early by the sweep's rule (the reason).
    Pruned(String),
    /// Its design is not valid (the analysis message); never trained.
    Invalid(String),
    /// Training failed (the error).
    Failed(String),
}

impl TrialStatus {
    /// The `status` cell.
    pub fn word(&self) -> &'static str {
        match self {
            TrialStatus::Pending => "pending",
            TrialStatus::Running => "running",
            TrialStatus::Done => "done",
            TrialStatus::Pruned(_) => "pruned",
            TrialStatus::Invalid(_) => "invalid",
            TrialStatus::Failed(_) => "failed",
        }
    }

    /// The reason, for a pruned, invalid or failed trial.
    pub fn message(&self) -> &str {
        match self {
            TrialStatus::Pruned(m) | TrialStatus::Invalid(m) | TrialStatus::Failed(m) => m,
            _ => "",
        }
    }

    /// Whether it is over (nothing to resume).
    pub fn is_final(&self) -> bool {
        !matches!(self, TrialStatus::Pending | TrialStatus::Running)
    }

    fn parse(word: &str, message: &str) -> Option<TrialStatus> {
        let m = message.to_owned();
        Some(match word {
            "pending" => TrialStatus::Pending,
            "running" => TrialStatus::Running,
            "done" => TrialStatus::Done,
            "pruned" => TrialStatus::Pruned(m),
            "invalid" => TrialStatus::Invalid(m),
            "failed" => TrialStatus::Failed(m),
            _ => return None,
        })
    }
}

/// One trial's row.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialRecord {
    /// The trial (its number and values).
    pub trial: Trial,
    /// Where it is.
    pub status: TrialStatus,
    /// The seed it trains with.
    pub seed: u64,
    /// The objective after each epoch.
    pub curve: Vec<f64>,
    /// Epochs trained.
    pub epochs: u64,
    /// Wall time spent training, seconds (all attempts).
    pub seconds: f64,
    /// Trainable parameters (0 until compiled).
    pub params: u64,
}

impl TrialRecord {
    /// A trial not yet started.
    pub fn new(trial: Trial, seed: u64) -> TrialRecord {
        TrialRecord {
            trial,
            status: TrialStatus::Pending,
            seed,
            curve: Vec::new(),
            epochs: 0,
            seconds: 0.0,
            params: 0,
        }
    }

    /// The best objective value and its epoch (1-based), for `sweep`'s goal.
    pub fn best(&self, sweep: &Sweep) -> Option<(f64, u64)> {
        let o = &sweep.objective;
        self.curve
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_nan())
            .fold(None, |best: Option<(f64, u64)>, (i, v)| match best {
                Some((b, _)) if o.oriented(*v) <= o.oriented(b) => best,
                _ => Some((*v, i as u64 + 1)),
            })
    }
}

/// The header: the fixed columns around one column per parameter (sorted by address).
pub fn header(sweep: &Sweep) -> Vec<String> {
    let metric = sweep.objective.metric.name();
    let mut h = vec!["trial".to_owned(), "status".to_owned(), "seed".to_owned()];
    h.extend(sweep.parameters.keys().cloned());
    h.extend([
        format!("best_{metric}"),
        "best_epoch".to_owned(),
        "epochs".to_owned(),
        "seconds".to_owned(),
        "params".to_owned(),
        format!("{metric}_per_epoch"),
        "message".to_owned(),
    ]);
    h
}

/// A parameter's cell: a string as itself, anything else as JSON.
fn value_cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The table's text.
pub fn to_csv(sweep: &Sweep, records: &[TrialRecord]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(header(sweep));
    for r in records {
        let (best, epoch) = r
            .best(sweep)
            .map_or((String::new(), String::new()), |(b, e)| {
                (b.to_string(), e.to_string())
            });
        let mut row = vec![
            r.trial.name(),
            r.status.word().to_owned(),
            r.seed.to_string(),
        ];
        row.extend(
            sweep
                .parameters
                .keys()
                .map(|k| r.trial.values.get(k).map_or_else(String::new, value_cell)),
        );
        let curve: Vec<String> = r.curve.iter().map(f64::to_string).collect();
        row.extend([
            best,
            epoch,
            r.epochs.to_string(),
            format!("{:.1}", r.seconds),
            r.params.to_string(),
            curve.join(";"),
            r.status.message().to_owned(),
        ]);
        let _ = w.write_record(row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Writes the table atomically.
pub fn write(dir: &Path, sweep: &Sweep, records: &[TrialRecord]) -> std::io::Result<()> {
    crate::fsio::atomic_write_bytes(&dir.join(TRIALS_CSV), to_csv(sweep, records).as_bytes())
}

/// Reads back what [`write`] wrote, for the sweep's own trials: each row's status, results and
/// progress onto `records` (matched by trial name; the values must be the trial's, or the
/// table belongs to another sweep). A row that doesn't parse is an error naming its line.
pub fn read_into(
    text: &str,
    sweep: &Sweep,
    records: &mut [TrialRecord],
    path: &Path,
) -> Result<(), String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let want = header(sweep);
    let got: Vec<String> = r
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .iter()
        .map(str::to_owned)
        .collect();
    if got != want {
        return Err(format!(
            "{} has the columns {}, not this sweep's ({}): it is another sweep's table",
            path.display(),
            got.join(","),
            want.join(",")
        ));
    }
    let params = sweep.parameters.len();
    for (i, row) in r.records().enumerate() {
        let bad = |what: String| format!("{} line {}: {what}", path.display(), i + 2);
        let row = row.map_err(|e| bad(e.to_string()))?;
        let cell = |k: usize| row.get(k).unwrap_or_default();
        let Some(rec) = records.iter_mut().find(|t| t.trial.name() == cell(0)) else {
            return Err(bad(format!("this sweep has no trial {}", cell(0))));
        };
        let values: BTreeMap<&String, String> = sweep
            .parameters
            .keys()
            .enumerate()
            .map(|(j, k)| (k, cell(3 + j).to_owned()))
            .collect();
        for (k, v) in &values {
            if rec.trial.values.get(*k).map(value_cell).as_deref() != Some(v.as_str()) {
                return Err(bad(format!(
                    "{} has {k} = {v}, but this sweep's {} has {}: the table belongs to another sweep",
                    cell(0),
                    rec.trial.name(),
                    rec.trial.values.get(*k).map(value_cell).unwrap_or_default()
                )));
            }
        }
        let at = 3 + params;
        rec.status = TrialStatus::parse(cell(1), cell(at + 6))
            .ok_or_else(|| bad(format!("unknown status \"{}\"", cell(1))))?;
        let num = |k: usize| {
            cell(k)
                .parse::<f64>()
                .map_err(|_| bad(format!("\"{}\" is not a number", cell(k))))
        };
        rec.epochs = num(at + 2)? as u64;
        rec.seconds = num(at + 3)?;
        rec.params = num(at + 4)? as u64;
        rec.curve = cell(at + 5)
            .split(';')
            .filter(|c| !c.is_empty())
            .map(|c| {
                c.parse::<f64>()
                    .map_err(|_| bad(format!("\"{c}\" is not a number")))
            })
            .collect::<Result<_, _>>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_reads_back_as_written() {
        let sweep = Sweep::from_json(
            r#"{"format": "netloom-sweep", "parameters": {
                "training.optimizer": {"values": ["sgd", "adam"]},
                "training.learning_rate": {"values": [0.1, 0.001]}}}"#,
        )
        .unwrap();
        let mut records: Vec<TrialRecord> = sweep
            .trials()
            .into_iter()
            .map(|t| TrialRecord::new(t, 3))
            .collect();
        records[0].status = TrialStatus::Done;
        records[0].curve = vec![0.5, 0.75, 0.625];
        records[0].epochs = 3;
        records[1].status = TrialStatus::Pruned("worse, than the median".to_owned());
        records[2].status = TrialStatus::Running;
        records[2].curve = vec![0.1];
        let text = to_csv(&sweep, &records);
        assert!(text.starts_with("trial,status,seed,training.learning_rate,training.optimizer,best_val_acc,best_epoch,"), "{text}");
        assert!(
            text.contains("trial-001,done,3,0.1,sgd,0.75,2,3,"),
            "{text}"
        );
        let mut back: Vec<TrialRecord> = sweep
            .trials()
            .into_iter()
            .map(|t| TrialRecord::new(t, 3))
            .collect();
        read_into(&text, &sweep, &mut back, Path::new("trials.csv")).unwrap();
        assert_eq!(back, records);
        let other = Sweep::from_json(
            r#"{"format": "netloom-sweep", "parameters": {
                "training.optimizer": {"values": ["sgd", "adam"]},
                "training.learning_rate": {"values": [0.2, 0.001]}}}"#,
        )
        .unwrap();
        let mut theirs: Vec<TrialRecord> = other
            .trials()
            .into_iter()
            .map(|t| TrialRecord::new(t, 3))
            .collect();
        let err = read_into(&text, &other, &mut theirs, Path::new("trials.csv")).unwrap_err();
        assert!(err.contains("another sweep"), "{err}");
    }
}
