//! Data augmentation as batched tensor ops on the training device: flips as exact tensor
//! flips, every other geometric operation folded into one affine matrix per image and applied
//! with a single `affine_grid` + `grid_sample` (plus lens distortion on the grid), then
//! cutout, noise and colour as element-wise ops. No per-pixel Rust loops.
//!
//! Every random draw, Gaussian noise included, comes from netloom's own seeded generator, so a
//! seed gives the same augmentation on every device and whatever else uses libtorch's
//! process-wide generator meanwhile.

use super::rng::Rng;
use super::{DataError, Dataset, Samples};
use crate::design::Augment;
use tch::{Device, Kind, Tensor};

fn err(e: tch::TchError) -> DataError {
    DataError::Spec(format!("augmentation failed in libtorch: {e}"))
}

/// The training set's RGB principal components, for AlexNet-style PCA colour augmentation.
#[derive(Clone, Debug, PartialEq)]
pub struct ColorBasis {
    /// Eigenvalues of the 3×3 RGB covariance (pixel values in [0, 1]).
    pub eigenvalues: [f32; 3],
    /// Eigenvectors as columns, row-major 3×3.
    pub eigenvectors: [f32; 9],
}

impl ColorBasis {
    /// Fits the basis on up to a million pixels of an RGB dataset's training split.
    pub fn fit(data: &Dataset) -> Result<Option<ColorBasis>, DataError> {
        let (Samples::U8(px), Some((3, h, w))) = (&data.train.samples, data.shape.as_image())
        else {
            return Ok(None);
        };
        let plane = (h * w) as i64;
        let n = (data.train.len() as i64).min((1_000_000 / plane.max(1)).max(1));
        let used = &px[..(n * 3 * plane) as usize];
        let x = Tensor::from_slice(used).to_kind(Kind::Double) / 255.0;
        let rgb = x.view([n, 3, plane]).permute([1, 0, 2]).reshape([3, -1]);
        let centered = &rgb - rgb.mean_dim(1, true, Kind::Double);
        let cov = centered.matmul(&centered.tr()) / (centered.size()[1] as f64);
        let (vals, vecs) = cov.f_linalg_eigh("L").map_err(err)?;
        let vals: Vec<f32> = Vec::try_from(vals.to_kind(Kind::Float)).map_err(err)?;
        let vecs: Vec<f32> =
            Vec::try_from(vecs.to_kind(Kind::Float).flatten(0, -1)).map_err(err)?;
        Ok(Some(ColorBasis {
            eigenvalues: [vals[0], vals[1], vals[2]],
            eigenvectors: std::array::from_fn(|i| vecs[i]),
        }))
    }
}

/// A 2×3 affine sampling matrix in normalised coordinates, as `affine_grid` takes it.
pub type Affine = [f64; 6];

/// The identity warp.
pub const IDENTITY: Affine = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];

/// Composes two sampling matrices: `a` then `b` (input = a·b·output).
fn compose(a: Affine, b: Affine) -> Affine {
    [
        a[0] * b[0] + a[1] * b[3],
        a[0] * b[1] + a[1] * b[4],
        a[0] * b[2] + a[1] * b[5] + a[2],
        a[3] * b[0] + a[4] * b[3],
        a[3] * b[1] + a[4] * b[4],
        a[3] * b[2] + a[4] * b[5] + a[5],
    ]
}

/// A matrix given in pixel units (x right, y down, origin at the centre), expressed in the
/// normalised coordinates of an h×w image so rotations stay rotations on non-square images.
fn in_pixels(m: [f64; 4], h: i64, w: i64) -> Affine {
    let (sx, sy) = (w as f64 / 2.0, h as f64 / 2.0);
    [m[0], m[1] * sy / sx, 0.0, m[2] * sx / sy, m[3], 0.0]
}

/// Sampling matrix of a rotation by `degrees` (counter-clockwise as displayed).
pub fn rotation(degrees: f64, h: i64, w: i64) -> Affine {
    let (s, c) = degrees.to_radians().sin_cos();
    in_pixels([c, s, -s, c], h, w)
}

/// Warps a batch `[n, c, h, w]` with one sampling matrix and one lens strength per image.
pub fn warp(batch: &Tensor, matrices: &[Affine], lens: &[f64]) -> Result<Tensor, DataError> {
    warp_sampled(batch, matrices, lens, false)
}

