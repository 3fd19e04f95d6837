//! Import: an ONNX file becomes a design and its weights, so a network trained anywhere opens
//! on the canvas to be read, frozen, cut and fine-tuned.
//!
//! The graph is read with the same protobuf messages export writes ([`crate::onnx_proto`]).
//! Every op is checked first: a file with an op netloom can't represent is refused whole,
//! listing each such op type with its count and first node, and nothing is written. Node
//! names come from the module paths PyTorch's exporter writes, weight names from the
//! initializers (the state dict's keys), so an imported torchvision model also takes
//! torchvision's own `.pth` by name.

mod graph;
mod names;
mod tensors;

pub use graph::SUPPORTED;
pub use tensors::{Array, Values};

use crate::design::Design;
use crate::onnx_proto::ModelProto;
use prost::Message;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The opsets netloom reads (the default domain's version).
pub const OPSETS: std::ops::RangeInclusive<i64> = 11..=21;

/// An op type netloom can't import, with how often and where it first occurs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The ONNX op type (with its domain when not the default).
    pub op_type: String,
    /// How many nodes have it.
    pub count: usize,
    /// The first such node's name.
    pub first_node: String,
}

/// Why a file can't be imported. Nothing is written when one of these comes back.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file can't be read.
    #[error("can't {what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The bytes aren't an ONNX model.
    #[error("{} is not an ONNX model ({problem}); export one with torch.onnx.export", path.display())]
    NotOnnx {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        problem: String,
    },
    /// An opset outside [`OPSETS`].
    #[error("the model uses ONNX opset {opset}; netloom imports opsets {} to {}: re-export with opset_version={}", OPSETS.start(), OPSETS.end(), if *opset < *OPSETS.start() { OPSETS.start() } else { OPSETS.end() })]
    Opset {
        /// The file's opset.
        opset: i64,
    },
    /// Ops netloom has no block for.
    #[error("{}", unsupported_text(.0))]
    Unsupported(Vec<Unsupported>),
    /// One node's settings are outside what its block represents.
    #[error("{node} ({op_type}) {problem}")]
    Node {
        /// The ONNX node's name.
        node: String,
        /// Its op type.
        op_type: String,
        /// What is wrong, and what to change.
        problem: String,
    },
    /// The file is damaged or not a network netloom reads.
    #[error("{problem}")]
    Malformed {
        /// What is wrong.
        problem: String,
    },
}

fn unsupported_text(ops: &[Unsupported]) -> String {
    let total: usize = ops.iter().map(|u| u.count).sum();
    let mut s = format!(
        "the model has {} that netloom has no block for, so nothing was imported:",
        crate::units::count(total as u64, "node")
    );
    for u in ops {
        s.push_str(&format!(
            "\n  {} ×{} (first: {})",
            u.op_type, u.count, u.first_node
        ));
    }
    s
}

/// What an import did, for the mapping report.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The file's opset.
    pub opset: i64,
    /// The program that wrote the file.
    pub producer: String,
    /// Each constant taken as a weight: its name in the file, its name in the design, shape.
    pub matched: Vec<(String, String, Vec<i64>)>,
    /// Nodes folded away or into others, by what they were: "Identity" → 52.
    pub folded: BTreeMap<String, usize>,
    /// Nodes dropped because they do nothing at inference: "Dropout …" → 1.
    pub dropped: BTreeMap<String, usize>,
    /// Constants in the file no node took as a weight.
    pub unused_constants: Vec<String>,
    /// Batch norm nodes read.
    pub batch_norms: usize,
    /// Convolutions read.
    pub convolutions: usize,
    /// Convolutions whose weight has an exporter-made name (`onnx::Conv_497`), as when
    /// batch norm was folded into them.
    pub anonymous_conv_weights: usize,
}

impl Report {
    fn note_folded(&mut self, what: &str) {
        *self.folded.entry(what.to_owned()).or_default() += 1;
    }

    fn note_dropped(&mut self, what: &str) {
        *self.dropped.entry(what.to_owned()).or_default() += 1;
    }

    /// Whether the exporter folded batch norm into the convolutions (PyTorch's default).
    pub fn batch_norm_folded(&self) -> bool {
        self.batch_norms == 0 && self.anonymous_conv_weights > 0
    }

    /// The report as text: a summary line, the notes, then every weight's mapping.
    /// The summary line: `N matched, N folded, N dropped, 0 unsupported (opset …)`.
    pub fn summary(&self) -> String {
        format!(
            "{} matched, {} folded, {} dropped, 0 unsupported (opset {}, written by {})",
            self.matched.len(),
            self.folded.values().sum::<usize>(),
            self.dropped.values().sum::<usize>(),
            self.opset,
            if self.producer.is_empty() {
                "an unnamed program"
            } else {
                &self.producer
            },
        )
    }

