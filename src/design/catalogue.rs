//! The block catalogue: every block kind, grouped, each with a one-line explanation of what it
//! does and why you would use it (many users are learning). The palette lists it; an
//! [`super::edit::Edit::Add`] made from an entry adds a node.

use super::{
    Activation, ActivationFn, AdaptivePool2d, BatchNorm, Conv2d, ConvTranspose2d, CropPad, Dropout,
    Flatten, InputOp, LayerNorm, LayerScale, Linear, Merge, Op, OutputOp, Pair, Pool2d, Upsample,
    UpsampleMode,
};

/// One entry of the catalogue.
pub struct Block {
    /// The group it is listed under.
    pub group: &'static str,
    /// Its label, as PyTorch names it.
    pub label: &'static str,
    /// The prefix of new nodes' names, e.g. `conv` → conv1, conv2…
    pub prefix: &'static str,
    /// What it does and why.
    pub help: &'static str,
    /// A new node's settings.
    pub make: fn() -> Op,
}

fn conv() -> Op {
    let mut c = Conv2d::new(16, 3);
    c.padding = Pair::Same(1);
    Op::Conv2d(c)
}

fn act(f: ActivationFn) -> Op {
    Op::Activation(Activation::new(f))
}

/// Every block, in palette order.
impl Block {
    /// Whether the block can sit on a wire (take an input and give an output): everything but
    /// Input and Output, which the wire menu's "Insert a block here" therefore doesn't offer.
    pub fn goes_between(&self) -> bool {
        !matches!((self.make)(), Op::Input(_) | Op::Output(_))
    }
}

