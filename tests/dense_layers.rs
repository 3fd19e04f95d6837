//! The blocks of dense prediction against torch.nn, forward and backward: netloom's
//! ConvTranspose2d over a sweep of its settings gives torch's output and torch's gradients
//! with respect to its input, weight and bias (within 1e-5 relative), from the same weights.
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use netloom::design::*;
use netloom::engine::Network;
use netloom::engine::npy::{self, NpyArray};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// One setting of the sweep: (channels in, size in, the layer).
fn sweep() -> Vec<(u64, (u64, u64), ConvTranspose2d)> {
    let mut cases = Vec::new();
    for (k, s, p, op, d, g, bias) in [
        (2, 2, 0, 0, 1, 1, true),
        (3, 2, 1, 1, 1, 1, true),
        (4, 2, 1, 0, 1, 1, false),
        (3, 1, 1, 0, 1, 1, true),
        (3, 3, 0, 2, 1, 1, true),
        (3, 2, 2, 1, 2, 1, true),
        (5, 3, 2, 0, 1, 2, true),
        (3, 2, 1, 1, 1, 4, false),
        (1, 2, 0, 1, 1, 1, true),
        (4, 4, 0, 0, 1, 1, true),
    ] {
        let mut c = ConvTranspose2d::new(8, k, s);
        c.padding = Pair::Same(p);
        c.output_padding = Pair::Same(op);
        c.dilation = Pair::Same(d);
        c.groups = g;
        c.bias = bias;
        cases.push((4, (5, 6), c));
    }
    // Different settings in height and width.
    let mut c = ConvTranspose2d::new(6, 3, 1);
    c.kernel_size = Pair::HW(3, 2);
    c.stride = Pair::HW(2, 3);
    c.padding = Pair::HW(1, 0);
    c.output_padding = Pair::HW(1, 2);
    c.dilation = Pair::HW(1, 2);
    cases.push((3, (4, 7), c));
    cases
}

fn array(t: &Tensor) -> NpyArray {
    let t = t.to_kind(Kind::Float).contiguous();
    NpyArray {
        shape: t.size().iter().map(|&d| d as usize).collect(),
        data: Vec::<f32>::try_from(t.flatten(0, -1)).unwrap(),
    }
}

fn worst(ours: &Tensor, theirs: &Path) -> f32 {
    let (a, b) = (array(ours), npy::read(theirs).unwrap());
    assert_eq!(a.shape, b.shape, "{theirs:?}");
    let scale = b.data.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs() / scale)
        .fold(0f32, f32::max)
}

#[test]
fn conv_transpose2d_matches_torch_forward_and_backward_over_a_sweep() {
    let dir = tempdir("dense-conv-transpose");
    let mut manifest = Vec::new();
    let mut ours = Vec::new();
    for (i, (cin, (h, w), c)) in sweep().into_iter().enumerate() {
        let design = common::reference::chain(
            InputOp::image(cin, h, w),
            vec![
                ("up", Op::ConvTranspose2d(c.clone())),
                ("output", Op::Output(OutputOp { loss: Loss::Mse })),
            ],
        );
        let a = analyse(&design);
        assert!(a.is_valid(), "case {i}: {:?}", a.problems);
        let net = Network::compile(&design, Device::Cpu).unwrap();
        let x = Tensor::randn(
            [3, cin as i64, h as i64, w as i64],
            (Kind::Float, Device::Cpu),
        )
        .set_requires_grad(true);
        let y = net.forward(&x, true, None).unwrap();
        // netloom's own shape inference agrees with what libtorch computed.
        let inferred = a
            .nodes
            .iter()
            .find(|n| n.name == "up")
            .unwrap()
            .output
            .unwrap();
        let dims: Vec<i64> = inferred.dims().iter().map(|&d| d as i64).collect();
        assert_eq!(&y.size()[1..], dims.as_slice(), "case {i}");
        let r = Tensor::randn(y.size().as_slice(), (Kind::Float, Device::Cpu));
        (&y * &r).sum(Kind::Float).backward();
        let f = |n: &str| dir.join(format!("{i}_{n}"));
        netloom::engine::save_weights(&net.params, &f("w.safetensors")).unwrap();
        npy::write(&f("x.npy"), &array(&x.detach())).unwrap();
        npy::write(&f("r.npy"), &array(&r)).unwrap();
        let grad = |name: &str| net.params.by_name(name).map(|p| p.tensor.grad());
        ours.push((
            i,
            y.detach(),
            x.grad(),
            grad("up.weight").unwrap(),
            grad("up.bias"),
        ));
        let v = |p: Pair| [p.h(), p.w()];
        manifest.push(serde_json::json!({
            "settings": {
                "out_channels": c.out_channels, "stride": v(c.stride), "padding": v(c.padding),
                "output_padding": v(c.output_padding), "dilation": v(c.dilation),
                "groups": c.groups, "bias": c.bias,
            },
            "weights": f("w.safetensors"), "x": f("x.npy"), "r": f("r.npy"),
            "y": f("ty.npy"), "gx": f("tgx.npy"), "gw": f("tgw.npy"), "gb": f("tgb.npy"),
        }));
    }
    let path = dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_string(&manifest).unwrap()).unwrap();
    python(&reference("dense_reference.py"), &[path.to_str().unwrap()]);
    let mut failures = Vec::new();
    for (i, y, gx, gw, gb) in ours {
        let f = |n: &str| dir.join(format!("{i}_{n}"));
        let mut checks = vec![
            ("y", worst(&y, &f("ty.npy"))),
            ("dx", worst(&gx, &f("tgx.npy"))),
            ("dw", worst(&gw, &f("tgw.npy"))),
        ];
        if let Some(gb) = gb {
            checks.push(("db", worst(&gb, &f("tgb.npy"))));
        }
        for (what, err) in checks {
            if err.is_nan() || err > 1e-5 {
                failures.push(format!("case {i} {what}: relative error {err:e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_transposed_convolution_that_cannot_be_is_refused_saying_why() {
    let shape = Shape::image(4, 5, 5);
    let refused = |c: ConvTranspose2d| {
        infer(&Op::ConvTranspose2d(c), &[("x", &shape)])
            .unwrap_err()
            .0
    };
    let mut c = ConvTranspose2d::new(8, 3, 2);
    c.output_padding = Pair::Same(2);
    assert!(refused(c).contains("output_padding 2 (in height) must be smaller than the stride 2"));
    let mut c = ConvTranspose2d::new(8, 3, 1);
    c.padding = Pair::Same(7);
    assert!(refused(c).contains("removes the whole"));
    let mut c = ConvTranspose2d::new(6, 3, 1);
    c.groups = 4;
    assert!(
        refused(c)
            .contains("groups 4 must divide both its 4 input channels and its 6 out_channels")
    );
    let ok = infer(
        &Op::ConvTranspose2d(ConvTranspose2d::new(8, 2, 2)),
        &[("x", &shape)],
    )
    .unwrap();
    assert_eq!(ok.output, Shape::image(8, 10, 10));
    // in × out × k² weights plus a bias per output channel.
    assert_eq!(ok.params, 4 * 8 * 4 + 8);
}
