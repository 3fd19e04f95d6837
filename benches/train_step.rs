//! Training-step time of compiled designs against the same networks hand-written in tch and
//! in PyTorch eager (benches/train_step_torch.py), same batch, same thread count, SGD with
//! momentum 0.9 everywhere. Each step: forward in train mode, cross-entropy, backward,
//! optimizer step, and reading the loss (as every real loop does for logging).
//!
//! The four (netloom, tch, PyTorch in its default NCHW layout, and PyTorch in channels-last
//! as a user who knows the trick would run it) take turns, round by round, in one command.
//!
//! The nets: LeNet-5, vgg_small and resnet_mini from examples/.
//!
//! Run with `cargo bench --bench train_step` (scripts/test.sh's environment: PYTHONPATH has torch).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a bench prints its results
#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly
use netloom::design::Design;
use netloom::document::load_design;
use netloom::engine::{Network, Optim};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

const THREADS: i32 = 2;
const ROUNDS: usize = 18;

fn lenet5_tch(vs: &nn::Path) -> impl ModuleT + use<> {
    let conv = |p, i, o, pad| {
        nn::conv2d(
            p,
            i,
            o,
            5,
            nn::ConvConfig {
                padding: pad,
                ..Default::default()
            },
        )
    };
    nn::seq_t()
        .add(conv(vs / "conv1", 1, 6, 2))
        .add_fn(|x| x.relu().max_pool2d_default(2))
        .add(conv(vs / "conv2", 6, 16, 0))
        .add_fn(|x| x.relu().max_pool2d_default(2).flatten(1, -1))
        .add(nn::linear(vs / "fc1", 400, 120, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(vs / "fc2", 120, 84, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(vs / "fc3", 84, 10, Default::default()))
}

fn vgg_small_tch(vs: &nn::Path) -> impl ModuleT + use<> {
    let conv = |p: nn::Path, i, o| {
        nn::conv2d(
            p,
            i,
            o,
            3,
            nn::ConvConfig {
                padding: 1,
                bias: false,
                ..Default::default()
            },
        )
    };
    let bn = |p: nn::Path, c| nn::batch_norm2d(p, c, Default::default());
    nn::seq_t()
        .add(conv(vs / "conv1_1", 3, 32))
        .add(bn(vs / "bn1_1", 32))
        .add_fn(|x| x.relu())
        .add(conv(vs / "conv1_2", 32, 32))
        .add(bn(vs / "bn1_2", 32))
        .add_fn(|x| x.relu().max_pool2d_default(2))
        .add_fn_t(|x, train| x.dropout(0.25, train))
        .add(conv(vs / "conv2_1", 32, 64))
        .add(bn(vs / "bn2_1", 64))
        .add_fn(|x| x.relu())
        .add(conv(vs / "conv2_2", 64, 64))
        .add(bn(vs / "bn2_2", 64))
        .add_fn(|x| x.relu().max_pool2d_default(2))
        .add_fn_t(|x, train| x.dropout(0.25, train))
        .add(conv(vs / "conv3_1", 64, 128))
        .add(bn(vs / "bn3_1", 128))
        .add_fn(|x| x.relu().max_pool2d_default(2).flatten(1, -1))
        .add(nn::linear(vs / "fc1", 128 * 4 * 4, 256, Default::default()))
        .add_fn_t(|x, train| x.relu().dropout(0.5, train))
        .add(nn::linear(vs / "fc2", 256, 10, Default::default()))
}

/// examples/resnet_mini.json by hand: a stem and two residual stages, the second downsampling
/// with a strided 1×1 convolution on its shortcut.
#[derive(Debug)]
struct ResnetMini {
    convs: Vec<nn::Conv2D>,
    bns: Vec<nn::BatchNorm>,
    fc: nn::Linear,
}

fn resnet_mini_tch(vs: &nn::Path) -> ResnetMini {
    // (in, out, kernel, stride) of conv1, layer1's two, layer2's two, and layer2's shortcut.
    let shapes = [
        (3, 16, 3, 1),
        (16, 16, 3, 1),
        (16, 16, 3, 1),
        (16, 32, 3, 2),
        (32, 32, 3, 1),
        (16, 32, 1, 2),
    ];
    let convs = shapes
        .iter()
        .enumerate()
        .map(|(i, &(c_in, c_out, k, stride))| {
            let config = nn::ConvConfig {
                stride,
                padding: k / 2,
                bias: false,
                ..Default::default()
            };
            nn::conv2d(vs / format!("conv{i}"), c_in, c_out, k, config)
        })
        .collect();
    let bns = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| nn::batch_norm2d(vs / format!("bn{i}"), s.1, Default::default()))
        .collect();
    let fc = nn::linear(vs / "fc", 32, 10, Default::default());
    ResnetMini { convs, bns, fc }
}

impl ModuleT for ResnetMini {
    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let cb = |i: usize, x: &Tensor| x.apply(&self.convs[i]).apply_t(&self.bns[i], train);
        let x = cb(0, x).relu();
        let y = cb(2, &cb(1, &x).relu());
        let x = (y + x).relu();
        let y = cb(4, &cb(3, &x).relu());
        let x = (y + cb(5, &x)).relu();
        x.adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.fc)
    }
}

