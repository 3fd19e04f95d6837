//! Shape inference against libtorch: for every node kind over a spread of parameters, and for
//! random chains and DAGs (proptest), netloom's inferred shapes are the ones libtorch produces.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;

use common::reference::{BATCH, torch_op, torch_results};
use netloom::design::*;
use proptest::prelude::*;
use tch::{Device, Kind, Tensor};

fn zeros(shape: &Shape) -> Tensor {
    let mut dims = vec![BATCH];
    dims.extend(shape.dims().iter().map(|&d| d as i64));
    Tensor::zeros(dims.as_slice(), (Kind::Float, Device::Cpu))
}

/// Ours vs libtorch for one op on one input shape. With `exact`, both must agree on whether
/// the op is valid; otherwise netloom may be stricter, but whatever it accepts, libtorch must.
fn compare(op: &Op, inputs: &[Shape], exact: bool) -> bool {
    let named: Vec<Incoming<'_>> = inputs.iter().map(|s| ("x", s)).collect();
    let ours = infer(op, &named);
    let tensors: Vec<Tensor> = inputs.iter().map(zeros).collect();
    let refs: Vec<&Tensor> = tensors.iter().collect();
    let theirs = torch_op(op, &refs, None).map(|t| t.size()[1..].to_vec());
    match (&ours, &theirs) {
        (Ok(c), Ok(t)) => {
            let ours: Vec<i64> = c.output.dims().iter().map(|&d| d as i64).collect();
            assert_eq!(&ours, t, "{op:?} on {inputs:?}");
        }
        (Ok(c), Err(e)) => panic!(
            "{op:?} on {inputs:?}: netloom infers {} but libtorch fails: {e}",
            c.output
        ),
        (Err(e), Ok(t)) if exact => {
            panic!("{op:?} on {inputs:?}: netloom rejects ({e}) but libtorch gives {t:?}")
        }
        _ => {}
    }
    ours.is_ok()
}

const SIZES: [u64; 6] = [1, 2, 3, 5, 8, 13];

#[test]
fn conv2d_matches_libtorch() {
    let mut accepted = 0;
    for &hw in &SIZES {
        for k in [1, 2, 3, 5] {
            for s in [1, 2, 3] {
                for p in [0, 1, 2] {
                    for d in [1, 2] {
                        for (cin, g) in [(4, 1), (4, 2), (4, 4), (3, 2)] {
                            let c = Conv2d {
                                out_channels: 4,
                                kernel_size: Pair::Same(k),
                                stride: Pair::Same(s),
                                padding: Pair::Same(p),
                                dilation: Pair::Same(d),
                                groups: g,
                                bias: g % 2 == 0,
                            };
                            accepted +=
                                compare(&Op::Conv2d(c), &[Shape::image(cin, hw, hw + 1)], true)
                                    as u32;
                        }
                    }
                }
            }
        }
    }
    // Rectangular kernels and strides given as [h, w].
    let mut c = Conv2d::new(3, 1);
    c.kernel_size = Pair::HW(3, 1);
    c.stride = Pair::HW(1, 2);
    c.padding = Pair::HW(0, 2);
    compare(&Op::Conv2d(c), &[Shape::image(2, 7, 9)], true);
    assert!(
        accepted > 500,
        "the spread should mostly be valid, got {accepted}"
    );
}

#[test]
fn pooling_matches_libtorch() {
    for &hw in &SIZES {
        for k in [1, 2, 3, 4] {
            for s in [None, Some(1), Some(2), Some(3)] {
                for p in [0, 1, 2] {
                    for ceil in [false, true] {
                        let pool = Pool2d {
                            kernel_size: Pair::Same(k),
                            stride: s.map(Pair::Same),
                            padding: Pair::Same(p),
                            ceil_mode: ceil,
                            count_include_pad: true,
                        };
                        let x = [Shape::image(2, hw, hw + 2)];
                        compare(&Op::MaxPool2d(pool.clone()), &x, true);
                        compare(&Op::AvgPool2d(pool), &x, true);
                    }
                }
            }
        }
    }
    for &hw in &SIZES {
        for o in [1, 2, 3, 7] {
            let op = Op::AdaptiveAvgPool2d(AdaptivePool2d {
                output_size: Pair::HW(o, o + 1),
            });
            compare(&op, &[Shape::image(3, hw, hw)], true);
        }
    }
}

