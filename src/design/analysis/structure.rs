//! The structure checks of an analysis: names and ids, exactly one Input and one Output,
//! wires between existing nodes, each kind's number of inputs, no dead branch, and the
//! execution order (Kahn's algorithm), with the nodes on a cycle reported.

use super::{Ctx, MAX_NAME_CHARS, is_valid_name};
use crate::design::op::{Arity, Op};
use std::collections::HashMap;

/// Names every PyTorch module sets on itself after it is made: a submodule by that name would
/// be overwritten by a flag (`net.eval()` sets `training` on every module), so the exported
/// model couldn't hold it.
const MODULE_STATE: &[&str] = &["training"];

/// Names that PyTorch's module tree can't hold: a part named after a module's own state, and
/// a node named as a part of another node (`fc2.weight` beside `fc2`), which PyTorch would
/// make a submodule of fc2's layer, where it clashes with the layer's own tensors and
/// settings. Both pass netloom's training but break the exported model.py.
fn check_module_paths(ctx: &mut Ctx<'_>, names: &HashMap<&str, usize>) {
    for (i, node) in ctx.design.nodes.iter().enumerate() {
        let name = node.name.as_str();
        if let Some(part) = name.split('.').find(|p| MODULE_STATE.contains(p)) {
            ctx.problem(
                i,
                format!(
                    "{name}: \"{part}\" can't name a block or group: every PyTorch module has a {part} attribute of its own (its train or eval mode), so the exported model couldn't hold it; rename it (e.g. {part}_)"
                ),
            );
            continue;
        }
        let owner = name
            .match_indices('.')
            .map(|(at, _)| &name[..at])
            .find(|prefix| names.contains_key(prefix));
        if let Some(owner) = owner {
            ctx.problem(
                i,
                format!(
                    "{name}: its name puts it inside the block {owner}, which PyTorch would make a part of {owner}'s layer (where its name clashes with the layer's own weights and settings); rename it, e.g. {}",
                    name.replace('.', "_")
                ),
            );
        }
    }
}

/// Names, ids, and exactly one Input and one Output.
pub(super) fn check_nodes(ctx: &mut Ctx<'_>) {
    let design = ctx.design;
    let mut names: HashMap<&str, usize> = HashMap::with_capacity(design.nodes.len());
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    for (i, node) in design.nodes.iter().enumerate() {
        if let std::collections::hash_map::Entry::Vacant(slot) = ctx.index.entry(node.id) {
            slot.insert(i);
        } else {
            ctx.problem(
                i,
                format!(
                    "{}: its id {} is used by another node: give it a new id",
                    node.name, node.id
                ),
            );
            ctx.broken[i] = true;
        }
        if let Some(m) = node.lr_mult
            && !(m.is_finite() && m > 0.0)
        {
            ctx.problem(
                i,
                format!(
                    "{}: lr_mult {m} must be a positive number (to stop a block learning, freeze it)",
                    node.name
                ),
            );
        }
        if node.name.chars().count() > MAX_NAME_CHARS {
            let start: String = node.name.chars().take(24).collect();
            ctx.problem(
                i,
                format!(
                    "{start}…: a name may have at most {MAX_NAME_CHARS} characters, this one has {}: shorten it",
                    node.name.chars().count()
                ),
            );
        } else if !is_valid_name(&node.name) {
            let shown = if node.name.is_empty() {
                "a node"
            } else {
                node.name.as_str()
            };
            ctx.problem(i, format!(
                "{shown}: a name must start with a letter or _ and hold only letters, digits, _, - and dots between parts (like conv1 or layer1.0.conv1), because it prefixes the weights' names"
            ));
        }
        if let Some(&first) = names.get(node.name.as_str()) {
            let kind = design.nodes.get(first).map_or("", |n| n.op.kind_name());
            ctx.problem(
                i,
                format!(
                    "{}: another node ({kind}) has the same name: names must be unique, rename one",
                    node.name
                ),
            );
        } else {
            names.insert(node.name.as_str(), i);
        }
        match node.op {
            Op::Input(_) => inputs.push(i),
            Op::Output(_) => outputs.push(i),
            _ => {}
        }
    }
    check_module_paths(ctx, &names);
    for (list, what, hint) in [
        (
            &inputs,
            "Input",
            "add an Input block and set its shape to that of your data",
        ),
        (
            &outputs,
            "Output",
            "add an Output block after the last layer; it holds the loss",
        ),
    ] {
        match list.len() {
            0 => ctx.global(format!("the design has no {what}: {hint}")),
            1 => {}
            k => {
                let names: Vec<&str> = list.iter().map(|&i| ctx.name(i)).collect();
                ctx.global(format!(
                    "the design has {k} {what} blocks ({}): keep exactly one",
                    names.join(", ")
                ));
            }
        }
    }
}

