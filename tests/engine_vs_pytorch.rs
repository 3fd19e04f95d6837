//! Equivalence with PyTorch: for every node kind and every example, `netloom forward` gives
//! the output of the same network built from torch.nn (tests/reference/torch_reference.py,
//! written independently of netloom) loading the weights netloom trained and saved.
#![allow(clippy::too_many_lines)] // test scenarios and reference tables read top to bottom
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use netloom::design::*;
use netloom::engine::npy::{self, NpyArray};
use std::path::{Path, PathBuf};

/// A design: Input → `body` (a chain; names given) → `head` → Output.
/// A trainable chain: `body` then `head` then an output, with Adam at lr 0.01, batch 16.
fn trained_chain(input: InputOp, body: Vec<(&str, Op)>, head: Vec<(&str, Op)>) -> Design {
    let mut ops = body;
    ops.extend(head);
    ops.push(("output", Op::Output(OutputOp::default())));
    let mut d = common::reference::chain(input, ops);
    d.training.batch_size = 16;
    d.training.learning_rate = 0.01;
    d.training.optimizer = Optimizer::Adam;
    d
}

fn image_head() -> Vec<(&'static str, Op)> {
    vec![
        ("flatten", Op::Flatten(Flatten {})),
        ("head", Op::Linear(Linear::new(10))),
    ]
}

fn conv(out: u64, k: u64, pad: u64) -> Op {
    let mut c = Conv2d::new(out, k);
    c.padding = Pair::Same(pad);
    Op::Conv2d(c)
}

fn act(f: ActivationFn) -> Op {
    Op::Activation(Activation::new(f))
}

