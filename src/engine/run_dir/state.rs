//! `state.json`: where a run is, saved with each checkpoint (and its copy at the top of the run
//! folder), with the length and CRC-32 of each file its checkpoint holds.

use serde::{Deserialize, Serialize};
use std::path::Path;

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
    /// Best validation score so far (accuracy, or a regression's R²), and at which epoch.
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
    pub loss_scale: Option<crate::engine::precision::LossScale>,
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
            && (acc.is_nan() || acc > 1.0 || epoch > self.epochs_done)
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
    pub(crate) fn of(path: &Path, name: &str) -> std::io::Result<FileSum> {
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
    pub(crate) fn check(&self, path: &Path) -> Result<(), String> {
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
