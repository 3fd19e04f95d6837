//! The trainer thread and its protocol. The thread owns every tch object; commands go in,
//! events of plain data come out over a bounded channel.
//!
//! Pause and Stop are atomic flags checked before every batch (burn's `Interrupter`), so they
//! act within one batch even while the thread is busy; Start waits in the command queue.

use super::metrics::NodeStats;
use super::run::{EpochMetrics, Job, Summary, run};
use crate::data::augment::Rgba;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the UI or CLI asks of the trainer.
#[derive(Debug)]
pub enum Command {
    /// Train this job (a copy of the design, the data, the settings).
    Start(Box<Job>),
    /// Hold before the next batch, keeping the weights.
    Pause,
    /// Continue after Pause.
    Resume,
    /// End the run before the next batch, with a checkpoint.
    Stop,
}

/// What the trainer reports. Plain data only.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Pretrained weights were loaded: how the file's tensors mapped onto the network.
    WeightsLoaded(super::WeightsReport),
    /// The network is built and about to train.
    Compiled {
        /// Trainable parameters.
        params: u64,
        /// Parameters of frozen nodes.
        frozen: u64,
        /// The device, named for people.
        device: String,
        /// `(epochs, steps)` already done when resuming.
        resumed_at: Option<(u64, u64)>,
    },
    /// One optimizer step done.
    Batch {
        /// 1-based epoch.
        epoch: u64,
        /// Global steps done.
        step: u64,
        /// Steps done in this epoch.
        step_in_epoch: u64,
        /// Steps an epoch has.
        steps_per_epoch: u64,
        /// The batch's loss.
        loss: f32,
        /// The learning rate used.
        lr: f64,
        /// Recent throughput.
        samples_per_s: f64,
        /// Estimated seconds left (NaN until known).
        eta_s: f64,
    },
    /// An epoch ended.
    Epoch(EpochMetrics),
    /// Per-node activation histograms, gradient norms and dead-ReLU fractions.
    Histograms {
        /// The step they were taken at.
        step: u64,
        /// One entry per hidden node, in execution order.
        nodes: Vec<NodeStats>,
    },
    /// The augmented inputs the network was fed at `step`, before normalisation.
    Samples {
        /// The step.
        step: u64,
        /// Up to 16 images.
        images: Vec<Rgba>,
        /// Their labels.
        labels: Vec<u32>,
    },
    /// At the end of each epoch, for image data: the feature maps of every convolution for
    /// the first validation image, the first convolution's filters, and the first validation
    /// images with their predicted and true classes.
    Views {
        /// 1-based epoch.
        epoch: u64,
        /// `(conv node, one grey image per channel, at most 32)`.
        feature_maps: Vec<(String, Vec<Rgba>)>,
        /// The first convolution's kernels, each scaled to [0, 1] (grey, or RGB on RGB input).
        filters: Vec<Rgba>,
        /// `(image, true class, predicted class)` for the first 16 validation samples.
        predictions: Vec<(Rgba, u32, u32)>,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// The latest weights file.
        path: PathBuf,
        /// Epochs done.
        epoch: u64,
        /// True when it is also the new best.
        best: bool,
    },
    /// The run ended (normally or by Stop).
    Finished(Summary),
    /// The run failed; nothing after the last checkpoint is kept.
    Failed {
        /// What went wrong and what to change.
        message: String,
    },
}

/// The flags shared between a handle and its worker.
#[derive(Debug, Default)]
pub struct Control {
    paused: AtomicBool,
    stop: AtomicBool,
}

impl Control {
    /// Blocks while paused; false when the run should stop.
    pub(crate) fn wait_while_paused(&self) -> bool {
        while self.paused.load(Ordering::Acquire) && !self.stop.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(10));
        }
        !self.stop.load(Ordering::Acquire)
    }
}

/// Sends events to the owner and wakes it up.
pub struct Emitter {
    tx: SyncSender<Event>,
    notify: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Emitter {
    /// Sends an event the owner must see (waits when the queue is full).
    pub(crate) fn send(&self, event: Event) {
        let _ = self.tx.send(event);
        self.wake();
    }

    /// Sends a bulky, periodic event only if there is room: a slow UI skips a histogram
    /// rather than holding up training.
    pub(crate) fn offer(&self, event: Event) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(event) {
            return;
        }
        self.wake();
    }

    fn wake(&self) {
        if let Some(n) = &self.notify {
            n();
        }
    }
}

/// A handle to the trainer thread. Dropping it stops any run and joins the thread.
pub struct Trainer {
    commands: Option<SyncSender<Command>>,
    events: Receiver<Event>,
    control: Arc<Control>,
    thread: Option<JoinHandle<()>>,
}

impl Trainer {
    /// Starts the thread. `notify` is called after each event (the UI passes
    /// `ctx.request_repaint`).
    pub fn spawn(notify: Option<Arc<dyn Fn() + Send + Sync>>) -> std::io::Result<Trainer> {
        let (cmd_tx, cmd_rx) = sync_channel::<Command>(16);
        let (tx, events) = sync_channel::<Event>(1024);
        let control = Arc::new(Control::default());
        let worker_control = Arc::clone(&control);
        let thread = std::thread::Builder::new()
            .name("trainer".to_owned())
            .spawn(move || {
                let emit = Emitter { tx, notify };
                for command in cmd_rx {
                    if let Command::Start(job) = command {
                        worker_control.stop.store(false, Ordering::Release);
                        worker_control.paused.store(false, Ordering::Release);
                        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            run(&job, &worker_control, &emit)
                        }));
                        emit.send(match result {
                            Ok(Ok(summary)) => Event::Finished(summary),
                            Ok(Err(e)) => Event::Failed {
                                message: e.to_string(),
                            },
                            Err(panic) => Event::Failed {
                                message: format!(
                                    "the trainer hit an internal error: {}",
                                    panic_text(&panic)
                                ),
                            },
                        });
                    }
                }
            })?;
        Ok(Trainer {
            commands: Some(cmd_tx),
            events,
            control,
            thread: Some(thread),
        })
    }

    /// Sends a command. Pause, Resume and Stop act at once through the shared flags.
    pub fn send(&self, command: Command) {
        match command {
            Command::Pause => self.control.paused.store(true, Ordering::Release),
            Command::Resume => self.control.paused.store(false, Ordering::Release),
            Command::Stop => self.control.stop.store(true, Ordering::Release),
            start @ Command::Start(_) => {
                if let Some(tx) = &self.commands {
                    let _ = tx.send(start);
                }
            }
        }
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// The next event, waiting up to `timeout`; None on timeout or when the thread is gone.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.control.paused.load(Ordering::Acquire)
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}

impl Drop for Trainer {
    fn drop(&mut self) {
        self.control.stop.store(true, Ordering::Release);
        self.commands = None;
        // Drain so a worker blocked on a full queue can finish.
        while let Some(thread) = self.thread.take() {
            while !thread.is_finished() {
                while self.events.try_recv().is_ok() {}
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = thread.join();
        }
    }
}
