//! `train.py`: netloom's training of this design, written with torch.optim, torchvision's
//! transforms and DistributedDataParallel, so the same file runs alone (`python train.py`)
//! and on many GPUs or nodes (`torchrun --nproc_per_node=N train.py`).
//!
//! Only the settings at the top are generated (as Python literals, every string quoted by
//! [`super::python`]); the rest is `train.py.in`, a plain Python file kept beside this one.

use super::ExportError;
use super::python::{self, literal};
use crate::data::{DataSpec, builtin_idx_files};
use crate::design::Plan;
use crate::design::{Design, Op, Shape};
use serde_json::{Value, json};
use std::path::Path;

const BODY: &str = include_str!("train.py.in");

fn absolute(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_owned())
        .to_string_lossy()
        .into_owned()
}

fn io(path: &Path, source: std::io::Error) -> ExportError {
    ExportError::Write {
        what: "the exported data",
        path: path.to_owned(),
        source,
    }
}

/// Writes the data netloom ships or generates (the built-in set as IDX files, a toy set or an
/// encoded table as safetensors) into `dir/data`, and returns the `DATA` description train.py
/// reads.
pub fn write_data(spec: &DataSpec, input: Option<Shape>, dir: &Path) -> Result<Value, ExportError> {
    Ok(match spec {
        DataSpec::BuiltinFashionMnist => {
            let data = dir.join("data");
            std::fs::create_dir_all(&data).map_err(|e| io(&data, e))?;
            for (name, bytes) in builtin_idx_files() {
                std::fs::write(data.join(name), bytes).map_err(|e| io(&data.join(name), e))?;
            }
            json!({"kind": "idx", "path": "data", "name": "Fashion-MNIST (built-in subset)"})
        }
        DataSpec::Idx(p) => json!({"kind": "idx", "path": absolute(p)}),
        DataSpec::Cifar10(p) => json!({"kind": "cifar10", "path": absolute(p)}),
        DataSpec::Folder(p) => json!({"kind": "folder", "path": absolute(p), "seed": 0}),
        // A table goes as its encoded features (the encoding fitted on its training rows), so
        // train.py trains on exactly what netloom does.
        DataSpec::Toy(..) | DataSpec::Table(..) | DataSpec::Masks(..) => {
            let ds = spec
                .load_for(input)
                .map_err(|e| ExportError::Unreadable(e.to_string()))?;
            let data = dir.join("data");
            std::fs::create_dir_all(&data).map_err(|e| io(&data, e))?;
            let tensors = toy_tensors(&ds)?;
            crate::engine::write_named(&data.join("toy.safetensors"), &tensors)
                .map_err(|e| ExportError::Torch(e.to_string()))?;
            let mut v = json!({"kind": "tensors", "path": "data/toy.safetensors", "name": ds.name});
            if let Some(q) = &ds.quantity {
                // The targets are stored standardised, as netloom trains on them; these give
                // predictions and errors back in the column's units.
                v["regression"] = json!({"target": q.name, "mean": q.mean, "std": q.std});
            }
            if !ds.train.masks.is_empty() {
                // Images as bytes [n, c, h, w] and masks [n, h, w], 255 ignored.
                v["masks"] = json!({"classes": ds.classes.len()});
            }
            if let Some(t) = &ds.table {
                // What was fitted on the training rows, to encode new rows the same way.
                let path = data.join("encoding.json");
                let text = serde_json::to_string_pretty(&encoding_json(&ds, t)).unwrap_or_default();
                std::fs::write(&path, text + "\n").map_err(|e| io(&path, e))?;
                v["encoding"] = json!("data/encoding.json");
            }
            v
        }
        DataSpec::Classes(inner, keep) => {
            let mut v = write_data(inner, input, dir)?;
            v["classes"] = json!(keep);
            v
        }
        DataSpec::Converted(inner, c) => {
            let mut v = write_data(inner, input, dir)?;
            v["convert"] = json!({
                "channels": c.channels,
                "size": c.size.map(|(h, w)| [h, w]),
                "limit": c.limit,
            });
            v
        }
    })
}

/// A table's fitted encoding as JSON: each feature column's standardisation or one-hot
/// vocabulary in feature order, the target's classes or its standardisation, and the cells
/// read as missing.
fn encoding_json(ds: &crate::data::Dataset, t: &crate::data::table::TablePreview) -> Value {
    use crate::data::table::Encoding;
    let features: Vec<Value> = t
        .encoded
        .iter()
        .map(|c| match &c.encoding {
            Encoding::Numeric { mean, std } => json!({
                "column": c.name, "encoding": "standardise", "mean": mean, "std": std,
                "missing": "the mean (0 after standardising)",
            }),
            Encoding::Categorical { vocabulary } => json!({
                "column": c.name, "encoding": "one_hot", "categories": vocabulary,
                "then": "one slot for any other value",
                "missing": crate::data::table::MISSING_CATEGORY,
            }),
        })
        .collect();
    let mut target = json!({"column": t.target});
    match &ds.quantity {
        Some(q) => {
            target["task"] = json!("regression");
            target["mean"] = json!(q.mean);
            target["std"] = json!(q.std);
        }
        None => {
            target["task"] = json!("classification");
            target["classes"] = json!(ds.classes);
        }
    }
    json!({
        "width": ds.shape.numel(),
        "features": features,
        "target": target,
        "missing_cells": crate::data::table::MISSING_CELLS,
        "numbers_in_text_columns": "written as the shortest text of their 32-bit value (1.50 as 1.5)",
    })
}

