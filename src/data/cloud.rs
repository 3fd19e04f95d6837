//! The preprocessing lesson on a 2-D point cloud: the same fitted transforms the trainer uses
//! ([`Preprocessor`]) applied to points a learner can see, with each stage's covariance
//! ellipse and principal axes.
//!
//! A correlated, off-centre Gaussian cloud shows every step: zero-centring moves it onto the
//! origin, standardising rescales each axis but leaves the tilt, PCA whitening rotates it onto
//! its principal axes and makes it round, and ZCA whitening makes it round while keeping its
//! orientation.

use super::rng::Rng;
use super::{DataError, Dataset, Preprocessor, Samples, Split};
use crate::design::{Preprocessing, Shape};
use crate::jobs::Progress;
use tch::{Kind, Tensor};

/// One stage of the lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The points as they come.
    Original,
    /// Minus the mean.
    ZeroCentred,
    /// Minus the mean, divided by each feature's standard deviation.
    Standardised,
    /// Projected onto the principal axes and scaled to unit variance.
    PcaWhitened,
    /// PCA-whitened, then rotated back to the original axes.
    ZcaWhitened,
}

impl Stage {
    /// Every stage, in the lesson's order.
    pub const ALL: [Stage; 5] = [
        Stage::Original,
        Stage::ZeroCentred,
        Stage::Standardised,
        Stage::PcaWhitened,
        Stage::ZcaWhitened,
    ];

    /// Its title in the view.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Original => "original",
            Stage::ZeroCentred => "zero-centred",
            Stage::Standardised => "standardised",
            Stage::PcaWhitened => "PCA-whitened",
            Stage::ZcaWhitened => "ZCA-whitened",
        }
    }

    fn method(self, epsilon: f64) -> Preprocessing {
        match self {
            Stage::Original => Preprocessing::None,
            Stage::ZeroCentred => Preprocessing::ZeroCenter,
            Stage::Standardised => Preprocessing::Standardize,
            Stage::PcaWhitened => Preprocessing::PcaWhiten { epsilon },
            Stage::ZcaWhitened => Preprocessing::ZcaWhiten { epsilon },
        }
    }
}

/// A cloud at one stage, with what the view draws over it.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudStage {
    /// Which stage.
    pub stage: Stage,
    /// The points.
    pub points: Vec<[f64; 2]>,
    /// Their mean.
    pub mean: [f64; 2],
    /// Their covariance `[[xx, xy], [xy, yy]]` (divided by n, as the fit does).
    pub cov: [[f64; 2]; 2],
    /// The principal axes: unit vectors, major first, each with its standard deviation.
    pub axes: Axes,
}

impl CloudStage {
    /// The 2σ covariance ellipse as a closed polyline of `n` points.
    pub fn ellipse(&self, n: usize) -> Vec<[f64; 2]> {
        let [(a, sa), (b, sb)] = self.axes;
        (0..=n)
            .map(|i| {
                let t = std::f64::consts::TAU * i as f64 / n.max(1) as f64;
                let (c, s) = (2.0 * sa * t.cos(), 2.0 * sb * t.sin());
                [
                    self.mean[0] + c * a[0] + s * b[0],
                    self.mean[1] + c * a[1] + s * b[1],
                ]
            })
            .collect()
    }
}

/// A correlated Gaussian cloud of `n` points: centred at (3, 1.5), standard deviations 1.5
/// and 0.35 along axes tilted by `angle` radians. Reproducible from `seed`.
pub fn tilted_cloud(n: usize, angle: f64, seed: u64) -> Vec<[f64; 2]> {
    let mut rng = Rng::new(seed);
    let (c, s) = (angle.cos(), angle.sin());
    (0..n)
        .map(|_| {
            let (u, v) = (1.5 * rng.normal(), 0.35 * rng.normal());
            [3.0 + c * u - s * v, 1.5 + s * u + c * v]
        })
        .collect()
}

/// Principal axes: unit vectors, major first, each with its standard deviation.
pub type Axes = [([f64; 2], f64); 2];

/// The first two moments of a 2-D cloud.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    /// The mean.
    pub mean: [f64; 2],
    /// The covariance `[[xx, xy], [xy, yy]]`, divided by n.
    pub cov: [[f64; 2]; 2],
    /// The covariance's principal axes.
    pub axes: Axes,
}

