//! How well a segmentation fits: per-pixel accuracy, each class's intersection over union and
//! their mean, from a confusion matrix of pixels counted on the device (a bincount of
//! `truth · classes + prediction`, ignored pixels left out), so no per-pixel vector crosses to
//! the host.

use super::error::{EngineError, TorchContext};
use super::metrics::Confusion;
use crate::data::masks::IGNORE;
use tch::{Kind, Tensor};

/// A segmentation's validation metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentationFit {
    /// Pixels classed right, of those not ignored.
    pub pixel_accuracy: f64,
    /// The mean of the per-class IoU over the classes that occur (in truth or prediction).
    pub mean_iou: f64,
    /// Each class's intersection over union: pixels both true and predicted as the class,
    /// over pixels either is; NaN for a class neither has.
    pub iou: Vec<f64>,
}

impl SegmentationFit {
    /// The metrics of a pixel confusion matrix.
    pub fn of(confusion: &Confusion) -> SegmentationFit {
        let c = &confusion.counts;
        let iou: Vec<f64> = (0..c.len())
            .map(|k| {
                let tp = c[k][k] as f64;
                let truth: u64 = c[k].iter().sum();
                let predicted: u64 = c.iter().map(|r| r[k]).sum();
                let union = (truth + predicted) as f64 - tp;
                if union > 0.0 { tp / union } else { f64::NAN }
            })
            .collect();
        let present: Vec<f64> = iou.iter().copied().filter(|v| !v.is_nan()).collect();
        SegmentationFit {
            pixel_accuracy: confusion.accuracy(),
            mean_iou: if present.is_empty() {
                f64::NAN
            } else {
                present.iter().sum::<f64>() / present.len() as f64
            },
            iou,
        }
    }
}

/// Adds a batch's pixels to `confusion`: `logits` `[n, classes, h, w]`, `truth` `[n, h, w]`
/// (u8, [`IGNORE`] left out).
pub fn add_pixels(
    confusion: &mut Confusion,
    logits: &Tensor,
    truth: &Tensor,
) -> Result<(), EngineError> {
    let classes = confusion.counts.len() as i64;
    let predicted = logits.f_argmax(1, false).ctx("segmentation metrics")?;
    let truth = truth.to_kind(Kind::Int64);
    let kept = truth.f_ne(i64::from(IGNORE)).ctx("segmentation metrics")?;
    let pairs = (truth.f_masked_select(&kept).ctx("segmentation metrics")? * classes)
        + predicted
            .f_masked_select(&kept)
            .ctx("segmentation metrics")?;
    let counts = pairs
        .f_bincount(None::<Tensor>, classes * classes)
        .ctx("segmentation metrics")?
        .to_device(tch::Device::Cpu);
    let counts: Vec<i64> =
        Vec::try_from(counts).map_err(|e| EngineError::torch("segmentation metrics", e))?;
    for (i, n) in counts.into_iter().enumerate() {
        let (t, p) = (i / classes as usize, i % classes as usize);
        if let Some(cell) = confusion.counts.get_mut(t).and_then(|r| r.get_mut(p)) {
            *cell += n.max(0) as u64;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn iou_counts_ignored_pixels_nowhere_and_a_missing_class_is_nan() {
        // Two classes over one 2×3 image; class 2 of 3 never occurs.
        let mut confusion = Confusion::new(3);
        let truth = Tensor::from_slice(&[0u8, 0, 1, 1, IGNORE, 1]).view([1, 2, 3]);
        // Predicted: 0, 1, 1, 1, 0, 0 (as the larger of two-class... three-class scores).
        let pred = [0i64, 1, 1, 1, 0, 0];
        let mut scores = vec![0f32; 3 * 6];
        for (i, &p) in pred.iter().enumerate() {
            scores[p as usize * 6 + i] = 1.0;
        }
        let logits = Tensor::from_slice(&scores).view([1, 3, 2, 3]);
        add_pixels(&mut confusion, &logits, &truth).unwrap();
        assert_eq!(
            confusion.counts,
            vec![vec![1, 1, 0], vec![1, 2, 0], vec![0, 0, 0]]
        );
        let fit = SegmentationFit::of(&confusion);
        assert!((fit.pixel_accuracy - 0.6).abs() < 1e-12);
        // Class 0: 1 / (2 + 2 - 1); class 1: 2 / (3 + 3 - 2).
        assert!((fit.iou[0] - 1.0 / 3.0).abs() < 1e-12);
        assert!((fit.iou[1] - 0.5).abs() < 1e-12);
        assert!(fit.iou[2].is_nan());
        assert!((fit.mean_iou - (1.0 / 3.0 + 0.5) / 2.0).abs() < 1e-12);
    }
}
