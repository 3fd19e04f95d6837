//! Compiling a design into a libtorch network: burn's "config, then init". Each node becomes a
//! layer (see [`super::layer`]) holding indices into the [`ParamStore`]; `forward` runs the
//! DAG in topological order.
//!
//! # Shapes
//! Images are `[n, c, h, w]`, vectors `[n, f]`, exactly as `design::infer` predicts; analysis
//! has already checked every shape, so a libtorch error here means a bug or the device (memory).

use super::error::{EngineError, TorchContext};
use super::layer::{Layer, Lowering};
use super::params::ParamStore;
use super::precision::Compute;
use crate::data::Dataset;
use crate::design::{ActivationFn, Design, Loss, NodeId, Op, Plan, Shape};
use tch::{Device, Tensor};

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
    /// Run the convolutions in channels-last (NHWC) memory format ([`channels_last_pays`]).
    /// Only the activations change layout; the parameters, their gradients, the optimizer
    /// state and every file stay in PyTorch's ordinary NCHW layout. Off while tracing for
    /// export, so exported graphs stay plain.
    pub channels_last: bool,
    /// The format the convolutions and linear layers compute in ([`super::precision`]): fp32
    /// from `compile`; a training run sets the design's precision with
    /// [`Network::set_compute`].
    pub compute: Compute,
}

/// Per-node tensors kept from one forward pass, for histograms and dead-ReLU counts.
pub struct Trace {
    /// `(node name, is ReLU, output)` for every node except Input and Output.
    pub outputs: Vec<(String, bool, Tensor)>,
}

/// Whether a conv net on image input runs faster in channels-last than in NCHW, by a rule
/// (docs/training.md):
/// - on the CPU, yes: oneDNN's channels-last kernels train vgg_small and resnet_mini 1.2× to
///   1.4× faster than NCHW for the same result (docs/performance.md);
/// - on a CUDA GPU, when computing in bf16 or fp16: cuDNN's tensor-core convolutions work in
///   NHWC, so NCHW activations are transposed around each of them (NVIDIA's and PyTorch's
///   channels-last guidance: AMP with channels-last is the combination they tune for). In fp32
///   a GPU stays in NCHW, as before issue 17;
/// - elsewhere (Apple's MPS), no, until measured.
///
/// `NETLOOM_CHANNELS_LAST=off` keeps NCHW everywhere, for comparing the two
/// (docs/performance.md, scripts/gpu-check.sh).
fn channels_last_pays(device: Device, compute: Compute) -> bool {
    let allowed = std::env::var("NETLOOM_CHANNELS_LAST").map_or(true, |v| v != "off");
    allowed
        && match device {
            Device::Cpu => true,
            Device::Cuda(_) => compute.kind != tch::Kind::Float,
            _ => false,
        }
}

impl Network {
    /// Sets the format the layers compute in, and with it the activations' layout
    /// ([`channels_last_pays`]).
    pub(crate) fn set_compute(&mut self, compute: Compute) {
        let convolves = self.input_shape.as_image().is_some()
            && self
                .steps
                .iter()
                .any(|s| matches!(s.layer, Layer::Conv2d { .. }));
        self.compute = compute;
        self.channels_last = convolves && channels_last_pays(self.device, compute);
    }

    /// Thaws a frozen node mid-run (gradual unfreezing): its parameters become trainable and a
    /// BatchNorm goes back to batch statistics in training. Returns the values thawed.
    pub fn thaw(&mut self, node: &str) -> u64 {
        for step in self.steps.iter_mut().filter(|s| s.name == node) {
            if let Layer::BatchNorm(bn) = &mut step.layer {
                bn.frozen = false;
            }
        }
        self.params.thaw(node)
    }

