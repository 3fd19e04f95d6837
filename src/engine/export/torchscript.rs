//! TorchScript, written from Rust: the compiled network traced in eval mode by libtorch's own
//! tracer and saved as a `torch.jit` archive, which `torch.jit.load` (Python) and
//! `torch::jit::load` (C++) read.
//!
//! Tracing records the operators the engine runs, so the file computes exactly what
//! `netloom forward` does. None of them depends on the batch size (flatten keeps dimension 0,
//! concatenation is along channels), so the one trace serves every batch size.

use super::ExportError;
use crate::engine::Network;
use std::path::Path;
use tch::{CModule, Kind, Tensor};

/// Traces `net` (weights loaded) and writes it to `path`.
pub fn write_torchscript(net: &Network, path: &Path) -> Result<(), ExportError> {
    let _guard = tch::no_grad_guard();
    net.params.stop_gradients();
    let mut dims = vec![2i64];
    dims.extend(net.input_shape.dims().iter().map(|&d| d as i64));
    let example = Tensor::zeros(dims.as_slice(), (Kind::Float, net.device));
    let mut failure = None;
    let module = CModule::create_by_tracing("Netloom", "forward", &[example], &mut |xs| match xs
        .first()
        .map(|x| net.forward(x, false, None))
    {
        Some(Ok(y)) => vec![y],
        Some(Err(e)) => {
            failure = Some(e.to_string());
            Vec::new()
        }
        None => Vec::new(),
    })
    .map_err(|e| ExportError::Torch(format!("tracing the network failed: {e}")))?;
    if let Some(why) = failure {
        return Err(ExportError::Torch(format!(
            "tracing the network failed: {why}"
        )));
    }
    module
        .save(path)
        .map_err(|e| ExportError::Torch(format!("writing TorchScript failed: {e}")))
}
