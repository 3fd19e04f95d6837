//! The node kinds and their parameters, named as in PyTorch so that a user who knows
//! `torch.nn` reads a design file without a glossary.
//!
//! Layers are plain configuration here; turning them into tensors is the engine's job (burn's
//! "config, then init"). Every field a user may leave out has PyTorch's default.

use super::pair::Pair;
use serde::{Deserialize, Serialize};

/// What a node does. Serialised with a `type` tag: `{"type": "conv2d", "out_channels": 6, …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Op {
    /// The network's input: an image or a flat vector.
    Input(InputOp),
    /// 2-d convolution (`torch.nn.Conv2d`).
    Conv2d(Conv2d),
    /// Transposed 2-d convolution (`torch.nn.ConvTranspose2d`): the gradient of a convolution
    /// with respect to its input, used to upsample (decoders, U-Net, segmentation heads).
    ConvTranspose2d(ConvTranspose2d),
    /// Resizing an image by a scale or to a size, nearest or bilinear (`torch.nn.Upsample`).
    Upsample(Upsample),
    /// Zeros added around an image, or rows and columns cut off where negative
    /// (`F.pad(x, (left, right, top, bottom))`): what lines a skip connection up with the
    /// upsampled map it joins.
    CropPad(CropPad),
    /// Max pooling (`torch.nn.MaxPool2d`).
    MaxPool2d(Pool2d),
    /// Average pooling (`torch.nn.AvgPool2d`).
    AvgPool2d(Pool2d),
    /// Adaptive average pooling to a fixed output size (`torch.nn.AdaptiveAvgPool2d`).
    AdaptiveAvgPool2d(AdaptivePool2d),
    /// Batch normalisation: 2-d on images, 1-d on vectors.
    BatchNorm(BatchNorm),
    /// Layer normalisation of each sample on its own: over the channels at every pixel of an
    /// image (ConvNeXt's `LayerNorm2d`), over the features of a vector (`torch.nn.LayerNorm`).
    LayerNorm(LayerNorm),
    /// A learned per-channel scale (ConvNeXt's layer scale): `x · γ`, γ one value per channel.
    LayerScale(LayerScale),
    /// Element-wise dropout (`torch.nn.Dropout`).
    Dropout(Dropout),
    /// Channel-wise dropout (`torch.nn.Dropout2d`).
    Dropout2d(Dropout),
    /// A non-linearity.
    Activation(Activation),
    /// Flattens an image into a vector (`torch.nn.Flatten`).
    Flatten(Flatten),
    /// A fully connected layer (`torch.nn.Linear`).
    Linear(Linear),
    /// Element-wise sum of equal shapes: the residual connection.
    Add(Merge),
    /// Concatenation along channels (or features, for vectors).
    Concat(Merge),
    /// Element-wise product with broadcasting: the squeeze-and-excitation gate
    /// (`[C,1,1] × [C,H,W]`).
    Mul(Merge),
    /// The end of the network; carries the loss.
    Output(OutputOp),
}

/// How many incoming wires a kind of node takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// None: the Input.
    Zero,
    /// Exactly one.
    One,
    /// Two or more, ordered by port (Add, Concat, Mul).
    Many,
}

