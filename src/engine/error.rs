//! Engine errors, each worded to say what went wrong and what to change.

use std::path::PathBuf;

/// What can stop the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The design has problems; training needs a valid design.
    #[error("the design has {count} problem(s); fix them first: {first}")]
    InvalidDesign {
        /// How many problems.
        count: usize,
        /// The first one, in full.
        first: String,
    },
    /// The design and the dataset don't fit together.
    #[error("{0}")]
    Mismatch(String),
    /// A libtorch operation failed.
    #[error("{context}: {message}")]
    Torch {
        /// What the engine was doing.
        context: String,
        /// libtorch's message (or the out-of-memory explanation).
        message: String,
    },
    /// A file could not be read or written.
    #[error("could not {what}: {source}: {}", path.display())]
    Io {
        /// What was being done, e.g. "write the checkpoint".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file was read but is not what it should be.
    #[error("{problem}: {}", path.display())]
    BadFile {
        /// What is wrong and what to do.
        problem: String,
        /// The file.
        path: PathBuf,
    },
    /// A data error (loading, preprocessing, augmentation).
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The loss became NaN or infinite.
    #[error(
        "the loss became {value} at epoch {epoch}, step {step}: training diverged. Lower the learning rate (e.g. by 10×), add warm-up or gradient clipping, or check the data's scale; the last good checkpoint is kept"
    )]
    Diverged {
        /// The non-finite value.
        value: f32,
        /// Epoch (1-based).
        epoch: u64,
        /// Global step.
        step: u64,
    },
}

impl EngineError {
    /// Wraps a libtorch error, recognising CUDA running out of memory.
    pub fn torch(context: impl Into<String>, e: tch::TchError) -> Self {
        let text = e.to_string();
        let message = if text.contains("out of memory") {
            let first = text.lines().next().unwrap_or_default().to_owned();
            format!(
                "the GPU ran out of memory; use a smaller batch size or a smaller network ({first})"
            )
        } else {
            text.lines().take(3).collect::<Vec<_>>().join(" ")
        };
        EngineError::Torch {
            context: context.into(),
            message,
        }
    }

    /// An I/O error with what was being done.
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EngineError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for wrapping tch results.
pub(crate) trait TorchContext<T> {
    /// Adds what the engine was doing to a libtorch error.
    fn ctx(self, context: &str) -> Result<T, EngineError>;
}

impl<T> TorchContext<T> for Result<T, tch::TchError> {
    fn ctx(self, context: &str) -> Result<T, EngineError> {
        self.map_err(|e| EngineError::torch(context, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_out_of_memory_is_reported_as_such() {
        let e = EngineError::torch(
            "running node \"conv1\"",
            tch::TchError::Torch("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.1 GiB total capacity)\nmore".to_owned()),
        );
        let text = e.to_string();
        assert!(
            text.contains("the GPU ran out of memory; use a smaller batch size"),
            "{text}"
        );
        assert!(text.starts_with("running node \"conv1\""), "{text}");
    }
}
