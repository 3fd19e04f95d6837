//! Export: a design (and its weights) leaves netloom as PyTorch code that trains under
//! torchrun, as ONNX, or as TorchScript.
//!
//! Everything is written next to the destination under a temporary name and moved into place
//! at the end, so a failed export leaves nothing half-written at the path the user chose; and
//! it only ever replaces what netloom wrote there before ([`place`]).

mod model_py;
mod onnx;
mod onnx_proto;
mod place;
mod plan;
mod python;
mod torchscript;
mod train_py;

pub use onnx::{OPSET, OPSETS};
pub use place::MANIFEST;
pub use plan::Plan;

use crate::data::{DataSpec, Preprocessor};
use crate::design::{Design, Preprocessing, to_json};
use crate::engine::{EngineError, Network, read_shapes};
use std::path::{Path, PathBuf};
use tch::Device;

/// The formats netloom writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// A folder with model.py (the nn.Module), train.py (DDP-ready training script), the
    /// design, the fitted preprocessing, the weights and, for the built-in set, the data.
    Pytorch,
    /// One .onnx file: the inference graph with the weights.
    Onnx,
    /// One TorchScript archive (.pt) for torch.jit.load / torch::jit::load.
    Torchscript,
}

impl ExportFormat {
    /// Every format, in menu order.
    pub const ALL: [ExportFormat; 3] = [
        ExportFormat::Pytorch,
        ExportFormat::Onnx,
        ExportFormat::Torchscript,
    ];

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Pytorch => "PyTorch code (folder)",
            ExportFormat::Onnx => "ONNX (.onnx)",
            ExportFormat::Torchscript => "TorchScript (.pt)",
        }
    }

    /// The usual file name of the result.
    pub fn default_name(self) -> &'static str {
        match self {
            ExportFormat::Pytorch => "pytorch",
            ExportFormat::Onnx => "model.onnx",
            ExportFormat::Torchscript => "model.pt",
        }
    }

    /// Whether the format needs trained weights.
    pub fn needs_weights(self) -> bool {
        !matches!(self, ExportFormat::Pytorch)
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The design has problems.
    #[error("the design has {}; fix them first: {first}", crate::units::count(*count as u64, "problem"))]
    InvalidDesign {
        /// How many.
        count: usize,
        /// The first, in full.
        first: String,
    },
    /// A node has no equivalent in the chosen format.
    #[error("node \"{node}\" can't be exported: {why}")]
    Unsupported {
        /// The node.
        node: String,
        /// Why, and what to change.
        why: String,
    },
    /// The weights don't fit the design, or libtorch failed.
    #[error("{0}")]
    Weights(String),
    /// libtorch failed while tracing or writing.
    #[error("{0}")]
    Torch(String),
    /// An input could not be read: the design, the weights, the run folder, the data.
    #[error("{0}")]
    Unreadable(String),
    /// The destination may not take the export: it is one of the inputs, or holds what
    /// netloom didn't write. Nothing was written.
    #[error("{0}")]
    Destination(String),
    /// The destination could not be written.
    #[error("can't write {what} ({source}): {path}")]
    Write {
        /// What was being written.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl ExportError {
    /// True when the input or the destination is at fault (the CLI exits 2), not the design.
    pub fn is_input_problem(&self) -> bool {
        matches!(
            self,
            ExportError::Unreadable(_) | ExportError::Write { .. } | ExportError::Destination(_)
        )
    }
}

/// Everything an export needs, as plain data (the app sends it to a background thread).
#[derive(Clone, Debug)]
pub struct ExportRequest {
    /// The design.
    pub design: Design,
    /// A title for docstrings and graph names, e.g. the design's file stem.
    pub title: String,
    /// What to write.
    pub format: ExportFormat,
    /// Trained weights to include (required for ONNX and TorchScript).
    pub weights: Option<PathBuf>,
    /// A fitted preprocessor (a run's preprocessor.json); fitted on the data when absent.
    pub preprocessor: Option<PathBuf>,
    /// The training data train.py reads; the design's default when absent. Only the PyTorch
    /// export uses it.
    pub data: Option<DataSpec>,
    /// Where to write: a folder for PyTorch, a file otherwise.
    pub out: PathBuf,
    /// Other files the export reads (the design file, a run folder), which it must never
    /// write over; the weights, preprocessor and data are added to them.
    pub inputs: Vec<PathBuf>,
    /// The ONNX operator set ([`OPSETS`]).
    pub opset: i64,
    /// The class names, by label, when known (a run's record of its data): ONNX metadata.
    pub classes: Option<Vec<String>>,
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportSummary {
    /// The destination.
    pub out: PathBuf,
    /// Files written, relative to `out` for a folder, with their sizes in bytes.
    pub files: Vec<(String, u64)>,
}

/// The network compiled on the CPU with `weights` loaded strictly.
fn network_with(design: &Design, weights: &Path) -> Result<Network, ExportError> {
    let net = Network::compile(design, Device::Cpu).map_err(|e| match e {
        EngineError::InvalidDesign { count, first } => ExportError::InvalidDesign { count, first },
        e => ExportError::Torch(e.to_string()),
    })?;
    // A file that can't be read is bad input; one that doesn't fit the design is a weights
    // problem (the message names the tensor). Only tensors that fit are read.
    let shapes = read_shapes(weights).map_err(|e| ExportError::Unreadable(e.to_string()))?;
    drop(shapes);
    let named = crate::engine::weights::read_fitting(&net.params, weights)
        .map_err(|e| ExportError::Weights(e.to_string()))?;
    net.params
        .load_named(&named, weights)
        .map_err(|e| ExportError::Weights(e.to_string()))?;
    Ok(net)
}

/// Writes the export `req` asks for. Nothing is written until every check has passed: the
/// design is valid, the weights and data fit it, and the destination may take the export
/// without harming anything ([`place::check_destination`]).
pub fn export(req: &ExportRequest) -> Result<ExportSummary, ExportError> {
    let plan = Plan::of(&req.design)?;
    if req.format.needs_weights() && req.weights.is_none() {
        return Err(ExportError::Unreadable(format!(
            "{} needs trained weights: pass --weights W (or export a run folder)",
            req.format.label()
        )));
    }
    let mut inputs = req.inputs.clone();
    inputs.extend(req.weights.iter().cloned());
    inputs.extend(req.preprocessor.iter().cloned());
    inputs.extend(
        req.data
            .as_ref()
            .and_then(DataSpec::path)
            .map(Path::to_path_buf),
    );
    let external = (req.format == ExportFormat::Onnx)
        .then(|| onnx::external_data_path(&req.out))
        .flatten();
    place::check_destination(&req.out, external.as_slice(), req.format, &inputs)?;
    let staged = place::staging(&req.out);
    let result = write_staged(req, &plan, &staged, external.as_deref());
    let result = result.and_then(|(files, side)| {
        if req.format == ExportFormat::Pytorch {
            place::commit_folder(&staged, &req.out)?;
            return Ok(files);
        }
        let mut pairs = vec![(staged.clone(), req.out.clone())];
        if let (Some(side), Some(target)) = (side, &external) {
            pairs.insert(0, (side, target.clone()));
        }
        place::commit_files(&pairs)?;
        Ok(files)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staged);
        let _ = std::fs::remove_file(&staged);
        if let Some(side) = external.as_deref().map(place::staging) {
            let _ = std::fs::remove_file(side);
        }
    }
    Ok(ExportSummary {
        out: req.out.clone(),
        files: result?,
    })
}

/// Files written, with their sizes; and the staged side file of an ONNX export, if any.
type Staged = (Vec<(String, u64)>, Option<PathBuf>);

/// Writes the export into `staged` (and for ONNX with large weights, its side file beside
/// `external`'s staging): the files written with their sizes, and the side file if any.
fn write_staged(
    req: &ExportRequest,
    plan: &Plan<'_>,
    staged: &Path,
    external: Option<&Path>,
) -> Result<Staged, ExportError> {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let name = |p: &Path| {
        p.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    };
    match req.format {
        ExportFormat::Onnx => {
            let net = network_with(&req.design, required(&req.weights)?)?;
            let bytes = net.params.total_bytes();
            let side = external
                .filter(|_| onnx::needs_external_data(bytes))
                .map(|target| (place::staging(target), name(target)));
            let options = onnx::OnnxOptions {
                opset: req.opset,
                metadata: onnx_metadata(req)?,
                external: side.clone(),
            };
            let bytes = onnx::onnx_bytes(plan, &net.params, &req.title, &options)?;
            write_file(staged, &bytes, "the ONNX file")?;
            let mut files = vec![(name(&req.out), size(staged))];
            if let Some((path, location)) = &side {
                files.push((location.clone(), size(path)));
            }
            Ok((files, side.map(|(p, _)| p)))
        }
        ExportFormat::Torchscript => {
            let mut net = network_with(&req.design, required(&req.weights)?)?;
            // A traced graph records every op: leave the layout change out of it.
            net.channels_last = false;
            let bytes = torchscript::torchscript_bytes(&net)?;
            write_file(staged, &bytes, "the TorchScript file")?;
            Ok((vec![(name(&req.out), size(staged))], None))
        }
        ExportFormat::Pytorch => Ok((pytorch_folder(req, plan, staged)?, None)),
    }
}

/// The ONNX file's metadata: netloom's version, the class names when known, and the fitted
/// preprocessing (from the run, or nothing to fit), as JSON a deployment reads.
fn onnx_metadata(req: &ExportRequest) -> Result<Vec<(String, String)>, ExportError> {
    let mut out = vec![(
        "netloom_version".to_owned(),
        env!("CARGO_PKG_VERSION").to_owned(),
    )];
    if let Some(classes) = &req.classes {
        out.push((
            "class_names".to_owned(),
            serde_json::to_string(classes).unwrap_or_default(),
        ));
    }
    let pre = match &req.preprocessor {
        Some(p) => Some(Preprocessor::load(p).map_err(|e| ExportError::Unreadable(e.to_string()))?),
        None if req.design.data.preprocessing == Preprocessing::None => Some(unfitted(&req.design)),
        None => None,
    };
    if let Some(pre) = pre {
        out.push(("preprocessing".to_owned(), preprocessing_json(&pre)));
    }
    Ok(out)
}

/// What a deployment applies before the network, in plain terms: pixel bytes divided by 255
/// (images), then the fitted method's numbers (a whitening matrix is only named: it is in
/// preprocessor.json, too large for metadata).
fn preprocessing_json(pre: &Preprocessor) -> String {
    // The method's tag and settings at the top: {"method": "zca_whiten", "epsilon": 0.01}.
    let mut v = serde_json::to_value(pre.method).unwrap_or_else(|_| serde_json::json!({}));
    v["shape"] = serde_json::json!(pre.shape);
    v["input_scale"] =
        serde_json::json!("image bytes are divided by 255 first; features are used as they are");
    match pre.method {
        Preprocessing::None => {}
        Preprocessing::Standardize => {
            v["mean"] = serde_json::json!(pre.mean);
            v["std"] = serde_json::json!(pre.scale);
        }
        Preprocessing::MinMax => {
            v["min"] = serde_json::json!(pre.mean);
            v["range"] = serde_json::json!(pre.scale);
        }
        Preprocessing::ZeroCenter => v["mean"] = serde_json::json!(pre.mean),
        Preprocessing::PcaWhiten { .. } | Preprocessing::ZcaWhiten { .. } => {
            v["mean"] = serde_json::json!(pre.mean);
            v["components"] = serde_json::json!(
                "a whitening matrix of the run's preprocessor.json: too large for metadata"
            );
        }
    }
    v.to_string()
}

/// The transform of a design that fits nothing: bytes divided by 255.
fn unfitted(design: &Design) -> Preprocessor {
    Preprocessor {
        method: Preprocessing::None,
        shape: design
            .input_shape()
            .map(|s| s.dims().to_vec())
            .unwrap_or_default(),
        mean: Vec::new(),
        scale: Vec::new(),
        components: Vec::new(),
    }
}

fn required(weights: &Option<PathBuf>) -> Result<&Path, ExportError> {
    weights.as_deref().ok_or_else(|| {
        ExportError::Unreadable("trained weights are needed: pass --weights W".to_owned())
    })
}

fn write_file(path: &Path, bytes: &[u8], what: &'static str) -> Result<(), ExportError> {
    std::fs::write(path, bytes).map_err(|source| ExportError::Write {
        what,
        path: path.to_owned(),
        source,
    })
}

/// The PyTorch folder: model.py, train.py, design.json, preprocessor.json, the weights, and
/// the data netloom generated or ships (built-in set, toy sets). The data is loaded first and
/// checked against the design as `train` checks it, so train.py never stops on data that
/// can't train the design.
fn pytorch_folder(
    req: &ExportRequest,
    plan: &Plan<'_>,
    dir: &Path,
) -> Result<Vec<(String, u64)>, ExportError> {
    let spec = match &req.data {
        Some(s) => s.clone(),
        None => DataSpec::default_for(req.design.input_shape())
            .map_err(|e| ExportError::Unreadable(e.to_string()))?,
    };
    let data = spec
        .load_for(req.design.input_shape())
        .map_err(|e| ExportError::Unreadable(e.to_string()))?;
    let net = Network::compile(&req.design, Device::Cpu).map_err(|e| match e {
        EngineError::InvalidDesign { count, first } => ExportError::InvalidDesign { count, first },
        e => ExportError::Torch(e.to_string()),
    })?;
    crate::engine::check_against_data(&req.design, &net, &data).map_err(|e| {
        ExportError::Unreadable(format!(
            "train.py couldn't train on {}: {e}. Name data that fits with --data (or choose it in the Train view)",
            spec.to_spec()
        ))
    })?;
    drop(net);
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
        None => Preprocessor::fit(req.design.data.preprocessing, &data)
            .map_err(|e| ExportError::Unreadable(e.to_string()))?,
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
    let data = train_py::write_data(&spec, req.design.input_shape(), dir)?;
    write_file(
        &dir.join("train.py"),
        train_py::train_py(&req.design, plan, &data, &req.title).as_bytes(),
        "train.py",
    )?;
    let size = |rel: &str| std::fs::metadata(dir.join(rel)).map_or(0, |m| m.len());
    Ok(place::files_under(dir)
        .into_iter()
        .map(|rel| {
            let n = size(&rel);
            (rel, n)
        })
        .collect())
}
