//! Shape rules of the normalising blocks: BatchNorm, LayerNorm, LayerScale and dropout. They
//! keep the shape; what differs is which dimension they count parameters over.

use super::{NodeCost, ShapeError, describe, fail, free, need_image};
use crate::design::op::{BatchNorm, Dropout, LayerNorm, LayerScale};
use crate::design::shape::Shape;

/// The channels of an image, the features of a vector: the dimension a norm's per-channel
/// parameters run over.
fn channels(x: &Shape, what: &str) -> Result<u64, ShapeError> {
    match x.dims() {
        [c, _, _] | [c] => Ok(*c),
        _ => fail(format!(
            "{what} works on images or flat vectors but gets {}",
            describe(x)
        )),
    }
}

fn positive_eps(eps: f64) -> Result<(), ShapeError> {
    if eps.is_finite() && eps > 0.0 {
        Ok(())
    } else {
        fail(format!(
            "eps is {eps}; it must be a small positive number such as 1e-5"
        ))
    }
}

/// BatchNorm2d on images, BatchNorm1d on vectors.
pub(super) fn batch_norm(b: &BatchNorm, x: &Shape) -> Result<NodeCost, ShapeError> {
    let features = channels(x, "BatchNorm")?;
    positive_eps(b.eps)?;
    if !(b.momentum.is_finite() && (0.0..=1.0).contains(&b.momentum)) {
        return fail(format!(
            "momentum is {}; use a value between 0 and 1, e.g. 0.1",
            b.momentum
        ));
    }
    Ok(NodeCost {
        output: *x,
        params: if b.affine {
            features.saturating_mul(2)
        } else {
            0
        },
        macs: x.numel(),
    })
}

/// Dropout keeps any shape; Dropout2d needs whole channels to drop.
pub(super) fn dropout(d: &Dropout, x: &Shape, channels: bool) -> Result<NodeCost, ShapeError> {
    if channels {
        need_image(x, "Dropout2d (it drops whole channels)")
            .map_err(|e| ShapeError(format!("{e}; use Dropout on vectors")))?;
    }
    if !(d.p.is_finite() && (0.0..1.0).contains(&d.p)) {
        return fail(format!(
            "p is {}; it is the probability of dropping, from 0 up to below 1 (0.5 is common)",
            d.p
        ));
    }
    Ok(free(*x))
}

/// LayerNorm over the channels at each pixel of an image, or over a vector's features.
pub(super) fn layer_norm(l: &LayerNorm, x: &Shape) -> Result<NodeCost, ShapeError> {
    let features = channels(x, "LayerNorm")?;
    positive_eps(l.eps)?;
    Ok(NodeCost {
        output: *x,
        params: if l.elementwise_affine {
            features.saturating_mul(2)
        } else {
            0
        },
        macs: x.numel().saturating_mul(2),
    })
}

/// A per-channel scale: one parameter per channel (or feature).
pub(super) fn layer_scale(l: &LayerScale, x: &Shape) -> Result<NodeCost, ShapeError> {
    let features = channels(x, "LayerScale")?;
    if !l.init.is_finite() {
        return fail(format!(
            "init is {}; give the scale's starting value, e.g. 1e-6",
            l.init
        ));
    }
    Ok(NodeCost {
        output: *x,
        params: features,
        macs: x.numel(),
    })
}
