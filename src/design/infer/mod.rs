//! Shape inference for one node, with PyTorch's exact output-size formulas, plus the node's
//! parameter count and multiply-add count.
//!
//! Pure integer arithmetic with no libtorch, so the canvas can re-run it on every edit. All
//! arithmetic saturates or widens: no design, however absurd, may overflow or panic here.
//!
//! MACs count the multiply-adds of one forward pass for one sample: Conv2d and Linear fully,
//! one per element for BatchNorm's scale-and-shift, and one per summed element for average
//! pooling, one per element and extra input for Mul, two per element for LayerNorm (normalise,
//! then scale and shift) and one for LayerScale. Max pooling, activations, dropout, Add and
//! Concat count zero.

use super::op::*;
use super::pair::Pair;
use super::shape::{MAX_RANK, Shape};

mod norm;
mod transpose;

use norm::{batch_norm, dropout, layer_norm, layer_scale};

/// What inference learns about one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeCost {
    /// The node's output shape (per sample).
    pub output: Shape,
    /// Trainable parameters (what `sum(p.numel() for p in m.parameters())` gives in PyTorch).
    pub params: u64,
    /// Multiply-adds of one forward pass of one sample.
    pub macs: u64,
}

/// Why a node's output can't be inferred: one sentence for a learner, without the node's
/// name (analysis puts the name in front and files it as the node's `Problem`). A sentence is
/// the product here, not a lost structure: every rule words its own fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShapeError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, ShapeError> {
    Err(ShapeError(message.into()))
}

/// One input to a node: the producing node's name and the shape on the wire.
pub type Incoming<'a> = (&'a str, &'a Shape);

/// Infers one node's output from its inputs. The error is a sentence for a learner, without
/// the node's name (the caller puts it in front).
pub fn infer(op: &Op, inputs: &[Incoming<'_>]) -> Result<NodeCost, ShapeError> {
    match op {
        Op::Input(i) => input(i),
        Op::Conv2d(c) => conv2d(c, single(inputs)?),
        Op::ConvTranspose2d(c) => transpose::conv_transpose2d(c, single(inputs)?),
        Op::Upsample(u) => transpose::upsample(u, single(inputs)?),
        Op::CropPad(p) => transpose::crop_pad(p, single(inputs)?),
        Op::MaxPool2d(p) => pool2d(p, single(inputs)?, "MaxPool2d"),
        Op::AvgPool2d(p) => pool2d(p, single(inputs)?, "AvgPool2d"),
        Op::AdaptiveAvgPool2d(p) => adaptive_pool(p, single(inputs)?),
        Op::BatchNorm(b) => batch_norm(b, single(inputs)?),
        Op::LayerNorm(l) => layer_norm(l, single(inputs)?),
        Op::LayerScale(l) => layer_scale(l, single(inputs)?),
        Op::Dropout(d) => dropout(d, single(inputs)?, false),
        Op::Dropout2d(d) => dropout(d, single(inputs)?, true),
        Op::Activation(a) => activation(a, single(inputs)?),
        Op::Flatten(_) => {
            let x = single(inputs)?;
            Ok(free(Shape::vector(x.numel())))
        }
        Op::Linear(l) => linear(l, single(inputs)?),
        Op::Add(_) => add(inputs),
        Op::Concat(_) => concat(inputs),
        Op::Mul(_) => mul(inputs),
        Op::Output(o) => output(o, single(inputs)?),
    }
}

fn single<'a>(inputs: &[Incoming<'a>]) -> Result<&'a Shape, ShapeError> {
    match inputs {
        [(_, s)] => Ok(s),
        [] => fail("has no input: wire a block's output into it".to_owned()),
        _ => fail(format!(
            "has {} wires into it but takes one: remove the extra ones, or join them first with Add or Concat",
            inputs.len()
        )),
    }
}

/// A node with no parameters and no multiply-adds.
fn free(output: Shape) -> NodeCost {
    NodeCost {
        output,
        params: 0,
        macs: 0,
    }
}

fn describe(s: &Shape) -> String {
    match s.rank() {
        1 => format!("a flat vector of {s}"),
        3 => format!("a {s} image"),
        _ => format!("a tensor of shape {s}"),
    }
}

