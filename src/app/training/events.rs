//! Each frame's intake of the trainer's events: every event goes to the job it belongs to
//! (the run in flight, an export, the preview's data, a weights check) by its run id.

use super::{Pretrained, Training, WeightsChoice};
use crate::engine::EventKind;
use std::time::{Duration, Instant};

impl Training {
    /// Takes in what happened since the last frame, spending at most `budget`; each event
    /// goes to the job it belongs to, and events of jobs no longer waited for are dropped.
    pub fn drain(&mut self, budget: Duration) {
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
            } else if self.preview.waits_for(event.run) {
                match event.kind {
                    EventKind::DataLoaded(d) => self.preview.arrived(Ok(d.0)),
                    EventKind::Failed { message, .. } => self.preview.arrived(Err(message)),
                    _ => {}
                }
            } else if let Pretrained::Checking(path, id, restore) = &self.pretrained
                && *id == event.run
                && let Some(result) = match event.kind {
                    EventKind::WeightsChecked(result) => Some(result),
                    // The check's thread failed (an internal error): said, not waited on forever.
                    EventKind::Failed { message, .. } => Some(Err(message)),
                    _ => None,
                }
            {
                self.pretrained = match (result, restore) {
                    (Ok(report), Some(skip)) => Pretrained::Using(WeightsChoice {
                        path: path.clone(),
                        report,
                        skip: skip.clone(),
                    }),
                    (Ok(report), None) => Pretrained::Review(WeightsChoice {
                        path: path.clone(),
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
        if ended {
            self.refresh_usage();
        }
    }
}
