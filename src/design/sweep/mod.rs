//! Sweeps: one design trained many times with some of its settings varied, to see which of
//! them made the difference (the course's coarse-to-fine random search of the learning rate
//! and regularisation; MATLAB's Experiment Manager, W&B sweeps).
//!
//! A sweep is plain data read from its own JSON file (`netloom-sweep`, docs/design-format.md):
//! the parameters (any training setting, augmentation strength or block setting, addressed
//! by name: [`apply`]), how values are drawn (a grid of lists or seeded random draws from
//! distributions: [`space`]), repeats over seeds, a cap on trials, the objective, and an
//! early-stopping rule ([`stopping`]). Everything here is pure: the engine runs the trials
//! this module lists, with the designs it makes.

pub mod apply;
pub mod space;
pub mod stopping;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub use apply::trial_design;
pub use space::Trial;
pub use stopping::{EarlyStopping, Peer, Verdict, decide};

/// The `format` field of a sweep file.
pub const SWEEP_FORMAT: &str = "netloom-sweep";
/// The sweep file version this build writes and reads.
pub const SWEEP_VERSION: u32 = 1;
/// Trials a random sweep draws when the file sets no `max_trials`.
pub const DEFAULT_RANDOM_TRIALS: u64 = 10;

/// A sweep definition, as its file holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// Always [`SWEEP_FORMAT`].
    #[serde(default = "format_name")]
    pub format: String,
    /// [`SWEEP_VERSION`].
    #[serde(default = "version")]
    pub version: u32,
    /// The design the trials vary (relative to the sweep file's folder); `--design` overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<String>,
    /// The data spec the trials train on; `--data` overrides (default: the design's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// A grid of every combination, or random draws.
    #[serde(default)]
    pub method: Method,
    /// What varies: an address ([`apply`]) and its values.
    pub parameters: BTreeMap<String, Domain>,
    /// Each combination is trained this many times, with seeds `seed`, `seed + 1`, …
    #[serde(default = "one")]
    pub repeats: u64,
    /// At most this many trials in all (a random sweep's default is [`DEFAULT_RANDOM_TRIALS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_trials: Option<u64>,
    /// Seeds the random draws (not the training: that is the design's `training.seed`).
    #[serde(default)]
    pub seed: u64,
    /// Epochs of every trial (default: the design's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u64>,
    /// What a trial is judged by.
    #[serde(default)]
    pub objective: Objective,
    /// Stopping hopeless trials early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
}

fn format_name() -> String {
    SWEEP_FORMAT.to_owned()
}
fn version() -> u32 {
    SWEEP_VERSION
}
fn one() -> u64 {
    1
}

/// How a sweep's values are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Every combination of the `values` lists, the last parameter (by name) varying fastest.
    #[default]
    Grid,
    /// Each trial draws every parameter from its distribution (a list: one of its values).
    Random,
}

/// The values of one parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Domain {
    /// These values: a grid tries each; a random sweep picks one.
    Values(Vec<Value>),
    /// One of these, picked at random (a grid tries each, as `values`).
    Choice(Vec<Value>),
    /// A number drawn uniformly from `[low, high]`.
    Uniform([f64; 2]),
    /// A positive number whose logarithm is uniform: as likely in [1e-4, 1e-3] as in
    /// [1e-2, 1e-1] (the learning rate's natural scale).
    LogUniform([f64; 2]),
    /// An integer drawn uniformly from `low..=high`.
    Int([i64; 2]),
    /// A positive integer whose logarithm is uniform (widths: 16 as likely as 256).
    LogInt([i64; 2]),
}

impl Domain {
    /// The listed values, for a grid; None for a distribution.
    pub fn listed(&self) -> Option<&[Value]> {
        match self {
            Domain::Values(v) | Domain::Choice(v) => Some(v),
            _ => None,
        }
    }

    /// Whether its range is logarithmic (the Experiments view draws it on a log axis).
    pub fn is_log(&self) -> bool {
        matches!(self, Domain::LogUniform(_) | Domain::LogInt(_))
    }

