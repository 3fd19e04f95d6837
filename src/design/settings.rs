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

impl Optimizer {
    /// Every optimizer, in the order the Train view offers them.
    pub const ALL: [Optimizer; 6] = [
        Optimizer::Sgd,
        Optimizer::Nesterov,
        Optimizer::Adagrad,
        Optimizer::Rmsprop,
        Optimizer::Adam,
        Optimizer::Adamw,
    ];

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Optimizer::Sgd => "SGD",
            Optimizer::Nesterov => "SGD + Nesterov",
            Optimizer::Adagrad => "AdaGrad",
            Optimizer::Rmsprop => "RMSProp",
            Optimizer::Adam => "Adam",
            Optimizer::Adamw => "AdamW",
        }
    }

    /// The learning rate it is usually started at (torch.optim's default where it has one;
    /// 0.01 for plain SGD, which has none).
    pub fn default_rate(self) -> f64 {
        match self {
            Optimizer::Adam | Optimizer::Adamw => 0.001,
            Optimizer::Sgd | Optimizer::Nesterov | Optimizer::Adagrad | Optimizer::Rmsprop => 0.01,
        }
    }

    /// Whether it reads the momentum setting.
    pub fn uses_momentum(self) -> bool {
        matches!(
            self,
            Optimizer::Sgd | Optimizer::Nesterov | Optimizer::Rmsprop
        )
    }
}

impl TrainingSettings {
    /// Switches to `to`, starting from its own usual settings: its default rate, momentum 0.9
    /// for Nesterov (which needs some), none where it is not read, AdamW's decoupled decay 0.01.
    pub fn switch_optimizer(&mut self, to: Optimizer) {
        self.optimizer = to;
        self.learning_rate = to.default_rate();
        match to {
            Optimizer::Nesterov if self.momentum == 0.0 => self.momentum = 0.9,
            Optimizer::Adagrad | Optimizer::Adam | Optimizer::Adamw => self.momentum = 0.0,
            _ => {}
        }
        if to == Optimizer::Adamw && self.weight_decay == 0.0 {
            self.weight_decay = 0.01;
        }
    }
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
    /// How the learning rate changes over the run.
    #[serde(default, skip_serializing_if = "is_default")]
    pub schedule: Schedule,
    /// Steps over which the rate ramps linearly up to its scheduled value (0 = no warm-up).
    /// Large rates early on can blow up a fresh network; a short ramp avoids that.
    #[serde(default, skip_serializing_if = "is_default")]
    pub warmup_steps: u64,
    /// Rescale the gradients when their global L2 norm exceeds this (none when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    /// How weights are initialised.
    #[serde(default, skip_serializing_if = "is_default")]
    pub init: Init,
    /// Gradual unfreezing for fine-tuning: every this many epochs one more frozen block becomes
    /// trainable, from the head down (none when absent). Unfreezing the whole pretrained body at
    /// once lets the new head's large early gradients wreck features it should reuse; one block
    /// at a time lets each adapt after the ones above it have settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfreeze_every: Option<u64>,
    /// The number format of the forward and backward pass. The weights, their gradients, the
    /// optimizer state and every file stay fp32 whichever is chosen.
    #[serde(default, skip_serializing_if = "is_default")]
    pub precision: Precision,
    /// The same results from the same seed, bit for bit: on a GPU cuDNN picks fixed algorithms
    /// instead of timing the fastest for each layer's shapes (its autotuner; slower), and on the
    /// CPU the thread count stays fixed (it otherwise drops while the machine is busy, and
    /// results differ in their last digits between thread counts).
    #[serde(default, skip_serializing_if = "is_default")]
    pub deterministic: bool,
    /// The pretrained weights runs start from (in the app: the file reviewed and accepted in
    /// the Train view), so that reopening the design starts where it was left. Added in file
    /// version 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrained: Option<PretrainedSource>,
}

/// Where pretrained weights come from: the file (relative to the design's folder when it is
/// near it), and the blocks deliberately left out of it (a head to re-initialise).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainedSource {
    /// The weights file (safetensors, or PyTorch's .pt/.pth).
    pub path: String,
    /// Blocks whose matching tensors are not loaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<String>,
}

/// The arithmetic a training run computes in (the `precision` setting).
///
/// Mixed precision runs the convolutions and linear layers in a 16-bit format and everything
/// that sums many values (batch-norm statistics, the loss) in fp32, keeping fp32 master
/// weights: what `torch.autocast` does. 16-bit halves the memory traffic and uses the GPU's
/// tensor cores, for about the same accuracy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// bf16 on a CUDA GPU that computes it natively (compute capability 8.0 and up: A100,
    /// RTX 30 series and later), fp32 everywhere else.
    #[default]
    Auto,
    /// 32-bit floats throughout: bit-for-bit what PyTorch computes.
    Fp32,
    /// bfloat16: fp32's range with 8 bits of mantissa, so no loss scaling is needed.
    Bf16,
    /// IEEE half: more mantissa than bf16 but a small range, so the loss is scaled up before
    /// the backward pass (and the scale lowered whenever a gradient overflows).
    Fp16,
}

impl Precision {
    /// Every choice, in the order a menu shows them.
    pub const ALL: [Precision; 4] = [
        Precision::Auto,
        Precision::Fp32,
        Precision::Bf16,
        Precision::Fp16,
    ];

