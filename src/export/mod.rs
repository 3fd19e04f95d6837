//! Export: a design (and its weights) leaves netloom as PyTorch code that trains under
//! torchrun, as ONNX, or as TorchScript.
//!
//! Everything is written next to the destination under a temporary name and moved into place
//! at the end, so a failed export leaves nothing half-written at the path the user chose; and
//! it only ever replaces what netloom wrote there before ([`place`]).

mod folder;
mod metadata;
mod model_py;
mod onnx;

mod place;
mod python;
mod torchscript;
mod train_py;
mod tune;

pub use onnx::{OPSET, OPSETS};
pub use place::MANIFEST;

use crate::data::DataSpec;
use crate::design::{Design, Plan};
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
    /// A sweep (SWEEP.json) as the PyTorch folder plus tune.py, which runs its trials with
    /// Ray Tune on one machine or a cluster (docs/scale-out.md).
    RayTune,
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
            ExportFormat::RayTune => "Ray Tune sweep (folder)",
        }
    }

    /// The usual file name of the result.
    pub fn default_name(self) -> &'static str {
        match self {
            ExportFormat::Pytorch => "pytorch",
            ExportFormat::Onnx => "model.onnx",
            ExportFormat::Torchscript => "model.pt",
            ExportFormat::RayTune => "ray-tune",
        }
    }

    /// Whether the format needs trained weights.
    pub fn needs_weights(self) -> bool {
        !matches!(self, ExportFormat::Pytorch | ExportFormat::RayTune)
    }

    /// Whether it writes a folder (rather than one file).
    pub fn is_folder(self) -> bool {
        matches!(self, ExportFormat::Pytorch | ExportFormat::RayTune)
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
    /// The sweep a Ray Tune export runs (its trials vary `design`).
    pub sweep: Option<Box<crate::design::sweep::Sweep>>,
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportSummary {
    /// The destination.
    pub out: PathBuf,
    /// Files written, relative to `out` for a folder, with their sizes in bytes.
    pub files: Vec<(String, u64)>,
    /// What the user should know about what was written (train.py written without data).
    pub notes: Vec<String>,
}

impl From<crate::design::PlanError> for ExportError {
    fn from(e: crate::design::PlanError) -> Self {
        match e {
            crate::design::PlanError::Invalid { count, first } => {
                ExportError::InvalidDesign { count, first }
            }
            e @ crate::design::PlanError::NoInputOrOutput => ExportError::InvalidDesign {
                count: 1,
                first: e.to_string(),
            },
        }
    }
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
    let named = crate::engine::read_fitting(&net.params, weights)
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
    let result = result.and_then(|written| {
        if req.format.is_folder() {
            place::commit_folder(&staged, &req.out)?;
            return Ok(written);
        }
        let mut pairs = vec![(staged.clone(), req.out.clone())];
        if let (Some(side), Some(target)) = (&written.side, &external) {
            pairs.insert(0, (side.clone(), target.clone()));
        }
        place::commit_files(&pairs)?;
        Ok(written)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staged);
        let _ = std::fs::remove_file(&staged);
        if let Some(side) = external.as_deref().map(place::staging) {
            let _ = std::fs::remove_file(side);
        }
    }
    let written = result?;
    Ok(ExportSummary {
        out: req.out.clone(),
        files: written.files,
        notes: written.notes,
    })
}

/// What [`write_staged`] wrote.
struct Staged {
    /// Files written, with their sizes.
    files: Vec<(String, u64)>,
    /// The staged side file of an ONNX export, if any.
    side: Option<PathBuf>,
    /// What the user should know.
    notes: Vec<String>,
}

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
                metadata: metadata::onnx_metadata(req)?,
                external: side.clone(),
            };
            let bytes = onnx::onnx_bytes(plan, &net.params, &req.title, &options)?;
            write_file(staged, &bytes, "the ONNX file")?;
            let mut files = vec![(name(&req.out), size(staged))];
            if let Some((path, location)) = &side {
                files.push((location.clone(), size(path)));
            }
            Ok(Staged {
                files,
                side: side.map(|(p, _)| p),
                notes: Vec::new(),
            })
        }
        ExportFormat::Torchscript => {
            let mut net = network_with(&req.design, required(&req.weights)?)?;
            // A traced graph records every op: leave the layout change out of it.
            net.channels_last = false;
            let bytes = torchscript::torchscript_bytes(&net)?;
            write_file(staged, &bytes, "the TorchScript file")?;
            Ok(Staged {
                files: vec![(name(&req.out), size(staged))],
                side: None,
                notes: Vec::new(),
            })
        }
        ExportFormat::Pytorch => folder::pytorch_folder(req, plan, staged),
        ExportFormat::RayTune => {
            let sweep = req.sweep.as_deref().ok_or_else(|| {
                ExportError::Unreadable(
                    "a Ray Tune export runs a sweep: give SWEEP.json as what to export".to_owned(),
                )
            })?;
            let mut staged_folder = folder::pytorch_folder(req, plan, staged)?;
            tune::write(req, sweep, staged)?;
            staged_folder.files = place::files_under(staged)
                .into_iter()
                .map(|rel| {
                    let n = size(&staged.join(&rel));
                    (rel, n)
                })
                .collect();
            Ok(staged_folder)
        }
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