    fn problem(&self, name: &str) -> Option<String> {
        let bad = |what: &str| Some(format!("parameter \"{name}\": {what}"));
        match self {
            Domain::Values(v) | Domain::Choice(v) if v.is_empty() => {
                bad("the list of values is empty")
            }
            Domain::Uniform([lo, hi]) if !(lo.is_finite() && hi.is_finite() && lo <= hi) => bad(
                &format!("uniform needs [low, high] with low ≤ high, not [{lo}, {hi}]"),
            ),
            Domain::LogUniform([lo, hi])
                if !(lo.is_finite() && hi.is_finite() && 0.0 < *lo && lo <= hi) =>
            {
                bad(&format!(
                    "log_uniform needs [low, high] with 0 < low ≤ high, not [{lo}, {hi}] (a logarithm has no zero: start at e.g. 1e-5)"
                ))
            }
            Domain::Int([lo, hi]) if lo > hi => bad(&format!(
                "int needs [low, high] with low ≤ high, not [{lo}, {hi}]"
            )),
            Domain::LogInt([lo, hi]) if !(0 < *lo && lo <= hi) => bad(&format!(
                "log_int needs [low, high] with 0 < low ≤ high, not [{lo}, {hi}]"
            )),
            _ => None,
        }
    }
}

/// A metric a trial can be judged by: the columns of metrics.csv's epoch rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Validation accuracy (a segmentation's pixel accuracy).
    #[default]
    ValAcc,
    /// Validation loss.
    ValLoss,
    /// Training accuracy.
    TrainAcc,
    /// Training loss.
    TrainLoss,
    /// A regression's R² on the validation split.
    ValR2,
    /// A regression's mean absolute error.
    ValMae,
    /// A regression's root mean squared error.
    ValRmse,
    /// A segmentation's mean IoU.
    ValMiou,
}

impl Metric {
    /// Its name, as the file and metrics.csv write it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::ValAcc => "val_acc",
            Metric::ValLoss => "val_loss",
            Metric::TrainAcc => "train_acc",
            Metric::TrainLoss => "train_loss",
            Metric::ValR2 => "val_r2",
            Metric::ValMae => "val_mae",
            Metric::ValRmse => "val_rmse",
            Metric::ValMiou => "val_miou",
        }
    }

    /// Whether lower is better for it (losses and errors).
    pub fn lower_is_better(self) -> bool {
        matches!(
            self,
            Metric::ValLoss | Metric::TrainLoss | Metric::ValMae | Metric::ValRmse
        )
    }
}

/// Which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Higher is better.
    Maximize,
    /// Lower is better.
    Minimize,
}

/// What trials are judged by: a metric and a direction (by default the metric's own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// The metric.
    #[serde(default)]
    pub metric: Metric,
    /// Which way is better (default: minimise losses and errors, maximise the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<Goal>,
}

impl Objective {
    /// The direction, set or implied.
    pub fn goal(&self) -> Goal {
        self.goal.unwrap_or(if self.metric.lower_is_better() {
            Goal::Minimize
        } else {
            Goal::Maximize
        })
    }

    /// `v` turned so that higher is better (NaN, an undefined metric, is worst).
    pub fn oriented(&self, v: f64) -> f64 {
        match (v.is_nan(), self.goal()) {
            (true, _) => f64::NEG_INFINITY,
            (false, Goal::Maximize) => v,
            (false, Goal::Minimize) => -v,
        }
    }

    /// The better of two values (the first on a tie); NaN loses.
    pub fn better(&self, a: f64, b: f64) -> f64 {
        if self.oriented(b) > self.oriented(a) {
            b
        } else {
            a
        }
    }
}

/// Why a sweep file can't be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SweepError {
    /// Not JSON, or not a sweep's fields.
    #[error("not a readable sweep file: {0}")]
    Json(String),
    /// A file of another kind.
    #[error(
        "this is not a netloom sweep (its \"format\" is \"{0}\", not \"netloom-sweep\"); a design is trained with `netloom train`"
    )]
    NotASweep(String),
    /// Written by a newer netloom.
    #[error(
        "this sweep file is version {0}, newer than this netloom reads ({SWEEP_VERSION}): update netloom"
    )]
    NewerVersion(u32),
    /// Fields that contradict each other or are out of range.
    #[error("{0}")]
    Invalid(String),
}

