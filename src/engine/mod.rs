//! The engine: compiles a design into a libtorch network, trains it on its own thread, and
//! reads and writes what a run leaves behind (weights, optimizer state, metrics).
//!
//! Everything here that touches tch stays on the thread that created it; what leaves the
//! trainer thread is plain data ([`Event`]). Inside, no two modules import each other
//! (tests/layers.rs): `error`, `files` and the file formats at the bottom, `checkpoint` and
//! `weights` on them, then `network` and `batch`, then the run (`run/`, whose children are its
//! steps, its GPU queue, its decision maps and its unfreezing), then the `trainer` thread and
//! its `history` reader at the top.

mod batch;
mod checkpoint;
pub mod cpus;
pub mod cuda;
pub mod curves;
mod device;
mod error;
mod files;
mod history;
mod layer;
mod metrics;
mod metrics_csv;
mod network;
pub mod npy;
mod optim;
pub mod overlap;
mod params;
pub mod precision;
pub mod probe;
mod protocol;
pub mod regression;
mod run;
pub mod run_dir;
mod schedule;
pub mod segmentation;
pub mod surface;
pub mod sweep;
mod trainer;
pub mod tuner;
mod weights;
mod weights_format;
mod weights_map;

pub use batch::{EvalReport, Truth, evaluate, prepare_inputs};
pub use device::{DeviceChoice, DeviceError, ResolvedDevice, available_devices};
pub use error::EngineError;
pub use history::{Progress, RunHistory, RunStatus, metrics_csv};
pub use metrics::{Confusion, Histogram, NodeStats};
pub use network::{Network, check_against_data};
pub use optim::Optim;
pub use params::{Param, ParamStore};
pub use protocol::{
    Boundary, Command, Control, DataSource, EpochMetrics, EpochViews, Event, EventKind,
    InitWeights, Job, Loaded, RunId, RunOptions, RunRequest, Stage, Summary, Thawing,
};
pub use run_dir::RunState;
pub use schedule::learning_rate;
pub use trainer::{Notify, Trainer};
pub use weights::{
    check_weights_file, load_weights, read_fitting, read_shapes, read_weights, read_weights_wanted,
    save_weights, shapes_of, write_named,
};
pub use weights_map::{WeightsReport, apply_weights, is_skipped, node_of, report_for};