/// (median, minimum): the minimum is the round least disturbed by other load on a shared machine.
fn summary(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

/// Seconds per step over `steps` steps.
fn time<F: FnMut()>(steps: usize, mut step: F) -> f64 {
    // Warm up: the other side may just have had the cores and the caches.
    for _ in 0..3 {
        step();
    }
    let t = Instant::now();
    for _ in 0..steps {
        step();
    }
    t.elapsed().as_secs_f64() / steps as f64
}

/// The PyTorch process, asked for one round at a time.
struct Torch {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Torch {
    fn start() -> Torch {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut child = Command::new("python3")
            .arg(format!("{root}/benches/train_step_torch.py"))
            .arg(THREADS.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with torch (PYTHONPATH from scripts/provision-torch.sh)");
        let out = BufReader::new(child.stdout.take().unwrap());
        Torch { child, out }
    }

    fn round(&mut self, name: &str, steps: usize) -> f64 {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{name} {steps}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        line.trim()
            .parse()
            .unwrap_or_else(|_| panic!("PyTorch side said {line:?}"))
    }
}

type Times = ((f64, f64), (f64, f64), (f64, f64), (f64, f64));

fn bench(name: &str, design: &Design, shape: [i64; 4], steps: usize, torch: &mut Torch) -> Times {
    tch::manual_seed(0);
    let x = Tensor::rand(shape, (Kind::Float, Device::Cpu));
    let y = Tensor::randint(10, [shape[0]], (Kind::Int64, Device::Cpu));
    let mut settings = design.training.clone();
    settings.optimizer = netloom::design::Optimizer::Sgd;
    settings.momentum = 0.9;
    settings.weight_decay = 0.0;
    let net = Network::compile(design, Device::Cpu).unwrap();
    let mut optim = Optim::new(&settings);
    let vs = nn::VarStore::new(Device::Cpu);
    let hand: Box<dyn ModuleT> = match name {
        "lenet5" => Box::new(lenet5_tch(&vs.root())),
        "resnet_mini" => Box::new(resnet_mini_tch(&vs.root())),
        _ => Box::new(vgg_small_tch(&vs.root())),
    };
    let mut sgd = nn::Sgd {
        momentum: 0.9,
        ..Default::default()
    }
    .build(&vs, 0.01)
    .unwrap();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut netloom_step = || {
        optim.zero_grad(&net.params);
        let loss = net
            .forward(&x, true, None)
            .unwrap()
            .cross_entropy_for_logits(&y);
        loss.backward();
        optim.step(&net.params, 0.01).unwrap();
        let _ = loss.double_value(&[]);
    };
    let mut tch_step = || {
        let loss = hand.forward_t(&x, true).cross_entropy_for_logits(&y);
        sgd.backward_step(&loss);
        let _ = loss.double_value(&[]);
    };
    let (mut py, mut py_cl) = (Vec::new(), Vec::new());
    // Four sides, the order rotated every round, so each follows each other side equally
    // often and drift on a shared machine hits all alike.
    for round in 0..ROUNDS {
        for i in 0..4 {
            match (i + round) % 4 {
                0 => ours.push(time(steps, &mut netloom_step)),
                1 => theirs.push(time(steps, &mut tch_step)),
                2 => py.push(torch.round(name, steps)),
                _ => py_cl.push(torch.round(&format!("{name}+cl"), steps)),
            }
        }
    }
    (summary(ours), summary(theirs), summary(py), summary(py_cl))
}

fn main() {
    tch::set_num_threads(THREADS);
    let root = env!("CARGO_MANIFEST_DIR");
    let cases = [
        ("lenet5", [64, 1, 28, 28], 100),
        ("vgg_small", [128, 3, 32, 32], 4),
        ("resnet_mini", [128, 3, 32, 32], 6),
    ];
    let mut torch = Torch::start();
    let mut results = Vec::new();
    for (name, shape, steps) in cases {
        let design = load_design(Path::new(&format!("{root}/examples/{name}.json"))).unwrap();
        results.push(bench(name, &design, shape, steps, &mut torch));
    }
    println!(
        "training step, {ROUNDS} rounds, {THREADS} threads, SGD momentum 0.9: median (min) ms per step"
    );
    println!(
        "{:10} {:>18} {:>18} {:>18} {:>18} {:>16} {:>16} {:>16}",
        "net",
        "netloom",
        "hand-written tch",
        "PyTorch eager",
        "PyTorch NHWC",
        "vs tch",
        "vs PyTorch",
        "vs PyTorch NHWC"
    );
    for ((name, _, _), (ours, theirs, py, py_cl)) in cases.iter().zip(results) {
        let ms = |t: (f64, f64)| format!("{:.3} ({:.3})", t.0 * 1e3, t.1 * 1e3);
        let ratio = |a: (f64, f64), b: (f64, f64)| format!("{:.3}× ({:.3}×)", a.0 / b.0, a.1 / b.1);
        println!(
            "{name:10} {:>18} {:>18} {:>18} {:>18} {:>16} {:>16} {:>16}",
            ms(ours),
            ms(theirs),
            ms(py),
            ms(py_cl),
            ratio(ours, theirs),
            ratio(ours, py),
            ratio(ours, py_cl)
        );
    }
}
