//! The pure design core: the graph of nodes, shape inference, validation and the file format.
//!
//! Nothing here imports egui or tch, and nothing touches the file system: the canvas, the
//! engine and the CLI all build on this one model.
mod graph;
mod group;
mod op;
mod pair;
mod settings;
mod shape;

pub use graph::{Design, Edge, Node, NodeId};
pub use group::{Group, GroupId, GroupInput, GroupPins, repath};
pub use op::*;
pub use pair::Pair;
pub use settings::{
    DataSettings, Init, Optimizer, Precision, Preprocessing, PretrainedSource, Schedule,
    TrainingSettings,
};
pub use shape::Shape;
mod analysis;
mod augment;
mod format;
mod infer;
mod memory;

pub use analysis::{Analysis, MAX_NAME_CHARS, NodeReport, Problem, Totals, analyse, is_valid_name};
pub use augment::Augment;
pub use format::{FORMAT_NAME, FORMAT_VERSION, FormatError, from_json, to_json};
pub use infer::{Incoming, NodeCost, ShapeError, infer, pool_out};
pub use memory::{MEMORY_LIMIT, training_memory};
pub mod append;
pub mod catalogue;
pub mod edit;
pub mod generate;
pub mod grouping;
pub mod layout;
pub mod plan;
pub mod sweep;
pub use plan::{Plan, PlanError};
pub mod templates;
pub mod unfreeze;

/// The bundled LeNet-5 example, for unit tests.
#[cfg(test)]
pub(crate) fn lenet_example() -> Design {
    from_json(include_str!("../../examples/lenet5.json")).unwrap_or_default()
}
