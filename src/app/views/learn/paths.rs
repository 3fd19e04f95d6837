//! The optimizer-paths lesson: a loss surface drawn as contours, and netloom's optimizers
//! racing over it from one start, step by step ([`Walker`] runs the trainer's own optimizer
//! code on two parameters).

use super::heat;
use crate::design::{Optimizer, Schedule, TrainingSettings};
use crate::engine::surface::{Surface, Walker};
use crate::ui::still_plot::still_plot;
use crate::ui::theme;
use egui::Color32;
use egui_plot::{Line, MarkerShape, PlotBounds, PlotImage, PlotPoint, Points};

/// Heat-map resolution.
const MAP: usize = 240;

/// One optimizer in the race.
#[derive(Clone, Debug, PartialEq)]
pub struct Racer {
    /// Its name in the legend.
    pub label: &'static str,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// Its momentum (SGD, Nesterov, RMSProp).
    pub momentum: f64,
    /// Racing (shown) or not.
    pub on: bool,
    /// Its colour.
    pub colour: Color32,
}

/// The learning-rate schedule the race uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decay {
    /// The same rate throughout.
    Constant,
    /// Halve the rate every 50 steps.
    Step,
    /// Cosine down to 0 over the race.
    Cosine,
}

/// The lesson's state.
pub struct Paths {
    /// The surface.
    pub surface: Surface,
    /// The shared learning rate.
    pub lr: f64,
    /// The schedule.
    pub decay: Decay,
    /// The optimizers.
    pub racers: Vec<Racer>,
    /// Steps per second while playing.
    pub speed: f64,
    /// Steps in a race.
    pub max_steps: u64,
    /// Playing.
    pub playing: bool,
    walkers: Vec<Walker>,
    due: f64,
    map: Option<(Surface, egui::TextureHandle)>,
    /// The last error from a step, shown instead of the race.
    error: Option<String>,
}

impl Default for Paths {
    fn default() -> Self {
        let c = theme::RUNS;
        let racer = |label, optimizer, momentum, colour| Racer {
            label,
            optimizer,
            momentum,
            on: true,
            colour,
        };
        let mut p = Paths {
            surface: Surface::Valley,
            lr: Surface::Valley.suggested_rate(),
            decay: Decay::Constant,
            racers: vec![
                racer("SGD", Optimizer::Sgd, 0.0, Color32::from_gray(235)),
                racer("momentum", Optimizer::Sgd, 0.9, c[1]),
                racer("Nesterov", Optimizer::Nesterov, 0.9, c[6]),
                racer("AdaGrad", Optimizer::Adagrad, 0.0, c[3]),
                racer("RMSProp", Optimizer::Rmsprop, 0.0, c[5]),
                racer("Adam", Optimizer::Adam, 0.0, c[7]),
                // Off at first: on these surfaces it differs from Adam only by its decay.
                Racer {
                    on: false,
                    ..racer("AdamW", Optimizer::Adamw, 0.0, c[4])
                },
            ],
            speed: 30.0,
            max_steps: 600,
            playing: false,
            walkers: Vec::new(),
            due: 0.0,
            map: None,
            error: None,
        };
        p.reset();
        p
    }
}

impl Paths {
    /// The settings racer `r` trains with.
    fn settings(&self, r: &Racer) -> TrainingSettings {
        TrainingSettings {
            optimizer: r.optimizer,
            learning_rate: self.lr,
            momentum: r.momentum,
            // AdamW's decoupled decay pulls the weights towards 0 whatever the gradient.
            weight_decay: if r.optimizer == Optimizer::Adamw {
                0.1
            } else {
                0.0
            },
            epochs: self.max_steps,
            seed: 1,
            schedule: match self.decay {
                Decay::Constant => Schedule::Constant,
                Decay::Step => Schedule::Step {
                    step_epochs: 50,
                    gamma: 0.5,
                },
                Decay::Cosine => Schedule::Cosine { min_lr: 0.0 },
            },
            ..TrainingSettings::default()
        }
    }

    /// Every racer back at the start.
    pub fn reset(&mut self) {
        self.walkers = self
            .racers
            .iter()
            .map(|r| Walker::new(self.surface, &self.settings(r)))
            .collect();
        self.due = 0.0;
        self.error = None;
    }

    /// True once every racer has finished or diverged.
    fn finished(&self) -> bool {
        self.walkers
            .iter()
            .all(|w| w.diverged || w.steps() >= self.max_steps)
    }

    /// Takes `n` steps with every racer.
    pub fn advance(&mut self, n: u64) {
        for _ in 0..n {
            for w in &mut self.walkers {
                if w.steps() < self.max_steps
                    && let Err(e) = w.step()
                {
                    self.error = Some(e.to_string());
                    self.playing = false;
                    return;
                }
            }
        }
    }

    /// Moves the race on by the frame's time while playing.
    fn animate(&mut self, ui: &egui::Ui) {
        if !self.playing {
            return;
        }
        let dt = f64::from(ui.input(|i| i.stable_dt)).min(0.1);
        self.due += self.speed * dt;
        let n = (self.due.floor() as u64).min(50);
        self.due -= n as f64;
        self.advance(n);
        if self.finished() {
            self.playing = false;
        } else {
            ui.ctx().request_repaint();
        }
    }

