//! Preprocessing: zero-centering, per-channel standardisation, min-max scaling, and PCA/ZCA
//! whitening. Each is fitted on the training split only; the fitted numbers are plain data
//! (serialisable, saved with a run) so that eval and predict apply exactly the same transform.
//!
//! Bytes are first scaled to [0, 1]; `Preprocessing::None` stops there.

use super::{DataError, Dataset, Samples, Split};
use crate::design::Preprocessing;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// A fitted preprocessing transform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    /// Which method, with its settings.
    pub method: Preprocessing,
    /// The per-sample shape it was fitted on.
    pub shape: Vec<u64>,
    /// Per-feature means (zero-centering, whitening) or per-channel means (standardisation);
    /// `[min]` for min-max.
    pub mean: Vec<f32>,
    /// Per-channel standard deviations (standardisation); `[max − min]` for min-max.
    pub scale: Vec<f32>,
    /// The D×D whitening matrix W, row-major: whitened = (x − mean) · W.
    pub components: Vec<f32>,
}

/// Samples of a split as an `[n, D]` f32 tensor, bytes scaled to [0, 1].
pub fn split_tensor(split: &Split, sample_len: usize) -> Result<Tensor, DataError> {
    let n = split.len() as i64;
    let t = match &split.samples {
        Samples::U8(v) => Tensor::from_slice(v).to_kind(Kind::Float) / 255.0,
        Samples::F32(v) => Tensor::from_slice(v),
    };
    t.f_reshape([n, sample_len as i64])
        .map_err(|e| DataError::Spec(format!("preprocessing: {e}")))
}

fn values(t: &Tensor) -> Result<Vec<f32>, DataError> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).flatten(0, -1))
        .map_err(|e| DataError::Spec(format!("preprocessing: {e}")))
}

fn tch_err(e: tch::TchError) -> DataError {
    DataError::Spec(format!("preprocessing failed in libtorch: {e}"))
}

impl Preprocessor {
    /// Fits `method` on the training split of `data`.
    pub fn fit(method: Preprocessing, data: &Dataset) -> Result<Preprocessor, DataError> {
        if let Some(problem) = method.problem() {
            return Err(DataError::Spec(problem));
        }
        if data.train.is_empty() {
            return Err(DataError::Spec(
                "preprocessing needs training samples to fit on".to_owned(),
            ));
        }
        let _guard = tch::no_grad_guard();
        let d = data.sample_len();
        let x = split_tensor(&data.train, d)?.to_kind(Kind::Double);
        let n = data.train.len();
        let mut p = Preprocessor {
            method,
            shape: data.shape.dims().to_vec(),
            mean: Vec::new(),
            scale: Vec::new(),
            components: Vec::new(),
        };
        match method {
            Preprocessing::None => {}
            Preprocessing::ZeroCenter => p.mean = values(&x.mean_dim(0, false, Kind::Double))?,
            Preprocessing::Standardize => {
                let c = *data.shape.dims().first().unwrap_or(&1) as i64;
                let per_channel = x
                    .f_reshape([n as i64, c, -1])
                    .map_err(tch_err)?
                    .transpose(0, 1)
                    .reshape([c, -1]);
                p.mean = values(&per_channel.mean_dim(1, false, Kind::Double))?;
                let std = per_channel
                    .f_std_dim(1, false, false)
                    .map_err(tch_err)?
                    .clamp_min(1e-8);
                p.scale = values(&std)?;
            }
            Preprocessing::MinMax => {
                let (lo, hi) = (x.min(), x.max());
                p.mean = values(&lo)?;
                p.scale = values(&(hi - &lo).clamp_min(1e-8))?;
            }
            Preprocessing::PcaWhiten { epsilon } | Preprocessing::ZcaWhiten { epsilon } => {
                let mean = x.mean_dim(0, true, Kind::Double);
                let xc = &x - &mean;
                let cov = xc.tr().matmul(&xc) / (n as f64);
                let (eigvals, eigvecs) = cov.f_linalg_eigh("L").map_err(tch_err)?;
                // eigh sorts ascending; put the largest variance first.
                let (eigvals, eigvecs) = (eigvals.flip([0]), eigvecs.flip([1]));
                let inv_sqrt = (eigvals.clamp_min(0.0) + epsilon).rsqrt();
                let pca = &eigvecs * inv_sqrt.unsqueeze(0);
                let w = if matches!(method, Preprocessing::ZcaWhiten { .. }) {
                    pca.matmul(&eigvecs.tr())
                } else {
                    pca
                };
                p.mean = values(&mean)?;
                p.components = values(&w)?;
            }
        }
        Ok(p)
    }

