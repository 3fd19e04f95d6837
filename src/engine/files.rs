//! The engine's file primitives: text and safetensors written atomically (a full disk or a
//! kill leaves the old file and no `*.tmp`), and safetensors read with a message that says
//! what is wrong with a bad file. Checkpoints, weights and the run folder's records build on
//! these; this module builds on nothing of the engine's but its error type.

use super::error::{EngineError, TorchContext};
use std::path::Path;
use tch::Tensor;

/// Tensors by name, as a safetensors file or a state dict holds them.
pub type NamedTensors = Vec<(String, Tensor)>;

/// Writes `path` atomically ([`crate::fsio::atomic_write`]) with `write` filling a temporary
/// sibling: a full disk or a kill leaves the old file and no `*.tmp`.
fn atomic<F>(path: &Path, what: &'static str, write: F) -> Result<(), EngineError>
where
    F: FnOnce(&Path) -> Result<(), EngineError>,
{
    let mut failure = None;
    crate::fsio::atomic_write(path, |tmp| {
        write(tmp).map_err(|e| {
            let io = std::io::Error::other(e.to_string());
            failure = Some(e);
            io
        })
    })
    .map_err(|e| {
        failure
            .take()
            .unwrap_or_else(|| EngineError::io(what, path, e))
    })
}

/// Writes text atomically.
pub(crate) fn write_text(path: &Path, what: &'static str, text: &str) -> Result<(), EngineError> {
    atomic(path, what, |tmp| {
        std::fs::write(tmp, text).map_err(|e| EngineError::io(what, tmp, e))
    })
}

/// Writes named tensors as safetensors, atomically.
pub(crate) fn write_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<(), EngineError> {
    atomic(path, "write the tensors", |tmp| {
        Tensor::write_safetensors(tensors, tmp).ctx(&format!("writing {}", tmp.display()))
    })
}

/// Reads a safetensors file, with a message that says what is wrong with a bad one.
pub(crate) fn read_tensors(path: &Path) -> Result<Vec<(String, Tensor)>, EngineError> {
    let meta = std::fs::metadata(path).map_err(|e| EngineError::io("read the weights", path, e))?;
    if meta.len() == 0 {
        return Err(EngineError::BadFile {
            problem: "the weights file is empty".to_owned(),
            path: path.to_owned(),
        });
    }
    Tensor::read_safetensors(path).map_err(|e| EngineError::BadFile {
        problem: format!("this is not a readable .safetensors file (truncated or corrupt?): {e}"),
        path: path.to_owned(),
    })
}
