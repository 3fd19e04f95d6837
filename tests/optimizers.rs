//! Each optimizer, two steps, against torch.optim from the same weights and gradients
//! (tests/reference/optim_reference.py): every weight within 1e-6.
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use netloom::design::*;
use netloom::engine::{Network, Optim};
use tch::{Device, Kind, Tensor};

fn small_net() -> Design {
    let mut d = Design::default();
    let i = d.add("input", Op::Input(InputOp::vector(4)), [0.0; 2]);
    let fc = d.add("fc", Op::Linear(Linear::new(5)), [0.0; 2]);
    let r = d.add(
        "relu",
        Op::Activation(Activation::new(ActivationFn::Tanh)),
        [0.0; 2],
    );
    let bn = d.add("bn", Op::BatchNorm(BatchNorm::default()), [0.0; 2]);
    let h = d.add("head", Op::Linear(Linear::new(3)), [0.0; 2]);
    let o = d.add("output", Op::Output(OutputOp::default()), [0.0; 2]);
    for (a, b) in [(i, fc), (fc, r), (r, bn), (bn, h), (h, o)] {
        d.connect(a, b, 0);
    }
    d
}

fn named(net: &Network, grads: bool) -> Vec<(String, Tensor)> {
    net.params
        .trainable()
        .map(|p| {
            (
                p.name.clone(),
                if grads {
                    p.tensor.grad().copy()
                } else {
                    p.tensor.detach().copy()
                },
            )
        })
        .collect()
}

/// Fills every parameter's gradient from a forward/backward pass on a batch drawn with `seed`.
fn backward(net: &Network, seed: i64) {
    net.params.zero_grad();
    tch::manual_seed(seed);
    let x = Tensor::randn([8, 4], (Kind::Float, Device::Cpu));
    let y = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2, 0, 1]);
    let logits = net.forward(&x, true, None).unwrap();
    logits.cross_entropy_for_logits(&y).backward();
}

fn check(optimizer: Optimizer, momentum: f64, weight_decay: f64) {
    let label = format!("{optimizer:?} momentum {momentum} weight_decay {weight_decay}");
    let dir = tempdir(&format!("optim-{}", label.replace(' ', "-")));
    let mut design = small_net();
    design.training = TrainingSettings {
        optimizer,
        momentum,
        weight_decay,
        learning_rate: 0.05,
        seed: 3,
        ..Default::default()
    };
    let net = Network::compile(&design, Device::Cpu).unwrap();
    Tensor::write_safetensors(&named(&net, false), dir.join("weights.safetensors")).unwrap();
    let mut optim = Optim::new(&design.training);
    let mut grads = Vec::new();
    for step in 0..2 {
        backward(&net, 10 + step);
        let path = dir.join(format!("grads{step}.safetensors"));
        Tensor::write_safetensors(&named(&net, true), &path).unwrap();
        grads.push(path);
        optim.step(&net.params, 0.05).unwrap();
    }
    let name = serde_json::to_value(optimizer).unwrap();
    let config = serde_json::json!({
        "optimizer": name, "lr": 0.05, "momentum": momentum, "weight_decay": weight_decay,
        "weights": dir.join("weights.safetensors"), "grads": grads,
    });
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config.to_string()).unwrap();
    let out = python(&reference("optim_reference.py"), &[cfg.to_str().unwrap()]);
    let torch: std::collections::HashMap<String, Vec<f64>> =
        serde_json::from_str(out.trim()).unwrap();
    let mut moved = 0.0f64;
    for p in net.params.trainable() {
        let ours: Vec<f32> = Vec::try_from(p.tensor.detach().flatten(0, -1)).unwrap();
        let theirs = &torch[&p.name];
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(theirs) {
            let diff = (f64::from(*a) - b).abs();
            assert!(
                diff <= 1e-6 * b.abs().max(1.0),
                "{label}: {} differs from torch.optim by {diff:e}",
                p.name
            );
        }
        let before = Tensor::read_safetensors(dir.join("weights.safetensors")).unwrap();
        let start = &before.iter().find(|(n, _)| *n == p.name).unwrap().1;
        moved += f64::try_from((p.tensor.detach() - start).abs().max()).unwrap();
    }
    assert!(
        moved > 1e-4,
        "{label}: the weights did not move, so the comparison proves nothing"
    );
}

#[test]
fn sgd_matches_torch_optim() {
    check(Optimizer::Sgd, 0.0, 0.0);
    check(Optimizer::Sgd, 0.0, 0.01);
}

#[test]
fn sgd_with_momentum_matches_torch_optim() {
    check(Optimizer::Sgd, 0.9, 0.01);
}

#[test]
fn nesterov_matches_torch_optim() {
    check(Optimizer::Nesterov, 0.9, 0.01);
}

#[test]
fn adagrad_matches_torch_optim() {
    check(Optimizer::Adagrad, 0.0, 0.0);
    check(Optimizer::Adagrad, 0.0, 0.01);
}

#[test]
fn rmsprop_matches_torch_optim() {
    check(Optimizer::Rmsprop, 0.0, 0.01);
    check(Optimizer::Rmsprop, 0.5, 0.0);
}

#[test]
fn adam_matches_torch_optim() {
    check(Optimizer::Adam, 0.0, 0.0);
    check(Optimizer::Adam, 0.0, 0.01);
}

#[test]
fn adamw_matches_torch_optim() {
    check(Optimizer::Adamw, 0.0, 0.1);
}