#[test]
fn elementwise_kinds_match_libtorch() {
    let shapes = [Shape::image(3, 4, 5), Shape::vector(7)];
    for x in &shapes {
        let x = std::slice::from_ref(x);
        for f in ActivationFn::ALL {
            compare(&Op::Activation(Activation::new(f)), x, false);
        }
        for dim in [-2, -1, 1, 2, 3] {
            let mut a = Activation::new(ActivationFn::Softmax);
            a.dim = Some(dim);
            compare(&Op::Activation(a), x, false);
        }
        compare(&Op::BatchNorm(BatchNorm::default()), x, true);
        compare(
            &Op::BatchNorm(BatchNorm {
                affine: false,
                ..BatchNorm::default()
            }),
            x,
            true,
        );
        for affine in [true, false] {
            let ln = LayerNorm {
                eps: 1e-6,
                elementwise_affine: affine,
            };
            compare(&Op::LayerNorm(ln), x, true);
        }
        compare(&Op::LayerScale(LayerScale::default()), x, true);
        for p in [0.0, 0.3, 0.99] {
            compare(&Op::Dropout(Dropout { p }), x, true);
            compare(&Op::Dropout2d(Dropout { p }), x, false);
        }
        compare(&Op::Flatten(Flatten {}), x, true);
        compare(&Op::Output(OutputOp { loss: Loss::Mse }), x, true);
        compare(
            &Op::Output(OutputOp {
                loss: Loss::CrossEntropy,
            }),
            x,
            true,
        );
    }
}

#[test]
fn linear_and_merges_match_libtorch() {
    for fin in [1, 3, 16] {
        for out in [1, 10] {
            for bias in [true, false] {
                compare(
                    &Op::Linear(Linear {
                        out_features: out,
                        bias,
                    }),
                    &[Shape::vector(fin)],
                    true,
                );
            }
        }
    }
    let a = Shape::image(3, 4, 4);
    for b in [
        Shape::image(3, 4, 4),
        Shape::image(5, 4, 4),
        Shape::image(3, 2, 2),
    ] {
        compare(&Op::Add(Merge {}), &[a, b], false);
        compare(&Op::Concat(Merge {}), &[a, b, a], true);
    }
    // Mul broadcasts sizes of 1: the squeeze-and-excitation gate, both ways round.
    for (a, b) in [
        (Shape::image(3, 4, 4), Shape::image(3, 1, 1)),
        (Shape::image(3, 1, 1), Shape::image(3, 4, 4)),
        (Shape::image(3, 4, 1), Shape::image(1, 1, 5)),
        (Shape::image(3, 4, 4), Shape::image(2, 1, 1)),
        (Shape::image(3, 4, 4), Shape::vector(4)),
        (Shape::vector(4), Shape::vector(1)),
    ] {
        compare(&Op::Mul(Merge {}), &[a, b], false);
    }
    compare(
        &Op::Concat(Merge {}),
        &[Shape::vector(3), Shape::vector(4)],
        true,
    );
    compare(
        &Op::Add(Merge {}),
        &[Shape::vector(3), Shape::vector(3)],
        true,
    );
}

/// One randomly chosen layer; `from` picks which earlier node feeds it (as an offset back).
#[derive(Clone, Debug)]
enum Step {
    Layer(Op, usize),
    Merge(Op, usize, usize),
}

fn pair_strategy(lo: u64, hi: u64) -> impl Strategy<Value = Pair> {
    prop_oneof![
        (lo..=hi).prop_map(Pair::Same),
        (lo..=hi, lo..=hi).prop_map(|(h, w)| Pair::HW(h, w))
    ]
}