fn need_image(s: &Shape, what: &str) -> Result<(u64, u64, u64), ShapeError> {
    s.as_image().ok_or_else(|| {
        ShapeError(format!(
            "{what} works on images (channels×height×width) but gets {}: move it before Flatten/Linear, or remove it",
            describe(s)
        ))
    })
}

fn input(i: &InputOp) -> Result<NodeCost, ShapeError> {
    let shape = match (i.channels, i.height, i.width, i.features) {
        (Some(c), Some(h), Some(w), None) => Shape::image(c, h, w),
        (None, None, None, Some(f)) => Shape::vector(f),
        (None, None, None, None) => {
            return fail(
                "has no shape: give channels, height and width for images, or features for vectors"
                    .to_owned(),
            );
        }
        (_, _, _, Some(_)) => {
            return fail("gives both an image shape and features: keep channels/height/width for images, or only features for vectors".to_owned());
        }
        _ => {
            return fail(
                "gives only part of an image shape: set all of channels, height and width"
                    .to_owned(),
            );
        }
    };
    if shape.dims().contains(&0) {
        return fail(format!(
            "has a zero-sized shape {shape}: every size must be at least 1"
        ));
    }
    Ok(free(shape))
}

fn positive(name: &str, p: Pair, hint: &str) -> Result<(), ShapeError> {
    if p.h() == 0 || p.w() == 0 {
        return fail(format!("{name} is {p} but must be at least 1: {hint}"));
    }
    Ok(())
}

/// The most zero-padding a convolution may add per side: far past any use (a 3×3 filter
/// wants 1), low enough that the padded size stays a number people can read.
const MAX_PADDING: u64 = 65_536;

/// PyTorch's `conv2d` output size for one spatial dimension (None when the kernel doesn't fit).
fn conv_out(input: u64, kernel: u64, stride: u64, pad: u64, dilation: u64) -> Option<u64> {
    let span = i128::from(dilation) * (i128::from(kernel) - 1) + 1;
    let padded = i128::from(input) + 2 * i128::from(pad);
    if span > padded {
        return None;
    }
    u64::try_from((padded - span) / i128::from(stride) + 1).ok()
}

fn conv2d(c: &Conv2d, x: &Shape) -> Result<NodeCost, ShapeError> {
    let (cin, h, w) = need_image(x, "Conv2d")?;
    if c.out_channels == 0 {
        return fail("out_channels is 0: a convolution needs at least 1 filter".to_owned());
    }
    positive("kernel_size", c.kernel_size, "use e.g. 3 for 3×3 filters")?;
    positive("stride", c.stride, "use 1 to keep the size, 2 to halve it")?;
    positive("dilation", c.dilation, "use 1 for an ordinary convolution")?;
    if c.groups == 0 {
        return fail("groups is 0: use 1 for an ordinary convolution".to_owned());
    }
    if c.padding.h().max(c.padding.w()) > MAX_PADDING {
        // Said as what it is: the kernel-too-big message would blame the kernel.
        return fail(format!(
            "padding {} is far larger than any input ({MAX_PADDING} at most): use e.g. 1 for 3×3 filters, or 0",
            c.padding
        ));
    }
    if !cin.is_multiple_of(c.groups) {
        return fail(format!(
            "its {cin} input channels can't be split into {} groups: groups must divide the input channels",
            c.groups
        ));
    }
    if !c.out_channels.is_multiple_of(c.groups) {
        return fail(format!(
            "its {} out_channels can't be split into {} groups: groups must divide out_channels",
            c.out_channels, c.groups
        ));
    }
    let oh = conv_out(
        h,
        c.kernel_size.h(),
        c.stride.h(),
        c.padding.h(),
        c.dilation.h(),
    );
    let ow = conv_out(
        w,
        c.kernel_size.w(),
        c.stride.w(),
        c.padding.w(),
        c.dilation.w(),
    );
    let (Some(oh), Some(ow)) = (oh, ow) else {
        return fail(kernel_too_big(c.kernel_size, c.dilation, c.padding, h, w));
    };
    let per_filter = (cin / c.groups)
        .saturating_mul(c.kernel_size.h())
        .saturating_mul(c.kernel_size.w());
    let bias = if c.bias { c.out_channels } else { 0 };
    let output = Shape::image(c.out_channels, oh, ow);
    Ok(NodeCost {
        params: c
            .out_channels
            .saturating_mul(per_filter)
            .saturating_add(bias),
        macs: output.numel().saturating_mul(per_filter),
        output,
    })
}