/// [`warp`], sampling bilinearly (images) or taking the nearest pixel (masks, whose values
/// are classes that must not be blended).
fn warp_sampled(
    batch: &Tensor,
    matrices: &[Affine],
    lens: &[f64],
    nearest: bool,
) -> Result<Tensor, DataError> {
    let size = batch.size();
    let (&[n, _, _, _], device) = (size.as_slice(), batch.device()) else {
        return Err(DataError::Spec(format!(
            "warp needs an image batch [n, c, h, w], not {size:?}"
        )));
    };
    if matrices.len() as i64 != n || lens.len() as i64 != n {
        return Err(DataError::Spec(format!(
            "warp needs one matrix and one lens strength per image: {n} images, {} matrices, {} strengths",
            matrices.len(),
            lens.len()
        )));
    }
    let flat: Vec<f32> = matrices.iter().flatten().map(|&v| v as f32).collect();
    let theta = Tensor::from_slice(&flat).view([n, 2, 3]).to_device(device);
    let mut grid = Tensor::f_affine_grid_generator(&theta, size.as_slice(), false).map_err(err)?;
    if lens.iter().any(|&k| k != 0.0) {
        let k: Vec<f32> = lens.iter().map(|&k| k as f32).collect();
        let k = Tensor::from_slice(&k).view([n, 1, 1, 1]).to_device(device);
        let r2 = grid.square().sum_dim_intlist(-1, true, Kind::Float);
        grid = &grid * (r2 * k + 1.0);
    }
    batch
        .f_grid_sampler(&grid, i64::from(nearest), 0, false)
        .map_err(err)
}

/// An augmentation pipeline ready to run on batches.
#[derive(Clone, Debug)]
pub struct Augmenter {
    ops: Vec<Augment>,
    basis: Option<ColorBasis>,
}

/// Per-image random draws of one batch.
struct Draws {
    hflip: Vec<bool>,
    vflip: Vec<bool>,
    affine: Vec<Affine>,
    lens: Vec<f64>,
    geometric: bool,
}

impl Augmenter {
    /// A pipeline; `basis` is needed only for PCA colour (fit it with [`ColorBasis::fit`]).
    pub fn new(ops: Vec<Augment>, basis: Option<ColorBasis>) -> Result<Self, DataError> {
        if let Some(problem) = ops.iter().find_map(Augment::problem) {
            return Err(DataError::Spec(problem));
        }
        Ok(Self { ops, basis })
    }

    fn draw_geometry(&self, rng: &mut Rng, n: usize, h: i64, w: i64) -> Draws {
        let mut d = Draws {
            hflip: vec![false; n],
            vflip: vec![false; n],
            affine: vec![IDENTITY; n],
            lens: vec![0.0; n],
            geometric: false,
        };
        let sym = |rng: &mut Rng, r: f64| (2.0 * rng.uniform() - 1.0) * r;
        for op in &self.ops {
            for i in 0..n {
                if rng.uniform() >= op.p() {
                    continue;
                }
                let m = match *op {
                    Augment::HorizontalFlip { .. } => {
                        d.hflip[i] ^= true;
                        continue;
                    }
                    Augment::VerticalFlip { .. } => {
                        d.vflip[i] ^= true;
                        continue;
                    }
                    Augment::Rotate { degrees, .. } => rotation(sym(rng, degrees), h, w),
                    Augment::Scale {
                        min, max, aspect, ..
                    } => {
                        let s = min + (max - min) * rng.uniform();
                        let r = 1.0 + sym(rng, aspect);
                        [1.0 / (s * r), 0.0, 0.0, 0.0, r / s, 0.0]
                    }
                    Augment::Shear { degrees, .. } => {
                        in_pixels([1.0, sym(rng, degrees).to_radians().tan(), 0.0, 1.0], h, w)
                    }
                    Augment::Translate { fraction, .. } => [
                        1.0,
                        0.0,
                        -2.0 * sym(rng, fraction),
                        0.0,
                        1.0,
                        -2.0 * sym(rng, fraction),
                    ],
                    Augment::RandomCrop { padding, .. } => {
                        let span = 2 * padding as usize + 1;
                        let dx = rng.below(span) as f64 - f64::from(padding);
                        let dy = rng.below(span) as f64 - f64::from(padding);
                        [1.0, 0.0, 2.0 * dx / w as f64, 0.0, 1.0, 2.0 * dy / h as f64]
                    }
                    Augment::Lens { k, .. } => {
                        d.lens[i] += sym(rng, k);
                        d.geometric = true;
                        continue;
                    }
                    _ => continue,
                };
                d.affine[i] = compose(d.affine[i], m);
                d.geometric = true;
            }
        }
        d
    }