/// CropPad: each side padded or cropped by up to 3.
fn crop_pad_strategy() -> impl Strategy<Value = Op> {
    (-3i64..4, -3i64..4, -3i64..4, -3i64..4).prop_map(|(top, bottom, left, right)| {
        Op::CropPad(CropPad {
            top,
            bottom,
            left,
            right,
        })
    })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            1u64..6,
            pair_strategy(1, 4),
            pair_strategy(1, 3),
            pair_strategy(0, 2),
            pair_strategy(1, 2),
            1u64..3,
            any::<bool>()
        )
            .prop_map(|(o, k, s, p, d, g, bias)| Op::Conv2d(Conv2d {
                out_channels: o * g,
                kernel_size: k,
                stride: s,
                padding: p,
                dilation: d,
                groups: g,
                bias
            })),
        (
            pair_strategy(1, 3),
            proptest::option::of(pair_strategy(1, 3)),
            0u64..2,
            any::<bool>(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(k, s, p, ceil, max, count_pad)| {
                let pool = Pool2d {
                    kernel_size: k,
                    stride: s,
                    padding: Pair::Same(p),
                    ceil_mode: ceil,
                    count_include_pad: count_pad,
                };
                if max {
                    Op::MaxPool2d(pool)
                } else {
                    Op::AvgPool2d(pool)
                }
            }),
        (
            1u64..6,
            pair_strategy(1, 4),
            pair_strategy(1, 3),
            pair_strategy(0, 2),
            pair_strategy(0, 2),
            pair_strategy(1, 2),
            1u64..3,
            any::<bool>()
        )
            .prop_map(|(o, k, s, p, op, d, g, bias)| Op::ConvTranspose2d(
                ConvTranspose2d {
                    out_channels: o * g,
                    kernel_size: k,
                    stride: s,
                    padding: p,
                    output_padding: op,
                    dilation: d,
                    groups: g,
                    bias
                }
            )),
        (
            any::<bool>(),
            proptest::option::of(prop_oneof![Just(0.5), Just(1.5), Just(2.0), Just(3.0)]),
            pair_strategy(1, 9),
            any::<bool>()
        )
            .prop_map(|(bilinear, scale, size, corners)| Op::Upsample(Upsample {
                mode: if bilinear {
                    UpsampleMode::Bilinear
                } else {
                    UpsampleMode::Nearest
                },
                scale_factor: scale,
                size: scale.is_none().then_some(size),
                align_corners: bilinear && corners,
            })),
        crop_pad_strategy(),
        pair_strategy(1, 3).prop_map(|o| Op::AdaptiveAvgPool2d(AdaptivePool2d { output_size: o })),
        Just(Op::BatchNorm(BatchNorm::default())),
        Just(Op::LayerNorm(LayerNorm::default())),
        Just(Op::LayerScale(LayerScale::default())),
        (0.0f64..0.9).prop_map(|p| Op::Dropout(Dropout { p })),
        (0.0f64..0.9).prop_map(|p| Op::Dropout2d(Dropout { p })),
        proptest::sample::select(ActivationFn::ALL.to_vec())
            .prop_map(|f| Op::Activation(Activation::new(f))),
        Just(Op::Flatten(Flatten {})),
        (1u64..12, any::<bool>()).prop_map(|(o, bias)| Op::Linear(Linear {
            out_features: o,
            bias
        })),
    ]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (op_strategy(), prop_oneof![4 => Just(1usize), 1 => 1usize..4]).prop_map(|(op, b)| Step::Layer(op, b)),
        1 => (0..3u8, 1usize..4, 1usize..4).prop_map(|(kind, a, b)| {
            let op = match kind {
                0 => Op::Add(Merge {}),
                1 => Op::Concat(Merge {}),
                _ => Op::Mul(Merge {}),
            };
            Step::Merge(op, a, b)
        }),
    ]
}

