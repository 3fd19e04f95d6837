//! How much memory training a design needs, roughly, from its analysed nodes: the check that
//! refuses a design no machine could train, and the figure the engine compares with this
//! machine's memory before a run.

use super::analysis::NodeReport;
use super::graph::Design;
use super::op::Op;

/// More memory than any one machine netloom trains on has (1 TiB): a design that needs more
/// can never train, so it is a problem here, naming its largest node, instead of an allocator
/// failure inside libtorch. (Whether it fits *this* machine is the engine's check.)
pub const MEMORY_LIMIT: u64 = 1 << 40;

/// Bytes one node needs to train, roughly: each parameter as weights, gradient and two
/// optimizer moments (16 bytes), each output value kept for the backward pass with its
/// gradient (8 bytes) for every sample of the batch.
pub fn training_bytes(r: &NodeReport, batch: u64) -> u64 {
    r.params
        .saturating_mul(16)
        .saturating_add(r.activation_bytes.saturating_mul(2).saturating_mul(batch))
}

/// Bytes for people, without the `units` layer (design depends on nothing of ours).
fn readable_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e12 {
        format!("{:.0} TB", b / 1e12)
    } else {
        format!("{:.0} GB", b / 1e9)
    }
}

/// What training `nodes` needs in all at `batch` (each by [`training_bytes`]), and the
/// position of the node that needs the most: `check`'s limit and the engine's fit to this
/// machine both judge by it.
pub fn training_memory(nodes: &[NodeReport], batch: u64) -> (u64, Option<usize>) {
    let total = nodes
        .iter()
        .fold(0u64, |t, r| t.saturating_add(training_bytes(r, batch)));
    let largest = nodes
        .iter()
        .enumerate()
        .max_by_key(|(_, r)| training_bytes(r, batch))
        .map(|(i, _)| i);
    (total, largest)
}

/// The problem of a design too big for any machine ([`MEMORY_LIMIT`]) at `batch`: the node
/// that needs the most (its position) and what to change.
pub(super) fn too_big(
    design: &Design,
    nodes: &[NodeReport],
    batch: u64,
) -> Option<(usize, String)> {
    let (total, largest) = training_memory(nodes, batch);
    if total <= MEMORY_LIMIT {
        return None;
    }
    let (i, r) = largest.and_then(|i| Some((i, nodes.get(i)?)))?;
    let hint = match design.nodes.get(i).map(|n| &n.op) {
        Some(Op::Linear(_)) => "lower its out_features",
        Some(Op::Conv2d(_)) => "lower its out_channels or kernel_size",
        _ => "make the layers before it smaller",
    };
    let params = if r.params.saturating_mul(16) >= r.activation_bytes.saturating_mul(2 * batch) {
        format!("its {} parameters take", r.params)
    } else {
        format!(
            "its output ({} a sample, at batch size {batch}) takes",
            readable_bytes(r.activation_bytes)
        )
    };
    Some((
        i,
        format!(
            "{}: training this design needs about {}, more than any machine has ({} at most); {params} the most: {hint}",
            r.name,
            readable_bytes(total),
            readable_bytes(MEMORY_LIMIT)
        ),
    ))
}
