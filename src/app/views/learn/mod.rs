//! The Learn view: the lessons behind the blocks, drawn live with the engine's own code.
//! Optimizer paths, preprocessing, activations, convolution and pooling, batch norm and
//! dropout; one file per lesson, the numerics in engine/ and data/.

mod activations;
mod cloud;
mod conv;
mod heat;
mod norm;
mod paths;
mod probing;

use crate::app::NetloomApp;
use crate::app::actions::AppCommand;
pub use crate::app::actions::Lesson;

impl Lesson {
    const ALL: [Lesson; 5] = [
        Lesson::Optimizers,
        Lesson::Preprocessing,
        Lesson::Activations,
        Lesson::Convolution,
        Lesson::Normalisation,
    ];

    fn title(self) -> &'static str {
        match self {
            Lesson::Optimizers => "Optimizer paths",
            Lesson::Preprocessing => "Preprocessing",
            Lesson::Activations => "Activations",
            Lesson::Convolution => "Convolution and pooling",
            Lesson::Normalisation => "Batch norm and dropout",
        }
    }

    fn blurb(self) -> &'static str {
        match self {
            Lesson::Optimizers => {
                "Each optimizer below steps two weights over a loss surface with exactly the code that trains your networks. Pick a surface, press Play and watch where each one goes; change the rate or the schedule to see why it matters."
            }
            Lesson::Preprocessing => {
                "A cloud of points through the preprocessing a run can apply, fitted as a run fits it. The orange ellipse is the covariance at two standard deviations; the arrows are its principal axes."
            }
            Lesson::Activations => {
                "What each activation does to a unit's input, and how much gradient it lets back through. Dead units, vanishing gradients and saturation are all visible in the blue curve."
            }
            Lesson::Convolution => {
                "One real sample going through a block of your design: the orange window slides over the block's input exactly as its kernel size, stride, padding and dilation say, and the output fills in cell by cell. Change the block in the Design view and come back."
            }
            Lesson::Normalisation => {
                "What a BatchNorm or Dropout block of your design does to real activations: the distributions before and after batch norm, and the mask dropout draws while training (and doesn't at eval)."
            }
        }
    }
}

/// The view's state (not saved: a lesson starts afresh each session).
pub struct Learn {
    /// The lesson showing.
    pub lesson: Lesson,
    paths: paths::Paths,
    cloud: cloud::Cloud,
    activations: activations::Activations,
    conv: conv::Conv,
    norm: norm::Norm,
}

impl Learn {
    /// Shows `lesson`, on `node` where the lesson is about one of the design's blocks.
    pub fn open(&mut self, lesson: Lesson, node: Option<String>) {
        self.lesson = lesson;
        match lesson {
            Lesson::Convolution => self.conv.node = node,
            Lesson::Normalisation => self.norm.node = node,
            _ => {}
        }
    }
}

impl Default for Learn {
    fn default() -> Self {
        Learn {
            lesson: Lesson::Optimizers,
            paths: paths::Paths::default(),
            cloud: cloud::Cloud::default(),
            activations: activations::Activations::default(),
            conv: conv::Conv::default(),
            norm: norm::Norm::default(),
        }
    }
}

/// Draws the Learn view.
pub(in crate::app) fn show(app: &mut NetloomApp, ui: &mut egui::Ui, _cmds: &mut Vec<AppCommand>) {
    let ctx = ui.ctx().clone();
    if matches!(
        app.learn.lesson,
        Lesson::Convolution | Lesson::Normalisation | Lesson::Preprocessing
    ) {
        // These lessons use real samples: keep the chosen data loaded.
        app.training.update_views(&ctx, &app.design);
    }
    let scene = probing::Scene {
        design: &app.design,
        analysis: &app.analysis,
        revision: app.revision,
        data: app
            .training
            .preview()
            .loaded(app.training.data(), app.design.input_shape()),
        picked: app.training.preview().current_shared(app.training.data()),
        run_dir: app
            .training
            .last_run_with_weights(&app.design)
            .map(|(_, d)| d.to_path_buf()),
        selected: app
            .canvas
            .selection
            .first()
            .and_then(|&id| app.design.node(id))
            .map(|n| n.name.clone()),
        data_problem: app.training.data_mismatch(&app.design, &app.analysis),
    };
    let learn = &mut app.learn;
    egui::Panel::left("learn_lessons")
        .exact_size(180.0)
        .show(ui, |ui| {
            ui.heading("Lessons");
            for lesson in Lesson::ALL {
                ui.selectable_value(&mut learn.lesson, lesson, lesson.title());
            }
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.heading(learn.lesson.title());
            ui.add(egui::Label::new(learn.lesson.blurb()).wrap());
            ui.add_space(6.0);
            match learn.lesson {
                Lesson::Optimizers => learn.paths.show(ui),
                Lesson::Preprocessing => learn.cloud.show(ui, scene.picked.as_ref()),
                Lesson::Activations => learn.activations.show(ui),
                Lesson::Convolution => learn.conv.show(ui, &scene),
                Lesson::Normalisation => learn.norm.show(ui, &scene),
            }
        });
    });
}
