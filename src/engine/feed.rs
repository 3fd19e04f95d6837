//! The batches a run trains on: rows gathered, augmented and preprocessed, either on the
//! trainer thread as the step needs them, or on the CPU one step ahead on a helper thread
//! ("netloom-feed") while the current step trains.
//!
//! Making a batch is pure: its rows come from the epoch's order and its augmentation from the
//! seed and the step, drawn from netloom's own generator (never libtorch's process-wide one,
//! which the step's dropout uses). So a batch made ahead is exactly the batch made in line, and
//! one made ahead but never used (the run stopped) is dropped with nothing to undo.

use super::batch::batch_of;
use super::error::{EngineError, TorchContext};
use crate::data::Preprocessor;
use crate::data::augment::Augmenter;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use tch::{Device, Tensor};

/// Images shown per Samples event.
pub(super) const SHOWN: i64 = 16;

/// One step's batch, ready for the forward pass.
pub(super) struct Batch {
    /// Inputs, augmented and preprocessed, on the device.
    pub x: Tensor,
    /// Labels, on the device.
    pub y: Tensor,
    /// The first images as the network is fed them (augmented, before preprocessing), when
    /// the step shows samples.
    pub shown: Option<Tensor>,
}

/// What a batch is made from: the stored training split, the augmentation and the fitted
/// preprocessing.
pub(super) struct Feed {
    data: (Tensor, Tensor),
    aug: Option<Augmenter>,
    pre: Preprocessor,
    device: Device,
}

/// Which step's batch to make: its rows (on the data's device), the augmentation's seed, and
/// whether to keep the images the step shows.
struct Order {
    step: u64,
    rows: Tensor,
    seed: u64,
    show: bool,
}

impl Feed {
    pub(super) fn new(
        data: &(Tensor, Tensor),
        aug: Option<Augmenter>,
        pre: Preprocessor,
        device: Device,
    ) -> Feed {
        Feed {
            data: (data.0.shallow_clone(), data.1.shallow_clone()),
            aug,
            pre,
            device,
        }
    }

    /// The batch of `rows`, augmented with `seed`.
    pub(super) fn make(&self, rows: &Tensor, seed: u64, show: bool) -> Result<Batch, EngineError> {
        let (mut x, y) = batch_of((&self.data.0, &self.data.1), rows, self.device)?;
        if let Some(aug) = &self.aug {
            x = aug.apply(&x, seed)?;
        }
        let shown = if show && x.dim() == 4 {
            let n = SHOWN.min(x.size()[0]);
            Some(x.f_narrow(0, 0, n).ctx("taking the shown images")?)
        } else {
            None
        };
        let x = self.pre.apply(&x)?;
        Ok(Batch { x, y, shown })
    }

    /// The data's device (where an epoch's order is uploaded).
    pub(super) fn data_device(&self) -> Device {
        self.data.0.device()
    }

    fn copy(&self) -> Feed {
        Feed::new(&self.data, self.aug.clone(), self.pre.clone(), self.device)
    }
}

/// Batches made one step ahead on a helper thread. Dropping it ends the thread.
pub(super) struct Ahead {
    orders: Option<Sender<Order>>,
    batches: Receiver<(u64, Result<Batch, EngineError>)>,
    thread: Option<JoinHandle<()>>,
    /// The step whose batch is being made, if any.
    asked: Option<u64>,
}

impl Ahead {
    /// Starts the helper thread with its own handles on `feed`'s data.
    ///
    /// The helper runs its operations on one thread. Left at libtorch's default it would start
    /// an OpenMP team as large as the step's, and on two cores the four threads fight: that
    /// was 1.1× to 1.6× slower than making batches in line (docs/performance.md). libtorch's
    /// thread count is per thread under OpenMP, but `set_num_threads` also stores the
    /// process-wide default that threads take at their first parallel operation, so the
    /// caller's count is set back once the helper has taken its own.
    pub(super) fn start(feed: &Feed) -> Result<Ahead, EngineError> {
        let feed = feed.copy();
        let (orders, inbox) = channel::<Order>();
        let (outbox, batches) = channel();
        let (ready, is_ready) = channel::<()>();
        let threads = tch::get_num_threads();
        let thread = std::thread::Builder::new()
            .name("netloom-feed".to_owned())
            .spawn(move || {
                let _guard = tch::no_grad_guard();
                // libtorch gives a thread its count at its first parallel operation, from the
                // process-wide default; asking for the count does that first, so that the
                // caller setting the default back can't undo this thread's one.
                let _ = tch::get_num_threads();
                tch::set_num_threads(1);
                if ready.send(()).is_err() {
                    return;
                }
                for order in inbox {
                    let made = feed.make(&order.rows, order.seed, order.show);
                    if outbox.send((order.step, made)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| EngineError::Feed(format!("could not start its thread: {e}")))?;
        let started = is_ready.recv().is_ok();
        tch::set_num_threads(threads);
        if !started {
            return Err(EngineError::Feed("its thread stopped at start".to_owned()));
        }
        Ok(Ahead {
            orders: Some(orders),
            batches,
            thread: Some(thread),
            asked: None,
        })
    }

    /// Asks for step `step`'s batch (after taking the one asked before, if any).
    pub(super) fn ask(&mut self, step: u64, rows: Tensor, seed: u64, show: bool) {
        if self.asked.is_some() {
            // A batch nobody took (the epoch ended early): wait for it and let it go.
            let _ = self.batches.recv();
        }
        let sent = self.orders.as_ref().is_some_and(|orders| {
            orders
                .send(Order {
                    step,
                    rows,
                    seed,
                    show,
                })
                .is_ok()
        });
        self.asked = sent.then_some(step);
    }

    /// Step `step`'s batch, if it was asked for; None when it wasn't (make it in line then).
    pub(super) fn take(&mut self, step: u64) -> Option<Result<Batch, EngineError>> {
        if self.asked != Some(step) {
            return None;
        }
        self.asked = None;
        Some(match self.batches.recv() {
            Ok((made, batch)) if made == step => batch,
            Ok((made, _)) => Err(EngineError::Feed(format!(
                "it made step {made}'s batch where step {step}'s was asked for"
            ))),
            Err(_) => Err(EngineError::Feed("its thread stopped".to_owned())),
        })
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.orders = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
