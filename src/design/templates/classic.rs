//! The classic CNNs: LeNet, VGG and the ResNets (BasicBlock and Bottleneck).

use super::*;

fn head(b: &mut Builder, classes: u64) {
    b.then("fc", Op::Linear(Linear::new(classes)));
}

pub(super) fn lenet(b: &mut Builder, classes: u64) {
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
    b.then("output", output());
}

/// torchvision's VGG configurations: channels, 0 for a max pool.
pub(super) const VGG11: &[u64] = &[64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];
pub(super) const VGG16: &[u64] = &[
    64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
];

pub(super) fn vgg(b: &mut Builder, cfg: &[u64], batch_norm: bool, classes: u64) {
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
    b.then("avgpool", adaptive(7));
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
    b.then("output", output());
}

/// torchvision's ResNet: BasicBlocks (18, 34) or Bottlenecks (50, 101), stride in the 3×3
/// convolution (v1.5). Each block's ReLU module is used more than once, so the exporter (and
/// these templates) name its uses `relu`, `relu_1`, `relu_2`.
pub(super) fn resnet(b: &mut Builder, blocks: [usize; 4], bottleneck: bool, classes: u64) {
    resnet_trunk(b, blocks, bottleneck);
    b.pool_flatten();
    head(b, classes);
    b.then("output", output());
}

/// ResNet up to its last block (stride 32), torchvision's names: the backbone of a
/// classifier, or of an FCN.
pub(super) fn resnet_trunk(b: &mut Builder, blocks: [usize; 4], bottleneck: bool) {
    b.then("conv1", conv(64, 7, 2, 3, false));
    b.then("bn1", bn());
    b.then("relu", relu());
    b.then("maxpool", max_pool(3, 2, 1));
    let expansion = if bottleneck { 4 } else { 1 };
    let mut in_planes = 64;
    for (layer, (&n, planes)) in blocks.iter().zip([64u64, 128, 256, 512]).enumerate() {
        for i in 0..n {
            let stride = if i == 0 && layer > 0 { 2 } else { 1 };
            let p = format!("layer{}.{i}", layer + 1);
            let x = b.last;
            let first = b.design.next_id();
            let out = planes * expansion;
            let main = if bottleneck {
                b.then(&format!("{p}.conv1"), conv(planes, 1, 1, 0, false));
                b.then(&format!("{p}.bn1"), bn());
                b.then(&format!("{p}.relu"), relu());
                b.then(&format!("{p}.conv2"), conv(planes, 3, stride, 1, false));
                b.then(&format!("{p}.bn2"), bn());
                b.then(&format!("{p}.relu_1"), relu());
                b.then(&format!("{p}.conv3"), conv(out, 1, 1, 0, false));
                b.then(&format!("{p}.bn3"), bn())
            } else {
                b.then(&format!("{p}.conv1"), conv(planes, 3, stride, 1, false));
                b.then(&format!("{p}.bn1"), bn());
                b.then(&format!("{p}.relu"), relu());
                b.then(&format!("{p}.conv2"), conv(planes, 3, 1, 1, false));
                b.then(&format!("{p}.bn2"), bn())
            };
            let shortcut = if stride != 1 || in_planes != out {
                let d = b.node(
                    &format!("{p}.downsample.0"),
                    conv(out, 1, stride, 0, false),
                    &[x],
                );
                b.node(&format!("{p}.downsample.1"), bn(), &[d])
            } else {
                x
            };
            b.add(&p, main, shortcut);
            let last_relu = if bottleneck { "relu_2" } else { "relu_1" };
            b.then(&format!("{p}.{last_relu}"), relu());
            let kind = if bottleneck {
                "Bottleneck"
            } else {
                "BasicBlock"
            };
            b.group(first, &p, kind);
            in_planes = out;
        }
    }
}
