//! A run folder's record of the data it trains on (`data.json`).

use super::RunDir;
use crate::data::{DataSpec, Dataset, Fingerprint};
use crate::engine::EngineError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a run folder records about its data (`data.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// The spec as the user gave it (a relative path stays relative).
    pub spec: String,
    /// The same with its path absolute: what a resume from another folder reads.
    pub resolved: String,
    /// The data's name, as netloom shows it.
    pub name: String,
    /// What identifies the data as loaded.
    pub fingerprint: Fingerprint,
}

impl DataRecord {
    /// The record of `data`, loaded from `spec`.
    pub fn new(spec: &DataSpec, data: &Dataset) -> DataRecord {
        DataRecord {
            spec: spec.to_spec(),
            resolved: spec.resolved().to_spec(),
            name: data.name.clone(),
            fingerprint: Fingerprint::of(data),
        }
    }

    /// The spec to load the run's data from again.
    pub fn data_spec(&self, dir: &Path) -> Result<DataSpec, EngineError> {
        DataSpec::parse(&self.resolved).map_err(|e| EngineError::BadFile {
            problem: format!(
                "the run's record of its data names a source netloom can't read ({e})"
            ),
            path: RunDir::at(dir).data_file(),
        })
    }

    /// Reads `DIR/data.json`; None when the run folder has none (a run from before netloom
    /// recorded its data).
    pub fn read(dir: &Path) -> Result<Option<DataRecord>, EngineError> {
        let path = RunDir::at(dir).data_file();
        if !path.exists() {
            return Ok(None);
        }
        let text = crate::fsio::read_regular_to_string(&path)
            .map_err(|e| EngineError::io("read the run's data record", &path, e))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| EngineError::BadFile {
                problem: format!(
                    "the run's record of its data is damaged ({e}); pass --data to say what it trained on"
                ),
                path,
            })
    }

    /// Writes `DIR/data.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), EngineError> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        crate::engine::files::write_text(
            &RunDir::at(dir).data_file(),
            "write the run's data record",
            &text,
        )
    }

    /// Why `data` (from `spec`) is not this record's data, a phrase per difference; empty
    /// when it is the same data.
    pub fn differences(&self, data: &Dataset) -> Vec<String> {
        self.fingerprint.differences(&Fingerprint::of(data))
    }
}
