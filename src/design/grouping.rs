//! The edits that make, move, rename, collapse and expand groups (see [`super::group`]).

use super::graph::{Design, NodeId};
use super::group::{Group, GroupId, repath};
use super::layout::{FRAME_PAD, FRAME_TITLE, block_size, group_block_size};

/// A group name like `base` (its trailing digits dropped, then counted up: `layer1.0` →
/// `layer1.1`, `layer1.2`…) that no group, node, node path or name in `taken` uses.
pub fn unique_group_name(design: &Design, base: &str, taken: &[String]) -> String {
    let stem = base.trim_end_matches(|c: char| c.is_ascii_digit());
    let stem = if stem.is_empty() { "group" } else { stem };
    let free = |name: &str| {
        let path = format!("{name}.");
        design.group_by_name(name).is_none()
            && !taken.iter().any(|t| t == name)
            && !design
                .nodes
                .iter()
                .any(|n| n.name == name || n.name.starts_with(&path))
    };
    (1..)
        .map(|i| format!("{stem}{i}"))
        .find(|n| free(n))
        .unwrap_or_else(|| stem.to_owned())
}

/// Groups `ids` (leaving out nodes already in a group) as a new collapsed group where they
/// are, its name in front of theirs. Returns its id, or None when no node was free to group.
pub fn group(design: &mut Design, ids: &[NodeId]) -> Option<GroupId> {
    let mut members: Vec<NodeId> = ids
        .iter()
        .copied()
        .filter(|id| design.node(*id).is_some() && design.group_of(*id).is_none())
        .collect();
    members.sort();
    members.dedup();
    if members.is_empty() {
        return None;
    }
    let name = unique_group_name(design, "group", &[]);
    for n in design.nodes.iter_mut().filter(|n| members.contains(&n.id)) {
        n.name = repath(&n.name, "", &name);
    }
    let id = design.next_group_id();
    let mut group = Group {
        id,
        name,
        kind: "Group".to_owned(),
        members,
        collapsed: true,
        pos: [0.0; 2],
    };
    let lo = members_box(design, &group)[0];
    group.pos = [lo[0] - FRAME_PAD, lo[1] - FRAME_PAD - FRAME_TITLE];
    design.groups.push(group);
    design.canonicalize();
    Some(id)
}

/// The top-left and bottom-right corners around a group's members.
pub fn members_box(design: &Design, group: &Group) -> [[f32; 2]; 2] {
    let mut lo = [f32::INFINITY; 2];
    let mut hi = [f32::NEG_INFINITY; 2];
    for n in group.members.iter().filter_map(|m| design.node(*m)) {
        let s = block_size(n);
        for k in 0..2 {
            lo[k] = lo[k].min(n.pos[k]);
            hi[k] = hi[k].max(n.pos[k] + s[k]);
        }
    }
    if lo[0].is_finite() {
        [lo, hi]
    } else {
        [group.pos, group.pos]
    }
}

/// Moves a collapsed group's block to `pos`, its members by as much.
pub fn move_group(design: &mut Design, id: GroupId, pos: [f32; 2]) {
    let Some(g) = design.groups.iter_mut().find(|g| g.id == id) else {
        return;
    };
    let delta = [pos[0] - g.pos[0], pos[1] - g.pos[1]];
    g.pos = pos;
    let members = g.members.clone();
    for n in design.nodes.iter_mut().filter(|n| members.contains(&n.id)) {
        n.pos = [n.pos[0] + delta[0], n.pos[1] + delta[1]];
    }
}

/// Collapses or expands a group in place: the blocks beyond it (right of it when its members
/// run across, below it when they run down) move by the difference in size, so the expanded
/// members land in room of their own, inside their frame, and collapsing closes the gap again.
/// False when nothing changed.
pub fn set_collapsed(design: &mut Design, id: GroupId, collapsed: bool) -> bool {
    let Some(g) = design.group(id).cloned() else {
        return false;
    };
    if g.collapsed == collapsed {
        return false;
    }
    let [lo, hi] = members_box(design, &g);
    let framed = [
        hi[0] - lo[0] + 2.0 * FRAME_PAD,
        hi[1] - lo[1] + 2.0 * FRAME_PAD + FRAME_TITLE,
    ];
    let offset = [FRAME_PAD, FRAME_PAD + FRAME_TITLE];
    // The collapsed block sits where the frame's corner is; the members inside the frame.
    let origin = if collapsed {
        [lo[0] - offset[0], lo[1] - offset[1]]
    } else {
        g.pos
    };
    let delta = [origin[0] + offset[0] - lo[0], origin[1] + offset[1] - lo[1]];
    for n in design
        .nodes
        .iter_mut()
        .filter(|n| g.members.contains(&n.id))
    {
        n.pos = [n.pos[0] + delta[0], n.pos[1] + delta[1]];
    }
    let small = group_block_size(&g);
    let axis = usize::from(framed[1] > framed[0]);
    let grow = framed[axis] - small[axis];
    let sign = if collapsed { -1.0 } else { 1.0 };
    // What lies beyond the group's far edge before the change.
    let edge = origin[axis] + if collapsed { framed[axis] } else { small[axis] } - 1.0;
    for n in design.nodes.iter_mut() {
        if !g.members.contains(&n.id) && n.pos[axis] >= edge {
            n.pos[axis] += sign * grow;
        }
    }
    for other in design.groups.iter_mut() {
        if other.id == id {
            other.collapsed = collapsed;
            other.pos = origin;
        } else if other.pos[axis] >= edge {
            other.pos[axis] += sign * grow;
        }
    }
    true
}