    /// Augments a batch `[n, c, h, w]` of pixels in [0, 1]. The same seed gives the same result.
    pub fn apply(&self, batch: &Tensor, seed: u64) -> Result<Tensor, DataError> {
        Ok(self.apply_joint(batch, None, seed)?.0)
    }

    /// Augments images and their masks (`[n, h, w]` u8, a class per pixel) together: every
    /// geometric transform moves the mask with its image, sampled at the nearest pixel so
    /// classes are never blended, and what comes in from outside the image is ignored
    /// ([`super::masks::IGNORE`]); photometric ones touch the image only. The images come out
    /// as [`Augmenter::apply`] gives them for the same seed.
    pub fn apply_joint(
        &self,
        batch: &Tensor,
        masks: Option<&Tensor>,
        seed: u64,
    ) -> Result<(Tensor, Option<Tensor>), DataError> {
        let _guard = tch::no_grad_guard();
        let size = batch.size();
        let &[n, c, h, w] = size.as_slice() else {
            return Err(DataError::Spec(format!(
                "augmentation works on image batches [n, c, h, w], not {size:?}"
            )));
        };
        let (nu, device) = (n as usize, batch.device());
        let mut rng = Rng::new(seed);
        let d = self.draw_geometry(&mut rng, nu, h, w);
        let mask = |flags: &[bool]| {
            let v: Vec<f32> = flags.iter().map(|&b| f32::from(u8::from(b))).collect();
            Tensor::from_slice(&v).view([n, 1, 1, 1]).to_device(device)
        };
        let (mut x, y) = geometry(batch, masks, &d, &mask)?;
        for op in &self.ops {
            let on: Vec<bool> = (0..nu).map(|_| rng.uniform() < op.p()).collect();
            if !on.contains(&true) {
                continue;
            }
            let m = mask(&on);
            let per_image = |rng: &mut Rng, f: &dyn Fn(&mut Rng) -> f64| {
                let v: Vec<f32> = (0..nu).map(|_| f(rng) as f32).collect();
                Tensor::from_slice(&v).view([n, 1, 1, 1]).to_device(device)
            };
            let sym = |r: f64| move |rng: &mut Rng| (2.0 * rng.uniform() - 1.0) * r;
            x = match *op {
                Augment::Cutout { min, max, .. } => {
                    let side = per_image(&mut rng, &|r| {
                        (min + (max - min) * r.uniform()) * h.min(w) as f64
                    });
                    let cy = per_image(&mut rng, &|r| r.uniform() * h as f64);
                    let cx = per_image(&mut rng, &|r| r.uniform() * w as f64);
                    let ys = Tensor::arange(h, (Kind::Float, device)).view([1, 1, h, 1]) + 0.5;
                    let xs = Tensor::arange(w, (Kind::Float, device)).view([1, 1, 1, w]) + 0.5;
                    let inside = (ys - cy)
                        .abs()
                        .le_tensor(&(&side / 2.0))
                        .logical_and(&(xs - cx).abs().le_tensor(&(&side / 2.0)));
                    &x * (1.0 - inside.to_kind(Kind::Float) * &m)
                }
                Augment::Noise { std, .. } => {
                    // Drawn from netloom's own seeded generator, not libtorch's
                    // process-wide one, which any other thread may reseed in between.
                    let mut draw = Rng::new(rng.next_u64());
                    let normals: Vec<f32> = (0..x.numel()).map(|_| draw.normal() as f32).collect();
                    let noise = Tensor::from_slice(&normals)
                        .view(x.size().as_slice())
                        .to_device(device);
                    &x + noise * std * &m
                }
                Augment::Brightness { delta, .. } => &x + per_image(&mut rng, &sym(delta)) * &m,
                Augment::Contrast { factor, .. } => {
                    let f = per_image(&mut rng, &sym(factor)) * &m + 1.0;
                    let mean = x.mean_dim(&[1i64, 2, 3][..], true, Kind::Float);
                    &mean + (&x - &mean) * f
                }
                Augment::Saturation { factor, .. } if c == 3 => {
                    let f = per_image(&mut rng, &sym(factor)) * &m + 1.0;
                    let gray = luma(&x);
                    &gray + (&x - &gray) * f
                }
                Augment::Hue { delta, .. } if c == 3 => {
                    hue(&x, &(per_image(&mut rng, &sym(delta)) * &m))?
                }
                Augment::PcaColor { std, .. } if c == 3 => {
                    match &self.basis {
                        Some(b) => {
                            let alpha: Vec<f32> =
                                (0..nu * 3).map(|_| (rng.normal() * std) as f32).collect();
                            let alpha = Tensor::from_slice(&alpha).view([n, 3]).to_device(device);
                            let lambda = Tensor::from_slice(&b.eigenvalues).to_device(device);
                            let vecs = Tensor::from_slice(&b.eigenvectors)
                                .view([3, 3])
                                .to_device(device);
                            let shift = (alpha * lambda).matmul(&vecs.tr()).view([n, 3, 1, 1]);
                            &x + shift * &m
                        }
                        None => return Err(DataError::Spec(
                            "pca_color needs the training set's colour basis: fit ColorBasis first"
                                .into(),
                        )),
                    }
                }
                _ => continue,
            };
        }
        Ok((x.clamp(0.0, 1.0), y))
    }
}

