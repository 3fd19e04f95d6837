//! Batches: the stored data as device tensors, rows gathered into a batch, the loss, and
//! evaluation of a network on a split in batches. Shared by training, `netloom eval` and the
//! epoch-end views.

use super::error::{EngineError, TorchContext};
use super::metrics::Confusion;
use super::network::Network;
use super::regression::{FitSums, RegressionFit};
use super::segmentation::{SegmentationFit, add_pixels};
use crate::data::{Dataset, Preprocessor, Quantity, Samples, Split};
use crate::design::Loss;
use tch::{Device, Kind, Reduction, Tensor};

/// Loss, accuracy and confusion of a network on a split; for regression its fit instead.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalReport {
    /// Mean loss.
    pub loss: f64,
    /// Accuracy (NaN for regression).
    pub accuracy: f64,
    /// Confusion matrix (empty for regression).
    pub confusion: Confusion,
    /// For regression, MAE, RMSE, R² and predicted-vs-actual points.
    pub regression: Option<RegressionFit>,
    /// For segmentation, pixel accuracy and IoU (`confusion` then counts pixels).
    pub segmentation: Option<SegmentationFit>,
}

/// Mixes a seed with a counter (SplitMix64's finaliser), for per-step and per-epoch streams.
pub(crate) fn mix(seed: u64, salt: u64, k: u64) -> u64 {
    let mut z =
        seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ k.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A split as tensors: samples `[n, …shape]` in their stored type (u8 stays u8, a quarter of
/// the memory) and labels as int64, or a regression's values as f32 `[n, 1]` (the kind tells
/// the loss which it is). They live on `device` (so on a GPU a step gathers its batch
/// there and copies nothing from the host) unless they would take more than a quarter of the
/// GPU's free memory; then they stay in the host's memory and each batch is copied over.
pub fn prepare_inputs(
    split: &Split,
    data: &Dataset,
    device: Device,
) -> Result<(Tensor, Tensor), EngineError> {
    let mut dims: Vec<i64> = vec![split.len() as i64];
    dims.extend(data.shape.dims().iter().map(|&d| d as i64));
    let x = match &split.samples {
        Samples::U8(v) => Tensor::from_slice(v),
        Samples::F32(v) => Tensor::from_slice(v),
    };
    let bytes = (x.numel() * x.kind().elt_size_in_bytes()) as u64;
    let home = if resident(bytes, super::device::free_memory(device)) {
        device
    } else {
        Device::Cpu
    };
    let x = x
        .f_reshape(dims.as_slice())
        .ctx("shaping the data")?
        .to_device(home);
    let y = if !split.masks.is_empty() {
        // Masks stay bytes (a class per pixel, 255 ignored) until the loss reads a batch.
        let mut dims = vec![split.len() as i64];
        dims.extend(data.shape.dims().iter().skip(1).map(|&d| d as i64));
        Tensor::from_slice(&split.masks.concat())
            .f_reshape(dims.as_slice())
            .ctx("shaping the masks")?
    } else if data.quantity.is_some() {
        Tensor::from_slice(&split.values)
            .f_reshape([-1, 1])
            .ctx("shaping the targets")?
    } else {
        let labels: Vec<i64> = split.labels.iter().map(|&l| i64::from(l)).collect();
        Tensor::from_slice(&labels)
    };
    Ok((x, y.to_device(home)))
}

/// Whether data of `bytes` stays on the device, given its free memory (None: unknown, or the
/// CPU): when it takes at most a quarter of what is free, leaving the rest to the network.
fn resident(bytes: u64, free: Option<u64>) -> bool {
    free.is_none_or(|free| bytes <= free / 4)
}

/// Rows `idx` of the stored samples `x`, and of their labels `y`, on `device`: samples as
/// f32 with bytes scaled to [0, 1], labels as int64. Where the data stayed on the host, the
/// rows are taken there and only the batch (still as bytes) crosses to the device.
pub(crate) fn batch_of(
    (x, y): (&Tensor, &Tensor),
    idx: &Tensor,
    device: Device,
) -> Result<(Tensor, Tensor), EngineError> {
    let idx = idx.to_device(x.device());
    let xb = gather(x, &idx)?.to_device(device);
    let yb = y
        .f_index_select(0, &idx)
        .ctx("taking labels")?
        .to_device(device);
    Ok((xb, yb))
}

/// Rows `idx` of the stored samples as f32, bytes scaled to [0, 1], where `x` is.
pub(crate) fn gather(x: &Tensor, idx: &Tensor) -> Result<Tensor, EngineError> {
    let b = x.f_index_select(0, idx).ctx("taking a batch")?;
    Ok(if b.kind() == Kind::Uint8 {
        b.to_kind(Kind::Float) / 255.0
    } else {
        b
    })
}

/// The loss of a batch: cross-entropy on class labels; MSE on a regression's values (`y` is
/// f32), or on class labels made one-hot; per-pixel cross-entropy on masks (`y` is u8), the
/// ignored pixels left out.
pub(crate) fn loss_of(net: &Network, logits: &Tensor, y: &Tensor) -> Result<Tensor, EngineError> {
    if y.kind() == Kind::Uint8 {
        let ignore = i64::from(crate::data::masks::IGNORE);
        return logits
            .f_cross_entropy_loss(
                &y.to_kind(Kind::Int64),
                None::<Tensor>,
                Reduction::Mean,
                ignore,
                0.0,
            )
            .ctx("per-pixel cross-entropy");
    }
    if y.kind() == Kind::Float {
        let y = y.f_view_as(logits).ctx("mse")?;
        return logits.f_mse_loss(&y, Reduction::Mean).ctx("mse");
    }
    match net.loss {
        Loss::CrossEntropy => logits
            .f_cross_entropy_loss(y, None::<Tensor>, Reduction::Mean, -100, 0.0)
            .ctx("cross-entropy"),
        Loss::Mse => {
            let classes = logits.size().last().copied().unwrap_or(1);
            let target = y.f_one_hot(classes).ctx("one-hot")?.to_kind(Kind::Float);
            logits.f_mse_loss(&target, Reduction::Mean).ctx("mse")
        }
    }
}

/// What the predictions of a split are measured against: the classes, or for regression the
/// quantity the values are of.
#[derive(Clone, Copy, Debug)]
pub enum Truth<'a> {
    /// This many classes.
    Classes(usize),
    /// Values of this quantity.
    Values(&'a Quantity),
    /// A mask per sample of this many classes.
    Masks(usize),
}

impl<'a> Truth<'a> {
    /// What `data`'s labels are.
    pub fn of(data: &'a Dataset) -> Truth<'a> {
        match &data.quantity {
            Some(q) => Truth::Values(q),
            None if data.is_segmentation() => Truth::Masks(data.classes.len()),
            None => Truth::Classes(data.classes.len()),
        }
    }
}

/// Evaluates `net` (eval mode) on stored samples `x`/`y` in batches.
pub fn evaluate(
    net: &Network,
    pre: &Preprocessor,
    (x, y): (&Tensor, &Tensor),
    truth: Truth<'_>,
    batch: i64,
) -> Result<EvalReport, EngineError> {
    let _guard = tch::no_grad_guard();
    let n = y.size().first().copied().unwrap_or(0);
    let classes = match truth {
        Truth::Classes(c) | Truth::Masks(c) => c,
        Truth::Values(_) => 0,
    };
    let masks = matches!(truth, Truth::Masks(_));
    let mut fit = match truth {
        Truth::Values(q) => Some(FitSums::new(q)),
        Truth::Classes(_) | Truth::Masks(_) => None,
    };
    let (mut loss_sum, mut confusion) = (0.0, Confusion::new(classes));
    let mut start = 0;
    while start < n {
        let len = batch.min(n - start);
        let idx =
            Tensor::f_arange_start(start, start + len, (Kind::Int64, x.device())).ctx("eval")?;
        let (xb, yb) = batch_of((x, y), &idx, net.device)?;
        let xb = pre.apply(&xb)?;
        let logits = net.forward(&xb, false, None)?;
        loss_sum += loss_of(net, &logits, &yb)?.double_value(&[]) * len as f64;
        if masks {
            add_pixels(&mut confusion, &logits, &yb)?;
            start += len;
            continue;
        }
        if let Some(fit) = &mut fit {
            let cpu = |t: &Tensor| -> Result<Vec<f32>, EngineError> {
                Vec::try_from(t.reshape([-1]).to_kind(Kind::Float).to_device(Device::Cpu))
                    .map_err(|e| EngineError::torch("eval", e))
            };
            fit.add(&cpu(&logits)?, &cpu(&yb)?);
            start += len;
            continue;
        }
        let pred: Vec<i64> = Vec::try_from(
            logits
                .f_argmax(1, false)
                .ctx("eval")?
                .to_device(Device::Cpu),
        )
        .map_err(|e| EngineError::torch("eval", e))?;
        let truth: Vec<i64> =
            Vec::try_from(yb.to_device(Device::Cpu)).map_err(|e| EngineError::torch("eval", e))?;
        confusion.add(&truth, &pred);
        start += len;
    }
    let segmentation = masks.then(|| SegmentationFit::of(&confusion));
    Ok(EvalReport {
        loss: if n > 0 { loss_sum / n as f64 } else { f64::NAN },
        accuracy: if fit.is_some() {
            f64::NAN
        } else {
            confusion.accuracy()
        },
        confusion,
        regression: fit.map(FitSums::finish),
        segmentation,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn data_stays_on_the_device_when_it_takes_at_most_a_quarter_of_its_free_memory() {
        assert!(super::resident(47_040_000, None));
        assert!(super::resident(1 << 30, Some(4 << 30)));
        assert!(!super::resident((1 << 30) + 1, Some(4 << 30)));
    }
}