/// Renames a group and the members under its path. False (and nothing changed) when the name
/// is invalid or clashes with another group or block.
pub fn rename(design: &mut Design, id: GroupId, name: &str) -> bool {
    let Some(g) = design.group(id).cloned() else {
        return false;
    };
    if g.name == name || !super::is_valid_name(name) {
        return false;
    }
    let clash = design.group_by_name(name).is_some()
        || design.nodes.iter().any(|n| {
            !g.members.contains(&n.id)
                && (n.name == name || n.name.starts_with(&format!("{name}.")))
        });
    if clash {
        return false;
    }
    for n in design
        .nodes
        .iter_mut()
        .filter(|n| g.members.contains(&n.id))
    {
        if n.name.starts_with(&format!("{}.", g.name)) {
            n.name = repath(&n.name, &g.name, name);
        }
    }
    if let Some(g) = design.groups.iter_mut().find(|g| g.id == id) {
        g.name = name.to_owned();
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::design::edit::{Edit, apply, copy_text, paste};
    use crate::design::templates::template;

    use crate::design::lenet_example as lenet;

    #[test]
    fn grouping_names_members_by_path_and_ungrouping_keeps_them() {
        let mut d = lenet();
        let ids: Vec<NodeId> = ["conv1", "relu1", "pool1"]
            .iter()
            .map(|n| d.node_by_name(n).unwrap().id)
            .collect();
        assert!(apply(&mut d, &Edit::Group(ids.clone())));
        let g = d.group_by_name("group1").unwrap().clone();
        assert_eq!(g.members, ids);
        assert!(g.collapsed);
        assert!(d.node_by_name("group1.conv1").is_some());
        // Nodes already grouped are not grouped again.
        assert!(!apply(&mut d, &Edit::Group(ids.clone())));
        assert!(apply(&mut d, &Edit::RenameGroup(g.id, "stem".into())));
        assert!(d.node_by_name("stem.relu1").is_some());
        // A clash is refused and changes nothing.
        let before = d.clone();
        assert!(!apply(&mut d, &Edit::RenameGroup(g.id, "fc1".into())));
        assert_eq!(d, before);
        apply(&mut d, &Edit::Ungroup(g.id));
        assert!(d.groups.is_empty());
        assert!(d.node_by_name("stem.pool1").is_some());
        assert!(crate::design::analyse(&d).is_valid());
    }

    #[test]
    fn expanding_makes_room_and_collapsing_gives_it_back() {
        let mut d = template("resnet18", [3, 64, 64], 10).unwrap();
        let g = d.group_by_name("layer1.0").unwrap().clone();
        let fc = d.node_by_name("fc").unwrap().pos;
        let next = d.group_by_name("layer1.1").unwrap().pos;
        assert!(apply(
            &mut d,
            &Edit::Collapse {
                group: g.id,
                collapsed: false
            }
        ));
        let moved = d.node_by_name("fc").unwrap().pos;
        assert!(moved[0] > fc[0], "blocks after the group moved aside");
        let [lo, hi] = members_box(&d, d.group(g.id).unwrap());
        assert!(
            d.group_by_name("layer1.1").unwrap().pos[0] >= hi[0],
            "no overlap"
        );
        assert_eq!(
            lo,
            [g.pos[0] + FRAME_PAD, g.pos[1] + FRAME_PAD + FRAME_TITLE],
            "members open inside a frame where the block was"
        );
        assert!(apply(
            &mut d,
            &Edit::Collapse {
                group: g.id,
                collapsed: true
            }
        ));
        assert_eq!(d.node_by_name("fc").unwrap().pos, fc);
        assert_eq!(d.group_by_name("layer1.1").unwrap().pos, next);
    }

    #[test]
    fn a_copied_group_is_a_new_instance_named_by_its_path() {
        let mut d = template("resnet18", [3, 64, 64], 10).unwrap();
        let g = d.group_by_name("layer1.0").unwrap().clone();
        let text = copy_text(&d, &g.members).unwrap();
        let new = paste(&mut d, &text).unwrap();
        let copy = d.group_by_name("layer1.2").unwrap();
        assert_eq!(copy.kind, "BasicBlock");
        assert_eq!(copy.members, new);
        assert!(d.node_by_name("layer1.2.conv1").is_some());
        // Moving the collapsed copy carries its members.
        let (id, pos) = (copy.id, copy.pos);
        let conv = d.node_by_name("layer1.2.conv1").unwrap().pos;
        apply(
            &mut d,
            &Edit::GroupsMoved(vec![(id, [pos[0] + 10.0, pos[1]])]),
        );
        assert_eq!(
            d.node_by_name("layer1.2.conv1").unwrap().pos[0],
            conv[0] + 10.0
        );
        // Deleting its members deletes the group.
        apply(&mut d, &Edit::Remove(new));
        assert!(d.group_by_name("layer1.2").is_none());
        d.check_groups().unwrap();
    }
}
