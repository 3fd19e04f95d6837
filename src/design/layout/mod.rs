//! Automatic layered layout (Sugiyama's method, through the rust-sugiyama crate): cycles
//! broken, every block put in a layer so that wires run one way, the order within each layer
//! chosen to cut crossings, and coordinates (Brandes–Köpf) that keep the main path straight
//! with branches such as a residual shortcut beside it. Left to right by default, as the canvas
//! draws inputs on the left of a block and outputs on its right; top to bottom on request.
//!
//! Layers are spaced by the widest block in each, so long names (`layer2.0.downsample.0`)
//! never run into the next layer. Unconnected parts are laid out one under the other.

use super::graph::{Design, Node, NodeId};
use super::group::Group;
use std::collections::{BTreeSet, HashMap};

mod measure;
pub use measure::{LayoutStats, measure};

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
/// with no blocks is left alone. Each group is laid out inside first; then the whole design
/// with each group as one block (its collapsed size, or its members' in their frame).
pub fn layout(design: &mut Design, direction: Direction) {
    if design.nodes.is_empty() {
        return;
    }
    let index: HashMap<NodeId, usize> = design
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i))
        .collect();
    // Which unit each node is laid out in: its group's, or its own.
    let mut unit_of: Vec<usize> = Vec::with_capacity(design.nodes.len());
    let mut units: Vec<[f32; 2]> = Vec::new();
    // Per group: its index and its members' places inside it.
    let mut inner: Vec<(usize, Placed)> = Vec::new();
    let mut group_unit = HashMap::new();
    for (gi, g) in design.groups.iter().enumerate() {
        let members: Vec<usize> = g
            .members
            .iter()
            .filter_map(|m| index.get(m).copied())
            .collect();
        let local: HashMap<usize, u32> = members
            .iter()
            .enumerate()
            .map(|(i, m)| (*m, i as u32))
            .collect();
        let sizes: Vec<[f32; 2]> = members
            .iter()
            .map(|m| block_size(&design.nodes[*m]))
            .collect();
        let edges: Vec<(u32, u32)> = design
            .edges
            .iter()
            .filter_map(|e| {
                Some((
                    *local.get(index.get(&e.from)?)?,
                    *local.get(index.get(&e.to)?)?,
                ))
            })
            .collect();
        let places = place(&sizes, &edges, direction);
        let mut extent = [0.0f32; 2];
        for (p, s) in places.iter().zip(&sizes) {
            extent = [extent[0].max(p[0] + s[0]), extent[1].max(p[1] + s[1])];
        }
        let size = if g.collapsed {
            group_block_size(g)
        } else {
            [
                extent[0] + 2.0 * FRAME_PAD,
                extent[1] + 2.0 * FRAME_PAD + FRAME_TITLE,
            ]
        };
        group_unit.insert(gi, units.len());
        units.push(size);
        inner.push((gi, members.into_iter().zip(places).collect()));
    }
    let member_unit: HashMap<usize, usize> = inner
        .iter()
        .flat_map(|(gi, ms)| ms.iter().map(|(m, _)| (*m, group_unit[gi])))
        .collect();
    for (i, n) in design.nodes.iter().enumerate() {
        match member_unit.get(&i) {
            Some(u) => unit_of.push(*u),
            None => {
                unit_of.push(units.len());
                units.push(block_size(n));
            }
        }
    }
    let edges: Vec<(u32, u32)> = design
        .edges
        .iter()
        .filter_map(|e| {
            let (a, b) = (unit_of[*index.get(&e.from)?], unit_of[*index.get(&e.to)?]);
            Some((a as u32, b as u32))
        })
        .collect();
    let places = place(&units, &edges, direction);
    let offset = [FRAME_PAD, FRAME_PAD + FRAME_TITLE];
    for (gi, members) in inner {
        let at = places[group_unit[&gi]];
        design.groups[gi].pos = at;
        for (m, p) in members {
            design.nodes[m].pos = [at[0] + offset[0] + p[0], at[1] + offset[1] + p[1]];
        }
    }
    for (i, n) in design.nodes.iter_mut().enumerate() {
        if !member_unit.contains_key(&i) {
            n.pos = places[unit_of[i]];
        }
    }
    if direction == Direction::LeftToRight {
        clear_shown_wires(design);
    }
}

