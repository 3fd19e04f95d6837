//! The editing vocabulary: every change the canvas and the inspector can make to a design, as
//! plain data ([`Edit`]), and the pure mutations that carry them out (add, wire, remove,
//! duplicate, copy and paste as text, auto layout, the training set-up). Widgets return
//! edits; the app applies every change of the document through [`apply`], with undo: there is
//! no other door.
//!
//! ```
//! use netloom::design::edit::{self, Edit};
//! use netloom::design::{Op, templates};
//! let mut lenet = templates::template("lenet", [1, 28, 28], 10).unwrap();
//! let fc3 = lenet.node_by_name("fc3").unwrap().id;
//! let Op::Linear(mut head) = lenet.node(fc3).unwrap().op.clone() else { unreachable!() };
//! head.out_features = 3;
//! assert!(edit::apply(&mut lenet, &Edit::SetOp(fc3, Op::Linear(head))));
//! assert_eq!(netloom::design::analyse(&lenet).report(fc3).unwrap().output.unwrap().to_string(), "3");
//! ```

use super::{
    DataSettings, Design, Edge, Group, GroupId, Node, NodeId, Op, PretrainedSource,
    TrainingSettings, repath,
};

/// One edit of the design.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Wire `from`'s output into `to`'s input `port` (replacing what was there).
    Connect {
        /// The node whose output is wired.
        from: NodeId,
        /// The node whose input receives it.
        to: NodeId,
        /// The input port.
        port: u32,
    },
    /// Remove the wire.
    Disconnect {
        /// The node whose output is wired.
        from: NodeId,
        /// The node whose input receives it.
        to: NodeId,
        /// The input port.
        port: u32,
    },
    /// Remove nodes and their wires.
    Remove(Vec<NodeId>),
    /// Copy nodes (and the wires among them) next to the originals.
    Duplicate(Vec<NodeId>),
    /// Add a new node (from the catalogue: [`super::catalogue::Block::add_at`]).
    Add {
        /// The start of its name: `conv` gives conv1, conv2…
        prefix: String,
        /// Its settings.
        op: Op,
        /// Where on the canvas.
        pos: [f32; 2],
    },
    /// Nodes were dragged to new positions.
    Moved(Vec<(NodeId, [f32; 2])>),
    /// Freeze (or unfreeze) nodes for fine-tuning.
    Freeze {
        /// The nodes.
        nodes: Vec<NodeId>,
        /// Frozen or not.
        frozen: bool,
    },
    /// A new, valid, unique name.
    Rename(NodeId, String),
    /// New settings for a node.
    SetOp(NodeId, Op),
    /// A node's learning-rate multiplier (None: 1).
    LrMult(NodeId, Option<f64>),
    /// Make the nodes (those not in a group yet) one new, collapsed group: `group1`, of kind
    /// `Group`, its name put in front of its members' names.
    Group(Vec<NodeId>),
    /// Dissolve a group; its members stay as they are, names included.
    Ungroup(GroupId),
    /// Collapse a group to one block, or expand it in place (the blocks after it move aside).
    Collapse {
        /// The group.
        group: GroupId,
        /// Collapsed (true) or expanded.
        collapsed: bool,
    },
    /// A new, valid, unique group name: its members' names follow it.
    RenameGroup(GroupId, String),
    /// What the group is (`BasicBlock`).
    GroupKind(GroupId, String),
    /// Collapsed groups were dragged: their members move with them.
    GroupsMoved(Vec<(GroupId, [f32; 2])>),
    /// Several edits as one step (rewiring a collapsed group's input touches several wires).
    Many(Vec<Edit>),
    /// Auto layout, wires running this way.
    Layout(super::layout::Direction),
    /// Blocks copied as text ([`copy_text`]) pasted beside where they were; text that isn't
    /// such a copy changes nothing.
    Paste(String),
    /// New training settings (the Train view's controls).
    Training(Box<TrainingSettings>),
    /// New data settings: the data source, preprocessing and augmentation.
    Data(Box<DataSettings>),
    /// The pretrained weights the design starts from (None: from scratch).
    Pretrained(Option<PretrainedSource>),
}

