//! Designs of known architectures whose node names are torchvision's module paths
//! (`features.0`, `layer1.0.conv1`, `fc`), so that a torchvision state dict loads onto them
//! tensor for tensor: the starting point for transfer learning. They open grouped as
//! torchvision's modules are: ResNet's `BasicBlock`s, VGG's `features` and `classifier`,
//! MobileNet's inverted residuals, DenseNet's dense blocks, ConvNeXt's `CNBlock`s.

use super::graph::{Design, NodeId};
use super::group::Group;
use super::op::*;
use super::pair::Pair;

mod classic;
mod dense;
mod mobile;
mod modern;
mod zoo;

/// The templates there are, with a one-line description each.
pub const TEMPLATES: [(&str, &str); 19] = [
    (
        "lenet",
        "LeNet-style CNN (conv1, conv2, fc1-fc3), as in the PyTorch tutorial",
    ),
    ("vgg11", "VGG-11 (torchvision.models.vgg11)"),
    (
        "vgg11_bn",
        "VGG-11 with batch norm (torchvision.models.vgg11_bn)",
    ),
    ("vgg16", "VGG-16 (torchvision.models.vgg16)"),
    (
        "vgg16_bn",
        "VGG-16 with batch norm (torchvision.models.vgg16_bn)",
    ),
    ("resnet18", "ResNet-18 (torchvision.models.resnet18)"),
    ("resnet34", "ResNet-34 (torchvision.models.resnet34)"),
    (
        "resnet50",
        "ResNet-50, Bottleneck blocks (torchvision.models.resnet50)",
    ),
    (
        "resnet101",
        "ResNet-101, Bottleneck blocks (torchvision.models.resnet101)",
    ),
    (
        "mobilenet_v2",
        "MobileNetV2, inverted residuals with ReLU6 (torchvision.models.mobilenet_v2)",
    ),
    (
        "mobilenet_v3_small",
        "MobileNetV3-Small, Hardswish and squeeze-and-excitation (torchvision.models.mobilenet_v3_small)",
    ),
    (
        "mobilenet_v3_large",
        "MobileNetV3-Large, Hardswish and squeeze-and-excitation (torchvision.models.mobilenet_v3_large)",
    ),
    (
        "efficientnet_b0",
        "EfficientNet-B0, MBConv blocks with SiLU (torchvision.models.efficientnet_b0)",
    ),
    (
        "densenet121",
        "DenseNet-121, every layer fed all earlier ones by Concat (torchvision.models.densenet121)",
    ),
    (
        "squeezenet1_1",
        "SqueezeNet 1.1, Fire modules (torchvision.models.squeezenet1_1)",
    ),
    (
        "regnet_y_400mf",
        "RegNetY-400MF, grouped convolutions with squeeze-and-excitation (torchvision.models.regnet_y_400mf)",
    ),
    (
        "convnext_tiny",
        "ConvNeXt-Tiny, 7×7 depthwise blocks with LayerNorm, GELU and layer scale (torchvision.models.convnext_tiny)",
    ),
    (
        "unet",
        "U-Net for segmentation, 4 levels of 64 to 1024 channels, a class score per pixel (milesial/Pytorch-UNet's names)",
    ),
    (
        "fcn_resnet18",
        "FCN segmentation head on ResNet-18's trunk, scores upsampled to the input (torchvision's resnet18 names)",
    ),
];

/// The U-Net of [`template`]`("unet", …)` with its widths scaled: `width` channels at the first
/// level (64 in the paper), doubling at each of the four levels down.
pub fn unet(input: [u64; 3], classes: u64, width: u64) -> Design {
    let mut b = Builder::new(input);
    dense::unet(&mut b, width.max(1), classes);
    let mut d = b.design;
    super::layout::auto_layout(&mut d);
    d
}