impl Op {
    /// The PyTorch-style name shown to users, e.g. `Conv2d`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Op::Input(_) => "Input",
            Op::Conv2d(_) => "Conv2d",
            Op::ConvTranspose2d(_) => "ConvTranspose2d",
            Op::Upsample(_) => "Upsample",
            Op::CropPad(_) => "CropPad",
            Op::MaxPool2d(_) => "MaxPool2d",
            Op::AvgPool2d(_) => "AvgPool2d",
            Op::AdaptiveAvgPool2d(_) => "AdaptiveAvgPool2d",
            Op::BatchNorm(_) => "BatchNorm",
            Op::LayerNorm(_) => "LayerNorm",
            Op::LayerScale(_) => "LayerScale",
            Op::Dropout(_) => "Dropout",
            Op::Dropout2d(_) => "Dropout2d",
            Op::Activation(a) => a.function.name(),
            Op::Flatten(_) => "Flatten",
            Op::Linear(_) => "Linear",
            Op::Add(_) => "Add",
            Op::Concat(_) => "Concat",
            Op::Mul(_) => "Mul",
            Op::Output(_) => "Output",
        }
    }

    /// The family the kind belongs to (what colours it in the overview).
    pub fn family(&self) -> Family {
        match self {
            Op::Input(_) | Op::Output(_) => Family::InputOutput,
            Op::Conv2d(_) | Op::ConvTranspose2d(_) => Family::Convolution,
            Op::MaxPool2d(_)
            | Op::AvgPool2d(_)
            | Op::AdaptiveAvgPool2d(_)
            | Op::Upsample(_)
            | Op::CropPad(_) => Family::Pooling,
            Op::BatchNorm(_)
            | Op::LayerNorm(_)
            | Op::LayerScale(_)
            | Op::Dropout(_)
            | Op::Dropout2d(_) => Family::Normalisation,
            Op::Activation(_) => Family::Activation,
            Op::Flatten(_) | Op::Linear(_) => Family::Dense,
            Op::Add(_) | Op::Concat(_) | Op::Mul(_) => Family::Merge,
        }
    }

    /// Whether the kind has trainable parameters as configured (what freezing applies to):
    /// Conv2d, Linear, LayerScale, and BatchNorm or LayerNorm with their scale and shift.
    pub fn learns(&self) -> bool {
        match self {
            Op::Conv2d(_) | Op::ConvTranspose2d(_) | Op::Linear(_) | Op::LayerScale(_) => true,
            Op::BatchNorm(b) => b.affine,
            Op::LayerNorm(l) => l.elementwise_affine,
            _ => false,
        }
    }

    /// How many inputs this node takes.
    pub fn arity(&self) -> Arity {
        match self {
            Op::Input(_) => Arity::Zero,
            Op::Add(_) | Op::Concat(_) | Op::Mul(_) => Arity::Many,
            _ => Arity::One,
        }
    }
}

/// What a node kind is for, in broad strokes: the UI colours blocks by it, so a new kind
/// names its family here, beside its definition, and nowhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Input and Output.
    InputOutput,
    /// Convolutions.
    Convolution,
    /// Pooling.
    Pooling,
    /// Batch and layer norm, layer scale, dropout.
    Normalisation,
    /// Activation functions.
    Activation,
    /// Flatten and Linear.
    Dense,
    /// Add, Concat and Mul.
    Merge,
}

/// The input: either `channels, height, width` (an image) or `features` (a vector).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputOp {
    /// Image channels (1 for grayscale, 3 for RGB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u64>,
    /// Image height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Image width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u64>,
    /// Vector length, for non-image data such as the 2-d toy sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<u64>,
}

impl InputOp {
    /// An image input.
    pub fn image(channels: u64, height: u64, width: u64) -> Self {
        Self {
            channels: Some(channels),
            height: Some(height),
            width: Some(width),
            features: None,
        }
    }

    /// A vector input.
    pub fn vector(features: u64) -> Self {
        Self {
            features: Some(features),
            ..Self::default()
        }
    }
}

fn one() -> Pair {
    Pair::Same(1)
}
fn zero() -> Pair {
    Pair::Same(0)
}
fn one_u64() -> u64 {
    1
}
fn yes() -> bool {
    true
}
// serde's skip_serializing_if passes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(v: &bool) -> bool {
    *v
}

/// `torch.nn.Conv2d`; `in_channels` comes from the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv2d {
    /// Number of filters, i.e. output channels.
    pub out_channels: u64,
    /// Filter size.
    pub kernel_size: Pair,
    /// Step between filter positions.
    #[serde(default = "one")]
    pub stride: Pair,
    /// Zeros added on each side.
    #[serde(default = "zero")]
    pub padding: Pair,
    /// Spacing between kernel taps.
    #[serde(default = "one")]
    pub dilation: Pair,
    /// Channel groups (equal to in_channels for a depthwise convolution).
    #[serde(default = "one_u64")]
    pub groups: u64,
    /// Whether a learned bias is added.
    #[serde(default = "yes")]
    pub bias: bool,
}

impl Conv2d {
    /// A plain convolution with PyTorch's defaults for everything else.
    pub fn new(out_channels: u64, kernel_size: u64) -> Self {
        Self {
            out_channels,
            kernel_size: Pair::Same(kernel_size),
            stride: one(),
            padding: zero(),
            dilation: one(),
            groups: 1,
            bias: true,
        }
    }
}

