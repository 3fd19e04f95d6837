//! The libtorch reference for the design tests: runs a design's ops with tch, independently of
//! netloom's own shape inference, and builds its layers to count their parameters.
#![allow(clippy::too_many_lines)] // test scenarios and reference tables read top to bottom
#![allow(clippy::unwrap_used)]

use netloom::design::*;
use std::collections::HashMap;
use tch::{Device, Kind, Tensor, nn};

fn pair(p: Pair) -> [i64; 2] {
    [p.h() as i64, p.w() as i64]
}

/// The batch size used for reference runs.
pub const BATCH: i64 = 2;

/// Runs one op in libtorch. `vs` is given when the layer's parameters should be created as
/// real tch modules (for counting); otherwise weights are plain zero tensors.
pub fn torch_op(op: &Op, xs: &[&Tensor], vs: Option<&nn::Path>) -> Result<Tensor, String> {
    let err = |e: tch::TchError| e.to_string();
    let x = || xs.first().copied().ok_or_else(|| "no input".to_owned());
    match op {
        Op::Input(i) => {
            let dims: Vec<i64> = match (i.channels, i.height, i.width, i.features) {
                (Some(c), Some(h), Some(w), None) => vec![BATCH, c as i64, h as i64, w as i64],
                (None, None, None, Some(f)) => vec![BATCH, f as i64],
                _ => return Err("bad input".into()),
            };
            Tensor::f_zeros(dims.as_slice(), (Kind::Float, Device::Cpu)).map_err(err)
        }
        Op::Conv2d(c) => {
            let x = x()?;
            let size = x.size();
            if size.len() != 4 {
                return Err("conv2d needs 4-d".into());
            }
            let cin = size[1];
            if let Some(vs) = vs {
                let cfg = nn::ConvConfigND::<[i64; 2]> {
                    stride: pair(c.stride),
                    padding: pair(c.padding),
                    dilation: pair(c.dilation),
                    groups: c.groups as i64,
                    bias: c.bias,
                    ..Default::default()
                };
                let conv = nn::conv(vs, cin, c.out_channels as i64, pair(c.kernel_size), cfg);
                return Ok(x.apply(&conv));
            }
            let [kh, kw] = pair(c.kernel_size);
            let w = Tensor::f_zeros(
                [
                    c.out_channels as i64,
                    cin / (c.groups as i64).max(1),
                    kh,
                    kw,
                ],
                (Kind::Float, Device::Cpu),
            )
            .map_err(err)?;
            let b = c
                .bias
                .then(|| Tensor::zeros([c.out_channels as i64], (Kind::Float, Device::Cpu)));
            x.f_conv2d(
                &w,
                b.as_ref(),
                pair(c.stride),
                pair(c.padding),
                pair(c.dilation),
                c.groups as i64,
            )
            .map_err(err)
        }
        Op::ConvTranspose2d(c) => {
            let x = x()?;
            let size = x.size();
            if size.len() != 4 {
                return Err("conv_transpose2d needs 4-d".into());
            }
            let (cin, g) = (size[1], (c.groups as i64).max(1));
            let [kh, kw] = pair(c.kernel_size);
            let shape = [cin, c.out_channels as i64 / g, kh, kw];
            let (w, b) = match vs {
                Some(vs) => (
                    vs.var("weight", &shape, nn::Init::Const(0.0)),
                    c.bias
                        .then(|| vs.var("bias", &[c.out_channels as i64], nn::Init::Const(0.0))),
                ),
                None => (
                    Tensor::f_zeros(shape, (Kind::Float, Device::Cpu)).map_err(err)?,
                    c.bias.then(|| {
                        Tensor::zeros([c.out_channels as i64], (Kind::Float, Device::Cpu))
                    }),
                ),
            };
            x.f_conv_transpose2d(
                &w,
                b.as_ref(),
                pair(c.stride),
                pair(c.padding),
                pair(c.output_padding),
                g,
                pair(c.dilation),
            )
            .map_err(err)
        }
        Op::Upsample(u) => {
            let x = x()?;
            let size = x.size();
            if size.len() != 4 {
                return Err("upsample needs 4-d".into());
            }
            // As torch.nn.functional.interpolate: floor(size · scale), the scale passed on.
            let (out, scale) = match (u.scale_factor, u.size) {
                (Some(s), None) => (
                    [
                        (size[2] as f64 * s).floor() as i64,
                        (size[3] as f64 * s).floor() as i64,
                    ],
                    Some(s),
                ),
                (None, Some(p)) => ([p.h() as i64, p.w() as i64], None),
                _ => return Err("upsample needs a scale or a size".into()),
            };
            match u.mode {
                UpsampleMode::Nearest if !u.align_corners => {
                    x.f_upsample_nearest2d(out, scale, scale).map_err(err)
                }
                UpsampleMode::Nearest => Err("align_corners with nearest".into()),
                UpsampleMode::Bilinear => x
                    .f_upsample_bilinear2d(out, u.align_corners, scale, scale)
                    .map_err(err),
            }
        }
        Op::CropPad(p) => x()?
            .f_constant_pad_nd([p.left, p.right, p.top, p.bottom])
            .map_err(err),
        Op::MaxPool2d(p) => x()?
            .f_max_pool2d(
                pair(p.kernel_size),
                pair(p.effective_stride()),
                pair(p.padding),
                [1, 1],
                p.ceil_mode,
            )
            .map_err(err),
        Op::AvgPool2d(p) => x()?
            .f_avg_pool2d(
                pair(p.kernel_size),
                pair(p.effective_stride()),
                pair(p.padding),
                p.ceil_mode,
                true,
                None,
            )
            .map_err(err),
        Op::AdaptiveAvgPool2d(p) => {
            let x = x()?;
            if x.dim() != 4 {
                return Err("adaptive pool needs 4-d".into());
            }
            x.f_adaptive_avg_pool2d(pair(p.output_size)).map_err(err)
        }
        Op::BatchNorm(b) => {
            let x = x()?;
            let c = *x.size().get(1).ok_or("bn needs ≥2-d")?;
            if let Some(vs) = vs {
                let cfg = nn::BatchNormConfig {
                    eps: b.eps,
                    momentum: b.momentum,
                    affine: b.affine,
                    ..Default::default()
                };
                let bn = if x.dim() == 4 {
                    nn::batch_norm2d(vs, c, cfg)
                } else {
                    nn::batch_norm1d(vs, c, cfg)
                };
                return Ok(x.apply_t(&bn, false));
            }
            let opts = (Kind::Float, Device::Cpu);
            let (w, bias) = (Tensor::ones([c], opts), Tensor::zeros([c], opts));
            let (m, v) = (Tensor::zeros([c], opts), Tensor::ones([c], opts));
            x.f_batch_norm(
                Some(&w),
                Some(&bias),
                Some(&m),
                Some(&v),
                false,
                b.momentum,
                b.eps,
                false,
            )
            .map_err(err)
        }
        Op::LayerNorm(l) => {
            let x = x()?;
            let c = *x.size().get(1).ok_or("layer norm needs ≥2-d")?;
            if x.dim() != 4 && x.dim() != 2 {
                return Err("layer norm needs an image or a vector".into());
            }
            // Channels last, normalised over them, back: torchvision's LayerNorm2d.
            let last = |x: &Tensor, f: &dyn Fn(&Tensor) -> Tensor| {
                if x.dim() == 4 {
                    f(&x.permute([0, 2, 3, 1])).permute([0, 3, 1, 2])
                } else {
                    f(x)
                }
            };
            if let Some(vs) = vs {
                let cfg = nn::LayerNormConfig {
                    eps: l.eps,
                    elementwise_affine: l.elementwise_affine,
                    ..Default::default()
                };
                let ln = nn::layer_norm(vs, vec![c], cfg);
                return Ok(last(x, &|t| t.apply(&ln)));
            }
            Ok(last(x, &|t| {
                t.layer_norm([c], None::<&Tensor>, None::<&Tensor>, l.eps, false)
            }))
        }
        Op::LayerScale(l) => {
            let x = x()?;
            let c = *x.size().get(1).ok_or("layer scale needs ≥2-d")?;
            let shape: Vec<i64> = match x.dim() {
                4 => vec![c, 1, 1],
                2 => vec![c],
                _ => return Err("layer scale needs an image or a vector".into()),
            };
            let gamma = match vs {
                Some(vs) => vs.var("layer_scale", &shape, nn::Init::Const(l.init)),
                None => Tensor::full(shape.as_slice(), l.init, (Kind::Float, Device::Cpu)),
            };
            x.f_mul(&gamma).map_err(err)
        }
        Op::Dropout(d) => x()?.f_dropout(d.p, true).map_err(err),
        Op::Dropout2d(d) => x()?.f_feature_dropout(d.p, true).map_err(err),
        Op::Activation(a) => {
            let x = x()?;
            match a.function {
                ActivationFn::Relu => x.f_relu(),
                ActivationFn::LeakyRelu => x.f_leaky_relu(),
                ActivationFn::Elu => x.f_elu(),
                ActivationFn::Selu => x.f_selu(),
                ActivationFn::Gelu => x.f_gelu("none"),
                ActivationFn::Sigmoid => x.f_sigmoid(),
                ActivationFn::Tanh => x.f_tanh(),
                ActivationFn::Silu => x.f_silu(),
                ActivationFn::Softmax => x.f_softmax(a.dim(), Kind::Float),
                ActivationFn::Relu6 => x.f_relu6(),
                ActivationFn::Hardtanh => {
                    let (lo, hi) = a.bounds();
                    x.f_clamp(lo, hi)
                }
                ActivationFn::Hardsigmoid => x.f_hardsigmoid(),
                ActivationFn::Hardswish => x.f_hardswish(),
            }
            .map_err(err)
        }
        Op::Flatten(_) => x()?.f_flatten(1, -1).map_err(err),
        Op::Linear(l) => {
            let x = x()?;
            let fin = *x.size().last().ok_or("linear needs ≥1-d")?;
            if let Some(vs) = vs {
                let cfg = nn::LinearConfig {
                    bias: l.bias,
                    ..Default::default()
                };
                let lin = nn::linear(vs, fin, l.out_features as i64, cfg);
                return Ok(x.apply(&lin));
            }
            let w = Tensor::f_zeros([l.out_features as i64, fin], (Kind::Float, Device::Cpu))
                .map_err(err)?;
            let b = l
                .bias
                .then(|| Tensor::zeros([l.out_features as i64], (Kind::Float, Device::Cpu)));
            x.f_linear(&w, b.as_ref()).map_err(err)
        }
        Op::Add(_) => {
            let mut acc = x()?.shallow_clone();
            for t in &xs[1..] {
                acc = acc.f_add(t).map_err(err)?;
            }
            Ok(acc)
        }
        Op::Concat(_) => Tensor::f_cat(xs, 1).map_err(err),
        Op::Mul(_) => {
            // Batched tensors broadcast across ranks with the batch out of line; netloom
            // asks for one rank, and so does the reference.
            let rank = x()?.dim();
            if xs.iter().any(|t| t.dim() != rank) {
                return Err("mul of different ranks".into());
            }
            let mut acc = x()?.shallow_clone();
            for t in &xs[1..] {
                acc = acc.f_mul(t).map_err(err)?;
            }
            Ok(acc)
        }
        Op::Output(o) => {
            let x = x()?;
            if o.loss == Loss::CrossEntropy {
                // A class per sample, or for scores at every pixel a class per pixel.
                let mut dims = x.size();
                dims.remove(1);
                let targets = Tensor::zeros(dims.as_slice(), (Kind::Int64, Device::Cpu));
                let _loss = x
                    .f_cross_entropy_loss::<Tensor>(&targets, None, tch::Reduction::Mean, -100, 0.0)
                    .map_err(err)?;
            }
            Ok(x.shallow_clone())
        }
    }
}

