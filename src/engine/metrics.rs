//! What training shows about the inside of the net: activation histograms on fixed bins,
//! gradient norms, dead ReLUs, and the confusion matrix. All plain data, for the UI thread.

use super::error::{EngineError, TorchContext};
use std::time::Instant;
use tch::{Kind, Tensor};

/// Bins per histogram.
pub const BINS: usize = 40;

/// A histogram over fixed edges: `lo + i·(hi − lo)/BINS`. Values outside `[lo, hi]` are counted
/// in `below`/`above`, so successive histograms of a node compare bin for bin.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Left edge of the first bin.
    pub lo: f32,
    /// Right edge of the last bin.
    pub hi: f32,
    /// Counts per bin.
    pub counts: Vec<u32>,
    /// Values below `lo`.
    pub below: u32,
    /// Values above `hi`.
    pub above: u32,
}

impl Histogram {
    /// Edges for a node's histograms, fixed from its first activations: the observed range
    /// widened by half on each side, since distributions spread as training goes on.
    pub fn edges_for(x: &Tensor) -> (f32, f32) {
        let lo = x.min().double_value(&[]) as f32;
        let hi = x.max().double_value(&[]) as f32;
        let pad = ((hi - lo) * 0.5).max(1e-3);
        let lo = if lo >= 0.0 {
            (lo - pad).max(0.0).min(lo)
        } else {
            lo - pad
        };
        (lo, hi + pad)
    }

    /// Counts `x` into `BINS` bins over `[lo, hi]`.
    pub fn compute(x: &Tensor, lo: f32, hi: f32) -> Result<Histogram, EngineError> {
        let _guard = tch::no_grad_guard();
        let flat = x
            .detach()
            .f_flatten(0, -1)
            .ctx("histogram")?
            .to_kind(Kind::Float);
        let below = flat
            .f_lt(f64::from(lo))
            .ctx("histogram")?
            .sum(Kind::Int64)
            .int64_value(&[]) as u32;
        let above = flat
            .f_gt(f64::from(hi))
            .ctx("histogram")?
            .sum(Kind::Int64)
            .int64_value(&[]) as u32;
        let scale = BINS as f64 / f64::from((hi - lo).max(f32::MIN_POSITIVE));
        let idx = flat
            .f_sub_scalar(f64::from(lo))
            .ctx("histogram")?
            .f_mul_scalar(scale)
            .ctx("histogram")?
            .f_floor()
            .ctx("histogram")?
            .f_clamp(0.0, (BINS - 1) as f64)
            .ctx("histogram")?
            .to_kind(Kind::Int64);
        let inside = flat
            .f_ge(f64::from(lo))
            .ctx("histogram")?
            .f_logical_and(&flat.f_le(f64::from(hi)).ctx("histogram")?)
            .ctx("histogram")?;
        let idx = idx.f_masked_select(&inside).ctx("histogram")?;
        let counts = idx
            .f_bincount(None::<Tensor>, BINS as i64)
            .ctx("histogram")?
            .to_device(tch::Device::Cpu);
        let counts: Vec<i64> =
            Vec::try_from(counts).map_err(|e| EngineError::torch("histogram", e))?;
        Ok(Histogram {
            lo,
            hi,
            counts: counts.into_iter().map(|c| c as u32).collect(),
            below,
            above,
        })
    }
}

/// What one node looked like at a logged step.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeStats {
    /// The node's name.
    pub node: String,
    /// Its output values.
    pub activation: Histogram,
    /// L2 norm of the gradients of its parameters (None for nodes without parameters).
    pub grad_norm: Option<f32>,
    /// For ReLUs: the fraction of units that output zero for every sample of the batch.
    pub dead_fraction: Option<f32>,
}

