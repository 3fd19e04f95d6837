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
    let text = std::fs::read_to_string(path).map_err(|source| DocumentError::Read {
        path: path.to_owned(),
        source,
    })?;
    design::from_json(&text).map_err(|source| DocumentError::Format {
        path: path.to_owned(),
        source,
    })
}

/// Writes a design atomically: a temporary file beside the target, then a rename, so a crash
/// mid-save never leaves a half-written design.
pub fn save_design(design: &Design, path: &Path) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp"));
    std::fs::write(&tmp, design::to_json(design))?;
    std::fs::rename(&tmp, path)
}
