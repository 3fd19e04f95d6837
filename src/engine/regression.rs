//! How well a regression fits: mean absolute error, root mean squared error and R², in the
//! target's own units, and the predicted-vs-actual points the Train view plots where a
//! classifier has its confusion matrix.

use crate::data::Quantity;

/// Points kept for the predicted-vs-actual scatter: enough to show the fit's shape, few
/// enough to draw every frame.
pub const SCATTER_POINTS: usize = 1000;

/// A regression's validation metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionFit {
    /// Mean absolute error, in the target's units.
    pub mae: f64,
    /// Root mean squared error, in the target's units.
    pub rmse: f64,
    /// Coefficient of determination: 1 − (squared error) / (variance of the targets); 1 is a
    /// perfect fit, 0 no better than predicting the mean, below 0 worse.
    pub r2: f64,
    /// `[actual, predicted]` of the first validation samples, in the target's units.
    pub points: Vec<[f32; 2]>,
}

/// Sums over batches of (prediction, target) pairs, in the stored (standardised) units, turned
/// into the target's units at the end.
#[derive(Clone, Debug)]
pub struct FitSums {
    quantity: Quantity,
    n: f64,
    abs: f64,
    sq: f64,
    y: f64,
    y2: f64,
    points: Vec<[f32; 2]>,
}

impl FitSums {
    /// No pairs yet.
    pub fn new(quantity: &Quantity) -> FitSums {
        FitSums {
            quantity: quantity.clone(),
            n: 0.0,
            abs: 0.0,
            sq: 0.0,
            y: 0.0,
            y2: 0.0,
            points: Vec::new(),
        }
    }

    /// Adds predictions and their targets, both standardised.
    pub fn add(&mut self, predicted: &[f32], actual: &[f32]) {
        let q = &self.quantity;
        for (&p, &t) in predicted.iter().zip(actual) {
            let (p, t) = (q.unscale(f64::from(p)), q.unscale(f64::from(t)));
            let e = p - t;
            self.n += 1.0;
            self.abs += e.abs();
            self.sq += e * e;
            self.y += t;
            self.y2 += t * t;
            if self.points.len() < SCATTER_POINTS {
                self.points.push([t as f32, p as f32]);
            }
        }
    }

    /// The metrics (NaN with no pairs; R² is NaN when every target is the same).
    pub fn finish(self) -> RegressionFit {
        let n = self.n;
        if n == 0.0 {
            return RegressionFit {
                mae: f64::NAN,
                rmse: f64::NAN,
                r2: f64::NAN,
                points: Vec::new(),
            };
        }
        let total = self.y2 - self.y * self.y / n;
        RegressionFit {
            mae: self.abs / n,
            rmse: (self.sq / n).sqrt(),
            r2: if total > 0.0 {
                1.0 - self.sq / total
            } else {
                f64::NAN
            },
            points: self.points,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_in_the_targets_units_and_r2_compares_with_the_mean() {
        // Targets 10, 20, 30 stored standardised with mean 20, std 10 (as f32: the checks
        // allow for its rounding).
        let q = Quantity {
            name: "y".to_owned(),
            mean: 20.0,
            std: 10.0,
        };
        let mut sums = FitSums::new(&q);
        // Predictions 12, 20, 26: errors 2, 0, -4.
        sums.add(&[-0.8, 0.0, 0.6], &[-1.0, 0.0, 1.0]);
        let fit = sums.finish();
        assert!((fit.mae - 2.0).abs() < 1e-5, "{fit:?}");
        assert!((fit.rmse - (20.0f64 / 3.0).sqrt()).abs() < 1e-5, "{fit:?}");
        // SSE 20, SST 200.
        assert!((fit.r2 - 0.9).abs() < 1e-6, "{fit:?}");
        assert_eq!(fit.points[0], [10.0, 12.0]);
        let mean_only = {
            let mut s = FitSums::new(&q);
            s.add(&[0.0, 0.0, 0.0], &[-1.0, 0.0, 1.0]);
            s.finish()
        };
        assert!(mean_only.r2.abs() < 1e-12);
    }
}
