//! A look inside one block on real samples, for the Learn view's convolution, batch-norm and
//! dropout lessons: the design compiled as a run compiles it (with the last run's weights when
//! they fit), a few samples through the run's preprocessing, and what went into and came out
//! of the block, with its weights.

use super::error::{EngineError, TorchContext};
use super::network::{Network, Trace};
use super::weights::load_weights;
use crate::data::rng::libtorch_lock;
use crate::data::{Dataset, Preprocessor, split_tensor};
use crate::design::{Design, Op};
use crate::engine::run_dir::RunDir;
use std::path::PathBuf;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// A tensor as plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct Plain {
    /// Its shape, batch first for activations.
    pub shape: Vec<i64>,
    /// Its values, row-major.
    pub data: Vec<f32>,
}

impl Plain {
    fn of(t: &Tensor) -> Result<Plain, EngineError> {
        let t = t.detach().to_device(Device::Cpu).to_kind(Kind::Float);
        Ok(Plain {
            shape: t.size(),
            data: Vec::<f32>::try_from(t.flatten(0, -1)).ctx("reading a tensor")?,
        })
    }
}

/// What to look at.
#[derive(Clone, Debug)]
pub struct ProbeRequest {
    /// The design.
    pub design: Design,
    /// The block, by name.
    pub node: String,
    /// Data at the design's input shape; its first training samples go through.
    pub data: Arc<Dataset>,
    /// How many samples.
    pub samples: usize,
    /// A run folder whose weights and preprocessor to use, when they fit the design.
    pub run_dir: Option<PathBuf>,
    /// Train mode (dropout drops, batch norm uses the batch's statistics) or eval mode.
    pub train: bool,
    /// Seeds dropout's draw.
    pub seed: u64,
}

/// What went into and came out of the block.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeProbe {
    /// The block's input for the samples.
    pub input: Plain,
    /// Its output.
    pub output: Plain,
    /// Its weight, if it has one.
    pub weight: Option<Plain>,
    /// Its bias, if it has one.
    pub bias: Option<Plain>,
    /// True when the weights are a run's (trained), false when freshly initialised.
    pub trained: bool,
    /// Why a run's weights weren't used, when there was a run but they didn't fit.
    pub note: Option<String>,
}

/// Runs the samples through the design and returns the block's view of them.
pub fn probe(req: &ProbeRequest) -> Result<NodeProbe, EngineError> {
    let _guard = tch::no_grad_guard();
    let design = &req.design;
    let node = design
        .node_by_name(&req.node)
        .ok_or_else(|| EngineError::Unwired {
            node: req.node.clone(),
        })?;
    let net = Network::compile(design, Device::Cpu)?;
    let (mut trained, mut note) = (false, None);
    let weights = req.run_dir.as_ref().map(|d| RunDir::at(d).weights());
    if let Some(w) = weights.filter(|w| w.is_file()) {
        match load_weights(&net.params, &w) {
            Ok(()) => trained = true,
            Err(e) => {
                note = Some(format!(
                    "the last run's weights don't fit this design ({e}): showing fresh ones"
                ))
            }
        }
    }
    let data = &req.data;
    let n = req.samples.clamp(1, data.train.len().max(1));
    let pre = match req.run_dir.as_ref().map(|d| RunDir::at(d).preprocessor()) {
        Some(p) if trained && p.is_file() => Preprocessor::load(&p)?,
        _ => Preprocessor::fit(design.data.preprocessing, data)?,
    };
    let d = data.sample_len();
    let dims: Vec<i64> = std::iter::once(-1)
        .chain(data.shape.dims().iter().map(|&v| v as i64))
        .collect();
    let x = split_tensor(&data.train, d)?
        .narrow(0, 0, n as i64)
        .f_reshape(dims.as_slice())
        .ctx("shaping the samples")?;
    let x = pre.apply(&x)?;
    let rng = libtorch_lock();
    tch::manual_seed(req.seed as i64);
    let mut trace = Trace {
        outputs: Vec::new(),
    };
    let _ = net.forward(&x, req.train, Some(&mut trace))?;
    drop(rng);
    let output_of = |name: &str| -> Option<&Tensor> {
        trace
            .outputs
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, t)| t)
    };
    let source = design
        .incoming(node.id)
        .first()
        .and_then(|e| design.node(e.from))
        .ok_or_else(|| EngineError::Unwired {
            node: req.node.clone(),
        })?;
    let input = if matches!(source.op, Op::Input(_)) {
        &x
    } else {
        output_of(&source.name).ok_or_else(|| EngineError::Unwired {
            node: req.node.clone(),
        })?
    };
    let output = output_of(&node.name).ok_or_else(|| EngineError::Unwired {
        node: req.node.clone(),
    })?;
    let param = |field: &str| {
        net.params
            .by_name(&format!("{}.{field}", node.name))
            .map(|p| Plain::of(&p.tensor))
            .transpose()
    };
    Ok(NodeProbe {
        input: Plain::of(input)?,
        output: Plain::of(output)?,
        weight: param("weight")?,
        bias: param("bias")?,
        trained,
        note,
    })
}
