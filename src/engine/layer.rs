//! One constructor per layer kind (candle-nn's habit): how each node kind is lowered to
//! tensors in the [`ParamStore`] with PyTorch's initialisation, and how it runs.
//!
//! # Shapes
//! Images are `[n, c, h, w]`, vectors `[n, f]`; the input shape given to a constructor is the
//! per-sample shape analysis inferred for the node's first input.

use super::error::{EngineError, TorchContext};
use super::params::ParamStore;
use super::precision::Compute;
use crate::design::{
    Activation, ActivationFn, BatchNorm, Conv2d, ConvTranspose2d, Init, LayerNorm, LayerScale,
    Linear, Op, Pair, Shape,
};
use tch::{Device, Kind, Tensor};

fn pair(p: Pair) -> [i64; 2] {
    [p.h() as i64, p.w() as i64]
}

/// One node lowered to tensors.
#[derive(Debug)]
pub(super) enum Layer {
    Input,
    Conv2d {
        weight: usize,
        bias: Option<usize>,
        stride: [i64; 2],
        padding: [i64; 2],
        dilation: [i64; 2],
        groups: i64,
    },
    ConvTranspose2d {
        weight: usize,
        bias: Option<usize>,
        stride: [i64; 2],
        padding: [i64; 2],
        output_padding: [i64; 2],
        dilation: [i64; 2],
        groups: i64,
    },
    /// To `size`; `scale` passed on as PyTorch's interpolate does when a scale was given.
    Upsample {
        size: [i64; 2],
        scale: Option<f64>,
        bilinear: bool,
        align_corners: bool,
    },
    /// `F.pad(x, pad)`: `[left, right, top, bottom]`, negative cuts off.
    CropPad {
        pad: [i64; 4],
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
        count_include_pad: bool,
    },
    AdaptiveAvgPool2d([i64; 2]),
    BatchNorm(BatchNormLayer),
    /// Over the channels of `[n, c, h, w]` or the features of `[n, f]`.
    Norm {
        affine: Option<(usize, usize)>,
        channels: i64,
        eps: f64,
    },
    /// `x · γ`, γ `[c, 1, 1]` for images, `[f]` for vectors.
    Scale(usize),
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
    Mul,
    Output,
}

/// A BatchNorm's tensors (indices into the store) and settings.
#[derive(Debug)]
pub(super) struct BatchNormLayer {
    affine: Option<(usize, usize)>,
    mean: usize,
    var: usize,
    tracked: usize,
    momentum: f64,
    eps: f64,
    /// Frozen: always eval mode.
    pub frozen: bool,
}

/// Where a node's tensors go while it is lowered.
pub(super) struct Lowering<'a> {
    /// The network's tensors.
    pub params: &'a mut ParamStore,
    /// The node's name: its tensors are `name.weight`, `name.bias`, …
    pub name: &'a str,
    /// False for a frozen node: its parameters get no gradient and stay out of the optimizer.
    pub train: bool,
    /// The initialisation scheme.
    pub init: Init,
    /// Where the tensors live.
    pub device: Device,
}

fn uniform(shape: &[i64], bound: f64, device: Device) -> Tensor {
    let mut t = Tensor::empty(shape, (Kind::Float, device));
    let _ = t.uniform_(-bound, bound);
    t
}

