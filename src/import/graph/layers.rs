//! Each supported ONNX op as a netloom block.

use super::attrs::*;
use super::{Reader, Value};
use crate::design::{
    Activation, ActivationFn, BatchNorm, Conv2d, CropPad, Linear, Merge, Op, Pair, Pool2d,
};
use crate::import::ImportError;
use crate::import::tensors::{Array, Values};
use crate::onnx_proto::NodeProto;

impl Reader<'_> {
    /// A convolution's input, and the zero padding a Pad before it adds (height, width).
    fn padded_input(
        &self,
        n: &NodeProto,
    ) -> Result<(crate::design::NodeId, [u64; 2]), ImportError> {
        if let Value::Padded(x, p) = self.input(n, 0)? {
            return Ok((*x, *p));
        }
        Ok((self.node_input(n, 0)?.0, [0, 0]))
    }

    /// `Pad` with zeros, the same on both sides of height and of width (`F.pad(x, (1, 1, 1,
    /// 1))`): kept to fold into the convolution that reads it.
    pub(super) fn pad(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank) = self.node_input(n, 0)?;
        if let Some(mode) = attr_string(n, "mode").filter(|m| !m.is_empty() && m != "constant") {
            return Err(Self::malformed(
                n,
                format!("pads in {mode} mode; netloom's convolutions pad with zeros"),
            ));
        }
        let pads = match attr_ints(n, "pads") {
            Some(p) => p,
            None => self
                .constant(n, 1)?
                .map(|(_, a)| a.ints())
                .unwrap_or_default(),
        };
        let value = self
            .constant(n, 2)?
            .and_then(|(_, a)| a.scalar())
            .unwrap_or(0.0);
        match pads.as_slice() {
            // ONNX: all begins, then all ends, for N, C, H, W.
            [0, 0, t, l, 0, 0, b, r]
                if rank == 4 && value == 0.0 && t == b && l == r && *t >= 0 && *l >= 0 =>
            {
                if let Some(out) = n.output.first() {
                    self.values
                        .insert(out.clone(), Value::Padded(x, [*t as u64, *l as u64]));
                }
                self.report
                    .note_folded("Pad (into the convolution after it)");
                Ok(())
            }
            // Unequal sides, or negative (cropping): a CropPad block of its own.
            [0, 0, t, l, 0, 0, b, r] if rank == 4 && value == 0.0 => {
                let op = Op::CropPad(CropPad {
                    top: *t,
                    bottom: *b,
                    left: *l,
                    right: *r,
                });
                self.add_node(n, op, &[x], rank, None);
                Ok(())
            }
            _ => Err(Self::malformed(
                n,
                format!(
                    "pads {pads:?} with {value}; netloom reads a Pad that adds zeros to (or crops) the height and width of an image, not other values or axes"
                ),
            )),
        }
    }

    pub(super) fn conv(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, extra) = self.padded_input(n)?;
        let (wname, w) = self
            .constant(n, 1)?
            .ok_or_else(|| Self::malformed(n, "has no weight"))?;
        let bias = self.constant(n, 2)?;
        if w.dims.len() != 4 {
            return Err(Self::malformed(
                n,
                format!(
                    "has a {}-d weight; netloom's Conv2d is 2-d (a 4-d weight)",
                    w.dims.len()
                ),
            ));
        }
        if let Some(p) = attr_string(n, "auto_pad").filter(|p| !p.is_empty() && p != "NOTSET") {
            return Err(Self::malformed(
                n,
                format!(
                    "pads by auto_pad {p}; export with explicit padding (PyTorch's exporter does)"
                ),
            ));
        }
        let own = pads(n)?;
        let padding = Pair::HW(own.h() + extra[0], own.w() + extra[1]).simplified();
        let out = w.dims[0] as u64;
        let conv = Conv2d {
            out_channels: out,
            kernel_size: Pair::HW(w.dims[2] as u64, w.dims[3] as u64).simplified(),
            stride: attr_pair(n, "strides", 1)?,
            padding,
            dilation: attr_pair(n, "dilations", 1)?,
            groups: attr_int(n, "group", 1).max(1) as u64,
            bias: bias.is_some(),
        };
        let prefix = wname.strip_suffix(".weight").map(str::to_owned);
        let (_, name) = self.add_node(n, Op::Conv2d(conv), &[x], 4, prefix.as_deref());
        self.weight(&name, "weight", &wname, w);
        if let Some((bname, b)) = bias {
            self.weight(&name, "bias", &bname, b);
        }
        self.report.convolutions += 1;
        if wname.starts_with("onnx::") {
            self.report.anonymous_conv_weights += 1;
        }
        Ok(())
    }

    pub(super) fn batch_norm(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank) = self.node_input(n, 0)?;
        if attr_int(n, "training_mode", 0) != 0 {
            return Err(Self::malformed(
                n,
                "is in training mode; export the model in eval mode (model.eval())",
            ));
        }
        let mut parts = Vec::new();
        for (i, what) in [
            (1, "weight"),
            (2, "bias"),
            (3, "running_mean"),
            (4, "running_var"),
        ] {
            let c = self
                .constant(n, i)?
                .ok_or_else(|| Self::malformed(n, format!("has no {what}")))?;
            parts.push((what, c));
        }
        let eps = tidy(f64::from(attr_float(n, "epsilon", 1e-5)));
        // ONNX keeps the old statistics' share; PyTorch's momentum is the new batch's.
        let momentum = tidy(1.0 - f64::from(attr_float(n, "momentum", 0.9)));
        let prefix = parts[0].1.0.strip_suffix(".weight").map(str::to_owned);
        let op = Op::BatchNorm(BatchNorm {
            eps,
            momentum,
            affine: true,
        });
        let (_, name) = self.add_node(n, op, &[x], rank, prefix.as_deref());
        for (what, (source, a)) in parts {
            self.weight(&name, what, &source, a);
        }
        // PyTorch's state dicts count the batches seen; ONNX doesn't keep it.
        self.weights.push((
            format!("{name}.num_batches_tracked"),
            Array {
                dims: vec![],
                values: Values::I64(vec![0]),
            },
        ));
        self.report.batch_norms += 1;
        Ok(())
    }

    pub(super) fn gemm(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank) = self.node_input(n, 0)?;
        if rank != 2 {
            return Err(Self::malformed(
                n,
                "multiplies a tensor that isn't a batch of vectors; insert Flatten before it",
            ));
        }
        let (wname, w) = self
            .constant(n, 1)?
            .ok_or_else(|| Self::malformed(n, "has no weight"))?;
        let bias = self.constant(n, 2)?;
        if attr_int(n, "transA", 0) != 0
            || (attr_float(n, "alpha", 1.0) - 1.0).abs() > 1e-6
            || (attr_float(n, "beta", 1.0) - 1.0).abs() > 1e-6
        {
            return Err(Self::malformed(
                n,
                "scales or transposes its input (transA, alpha, beta); netloom's Linear is y = x·Wᵀ + b",
            ));
        }
        let Some(values) = w.floats() else {
            return Err(Self::malformed(n, "has an integer weight"));
        };
        if w.dims.len() != 2 {
            return Err(Self::malformed(n, "has a weight that isn't a matrix"));
        }
        // PyTorch's Linear keeps W as [out, in]: transB = 1. Otherwise transpose it.
        let weight = if attr_int(n, "transB", 0) == 1 {
            w.clone()
        } else {
            let (rows, cols) = (w.dims[0] as usize, w.dims[1] as usize);
            let mut t = vec![0f32; rows * cols];
            for r in 0..rows {
                for c in 0..cols {
                    t[c * rows + r] = values[r * cols + c];
                }
            }
            Array {
                dims: vec![cols as i64, rows as i64],
                values: Values::F32(t),
            }
        };
        let out = weight.dims[0] as u64;
        let bias = match bias {
            Some((bname, b)) if b.numel() == out as usize => Some((
                bname,
                Array {
                    dims: vec![out as i64],
                    ..b
                },
            )),
            Some((_, b)) => {
                return Err(Self::malformed(
                    n,
                    format!(
                        "has a bias of shape {:?} for {out} outputs; netloom's Linear adds one value per output",
                        b.dims
                    ),
                ));
            }
            None => None,
        };
        let prefix = wname.strip_suffix(".weight").map(str::to_owned);
        let op = Op::Linear(Linear {
            out_features: out,
            bias: bias.is_some(),
        });
        let (_, name) = self.add_node(n, op, &[x], 2, prefix.as_deref());
        self.weight(&name, "weight", &wname, weight);
        if let Some((bname, b)) = bias {
            self.weight(&name, "bias", &bname, b);
        }
        Ok(())
    }

    pub(super) fn pool(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank) = self.node_input(n, 0)?;
        if let Some(p) = attr_string(n, "auto_pad").filter(|p| !p.is_empty() && p != "NOTSET") {
            return Err(Self::malformed(
                n,
                format!("pads by auto_pad {p}; export with explicit padding"),
            ));
        }
        let kernel = attr_ints(n, "kernel_shape").unwrap_or_default();
        let [kh, kw] = kernel.as_slice() else {
            return Err(Self::malformed(
                n,
                format!("has kernel_shape {kernel:?}; netloom pools over height and width"),
            ));
        };
        let strides = attr_ints(n, "strides").unwrap_or_else(|| vec![1, 1]);
        let [sh, sw] = strides.as_slice() else {
            return Err(Self::malformed(n, format!("has strides {strides:?}")));
        };
        if attr_ints(n, "dilations").is_some_and(|d| d.iter().any(|&v| v != 1)) {
            return Err(Self::malformed(
                n,
                "has dilated windows, which netloom's pooling doesn't take",
            ));
        }
        if n.output.len() > 1 && !n.output[1].is_empty() {
            return Err(Self::malformed(
                n,
                "also outputs the maxima's indices, which netloom doesn't compute",
            ));
        }
        let padding = pads(n)?;
        let ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
        let max = n.op_type == "MaxPool";
        // ONNX's AveragePool leaves the padding out of the average by default, PyTorch's
        // counts it; with no padding the two agree, and the design keeps PyTorch's default.
        let count_include_pad =
            max || padding == Pair::Same(0) || attr_int(n, "count_include_pad", 0) != 0;
        let pool = Pool2d {
            kernel_size: Pair::HW(*kh as u64, *kw as u64).simplified(),
            stride: Some(Pair::HW(*sh as u64, *sw as u64).simplified()),
            padding,
            ceil_mode,
            count_include_pad,
        };
        let op = if max {
            Op::MaxPool2d(pool)
        } else {
            Op::AvgPool2d(pool)
        };
        self.add_node(n, op, &[x], rank, None);
        Ok(())
    }

    pub(super) fn merge(&mut self, index: usize, n: &NodeProto) -> Result<(), ImportError> {
        if let Some((f, x)) = self.fused.get(&index).cloned() {
            let (src, rank, cl) = match self.values.get(&x).cloned() {
                Some(Value::Node(src, rank)) => (src, rank, false),
                Some(Value::ChannelsLast(src)) => (src, 4, true),
                _ => return Err(Self::malformed(n, "gates a value no layer gives")),
            };
            let (id, _) = self.add_node(n, Op::Activation(Activation::new(f)), &[src], rank, None);
            self.mark_layout(n, id, cl);
            self.report.note_folded(match f {
                ActivationFn::Silu => "SiLU (x·sigmoid(x))",
                ActivationFn::Gelu => "GELU (x·½·(1 + erf(x/√2)))",
                _ => "Hardswish (x·hardsigmoid(x))",
            });
            return Ok(());
        }
        let live: Vec<&String> = n.input.iter().filter(|s| !s.is_empty()).collect();
        if n.op_type == "Concat" {
            let (_, rank) = self.node_input(n, 0)?;
            let axis = attr_int(n, "axis", 1);
            if axis != 1 && axis != 1 - rank as i64 {
                return Err(Self::malformed(
                    n,
                    format!("joins along axis {axis}; netloom's Concat joins channels (axis 1)"),
                ));
            }
            if live.len() == 1 {
                // `torch.cat` of one tensor (a DenseNet's first layer) is that tensor.
                return self.alias(n);
            }
        }
        let mut from = Vec::new();
        let mut rank = 0;
        for i in 0..n.input.len() {
            let (id, r) = self.node_input(n, i)?;
            from.push(id);
            rank = rank.max(r);
        }
        let op = match n.op_type.as_str() {
            "Add" => Op::Add(Merge {}),
            "Mul" => Op::Mul(Merge {}),
            _ => Op::Concat(Merge {}),
        };
        self.add_node(n, op, &from, rank, None);
        Ok(())
    }

    pub(super) fn activation(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank, cl) = self.layout_input(n, 0)?;
        let f = |f| Activation::new(f);
        let a = match n.op_type.as_str() {
            "Relu" => f(ActivationFn::Relu),
            "Sigmoid" => f(ActivationFn::Sigmoid),
            "Tanh" => f(ActivationFn::Tanh),
            "HardSwish" => f(ActivationFn::Hardswish),
            "LeakyRelu" => Activation {
                negative_slope: Some(tidy(f64::from(attr_float(n, "alpha", 0.01)))),
                ..f(ActivationFn::LeakyRelu)
            },
            "Elu" => Activation {
                alpha: Some(tidy(f64::from(attr_float(n, "alpha", 1.0)))),
                ..f(ActivationFn::Elu)
            },
            "Selu" => {
                let (alpha, gamma) = (
                    attr_float(n, "alpha", 1.673_263_2),
                    attr_float(n, "gamma", 1.050_701),
                );
                if (alpha - 1.673_263_2).abs() > 1e-5 || (gamma - 1.050_701).abs() > 1e-5 {
                    return Err(Self::malformed(
                        n,
                        "has its own alpha and gamma; netloom's SELU has PyTorch's constants",
                    ));
                }
                f(ActivationFn::Selu)
            }
            "HardSigmoid" => {
                let (alpha, beta) = (attr_float(n, "alpha", 0.2), attr_float(n, "beta", 0.5));
                if (alpha - 1.0 / 6.0).abs() > 1e-6 || (beta - 0.5).abs() > 1e-6 {
                    return Err(Self::malformed(
                        n,
                        format!(
                            "has alpha {alpha} and beta {beta}; netloom's Hardsigmoid is PyTorch's, x/6 + 1/2 clamped to [0, 1]"
                        ),
                    ));
                }
                f(ActivationFn::Hardsigmoid)
            }
            "Gelu" => {
                if attr_string(n, "approximate").is_some_and(|a| a == "tanh") {
                    return Err(Self::malformed(
                        n,
                        "is the tanh approximation; netloom's GELU is the exact (erf) one",
                    ));
                }
                f(ActivationFn::Gelu)
            }
            "Softmax" => {
                let default = if self.opset >= 13 { -1 } else { 1 };
                let axis = attr_int(n, "axis", default);
                let dim = if axis < 0 { axis + rank as i64 } else { axis };
                if self.opset < 13 && rank > 2 {
                    return Err(Self::malformed(
                        n,
                        "is an opset-11 Softmax over a flattened image, which netloom's Softmax doesn't compute; export at opset 13 or later",
                    ));
                }
                Activation {
                    dim: Some(dim),
                    ..f(ActivationFn::Softmax)
                }
            }
            "Clip" => {
                let (lo, hi) = if self.opset >= 11 {
                    let bound = |i| -> Result<Option<f64>, ImportError> {
                        Ok(self.constant(n, i)?.and_then(|(_, a)| a.scalar()))
                    };
                    (bound(1)?, bound(2)?)
                } else {
                    (
                        attr(n, "min").map(|a| f64::from(a.f)),
                        attr(n, "max").map(|a| f64::from(a.f)),
                    )
                };
                match (lo, hi) {
                    (Some(l), Some(h)) if l == 0.0 && h == 6.0 => f(ActivationFn::Relu6),
                    (Some(0.0), None) => f(ActivationFn::Relu),
                    (Some(l), Some(h)) if l < h => Activation::hardtanh(tidy(l), tidy(h)),
                    _ => {
                        return Err(Self::malformed(
                            n,
                            format!(
                                "clips to [{lo:?}, {hi:?}]; netloom reads a Clip with both bounds (Hardtanh) or from 0 (ReLU)"
                            ),
                        ));
                    }
                }
            }
            other => {
                return Err(Self::malformed(
                    n,
                    format!("is a {other}, which netloom doesn't read"),
                ));
            }
        };
        let (id, _) = self.add_node(n, Op::Activation(a), &[x], rank, None);
        self.mark_layout(n, id, cl);
        Ok(())
    }
}