    /// Draws the lesson.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.animate(ui);
        if self.controls(ui) {
            self.reset();
        }
        // Under the controls, so they stay put when the text's length changes.
        ui.add(
            egui::Label::new(egui::RichText::new(explanation(self.surface)).color(theme::MUTED))
                .wrap(),
        );
        if let Some(e) = &self.error {
            ui.colored_label(theme::ERROR, e);
        }
        ui.horizontal_top(|ui| {
            let side = 290.0;
            // The map keeps the surface's proportions, so a narrow valley looks narrow.
            let [[x0, x1], [y0, y1]] = self.surface.domain();
            let aspect = ((y1 - y0) / (x1 - x0)) as f32;
            let width = (ui.available_width() - side - 16.0).max(240.0);
            let height = ui.available_height().max(240.0) - 8.0;
            let width = width.min(height / aspect);
            self.plot(ui, egui::vec2(width, width * aspect));
            ui.vertical(|ui| {
                ui.set_width(side);
                self.table(ui);
            });
        });
    }

    /// The surface, rate, schedule and playback controls; true when the race must restart.
    fn controls(&mut self, ui: &mut egui::Ui) -> bool {
        let mut restart = false;
        ui.horizontal_wrapped(|ui| {
            let before = self.surface;
            egui::ComboBox::from_label("surface")
                .selected_text(self.surface.name())
                .show_ui(ui, |ui| {
                    for s in Surface::ALL {
                        ui.selectable_value(&mut self.surface, s, s.name());
                    }
                });
            if self.surface != before {
                self.lr = self.surface.suggested_rate();
                restart = true;
            }
            ui.label("learning rate");
            let speed = self.lr * 0.02;
            restart |= ui
                .add(
                    egui::DragValue::new(&mut self.lr)
                        .speed(speed)
                        .range(1e-5..=2.0)
                        .max_decimals(5),
                )
                .changed();
            let before = self.decay;
            egui::ComboBox::from_label("schedule")
                .selected_text(match self.decay {
                    Decay::Constant => "constant",
                    Decay::Step => "halve every 50 steps",
                    Decay::Cosine => "cosine to 0",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.decay, Decay::Constant, "constant");
                    ui.selectable_value(&mut self.decay, Decay::Step, "halve every 50 steps");
                    ui.selectable_value(&mut self.decay, Decay::Cosine, "cosine to 0");
                });
            restart |= self.decay != before;
            ui.separator();
            let play = if self.playing {
                "⏸ Pause"
            } else {
                "⏵ Play"
            };
            if ui.button(play).clicked() {
                if self.finished() {
                    self.reset();
                }
                self.playing = !self.playing;
            }
            if ui
                .button("Step")
                .on_hover_text("One step of every optimizer")
                .clicked()
            {
                self.playing = false;
                self.advance(1);
            }
            if ui.button("Reset").clicked() {
                self.playing = false;
                restart = true;
            }
            ui.label("steps/s");
            ui.add(egui::DragValue::new(&mut self.speed).range(1.0..=600.0));
        });
        restart
    }

    /// The contour map with every path.
    fn plot(&mut self, ui: &mut egui::Ui, size: egui::Vec2) {
        let domain = self.surface.domain();
        let [[x0, x1], [y0, y1]] = domain;
        let surface = self.surface;
        if self.map.as_ref().is_none_or(|(s, _)| *s != surface) {
            let px = heat::surface_pixels(MAP, MAP, domain, |x, y| surface.value(x, y));
            let tex = heat::texture(ui.ctx(), "surface", MAP, MAP, &px);
            self.map = Some((surface, tex));
        }
        let Some((_, tex)) = &self.map else {
            return;
        };
        let image = PlotImage::new(
            "surface",
            tex.id(),
            PlotPoint::new((x0 + x1) / 2.0, (y0 + y1) / 2.0),
            egui::vec2((x1 - x0) as f32, (y1 - y0) as f32),
        );
        still_plot("paths_plot", size)
            .show_grid(false)
            .show(ui, |p| {
                p.set_plot_bounds(PlotBounds::from_min_max([x0, y0], [x1, y1]));
                p.image(image);
                if let Some(m) = surface.minimum() {
                    p.points(
                        Points::new("minimum", vec![m])
                            .shape(MarkerShape::Asterisk)
                            .radius(7.0)
                            .color(Color32::WHITE),
                    );
                }
                for (r, w) in self.racers.iter().zip(&self.walkers).filter(|(r, _)| r.on) {
                    let pts = on_map(surface, w);
                    let now = pts.last().copied().unwrap_or(surface.start());
                    p.line(Line::new(r.label, pts).color(r.colour).width(1.8));
                    p.points(
                        Points::new(r.label, vec![now])
                            .radius(4.5)
                            .filled(true)
                            .color(r.colour),
                    );
                }
            });
    }

    /// Each racer: on/off, momentum, and where it is now.
    fn table(&mut self, ui: &mut egui::Ui) {
        let min = self.surface.minimum();
        let mut restart = false;
        egui::Grid::new("racers")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                for (r, w) in self.racers.iter_mut().zip(&self.walkers) {
                    ui.horizontal(|ui| {
                        let (rect, _) =
                            ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                        ui.painter().rect_filled(rect, 2.0, r.colour);
                        ui.checkbox(&mut r.on, r.label);
                    });
                    let pos = w.pos();
                    let left = on_map(self.surface, w).len() < w.path.len();
                    let escaped = (self.surface == Surface::Saddle)
                        .then(|| w.path.iter().position(|q| q.pos[1].abs() > 1.0))
                        .flatten();
                    let status = if let Some(step) = escaped {
                        format!("escaped (|y| > 1) at step {step}")
                    } else if w.diverged || left {
                        "left the map: lower the rate".to_owned()
                    } else {
                        let far = min.map_or_else(
                            || format!("y {:+.3}", pos[1]),
                            |m| {
                                format!(
                                    "{:.3} from min",
                                    ((pos[0] - m[0]).powi(2) + (pos[1] - m[1]).powi(2)).sqrt()
                                )
                            },
                        );
                        format!("loss {} · {far}", short(self.surface.value(pos[0], pos[1])))
                    };
                    ui.label(egui::RichText::new(status).small());
                    ui.end_row();
                    if matches!(
                        r.optimizer,
                        Optimizer::Sgd | Optimizer::Nesterov | Optimizer::Rmsprop
                    ) && r.label != "SGD"
                    {
                        ui.label("   momentum");
                        restart |= ui
                            .add(
                                egui::DragValue::new(&mut r.momentum)
                                    .speed(0.01)
                                    .range(0.0..=0.99),
                            )
                            .changed();
                        ui.end_row();
                    }
                }
            });
        let steps = self.walkers.iter().map(Walker::steps).max().unwrap_or(0);
        ui.label(format!("step {steps} of {}", self.max_steps));
        if restart {
            self.reset();
        }
    }
}