/// The mean, covariance and principal axes of 2-D points.
pub fn moments(points: &[[f64; 2]]) -> Moments {
    let n = points.len().max(1) as f64;
    let mx = points.iter().map(|p| p[0]).sum::<f64>() / n;
    let my = points.iter().map(|p| p[1]).sum::<f64>() / n;
    let (mut xx, mut xy, mut yy) = (0.0, 0.0, 0.0);
    for p in points {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        xx += dx * dx;
        xy += dx * dy;
        yy += dy * dy;
    }
    let (xx, xy, yy) = (xx / n, xy / n, yy / n);
    // A symmetric 2×2 matrix's eigenvalues and the major axis's angle, in closed form.
    let half_trace = 0.5 * (xx + yy);
    let root = (0.25 * (xx - yy).powi(2) + xy * xy).sqrt();
    let (l1, l2) = (half_trace + root, (half_trace - root).max(0.0));
    let theta = 0.5 * (2.0 * xy).atan2(xx - yy);
    let major = [theta.cos(), theta.sin()];
    let minor = [-theta.sin(), theta.cos()];
    Moments {
        mean: [mx, my],
        cov: [[xx, xy], [xy, yy]],
        axes: [(major, l1.sqrt()), (minor, l2.sqrt())],
    }
}

/// The points as a one-class dataset to fit on, and as an `[n, 2]` batch to transform.
fn cloud_dataset(points: &[[f64; 2]]) -> Result<(Dataset, Tensor), DataError> {
    if points.len() < 3 {
        return Err(DataError::Spec(
            "the preprocessing lesson needs at least 3 points to fit a covariance".to_owned(),
        ));
    }
    let flat: Vec<f32> = points
        .iter()
        .flat_map(|p| [p[0] as f32, p[1] as f32])
        .collect();
    let input = Tensor::from_slice(&flat).view([points.len() as i64, 2]);
    let split = Split {
        masks: Vec::new(),
        values: Vec::new(),
        samples: Samples::F32(flat),
        labels: vec![0; points.len()],
    };
    let data = Dataset {
        table: None,
        quantity: None,
        name: "cloud".to_owned(),
        shape: Shape::vector(2),
        classes: vec!["point".to_owned()],
        train: split.clone(),
        val: split,
        skipped: Vec::new(),
        notes: Vec::new(),
    };
    Ok((data, input))
}

/// The cloud at every stage, each transform fitted on the cloud itself by [`Preprocessor`].
pub fn stages(points: &[[f64; 2]], epsilon: f64) -> Result<Vec<CloudStage>, DataError> {
    let (data, input) = cloud_dataset(points)?;
    Stage::ALL
        .iter()
        .map(|&stage| {
            let pre = Preprocessor::fit(stage.method(epsilon), &data)?;
            let out = pre.apply(&input)?;
            let v = Vec::<f32>::try_from(out.to_kind(Kind::Float).flatten(0, -1))
                .map_err(|e| DataError::Spec(format!("preprocessing lesson: {e}")))?;
            let pts: Vec<[f64; 2]> = v
                .chunks_exact(2)
                .map(|c| [f64::from(c[0]), f64::from(c[1])])
                .collect();
            let Moments { mean, cov, axes } = moments(&pts);
            Ok(CloudStage {
                stage,
                points: pts,
                mean,
                cov,
                axes,
            })
        })
        .collect()
}

/// PCA's principal axes as [`Preprocessor`] fits them (PCA whitening's matrix has column j
/// = eigenvector j / √(λⱼ + ε), largest variance first): unit vectors with their standard
/// deviations √λⱼ. The view draws these on the original cloud.
pub fn pca_axes(points: &[[f64; 2]], epsilon: f64) -> Result<Axes, DataError> {
    let (data, _) = cloud_dataset(points)?;
    let pre = Preprocessor::fit(Preprocessing::PcaWhiten { epsilon }, &data)?;
    let w = &pre.components;
    let column = |j: usize| -> ([f64; 2], f64) {
        let (a, b) = (
            f64::from(w.get(j).copied().unwrap_or(0.0)),
            f64::from(w.get(2 + j).copied().unwrap_or(0.0)),
        );
        let len = (a * a + b * b).sqrt().max(f64::MIN_POSITIVE);
        let variance = (1.0 / (len * len) - epsilon).max(0.0);
        ([a / len, b / len], variance.sqrt())
    };
    Ok([column(0), column(1)])
}

/// Two features of an image dataset's first `n` training samples as a 2-D cloud: pixels `a`
/// and `b` (flat indices), scaled to [0, 1]. Neighbouring pixels make a strongly correlated
/// cloud, which is why whitening images changes them so much.
pub fn pixel_pair(data: &Dataset, a: usize, b: usize, n: usize) -> Vec<[f64; 2]> {
    let d = data.sample_len();
    let n = n.min(data.train.len());
    let at = |i: usize, k: usize| -> f64 {
        match &data.train.samples {
            Samples::U8(v) => v.get(i * d + k).map_or(0.0, |&x| f64::from(x) / 255.0),
            Samples::F32(v) => v.get(i * d + k).map_or(0.0, |&x| f64::from(x)),
        }
    };
    (0..n).map(|i| [at(i, a), at(i, b)]).collect()
}

