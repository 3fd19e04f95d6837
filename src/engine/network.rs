//! Compiling a design into a libtorch network: burn's "config, then init". Each node becomes a
//! [`Layer`] holding indices into the [`ParamStore`]; `forward` runs the DAG in topological order.
//!
//! # Shapes
//! Images are `[n, c, h, w]`, vectors `[n, f]`, exactly as `design::infer` predicts; analysis
//! has already checked every shape, so a libtorch error here means a bug or the device (memory).

use super::error::{EngineError, TorchContext};
use super::params::ParamStore;
use crate::data::Dataset;
use crate::design::{
    Activation, ActivationFn, Design, Init, Loss, NodeId, Op, Pair, Shape, analyse,
};
use std::collections::HashMap;
use tch::{Device, Kind, Tensor};

fn pair(p: Pair) -> [i64; 2] {
    [p.h() as i64, p.w() as i64]
}

/// One node lowered to tensors.
#[derive(Debug)]
enum Layer {
    Input,
    Conv2d {
        weight: usize,
        bias: Option<usize>,
        stride: [i64; 2],
        padding: [i64; 2],
        dilation: [i64; 2],
        groups: i64,
    },
    MaxPool2d {
        kernel: [i64; 2],
        stride: [i64; 2],
        padding: [i64; 2],
        ceil: bool,
    },
    AvgPool2d {
        kernel: [i64; 2],
        stride: [i64; 2],
        padding: [i64; 2],
        ceil: bool,
    },
    AdaptiveAvgPool2d([i64; 2]),
    BatchNorm {
        affine: Option<(usize, usize)>,
        mean: usize,
        var: usize,
        tracked: usize,
        momentum: f64,
        eps: f64,
        /// Frozen: always eval mode.
        frozen: bool,
    },
    Dropout(f64),
    Dropout2d(f64),
    Activation(Activation),
    Flatten,
    Linear {
        weight: usize,
        bias: Option<usize>,
    },
    Add,
    Concat,
    Output,
}

/// One node in execution order.
#[derive(Debug)]
struct Step {
    id: NodeId,
    name: String,
    layer: Layer,
    /// Positions in the step list of this node's inputs, by port.
    inputs: Vec<usize>,
}

/// A compiled design.
#[derive(Debug)]
pub struct Network {
    steps: Vec<Step>,
    /// Every named tensor.
    pub params: ParamStore,
    /// The Input node's per-sample shape.
    pub input_shape: Shape,
    /// The Output node's per-sample shape (what the loss sees).
    pub output_shape: Shape,
    /// The loss.
    pub loss: Loss,
    /// Where the tensors live.
    pub device: Device,
}

/// Per-node tensors kept from one forward pass, for histograms and dead-ReLU counts.
pub struct Trace {
    /// `(node name, is ReLU, output)` for every node except Input and Output.
    pub outputs: Vec<(String, bool, Tensor)>,
}

fn uniform(shape: &[i64], bound: f64, device: Device) -> Tensor {
    let mut t = Tensor::empty(shape, (Kind::Float, device));
    let _ = t.uniform_(-bound, bound);
    t
}

/// Creates weight (and bias) with the chosen initialisation. `fan_in`/`fan_out` as PyTorch's
/// `_calculate_fan_in_and_fan_out`.
fn init_weight(
    shape: &[i64],
    fan_in: i64,
    fan_out: i64,
    init: Init,
    device: Device,
) -> (Tensor, Tensor) {
    let bias_shape = &shape[..1];
    let fan_in_f = fan_in.max(1) as f64;
    match init {
        // kaiming_uniform_(a=√5) → bound 1/√fan_in; bias U(±1/√fan_in).
        Init::Pytorch => {
            let b = 1.0 / fan_in_f.sqrt();
            (uniform(shape, b, device), uniform(bias_shape, b, device))
        }
        Init::Kaiming => {
            let std = (2.0 / fan_in_f).sqrt();
            let w = Tensor::randn(shape, (Kind::Float, device)) * std;
            (w, Tensor::zeros(bias_shape, (Kind::Float, device)))
        }
        Init::Xavier => {
            let b = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
            (
                uniform(shape, b, device),
                Tensor::zeros(bias_shape, (Kind::Float, device)),
            )
        }
    }
}