/// [`clear_wires`] over what the canvas draws: every wire, also those into an expanded group
/// from outside it, against every block. A collapsed group moves with its members.
fn clear_shown_wires(design: &mut Design) {
    let Shown { seen_as, boxes } = shown(design);
    let index: HashMap<NodeId, usize> = boxes.iter().enumerate().map(|(i, b)| (b.0, i)).collect();
    let mut out: Vec<[f32; 2]> = boxes.iter().map(|b| b.1).collect();
    let sizes: Vec<[f32; 2]> = boxes.iter().map(|b| b.2).collect();
    let edges: Vec<(u32, u32)> = design
        .edges
        .iter()
        .filter_map(|e| {
            let a = index[seen_as.get(&e.from)?];
            let b = index[seen_as.get(&e.to)?];
            (a != b).then_some((a as u32, b as u32))
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    clear_wires(&mut out, &sizes, &edges);
    for (i, (key, old, _)) in boxes.iter().enumerate() {
        let dy = out[i][1] - old[1];
        if dy == 0.0 {
            continue;
        }
        let collapsed = design
            .groups
            .iter_mut()
            .find(|g| g.collapsed && g.members.first() == Some(key));
        let members = match collapsed {
            Some(g) => {
                g.pos[1] += dy;
                g.members.clone()
            }
            None => vec![*key],
        };
        for n in design.nodes.iter_mut().filter(|n| members.contains(&n.id)) {
            n.pos[1] += dy;
        }
    }
}

/// Nodes (by index) and their top-left corners within a group.
type Placed = Vec<(usize, [f32; 2])>;

/// Places blocks of `sizes` joined by `edges` (indices into `sizes`) in layers running
/// `direction`; returns each block's top-left corner, the whole starting at the origin.
fn place(sizes: &[[f32; 2]], edges: &[(u32, u32)], direction: Direction) -> Vec<[f32; 2]> {
    let mut out = vec![[0.0f32; 2]; sizes.len()];
    if sizes.is_empty() {
        return out;
    }
    // rust-sugiyama wants each wire once and none from a block to itself.
    let edges: Vec<(u32, u32)> = edges
        .iter()
        .copied()
        .filter(|(a, b)| a != b)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
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
            out[*v] = match direction {
                Direction::LeftToRight => [a, c],
                Direction::TopToBottom => [c, a],
            };
        }
        offset += extent + PART_GAP;
    }
    // Start at the origin, so a group's members sit where its frame says.
    for k in 0..2 {
        let low = out.iter().map(|p| p[k]).fold(f32::INFINITY, f32::min);
        for p in &mut out {
            p[k] -= low;
        }
    }
    out
}

/// Room kept between a wire and a block it passes, canvas units.
const WIRE_CLEARANCE: f32 = 24.0;
/// Where the canvas draws a block's pins, down from its top, and how tall it draws the block,
/// as fractions of [`block_size`]'s height (a title row, then the pins' row).
pub const PIN_DOWN: f32 = 0.62;
/// See [`PIN_DOWN`].
pub const DRAWN_HEIGHT: f32 = 0.87;