    /// Compiles `design` on `device`, initialising with the design's seed and init scheme.
    /// The design's [`Plan`] says what to build; this only lowers each step to a layer.
    pub fn compile(design: &Design, device: Device) -> Result<Network, EngineError> {
        let plan = Plan::of(design)?;
        // Seeding and drawing the initial weights as one, so another thread's draws can't
        // slip in between (a Learn lesson's probe while a run compiles).
        let _rng = crate::data::rng::libtorch_lock();
        tch::manual_seed(design.training.seed as i64);
        let _guard = tch::no_grad_guard();
        let init = design.training.init;
        let mut params = ParamStore::default();
        let mut steps: Vec<Step> = Vec::with_capacity(plan.steps.len());
        for step in &plan.steps {
            let node = step.node;
            let name = node.name.as_str();
            let layer = match &node.op {
                Op::Input(_) => Layer::Input,
                Op::Output(_) => Layer::Output,
                op => {
                    let mut to = Lowering {
                        params: &mut params,
                        name,
                        train: !node.frozen,
                        init,
                        device,
                    };
                    Layer::lower(op, step.in_shape, &mut to)
                }
            };
            if let Some(m) = node.lr_mult {
                params.set_lr_mult(name, m);
            }
            steps.push(Step {
                id: node.id,
                name: name.to_owned(),
                layer,
                inputs: step.inputs.clone(),
            });
        }
        let (input_shape, output_shape, loss) = (plan.input, plan.output, plan.loss);
        let mut net = Network {
            steps,
            params,
            input_shape,
            output_shape,
            loss,
            device,
            channels_last: false,
            compute: Compute::FP32,
        };
        net.set_compute(Compute::FP32);
        Ok(net)
    }

    /// Runs the network on a batch; `train` selects BatchNorm/Dropout behaviour. When `trace`
    /// is given, every hidden node's output is kept in it.
    pub fn forward(
        &self,
        x: &Tensor,
        train: bool,
        mut trace: Option<&mut Trace>,
    ) -> Result<Tensor, EngineError> {
        // The same values with NHWC strides (tch has no memory-format argument; this is what
        // `x.contiguous(memory_format=torch.channels_last)` does). Every layer after a
        // channels-last convolution keeps that layout; Flatten copies back to NCHW order.
        let nhwc;
        let x = if self.channels_last && x.dim() == 4 {
            nhwc = x
                .f_permute([0, 2, 3, 1])
                .and_then(|t| t.f_contiguous())
                .and_then(|t| t.f_permute([0, 3, 1, 2]))
                .ctx("channels-last input")?;
            &nhwc
        } else {
            x
        };
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
            let y = step
                .layer
                .run(&self.params, &step.name, x, &ins, train, self.compute)?;
            if matches!(step.layer, Layer::Output) {
                result = Some(y.shallow_clone());
            } else if !matches!(step.layer, Layer::Input)
                && let Some(t) = trace.as_deref_mut()
            {
                let relu =
                    matches!(&step.layer, Layer::Activation(a) if a.function == ActivationFn::Relu);
                // Histograms and dead-unit counts read fp32 (an fp32 output is kept uncopied).
                let kept = y.f_to_kind(tch::Kind::Float).ctx("keeping an output")?;
                t.outputs.push((step.name.clone(), relu, kept));
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
        result.ok_or(EngineError::NoInputOrOutput)
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

/// Checks that `data` can train `design`, compiled as `net` ([`crate::data::fit`], the one
/// rule, on the shapes the network already has).
pub fn check_against_data(
    design: &Design,
    net: &Network,
    data: &Dataset,
) -> Result<(), EngineError> {
    crate::data::fit::check_shapes(design, Some(net.input_shape), Some(net.output_shape), data)
        .map_err(EngineError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::Precision;

    #[test]
    fn channels_last_runs_on_the_cpu_and_on_cuda_in_16_bit_only() {
        let bf16 = Compute {
            kind: tch::Kind::BFloat16,
            asked: Precision::Auto,
        };
        assert!(channels_last_pays(Device::Cpu, Compute::FP32));
        assert!(channels_last_pays(Device::Cpu, bf16));
        assert!(!channels_last_pays(Device::Cuda(0), Compute::FP32));
        assert!(channels_last_pays(Device::Cuda(0), bf16));
        assert!(!channels_last_pays(Device::Mps, bf16));
    }
}
