//! What a run leaves in its directory, and how it is read back to resume: plain file I/O
//! (atomic writes, safetensors, the run state), below the weights mapping in [`super::weights`].
//!
//! ```text
//! DIR/design.json              the design as trained (hyper-parameters)
//! DIR/preprocessor.json        the fitted input transform
//! DIR/weights.safetensors      the latest weights (PyTorch state-dict names)
//! DIR/best.safetensors         the weights with the best validation accuracy so far
//! DIR/optimizer.safetensors    the optimizer's state tensors
//! DIR/state.json               epoch, step, running sums, RNG seed: exactly where to go on
//! DIR/metrics.csv              a row per logged step and per epoch
//! ```
//! Every file is written to a temporary name and renamed, so a crash never leaves half a file.

use super::error::{EngineError, TorchContext};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Tensor;

/// Where a run is, saved with each checkpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Epochs fully done.
    pub epochs_done: u64,
    /// Global steps done.
    pub step: u64,
    /// Steps done within the current (unfinished) epoch.
    pub step_in_epoch: u64,
    /// Running sums of the unfinished epoch: loss × samples, correct predictions, samples.
    pub epoch_loss_sum: f64,
    /// Correct training predictions so far this epoch.
    pub epoch_correct: u64,
    /// Training samples seen so far this epoch.
    pub epoch_seen: u64,
    /// Optimizer steps (bias correction).
    pub optimizer_steps: u64,
    /// The seed every random draw derives from.
    pub seed: u64,
    /// Best validation accuracy so far, and at which epoch.
    pub best_val_acc: Option<(f64, u64)>,
    /// Bytes of metrics.csv that belong to this state (later rows are dropped on resume).
    pub metrics_len: u64,
    /// Histogram edges per node, so resumed histograms stay comparable.
    pub histogram_edges: Vec<(String, f32, f32)>,
}

/// Writes `path` atomically with `write` filling a temporary sibling, flushed to the disk
/// before it replaces `path`. When anything fails (a full disk) the temporary file is removed:
/// `path` keeps its old content and no `*.tmp` is left behind.
fn atomic<F>(path: &Path, what: &'static str, write: F) -> Result<(), EngineError>
where
    F: FnOnce(&Path) -> Result<(), EngineError>,
{
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = write(&tmp)
        .and_then(|()| {
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| EngineError::io(what, &tmp, e))
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| EngineError::io(what, path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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

/// Reads `DIR/state.json`.
pub(crate) fn read_state(dir: &Path) -> Result<RunState, EngineError> {
    let path = dir.join("state.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| EngineError::io("read the run state (is this a run directory?)", &path, e))?;
    serde_json::from_str(&text).map_err(|e| EngineError::BadFile {
        problem: format!("the run state is damaged ({e}); start a new run"),
        path,
    })
}
