//! Applying the canvas's and the inspector's edits to the design, and undo/redo as snapshots of
//! the whole design (snarl has no undo of its own).

use crate::design::{Design, Edge, NodeId, Op};
use crate::ui::canvas::CanvasEdit;
use crate::ui::palette::BLOCKS;

/// How many edits can be undone.
const UNDO_DEPTH: usize = 200;

/// Edits of the same thing closer together than this are one undo step.
const BURST: std::time::Duration = std::time::Duration::from_millis(1500);

/// What a burst of small edits is editing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Burst {
    /// A block's name or parameters, in the inspector.
    Node(NodeId),
    /// The training settings in the Train view.
    TrainingSettings,
}

/// Undo and redo stacks of whole designs.
#[derive(Default)]
pub struct History {
    undo: Vec<Design>,
    redo: Vec<Design>,
    /// The burst in progress and when its last edit came.
    burst: Option<(Burst, std::time::Instant)>,
}

impl History {
    /// Records `before` as the state an undo returns to.
    pub fn record(&mut self, before: Design) {
        self.burst = None;
        self.push(before);
    }

    /// Like `record`, except that edits of the same `what` in quick succession (typing "30",
    /// dragging a value) are one undo step, not one per keystroke or pixel.
    pub fn record_coalesced(&mut self, before: Design, what: Burst) {
        let now = std::time::Instant::now();
        let same = self
            .burst
            .is_some_and(|(last, at)| last == what && now.duration_since(at) < BURST);
        if !same {
            self.push(before);
        }
        self.burst = Some((what, now));
    }

