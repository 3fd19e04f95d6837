//! Pretrained weights in the app: checked against the design on a helper thread, reviewed,
//! then used by the next runs.

use crate::engine::{InitWeights, WeightsReport, is_skipped, node_of};
use crate::jobs::Job;
use std::path::PathBuf;

/// Pretrained weights, from being checked against the design to being used by runs.
pub enum Pretrained {
    /// Runs start from a fresh initialisation.
    None,
    /// The file is being read and mapped (the job gives the mapping). With the blocks to
    /// leave out: a design reopened, whose weights were reviewed when it was saved, so they
    /// are used at once rather than reviewed again.
    Checking(PathBuf, Job<WeightsReport>, Option<Vec<String>>),
    /// The mapping is shown for review; nothing is applied yet.
    Review(WeightsChoice),
    /// Runs start from the matched weights.
    Using(WeightsChoice),
}

impl Pretrained {
    /// Shows the mapping of the weights in use again.
    pub fn review(&mut self) {
        *self = match std::mem::replace(self, Pretrained::None) {
            Pretrained::Using(w) => Pretrained::Review(w),
            other => other,
        };
    }

    /// Uses the reviewed weights for the next runs.
    pub fn accept(&mut self) {
        *self = match std::mem::replace(self, Pretrained::None) {
            Pretrained::Review(w) => Pretrained::Using(w),
            other => other,
        };
    }

    /// What runs start from now.
    pub fn init(&self) -> Option<InitWeights> {
        match self {
            Pretrained::Using(w) => Some(InitWeights {
                path: w.path.clone(),
                skip: w.skip.clone(),
            }),
            _ => None,
        }
    }

    /// The choice being reviewed or used.
    pub fn choice_mut(&mut self) -> Option<&mut WeightsChoice> {
        match self {
            Pretrained::Using(w) | Pretrained::Review(w) => Some(w),
            _ => None,
        }
    }
}

/// A weights file, how it maps onto the design, and the nodes the user left out.
#[derive(Clone, Debug)]
pub struct WeightsChoice {
    /// The file.
    pub path: PathBuf,
    /// The mapping by name.
    pub report: WeightsReport,
    /// Nodes not to load even though they match (e.g. a head to re-initialise).
    pub skip: Vec<String>,
}

impl WeightsChoice {
    /// The matched tensors grouped by node: (node, tensors), in the design's order.
    pub fn matched_nodes(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for t in self
            .report
            .matched
            .iter()
            .map(|(n, _)| n)
            .chain(&self.report.skipped)
        {
            let n = node_of(t).to_owned();
            match out.iter_mut().find(|(m, _)| *m == n) {
                Some((_, count)) => *count += 1,
                None => out.push((n, 1)),
            }
        }
        out
    }

    /// How many matched tensors will load (those not left out).
    pub fn loaded(&self) -> usize {
        self.report
            .matched
            .iter()
            .filter(|(t, _)| !is_skipped(t, &self.skip))
            .count()
    }

    /// Loads (true) or leaves out (false) a node's matched weights.
    pub fn set_loaded(&mut self, node: String, on: bool) {
        self.skip.retain(|n| *n != node);
        if !on {
            self.skip.push(node);
        }
    }
}
