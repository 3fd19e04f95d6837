//! Tensor shapes as the design core sees them: one sample, without the batch dimension.
//!
//! PyTorch shapes are `[N, C, H, W]` or `[N, F]`; every layer here works per sample, so the batch
//! dimension is left out and added back only where a shape meets libtorch.

use serde::Serialize;
use std::fmt;

/// The shape of one sample, e.g. `[1, 28, 28]` for a grayscale image or `[10]` for logits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Shape(pub Vec<u64>);

impl Shape {
    /// An image shape `channels × height × width`.
    pub fn image(channels: u64, height: u64, width: u64) -> Self {
        Self(vec![channels, height, width])
    }

    /// A flat vector of `features`.
    pub fn vector(features: u64) -> Self {
        Self(vec![features])
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[u64] {
        &self.0
    }

    /// How many dimensions (1 for a vector, 3 for an image).
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The number of elements in one sample; saturates instead of overflowing on absurd designs.
    pub fn numel(&self) -> u64 {
        self.0.iter().fold(1u64, |acc, &d| acc.saturating_mul(d))
    }

    /// `(channels, height, width)` when this is an image shape.
    pub fn as_image(&self) -> Option<(u64, u64, u64)> {
        match self.0.as_slice() {
            &[c, h, w] => Some((c, h, w)),
            _ => None,
        }
    }

    /// The feature count when this is a flat vector.
    pub fn as_vector(&self) -> Option<u64> {
        match self.0.as_slice() {
            &[f] => Some(f),
            _ => None,
        }
    }
}

impl fmt::Display for Shape {
    /// Written the way people say it: `16×5×5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
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
        assert_eq!(Shape(vec![u64::MAX, 2]).numel(), u64::MAX);
        assert_eq!(Shape::image(3, 4, 5).numel(), 60);
    }
}
