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

use super::error::{EngineError, TorchContext};
use super::weights::NamedTensors;
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
    /// The checkpoint's files with their sizes and checksums (empty in run folders from before
    /// checkpoint folders).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileSum>,
    /// The checksum best.safetensors should have (the weights of the best epoch so far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<FileSum>,
    /// fp16's loss scale, so a resumed fp16 run scales as the uninterrupted one would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<super::precision::LossScale>,
    /// CRC-32 of the state's other fields (compact JSON), as the checkpoint's files have one:
    /// an edited or damaged state.json is told, not trusted. None in run folders from before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<u32>,
}

impl RunState {
    /// The state's checksum: the CRC-32 of its fields but this one, as compact JSON.
    fn checksum(&self) -> u32 {
        let bare = RunState {
            crc32: None,
            ..self.clone()
        };
        crc32fast::hash(serde_json::to_string(&bare).unwrap_or_default().as_bytes())
    }

    /// The state as state.json holds it, with its checksum.
    pub(crate) fn to_text(&self) -> String {
        let sealed = RunState {
            crc32: Some(self.checksum()),
            ..self.clone()
        };
        serde_json::to_string_pretty(&sealed).unwrap_or_default()
    }

    /// Reads state.json's text: its checksum must match (when it has one) and its numbers
    /// must agree with each other; or what is wrong.
    pub(crate) fn from_text(text: &str) -> Result<RunState, String> {
        let state: RunState =
            serde_json::from_str(text).map_err(|e| format!("its state.json is damaged: {e}"))?;
        if let Some(sum) = state.crc32
            && sum != state.checksum()
        {
            return Err(
                "its state.json doesn't match its checksum (it was edited or damaged)".to_owned(),
            );
        }
        if let Some(why) = state.inconsistency() {
            return Err(format!("its state.json can't be right: {why}"));
        }
        Ok(RunState {
            crc32: None,
            ..state
        })
    }

    /// Numbers that can't belong together (a file edited by hand, or from elsewhere).
    fn inconsistency(&self) -> Option<String> {
        if self.epochs_done > self.step {
            return Some(format!(
                "{} epochs done in {} steps (each epoch takes a step at least)",
                self.epochs_done, self.step
            ));
        }
        if self.step_in_epoch > self.step || self.optimizer_steps > self.step {
            return Some(format!(
                "step {} within the epoch, {} optimizer steps, but {} steps in all",
                self.step_in_epoch, self.optimizer_steps, self.step
            ));
        }
        if let Some((acc, epoch)) = self.best_val_acc
            && (!(0.0..=1.0).contains(&acc) || epoch > self.epochs_done)
        {
            return Some(format!(
                "a best accuracy of {acc} at epoch {epoch}, after {} epochs",
                self.epochs_done
            ));
        }
        None
    }
}

/// A file of a checkpoint: its name, length and CRC-32.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    /// The file's name within the checkpoint folder.
    pub name: String,
    /// Its length in bytes.
    pub bytes: u64,
    /// The CRC-32 (IEEE) of its bytes.
    pub crc32: u32,
}

impl FileSum {
    /// The sum of the file at `path`, recorded under `name`: streamed, so that checking a
    /// checkpoint costs a buffer, not another copy of its weights and optimizer state.
    fn of(path: &Path, name: &str) -> std::io::Result<FileSum> {
        use std::io::BufRead as _;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
        let (mut hasher, mut bytes) = (crc32fast::Hasher::new(), 0u64);
        loop {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            hasher.update(chunk);
            let n = chunk.len();
            bytes += n as u64;
            reader.consume(n);
        }
        Ok(FileSum {
            name: name.to_owned(),
            bytes,
            crc32: hasher.finalize(),
        })
    }

    /// Whether the file at `path` has this sum, or why not.
    fn check(&self, path: &Path) -> Result<(), String> {
        match FileSum::of(path, &self.name) {
            Ok(found) if found == *self => Ok(()),
            Ok(found) if found.bytes != self.bytes => Err(format!(
                "{} is {} bytes, not the {} its state records",
                self.name, found.bytes, self.bytes
            )),
            Ok(_) => Err(format!("{} doesn't match its checksum", self.name)),
            Err(e) => Err(format!("{} can't be read ({e})", self.name)),
        }
    }
}

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

/// Reads `DIR/state.json`.
pub(crate) fn read_state(dir: &Path) -> Result<RunState, EngineError> {
    let path = dir.join(STATE);
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
use super::run_dir::{BEST, CHECKPOINTS, STATE};
/// A checkpoint's optimizer state.
const OPTIMIZER: &str = "optimizer.safetensors";

/// A run's checkpoint folders by number, newest first.
fn checkpoint_folders(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir.join(CHECKPOINTS)) else {
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
        let folder = self.dir.join(CHECKPOINTS).join(format!("{number:06}"));
        let committed = self.commit(&folder, state, weights, optimizer, best);
        if committed.is_err() {
            let _ = std::fs::remove_dir_all(&folder);
            return committed;
        }
        // For readers (eval, export, the app): the newest state and weights at the top.
        let text = state.to_text();
        write_text(&self.dir.join(STATE), "write the run state", &text)?;
        link(&folder.join(WEIGHTS), &self.dir.join(WEIGHTS))?;
        if best {
            link(&folder.join(WEIGHTS), &self.dir.join(BEST))?;
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
        path: dir.join(CHECKPOINTS),
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
    if std::fs::read_to_string(dir.join(STATE)).ok().as_deref() != Some(text.as_str()) {
        write_text(&dir.join(STATE), "write the run state", &text)?;
    }
    let weights = state.files.iter().find(|f| f.name == WEIGHTS);
    if let Some(sum) = weights
        && sum.check(&dir.join(WEIGHTS)).is_err()
    {
        link(&folder.join(WEIGHTS), &dir.join(WEIGHTS))?;
    }
    if let Some(best) = &state.best
        && best.check(&dir.join(BEST)).is_err()
    {
        if weights == Some(best) {
            link(&folder.join(WEIGHTS), &dir.join(BEST))?;
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
