//! The preprocessing lesson: a 2-D cloud through zero-centring, standardising, PCA and ZCA
//! whitening, each with its covariance ellipse; and for image data, the principal components
//! as images and ZCA-whitened samples beside the originals. The transforms are
//! `data::Preprocessor`'s, fitted as a run fits them.

use crate::data::Dataset;
use crate::data::augment::Rgba;
use crate::data::cloud::{
    CloudStage, ImageLesson, Stage, image_lesson, pixel_pair, stages, tilted_cloud,
};
use crate::jobs::{Job, Poll};
use crate::ui::still_plot::still_plot;
use crate::ui::theme;
use egui::Color32;
use egui_plot::{Arrows, Line, PlotBounds, Points};
use std::sync::Arc;

/// Where the cloud comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source {
    /// A tilted Gaussian with this tilt in degrees.
    Tilted(f64),
    /// Two pixels (row, column; first channel) of the images chosen in the Train view.
    Pixels([usize; 2], [usize; 2]),
}

/// The lesson's state.
pub struct Cloud {
    source: Source,
    epsilon: f64,
    stages: Result<Vec<CloudStage>, String>,
    /// What `stages` were built for: the source, ε, and the dataset (by identity).
    built_for: Option<(Source, u64, usize)>,
    images: Images,
}

/// How many images the image half fits on (at most: a smaller set is fitted whole).
const FIT_ON: usize = 2000;

/// Whole-image PCA fits a D×D covariance: past 64×64 grey (or 36×36 colour) pixels that is
/// too slow and too big for a lesson.
const MAX_PIXELS: usize = 4096;

/// The image half, computed on a helper thread (two eigen-decompositions of a 784×784
/// covariance take about a second), for one dataset (by identity).
enum Images {
    NotAsked,
    /// Under way: its answer to come, and where it is (also how to cancel it).
    Working(usize, Job<ImageLesson>),
    Ready(usize, Box<ImageTextures>),
    Failed(usize, String),
}

struct ImageTextures {
    components: Vec<egui::TextureHandle>,
    explained: Vec<f64>,
    originals: Vec<egui::TextureHandle>,
    whitened: Vec<egui::TextureHandle>,
}

impl Default for Cloud {
    fn default() -> Self {
        Cloud {
            source: Source::Tilted(35.0),
            epsilon: 1e-5,
            stages: Ok(Vec::new()),
            built_for: None,
            images: Images::NotAsked,
        }
    }
}

/// A dataset's identity: the same load or not.
fn identity(data: Option<&Arc<Dataset>>) -> usize {
    data.map_or(0, |d| Arc::as_ptr(d) as usize)
}

/// The data when it is images: (data, channels, height, width).
fn images(data: Option<&Arc<Dataset>>) -> Option<(&Arc<Dataset>, usize, usize, usize)> {
    let data = data?;
    let (c, h, w) = data.shape.as_image()?;
    Some((data, c as usize, h as usize, w as usize))
}

/// Colours of the stages' points.
const POINTS: Color32 = Color32::from_rgb(0x6A, 0xA8, 0xD8);
const ELLIPSE: Color32 = Color32::from_rgb(0xF2, 0x8E, 0x2B);

impl Cloud {
    fn points(&self, picked: Option<&Arc<Dataset>>) -> Vec<[f64; 2]> {
        match self.source {
            Source::Tilted(deg) => tilted_cloud(600, deg.to_radians(), 11),
            Source::Pixels(a, b) => match images(picked) {
                Some((data, _, _, w)) => pixel_pair(data, a[0] * w + a[1], b[0] * w + b[1], 2000),
                None => Vec::new(),
            },
        }
    }

    fn rebuild(&mut self, picked: Option<&Arc<Dataset>>) {
        let key = (self.source, self.epsilon.to_bits(), identity(picked));
        if self.built_for == Some(key) {
            return;
        }
        let pts = self.points(picked);
        if pts.is_empty() {
            self.stages = Ok(Vec::new());
            return;
        }
        self.stages = stages(&pts, self.epsilon).map_err(|e| e.to_string());
        self.built_for = Some(key);
    }

    /// Draws the lesson; `picked` is the data chosen in the Train view, once loaded.
    pub fn show(&mut self, ui: &mut egui::Ui, picked: Option<&Arc<Dataset>>) {
        self.poll(ui.ctx());
        self.source_row(ui, picked);
        self.rebuild(picked);
        match &self.stages {
            Err(e) => {
                ui.colored_label(theme::ERROR, e);
            }
            Ok(stages) if stages.is_empty() => {
                ui.label(match picked {
                    None => "loading the data chosen in the Train view…",
                    Some(_) => "the data chosen in the Train view isn't images: pick an image set there (the built-in Fashion-MNIST, say)",
                });
            }
            Ok(stages) => stage_plots(ui, stages),
        }
        ui.separator();
        self.image_part(ui, picked);
    }

