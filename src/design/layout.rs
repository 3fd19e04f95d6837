//! Automatic layered layout (Sugiyama's method, through the rust-sugiyama crate): cycles
//! broken, every block put in a layer so that wires run one way, the order within each layer
//! chosen to cut crossings, and coordinates (Brandes–Köpf) that keep the main path straight
//! with branches such as a residual shortcut beside it. Left to right by default, as the canvas
//! draws inputs on the left of a block and outputs on its right; top to bottom on request.
//!
//! Layers are spaced by the widest block in each, so long names (`layer2.0.downsample.0`)
//! never run into the next layer. Unconnected parts are laid out one under the other.

use super::graph::{Design, Node, NodeId};
use std::collections::{BTreeSet, HashMap};

/// The gap between one layer's widest block and the next layer, canvas units: room for the
/// wire's shape label.
pub const LAYER_GAP: f32 = 70.0;
/// The gap between blocks side by side in a layer.
pub const SIBLING_GAP: f32 = 40.0;
/// The gap between unconnected parts of a design.
const PART_GAP: f32 = 120.0;

/// Which way the wires run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    /// Inputs on the left, outputs on the right (the canvas's pins face this way).
    #[default]
    LeftToRight,
    /// Inputs at the top, outputs at the bottom.
    TopToBottom,
}

/// Lays the design out left to right.
pub fn auto_layout(design: &mut Design) {
    layout(design, Direction::LeftToRight);
}

/// Lays the design out in layers running `direction`. Every block gets a place; a design
/// with no blocks is left alone.
pub fn layout(design: &mut Design, direction: Direction) {
    if design.nodes.is_empty() {
        return;
    }
    let index: HashMap<NodeId, u32> = design
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i as u32))
        .collect();
    // rust-sugiyama wants each wire once and none from a block to itself.
    let edges: Vec<(u32, u32)> = design
        .edges
        .iter()
        .filter_map(|e| Some((*index.get(&e.from)?, *index.get(&e.to)?)))
        .filter(|(a, b)| a != b)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let sizes: Vec<[f32; 2]> = design.nodes.iter().map(block_size).collect();
    // The crate spaces blocks within a layer by their size across the layers' direction.
    let across = |s: [f32; 2]| match direction {
        Direction::LeftToRight => s[1],
        Direction::TopToBottom => s[0],
    };
    let along = |s: [f32; 2]| match direction {
        Direction::LeftToRight => s[0],
        Direction::TopToBottom => s[1],
    };
    let vertices: Vec<(u32, (f64, f64))> = sizes
        .iter()
        .enumerate()
        .map(|(i, s)| (i as u32, (f64::from(across(*s)), 1.0)))
        .collect();
    let config = rust_sugiyama::configure::Config {
        vertex_spacing: f64::from(SIBLING_GAP),
        ..Default::default()
    };
    let parts = rust_sugiyama::from_vertices_and_edges(&vertices, &edges, &config);
    let mut offset = 0.0f32;
    for (coords, _, _) in parts {
        // The crate's y is the layer; its x the place within the layer.
        let layers: BTreeSet<i64> = coords.iter().map(|(_, (_, y))| y.round() as i64).collect();
        let layer_of: HashMap<i64, usize> =
            layers.iter().enumerate().map(|(i, y)| (*y, i)).collect();
        let mut depth = vec![0.0f32; layers.len()];
        for (v, (_, y)) in &coords {
            let l = layer_of[&(y.round() as i64)];
            depth[l] = depth[l].max(along(sizes[*v]));
        }
        let mut start = Vec::with_capacity(depth.len());
        let mut at = 0.0;
        for d in &depth {
            start.push(at);
            at += d + LAYER_GAP;
        }
        let low = coords
            .iter()
            .map(|(_, (x, _))| *x)
            .fold(f64::INFINITY, f64::min);
        let mut extent = 0.0f32;
        for (v, (x, y)) in &coords {
            let l = layer_of[&(y.round() as i64)];
            let a = start[l];
            // The crate gives centres; the canvas places blocks by their top-left corner.
            let c = (x - low) as f32 - across(sizes[*v]) / 2.0 + offset;
            extent = extent.max(c + across(sizes[*v]) - offset);
            design.nodes[*v].pos = match direction {
                Direction::LeftToRight => [a, c],
                Direction::TopToBottom => [c, a],
            };
        }
        offset += extent + PART_GAP;
    }
}

/// How readable a layout is, in the two figures layout papers use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayoutStats {
    /// Pairs of wires that cross, each wire taken as the straight line from its source block to
    /// its target block (the canvas draws gentle curves along about the same line).
    pub crossings: usize,
    /// The summed length of the wires, canvas units (block positions, top-left corners).
    pub wire_length: f64,
    /// Pairs of blocks drawn over each other, each block taken as [`block_size`].
    pub overlaps: usize,
}

/// About how much room a block takes on the canvas, canvas units: its title row holds the
/// name and the type side by side (about 7.5 units a character at zoom 1), plus the pins.
pub fn block_size(node: &Node) -> [f32; 2] {
    let chars = node.name.chars().count() + node.op.kind_name().chars().count();
    [chars as f32 * 7.5 + 70.0, 60.0]
}