impl Network {
    /// Compiles `design` on `device`, initialising with the design's seed and init scheme.
    pub fn compile(design: &Design, device: Device) -> Result<Network, EngineError> {
        let analysis = analyse(design);
        if let Some(first) = analysis.problems.first() {
            return Err(EngineError::InvalidDesign {
                count: analysis.problems.len(),
                first: first.message.clone(),
            });
        }
        tch::manual_seed(design.training.seed as i64);
        let _guard = tch::no_grad_guard();
        let init = design.training.init;
        let mut params = ParamStore::default();
        let mut steps: Vec<Step> = Vec::with_capacity(analysis.order.len());
        let mut pos: HashMap<NodeId, usize> = HashMap::new();
        let mut shapes: HashMap<NodeId, Shape> = HashMap::new();
        let (mut input_shape, mut output_shape, mut loss) = (None, None, Loss::CrossEntropy);
        for &id in &analysis.order {
            let (Some(node), Some(report)) = (design.node(id), analysis.report(id)) else {
                continue;
            };
            let mut incoming: Vec<_> = design.edges.iter().filter(|e| e.to == id).collect();
            incoming.sort_by_key(|e| e.port);
            let inputs: Vec<usize> = incoming
                .iter()
                .filter_map(|e| pos.get(&e.from).copied())
                .collect();
            let in_shape = incoming.first().and_then(|e| shapes.get(&e.from)).copied();
            let name = node.name.as_str();
            // A frozen node's parameters get no gradient and stay out of the optimizer.
            let train = !node.frozen;
            let layer = match &node.op {
                Op::Input(_) => {
                    input_shape = report.output;
                    Layer::Input
                }
                Op::Conv2d(c) => {
                    let cin = in_shape
                        .and_then(|s| s.dims().first().copied())
                        .unwrap_or(1) as i64;
                    let [kh, kw] = pair(c.kernel_size);
                    let groups = c.groups.max(1) as i64;
                    let shape = [c.out_channels as i64, cin / groups, kh, kw];
                    let (w, b) = init_weight(
                        &shape,
                        cin / groups * kh * kw,
                        c.out_channels as i64 * kh * kw,
                        init,
                        device,
                    );
                    let weight = params.push(name, "weight", w, train);
                    let bias = c.bias.then(|| params.push(name, "bias", b, train));
                    Layer::Conv2d {
                        weight,
                        bias,
                        stride: pair(c.stride),
                        padding: pair(c.padding),
                        dilation: pair(c.dilation),
                        groups,
                    }
                }
                Op::MaxPool2d(p) => Layer::MaxPool2d {
                    kernel: pair(p.kernel_size),
                    stride: pair(p.effective_stride()),
                    padding: pair(p.padding),
                    ceil: p.ceil_mode,
                },
                Op::AvgPool2d(p) => Layer::AvgPool2d {
                    kernel: pair(p.kernel_size),
                    stride: pair(p.effective_stride()),
                    padding: pair(p.padding),
                    ceil: p.ceil_mode,
                },
                Op::AdaptiveAvgPool2d(p) => Layer::AdaptiveAvgPool2d(pair(p.output_size)),
                Op::BatchNorm(b) => {
                    let c = in_shape
                        .and_then(|s| s.dims().first().copied())
                        .unwrap_or(1) as i64;
                    let opts = (Kind::Float, device);
                    // PyTorch's reset_parameters: weight 1, bias 0 (tch's default weight is U(0,1)).
                    let affine = b.affine.then(|| {
                        (
                            params.push(name, "weight", Tensor::ones([c], opts), train),
                            params.push(name, "bias", Tensor::zeros([c], opts), train),
                        )
                    });
                    let mean = params.push(name, "running_mean", Tensor::zeros([c], opts), false);
                    let var = params.push(name, "running_var", Tensor::ones([c], opts), false);
                    let tracked = params.push(
                        name,
                        "num_batches_tracked",
                        ParamStore::scalar_i64(device),
                        false,
                    );
                    Layer::BatchNorm {
                        affine,
                        mean,
                        var,
                        tracked,
                        momentum: b.momentum,
                        eps: b.eps,
                        frozen: node.frozen,
                    }
                }
                Op::Dropout(d) => Layer::Dropout(d.p),
                Op::Dropout2d(d) => Layer::Dropout2d(d.p),
                Op::Activation(a) => Layer::Activation(a.clone()),
                Op::Flatten(_) => Layer::Flatten,
                Op::Linear(l) => {
                    let fin = in_shape.map(|s| s.numel()).unwrap_or(1) as i64;
                    let shape = [l.out_features as i64, fin];
                    let (w, b) = init_weight(&shape, fin, l.out_features as i64, init, device);
                    let weight = params.push(name, "weight", w, train);
                    let bias = l.bias.then(|| params.push(name, "bias", b, train));
                    Layer::Linear { weight, bias }
                }
                Op::Add(_) => Layer::Add,
                Op::Concat(_) => Layer::Concat,
                Op::Output(o) => {
                    output_shape = in_shape;
                    loss = o.loss;
                    Layer::Output
                }
            };
            if let Some(m) = node.lr_mult {
                params.set_lr_mult(name, m);
            }
            if let Some(s) = report.output {
                shapes.insert(id, s);
            }
            pos.insert(id, steps.len());
            steps.push(Step {
                id,
                name: name.to_owned(),
                layer,
                inputs,
            });
        }
        let (Some(input_shape), Some(output_shape)) = (input_shape, output_shape) else {
            return Err(EngineError::Mismatch(
                "the design needs one Input and one Output".to_owned(),
            ));
        };
        Ok(Network {
            steps,
            params,
            input_shape,
            output_shape,
            loss,
            device,
        })
    }

