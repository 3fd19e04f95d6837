//! Designs of known architectures whose node names are torchvision's module paths
//! (`features.0`, `layer1.0.conv1`, `fc`), so that a torchvision state dict loads onto them
//! tensor for tensor: the starting point for transfer learning. They open grouped as
//! torchvision's modules are: ResNet's `BasicBlock`s, VGG's `features` and `classifier`.

use super::graph::{Design, NodeId};
use super::group::Group;
use super::op::*;
use super::pair::Pair;

/// The templates there are, with a one-line description each.
pub const TEMPLATES: [(&str, &str); 7] = [
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
];

/// The template `name` for inputs of `input` (channels, height, width) and `classes` outputs;
/// None for an unknown name. The classic sizes are 1×28×28 for LeNet and 3×224×224 for the
/// others (VGG and ResNet pool adaptively, so any size from 32×32 up works).
pub fn template(name: &str, input: [u64; 3], classes: u64) -> Option<Design> {
    let mut b = Builder::new(input);
    match name {
        "lenet" => lenet(&mut b, classes),
        "vgg11" => vgg(&mut b, VGG11, false, classes),
        "vgg11_bn" => vgg(&mut b, VGG11, true, classes),
        "vgg16" => vgg(&mut b, VGG16, false, classes),
        "vgg16_bn" => vgg(&mut b, VGG16, true, classes),
        "resnet18" => resnet(&mut b, [2, 2, 2, 2], classes),
        "resnet34" => resnet(&mut b, [3, 4, 6, 3], classes),
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

fn head(b: &mut Builder, classes: u64) {
    b.then("fc", Op::Linear(Linear::new(classes)));
}

fn lenet(b: &mut Builder, classes: u64) {
    b.then("conv1", conv(6, 5, 1, 2, true));
    b.then("relu1", relu());
    b.then("pool1", max_pool(2, 2, 0));
    b.then("conv2", conv(16, 5, 1, 0, true));
    b.then("relu2", relu());
    b.then("pool2", max_pool(2, 2, 0));
    b.then("flatten", Op::Flatten(Flatten {}));
    b.then("fc1", Op::Linear(Linear::new(120)));
    b.then("relu3", relu());
    b.then("fc2", Op::Linear(Linear::new(84)));
    b.then("relu4", relu());
    b.then("fc3", Op::Linear(Linear::new(classes)));
    b.then("output", Op::Output(OutputOp::default()));
}

/// torchvision's VGG configurations: channels, 0 for a max pool.
const VGG11: &[u64] = &[64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];
const VGG16: &[u64] = &[
    64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
];

fn vgg(b: &mut Builder, cfg: &[u64], batch_norm: bool, classes: u64) {
    // `features` is one nn.Sequential in torchvision, so its layers are numbered in order.
    let first = b.design.next_id();
    let mut i = 0;
    for &c in cfg {
        if c == 0 {
            b.then(&format!("features.{i}"), max_pool(2, 2, 0));
            i += 1;
            continue;
        }
        b.then(&format!("features.{i}"), conv(c, 3, 1, 1, true));
        i += 1;
        if batch_norm {
            b.then(&format!("features.{i}"), bn());
            i += 1;
        }
        b.then(&format!("features.{i}"), relu());
        i += 1;
    }
    b.group(first, "features", "Sequential");
    b.then(
        "avgpool",
        Op::AdaptiveAvgPool2d(AdaptivePool2d {
            output_size: Pair::Same(7),
        }),
    );
    b.then("flatten", Op::Flatten(Flatten {}));
    let first = b.design.next_id();
    b.then("classifier.0", Op::Linear(Linear::new(4096)));
    b.then("classifier.1", relu());
    b.then("classifier.2", Op::Dropout(Dropout { p: 0.5 }));
    b.then("classifier.3", Op::Linear(Linear::new(4096)));
    b.then("classifier.4", relu());
    b.then("classifier.5", Op::Dropout(Dropout { p: 0.5 }));
    b.then("classifier.6", Op::Linear(Linear::new(classes)));
    b.group(first, "classifier", "Sequential");
    b.then("output", Op::Output(OutputOp::default()));
}

fn resnet(b: &mut Builder, blocks: [usize; 4], classes: u64) {
    b.then("conv1", conv(64, 7, 2, 3, false));
    b.then("bn1", bn());
    b.then("relu", relu());
    b.then("maxpool", max_pool(3, 2, 1));
    let mut in_planes = 64;
    for (layer, (&n, planes)) in blocks.iter().zip([64u64, 128, 256, 512]).enumerate() {
        for i in 0..n {
            let stride = if i == 0 && layer > 0 { 2 } else { 1 };
            let p = format!("layer{}.{i}", layer + 1);
            let x = b.last;
            let first = b.design.next_id();
            b.then(&format!("{p}.conv1"), conv(planes, 3, stride, 1, false));
            b.then(&format!("{p}.bn1"), bn());
            b.then(&format!("{p}.relu"), relu());
            b.then(&format!("{p}.conv2"), conv(planes, 3, 1, 1, false));
            let main = b.then(&format!("{p}.bn2"), bn());
            let shortcut = if stride != 1 || in_planes != planes {
                let d = b.node(
                    &format!("{p}.downsample.0"),
                    conv(planes, 1, stride, 0, false),
                    &[x],
                );
                b.node(&format!("{p}.downsample.1"), bn(), &[d])
            } else {
                x
            };
            b.last = b.node(&format!("{p}.add"), Op::Add(Merge {}), &[main, shortcut]);
            b.then(&format!("{p}.relu_out"), relu());
            b.group(first, &p, "BasicBlock");
            in_planes = planes;
        }
    }
    b.then(
        "avgpool",
        Op::AdaptiveAvgPool2d(AdaptivePool2d {
            output_size: Pair::Same(1),
        }),
    );
    b.then("flatten", Op::Flatten(Flatten {}));
    head(b, classes);
    b.then("output", Op::Output(OutputOp::default()));
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