fn kernel_too_big(k: Pair, dilation: Pair, pad: Pair, h: u64, w: u64) -> String {
    let mut kernel = format!("{k} kernel");
    if dilation != Pair::Same(1) {
        let span_h = dilation
            .h()
            .saturating_mul(k.h().saturating_sub(1))
            .saturating_add(1);
        let span_w = dilation
            .w()
            .saturating_mul(k.w().saturating_sub(1))
            .saturating_add(1);
        kernel = format!("{kernel} (spanning {span_h}×{span_w} with dilation {dilation})");
    }
    let mut input = format!("{h}×{w} input");
    if pad.h() > 0 || pad.w() > 0 {
        let ph = h.saturating_add(pad.h().saturating_mul(2));
        let pw = w.saturating_add(pad.w().saturating_mul(2));
        input = format!("{input} ({ph}×{pw} with padding)");
    }
    format!(
        "its {kernel} is larger than its {input}: lower kernel_size, or remove a pooling layer before it"
    )
}

/// PyTorch's `pooling_output_shape` for one dimension (dilation 1), or None when too small.
/// PyTorch's pooling output length along one axis (dilation 1): with `ceil`, rounded up, but
/// a last window that would start in the right padding is dropped. None when no window fits.
pub fn pool_out(input: u64, kernel: u64, stride: u64, pad: u64, ceil: bool) -> Option<u64> {
    let (input, kernel, stride, pad) = (
        i128::from(input),
        i128::from(kernel),
        i128::from(stride),
        i128::from(pad),
    );
    let num = input + 2 * pad - (kernel - 1) - 1 + if ceil { stride - 1 } else { 0 };
    let mut out = num.div_euclid(stride) + 1;
    if ceil && (out - 1) * stride >= input + pad {
        out -= 1;
    }
    if out < 1 {
        None
    } else {
        u64::try_from(out).ok()
    }
}

fn pool2d(p: &Pool2d, x: &Shape, what: &str) -> Result<NodeCost, ShapeError> {
    let (c, h, w) = need_image(x, what)?;
    let stride = p.effective_stride();
    positive("kernel_size", p.kernel_size, "use e.g. 2 to halve the size")?;
    positive("stride", stride, "leave it out to use the kernel size")?;
    if p.padding.h() > p.kernel_size.h() / 2 || p.padding.w() > p.kernel_size.w() / 2 {
        return fail(format!(
            "padding {} is more than half its {} window: use at most {} padding",
            p.padding,
            p.kernel_size,
            p.kernel_size.min() / 2
        ));
    }
    let oh = pool_out(h, p.kernel_size.h(), stride.h(), p.padding.h(), p.ceil_mode);
    let ow = pool_out(w, p.kernel_size.w(), stride.w(), p.padding.w(), p.ceil_mode);
    let (Some(oh), Some(ow)) = (oh, ow) else {
        return fail(format!(
            "its {} window is larger than its {h}×{w} input: lower kernel_size, or remove a pooling layer before it",
            p.kernel_size
        ));
    };
    let output = Shape::image(c, oh, ow);
    let macs = if what == "AvgPool2d" {
        output
            .numel()
            .saturating_mul(p.kernel_size.h().saturating_mul(p.kernel_size.w()))
    } else {
        0
    };
    Ok(NodeCost {
        output,
        params: 0,
        macs,
    })
}

fn adaptive_pool(p: &AdaptivePool2d, x: &Shape) -> Result<NodeCost, ShapeError> {
    let (c, _, _) = need_image(x, "AdaptiveAvgPool2d")?;
    positive(
        "output_size",
        p.output_size,
        "use 1 for global average pooling",
    )?;
    Ok(NodeCost {
        output: Shape::image(c, p.output_size.h(), p.output_size.w()),
        params: 0,
        macs: x.numel(),
    })
}