/// Creates weight (and a bias of `bias_len`) with the chosen initialisation. `fan_in`/`fan_out`
/// as PyTorch's `_calculate_fan_in_and_fan_out`.
fn init_weight(
    shape: &[i64],
    bias_len: i64,
    (fan_in, fan_out): (i64, i64),
    init: Init,
    device: Device,
) -> (Tensor, Tensor) {
    let bias_shape = &[bias_len][..];
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

/// The channels of a per-sample shape (its first dimension).
fn channels(in_shape: Option<Shape>) -> i64 {
    in_shape
        .and_then(|s| s.dims().first().copied())
        .unwrap_or(1) as i64
}

impl Layer {
    /// Lowers a node of kind `op` (not Input or Output: the network handles those).
    pub(super) fn lower(op: &Op, in_shape: Option<Shape>, to: &mut Lowering<'_>) -> Layer {
        match op {
            Op::Conv2d(c) => Layer::conv2d(c, channels(in_shape), to),
            Op::ConvTranspose2d(c) => Layer::conv_transpose2d(c, channels(in_shape), to),
            Op::Upsample(u) => {
                let (h, w) = in_shape
                    .and_then(|s| s.as_image())
                    .map_or((1, 1), |(_, h, w)| (h, w));
                let (oh, ow) = u.output_size(h, w).unwrap_or((h, w));
                Layer::Upsample {
                    size: [oh as i64, ow as i64],
                    scale: u.scale_factor,
                    bilinear: u.mode == crate::design::UpsampleMode::Bilinear,
                    align_corners: u.align_corners,
                }
            }
            Op::CropPad(p) => Layer::CropPad {
                pad: [p.left, p.right, p.top, p.bottom],
            },
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
                count_include_pad: p.count_include_pad,
            },
            Op::AdaptiveAvgPool2d(p) => Layer::AdaptiveAvgPool2d(pair(p.output_size)),
            Op::BatchNorm(b) => Layer::batch_norm(b, channels(in_shape), to),
            Op::LayerNorm(l) => Layer::layer_norm(l, channels(in_shape), to),
            Op::LayerScale(l) => Layer::layer_scale(l, in_shape, to),
            Op::Dropout(d) => Layer::Dropout(d.p),
            Op::Dropout2d(d) => Layer::Dropout2d(d.p),
            Op::Activation(a) => Layer::Activation(a.clone()),
            Op::Flatten(_) => Layer::Flatten,
            Op::Linear(l) => Layer::linear(l, in_shape.map(|s| s.numel()).unwrap_or(1) as i64, to),
            Op::Add(_) => Layer::Add,
            Op::Concat(_) => Layer::Concat,
            Op::Mul(_) => Layer::Mul,
            Op::Input(_) => Layer::Input,
            Op::Output(_) => Layer::Output,
        }
    }

    /// `torch.nn.Conv2d`: weight `[out, cin/groups, kh, kw]`, optional bias `[out]`.
    fn conv2d(c: &Conv2d, cin: i64, to: &mut Lowering<'_>) -> Layer {
        let [kh, kw] = pair(c.kernel_size);
        let groups = c.groups.max(1) as i64;
        let shape = [c.out_channels as i64, cin / groups, kh, kw];
        let (w, b) = init_weight(
            &shape,
            c.out_channels as i64,
            (cin / groups * kh * kw, c.out_channels as i64 * kh * kw),
            to.init,
            to.device,
        );
        let weight = to.params.push(to.name, "weight", w, to.train);
        let bias = c.bias.then(|| to.params.push(to.name, "bias", b, to.train));
        Layer::Conv2d {
            weight,
            bias,
            stride: pair(c.stride),
            padding: pair(c.padding),
            dilation: pair(c.dilation),
            groups,
        }
    }

    /// `torch.nn.ConvTranspose2d`: weight `[cin, out/groups, kh, kw]` (in and out swapped
    /// against Conv2d, as PyTorch keeps it), optional bias `[out]`; PyTorch's fans for that
    /// weight (fan_in from its second dimension).
    fn conv_transpose2d(c: &ConvTranspose2d, cin: i64, to: &mut Lowering<'_>) -> Layer {
        let [kh, kw] = pair(c.kernel_size);
        let groups = c.groups.max(1) as i64;
        let out = c.out_channels as i64;
        let shape = [cin, out / groups, kh, kw];
        let fans = (out / groups * kh * kw, cin * kh * kw);
        let (w, b) = init_weight(&shape, out, fans, to.init, to.device);
        let weight = to.params.push(to.name, "weight", w, to.train);
        let bias = c.bias.then(|| to.params.push(to.name, "bias", b, to.train));
        Layer::ConvTranspose2d {
            weight,
            bias,
            stride: pair(c.stride),
            padding: pair(c.padding),
            output_padding: pair(c.output_padding),
            dilation: pair(c.dilation),
            groups,
        }
    }

    /// `torch.nn.BatchNorm2d`/`1d`: affine weight and bias, running statistics and the count.
    fn batch_norm(b: &BatchNorm, c: i64, to: &mut Lowering<'_>) -> Layer {
        let (name, train) = (to.name, to.train);
        let opts = (Kind::Float, to.device);
        let params = &mut *to.params;
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
            ParamStore::scalar_i64(to.device),
            false,
        );
        Layer::BatchNorm(BatchNormLayer {
            affine,
            mean,
            var,
            tracked,
            momentum: b.momentum,
            eps: b.eps,
            frozen: !train,
        })
    }

    /// `torch.nn.LayerNorm(c)` (torchvision's `LayerNorm2d` on images): weight 1, bias 0.
    fn layer_norm(l: &LayerNorm, c: i64, to: &mut Lowering<'_>) -> Layer {
        let opts = (Kind::Float, to.device);
        let affine = l.elementwise_affine.then(|| {
            (
                to.params
                    .push(to.name, "weight", Tensor::ones([c], opts), to.train),
                to.params
                    .push(to.name, "bias", Tensor::zeros([c], opts), to.train),
            )
        });
        Layer::Norm {
            affine,
            channels: c,
            eps: l.eps,
        }
    }

    /// ConvNeXt's layer scale: one tensor named after the node itself (torchvision's
    /// `self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)`).
    fn layer_scale(l: &LayerScale, in_shape: Option<Shape>, to: &mut Lowering<'_>) -> Layer {
        let c = channels(in_shape);
        let shape: Vec<i64> = if in_shape.is_some_and(|s| s.rank() == 3) {
            vec![c, 1, 1]
        } else {
            vec![c]
        };
        let gamma = Tensor::full(shape, l.init, (Kind::Float, to.device));
        Layer::Scale(to.params.push(to.name, "", gamma, to.train))
    }

    /// `torch.nn.Linear`: weight `[out, in]`, optional bias `[out]`.
    fn linear(l: &Linear, fin: i64, to: &mut Lowering<'_>) -> Layer {
        let shape = [l.out_features as i64, fin];
        let out = l.out_features as i64;
        let (w, b) = init_weight(&shape, out, (fin, out), to.init, to.device);
        let weight = to.params.push(to.name, "weight", w, to.train);
        let bias = l.bias.then(|| to.params.push(to.name, "bias", b, to.train));
        Layer::Linear { weight, bias }
    }

    /// Runs the layer of node `name` on its inputs `ins` (the network's input `x` for Input).
    pub(super) fn run(
        &self,
        params: &ParamStore,
        name: &str,
        x: &Tensor,
        ins: &[&Tensor],
        train: bool,
        compute: Compute,
    ) -> Result<Tensor, EngineError> {
        let ctx = format!("running node \"{name}\"");
        let first = || -> Result<&Tensor, EngineError> {
            ins.first().copied().ok_or_else(|| EngineError::Unwired {
                node: name.to_owned(),
            })
        };
        let p = |i: usize| params.get(i);
        let y = match self {
            Layer::Input => x.shallow_clone(),
            // The loss and everything after it in fp32, as under autocast.
            Layer::Output => first()?.f_to_kind(Kind::Float).ctx(&ctx)?,
            Layer::Conv2d { .. } | Layer::ConvTranspose2d { .. } => {
                self.convolve(params, first()?, compute).ctx(&ctx)?
            }
            Layer::Upsample {
                size,
                scale,
                bilinear,
                align_corners,
            } => {
                let x = first()?;
                if *bilinear {
                    x.f_upsample_bilinear2d(*size, *align_corners, *scale, *scale)
                } else {
                    x.f_upsample_nearest2d(*size, *scale, *scale)
                }
                .ctx(&ctx)?
            }
            Layer::CropPad { pad } => first()?.f_constant_pad_nd(pad.as_slice()).ctx(&ctx)?,
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
                count_include_pad,
            } => first()?
                .f_avg_pool2d(*kernel, *stride, *padding, *ceil, *count_include_pad, None)
                .ctx(&ctx)?,
            Layer::AdaptiveAvgPool2d(size) => first()?.f_adaptive_avg_pool2d(*size).ctx(&ctx)?,
            Layer::BatchNorm(bn) => bn.run(params, first()?, train).ctx(&ctx)?,
            Layer::Norm {
                affine,
                channels,
                eps,
            } => {
                let (w, b) = match affine {
                    Some((w, b)) => (Some(p(*w)), Some(p(*b))),
                    None => (None, None),
                };
                layer_norm(first()?, w, b, *channels, *eps).ctx(&ctx)?
            }
            Layer::Scale(gamma) => first()?.f_mul(p(*gamma)).ctx(&ctx)?,
            Layer::Dropout(rate) => first()?.f_dropout(*rate, train).ctx(&ctx)?,
            Layer::Dropout2d(rate) => first()?.f_feature_dropout(*rate, train).ctx(&ctx)?,
            Layer::Activation(a) => activation(first()?, a).ctx(&ctx)?,
            Layer::Flatten => first()?.f_flatten(1, -1).ctx(&ctx)?,
            Layer::Linear { weight, bias } => {
                let (x, w, b) = in_format(compute, first()?, p(*weight), bias.map(p)).ctx(&ctx)?;
                x.f_linear(&w, b.as_ref()).ctx(&ctx)?
            }
            // In port order; Mul broadcasts, as `a * b` in PyTorch.
            Layer::Add | Layer::Mul => {
                let mut acc = first()?.shallow_clone();
                for t in ins.iter().skip(1) {
                    acc = if matches!(self, Layer::Add) {
                        acc.f_add(t)
                    } else {
                        acc.f_mul(t)
                    }
                    .ctx(&ctx)?;
                }
                acc
            }
            Layer::Concat => Tensor::f_cat(ins, 1).ctx(&ctx)?,
        };
        Ok(y)
    }

    /// A convolution or transposed convolution, in the run's compute format.
    fn convolve(
        &self,
        params: &ParamStore,
        x: &Tensor,
        compute: Compute,
    ) -> Result<Tensor, tch::TchError> {
        let p = |i: usize| params.get(i);
        match self {
            Layer::Conv2d {
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => {
                let (x, w, b) = in_format(compute, x, p(*weight), bias.map(p))?;
                x.f_conv2d(&w, b.as_ref(), *stride, *padding, *dilation, *groups)
            }
            Layer::ConvTranspose2d {
                weight,
                bias,
                stride,
                padding,
                output_padding,
                dilation,
                groups,
            } => {
                let (x, w, b) = in_format(compute, x, p(*weight), bias.map(p))?;
                x.f_conv_transpose2d(
                    &w,
                    b.as_ref(),
                    *stride,
                    *padding,
                    *output_padding,
                    *groups,
                    *dilation,
                )
            }
            _ => Ok(x.shallow_clone()),
        }
    }
}