fn input_strategy() -> impl Strategy<Value = InputOp> {
    prop_oneof![
        3 => (1u64..4, 1u64..20, 1u64..20).prop_map(|(c, h, w)| InputOp::image(c, h, w)),
        1 => (1u64..20).prop_map(InputOp::vector),
    ]
}

fn build(input: InputOp, steps: &[Step], mse: bool) -> Design {
    let mut d = Design::default();
    let mut ids = vec![d.add("input", Op::Input(input), [0.0, 0.0])];
    let back = |ids: &Vec<NodeId>, b: usize| ids[ids.len().saturating_sub(b).min(ids.len() - 1)];
    for (i, step) in steps.iter().enumerate() {
        let name = format!("n{i}");
        let id = match step {
            Step::Layer(op, b) => {
                let src = back(&ids, *b);
                let id = d.add(name, op.clone(), [0.0, 0.0]);
                d.connect(src, id, 0);
                id
            }
            Step::Merge(op, a, b) => {
                let (sa, sb) = (back(&ids, *a), back(&ids, *b));
                let id = d.add(name, op.clone(), [0.0, 0.0]);
                d.connect(sa, id, 0);
                if sb != sa {
                    d.connect(sb, id, 1);
                }
                id
            }
        };
        ids.push(id);
    }
    let loss = if mse { Loss::Mse } else { Loss::CrossEntropy };
    let out = d.add("output", Op::Output(OutputOp { loss }), [0.0, 0.0]);
    d.connect(*ids.last().unwrap(), out, 0);
    d
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Every shape netloom infers is the shape libtorch produces; a design netloom calls valid
    /// runs in libtorch end to end; anything libtorch rejects, netloom has reported.
    #[test]
    fn random_dags_agree_with_libtorch(input in input_strategy(), steps in prop::collection::vec(step_strategy(), 1..9), mse in any::<bool>()) {
        let design = build(input, &steps, mse);
        let analysis = analyse(&design);
        let torch = torch_results(&design, None);
        for r in &analysis.nodes {
            if let Some(shape) = &r.output {
                let ours: Vec<i64> = shape.dims().iter().map(|&d| d as i64).collect();
                match torch.get(&r.id) {
                    Some(Ok(t)) => prop_assert_eq!(&ours, t, "node {} ({})", r.name, r.kind),
                    other => prop_assert!(false, "netloom infers {} for {} but libtorch gives {:?}", shape, r.name, other),
                }
            }
        }
        if analysis.is_valid() {
            prop_assert!(analysis.nodes.iter().all(|r| r.output.is_some()));
        }
        if torch.values().any(|r| r.is_err()) {
            prop_assert!(!analysis.is_valid(), "libtorch fails but netloom reports no problem");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Arbitrary wiring (cycles, missing nodes, duplicate ports, any ids) never panics.
    #[test]
    fn arbitrary_graphs_never_panic(
        ops in prop::collection::vec(prop_oneof![input_strategy().prop_map(Op::Input), op_strategy(), Just(Op::Add(Merge {})), Just(Op::Output(OutputOp::default()))], 0..12),
        edges in prop::collection::vec((0u64..14, 0u64..14, 0u32..3), 0..24),
        names in prop::collection::vec("[a-c]{0,2}", 12),
    ) {
        let mut d = Design::default();
        for (i, op) in ops.into_iter().enumerate() {
            d.nodes.push(Node { id: NodeId(i as u64 % 10), name: names[i].clone(), op, pos: [0.0, 0.0], frozen: false, lr_mult: None });
        }
        for (from, to, port) in edges {
            d.edges.push(Edge { from: NodeId(from), to: NodeId(to), port });
        }
        let a = analyse(&d);
        prop_assert_eq!(a.nodes.len(), d.nodes.len());
        if !d.nodes.is_empty() && a.is_valid() {
            prop_assert!(a.nodes.iter().all(|r| r.output.is_some()));
        }
        // Writing and reading back any such design keeps it.
        let again = from_json(&to_json(&d)).unwrap();
        prop_assert_eq!(to_json(&again), to_json(&d));
    }
}
