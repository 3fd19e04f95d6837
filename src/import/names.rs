//! Node names from the module paths PyTorch's exporter writes into ONNX node names, and the
//! groups an imported design opens with.
//!
//! The exporter names a node `/features/features.1/conv/conv.0/conv.0.0/Conv`: one segment per
//! module scope, a child of a Sequential written `parent.index`, and the op type last. The
//! module path is `features.1.conv.0.0`. A step that is no module of its own (the residual
//! `+`, `torch.cat`) is named after the module whose forward ran it: `features.3.add`.

use crate::design::{Design, NodeId, Op, is_valid_name};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The module path in an exporter's node name, as its components (`["features", "1", "conv",
/// "0", "0"]`); empty for a top-level functional step or a name that is no path.
pub fn module_path(node_name: &str) -> Vec<String> {
    let Some(rest) = node_name.strip_prefix('/') else {
        // Not the exporter's scopes: a name that is already a design's (netloom's own
        // export names nodes so, a chain's steps `name#k`) is taken as the path.
        let base = node_name.split('#').next().unwrap_or_default();
        return if is_valid_name(base) {
            base.split('.').map(str::to_owned).collect()
        } else {
            Vec::new()
        };
    };
    let segs: Vec<&str> = rest.split('/').collect();
    let scopes = &segs[..segs.len().saturating_sub(1)];
    let mut path: Vec<String> = Vec::new();
    let mut prev = "";
    for seg in scopes {
        match seg.strip_prefix(prev).and_then(|s| s.strip_prefix('.')) {
            // `features.1` under `features`: its child `1` (and `features.0.0` under
            // `features.0`: the child `0`).
            Some(child) if !prev.is_empty() && !child.is_empty() => path.push(child.to_owned()),
            _ => path.push((*seg).to_owned()),
        }
        prev = seg;
    }
    path
}

/// Gives every node a unique, valid name.
pub struct Namer {
    /// Module paths with modules inside them: a step in one of these is functional.
    containers: HashSet<String>,
    taken: HashSet<String>,
}

impl Namer {
    /// A namer for a graph whose nodes have these module paths.
    pub fn new<'a>(paths: impl Iterator<Item = &'a [String]>) -> Namer {
        let mut containers = HashSet::new();
        for p in paths {
            for i in 1..p.len() {
                containers.insert(p[..i].join("."));
            }
        }
        Namer {
            containers,
            taken: HashSet::new(),
        }
    }

    /// Reserves `name` (the Input's and Output's).
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_owned());
    }

    /// The name of a node: `weights` is the prefix of its weights' names when they look like
    /// a state dict's (`features.0.0` from `features.0.0.weight`); else its module path when
    /// it is a module's own step; else `path.short` for a functional step (`short` alone at
    /// the top), made unique by `_1`, `_2` as the exporter does.
    pub fn name(&mut self, path: &[String], short: &str, weights: Option<&str>) -> String {
        let joined = path.join(".");
        let base = match weights {
            Some(w) if is_valid_name(w) && !self.taken.contains(w) => w.to_owned(),
            _ if !joined.is_empty()
                && !self.containers.contains(&joined)
                && is_valid_name(&joined)
                && !self.taken.contains(&joined) =>
            {
                joined
            }
            _ if !joined.is_empty() && is_valid_name(&joined) => format!("{joined}.{short}"),
            _ => short.to_owned(),
        };
        let mut name = base.clone();
        let mut k = 1;
        while self.taken.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// The torchvision block a module is, from its members' names relative to it and its ops:
/// what the templates call their groups' kinds.
fn known_kind(relative: &[&str], ops: &[&Op]) -> Option<&'static str> {
    let has = |n: &str| relative.contains(&n);
    let starts = |p: &str| relative.iter().any(|r| r.starts_with(p));
    let silu = ops.iter().any(
        |op| matches!(op, Op::Activation(a) if a.function == crate::design::ActivationFn::Silu),
    );
    Some(if has("conv1") && has("bn1") && has("conv3") {
        "Bottleneck"
    } else if has("conv1") && has("bn1") && has("conv2") {
        "BasicBlock"
    } else if has("squeeze") && has("expand1x1") && has("expand3x3") {
        "Fire"
    } else if starts("denselayer") {
        "_DenseBlock"
    } else if has("norm") && has("conv") && has("pool") {
        "_Transition"
    } else if has("f.a.0") && has("f.b.0") {
        "ResBottleneckBlock"
    } else if has("layer_scale") && starts("block.") {
        "CNBlock"
    } else if starts("block.") && silu {
        "MBConv"
    } else if starts("conv.") || starts("block.") {
        "InvertedResidual"
    } else {
        return None;
    })
}