/// `torch.nn.ConvTranspose2d`; `in_channels` comes from the wire. Output size per side:
/// (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvTranspose2d {
    /// Output channels.
    pub out_channels: u64,
    /// Filter size.
    pub kernel_size: Pair,
    /// The upsampling factor: input positions land this far apart in the output.
    #[serde(default = "one")]
    pub stride: Pair,
    /// Removed from each side of the output (`dilation·(kernel − 1) − padding` zeros are
    /// effectively added to the input).
    #[serde(default = "zero")]
    pub padding: Pair,
    /// Added to one side of the output, to reach sizes a stride makes ambiguous; below the
    /// stride (or the dilation).
    #[serde(default = "zero")]
    pub output_padding: Pair,
    /// Spacing between kernel taps.
    #[serde(default = "one")]
    pub dilation: Pair,
    /// Channel groups.
    #[serde(default = "one_u64")]
    pub groups: u64,
    /// Whether a learned bias is added.
    #[serde(default = "yes")]
    pub bias: bool,
}

impl ConvTranspose2d {
    /// A transposed convolution upsampling by `stride` with a `kernel` window, PyTorch's
    /// defaults for the rest (`ConvTranspose2d(c, out, 2, stride=2)` doubles the size).
    pub fn new(out_channels: u64, kernel: u64, stride: u64) -> Self {
        Self {
            out_channels,
            kernel_size: Pair::Same(kernel),
            stride: Pair::Same(stride),
            padding: zero(),
            output_padding: zero(),
            dilation: one(),
            groups: 1,
            bias: true,
        }
    }
}

/// `torch.nn.MaxPool2d` / `AvgPool2d`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool2d {
    /// Window size.
    pub kernel_size: Pair,
    /// Step between windows; PyTorch's default is the kernel size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride: Option<Pair>,
    /// Implicit padding on each side (at most half the kernel).
    #[serde(default = "zero")]
    pub padding: Pair,
    /// Round the output size up instead of down.
    #[serde(default)]
    pub ceil_mode: bool,
    /// Average pooling only: whether the padding's zeros count in each window's average
    /// (PyTorch's default) or only the input's values do.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub count_include_pad: bool,
}

impl Pool2d {
    /// A pooling window of `kernel_size` with the stride equal to it.
    pub fn new(kernel_size: u64) -> Self {
        Self {
            kernel_size: Pair::Same(kernel_size),
            stride: None,
            padding: zero(),
            ceil_mode: false,
            count_include_pad: true,
        }
    }

    /// The stride actually used: the kernel size when none is given.
    pub fn effective_stride(&self) -> Pair {
        self.stride.unwrap_or(self.kernel_size)
    }
}

/// Rows and columns added (zeros) or, negative, cut off each side of an image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CropPad {
    /// Rows added above (negative: cut off the top).
    #[serde(default)]
    pub top: i64,
    /// Rows added below (negative: cut off the bottom).
    #[serde(default)]
    pub bottom: i64,
    /// Columns added on the left (negative: cut off).
    #[serde(default)]
    pub left: i64,
    /// Columns added on the right (negative: cut off).
    #[serde(default)]
    pub right: i64,
}

impl CropPad {
    /// What brings an `h`×`w` image to `th`×`tw`, centred: half the difference each side,
    /// the odd row or column at the bottom or right (as U-Net's and torchvision's centre
    /// crops do).
    pub fn to_size((h, w): (u64, u64), (th, tw): (u64, u64)) -> CropPad {
        let dh = th as i64 - h as i64;
        let dw = tw as i64 - w as i64;
        CropPad {
            top: dh / 2,
            bottom: dh - dh / 2,
            left: dw / 2,
            right: dw - dw / 2,
        }
    }
}

/// How Upsample computes a new pixel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpsampleMode {
    /// The nearest input pixel (PyTorch's `nearest`: the one at ⌊output · in / out⌋).
    #[default]
    Nearest,
    /// Linear in height and width from the four nearest input pixels.
    Bilinear,
}

/// `torch.nn.Upsample`: exactly one of `scale_factor` and `size`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upsample {
    /// Nearest or bilinear.
    #[serde(default)]
    pub mode: UpsampleMode,
    /// Multiplies height and width (2 doubles them); the output is ⌊size · scale⌋.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_factor: Option<f64>,
    /// The output's height and width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Pair>,
    /// Bilinear only: corner pixels of input and output line up (false: pixel centres do,
    /// PyTorch's default).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub align_corners: bool,
}

