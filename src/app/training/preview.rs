//! The augmentation preview: originals next to their augmented versions, for the data
//! settings. Its data comes from a load job of the trainer handle, like a run's.

use super::textures::texture;
use crate::data::augment::{Augmenter, ColorBasis, preview};
use crate::data::{DataSpec, Dataset};
use crate::design::{Augment, Design, Shape};
use std::sync::Arc;

/// Originals next to their augmented versions.
#[derive(Default)]
pub struct Preview {
    /// The data loaded for it, and which.
    data: Option<(DataSpec, Arc<Dataset>)>,
    /// A load in flight: what, and the job loading it.
    loading: Option<(DataSpec, crate::jobs::Job<Arc<Dataset>>)>,
    key: String,
    /// The seed of the random draw; "Re-roll" changes it.
    pub seed: u64,
    /// (original, augmented) pairs.
    pub pairs: Vec<(egui::TextureHandle, egui::TextureHandle)>,
    /// Why there is no preview.
    pub note: Option<String>,
}

impl Preview {
    /// The files the loaded data had to skip, said for the data panel.
    pub fn skipped(&self) -> Option<String> {
        self.data.as_ref().and_then(|(_, d)| d.skipped_summary())
    }

    /// What loading did that a user should know (a table's encoding), one line each.
    pub fn notes(&self) -> &[String] {
        self.data.as_ref().map_or(&[], |(_, d)| d.notes.as_slice())
    }

    /// The number of classes of the loaded data, once it is loaded.
    pub fn classes(&self) -> Option<usize> {
        self.data.as_ref().map(|(_, d)| d.classes.len())
    }

    /// The data already loaded for `choice`, when it has the design's input shape.
    pub fn loaded(&self, choice: &DataSpec, input: Option<Shape>) -> Option<Arc<Dataset>> {
        let (c, data) = self.data.as_ref()?;
        (c == choice && input == Some(data.shape)).then(|| Arc::clone(data))
    }

    /// The data loaded for `choice`, whatever its shape, to hand to another thread.
    pub fn current_shared(&self, choice: &DataSpec) -> Option<Arc<Dataset>> {
        let (c, data) = self.data.as_ref()?;
        (c == choice).then(|| Arc::clone(data))
    }

    /// The data loaded for `choice`, whatever its shape.
    pub fn current(&self, choice: &DataSpec) -> Option<&Dataset> {
        let (c, data) = self.data.as_ref()?;
        (c == choice).then_some(data.as_ref())
    }

    /// True when `choice` is neither loaded nor on its way.
    pub fn needs_load(&self, choice: &DataSpec) -> bool {
        let loaded = self.data.as_ref().is_some_and(|(c, _)| c == choice);
        let in_flight = self.loading.as_ref().is_some_and(|(c, _)| c == choice);
        !loaded && !in_flight
    }

    /// A load of `choice` was started as `job`.
    pub fn loading(&mut self, choice: DataSpec, job: crate::jobs::Job<Arc<Dataset>>) {
        self.loading = Some((choice, job));
    }

    /// Takes in the load's result, once it has one.
    pub fn poll(&mut self) {
        let Some((_, job)) = &mut self.loading else {
            return;
        };
        let result = match job.poll() {
            crate::jobs::Poll::Working => return,
            crate::jobs::Poll::Done(result) => result,
            crate::jobs::Poll::Taken => Err("the data's load was lost".to_owned()),
        };
        let Some((choice, _)) = self.loading.take() else {
            return;
        };
        match result {
            Ok(d) => self.data = Some((choice, d)),
            Err(e) => self.note = Some(e),
        }
    }

    /// Redraws the pairs when the data, the augmentation or the seed changed.
    pub fn redraw(&mut self, ctx: &egui::Context, choice: &DataSpec, design: &Design) {
        let Some((c, data)) = &self.data else { return };
        if c != choice {
            // Never the pictures of other data while the chosen one loads.
            if !self.pairs.is_empty() {
                self.pairs.clear();
                self.key.clear();
                self.note = Some("loading the preview…".to_owned());
            }
            return;
        }
        let key = format!(
            "{choice:?}{}{}",
            serde_json::to_string(&design.data.augmentation).unwrap_or_default(),
            self.seed
        );
        if key == self.key {
            return;
        }
        self.key = key;
        // The data panel was drawn earlier in this frame, without what changes now.
        ctx.request_repaint();
        self.pairs.clear();
        self.note = None;
        if data.shape.as_image().is_none() {
            self.note = Some("the preview shows images; this data is vectors".to_owned());
            return;
        }
        let ops = design.data.augmentation.clone();
        let needs_basis = ops.iter().any(|a| matches!(a, Augment::PcaColor { .. }));
        let basis = if needs_basis {
            ColorBasis::fit(data).ok().flatten()
        } else {
            None
        };
        let result = Augmenter::new(ops, basis).and_then(|a| preview(data, &a, 8, self.seed));
        match result {
            Ok(pairs) => {
                let tex = |name, img| texture(ctx, name, img);
                self.pairs = pairs
                    .iter()
                    .enumerate()
                    .map(|(i, (a, b))| (tex(format!("orig{i}"), a), tex(format!("aug{i}"), b)))
                    .collect();
            }
            Err(e) => self.note = Some(e.to_string()),
        }
    }
}
