//! More of torchvision's families: DenseNet (many-input Concat), SqueezeNet (Fire modules)
//! and RegNetY (grouped convolutions with squeeze-and-excitation).

use super::*;

/// torchvision's `densenet121`: four dense blocks of 6, 12, 24 and 16 layers, growth 32. Each
/// layer sees the Concat of the block's input and every earlier layer's output
/// (`features.denseblockB.denselayerL.cat`); each block ends in the Concat of all of them.
pub(super) fn densenet121(b: &mut Builder, classes: u64) {
    let (growth, bn_size) = (32u64, 4u64);
    b.then("features.conv0", conv(64, 7, 2, 3, false));
    b.then("features.norm0", bn());
    b.then("features.relu0", relu());
    b.then("features.pool0", max_pool(3, 2, 1));
    let mut features = 64u64;
    let blocks = [6u64, 12, 24, 16];
    for (i, &layers) in blocks.iter().enumerate() {
        let block = format!("features.denseblock{}", i + 1);
        let mut outputs = vec![b.last];
        let block_first = b.design.next_id();
        for l in 1..=layers {
            let p = format!("{block}.denselayer{l}");
            // The first layer's `torch.cat` of one tensor is that tensor.
            if outputs.len() > 1 {
                b.last = b.node(&format!("{p}.cat"), Op::Concat(Merge {}), &outputs);
            } else {
                b.last = outputs[0];
            }
            b.then(&format!("{p}.norm1"), bn());
            b.then(&format!("{p}.relu1"), relu());
            b.then(
                &format!("{p}.conv1"),
                conv(bn_size * growth, 1, 1, 0, false),
            );
            b.then(&format!("{p}.norm2"), bn());
            b.then(&format!("{p}.relu2"), relu());
            let new = b.then(&format!("{p}.conv2"), conv(growth, 3, 1, 1, false));
            outputs.push(new);
        }
        b.last = b.node(&format!("{block}.cat"), Op::Concat(Merge {}), &outputs);
        // The block, not each layer, is the group: every layer is wired to every later one,
        // so only the block collapsed leaves a readable chain (stem, blocks, transitions).
        b.group(block_first, &block, "_DenseBlock");
        features += layers * growth;
        if i + 1 < blocks.len() {
            let p = format!("features.transition{}", i + 1);
            let first = b.design.next_id();
            b.then(&format!("{p}.norm"), bn());
            b.then(&format!("{p}.relu"), relu());
            b.then(&format!("{p}.conv"), conv(features / 2, 1, 1, 0, false));
            let mut pool = Pool2d::new(2);
            pool.stride = Some(Pair::Same(2));
            b.then(&format!("{p}.pool"), Op::AvgPool2d(pool));
            b.group(first, &p, "_Transition");
            features /= 2;
        }
    }
    b.then("features.norm5", bn());
    // `F.relu` and `F.adaptive_avg_pool2d` in forward, not modules.
    b.then("relu", relu());
    b.pool_flatten();
    b.then("classifier", Op::Linear(Linear::new(classes)));
    b.then("output", output());
}

/// torchvision's `squeezenet1_1`: Fire modules (a 1×1 squeeze, then 1×1 and 3×3 expands
/// joined by Concat), max pools that round up (`ceil_mode`), and a convolutional classifier.
pub(super) fn squeezenet1_1(b: &mut Builder, classes: u64) {
    b.then("features.0", conv(64, 3, 2, 0, true));
    b.then("features.1", relu());
    let pool = || {
        let mut p = Pool2d::new(3);
        p.stride = Some(Pair::Same(2));
        p.ceil_mode = true;
        Op::MaxPool2d(p)
    };
    b.then("features.2", pool());
    // Index in features → (squeeze, expand) of a Fire module, or a pool.
    let layers: [Option<(u64, u64)>; 10] = [
        Some((16, 64)),
        Some((16, 64)),
        None,
        Some((32, 128)),
        Some((32, 128)),
        None,
        Some((48, 192)),
        Some((48, 192)),
        Some((64, 256)),
        Some((64, 256)),
    ];
    for (i, layer) in layers.iter().enumerate() {
        let p = format!("features.{}", i + 3);
        let Some((squeeze, expand)) = *layer else {
            b.then(&p, pool());
            continue;
        };
        let first = b.design.next_id();
        b.then(&format!("{p}.squeeze"), conv(squeeze, 1, 1, 0, true));
        let s = b.then(&format!("{p}.squeeze_activation"), relu());
        b.then(&format!("{p}.expand1x1"), conv(expand, 1, 1, 0, true));
        let e1 = b.then(&format!("{p}.expand1x1_activation"), relu());
        b.last = s;
        b.then(&format!("{p}.expand3x3"), conv(expand, 3, 1, 1, true));
        let e3 = b.then(&format!("{p}.expand3x3_activation"), relu());
        b.last = b.node(&format!("{p}.cat"), Op::Concat(Merge {}), &[e1, e3]);
        b.group(first, &p, "Fire");
    }
    b.then("classifier.0", Op::Dropout(Dropout { p: 0.5 }));
    b.then("classifier.1", conv(classes, 1, 1, 0, true));
    b.then("classifier.2", relu());
    b.then("classifier.3", adaptive(1));
    b.then("flatten", Op::Flatten(Flatten {}));
    b.then("output", output());
}

/// torchvision's `regnet_y_400mf`: a 32-channel stem, then four stages of residual
/// bottlenecks (`trunk_output.blockS.blockS-I`) with grouped 3×3 convolutions (8 channels a
/// group) and squeeze-and-excitation at a quarter of the block's input width.
pub(super) fn regnet_y_400mf(b: &mut Builder, classes: u64) {
    let norm = BatchNorm::default();
    let relu_fn = Some(ActivationFn::Relu);
    b.conv_norm_act("stem", 32, 3, 2, 1, &norm, relu_fn);
    // (width, depth), every stage at stride 2 with groups of 8 channels: what
    // torchvision's BlockParams.from_init_params computes for depth 16, w_0 48, w_a 27.89,
    // w_m 2.09.
    let stages = [(48u64, 1usize), (104, 3), (208, 6), (440, 6)];
    let group_width = 8;
    let mut width_in = 32u64;
    for (s, &(width, depth)) in stages.iter().enumerate() {
        for i in 0..depth {
            let p = format!("trunk_output.block{}.block{}-{i}", s + 1, s + 1);
            let stride = if i == 0 { 2 } else { 1 };
            let x = b.last;
            let first = b.design.next_id();
            let shortcut = if width_in != width || stride != 1 {
                b.conv_norm_act(&format!("{p}.proj"), width, 1, stride, 1, &norm, None)
            } else {
                x
            };
            b.last = x;
            b.conv_norm_act(&format!("{p}.f.a"), width, 1, 1, 1, &norm, relu_fn);
            let groups = width / group_width;
            b.conv_norm_act(
                &format!("{p}.f.b"),
                width,
                3,
                stride,
                groups,
                &norm,
                relu_fn,
            );
            let se = (0.25 * width_in as f64).round() as u64;
            b.squeeze_excitation(
                &format!("{p}.f.se"),
                width,
                se,
                ActivationFn::Relu,
                ActivationFn::Sigmoid,
            );
            let main = b.conv_norm_act(&format!("{p}.f.c"), width, 1, 1, 1, &norm, None);
            b.add(&p, shortcut, main);
            b.then(&format!("{p}.activation"), relu());
            b.group(first, &p, "ResBottleneckBlock");
            width_in = width;
        }
    }
    b.pool_flatten();
    b.then("fc", Op::Linear(Linear::new(classes)));
    b.then("output", output());
}
