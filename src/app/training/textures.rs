//! egui textures of what runs report as RGBA images: the input samples, and the epoch-end
//! feature maps, filters and predictions. Made on the UI thread, only when the images change.

use crate::data::augment::Rgba;
use crate::engine::{Boundary, EpochViews, RunHistory};
use crate::ui::theme;

/// An egui texture of an RGBA image (crisp pixels: these are small images shown large).
pub fn texture(ctx: &egui::Context, name: String, img: &Rgba) -> egui::TextureHandle {
    ctx.load_texture(
        name,
        egui::ColorImage::from_rgba_unmultiplied([img.width, img.height], &img.pixels),
        egui::TextureOptions::NEAREST,
    )
}

/// Textures of [`EpochViews`].
pub struct ViewTextures {
    /// Per conv node.
    pub maps: Vec<(String, Vec<egui::TextureHandle>)>,
    /// The first conv's kernels.
    pub filters: Vec<egui::TextureHandle>,
    /// `(image, true, predicted)`.
    pub predictions: Vec<(egui::TextureHandle, u32, u32)>,
    /// Segmentation: each image, its true mask over it, its predicted one.
    pub segments: Vec<[egui::TextureHandle; 3]>,
}

impl ViewTextures {
    fn new(ctx: &egui::Context, v: &EpochViews) -> Self {
        let tex = |name, img| texture(ctx, name, img);
        ViewTextures {
            maps: v
                .feature_maps
                .iter()
                .map(|(n, imgs)| {
                    let maps = imgs.iter().enumerate();
                    let maps = maps.map(|(j, m)| tex(format!("fm-{n}-{j}"), m));
                    (n.clone(), maps.collect())
                })
                .collect(),
            filters: v
                .filters
                .iter()
                .enumerate()
                .map(|(j, m)| tex(format!("filter{j}"), m))
                .collect(),
            predictions: v
                .predictions
                .iter()
                .enumerate()
                .map(|(j, (m, t, p))| (tex(format!("pred{j}"), m), *t, *p))
                .collect(),
            segments: v
                .segments
                .iter()
                .enumerate()
                .map(|(j, three)| {
                    let [a, b, c] = three;
                    [
                        tex(format!("seg{j}-image"), a),
                        tex(format!("seg{j}-true"), b),
                        tex(format!("seg{j}-predicted"), c),
                    ]
                })
                .collect(),
        }
    }
}

/// The latest run's images as textures, each keyed by (run, step or epoch) they show.
#[derive(Default)]
pub struct Textures {
    /// The latest input samples.
    pub samples: Option<((usize, u64), Vec<egui::TextureHandle>)>,
    /// The latest epoch views: the epoch they show, and their textures.
    pub views: Option<((usize, u64), ViewTextures)>,
    /// The latest decision map and its hidden units' maps, keyed by (run, step).
    pub boundary: Option<((usize, u64), BoundaryTextures)>,
}

/// Textures of a [`Boundary`].
pub struct BoundaryTextures {
    /// The classes, each cell's colour faded towards the background where it is unsure.
    pub map: egui::TextureHandle,
    /// `(unit name, its map)`: blue negative, white zero, orange positive.
    pub units: Vec<(String, egui::TextureHandle)>,
}

/// The background a class colour fades to where the network is unsure.
const UNSURE: [f32; 3] = [40.0, 40.0, 44.0];

/// RGBA pixels of a decision map: class `c`'s colour, mixed with the background by how sure
/// the network is (a two-class cell at 50% is background; a certain one is the full colour).
pub fn class_pixels(b: &Boundary, classes: usize) -> Vec<u8> {
    let floor = 1.0 / classes.max(2) as f32;
    let mut out = Vec::with_capacity(b.classes.len() * 4);
    for (c, p) in b.classes.iter().zip(&b.confidence) {
        let col = theme::run_colour(*c as usize);
        let t = ((p - floor) / (1.0 - floor)).clamp(0.0, 1.0) * 0.75 + 0.1;
        let mix = |k: f32, u: f32| (u + (k - u) * t) as u8;
        out.extend_from_slice(&[
            mix(f32::from(col.r()), UNSURE[0]),
            mix(f32::from(col.g()), UNSURE[1]),
            mix(f32::from(col.b()), UNSURE[2]),
            255,
        ]);
    }
    out
}

/// RGBA pixels of one hidden unit's map, scaled by its largest |value|.
pub fn unit_pixels(values: &[f32]) -> Vec<u8> {
    let m = values.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    let mut out = Vec::with_capacity(values.len() * 4);
    for v in values {
        let t = (v / m).clamp(-1.0, 1.0);
        let (r, g, b) = if t >= 0.0 {
            (255.0, 255.0 - 113.0 * t, 255.0 - 212.0 * t)
        } else {
            (255.0 + 177.0 * t, 255.0 + 87.0 * t, 255.0 + 39.0 * t)
        };
        out.extend_from_slice(&[r as u8, g as u8, b as u8, 255]);
    }
    out
}

impl BoundaryTextures {
    fn new(ctx: &egui::Context, b: &Boundary, classes: usize) -> Self {
        let tex = |name: String, px: &[u8]| {
            ctx.load_texture(
                name,
                egui::ColorImage::from_rgba_unmultiplied([b.size, b.size], px),
                egui::TextureOptions::LINEAR,
            )
        };
        BoundaryTextures {
            map: tex("boundary".to_owned(), &class_pixels(b, classes)),
            units: b
                .units
                .iter()
                .map(|(n, v)| (n.clone(), tex(format!("unit-{n}"), &unit_pixels(v))))
                .collect(),
        }
    }
}

impl Textures {
    /// Makes textures of the latest run's samples and views where they changed.
    pub fn update(&mut self, ctx: &egui::Context, runs: &[RunHistory]) {
        let Some((i, run)) = runs.iter().enumerate().next_back() else {
            return;
        };
        let samples_key = (i, run.samples_step);
        if !run.samples.is_empty() && self.samples.as_ref().is_none_or(|(k, _)| *k != samples_key) {
            let handles = run.samples.iter().enumerate();
            let handles = handles.map(|(j, img)| texture(ctx, format!("sample{j}"), img));
            self.samples = Some((samples_key, handles.collect()));
        }
        if let Some(v) = &run.views
            && self.views.as_ref().is_none_or(|(k, _)| *k != (i, v.epoch))
        {
            self.views = Some(((i, v.epoch), ViewTextures::new(ctx, v)));
        }
        if let Some(b) = &run.boundary
            && self
                .boundary
                .as_ref()
                .is_none_or(|(k, _)| *k != (i, b.step))
        {
            let classes = run.classes.len().max(2);
            self.boundary = Some(((i, b.step), BoundaryTextures::new(ctx, b, classes)));
        }
    }
}
