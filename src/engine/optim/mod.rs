//! The optimizers, written out as torch.optim's single-tensor code paths so that one step gives
//! the same weights as PyTorch (tests/optimizers.rs checks each within 1e-6).
//!
//! netloom implements them itself rather than using tch's: tch has no AdaGrad, its optimizer
//! state can't be read or saved (so a run couldn't resume exactly), and it can't change Adam's
//! hyper-parameters per group. State lives in named tensors, saved as safetensors.

mod flat;

use super::error::{EngineError, TorchContext};
use super::params::ParamStore;
use crate::design::{Optimizer, TrainingSettings};
use std::collections::HashMap;
use tch::{Device, Tensor};

/// Adam's and AdamW's β₁, β₂ and ε; RMSProp's α and ε; AdaGrad's ε: torch.optim's defaults.
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;
const RMS_ALPHA: f64 = 0.99;
const RMS_EPS: f64 = 1e-8;
const ADAGRAD_EPS: f64 = 1e-10;

/// An optimizer with its per-parameter state.
#[derive(Debug)]
pub struct Optim {
    kind: Optimizer,
    momentum: f64,
    weight_decay: f64,
    /// Steps taken (Adam's bias correction, AdaGrad's count).
    pub steps: u64,
    /// `(param name, slot)` → state tensor, e.g. `("fc1.weight", "exp_avg")`; with flat
    /// buffers also `("#flat0", "exp_avg")`, of which the per-parameter entries are views.
    state: HashMap<(String, &'static str), Tensor>,
    /// The flat buffers the trainable parameters live in ([`flat`]).
    flat: Vec<flat::Flat>,
    /// The trainable parameters the buffers were built for, in the store's order: a step
    /// rebuilds them when that set changes (a thaw).
    flat_names: Vec<String>,
    /// False to update tensor by tensor, for comparison (`tensor_by_tensor`).
    flat_enabled: bool,
}

impl Optim {
    /// An optimizer as the settings describe it, with no state yet.
    pub fn new(settings: &TrainingSettings) -> Optim {
        Optim {
            kind: settings.optimizer,
            momentum: settings.momentum,
            weight_decay: settings.weight_decay,
            steps: 0,
            state: HashMap::new(),
            flat: Vec::new(),
            flat_names: Vec::new(),
            flat_enabled: true,
        }
    }

    /// The same optimizer without flat buffers: each parameter updated on its own, as before
    /// them. Only for measuring what they save (benches/optim_step.rs); the results are equal.
    pub fn tensor_by_tensor(mut self) -> Optim {
        self.flat_enabled = false;
        self
    }

    fn slot(&mut self, name: &str, slot: &'static str, like: &Tensor) -> Tensor {
        self.state
            .entry((name.to_owned(), slot))
            .or_insert_with(|| like.zeros_like())
            .shallow_clone()
    }

    /// One update of every trainable parameter that has a gradient, at rate `lr`: on the flat
    /// buffers when every trainable parameter has one ([`flat`]), else tensor by tensor.
    pub fn step(&mut self, params: &ParamStore, base_lr: f64) -> Result<(), EngineError> {
        let _guard = tch::no_grad_guard();
        self.steps += 1;
        let t = self.steps as f64;
        // −lr as a 0-d tensor, so `w += d · (−lr)` is one fused in-place op (addcmul_) with no
        // temporary: tch has no `add_(other, alpha)`. Made once per step and device.
        let mut neg_lr: Option<(f64, Tensor)> = None;
        if self.flat_enabled && self.flatten(params)? {
            let flats = std::mem::take(&mut self.flat);
            let slots = self.state.len();
            let mut result = Ok(());
            for f in &flats {
                // A node's multiplier scales its rate, like a torch.optim parameter group's lr.
                let lr = base_lr * f.lr_mult;
                let mut w = f.weights.shallow_clone();
                result = self.update(&f.key, &mut w, &f.grads, lr, t, &mut neg_lr);
                if result.is_err() {
                    break;
                }
            }
            if self.state.len() != slots {
                for f in &flats {
                    self.expose(f);
                }
            }
            self.flat = flats;
            return result;
        }
        for p in params.trainable() {
            let g = p.tensor.grad();
            if !g.defined() {
                continue;
            }
            let mut w = p.tensor.shallow_clone();
            self.update(&p.name, &mut w, &g, base_lr * p.lr_mult, t, &mut neg_lr)?;
        }
        Ok(())
    }

