//! Shape arithmetic folded away: `x.view(x.size(0), -1)` exports as Shape → Gather →
//! Unsqueeze → Concat → Reshape, which netloom reads as the Flatten it is; `x.mean([2, 3])`
//! (ReduceMean) is global average pooling, and a Squeeze of its 1×1 is a Flatten.
//!
//! A shape is computed here from what netloom knows of each node's output: its per-sample
//! shape from the analysis and a batch size that stays symbolic, so a graph exported with a
//! dynamic batch folds as one with a fixed one.

use super::attrs::{attr_int, attr_ints};
use super::{Dim, Reader, Value};
use crate::design::{AdaptivePool2d, Flatten, Op, Pair};
use crate::import::ImportError;
use crate::onnx_proto::NodeProto;

impl Reader<'_> {
    /// A constant or shape input as dimensions (a constant's integers as fixed sizes).
    pub(super) fn dims_of(&self, n: &NodeProto, i: usize) -> Result<(Vec<Dim>, bool), ImportError> {
        match self.input(n, i)? {
            Value::Shape(d, scalar) => Ok((d.clone(), *scalar)),
            Value::Const(a) => Ok((
                a.ints().into_iter().map(Dim::Fixed).collect(),
                a.dims.is_empty(),
            )),
            Value::Node(..) | Value::Padded(..) | Value::ChannelsLast(_) => Err(Self::malformed(
                n,
                "computes a shape from a tensor's values, which netloom can't fold",
            )),
        }
    }

    /// An op's axes, as an attribute (before opset 13, or 18 for reductions) or as its second
    /// input; counted from the front and sorted when the input's `rank` is given.
    fn axes(&self, n: &NodeProto, rank: Option<usize>) -> Result<Vec<i64>, ImportError> {
        let mut axes = match attr_ints(n, "axes") {
            Some(a) => a,
            None => self
                .constant(n, 1)?
                .map(|(_, a)| a.ints())
                .unwrap_or_default(),
        };
        if let Some(rank) = rank {
            for a in &mut axes {
                if *a < 0 {
                    *a += rank as i64;
                }
            }
            axes.sort_unstable();
        }
        Ok(axes)
    }

    fn set_shape(&mut self, n: &NodeProto, dims: Vec<Dim>, scalar: bool) {
        if let Some(out) = n.output.first() {
            self.values.insert(out.clone(), Value::Shape(dims, scalar));
        }
        self.report
            .note_folded("shape arithmetic (Shape, Gather, Unsqueeze, Concat, Cast)");
    }

    /// `Shape`: the batch (symbolic) and the node's per-sample shape.
    pub(super) fn shape(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (id, _) = self.node_input(n, 0)?;
        let analysis = crate::design::analyse(&self.design);
        let shape = analysis.report(id).and_then(|r| r.output).ok_or_else(|| {
            Self::malformed(
                n,
                "takes the shape of a tensor whose shape netloom couldn't infer",
            )
        })?;
        let mut dims = vec![Dim::Batch];
        dims.extend(shape.dims().iter().map(|&d| Dim::Fixed(d as i64)));
        self.set_shape(n, dims, false);
        Ok(())
    }

    /// `Gather` along axis 0 of a shape: the dimensions at the indices.
    pub(super) fn gather(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (dims, _) = self.dims_of(n, 0)?;
        let (_, idx) = self
            .constant(n, 1)?
            .ok_or_else(|| Self::malformed(n, "has no indices"))?;
        if attr_int(n, "axis", 0) != 0 {
            return Err(Self::malformed(n, "gathers along an axis other than 0"));
        }
        let scalar = idx.dims.is_empty();
        let len = dims.len() as i64;
        let picked = idx
            .ints()
            .into_iter()
            .map(|i| {
                let i = if i < 0 { i + len } else { i };
                dims.get(usize::try_from(i).unwrap_or(usize::MAX)).copied()
            })
            .collect::<Option<Vec<Dim>>>()
            .ok_or_else(|| Self::malformed(n, "gathers past the end of a shape"))?;
        self.set_shape(n, picked, scalar);
        Ok(())
    }

    /// `Slice` of a shape along axis 0 with step 1 (the batch and channels of an image,
    /// before an interpolate's size is appended).
    pub(super) fn slice_shape(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (dims, _) = self.dims_of(n, 0)?;
        let int = |i: usize| -> Result<Option<i64>, ImportError> {
            Ok(self
                .constant(n, i)?
                .and_then(|(_, a)| a.ints().first().copied()))
        };
        let (start, end, axis, step) = (int(1)?, int(2)?, int(3)?, int(4)?);
        if axis.unwrap_or(0) != 0 || step.unwrap_or(1) != 1 {
            return Err(Self::malformed(
                n,
                "slices a shape along another axis or with a step; netloom folds a plain slice",
            ));
        }
        let len = dims.len() as i64;
        let clamp = |v: i64| (if v < 0 { v + len } else { v }).clamp(0, len) as usize;
        let (s, e) = (clamp(start.unwrap_or(0)), clamp(end.unwrap_or(len)));
        self.set_shape(n, dims[s..e.max(s)].to_vec(), false);
        Ok(())
    }

    /// `Unsqueeze` of a scalar shape element into a one-element shape (axes 0).
    pub(super) fn unsqueeze(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (dims, scalar) = self.dims_of(n, 0)?;
        let axes = self.axes(n, None)?;
        if !(scalar && axes == [0]) {
            return Err(Self::malformed(
                n,
                "unsqueezes a tensor; netloom folds only the shape arithmetic of a reshape",
            ));
        }
        self.set_shape(n, dims, false);
        Ok(())
    }

    /// `Concat` of shapes and constants along axis 0.
    pub(super) fn concat_shapes(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let mut dims = Vec::new();
        for i in 0..n.input.len() {
            dims.extend(self.dims_of(n, i)?.0);
        }
        self.set_shape(n, dims, false);
        Ok(())
    }

    /// `Cast` of a shape (the exporter casts sizes to int64) is the shape; of a tensor, a
    /// float-to-float cast is the identity.
    pub(super) fn cast(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        match self.input(n, 0)?.clone() {
            Value::Node(..) => {
                // ONNX's FLOAT is 1: anything else would change the values.
                if attr_int(n, "to", 1) != 1 {
                    return Err(Self::malformed(
                        n,
                        "casts a tensor to another type; netloom computes in float32",
                    ));
                }
                self.alias(n)?;
                self.report.note_folded("Cast to float32");
                Ok(())
            }
            v => {
                if let Some(out) = n.output.first() {
                    self.values.insert(out.clone(), v);
                }
                Ok(())
            }
        }
    }

    /// `Reshape` to (batch, everything else): a Flatten (or nothing, on a vector).
    pub(super) fn reshape(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank) = self.node_input(n, 0)?;
        let (target, _) = self.dims_of(n, 1)?;
        let batch_first = match target.first() {
            Some(Dim::Batch) => true,
            // 0 copies the input's batch; a fixed batch is the export's own.
            Some(Dim::Fixed(0)) => true,
            Some(Dim::Fixed(b)) => Some(*b) == self.fixed_batch || *b == -1 && target.len() == 2,
            None => false,
        };
        let rest_flat = match target.get(1..) {
            Some([Dim::Fixed(-1)]) => true,
            Some([Dim::Fixed(k)]) => {
                let analysis = crate::design::analyse(&self.design);
                analysis
                    .report(x)
                    .and_then(|r| r.output)
                    .map(|s| s.numel() as i64)
                    == Some(*k)
            }
            _ => false,
        };
        if !(batch_first && rest_flat) {
            return Err(Self::malformed(
                n,
                format!(
                    "reshapes to {target:?}; netloom reads a reshape only as a Flatten (batch, everything else)"
                ),
            ));
        }
        if rank == 2 {
            return self.alias(n);
        }
        self.add_node(n, Op::Flatten(Flatten {}), &[x], 2, None);
        Ok(())
    }

    /// `ReduceMean` over height and width: global average pooling, flattened when it drops
    /// the two axes.
    pub(super) fn reduce_mean(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let (x, rank) = self.node_input(n, 0)?;
        let axes = self.axes(n, Some(rank))?;
        if rank != 4 || axes != [2, 3] {
            return Err(Self::malformed(
                n,
                format!(
                    "averages over axes {axes:?}; netloom reads a mean over height and width (global average pooling)"
                ),
            ));
        }
        let pool = Op::AdaptiveAvgPool2d(AdaptivePool2d {
            output_size: Pair::Same(1),
        });
        if attr_int(n, "keepdims", 1) != 0 {
            self.add_node(n, pool, &[x], 4, None);
            return Ok(());
        }
        // Pool, then flatten away the 1×1 (two blocks for one ONNX node).
        let (pooled, _) = self.add_node(n, pool, &[x], 4, None);
        let mut flatten = n.clone();
        flatten.op_type = "Flatten".to_owned();
        self.add_node(&flatten, Op::Flatten(Flatten {}), &[pooled], 2, None);
        Ok(())
    }

    /// `Squeeze` of the 1×1 after global pooling: a Flatten. `squeeze(3).squeeze(2)` comes
    /// as two: the first leaves the same block (as a 3-d view only a second Squeeze may
    /// read), the second flattens.
    pub(super) fn squeeze(&mut self, n: &NodeProto) -> Result<(), ImportError> {
        let Value::Node(x, rank) = self.input(n, 0)?.clone() else {
            return Err(Self::malformed(n, "squeezes a constant"));
        };
        let analysis = crate::design::analyse(&self.design);
        let shape = analysis.report(x).and_then(|r| r.output);
        let ones = shape.is_some_and(|s| s.rank() == 3 && s.dims()[1..].iter().all(|&v| v == 1));
        let axes = self.axes(n, Some(rank))?;
        match (rank, axes.as_slice()) {
            (4, [2, 3] | []) | (3, [2]) if ones => {
                self.add_node(n, Op::Flatten(Flatten {}), &[x], 2, None);
                Ok(())
            }
            (4, [2] | [3]) if ones => {
                if let Some(out) = n.output.first() {
                    self.values.insert(out.clone(), Value::Node(x, 3));
                }
                Ok(())
            }
            _ => Err(Self::malformed(
                n,
                "squeezes axes other than a 1×1's height and width",
            )),
        }
    }
}