/// Measures `design` as it is laid out now.
pub fn measure(design: &Design) -> LayoutStats {
    let pos: HashMap<NodeId, [f64; 2]> = design
        .nodes
        .iter()
        .map(|n| (n.id, [f64::from(n.pos[0]), f64::from(n.pos[1])]))
        .collect();
    let wires: Vec<(NodeId, NodeId, [f64; 2], [f64; 2])> = design
        .edges
        .iter()
        .filter_map(|e| Some((e.from, e.to, *pos.get(&e.from)?, *pos.get(&e.to)?)))
        .collect();
    let wire_length = wires
        .iter()
        .map(|(_, _, a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt())
        .sum();
    let mut crossings = 0;
    for (i, w) in wires.iter().enumerate() {
        for v in &wires[i + 1..] {
            // Wires that share a block meet there; that is not a crossing.
            let shared = [w.0, w.1].iter().any(|n| *n == v.0 || *n == v.1);
            if !shared && segments_cross(w.2, w.3, v.2, v.3) {
                crossings += 1;
            }
        }
    }
    let mut overlaps = 0;
    for (i, a) in design.nodes.iter().enumerate() {
        for b in &design.nodes[i + 1..] {
            // Top-left corners: the one further left must be wide enough to reach the other.
            let (left, right) = if a.pos[0] <= b.pos[0] { (a, b) } else { (b, a) };
            let (upper, lower) = if a.pos[1] <= b.pos[1] { (a, b) } else { (b, a) };
            if right.pos[0] - left.pos[0] < block_size(left)[0]
                && lower.pos[1] - upper.pos[1] < block_size(upper)[1]
            {
                overlaps += 1;
            }
        }
    }
    LayoutStats {
        crossings,
        wire_length,
        overlaps,
    }
}

/// True when the open segments a–b and c–d properly cross.
fn segments_cross(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> bool {
    let side = |p: [f64; 2], q: [f64; 2], r: [f64; 2]| {
        (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    };
    let (d1, d2) = (side(c, d, a), side(c, d, b));
    let (d3, d4) = (side(a, b, c), side(a, b, d));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::generate::residual_tower;
    use crate::design::templates::template;

    fn check(d: &Design, direction: Direction) {
        for e in &d.edges {
            let (Some(a), Some(b)) = (d.node(e.from), d.node(e.to)) else {
                continue;
            };
            let (a, b) = (a.pos, b.pos);
            match direction {
                Direction::LeftToRight => assert!(b[0] > a[0], "{a:?} → {b:?}"),
                Direction::TopToBottom => assert!(b[1] > a[1], "{a:?} → {b:?}"),
            }
        }
        let stats = measure(d);
        assert_eq!(stats.overlaps, 0, "blocks drawn over each other");
        assert_eq!(stats.crossings, 0, "wires cross");
    }

    #[test]
    fn wires_run_one_way_without_crossings_or_overlaps() {
        let mut d = residual_tower(3);
        auto_layout(&mut d);
        check(&d, Direction::LeftToRight);
        let mut r = template("resnet18", [3, 224, 224], 10).unwrap();
        check(&r, Direction::LeftToRight);
        layout(&mut r, Direction::TopToBottom);
        check(&r, Direction::TopToBottom);
    }

    #[test]
    fn the_main_path_of_a_resnet_is_straight() {
        let d = template("resnet18", [3, 224, 224], 10).unwrap();
        // From the input through every residual Add to the output: one line.
        let spine: Vec<f32> = d
            .nodes
            .iter()
            .filter(|n| matches!(n.op.kind_name(), "Input" | "Add" | "Output"))
            .map(|n| n.pos[1])
            .collect();
        assert!(spine.len() > 8);
        let (lo, hi) = spine
            .iter()
            .fold((f32::MAX, f32::MIN), |(l, h), y| (l.min(*y), h.max(*y)));
        assert!(hi - lo < 1.0, "the spine wanders over {lo}..{hi}");
    }

    #[test]
    fn loose_blocks_cycles_and_empty_designs_get_places_without_panicking() {
        layout(&mut Design::default(), Direction::LeftToRight);
        let mut d = Design::default();
        let flat = || crate::design::Op::Flatten(crate::design::Flatten {});
        let a = d.add("a", flat(), [0.0, 0.0]);
        let b = d.add("b", flat(), [0.0, 0.0]);
        let c = d.add("c", flat(), [0.0, 0.0]);
        d.add("loose", flat(), [0.0, 0.0]);
        d.connect(a, b, 0);
        d.connect(b, c, 0);
        d.connect(c, a, 0);
        auto_layout(&mut d);
        assert_eq!(measure(&d).overlaps, 0);
    }

    #[test]
    fn measure_counts_crossings_and_overlaps() {
        let mut d = residual_tower(1);
        for n in &mut d.nodes {
            n.pos = [0.0, 0.0];
        }
        assert!(measure(&d).overlaps > 0);
        let mut x = Design::default();
        let ids: Vec<NodeId> = (0..4)
            .map(|i| {
                x.add(
                    format!("n{i}"),
                    crate::design::Op::Flatten(crate::design::Flatten {}),
                    [0.0, 0.0],
                )
            })
            .collect();
        x.nodes[0].pos = [0.0, 0.0];
        x.nodes[1].pos = [500.0, 500.0];
        x.nodes[2].pos = [0.0, 500.0];
        x.nodes[3].pos = [500.0, 0.0];
        x.connect(ids[0], ids[1], 0);
        x.connect(ids[2], ids[3], 0);
        assert_eq!(measure(&x).crossings, 1);
    }
}
