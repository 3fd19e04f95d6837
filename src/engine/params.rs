//! The network's named tensors: parameters (trained) and buffers (BatchNorm statistics).
//!
//! netloom keeps its own store instead of tch's `VarStore` so that names, element types and the
//! trainable flag are exactly PyTorch's: `conv1.weight`, `bn1.num_batches_tracked` as int64,
//! running statistics that never require gradients.

use super::error::{EngineError, TorchContext};
use std::collections::HashMap;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Whether a file's tensor of shape `file` loads into the network's of shape `net`: the same
/// shape, or a Linear's `[out, in]` into a 1×1 convolution's `[out, in, 1, 1]` (ConvNeXt's
/// pointwise Linear layers are 1×1 convolutions in netloom, which keeps images NCHW).
pub fn fits(file: &[i64], net: &[i64]) -> bool {
    file == net || (net.len() == 4 && net[2..] == [1, 1] && file == &net[..2])
}

/// One named tensor of the network.
#[derive(Debug)]
pub struct Param {
    /// The state-dict key, e.g. `conv1.weight`.
    pub name: String,
    /// The node it belongs to, e.g. `conv1`.
    pub node: String,
    /// The values.
    pub tensor: Tensor,
    /// True for weights and biases of nodes that aren't frozen.
    pub trainable: bool,
    /// True for weights and biases (trained or frozen); false for buffers (running statistics).
    pub parameter: bool,
    /// Its node's learning-rate multiplier (1 unless the design sets one).
    pub lr_mult: f64,
}

/// All of a network's tensors, in creation order (which is execution order).
#[derive(Debug, Default)]
pub struct ParamStore {
    params: Vec<Param>,
    index: HashMap<String, usize>,
}

impl ParamStore {
    /// Adds a tensor `node.field` (just `node` for an empty field); returns its index for the
    /// layer that uses it.
    pub(crate) fn push(
        &mut self,
        node: &str,
        field: &str,
        tensor: Tensor,
        trainable: bool,
    ) -> usize {
        let tensor = if trainable {
            tensor.set_requires_grad(true)
        } else {
            tensor
        };
        // A bare parameter (a LayerScale's γ) is named after its node, as an `nn.Parameter`
        // attribute is in PyTorch.
        let name = if field.is_empty() {
            node.to_owned()
        } else {
            format!("{node}.{field}")
        };
        self.index.insert(name.clone(), self.params.len());
        self.params.push(Param {
            name,
            node: node.to_owned(),
            tensor,
            trainable,
            parameter: !matches!(
                field,
                "running_mean" | "running_var" | "num_batches_tracked"
            ),
            lr_mult: 1.0,
        });
        self.params.len() - 1
    }

    /// Sets the learning-rate multiplier of every tensor of `node`.
    pub(crate) fn set_lr_mult(&mut self, node: &str, mult: f64) {
        for p in self.params.iter_mut().filter(|p| p.node == node) {
            p.lr_mult = mult;
        }
    }

    /// The tensor at `i` (indices come from [`ParamStore::push`], so they are in range).
    pub(crate) fn get(&self, i: usize) -> &Tensor {
        &self.params[i].tensor
    }

