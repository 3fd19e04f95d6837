//! Data augmentation settings: an ordered list of operations, each with a probability and a
//! range. Pure configuration; `netloom::data::augment` applies them as tensor ops.

use serde::{Deserialize, Serialize};

fn half() -> f64 {
    0.5
}
fn one() -> f64 {
    1.0
}

/// One augmentation operation. `p` is the probability that it is applied to an image; each
/// range is sampled uniformly per image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Augment {
    /// Mirror left–right.
    HorizontalFlip {
        /// Probability.
        #[serde(default = "half")]
        p: f64,
    },
    /// Mirror top–bottom.
    VerticalFlip {
        /// Probability.
        #[serde(default = "half")]
        p: f64,
    },
    /// Rotate by an angle in ±`degrees`.
    Rotate {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Largest angle either way.
        degrees: f64,
    },
    /// Zoom by a factor in [`min`, `max`], and stretch one axis by up to ±`aspect` (a fraction).
    Scale {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Smallest zoom (below 1 shrinks).
        min: f64,
        /// Largest zoom.
        max: f64,
        /// Aspect stretch: width/height change by a factor in [1 − aspect, 1 + aspect].
        #[serde(default)]
        aspect: f64,
    },
    /// Shear along x by an angle in ±`degrees`.
    Shear {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Largest shear angle.
        degrees: f64,
    },
    /// Shift by up to ±`fraction` of the width and height.
    Translate {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Largest shift as a fraction of the image size.
        fraction: f64,
    },
    /// Lens distortion r' = r·(1 + k·r²) with k in ±`k`: barrel for k < 0, pincushion for k > 0.
    Lens {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Largest distortion strength.
        k: f64,
    },
    /// Pad by `padding` pixels of zeros, then cut a random crop of the original size.
    RandomCrop {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Pixels of padding on each side.
        padding: u32,
    },
    /// Erase a random square whose side is a fraction in [`min`, `max`] of the image.
    Cutout {
        /// Probability.
        #[serde(default = "half")]
        p: f64,
        /// Smallest side fraction.
        min: f64,
        /// Largest side fraction.
        max: f64,
    },
    /// Add Gaussian noise of standard deviation `std` (pixel values run 0–1).
    Noise {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Noise level.
        std: f64,
    },
    /// Add a brightness offset in ±`delta`.
    Brightness {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Largest offset.
        delta: f64,
    },
    /// Scale contrast around the image's mean by a factor in [1 − `factor`, 1 + `factor`].
    Contrast {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Largest change.
        factor: f64,
    },
    /// Scale saturation (distance from gray) by a factor in [1 − `factor`, 1 + `factor`]; RGB only.
    Saturation {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Largest change.
        factor: f64,
    },
    /// Rotate hue by up to ±`delta` of a full turn (0.5 = 180°); RGB only.
    Hue {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Largest rotation, in turns.
        delta: f64,
    },
    /// AlexNet's "fancy PCA" colour: add Σ αᵢ·λᵢ·pᵢ over the training set's RGB principal
    /// components, αᵢ ~ N(0, `std`); RGB only.
    PcaColor {
        /// Probability.
        #[serde(default = "one")]
        p: f64,
        /// Standard deviation of α (AlexNet used 0.1).
        std: f64,
    },
}

impl Augment {
    /// The operation's probability.
    pub fn p(&self) -> f64 {
        match *self {
            Augment::HorizontalFlip { p }
            | Augment::VerticalFlip { p }
            | Augment::Rotate { p, .. }
            | Augment::Scale { p, .. }
            | Augment::Shear { p, .. }
            | Augment::Translate { p, .. }
            | Augment::Lens { p, .. }
            | Augment::RandomCrop { p, .. }
            | Augment::Cutout { p, .. }
            | Augment::Noise { p, .. }
            | Augment::Brightness { p, .. }
            | Augment::Contrast { p, .. }
            | Augment::Saturation { p, .. }
            | Augment::Hue { p, .. }
            | Augment::PcaColor { p, .. } => p,
        }
    }

    /// A problem with the settings, worded for the person who set them.
    pub fn problem(&self) -> Option<String> {
        let p = self.p();
        if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
            return Some(format!(
                "augmentation {self:?}: p is {p}; use a probability from 0 to 1"
            ));
        }
        let bad = |name: &str, v: f64, lo: f64, hi: f64| {
            (!(v.is_finite() && v >= lo && v <= hi))
                .then(|| format!("augmentation: {name} is {v}; use a value from {lo} to {hi}"))
        };
        match *self {
            Augment::Rotate { degrees, .. } => bad("rotate degrees", degrees, 0.0, 180.0),
            Augment::Shear { degrees, .. } => bad("shear degrees", degrees, 0.0, 60.0),
            Augment::Scale {
                min, max, aspect, ..
            } => bad("scale min", min, 0.05, 10.0)
                .or_else(|| bad("scale max", max, min, 10.0))
                .or_else(|| bad("scale aspect", aspect, 0.0, 0.9)),
            Augment::Translate { fraction, .. } => bad("translate fraction", fraction, 0.0, 1.0),
            Augment::Lens { k, .. } => bad("lens k", k, 0.0, 1.0),
            Augment::Cutout { min, max, .. } => {
                bad("cutout min", min, 0.0, 1.0).or_else(|| bad("cutout max", max, min, 1.0))
            }
            Augment::Noise { std, .. } => bad("noise std", std, 0.0, 1.0),
            Augment::Brightness { delta, .. } => bad("brightness delta", delta, 0.0, 1.0),
            Augment::Contrast { factor, .. } => bad("contrast factor", factor, 0.0, 1.0),
            Augment::Saturation { factor, .. } => bad("saturation factor", factor, 0.0, 1.0),
            Augment::Hue { delta, .. } => bad("hue delta", delta, 0.0, 0.5),
            Augment::PcaColor { std, .. } => bad("pca_color std", std, 0.0, 1.0),
            Augment::HorizontalFlip { .. }
            | Augment::VerticalFlip { .. }
            | Augment::RandomCrop { .. } => None,
        }
    }
}