    fn push(&mut self, before: Design) {
        self.undo.push(before);
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// The design before the last edit, taking `current` onto the redo stack.
    pub fn undo(&mut self, current: &Design) -> Option<Design> {
        self.burst = None;
        let d = self.undo.pop()?;
        self.redo.push(current.clone());
        Some(d)
    }

    /// The design an undo took back.
    pub fn redo(&mut self, current: &Design) -> Option<Design> {
        self.burst = None;
        let d = self.redo.pop()?;
        self.undo.push(current.clone());
        Some(d)
    }

    /// Whether there is something to undo / redo.
    pub fn can(&self) -> (bool, bool) {
        (!self.undo.is_empty(), !self.redo.is_empty())
    }

    /// Forgets everything (a new document).
    pub fn clear(&mut self) {
        self.burst = None;
        self.undo.clear();
        self.redo.clear();
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
pub fn apply(design: &mut Design, edit: &CanvasEdit) -> bool {
    match edit {
        CanvasEdit::Connect { from, to, port } => {
            let single = design
                .node(*to)
                .is_some_and(|n| n.op.arity() == crate::design::Arity::One);
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
        CanvasEdit::Disconnect { from, to, port } => {
            design
                .edges
                .retain(|e| !(e.from == *from && e.to == *to && e.port == *port));
        }
        CanvasEdit::Remove(ids) => {
            design.nodes.retain(|n| !ids.contains(&n.id));
            design
                .edges
                .retain(|e| !ids.contains(&e.from) && !ids.contains(&e.to));
        }
        CanvasEdit::Duplicate(ids) => duplicate(design, ids),
        CanvasEdit::Freeze { nodes, frozen } => {
            let mut changed = false;
            for n in design.nodes.iter_mut().filter(|n| nodes.contains(&n.id)) {
                changed |= n.frozen != *frozen;
                n.frozen = *frozen;
            }
            return changed;
        }
        CanvasEdit::Add { block, pos } => {
            if let Some(b) = BLOCKS.get(*block) {
                add_node(design, b.prefix, (b.make)(), *pos);
            }
        }
        CanvasEdit::Moved(moves) => {
            for (id, pos) in moves {
                if let Some(n) = design.nodes.iter_mut().find(|n| n.id == *id) {
                    n.pos = *pos;
                }
            }
            return false;
        }
    }
    design.canonicalize();
    true
}

/// Adds copies of `nodes` with fresh ids and names, moved by `offset`, and the `edges` among
/// them; returns the new ids in the order of `nodes`. Duplicate and paste both come here.
fn insert_copies(
    design: &mut Design,
    nodes: Vec<crate::design::Node>,
    edges: &[Edge],
    offset: f32,
) -> Vec<NodeId> {
    let mut map = std::collections::HashMap::new();
    let mut new_ids = Vec::with_capacity(nodes.len());
    for n in nodes {
        let prefix = n
            .name
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_owned();
        let new = add_node(
            design,
            if prefix.is_empty() { "node" } else { &prefix },
            n.op,
            [n.pos[0] + offset, n.pos[1] + offset],
        );
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
    new_ids
}

/// Copies nodes with fresh ids and names, 40 px down-right, keeping the wires among them.
pub fn duplicate(design: &mut Design, ids: &[NodeId]) {
    let nodes: Vec<crate::design::Node> = ids
        .iter()
        .filter_map(|id| design.node(*id).cloned())
        .collect();
    let edges: Vec<Edge> = design
        .edges
        .iter()
        .filter(|e| ids.contains(&e.from) && ids.contains(&e.to))
        .copied()
        .collect();
    insert_copies(design, nodes, &edges, 40.0);
}

/// The clipboard format's first line, so pasting unrelated text is recognised and refused.
const CLIPBOARD_TAG: &str = "netloom-blocks v1";

/// The selected nodes and the wires among them, as clipboard text (works between windows
/// and files, since it is plain text on the system clipboard).
pub fn copy_text(design: &Design, ids: &[NodeId]) -> Option<String> {
    let nodes: Vec<&crate::design::Node> = design
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
    let body = serde_json::json!({ "nodes": nodes, "edges": edges });
    Some(format!("{CLIPBOARD_TAG}\n{body}"))
}

/// Pastes clipboard text from [`copy_text`]: fresh ids and names, 60 px down-right.
/// Returns the new ids, or None when the text isn't netloom blocks.
pub fn paste(design: &mut Design, text: &str) -> Option<Vec<NodeId>> {
    let body = text.strip_prefix(CLIPBOARD_TAG)?.trim_start();
    #[derive(serde::Deserialize)]
    struct Clip {
        nodes: Vec<crate::design::Node>,
        edges: Vec<Edge>,
    }
    let clip: Clip = serde_json::from_str(body).ok()?;
    let mut ids = insert_copies(design, clip.nodes, &clip.edges, 60.0);
    design.canonicalize();
    ids.sort();
    Some(ids)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lenet() -> Design {
        crate::design::from_json(crate::examples::DEFAULT_DESIGN.1).unwrap()
    }

    #[test]
    fn a_burst_of_edits_to_one_thing_is_one_undo_step() {
        let d = lenet();
        let (a, b) = (NodeId(1), NodeId(2));
        let mut h = History::default();
        h.record_coalesced(d.clone(), Burst::Node(a));
        h.record_coalesced(d.clone(), Burst::Node(a));
        assert_eq!(h.undo.len(), 1, "typing into one block is one step");
        h.record_coalesced(d.clone(), Burst::Node(b));
        assert_eq!(h.undo.len(), 2, "another block starts another step");
        h.record_coalesced(d.clone(), Burst::TrainingSettings);
        h.record(d.clone());
        h.record_coalesced(d.clone(), Burst::TrainingSettings);
        assert_eq!(h.undo.len(), 5, "an edit in between ends the burst");
        h.undo(&d);
        h.record_coalesced(d.clone(), Burst::TrainingSettings);
        assert_eq!(h.undo.len(), 5, "so does an undo");
    }

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

    #[test]
    fn undo_and_redo_walk_the_history() {
        let mut h = History::default();
        let a = lenet();
        let mut b = a.clone();
        b.nodes.pop();
        h.record(a.clone());
        let back = h.undo(&b).unwrap();
        assert_eq!(back, a);
        assert_eq!(h.redo(&back).unwrap(), b);
        assert_eq!(h.can(), (true, false));
    }
}