/// The geometric draws `d` applied to the images and, moved with them, their masks: flips
/// exactly, the rest by one warp (masks sampled at the nearest pixel; what comes in from
/// outside the image ignored). `mask` makes a per-image 0/1 factor of flags.
fn geometry(
    batch: &Tensor,
    masks: Option<&Tensor>,
    d: &Draws,
    mask: &dyn Fn(&[bool]) -> Tensor,
) -> Result<(Tensor, Option<Tensor>), DataError> {
    let mut x = batch.shallow_clone();
    // A mask as floats, one more than its value, so that 0 marks what came from outside.
    let mut y = masks.map(|m| m.to_kind(Kind::Float).unsqueeze(1) + 1.0);
    if d.hflip.contains(&true) {
        let m = mask(&d.hflip);
        x = &x * (1.0 - &m) + x.flip([3]) * &m;
        y = y.map(|y| &y * (1.0 - &m) + y.flip([3]) * &m);
    }
    if d.vflip.contains(&true) {
        let m = mask(&d.vflip);
        x = &x * (1.0 - &m) + x.flip([2]) * &m;
        y = y.map(|y| &y * (1.0 - &m) + y.flip([2]) * &m);
    }
    if d.geometric {
        x = warp(&x, &d.affine, &d.lens)?;
        if let Some(m) = y {
            y = Some(warp_sampled(&m, &d.affine, &d.lens, true)?);
        }
    }
    let y = match y {
        Some(y) => {
            let outside = y.f_lt(0.5).map_err(err)?;
            let classes = (y - 1.0)
                .f_masked_fill(&outside, f64::from(super::masks::IGNORE))
                .map_err(err)?;
            Some(classes.round().to_kind(Kind::Uint8).squeeze_dim(1))
        }
        None => None,
    };
    Ok((x, y))
}

/// ITU-R 601 luma, broadcast back to three channels.
fn luma(x: &Tensor) -> Tensor {
    let wts = Tensor::from_slice(&[0.299f32, 0.587, 0.114])
        .view([1, 3, 1, 1])
        .to_device(x.device());
    (x * wts).sum_dim_intlist(1, true, Kind::Float).expand_as(x)
}

