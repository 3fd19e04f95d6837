//! Early stopping of hopeless trials, decided after each epoch from the curves of the
//! objective. The two rules are Ray Tune's, to the letter, so that the exported tune.py
//! stops the same trials netloom does:
//!
//! - **median** (`MedianStoppingRule`, from Google Vizier): from epoch `grace_epochs` on, a
//!   trial whose best value so far is worse than the median, over the other trials that have
//!   completed as many epochs, of each one's average from `grace_epochs` to that epoch is
//!   stopped (once `min_trials` such trials exist; Ray then pauses a trial to wait for them
//!   where others are pending, netloom lets it go on);
//! - **asha** (`AsyncHyperBandScheduler`, successive halving): at rung epochs
//!   `min_epochs · reduction_factorᵏ` a trial's value is compared with the values the trials
//!   before it recorded at that rung, and it goes on only if it is in their top
//!   1/reduction_factor.

use super::{Goal, Objective};
use serde::{Deserialize, Serialize};

/// A rule for stopping trials early.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum EarlyStopping {
    /// Stop a trial whose best so far is below the completed trials' median.
    Median {
        /// No trial is stopped before this many epochs.
        #[serde(default = "one")]
        grace_epochs: u64,
        /// Nor before this many other trials have trained as many epochs.
        #[serde(default = "three")]
        min_trials: usize,
    },
    /// Successive halving, asynchronously (ASHA).
    Asha {
        /// The first rung, in epochs.
        #[serde(default = "one")]
        min_epochs: u64,
        /// Each rung keeps the top 1/this; rungs are this many times apart.
        #[serde(default = "three")]
        reduction_factor: u64,
    },
}

fn one() -> u64 {
    1
}
fn three<T: From<u8>>() -> T {
    T::from(3)
}

impl EarlyStopping {
    pub(super) fn problem(&self) -> Option<String> {
        match self {
            EarlyStopping::Asha {
                min_epochs,
                reduction_factor,
            } if *min_epochs == 0 || *reduction_factor < 2 => Some(format!(
                "early_stopping: asha needs min_epochs ≥ 1 and reduction_factor ≥ 2 (got {min_epochs} and {reduction_factor})"
            )),
            EarlyStopping::Median { grace_epochs, .. } if *grace_epochs == 0 => {
                Some("early_stopping: the median rule's grace_epochs is at least 1".to_owned())
            }
            _ => None,
        }
    }

    /// The rung epochs of ASHA below `epochs` (empty for the median rule).
    pub fn rungs(&self, epochs: u64) -> Vec<u64> {
        let EarlyStopping::Asha {
            min_epochs,
            reduction_factor,
        } = self
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut r = *min_epochs;
        while r < epochs && r > 0 {
            out.push(r);
            r = r.saturating_mul(*reduction_factor);
        }
        out
    }
}

/// What the rule says about a trial after an epoch.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Train on.
    Continue,
    /// Stop it, for this reason (shown in the trials table).
    Stop(String),
}

/// Another trial, as the rules see it.
#[derive(Clone, Copy, Debug)]
pub struct Peer<'a> {
    /// Its objective after each epoch so far.
    pub curve: &'a [f64],
}