    /// Runs the network on a batch; `train` selects BatchNorm/Dropout behaviour. When `trace`
    /// is given, every hidden node's output is kept in it.
    pub fn forward(
        &self,
        x: &Tensor,
        train: bool,
        mut trace: Option<&mut Trace>,
    ) -> Result<Tensor, EngineError> {
        // Free each output after its last consumer, so memory follows the live set.
        let mut last_use = vec![0usize; self.steps.len()];
        for (i, s) in self.steps.iter().enumerate() {
            for &j in &s.inputs {
                last_use[j] = i;
            }
        }
        let mut outs: Vec<Option<Tensor>> = Vec::with_capacity(self.steps.len());
        let mut result = None;
        for (i, step) in self.steps.iter().enumerate() {
            let ins: Vec<&Tensor> = step
                .inputs
                .iter()
                .filter_map(|&j| outs.get(j).and_then(Option::as_ref))
                .collect();
            let y = self.run_layer(step, x, &ins, train)?;
            if matches!(step.layer, Layer::Output) {
                result = Some(y.shallow_clone());
            } else if !matches!(step.layer, Layer::Input)
                && let Some(t) = trace.as_deref_mut()
            {
                let relu =
                    matches!(&step.layer, Layer::Activation(a) if a.function == ActivationFn::Relu);
                t.outputs.push((step.name.clone(), relu, y.shallow_clone()));
            }
            outs.push(Some(y));
            for &j in &step.inputs {
                if last_use[j] == i
                    && let Some(slot) = outs.get_mut(j)
                {
                    *slot = None;
                }
            }
        }
        result.ok_or_else(|| EngineError::Mismatch("the design has no Output".to_owned()))
    }

    fn run_layer(
        &self,
        step: &Step,
        x: &Tensor,
        ins: &[&Tensor],
        train: bool,
    ) -> Result<Tensor, EngineError> {
        let ctx = format!("running node \"{}\"", step.name);
        let first = || -> Result<&Tensor, EngineError> {
            ins.first().copied().ok_or_else(|| {
                EngineError::Mismatch(format!("node \"{}\" has no input", step.name))
            })
        };
        let p = |i: usize| self.params.get(i);
        let y = match &step.layer {
            Layer::Input => x.shallow_clone(),
            Layer::Output => first()?.shallow_clone(),
            Layer::Conv2d {
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => first()?
                .f_conv2d(
                    p(*weight),
                    bias.map(p),
                    *stride,
                    *padding,
                    *dilation,
                    *groups,
                )
                .ctx(&ctx)?,
            Layer::MaxPool2d {
                kernel,
                stride,
                padding,
                ceil,
            } => first()?
                .f_max_pool2d(*kernel, *stride, *padding, [1, 1], *ceil)
                .ctx(&ctx)?,
            Layer::AvgPool2d {
                kernel,
                stride,
                padding,
                ceil,
            } => first()?
                .f_avg_pool2d(*kernel, *stride, *padding, *ceil, true, None)
                .ctx(&ctx)?,
            Layer::AdaptiveAvgPool2d(size) => first()?.f_adaptive_avg_pool2d(*size).ctx(&ctx)?,
            Layer::BatchNorm {
                affine,
                mean,
                var,
                tracked,
                momentum,
                eps,
                frozen,
            } => {
                // A frozen BatchNorm normalises with its running statistics and keeps them.
                let train = train && !frozen;
                if train {
                    let _guard = tch::no_grad_guard();
                    let _ = p(*tracked).shallow_clone().f_add_scalar_(1).ctx(&ctx)?;
                }
                let (w, b) = match affine {
                    Some((w, b)) => (Some(p(*w)), Some(p(*b))),
                    None => (None, None),
                };
                first()?
                    .f_batch_norm(
                        w,
                        b,
                        Some(p(*mean)),
                        Some(p(*var)),
                        train,
                        *momentum,
                        *eps,
                        true,
                    )
                    .ctx(&ctx)?
            }
            Layer::Dropout(rate) => first()?.f_dropout(*rate, train).ctx(&ctx)?,
            Layer::Dropout2d(rate) => first()?.f_feature_dropout(*rate, train).ctx(&ctx)?,
            Layer::Activation(a) => activation(first()?, a).ctx(&ctx)?,
            Layer::Flatten => first()?.f_flatten(1, -1).ctx(&ctx)?,
            Layer::Linear { weight, bias } => {
                first()?.f_linear(p(*weight), bias.map(p)).ctx(&ctx)?
            }
            Layer::Add => {
                let mut acc = first()?.shallow_clone();
                for t in ins.iter().skip(1) {
                    acc = acc.f_add(t).ctx(&ctx)?;
                }
                acc
            }
            Layer::Concat => Tensor::f_cat(ins, 1).ctx(&ctx)?,
        };
        Ok(y)
    }

    /// The node names in execution order, without Input and Output.
    pub fn hidden_nodes(&self) -> impl Iterator<Item = &str> {
        self.steps
            .iter()
            .filter(|s| !matches!(s.layer, Layer::Input | Layer::Output))
            .map(|s| s.name.as_str())
    }

    /// The names of the convolution nodes, in execution order.
    pub fn conv_nodes(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| matches!(s.layer, Layer::Conv2d { .. }))
            .map(|s| s.name.clone())
            .collect()
    }

