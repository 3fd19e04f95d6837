//! The Learn view: the lessons behind the blocks, drawn live with the engine's own code.
//! Optimizer paths, preprocessing, activations, convolution and pooling, batch norm and
//! dropout; one file per lesson, the numerics in engine/ and data/.

mod activations;
mod cloud;
mod heat;
mod paths;

use crate::app::NetloomApp;
use crate::app::commands::AppCommand;

/// The lessons, in the order the view lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Lesson {
    /// Optimizers racing over loss surfaces.
    Optimizers,
    /// Zero-centring, standardising, PCA and whitening.
    Preprocessing,
    /// Activation functions and their derivatives.
    Activations,
}

impl Lesson {
    const ALL: [Lesson; 3] = [
        Lesson::Optimizers,
        Lesson::Preprocessing,
        Lesson::Activations,
    ];

    fn title(self) -> &'static str {
        match self {
            Lesson::Optimizers => "Optimizer paths",
            Lesson::Preprocessing => "Preprocessing",
            Lesson::Activations => "Activations",
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
}

impl Default for Learn {
    fn default() -> Self {
        Learn {
            lesson: Lesson::Optimizers,
            paths: paths::Paths::default(),
            cloud: cloud::Cloud::default(),
            activations: activations::Activations::default(),
        }
    }
}

/// Draws the Learn view.
pub(in crate::app) fn show(app: &mut NetloomApp, ui: &mut egui::Ui, _cmds: &mut Vec<AppCommand>) {
    let learn = &mut app.learn;
    egui::Panel::left("learn_lessons")
        .default_size(170.0)
        .resizable(false)
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
                Lesson::Preprocessing => learn.cloud.show(ui),
                Lesson::Activations => learn.activations.show(ui),
            }
        });
    });
}