/// An image case: 1×28×28 → conv(4, 3) → `ops` → flatten → linear(10).
fn image_case(ops: Vec<(&'static str, Op)>) -> Design {
    let mut body = vec![("conv0", conv(4, 3, 1))];
    body.extend(ops);
    trained_chain(InputOp::image(1, 28, 28), body, image_head())
}

/// A vector case: 2 → linear(16) → `ops` → linear(3).
fn vector_case(ops: Vec<(&'static str, Op)>) -> Design {
    let mut body = vec![("fc0", Op::Linear(Linear::new(16)))];
    body.extend(ops);
    trained_chain(
        InputOp::vector(2),
        body,
        vec![("head", Op::Linear(Linear::new(3)))],
    )
}

fn every_kind() -> Vec<(&'static str, Design)> {
    let mut fancy = Conv2d::new(8, 3);
    fancy.kernel_size = Pair::HW(3, 5);
    fancy.stride = Pair::HW(2, 1);
    fancy.padding = Pair::HW(1, 2);
    fancy.dilation = Pair::Same(2);
    fancy.groups = 2;
    fancy.bias = false;
    let mut upsample = ConvTranspose2d::new(6, 3, 2);
    upsample.padding = Pair::Same(1);
    upsample.output_padding = Pair::Same(1);
    upsample.groups = 2;
    let mut pool = Pool2d::new(3);
    pool.stride = Some(Pair::Same(2));
    pool.padding = Pair::Same(1);
    pool.ceil_mode = true;
    let leaky = Activation {
        negative_slope: Some(0.2),
        ..Activation::new(ActivationFn::LeakyRelu)
    };
    let elu = Activation {
        alpha: Some(0.7),
        ..Activation::new(ActivationFn::Elu)
    };
    let mut cases = vec![
        ("conv2d", image_case(vec![("conv", conv(6, 5, 0))])),
        (
            "conv2d_strided_dilated_grouped",
            image_case(vec![("conv", Op::Conv2d(fancy))]),
        ),
        (
            "max_pool2d_ceil",
            image_case(vec![("pool", Op::MaxPool2d(pool.clone()))]),
        ),
        (
            "avg_pool2d_ceil_padded",
            image_case(vec![("pool", Op::AvgPool2d(pool))]),
        ),
        (
            "avg_pool2d_padding_not_counted",
            image_case(vec![(
                "pool",
                Op::AvgPool2d(Pool2d {
                    kernel_size: Pair::Same(3),
                    stride: Some(Pair::Same(2)),
                    padding: Pair::Same(1),
                    ceil_mode: true,
                    count_include_pad: false,
                }),
            )]),
        ),
        (
            "conv_transpose2d_upsampling",
            image_case(vec![("up", Op::ConvTranspose2d(upsample))]),
        ),
        (
            "hardtanh_-0.5_0.8",
            image_case(vec![(
                "act",
                Op::Activation(Activation::hardtanh(-0.5, 0.8)),
            )]),
        ),
        (
            "adaptive_avg_pool2d",
            image_case(vec![(
                "pool",
                Op::AdaptiveAvgPool2d(AdaptivePool2d {
                    output_size: Pair::HW(3, 5),
                }),
            )]),
        ),
        (
            "batch_norm_2d",
            image_case(vec![("bn", Op::BatchNorm(BatchNorm::default()))]),
        ),
        (
            "layer_norm_2d",
            image_case(vec![(
                "ln",
                Op::LayerNorm(LayerNorm {
                    eps: 1e-6,
                    elementwise_affine: true,
                }),
            )]),
        ),
        (
            "layer_norm_2d_plain",
            image_case(vec![(
                "ln",
                Op::LayerNorm(LayerNorm {
                    eps: 1e-5,
                    elementwise_affine: false,
                }),
            )]),
        ),
        (
            "layer_norm_1d",
            vector_case(vec![("ln", Op::LayerNorm(LayerNorm::default()))]),
        ),
        (
            "layer_scale_2d",
            image_case(vec![("gamma", Op::LayerScale(LayerScale { init: 0.5 }))]),
        ),
        (
            "layer_scale_1d",
            vector_case(vec![("gamma", Op::LayerScale(LayerScale { init: 0.5 }))]),
        ),
        (
            "dropout",
            image_case(vec![("drop", Op::Dropout(Dropout { p: 0.3 }))]),
        ),
        (
            "dropout2d",
            image_case(vec![("drop", Op::Dropout2d(Dropout { p: 0.3 }))]),
        ),
        (
            "leaky_relu_0.2",
            image_case(vec![("act", Op::Activation(leaky))]),
        ),
        (
            "elu_alpha_0.7",
            image_case(vec![("act", Op::Activation(elu))]),
        ),
        (
            "softmax_over_channels",
            image_case(vec![("act", act(ActivationFn::Softmax))]),
        ),
        (
            "batch_norm_1d",
            vector_case(vec![("bn", Op::BatchNorm(BatchNorm::default()))]),
        ),
        (
            "batch_norm_1d_no_affine",
            vector_case(vec![(
                "bn",
                Op::BatchNorm(BatchNorm {
                    affine: false,
                    momentum: 0.3,
                    eps: 1e-3,
                }),
            )]),
        ),
        (
            "linear_no_bias",
            vector_case(vec![(
                "fc",
                Op::Linear(Linear {
                    out_features: 8,
                    bias: false,
                }),
            )]),
        ),
        (
            "softmax_dim_1",
            vector_case(vec![("act", act(ActivationFn::Softmax))]),
        ),
    ];
    for f in ActivationFn::ALL {
        if !matches!(
            f,
            ActivationFn::Softmax
                | ActivationFn::LeakyRelu
                | ActivationFn::Elu
                | ActivationFn::Hardtanh
        ) {
            cases.push((f.name(), image_case(vec![("act", act(f))])));
        }
    }
    cases.push((
        "leaky_relu_default",
        vector_case(vec![("act", act(ActivationFn::LeakyRelu))]),
    ));
    cases.push((
        "elu_default",
        vector_case(vec![("act", act(ActivationFn::Elu))]),
    ));
    // Branches: a residual Add and a Concat of unequal channel counts.
    for merge in ["add", "concat"] {
        let mut d = Design::default();
        let input = d.add("input", Op::Input(InputOp::image(1, 28, 28)), [0.0; 2]);
        let a = d.add("a", conv(4, 3, 1), [0.0; 2]);
        let r = d.add("relu", act(ActivationFn::Relu), [0.0; 2]);
        let b = d.add(
            "b",
            conv(if merge == "add" { 4 } else { 2 }, 3, 1),
            [0.0; 2],
        );
        let m = d.add(
            "merge",
            if merge == "add" {
                Op::Add(Merge {})
            } else {
                Op::Concat(Merge {})
            },
            [0.0; 2],
        );
        let f = d.add("flatten", Op::Flatten(Flatten {}), [0.0; 2]);
        let h = d.add("head", Op::Linear(Linear::new(10)), [0.0; 2]);
        let o = d.add("output", Op::Output(OutputOp::default()), [0.0; 2]);
        for (x, y, p) in [
            (input, a, 0),
            (a, r, 0),
            (r, b, 0),
            (a, m, 0),
            (b, m, 1),
            (m, f, 0),
            (f, h, 0),
            (h, o, 0),
        ] {
            d.connect(x, y, p);
        }
        d.training.batch_size = 16;
        d.training.optimizer = Optimizer::Adam;
        d.training.learning_rate = 0.01;
        cases.push((merge, d));
    }
    cases.push(("squeeze_excitation_mul", squeeze_excitation()));
    cases.push(("convnext_block", convnext_block()));
    cases
}

/// ConvNeXt's block: 7×7 depthwise conv → LayerNorm over channels → 1×1 expand ×4 → GELU →
/// 1×1 back → layer scale, added to the block's input.
fn convnext_block() -> Design {
    let mut dw = Conv2d::new(4, 7);
    dw.padding = Pair::Same(3);
    dw.groups = 4;
    let ops = vec![
        ("dw", Op::Conv2d(dw)),
        ("norm", Op::LayerNorm(LayerNorm::default())),
        ("expand", conv(16, 1, 0)),
        ("gelu", act(ActivationFn::Gelu)),
        ("project", conv(4, 1, 0)),
        ("gamma", Op::LayerScale(LayerScale { init: 0.5 })),
    ];
    let mut d = Design::default();
    let input = d.add("input", Op::Input(InputOp::image(1, 28, 28)), [0.0; 2]);
    let stem = d.add("stem", conv(4, 3, 1), [0.0; 2]);
    d.connect(input, stem, 0);
    let mut last = stem;
    for (name, op) in ops {
        let id = d.add(name, op, [0.0; 2]);
        d.connect(last, id, 0);
        last = id;
    }
    let add = d.add("add", Op::Add(Merge {}), [0.0; 2]);
    d.connect(last, add, 0);
    d.connect(stem, add, 1);
    last = add;
    for (name, op) in [
        ("flatten", Op::Flatten(Flatten {})),
        ("head", Op::Linear(Linear::new(10))),
        ("output", Op::Output(OutputOp::default())),
    ] {
        let id = d.add(name, op, [0.0; 2]);
        d.connect(last, id, 0);
        last = id;
    }
    d.training.batch_size = 16;
    d.training.optimizer = Optimizer::Adam;
    d.training.learning_rate = 0.01;
    d
}

/// A squeeze-and-excitation gate: conv → (pool → 1×1 conv → hardsigmoid) → Mul with the conv's
/// map, the gate's C×1×1 broadcast over H×W.
fn squeeze_excitation() -> Design {
    let mut d = Design::default();
    let input = d.add("input", Op::Input(InputOp::image(1, 28, 28)), [0.0; 2]);
    let a = d.add("a", conv(4, 3, 1), [0.0; 2]);
    let pool = d.add(
        "squeeze",
        Op::AdaptiveAvgPool2d(AdaptivePool2d {
            output_size: Pair::Same(1),
        }),
        [0.0; 2],
    );
    let fc = d.add("excite", conv(4, 1, 0), [0.0; 2]);
    let gate = d.add("gate", act(ActivationFn::Hardsigmoid), [0.0; 2]);
    let m = d.add("scale", Op::Mul(Merge {}), [0.0; 2]);
    let f = d.add("flatten", Op::Flatten(Flatten {}), [0.0; 2]);
    let h = d.add("head", Op::Linear(Linear::new(10)), [0.0; 2]);
    let o = d.add("output", Op::Output(OutputOp::default()), [0.0; 2]);
    for (x, y, p) in [
        (input, a, 0),
        (a, pool, 0),
        (pool, fc, 0),
        (fc, gate, 0),
        (gate, m, 0),
        (a, m, 1),
        (m, f, 0),
        (f, h, 0),
        (h, o, 0),
    ] {
        d.connect(x, y, p);
    }
    d.training.batch_size = 16;
    d.training.optimizer = Optimizer::Adam;
    d.training.learning_rate = 0.01;
    d
}

/// A deterministic input batch for `shape`, with negative and positive values.
fn input_for(shape: &[u64], n: usize) -> NpyArray {
    let count = n * shape.iter().product::<u64>() as usize;
    let data = (0..count)
        .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 1.5)
        .collect();
    let mut dims = vec![n];
    dims.extend(shape.iter().map(|&d| d as usize));
    NpyArray { shape: dims, data }
}

struct Case {
    name: String,
    design: PathBuf,
    weights: PathBuf,
    input: PathBuf,
    ours: PathBuf,
    theirs: PathBuf,
}

/// Trains `design` for a few steps (so BatchNorm statistics are real), then runs forward.
fn prepare(dir: &Path, name: &str, design: &Path, data: &str, input_shape: &[u64]) -> Case {
    let run = dir.join(format!("{name}-run"));
    netloom_ok(&[
        "train",
        design.to_str().unwrap(),
        "--data",
        data,
        "--epochs",
        "1",
        "--max-steps",
        "4",
        "--out",
        run.to_str().unwrap(),
    ]);
    let weights = run.join("weights.safetensors");
    let input = dir.join(format!("{name}-x.npy"));
    npy::write(&input, &input_for(input_shape, 5)).unwrap();
    let ours = dir.join(format!("{name}-netloom.npy"));
    netloom_ok(&[
        "forward",
        design.to_str().unwrap(),
        "--weights",
        weights.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        ours.to_str().unwrap(),
    ]);
    let theirs = dir.join(format!("{name}-torch.npy"));
    Case {
        name: name.to_owned(),
        design: design.to_owned(),
        weights,
        input,
        ours,
        theirs,
    }
}

fn compare(dir: &Path, cases: &[Case]) {
    let manifest: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| serde_json::json!({"design": c.design, "weights": c.weights, "input": c.input, "output": c.theirs}))
        .collect();
    let path = dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_string(&manifest).unwrap()).unwrap();
    python(&reference("torch_reference.py"), &[path.to_str().unwrap()]);
    let mut failures = Vec::new();
    for c in cases {
        let (a, b) = (npy::read(&c.ours).unwrap(), npy::read(&c.theirs).unwrap());
        assert_eq!(a.shape, b.shape, "{}: output shapes differ", c.name);
        let scale = b.data.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        let worst = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(x, y)| (x - y).abs() / scale.max(y.abs()))
            .fold(0f32, f32::max);
        if worst.is_nan() || worst > 1e-5 {
            failures.push(format!("{}: relative difference {worst:e}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "netloom and PyTorch disagree:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_node_kind_matches_pytorch() {
    let dir = tempdir("equivalence-kinds");
    let mut cases = Vec::new();
    for (name, design) in every_kind() {
        assert!(
            analyse(&design).is_valid(),
            "{name}: {:?}",
            analyse(&design).problems
        );
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, to_json(&design)).unwrap();
        let vector = matches!(
            design.nodes[0].op,
            Op::Input(InputOp {
                features: Some(_),
                ..
            })
        );
        let (data, shape): (&str, &[u64]) = if vector {
            ("toy:spiral", &[2])
        } else {
            ("builtin:fashion-mnist", &[1, 28, 28])
        };
        cases.push(prepare(&dir, name, &path, data, shape));
    }
    compare(&dir, &cases);
}

#[test]
fn every_example_matches_pytorch() {
    let dir = tempdir("equivalence-examples");
    let cifar = dir.join("cifar");
    tiny_cifar(&cifar, 64, 20);
    let cifar_spec = format!("cifar10:{}", cifar.display());
    let mut cases = Vec::new();
    for (name, data, shape) in [
        (
            "lenet5",
            "builtin:fashion-mnist".to_owned(),
            vec![1, 28, 28],
        ),
        ("two_layer_mlp", "toy:spiral".to_owned(), vec![2]),
        ("vgg_small", cifar_spec.clone(), vec![3, 32, 32]),
        ("resnet_mini", cifar_spec.clone(), vec![3, 32, 32]),
    ] {
        let path = PathBuf::from(example_path(&format!("{name}.json")));
        cases.push(prepare(&dir, name, &path, &data, &shape));
    }
    compare(&dir, &cases);
}

#[test]
fn forward_refuses_an_input_of_the_wrong_shape() {
    let dir = tempdir("forward-bad-input");
    let run = dir.join("run");
    netloom_ok(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--max-steps",
        "1",
        "--out",
        run.to_str().unwrap(),
    ]);
    let x = dir.join("x.npy");
    npy::write(&x, &input_for(&[3], 2)).unwrap();
    let (code, _, err) = netloom(&[
        "forward",
        &example_path("two_layer_mlp.json"),
        "--weights",
        run.join("weights.safetensors").to_str().unwrap(),
        "--input",
        x.to_str().unwrap(),
        "--output",
        dir.join("y.npy").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("[2, 3]") && err.contains("[n, 2]"), "{err}");
}
