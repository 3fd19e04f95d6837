//! Gradual unfreezing during a run: at each epoch's start, thaw the blocks the schedule
//! (`design::unfreeze`) says are due, tell the renderers, and record in the run folder which
//! blocks trained in every epoch so far (unfreezing.csv).

use super::Session;
use crate::design::unfreeze::thawed_at;
use crate::engine::error::EngineError;
use crate::engine::files::write_text;
use crate::engine::protocol::{Emitter, EventKind, Thawing};

/// unfreezing.csv's header: the epoch, its trainable parameter values, and the blocks thawed
/// by then (head first, separated by spaces).
const HEADER: &str = "epoch,trainable_params,thawed_blocks\n";

impl Session<'_> {
    /// Thaws the blocks due at the start of the coming epoch. A resumed run re-thaws everything
    /// up to its epoch at once, since compiling starts from the design's frozen flags.
    pub(super) fn thaw_for_epoch(&mut self, emit: &Emitter) -> Result<(), EngineError> {
        let Some(every) = self.settings().unfreeze_every else {
            return Ok(());
        };
        let epoch = self.state.epochs_done;
        let due = thawed_at(epoch, every, self.thaw.len(), self.others_train);
        if due > self.thawed {
            let blocks = self.thaw.get(self.thawed..due).unwrap_or_default();
            let now: Vec<String> = blocks.iter().map(|(block, _)| block.clone()).collect();
            for node in blocks.iter().flat_map(|(_, nodes)| nodes) {
                self.net.thaw(node);
            }
            self.thawed = due;
            emit.send(EventKind::Thawed(Thawing {
                epoch: epoch + 1,
                thawed_now: now,
                thawed: self.thawed_names(),
                still_frozen: self.thaw.len() - due,
                trainable: self.net.params.trainable_count(),
            }));
        }
        self.write_thawing(epoch + 1, every)
    }

    fn thawed_names(&self) -> Vec<String> {
        self.thaw
            .iter()
            .take(self.thawed)
            .map(|(block, _)| block.clone())
            .collect()
    }

    /// Rewrites unfreezing.csv whole for epochs 1..=`upto`: the schedule is a pure function
    /// of the epoch, so the file stays right after a resume without tracking its length.
    fn write_thawing(&self, upto: u64, every: u64) -> Result<(), EngineError> {
        let Some(dir) = self.job.options.out_dir.as_deref() else {
            return Ok(());
        };
        let base = self.net.params.trainable_count() - self.thaw_params(self.thawed);
        let mut text = HEADER.to_owned();
        for e in 1..=upto {
            let n = thawed_at(e - 1, every, self.thaw.len(), self.others_train);
            let blocks: Vec<&str> = self.thaw.iter().take(n).map(|(b, _)| b.as_str()).collect();
            let params = base + self.thaw_params(n);
            text.push_str(&format!("{e},{params},{}\n", blocks.join(" ")));
        }
        write_text(&dir.join("unfreezing.csv"), "write unfreezing.csv", &text)
    }

    /// Parameter values in the first `n` thaw blocks.
    fn thaw_params(&self, n: usize) -> u64 {
        self.thaw
            .iter()
            .take(n)
            .flat_map(|(_, nodes)| nodes.iter())
            .flat_map(|node| self.net.params.iter().filter(move |p| &p.node == node))
            .filter(|p| p.parameter)
            .map(|p| p.tensor.numel() as u64)
            .sum()
    }
}
