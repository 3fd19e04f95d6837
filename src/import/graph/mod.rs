//! ONNX nodes to netloom nodes: each supported op normalised to the block PyTorch would
//! have (Clip to ReLU6 or Hardtanh, Gemm to Linear, `x·sigmoid(x)` to SiLU), constants and
//! inference-time no-ops (Identity, Dropout) folded away, every weight renamed to the node it
//! belongs to.

mod attrs;
mod channels_last;
mod dense;
mod fold;
mod gates;
mod input;
mod layers;
mod shapes;

use super::names::{Namer, module_path};
use super::tensors::{Array, Values, read};
use super::{ImportError, Report, Unsupported};
use crate::design::{
    ActivationFn, AdaptivePool2d, Design, Flatten, Loss, NodeId, Op, OutputOp, Pair,
};
use crate::onnx_proto::{GraphProto, NodeProto};
use attrs::{attr, attr_int, short};
use gates::find_gates;
use input::graph_input;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The ONNX op types netloom reads.
pub const SUPPORTED: &[&str] = &[
    "Conv",
    "ConvTranspose",
    "Resize",
    "BatchNormalization",
    "Relu",
    "LeakyRelu",
    "Elu",
    "Selu",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "HardSigmoid",
    "HardSwish",
    "Clip",
    "Gelu",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Flatten",
    "Gemm",
    "Add",
    "Mul",
    "Concat",
    "Dropout",
    "Identity",
    "Constant",
    "Shape",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Reshape",
    "ReduceMean",
    "Cast",
    "Pad",
    "LayerNormalization",
    "MatMul",
    // A computed tensor's Transpose to channels-last and back (LayerNorm2d, ConvNeXt's
    // pointwise Linear layers); any Transpose of constants.
    "Transpose",
    // Read only when their inputs are constants (fold::CONSTANT_ONLY).
    "Sub",
    "Div",
    "ConstantOfShape",
    "Slice",
];

/// One entry of a shape being computed in the graph: the batch size (symbolic: the graph
/// may take any) or a fixed size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dim {
    Batch,
    Fixed(i64),
}

/// What a graph value is while the graph is read.
#[derive(Clone, Debug)]
enum Value {
    /// A netloom node's output, with its rank on the batched tensor.
    Node(NodeId, usize),
    /// A constant.
    Const(Array),
    /// A shape computed in the graph (from `Shape`), and whether it is a scalar.
    Shape(Vec<Dim>, bool),
    /// A node's image zero-padded by `Pad` (height, width), waiting for the convolution it
    /// is folded into.
    Padded(NodeId, [u64; 2]),
    /// A node's image transposed to channels-last (`[n, h, w, c]`): netloom's node keeps NCHW,
    /// and ops over the last axis (LayerNorm, MatMul, activations) read it as channels.
    ChannelsLast(NodeId),
}

/// The weights and report gathered with the design.
pub struct Built {
    pub design: Design,
    pub weights: Vec<(String, Array)>,
}

struct Reader<'a> {
    design: Design,
    values: HashMap<String, Value>,
    weights: Vec<(String, Array)>,
    namer: Namer,
    report: &'a mut Report,
    opset: i64,
    /// Mul nodes that complete `x · gate(x)`: their index → the activation and `x`.
    fused: HashMap<usize, (ActivationFn, String)>,
    /// Gate outputs absorbed into a fused activation.
    absorbed: std::collections::HashSet<String>,
    /// MatMul outputs whose node has no bias yet: an `Add` of a constant after it is the bias.
    biasless: HashMap<String, (NodeId, String)>,
    /// How many nodes read each value (the graph's output counting as one).
    reads: HashMap<String, usize>,
    /// The file's constant a folded constant was computed from by a transpose, cast, reshape
    /// or Identity (`/block.3/Transpose_output_0` ← `block.3.weight`): what the report names.
    origins: HashMap<String, String>,
    /// The batch size when the graph's input fixes it (a shape may then name it).
    fixed_batch: Option<i64>,
}