    /// The first convolution's weight `[out, in, kh, kw]`: the filters that look at pixels.
    pub fn first_conv_weight(&self) -> Option<&Tensor> {
        self.steps.iter().find_map(|s| match s.layer {
            Layer::Conv2d { weight, .. } => Some(self.params.get(weight)),
            _ => None,
        })
    }

    /// The id of the node with this name.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.steps.iter().find(|s| s.name == name).map(|s| s.id)
    }
}

/// The non-linearities, with PyTorch's parameters (tch's `leaky_relu` and `elu` take none).
fn activation(x: &Tensor, a: &Activation) -> Result<Tensor, tch::TchError> {
    match a.function {
        ActivationFn::Relu => x.f_relu(),
        ActivationFn::LeakyRelu => {
            // x if x > 0 else slope·x, as torch.nn.functional.leaky_relu.
            let slope = a.negative_slope();
            x.f_where_self(&x.f_gt(0.0)?, &x.f_mul_scalar(slope)?)
        }
        ActivationFn::Elu => {
            // x if x > 0 else α·(eˣ − 1).
            let neg = x.f_clamp_max(0.0)?.f_expm1()?.f_mul_scalar(a.alpha())?;
            x.f_where_self(&x.f_gt(0.0)?, &neg)
        }
        ActivationFn::Selu => x.f_selu(),
        ActivationFn::Gelu => x.f_gelu("none"),
        ActivationFn::Sigmoid => x.f_sigmoid(),
        ActivationFn::Tanh => x.f_tanh(),
        ActivationFn::Silu => x.f_silu(),
        ActivationFn::Softmax => x.f_softmax(a.dim(), Kind::Float),
    }
}

/// Checks that `data` can train `net`: the Input's shape and the Output's width. The message
/// names the node to change.
pub fn check_against_data(
    design: &Design,
    net: &Network,
    data: &Dataset,
) -> Result<(), EngineError> {
    let input_name = design
        .nodes
        .iter()
        .find(|n| matches!(n.op, Op::Input(_)))
        .map_or("input", |n| n.name.as_str());
    if net.input_shape != data.shape {
        return Err(EngineError::Mismatch(format!(
            "node \"{input_name}\" takes samples of shape {} but {} has samples of shape {}: set \"{input_name}\" to {} (or pick data that fits)",
            net.input_shape, data.name, data.shape, data.shape
        )));
    }
    let classes = data.classes.len() as u64;
    let last = design
        .edges
        .iter()
        .find(|e| {
            design
                .node(e.to)
                .is_some_and(|n| matches!(n.op, Op::Output(_)))
        })
        .and_then(|e| design.node(e.from))
        .map_or("the last layer", |n| n.name.as_str());
    match net.output_shape.as_vector() {
        Some(width) if width == classes => Ok(()),
        Some(width) => Err(EngineError::Mismatch(format!(
            "node \"{last}\" gives {width} outputs but {} has {classes} classes: set \"{last}\" to {classes} outputs (out_features)",
            data.name
        ))),
        None => Err(EngineError::Mismatch(format!(
            "node \"{last}\" gives a {} tensor but classification needs one score per class: add Flatten and a Linear with {classes} outputs before the Output",
            net.output_shape
        ))),
    }
}
