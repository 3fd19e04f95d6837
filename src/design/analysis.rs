//! Analysing a whole design: structure checks, topological order, shapes, costs and every
//! problem at once.
//!
//! The canvas calls [`analyse`] after every edit, so it must stay well under a millisecond for
//! a thousand nodes (see benches/analyse.rs) and must never panic, whatever the design.

use super::graph::{Design, NodeId};
use super::infer::{Incoming, infer};
use super::op::{Arity, Op};
use super::shape::Shape;
use std::collections::HashMap;
use std::fmt;

/// Shapes and costs of one node, in the order of `Design::nodes`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeReport {
    /// The node's id.
    pub id: NodeId,
    /// The node's name.
    pub name: String,
    /// The PyTorch-style kind, e.g. `Conv2d` or `ReLU`.
    pub kind: &'static str,
    /// The output shape, when it could be inferred.
    pub output: Option<Shape>,
    /// Trainable parameters.
    pub params: u64,
    /// Multiply-adds per sample.
    pub macs: u64,
    /// Bytes of the f32 output activation per sample.
    pub activation_bytes: u64,
}

/// One thing wrong with a design, worded for a learner and tied to a node where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The node the problem is about; None for design-wide problems (e.g. no Input).
    pub node: Option<NodeId>,
    /// The full sentence, starting with the node's name when there is one.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Sums over the nodes whose shapes are known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Trainable parameters.
    pub params: u64,
    /// Multiply-adds per sample.
    pub macs: u64,
    /// Bytes of all f32 activations per sample.
    pub activation_bytes: u64,
}

/// Everything the UI and the CLI show about a design.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Analysis {
    /// One report per node, in `Design::nodes` order.
    pub nodes: Vec<NodeReport>,
    /// Every problem, in a stable order.
    pub problems: Vec<Problem>,
    /// Node ids in execution order (only nodes not caught in a cycle).
    pub order: Vec<NodeId>,
    /// Sums over all nodes.
    pub totals: Totals,
    /// Position in `nodes` by id, for constant-time look-ups from the UI.
    index: HashMap<NodeId, usize>,
}

impl Design {
    /// The shape of the samples the design's Input takes, when it has a valid one.
    pub fn input_shape(&self) -> Option<Shape> {
        let id = self.nodes.iter().find(|n| matches!(n.op, Op::Input(_)))?.id;
        analyse(self).report(id)?.output
    }

    /// The classifier head: the last Linear in execution order (`analysis` is this design's),
    /// with its name and width. Replacing the head for new classes changes this node.
    pub fn head(&self, analysis: &Analysis) -> Option<(NodeId, String, u64)> {
        analysis.order.iter().rev().find_map(|&id| {
            let n = self.node(id)?;
            match &n.op {
                Op::Linear(l) => Some((id, n.name.clone(), l.out_features)),
                _ => None,
            }
        })
    }
}

impl Analysis {
    /// True when the design can be compiled and trained.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report of one node.
    pub fn report(&self, id: NodeId) -> Option<&NodeReport> {
        self.index.get(&id).and_then(|&i| self.nodes.get(i))
    }

    /// Every node's report in execution order, then the nodes that could not be ordered
    /// (those on or behind a cycle) in design order: the order tables list them in.
    pub fn in_execution_order(&self) -> Vec<&NodeReport> {
        let mut listed = vec![false; self.nodes.len()];
        let mut out = Vec::with_capacity(self.nodes.len());
        for id in &self.order {
            if let Some(&i) = self.index.get(id)
                && !listed[i]
            {
                listed[i] = true;
                out.push(&self.nodes[i]);
            }
        }
        out.extend(
            self.nodes
                .iter()
                .zip(&listed)
                .filter(|(_, l)| !**l)
                .map(|(r, _)| r),
        );
        out
    }

    /// The problems tied to one node.
    pub fn problems_of(&self, id: NodeId) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.node == Some(id))
    }
}

/// The longest node name, in characters: far past any module path PyTorch writes
/// (`layer4.1.downsample.0`), short enough for every table, message and file that shows it.
pub const MAX_NAME_CHARS: usize = 128;

