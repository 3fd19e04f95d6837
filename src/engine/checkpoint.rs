//! What a run leaves in its directory, and how it is read back to resume: plain file I/O
//! (atomic writes, safetensors, the run state), below the weights mapping in [`super::weights`].
//!
//! ```text
//! DIR/design.json              the design as trained (hyper-parameters)
//! DIR/preprocessor.json        the fitted input transform
//! DIR/checkpoint/N/            checkpoint number N (the newest two are kept):
//!     weights.safetensors      its weights (PyTorch state-dict names)
//!     optimizer.safetensors    its optimizer's state tensors
//!     state.json               epoch, step, running sums, RNG seed, and the length and CRC-32
//!                              of the two files above; written last, it commits the checkpoint
//! DIR/weights.safetensors      the latest checkpoint's weights (a hard link), for reading
//! DIR/best.safetensors         the weights with the best validation accuracy so far
//! DIR/state.json               the latest checkpoint's state, for reading
//! DIR/metrics.csv              a row per logged step and per epoch
//! ```
//! A checkpoint is atomic as a set: its files are written and flushed in a new folder, and only
//! then its state.json, which names them with their checksums. A kill at any moment leaves
//! the previous checkpoint whole; resuming takes the newest checkpoint whose files match its
//! state, says when it had to fall back, and finishes the copies at the top of the folder.
//! Run folders from before checkpoint folders (files only at the top) still resume.

use super::error::EngineError;
use super::files::{NamedTensors, read_tensors, write_tensors, write_text};
use super::run_dir::{FileSum, RunState};
use std::path::{Path, PathBuf};
use tch::Tensor;

/// Reads `DIR/state.json`.
pub(crate) fn read_state(dir: &Path) -> Result<RunState, EngineError> {
    let path = RunDir::at(dir).state();
    let text = crate::fsio::read_regular_to_string(&path)
        .map_err(|e| EngineError::io("read the run state (is this a run directory?)", &path, e))?;
    RunState::from_text(&text).map_err(|why| EngineError::BadFile {
        problem: format!("{why}; start a new run"),
        path,
    })
}

// The run folder's names are engine::run_dir's; a checkpoint folder holds the same weights
// and state names, and its optimizer state.
pub(crate) use super::run_dir::WEIGHTS;
use super::run_dir::{RunDir, STATE};
/// A checkpoint's optimizer state.
const OPTIMIZER: &str = "optimizer.safetensors";

/// A run's checkpoint folders by number, newest first.
fn checkpoint_folders(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(RunDir::at(dir).checkpoints()) else {
        return Vec::new();
    };
    let mut out: Vec<(u64, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_str()?.parse::<u64>().ok()?;
            e.path().is_dir().then(|| (n, e.path()))
        })
        .collect();
    out.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    out
}

/// Replaces `to` with a hard link to `from` (a copy where the file system has no hard links),
/// atomically. Checkpoint files are never changed in place, so sharing them is safe.
fn link(from: &Path, to: &Path) -> Result<(), EngineError> {
    crate::fsio::atomic_write(to, |tmp| {
        std::fs::hard_link(from, tmp).or_else(|_| std::fs::copy(from, tmp).map(|_| ()))
    })
    .map_err(|e| EngineError::io("write the weights", to, e))
}

/// Where a run's checkpoints go: the next folder number, and the last complete checkpoint,
/// which is kept beside the newest.
pub(crate) struct Checkpoints {
    dir: PathBuf,
    next: u64,
    last: Option<u64>,
}

impl Checkpoints {
    /// Checkpoints in `dir`; `resumed` is the checkpoint a resumed run started from. What a
    /// killed run left half-written at the top of the folder is cleared (incomplete checkpoint
    /// folders go with the next checkpoint).
    pub(crate) fn new(dir: &Path, resumed: Option<u64>) -> Checkpoints {
        crate::fsio::remove_stale_temporaries(dir, None);
        let next = checkpoint_folders(dir).first().map_or(1, |(n, _)| n + 1);
        Checkpoints {
            dir: dir.to_owned(),
            next,
            last: resumed,
        }
    }

    /// Writes a checkpoint as a set: weights and optimizer state into a new folder, then the
    /// state naming them with their checksums (the commit), then the copies at the top of the
    /// run folder, then the checkpoints older than the last two are removed. When a write fails
    /// (a full disk) the new folder is removed: the previous checkpoint is untouched.
    pub(crate) fn write(
        &mut self,
        state: &mut RunState,
        weights: &[(String, Tensor)],
        optimizer: &[(String, Tensor)],
        best: bool,
    ) -> Result<(), EngineError> {
        crate::fsio::fault_point();
        let number = self.next;
        self.next += 1;
        let folder = RunDir::at(&self.dir)
            .checkpoints()
            .join(format!("{number:06}"));
        let committed = self.commit(&folder, state, weights, optimizer, best);
        if committed.is_err() {
            let _ = std::fs::remove_dir_all(&folder);
            return committed;
        }
        // For readers (eval, export, the app): the newest state and weights at the top.
        let text = state.to_text();
        write_text(&RunDir::at(&self.dir).state(), "write the run state", &text)?;
        link(&folder.join(WEIGHTS), &RunDir::at(&self.dir).weights())?;
        if best {
            link(&folder.join(WEIGHTS), &RunDir::at(&self.dir).best())?;
        }
        let keep = [Some(number), self.last];
        self.last = Some(number);
        for (n, old) in checkpoint_folders(&self.dir) {
            if !keep.contains(&Some(n)) {
                let _ = std::fs::remove_dir_all(old);
            }
        }
        crate::fsio::fault_point();
        Ok(())
    }

