//! Undo and redo as snapshots of the whole design (snarl has no undo of its own).

use crate::design::{Design, NodeId};

/// How many edits can be undone.
const UNDO_DEPTH: usize = 200;

/// Edits of the same thing closer together than this are one undo step.
const BURST: std::time::Duration = std::time::Duration::from_millis(1500);

/// What a burst of small edits is editing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Burst {
    /// A block's name or parameters, in the inspector.
    Node(NodeId),
    /// A group's name or kind, in the inspector.
    Group(crate::design::GroupId),
    /// The training settings in the Train view.
    TrainingSettings,
}

/// Undo and redo stacks of whole designs.
#[derive(Default)]
pub struct History {
    undo: Vec<Design>,
    redo: Vec<Design>,
    /// The burst in progress and when its last edit came.
    burst: Option<(Burst, std::time::Instant)>,
}

impl History {
    /// Records `before` as the state an undo returns to.
    pub fn record(&mut self, before: Design) {
        self.burst = None;
        self.push(before);
    }

    /// Like `record`, except that edits of the same `what` in quick succession (typing "30",
    /// dragging a value) are one undo step, not one per keystroke or pixel.
    pub fn record_coalesced(&mut self, before: Design, what: Burst) {
        let now = std::time::Instant::now();
        let same = self
            .burst
            .is_some_and(|(last, at)| last == what && now.duration_since(at) < BURST);
        if !same {
            self.push(before);
        }
        self.burst = Some((what, now));
    }

    fn push(&mut self, before: Design) {
        self.undo.push(before);
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// The design before the last edit, taking `current` onto the redo stack.
    pub fn undo(&mut self, current: &Design) -> Option<Design> {
        self.burst = None;
        let d = self.undo.pop()?;
        self.redo.push(current.clone());
        Some(d)
    }

    /// The design an undo took back.
    pub fn redo(&mut self, current: &Design) -> Option<Design> {
        self.burst = None;
        let d = self.redo.pop()?;
        self.undo.push(current.clone());
        Some(d)
    }

    /// Whether there is something to undo / redo.
    pub fn can(&self) -> (bool, bool) {
        (!self.undo.is_empty(), !self.redo.is_empty())
    }

    /// Forgets everything (a new document).
    pub fn clear(&mut self) {
        self.burst = None;
        self.undo.clear();
        self.redo.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lenet() -> Design {
        crate::design::from_json(crate::examples::DEFAULT_DESIGN.1).unwrap()
    }

    #[test]
    fn a_burst_of_edits_to_one_thing_is_one_undo_step() {
        let d = lenet();
        let (a, b) = (NodeId(1), NodeId(2));
        let mut h = History::default();
        h.record_coalesced(d.clone(), Burst::Node(a));
        h.record_coalesced(d.clone(), Burst::Node(a));
        assert_eq!(h.undo.len(), 1, "typing into one block is one step");
        h.record_coalesced(d.clone(), Burst::Node(b));
        assert_eq!(h.undo.len(), 2, "another block starts another step");
        h.record_coalesced(d.clone(), Burst::TrainingSettings);
        h.record(d.clone());
        h.record_coalesced(d.clone(), Burst::TrainingSettings);
        assert_eq!(h.undo.len(), 5, "an edit in between ends the burst");
        h.undo(&d);
        h.record_coalesced(d.clone(), Burst::TrainingSettings);
        assert_eq!(h.undo.len(), 5, "so does an undo");
    }

    #[test]
    fn undo_and_redo_walk_the_history() {
        let mut h = History::default();
        let a = lenet();
        let mut b = a.clone();
        b.nodes.pop();
        h.record(a.clone());
        let back = h.undo(&b).unwrap();
        assert_eq!(back, a);
        assert_eq!(h.redo(&back).unwrap(), b);
        assert_eq!(h.can(), (true, false));
    }
}