/// The fraction of a ReLU's units (positions of one sample) that are zero across the batch.
pub fn dead_fraction(y: &Tensor) -> Result<f32, EngineError> {
    let _guard = tch::no_grad_guard();
    let alive = y
        .f_gt(0.0)
        .ctx("dead ReLUs")?
        .f_any_dim(0, false)
        .ctx("dead ReLUs")?;
    let n = alive.numel().max(1) as f64;
    let alive = alive.sum(Kind::Int64).int64_value(&[]) as f64;
    Ok((1.0 - alive / n) as f32)
}

/// A confusion matrix: `counts[true][predicted]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Confusion {
    /// Rows are true classes, columns predictions.
    pub counts: Vec<Vec<u64>>,
}

impl Confusion {
    /// An empty matrix for `classes` classes.
    pub fn new(classes: usize) -> Self {
        Confusion {
            counts: vec![vec![0; classes]; classes],
        }
    }

    /// Adds a batch of labels and predictions.
    pub fn add(&mut self, labels: &[i64], predicted: &[i64]) {
        for (&t, &p) in labels.iter().zip(predicted) {
            if let Some(cell) = self
                .counts
                .get_mut(t as usize)
                .and_then(|r| r.get_mut(p as usize))
            {
                *cell += 1;
            }
        }
    }

    /// Fraction on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let total: u64 = self.counts.iter().flatten().sum();
        let right: u64 = self
            .counts
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.get(i))
            .sum();
        if total == 0 {
            0.0
        } else {
            right as f64 / total as f64
        }
    }
}

/// Samples per second over recent steps, and the time left.
pub(crate) struct Throughput {
    remaining_steps: u64,
    window: std::collections::VecDeque<(Instant, u64)>,
}

impl Throughput {
    pub(crate) fn new(remaining_steps: u64) -> Self {
        Throughput {
            remaining_steps,
            window: std::collections::VecDeque::new(),
        }
    }

    pub(crate) fn tick(&mut self, samples: u64) {
        self.remaining_steps = self.remaining_steps.saturating_sub(1);
        self.window.push_back((Instant::now(), samples));
        if self.window.len() > 50 {
            self.window.pop_front();
        }
    }

    fn span(&self) -> Option<(f64, u64, usize)> {
        let (first, last) = (self.window.front()?, self.window.back()?);
        let secs = last.0.duration_since(first.0).as_secs_f64();
        let samples: u64 = self.window.iter().skip(1).map(|w| w.1).sum();
        (secs > 0.0).then_some((secs, samples, self.window.len() - 1))
    }

    pub(crate) fn samples_per_s(&self) -> f64 {
        self.span().map_or(0.0, |(s, n, _)| n as f64 / s)
    }

    pub(crate) fn eta_s(&self) -> f64 {
        self.span().map_or(f64::NAN, |(s, _, steps)| {
            s / steps.max(1) as f64 * self.remaining_steps as f64
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn histogram_bins_fixed_edges_and_counts_outliers() {
        let x = Tensor::from_slice(&[-2.0f32, 0.0, 0.05, 0.5, 0.99, 1.0, 3.0]);
        let h = Histogram::compute(&x, 0.0, 1.0).unwrap();
        assert_eq!((h.below, h.above), (1, 1));
        assert_eq!(h.counts.iter().sum::<u32>(), 5);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[2], 1);
        assert_eq!(h.counts[20], 1);
        assert_eq!(h.counts[BINS - 1], 2);
    }

    #[test]
    fn dead_fraction_counts_units_zero_for_every_sample() {
        let y = Tensor::from_slice(&[0.0f32, 1.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0]).view([2, 4]);
        assert!((dead_fraction(&y).unwrap() - 0.5).abs() < 1e-6);
    }

    #[test]
    fn confusion_accuracy_is_the_diagonal() {
        let mut c = Confusion::new(3);
        c.add(&[0, 1, 2, 2], &[0, 2, 2, 2]);
        assert_eq!(c.counts[1][2], 1);
        assert!((c.accuracy() - 0.75).abs() < 1e-12);
    }
}
