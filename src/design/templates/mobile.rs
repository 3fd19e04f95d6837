//! The mobile networks: MobileNetV2 and V3 (inverted residuals, depthwise convolutions, ReLU6,
//! Hardswish, squeeze-and-excitation) and EfficientNet-B0 (MBConv with SiLU).

use super::*;

fn bn_eps(eps: f64, momentum: f64) -> BatchNorm {
    BatchNorm {
        eps,
        momentum,
        affine: true,
    }
}

/// torchvision's `mobilenet_v2`: features.0 a strided 3×3 stem, features.1–17 inverted
/// residuals (`features.N.conv.…`), features.18 a 1×1 to 1280, then a functional pool.
pub(super) fn mobilenet_v2(b: &mut Builder, classes: u64) {
    let norm = BatchNorm::default();
    let relu6 = Some(ActivationFn::Relu6);
    b.conv_norm_act("features.0", 32, 3, 2, 1, &norm, relu6);
    // (expansion t, channels c, repeats n, first stride s)
    let setting = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ];
    let mut input = 32u64;
    let mut index = 1;
    for (t, c, n, s) in setting {
        for i in 0..n {
            let stride = if i == 0 { s } else { 1 };
            let p = format!("features.{index}");
            let x = b.last;
            let first = b.design.next_id();
            let hidden = input * t;
            let mut k = 0;
            if t != 1 {
                b.conv_norm_act(&format!("{p}.conv.{k}"), hidden, 1, 1, 1, &norm, relu6);
                k += 1;
            }
            b.conv_norm_act(
                &format!("{p}.conv.{k}"),
                hidden,
                3,
                stride,
                hidden,
                &norm,
                relu6,
            );
            b.then(&format!("{p}.conv.{}", k + 1), conv(c, 1, 1, 0, false));
            let main = b.then(&format!("{p}.conv.{}", k + 2), bn());
            if stride == 1 && input == c {
                b.add(&p, x, main);
            }
            b.group(first, &p, "InvertedResidual");
            input = c;
            index += 1;
        }
    }
    b.conv_norm_act(&format!("features.{index}"), 1280, 1, 1, 1, &norm, relu6);
    // `nn.functional.adaptive_avg_pool2d` in forward, not a module.
    b.pool_flatten();
    b.then("classifier.0", Op::Dropout(Dropout { p: 0.2 }));
    b.then("classifier.1", Op::Linear(Linear::new(classes)));
    b.then("output", output());
}

/// MobileNetV3's and EfficientNet's block (torchvision's `InvertedResidual` and `MBConv`
/// share it): an optional 1×1 expansion, a depthwise convolution, an optional
/// squeeze-and-excitation gate, a 1×1 projection without activation, and the residual sum
/// when the shape is kept. Its layers are `P.block.0`, `P.block.1`, … as torchvision numbers
/// them.
struct Inverted {
    input: u64,
    expanded: u64,
    out: u64,
    kernel: u64,
    stride: u64,
    act: ActivationFn,
    /// Squeeze channels, the squeeze's activation and the gate's.
    se: Option<(u64, ActivationFn, ActivationFn)>,
}

impl Inverted {
    fn build(&self, b: &mut Builder, p: &str, norm: &BatchNorm, kind: &str) {
        let x = b.last;
        let first = b.design.next_id();
        let mut j = 0;
        let mut next = || {
            j += 1;
            format!("{p}.block.{}", j - 1)
        };
        let act = Some(self.act);
        if self.expanded != self.input {
            b.conv_norm_act(&next(), self.expanded, 1, 1, 1, norm, act);
        }
        let e = self.expanded;
        b.conv_norm_act(&next(), e, self.kernel, self.stride, e, norm, act);
        if let Some((squeeze, inner, gate)) = self.se {
            b.squeeze_excitation(&next(), e, squeeze, inner, gate);
        }
        let main = b.conv_norm_act(&next(), self.out, 1, 1, 1, norm, None);
        if self.stride == 1 && self.input == self.out {
            b.add(p, main, x);
        }
        b.group(first, p, kind);
    }
}

