//! Flat parameter buffers: fewer kernel launches per optimizer step.
//!
//! Updating each parameter tensor on its own costs a handful of kernels per tensor (Adam: about
//! ten), so a net of 60 small tensors launches 600 tiny kernels a step; on a GPU each waits
//! for the host, and on the CPU each pays the dispatcher. netloom keeps the trainable
//! parameters of one learning-rate multiplier, element type and device in one flat buffer, with
//! every parameter a view into it (libtorch's `set_` points its storage there), and the same
//! for their gradients and each optimizer state slot, up to 4 MB per buffer. An update is then
//! the same element-wise arithmetic on the flat buffers: a handful of kernels in all. The
//! parameters' names, shapes, NCHW layout and files are unchanged; `state_tensors` still saves
//! one tensor per parameter and slot (views into the flat slots).
//!
//! A buffer set is built at the first step in which every trainable parameter has a gradient
//! (the gradients exist only after a backward pass), and rebuilt when the trainable set changes
//! (gradual unfreezing). In a step where some trainable parameter has no gradient (a branch
//! that doesn't reach the loss), each parameter is updated on its own, through the same views.

use super::Optim;
use crate::engine::error::{EngineError, TorchContext};
use crate::engine::params::ParamStore;
use tch::Tensor;

/// Trainable parameters sharing one learning-rate multiplier, kind and device, in one buffer.
#[derive(Debug)]
pub(super) struct Flat {
    /// The state-map name of this buffer's slots (`#flat0`, …), never saved.
    pub key: String,
    /// Its parameters: name, offset into the buffers, element count, shape.
    members: Vec<(String, i64, i64, Vec<i64>)>,
    /// The learning-rate multiplier of every member.
    pub lr_mult: f64,
    /// The weights; every member parameter's storage is a view into it.
    pub weights: Tensor,
    /// The gradients; every member's gradient is a view into it.
    pub grads: Tensor,
}

/// The most elements a buffer gathers (4 MB of f32). Past a few megabytes an element-wise
/// pass no longer stays in the CPU's cache, and Adam's ten passes over one 45 MB buffer
/// (resnet18) took 2.3× as long as over its 62 tensors one by one, each still cached between
/// passes (benches/optim_step.rs). A tensor larger than this gets a buffer of its own.
const CHUNK: i64 = 1 << 20;

/// Marks the state-map entries that belong to a flat buffer, not to one parameter.
pub(super) const FLAT: &str = "#flat";

/// The slots an optimizer keeps per parameter.
pub(super) const SLOTS: [&str; 5] = [
    "momentum_buffer",
    "sum",
    "square_avg",
    "exp_avg_sq",
    "exp_avg",
];

impl Optim {
    /// The flat buffers for this step: built or rebuilt when the trainable parameters with a
    /// gradient are not the ones the buffers hold. False when some trainable parameter has no
    /// gradient this step (the caller then updates each on its own).
    pub(super) fn flatten(&mut self, params: &ParamStore) -> Result<bool, EngineError> {
        let members: Vec<_> = params.trainable().collect();
        if members.iter().any(|p| !p.tensor.grad().defined()) {
            return Ok(false);
        }
        let held = members.iter().map(|p| &p.name).eq(&self.flat_names);
        if held && !self.flat.is_empty() {
            return Ok(true);
        }
        let _guard = tch::no_grad_guard();
        self.state.retain(|(name, _), _| !name.starts_with(FLAT));
        self.flat.clear();
        self.flat_names = members.iter().map(|p| p.name.clone()).collect();
        // Groups in first-appearance order, so buffer numbering is stable.
        let mut groups: Vec<Vec<&crate::engine::params::Param>> = Vec::new();
        for p in members {
            let t = &p.tensor;
            let n = t.numel() as i64;
            match groups.iter_mut().find(|g| {
                g[0].lr_mult.to_bits() == p.lr_mult.to_bits()
                    && g[0].tensor.kind() == t.kind()
                    && g[0].tensor.device() == t.device()
                    && g.iter().map(|q| q.tensor.numel() as i64).sum::<i64>() + n <= CHUNK
            }) {
                Some(g) => g.push(p),
                None => groups.push(vec![p]),
            }
        }
        for (i, group) in groups.into_iter().enumerate() {
            let flat = self.build(&format!("{FLAT}{i}"), &group)?;
            self.flat.push(flat);
        }
        Ok(true)
    }

