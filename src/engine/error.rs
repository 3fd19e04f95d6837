//! Engine errors, each worded to say what went wrong and what to change.

use std::path::PathBuf;

/// What can stop the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The design has problems; training needs a valid design.
    #[error("the design has {}; fix them first: {first}", crate::units::count(*count as u64, "problem"))]
    InvalidDesign {
        /// How many problems.
        count: usize,
        /// The first one, in full.
        first: String,
    },
    /// The design needs more memory to train than this machine has.
    #[error(
        "training this design needs about {need_gb} GB, more than this machine's {total_gb} GB of memory; \"{node}\" takes the most: lower the batch size, or make \"{node}\" smaller"
    )]
    TooBigForMachine {
        /// Roughly what training needs, in GB.
        need_gb: u64,
        /// The machine's memory, in GB.
        total_gb: u64,
        /// The node that needs the most.
        node: String,
    },
    /// No parameter would learn: every block with weights is frozen, or none has weights.
    #[error(
        "nothing to train: {}; unfreeze a block (the inspector's Frozen box, or \"frozen\": false in the design)",
        if *frozen > 0 { format!("all {frozen} parameters are frozen") } else { "the design has no parameters".to_owned() }
    )]
    NothingToTrain {
        /// How many frozen parameter values there are.
        frozen: u64,
    },
    /// The design's `precision` names a number format this device can't compute in.
    #[error(
        "precision {precision} doesn't run on {device} ({detail}); set training precision to fp32 or auto (--precision fp32)"
    )]
    Precision {
        /// The format asked for.
        precision: &'static str,
        /// The device.
        device: String,
        /// libtorch's first line about it.
        detail: String,
    },
    /// The design needs exactly one Input and one Output to be compiled.
    #[error("the design needs one Input and one Output")]
    NoInputOrOutput,
    /// A node has nothing wired into it.
    #[error("node \"{node}\" has no input")]
    Unwired {
        /// The node's name.
        node: String,
    },
    /// The data can't train the design (its shape or its classes): the one rule in
    /// [`crate::data::fit`], used by the app, the CLI and export alike.
    #[error(transparent)]
    Misfit(#[from] crate::data::Misfit),
    /// The dataset contradicts itself (labels, sizes).
    #[error("the dataset is inconsistent: {problem}")]
    BadData {
        /// What is wrong.
        problem: String,
    },
    /// A split the run needs is empty.
    #[error("{data} needs both training and validation samples")]
    EmptySplit {
        /// The dataset's name.
        data: String,
    },
    /// Resuming was asked for without a run directory to resume from.
    #[error("resuming needs the run directory")]
    NoRunDir,
    /// The requested device can't be used here.
    #[error(transparent)]
    Device(#[from] super::device::DeviceError),
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
    /// A run folder can't take this run: it holds another run or the user's files, another
    /// run is training there, or it recorded other data.
    #[error("{problem}: {}", path.display())]
    RunFolder {
        /// What is wrong and what to do.
        problem: String,
        /// The folder.
        path: PathBuf,
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

impl From<crate::design::PlanError> for EngineError {
    fn from(e: crate::design::PlanError) -> Self {
        match e {
            crate::design::PlanError::Invalid { count, first } => {
                EngineError::InvalidDesign { count, first }
            }
            crate::design::PlanError::NoInputOrOutput => EngineError::NoInputOrOutput,
        }
    }
}

impl EngineError {
    /// Whether this is a file the user gave that can't be read (the CLI exits 2 for it, as for
    /// any unreadable input): a weights file or a run's state, not a failure while training.
    pub fn is_unreadable_input(&self) -> bool {
        match self {
            EngineError::BadFile { .. } | EngineError::RunFolder { .. } => true,
            EngineError::Io { what, .. } => what.starts_with("read"),
            _ => false,
        }
    }

    /// Wraps a libtorch error, recognising the GPU or this machine running out of memory (a
    /// design that passed the estimate before training but not libtorch's allocator: the GPU's
    /// memory isn't known before libtorch uses it, and other programs take some of either).
    pub fn torch(context: impl Into<String>, e: tch::TchError) -> Self {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default().to_owned();
        let message = if text.contains("CUDA out of memory")
            || text.contains("MPS backend out of memory")
        {
            format!(
                "the GPU ran out of memory; use a smaller batch size or a smaller network ({first})"
            )
        } else if text.contains("DefaultCPUAllocator") || text.contains("std::bad_alloc") {
            format!(
                "this machine ran out of memory; use a smaller batch size or a smaller network, or close other programs ({first})"
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

    #[test]
    fn the_cpu_allocator_failing_is_reported_as_running_out_of_memory() {
        let e = EngineError::torch(
            "a training step",
            tch::TchError::Torch("[enforce fail at alloc_cpu.cpp:121] data. DefaultCPUAllocator: not enough memory: you tried to allocate 4000000000000 bytes.\nException raised from ...".to_owned()),
        );
        let text = e.to_string();
        assert!(
            text.contains("this machine ran out of memory; use a smaller batch size"),
            "{text}"
        );
        assert!(!text.contains("Exception raised"), "{text}");
    }

    #[test]
    fn the_design_has_n_problems() {
        let problems = EngineError::InvalidDesign {
            count: 1,
            first: "x".to_owned(),
        }
        .to_string();
        assert!(
            problems.starts_with("the design has 1 problem;"),
            "{problems}"
        );
    }
}
