//! What the canvas shows of a design: each node as its own block, or as part of its collapsed
//! group's block; and how a wire drawn between two pins maps back onto the design's edges.

use crate::design::edit::Edit;
use crate::design::{Design, Edge, GroupId, GroupInput, GroupPins, NodeId};
use std::collections::HashMap;

/// One block on the canvas: a node, or a collapsed group standing for its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Block {
    /// A node drawn as itself.
    Node(NodeId),
    /// A collapsed group.
    Group(GroupId),
}

/// The canvas's reading of the design, rebuilt with the snarl.
#[derive(Default)]
pub struct Scene {
    /// The block each node is seen as (absent: a node of no block, which cannot happen).
    seen: HashMap<NodeId, Block>,
    /// The pins of each collapsed group.
    pub boundaries: HashMap<GroupId, GroupPins>,
}

impl Scene {
    /// Reads `design`.
    pub fn new(design: &Design) -> Scene {
        let mut scene = Scene::default();
        for n in &design.nodes {
            scene.seen.insert(n.id, Block::Node(n.id));
        }
        for g in design.groups.iter().filter(|g| g.collapsed) {
            for &m in &g.members {
                scene.seen.insert(m, Block::Group(g.id));
            }
            scene.boundaries.insert(g.id, design.pins(g));
        }
        scene
    }

    /// The block `node` is seen as.
    pub fn block_of(&self, node: NodeId) -> Option<Block> {
        self.seen.get(&node).copied()
    }

    /// The pins a design edge is drawn between: (block, output index) → (block, input index).
    /// None for an edge inside a collapsed group.
    pub fn wire(&self, e: &Edge) -> Option<((Block, usize), (Block, usize))> {
        let (a, b) = (self.block_of(e.from)?, self.block_of(e.to)?);
        if a == b && matches!(a, Block::Group(_)) {
            return None;
        }
        let out = match a {
            Block::Node(_) => 0,
            Block::Group(g) => self
                .boundaries
                .get(&g)?
                .outputs
                .iter()
                .position(|m| *m == e.from)?,
        };
        let input = match b {
            Block::Node(_) => e.port as usize,
            Block::Group(g) => self
                .boundaries
                .get(&g)?
                .inputs
                .iter()
                .position(|i| *i == GroupInput::From(e.from))?,
        };
        Some(((a, out), (b, input)))
    }

    /// The node whose output an out pin carries.
    pub fn source(&self, block: Block, output: usize) -> Option<NodeId> {
        match block {
            Block::Node(n) => Some(n),
            Block::Group(g) => self.boundaries.get(&g)?.outputs.get(output).copied(),
        }
    }

    /// Wiring `src` into input pin `input` of `block`: for a group's input fed from outside,
    /// every wire that input stands for moves to `src`.
    pub fn connect(&self, design: &Design, src: NodeId, block: Block, input: usize) -> Edit {
        let port = input as u32;
        match block {
            Block::Node(to) => Edit::Connect {
                from: src,
                to,
                port,
            },
            Block::Group(g) => {
                let pin = self.boundaries.get(&g).and_then(|b| b.inputs.get(input));
                match pin {
                    Some(GroupInput::Open { node, port }) => Edit::Connect {
                        from: src,
                        to: *node,
                        port: *port,
                    },
                    Some(GroupInput::From(old)) => {
                        let members = design.group(g).map(|g| g.members.clone());
                        let members = members.unwrap_or_default();
                        Edit::Many(
                            design
                                .edges
                                .iter()
                                .filter(|e| e.from == *old && members.contains(&e.to))
                                .map(|e| Edit::Connect {
                                    from: src,
                                    to: e.to,
                                    port: e.port,
                                })
                                .collect(),
                        )
                    }
                    None => Edit::Many(Vec::new()),
                }
            }
        }
    }

    /// Removing the wire drawn between two pins: every design edge it stands for.
    pub fn disconnect(&self, design: &Design, from: (Block, usize), to: (Block, usize)) -> Edit {
        Edit::Many(
            design
                .edges
                .iter()
                .filter(|e| self.wire(e) == Some((from, to)))
                .map(|e| Edit::Disconnect {
                    from: e.from,
                    to: e.to,
                    port: e.port,
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::design::edit::apply;
    use crate::design::templates::template;

    #[test]
    fn a_collapsed_block_s_wires_map_back_to_the_design() {
        let mut d = template("resnet18", [3, 64, 64], 10).unwrap();
        let scene = Scene::new(&d);
        let g = d.group_by_name("layer1.0").unwrap().id;
        let maxpool = d.node_by_name("maxpool").unwrap().id;
        // maxpool feeds conv1 and the add inside layer1.0: one wire on the canvas.
        let wires: Vec<_> = d
            .edges
            .iter()
            .filter(|e| e.from == maxpool)
            .map(|e| scene.wire(e).unwrap())
            .collect();
        assert_eq!(wires.len(), 2);
        assert!(
            wires
                .iter()
                .all(|w| *w == ((Block::Node(maxpool), 0), (Block::Group(g), 0)))
        );
        // Rewiring the group's input from relu moves both wires.
        let relu = d.node_by_name("relu").unwrap().id;
        let edit = scene.connect(&d, relu, Block::Group(g), 0);
        apply(&mut d, &edit);
        assert_eq!(d.edges.iter().filter(|e| e.from == relu).count(), 3);
        assert_eq!(d.edges.iter().filter(|e| e.from == maxpool).count(), 0);
        let scene = Scene::new(&d);
        let edit = scene.disconnect(&d, (Block::Node(relu), 0), (Block::Group(g), 0));
        apply(&mut d, &edit);
        assert_eq!(d.edges.iter().filter(|e| e.from == relu).count(), 1);
    }
}