/// What the lesson shows of an image dataset: its leading principal components as images,
/// and some samples before and after ZCA whitening.
#[derive(Clone, Debug)]
pub struct ImageLesson {
    /// The leading principal components (eigenvectors of the pixel covariance), as images.
    pub components: Vec<super::augment::Rgba>,
    /// The share of the pixels' variance each of them explains.
    pub explained: Vec<f64>,
    /// Training samples as they are.
    pub originals: Vec<super::augment::Rgba>,
    /// The same samples ZCA-whitened (each stretched to the full grey range to be seen).
    pub whitened: Vec<super::augment::Rgba>,
    /// How many images the transforms were fitted on.
    pub fitted_on: usize,
}

/// The image lesson's stages, as a progress bar names them.
pub const STAGES: [&str; 3] = ["fitting PCA", "fitting ZCA", "drawing the images"];

/// Reports stage `done` to `progress` (shared with the UI that shows it, a [`Job`]'s); an
/// error when a cancel was asked for. A cancel is answered between stages (an
/// eigen-decomposition under way runs to its end, and its result is dropped).
///
/// [`Job`]: crate::jobs::Job
fn step(progress: &Progress, done: usize) -> Result<(), DataError> {
    if done == 0 {
        progress.stages(STAGES.len());
    } else {
        progress.advance(STAGES.get(done).copied().unwrap_or("finishing"));
    }
    if progress.is_cancelled() {
        return Err(DataError::Spec("cancelled".to_owned()));
    }
    Ok(())
}

/// Fits PCA and ZCA whitening (as [`Preprocessor`] does for training) on the first `fit_on`
/// training images and returns `components` components and `shown` samples as images.
pub fn image_lesson(
    data: &Dataset,
    fit_on: usize,
    components: usize,
    shown: usize,
    epsilon: f64,
    progress: &Progress,
) -> Result<ImageLesson, DataError> {
    step(progress, 0)?;
    let Some((c, h, w)) = data.shape.as_image() else {
        return Err(DataError::Spec(
            "the image part of the lesson needs image data".to_owned(),
        ));
    };
    let (c, h, w) = (c as i64, h as i64, w as i64);
    let d = data.sample_len();
    let n = fit_on.min(data.train.len());
    let head = |k: usize| Split {
        masks: Vec::new(),
        values: Vec::new(),
        samples: match &data.train.samples {
            Samples::U8(v) => Samples::U8(v.get(..k * d).unwrap_or_default().to_vec()),
            Samples::F32(v) => Samples::F32(v.get(..k * d).unwrap_or_default().to_vec()),
        },
        labels: data.train.labels.get(..k).unwrap_or_default().to_vec(),
    };
    let subset = Dataset {
        table: None,
        quantity: None,
        name: data.name.clone(),
        shape: data.shape,
        classes: data.classes.clone(),
        train: head(n),
        val: head(0),
        skipped: Vec::new(),
        notes: Vec::new(),
    };
    let pca = Preprocessor::fit(Preprocessing::PcaWhiten { epsilon }, &subset)?;
    step(progress, 1)?;
    let zca = Preprocessor::fit(Preprocessing::ZcaWhiten { epsilon }, &subset)?;
    step(progress, 2)?;
    let di = d as i64;
    let wmat = Tensor::from_slice(&pca.components).view([di, di]);
    // Column j of PCA whitening is eigenvector j / √(λⱼ + ε): normalise to get the vector
    // and its variance back.
    let norms = wmat.square().sum_dim_intlist(0, false, Kind::Float).sqrt();
    let vectors = (&wmat / norms.clamp_min(1e-12).unsqueeze(0)).tr();
    let variance = (norms.square().clamp_min(1e-12).reciprocal() - epsilon).clamp_min(0.0);
    let total = variance.sum(Kind::Float).double_value(&[]).max(1e-12);
    let k = components.min(d) as i64;
    let explained = Vec::<f32>::try_from(variance.narrow(0, 0, k) / total)
        .map_err(|e| DataError::Spec(format!("preprocessing lesson: {e}")))?
        .into_iter()
        .map(f64::from)
        .collect();
    let shown = shown.min(n) as i64;
    let samples = super::preprocess::split_tensor(&subset.train, d)?.narrow(0, 0, shown);
    let images = |t: Tensor| -> Result<Vec<super::augment::Rgba>, DataError> {
        super::augment::to_rgba(&stretch(&t).view([-1, c, h, w]))
    };
    let lesson = ImageLesson {
        components: images(vectors.narrow(0, 0, k))?,
        explained,
        originals: images(samples.shallow_clone())?,
        whitened: images(zca.apply(&samples)?)?,
        fitted_on: n,
    };
    step(progress, STAGES.len())?;
    Ok(lesson)
}

/// Each row stretched to [0, 1].
fn stretch(t: &Tensor) -> Tensor {
    let lo = t.amin(1, true);
    let hi = t.amax(1, true);
    (t - &lo) / (hi - lo).clamp_min(1e-12)
}
