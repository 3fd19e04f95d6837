//! Gradual unfreezing: which frozen blocks become trainable, and when.
//!
//! Fine-tuning a pretrained network with a new head usually starts with the body frozen. Thawing
//! all of it at once lets the head's large early gradients disturb features worth keeping;
//! thawing one block at a time, from the head down (ULMFiT's "gradual unfreezing"), lets each
//! block adapt after the ones above it have settled. The schedule is a pure function of the
//! epoch, like the learning rate's, so a resumed run thaws exactly the blocks it had.

use super::analysis::Analysis;
use super::graph::{Design, NodeId};

/// One unit of unfreezing: a group (a residual block, `layer1.0`) when its nodes are grouped,
/// otherwise a single node with parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThawBlock {
    /// The group's name, or the node's.
    pub name: String,
    /// The frozen nodes with parameters it holds, in execution order.
    pub nodes: Vec<NodeId>,
}

/// The design's frozen blocks with parameters, nearest the output first: the order gradual
/// unfreezing thaws them in. A group counts as frozen when any of its nodes with parameters is;
/// a block's place is that of its last node in execution order.
pub fn thaw_order(design: &Design, analysis: &Analysis) -> Vec<ThawBlock> {
    let mut blocks: Vec<ThawBlock> = Vec::new();
    for &id in analysis.order.iter().rev() {
        let Some(node) = design.node(id) else {
            continue;
        };
        let has_params = analysis.report(id).is_some_and(|r| r.params > 0);
        if !node.frozen || !has_params {
            continue;
        }
        let name = design
            .group_of(id)
            .map_or_else(|| node.name.clone(), |g| g.name.clone());
        match blocks.iter_mut().find(|b| b.name == name) {
            Some(b) => b.nodes.insert(0, id),
            None => blocks.push(ThawBlock {
                name,
                nodes: vec![id],
            }),
        }
    }
    blocks
}

/// How many of the frozen blocks (counted from the head) are trainable during `epoch`
/// (0-based), thawing one more every `every` epochs. A design whose other blocks leave nothing
/// to train (`anything_else_trains` false) thaws its head block from the start, so a fully
/// frozen network trains its head in the first epoch instead of idling through it.
pub fn thawed_at(epoch: u64, every: u64, blocks: usize, anything_else_trains: bool) -> usize {
    let steps = epoch / every.max(1) + u64::from(!anything_else_trains);
    usize::try_from(steps).unwrap_or(usize::MAX).min(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{analyse, templates};

    #[test]
    fn a_frozen_resnet_thaws_from_the_head_down() {
        let mut d =
            crate::design::from_json(include_str!("../../examples/resnet_mini.json")).unwrap();
        for n in &mut d.nodes {
            n.frozen = true;
        }
        let a = analyse(&d);
        let order = thaw_order(&d, &a);
        let names: Vec<&str> = order.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"fc"));
        assert_eq!(names.last(), Some(&"conv1"));
        // Every node with parameters is in exactly one block.
        let with_params = a.nodes.iter().filter(|r| r.params > 0).count();
        assert_eq!(
            order.iter().map(|b| b.nodes.len()).sum::<usize>(),
            with_params
        );
    }

    #[test]
    fn grouped_nodes_thaw_together() {
        let mut d = templates::template("resnet18", [3, 224, 224], 1000).unwrap();
        for n in &mut d.nodes {
            n.frozen = true;
        }
        let order = thaw_order(&d, &analyse(&d));
        let names: Vec<&str> = order.iter().map(|b| b.name.as_str()).take(3).collect();
        assert_eq!(names, ["fc", "layer4.1", "layer4.0"]);
    }

    #[test]
    fn one_more_block_every_k_epochs() {
        let with_head: Vec<usize> = (0..6).map(|e| thawed_at(e, 2, 10, true)).collect();
        assert_eq!(with_head, [0, 0, 1, 1, 2, 2]);
        let all_frozen: Vec<usize> = (0..4).map(|e| thawed_at(e, 1, 3, false)).collect();
        assert_eq!(all_frozen, [1, 2, 3, 3]);
    }
}