    /// The name used in files, the CLI and metrics.csv.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
            Precision::Fp16 => "fp16",
        }
    }

    /// Parses a name as [`Precision::name`] gives it.
    pub fn parse(text: &str) -> Option<Precision> {
        Precision::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(text.trim()))
    }
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A learning-rate schedule. The rate at each step is a pure function of the step, so a resumed
/// run continues exactly where it stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Multiply by `gamma` every `step_epochs` epochs (`torch.optim.lr_scheduler.StepLR`).
    Step {
        /// Epochs between decays.
        step_epochs: u64,
        /// Factor applied at each decay, e.g. 0.1.
        gamma: f64,
    },
    /// Multiply by `gamma` after every epoch (`ExponentialLR`).
    Exponential {
        /// Factor per epoch, e.g. 0.95.
        gamma: f64,
    },
    /// Half a cosine from the full rate down to `min_lr` over the whole run, step by step
    /// (`CosineAnnealingLR` with `T_max` = all steps).
    Cosine {
        /// The rate at the last step.
        #[serde(default)]
        min_lr: f64,
    },
}

/// Weight initialisation. Biases start at zero under Kaiming and Xavier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Each layer's PyTorch default (`reset_parameters`), so results compare with PyTorch code.
    #[default]
    Pytorch,
    /// Kaiming-normal for ReLU nets (fan-in, gain √2): keeps activations' variance through depth.
    Kaiming,
    /// Xavier/Glorot-uniform: balances forward and backward variance for tanh/sigmoid nets.
    Xavier,
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
            schedule: Schedule::Constant,
            warmup_steps: 0,
            clip_grad_norm: None,
            init: Init::Pytorch,
            unfreeze_every: None,
            precision: Precision::Auto,
            deterministic: false,
            pretrained: None,
        }
    }
}

impl TrainingSettings {
    /// Problems with the settings, worded for the person who set them.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        // Rates and decays are applied in float32 (netloom's and PyTorch's optimizers alike):
        // one past float32's range would overflow there (train.py refuses it in these words).
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= F32_MAX)
        {
            out.push(format!(
                "training: learning_rate is {:e}; it must be a positive number no larger than 3.4e38 (float32's largest), such as 0.01",
                self.learning_rate
            ));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            out.push(format!(
                "training: momentum is {}; use a value from 0 (none) up to below 1, e.g. 0.9",
                self.momentum
            ));
        }
        if !(self.weight_decay.is_finite()
            && self.weight_decay >= 0.0
            && self.weight_decay <= F32_MAX)
        {
            out.push(format!(
                "training: weight_decay is {:e}; use 0 (none) or a positive value no larger than 3.4e38 (float32's largest), such as 5e-4",
                self.weight_decay
            ));
        }
        if self.batch_size == 0 {
            out.push("training: batch_size is 0; use at least 1, e.g. 64".to_owned());
        }
        if self.epochs == 0 {
            out.push("training: epochs is 0; use at least 1".to_owned());
        }
        if self.optimizer == Optimizer::Nesterov && self.momentum == 0.0 {
            out.push(
                "training: Nesterov needs momentum; set momentum to e.g. 0.9, or pick plain SGD"
                    .to_owned(),
            );
        }
        match self.schedule {
            Schedule::Step { step_epochs, gamma } => {
                if step_epochs == 0 {
                    out.push(
                        "training: the step schedule's step_epochs is 0; use at least 1".to_owned(),
                    );
                }
                if !(gamma.is_finite() && gamma > 0.0) {
                    out.push(format!(
                        "training: the step schedule's gamma is {gamma}; use a factor such as 0.1"
                    ));
                }
            }
            Schedule::Exponential { gamma } if !(gamma.is_finite() && gamma > 0.0) => {
                out.push(format!(
                    "training: the exponential schedule's gamma is {gamma}; use a factor such as 0.95"
                ));
            }
            Schedule::Cosine { min_lr }
                if !(min_lr.is_finite() && (0.0..=F32_MAX).contains(&min_lr)) =>
            {
                out.push(format!(
                    "training: the cosine schedule's min_lr is {min_lr:e}; use 0 or a small positive rate"
                ));
            }
            _ => {}
        }
        if self.unfreeze_every == Some(0) {
            out.push(
                "training: unfreeze_every is 0; use the number of epochs between unfreezing steps, e.g. 1, or leave it out"
                    .to_owned(),
            );
        }
        if let Some(c) = self.clip_grad_norm
            && !(c.is_finite() && c > 0.0)
        {
            out.push(format!(
                "training: clip_grad_norm is {c}; use a positive norm such as 1.0, or leave it out"
            ));
        }
        out
    }
}

/// float32's largest finite value, the bound of every rate: optimizers apply them in float32.
const F32_MAX: f64 = f32::MAX as f64;

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
    /// The data it trains on, as a data spec (`builtin:fashion-mnist?channels=3&size=32x32`,
    /// `folder:photos`): a path relative to the design's folder when the data is near it.
    /// None: the default for its Input. Added in file version 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[cfg(test)]
mod optimizer_tests {
    use super::*;

    #[test]
    fn switching_optimizer_starts_from_its_usual_settings() {
        let mut s = TrainingSettings {
            momentum: 0.9,
            weight_decay: 0.0,
            ..TrainingSettings::default()
        };
        s.switch_optimizer(Optimizer::Adamw);
        assert_eq!(
            (s.learning_rate, s.momentum, s.weight_decay),
            (0.001, 0.0, 0.01)
        );
        s.switch_optimizer(Optimizer::Nesterov);
        assert_eq!((s.learning_rate, s.momentum), (0.01, 0.9));
        assert!(Optimizer::ALL.iter().all(|o| !o.label().is_empty()));
        assert!(!Optimizer::Adam.uses_momentum() && Optimizer::Rmsprop.uses_momentum());
    }
}