/// The template `name` for inputs of `input` (channels, height, width) and `classes` outputs;
/// None for an unknown name. The classic sizes are 1×28×28 for LeNet and 3×224×224 for the
/// others (they pool adaptively, so any size from 32×32 up works; SqueezeNet from 40×40).
///
/// Nodes that are modules in torchvision are named by their module path. Functional steps
/// (the residual `+`, SE's `*`, `torch.cat`, `torch.flatten`) are named as an ONNX import
/// names them: the enclosing module's path, then `add`, `mul`, `cat` or `flatten`.
pub fn template(name: &str, input: [u64; 3], classes: u64) -> Option<Design> {
    let mut b = Builder::new(input);
    match name {
        "lenet" => classic::lenet(&mut b, classes),
        "vgg11" => classic::vgg(&mut b, classic::VGG11, false, classes),
        "vgg11_bn" => classic::vgg(&mut b, classic::VGG11, true, classes),
        "vgg16" => classic::vgg(&mut b, classic::VGG16, false, classes),
        "vgg16_bn" => classic::vgg(&mut b, classic::VGG16, true, classes),
        "resnet18" => classic::resnet(&mut b, [2, 2, 2, 2], false, classes),
        "resnet34" => classic::resnet(&mut b, [3, 4, 6, 3], false, classes),
        "resnet50" => classic::resnet(&mut b, [3, 4, 6, 3], true, classes),
        "resnet101" => classic::resnet(&mut b, [3, 4, 23, 3], true, classes),
        "mobilenet_v2" => mobile::mobilenet_v2(&mut b, classes),
        "mobilenet_v3_small" => mobile::mobilenet_v3(&mut b, false, classes),
        "mobilenet_v3_large" => mobile::mobilenet_v3(&mut b, true, classes),
        "efficientnet_b0" => mobile::efficientnet_b0(&mut b, classes),
        "densenet121" => zoo::densenet121(&mut b, classes),
        "squeezenet1_1" => zoo::squeezenet1_1(&mut b, classes),
        "regnet_y_400mf" => zoo::regnet_y_400mf(&mut b, classes),
        "convnext_tiny" => modern::convnext_tiny(&mut b, classes),
        "unet" => dense::unet(&mut b, 64, classes),
        "fcn_resnet18" => dense::fcn_resnet18(&mut b, input, classes),
        _ => return None,
    }
    let mut d = b.design;
    super::layout::auto_layout(&mut d);
    Some(d)
}

struct Builder {
    design: Design,
    last: NodeId,
}

impl Builder {
    fn new([c, h, w]: [u64; 3]) -> Builder {
        let mut design = Design::default();
        let last = design.add("input", Op::Input(InputOp::image(c, h, w)), [0.0, 0.0]);
        Builder { design, last }
    }

    /// Adds a node fed by `from` (several for a merge) and returns it.
    fn node(&mut self, name: &str, op: Op, from: &[NodeId]) -> NodeId {
        let id = self.design.add(name, op, [0.0, 0.0]);
        for (port, &src) in from.iter().enumerate() {
            self.design.connect(src, id, port as u32);
        }
        id
    }

    /// Makes the nodes added since `first` one collapsed group: torchvision's module `name`,
    /// an instance of `kind`.
    fn group(&mut self, first: NodeId, name: &str, kind: &str) {
        let members = self
            .design
            .nodes
            .iter()
            .map(|n| n.id)
            .filter(|id| *id >= first)
            .collect();
        let id = self.design.next_group_id();
        self.design.groups.push(Group {
            id,
            name: name.to_owned(),
            kind: kind.to_owned(),
            members,
            collapsed: true,
            pos: [0.0; 2],
        });
    }

    /// Adds a node after the last one.
    fn then(&mut self, name: &str, op: Op) -> NodeId {
        let from = self.last;
        self.last = self.node(name, op, &[from]);
        self.last
    }
}

/// torchvision's `_make_divisible`: `v` rounded to the nearest multiple of `divisor`, never
/// below `divisor` nor more than 10 % under `v`.
fn make_divisible(v: f64, divisor: u64) -> u64 {
    let d = divisor as f64;
    let mut new = ((v + d / 2.0) as u64 / divisor * divisor).max(divisor);
    if (new as f64) < 0.9 * v {
        new += divisor;
    }
    new
}

impl Builder {
    /// torchvision's `Conv2dNormActivation` at `prefix`: `prefix.0` a bias-free convolution
    /// padded to keep the size, `prefix.1` batch norm, `prefix.2` the activation if any.
    #[allow(clippy::too_many_arguments)] // torchvision's own signature
    fn conv_norm_act(
        &mut self,
        prefix: &str,
        out: u64,
        k: u64,
        stride: u64,
        groups: u64,
        norm: &BatchNorm,
        act: Option<ActivationFn>,
    ) -> NodeId {
        let mut c = Conv2d::new(out, k);
        c.stride = Pair::Same(stride);
        c.padding = Pair::Same((k - 1) / 2);
        c.groups = groups;
        c.bias = false;
        self.then(&format!("{prefix}.0"), Op::Conv2d(c));
        self.then(&format!("{prefix}.1"), Op::BatchNorm(norm.clone()));
        if let Some(f) = act {
            self.then(&format!("{prefix}.2"), Op::Activation(Activation::new(f)));
        }
        self.last
    }

