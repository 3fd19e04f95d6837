//! The sweep editor: the parameters (a setting of the design picked from a list, or any
//! address typed), their values or ranges, and the sweep's own settings. It holds text as the
//! user types it and builds a [`Sweep`] on demand, saying what is wrong.

use crate::design::Design;
use crate::design::sweep::{Domain, EarlyStopping, Method, Metric, Objective, Sweep};
use serde_json::Value;

/// How a parameter's values are given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A list.
    Values,
    /// A uniform range.
    Uniform,
    /// A log-uniform range.
    LogUniform,
    /// Integers.
    Int,
    /// Integers, log-uniform.
    LogInt,
}

impl Kind {
    /// Every kind, in the picker's order.
    pub const ALL: [Kind; 5] = [
        Kind::Values,
        Kind::Uniform,
        Kind::LogUniform,
        Kind::Int,
        Kind::LogInt,
    ];

    /// Its name in the picker.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Values => "values",
            Kind::Uniform => "uniform",
            Kind::LogUniform => "log-uniform",
            Kind::Int => "integers",
            Kind::LogInt => "integers, log",
        }
    }
}

/// One parameter as typed.
#[derive(Clone, Debug)]
pub struct Row {
    /// Its address (`training.learning_rate`, `fc1.out_features`).
    pub address: String,
    /// How its values are given.
    pub kind: Kind,
    /// The list, comma-separated.
    pub values: String,
    /// A range's ends.
    pub low: String,
    /// A range's ends.
    pub high: String,
}

/// The editor's state.
#[derive(Clone, Debug)]
pub struct Editor {
    /// The parameters.
    pub rows: Vec<Row>,
    /// Grid or random.
    pub method: Method,
    /// Trials at most (random: how many).
    pub max_trials: u64,
    /// Repeats over seeds.
    pub repeats: u64,
    /// Seeds the draws.
    pub seed: u64,
    /// Epochs per trial.
    pub epochs: u64,
    /// The objective's metric.
    pub metric: Metric,
    /// 0: none, 1: median rule, 2: ASHA.
    pub stopping: usize,
}

impl Default for Editor {
    fn default() -> Self {
        Editor {
            rows: vec![Row {
                address: "training.learning_rate".to_owned(),
                kind: Kind::LogUniform,
                values: "0.001, 0.01, 0.1".to_owned(),
                low: "0.0001".to_owned(),
                high: "0.1".to_owned(),
            }],
            method: Method::Random,
            max_trials: 8,
            repeats: 1,
            seed: 0,
            epochs: 3,
            metric: Metric::ValAcc,
            stopping: 0,
        }
    }
}

/// One item of a comma-separated list: JSON where it reads as JSON (`0.01`, `true`), else a
/// name (`adam`).
fn item(text: &str) -> Value {
    let t = text.trim();
    serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_owned()))
}

impl Editor {
    /// The editor showing `sweep` (a sweep file opened), each parameter as its own kind.
    pub fn from_sweep(sweep: &Sweep) -> Editor {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let rows = sweep
            .parameters
            .iter()
            .map(|(address, domain)| {
                let (kind, values, low, high) = match domain {
                    Domain::Values(v) | Domain::Choice(v) => (
                        Kind::Values,
                        v.iter().map(text).collect::<Vec<_>>().join(", "),
                        String::new(),
                        String::new(),
                    ),
                    Domain::Uniform([a, b]) => {
                        (Kind::Uniform, String::new(), a.to_string(), b.to_string())
                    }
                    Domain::LogUniform([a, b]) => (
                        Kind::LogUniform,
                        String::new(),
                        a.to_string(),
                        b.to_string(),
                    ),
                    Domain::Int([a, b]) => (Kind::Int, String::new(), a.to_string(), b.to_string()),
                    Domain::LogInt([a, b]) => {
                        (Kind::LogInt, String::new(), a.to_string(), b.to_string())
                    }
                };
                Row {
                    address: address.clone(),
                    kind,
                    values,
                    low,
                    high,
                }
            })
            .collect();
        let defaults = Editor::default();
        Editor {
            rows,
            method: sweep.method,
            max_trials: sweep
                .max_trials
                .unwrap_or(sweep.trials().len() as u64)
                .max(1),
            repeats: sweep.repeats,
            seed: sweep.seed,
            epochs: sweep.epochs.unwrap_or(defaults.epochs),
            metric: sweep.objective.metric,
            stopping: match sweep.early_stopping {
                None => 0,
                Some(EarlyStopping::Median { .. }) => 1,
                Some(EarlyStopping::Asha { .. }) => 2,
            },
        }
    }

