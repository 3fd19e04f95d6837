//! How readable a layout is: wires, crossings, wire length and overlapping blocks, measured on
//! what the canvas shows (a collapsed group is one block). The layout tests and
//! benches/layout.rs judge layouts by it (docs/layout.md).

use super::{Shown, shown};
use crate::design::graph::{Design, NodeId};
use std::collections::{BTreeSet, HashMap};

/// How readable a layout is, in the two figures layout papers use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayoutStats {
    /// Wires drawn (several edges into one collapsed group from one block are one wire).
    pub wires: usize,
    /// Pairs of wires that cross, each wire taken as the straight line from its source block to
    /// its target block (the canvas draws gentle curves along about the same line).
    pub crossings: usize,
    /// The summed length of the wires, canvas units (block positions, top-left corners).
    pub wire_length: f64,
    /// Pairs of blocks drawn over each other, each block taken as [`super::block_size`].
    pub overlaps: usize,
    /// Wires that pass under a block they don't join, each wire taken as the straight line
    /// from its source's output pin (right edge) to its target's input pin (left edge), where
    /// the canvas draws them ([`super::PIN_DOWN`]).
    pub under: usize,
}

/// Measures `design` as it is laid out now, as the canvas shows it: a collapsed group is one
/// block, its wires drawn to and from it.
pub fn measure(design: &Design) -> LayoutStats {
    let Shown {
        seen_as: shown,
        boxes,
    } = shown(design);
    let boxes: Vec<(NodeId, [f64; 2], [f32; 2])> = boxes
        .into_iter()
        .map(|(k, p, size)| (k, [f64::from(p[0]), f64::from(p[1])], size))
        .collect();
    let pos: HashMap<NodeId, [f64; 2]> = boxes.iter().map(|(k, p, _)| (*k, *p)).collect();
    // Each wire once: a group fed twice from one block shows one wire.
    let pairs: BTreeSet<(NodeId, NodeId)> = design
        .edges
        .iter()
        .filter_map(|e| Some((*shown.get(&e.from)?, *shown.get(&e.to)?)))
        .filter(|(a, b)| a != b)
        .collect();
    let wires: Vec<(NodeId, NodeId, [f64; 2], [f64; 2])> = pairs
        .into_iter()
        .filter_map(|(a, b)| Some((a, b, *pos.get(&a)?, *pos.get(&b)?)))
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
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            // Top-left corners: the one further left must be wide enough to reach the other.
            let (left, right) = if a.1[0] <= b.1[0] { (a, b) } else { (b, a) };
            let (upper, lower) = if a.1[1] <= b.1[1] { (a, b) } else { (b, a) };
            if right.1[0] - left.1[0] < f64::from(left.2[0])
                && lower.1[1] - upper.1[1] < f64::from(upper.2[1])
            {
                overlaps += 1;
            }
        }
    }
    let size_of: HashMap<NodeId, [f32; 2]> = boxes.iter().map(|(k, _, s)| (*k, *s)).collect();
    let mut under = 0;
    for (a, b, pa, pb) in &wires {
        let (sa, sb) = (size_of[a], size_of[b]);
        let down = f64::from(super::PIN_DOWN);
        let from = [pa[0] + f64::from(sa[0]), pa[1] + f64::from(sa[1]) * down];
        let to = [pb[0], pb[1] + f64::from(sb[1]) * down];
        let tall = f64::from(super::DRAWN_HEIGHT);
        let hit = boxes.iter().any(|(k, p, s)| {
            k != a
                && k != b
                && segment_meets_box(from, to, *p, [f64::from(s[0]), f64::from(s[1]) * tall])
        });
        under += usize::from(hit);
    }
    LayoutStats {
        wires: wires.len(),
        crossings,
        wire_length,
        overlaps,
        under,
    }
}

/// True when the segment a–b passes through the inside of the box at `p` of `size` (a wire
/// along its edge does not count).
fn segment_meets_box(a: [f64; 2], b: [f64; 2], p: [f64; 2], size: [f64; 2]) -> bool {
    // Clip the segment to the box, shrunk by a unit so that touching is not meeting.
    let (lo, hi) = (
        [p[0] + 1.0, p[1] + 1.0],
        [p[0] + size[0] - 1.0, p[1] + size[1] - 1.0],
    );
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for k in 0..2 {
        let d = b[k] - a[k];
        if d.abs() < 1e-9 {
            if a[k] < lo[k] || a[k] > hi[k] {
                return false;
            }
            continue;
        }
        let (mut u, mut v) = ((lo[k] - a[k]) / d, (hi[k] - a[k]) / d);
        if u > v {
            std::mem::swap(&mut u, &mut v);
        }
        t0 = t0.max(u);
        t1 = t1.min(v);
    }
    t0 < t1
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