    /// Saves the fitted transform as JSON, atomically (a temporary file, then a rename), so a
    /// run directory never holds half a preprocessor.
    pub fn save(&self, path: &std::path::Path) -> Result<(), DataError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| {
            DataError::invalid(path, format!("cannot encode the preprocessor: {e}"))
        })?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| DataError::io("the preprocessor file", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| DataError::io("the preprocessor file", path, e))
    }

    /// Loads a transform saved by [`Preprocessor::save`], checking that its numbers fit its shape.
    pub fn load(path: &std::path::Path) -> Result<Preprocessor, DataError> {
        let text = crate::fsio::read_regular_to_string(path)
            .map_err(|e| DataError::io("the preprocessor file", path, e))?;
        let p: Preprocessor = serde_json::from_str(&text).map_err(|e| {
            DataError::invalid(
                path,
                format!(
                    "not a netloom preprocessor file (line {}, column {}: {e})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        let d: u64 = p.shape.iter().product();
        let channels = p.shape.first().copied().unwrap_or(1);
        let ok = match p.method {
            Preprocessing::None => true,
            Preprocessing::ZeroCenter => p.mean.len() as u64 == d,
            Preprocessing::Standardize => {
                p.mean.len() as u64 == channels && p.scale.len() as u64 == channels
            }
            Preprocessing::MinMax => p.mean.len() == 1 && p.scale.len() == 1,
            Preprocessing::PcaWhiten { .. } | Preprocessing::ZcaWhiten { .. } => {
                p.mean.len() as u64 == d && p.components.len() as u64 == d.saturating_mul(d)
            }
        };
        if !ok {
            return Err(DataError::invalid(
                path,
                "the preprocessor's numbers don't match its shape: the file is damaged; fit it again",
            ));
        }
        Ok(p)
    }

    /// Applies the transform to a batch `[n, …sample shape]` (f32, bytes already in [0, 1]).
    /// The result has the same shape, on the batch's device.
    pub fn apply(&self, batch: &Tensor) -> Result<Tensor, DataError> {
        let _guard = tch::no_grad_guard();
        let device: Device = batch.device();
        let size = batch.size();
        let n = *size.first().unwrap_or(&0);
        // A transform fitted on other data must be refused, not broadcast into garbage.
        let fitted: Vec<i64> = self.shape.iter().map(|&d| d as i64).collect();
        let per_sample: i64 = size.iter().skip(1).product();
        if size.len() < 2 || per_sample != fitted.iter().product::<i64>() {
            return Err(DataError::Spec(format!(
                "preprocessing was fitted on samples of shape {fitted:?} but gets a batch of shape {size:?}: fit it again on this data"
            )));
        }
        let on = |v: &[f32]| Tensor::from_slice(v).to_device(device);
        let out = match self.method {
            Preprocessing::None => batch.shallow_clone(),
            Preprocessing::ZeroCenter => {
                let flat = batch.f_reshape([n, -1]).map_err(tch_err)?;
                (flat - on(&self.mean).unsqueeze(0)).reshape(size.as_slice())
            }
            Preprocessing::Standardize => {
                let c = self.mean.len() as i64;
                let per = batch.f_reshape([n, c, -1]).map_err(tch_err)?;
                ((per - on(&self.mean).view([1, c, 1])) / on(&self.scale).view([1, c, 1]))
                    .reshape(size.as_slice())
            }
            Preprocessing::MinMax => (batch - on(&self.mean)) / on(&self.scale),
            Preprocessing::PcaWhiten { .. } | Preprocessing::ZcaWhiten { .. } => {
                let d = self.mean.len() as i64;
                let flat = batch.f_reshape([n, d]).map_err(tch_err)?;
                let w = on(&self.components).view([d, d]);
                (flat - on(&self.mean).unsqueeze(0))
                    .matmul(&w)
                    .reshape(size.as_slice())
            }
        };
        Ok(out)
    }
}