/// A number in at most about eight characters.
fn short(v: f64) -> String {
    if v.abs() < 1e4 {
        format!("{v:.4}")
    } else {
        format!("{v:.2e}")
    }
}

/// The part of a walker's path to draw: up to and including its first point well outside the
/// map (a rate too high sends it off towards infinity; drawing that would only smear lines
/// across the map).
fn on_map(surface: Surface, w: &Walker) -> Vec<[f64; 2]> {
    let [[x0, x1], [y0, y1]] = surface.domain();
    let (mx, my) = (x1 - x0, y1 - y0);
    let inside =
        |p: [f64; 2]| (x0 - mx..=x1 + mx).contains(&p[0]) && (y0 - my..=y1 + my).contains(&p[1]);
    let mut out = Vec::with_capacity(w.path.len());
    for q in &w.path {
        out.push(q.pos);
        if !inside(q.pos) {
            break;
        }
    }
    out
}

/// What the learner is looking at, per surface.
pub fn explanation(surface: Surface) -> &'static str {
    match surface {
        Surface::Valley => {
            "A valley 30 times steeper across than along. Plain SGD bounces from wall to wall (its step across overshoots) while crawling along the floor; momentum averages the bouncing away and builds speed along the valley, Nesterov looks ahead and overshoots less, and Adam's per-parameter scaling evens the two directions out. Raise the rate to 0.14 and Nesterov is the first to blow up; past 0.2 plain SGD does too."
        }
        Surface::Rosenbrock => {
            "Rosenbrock's banana: finding the curved valley is easy, following its flat floor to (1, 1) is hard. SGD creeps along it; momentum and Adam get much further in the same steps. Try a cosine schedule to settle at the end."
        }
        Surface::Saddle => {
            "A saddle: downhill along y, uphill along x, with a zero gradient on the ridge y = 0. Every path starts 0.001 off the ridge. Plain SGD's tiny gradient makes it linger; momentum accumulates it, and RMSProp and Adam divide by the gradient's own size, so they escape almost at once."
        }
        Surface::Beale => {
            "Beale's function has flat plateaus between steep walls. AdaGrad's rate shrinks with every gradient it has seen, so after crossing a steep part it stalls; RMSProp and Adam forget old gradients and keep going."
        }
        Surface::NoisyBowl => {
            "A round bowl whose gradient is noisy at every step, as a mini-batch's is. With a constant rate the paths never settle but jitter around the minimum; pick a decaying schedule and watch the jitter shrink as the rate does."
        }
    }
}

impl super::Page for Paths {
    fn lesson(&self) -> super::Lesson {
        super::Lesson::Optimizers
    }

    fn title(&self) -> &'static str {
        "Optimizer paths"
    }

    fn blurb(&self) -> &'static str {
        "Each optimizer below steps two weights over a loss surface with exactly the code that trains your networks. Pick a surface, press Play and watch where each one goes; change the rate or the schedule to see why it matters."
    }

    fn draw(&mut self, ui: &mut egui::Ui, _scene: &super::probing::Scene<'_>) {
        self.show(ui);
    }
}