    /// Where the cloud comes from, and the whitening ε.
    fn source_row(&mut self, ui: &mut egui::Ui, picked: Option<&Arc<Dataset>>) {
        ui.horizontal_wrapped(|ui| {
            let tilted = matches!(self.source, Source::Tilted(_));
            if ui.radio(tilted, "a tilted Gaussian").clicked() {
                self.source = Source::Tilted(35.0);
            }
            if let Source::Tilted(deg) = &mut self.source {
                ui.add(egui::Slider::new(deg, -90.0..=90.0).text("tilt °"));
            }
            let dims = images(picked).map(|(_, _, h, w)| (h, w));
            let pixels = ui
                .radio(!tilted, "two pixels of the chosen images")
                .on_hover_text("Two pixels of the images chosen in the Train view (first channel), over 2,000 images: neighbours are strongly correlated");
            if pixels.clicked() {
                let (h, w) = dims.unwrap_or((28, 28));
                self.source = Source::Pixels([h / 2, w / 2 - 1], [h / 2, w / 2]);
            }
            if let (Source::Pixels(a, b), Some((h, w))) = (&mut self.source, dims) {
                for (name, p) in [("a", a), ("b", b)] {
                    ui.label(format!("{name}: row"));
                    ui.add(egui::DragValue::new(&mut p[0]).range(0..=h - 1));
                    ui.label("column");
                    ui.add(egui::DragValue::new(&mut p[1]).range(0..=w - 1));
                }
            }
            ui.label("whitening ε");
            ui.add(
                egui::DragValue::new(&mut self.epsilon)
                    .speed(1e-4)
                    .range(1e-8..=1.0)
                    .max_decimals(6),
            );
        });
    }

    /// Fits PCA and ZCA on `data` on a helper thread, unless that is done or under way.
    fn ask_for_images(&mut self, data: &Arc<Dataset>) {
        let id = identity(Some(data));
        let current = match &self.images {
            Images::NotAsked => None,
            Images::Working(k, ..) | Images::Ready(k, _) | Images::Failed(k, _) => Some(*k),
        };
        if current == Some(id) {
            return;
        }
        let data = Arc::clone(data);
        let job = Job::spawn("learn-pca", None, move |progress| {
            crate::engine::cpus::leave_core_to_ui();
            image_lesson(&data, FIT_ON, 16, 8, 0.1, progress).map_err(|e| e.to_string())
        });
        self.images = Images::Working(id, job);
    }

    fn poll(&mut self, ctx: &egui::Context) {
        let Images::Working(id, job) = &mut self.images else {
            return;
        };
        let id = *id;
        match job.poll() {
            Poll::Done(Ok(lesson)) => {
                let tex = |name: &str, imgs: &[Rgba]| -> Vec<egui::TextureHandle> {
                    imgs.iter()
                        .enumerate()
                        .map(|(i, img)| {
                            crate::app::training::texture(ctx, format!("{name}{i}"), img)
                        })
                        .collect()
                };
                self.images = Images::Ready(
                    id,
                    Box::new(ImageTextures {
                        components: tex("pc", &lesson.components),
                        explained: lesson.explained,
                        originals: tex("orig", &lesson.originals),
                        whitened: tex("zca", &lesson.whitened),
                    }),
                );
            }
            Poll::Done(Err(e)) => self.images = Images::Failed(id, e),
            // The bar moves as the stages go by.
            Poll::Working => ctx.request_repaint_after(std::time::Duration::from_millis(100)),
            Poll::Taken => {
                self.images = Images::Failed(id, "the fit's answer was lost".to_owned());
            }
        }
    }

    fn image_part(&mut self, ui: &mut egui::Ui, picked: Option<&Arc<Dataset>>) {
        ui.strong("On images");
        let Some((data, c, h, w)) = images(picked) else {
            ui.label("Pick an image dataset in the Train view to see its principal components and whitened images.");
            return;
        };
        if c * h * w > MAX_PIXELS {
            ui.label(format!(
                "{} has {c}×{h}×{w} = {} values per image; a whole-image PCA here takes up to {MAX_PIXELS} (64×64 grey). Preprocessing a run still fits it.",
                data.name,
                c * h * w
            ));
            return;
        }
        let id = identity(Some(data));
        let ready = matches!(&self.images, Images::Ready(k, _) | Images::Working(k, ..) | Images::Failed(k, _) if *k == id);
        let fit_on = FIT_ON.min(data.train.len());
        if !ready {
            if ui
                .button(format!(
                    "Fit PCA and ZCA on {} of {}",
                    crate::units::count(fit_on as u64, "image"),
                    data.name
                ))
                .clicked()
            {
                self.ask_for_images(data);
            }
            return;
        }
        let mut cancel = false;
        match &self.images {
            Images::Working(_, job) => {
                let progress = job.progress();
                let (done, of) = progress.fraction();
                let of = of.max(crate::data::cloud::STAGES.len());
                let stage = crate::data::cloud::STAGES
                    .get(done)
                    .copied()
                    .unwrap_or("finishing");
                ui.horizontal(|ui| {
                    ui.add(
                        egui::ProgressBar::new(done as f32 / of as f32)
                            .desired_width(220.0)
                            .text(format!(
                                "{stage} on {}…",
                                crate::units::count(fit_on as u64, "image")
                            )),
                    );
                    if ui
                        .button("Cancel")
                        .on_hover_text("Stop fitting (a step under way finishes in the background, its result dropped)")
                        .clicked()
                    {
                        progress.cancel();
                        cancel = true;
                    }
                });
            }
            Images::Failed(_, e) => {
                ui.colored_label(theme::ERROR, format!("could not fit on {}: {e}", data.name));
            }
            Images::Ready(_, t) => {
                ui.label(format!("The leading principal components: the directions in which {} vary most, each with the share of the variance it explains. The first few are blurry outlines; later ones carry finer detail.", crate::units::count(fit_on as u64, "image")));
                row(ui, &t.components, Some(&t.explained));
                ui.label("ZCA whitening (ε = 0.1) divides out those shared variations: what is left is edges, the parts of each image its neighbours' pixels don't predict.");
                for (label, images) in [("original", &t.originals), ("whitened", &t.whitened)] {
                    ui.horizontal(|ui| {
                        ui.add_sized(egui::vec2(64.0, 56.0), egui::Label::new(label));
                        row(ui, images, None);
                    });
                }
            }
            Images::NotAsked => {}
        }
        if cancel {
            // Back to the button; the helper's answer, when it comes, goes nowhere.
            self.images = Images::NotAsked;
        }
    }
}