    /// The sweep the editor describes, or what is wrong with it (the first problem).
    pub fn sweep(&self) -> Result<Sweep, String> {
        let mut parameters = std::collections::BTreeMap::new();
        for row in &self.rows {
            let name = row.address.trim();
            if name.is_empty() {
                return Err("a parameter has no setting: pick one or type its address".to_owned());
            }
            let num = |s: &str| {
                s.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{name}: \"{}\" is not a number", s.trim()))
            };
            let int = |s: &str| {
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("{name}: \"{}\" is not a whole number", s.trim()))
            };
            let domain = match row.kind {
                Kind::Values => Domain::Values(
                    row.values
                        .split(',')
                        .filter(|s| !s.trim().is_empty())
                        .map(item)
                        .collect(),
                ),
                Kind::Uniform => Domain::Uniform([num(&row.low)?, num(&row.high)?]),
                Kind::LogUniform => Domain::LogUniform([num(&row.low)?, num(&row.high)?]),
                Kind::Int => Domain::Int([int(&row.low)?, int(&row.high)?]),
                Kind::LogInt => Domain::LogInt([int(&row.low)?, int(&row.high)?]),
            };
            if parameters.insert(name.to_owned(), domain).is_some() {
                return Err(format!("{name} is listed twice"));
            }
        }
        let sweep = Sweep {
            format: crate::design::sweep::SWEEP_FORMAT.to_owned(),
            version: crate::design::sweep::SWEEP_VERSION,
            design: None,
            data: None,
            method: self.method,
            parameters,
            repeats: self.repeats.max(1),
            max_trials: Some(self.max_trials.max(1)),
            seed: self.seed,
            epochs: Some(self.epochs.max(1)),
            objective: Objective {
                metric: self.metric,
                goal: None,
            },
            early_stopping: match self.stopping {
                1 => Some(EarlyStopping::Median {
                    grace_epochs: 1,
                    min_trials: 3,
                }),
                2 => Some(EarlyStopping::Asha {
                    min_epochs: 1,
                    reduction_factor: 3,
                }),
                _ => None,
            },
        };
        if let Some(first) = sweep.problems().into_iter().next() {
            return Err(first);
        }
        Ok(sweep)
    }
}

/// The settings of `design` a sweep can vary, for the picker: the training settings, every
/// augmentation's fields and every block's settings.
pub fn addresses(design: &Design) -> Vec<String> {
    let mut out: Vec<String> = [
        "learning_rate",
        "optimizer",
        "batch_size",
        "weight_decay",
        "momentum",
        "warmup_steps",
        "clip_grad_norm",
        "precision",
        "seed",
    ]
    .iter()
    .map(|f| format!("training.{f}"))
    .collect();
    for a in &design.data.augmentation {
        if let Ok(Value::Object(fields)) = serde_json::to_value(a) {
            let op = fields.get("op").and_then(Value::as_str).unwrap_or_default();
            out.extend(
                fields
                    .keys()
                    .filter(|k| *k != "op")
                    .map(|k| format!("augment.{op}.{k}")),
            );
        }
    }
    // The Input is the data's shape, not a choice a trial can make.
    let blocks = design
        .nodes
        .iter()
        .filter(|n| !matches!(n.op, crate::design::Op::Input(_)));
    for node in blocks {
        if let Ok(Value::Object(fields)) = serde_json::to_value(&node.op) {
            out.extend(
                fields
                    .iter()
                    .filter(|(k, v)| {
                        *k != "type" && (v.is_number() || v.is_boolean() || v.is_string())
                    })
                    .map(|(k, _)| format!("{}.{k}", node.name)),
            );
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_builds_the_sweep_it_shows_and_says_what_is_wrong() {
        let mut e = Editor::default();
        e.rows.push(Row {
            address: "training.optimizer".to_owned(),
            kind: Kind::Values,
            values: "sgd, adam".to_owned(),
            low: String::new(),
            high: String::new(),
        });
        let s = e.sweep().unwrap();
        assert_eq!(
            s.parameters["training.optimizer"],
            Domain::Values(vec![Value::from("sgd"), Value::from("adam")])
        );
        assert_eq!(
            s.parameters["training.learning_rate"],
            Domain::LogUniform([1e-4, 0.1])
        );
        e.rows[0].low = "zero".to_owned();
        assert!(e.sweep().unwrap_err().contains("\"zero\""));
        e.rows[0].low = "0".to_owned();
        assert!(e.sweep().unwrap_err().contains("0 < low"));
        let lenet =
            crate::design::from_json(include_str!("../../../../examples/lenet5.json")).unwrap();
        let a = addresses(&lenet);
        assert!(
            a.contains(&"fc1.out_features".to_owned())
                && a.contains(&"training.learning_rate".to_owned())
        );
    }
}
