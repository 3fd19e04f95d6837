//! Applying the canvas's and the inspector's edits to the design, and undo/redo as snapshots of
//! the whole design (snarl has no undo of its own).

use crate::design::{Design, Edge, NodeId, Op};
use crate::ui::canvas::CanvasEdit;
use crate::ui::palette::BLOCKS;

/// How many edits can be undone.
const UNDO_DEPTH: usize = 200;

/// Undo and redo stacks of whole designs.
#[derive(Default)]
pub struct History {
    undo: Vec<Design>,
    redo: Vec<Design>,
}

impl History {
    /// Records `before` as the state an undo returns to.
    pub fn record(&mut self, before: Design) {
        self.undo.push(before);
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// The design before the last edit, taking `current` onto the redo stack.
    pub fn undo(&mut self, current: &Design) -> Option<Design> {
        let d = self.undo.pop()?;
        self.redo.push(current.clone());
        Some(d)
    }

    /// The design an undo took back.
    pub fn redo(&mut self, current: &Design) -> Option<Design> {
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

/// Copies nodes with fresh ids and names, 40 px down-right, keeping the wires among them.
pub fn duplicate(design: &mut Design, ids: &[NodeId]) {
    let mut map = std::collections::HashMap::new();
    for id in ids {
        let Some(node) = design.node(*id).cloned() else {
            continue;
        };
        let prefix = node
            .name
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_owned();
        let new = add_node(
            design,
            if prefix.is_empty() { "node" } else { &prefix },
            node.op,
            [node.pos[0] + 40.0, node.pos[1] + 40.0],
        );
        map.insert(*id, new);
    }
    let wires: Vec<Edge> = design
        .edges
        .iter()
        .filter_map(|e| {
            Some(Edge {
                from: *map.get(&e.from)?,
                to: *map.get(&e.to)?,
                port: e.port,
            })
        })
        .collect();
    design.edges.extend(wires);
}
