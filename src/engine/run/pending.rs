//! Steps whose loss and accuracy are still on the device: fewer host syncs.
//!
//! Reading a scalar off a GPU (`loss.item()`) waits for every kernel queued before it, so a
//! loop that reads the loss after each step keeps the GPU idle while the host prepares the
//! next one; on LeNet-5 that wait is most of the step. netloom keeps each step's loss and
//! correct count on the device and reads a window of them in one copy every `sync_every`
//! steps, then reports each step exactly as if it had been read at once: the same Batch
//! events, metrics.csv rows and epoch sums, in the same order, and a diverged loss still
//! names the step it happened at. On the CPU a read costs nothing, so the window is one step
//! there unless asked otherwise.

use super::Session;
use crate::engine::error::{EngineError, TorchContext};
use crate::engine::protocol::{Emitter, EventKind};
use tch::{Device, Kind, Tensor};

/// One step done but not yet read.
pub(super) struct PendingStep {
    /// 1-based epoch.
    pub epoch: u64,
    /// Global step count after this step.
    pub step: u64,
    /// Steps into the epoch after this step.
    pub step_in_epoch: u64,
    /// Samples in the batch.
    pub samples: u64,
    /// The step's learning rate.
    pub lr: f64,
    /// The throughput and time left when the step was done.
    pub samples_per_s: f64,
    /// Seconds left, as estimated then.
    pub eta_s: f64,
    /// The mean loss of the batch, a 0-d fp32 tensor on the device.
    pub loss: Tensor,
    /// Correct predictions in the batch, a 0-d tensor on the device.
    pub correct: Tensor,
}

/// The window size: `asked`, or one step on the CPU and the log interval on a GPU.
pub(super) fn sync_every(asked: Option<u64>, device: Device, log_every: u64) -> u64 {
    match (asked, device) {
        (Some(n), _) => n.max(1),
        (None, Device::Cpu) => 1,
        (None, _) => log_every.max(1),
    }
}

impl Session<'_> {
    /// Reads every pending step in one copy and reports each: the epoch's sums, its Batch
    /// event and, every `log_every` steps, its metrics.csv row. A loss that isn't finite ends
    /// the run with the step it happened at.
    pub(super) fn flush(&mut self, emit: &Emitter) -> Result<(), EngineError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let steps = std::mem::take(&mut self.pending);
        let mut parts = Vec::with_capacity(steps.len() * 2);
        for s in &steps {
            parts.push(s.loss.f_to_kind(Kind::Float).ctx("reading the losses")?);
        }
        for s in &steps {
            // Counts up to a batch size: exact in fp32 (below 2^24).
            parts.push(s.correct.f_to_kind(Kind::Float).ctx("reading the losses")?);
        }
        let read: Vec<f32> = Vec::try_from(
            Tensor::f_stack(&parts, 0)
                .ctx("reading the losses")?
                .to_device(Device::Cpu),
        )
        .map_err(|e| EngineError::torch("reading the losses", e))?;
        let (losses, corrects) = read.split_at(steps.len());
        for ((s, &loss), &correct) in steps.iter().zip(losses).zip(corrects) {
            if !loss.is_finite() {
                return Err(EngineError::Diverged {
                    value: loss,
                    epoch: s.epoch,
                    step: s.step,
                });
            }
            self.state.epoch_loss_sum += f64::from(loss) * s.samples as f64;
            self.state.epoch_correct += correct as u64;
            self.state.epoch_seen += s.samples;
            if s.step.is_multiple_of(self.job.options.log_every.max(1))
                && let Some(notice) = self.csv.row(format!(
                    "step,{},{},{},{loss},,,,,,,{},,,,,\n",
                    s.epoch,
                    s.step,
                    s.lr,
                    self.threads_cell()
                ))
            {
                emit.send(EventKind::Notice(notice));
            }
            emit.send(EventKind::Batch {
                epoch: s.epoch,
                step: s.step,
                step_in_epoch: s.step_in_epoch,
                steps_per_epoch: self.steps_per_epoch,
                loss,
                lr: s.lr,
                samples_per_s: s.samples_per_s,
                eta_s: s.eta_s,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_one_step_on_the_cpu_and_the_log_interval_elsewhere() {
        assert_eq!(sync_every(None, Device::Cpu, 10), 1);
        assert_eq!(sync_every(None, Device::Cuda(0), 10), 10);
        assert_eq!(sync_every(None, Device::Mps, 0), 1);
        assert_eq!(sync_every(Some(7), Device::Cpu, 10), 7);
        assert_eq!(sync_every(Some(0), Device::Cuda(0), 10), 1);
    }
}