impl Edit {
    /// The node a typed or dragged value belongs to: a burst of such edits is one undo step.
    pub fn burst_node(&self) -> Option<NodeId> {
        match self {
            Edit::Rename(id, _) | Edit::SetOp(id, _) | Edit::LrMult(id, _) => Some(*id),
            // A typed value made to every instance of a group: the edited node's burst.
            Edit::Many(edits) => edits.first().and_then(Edit::burst_node),
            _ => None,
        }
    }

    /// True for a change of the training set-up rather than the network: the canvas stays as
    /// it is, and the change is recorded for undo though nothing structural changed.
    pub fn is_setup(&self) -> bool {
        match self {
            Edit::Training(_) | Edit::Data(_) | Edit::Pretrained(_) => true,
            Edit::Many(edits) => edits.iter().all(Edit::is_setup),
            _ => false,
        }
    }

    /// The group a typed value belongs to (name, kind): a burst is one undo step.
    pub fn burst_group(&self) -> Option<GroupId> {
        match self {
            Edit::RenameGroup(id, _) | Edit::GroupKind(id, _) => Some(*id),
            _ => None,
        }
    }
}

/// A name not used in `design`: `prefix1`, `prefix2`, …
pub fn unique_name(design: &Design, prefix: &str) -> String {
    (1..)
        .map(|i| format!("{prefix}{i}"))
        .find(|n| design.node_by_name(n).is_none())
        .unwrap_or_else(|| prefix.to_owned())
}

/// Adds a node of `op`; returns its id.
pub fn add_node(design: &mut Design, prefix: &str, op: Op, pos: [f32; 2]) -> NodeId {
    let name = unique_name(design, prefix);
    design.add(name, op, pos)
}

/// Applies one canvas edit. Returns true when the design's structure changed (the canvas must
/// be rebuilt); moves change only positions.
pub fn apply(design: &mut Design, edit: &Edit) -> bool {
    match edit {
        Edit::Connect { from, to, port } => {
            let single = design
                .node(*to)
                .is_some_and(|n| n.op.arity() == super::Arity::One);
            // An input takes one wire: a new wire replaces the old one.
            design
                .edges
                .retain(|e| !(e.to == *to && (e.port == *port || single)));
            let port = if single { 0 } else { *port };
            design.edges.push(Edge {
                from: *from,
                to: *to,
                port,
            });
        }
        Edit::Disconnect { from, to, port } => {
            design
                .edges
                .retain(|e| !(e.from == *from && e.to == *to && e.port == *port));
        }
        Edit::Remove(ids) => {
            design.nodes.retain(|n| !ids.contains(&n.id));
            design
                .edges
                .retain(|e| !ids.contains(&e.from) && !ids.contains(&e.to));
            design.prune_groups();
        }
        Edit::Duplicate(ids) => duplicate(design, ids),
        Edit::Freeze { nodes, frozen } => {
            let mut changed = false;
            for n in design.nodes.iter_mut().filter(|n| nodes.contains(&n.id)) {
                changed |= n.frozen != *frozen;
                n.frozen = *frozen;
            }
            return changed;
        }
        Edit::Add { prefix, op, pos } => {
            add_node(design, prefix, op.clone(), *pos);
        }
        Edit::Rename(id, _) | Edit::SetOp(id, _) | Edit::LrMult(id, _) => {
            let Some(n) = design.nodes.iter_mut().find(|n| n.id == *id) else {
                return false;
            };
            match edit {
                Edit::Rename(_, name) => n.name = name.clone(),
                Edit::SetOp(_, op) => n.op = op.clone(),
                Edit::LrMult(_, m) => n.lr_mult = *m,
                _ => {}
            }
        }
        Edit::Moved(moves) => {
            for (id, pos) in moves {
                if let Some(n) = design.nodes.iter_mut().find(|n| n.id == *id) {
                    n.pos = *pos;
                }
            }
            return false;
        }
        Edit::GroupsMoved(moves) => {
            for (id, pos) in moves {
                super::grouping::move_group(design, *id, *pos);
            }
            return false;
        }
        Edit::Group(ids) => return super::grouping::group(design, ids).is_some(),
        Edit::Ungroup(id) => design.groups.retain(|g| g.id != *id),
        Edit::Collapse { group, collapsed } => {
            return super::grouping::set_collapsed(design, *group, *collapsed);
        }
        Edit::RenameGroup(id, name) => return super::grouping::rename(design, *id, name),
        Edit::Many(edits) => {
            let mut structural = false;
            for e in edits {
                structural |= apply(design, e);
            }
            return structural;
        }
        Edit::GroupKind(id, kind) => {
            let Some(g) = design.groups.iter_mut().find(|g| g.id == *id) else {
                return false;
            };
            g.kind.clone_from(kind);
        }
        Edit::Layout(direction) => super::layout::layout(design, *direction),
        Edit::Paste(text) => return paste(design, text).is_some(),
        Edit::Training(t) => {
            design.training = (**t).clone();
            return false;
        }
        Edit::Data(d) => {
            design.data = (**d).clone();
            return false;
        }
        Edit::Pretrained(p) => {
            design.training.pretrained.clone_from(p);
            return false;
        }
    }
    design.canonicalize();
    true
}

