//! Decision boundaries for two-feature designs (TensorFlow Playground's central picture): the
//! input plane, sampled on a grid, classified by the network as it trains, with the training
//! points on top and the first hidden layer's units as maps of their own.
//!
//! The grid goes through the same preprocessing and the same forward pass (eval mode) as
//! validation does, so the map is what the network would answer at each point.

use super::Session;
use crate::data::Samples;
use crate::engine::error::{EngineError, TorchContext};
use crate::engine::network::Trace;
use crate::engine::protocol::Boundary;
use tch::{Kind, Tensor};

/// Cells along each side of the map.
pub const GRID: usize = 64;
/// Training points drawn on the map (the first ones; the set is shuffled).
const POINTS: usize = 600;
/// Hidden units shown as maps of their own.
const UNITS: usize = 12;

/// The plane a two-feature dataset covers, padded by a tenth on each side; None for other data
/// and for regression (there are no classes to draw regions of).
pub(super) fn plane_of(data: &crate::data::Dataset) -> Option<[[f64; 2]; 2]> {
    if data.shape.as_vector() != Some(2) || data.quantity.is_some() {
        return None;
    }
    let Samples::F32(v) = &data.train.samples else {
        return None;
    };
    let mut b = [[f64::INFINITY, f64::NEG_INFINITY]; 2];
    for p in v.chunks_exact(2) {
        for k in 0..2 {
            let x = f64::from(p[k]);
            if x.is_finite() {
                b[k] = [b[k][0].min(x), b[k][1].max(x)];
            }
        }
    }
    if !b.iter().all(|r| r[0].is_finite() && r[1] >= r[0]) {
        return None;
    }
    Some(b.map(|[lo, hi]| {
        let pad = ((hi - lo) * 0.1).max(1e-3);
        [lo - pad, hi + pad]
    }))
}

/// The grid's points, row 0 at the top (largest second feature), as `[GRID², 2]`.
fn grid(plane: [[f64; 2]; 2]) -> Tensor {
    let [[x0, x1], [y0, y1]] = plane;
    let mut v = Vec::with_capacity(GRID * GRID * 2);
    for j in 0..GRID {
        let y = y1 - (y1 - y0) * (j as f64 + 0.5) / GRID as f64;
        for i in 0..GRID {
            let x = x0 + (x1 - x0) * (i as f64 + 0.5) / GRID as f64;
            v.extend_from_slice(&[x as f32, y as f32]);
        }
    }
    Tensor::from_slice(&v).view([(GRID * GRID) as i64, 2])
}

impl Session<'_> {
    /// The map as the network stands now; None for data that isn't two features.
    pub(super) fn boundary(&self) -> Result<Option<Boundary>, EngineError> {
        let Some(plane) = self.plane else {
            return Ok(None);
        };
        let _guard = tch::no_grad_guard();
        let x = grid(plane).to_device(self.net.device);
        let x = self.pre.apply(&x)?;
        let mut trace = Trace {
            outputs: Vec::new(),
        };
        let logits = self.net.forward(&x, false, Some(&mut trace))?;
        let probs = logits.f_softmax(1, Kind::Float).ctx("decision map")?;
        let (conf, class) = probs.f_max_dim(1, false).ctx("decision map")?;
        let read_f = |t: &Tensor| {
            Vec::<f32>::try_from(
                t.to_device(tch::Device::Cpu)
                    .to_kind(Kind::Float)
                    .flatten(0, -1),
            )
            .ctx("decision map")
        };
        let classes: Vec<u32> = read_f(&class)?.into_iter().map(|c| c as u32).collect();
        let confidence = read_f(&conf)?;
        // The first hidden layer with a vector output after a nonlinearity: its units' maps.
        let mut units = Vec::new();
        if let Some((name, _, out)) = trace
            .outputs
            .iter()
            .find(|(n, _, t)| t.dim() == 2 && self.is_activation(n))
        {
            let width = out.size().get(1).copied().unwrap_or(0);
            for u in 0..width.min(UNITS as i64) {
                let col = out.f_select(1, u).ctx("unit map")?;
                units.push((format!("{name}[{u}]"), read_f(&col)?));
            }
        }
        let Samples::F32(v) = &self.job.data.train.samples else {
            return Ok(None);
        };
        let points = v
            .chunks_exact(2)
            .zip(&self.job.data.train.labels)
            .take(POINTS)
            .map(|(p, &l)| ([p[0], p[1]], l))
            .collect();
        Ok(Some(Boundary {
            step: self.state.step,
            size: GRID,
            plane,
            classes,
            confidence,
            points,
            units,
        }))
    }

    fn is_activation(&self, node: &str) -> bool {
        self.job
            .design
            .node_by_name(node)
            .is_some_and(|n| matches!(n.op, crate::design::Op::Activation(_)))
    }
}
