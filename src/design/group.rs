//! Groups: named composite blocks (`layer1.0`, a `BasicBlock`) made of other blocks.
//!
//! A group is structure laid over the flat graph, not a second graph: its members stay
//! ordinary nodes, so the engine, shape inference, weights mapping and freezing see exactly
//! the nodes they always did. A member's name is its full module path (`layer1.0.conv1`), as
//! in a PyTorch state dict, which is why grouping adds the group's name in front of its
//! members' names and renaming a group renames them. On the canvas a group is either
//! collapsed to one block (its boundary's inputs and outputs as pins, its members' parameters
//! summed) or expanded in place inside a titled frame.
//!
//! Groups do not nest. Instances of one kind share their definition the way instances of a
//! PyTorch class do: a setting changed in one instance's block is changed in the same block of
//! every instance (`grouping::for_every_instance`), field by field, so each keeps what makes it
//! differ (ResNet's `BasicBlock`s differ in width and stride).

use super::graph::{Design, NodeId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A group's stable identity within one design (like [`NodeId`], never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupId(pub u64);

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "group #{}", self.0)
    }
}

/// One group of blocks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Stable identity.
    pub id: GroupId,
    /// Its module path, e.g. `layer1.0`: the start of its members' names.
    pub name: String,
    /// What it is, e.g. `BasicBlock` or `Sequential`: shown on the block, shared by copies.
    pub kind: String,
    /// The member nodes, sorted by id.
    pub members: Vec<NodeId>,
    /// Drawn as one block (true) or as its members inside a frame.
    #[serde(default)]
    pub collapsed: bool,
    /// Where the collapsed block sits on the canvas (top-left corner).
    #[serde(default)]
    pub pos: [f32; 2],
}

/// What feeds one input pin of a collapsed group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupInput {
    /// A node outside the group, whose output reaches one or more members.
    From(NodeId),
    /// A member's input port that nothing feeds yet.
    Open {
        /// The member.
        node: NodeId,
        /// Its port.
        port: u32,
    },
}

/// The pins of a group's collapsed block: what crosses the group's boundary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupPins {
    /// Its inputs, in the order of the members they feed.
    pub inputs: Vec<GroupInput>,
    /// The members whose output leaves the group, or that feed nothing at all.
    pub outputs: Vec<NodeId>,
}

impl Design {
    /// The group with this id.
    pub fn group(&self, id: GroupId) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The group `node` belongs to, if any.
    pub fn group_of(&self, node: NodeId) -> Option<&Group> {
        self.groups.iter().find(|g| g.members.contains(&node))
    }

    /// The group with this name.
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// A group id no group has used: one above the largest.
    pub fn next_group_id(&self) -> GroupId {
        GroupId(
            self.groups
                .iter()
                .map(|g| g.id.0.saturating_add(1))
                .max()
                .unwrap_or(1),
        )
    }

    /// The pins `group` shows when collapsed.
    pub fn pins(&self, group: &Group) -> GroupPins {
        let inside = |n: NodeId| group.members.contains(&n);
        let mut b = GroupPins::default();
        for &m in &group.members {
            let Some(node) = self.node(m) else { continue };
            let mut into: Vec<_> = self.edges.iter().filter(|e| e.to == m).collect();
            into.sort_by_key(|e| e.port);
            for e in &into {
                let pin = GroupInput::From(e.from);
                if !inside(e.from) && !b.inputs.contains(&pin) {
                    b.inputs.push(pin);
                }
            }
            let fixed = match node.op.arity() {
                super::Arity::Zero => 0,
                super::Arity::One => 1,
                super::Arity::Many => 2,
            };
            for port in 0..fixed {
                if !into.iter().any(|e| e.port == port) {
                    b.inputs.push(GroupInput::Open { node: m, port });
                }
            }
            let mut out = self.edges.iter().filter(|e| e.from == m).peekable();
            let sink = out.peek().is_none() && !matches!(node.op, super::Op::Output(_));
            if sink || out.any(|e| !inside(e.to)) {
                b.outputs.push(m);
            }
        }
        b
    }

