//! Looking inside blocks on a helper thread: the convolution and normalisation lessons ask
//! for [`probe`]s (compile, a forward pass over samples) whenever the block, the design, the
//! data or the run changes, and draw what comes back. A big network takes a moment to
//! compile; the UI never waits for it.

use crate::data::Dataset;
use crate::design::Design;
use crate::engine::probe::{NodeProbe, ProbeRequest, probe};
use crate::jobs::{Job, Poll};
use std::path::PathBuf;
use std::sync::Arc;

/// What the lessons see of the app: the design, which data, which run.
pub struct Scene<'a> {
    /// The design on the canvas.
    pub design: &'a Design,
    /// Its analysis (execution order).
    pub analysis: &'a crate::design::Analysis,
    /// Bumped by the app on every edit.
    pub revision: u64,
    /// Data at the design's input shape, once loaded.
    pub data: Option<Arc<Dataset>>,
    /// The data chosen in the Train view, whatever its shape, once loaded.
    pub picked: Option<Arc<Dataset>>,
    /// The latest run's folder with weights, if any.
    pub run_dir: Option<PathBuf>,
    /// The block selected on the canvas, if any.
    pub selected: Option<String>,
    /// Why the chosen data can't go through the design, if it can't.
    pub data_problem: Option<String>,
}

/// What was asked: block, design revision, run, and a lesson-specific tag.
type Key = (String, u64, Option<PathBuf>, u64);

/// A probe in flight or done.
#[derive(Default)]
pub enum Probing {
    /// Nothing asked yet.
    #[default]
    Idle,
    /// Working on `Key`.
    Working(Key, Job<Vec<NodeProbe>>),
    /// Done for `Key`.
    Ready(Key, Vec<NodeProbe>),
    /// Failed for `Key`.
    Failed(Key, String),
}

impl Probing {
    fn key(&self) -> Option<&Key> {
        match self {
            Probing::Idle => None,
            Probing::Working(k, _) | Probing::Ready(k, _) | Probing::Failed(k, _) => Some(k),
        }
    }

    /// Asks for `node` probed in each of `modes` (`(train, samples)`) unless that is what it
    /// holds or is working on; then takes in a finished result.
    pub fn want(
        &mut self,
        ctx: &egui::Context,
        scene: &Scene<'_>,
        node: &str,
        modes: &[(bool, usize)],
        tag: u64,
    ) {
        let key: Key = (node.to_owned(), scene.revision, scene.run_dir.clone(), tag);
        if self.key() != Some(&key)
            && let Some(data) = &scene.data
        {
            let requests: Vec<ProbeRequest> = modes
                .iter()
                .map(|&(train, samples)| ProbeRequest {
                    design: scene.design.clone(),
                    node: node.to_owned(),
                    data: Arc::clone(data),
                    samples,
                    run_dir: scene.run_dir.clone(),
                    train,
                    seed: tag,
                })
                .collect();
            let ctx = ctx.clone();
            let job = Job::spawn(
                "learn-probe",
                Some(Arc::new(move || ctx.request_repaint())),
                move |_| {
                    crate::engine::cpus::leave_core_to_ui();
                    requests
                        .iter()
                        .map(|r| probe(r).map_err(|e| e.to_string()))
                        .collect()
                },
            );
            *self = Probing::Working(key, job);
        }
        if let Probing::Working(k, job) = self {
            match job.poll() {
                Poll::Done(Ok(p)) => *self = Probing::Ready(k.clone(), p),
                Poll::Done(Err(e)) => *self = Probing::Failed(k.clone(), e),
                Poll::Working => {}
                Poll::Taken => {
                    *self = Probing::Failed(k.clone(), "the probe's answer was lost".to_owned());
                }
            }
        }
    }

    /// Shows progress or failure; returns the probes once ready.
    pub fn show(&self, ui: &mut egui::Ui, scene: &Scene<'_>) -> Option<&[NodeProbe]> {
        match self {
            Probing::Ready(_, p) => {
                if let Some(note) = p.first().and_then(|p| p.note.as_deref()) {
                    ui.colored_label(crate::ui::theme::WARNING, note);
                }
                return Some(p);
            }
            Probing::Failed(_, e) => {
                ui.colored_label(crate::ui::theme::ERROR, e);
            }
            _ if scene.data.is_none() => match &scene.data_problem {
                Some(p) => {
                    ui.colored_label(
                        crate::ui::theme::ERROR,
                        format!("{p} (the data is chosen in the Train view)"),
                    );
                }
                None => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("loading the data chosen in the Train view…");
                    });
                }
            },
            _ => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("running samples through the network…");
                });
            }
        }
        None
    }
}

/// The design's blocks whose kind `fits`, by name, in execution order.
pub fn blocks(scene: &Scene<'_>, fits: impl Fn(&crate::design::Op) -> bool) -> Vec<String> {
    let design = scene.design;
    scene
        .analysis
        .order
        .iter()
        .filter_map(|&id| design.node(id))
        .filter(|n| fits(&n.op))
        .map(|n| n.name.clone())
        .collect()
}

/// A combo box choosing one of `names`; keeps `current` valid (the canvas's selection when
/// it is one of them, else the first).
pub fn pick(ui: &mut egui::Ui, id: &str, names: &[String], current: &mut Option<String>) {
    if current.as_ref().is_none_or(|c| !names.contains(c)) {
        *current = names.first().cloned();
    }
    let shown = current.clone().unwrap_or_default();
    egui::ComboBox::from_id_salt(id)
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for n in names {
                if ui
                    .selectable_label(current.as_deref() == Some(n), n)
                    .clicked()
                {
                    *current = Some(n.clone());
                }
            }
        });
}