/// Collapsed groups for the modules an imported design repeats, as the templates have them:
/// the torchvision blocks recognised by [`known_kind`] (the outermost where one holds
/// another), and for other models every module that holds three or more nodes and has a
/// sibling of the same make-up (kind `Block`). Nodes are named by module path, so a module's
/// members are the nodes named under it.
pub fn group_repeats(design: &mut Design) {
    // Every module path that is a strict prefix of a node's name.
    let mut members: BTreeMap<String, Vec<NodeId>> = BTreeMap::new();
    for n in &design.nodes {
        let parts: Vec<&str> = n.name.split('.').collect();
        for i in 1..parts.len() {
            members.entry(parts[..i].join(".")).or_default().push(n.id);
        }
    }
    let ops: HashMap<NodeId, (&str, &Op)> = design
        .nodes
        .iter()
        .map(|n| (n.id, (n.name.as_str(), &n.op)))
        .collect();
    let describe = |path: &str, ids: &[NodeId]| -> (Vec<String>, Vec<Op>) {
        let mut rel: Vec<String> = ids
            .iter()
            .filter_map(|id| ops.get(id))
            .filter_map(|(name, _)| name.strip_prefix(path)?.strip_prefix('.'))
            .map(str::to_owned)
            .collect();
        rel.sort();
        let o = ids
            .iter()
            .filter_map(|id| ops.get(id))
            .map(|(_, op)| (*op).clone())
            .collect();
        (rel, o)
    };
    let mut kinds: Vec<(String, &'static str)> = Vec::new();
    for (path, ids) in &members {
        let (rel, o) = describe(path, ids);
        let rel_refs: Vec<&str> = rel.iter().map(String::as_str).collect();
        let op_refs: Vec<&Op> = o.iter().collect();
        if let Some(kind) = known_kind(&rel_refs, &op_refs) {
            kinds.push((path.clone(), kind));
        }
    }
    if kinds.is_empty() {
        // Siblings of one make-up: same parent, same relative names.
        let mut by_shape: HashMap<(String, Vec<String>), Vec<String>> = HashMap::new();
        for (path, ids) in &members {
            if ids.len() < 3 {
                continue;
            }
            let parent = path.rsplit_once('.').map_or("", |(p, _)| p).to_owned();
            let (rel, _) = describe(path, ids);
            by_shape
                .entry((parent, rel))
                .or_default()
                .push(path.clone());
        }
        for paths in by_shape.into_values().filter(|p| p.len() >= 2) {
            kinds.extend(paths.into_iter().map(|p| (p, "Block")));
        }
    }
    // Outermost first; a module inside a grouped one is left to its group.
    kinds.sort_by_key(|(p, _)| (p.matches('.').count(), p.clone()));
    let mut grouped: HashSet<NodeId> = HashSet::new();
    for (path, kind) in kinds {
        let ids = &members[&path];
        if ids.iter().any(|id| grouped.contains(id)) || design.node_by_name(&path).is_some() {
            continue;
        }
        grouped.extend(ids.iter().copied());
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        let id = design.next_group_id();
        design.groups.push(crate::design::Group {
            id,
            name: path,
            kind: kind.to_owned(),
            members: sorted,
            collapsed: true,
            pos: [0.0; 2],
        });
    }
    design.groups.sort_by_key(|g| g.id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths_follow_the_exporter_s_scopes() {
        let p = |s: &str| module_path(s).join(".");
        assert_eq!(
            p("/features/features.1/conv/conv.0/conv.0.0/Conv"),
            "features.1.conv.0.0"
        );
        assert_eq!(p("/features/features.0/features.0.0/Conv"), "features.0.0");
        assert_eq!(p("/layer1/layer1.0/relu_2/Relu"), "layer1.0.relu_2");
        assert_eq!(
            p("/trunk_output/block1/block1-0/f/a/a.0/Conv"),
            "trunk_output.block1.block1-0.f.a.0"
        );
        assert_eq!(p("/Flatten"), "");
        assert_eq!(p("features.3.add#1"), "features.3.add");
        assert_eq!(p("StatefulPartitionedCall/model/conv"), "");
    }

    #[test]
    fn functional_steps_are_named_after_their_module_and_names_stay_unique() {
        let paths: Vec<Vec<String>> = [
            "/features/features.3/block/block.0/block.0.0/Conv",
            "/features/features.3/Add",
            "/avgpool/GlobalAveragePool",
        ]
        .iter()
        .map(|s| module_path(s))
        .collect();
        let mut n = Namer::new(paths.iter().map(Vec::as_slice));
        assert_eq!(
            n.name(&paths[0], "conv", Some("features.3.block.0.0")),
            "features.3.block.0.0"
        );
        assert_eq!(n.name(&paths[1], "add", None), "features.3.add");
        assert_eq!(n.name(&paths[2], "avgpool", None), "avgpool");
        assert_eq!(n.name(&[], "flatten", None), "flatten");
        assert_eq!(n.name(&[], "flatten", None), "flatten_1");
        assert_eq!(n.name(&[], "conv", Some("onnx::Conv_5")), "conv");
    }
}