fn activation(a: &Activation, x: &Shape) -> Result<NodeCost, ShapeError> {
    let f = a.function;
    let stray = [
        (
            "negative_slope",
            a.negative_slope.is_some(),
            ActivationFn::LeakyRelu,
        ),
        ("alpha", a.alpha.is_some(), ActivationFn::Elu),
        ("dim", a.dim.is_some(), ActivationFn::Softmax),
        ("min_val", a.min_val.is_some(), ActivationFn::Hardtanh),
        ("max_val", a.max_val.is_some(), ActivationFn::Hardtanh),
    ];
    for (param, set, owner) in stray {
        if set && f != owner {
            return fail(format!(
                "{param} only applies to {}, not {}: remove it",
                owner.name(),
                f.name()
            ));
        }
    }
    for (param, v) in [
        ("negative_slope", a.negative_slope),
        ("alpha", a.alpha),
        ("min_val", a.min_val),
        ("max_val", a.max_val),
    ] {
        if v.is_some_and(|v| !v.is_finite()) {
            return fail(format!("{param} must be a finite number"));
        }
    }
    if f == ActivationFn::Hardtanh {
        let (lo, hi) = a.bounds();
        if lo >= hi {
            return fail(format!(
                "min_val {lo} is not below max_val {hi}: hardtanh clamps to [min_val, max_val], so make min_val the smaller"
            ));
        }
    }
    if f == ActivationFn::Softmax {
        let rank = i64::try_from(x.rank())
            .unwrap_or(i64::MAX)
            .saturating_add(1);
        let dim = a.dim();
        if dim == 0 || dim == -rank {
            return fail(
                "softmax over dim 0 mixes the samples of a batch: use dim 1 (the classes)"
                    .to_owned(),
            );
        }
        if dim >= rank || dim < -rank {
            return fail(format!(
                "softmax dim {dim} is out of range for a batch of {}: use 1 to {}",
                describe(x),
                rank - 1
            ));
        }
    }
    Ok(free(*x))
}

fn linear(l: &Linear, x: &Shape) -> Result<NodeCost, ShapeError> {
    let Some(fin) = x.as_vector() else {
        return fail(format!(
            "expects a flat vector but gets {x}: insert Flatten before it"
        ));
    };
    if l.out_features == 0 {
        return fail("out_features is 0: a layer needs at least 1 output".to_owned());
    }
    let weights = fin.saturating_mul(l.out_features);
    Ok(NodeCost {
        output: Shape::vector(l.out_features),
        params: weights.saturating_add(if l.bias { l.out_features } else { 0 }),
        macs: weights,
    })
}

