//! The channels-last stretches PyTorch's exporter writes for torchvision's `LayerNorm2d` and
//! ConvNeXt's block (`Transpose [0, 2, 3, 1]` → LayerNormalization, MatMul + Add, GELU →
//! `Transpose [0, 3, 1, 2]`), the MatMul + Add of a Linear, and a Mul by a per-channel constant
//! (a layer scale). netloom's nodes keep images NCHW: a value transposed to channels-last is
//! remembered as such ([`Value::ChannelsLast`]), an op over its last axis becomes the same op
//! over channels (LayerNorm over channels, a 1×1 convolution for a MatMul), and the Transpose
//! back makes it an ordinary image again.

use super::attrs::*;
use super::{Reader, Value};
use crate::design::{Conv2d, LayerNorm, LayerScale, Linear, Merge, NodeId, Op, is_valid_name};
use crate::import::ImportError;
use crate::import::tensors::{Array, Values};
use crate::onnx_proto::NodeProto;

impl Reader<'_> {
    /// Input `i` as a node's output: (node, rank on the batched tensor, channels-last).
    pub(super) fn layout_input(
        &self,
        n: &NodeProto,
        i: usize,
    ) -> Result<(NodeId, usize, bool), ImportError> {
        if let Value::ChannelsLast(x) = self.input(n, i)? {
            return Ok((*x, 4, true));
        }
        let (x, rank) = self.node_input(n, i)?;
        Ok((x, rank, false))
    }

    /// Records `n`'s output as node `id`'s, channels-last when `cl`.
    pub(super) fn mark_layout(&mut self, n: &NodeProto, id: NodeId, cl: bool) {
        if cl && let Some(out) = n.output.first() {
            self.values.insert(out.clone(), Value::ChannelsLast(id));
        }
    }

    /// A Transpose of a computed image: to channels-last, or back.
    pub(super) fn transpose(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let perm = attr_ints(n, "perm").unwrap_or_default();
        let value = match (self.input(n, 0)?, perm.as_slice()) {
            (Value::Node(x, 4), [0, 2, 3, 1]) => Value::ChannelsLast(*x),
            (Value::ChannelsLast(x), [0, 3, 1, 2]) => Value::Node(*x, 4),
            _ => {
                return Err(Self::malformed(
                    n,
                    format!(
                        "transposes a computed tensor with perm {perm:?}; netloom reads an image's Transpose to channels-last ([0, 2, 3, 1]) and back ([0, 3, 1, 2])"
                    ),
                ));
            }
        };
        if let Some(out) = n.output.first() {
            self.values.insert(out.clone(), value);
        }
        self.report
            .note_folded("Transpose (channels-last and back)");
        Ok(())
    }

    /// LayerNormalization over the last axis: an image's channels (channels-last) or a
    /// vector's features.
    pub(super) fn layer_norm(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank, cl) = self.layout_input(n, 0)?;
        let axis = attr_int(n, "axis", -1);
        if !(cl || rank == 2) || (axis != -1 && axis != rank as i64 - 1) {
            return Err(Self::malformed(
                n,
                format!(
                    "normalises from axis {axis} of a {}rank-{rank} tensor; netloom's LayerNorm normalises an image's channels (after a Transpose to channels-last) or a vector's features",
                    if cl { "channels-last " } else { "" }
                ),
            ));
        }
        if n.output.iter().skip(1).any(|o| !o.is_empty()) {
            return Err(Self::malformed(
                n,
                "also outputs its mean or variance, which netloom doesn't compute",
            ));
        }
        let (sname, scale) = self
            .constant(n, 1)?
            .ok_or_else(|| Self::malformed(n, "has no scale"))?;
        let bias = self.constant(n, 2)?;
        let op = Op::LayerNorm(LayerNorm {
            eps: tidy(f64::from(attr_float(n, "epsilon", 1e-5))),
            elementwise_affine: true,
        });
        let prefix = sname.strip_suffix(".weight").map(str::to_owned);
        let (id, name) = self.add_node(n, op, &[x], rank, prefix.as_deref());
        self.mark_layout(n, id, cl);
        let zeros = Array {
            dims: scale.dims.clone(),
            values: Values::F32(vec![0.0; scale.numel()]),
        };
        self.weight(&name, "weight", &sname, scale);
        match bias {
            Some((bname, b)) => self.weight(&name, "bias", &bname, b),
            // ONNX's bias is optional; PyTorch's LayerNorm always has one.
            None => self.weights.push((format!("{name}.bias"), zeros)),
        }
        Ok(())
    }

    /// MatMul by a constant `[in, out]`: a Linear on vectors, a 1×1 convolution on a
    /// channels-last image; its bias comes with the Add after it.
    pub(super) fn matmul(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank, cl) = self.layout_input(n, 0)?;
        if !cl && rank != 2 {
            return Err(Self::malformed(
                n,
                format!(
                    "multiplies a rank-{rank} tensor; netloom reads a MatMul of a batch of vectors (a Linear) or of an image's channels (channels-last, a 1×1 convolution)"
                ),
            ));
        }
        let (wname, w) = self
            .constant(n, 1)?
            .ok_or_else(|| Self::malformed(n, "multiplies by a computed tensor, not a weight"))?;
        let (Some(values), [fin, fout]) = (w.floats(), w.dims.as_slice()) else {
            return Err(Self::malformed(
                n,
                "has a weight that isn't a matrix of floats",
            ));
        };
        let (fin, fout) = (*fin as usize, *fout as usize);
        // ONNX multiplies by [in, out]; PyTorch keeps [out, in].
        let mut t = vec![0f32; values.len()];
        for r in 0..fin {
            for c in 0..fout {
                t[c * fin + r] = values[r * fout + c];
            }
        }
        let (op, dims) = if cl {
            let mut conv = Conv2d::new(fout as u64, 1);
            conv.bias = false;
            (Op::Conv2d(conv), vec![fout as i64, fin as i64, 1, 1])
        } else {
            let linear = Linear {
                out_features: fout as u64,
                bias: false,
            };
            (Op::Linear(linear), vec![fout as i64, fin as i64])
        };
        let prefix = wname.strip_suffix(".weight").map(str::to_owned);
        let (id, name) = self.add_node(n, op, &[x], rank, prefix.as_deref());
        self.mark_layout(n, id, cl);
        let weight = Array {
            dims,
            values: Values::F32(t),
        };
        let source = self.origin(&wname).to_owned();
        self.weight(&name, "weight", &source, weight);
        if let Some(out) = n.output.first()
            && self.reads.get(out.as_str()) == Some(&1)
        {
            self.biasless.insert(out.clone(), (id, name));
        }
        Ok(())
    }

    /// An Add or Mul that isn't an ordinary merge of layers: the bias after a MatMul, a Mul by
    /// a per-channel constant (a LayerScale), or a merge of channels-last values. False when
    /// it is an ordinary merge.
    pub(super) fn merge_with_constant(&mut self, n: &NodeProto) -> Result<bool, ImportError> {
        let [a, b] = n.input.as_slice() else {
            return Ok(false);
        };
        let (va, vb) = (self.input(n, 0)?.clone(), self.input(n, 1)?.clone());
        let (cname, c, other) = match (&va, &vb) {
            (Value::Const(c), _) => (a.clone(), c.clone(), b.clone()),
            (_, Value::Const(c)) => (b.clone(), c.clone(), a.clone()),
            (Value::ChannelsLast(x), Value::ChannelsLast(y)) => {
                let op = if n.op_type == "Add" {
                    Op::Add(Merge {})
                } else {
                    Op::Mul(Merge {})
                };
                let (id, _) = self.add_node(n, op, &[*x, *y], 4, None);
                self.mark_layout(n, id, true);
                return Ok(true);
            }
            _ => return Ok(false),
        };
        if n.op_type == "Add" {
            return self.bias(n, &cname, c, &other);
        }
        let (x, rank, cl) = self.layout_input(n, if other == *a { 0 } else { 1 })?;
        let per_channel = match c.dims.as_slice() {
            [_, 1, 1] => rank == 4 && !cl,
            [_] => rank == 2,
            _ => false,
        };
        if !per_channel {
            return Err(Self::malformed(
                n,
                format!(
                    "multiplies by a constant of shape {:?}; netloom reads a per-channel scale ([C, 1, 1] on an image, [C] on a vector) as a LayerScale",
                    c.dims
                ),
            ));
        }
        // The scale is its own tensor, named as torchvision's `layer_scale` parameter.
        let prefix = is_valid_name(&cname).then_some(cname.as_str());
        let op = Op::LayerScale(LayerScale::default());
        let (_, name) = self.add_node(n, op, &[x], rank, prefix);
        let source = self.origin(&cname).to_owned();
        self.report
            .matched
            .push((source, name.clone(), c.dims.clone()));
        self.weights.push((name, c));
        Ok(true)
    }

    /// The Add of a constant after a MatMul: that layer's bias.
    fn bias(
        &mut self,
        n: &NodeProto,
        cname: &str,
        c: Array,
        other: &str,
    ) -> Result<bool, ImportError> {
        let Some((id, name)) = self.biasless.remove(other) else {
            return Err(Self::malformed(
                n,
                "adds a constant to a layer's output other than right after a MatMul (its bias)",
            ));
        };
        if let Some(node) = self.design.nodes.iter_mut().find(|d| d.id == id) {
            match &mut node.op {
                Op::Conv2d(conv) => conv.bias = true,
                Op::Linear(l) => l.bias = true,
                _ => {}
            }
        }
        let bias = Array {
            dims: vec![c.numel() as i64],
            ..c
        };
        let source = self.origin(cname).to_owned();
        self.weight(&name, "bias", &source, bias);
        let v = self.values.get(other).cloned();
        if let (Some(out), Some(v)) = (n.output.first(), v) {
            self.values.insert(out.clone(), v);
        }
        Ok(true)
    }
}
