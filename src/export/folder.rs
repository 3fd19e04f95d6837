//! The PyTorch export folder: model.py, train.py, the design, the fitted preprocessing, the
//! weights, and the data train.py trains on, checked against the design first.

use super::metadata::unfitted;
use super::{
    ExportError, ExportRequest, Staged, model_py, network_with, place, train_py, write_file,
};
use crate::data::{DataSpec, Preprocessor};
use crate::design::Plan;
use crate::design::{Preprocessing, to_json};
use std::path::Path;

/// The data train.py trains on, checked against the design as `train` checks it: data the
/// user named that can't train the design is refused; named data that can't be read here (it
/// lives on the cluster) is written unchecked, and said; when none was named and the default
/// doesn't fit (a 3×224×224 design has no built-in data), train.py is written without data,
/// and said. The loaded data, when there is some, fits the preprocessing.
/// train.py's data, that data loaded when it can be here, and what to tell the user.
type TrainData = (Option<DataSpec>, Option<crate::data::Dataset>, Vec<String>);

fn train_data(req: &ExportRequest) -> Result<TrainData, ExportError> {
    let input = req.design.input_shape();
    let mut notes = Vec::new();
    let no_data = |why: String| {
        format!(
            "train.py has no data: {why}. Export again with --data naming data that fits (or choose it in the Train view), or set DATA in train.py"
        )
    };
    let (spec, named) = match &req.data {
        Some(s) => (s.clone(), true),
        // The data the design records, else the default for its Input (as train's).
        None => match DataSpec::for_design(&req.design) {
            Ok(s) => (s, false),
            Err(e) => return Ok((None, None, vec![no_data(e.to_string())])),
        },
    };
    let data = match spec.load_for(input) {
        Ok(data) => data,
        Err(e) if named => {
            notes.push(format!(
                "{} can't be read here ({e}), so it isn't checked against the design: train.py checks it where it runs",
                spec.to_spec()
            ));
            return Ok((Some(spec), None, notes));
        }
        Err(e) => return Ok((None, None, vec![no_data(e.to_string())])),
    };
    let analysis = crate::design::analyse(&req.design);
    match crate::data::fit::check(&req.design, &analysis, &data) {
        Ok(()) => Ok((Some(spec), Some(data), notes)),
        Err(e) if named => Err(ExportError::Unreadable(format!(
            "train.py couldn't train on {}: {e}. Name data that fits with --data (or choose it in the Train view)",
            spec.to_spec()
        ))),
        Err(e) => Ok((
            None,
            None,
            vec![no_data(format!(
                "{}, the default data, doesn't fit this design ({e})",
                spec.to_spec()
            ))],
        )),
    }
}

/// The PyTorch folder: model.py, train.py, design.json, preprocessor.json, the weights, and
/// the data netloom generated or ships (built-in set, toy sets).
pub(super) fn pytorch_folder(
    req: &ExportRequest,
    plan: &Plan<'_>,
    dir: &Path,
) -> Result<Staged, ExportError> {
    let (spec, data, notes) = train_data(req)?;
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Write {
        what: "the export folder",
        path: dir.to_owned(),
        source,
    })?;
    if let Some(w) = &req.weights {
        // Checked against the design before anything is copied.
        let net = network_with(&req.design, w)?;
        crate::engine::save_weights(&net.params, &dir.join("weights.safetensors"))
            .map_err(|e| ExportError::Torch(e.to_string()))?;
    }
    let pre = match &req.preprocessor {
        Some(p) => Preprocessor::load(p).map_err(|e| ExportError::Unreadable(e.to_string()))?,
        // Nothing to fit: bytes divided by 255, whatever the data.
        None if req.design.data.preprocessing == Preprocessing::None => unfitted(&req.design),
        None => {
            let Some(data) = &data else {
                return Err(ExportError::Unreadable(format!(
                    "the design's preprocessing ({}) is fitted on the training data, and there is none here to fit it on ({}): name data that fits and can be read here with --data, or export a run folder (its preprocessing is fitted)",
                    serde_json::to_value(req.design.data.preprocessing)
                        .ok()
                        .and_then(|v| v["method"].as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    notes.join(" ")
                )));
            };
            Preprocessor::fit(req.design.data.preprocessing, data)
                .map_err(|e| ExportError::Unreadable(e.to_string()))?
        }
    };
    pre.save(&dir.join("preprocessor.json"))
        .map_err(|e| ExportError::Unreadable(e.to_string()))?;
    write_file(
        &dir.join("design.json"),
        to_json(&req.design).as_bytes(),
        "design.json",
    )?;
    write_file(
        &dir.join("model.py"),
        model_py::model_py(plan, &req.title).as_bytes(),
        "model.py",
    )?;
    let data = match &spec {
        Some(spec) => train_py::write_data(spec, req.design.input_shape(), dir)?,
        // train.py stops at once with the reason the export gave.
        None => serde_json::json!({"kind": "none", "why": notes.join(" ")}),
    };
    write_file(
        &dir.join("train.py"),
        train_py::train_py(&req.design, plan, &data, &req.title).as_bytes(),
        "train.py",
    )?;
    let size = |rel: &str| std::fs::metadata(dir.join(rel)).map_or(0, |m| m.len());
    Ok(Staged {
        files: place::files_under(dir)
            .into_iter()
            .map(|rel| {
                let n = size(&rel);
                (rel, n)
            })
            .collect(),
        side: None,
        notes,
    })
}