/// Adds copies of `nodes` with fresh ids and names, moved by `offset`, the `edges` among
/// them, and copies of the `groups` whose members all came along (as new instances of the same
/// kind: `layer1.0` gives `layer1.2`, its members renamed to match); returns the new ids in the
/// order of `nodes`. Duplicate and paste both come here.
fn insert_copies(
    design: &mut Design,
    nodes: Vec<Node>,
    edges: &[Edge],
    groups: Vec<Group>,
    offset: f32,
) -> Vec<NodeId> {
    let copied: std::collections::HashSet<NodeId> = nodes.iter().map(|n| n.id).collect();
    let groups: Vec<Group> = groups
        .into_iter()
        .filter(|g| g.members.iter().all(|m| copied.contains(m)))
        .collect();
    // Each copied group's new name, reserved before any member is named.
    let mut prefixes = std::collections::HashMap::new();
    let mut taken = Vec::new();
    for g in &groups {
        let new = super::grouping::unique_group_name(design, &g.name, &taken);
        taken.push(new.clone());
        for &m in &g.members {
            prefixes.insert(m, (g.name.clone(), new.clone()));
        }
    }
    let mut map = std::collections::HashMap::new();
    let mut new_ids = Vec::with_capacity(nodes.len());
    for n in nodes {
        let pos = [n.pos[0] + offset, n.pos[1] + offset];
        let new = match prefixes.get(&n.id) {
            Some((old, new)) if design.node_by_name(&repath(&n.name, old, new)).is_none() => {
                design.add(repath(&n.name, old, new), n.op, pos)
            }
            _ => {
                let prefix = n
                    .name
                    .trim_end_matches(|c: char| c.is_ascii_digit())
                    .to_owned();
                add_node(
                    design,
                    if prefix.is_empty() { "node" } else { &prefix },
                    n.op,
                    pos,
                )
            }
        };
        map.insert(n.id, new);
        new_ids.push(new);
    }
    for e in edges {
        if let (Some(&from), Some(&to)) = (map.get(&e.from), map.get(&e.to)) {
            design.edges.push(Edge {
                from,
                to,
                port: e.port,
            });
        }
    }
    for (g, name) in groups.into_iter().zip(taken) {
        let id = design.next_group_id();
        design.groups.push(Group {
            id,
            name,
            members: g
                .members
                .iter()
                .filter_map(|m| map.get(m).copied())
                .collect(),
            pos: [g.pos[0] + offset, g.pos[1] + offset],
            ..g
        });
    }
    new_ids
}

/// The groups whose members are all among `ids`.
fn whole_groups(design: &Design, ids: &[NodeId]) -> Vec<Group> {
    design
        .groups
        .iter()
        .filter(|g| g.members.iter().all(|m| ids.contains(m)))
        .cloned()
        .collect()
}