    /// One buffer set: the weights, gradients and existing state slots of `group` copied into
    /// flat tensors, and each member re-pointed at its slice.
    fn build(
        &mut self,
        key: &str,
        group: &[&crate::engine::params::Param],
    ) -> Result<Flat, EngineError> {
        let mut members = Vec::with_capacity(group.len());
        let mut offset = 0;
        for p in group {
            let n = p.tensor.numel() as i64;
            members.push((p.name.clone(), offset, n, p.tensor.size()));
            offset += n;
        }
        let cat = |parts: Vec<Tensor>| Tensor::f_cat(&parts, 0).ctx("flattening the parameters");
        let weights = cat(group
            .iter()
            .map(|p| p.tensor.detach().reshape(-1))
            .collect())?;
        let grads = cat(group.iter().map(|p| p.tensor.grad().reshape(-1)).collect())?;
        for (p, (_, off, _, shape)) in group.iter().zip(&members) {
            let strides = contiguous_strides(shape);
            let _ = p
                .tensor
                .shallow_clone()
                .f_set_source_tensor_storage_offset_(&weights, *off, shape.as_slice(), &strides)
                .ctx("flattening the parameters")?;
            let _ = p
                .tensor
                .grad()
                .f_set_source_tensor_storage_offset_(&grads, *off, shape.as_slice(), &strides)
                .ctx("flattening the gradients")?;
        }
        for slot in SLOTS {
            let have: Vec<Option<Tensor>> = members
                .iter()
                .map(|m| {
                    self.state
                        .get(&(m.0.clone(), slot))
                        .map(Tensor::shallow_clone)
                })
                .collect();
            if have.iter().all(Option::is_none) {
                continue;
            }
            // A member without this slot yet starts it at zero: for every optimizer here that
            // is what its first update would start from (SGD's first momentum, g, equals
            // 0·momentum + g).
            let parts = have
                .iter()
                .zip(group)
                .map(|(t, p)| match t {
                    Some(t) => t.reshape(-1),
                    None => p.tensor.detach().reshape(-1).zeros_like(),
                })
                .collect();
            let flat = cat(parts)?;
            self.state.insert((key.to_owned(), slot), flat);
        }
        let flat = Flat {
            key: key.to_owned(),
            members,
            lr_mult: group[0].lr_mult,
            weights,
            grads,
        };
        self.expose(&flat);
        Ok(flat)
    }

    /// Zeroes every trainable parameter's gradient: one kernel per flat buffer, then any
    /// gradient outside the buffers on its own.
    pub fn zero_grad(&self, params: &ParamStore) {
        if self.flat.is_empty() {
            params.zero_grad();
            return;
        }
        let _guard = tch::no_grad_guard();
        for f in &self.flat {
            let _ = f.grads.shallow_clone().zero_();
        }
        if params.trainable().count() == self.flat_names.len() {
            return;
        }
        for p in params.trainable() {
            let held = self
                .flat
                .iter()
                .any(|f| f.members.iter().any(|m| m.0 == p.name));
            let mut g = p.tensor.grad();
            if !held && g.defined() {
                let _ = g.detach_();
                let _ = g.zero_();
            }
        }
    }

    /// Makes each member's per-parameter state entries views into the buffer's slots (after a
    /// step that created a slot, or a rebuild), so saving and the per-parameter path see them.
    pub(super) fn expose(&mut self, flat: &Flat) {
        for slot in SLOTS {
            let Some(buffer) = self
                .state
                .get(&(flat.key.clone(), slot))
                .map(Tensor::shallow_clone)
            else {
                continue;
            };
            for (name, off, n, shape) in &flat.members {
                let view = buffer.narrow(0, *off, *n).view(shape.as_slice());
                self.state.insert((name.clone(), slot), view);
            }
        }
    }
}