    /// One update of the weights `w` (a parameter, or a flat buffer of them) with gradient
    /// `g`; `name` keys the optimizer state.
    fn update(
        &mut self,
        name: &str,
        w: &mut Tensor,
        g: &Tensor,
        lr: f64,
        t: f64,
        neg_lr: &mut Option<(f64, Tensor)>,
    ) -> Result<(), EngineError> {
        let wd = self.weight_decay;
        // L2 decay enters the gradient, except for AdamW, which decays the weights directly.
        let g = if wd != 0.0 && self.kind != Optimizer::Adamw {
            g.f_add(&w.f_mul_scalar(wd).ctx("weight decay")?)
                .ctx("weight decay")?
        } else {
            g.shallow_clone()
        };
        match self.kind {
            Optimizer::Sgd | Optimizer::Nesterov => self.sgd(name, w, &g, lr, neg_lr),
            Optimizer::Adagrad => self.adagrad(name, w, &g, lr),
            Optimizer::Rmsprop => self.rmsprop(name, w, &g, lr),
            Optimizer::Adam | Optimizer::Adamw => self.adam(name, w, &g, lr, t),
        }
    }

    /// SGD, with momentum and Nesterov as torch.optim.SGD.
    fn sgd(
        &mut self,
        name: &str,
        w: &mut Tensor,
        g: &Tensor,
        lr: f64,
        neg_lr: &mut Option<(f64, Tensor)>,
    ) -> Result<(), EngineError> {
        let mut d = g.shallow_clone();
        if self.momentum != 0.0 {
            let key = (name.to_owned(), "momentum_buffer");
            let buf = match self.state.get(&key) {
                None => {
                    let b = g.copy();
                    self.state.insert(key, b.shallow_clone());
                    b
                }
                Some(b) => {
                    let mut b = b.shallow_clone();
                    let _ = b.f_mul_scalar_(self.momentum).ctx("sgd")?;
                    let _ = b.f_add_(g).ctx("sgd")?;
                    b
                }
            };
            d = if self.kind == Optimizer::Nesterov {
                g.f_add(&buf.f_mul_scalar(self.momentum).ctx("sgd")?)
                    .ctx("sgd")?
            } else {
                buf
            };
        }
        let device = w.device();
        let scale = match &*neg_lr {
            Some((at, t)) if *at == lr && t.device() == device => t.shallow_clone(),
            _ => {
                // In the weights' own precision: f32 for networks, f64 for the Learn view's paths.
                let t = Tensor::from(-lr).to_kind(w.kind()).to_device(device);
                *neg_lr = Some((lr, t.shallow_clone()));
                t
            }
        };
        let _ = w.f_addcmul_(&d, &scale).ctx("sgd")?;
        Ok(())
    }

    /// torch.optim.Adagrad.
    fn adagrad(
        &mut self,
        name: &str,
        w: &mut Tensor,
        g: &Tensor,
        lr: f64,
    ) -> Result<(), EngineError> {
        let mut sum = self.slot(name, "sum", w);
        let _ = sum.f_addcmul_(g, g).ctx("adagrad")?;
        let std = sum
            .f_sqrt()
            .ctx("adagrad")?
            .f_add_scalar(ADAGRAD_EPS)
            .ctx("adagrad")?;
        step_by_ratio(w, g, &std, lr, "adagrad")
    }

    /// torch.optim.RMSprop, with or without momentum.
    fn rmsprop(
        &mut self,
        name: &str,
        w: &mut Tensor,
        g: &Tensor,
        lr: f64,
    ) -> Result<(), EngineError> {
        let mut sq = self.slot(name, "square_avg", w);
        average_square(&mut sq, g, RMS_ALPHA, "rmsprop")?;
        let avg = sq
            .f_sqrt()
            .ctx("rmsprop")?
            .f_add_scalar(RMS_EPS)
            .ctx("rmsprop")?;
        if self.momentum > 0.0 {
            let mut buf = self.slot(name, "momentum_buffer", w);
            let _ = buf.f_mul_scalar_(self.momentum).ctx("rmsprop")?;
            let _ = buf.f_addcdiv_(g, &avg).ctx("rmsprop")?;
            let _ = w
                .f_sub_(&buf.f_mul_scalar(lr).ctx("rmsprop")?)
                .ctx("rmsprop")?;
            Ok(())
        } else {
            step_by_ratio(w, g, &avg, lr, "rmsprop")
        }
    }