pub static BLOCKS: &[Block] = &[
    Block {
        group: "Input / output",
        label: "Input",
        prefix: "input",
        help: "Where samples enter: an image (channels × height × width) or a vector of features.",
        make: || Op::Input(InputOp::image(1, 28, 28)),
    },
    Block {
        group: "Input / output",
        label: "Output",
        prefix: "output",
        help: "The end of the network; it carries the loss (cross-entropy for classes, MSE for regression).",
        make: || Op::Output(OutputOp::default()),
    },
    Block {
        group: "Convolution and pooling",
        label: "Conv2d",
        prefix: "conv",
        help: "Slides small learned filters over the image: each output channel detects one local pattern anywhere in the image, with few weights.",
        make: conv,
    },
    Block {
        group: "Convolution and pooling",
        label: "ConvTranspose2d",
        prefix: "up",
        help: "A convolution run backwards: each input value paints a weighted copy of the kernel into a larger output, stride apart. With kernel 2 and stride 2 it doubles height and width: the learned upsampling of decoders and segmentation nets (U-Net).",
        make: || Op::ConvTranspose2d(ConvTranspose2d::new(16, 2, 2)),
    },
    Block {
        group: "Convolution and pooling",
        label: "Upsample",
        prefix: "upsample",
        help: "Enlarges each channel by a scale (2 doubles height and width) or to a size, copying the nearest pixel or blending the four nearest (bilinear). No weights: the fixed upsampling of decoders, often followed by a convolution.",
        make: || Op::Upsample(Upsample::scale(UpsampleMode::Nearest, 2.0)),
    },
    Block {
        group: "Convolution and pooling",
        label: "CropPad",
        prefix: "crop",
        help: "Adds rows and columns of zeros around each channel, or cuts them off where a side is negative: lines a skip connection up with the upsampled map it joins when their sizes differ by a few pixels (the Concat says exactly which numbers).",
        make: || {
            Op::CropPad(CropPad {
                top: 0,
                bottom: -1,
                left: 0,
                right: -1,
            })
        },
    },
    Block {
        group: "Convolution and pooling",
        label: "MaxPool2d",
        prefix: "pool",
        help: "Keeps the strongest response in each window: halves the size, so later layers see more of the image and small shifts matter less.",
        make: || Op::MaxPool2d(Pool2d::new(2)),
    },
    Block {
        group: "Convolution and pooling",
        label: "AvgPool2d",
        prefix: "avgpool",
        help: "Averages each window: a smoother way to shrink feature maps than max pooling.",
        make: || Op::AvgPool2d(Pool2d::new(2)),
    },
    Block {
        group: "Convolution and pooling",
        label: "AdaptiveAvgPool2d",
        prefix: "gap",
        help: "Averages to a fixed output size whatever the input size; at 1×1 it is global average pooling, used before a classifier head.",
        make: || {
            Op::AdaptiveAvgPool2d(AdaptivePool2d {
                output_size: Pair::Same(1),
            })
        },
    },
    Block {
        group: "Normalisation and regularisation",
        label: "BatchNorm",
        prefix: "bn",
        help: "Normalises each channel over the batch, then rescales: keeps activations in a healthy range so deeper nets train faster at higher rates.",
        make: || Op::BatchNorm(BatchNorm::default()),
    },
    Block {
        group: "Normalisation and regularisation",
        label: "LayerNorm",
        prefix: "ln",
        help: "Normalises each sample on its own, over the channels at every pixel (or a vector's features), then rescales. No batch statistics: it works the same at any batch size and in training and evaluation, which is why transformers and ConvNeXt use it.",
        make: || Op::LayerNorm(LayerNorm::default()),
    },
    Block {
        group: "Normalisation and regularisation",
        label: "LayerScale",
        prefix: "layer_scale",
        help: "Multiplies each channel by a learned value that starts tiny (1e-6): a residual branch then begins as almost nothing and the block as almost the identity, which keeps very deep nets (ConvNeXt) stable early in training.",
        make: || Op::LayerScale(LayerScale::default()),
    },
    Block {
        group: "Normalisation and regularisation",
        label: "Dropout",
        prefix: "drop",
        help: "While training, zeroes random units (probability p) so the net can't rely on any one of them: fights overfitting. Off at evaluation.",
        make: || Op::Dropout(Dropout { p: 0.5 }),
    },
    Block {
        group: "Normalisation and regularisation",
        label: "Dropout2d",
        prefix: "drop",
        help: "Drops whole channels of a feature map at once: dropout that suits convolutional layers.",
        make: || Op::Dropout2d(Dropout { p: 0.2 }),
    },
    Block {
        group: "Activations",
        label: "ReLU",
        prefix: "relu",
        help: "max(0, x): the default non-linearity; cheap, and its gradient doesn't vanish for positive inputs. Units stuck below zero are 'dead'.",
        make: || act(ActivationFn::Relu),
    },
    Block {
        group: "Activations",
        label: "LeakyReLU",
        prefix: "lrelu",
        help: "Like ReLU but lets a small slope through for negative inputs, so units can't die.",
        make: || act(ActivationFn::LeakyRelu),
    },
    Block {
        group: "Activations",
        label: "ELU",
        prefix: "elu",
        help: "Smooth for negative inputs (α·(e^x − 1)), which pushes mean activations towards zero.",
        make: || act(ActivationFn::Elu),
    },
    Block {
        group: "Activations",
        label: "SELU",
        prefix: "selu",
        help: "Scaled ELU whose outputs keep zero mean and unit variance through plain stacks of Linear layers.",
        make: || act(ActivationFn::Selu),
    },
    Block {
        group: "Activations",
        label: "GELU",
        prefix: "gelu",
        help: "A smooth ReLU weighted by the Gaussian CDF; the usual choice in transformers.",
        make: || act(ActivationFn::Gelu),
    },
    Block {
        group: "Activations",
        label: "Sigmoid",
        prefix: "sigmoid",
        help: "Squashes to (0, 1). Saturates at both ends, so gradients vanish in deep stacks: best kept for gates and outputs.",
        make: || act(ActivationFn::Sigmoid),
    },
    Block {
        group: "Activations",
        label: "Tanh",
        prefix: "tanh",
        help: "Squashes to (−1, 1), zero-centred, but saturates like the sigmoid.",
        make: || act(ActivationFn::Tanh),
    },
    Block {
        group: "Activations",
        label: "SiLU",
        prefix: "silu",
        help: "x·sigmoid(x) (Swish): smooth and non-monotonic; often a little better than ReLU in deep nets.",
        make: || act(ActivationFn::Silu),
    },
    Block {
        group: "Activations",
        label: "Softmax",
        prefix: "softmax",
        help: "Turns scores into probabilities that sum to 1. Not needed before the Output: cross-entropy applies it itself.",
        make: || act(ActivationFn::Softmax),
    },
    Block {
        group: "Activations",
        label: "ReLU6",
        prefix: "relu6_",
        help: "ReLU capped at 6: MobileNet's choice, because a bounded output keeps low-precision (int8, fp16) inference accurate.",
        make: || act(ActivationFn::Relu6),
    },
    Block {
        group: "Activations",
        label: "Hardtanh",
        prefix: "hardtanh",
        help: "Clamps x to [min_val, max_val] (ONNX calls it Clip): a cheap, piecewise-linear tanh. Its gradient is 0 outside the bounds.",
        make: || Op::Activation(Activation::hardtanh(-1.0, 1.0)),
    },
    Block {
        group: "Activations",
        label: "Hardsigmoid",
        prefix: "hsigmoid",
        help: "A straight-line sigmoid, relu6(x + 3) / 6: the cheap gate of MobileNetV3's squeeze-and-excitation blocks.",
        make: || act(ActivationFn::Hardsigmoid),
    },
    Block {
        group: "Activations",
        label: "Hardswish",
        prefix: "hswish",
        help: "x · hardsigmoid(x): swish (SiLU) made of straight lines, so phones compute it without an exponential; MobileNetV3's activation.",
        make: || act(ActivationFn::Hardswish),
    },
    Block {
        group: "Dense",
        label: "Flatten",
        prefix: "flatten",
        help: "Lays an image's channels × height × width out as one vector, so Linear layers can follow.",
        make: || Op::Flatten(Flatten {}),
    },
    Block {
        group: "Dense",
        label: "Linear",
        prefix: "fc",
        help: "Every input connected to every output by a learned weight: the classifier layers at the end of a CNN, or a whole MLP.",
        make: || Op::Linear(Linear::new(10)),
    },
    Block {
        group: "Merge",
        label: "Add",
        prefix: "add",
        help: "Sums equal shapes element by element: the residual connection of ResNets, which lets gradients skip layers.",
        make: || Op::Add(Merge {}),
    },
    Block {
        group: "Merge",
        label: "Concat",
        prefix: "concat",
        help: "Stacks inputs along channels (or features): lets later layers see several branches at once, as in Inception or DenseNet.",
        make: || Op::Concat(Merge {}),
    },
    Block {
        group: "Merge",
        label: "Mul",
        prefix: "mul",
        help: "Multiplies inputs element by element; a size of 1 stretches to match (broadcasting). With a C×1×1 gate from pooling, Linear-like 1×1 convolutions and a sigmoid, it is squeeze-and-excitation: the net learns how much each channel matters.",
        make: || Op::Mul(Merge {}),
    },
];

/// The blocks whose label, group or explanation contains `query`.
pub fn search(query: &str) -> impl Iterator<Item = &'static Block> + '_ {
    let q = query.trim().to_lowercase();
    BLOCKS.iter().filter(move |b| {
        q.is_empty()
            || b.label.to_lowercase().contains(&q)
            || b.help.to_lowercase().contains(&q)
            || b.group.to_lowercase().contains(&q)
    })
}

impl Block {
    /// The edit that adds a new node of this block at `pos`.
    pub fn add_at(&self, pos: [f32; 2]) -> super::edit::Edit {
        super::edit::Edit::Add {
            prefix: self.prefix.to_owned(),
            op: (self.make)(),
            pos,
        }
    }
}
