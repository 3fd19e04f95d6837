//! The activations lesson: one function large, with its derivative and its parameter live,
//! and every function small beside it to compare shapes and gradients.

use crate::design::{Activation, ActivationFn};
use crate::ui::activation_plot;

/// The lesson's state: the function shown large.
pub struct Activations {
    /// The function, with its parameters.
    pub current: Activation,
}

impl Default for Activations {
    fn default() -> Self {
        Activations {
            current: Activation::new(ActivationFn::Relu),
        }
    }
}

fn name(f: ActivationFn) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Activations {
    /// Draws the lesson.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            for f in ActivationFn::ALL {
                if ui
                    .selectable_label(self.current.function == f, name(f))
                    .clicked()
                {
                    self.current = Activation::new(f);
                }
            }
        });
        ui.horizontal(|ui| match self.current.function {
            ActivationFn::LeakyRelu => {
                let mut s = self.current.negative_slope();
                ui.add(egui::Slider::new(&mut s, 0.0..=1.0).text("negative_slope"));
                self.current.negative_slope = Some(s);
            }
            ActivationFn::Elu => {
                let mut a = self.current.alpha();
                ui.add(egui::Slider::new(&mut a, 0.0..=3.0).text("alpha"));
                self.current.alpha = Some(a);
            }
            _ => {}
        });
        ui.horizontal_top(|ui| {
            let side = (ui.available_width() * 0.55).clamp(260.0, 560.0);
            activation_plot::show(
                ui,
                "learn_activation",
                &self.current,
                egui::vec2(side, side * 0.7),
            );
            ui.vertical(|ui| {
                ui.add(egui::Label::new(activation_plot::lesson(&self.current)).wrap());
                ui.add_space(8.0);
                ui.label(
                    "The orange curve is what a unit outputs; the blue one is how much gradient flows back through it. Where blue is 0 nothing upstream learns from this unit; where it stays below 1, gradients shrink at every layer of it.",
                );
            });
        });
        ui.separator();
        ui.strong("All of them (click one to look closer)");
        // Rows of as many as fit: a wrapped layout would let the scroll area widen instead.
        let cell = 150.0 + ui.spacing().item_spacing.x;
        let per_row = ((ui.available_width() / cell).floor() as usize).max(1);
        for row in ActivationFn::ALL.chunks(per_row) {
            ui.horizontal(|ui| {
                for &f in row {
                    ui.vertical(|ui| {
                        if ui.link(name(f)).clicked() {
                            self.current = Activation::new(f);
                        }
                        activation_plot::show(
                            ui,
                            &format!("learn_small_{}", name(f)),
                            &Activation::new(f),
                            egui::vec2(150.0, 100.0),
                        );
                    });
                }
            });
        }
    }
}

impl super::Page for Activations {
    fn lesson(&self) -> super::Lesson {
        super::Lesson::Activations
    }

    fn title(&self) -> &'static str {
        "Activations"
    }

    fn blurb(&self) -> &'static str {
        "What each activation does to a unit's input, and how much gradient it lets back through. Dead units, vanishing gradients and saturation are all visible in the blue curve."
    }

    fn draw(&mut self, ui: &mut egui::Ui, _scene: &super::probing::Scene<'_>) {
        self.show(ui);
    }
}
