//! The shape rules of upsampling, PyTorch's exactly. The transposed convolution, per side:
//! `(in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1`, with
//! `output_padding` below the stride or the dilation (PyTorch refuses it otherwise); Upsample:
//! `⌊in · scale⌋` or the size given.

use super::{MAX_PADDING, NodeCost, ShapeError, fail, need_image, positive};
use crate::design::op::{ConvTranspose2d, CropPad, Upsample, UpsampleMode};
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

/// Upsample: C×H×W → C×H'×W', by a scale (⌊H·s⌋) or to a size.
pub(super) fn upsample(u: &Upsample, x: &Shape) -> Result<NodeCost, ShapeError> {
    let (c, h, w) = need_image(x, "Upsample")?;
    match (u.scale_factor, u.size) {
        (Some(_), Some(_)) => {
            return fail("has both scale_factor and size: keep one".to_owned());
        }
        (None, None) => {
            return fail("has neither scale_factor nor size: give one (scale_factor 2 doubles height and width)".to_owned());
        }
        (Some(s), None) if !(s.is_finite() && s > 0.0) => {
            return fail(format!(
                "scale_factor is {s}; use a positive number such as 2"
            ));
        }
        _ => {}
    }
    if u.align_corners && u.mode == UpsampleMode::Nearest {
        return fail(
            "align_corners only applies to bilinear: turn it off, or pick bilinear".to_owned(),
        );
    }
    let Some((oh, ow)) = u.output_size(h, w) else {
        return fail(format!(
            "gives no output from a {h}×{w} image: use a larger scale_factor or size"
        ));
    };
    let output = Shape::image(c, oh, ow);
    Ok(NodeCost {
        output,
        params: 0,
        // Bilinear weighs four input pixels per output value; nearest copies one.
        macs: match u.mode {
            UpsampleMode::Nearest => 0,
            UpsampleMode::Bilinear => output.numel().saturating_mul(4),
        },
    })
}

/// CropPad: each side grows by its count (zeros) or, negative, loses that many rows or
/// columns; at least one row and column must be left.
pub(super) fn crop_pad(p: &CropPad, x: &Shape) -> Result<NodeCost, ShapeError> {
    let (c, h, w) = need_image(x, "CropPad")?;
    let oh = h as i64 + p.top + p.bottom;
    let ow = w as i64 + p.left + p.right;
    // The negative sides crop first (as F.pad does): they must leave a row and a column.
    let kept_h = h as i64 + p.top.min(0) + p.bottom.min(0);
    let kept_w = w as i64 + p.left.min(0) + p.right.min(0);
    if kept_h < 1 || kept_w < 1 {
        return fail(format!(
            "crops a {h}×{w} image to {}×{} before padding it: leave at least one row and column (crop less)",
            kept_h.max(0),
            kept_w.max(0)
        ));
    }
    let most = MAX_PADDING as i64;
    if p.top.max(p.bottom) > most || p.left.max(p.right) > most {
        return fail(format!(
            "adds more than {most} rows or columns on a side: a pad that large is a mistake"
        ));
    }
    Ok(NodeCost {
        output: Shape::image(c, oh as u64, ow as u64),
        params: 0,
        macs: 0,
    })
}