/// Copies nodes with fresh ids and names, 40 px down-right, keeping the wires among them and
/// the groups they make up whole.
pub fn duplicate(design: &mut Design, ids: &[NodeId]) {
    let nodes: Vec<Node> = ids
        .iter()
        .filter_map(|id| design.node(*id).cloned())
        .collect();
    let edges: Vec<Edge> = design
        .edges
        .iter()
        .filter(|e| ids.contains(&e.from) && ids.contains(&e.to))
        .copied()
        .collect();
    let groups = whole_groups(design, ids);
    insert_copies(design, nodes, &edges, groups, 40.0);
}

/// The clipboard format's first line, so pasting unrelated text is recognised and refused.
const CLIPBOARD_TAG: &str = "netloom-blocks v1";

/// The selected nodes and the wires among them, as clipboard text (works between windows
/// and files, since it is plain text on the system clipboard).
pub fn copy_text(design: &Design, ids: &[NodeId]) -> Option<String> {
    let nodes: Vec<&Node> = design
        .nodes
        .iter()
        .filter(|n| ids.contains(&n.id))
        .collect();
    if nodes.is_empty() {
        return None;
    }
    let edges: Vec<&Edge> = design
        .edges
        .iter()
        .filter(|e| ids.contains(&e.from) && ids.contains(&e.to))
        .collect();
    let groups = whole_groups(design, ids);
    let body = serde_json::json!({ "nodes": nodes, "edges": edges, "groups": groups });
    Some(format!("{CLIPBOARD_TAG}\n{body}"))
}

/// Pastes clipboard text from [`copy_text`]: fresh ids and names, 60 px down-right.
/// Returns the new ids, or None when the text isn't netloom blocks.
pub fn paste(design: &mut Design, text: &str) -> Option<Vec<NodeId>> {
    let body = text.strip_prefix(CLIPBOARD_TAG)?.trim_start();
    #[derive(serde::Deserialize)]
    struct Clip {
        nodes: Vec<Node>,
        edges: Vec<Edge>,
        #[serde(default)]
        groups: Vec<Group>,
    }
    let clip: Clip = serde_json::from_str(body).ok()?;
    let mut ids = insert_copies(design, clip.nodes, &clip.edges, clip.groups, 60.0);
    design.canonicalize();
    ids.sort();
    Some(ids)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use crate::design::lenet_example as lenet;

    #[test]
    fn copy_and_paste_keep_inner_wires_with_fresh_names() {
        let mut d = lenet();
        let conv1 = d.node_by_name("conv1").unwrap().id;
        let relu1 = d.node_by_name("relu1").unwrap().id;
        let text = copy_text(&d, &[conv1, relu1]).unwrap();
        let before = d.nodes.len();
        let new = paste(&mut d, &text).unwrap();
        assert_eq!(new.len(), 2);
        assert_eq!(d.nodes.len(), before + 2);
        assert_eq!(d.node(new[0]).unwrap().name, "conv3");
        assert_eq!(d.node(new[1]).unwrap().name, "relu5");
        assert!(
            d.edges.iter().any(|e| e.from == new[0] && e.to == new[1]),
            "the wire between them came along"
        );
        assert!(paste(&mut d, "hello").is_none());
    }

    #[test]
    fn duplicate_copies_blocks_and_their_inner_wire_down_right() {
        let mut d = lenet();
        let conv1 = d.node_by_name("conv1").unwrap().clone();
        let relu1 = d.node_by_name("relu1").unwrap().id;
        let before = (d.nodes.len(), d.edges.len());
        duplicate(&mut d, &[conv1.id, relu1]);
        assert_eq!((d.nodes.len(), d.edges.len()), (before.0 + 2, before.1 + 1));
        let copy = d.node_by_name("conv3").unwrap();
        assert_eq!(copy.pos, [conv1.pos[0] + 40.0, conv1.pos[1] + 40.0]);
        let relu5 = d.node_by_name("relu5").unwrap().id;
        assert!(d.edges.iter().any(|e| e.from == copy.id && e.to == relu5));
    }
}
