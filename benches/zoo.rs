//! The model zoo (issue 30): how long `netloom import` takes on resnet50 with its weights, and
//! the training step of mobilenet_v2 and efficientnet_b0 against torchvision's own models in
//! PyTorch eager, NCHW and channels-last (benches/zoo_step_torch.py), same batch, same
//! threads, SGD with momentum 0.9. The sides take turns round by round, the order rotated.
//!
//! Run with `cargo bench --bench zoo` (scripts/test.sh's environment: PYTHONPATH has torch,
//! torchvision and onnx).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a bench prints its results
#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly
use netloom::design::templates::template;
use netloom::engine::{Network, Optim};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

const THREADS: i32 = 2;
/// Rounds per net (NETLOOM_BENCH_ROUNDS overrides).
const ROUNDS: usize = 4;
const STEPS: usize = 2;
const SIZE: i64 = 128;
const BATCH: i64 = 32;

fn median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

/// The import of resnet50 exported by PyTorch (batch norm kept), with its weights written:
/// median and minimum of 5 runs, in seconds.
fn import_time() -> (f64, f64, u64) {
    let dir = std::env::temp_dir().join("netloom-bench-zoo");
    std::fs::create_dir_all(&dir).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let ok = Command::new("python3")
        .arg(format!("{root}/tests/reference/onnx_zoo.py"))
        .arg(&dir)
        .arg("resnet50")
        .status()
        .unwrap();
    assert!(ok.success());
    let onnx = dir.join("resnet50/model.onnx");
    let bytes = std::fs::metadata(&onnx).unwrap().len();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let imported = netloom::import::import_onnx(&onnx).unwrap();
        netloom::import::write_weights(&imported.weights, &dir.join("w.safetensors")).unwrap();
        times.push(t.elapsed().as_secs_f64());
    }
    let (m, min) = median(times);
    (m, min, bytes)
}

struct Torch {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Torch {
    fn start() -> Torch {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut child = Command::new("python3")
            .arg(format!("{root}/benches/zoo_step_torch.py"))
            .args([THREADS.to_string(), SIZE.to_string(), BATCH.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with torch and torchvision");
        let out = BufReader::new(child.stdout.take().unwrap());
        Torch { child, out }
    }

    fn round(&mut self, name: &str) -> f64 {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{name} {STEPS}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        line.trim().parse().unwrap()
    }
}

fn bench(name: &str, torch: &mut Torch) -> [(f64, f64); 3] {
    let design = template(name, [3, SIZE as u64, SIZE as u64], 10).unwrap();
    tch::manual_seed(0);
    let x = Tensor::rand([BATCH, 3, SIZE, SIZE], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(10, [BATCH], (Kind::Int64, Device::Cpu));
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
            .cross_entropy_for_logits(&y);
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
    let rounds = std::env::var("NETLOOM_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    for round in 0..rounds {
        for i in 0..3 {
            match (i + round) % 3 {
                0 => a.push(ours()),
                1 => b.push(torch.round(name)),
                _ => c.push(torch.round(&format!("{name}+cl"))),
            }
        }
    }
    [median(a), median(b), median(c)]
}

fn main() {
    tch::set_num_threads(THREADS);
    if std::env::args().skip(1).all(|a| a.starts_with('-')) {
        let (m, min, bytes) = import_time();
        println!(
            "netloom import resnet50 ({:.0} MB, weights written): median {m:.3} s (min {min:.3} s) of 5",
            bytes as f64 / 1e6
        );
    }
    let mut torch = Torch::start();
    let rounds = std::env::var("NETLOOM_BENCH_ROUNDS").unwrap_or_else(|_| ROUNDS.to_string());
    println!(
        "training step, batch {BATCH}, 3×{SIZE}×{SIZE}, {THREADS} threads, SGD momentum 0.9, {rounds} rounds of {STEPS} steps: median (min) ms per step"
    );
    println!(
        "{:18} {:>18} {:>18} {:>18} {:>14} {:>14}",
        "net", "netloom", "PyTorch NCHW", "PyTorch NHWC", "vs NCHW", "vs NHWC"
    );
    // `cargo bench --bench zoo -- NAME…` times only those (and skips the import).
    let asked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let names = if asked.is_empty() {
        vec!["mobilenet_v2".to_owned(), "efficientnet_b0".to_owned()]
    } else {
        asked
    };
    for name in &names {
        let [ours, nchw, nhwc] = bench(name, &mut torch);
        let name = name.as_str();
        let ms = |t: (f64, f64)| format!("{:.0} ({:.0})", t.0 * 1e3, t.1 * 1e3);
        let ratio = |a: (f64, f64), b: (f64, f64)| format!("{:.3}×", a.0 / b.0);
        println!(
            "{name:18} {:>18} {:>18} {:>18} {:>14} {:>14}",
            ms(ours),
            ms(nchw),
            ms(nhwc),
            ratio(ours, nchw),
            ratio(ours, nhwc)
        );
    }
}