impl Upsample {
    /// Upsampling by `scale` with `mode`.
    pub fn scale(mode: UpsampleMode, scale: f64) -> Self {
        Self {
            mode,
            scale_factor: Some(scale),
            size: None,
            align_corners: false,
        }
    }

    /// The output height and width for an input of `h`×`w`; None when the settings give none.
    pub fn output_size(&self, h: u64, w: u64) -> Option<(u64, u64)> {
        match (self.scale_factor, self.size) {
            (Some(s), None) if s.is_finite() && s > 0.0 => {
                let side = |x: u64| (x as f64 * s).floor();
                let (oh, ow) = (side(h), side(w));
                (oh >= 1.0 && ow >= 1.0 && oh <= 1e9 && ow <= 1e9).then_some((oh as u64, ow as u64))
            }
            (None, Some(p)) if p.h() > 0 && p.w() > 0 => Some((p.h(), p.w())),
            _ => None,
        }
    }
}

/// `torch.nn.AdaptiveAvgPool2d`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaptivePool2d {
    /// The output's height and width; 1 is global average pooling.
    pub output_size: Pair,
}

fn bn_eps() -> f64 {
    1e-5
}
fn bn_momentum() -> f64 {
    0.1
}

/// `torch.nn.BatchNorm1d/2d`: which one is decided by the input's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchNorm {
    /// Added to the variance for numerical stability.
    #[serde(default = "bn_eps")]
    pub eps: f64,
    /// Weight of the newest batch in the running statistics.
    #[serde(default = "bn_momentum")]
    pub momentum: f64,
    /// Whether a learned scale and shift follow the normalisation.
    #[serde(default = "yes")]
    pub affine: bool,
}

impl Default for BatchNorm {
    fn default() -> Self {
        Self {
            eps: bn_eps(),
            momentum: bn_momentum(),
            affine: true,
        }
    }
}

fn ln_eps() -> f64 {
    1e-5
}

/// Layer normalisation (`torch.nn.LayerNorm` over the last dimension of a vector; over the
/// channels of an image, as torchvision's `LayerNorm2d`). Unlike BatchNorm it keeps no running
/// statistics and behaves the same in training and evaluation: each sample is normalised
/// with its own mean and variance, so the batch size doesn't matter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerNorm {
    /// Added to the variance for numerical stability (ConvNeXt uses 1e-6).
    #[serde(default = "ln_eps")]
    pub eps: f64,
    /// Whether a learned per-channel scale and shift follow the normalisation.
    #[serde(default = "yes")]
    pub elementwise_affine: bool,
}

impl Default for LayerNorm {
    fn default() -> Self {
        Self {
            eps: ln_eps(),
            elementwise_affine: true,
        }
    }
}

fn layer_scale_init() -> f64 {
    1e-6
}

/// ConvNeXt's layer scale: each channel multiplied by a learned value that starts at `init`,
/// so a fresh residual branch begins close to the identity. Its one tensor is named after the
/// node itself (`features.1.0.layer_scale`), as torchvision's `nn.Parameter` is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerScale {
    /// The value every channel's scale starts at (torchvision: 1e-6).
    #[serde(default = "layer_scale_init")]
    pub init: f64,
}

impl Default for LayerScale {
    fn default() -> Self {
        Self {
            init: layer_scale_init(),
        }
    }
}

fn half() -> f64 {
    0.5
}

/// `torch.nn.Dropout` / `Dropout2d`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dropout {
    /// Probability that an element (or a channel) is zeroed during training.
    #[serde(default = "half")]
    pub p: f64,
}

/// Which non-linearity an Activation node applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationFn {
    /// max(0, x).
    Relu,
    /// x for x > 0, negative_slope·x otherwise.
    LeakyRelu,
    /// x for x > 0, alpha·(eˣ − 1) otherwise.
    Elu,
    /// Scaled ELU with fixed constants (self-normalising nets).
    Selu,
    /// Gaussian error linear unit.
    Gelu,
    /// 1 / (1 + e⁻ˣ).
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// x·sigmoid(x), also called swish.
    Silu,
    /// Normalised exponentials along `dim`.
    Softmax,
    /// min(max(0, x), 6): MobileNet's bounded ReLU (`torch.nn.ReLU6`).
    Relu6,
    /// x clamped to [min_val, max_val] (`torch.nn.Hardtanh`, ONNX `Clip`).
    Hardtanh,
    /// A piecewise-linear sigmoid, relu6(x + 3) / 6: MobileNetV3's gate.
    Hardsigmoid,
    /// x · relu6(x + 3) / 6: MobileNetV3's cheap swish.
    Hardswish,
}

