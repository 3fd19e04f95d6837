//! Training settings stored with a design, so that a file re-trains the same way it was trained.

use serde::{Deserialize, Serialize};

/// The optimizer family. Plain SGD zig-zags across ravines; momentum and the adaptive methods
/// are there to compare against it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// Stochastic gradient descent, with `momentum` when it is non-zero.
    #[default]
    Sgd,
    /// SGD with Nesterov momentum.
    Nesterov,
    /// Per-parameter rates from accumulated squared gradients.
    Adagrad,
    /// Per-parameter rates from a moving average of squared gradients.
    Rmsprop,
    /// Momentum plus RMSProp-style scaling, with bias correction.
    Adam,
    /// Adam with decoupled weight decay.
    Adamw,
}

fn lr() -> f64 {
    0.01
}
fn batch() -> u64 {
    64
}
fn epochs() -> u64 {
    5
}

/// Hyper-parameters of a training run. Later features extend this; every field has a default
/// so that older files keep loading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSettings {
    /// The optimizer.
    #[serde(default)]
    pub optimizer: Optimizer,
    /// Step size.
    #[serde(default = "lr")]
    pub learning_rate: f64,
    /// Momentum for SGD/Nesterov/RMSProp (0 = none).
    #[serde(default)]
    pub momentum: f64,
    /// L2 weight decay.
    #[serde(default)]
    pub weight_decay: f64,
    /// Samples per step.
    #[serde(default = "batch")]
    pub batch_size: u64,
    /// Passes over the training set.
    #[serde(default = "epochs")]
    pub epochs: u64,
    /// Seed for initialisation, shuffling and augmentation.
    #[serde(default)]
    pub seed: u64,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self {
            optimizer: Optimizer::default(),
            learning_rate: lr(),
            momentum: 0.0,
            weight_decay: 0.0,
            batch_size: batch(),
            epochs: epochs(),
            seed: 0,
        }
    }
}

impl TrainingSettings {
    /// Problems with the settings, worded for the person who set them.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            out.push(format!(
                "training: learning_rate is {}; it must be a positive number such as 0.01",
                self.learning_rate
            ));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            out.push(format!(
                "training: momentum is {}; use a value from 0 (none) up to below 1, e.g. 0.9",
                self.momentum
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            out.push(format!(
                "training: weight_decay is {}; use 0 (none) or a small positive value such as 5e-4",
                self.weight_decay
            ));
        }
        if self.batch_size == 0 {
            out.push("training: batch_size is 0; use at least 1, e.g. 64".to_owned());
        }
        if self.epochs == 0 {
            out.push("training: epochs is 0; use at least 1".to_owned());
        }
        out
    }
}

fn whitening_epsilon() -> f64 {
    1e-2
}

/// How inputs are normalised before they reach the network. Every method is fitted on the
/// training split only and then applied unchanged to every split, at eval and at predict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Preprocessing {
    /// Pixels scaled to [0, 1] (bytes divided by 255), nothing fitted.
    #[default]
    None,
    /// Subtract the per-pixel (per-feature) mean: zero-centering.
    ZeroCenter,
    /// Subtract each channel's mean and divide by its standard deviation.
    Standardize,
    /// Scale so the training split's minimum maps to 0 and its maximum to 1.
    MinMax,
    /// Project onto the principal components and scale each to unit variance.
    PcaWhiten {
        /// Added to each eigenvalue before dividing, so near-constant directions aren't blown up.
        #[serde(default = "whitening_epsilon")]
        epsilon: f64,
    },
    /// PCA whitening rotated back to the input's axes (images still look like images).
    ZcaWhiten {
        /// As for PCA whitening.
        #[serde(default = "whitening_epsilon")]
        epsilon: f64,
    },
}

impl Preprocessing {
    /// A problem with the settings, worded for the person who set them.
    pub fn problem(&self) -> Option<String> {
        match *self {
            Preprocessing::PcaWhiten { epsilon } | Preprocessing::ZcaWhiten { epsilon }
                if !(epsilon.is_finite() && epsilon > 0.0) =>
            {
                Some(format!(
                    "data: whitening epsilon is {epsilon}; use a small positive number such as 0.01"
                ))
            }
            _ => None,
        }
    }
}

/// How the data is prepared; part of the design so a file trains the same way everywhere.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSettings {
    /// Normalisation fitted on the training split.
    #[serde(default)]
    pub preprocessing: Preprocessing,
    /// Augmentation operations, applied in order to each training batch.
    #[serde(default)]
    pub augmentation: Vec<super::augment::Augment>,
}
