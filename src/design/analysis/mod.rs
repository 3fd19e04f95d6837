//! Analysing a whole design: structure checks, topological order, shapes, costs and every
//! problem at once.
//!
//! The canvas calls [`analyse`] after every edit, so it must stay well under a millisecond for
//! a thousand nodes (see benches/analyse.rs) and must never panic, whatever the design.

mod structure;

use super::graph::{Design, NodeId};
use super::infer::{Incoming, infer};
use super::op::Op;
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
    // torchvision's weights map onto a design by name. A hyphen may follow, as in RegNet's
    // `trunk_output.block1.block1-0` (a ModuleDict key in the exported Python).
    matches!(name.chars().next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && name.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with('-')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
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
///
/// ```
/// use netloom::design::{analyse, templates};
/// let lenet = templates::template("lenet", [1, 28, 28], 10).unwrap();
/// let a = analyse(&lenet);
/// assert!(a.problems.is_empty());
/// assert_eq!(a.order.len(), lenet.nodes.len());
/// // Every node's output shape is known; the Output's input is the class scores.
/// let head = lenet.output_source().unwrap();
/// assert_eq!(a.report(head.id).unwrap().output.unwrap().to_string(), "10");
/// ```
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
    structure::check_nodes(&mut ctx);
    structure::check_edges(&mut ctx);
    structure::check_wiring(&mut ctx);
    let order = structure::topological_order(&mut ctx);
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
