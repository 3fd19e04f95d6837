//! Batches: the stored data as device tensors, rows gathered into a batch, the loss, and
//! evaluation of a network on a split in batches. Shared by training, `netloom eval` and the
//! epoch-end views.

use super::error::{EngineError, TorchContext};
use super::metrics::Confusion;
use super::network::Network;
use crate::data::{Dataset, Preprocessor, Samples, Split};
use crate::design::Loss;
use tch::{Device, Kind, Reduction, Tensor};

/// Loss, accuracy and confusion of a network on a split.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalReport {
    /// Mean loss.
    pub loss: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Confusion matrix.
    pub confusion: Confusion,
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
/// the memory) and labels as int64. They live on `device` (so on a GPU a step gathers its batch
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
    let labels: Vec<i64> = split.labels.iter().map(|&l| i64::from(l)).collect();
    Ok((x, Tensor::from_slice(&labels).to_device(home)))
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

pub(crate) fn loss_of(net: &Network, logits: &Tensor, y: &Tensor) -> Result<Tensor, EngineError> {
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

/// Evaluates `net` (eval mode) on stored samples `x`/`y` in batches.
pub fn evaluate(
    net: &Network,
    pre: &Preprocessor,
    x: &Tensor,
    y: &Tensor,
    classes: usize,
    batch: i64,
) -> Result<EvalReport, EngineError> {
    let _guard = tch::no_grad_guard();
    let n = y.size().first().copied().unwrap_or(0);
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
    Ok(EvalReport {
        loss: if n > 0 { loss_sum / n as f64 } else { f64::NAN },
        accuracy: confusion.accuracy(),
        confusion,
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
