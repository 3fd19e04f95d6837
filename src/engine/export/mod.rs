//! Export: a design (and its weights) leaves netloom as PyTorch code that trains under
//! torchrun, as ONNX, or as TorchScript.
//!
//! Everything is written next to the destination under a temporary name and moved into place
//! at the end, so a failed export leaves nothing half-written at the path the user chose.

mod model_py;
mod onnx;
mod onnx_proto;
mod plan;
mod python;
mod torchscript;
mod train_py;

pub use onnx::OPSET;
pub use plan::Plan;

use crate::data::{DataSpec, Preprocessor};
use crate::design::{Design, Preprocessing, to_json};
use crate::engine::{EngineError, Network, read_weights};
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
    #[error("the design has {count} problem(s); fix them first: {first}")]
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
        matches!(self, ExportError::Unreadable(_) | ExportError::Write { .. })
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
    // problem (the message names the tensor).
    let named = read_weights(weights).map_err(|e| ExportError::Unreadable(e.to_string()))?;
    net.params
        .load_named(&named, weights)
        .map_err(|e| ExportError::Weights(e.to_string()))?;
    Ok(net)
}

/// A sibling of `out` to write into first: hidden, unique to this process.
fn staging(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// Moves a finished `staged` file or folder to `out`. An existing folder is replaced only when
/// it is empty or an earlier export (it has model.py): anything else is the user's and stays.
fn commit(staged: &Path, out: &Path) -> Result<(), ExportError> {
    let write = |path: &Path, source| ExportError::Write {
        what: "the export",
        path: path.to_owned(),
        source,
    };
    if staged.is_dir() && out.is_dir() {
        let empty = std::fs::read_dir(out)
            .map_err(|e| write(out, e))?
            .next()
            .is_none();
        if !empty && !out.join("model.py").is_file() {
            return Err(ExportError::Write {
                what: "the export",
                path: out.to_owned(),
                source: std::io::Error::other(
                    "the folder exists and holds files that are not a netloom export; choose a new or empty folder",
                ),
            });
        }
        let old = out.with_file_name(format!(
            ".{}.old-{}",
            out.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            std::process::id()
        ));
        std::fs::rename(out, &old).map_err(|e| write(out, e))?;
        if let Err(e) = std::fs::rename(staged, out) {
            let _ = std::fs::rename(&old, out);
            return Err(write(out, e));
        }
        let _ = std::fs::remove_dir_all(&old);
        return Ok(());
    }
    if out.is_dir() {
        return Err(ExportError::Write {
            what: "the export",
            path: out.to_owned(),
            source: std::io::Error::other("a folder is in the way; give a file name"),
        });
    }
    std::fs::rename(staged, out).map_err(|e| write(out, e))
}

/// Writes the export `req` asks for.
pub fn export(req: &ExportRequest) -> Result<ExportSummary, ExportError> {
    let plan = Plan::of(&req.design)?;
    if req.format.needs_weights() && req.weights.is_none() {
        return Err(ExportError::Unreadable(format!(
            "{} needs trained weights: pass --weights W (or export a run folder)",
            req.format.label()
        )));
    }
    if let Some(parent) = req.out.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(ExportError::Write {
            what: "the export",
            path: req.out.clone(),
            source: std::io::Error::other("its folder does not exist"),
        });
    }
    let staged = staging(&req.out);
    let result = write_staged(req, &plan, &staged).and_then(|files| {
        commit(&staged, &req.out)?;
        Ok(files)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staged);
        let _ = std::fs::remove_file(&staged);
    }
    Ok(ExportSummary {
        out: req.out.clone(),
        files: result?,
    })
}

fn write_staged(
    req: &ExportRequest,
    plan: &Plan<'_>,
    staged: &Path,
) -> Result<Vec<(String, u64)>, ExportError> {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let name = |p: &Path| {
        req.out
            .file_name()
            .or(p.file_name())
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    };
    match req.format {
        ExportFormat::Onnx => {
            let net = network_with(&req.design, required(&req.weights)?)?;
            let bytes = onnx::onnx_bytes(plan, &net.params, &req.title)?;
            write_file(staged, &bytes, "the ONNX file")?;
            Ok(vec![(name(staged), size(staged))])
        }
        ExportFormat::Torchscript => {
            let mut net = network_with(&req.design, required(&req.weights)?)?;
            // A traced graph records every op: leave the layout change out of it.
            net.channels_last = false;
            torchscript::write_torchscript(&net, staged)?;
            Ok(vec![(name(staged), size(staged))])
        }
        ExportFormat::Pytorch => pytorch_folder(req, plan, staged),
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
/// the data netloom generated or ships (built-in set, toy sets).
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
        None if req.design.data.preprocessing == Preprocessing::None => Preprocessor {
            method: Preprocessing::None,
            shape: req
                .design
                .input_shape()
                .map(|s| s.dims().to_vec())
                .unwrap_or_default(),
            mean: Vec::new(),
            scale: Vec::new(),
            components: Vec::new(),
        },
        None => {
            let data = spec
                .load_for(req.design.input_shape())
                .map_err(|e| ExportError::Unreadable(e.to_string()))?;
            if Some(data.shape) != req.design.input_shape() {
                return Err(ExportError::Unreadable(format!(
                    "{} has samples of shape {:?} but the design takes {:?}: name data that fits with --data",
                    data.name,
                    data.shape.dims(),
                    req.design
                        .input_shape()
                        .map(|s| s.dims().to_vec())
                        .unwrap_or_default()
                )));
            }
            Preprocessor::fit(req.design.data.preprocessing, &data)
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
    let data = train_py::write_data(&spec, req.design.input_shape(), dir)?;
    write_file(
        &dir.join("train.py"),
        train_py::train_py(&req.design, plan, &data, &req.title).as_bytes(),
        "train.py",
    )?;
    let mut files = Vec::new();
    list_files(dir, dir, &mut files);
    files.sort();
    Ok(files)
}

fn list_files(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            list_files(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            let len = e.metadata().map_or(0, |m| m.len());
            out.push((rel.to_string_lossy().into_owned(), len));
        }
    }
}