    /// torch.optim.Adam, and AdamW's decoupled weight decay.
    fn adam(
        &mut self,
        name: &str,
        w: &mut Tensor,
        g: &Tensor,
        lr: f64,
        t: f64,
    ) -> Result<(), EngineError> {
        let wd = self.weight_decay;
        if self.kind == Optimizer::Adamw && wd != 0.0 {
            let _ = w.f_mul_scalar_(1.0 - lr * wd).ctx("adamw")?;
        }
        let mut m = self.slot(name, "exp_avg", w);
        let mut v = self.slot(name, "exp_avg_sq", w);
        let _ = m.f_lerp_(g, 1.0 - BETA1).ctx("adam")?;
        average_square(&mut v, g, BETA2, "adam")?;
        let bc1 = 1.0 - BETA1.powf(t);
        let bc2_sqrt = (1.0 - BETA2.powf(t)).sqrt();
        let denom = v
            .f_sqrt()
            .ctx("adam")?
            .f_div_scalar(bc2_sqrt)
            .ctx("adam")?
            .f_add_scalar(ADAM_EPS)
            .ctx("adam")?;
        step_by_ratio(w, &m, &denom, lr / bc1, "adam")
    }

    /// The state as named CPU tensors (`fc1.weight.exp_avg`), sorted by name, for saving.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = self
            .state
            .iter()
            .filter(|((name, _), _)| !name.starts_with(flat::FLAT))
            .map(|((name, slot), t)| (format!("{name}.{slot}"), t.to_device(Device::Cpu)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Restores state saved by [`Optim::state_tensors`] for the parameters in `params`. Returns
    /// the tensors that don't belong (no such parameter or slot, or another shape): when there
    /// are any, nothing is restored and the state starts from zero, as the file is another run's.
    pub fn load_state(
        &mut self,
        params: &ParamStore,
        named: Vec<(String, Tensor)>,
        steps: u64,
    ) -> Vec<String> {
        self.state.clear();
        // The buffers are rebuilt around the restored state at the next step.
        self.flat.clear();
        self.steps = steps;
        let mut foreign = Vec::new();
        for (key, t) in named {
            let fits = flat::SLOTS.iter().find_map(|&slot| {
                let name = key.strip_suffix(&format!(".{slot}"))?;
                let p = params.by_name(name)?;
                (p.tensor.size() == t.size()).then_some((name.to_owned(), slot, p))
            });
            match fits {
                Some((name, slot, p)) => {
                    let t = t.to_device(p.tensor.device());
                    self.state.insert((name, slot), t);
                }
                None => foreign.push(key),
            }
        }
        if !foreign.is_empty() {
            self.state.clear();
        }
        foreign
    }
}

/// `avg = decay·avg + (1 − decay)·g²`: RMSProp's and Adam's running mean of squared
/// gradients, in torch.optim's order of operations (so the results match it bit for bit).
fn average_square(avg: &mut Tensor, g: &Tensor, decay: f64, what: &str) -> Result<(), EngineError> {
    let _ = avg.f_mul_scalar_(decay).ctx(what)?;
    let _ = avg
        .f_add_(&g.f_mul(g).ctx(what)?.f_mul_scalar(1.0 - decay).ctx(what)?)
        .ctx(what)?;
    Ok(())
}

/// `w −= num / denom · scale`: the step of AdaGrad, RMSProp (without momentum) and Adam, in
/// torch.optim's order of operations.
fn step_by_ratio(
    w: &mut Tensor,
    num: &Tensor,
    denom: &Tensor,
    scale: f64,
    what: &str,
) -> Result<(), EngineError> {
    let step = num.f_div(denom).ctx(what)?.f_mul_scalar(scale).ctx(what)?;
    let _ = w.f_sub_(&step).ctx(what)?;
    Ok(())
}

/// Scales all gradients so their global L2 norm is at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_`; returns the norm before clipping. Parameters without a
/// gradient are skipped (tch's version panics on them).
pub fn clip_grad_norm(params: &ParamStore, max_norm: f64) -> Result<f64, EngineError> {
    let _guard = tch::no_grad_guard();
    let grads: Vec<Tensor> = params
        .trainable()
        .map(|p| p.tensor.grad())
        .filter(Tensor::defined)
        .collect();
    if grads.is_empty() {
        return Ok(0.0);
    }
    let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
    let total = Tensor::f_stack(&norms, 0)
        .ctx("clip")?
        .norm()
        .double_value(&[]);
    let coef = (max_norm / (total + 1e-6)).min(1.0);
    if coef < 1.0 {
        for mut g in grads {
            let _ = g.f_mul_scalar_(coef).ctx("clip")?;
        }
    }
    Ok(total)
}
