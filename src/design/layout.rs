//! Automatic left-to-right layout: each node goes in the column of its longest path from an
//! input, parallel branches in lanes one under the other. Long chains wrap into bands of
//! columns, so a 14-layer LeNet still fits a window without zooming out to illegibility.

use super::analysis::analyse;
use super::graph::{Design, NodeId};
use std::collections::HashMap;

/// Horizontal distance between columns, canvas units.
pub const COLUMN: f32 = 210.0;
/// Vertical distance between lanes.
pub const LANE: f32 = 130.0;
/// Columns per band before wrapping.
pub const COLUMNS_PER_BAND: usize = 6;

/// Places every node. Nodes caught in a cycle keep their place.
pub fn auto_layout(design: &mut Design) {
    let analysis = analyse(design);
    let mut depth: HashMap<NodeId, usize> = HashMap::new();
    for &id in &analysis.order {
        let d = design
            .edges
            .iter()
            .filter(|e| e.to == id)
            .filter_map(|e| depth.get(&e.from).map(|d| d + 1))
            .max()
            .unwrap_or(0);
        depth.insert(id, d);
    }
    let mut lanes: HashMap<usize, usize> = HashMap::new();
    let mut place: HashMap<NodeId, (usize, usize)> = HashMap::new();
    for &id in &analysis.order {
        let d = depth.get(&id).copied().unwrap_or(0);
        let lane = lanes.entry(d).or_insert(0);
        place.insert(id, (d, *lane));
        *lane += 1;
    }
    let band_height = (lanes.values().copied().max().unwrap_or(1) as f32) * LANE + LANE * 0.5;
    for node in &mut design.nodes {
        if let Some(&(d, lane)) = place.get(&node.id) {
            let (band, col) = (d / COLUMNS_PER_BAND, d % COLUMNS_PER_BAND);
            node.pos = [
                col as f32 * COLUMN,
                band as f32 * band_height + lane as f32 * LANE,
            ];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::generate::residual_tower;

    #[test]
    fn columns_follow_depth_and_branches_get_lanes() {
        let mut d = residual_tower(1);
        auto_layout(&mut d);
        let analysis = analyse(&d);
        for e in &d.edges {
            let (a, b) = (d.node(e.from).map(|n| n.pos), d.node(e.to).map(|n| n.pos));
            let (Some(a), Some(b)) = (a, b) else { continue };
            // Downstream is further right, or in a later band.
            assert!(b[0] > a[0] || b[1] > a[1], "{a:?} → {b:?}");
        }
        let mut seen = std::collections::HashSet::new();
        for n in &d.nodes {
            assert!(
                seen.insert((n.pos[0] as i64, n.pos[1] as i64)),
                "two nodes share a place"
            );
        }
        assert!(analysis.is_valid());
    }
}
