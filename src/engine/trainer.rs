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
use crate::design::{Design, Shape};
use std::path::PathBuf;
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
    tx: SyncSender<Event>,
    events: Receiver<Event>,
    control: Arc<Control>,
    notify: Option<Notify>,
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
        let (worker_control, worker_tx, worker_notify) =
            (Arc::clone(&control), tx.clone(), notify.clone());
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
            tx,
            events,
            control,
            notify,
            next_id: AtomicU64::new(1),
            thread: Some(thread),
        })
    }

    fn new_id(&self) -> RunId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn emitter(&self, run: RunId) -> Emitter {
        Emitter {
            run,
            tx: self.tx.clone(),
            notify: self.notify.clone(),
        }
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

    /// Loads `spec` sized for `input` on a thread of its own (a run may be training); the
    /// result comes as [`EventKind::DataLoaded`] or a failure at [`Stage::Loading`].
    pub fn load_data(&self, spec: DataSpec, input: Option<Shape>) -> RunId {
        let id = self.new_id();
        let emit = self.emitter(id);
        self.helper(&emit, "data-loader", move |emit| {
            match spec.load_for(input) {
                Ok(data) => emit.send(EventKind::DataLoaded(Loaded(Arc::new(data)))),
                Err(e) => emit.send(EventKind::Failed {
                    stage: Stage::Loading,
                    message: e.to_string(),
                }),
            };
        });
        id
    }

    /// Reads a weights file and maps it onto `design` without applying anything, on a thread
    /// of its own; the answer comes as [`EventKind::WeightsChecked`].
    pub fn check_weights(&self, path: PathBuf, design: Design) -> RunId {
        let id = self.new_id();
        let emit = self.emitter(id);
        self.helper(&emit, "weights-check", move |emit| {
            let report = super::check_weights_file(&path)
                .and_then(|shapes| super::report_for(&design, &shapes, &[]))
                .map_err(|e| e.to_string());
            emit.send(EventKind::WeightsChecked(report));
        });
        id
    }

    /// Runs `work` on a named thread; a thread that can't start, or that panics (a bug), is
    /// reported as a failure, so that nothing waits for its answer forever.
    fn helper(&self, emit: &Emitter, name: &str, work: impl FnOnce(&Emitter) + Send + 'static) {
        let worker = emit.clone();
        let thread = name.to_owned();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let caught =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&worker)));
                if let Err(panic) = caught {
                    worker.send(EventKind::Failed {
                        stage: Stage::Loading,
                        message: format!(
                            "netloom's {thread} thread hit an internal error (a bug: please report it): {}",
                            panic_text(&*panic)
                        ),
                    });
                }
            });
        if let Err(e) = spawned {
            emit.send(EventKind::Failed {
                stage: Stage::Loading,
                message: format!("could not start the {name} thread: {e}"),
            });
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

/// A panic's message, from its payload (a caught one's, or a panic hook's).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_helper_that_panics_is_reported_not_waited_on_forever() {
        let trainer = Trainer::spawn(None, false).unwrap();
        let id = trainer.new_id();
        let emit = trainer.emitter(id);
        trainer.helper(&emit, "test-helper", |_| panic!("boom"));
        let event = trainer.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(event.run, id);
        let EventKind::Failed { message, .. } = event.kind else {
            panic!("expected a failure");
        };
        assert!(
            message.contains("test-helper thread hit an internal error"),
            "{message}"
        );
        assert!(message.contains("boom"), "{message}");
    }
}
