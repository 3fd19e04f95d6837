//! What can go wrong reading data, always naming the file and what to change.

use std::path::PathBuf;
use thiserror::Error;

/// A dataset that could not be loaded. Messages say what is wrong, then the path.
#[derive(Debug, Error)]
pub enum DataError {
    /// The file or folder could not be read at all.
    #[error("cannot read {what}: {source} ({path})")]
    Io {
        /// What was being read, e.g. "the IDX file".
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file was read but its contents are not what its format requires.
    #[error("{problem} ({path})")]
    Invalid {
        /// The path.
        path: PathBuf,
        /// What is wrong and what to change.
        problem: String,
    },
    /// A data spec such as `toy:spiral` that names nothing netloom knows.
    #[error("{0}")]
    Spec(String),
}

impl DataError {
    /// A read error on `path`.
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            what,
            path: path.into(),
            source,
        }
    }

    /// A format error on `path`.
    pub fn invalid(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        DataError::Invalid {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