/// torchvision's `mobilenet_v3_small` / `_large`: inverted residuals with Hardswish or ReLU,
/// some with a squeeze-and-excitation gate (Hardsigmoid), batch norm at eps 0.001 and
/// momentum 0.01.
pub(super) fn mobilenet_v3(b: &mut Builder, large: bool, classes: u64) {
    use ActivationFn::{Hardsigmoid, Hardswish, Relu};
    let norm = bn_eps(0.001, 0.01);
    // (input, kernel, expanded, out, squeeze-and-excitation, hardswish, stride)
    let small: &[(u64, u64, u64, u64, bool, bool, u64)] = &[
        (16, 3, 16, 16, true, false, 2),
        (16, 3, 72, 24, false, false, 2),
        (24, 3, 88, 24, false, false, 1),
        (24, 5, 96, 40, true, true, 2),
        (40, 5, 240, 40, true, true, 1),
        (40, 5, 240, 40, true, true, 1),
        (40, 5, 120, 48, true, true, 1),
        (48, 5, 144, 48, true, true, 1),
        (48, 5, 288, 96, true, true, 2),
        (96, 5, 576, 96, true, true, 1),
        (96, 5, 576, 96, true, true, 1),
    ];
    let big: &[(u64, u64, u64, u64, bool, bool, u64)] = &[
        (16, 3, 16, 16, false, false, 1),
        (16, 3, 64, 24, false, false, 2),
        (24, 3, 72, 24, false, false, 1),
        (24, 5, 72, 40, true, false, 2),
        (40, 5, 120, 40, true, false, 1),
        (40, 5, 120, 40, true, false, 1),
        (40, 3, 240, 80, false, true, 2),
        (80, 3, 200, 80, false, true, 1),
        (80, 3, 184, 80, false, true, 1),
        (80, 3, 184, 80, false, true, 1),
        (80, 3, 480, 112, true, true, 1),
        (112, 3, 672, 112, true, true, 1),
        (112, 5, 672, 160, true, true, 2),
        (160, 5, 960, 160, true, true, 1),
        (160, 5, 960, 160, true, true, 1),
    ];
    let (setting, last_channel) = if large { (big, 1280) } else { (small, 1024) };
    b.conv_norm_act("features.0", 16, 3, 2, 1, &norm, Some(Hardswish));
    for (i, &(input, k, expanded, out, se, hs, stride)) in setting.iter().enumerate() {
        let act = if hs { Hardswish } else { Relu };
        let block = Inverted {
            input,
            expanded,
            out,
            kernel: k,
            stride,
            act,
            se: se.then(|| (make_divisible((expanded / 4) as f64, 8), Relu, Hardsigmoid)),
        };
        block.build(b, &format!("features.{}", i + 1), &norm, "InvertedResidual");
    }
    let last_in = setting.last().map_or(16, |s| s.3);
    let p = format!("features.{}", setting.len() + 1);
    b.conv_norm_act(&p, 6 * last_in, 1, 1, 1, &norm, Some(Hardswish));
    b.pool_flatten();
    b.then("classifier.0", Op::Linear(Linear::new(last_channel)));
    b.then("classifier.1", Op::Activation(Activation::new(Hardswish)));
    b.then("classifier.2", Op::Dropout(Dropout { p: 0.2 }));
    b.then("classifier.3", Op::Linear(Linear::new(classes)));
    b.then("output", output());
}

/// torchvision's `efficientnet_b0`: stages of MBConv blocks (`features.N.M.block.…`), each
/// with a squeeze-and-excitation gate (SiLU, sigmoid).
///
/// torchvision also drops whole residual branches at random while training (stochastic
/// depth, up to p = 0.2 in the last block); netloom has no such block yet, so these
/// templates train without it. Inference is the same: it is the identity in eval mode.
pub(super) fn efficientnet_b0(b: &mut Builder, classes: u64) {
    use ActivationFn::{Sigmoid, Silu};
    let norm = BatchNorm::default();
    // (expand ratio, kernel, stride, input, out, layers)
    let setting = [
        (1, 3, 1, 32, 16, 1),
        (6, 3, 2, 16, 24, 2),
        (6, 5, 2, 24, 40, 2),
        (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3),
        (6, 5, 2, 112, 192, 4),
        (6, 3, 1, 192, 320, 1),
    ];
    b.conv_norm_act("features.0", 32, 3, 2, 1, &norm, Some(Silu));
    for (stage, &(ratio, k, s, stage_in, out, layers)) in setting.iter().enumerate() {
        for i in 0..layers {
            let (input, stride) = if i == 0 { (stage_in, s) } else { (out, 1) };
            let block = Inverted {
                input,
                expanded: make_divisible((input * ratio) as f64, 8),
                out,
                kernel: k,
                stride,
                act: Silu,
                se: Some(((input / 4).max(1), Silu, Sigmoid)),
            };
            block.build(b, &format!("features.{}.{i}", stage + 1), &norm, "MBConv");
        }
    }
    b.conv_norm_act("features.8", 1280, 1, 1, 1, &norm, Some(Silu));
    b.pool_flatten();
    b.then("classifier.0", Op::Dropout(Dropout { p: 0.2 }));
    b.then("classifier.1", Op::Linear(Linear::new(classes)));
    b.then("output", output());
}