/// Wires must join existing nodes, never a node to itself, and one wire per port.
pub(super) fn check_edges(ctx: &mut Ctx<'_>) {
    for e in &ctx.design.edges {
        let (Some(&from), Some(&to)) = (ctx.index.get(&e.from), ctx.index.get(&e.to)) else {
            let missing = if ctx.index.contains_key(&e.from) {
                e.to
            } else {
                e.from
            };
            ctx.global(format!(
                "a wire refers to node {missing}, which does not exist: delete the wire"
            ));
            continue;
        };
        if from == to {
            let name = ctx.name(from);
            ctx.problem(
                from,
                format!("{name}: it is wired into itself: delete that wire"),
            );
            ctx.broken[from] = true;
            continue;
        }
        if ctx.incoming[to].iter().any(|&(p, _)| p == e.port) {
            let name = ctx.name(to);
            ctx.problem(
                to,
                format!(
                    "{name}: its input {} has two wires into it: delete one",
                    e.port
                ),
            );
            ctx.broken[to] = true;
            continue;
        }
        ctx.incoming[to].push((e.port, from));
        ctx.outgoing[from].push(to);
    }
    for list in &mut ctx.incoming {
        list.sort_unstable();
    }
}

/// Each kind's number of inputs, and no branch that leads nowhere.
pub(super) fn check_wiring(ctx: &mut Ctx<'_>) {
    let design = ctx.design;
    for (i, node) in design.nodes.iter().enumerate() {
        let name = node.name.as_str();
        let ins = ctx.incoming[i].len();
        let msg = match (node.op.arity(), ins) {
            (Arity::Zero, k) if k > 0 => Some(format!(
                "{name}: an Input is where data enters, so nothing can be wired into it: delete its incoming wires"
            )),
            (Arity::One, 0) => Some(format!(
                "{name}: it has no input: wire a block's output into it"
            )),
            (Arity::One, k) if k > 1 => Some(format!(
                "{name}: it has {k} wires into it but takes one: delete the extra ones, or join them first with Add or Concat"
            )),
            (Arity::Many, k) if k < 2 => Some(format!(
                "{name}: {} needs two or more inputs but has {k}: wire another block into it",
                node.op.kind_name()
            )),
            _ => None,
        };
        if let Some(msg) = msg {
            ctx.problem(i, msg);
            ctx.broken[i] = true;
        }
        let is_output = matches!(node.op, Op::Output(_));
        let outs = ctx.outgoing[i].len();
        if is_output && outs > 0 {
            ctx.problem(i, format!(
                "{name}: the Output ends the network, so nothing can follow it: delete the wires leaving it"
            ));
        } else if !is_output && outs == 0 {
            ctx.problem(i, format!(
                "{name}: its output goes nowhere: wire it onward (towards the Output), or delete it"
            ));
        }
    }
}

/// Kahn's algorithm; nodes left over lie on (or behind) a cycle and are reported.
pub(super) fn topological_order(ctx: &mut Ctx<'_>) -> Vec<usize> {
    let n = ctx.design.nodes.len();
    let mut indegree: Vec<usize> = ctx.incoming.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &t in ctx.outgoing[i].iter().rev() {
            indegree[t] -= 1;
            if indegree[t] == 0 {
                ready.push(t);
            }
        }
    }
    if order.len() < n {
        report_cycles(ctx, &indegree);
    }
    order
}

/// Of the nodes Kahn could not order, peels off those that merely sit downstream of a cycle;
/// what remains is on a cycle.
fn report_cycles(ctx: &mut Ctx<'_>, indegree: &[usize]) {
    let n = indegree.len();
    let mut left: Vec<bool> = indegree.iter().map(|&d| d > 0).collect();
    let mut outdeg: Vec<usize> = (0..n)
        .map(|i| ctx.outgoing[i].iter().filter(|&&t| left[t]).count())
        .collect();
    let mut sinks: Vec<usize> = (0..n).filter(|&i| left[i] && outdeg[i] == 0).collect();
    while let Some(i) = sinks.pop() {
        left[i] = false;
        for &(_, s) in &ctx.incoming[i] {
            if left[s] {
                outdeg[s] -= 1;
                if outdeg[s] == 0 {
                    sinks.push(s);
                }
            }
        }
    }
    let on_cycle: Vec<usize> = (0..n).filter(|&i| left[i]).collect();
    let names: Vec<&str> = on_cycle.iter().take(6).map(|&i| ctx.name(i)).collect();
    let more = if on_cycle.len() > 6 { ", …" } else { "" };
    let listed = format!("{}{more}", names.join(", "));
    for &i in &on_cycle {
        let name = ctx.name(i);
        ctx.problem(i, format!(
            "{name}: it is part of a loop ({listed}): data must flow one way from Input to Output; delete one wire of the loop"
        ));
        ctx.broken[i] = true;
    }
}