/// Checks that every op is one netloom reads: the unsupported ones, each with how many there
/// are and the first node, all at once.
pub fn check_ops(graph: &GraphProto) -> Result<(), ImportError> {
    let mut missing: BTreeMap<String, (usize, String)> = BTreeMap::new();
    // Parts of a fused activation (GELU's Erf and Div) are read as that activation.
    let (_, absorbed) = find_gates(graph);
    // Which values are constants: an op netloom only computes on constants is unsupported
    // where it reads a computed tensor.
    let mut constant: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    for n in &graph.node {
        let all_constant = n
            .input
            .iter()
            .all(|i| i.is_empty() || constant.contains(i.as_str()));
        // A shape is known when the graph is read (the batch left symbolic): arithmetic on
        // it is folded like arithmetic on constants.
        if n.op_type == "Constant"
            || n.op_type == "Shape"
            || (fold::FOLDABLE.contains(&n.op_type.as_str()) && all_constant)
        {
            constant.extend(n.output.iter().map(String::as_str));
        }
        let part_of_fused = n.output.first().is_some_and(|o| absorbed.contains(o));
        let known = part_of_fused
            || (n.domain_is_default()
                && SUPPORTED.contains(&n.op_type.as_str())
                && (all_constant || !fold::CONSTANT_ONLY.contains(&n.op_type.as_str())));
        if !known {
            let key = if n.domain_is_default() {
                n.op_type.clone()
            } else {
                format!("{}::{}", n.domain, n.op_type)
            };
            let e = missing.entry(key).or_insert((0, n.name.clone()));
            e.0 += 1;
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(ImportError::Unsupported(
        missing
            .into_iter()
            .map(|(op_type, (count, first))| Unsupported {
                op_type,
                count,
                first_node: first,
            })
            .collect(),
    ))
}

trait Domain {
    fn domain_is_default(&self) -> bool;
}

impl Domain for NodeProto {
    fn domain_is_default(&self) -> bool {
        self.domain.is_empty() || self.domain == "ai.onnx"
    }
}

impl Reader<'_> {
    pub(super) fn malformed(node: &NodeProto, problem: impl std::fmt::Display) -> ImportError {
        ImportError::Node {
            node: if node.name.is_empty() {
                node.op_type.clone()
            } else {
                node.name.clone()
            },
            op_type: node.op_type.clone(),
            problem: problem.to_string(),
        }
    }

    fn input(&self, n: &NodeProto, i: usize) -> Result<&Value, ImportError> {
        let name = n
            .input
            .get(i)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Self::malformed(n, format!("has no input {i}")))?;
        self.values.get(name).ok_or_else(|| {
            Self::malformed(
                n,
                format!("reads {name:?}, which no earlier node or constant gives"),
            )
        })
    }

    fn constant(&self, n: &NodeProto, i: usize) -> Result<Option<(String, Array)>, ImportError> {
        match n.input.get(i).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(name) => match self.values.get(name) {
                Some(Value::Const(a)) => Ok(Some((name.clone(), a.clone()))),
                // A shape the graph computed from fixed sizes only is a constant.
                Some(Value::Shape(dims, scalar))
                    if dims.iter().all(|d| matches!(d, Dim::Fixed(_))) =>
                {
                    let v: Vec<i64> = dims
                        .iter()
                        .map(|d| match d {
                            Dim::Fixed(v) => *v,
                            Dim::Batch => 0,
                        })
                        .collect();
                    let shape = if *scalar {
                        vec![]
                    } else {
                        vec![v.len() as i64]
                    };
                    Ok(Some((
                        name.clone(),
                        Array {
                            dims: shape,
                            values: Values::I64(v),
                        },
                    )))
                }
                Some(
                    Value::Node(..) | Value::Shape(..) | Value::Padded(..) | Value::ChannelsLast(_),
                ) => Err(Self::malformed(
                    n,
                    format!(
                        "computes its input {i} ({name:?}) in the graph; netloom reads it only as a constant (a weight)"
                    ),
                )),
                None => Err(Self::malformed(
                    n,
                    format!("reads {name:?}, which nothing gives"),
                )),
            },
        }
    }

    fn node_input(&self, n: &NodeProto, i: usize) -> Result<(NodeId, usize), ImportError> {
        match self.input(n, i)? {
            // A 1×1 squeezed on one side only waits for the second Squeeze.
            Value::Node(_, 3) => Err(Self::malformed(
                n,
                "reads a 3-d tensor, which netloom doesn't hold (only images and vectors)",
            )),
            Value::Node(id, rank) => Ok((*id, *rank)),
            Value::Const(_) | Value::Shape(..) => Err(Self::malformed(
                n,
                format!("takes a constant as input {i} where netloom needs the output of a layer"),
            )),
            Value::Padded(..) => Err(Self::malformed(
                n,
                "reads a zero-padded image; netloom folds a Pad only into the convolution (or the average pooling counting its padding) right after it",
            )),
            Value::ChannelsLast(_) => Err(Self::malformed(
                n,
                "reads an image transposed to channels-last (NHWC); netloom reads LayerNorm, MatMul, Add, Mul and activations there, then a Transpose back to NCHW",
            )),
        }
    }

    /// Adds a node named for `n` fed by `from`, and records its output.
    fn add_node(
        &mut self,
        n: &NodeProto,
        op: Op,
        from: &[NodeId],
        rank: usize,
        weight_prefix: Option<&str>,
    ) -> (NodeId, String) {
        let path = module_path(&n.name);
        let name = self.namer.name(&path, short(&n.op_type), weight_prefix);
        let id = self.design.add(name.clone(), op, [0.0; 2]);
        for (port, &src) in from.iter().enumerate() {
            self.design.connect(src, id, port as u32);
        }
        if let Some(out) = n.output.first() {
            self.values.insert(out.clone(), Value::Node(id, rank));
        }
        (id, name)
    }

    /// Takes a constant as a node's weight `suffix`, counting it as matched.
    fn weight(&mut self, node: &str, suffix: &str, source: &str, a: Array) {
        let name = format!("{node}.{suffix}");
        self.report
            .matched
            .push((source.to_owned(), name.clone(), a.dims.clone()));
        self.weights.push((name, a));
    }

    /// Computes `n` when every input is a constant (see [`fold`]); false when one isn't.
    fn fold(&mut self, n: &NodeProto) -> Result<bool, ImportError> {
        let mut ins = Vec::new();
        for (i, name) in n.input.iter().enumerate() {
            if name.is_empty() {
                ins.push(None);
                continue;
            }
            match self.values.get(name) {
                Some(Value::Const(_) | Value::Shape(..)) => match self.constant(n, i) {
                    Ok(c) => ins.push(c.map(|(_, a)| a)),
                    Err(_) => return Ok(false),
                },
                _ => return Ok(false),
            }
        }
        match fold::eval(n, &ins).map_err(|e| Self::malformed(n, e))? {
            Some(a) => {
                if let Some(out) = n.output.first() {
                    self.values.insert(out.clone(), Value::Const(a));
                }
                self.note_origin(n);
                self.report.note_folded("constant arithmetic");
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn alias(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let v = self.input(n, 0)?.clone();
        for out in n.output.iter().take(1) {
            self.values.insert(out.clone(), v.clone());
        }
        self.note_origin(n);
        Ok(())
    }

    /// Remembers which file constant `n`'s output was computed from, when it has one input.
    fn note_origin(&mut self, n: &NodeProto) {
        let one_input = n.input.iter().filter(|i| !i.is_empty()).count() == 1
            || matches!(n.op_type.as_str(), "Reshape" | "Squeeze" | "Unsqueeze");
        if let (true, Some(i), Some(out)) = (one_input, n.input.first(), n.output.first()) {
            let origin = self.origin(i).to_owned();
            self.origins.insert(out.clone(), origin);
        }
    }

    /// The name in the file of the constant `value` was computed from (itself if none).
    pub(super) fn origin<'s>(&'s self, value: &'s str) -> &'s str {
        self.origins.get(value).map_or(value, String::as_str)
    }

    fn read_node(&mut self, index: usize, n: &NodeProto, dir: &Path) -> Result<(), ImportError> {
        if let Some(out) = n.output.first()
            && self.absorbed.contains(out)
        {
            return Ok(());
        }
        let op = n.op_type.as_str();
        if fold::FOLDABLE.contains(&op) && self.fold(n)? {
            return Ok(());
        }
        match op {
            "Constant" => {
                let value = if let Some(t) = attr(n, "value").and_then(|a| a.t.as_ref()) {
                    read(t, dir)?
                } else if let Some(a) = attr(n, "value_float") {
                    Array {
                        dims: vec![],
                        values: Values::F32(vec![a.f]),
                    }
                } else if let Some(a) = attr(n, "value_floats") {
                    Array {
                        dims: vec![a.floats.len() as i64],
                        values: Values::F32(a.floats.clone()),
                    }
                } else if let Some(a) = attr(n, "value_int") {
                    Array {
                        dims: vec![],
                        values: Values::I64(vec![a.i]),
                    }
                } else if let Some(a) = attr(n, "value_ints") {
                    Array {
                        dims: vec![a.ints.len() as i64],
                        values: Values::I64(a.ints.clone()),
                    }
                } else {
                    return Err(Self::malformed(
                        n,
                        "holds no value netloom reads (a tensor, float or ints)",
                    ));
                };
                if let Some(out) = n.output.first() {
                    self.values.insert(out.clone(), Value::Const(value));
                }
                self.report.note_folded("Constant");
            }
            "Identity" => {
                self.alias(n)?;
                self.report.note_folded("Identity");
            }
            "Dropout" => {
                // At inference Dropout is the identity; its p isn't in the graph (a ratio
                // input at most), so the design gets none: add one back to train with it.
                self.alias(n)?;
                self.report
                    .note_dropped("Dropout (the identity at inference)");
            }
            "Conv" => self.conv(n)?,
            "ConvTranspose" => self.conv_transpose(n)?,
            "Resize" => self.resize(n)?,
            "BatchNormalization" => self.batch_norm(n)?,
            "Gemm" => self.gemm(n)?,
            "MaxPool" | "AveragePool" => self.pool(n)?,
            "GlobalAveragePool" => {
                let (x, rank) = self.node_input(n, 0)?;
                let op = Op::AdaptiveAvgPool2d(AdaptivePool2d {
                    output_size: Pair::Same(1),
                });
                self.add_node(n, op, &[x], rank, None);
            }
            "Flatten" => {
                let (x, rank) = self.node_input(n, 0)?;
                let axis = attr_int(n, "axis", 1);
                if axis != 1 && axis != 1 - rank as i64 {
                    return Err(Self::malformed(
                        n,
                        format!(
                            "flattens from axis {axis}; netloom's Flatten keeps the batch axis alone (axis 1)"
                        ),
                    ));
                }
                self.add_node(n, Op::Flatten(Flatten {}), &[x], 2, None);
            }
            "Shape" => self.shape(n)?,
            "Gather" => self.gather(n)?,
            "Slice" => self.slice_shape(n)?,
            "Unsqueeze" => self.unsqueeze(n)?,
            "Squeeze" => self.squeeze(n)?,
            "Reshape" => self.reshape(n)?,
            "ReduceMean" => self.reduce_mean(n)?,
            "Cast" => self.cast(n)?,
            "Pad" => self.pad(n)?,
            "Concat" if !matches!(self.input(n, 0)?, Value::Node(..)) => self.concat_shapes(n)?,
            "Transpose" => self.transpose(n)?,
            "LayerNormalization" => self.layer_norm(n)?,
            "MatMul" => self.matmul(n)?,
            "Add" | "Mul" if !self.fused.contains_key(&index) && self.merge_with_constant(n)? => {}
            "Add" | "Mul" | "Concat" => self.merge(index, n)?,
            _ => self.activation(n)?,
        }
        Ok(())
    }
}

/// How many nodes read each value; the graph's outputs count as read.
fn reads(graph: &GraphProto) -> HashMap<String, usize> {
    let mut reads: HashMap<String, usize> = HashMap::new();
    for name in graph
        .node
        .iter()
        .flat_map(|n| &n.input)
        .chain(graph.output.iter().map(|o| &o.name))
    {
        *reads.entry(name.clone()).or_default() += 1;
    }
    reads
}

/// Reads the graph into a design: Input, the nodes, Output.
pub fn build(
    graph: &GraphProto,
    opset: i64,
    dir: &Path,
    report: &mut Report,
) -> Result<Built, ImportError> {
    let mut values: HashMap<String, Value> = HashMap::new();
    for t in &graph.initializer {
        values.insert(t.name.clone(), Value::Const(read(t, dir)?));
    }
    let (input_name, input_op, rank, fixed_batch) = graph_input(graph, &values)?;
    let paths: Vec<Vec<String>> = graph.node.iter().map(|n| module_path(&n.name)).collect();
    let mut namer = Namer::new(paths.iter().map(Vec::as_slice));
    namer.reserve("input");
    namer.reserve("output");
    let mut design = Design::default();
    let input_id = design.add("input", Op::Input(input_op), [0.0; 2]);
    values.insert(input_name, Value::Node(input_id, rank));
    let (fused, absorbed) = find_gates(graph);
    let mut r = Reader {
        design,
        values,
        weights: Vec::new(),
        namer,
        report,
        opset,
        fused,
        absorbed,
        biasless: HashMap::new(),
        reads: reads(graph),
        origins: HashMap::new(),
        fixed_batch,
    };
    for (i, n) in graph.node.iter().enumerate() {
        r.read_node(i, n, dir)?;
    }
    let [output] = graph.output.as_slice() else {
        return Err(ImportError::Malformed {
            problem: format!(
                "the graph has {} outputs; netloom imports networks with one",
                graph.output.len()
            ),
        });
    };
    let Some(Value::Node(last, out_rank)) = r.values.get(&output.name).cloned() else {
        return Err(ImportError::Malformed {
            problem: format!(
                "the output {:?} is not computed from the input",
                output.name
            ),
        });
    };
    let loss = if out_rank == 2 {
        Loss::CrossEntropy
    } else {
        Loss::Mse
    };
    let out = r
        .design
        .add("output", Op::Output(OutputOp { loss }), [0.0; 2]);
    r.design.connect(last, out, 0);
    // Constants no node took as a weight (a Clip's bounds, a folded shape) are reported.
    let used: std::collections::HashSet<&str> = r
        .report
        .matched
        .iter()
        .map(|(s, _, _)| s.as_str())
        .collect();
    let unused: Vec<String> = graph
        .initializer
        .iter()
        .filter(|t| !used.contains(t.name.as_str()))
        .map(|t| t.name.clone())
        .collect();
    r.report.unused_constants = unused;
    Ok(Built {
        design: r.design,
        weights: r.weights,
    })
}