    /// Every tensor.
    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.params.iter()
    }

    /// (name, shape) of every tensor, in order.
    pub fn shapes(&self) -> Vec<(String, Vec<i64>)> {
        self.params
            .iter()
            .map(|p| (p.name.clone(), p.tensor.size()))
            .collect()
    }

    /// Stops every tensor from requiring gradients, for a network that will only run forward
    /// (a traced graph keeps its tensors as constants, which must not require gradients).
    pub(crate) fn stop_gradients(&self) {
        for p in &self.params {
            let _ = p.tensor.set_requires_grad(false);
        }
    }

    /// Makes the parameters (not the buffers) of `node` trainable: gradual unfreezing thawing
    /// a block mid-run. Returns how many values were thawed.
    pub(crate) fn thaw(&mut self, node: &str) -> u64 {
        let mut thawed = 0;
        for p in self
            .params
            .iter_mut()
            .filter(|p| p.node == node && p.parameter && !p.trainable)
        {
            p.trainable = true;
            let _ = p.tensor.set_requires_grad(true);
            thawed += p.tensor.numel() as u64;
        }
        thawed
    }

    /// The trainable tensors.
    pub fn trainable(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.trainable)
    }

    /// A tensor by its state-dict name.
    pub fn by_name(&self, name: &str) -> Option<&Param> {
        self.index.get(name).and_then(|&i| self.params.get(i))
    }

    /// Number of values in parameters that are not trained (frozen nodes; buffers such as
    /// BatchNorm's running statistics don't count).
    pub fn frozen_count(&self) -> u64 {
        self.params
            .iter()
            .filter(|p| !p.trainable && p.parameter)
            .map(|p| p.tensor.numel() as u64)
            .sum()
    }

    /// Number of trainable values.
    pub fn trainable_count(&self) -> u64 {
        self.trainable().map(|p| p.tensor.numel() as u64).sum()
    }

    /// The bytes every tensor takes as float32, as an export writes them.
    pub fn total_bytes(&self) -> u64 {
        self.params
            .iter()
            .map(|p| p.tensor.numel() as u64 * 4)
            .sum()
    }

    /// Copies every tensor to the CPU, named, for saving.
    pub fn to_named_cpu(&self) -> Vec<(String, Tensor)> {
        self.params
            .iter()
            .map(|p| (p.name.clone(), p.tensor.detach().to_device(Device::Cpu)))
            .collect()
    }

    /// Refuses a weights file (at `path`) that has tensors of `names` the network doesn't.
    pub fn refuse_unexpected<'n>(
        &self,
        names: impl Iterator<Item = &'n str>,
        path: &Path,
    ) -> Result<(), EngineError> {
        let unexpected: Vec<&str> = names.filter(|n| !self.has(n)).collect();
        if let Some(first) = unexpected.first() {
            return Err(EngineError::BadFile {
                problem: format!(
                    "the weights file has {} tensor(s) the design doesn't, e.g. \"{first}\"; it was saved from a different design",
                    unexpected.len()
                ),
                path: path.to_owned(),
            });
        }
        Ok(())
    }

    /// Whether the network has a parameter or buffer of this state-dict name.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Overwrites every tensor with the one of the same name in `named`. Every name must be
    /// present with the same shape (or a Linear's for a 1×1 convolution, see
    /// [`fits`]): a partial load would leave a half-initialised network.
    pub fn load_named(&self, named: &[(String, Tensor)], path: &Path) -> Result<(), EngineError> {
        let by_name: HashMap<&str, &Tensor> = named.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let _guard = tch::no_grad_guard();
        for p in &self.params {
            let Some(src) = by_name.get(p.name.as_str()) else {
                return Err(EngineError::BadFile {
                    problem: format!(
                        "the weights file has no tensor \"{}\"; it was saved from a different design (or a node was renamed)",
                        p.name
                    ),
                    path: path.to_owned(),
                });
            };
            if !fits(&src.size(), &p.tensor.size()) {
                return Err(EngineError::BadFile {
                    problem: format!(
                        "\"{}\" has shape {:?} in the weights file but {:?} in the design; the file is from a different design",
                        p.name,
                        src.size(),
                        p.tensor.size()
                    ),
                    path: path.to_owned(),
                });
            }
            let kind = p.tensor.kind();
            let mut dst = p.tensor.shallow_clone();
            let src = src.f_reshape(dst.size()).ctx("loading weights")?;
            dst.f_copy_(&src.to_kind(kind).to_device(dst.device()))
                .ctx("loading weights")?;
        }
        self.refuse_unexpected(named.iter().map(|(n, _)| n.as_str()), path)
    }

    /// Zeroes the gradient of every trainable tensor (set to undefined, as PyTorch's
    /// `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        for p in self.trainable() {
            let mut g = p.tensor.grad();
            if g.defined() {
                let _ = g.detach_();
                let _ = g.zero_();
            }
        }
    }

    /// A zero tensor on the parameters' device, for counters.
    pub(crate) fn scalar_i64(device: Device) -> Tensor {
        Tensor::zeros([], (Kind::Int64, device))
    }
}