    /// Checks the groups against the nodes: members exist and belong to one group only, names
    /// are valid and clash with no node or other group. The message says what to change.
    pub fn check_groups(&self) -> Result<(), String> {
        use std::collections::{HashMap, HashSet};
        // Linear in nodes, groups and members: a design file of 200,000 groups is checked in
        // milliseconds (this was quadratic: minutes).
        let node_names: HashSet<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        let node_ids: HashSet<NodeId> = self.nodes.iter().map(|n| n.id).collect();
        let (mut names, mut ids) = (HashSet::new(), HashSet::new());
        let mut seen = HashMap::new();
        for g in &self.groups {
            if !super::is_valid_name(&g.name) {
                return Err(format!(
                    "group {:?} has an invalid name: use letters, digits, '_', '-' and '.'",
                    g.name
                ));
            }
            if node_names.contains(g.name.as_str()) {
                return Err(format!(
                    "group {:?} has the name of a block: rename one of them",
                    g.name
                ));
            }
            if !names.insert(g.name.as_str()) {
                return Err(format!("two groups are named {:?}: rename one", g.name));
            }
            if !ids.insert(g.id) {
                return Err(format!(
                    "two groups have the id {}: give one a new id",
                    g.id.0
                ));
            }
            for &m in &g.members {
                if !node_ids.contains(&m) {
                    return Err(format!(
                        "group {:?} lists node {m}, which is not in the design",
                        g.name
                    ));
                }
                if let Some(other) = seen.insert(m, &g.name) {
                    return Err(format!(
                        "node {m} is in both group {other:?} and group {:?}: groups do not share blocks",
                        g.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// Drops deleted nodes from their groups, and groups left empty.
    pub(crate) fn prune_groups(&mut self) {
        let ids: std::collections::HashSet<NodeId> = self.nodes.iter().map(|n| n.id).collect();
        for g in &mut self.groups {
            g.members.retain(|m| ids.contains(m));
        }
        self.groups.retain(|g| !g.members.is_empty());
    }
}

/// `name` with `old`'s prefix replaced by `new` (`layer1.0.conv1` → `layer1.2.conv1`); a name
/// outside the prefix gets `new.` in front.
pub fn repath(name: &str, old: &str, new: &str) -> String {
    match name
        .strip_prefix(old)
        .and_then(|rest| rest.strip_prefix('.'))
    {
        Some(rest) => format!("{new}.{rest}"),
        None => format!("{new}.{name}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::design::templates::template;

    #[test]
    fn a_basic_block_s_boundary_is_one_input_and_one_output() {
        let d = template("resnet18", [3, 64, 64], 10).unwrap();
        let g = d.group_by_name("layer2.0").unwrap();
        assert_eq!(g.kind, "BasicBlock");
        let b = d.pins(g);
        let before = d.node_by_name("layer1.1.relu_1").unwrap().id;
        let last = d.node_by_name("layer2.0.relu_1").unwrap().id;
        assert_eq!(b.inputs, vec![GroupInput::From(before)]);
        assert_eq!(b.outputs, vec![last]);
        d.check_groups().unwrap();
    }

    #[test]
    fn open_ports_and_dangling_members_become_pins() {
        let mut d = Design::default();
        let a = d.add(
            "a",
            crate::design::Op::Add(crate::design::Merge {}),
            [0.0; 2],
        );
        d.groups.push(Group {
            id: GroupId(1),
            name: "g".into(),
            kind: "Group".into(),
            members: vec![a],
            collapsed: true,
            pos: [0.0; 2],
        });
        let b = d.pins(&d.groups[0]);
        assert_eq!(
            b.inputs,
            vec![
                GroupInput::Open { node: a, port: 0 },
                GroupInput::Open { node: a, port: 1 }
            ]
        );
        assert_eq!(b.outputs, vec![a]);
    }

    #[test]
    fn bad_groups_are_named() {
        let mut d = template("resnet18", [3, 64, 64], 10).unwrap();
        let mut twin = d.groups[0].clone();
        twin.id = GroupId(99);
        twin.name = "other".into();
        d.groups.push(twin);
        let e = d.check_groups().unwrap_err();
        assert!(e.contains("is in both group"), "{e}");
        d.groups.pop();
        d.groups[0].name = "conv1".into();
        assert!(d.check_groups().unwrap_err().contains("name of a block"));
        d.groups[0].name = "bad name".into();
        assert!(d.check_groups().unwrap_err().contains("invalid name"));
    }

    #[test]
    fn repath_moves_members_between_prefixes() {
        assert_eq!(
            repath("layer1.0.conv1", "layer1.0", "layer1.2"),
            "layer1.2.conv1"
        );
        assert_eq!(repath("conv1", "layer1.0", "block"), "block.conv1");
        assert_eq!(repath("layer1.01", "layer1.0", "x"), "x.layer1.01");
    }
}
