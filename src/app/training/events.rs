//! Each frame's intake: the trainer's events for the run in flight (by its run id; others'
//! are stale and dropped), and the answers of the helper jobs (the preview's data, a weights
//! check), each polled on its own handle.

use super::{Pretrained, Training, WeightsChoice};
use crate::engine::EventKind;
use std::time::{Duration, Instant};

impl Training {
    /// Takes in what happened since the last frame, spending at most `budget` on the run's
    /// events; events of runs no longer waited for are dropped.
    pub fn drain(&mut self, budget: Duration) {
        self.preview.poll();
        self.poll_weights_check();
        let Some(trainer) = &self.trainer else { return };
        let started = Instant::now();
        let mut ended = false;
        while started.elapsed() < budget {
            let Some(event) = trainer.try_recv() else {
                break;
            };
            if Some(event.run) == self.current {
                // A run that failed before it trained a step never was one: no number, no
                // folder link, no empty plots; its reason stays by the Train button.
                if let EventKind::Failed {
                    stage: crate::engine::Stage::Loading,
                    message,
                } = &event.kind
                    && self.runs.last().is_some_and(|r| r.losses.is_empty())
                {
                    if let Some(run) = self.runs.pop()
                        && let Some(dir) = run.dir.filter(|d| d.is_dir())
                    {
                        // Only a folder the failed start left empty.
                        let _ = std::fs::remove_dir(dir);
                    }
                    self.start_error = Some(message.clone());
                    self.current = None;
                    continue;
                }
                if let Some(run) = self.runs.last_mut() {
                    run.apply(&event.kind);
                    if !run.is_active() {
                        self.current = None;
                        ended = true;
                    }
                }
            }
        }
        if ended {
            self.refresh_usage();
        }
    }

    /// Takes in a weights check's answer: reviewed next, or used at once for a reopened design
    /// whose weights were reviewed when it was saved.
    fn poll_weights_check(&mut self) {
        let Pretrained::Checking(path, job, restore) = &mut self.pretrained else {
            return;
        };
        let result = match job.poll() {
            crate::jobs::Poll::Working => return,
            crate::jobs::Poll::Done(result) => result,
            crate::jobs::Poll::Taken => Err("the weights check's answer was lost".to_owned()),
        };
        let (path, restore) = (path.clone(), restore.take());
        self.pretrained = match (result, restore) {
            (Ok(report), Some(skip)) => Pretrained::Using(WeightsChoice { path, report, skip }),
            (Ok(report), None) => Pretrained::Review(WeightsChoice {
                path,
                report,
                skip: Vec::new(),
            }),
            (Err(e), _) => {
                self.pretrained_error = Some(e);
                Pretrained::None
            }
        };
    }
}
