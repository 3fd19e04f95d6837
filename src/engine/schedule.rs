//! The learning rate at each step: warm-up, then the schedule. A pure function of the step, so
//! a resumed run needs no scheduler state.

use crate::design::{Schedule, TrainingSettings};

/// The rate for global step `step` (0-based) of a run with `steps_per_epoch` steps per epoch.
///
/// Step and exponential decay change once per epoch, as PyTorch's `StepLR`/`ExponentialLR`
/// stepped after each epoch; cosine moves every step over the whole run. Warm-up scales the
/// scheduled rate by `(step + 1) / warmup_steps` for the first `warmup_steps` steps.
pub fn learning_rate(settings: &TrainingSettings, step: u64, steps_per_epoch: u64) -> f64 {
    let base = settings.learning_rate;
    let epoch = step / steps_per_epoch.max(1);
    let scheduled = match settings.schedule {
        Schedule::Constant => base,
        Schedule::Step { step_epochs, gamma } => {
            base * gamma.powi((epoch / step_epochs.max(1)) as i32)
        }
        Schedule::Exponential { gamma } => base * gamma.powi(epoch as i32),
        Schedule::Cosine { min_lr } => {
            let total = (settings.epochs * steps_per_epoch).max(1) as f64;
            let t = (step as f64 / total).min(1.0);
            min_lr + (base - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
        }
    };
    if step < settings.warmup_steps {
        scheduled * (step + 1) as f64 / settings.warmup_steps as f64
    } else {
        scheduled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(schedule: Schedule, warmup: u64) -> TrainingSettings {
        TrainingSettings {
            learning_rate: 0.1,
            epochs: 4,
            schedule,
            warmup_steps: warmup,
            ..Default::default()
        }
    }

    #[test]
    fn step_decays_each_block_of_epochs() {
        let s = with(
            Schedule::Step {
                step_epochs: 2,
                gamma: 0.1,
            },
            0,
        );
        let lrs: Vec<f64> = (0..4).map(|e| learning_rate(&s, e * 10, 10)).collect();
        assert!((lrs[0] - 0.1).abs() < 1e-12 && (lrs[1] - 0.1).abs() < 1e-12);
        assert!((lrs[2] - 0.01).abs() < 1e-12 && (lrs[3] - 0.01).abs() < 1e-12);
    }

    #[test]
    fn exponential_and_cosine_follow_their_formulas() {
        let e = with(Schedule::Exponential { gamma: 0.5 }, 0);
        assert!((learning_rate(&e, 25, 10) - 0.025).abs() < 1e-12);
        let c = with(Schedule::Cosine { min_lr: 0.0 }, 0);
        assert!((learning_rate(&c, 0, 10) - 0.1).abs() < 1e-12);
        assert!((learning_rate(&c, 20, 10) - 0.05).abs() < 1e-12);
        assert!(learning_rate(&c, 39, 10) < 0.001);
    }

    #[test]
    fn warmup_ramps_linearly_then_hands_over() {
        let s = with(Schedule::Constant, 4);
        assert!((learning_rate(&s, 0, 10) - 0.025).abs() < 1e-12);
        assert!((learning_rate(&s, 3, 10) - 0.1).abs() < 1e-12);
        assert!((learning_rate(&s, 4, 10) - 0.1).abs() < 1e-12);
    }
}
