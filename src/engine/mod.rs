//! The engine: compiles a design into a libtorch network, trains it on its own thread, and
//! reads and writes what a run leaves behind (weights, optimizer state, metrics).
//!
//! Everything here that touches tch stays on the thread that created it; what leaves the
//! trainer thread is plain data ([`Event`]).

mod checkpoint;
mod device;
mod error;
mod metrics;
mod network;
pub mod npy;
mod optim;
mod params;
pub mod pth;
mod run;
mod schedule;
mod step;
mod trainer;
mod weights;

pub use checkpoint::{RunState, load_weights, save_weights};
pub use device::{DeviceChoice, ResolvedDevice, available_devices};
pub use error::EngineError;
pub use metrics::{Confusion, Histogram, NodeStats};
pub use network::{Network, check_against_data};
pub use optim::Optim;
pub use params::{Param, ParamStore};
pub use run::{EpochMetrics, EvalReport, Job, RunOptions, Summary, evaluate, prepare_inputs};
pub use schedule::learning_rate;
pub use trainer::{Command, Control, Event, Trainer};
pub use weights::{
    WeightsReport, apply_weights, is_skipped, node_of, read_weights, report_for, shapes_of,
};