impl BatchNormLayer {
    /// BatchNorm's forward: batch statistics in training (updating the running ones and the
    /// count), the running statistics in evaluation or when frozen.
    fn run(&self, params: &ParamStore, x: &Tensor, train: bool) -> Result<Tensor, tch::TchError> {
        let p = |i: usize| params.get(i);
        // A frozen BatchNorm normalises with its running statistics and keeps them.
        let train = train && !self.frozen;
        if train {
            let _guard = tch::no_grad_guard();
            let _ = p(self.tracked).shallow_clone().f_add_scalar_(1)?;
        }
        let (w, b) = match self.affine {
            Some((w, b)) => (Some(p(w)), Some(p(b))),
            None => (None, None),
        };
        x.f_batch_norm(
            w,
            b,
            Some(p(self.mean)),
            Some(p(self.var)),
            train,
            self.momentum,
            self.eps,
            true,
        )
    }
}

/// LayerNorm over dimension 1 (channels or features), in fp32 as under autocast. An image is
/// normalised channels-last, as torchvision's `LayerNorm2d` does: `[n, c, h, w]` permuted to
/// `[n, h, w, c]`, normalised over `c`, permuted back.
fn layer_norm(
    x: &Tensor,
    w: Option<&Tensor>,
    b: Option<&Tensor>,
    c: i64,
    eps: f64,
) -> Result<Tensor, tch::TchError> {
    let x = x.f_to_kind(Kind::Float)?;
    if x.dim() == 4 {
        x.f_permute([0, 2, 3, 1])?
            .f_layer_norm([c], w, b, eps, true)?
            .f_permute([0, 3, 1, 2])
    } else {
        x.f_layer_norm([c], w, b, eps, true)
    }
}

