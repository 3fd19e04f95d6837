//! A U-Net training step (issue 31): netloom's `unet` template at batch 8 of 3×128×128, two
//! classes, per-pixel cross-entropy, SGD with momentum, against the same U-Net in PyTorch
//! eager (benches/unet_step_torch.py), NCHW and channels-last, same threads. The three sides
//! take turns round by round, the order rotated.
//!
//! Run with `cargo bench --bench unet` (scripts/test.sh's environment: PYTHONPATH has torch);
//! `NETLOOM_BENCH_WIDTH=16` scales the U-Net's widths (64, the paper's, by default).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a bench prints its results
#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly
use netloom::engine::{Network, Optim};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;
use tch::{Device, Kind, Reduction, Tensor};

const THREADS: i32 = 2;
const ROUNDS: usize = 3;
const STEPS: usize = 1;
const SIZE: i64 = 128;
const BATCH: i64 = 8;

fn median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

fn main() {
    tch::set_num_threads(THREADS);
    let width = env("NETLOOM_BENCH_WIDTH", 64);
    let rounds = env("NETLOOM_BENCH_ROUNDS", ROUNDS);
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new("python3")
        .arg(format!("{root}/benches/unet_step_torch.py"))
        .args([
            THREADS.to_string(),
            SIZE.to_string(),
            BATCH.to_string(),
            width.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with torch");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut torch = |layout: &str| -> f64 {
        let stdin = child.stdin.as_mut().unwrap();
        writeln!(stdin, "{layout} {STEPS}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        line.trim().parse().unwrap()
    };
    let design = netloom::design::templates::unet([3, SIZE as u64, SIZE as u64], 2, width as u64);
    tch::manual_seed(0);
    let x = Tensor::rand([BATCH, 3, SIZE, SIZE], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(2, [BATCH, SIZE, SIZE], (Kind::Int64, Device::Cpu));
    let mut settings = design.training.clone();
    settings.optimizer = netloom::design::Optimizer::Sgd;
    settings.momentum = 0.9;
    settings.weight_decay = 0.0;
    let net = Network::compile(&design, Device::Cpu).unwrap();
    let mut optim = Optim::new(&settings);
    let mut step = || {
        optim.zero_grad(&net.params);
        let loss = net
            .forward(&x, true, None)
            .unwrap()
            .cross_entropy_loss::<Tensor>(&y, None, Reduction::Mean, -100, 0.0);
        loss.backward();
        optim.step(&net.params, 0.01).unwrap();
        let _ = loss.double_value(&[]);
    };
    let mut ours = || {
        step();
        let t = Instant::now();
        for _ in 0..STEPS {
            step();
        }
        t.elapsed().as_secs_f64() / STEPS as f64
    };
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        for i in 0..3 {
            match (i + round) % 3 {
                0 => a.push(ours()),
                1 => b.push(torch("nchw")),
                _ => c.push(torch("cl")),
            }
        }
    }
    // The PyTorch side ends when its stdin closes.
    drop(child.stdin.take());
    child.wait().unwrap();
    let [ours, nchw, nhwc] = [median(a), median(b), median(c)];
    let ms = |t: (f64, f64)| format!("{:.0} ({:.0})", t.0 * 1e3, t.1 * 1e3);
    println!(
        "U-Net (width {width}) training step, batch {BATCH}, 3×{SIZE}×{SIZE}, 2 classes, {THREADS} threads, SGD momentum 0.9, {rounds} rounds of {STEPS} step: median (min) ms per step"
    );
    println!(
        "netloom {}  PyTorch NCHW {}  PyTorch NHWC {}  vs NCHW {:.3}×  vs NHWC {:.3}×",
        ms(ours),
        ms(nchw),
        ms(nhwc),
        ours.0 / nchw.0,
        ours.0 / nhwc.0
    );
}