/// Moves blocks off the wires that pass them. The canvas draws a wire from its source's output
/// pin (right edge) to its target's input pin (left edge); a shortcut that skips layers (a
/// residual connection) runs straight there, while Sugiyama's layering routes it beside the
/// blocks it skips only through its bend points, which the canvas doesn't draw. Each block a
/// wire would pass under moves across the wire's way (away from it) until it clears it by
/// [`WIRE_CLEARANCE`]; a few rounds settle what one move disturbs. (Top to bottom, layers
/// stack down the canvas and a shortcut already runs beside the blocks it skips.)
fn clear_wires(out: &mut [[f32; 2]], sizes: &[[f32; 2]], edges: &[(u32, u32)]) {
    let pin = |v: usize, out: &[[f32; 2]], right: bool| -> [f32; 2] {
        let (p, s) = (out[v], sizes[v]);
        [
            if right { p[0] + s[0] } else { p[0] },
            p[1] + s[1] * PIN_DOWN,
        ]
    };
    for _ in 0..6 {
        let mut moved = false;
        for &(a, b) in edges {
            let (a, b) = (a as usize, b as usize);
            for c in 0..out.len() {
                if c == a || c == b {
                    continue;
                }
                let (from, to) = (pin(a, out, true), pin(b, out, false));
                let (p, s) = (out[c], [sizes[c][0], sizes[c][1] * DRAWN_HEIGHT]);
                // The wire's x where the block is (it runs left to right between the pins).
                let (x0, x1) = (from[0].min(to[0]), from[0].max(to[0]));
                if p[0] + s[0] <= x0 || p[0] >= x1 || (to[0] - from[0]).abs() < 1.0 {
                    continue;
                }
                let at = |x: f32| from[1] + (to[1] - from[1]) * (x - from[0]) / (to[0] - from[0]);
                let (ya, yb) = (at(p[0].max(x0)), at((p[0] + s[0]).min(x1)));
                let (lo, hi) = (ya.min(yb), ya.max(yb));
                let m = WIRE_CLEARANCE;
                if p[1] + s[1] <= lo - m || p[1] >= hi + m {
                    continue;
                }
                // Away from the wire, on the side the block's middle is already on.
                let shift = if p[1] + s[1] / 2.0 >= (lo + hi) / 2.0 {
                    hi + m - p[1]
                } else {
                    lo - m - (p[1] + s[1])
                };
                out[c][1] += shift;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
}

/// About how much room a block takes on the canvas, canvas units: its title row holds the
/// name and the type side by side, its body row the parameter count and the output shape
/// (about 7.5 units a character at zoom 1), plus the pins.
pub fn block_size(node: &Node) -> [f32; 2] {
    let title = node.name.chars().count() + node.op.kind_name().chars().count();
    // "2,416 params  16×10×10" for blocks with weights, the shape alone for the rest.
    let body = if node.op.learns() { 22 } else { 10 };
    [title.max(body) as f32 * 7.5 + 70.0, 60.0]
}

/// About how much room a collapsed group takes: its name and kind, like a block's.
pub fn group_block_size(group: &Group) -> [f32; 2] {
    let chars = group.name.chars().count() + group.kind.chars().count();
    [chars as f32 * 7.5 + 90.0, 60.0]
}

/// Room around an expanded group's members inside its frame, canvas units.
pub const FRAME_PAD: f32 = 16.0;
/// The height of an expanded group's title strip above its members.
pub const FRAME_TITLE: f32 = 24.0;

/// The blocks the canvas draws: each node as itself, except the members of a collapsed group,
/// which are seen as their group's one block.
pub struct Shown {
    /// The block each node is seen as, named by a node: itself, or its collapsed group's
    /// first member.
    pub seen_as: HashMap<NodeId, NodeId>,
    /// Each block drawn: its key (as in `seen_as`), top-left corner and size.
    pub boxes: Vec<(NodeId, [f32; 2], [f32; 2])>,
}

/// What the canvas draws of `design` (see [`Shown`]).
pub fn shown(design: &Design) -> Shown {
    let mut seen_as = HashMap::new();
    let mut boxes = Vec::new();
    for g in design.groups.iter().filter(|g| g.collapsed) {
        let Some(&key) = g.members.first() else {
            continue;
        };
        for &m in &g.members {
            seen_as.insert(m, key);
        }
        boxes.push((key, g.pos, group_block_size(g)));
    }
    for n in &design.nodes {
        if let std::collections::hash_map::Entry::Vacant(v) = seen_as.entry(n.id) {
            v.insert(n.id);
            boxes.push((n.id, n.pos, block_size(n)));
        }
    }
    Shown { seen_as, boxes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::generate::residual_tower;
    use crate::design::templates::template;

    /// Where a node is seen: its own place, or its collapsed group's.
    fn seen_at(d: &Design, id: NodeId) -> Option<[f32; 2]> {
        match d.group_of(id) {
            Some(g) if g.collapsed => Some(g.pos),
            _ => d.node(id).map(|n| n.pos),
        }
    }

    fn check(d: &Design, direction: Direction) {
        for e in &d.edges {
            let (Some(a), Some(b)) = (seen_at(d, e.from), seen_at(d, e.to)) else {
                continue;
            };
            if d.group_of(e.from)
                .is_some_and(|g| g.collapsed && g.members.contains(&e.to))
            {
                continue;
            }
            match direction {
                Direction::LeftToRight => assert!(b[0] > a[0], "{a:?} → {b:?}"),
                Direction::TopToBottom => assert!(b[1] > a[1], "{a:?} → {b:?}"),
            }
        }
        let stats = measure(d);
        assert_eq!(stats.overlaps, 0, "blocks drawn over each other");
        assert_eq!(stats.crossings, 0, "wires cross");
    }

    fn ungrouped(name: &str) -> Design {
        let mut d = template(name, [3, 224, 224], 10).unwrap();
        d.groups.clear();
        auto_layout(&mut d);
        d
    }

    #[test]
    fn wires_run_one_way_without_crossings_or_overlaps() {
        let mut d = residual_tower(3);
        auto_layout(&mut d);
        check(&d, Direction::LeftToRight);
        let mut r = ungrouped("resnet18");
        check(&r, Direction::LeftToRight);
        layout(&mut r, Direction::TopToBottom);
        check(&r, Direction::TopToBottom);
        // Grouped, as the template opens: collapsed, then every group expanded.
        let mut g = template("resnet18", [3, 224, 224], 10).unwrap();
        check(&g, Direction::LeftToRight);
        layout(&mut g, Direction::TopToBottom);
        check(&g, Direction::TopToBottom);
        for group in &mut g.groups {
            group.collapsed = false;
        }
        layout(&mut g, Direction::LeftToRight);
        check(&g, Direction::LeftToRight);
    }

    #[test]
    fn an_expanded_group_s_frame_holds_its_members_clear_of_the_rest() {
        let mut d = template("vgg11", [3, 224, 224], 10).unwrap();
        for g in &mut d.groups {
            g.collapsed = false;
        }
        auto_layout(&mut d);
        let features = d.group_by_name("features").unwrap();
        let [lo, hi] = crate::design::grouping::members_box(&d, features);
        assert_eq!(
            lo,
            [
                features.pos[0] + FRAME_PAD,
                features.pos[1] + FRAME_PAD + FRAME_TITLE
            ]
        );
        let avgpool = d.node_by_name("avgpool").unwrap();
        assert!(
            avgpool.pos[0] >= hi[0] + FRAME_PAD,
            "the next block starts after the frame"
        );
    }

    #[test]
    fn the_main_path_of_a_resnet_is_straight() {
        let d = ungrouped("resnet18");
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
        // Grouped, the blocks make one straight row.
        let g = template("resnet18", [3, 224, 224], 10).unwrap();
        let ys: BTreeSet<i64> = g
            .nodes
            .iter()
            .filter_map(|n| seen_at(&g, n.id))
            .map(|p| p[1].round() as i64)
            .collect();
        assert_eq!(ys.len(), 1, "one row: {ys:?}");
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
}
