//! A palette click with a block selected: the new block goes after it, where a person adding
//! a layer to a chain expects it. It is put between the selected block and what it fed when
//! the shapes allow that, else wired after it alone, else added unwired beside it; which of
//! these is decided by analysing each candidate, so a new block never brings a problem the
//! user didn't ask for.

use super::catalogue::Block;
use super::edit::{self, Edit};
use super::layout::block_size;
use super::{Design, NodeId, Op, analyse};

/// The edit that adds `block` after node `after`, or None where nothing can follow it (an
/// Output, a missing node) or `block` can't follow anything (an Input).
pub fn add_after(design: &Design, block: &Block, after: NodeId) -> Option<Edit> {
    let a = design.node(after)?;
    if !block.goes_between() || matches!(a.op, Op::Output(_)) {
        return None;
    }
    let size = block_size(a);
    let pos = free_near(
        design,
        [a.pos[0] + size[0] * 0.5, a.pos[1] + size[1] + 40.0],
    );
    let new = design.next_id();
    let add = block.add_at(pos);
    let feed = Edit::Connect {
        from: after,
        to: new,
        port: 0,
    };
    let onward: Vec<Edit> = design
        .edges
        .iter()
        .filter(|e| e.from == after)
        .map(|e| Edit::Connect {
            from: new,
            to: e.to,
            port: e.port,
        })
        .collect();
    let problems = |edits: &[Edit]| {
        let mut d = design.clone();
        edit::apply(&mut d, &Edit::Many(edits.to_vec()));
        analyse(&d).problems.len()
    };
    let before = analyse(design).problems.len();
    let between: Vec<Edit> = [vec![add.clone(), feed.clone()], onward.clone()].concat();
    // Between: the chain goes through the new block (when something followed, and the shapes
    // carry on). Else after: the new block hangs off the selected one. Else alone, beside it.
    let edits = if !onward.is_empty() && problems(&between) <= before {
        between
    } else if problems(&[add.clone(), feed.clone()]) <= before {
        vec![add, feed]
    } else {
        vec![add]
    };
    Some(Edit::Many(edits))
}

/// A spot at or below `at` where a block doesn't cover another (canvas units).
fn free_near(design: &Design, at: [f32; 2]) -> [f32; 2] {
    let mut p = at;
    for _ in 0..40 {
        let taken = design.nodes.iter().any(|n| {
            let s = block_size(n);
            p[0] < n.pos[0] + s[0]
                && n.pos[0] < p[0] + 160.0
                && p[1] < n.pos[1] + s[1] + 20.0
                && n.pos[1] < p[1] + 80.0
        });
        if !taken {
            break;
        }
        p[1] += 80.0;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::catalogue::BLOCKS;

    fn lenet() -> Design {
        crate::design::from_json(include_str!("../../examples/lenet5.json")).unwrap()
    }

    fn block(label: &str) -> &'static Block {
        BLOCKS.iter().find(|b| b.label == label).unwrap()
    }

    fn applied(d: &Design, e: &Edit) -> Design {
        let mut d = d.clone();
        assert!(edit::apply(&mut d, e));
        d
    }

    #[test]
    fn a_shape_keeping_block_goes_between_the_selection_and_what_it_fed() {
        let d = lenet();
        let fc1 = d.node_by_name("fc1").unwrap().id;
        let relu3 = d.node_by_name("relu3").unwrap().id;
        let e = add_after(&d, block("Dropout"), fc1).unwrap();
        let after = applied(&d, &e);
        let drop = after.node_by_name("drop1").unwrap().id;
        assert!(after.edges.iter().any(|e| e.from == fc1 && e.to == drop));
        assert!(after.edges.iter().any(|e| e.from == drop && e.to == relu3));
        assert!(!after.edges.iter().any(|e| e.from == fc1 && e.to == relu3));
        assert!(analyse(&after).problems.is_empty());
        // Clear of every other block.
        let p = after.node(drop).unwrap().pos;
        for n in after.nodes.iter().filter(|n| n.id != drop) {
            let s = block_size(n);
            let apart = p[0] >= n.pos[0] + s[0]
                || n.pos[0] >= p[0] + 160.0
                || p[1] >= n.pos[1] + s[1]
                || n.pos[1] >= p[1] + 60.0;
            assert!(
                apart,
                "{} at {:?} under the new block at {p:?}",
                n.name, n.pos
            );
        }
    }

    #[test]
    fn a_block_whose_shape_breaks_the_chain_hangs_off_the_selection_or_stands_alone() {
        let d = lenet();
        // Conv2d after fc1 (a vector): it can't take fc1's output at all, so it stands alone.
        let fc1 = d.node_by_name("fc1").unwrap().id;
        let e = add_after(&d, block("Conv2d"), fc1).unwrap();
        let after = applied(&d, &e);
        let conv = after.node_by_name("conv3").unwrap().id;
        assert!(!after.edges.iter().any(|e| e.to == conv || e.from == conv));
        // Its own "not wired" is the only problem: nothing else broke.
        let a = analyse(&after);
        assert_eq!(
            a.problems.iter().filter(|p| p.node != Some(conv)).count(),
            0
        );
        // A Linear after fc2: wired after it, through the chain where the widths carry on;
        // never a new problem.
        let fc2 = d.node_by_name("fc2").unwrap().id;
        let e = add_after(&d, block("Linear"), fc2).unwrap();
        let after = applied(&d, &e);
        assert!(analyse(&after).problems.len() <= analyse(&d).problems.len());
        let new = after.node_by_name("fc4").unwrap().id;
        assert!(after.edges.iter().any(|e| e.from == fc2 && e.to == new));
    }

    #[test]
    fn nothing_follows_an_output_and_an_input_follows_nothing() {
        let d = lenet();
        let out = d.node_by_name("output").unwrap().id;
        let fc1 = d.node_by_name("fc1").unwrap().id;
        assert!(add_after(&d, block("ReLU"), out).is_none());
        assert!(add_after(&d, block("Input"), fc1).is_none());
    }
}