    /// What a user should know of this import beyond the counts (batch norm folded away).
    pub fn notes(&self) -> Vec<&'static str> {
        let mut notes = Vec::new();
        if self.batch_norm_folded() {
            notes.push("the file has no BatchNormalization: the exporter folded batch norm into the convolutions (torch.onnx.export's default), which now carry a bias. The network computes the same, but to fine-tune with batch norm re-export with training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False");
        }
        notes
    }

    /// The report as text: the summary, the notes, what was folded, dropped and left unused,
    /// then (`matched` too) every weight's mapping.
    pub fn text(&self, matched: bool) -> String {
        let mut s = self.summary();
        for note in self.notes() {
            s.push_str(&format!("\nnote: {note}"));
        }
        for (what, n) in &self.folded {
            s.push_str(&format!("\nfolded       {what} ×{n}"));
        }
        for (what, n) in &self.dropped {
            s.push_str(&format!("\ndropped      {what} ×{n}"));
        }
        if !self.unused_constants.is_empty() {
            s.push_str(&format!(
                "\nunused       {} constant(s) no layer takes as a weight (bounds, shapes): {}",
                self.unused_constants.len(),
                self.unused_constants.join(", ")
            ));
        }
        for (from, to, dims) in self.matched.iter().filter(|_| matched) {
            if from == to {
                s.push_str(&format!("\nmatched      {to} {dims:?}"));
            } else {
                s.push_str(&format!("\nmatched      {to} {dims:?} ← {from}"));
            }
        }
        s
    }
}

/// An imported network.
pub struct Imported {
    /// The design, grouped and laid out.
    pub design: Design,
    /// Its weights by netloom's names (a state dict's).
    pub weights: Vec<(String, Array)>,
    /// What was matched, folded and dropped.
    pub report: Report,
}

/// Reads the ONNX file at `path`. Side files of weights are looked for beside it.
pub fn import_onnx(path: &Path) -> Result<Imported, ImportError> {
    let bytes = crate::fsio::read_regular(path).map_err(|e| ImportError::Io {
        what: "read",
        path: path.to_owned(),
        source: e,
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    import_bytes(&bytes, path, dir)
}

/// Reads an ONNX model from `bytes` (named `path` in messages; side files in `dir`).
pub fn import_bytes(bytes: &[u8], path: &Path, dir: &Path) -> Result<Imported, ImportError> {
    let model = ModelProto::decode(bytes).map_err(|e| ImportError::NotOnnx {
        path: path.to_owned(),
        problem: e.to_string(),
    })?;
    let Some(graph) = model.graph.as_ref().filter(|g| !g.node.is_empty()) else {
        return Err(ImportError::NotOnnx {
            path: path.to_owned(),
            problem: "it holds no graph".to_owned(),
        });
    };
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(1, |o| o.version);
    if !OPSETS.contains(&opset) {
        return Err(ImportError::Opset { opset });
    }
    graph::check_ops(graph)?;
    let mut report = Report {
        opset,
        producer: format!("{} {}", model.producer_name, model.producer_version)
            .trim()
            .to_owned(),
        ..Report::default()
    };
    let built = graph::build(graph, opset, dir, &mut report)?;
    let mut design = built.design;
    let analysis = crate::design::analyse(&design);
    if let Some(p) = analysis.problems.first() {
        return Err(ImportError::Malformed {
            problem: format!(
                "the imported network doesn't check out ({}): {}",
                crate::units::count(analysis.problems.len() as u64, "problem"),
                p.message
            ),
        });
    }
    names::group_repeats(&mut design);
    crate::design::layout::auto_layout(&mut design);
    Ok(Imported {
        design,
        weights: built.weights,
        report,
    })
}

impl Imported {
    /// Writes the weights to `path` and returns the design naming them (by absolute path) as
    /// the pretrained weights runs start from, with the report.
    pub fn write_weights(
        self,
        path: &Path,
    ) -> Result<(Design, Report), crate::engine::EngineError> {
        write_weights(&self.weights, path)?;
        let mut design = self.design;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        design.training.pretrained = Some(crate::design::PretrainedSource {
            path: absolute.display().to_string(),
            skip: Vec::new(),
        });
        Ok((design, self.report))
    }
}

/// Writes the weights as safetensors, atomically (through the engine, which loads them).
pub fn write_weights(
    weights: &[(String, Array)],
    path: &Path,
) -> Result<(), crate::engine::EngineError> {
    let tensors: Vec<(String, tch::Tensor)> = weights
        .iter()
        .map(|(name, a)| {
            let t = match &a.values {
                Values::F32(v) => tch::Tensor::from_slice(v),
                Values::I64(v) => tch::Tensor::from_slice(v),
            };
            (name.clone(), t.reshape(a.dims.as_slice()))
        })
        .collect();
    crate::engine::write_named(path, &tensors)
}
