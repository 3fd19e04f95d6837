//! egui textures of what runs report as RGBA images: the input samples, and the epoch-end
//! feature maps, filters and predictions. Made on the UI thread, only when the images change.

use crate::data::augment::Rgba;
use crate::engine::{EpochViews, RunHistory};

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
    }
}
