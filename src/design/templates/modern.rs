//! The modern convolutional family: ConvNeXt, whose blocks borrow from transformers (a large
//! depthwise window, LayerNorm instead of BatchNorm, GELU, an inverted bottleneck, and a
//! learned layer scale on each residual branch).

use super::*;

/// torchvision's `LayerNorm2d` / `LayerNorm` as ConvNeXt configures it (eps 1e-6).
fn layer_norm() -> Op {
    Op::LayerNorm(LayerNorm {
        eps: 1e-6,
        elementwise_affine: true,
    })
}

/// torchvision's `convnext_tiny`: a 4×4 stride-4 "patchify" stem, four stages of 3, 3, 9 and 3
/// `CNBlock`s at 96, 192, 384 and 768 channels, each stage after the first entered through a
/// LayerNorm and a 2×2 stride-2 convolution.
///
/// A `CNBlock` is `block.0` a 7×7 depthwise convolution, `block.2` LayerNorm over the
/// channels, `block.3` and `block.5` the pointwise expansion to 4× and back with GELU
/// (`block.4`) between, then `layer_scale` and the residual `add`. torchvision's pointwise
/// layers are `nn.Linear` applied channels-last (`block.1` and `block.6` are its permutes);
/// netloom keeps images NCHW and makes them 1×1 convolutions, which compute the same and
/// load the Linear's `[out, in]` weights. Stochastic depth, a training-time regulariser, is
/// left out (inference is unaffected).
pub(super) fn convnext_tiny(b: &mut Builder, classes: u64) {
    let depths = [3u64, 3, 9, 3];
    let dims = [96u64, 192, 384, 768];
    b.then("features.0.0", conv(dims[0], 4, 4, 0, true));
    b.then("features.0.1", layer_norm());
    for (stage, (&depth, &dim)) in depths.iter().zip(&dims).enumerate() {
        let index = 2 * stage + 1;
        if stage > 0 {
            b.then(&format!("features.{}.0", index - 1), layer_norm());
            b.then(
                &format!("features.{}.1", index - 1),
                conv(dim, 2, 2, 0, true),
            );
        }
        for i in 0..depth {
            let p = format!("features.{index}.{i}");
            let first = b.design.next_id();
            let input = b.last;
            let mut dw = Conv2d::new(dim, 7);
            dw.padding = Pair::Same(3);
            dw.groups = dim;
            b.then(&format!("{p}.block.0"), Op::Conv2d(dw));
            b.then(&format!("{p}.block.2"), layer_norm());
            b.then(&format!("{p}.block.3"), conv(4 * dim, 1, 1, 0, true));
            b.then(
                &format!("{p}.block.4"),
                Op::Activation(Activation::new(ActivationFn::Gelu)),
            );
            b.then(&format!("{p}.block.5"), conv(dim, 1, 1, 0, true));
            let scaled = b.then(
                &format!("{p}.layer_scale"),
                Op::LayerScale(LayerScale::default()),
            );
            b.add(&p, scaled, input);
            b.group(first, &p, "CNBlock");
        }
    }
    b.then("avgpool", adaptive(1));
    b.then("classifier.0", layer_norm());
    b.then("classifier.1", Op::Flatten(Flatten {}));
    b.then("classifier.2", Op::Linear(Linear::new(classes)));
    b.then("output", output());
}