impl Sweep {
    /// Reads a sweep from the text of its file, checked ([`Sweep::problems`]).
    pub fn from_json(text: &str) -> Result<Sweep, SweepError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let sweep: Sweep =
            serde_json::from_str(text).map_err(|e| SweepError::Json(e.to_string()))?;
        if sweep.format != SWEEP_FORMAT {
            return Err(SweepError::NotASweep(sweep.format));
        }
        if sweep.version > SWEEP_VERSION {
            return Err(SweepError::NewerVersion(sweep.version));
        }
        if let Some(first) = sweep.problems().into_iter().next() {
            return Err(SweepError::Invalid(first));
        }
        Ok(sweep)
    }

    /// The file's text: fields in a fixed order, parameters sorted by name.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// What is wrong with the definition itself (before any design is looked at), worded
    /// for the person who wrote it.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.parameters.is_empty() {
            out.push("the sweep has no parameters: add one, e.g. \"training.learning_rate\": {\"log_uniform\": [1e-4, 1e-1]}".to_owned());
        }
        for (name, domain) in &self.parameters {
            out.extend(domain.problem(name));
            if self.method == Method::Grid && domain.listed().is_none() {
                out.push(format!(
                    "parameter \"{name}\": a grid needs a list of values (\"values\": [...]); draw from a range with \"method\": \"random\""
                ));
            }
        }
        if self.repeats == 0 {
            out.push("repeats must be at least 1".to_owned());
        }
        if self.max_trials == Some(0) {
            out.push("max_trials must be at least 1 (or left out)".to_owned());
        }
        if self.epochs == Some(0) {
            out.push("epochs must be at least 1 (or left out for the design's)".to_owned());
        }
        out.extend(
            self.early_stopping
                .as_ref()
                .and_then(EarlyStopping::problem),
        );
        out
    }

    /// Every trial the sweep runs, in order ([`space`]).
    pub fn trials(&self) -> Vec<Trial> {
        space::trials(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_reads_back_what_it_writes_and_refuses_what_is_not_one() {
        let text = r#"{"format": "netloom-sweep", "method": "random", "max_trials": 6,
            "parameters": {"training.learning_rate": {"log_uniform": [1e-4, 0.1]},
                           "fc1.out_features": {"values": [32, 64]}},
            "objective": {"metric": "val_loss"},
            "early_stopping": {"rule": "median", "grace_epochs": 1}}"#;
        let sweep = Sweep::from_json(text).unwrap();
        assert_eq!(sweep.objective.goal(), Goal::Minimize);
        assert_eq!(Sweep::from_json(&sweep.to_json()).unwrap(), sweep);
        let design = r#"{"format": "netloom-design", "parameters": {}}"#;
        assert!(matches!(
            Sweep::from_json(design),
            Err(SweepError::NotASweep(_))
        ));
        let grid_range = r#"{"format": "netloom-sweep",
            "parameters": {"training.learning_rate": {"uniform": [0.1, 0.01]}}}"#;
        let err = Sweep::from_json(grid_range).unwrap_err().to_string();
        assert!(err.contains("low ≤ high"), "{err}");
        let typo = r#"{"format": "netloom-sweep", "parameter": {}}"#;
        assert!(matches!(Sweep::from_json(typo), Err(SweepError::Json(_))));
        let no_log_zero = r#"{"format": "netloom-sweep", "method": "random",
            "parameters": {"training.learning_rate": {"log_uniform": [0, 0.1]}}}"#;
        assert!(Sweep::from_json(no_log_zero).is_err());
        let grid_of_range = r#"{"format": "netloom-sweep",
            "parameters": {"training.learning_rate": {"log_uniform": [1e-3, 0.1]}}}"#;
        let err = Sweep::from_json(grid_of_range).unwrap_err().to_string();
        assert!(err.contains("\"method\": \"random\""), "{err}");
    }

    #[test]
    fn the_objective_orients_losses_downwards_and_nan_last() {
        let loss = Objective {
            metric: Metric::ValLoss,
            goal: None,
        };
        assert_eq!(loss.better(0.5, 0.3), 0.3);
        assert_eq!(loss.better(0.5, f64::NAN), 0.5);
        let acc = Objective::default();
        assert_eq!(acc.better(0.5, 0.7), 0.7);
        assert_eq!(acc.better(f64::NAN, 0.1), 0.1);
    }
}