fn toy_tensors(ds: &crate::data::Dataset) -> Result<Vec<(String, tch::Tensor)>, ExportError> {
    let mut out = Vec::new();
    for (name, split) in [("train", &ds.train), ("val", &ds.val)] {
        let n = split.len() as i64;
        let x = match &split.samples {
            crate::data::Samples::F32(v) => tch::Tensor::from_slice(v).reshape([n, -1]),
            crate::data::Samples::U8(v) => {
                let mut dims = vec![n];
                dims.extend(ds.shape.dims().iter().map(|&d| d as i64));
                tch::Tensor::from_slice(v).reshape(dims.as_slice())
            }
        };
        out.push((format!("{name}_x"), x));
        let y = if !split.masks.is_empty() {
            let flat: Vec<u8> = split.masks.concat();
            let (_, h, w) = ds.shape.as_image().unwrap_or((1, 1, 1));
            tch::Tensor::from_slice(&flat).reshape([n, h as i64, w as i64])
        } else if ds.quantity.is_some() {
            tch::Tensor::from_slice(&split.values).reshape([n, 1])
        } else {
            let labels: Vec<i64> = split.labels.iter().map(|&l| i64::from(l)).collect();
            tch::Tensor::from_slice(&labels)
        };
        out.push((format!("{name}_y"), y));
    }
    Ok(out)
}

/// train.py's generated settings for `design`: `settings` (the training settings as train.py
/// reads them), `init`, `loss`, `augment`, `frozen` (sorted) and `lr_mult`. tune.py gives each
/// trial its own.
pub fn globals(design: &Design, plan: &Plan<'_>) -> Value {
    let t = &design.training;
    let mut settings = serde_json::to_value(t).unwrap_or_else(|_| json!({}));
    settings["schedule"] =
        serde_json::to_value(t.schedule).unwrap_or_else(|_| json!({"kind": "constant"}));
    settings["warmup_steps"] = json!(t.warmup_steps);
    settings["clip_grad_norm"] = json!(t.clip_grad_norm);
    settings["precision"] = json!(t.precision.name());
    settings["deterministic"] = json!(t.deterministic);
    let init = serde_json::to_value(t.init).unwrap_or_else(|_| json!("pytorch"));
    let augment = serde_json::to_value(&design.data.augmentation).unwrap_or_else(|_| json!([]));
    let mut frozen: Vec<&str> = design
        .nodes
        .iter()
        .filter(|n| n.frozen)
        .map(|n| n.name.as_str())
        .collect();
    frozen.sort_unstable();
    let lr_mult: serde_json::Map<String, Value> = design
        .nodes
        .iter()
        .filter_map(|n| n.lr_mult.map(|m| (n.name.clone(), json!(m))))
        .collect();
    let loss = plan
        .steps
        .iter()
        .find_map(|s| match &s.node.op {
            Op::Output(o) => Some(o.loss),
            _ => None,
        })
        .unwrap_or_default();
    let loss = serde_json::to_value(loss).unwrap_or_else(|_| json!("cross_entropy"));
    json!({"settings": settings, "init": init, "loss": loss, "augment": augment,
           "frozen": frozen, "lr_mult": lr_mult})
}

/// The text of train.py for `design`, training on `data` (from [`write_data`]).
pub fn train_py(design: &Design, plan: &Plan<'_>, data: &Value, title: &str) -> String {
    let g = globals(design, plan);
    let frozen: Vec<&str> = g["frozen"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = format!(
        "\"\"\"Trains {} as netloom does, written by netloom {}.\n\n\
         Alone:            python train.py\n\
         On N GPUs/cores:  torchrun --nproc_per_node=N train.py\n\
         On 2 nodes:       torchrun --nnodes=2 --node_rank=R --nproc_per_node=N --master_addr=HOST train.py\n\n\
         Rank 0 writes run/metrics.csv (netloom's columns) and run/weights.safetensors (netloom's\n\
         names): `netloom eval run/design.json --weights run/weights.safetensors` reads them.\n\
         \"\"\"\n",
        python::docstring_text(title),
        env!("CARGO_PKG_VERSION"),
    );
    out += BODY
        .split_once('\n')
        .map_or(BODY, |(_, rest)| rest)
        .split("\n# ----------------------------------------------------------------")
        .next()
        .unwrap_or_default();
    out += "\n# ---------------------------------------- netloom's settings for this design (generated)\n";
    out += &format!("SETTINGS = {}\n", literal(&g["settings"]));
    out += &format!("INIT = {}\n", literal(&g["init"]));
    out += &format!("LOSS = {}\n", literal(&g["loss"]));
    out += &format!("DATA = {}\n", literal(data));
    // A regression's target (its name, and the mean and spread it was standardised with).
    out += "REGRESSION = DATA.get(\"regression\")\n";
    // A segmentation's class count (its masks are a class per pixel, 255 ignored).
    out += "MASKS = DATA.get(\"masks\")\n";
    out += &format!("AUGMENT = {}\n", literal(&g["augment"]));
    out += &format!(
        "FROZEN = {{{}}}\n",
        frozen
            .iter()
            .map(|n| python::string(n))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if frozen.is_empty() {
        out = out.replace("FROZEN = {}\n", "FROZEN = set()\n");
    }
    out += &format!("LR_MULT = {}\n\n", literal(&g["lr_mult"]));
    out += "\n# ----------------------------------------------------------------";
    out += BODY
        .split_once("\n# ----------------------------------------------------------------")
        .map_or("", |(_, rest)| rest);
    out
}