    /// torchvision's `SqueezeExcitation` at `prefix` on the last node's `channels`: pool to
    /// 1×1, squeeze to `squeeze` channels with `act`, expand back, gate with `gate`, and
    /// multiply the input by the gate (`scale * input`, in that order).
    fn squeeze_excitation(
        &mut self,
        prefix: &str,
        channels: u64,
        squeeze: u64,
        act: ActivationFn,
        gate: ActivationFn,
    ) -> NodeId {
        let x = self.last;
        self.then(&format!("{prefix}.avgpool"), adaptive(1));
        self.then(&format!("{prefix}.fc1"), conv(squeeze, 1, 1, 0, true));
        self.then(
            &format!("{prefix}.activation"),
            Op::Activation(Activation::new(act)),
        );
        self.then(&format!("{prefix}.fc2"), conv(channels, 1, 1, 0, true));
        let scale = self.then(
            &format!("{prefix}.scale_activation"),
            Op::Activation(Activation::new(gate)),
        );
        self.last = self.node(&format!("{prefix}.mul"), Op::Mul(Merge {}), &[scale, x]);
        self.last
    }

    /// The residual sum `main + shortcut` named `prefix.add`.
    fn add(&mut self, prefix: &str, main: NodeId, shortcut: NodeId) -> NodeId {
        self.last = self.node(
            &format!("{prefix}.add"),
            Op::Add(Merge {}),
            &[main, shortcut],
        );
        self.last
    }

    /// Global average pooling (`avgpool`, torchvision's module or functional call) and
    /// `flatten`, before a classifier.
    fn pool_flatten(&mut self) {
        self.then("avgpool", adaptive(1));
        self.then("flatten", Op::Flatten(Flatten {}));
    }
}

fn adaptive(size: u64) -> Op {
    Op::AdaptiveAvgPool2d(AdaptivePool2d {
        output_size: Pair::Same(size),
    })
}

fn output() -> Op {
    Op::Output(OutputOp::default())
}

fn conv(out: u64, k: u64, stride: u64, pad: u64, bias: bool) -> Op {
    let mut c = Conv2d::new(out, k);
    c.stride = Pair::Same(stride);
    c.padding = Pair::Same(pad);
    c.bias = bias;
    Op::Conv2d(c)
}

fn relu() -> Op {
    Op::Activation(Activation::new(ActivationFn::Relu))
}

fn bn() -> Op {
    Op::BatchNorm(BatchNorm::default())
}

fn max_pool(k: u64, stride: u64, pad: u64) -> Op {
    let mut p = Pool2d::new(k);
    p.stride = Some(Pair::Same(stride));
    p.padding = Pair::Same(pad);
    Op::MaxPool2d(p)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_template_is_valid_with_torchvisions_parameter_counts() {
        // Parameter counts as torchvision reports them for 1000 classes.
        let expected = [
            ("vgg11", 132_863_336u64),
            ("vgg11_bn", 132_868_840),
            ("vgg16", 138_357_544),
            ("vgg16_bn", 138_365_992),
            ("resnet18", 11_689_512),
            ("resnet34", 21_797_672),
            ("resnet50", 25_557_032),
            ("resnet101", 44_549_160),
            ("mobilenet_v2", 3_504_872),
            ("mobilenet_v3_small", 2_542_856),
            ("mobilenet_v3_large", 5_483_032),
            ("efficientnet_b0", 5_288_548),
            ("densenet121", 7_978_856),
            ("squeezenet1_1", 1_235_496),
            ("regnet_y_400mf", 4_344_144),
            ("convnext_tiny", 28_589_128),
        ];
        for (name, params) in expected {
            let d = template(name, [3, 224, 224], 1000).unwrap();
            let a = crate::design::analyse(&d);
            assert!(a.is_valid(), "{name}: {:?}", a.problems.first());
            assert_eq!(a.totals.params, params, "{name}");
        }
        let d = template("lenet", [1, 28, 28], 10).unwrap();
        assert_eq!(crate::design::analyse(&d).totals.params, 61_706);
        assert!(template("alexnet", [3, 224, 224], 10).is_none());
        for (name, _) in TEMPLATES {
            let d = template(name, [3, 64, 64], 5).unwrap();
            assert!(crate::design::analyse(&d).is_valid(), "{name} at 64×64");
        }
    }
}
