//! Tensor shapes as the design core sees them: one sample, without the batch dimension.
//!
//! PyTorch shapes are `[N, C, H, W]` or `[N, F]`; every layer here works per sample, so the batch
//! dimension is left out and added back only where a shape meets libtorch.

use serde::{Serialize, Serializer};
use std::fmt;

/// The most dimensions a per-sample shape has (images have 3).
pub const MAX_RANK: usize = 4;

/// The shape of one sample, e.g. `[1, 28, 28]` for a grayscale image or `[10]` for logits.
///
/// Stored inline and `Copy`: the canvas re-analyses the whole design on every edit, and a heap
/// allocation per node would be most of that cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    dims: [u64; MAX_RANK],
    rank: u8,
}

impl Shape {
    /// A shape from its dimensions, outermost first; None beyond [`MAX_RANK`] dimensions.
    pub fn new(dims: &[u64]) -> Option<Self> {
        let mut inline = [0; MAX_RANK];
        inline.get_mut(..dims.len())?.copy_from_slice(dims);
        Some(Self {
            dims: inline,
            rank: dims.len() as u8,
        })
    }

    /// An image shape `channels × height × width`.
    pub fn image(channels: u64, height: u64, width: u64) -> Self {
        Self {
            dims: [channels, height, width, 0],
            rank: 3,
        }
    }

    /// A flat vector of `features`.
    pub fn vector(features: u64) -> Self {
        Self {
            dims: [features, 0, 0, 0],
            rank: 1,
        }
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[u64] {
        &self.dims[..usize::from(self.rank).min(MAX_RANK)]
    }

    /// How many dimensions (1 for a vector, 3 for an image).
    pub fn rank(&self) -> usize {
        self.dims().len()
    }

    /// The number of elements in one sample; saturates instead of overflowing on absurd designs.
    pub fn numel(&self) -> u64 {
        self.dims()
            .iter()
            .fold(1u64, |acc, &d| acc.saturating_mul(d))
    }

    /// `(channels, height, width)` when this is an image shape.
    pub fn as_image(&self) -> Option<(u64, u64, u64)> {
        match *self.dims() {
            [c, h, w] => Some((c, h, w)),
            _ => None,
        }
    }

    /// The feature count when this is a flat vector.
    pub fn as_vector(&self) -> Option<u64> {
        match *self.dims() {
            [f] => Some(f),
            _ => None,
        }
    }
}

impl Serialize for Shape {
    /// As a plain list of dimensions: `[6, 28, 28]`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.dims().serialize(s)
    }
}

impl fmt::Display for Shape {
    /// Written the way people say it: `16×5×5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.dims().iter().enumerate() {
            if i > 0 {
                f.write_str("×")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_with_times_sign() {
        assert_eq!(Shape::image(16, 5, 5).to_string(), "16×5×5");
        assert_eq!(Shape::vector(10).to_string(), "10");
    }

    #[test]
    fn numel_saturates() {
        assert_eq!(Shape::new(&[u64::MAX, 2]).unwrap().numel(), u64::MAX);
        assert!(Shape::new(&[1, 2, 3, 4, 5]).is_none());
        assert_eq!(Shape::image(3, 4, 5).numel(), 60);
    }
}
