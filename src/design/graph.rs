//! The design document: named nodes, wires between them, groups of nodes, and the training
//! settings.
//!
//! Nodes carry a stable [`NodeId`] of their own: the canvas library reuses its ids after a
//! delete, so they can never be the identity that files and undo history refer to.

use super::op::Op;
use super::settings::{DataSettings, TrainingSettings};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A node's stable identity within one design; never reused while the design lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u64);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One block of the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Stable identity (see the module docs).
    pub id: NodeId,
    /// A unique identifier such as `conv1`; also the prefix of the node's parameters
    /// (`conv1.weight`), as in PyTorch state dicts, so weights can be mapped by name.
    pub name: String,
    /// What the node computes.
    pub op: Op,
    /// Where the node sits on the canvas.
    #[serde(default)]
    pub pos: [f32; 2],
    /// Frozen for fine-tuning: its parameters are not trained, and a frozen BatchNorm keeps its
    /// running statistics (it normalises in eval mode). Left out of files when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frozen: bool,
    /// Discriminative fine-tuning: this node's parameters learn at the run's learning rate
    /// times this (e.g. 0.1 for pretrained layers). Left out of files when unset (1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_mult: Option<f64>,
}

/// A wire from one node's output into an input port of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// The producing node.
    pub from: NodeId,
    /// The consuming node.
    pub to: NodeId,
    /// Which input of `to` (0 for single-input nodes; Add/Concat order their inputs by it).
    #[serde(default)]
    pub port: u32,
}

/// A whole design: the document the canvas edits and the engine compiles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Design {
    /// The blocks, in no particular order (files store them sorted by id).
    pub nodes: Vec<Node>,
    /// The wires.
    pub edges: Vec<Edge>,
    /// How to train it.
    pub training: TrainingSettings,
    /// How the data is prepared for it.
    pub data: DataSettings,
    /// Named groups of nodes (composite blocks such as `layer1.0`), sorted by id.
    pub groups: Vec<super::group::Group>,
}

impl Design {
    /// Whether `other` computes the same network: the same blocks (names, settings, frozen or
    /// not) wired the same way. Where blocks sit, groups and the training settings don't count:
    /// a run of one can carry on as a run of the other.
    pub fn same_network(&self, other: &Design) -> bool {
        let blocks = |d: &Design| {
            let mut v: Vec<_> = d
                .nodes
                .iter()
                .map(|n| (n.id, n.name.clone(), n.op.clone(), n.frozen))
                .collect();
            v.sort_by_key(|b| b.0);
            v
        };
        let wires = |d: &Design| {
            let mut v = d.edges.clone();
            v.sort();
            v
        };
        blocks(self) == blocks(other) && wires(self) == wires(other)
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The node with this name.
    pub fn node_by_name(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// An id that no node has used: one above the largest.
    pub fn next_id(&self) -> NodeId {
        NodeId(
            self.nodes
                .iter()
                .map(|n| n.id.0.saturating_add(1))
                .max()
                .unwrap_or(1),
        )
    }

    /// The node that feeds the Output: the network's last layer.
    pub fn output_source(&self) -> Option<&Node> {
        self.edges
            .iter()
            .find(|e| {
                self.node(e.to)
                    .is_some_and(|n| matches!(n.op, Op::Output(_)))
            })
            .and_then(|e| self.node(e.from))
    }

    /// The wires into `id`, in port order: the order Add and Concat take their inputs in.
    pub fn incoming(&self, id: NodeId) -> Vec<&Edge> {
        let mut wires: Vec<&Edge> = self.edges.iter().filter(|e| e.to == id).collect();
        wires.sort_by_key(|e| e.port);
        wires
    }

    /// `id` and every node whose output reaches it: "everything up to here".
    pub fn upstream(&self, id: NodeId) -> Vec<NodeId> {
        let mut seen = vec![id];
        let mut i = 0;
        while let Some(&n) = seen.get(i) {
            for e in self.edges.iter().filter(|e| e.to == n) {
                if !seen.contains(&e.from) {
                    seen.push(e.from);
                }
            }
            i += 1;
        }
        seen
    }

    /// Adds a node and returns its new id.
    pub fn add(&mut self, name: impl Into<String>, op: Op, pos: [f32; 2]) -> NodeId {
        let id = self.next_id();
        self.nodes.push(Node {
            id,
            name: name.into(),
            op,
            pos,
            frozen: false,
            lr_mult: None,
        });
        id
    }

    /// Wires `from` into input `port` of `to`.
    pub fn connect(&mut self, from: NodeId, to: NodeId, port: u32) {
        self.edges.push(Edge { from, to, port });
    }

    /// Sorts nodes by id and edges by (to, port, from): the canonical order files are written in.
    pub fn canonicalize(&mut self) {
        self.nodes.sort_by_key(|n| n.id);
        self.edges.sort_by_key(|e| (e.to, e.port, e.from));
        self.groups.sort_by_key(|g| g.id);
        for g in &mut self.groups {
            g.members.sort();
            g.members.dedup();
        }
    }
}
