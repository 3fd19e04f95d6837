//! The blocks of dense prediction against torch.nn, forward and backward: netloom's
//! ConvTranspose2d and Upsample over sweeps of their settings give torch's output and torch's
//! gradients with respect to the input (and the weight and bias), within 1e-5 relative, from
//! the same weights.
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
            "kind": "conv_transpose2d",
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

/// Upsample's settings: nearest and bilinear (both corner rules), by integer and fractional
/// scales and to sizes, also shrinking.
fn upsample_sweep() -> Vec<Upsample> {
    let mut cases = Vec::new();
    for mode in [UpsampleMode::Nearest, UpsampleMode::Bilinear] {
        for scale in [2.0, 3.0, 1.5, 0.5] {
            cases.push(Upsample::scale(mode, scale));
        }
        for size in [Pair::HW(11, 7), Pair::HW(3, 4)] {
            cases.push(Upsample {
                mode,
                scale_factor: None,
                size: Some(size),
                align_corners: false,
            });
        }
    }
    for scale in [Some(2.0), None] {
        cases.push(Upsample {
            mode: UpsampleMode::Bilinear,
            scale_factor: scale,
            size: scale.is_none().then_some(Pair::HW(9, 13)),
            align_corners: true,
        });
    }
    cases
}

#[test]
fn upsample_matches_torch_forward_and_backward_over_a_sweep() {
    let dir = tempdir("dense-upsample");
    let (mut manifest, mut ours) = (Vec::new(), Vec::new());
    for (i, u) in upsample_sweep().into_iter().enumerate() {
        let design = common::reference::chain(
            InputOp::image(3, 5, 6),
            vec![
                ("up", Op::Upsample(u.clone())),
                ("output", Op::Output(OutputOp { loss: Loss::Mse })),
            ],
        );
        let a = analyse(&design);
        assert!(a.is_valid(), "case {i}: {:?}", a.problems);
        let net = Network::compile(&design, Device::Cpu).unwrap();
        let x = Tensor::randn([2, 3, 5, 6], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let y = net.forward(&x, true, None).unwrap();
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
        npy::write(&f("x.npy"), &array(&x.detach())).unwrap();
        npy::write(&f("r.npy"), &array(&r)).unwrap();
        ours.push((i, y.detach(), x.grad()));
        let mode = match u.mode {
            UpsampleMode::Nearest => "nearest",
            UpsampleMode::Bilinear => "bilinear",
        };
        manifest.push(serde_json::json!({
            "kind": "upsample",
            "settings": {
                "mode": mode, "scale_factor": u.scale_factor,
                "size": u.size.map(|p| [p.h(), p.w()]), "align_corners": u.align_corners,
            },
            "x": f("x.npy"), "r": f("r.npy"), "y": f("ty.npy"), "gx": f("tgx.npy"),
        }));
    }
    let path = dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_string(&manifest).unwrap()).unwrap();
    python(&reference("dense_reference.py"), &[path.to_str().unwrap()]);
    let mut failures = Vec::new();
    for (i, y, gx) in ours {
        let f = |n: &str| dir.join(format!("{i}_{n}"));
        for (what, err) in [
            ("y", worst(&y, &f("ty.npy"))),
            ("dx", worst(&gx, &f("tgx.npy"))),
        ] {
            if err.is_nan() || err > 1e-5 {
                failures.push(format!("case {i} {what}: relative error {err:e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_upsample_that_cannot_be_is_refused_saying_why() {
    let shape = Shape::image(3, 4, 4);
    let refused = |u: Upsample| infer(&Op::Upsample(u), &[("x", &shape)]).unwrap_err().0;
    let mut u = Upsample::scale(UpsampleMode::Nearest, 2.0);
    u.size = Some(Pair::Same(8));
    assert!(refused(u).contains("has both scale_factor and size: keep one"));
    let mut u = Upsample::scale(UpsampleMode::Nearest, 2.0);
    u.align_corners = true;
    assert!(refused(u).contains("align_corners only applies to bilinear"));
    assert!(
        refused(Upsample::scale(UpsampleMode::Bilinear, 0.1))
            .contains("gives no output from a 4×4 image")
    );
    assert!(refused(Upsample::scale(UpsampleMode::Bilinear, -2.0)).contains("scale_factor is -2"));
}

#[test]
fn crop_pad_matches_torch_zero_pad2d_forward_and_backward() {
    let dir = tempdir("dense-croppad");
    let sides = [
        [0, -1, 0, -1],
        [1, 1, 1, 1],
        [-2, 0, 3, -1],
        [2, -3, -1, 4],
        [0, 0, 0, 0],
    ];
    let (mut manifest, mut ours) = (Vec::new(), Vec::new());
    for (i, [top, bottom, left, right]) in sides.into_iter().enumerate() {
        let p = CropPad {
            top,
            bottom,
            left,
            right,
        };
        let design = common::reference::chain(
            InputOp::image(3, 7, 6),
            vec![
                ("crop", Op::CropPad(p)),
                ("output", Op::Output(OutputOp { loss: Loss::Mse })),
            ],
        );
        let a = analyse(&design);
        assert!(a.is_valid(), "case {i}: {:?}", a.problems);
        let net = Network::compile(&design, Device::Cpu).unwrap();
        let x = Tensor::randn([2, 3, 7, 6], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let y = net.forward(&x, true, None).unwrap();
        let inferred = a
            .nodes
            .iter()
            .find(|n| n.name == "crop")
            .unwrap()
            .output
            .unwrap();
        let dims: Vec<i64> = inferred.dims().iter().map(|&d| d as i64).collect();
        assert_eq!(&y.size()[1..], dims.as_slice(), "case {i}");
        let r = Tensor::randn(y.size().as_slice(), (Kind::Float, Device::Cpu));
        (&y * &r).sum(Kind::Float).backward();
        let f = |n: &str| dir.join(format!("{i}_{n}"));
        npy::write(&f("x.npy"), &array(&x.detach())).unwrap();
        npy::write(&f("r.npy"), &array(&r)).unwrap();
        ours.push((i, y.detach(), x.grad()));
        manifest.push(serde_json::json!({
            "kind": "croppad",
            "settings": {"top": top, "bottom": bottom, "left": left, "right": right},
            "x": f("x.npy"), "r": f("r.npy"), "y": f("ty.npy"), "gx": f("tgx.npy"),
        }));
    }
    let path = dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_string(&manifest).unwrap()).unwrap();
    python(&reference("dense_reference.py"), &[path.to_str().unwrap()]);
    for (i, y, gx) in ours {
        let f = |n: &str| dir.join(format!("{i}_{n}"));
        assert!(worst(&y, &f("ty.npy")) <= 1e-6, "case {i} y");
        assert!(worst(&gx, &f("tgx.npy")) <= 1e-6, "case {i} dx");
    }
    // Cropping everything away is refused.
    let refused = infer(
        &Op::CropPad(CropPad {
            top: -4,
            bottom: -3,
            left: 0,
            right: 0,
        }),
        &[("x", &Shape::image(3, 7, 6))],
    )
    .unwrap_err()
    .0;
    assert!(
        refused.contains("crops a 7×6 image to 0×6 before padding it"),
        "{refused}"
    );
}
