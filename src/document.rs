//! Design files on disk: reading with errors that name the file, and atomic saving.

use crate::design::{self, Design, FormatError};
use std::path::{Path, PathBuf};

/// Why a design file could not be read. The message says what is wrong, then the path.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The file could not be read at all.
    #[error("cannot read the design: {source} ({})", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file was read but is not a design this netloom opens.
    #[error("{source} ({})", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: FormatError,
    },
}

/// Reads and parses a design file.
pub fn load_design(path: &Path) -> Result<Design, DocumentError> {
    let text = crate::fsio::read_regular_to_string(path).map_err(|source| DocumentError::Read {
        path: path.to_owned(),
        source,
    })?;
    design::from_json(&text).map_err(|source| DocumentError::Format {
        path: path.to_owned(),
        source,
    })
}

/// Writes a design atomically ([`crate::fsio::atomic_write`]): a temporary file of this
/// writer's own beside the target, flushed, then renamed, so a crash or kill mid-save leaves the
/// old design or the new one, whole (a killed save's temporary file goes with the next save),
/// and two windows saving one file never mix their bytes.
pub fn save_design(design: &Design, path: &Path) -> std::io::Result<()> {
    crate::fsio::atomic_write_bytes(path, design::to_json(design).as_bytes())
}
