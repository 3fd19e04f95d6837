//! What a sweep is asked with, and what it reports: plain data, for the CLI's loop and the
//! app's frame alike.

use crate::data::DataSpec;
use crate::design::Design;
use crate::design::sweep::Sweep;
use crate::engine::{DeviceChoice, EpochMetrics, EventKind};
use std::path::PathBuf;

/// What a sweep needs to start.
#[derive(Clone, Debug)]
pub struct SweepSetup {
    /// The definition.
    pub sweep: Sweep,
    /// The design the trials vary.
    pub design: Design,
    /// The data every trial trains on.
    pub data: DataSpec,
    /// The sweep folder.
    pub out: PathBuf,
    /// Trials at once (None: measure and choose).
    pub parallel: Option<usize>,
    /// CPU threads in all (None: what the process may use).
    pub threads: Option<usize>,
    /// Where the trials train.
    pub device: DeviceChoice,
}

/// What happened in a sweep, for its owner to show.
#[derive(Clone, Debug)]
pub enum SweepEvent {
    /// A trial started (or resumed), with this many CPU threads.
    Started {
        /// Its index in [`SweepRun::records`].
        trial: usize,
        /// Resumed from its checkpoint.
        resumed: bool,
        /// Its CPU threads.
        threads: usize,
    },
    /// A trial ended an epoch (the record has its curve, and its verdict when stopped).
    Epoch {
        /// Its index.
        trial: usize,
        /// The epoch's metrics.
        metrics: Box<EpochMetrics>,
    },
    /// A trial ended: its record says how.
    Ended {
        /// Its index.
        trial: usize,
    },
    /// Something the user should know (a trial skipped, the concurrency chosen).
    Notice(String),
    /// Any other event of a trial's run (losses, histograms), for live curves.
    Run {
        /// Its index.
        trial: usize,
        /// The event.
        kind: Box<EventKind>,
    },
}