/// Whether `name` can be a node name: an identifier, so that `name.weight` is a valid
/// state-dict key and a valid Python attribute in exported code, and not over
/// [`MAX_NAME_CHARS`].
pub fn is_valid_name(name: &str) -> bool {
    if name.len() > MAX_NAME_CHARS {
        return false;
    }
    // Dots separate module paths as in PyTorch's state dicts (`layer1.0.conv1`), so that
    // torchvision's weights map onto a design by name.
    matches!(name.chars().next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && name.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// Working state of one analysis.
struct Ctx<'d> {
    design: &'d Design,
    /// Node index by id (first node wins on duplicate ids).
    index: HashMap<NodeId, usize>,
    /// Incoming (port, source index) per node, sorted by port.
    incoming: Vec<Vec<(u32, usize)>>,
    /// Outgoing target indices per node.
    outgoing: Vec<Vec<usize>>,
    /// Nodes whose wiring is broken, so inference is skipped (no cascaded errors).
    broken: Vec<bool>,
    problems: Vec<Problem>,
}

impl<'d> Ctx<'d> {
    fn name(&self, i: usize) -> &'d str {
        self.design.nodes.get(i).map_or("?", |n| n.name.as_str())
    }

    fn problem(&mut self, i: usize, message: String) {
        let node = self.design.nodes.get(i).map(|n| n.id);
        self.problems.push(Problem { node, message });
    }

    fn global(&mut self, message: String) {
        self.problems.push(Problem {
            node: None,
            message,
        });
    }
}

/// Analyses a design: shapes, parameter and MAC counts, and all problems at once.
pub fn analyse(design: &Design) -> Analysis {
    let n = design.nodes.len();
    let mut ctx = Ctx {
        design,
        index: HashMap::with_capacity(n),
        incoming: vec![Vec::new(); n],
        outgoing: vec![Vec::new(); n],
        broken: vec![false; n],
        problems: Vec::new(),
    };
    check_nodes(&mut ctx);
    check_edges(&mut ctx);
    check_wiring(&mut ctx);
    let order = topological_order(&mut ctx);
    let mut nodes = infer_all(&mut ctx, &order);
    for msg in design.training.problems() {
        ctx.global(msg);
    }
    if let Some(msg) = design.data.preprocessing.problem() {
        ctx.global(msg);
    }
    for msg in design.data.augmentation.iter().filter_map(|a| a.problem()) {
        ctx.global(msg);
    }
    let mut totals = Totals::default();
    for r in &mut nodes {
        totals.params = totals.params.saturating_add(r.params);
        totals.macs = totals.macs.saturating_add(r.macs);
        totals.activation_bytes = totals.activation_bytes.saturating_add(r.activation_bytes);
    }
    let batch = design.training.batch_size.max(1);
    if let Some((i, message)) = super::memory::too_big(design, &nodes, batch) {
        ctx.problem(i, message);
    }
    Analysis {
        nodes,
        problems: ctx.problems,
        order: order
            .iter()
            .filter_map(|&i| design.nodes.get(i).map(|n| n.id))
            .collect(),
        totals,
        index: ctx.index,
    }
}

/// Names, ids, and exactly one Input and one Output.
fn check_nodes(ctx: &mut Ctx<'_>) {
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
                "{shown}: a name must start with a letter or _ and hold only letters, digits, _ and dots between parts (like conv1 or layer1.0.conv1), because it prefixes the weights' names"
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
fn check_edges(ctx: &mut Ctx<'_>) {
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
fn check_wiring(ctx: &mut Ctx<'_>) {
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
fn topological_order(ctx: &mut Ctx<'_>) -> Vec<usize> {
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

/// Runs shape inference in execution order.
fn infer_all(ctx: &mut Ctx<'_>, order: &[usize]) -> Vec<NodeReport> {
    let design = ctx.design;
    let mut outputs: Vec<Option<Shape>> = vec![None; design.nodes.len()];
    let mut reports: Vec<NodeReport> = design
        .nodes
        .iter()
        .map(|node| NodeReport {
            id: node.id,
            name: node.name.clone(),
            kind: node.op.kind_name(),
            output: None,
            params: 0,
            macs: 0,
            activation_bytes: 0,
        })
        .collect();
    for &i in order {
        if ctx.broken[i] {
            continue;
        }
        let incoming: Option<Vec<Incoming<'_>>> = ctx.incoming[i]
            .iter()
            .map(|&(_, s)| outputs[s].as_ref().map(|shape| (ctx.name(s), shape)))
            .collect();
        // A missing input means an upstream node already has a problem; don't pile on.
        let Some(incoming) = incoming else { continue };
        let node = &design.nodes[i];
        let result = infer(&node.op, &incoming);
        drop(incoming);
        match result {
            Ok(cost) => {
                let r = &mut reports[i];
                r.params = cost.params;
                r.macs = cost.macs;
                r.activation_bytes = cost.output.numel().saturating_mul(4);
                r.output = Some(cost.output);
                outputs[i] = Some(cost.output);
            }
            Err(msg) => ctx.problem(i, format!("{}: {msg}", node.name)),
        }
    }
    reports
}