fn at_least_two(inputs: &[Incoming<'_>], verb: &str) -> Result<(), ShapeError> {
    if inputs.len() < 2 {
        return fail(format!(
            "{verb} two or more inputs but has {}: wire another block into it",
            inputs.len()
        ));
    }
    Ok(())
}

fn add(inputs: &[Incoming<'_>]) -> Result<NodeCost, ShapeError> {
    at_least_two(inputs, "adds")?;
    let (first_name, first) = inputs[0];
    for (name, s) in &inputs[1..] {
        if *s != first {
            let hint = match (first.as_image(), s.as_image()) {
                (Some((c1, h1, w1)), Some((c2, h2, w2))) if (h1, w1) == (h2, w2) && c1 != c2 => {
                    "the channels differ: give the shortcut a 1×1 Conv2d to match them"
                }
                (Some(_), Some(_)) => {
                    "the sizes differ: give the shortcut a Conv2d with the same stride as the main path"
                }
                _ => "make both branches produce the same shape",
            };
            return fail(format!(
                "can only add equal shapes, but {first_name} gives {first} and {name} gives {s}: {hint}"
            ));
        }
    }
    Ok(free(*first))
}

fn concat(inputs: &[Incoming<'_>]) -> Result<NodeCost, ShapeError> {
    at_least_two(inputs, "joins")?;
    let (first_name, first) = inputs[0];
    let mut lead: u64 = 0;
    for (name, s) in inputs {
        let same_rest = s.rank() == first.rank() && s.dims().get(1..) == first.dims().get(1..);
        if let (false, Some((_, fh, fw)), Some((_, h, w))) =
            (same_rest, first.as_image(), s.as_image())
        {
            // A skip connection a few pixels off (a U-Net's unpadded convolutions, an odd
            // size halved): the exact CropPad that lines them up, either way.
            let crop = crate::design::CropPad::to_size((fh, fw), (h, w));
            let pad = crate::design::CropPad::to_size((h, w), (fh, fw));
            let sides = |p: crate::design::CropPad| {
                format!(
                    "top {}, bottom {}, left {}, right {}",
                    p.top, p.bottom, p.left, p.right
                )
            };
            return fail(format!(
                "joins along channels, so heights and widths must match, but {first_name} gives {first} and {name} gives {s}: put a CropPad of {} after {first_name} (making it {h}×{w}), or one of {} after {name} (making it {fh}×{fw})",
                sides(crop),
                sides(pad)
            ));
        }
        if !same_rest {
            return fail(format!(
                "joins along channels, so all other sizes must match, but {first_name} gives {first} and {name} gives {s}: make their heights and widths equal"
            ));
        }
        lead = lead.saturating_add(s.dims().first().copied().unwrap_or(0));
    }
    let mut dims = [0u64; MAX_RANK];
    let rest = first.dims().get(1..).unwrap_or_default();
    dims[0] = lead;
    dims[1..=rest.len()].copy_from_slice(rest);
    Shape::new(&dims[..=rest.len()])
        .map(free)
        .ok_or_else(|| ShapeError(format!("can't join {}-dimensional inputs", first.rank())))
}

/// Numpy's broadcasting on shapes of one rank (the batch dimension is shared): each size equal
/// or 1. The squeeze-and-excitation gate is `[C,1,1] × [C,H,W]`.
fn mul(inputs: &[Incoming<'_>]) -> Result<NodeCost, ShapeError> {
    at_least_two(inputs, "multiplies")?;
    let (first_name, first) = inputs[0];
    let mut out: Vec<u64> = first.dims().to_vec();
    for (name, s) in &inputs[1..] {
        if s.rank() != first.rank() {
            // The batch dimension leads every tensor, so broadcasting across ranks would align
            // a sample's channels with another's batch: PyTorch's `a * b` would go wrong too.
            return fail(format!(
                "multiplies tensors of the same rank, but {first_name} gives {} and {name} gives {}: keep both images, or both vectors",
                describe(first),
                describe(s)
            ));
        }
        let mut next = Vec::with_capacity(out.len());
        for (&x, &y) in out.iter().zip(s.dims()) {
            if x != y && x != 1 && y != 1 {
                return fail(format!(
                    "multiplies element by element, so each size must match or be 1, but {first_name} gives {first} and {name} gives {s}: for a gate, give one branch size 1 where the other varies (a C×1×1 gate scales a C×H×W map)"
                ));
            }
            next.push(x.max(y));
        }
        out = next;
    }
    let shape = Shape::new(&out)
        .ok_or_else(|| ShapeError(format!("can't multiply {}-dimensional inputs", out.len())))?;
    // One multiply per output element and extra input.
    let macs = shape
        .numel()
        .saturating_mul(inputs.len().saturating_sub(1) as u64);
    Ok(NodeCost {
        output: shape,
        params: 0,
        macs,
    })
}

fn output(o: &OutputOp, x: &Shape) -> Result<NodeCost, ShapeError> {
    if o.loss == Loss::CrossEntropy {
        // A score per class at every pixel (segmentation) is cross-entropy's too.
        if let Some((c, _, _)) = x.as_image() {
            if c < 2 {
                return fail(format!(
                    "cross_entropy per pixel needs a score per class at every pixel, at least 2 channels, but gets {c}: end the network in a Conv2d with a channel per class"
                ));
            }
            return Ok(free(*x));
        }
        match x.as_vector() {
            None => {
                return fail(format!(
                    "cross_entropy needs a vector of class scores (or, for segmentation, a score per class at every pixel) but gets {}: end the network with Flatten and a Linear whose out_features is the number of classes",
                    describe(x)
                ));
            }
            Some(n) if n < 2 => {
                return fail(format!(
                    "cross_entropy needs a score per class, at least 2, but gets {n}: set the last Linear's out_features to the number of classes"
                ));
            }
            Some(_) => {}
        }
    }
    Ok(free(*x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(op: Op, x: Shape) -> Result<NodeCost, ShapeError> {
        infer(&op, &[("x", &x)])
    }

    #[test]
    fn lenet_conv_matches_hand_computation() {
        let c = run(Op::Conv2d(Conv2d::new(6, 5)), Shape::image(1, 28, 28)).unwrap();
        assert_eq!(c.output, Shape::image(6, 24, 24));
        assert_eq!(c.params, 6 * 25 + 6);
        assert_eq!(c.macs, 6 * 24 * 24 * 25);
    }

    #[test]
    fn kernel_larger_than_input_is_explained() {
        let e = run(Op::Conv2d(Conv2d::new(8, 5)), Shape::image(4, 3, 3)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "its 5×5 kernel is larger than its 3×3 input: lower kernel_size, or remove a pooling layer before it"
        );
    }

    #[test]
    fn linear_on_image_asks_for_flatten() {
        let e = run(Op::Linear(Linear::new(120)), Shape::image(16, 5, 5)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expects a flat vector but gets 16×5×5: insert Flatten before it"
        );
    }

    #[test]
    fn ceil_mode_drops_a_window_that_starts_in_padding() {
        // PyTorch: MaxPool2d(2, stride=2, ceil_mode=True) on 5 → 3; on 4 → 2.
        assert_eq!(pool_out(5, 2, 2, 0, true), Some(3));
        assert_eq!(pool_out(4, 2, 2, 0, true), Some(2));
        assert_eq!(pool_out(5, 3, 2, 1, true), Some(3));
        assert_eq!(pool_out(1, 2, 2, 0, false), None);
    }

    #[test]
    fn mul_broadcasts_a_channel_gate_and_explains_a_mismatch() {
        let gate = Shape::image(8, 1, 1);
        let map = Shape::image(8, 5, 5);
        let c = infer(&Op::Mul(Merge {}), &[("map", &map), ("gate", &gate)]).unwrap();
        assert_eq!(c.output, map);
        assert_eq!(c.macs, 8 * 25);
        let wrong = Shape::image(4, 1, 1);
        let e = infer(&Op::Mul(Merge {}), &[("map", &map), ("gate", &wrong)]).unwrap_err();
        assert!(
            e.to_string()
                .contains("map gives 8×5×5 and gate gives 4×1×1"),
            "{e}"
        );
        let flat = Shape::vector(8);
        let e = infer(&Op::Mul(Merge {}), &[("map", &map), ("v", &flat)]).unwrap_err();
        assert!(e.to_string().contains("same rank"), "{e}");
        let one = infer(&Op::Mul(Merge {}), &[("map", &map)]).unwrap_err();
        assert!(
            one.to_string().starts_with("multiplies two or more"),
            "{one}"
        );
    }

    #[test]
    fn hardtanh_needs_ordered_bounds_and_only_hardtanh_takes_them() {
        let x = Shape::vector(4);
        let bad = Activation::hardtanh(2.0, 1.0);
        let e = run(Op::Activation(bad), x).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("min_val 2 is not below max_val 1"),
            "{e}"
        );
        let mut stray = Activation::new(ActivationFn::Relu6);
        stray.max_val = Some(6.0);
        let e = run(Op::Activation(stray), x).unwrap_err();
        assert_eq!(
            e.to_string(),
            "max_val only applies to Hardtanh, not ReLU6: remove it"
        );
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let mut c = Conv2d::new(u64::MAX, 1);
        c.stride = Pair::Same(u64::MAX);
        let r = run(Op::Conv2d(c), Shape::image(u64::MAX, u64::MAX, u64::MAX));
        assert!(r.is_ok());
    }

    #[test]
    fn absurd_padding_is_blamed_not_the_kernel() {
        let mut c = Conv2d::new(8, 3);
        c.padding = Pair::Same(u64::MAX);
        let e = run(Op::Conv2d(c), Shape::image(1, 28, 28)).unwrap_err();
        assert!(e.to_string().starts_with("padding "), "{e}");
        assert!(!e.to_string().contains("kernel is larger"), "{e}");
    }
}
