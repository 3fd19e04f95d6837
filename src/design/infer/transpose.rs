//! The transposed convolution's shape rule, PyTorch's exactly: per side,
//! `(in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1`, with
//! `output_padding` below the stride or the dilation (PyTorch refuses it otherwise).

use super::{MAX_PADDING, NodeCost, ShapeError, fail, need_image, positive};
use crate::design::op::ConvTranspose2d;
use crate::design::pair::Pair;
use crate::design::shape::Shape;

/// One side's output size, or None when the padding removes everything.
fn side(input: u64, kernel: u64, stride: u64, pad: u64, dilation: u64, extra: u64) -> Option<u64> {
    let grown = input
        .saturating_sub(1)
        .checked_mul(stride)?
        .checked_add(dilation.checked_mul(kernel.saturating_sub(1))?)?
        .checked_add(extra)?
        .checked_add(1)?;
    grown.checked_sub(pad.checked_mul(2)?).filter(|&o| o > 0)
}

/// ConvTranspose2d: C×H×W → out_channels×H'×W'.
pub(super) fn conv_transpose2d(c: &ConvTranspose2d, x: &Shape) -> Result<NodeCost, ShapeError> {
    let (cin, h, w) = need_image(x, "ConvTranspose2d")?;
    if c.out_channels == 0 {
        return fail("out_channels is 0: it needs at least 1 output channel".to_owned());
    }
    positive(
        "kernel_size",
        c.kernel_size,
        "use e.g. 2 with stride 2 to double the size",
    )?;
    positive("stride", c.stride, "use 2 to double the size, 1 to keep it")?;
    positive(
        "dilation",
        c.dilation,
        "use 1 for an ordinary transposed convolution",
    )?;
    if c.groups == 0 {
        return fail("groups is 0: use 1 for an ordinary transposed convolution".to_owned());
    }
    if c.padding.h().max(c.padding.w()) > MAX_PADDING {
        return fail(format!(
            "padding {} is far larger than any output ({MAX_PADDING} at most)",
            c.padding
        ));
    }
    for (op, s, d, axis) in [
        (c.output_padding.h(), c.stride.h(), c.dilation.h(), "height"),
        (c.output_padding.w(), c.stride.w(), c.dilation.w(), "width"),
    ] {
        if op >= s.max(d) {
            return fail(format!(
                "output_padding {op} (in {axis}) must be smaller than the stride {s} or the dilation {d}: it only picks among the sizes a stride makes possible"
            ));
        }
    }
    if !cin.is_multiple_of(c.groups) || !c.out_channels.is_multiple_of(c.groups) {
        return fail(format!(
            "groups {} must divide both its {cin} input channels and its {} out_channels",
            c.groups, c.out_channels
        ));
    }
    let at = |p: fn(Pair) -> u64, input| {
        side(
            input,
            p(c.kernel_size),
            p(c.stride),
            p(c.padding),
            p(c.dilation),
            p(c.output_padding),
        )
    };
    let (Some(oh), Some(ow)) = (at(Pair::h, h), at(Pair::w, w)) else {
        return fail(format!(
            "padding {} removes the whole {h}×{w} output: lower the padding",
            c.padding
        ));
    };
    let per_input = (c.out_channels / c.groups)
        .saturating_mul(c.kernel_size.h())
        .saturating_mul(c.kernel_size.w());
    let bias = if c.bias { c.out_channels } else { 0 };
    Ok(NodeCost {
        output: Shape::image(c.out_channels, oh, ow),
        params: cin.saturating_mul(per_input).saturating_add(bias),
        // Every input value is multiplied by each of its group's output taps.
        macs: x.numel().saturating_mul(per_input),
    })
}
