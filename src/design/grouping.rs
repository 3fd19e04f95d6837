//! The edits that make, move, rename, collapse and expand groups (see [`super::group`]).

use super::edit::Edit;
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

/// True when group `id` may be called `name`: a valid path that no other group, and no
/// block outside the group (by name or by path), uses.
pub fn name_free(design: &Design, id: GroupId, name: &str) -> bool {
    let members = design.group(id).map_or(&[][..], |g| &g.members);
    let path = format!("{name}.");
    super::is_valid_name(name)
        && design.group_by_name(name).is_none_or(|g| g.id == id)
        && !design
            .nodes
            .iter()
            .any(|n| !members.contains(&n.id) && (n.name == name || n.name.starts_with(&path)))
}

/// Renames a group and the members under its path. False (and nothing changed) when the name
/// is invalid or clashes with another group or block.
pub fn rename(design: &mut Design, id: GroupId, name: &str) -> bool {
    let Some(g) = design.group(id).cloned() else {
        return false;
    };
    if g.name == name || !name_free(design, id, name) {
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

/// The nodes that play `node`'s part in the other groups of its group's kind: the same place
/// in another `BasicBlock` (`layer1.0.conv1` → `layer1.1.conv1`, `layer2.0.conv1`, …).
pub fn twins(design: &Design, node: NodeId) -> Vec<NodeId> {
    let (Some(n), Some(g)) = (design.node(node), design.group_of(node)) else {
        return Vec::new();
    };
    let Some(local) = n.name.strip_prefix(&format!("{}.", g.name)) else {
        return Vec::new();
    };
    design
        .groups
        .iter()
        .filter(|h| h.id != g.id && h.kind == g.kind)
        .filter_map(|h| {
            let twin = design.node_by_name(&format!("{}.{local}", h.name))?;
            h.members.contains(&twin.id).then_some(twin.id)
        })
        .collect()
}

/// `edit` of one node, made to every instance of its group's kind: the definition is shared.
/// Settings carry over field by field (only the fields this edit changed), so instances keep
/// what makes them differ: turning on `bias` in one `BasicBlock`'s conv1 turns it on in every
/// one, each keeping its own width and stride. A twin of another type is left alone.
pub fn for_every_instance(design: &Design, edit: &Edit) -> Edit {
    let mut all = vec![edit.clone()];
    match edit {
        Edit::SetOp(id, new) => {
            let (Some(old), Ok(new_json)) = (design.node(*id), serde_json::to_value(new)) else {
                return edit.clone();
            };
            let Ok(serde_json::Value::Object(old_json)) = serde_json::to_value(&old.op) else {
                return edit.clone();
            };
            let serde_json::Value::Object(new_json) = new_json else {
                return edit.clone();
            };
            let changed: Vec<(&String, &serde_json::Value)> = new_json
                .iter()
                .filter(|(k, v)| old_json.get(*k) != Some(*v))
                .collect();
            for t in twins(design, *id) {
                let Some(Ok(serde_json::Value::Object(mut twin))) =
                    design.node(t).map(|n| serde_json::to_value(&n.op))
                else {
                    continue;
                };
                if twin.get("type") != new_json.get("type") {
                    continue;
                }
                for (k, v) in &changed {
                    twin.insert((*k).clone(), (*v).clone());
                }
                if let Ok(op) = serde_json::from_value(serde_json::Value::Object(twin)) {
                    all.push(Edit::SetOp(t, op));
                }
            }
        }
        Edit::LrMult(id, m) => {
            all.extend(twins(design, *id).into_iter().map(|t| Edit::LrMult(t, *m)))
        }
        Edit::Freeze { nodes, frozen } => {
            let mut more: Vec<NodeId> = nodes.iter().flat_map(|n| twins(design, *n)).collect();
            more.retain(|n| !nodes.contains(n));
            if !more.is_empty() {
                all.push(Edit::Freeze {
                    nodes: more,
                    frozen: *frozen,
                });
            }
        }
        _ => {}
    }
    if all.len() == 1 {
        edit.clone()
    } else {
        Edit::Many(all)
    }
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

    #[test]
    fn an_edit_made_to_every_instance_changes_only_the_edited_field() {
        let mut d = template("resnet18", [3, 64, 64], 10).unwrap();
        let conv = d.node_by_name("layer1.0.conv1").unwrap().clone();
        assert_eq!(twins(&d, conv.id).len(), 7, "eight BasicBlocks");
        let crate::design::Op::Conv2d(mut c) = conv.op.clone() else {
            panic!()
        };
        c.bias = true;
        let edit = for_every_instance(&d, &Edit::SetOp(conv.id, crate::design::Op::Conv2d(c)));
        assert!(apply(&mut d, &edit));
        for name in ["layer1.1.conv1", "layer2.0.conv1", "layer4.1.conv1"] {
            let crate::design::Op::Conv2d(c) = &d.node_by_name(name).unwrap().op else {
                panic!()
            };
            assert!(c.bias, "{name}");
        }
        // Each keeps its own width and stride.
        let crate::design::Op::Conv2d(c) = &d.node_by_name("layer2.0.conv1").unwrap().op else {
            panic!()
        };
        assert_eq!(
            (c.out_channels, c.stride),
            (128, crate::design::Pair::Same(2))
        );
        assert!(crate::design::analyse(&d).is_valid());
        // Freezing one instance's block freezes it in all; a node outside groups has no twins.
        let bn = d.node_by_name("layer3.1.bn2").unwrap().id;
        let edit = for_every_instance(
            &d,
            &Edit::Freeze {
                nodes: vec![bn],
                frozen: true,
            },
        );
        apply(&mut d, &edit);
        assert!(d.node_by_name("layer1.0.bn2").unwrap().frozen);
        let fc = d.node_by_name("fc").unwrap().id;
        assert!(twins(&d, fc).is_empty());
    }
}