/// The verdict on a trial whose objective after each epoch so far is `curve`, of `epochs` in
/// all, beside the other trials. For ASHA, `peers` are the trials that reached a rung before
/// this one did, in that order (netloom records a rung when a trial passes it).
pub fn decide(
    rule: &EarlyStopping,
    objective: &Objective,
    epochs: u64,
    curve: &[f64],
    peers: &[Peer<'_>],
) -> Verdict {
    let k = curve.len();
    let metric = objective.metric.name();
    match rule {
        EarlyStopping::Median {
            grace_epochs,
            min_trials,
        } => {
            let grace = (*grace_epochs).max(1) as usize;
            if k < grace || k as u64 >= epochs {
                return Verdict::Continue;
            }
            // Ray's running means: each value from the grace epoch to k, non-finite ones out.
            let mut means: Vec<f64> = peers
                .iter()
                .filter(|p| p.curve.len() >= k)
                .map(|p| {
                    let window = &p.curve[grace - 1..k];
                    window.iter().map(|v| objective.oriented(*v)).sum::<f64>() / window.len() as f64
                })
                .filter(|m| m.is_finite())
                .collect();
            if means.len() < *min_trials {
                return Verdict::Continue;
            }
            let done = means.len();
            let median = percentile(&mut means, 50.0);
            let best = curve
                .iter()
                .map(|v| objective.oriented(*v))
                .fold(f64::NEG_INFINITY, f64::max);
            if best < median {
                Verdict::Stop(format!(
                    "stopped after epoch {k} by the median rule: its best {metric}, {}, is worse than the median {} of {done} other trials' averages to epoch {k}",
                    shown(objective, best),
                    shown(objective, median)
                ))
            } else {
                Verdict::Continue
            }
        }
        EarlyStopping::Asha {
            reduction_factor, ..
        } => {
            if !rule.rungs(epochs).contains(&(k as u64)) {
                return Verdict::Continue;
            }
            let now = curve
                .last()
                .map_or(f64::NEG_INFINITY, |v| objective.oriented(*v));
            let mut recorded: Vec<f64> = peers
                .iter()
                .filter_map(|p| p.curve.get(k - 1))
                .map(|v| objective.oriented(*v))
                .collect();
            if recorded.is_empty() {
                return Verdict::Continue;
            }
            let keep = 100.0 * (1.0 - 1.0 / *reduction_factor as f64);
            let cutoff = percentile(&mut recorded, keep);
            if now < cutoff {
                Verdict::Stop(format!(
                    "stopped at the epoch-{k} rung by successive halving: its {metric}, {}, is below the top 1/{reduction_factor} of the {} trials there (cut-off {})",
                    shown(objective, now),
                    recorded.len(),
                    shown(objective, cutoff)
                ))
            } else {
                Verdict::Continue
            }
        }
    }
}

/// An oriented value back in the metric's own sign, for messages.
fn shown(objective: &Objective, oriented: f64) -> String {
    sig(match objective.goal() {
        Goal::Maximize => oriented,
        Goal::Minimize => -oriented,
    })
}

/// Four significant digits.
fn sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// numpy's default (linear) percentile: `np.percentile(values, q)`, as Ray computes its
/// cut-offs. Sorts `values`; NaN-free input (oriented values) assumed.
fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let pos = q / 100.0 * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    let (a, b) = (values[lo], values[hi.min(values.len() - 1)]);
    if frac == 0.0 { a } else { a + (b - a) * frac }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::sweep::Metric;

    fn peer(curve: &[f64]) -> Peer<'_> {
        Peer { curve }
    }

    #[test]
    fn percentile_matches_numpy() {
        // np.percentile([1, 2, 3, 4], [50, 66.666…, 25]) = 2.5, 3.0, 1.75
        assert_eq!(percentile(&mut [4.0, 1.0, 3.0, 2.0], 50.0), 2.5);
        assert!((percentile(&mut [1.0, 2.0, 3.0, 4.0], 200.0 / 3.0) - 3.0).abs() < 1e-12);
        assert_eq!(percentile(&mut [1.0, 2.0, 3.0, 4.0], 25.0), 1.75);
    }

    #[test]
    fn the_median_rule_stops_a_trial_worse_than_the_median_of_the_others() {
        let rule = EarlyStopping::Median {
            grace_epochs: 1,
            min_trials: 3,
        };
        let acc = Objective::default();
        let done = [[0.5, 0.8, 0.9], [0.6, 0.85, 0.9], [0.4, 0.7, 0.8]];
        let peers: Vec<Peer> = done.iter().map(|c| peer(c)).collect();
        // At epoch 1 the averages are 0.5, 0.6, 0.4: median 0.5.
        assert!(matches!(
            decide(&rule, &acc, 3, &[0.1], &peers),
            Verdict::Stop(_)
        ));
        assert_eq!(decide(&rule, &acc, 3, &[0.55], &peers), Verdict::Continue);
        // Too few other trials at epoch 1 yet.
        assert_eq!(
            decide(&rule, &acc, 3, &[0.1], &peers[..2]),
            Verdict::Continue
        );
        // A loss is better low: 0.2 beats the median loss.
        let loss = Objective {
            metric: Metric::ValLoss,
            goal: Some(Goal::Minimize),
        };
        assert_eq!(decide(&rule, &loss, 3, &[0.2], &peers), Verdict::Continue);
        let Verdict::Stop(why) = decide(&rule, &loss, 3, &[0.9], &peers) else {
            panic!("a loss above the median is stopped")
        };
        assert!(why.contains("0.9000") && why.contains("0.5000"), "{why}");
    }

    #[test]
    fn asha_keeps_the_top_third_at_each_rung() {
        let rule = EarlyStopping::Asha {
            min_epochs: 1,
            reduction_factor: 3,
        };
        assert_eq!(rule.rungs(10), vec![1, 3, 9]);
        let acc = Objective::default();
        let others = [[0.1], [0.2], [0.3]];
        let peers: Vec<Peer> = others.iter().map(|c| peer(c)).collect();
        // cut-off: the 66.7th percentile of 0.1, 0.2, 0.3 = 0.2333…
        assert!(matches!(
            decide(&rule, &acc, 10, &[0.2], &peers),
            Verdict::Stop(_)
        ));
        assert_eq!(decide(&rule, &acc, 10, &[0.25], &peers), Verdict::Continue);
        // Not a rung: nothing is decided at epoch 2.
        assert_eq!(
            decide(&rule, &acc, 10, &[0.25, 0.0], &peers),
            Verdict::Continue
        );
        // The first trial at a rung always goes on.
        assert_eq!(decide(&rule, &acc, 10, &[0.0], &[]), Verdict::Continue);
    }
}