impl ActivationFn {
    /// Every function, in palette order.
    pub const ALL: [ActivationFn; 13] = [
        ActivationFn::Relu,
        ActivationFn::LeakyRelu,
        ActivationFn::Elu,
        ActivationFn::Selu,
        ActivationFn::Gelu,
        ActivationFn::Sigmoid,
        ActivationFn::Tanh,
        ActivationFn::Silu,
        ActivationFn::Softmax,
        ActivationFn::Relu6,
        ActivationFn::Hardtanh,
        ActivationFn::Hardsigmoid,
        ActivationFn::Hardswish,
    ];

    /// The PyTorch module name, e.g. `LeakyReLU`.
    pub fn name(self) -> &'static str {
        match self {
            ActivationFn::Relu => "ReLU",
            ActivationFn::LeakyRelu => "LeakyReLU",
            ActivationFn::Elu => "ELU",
            ActivationFn::Selu => "SELU",
            ActivationFn::Gelu => "GELU",
            ActivationFn::Sigmoid => "Sigmoid",
            ActivationFn::Tanh => "Tanh",
            ActivationFn::Silu => "SiLU",
            ActivationFn::Softmax => "Softmax",
            ActivationFn::Relu6 => "ReLU6",
            ActivationFn::Hardtanh => "Hardtanh",
            ActivationFn::Hardsigmoid => "Hardsigmoid",
            ActivationFn::Hardswish => "Hardswish",
        }
    }
}

/// An activation. Only the parameter of the chosen function may be given:
/// `negative_slope` for leaky_relu, `alpha` for elu, `dim` for softmax, `min_val` and `max_val`
/// for hardtanh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    /// The function.
    pub function: ActivationFn,
    /// leaky_relu's slope for negative inputs (PyTorch default 0.01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_slope: Option<f64>,
    /// elu's saturation value for negative inputs (PyTorch default 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// softmax's dimension, counted as in PyTorch on the batched tensor (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dim: Option<i64>,
    /// hardtanh's lower bound (PyTorch default −1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_val: Option<f64>,
    /// hardtanh's upper bound (PyTorch default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_val: Option<f64>,
}

impl Activation {
    /// An activation with its function's default parameter.
    pub fn new(function: ActivationFn) -> Self {
        Self {
            function,
            negative_slope: None,
            alpha: None,
            dim: None,
            min_val: None,
            max_val: None,
        }
    }

    /// A hardtanh clamping to [min, max].
    pub fn hardtanh(min: f64, max: f64) -> Self {
        Self {
            min_val: Some(min),
            max_val: Some(max),
            ..Self::new(ActivationFn::Hardtanh)
        }
    }

    /// hardtanh's bounds.
    pub fn bounds(&self) -> (f64, f64) {
        (self.min_val.unwrap_or(-1.0), self.max_val.unwrap_or(1.0))
    }

    /// The slope used by leaky_relu.
    pub fn negative_slope(&self) -> f64 {
        self.negative_slope.unwrap_or(0.01)
    }

    /// The alpha used by elu.
    pub fn alpha(&self) -> f64 {
        self.alpha.unwrap_or(1.0)
    }

    /// The dimension used by softmax, on the batched tensor.
    pub fn dim(&self) -> i64 {
        self.dim.unwrap_or(1)
    }
}

/// `torch.nn.Flatten` (from dimension 1): takes no parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flatten {}

/// `torch.nn.Linear`; `in_features` comes from the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    /// Output width.
    pub out_features: u64,
    /// Whether a learned bias is added.
    #[serde(default = "yes")]
    pub bias: bool,
}

impl Linear {
    /// A layer with bias.
    pub fn new(out_features: u64) -> Self {
        Self {
            out_features,
            bias: true,
        }
    }
}

/// Add, Concat and Mul take no parameters; their inputs are ordered by port.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {}

/// The loss the Output node trains with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Classification: the output is a vector of class logits.
    #[default]
    CrossEntropy,
    /// Regression: mean squared error against a target of the same shape.
    Mse,
}

/// The Output node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputOp {
    /// The training loss.
    #[serde(default)]
    pub loss: Loss,
}
