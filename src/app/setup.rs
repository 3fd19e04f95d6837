//! The design's training set-up, kept in its file: the data it trains on and the pretrained
//! weights it starts from (preprocessing, augmentation and the run settings were already
//! there). Choosing data or accepting weights records them in the design, as an undoable
//! change; opening a design restores them, and what is missing is said at once, not found out
//! at Train. (The paths are absolute in memory and written relative to the design's folder
//! where the data is near it: `crate::document`.)

use super::NetloomApp;
use super::training::Pretrained;
use crate::data::DataSpec;
use crate::design::PretrainedSource;
use std::path::PathBuf;

impl NetloomApp {
    /// After a design opened: its data chosen (or the default for its Input), and its weights
    /// queued to be read (the next frame has the context a helper thread needs).
    pub(super) fn restore_setup(&mut self) {
        let mut missing = Vec::new();
        match self.doc.design.data.source.as_deref().map(DataSpec::parse) {
            Some(Ok(spec)) => match spec.path().filter(|p| !p.exists()) {
                Some(p) => {
                    missing.push(format!(
                        "its data ({}) is not there: choose the data again in the Train view",
                        p.display()
                    ));
                    self.training.choose_data_for(&self.doc.design);
                }
                // The built-in set's conversion serves the Input: a file whose Input was
                // edited by hand gets the conversion that fits it.
                None if *spec.unconverted() == DataSpec::BuiltinFashionMnist => {
                    self.training.choose_data_for(&self.doc.design);
                    self.doc.design.data.source = Some(self.training.data().to_spec());
                }
                None => self.training.set_data(spec),
            },
            Some(Err(e)) => {
                missing.push(format!("its data source can't be read ({e})"));
                self.training.choose_data_for(&self.doc.design);
            }
            None => self.training.choose_data_for(&self.doc.design),
        }
        self.defaults_for = self.doc.design.input_shape();
        self.training.clear_weights();
        self.restore_weights = None;
        if let Some(p) = self.doc.design.training.pretrained.clone() {
            let path = PathBuf::from(&p.path);
            if path.is_file() {
                self.restore_weights = Some((path, p.skip));
            } else {
                missing.push(format!(
                    "its pretrained weights ({}) are not there: runs start from scratch until you pick them again (Train view, \"Start from pretrained weights…\")",
                    path.display()
                ));
            }
        }
        if !missing.is_empty() {
            self.notice = Some(format!(
                "This design opened, but {}.",
                missing.join("; and ")
            ));
        }
    }

    /// After an edit: a design on the built-in set (or naming no data) follows its Input, so
    /// that setting a template's Input to 3×32×32 brings the built-in set converted to it, and
    /// setting an example's back to 1×28×28 drops the conversion. The built-in set's
    /// conversion only ever serves the Input; data the user chose from disk stays as chosen.
    pub(super) fn follow_input(&mut self) {
        let input = self.doc.design.input_shape();
        if input == self.defaults_for {
            return;
        }
        let builtin = match self.doc.design.data.source.as_deref() {
            None => true,
            Some(s) => DataSpec::parse(s)
                .is_ok_and(|spec| *spec.unconverted() == DataSpec::BuiltinFashionMnist),
        };
        if builtin {
            self.training.choose_data_for(&self.doc.design);
            self.defaults_for = input;
            if self.doc.design.data.source.is_some() {
                // Part of the same edit: the file says what the data now is.
                self.doc.design.data.source = Some(self.training.data().to_spec());
            }
        }
    }

    /// Starts reading the weights a reopened design names, where it had any.
    pub(super) fn restore_weights_now(&mut self, ctx: &egui::Context) {
        if let Some((path, skip)) = self.restore_weights.take() {
            self.training
                .check_weights(path, &self.doc.design, ctx, Some(skip));
        }
    }

    /// Records the data now chosen in the design (one undoable change, when it is one).
    pub(super) fn record_data(&mut self) {
        self.training.remember_data();
        let source = Some(self.training.data().to_spec());
        if self.doc.design.data.source != source {
            let data = crate::design::DataSettings {
                source,
                ..self.doc.design.data.clone()
            };
            self.edit(crate::design::edit::Edit::Data(Box::new(data)));
        }
    }

    /// Records the weights in use (or none) in the design, once they are reviewed and
    /// accepted or cleared; a review in progress changes nothing yet.
    pub(super) fn record_weights(&mut self) {
        let Some(now) = self.weights_source() else {
            return;
        };
        if self.doc.design.training.pretrained != now {
            self.edit(crate::design::edit::Edit::Pretrained(now));
        }
    }

    /// What the design should say about its weights now: none, the file in use with the
    /// blocks left out of it, or (while a file is read or reviewed) nothing new yet.
    pub(super) fn weights_source(&self) -> Option<Option<PretrainedSource>> {
        match self.training.pretrained() {
            Pretrained::Using(w) => Some(Some(PretrainedSource {
                path: w.path.display().to_string(),
                skip: w.skip.clone(),
            })),
            Pretrained::None => Some(None),
            Pretrained::Checking(..) | Pretrained::Review(_) => None,
        }
    }
}
