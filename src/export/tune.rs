//! The Ray Tune export of a sweep: beside the PyTorch folder of the sweep's design, tune.py
//! and what it needs to run every trial netloom would run, with Ray Tune scheduling them
//! (on this machine or a cluster) and stopping them by the same rule.
//!
//! Ray runs netloom's own list of trials (the same values, the same seeds: a random sweep's
//! draws are netloom's, not Ray's), as a grid over the trial names, so that a trial in Ray
//! and the same trial in `netloom sweep` can be compared row by row. A trial whose network
//! differs (`fc1.out_features`) gets the model.py of its own network (`nets/`); every trial
//! gets its training settings, augmentation, frozen blocks and design (`trials/`).

use super::python::literal;
use super::{ExportError, ExportRequest, model_py, train_py, write_file};
use crate::design::sweep::{Sweep, trial_design};
use crate::design::{Design, Plan, to_json};
use serde_json::{Value, json};
use std::path::Path;

/// tune.py's hand-written part, with placeholders where the generated constants go (between
/// [`GENERATED`] and [`AFTER`]), so that the file runs (and is linted) as it stands.
const BODY: &str = include_str!("tune.py.in");
const GENERATED: &str = "\n# ---- generated";
const AFTER: &str =
    "\n# ---------------------------------------------------------------- one trial\n";

/// Writes nets/, trials/, sweep.json and tune.py into the export folder `dir`.
pub(super) fn write(req: &ExportRequest, sweep: &Sweep, dir: &Path) -> Result<(), ExportError> {
    if let Some(p) = sweep.parameters.keys().find(|k| k.starts_with("data.")) {
        return Err(ExportError::Unsupported {
            node: p.clone(),
            why: "a data setting is fitted on the data once, at export; tune.py can't vary it: sweep it with `netloom sweep`".to_owned(),
        });
    }
    for sub in ["nets", "trials"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|source| ExportError::Write {
            what: "the export folder",
            path: dir.join(sub),
            source,
        })?;
    }
    let mut nets: Vec<Design> = Vec::new();
    let (mut trials, mut invalid) = (Vec::new(), Vec::new());
    for trial in sweep.trials() {
        let cells: serde_json::Map<String, Value> = trial
            .values
            .iter()
            .map(|(k, v)| (k.clone(), json!(cell(v))))
            .collect();
        let design = match trial_design(sweep, &req.design, &trial) {
            Ok(d) => d,
            Err(message) => {
                invalid.push(
                    json!({"name": trial.name(), "cells": cells, "message": message,
                                    "seed": req.design.training.seed.wrapping_add(trial.repeat)}),
                );
                continue;
            }
        };
        if design.input_shape() != req.design.input_shape() {
            return Err(ExportError::Unsupported {
                node: trial.name(),
                why: "it changes the network's input, and tune.py's trials share the data exported for the design's: sweep it with `netloom sweep`".to_owned(),
            });
        }
        let plan = Plan::of(&design)?;
        let net = match nets.iter().position(|n| n.same_network(&design)) {
            Some(i) => i,
            None => {
                let title = format!("{} (network {} of the sweep)", req.title, nets.len() + 1);
                write_file(
                    &dir.join(format!("nets/net_{}.py", nets.len() + 1)),
                    model_py::model_py(&plan, &title).as_bytes(),
                    "a trial's model.py",
                )?;
                nets.push(design.clone());
                nets.len() - 1
            }
        };
        let analysis = crate::design::analyse(&design);
        let params: u64 = analysis
            .nodes
            .iter()
            .filter(|r| design.node(r.id).is_some_and(|n| !n.frozen))
            .map(|r| r.params)
            .sum();
        let mut spec = train_py::globals(&design, &plan);
        spec["name"] = json!(trial.name());
        spec["net"] = json!(format!("net_{}", net + 1));
        spec["params"] = json!(params);
        spec["design"] = serde_json::from_str(&to_json(&design)).unwrap_or(Value::Null);
        write_file(
            &dir.join(format!("trials/{}.json", trial.name())),
            serde_json::to_string_pretty(&spec)
                .unwrap_or_default()
                .as_bytes(),
            "a trial's settings",
        )?;
        trials.push(json!({"name": trial.name(), "cells": cells,
                           "seed": design.training.seed}));
    }
    if trials.is_empty() {
        return Err(ExportError::InvalidDesign {
            count: invalid.len(),
            first: invalid
                .first()
                .and_then(|t| t["message"].as_str())
                .unwrap_or("the sweep has no trials")
                .to_owned(),
        });
    }
    let mut recorded = sweep.clone();
    recorded.design = Some("design.json".to_owned());
    recorded.data = req
        .data
        .as_ref()
        .map(|d| d.resolved().to_spec())
        .or(recorded.data);
    write_file(
        &dir.join("sweep.json"),
        recorded.to_json().as_bytes(),
        "sweep.json",
    )?;
    write_file(
        &dir.join("tune.py"),
        tune_py(req, sweep, &trials, &invalid).as_bytes(),
        "tune.py",
    )
}

/// A parameter's trials.csv cell, exactly as netloom writes it (tune.py writes the same).
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// tune.py: its docstring and generated constants, then [`BODY`].
fn tune_py(req: &ExportRequest, sweep: &Sweep, trials: &[Value], invalid: &[Value]) -> String {
    let epochs = sweep.epochs.unwrap_or(req.design.training.epochs);
    let metric = sweep.objective.metric.name();
    let mode = match sweep.objective.goal() {
        crate::design::sweep::Goal::Maximize => "max",
        crate::design::sweep::Goal::Minimize => "min",
    };
    let stopping = serde_json::to_value(&sweep.early_stopping).unwrap_or(Value::Null);
    let header = crate::engine::sweep::trials_csv::header(sweep);
    let mut out = format!(
        "\"\"\"Runs the netloom sweep \"{}\" with Ray Tune, written by netloom {}.\n\n\
         On this machine:   python tune.py\n\
         On a Ray cluster:  python tune.py --address auto --out /shared/results   (docs/scale-out.md)\n\n\
         Each trial trains with train.py, as netloom trains it, into a netloom run folder under --out\n\
         (metrics.csv, weights.safetensors, best.safetensors, design.json), and --out/trials.csv lists\n\
         them in netloom's columns: open --out in netloom's Experiments view, or read it with\n\
         `netloom sweep --resume OUT`.\n\"\"\"\n",
        super::python::docstring_text(&req.title),
        env!("CARGO_PKG_VERSION")
    );
    out += BODY.split(GENERATED).next().unwrap_or_default();
    out += "\n# ---------------------------------------- this sweep (generated by netloom)\n";
    out += &format!("METRIC = {}\n", literal(&json!(metric)));
    out += &format!("MODE = {}\n", literal(&json!(mode)));
    out += &format!("EPOCHS = {epochs}\n");
    out += &format!("EARLY_STOPPING = {}\n", literal(&stopping));
    out += &format!("COLUMNS = {}\n", literal(&json!(header)));
    out += &format!(
        "PARAMETERS = {}\n",
        literal(&json!(sweep.parameters.keys().collect::<Vec<_>>()))
    );
    out += &format!("TRIALS = {}\n", literal(&Value::Array(trials.to_vec())));
    out += &format!("INVALID = {}\n", literal(&Value::Array(invalid.to_vec())));
    out += AFTER;
    out += BODY.split_once(AFTER).map_or("", |(_, rest)| rest);
    out
}