    fn commit(
        &self,
        folder: &Path,
        state: &mut RunState,
        weights: &[(String, Tensor)],
        optimizer: &[(String, Tensor)],
        best: bool,
    ) -> Result<(), EngineError> {
        std::fs::create_dir_all(folder)
            .map_err(|e| EngineError::io("create the checkpoint folder", folder, e))?;
        let mut files = Vec::new();
        for (name, tensors) in [(WEIGHTS, weights), (OPTIMIZER, optimizer)] {
            let path = folder.join(name);
            write_tensors(&path, tensors)?;
            files.push(
                FileSum::of(&path, name)
                    .map_err(|e| EngineError::io("read back the checkpoint", &path, e))?,
            );
        }
        if best {
            state.best = files.first().cloned();
        }
        state.files = files;
        let text = state.to_text();
        write_text(&folder.join(STATE), "write the run state", &text)
    }
}

/// The checkpoint a resume starts from.
pub(crate) struct Resumable {
    /// The folder holding its weights and optimizer state (the run folder itself for a run
    /// from before checkpoint folders).
    pub folder: PathBuf,
    /// Its number (None for a run from before checkpoint folders).
    pub number: Option<u64>,
    /// Where the run was.
    pub state: RunState,
    /// What had to be said: a newer checkpoint that was incomplete, a best.safetensors that
    /// doesn't match.
    pub notices: Vec<String>,
}

/// The newest complete checkpoint of the run in `dir`: one whose state.json is readable and
/// whose files match the sizes and checksums it records. A newer one that isn't (a kill or a
/// full disk mid-checkpoint, a file damaged since) is passed over with a notice. The copies at
/// the top of the run folder are brought in line with the checkpoint chosen.
pub(crate) fn latest_checkpoint(dir: &Path) -> Result<Resumable, EngineError> {
    let folders = checkpoint_folders(dir);
    if folders.is_empty() {
        return Ok(Resumable {
            folder: dir.to_owned(),
            number: None,
            state: read_state(dir)?,
            notices: Vec::new(),
        });
    }
    let mut passed = Vec::new();
    for (number, folder) in folders {
        match complete_state(&folder) {
            Ok(state) => {
                let mut notices = Vec::new();
                if !passed.is_empty() {
                    notices.push(format!(
                        "{}: resumed from checkpoint {number} instead (epoch {}, step {}), the last complete one",
                        passed.join("; "),
                        state.epochs_done,
                        state.step
                    ));
                }
                finish_copies(dir, &folder, &state, &mut notices)?;
                return Ok(Resumable {
                    folder,
                    number: Some(number),
                    state,
                    notices,
                });
            }
            Err(why) => passed.push(format!("checkpoint {number} is incomplete ({why})")),
        }
    }
    Err(EngineError::BadFile {
        problem: format!(
            "no checkpoint here is complete: {}; start a new run",
            passed.join("; ")
        ),
        path: RunDir::at(dir).checkpoints(),
    })
}

/// A checkpoint folder's state, when it and the files it names are whole.
fn complete_state(folder: &Path) -> Result<RunState, String> {
    let text = std::fs::read_to_string(folder.join(STATE)).map_err(|_| {
        "it has no state.json: netloom was stopped or the disk filled while writing it".to_owned()
    })?;
    let state = RunState::from_text(&text)?;
    if state.files.is_empty() {
        return Err("its state.json names no files".to_owned());
    }
    for file in &state.files {
        file.check(&folder.join(&file.name))?;
    }
    Ok(state)
}

/// Makes the top of the run folder match the checkpoint resumed from: its state and weights
/// (which a kill after the commit may have left older), and best.safetensors when the
/// checkpoint is the best epoch's.
fn finish_copies(
    dir: &Path,
    folder: &Path,
    state: &RunState,
    notices: &mut Vec<String>,
) -> Result<(), EngineError> {
    let text = state.to_text();
    if std::fs::read_to_string(RunDir::at(dir).state())
        .ok()
        .as_deref()
        != Some(text.as_str())
    {
        write_text(&RunDir::at(dir).state(), "write the run state", &text)?;
    }
    let weights = state.files.iter().find(|f| f.name == WEIGHTS);
    if let Some(sum) = weights
        && sum.check(&RunDir::at(dir).weights()).is_err()
    {
        link(&folder.join(WEIGHTS), &RunDir::at(dir).weights())?;
    }
    if let Some(best) = &state.best
        && best.check(&RunDir::at(dir).best()).is_err()
    {
        if weights == Some(best) {
            link(&folder.join(WEIGHTS), &RunDir::at(dir).best())?;
        } else {
            notices.push(format!(
                "best.safetensors doesn't hold the weights of epoch {} (the best so far): it is written again at the next best epoch",
                state.best_val_acc.map_or(0, |(_, e)| e)
            ));
        }
    }
    Ok(())
}

/// Reads a checkpoint's optimizer state: the tensors, or None when the file is missing.
pub(crate) fn read_optimizer(folder: &Path) -> Result<Option<NamedTensors>, EngineError> {
    let path = folder.join(OPTIMIZER);
    if path.exists() {
        read_tensors(&path).map(Some)
    } else {
        Ok(None)
    }
}