/// A convolution's or linear layer's input, weight and bias in the run's compute format
/// (themselves in fp32, as shallow copies).
fn in_format(
    compute: Compute,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
) -> Result<(Tensor, Tensor, Option<Tensor>), tch::TchError> {
    Ok((
        compute.cast(x)?,
        compute.cast(w)?,
        b.map(|b| compute.cast(b)).transpose()?,
    ))
}

/// The non-linearities, with PyTorch's parameters (tch's `leaky_relu` and `elu` take none).
pub(super) fn activation(x: &Tensor, a: &Activation) -> Result<Tensor, tch::TchError> {
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
        ActivationFn::Relu6 => x.f_relu6(),
        ActivationFn::Hardtanh => {
            // tch's hardtanh takes no bounds. The clamped value is a constant outside the open
            // interval, so the gradient is 1 strictly inside and 0 elsewhere, as PyTorch's
            // hardtanh_backward (clamp's gradient would also pass at the bounds themselves).
            let (lo, hi) = a.bounds();
            let inside = x.f_gt(lo)?.f_logical_and(&x.f_lt(hi)?)?;
            let clamped = x.f_clamp(lo, hi)?.f_detach()?;
            x.f_where_self(&inside, &clamped)
        }
        ActivationFn::Hardsigmoid => x.f_hardsigmoid(),
        ActivationFn::Hardswish => x.f_hardswish(),
    }
}
