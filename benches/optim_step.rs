//! One optimizer step (Adam, or SGD with momentum) over every trainable parameter of a net, and
//! zeroing their gradients: with the parameters, gradients and state in flat buffers, as
//! netloom trains, against each tensor on its own (`Optim::tensor_by_tensor`, as before them),
//! in turns, on the CPU. The gradients are real ones from one batch and stay fixed while the
//! step is timed (zeroed gradients would drive Adam's moments into denormals and time those).
//!
//! Run with `cargo bench --bench optim_step` (scripts/provision-torch.sh's environment).
#![allow(clippy::print_stdout)] // a bench prints its results
#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly
use netloom::design::{Design, Optimizer, templates::template};
use netloom::document::load_design;
use netloom::engine::{Network, Optim};
use std::path::Path;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

const ROUNDS: usize = 15;

/// Microseconds per call of `f`, over `steps` calls after a few to warm up.
fn time(steps: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let t = Instant::now();
    for _ in 0..steps {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / steps as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn report(name: &str, tensors: usize, what: &str, flat: Vec<f64>, loose: Vec<f64>) {
    let (a, b) = (median(flat), median(loose));
    println!(
        "{name:12} {tensors:>8} {what:>10} {a:>12.1} {b:>16.1} {:>7.3}×",
        a / b
    );
}

fn main() {
    tch::set_num_threads(2);
    let root = env!("CARGO_MANIFEST_DIR");
    let example = |n: &str| load_design(Path::new(&format!("{root}/examples/{n}.json"))).unwrap();
    // (name, design, steps per round)
    let nets: Vec<(&str, Design, usize)> = vec![
        ("lenet5", example("lenet5"), 200),
        ("resnet_mini", example("resnet_mini"), 200),
        (
            "resnet18",
            template("resnet18", [3, 64, 64], 10).unwrap(),
            5,
        ),
    ];
    println!("optimizer step and zero_grad, {ROUNDS} rounds, 2 threads: median µs per call");
    println!(
        "{:12} {:>8} {:>10} {:>12} {:>16} {:>8}",
        "net", "tensors", "what", "flat", "tensor by tensor", "ratio"
    );
    for (name, design, steps) in &nets {
        let net = Network::compile(design, Device::Cpu).unwrap();
        // Real gradients from one batch, so every trainable tensor has one.
        let mut dims = vec![2i64];
        dims.extend(net.input_shape.dims().iter().map(|&d| d as i64));
        let x = Tensor::rand(dims.as_slice(), (Kind::Float, Device::Cpu));
        let y = Tensor::zeros([2], (Kind::Int64, Device::Cpu));
        let loss = net
            .forward(&x, true, None)
            .unwrap()
            .cross_entropy_for_logits(&y);
        loss.backward();
        let tensors = net.params.trainable().count();
        for optimizer in [Optimizer::Adam, Optimizer::Sgd] {
            let mut settings = design.training.clone();
            settings.optimizer = optimizer;
            settings.momentum = if optimizer == Optimizer::Sgd {
                0.9
            } else {
                0.0
            };
            let mut flat = Optim::new(&settings);
            let mut loose = Optim::new(&settings).tensor_by_tensor();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for round in 0..ROUNDS {
                let mut f = || a.push(time(*steps, || flat.step(&net.params, 1e-4).unwrap()));
                let mut l = || b.push(time(*steps, || loose.step(&net.params, 1e-4).unwrap()));
                if round % 2 == 0 {
                    f();
                    l();
                } else {
                    l();
                    f();
                }
            }
            report(name, tensors, &format!("{optimizer:?}"), a, b);
            if optimizer == Optimizer::Sgd {
                // Zeroing: one kernel per buffer against one per tensor (the gradients are
                // zero from here on, which is all that is timed).
                let (mut a, mut b) = (Vec::new(), Vec::new());
                for _ in 0..ROUNDS {
                    a.push(time(200, || flat.zero_grad(&net.params)));
                    b.push(time(200, || net.params.zero_grad()));
                }
                report(name, tensors, "zero_grad", a, b);
            }
        }
    }
}