/// Rotates hue by `turns` (per image `[n,1,1,1]`) in YIQ space: Y is kept, (I, Q) rotated.
fn hue(x: &Tensor, turns: &Tensor) -> Result<Tensor, DataError> {
    let size = x.size();
    let device = x.device();
    let to_yiq = Tensor::from_slice(&[
        0.299f32, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312,
    ])
    .view([3, 3])
    .to_device(device);
    let from_yiq = to_yiq.f_inverse().map_err(err)?;
    let angle = turns.view([-1]) * std::f64::consts::TAU;
    let (cos, sin) = (angle.cos(), angle.sin());
    let zeros = Tensor::zeros_like(&cos);
    let ones = Tensor::ones_like(&cos);
    let rot = Tensor::stack(
        &[
            &ones,
            &zeros,
            &zeros,
            &zeros,
            &cos,
            &(-&sin),
            &zeros,
            &sin,
            &cos,
        ],
        1,
    )
    .view([-1, 3, 3]);
    let m = from_yiq.matmul(&rot).matmul(&to_yiq);
    Ok(m.matmul(&x.view([size[0], 3, -1])).view(size.as_slice()))
}

/// An image as straight RGBA bytes, for the UI's preview grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rgba {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width × height × 4` bytes.
    pub pixels: Vec<u8>,
}

/// Converts a batch `[n, c, h, w]` in [0, 1] (c = 1 or 3) to RGBA images.
pub fn to_rgba(batch: &Tensor) -> Result<Vec<Rgba>, DataError> {
    let size = batch.size();
    let &[n, c, h, w] = size.as_slice() else {
        return Err(DataError::Spec(format!("not an image batch: {size:?}")));
    };
    if c != 1 && c != 3 {
        return Err(DataError::Spec(format!(
            "images for display have 1 or 3 channels, not {c}"
        )));
    }
    let rgb = if c == 1 {
        batch.expand([n, 3, h, w], false)
    } else {
        batch.shallow_clone()
    };
    let bytes = (rgb.clamp(0.0, 1.0) * 255.0)
        .round()
        .to_kind(Kind::Uint8)
        .permute([0, 2, 3, 1])
        .contiguous()
        .to_device(Device::Cpu);
    let flat: Vec<u8> = Vec::try_from(bytes.flatten(0, -1)).map_err(err)?;
    Ok(flat
        .chunks_exact((h * w * 3) as usize)
        .map(|img| Rgba {
            width: w as usize,
            height: h as usize,
            pixels: img
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
        })
        .collect())
}

/// The preview a person checks before training: the first `n` training images and the same
/// images as the network will see them with this pipeline and seed.
pub fn preview(
    data: &Dataset,
    augmenter: &Augmenter,
    n: usize,
    seed: u64,
) -> Result<Vec<(Rgba, Rgba)>, DataError> {
    let Some((c, h, w)) = data.shape.as_image() else {
        return Err(DataError::Spec(
            "the preview shows images; this dataset holds vectors".into(),
        ));
    };
    let n = n.min(data.train.len());
    let Samples::U8(px) = &data.train.samples else {
        return Err(DataError::Spec("the preview needs image data".into()));
    };
    let per = (c * h * w) as usize;
    let batch = (Tensor::from_slice(&px[..n * per]).to_kind(Kind::Float) / 255.0)
        .view([n as i64, c as i64, h as i64, w as i64]);
    if data.train.masks.is_empty() {
        let augmented = augmenter.apply(&batch, seed)?;
        return Ok(to_rgba(&batch)?
            .into_iter()
            .zip(to_rgba(&augmented)?)
            .collect());
    }
    // Segmentation: each image with its mask over it, before and after, moved together.
    let masks = data.train.masks[..n].concat();
    let masks = Tensor::from_slice(&masks).view([n as i64, h as i64, w as i64]);
    let (augmented, moved) = augmenter.apply_joint(&batch, Some(&masks), seed)?;
    let moved: Vec<u8> = match moved {
        Some(m) => Vec::try_from(m.flatten(0, -1)).map_err(err)?,
        None => Vec::new(),
    };
    let plane = (h * w) as usize;
    Ok(to_rgba(&batch)?
        .into_iter()
        .zip(to_rgba(&augmented)?)
        .enumerate()
        .map(|(i, (a, b))| {
            let after = moved.get(i * plane..(i + 1) * plane).unwrap_or_default();
            (
                super::masks::overlay(&a, &data.train.masks[i]),
                super::masks::overlay(&b, after),
            )
        })
        .collect())
}