fn row(ui: &mut egui::Ui, images: &[egui::TextureHandle], shares: Option<&[f64]>) {
    ui.horizontal_wrapped(|ui| {
        for (i, t) in images.iter().enumerate() {
            ui.vertical(|ui| {
                ui.add(egui::Image::new(t).fit_to_exact_size(egui::vec2(56.0, 56.0)));
                if let Some(s) = shares.and_then(|s| s.get(i)) {
                    ui.label(egui::RichText::new(format!("{:.1}%", s * 100.0)).small());
                }
            });
        }
    });
}

/// One small plot per stage, side by side, on the same scale so shifts and squashes show.
fn stage_plots(ui: &mut egui::Ui, stages: &[CloudStage]) {
    let n = stages.len().max(1) as f32;
    let gap = ui.spacing().item_spacing.x;
    let size = ((ui.available_width() - gap * n) / n).clamp(110.0, 260.0);
    let reach = stages
        .iter()
        .flat_map(|s| s.points.iter())
        .fold(1.0f64, |m, p| m.max(p[0].abs()).max(p[1].abs()))
        .min(8.0);
    ui.horizontal_wrapped(|ui| {
        for s in stages {
            ui.vertical(|ui| {
                ui.set_width(size);
                ui.strong(s.stage.name());
                still_plot(format!("cloud_{}", s.stage.name()), egui::vec2(size, size))
                    .data_aspect(1.0)
                    .show(ui, |p| {
                        p.set_plot_bounds(PlotBounds::from_min_max(
                            [-reach, -reach],
                            [reach, reach],
                        ));
                        let pts: Vec<[f64; 2]> = s.points.iter().take(600).copied().collect();
                        p.points(Points::new("points", pts).radius(1.5).color(POINTS));
                        p.line(
                            Line::new("2σ ellipse", s.ellipse(72))
                                .color(ELLIPSE)
                                .width(2.0),
                        );
                        let [(a, sa), (b, sb)] = s.axes;
                        let tips = vec![
                            [s.mean[0] + 2.0 * sa * a[0], s.mean[1] + 2.0 * sa * a[1]],
                            [s.mean[0] + 2.0 * sb * b[0], s.mean[1] + 2.0 * sb * b[1]],
                        ];
                        p.arrows(
                            Arrows::new("principal axes", vec![s.mean, s.mean], tips)
                                .color(Color32::WHITE),
                        );
                    });
                let [[xx, xy], [_, yy]] = s.cov;
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(format!(
                            "variances {xx:.2}, {yy:.2}\ncovariance {xy:+.2}"
                        ))
                        .small(),
                    )
                    .wrap(),
                );
            });
        }
    });
    ui.label(explanation(stages.last().map(|s| s.stage)));
}

fn explanation(_: Option<Stage>) -> &'static str {
    "Zero-centring moves the cloud's mean to the origin, so a layer's weights don't all have to push the same way. Standardising scales each feature to variance 1 but leaves the tilt: the features are still correlated. PCA whitening rotates onto the principal axes (the arrows) and scales each to variance 1, so the cloud turns round; ZCA whitening does the same and rotates back, keeping the data's orientation, which is why whitened images still look like images. Turn the tilt and watch the whitened clouds stay round."
}

impl super::Page for Cloud {
    fn lesson(&self) -> super::Lesson {
        super::Lesson::Preprocessing
    }

    fn title(&self) -> &'static str {
        "Preprocessing"
    }

    fn blurb(&self) -> &'static str {
        "A cloud of points through the preprocessing a run can apply, fitted as a run fits it. The orange ellipse is the covariance at two standard deviations; the arrows are its principal axes."
    }

    fn uses_samples(&self) -> bool {
        true
    }

    fn draw(&mut self, ui: &mut egui::Ui, scene: &super::probing::Scene<'_>) {
        self.show(ui, scene.picked.as_ref());
    }
}