/// Row-major strides of `shape`.
fn contiguous_strides(shape: &[i64]) -> Vec<i64> {
    let mut strides = vec![1i64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1].max(1);
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{Optimizer, TrainingSettings};
    use tch::{Device, Kind};

    /// Three parameters (one with its own rate multiplier) and, when `idle`, a fourth that
    /// never gets a gradient, which keeps the optimizer on its tensor-by-tensor path.
    fn store(idle: bool) -> ParamStore {
        tch::manual_seed(3);
        let mut s = ParamStore::default();
        for (node, shape) in [("a", vec![4, 3]), ("b", vec![5]), ("c", vec![2, 2, 3])] {
            let t = Tensor::randn(shape.as_slice(), (Kind::Float, Device::Cpu));
            s.push(node, "weight", t, true);
        }
        s.set_lr_mult("b", 0.5);
        if idle {
            s.push(
                "idle",
                "weight",
                Tensor::ones([2], (Kind::Float, Device::Cpu)),
                true,
            );
        }
        s
    }

    fn train(s: &ParamStore, optimizer: Optimizer, steps: usize) -> (Optim, Vec<Vec<f32>>) {
        let settings = TrainingSettings {
            optimizer,
            momentum: if optimizer == Optimizer::Adam {
                0.0
            } else {
                0.9
            },
            weight_decay: 1e-2,
            ..TrainingSettings::default()
        };
        let mut optim = Optim::new(&settings);
        for k in 0..steps {
            optim.zero_grad(s);
            let loss = s
                .trainable()
                .filter(|p| p.node != "idle")
                .map(|p| (&p.tensor * &p.tensor).sum(Kind::Float) * (k as f64 + 1.0))
                .reduce(|a, b| a + b)
                .unwrap();
            loss.backward();
            optim.step(s, 0.05).unwrap();
        }
        let values = s
            .trainable()
            .filter(|p| p.node != "idle")
            .map(|p| Vec::<f32>::try_from(p.tensor.detach().reshape(-1)).unwrap())
            .collect();
        (optim, values)
    }

    #[test]
    fn flat_buffers_update_exactly_as_tensor_by_tensor_and_hold_the_parameters() {
        for optimizer in Optimizer::ALL {
            let (flat_store, loose_store) = (store(false), store(true));
            let (flat, a) = train(&flat_store, optimizer, 6);
            let (loose, b) = train(&loose_store, optimizer, 6);
            assert_eq!(a, b, "{optimizer:?}");
            // Two buffers (rates 1 and 0.5); a and c share one, back to back.
            assert_eq!((flat.flat.len(), loose.flat.len()), (2, 0), "{optimizer:?}");
            let ptr = |name: &str| flat_store.by_name(name).unwrap().tensor.data_ptr() as usize;
            assert_eq!(ptr("c.weight"), ptr("a.weight") + 12 * 4);
            // One saved tensor per parameter and slot, none for the buffers.
            let saved = flat.state_tensors();
            assert!(saved.iter().all(|(n, _)| !n.starts_with(FLAT)));
            let loose_saved: Vec<String> = loose
                .state_tensors()
                .into_iter()
                .map(|(n, _)| n)
                .filter(|n| !n.starts_with("idle"))
                .collect();
            let names: Vec<String> = saved.iter().map(|(n, _)| n.clone()).collect();
            assert_eq!(names, loose_saved, "{optimizer:?}");
        }
    }

    #[test]
    fn a_buffer_holds_at_most_a_chunk_and_small_tensors_fill_the_first_with_room() {
        let mut s = ParamStore::default();
        for (node, n) in [("big1", 600_000), ("big2", 600_000), ("small", 10)] {
            let t = Tensor::ones([n], (Kind::Float, Device::Cpu));
            s.push(node, "weight", t, true);
        }
        let (optim, _) = train(&s, Optimizer::Sgd, 1);
        assert_eq!(optim.flat.len(), 2);
        let ptr = |name: &str| s.by_name(name).unwrap().tensor.data_ptr() as usize;
        assert_eq!(ptr("small.weight"), ptr("big1.weight") + 600_000 * 4);
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(super::contiguous_strides(&[6, 1, 5, 5]), vec![25, 25, 5, 1]);
        assert_eq!(super::contiguous_strides(&[10]), vec![1]);
        assert_eq!(super::contiguous_strides(&[]), Vec::<i64>::new());
    }
}