/// Each node's libtorch result, computed in an order found here (not netloom's): a node runs
/// once all its inputs have run. Nodes whose inputs failed or never ran are absent.
pub fn torch_results(
    design: &Design,
    vs: Option<&nn::Path>,
) -> HashMap<NodeId, Result<Vec<i64>, String>> {
    let mut tensors: HashMap<NodeId, Tensor> = HashMap::new();
    let mut results = HashMap::new();
    let mut progress = true;
    while progress {
        progress = false;
        for node in &design.nodes {
            if results.contains_key(&node.id) {
                continue;
            }
            let mut ins: Vec<&Edge> = design.edges.iter().filter(|e| e.to == node.id).collect();
            ins.sort_by_key(|e| e.port);
            if !ins.iter().all(|e| tensors.contains_key(&e.from)) {
                continue;
            }
            let xs: Vec<&Tensor> = ins.iter().map(|e| &tensors[&e.from]).collect();
            let path = vs.map(|vs| vs / node.name.as_str());
            let r = torch_op(&node.op, &xs, path.as_ref());
            progress = true;
            match r {
                Ok(t) => {
                    let mut size = t.size();
                    size.remove(0); // the batch
                    results.insert(node.id, Ok(size));
                    tensors.insert(node.id, t);
                }
                Err(e) => {
                    results.insert(node.id, Err(e));
                }
            }
        }
        // Nodes with a failed input never run; stop when nothing changes.
        if results.len() == design.nodes.len() {
            break;
        }
    }
    results
}

/// Loads one of the bundled examples.
/// A straight chain: an input, then each `(name, op)` wired to the one before it.
pub fn chain(input: InputOp, ops: Vec<(&str, Op)>) -> Design {
    let mut d = Design::default();
    let mut prev = d.add("input", Op::Input(input), [0.0, 0.0]);
    for (name, op) in ops {
        let id = d.add(name, op, [0.0, 0.0]);
        d.connect(prev, id, 0);
        prev = id;
    }
    d
}

/// An example design, parsed (`run::example_path` gives its path instead).
pub fn example(name: &str) -> Design {
    let (_, text) = netloom::examples::EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .expect("example exists");
    from_json(text).expect("example parses")
}
