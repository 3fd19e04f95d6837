//! Work that takes longer than a frame, each piece on a named thread of its own behind one
//! handle type, [`Job`]: an export, a Learn lesson's probe or fit. The UI polls it each frame
//! and never waits; the handle says when the work is done, failed (with the reason, a panic
//! included, so nothing waits forever), or was given up. Several can run at once, which is
//! what a sweep's runs and the app's helpers both need. (A training run itself streams many
//! events over the trainer's channel, `engine::Trainer`; a job answers once.)

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};

/// Called when a job has its answer (egui's `request_repaint`, so the UI polls soon).
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// How far a job has come, and whether it should stop: shared by the handle and the work.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicUsize,
    of: AtomicUsize,
    cancelled: AtomicBool,
    stage: Mutex<String>,
}

impl Progress {
    /// The work says it has `of` stages in all.
    pub fn stages(&self, of: usize) {
        self.of.store(of, Ordering::Relaxed);
    }

    /// The work finished another stage, and says what comes next.
    pub fn advance(&self, next: &str) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut s) = self.stage.lock() {
            next.clone_into(&mut s);
        }
    }

    /// Stages done, and of how many (0 when the work didn't say).
    pub fn fraction(&self) -> (usize, usize) {
        (
            self.done.load(Ordering::Relaxed),
            self.of.load(Ordering::Relaxed),
        )
    }

    /// What the work is doing now, as it last said.
    pub fn stage(&self) -> String {
        self.stage.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// True once [`Progress::cancel`] was called: the work should stop and return.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// Where a job is.
#[derive(Debug, PartialEq)]
pub enum Poll<T> {
    /// Still working.
    Working,
    /// Its answer: given once; later polls say [`Poll::Taken`].
    Done(Result<T, String>),
    /// The answer was already taken.
    Taken,
}

/// A piece of work on its own thread, polled without waiting.
#[derive(Debug)]
pub struct Job<T> {
    name: String,
    rx: Option<Receiver<Result<T, String>>>,
    progress: Arc<Progress>,
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a thread named `name`; `notify` is called when it has its answer. A
    /// thread that can't start, or work that panics (a bug), answers with an error that says
    /// so.
    pub fn spawn(
        name: &str,
        notify: Option<Notify>,
        work: impl FnOnce(&Progress) -> Result<T, String> + Send + 'static,
    ) -> Job<T> {
        let (tx, rx) = sync_channel(1);
        let progress = Arc::new(Progress::default());
        let shared = Arc::clone(&progress);
        let thread = name.to_owned();
        let failed = tx.clone();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    work(&shared)
                }))
                .unwrap_or_else(|panic| {
                    Err(format!(
                        "netloom's {thread} thread hit an internal error (a bug: please report it): {}",
                        panic_text(&*panic)
                    ))
                });
                let _ = tx.send(answer);
                if let Some(notify) = notify {
                    notify();
                }
            });
        if let Err(e) = spawned {
            let _ = failed.send(Err(format!("could not start the {name} thread: {e}")));
        }
        Job {
            name: name.to_owned(),
            rx: Some(rx),
            progress,
        }
    }

    /// Its answer, once there is one.
    pub fn poll(&mut self) -> Poll<T> {
        let Some(rx) = &self.rx else {
            return Poll::Taken;
        };
        let answer = match rx.try_recv() {
            Ok(answer) => answer,
            Err(TryRecvError::Empty) => return Poll::Working,
            Err(TryRecvError::Disconnected) => Err(format!(
                "the {} thread stopped without an answer",
                self.name
            )),
        };
        self.rx = None;
        Poll::Done(answer)
    }

    /// How far it has come.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// True until its answer has been taken.
    pub fn is_pending(&self) -> bool {
        self.rx.is_some()
    }
}

/// A panic's message, from its payload (a caught one's, or a panic hook's).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait<T: Send + 'static>(job: &mut Job<T>) -> Result<T, String> {
        let start = Instant::now();
        loop {
            match job.poll() {
                Poll::Done(answer) => return answer,
                Poll::Taken => panic!("already taken"),
                Poll::Working => {
                    assert!(start.elapsed() < Duration::from_secs(30), "no answer");
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }

    #[test]
    fn a_job_answers_once_and_says_so_after() {
        let mut job = Job::spawn("test-sum", None, |p| {
            p.stages(2);
            p.advance("adding");
            Ok(2 + 2)
        });
        assert_eq!(wait(&mut job), Ok(4));
        assert_eq!(job.poll(), Poll::Taken);
        assert!(!job.is_pending());
        assert_eq!(job.progress().fraction(), (1, 2));
        assert_eq!(job.progress().stage(), "adding");
    }

    #[test]
    fn a_panic_becomes_an_error_naming_the_thread_and_notify_is_called() {
        let called = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&called);
        let mut job: Job<u8> = Job::spawn(
            "test-panics",
            Some(Arc::new(move || flag.store(true, Ordering::SeqCst))),
            |_| panic!("boom"),
        );
        let e = wait(&mut job).unwrap_err();
        assert!(
            e.contains("test-panics thread") && e.contains("boom"),
            "{e}"
        );
        assert!(called.load(Ordering::SeqCst));
    }

    #[test]
    fn cancelling_reaches_the_work() {
        let mut job = Job::spawn("test-cancel", None, |p| {
            let start = Instant::now();
            while !p.is_cancelled() {
                if start.elapsed() > Duration::from_secs(30) {
                    return Err("never cancelled".to_owned());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok("stopped")
        });
        job.progress().cancel();
        assert_eq!(wait(&mut job), Ok("stopped"));
    }
}
