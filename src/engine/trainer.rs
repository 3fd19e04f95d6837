//! The trainer: a named thread that owns every tch object of a run, and the handle the app and
//! the CLI hold. Commands go in; events of plain data come out over one bounded channel.
//!
//! The same handle runs the short background jobs around a run (loading data for a preview,
//! checking a weights file) on threads of their own that report into the same channel, so
//! the owner has one stream to drain and one protocol to read (see [`super::protocol`]).

use super::error::EngineError;
use super::protocol::{
    Command, Control, DataSource, Emitter, Event, EventKind, Job, Loaded, RunId, RunRequest, Stage,
};
use super::run::run;
use crate::data::{DataSpec, Dataset};
use crate::jobs::panic_text;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// Wakes the owner after each event (the app passes `ctx.request_repaint`).
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// A handle to the trainer thread. Dropping it stops any run and joins the thread.
pub struct Trainer {
    commands: Option<SyncSender<Command>>,
    events: Receiver<Event>,
    control: Arc<Control>,
    next_id: AtomicU64,
    thread: Option<JoinHandle<()>>,
}

impl Trainer {
    /// Starts the thread. `notify` is called after each event. `beside_ui`: the app's trainer,
    /// which runs a little below the window's priority ([`super::cpus::below_ui`]) so that
    /// training beside a busy program doesn't take the cores the window draws with.
    pub fn spawn(notify: Option<Notify>, beside_ui: bool) -> std::io::Result<Trainer> {
        let (cmd_tx, cmd_rx) = sync_channel::<Command>(16);
        let (tx, events) = sync_channel::<Event>(1024);
        let control = Arc::new(Control::default());
        let (worker_control, worker_tx, worker_notify) = (Arc::clone(&control), tx, notify);
        let thread = std::thread::Builder::new()
            .name("trainer".to_owned())
            .spawn(move || {
                if beside_ui {
                    super::cpus::below_ui();
                }
                for command in cmd_rx {
                    if let Command::Start(id, request) = command {
                        let emit = Emitter {
                            run: id,
                            tx: worker_tx.clone(),
                            notify: worker_notify.clone(),
                        };
                        worker_control.reset();
                        carry_out(*request, &worker_control, &emit);
                    }
                }
            })?;
        Ok(Trainer {
            commands: Some(cmd_tx),
            events,
            control,
            next_id: AtomicU64::new(1),
            thread: Some(thread),
        })
    }

    fn new_id(&self) -> RunId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Queues a run (it starts when the one before it has ended) and returns its id.
    pub fn start(&self, request: RunRequest) -> RunId {
        let id = self.new_id();
        self.send(Command::Start(id, Box::new(request)));
        id
    }

    /// Sends a command. Pause, Resume and Stop act at once through the shared flags.
    pub fn send(&self, command: Command) {
        match command {
            Command::Pause => self.control.set_paused(true),
            Command::Resume => self.control.set_paused(false),
            Command::Stop => self.control.request_stop(),
            start @ Command::Start(..) => {
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

    /// The next event, waiting up to `timeout`; None on timeout.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }

    /// True while paused: the one place the pause is kept.
    pub fn is_paused(&self) -> bool {
        self.control.is_paused()
    }
}

/// Claims the run folder (its lock, and the checks that keep a new run off an old one), builds
/// the job (loading its data when it comes as a spec), then trains, and reports how it ended.
/// A panic in the run is reported as a failure, not lost with the thread. The folder's lock is
/// held until the run has ended.
fn carry_out(mut request: RunRequest, control: &Control, emit: &Emitter) {
    let _claim = match super::run_dir::claim(&request.options) {
        Ok(claim) => {
            if let Some(c) = &claim {
                for notice in &c.notices {
                    emit.send(EventKind::Notice(notice.clone()));
                }
                if c.start_over {
                    request.options.resume = false;
                }
            }
            claim
        }
        Err(e) => {
            return emit.send(EventKind::Failed {
                stage: Stage::Loading,
                message: e.to_string(),
            });
        }
    };
    let job = match build(request, emit) {
        Ok(job) => job,
        Err(e) => {
            return emit.send(EventKind::Failed {
                stage: Stage::Loading,
                message: e.to_string(),
            });
        }
    };
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&job, control, emit)));
    emit.send(match result {
        Ok(Ok(summary)) => EventKind::Finished(summary),
        Ok(Err(e)) => EventKind::Failed {
            // An unreadable --init-weights or run state is bad input (exit 2), like bad data.
            stage: if e.is_unreadable_input() {
                Stage::Loading
            } else {
                Stage::Training
            },
            message: e.to_string(),
        },
        Err(panic) => EventKind::Failed {
            stage: Stage::Training,
            message: format!(
                "the trainer hit an internal error (a bug: please report it; the last checkpoint is kept): {}",
                panic_text(&*panic)
            ),
        },
    });
}

/// The job builder: the request's data in memory (loaded for the design's input), reported.
fn build(request: RunRequest, emit: &Emitter) -> Result<Job, EngineError> {
    let input = request.design.input_shape();
    let (data, data_spec): (Arc<Dataset>, Option<DataSpec>) = match request.data {
        DataSource::Loaded(data, spec) => (data, spec),
        DataSource::Spec(spec) => (Arc::new(spec.load_for(input)?), Some(spec)),
        DataSource::OfRun => {
            let dir = request
                .options
                .out_dir
                .as_deref()
                .ok_or(EngineError::NoRunDir)?;
            let (spec, notice) = super::run_dir::data_of_run(dir, input)?;
            emit.send(EventKind::Notice(format!("resuming on {notice}")));
            let data = spec
                .load_for(input)
                .map_err(|e| super::run_dir::unloadable(dir, &spec, &e))?;
            (Arc::new(data), Some(spec))
        }
    };
    emit.send(EventKind::DataLoaded(Loaded(Arc::clone(&data))));
    Ok(Job {
        design: request.design,
        data,
        data_spec,
        options: request.options,
        init: request.init,
    })
}

impl Drop for Trainer {
    fn drop(&mut self) {
        self.control.request_stop();
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
