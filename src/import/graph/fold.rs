//! Constant subgraphs evaluated at import. An exporter run without constant folding (as
//! fine-tuning wants, to keep batch norm) leaves arithmetic on constants in the graph:
//! `F.pad`'s padding goes through Shape, Gather, Sub, ConstantOfShape, Concat, Reshape,
//! Slice, Transpose and Cast before it reaches Pad. Netloom computes such ops on their
//! constant inputs, as the exporter would have, and keeps the result as a constant.

use super::attrs::{attr, attr_int, attr_ints};
use crate::import::tensors::{Array, Values};
use crate::onnx_proto::NodeProto;

/// Ops computed when all their inputs are constants; on computed tensors netloom has no block
/// for them (except Add, Mul and Concat, which are blocks too).
pub(super) const FOLDABLE: &[&str] = &[
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Concat",
    "ConstantOfShape",
    "Reshape",
    "Slice",
    "Transpose",
    "Cast",
    "Unsqueeze",
    "Squeeze",
    "Gather",
    "Shape",
];

/// The ops netloom reads only when their inputs are constants.
pub(super) const CONSTANT_ONLY: &[&str] = &["Sub", "Div", "ConstantOfShape", "Slice"];

/// Values as f64 (both element types fit for the sizes involved), with the element type kept.
fn as_f64(a: &Array) -> (Vec<f64>, bool) {
    match &a.values {
        Values::F32(v) => (v.iter().map(|&x| f64::from(x)).collect(), true),
        Values::I64(v) => (v.iter().map(|&x| x as f64).collect(), false),
    }
}

fn make(dims: Vec<i64>, values: Vec<f64>, float: bool) -> Array {
    Array {
        dims,
        values: if float {
            Values::F32(values.iter().map(|&x| x as f32).collect())
        } else {
            Values::I64(values.iter().map(|&x| x as i64).collect())
        },
    }
}

fn strides(dims: &[i64]) -> Vec<usize> {
    let mut s = vec![1usize; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1].max(0) as usize;
    }
    s
}

/// The index of each element of `dims` as coordinates.
fn coords(dims: &[i64], mut flat: usize) -> Vec<usize> {
    let st = strides(dims);
    st.iter()
        .map(|&s| {
            let c = flat / s.max(1);
            flat %= s.max(1);
            c
        })
        .collect()
}

/// Numpy broadcasting of two shapes.
fn broadcast(a: &[i64], b: &[i64]) -> Option<Vec<i64>> {
    let rank = a.len().max(b.len());
    (0..rank)
        .map(|i| {
            let x = if i + a.len() >= rank {
                a[i + a.len() - rank]
            } else {
                1
            };
            let y = if i + b.len() >= rank {
                b[i + b.len() - rank]
            } else {
                1
            };
            (x == y || x == 1 || y == 1).then_some(x.max(y))
        })
        .collect()
}

fn read_at(a: &[f64], dims: &[i64], out_coord: &[usize]) -> f64 {
    let st = strides(dims);
    let lead = out_coord.len() - dims.len();
    let flat: usize = dims
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if d == 1 {
                0
            } else {
                out_coord[lead + i] * st[i]
            }
        })
        .sum();
    a.get(flat).copied().unwrap_or(0.0)
}

fn binary(a: &Array, b: &Array, f: impl Fn(f64, f64) -> f64) -> Result<Array, String> {
    let dims = broadcast(&a.dims, &b.dims).ok_or("shapes that don't broadcast")?;
    let (av, af) = as_f64(a);
    let (bv, bf) = as_f64(b);
    let n: usize = dims.iter().map(|&d| d.max(0) as usize).product();
    let out = (0..n)
        .map(|i| {
            let c = coords(&dims, i);
            f(read_at(&av, &a.dims, &c), read_at(&bv, &b.dims, &c))
        })
        .collect();
    Ok(make(dims, out, af || bf))
}

fn normalise(axis: i64, rank: usize) -> usize {
    if axis < 0 {
        (axis + rank as i64).max(0) as usize
    } else {
        axis as usize
    }
}

/// Input `i`, which must be given.
fn arg(ins: &[Option<Array>], i: usize) -> Result<&Array, String> {
    ins.get(i)
        .and_then(Option::as_ref)
        .ok_or_else(|| format!("has no input {i}"))
}

/// Evaluates `n` on constant inputs (`None` for an input left out); `Ok(None)` when the op
/// isn't one this folds.
pub(super) fn eval(n: &NodeProto, ins: &[Option<Array>]) -> Result<Option<Array>, String> {
    let out = match n.op_type.as_str() {
        "Add" => binary(arg(ins, 0)?, arg(ins, 1)?, |x, y| x + y)?,
        "Sub" => binary(arg(ins, 0)?, arg(ins, 1)?, |x, y| x - y)?,
        "Mul" => binary(arg(ins, 0)?, arg(ins, 1)?, |x, y| x * y)?,
        "Div" => {
            let float = arg(ins, 0)?.floats().is_some();
            binary(arg(ins, 0)?, arg(ins, 1)?, |x, y| {
                if float {
                    x / y
                } else if y == 0.0 {
                    0.0
                } else {
                    (x / y).trunc()
                }
            })?
        }
        "Shape" => {
            let a = arg(ins, 0)?;
            make(
                vec![a.dims.len() as i64],
                a.dims.iter().map(|&d| d as f64).collect(),
                false,
            )
        }
        "ConstantOfShape" => constant_of_shape(n, ins)?,
        "Cast" => {
            let (v, _) = as_f64(arg(ins, 0)?);
            // ONNX's FLOAT (1) and DOUBLE (11) stay float; the integer types become i64.
            let to = attr_int(n, "to", 1);
            make(arg(ins, 0)?.dims.clone(), v, matches!(to, 1 | 10 | 11 | 16))
        }
        "Reshape" => reshape(ins)?,
        "Unsqueeze" | "Squeeze" => squeeze(n, ins)?,
        "Concat" => concat(n, ins)?,
        "Transpose" => transpose(n, ins)?,
        "Slice" => slice(n, ins)?,
        "Gather" => gather(n, ins)?,
        _ => return Ok(None),
    };
    Ok(Some(out))
}

fn constant_of_shape(n: &NodeProto, ins: &[Option<Array>]) -> Result<Array, String> {
    let dims = arg(ins, 0)?.ints();
    let count: usize = dims.iter().map(|&d| d.max(0) as usize).product();
    let (value, float) = match attr(n, "value").and_then(|a| a.t.as_ref()) {
        Some(t) => {
            let a = crate::import::tensors::read(t, std::path::Path::new("."))
                .map_err(|e| e.to_string())?;
            let (v, f) = as_f64(&a);
            (v.first().copied().unwrap_or(0.0), f)
        }
        None => (0.0, true),
    };
    Ok(make(dims, vec![value; count], float))
}

fn reshape(ins: &[Option<Array>]) -> Result<Array, String> {
    let a = arg(ins, 0)?;
    let want = arg(ins, 1)?.ints();
    let total = a.numel() as i64;
    let known: i64 = want
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if d == 0 {
                a.dims.get(i).copied().unwrap_or(1)
            } else if d < 0 {
                1
            } else {
                d
            }
        })
        .product();
    let dims = want
        .iter()
        .enumerate()
        .map(|(i, &d)| match d {
            0 => a.dims.get(i).copied().unwrap_or(1),
            -1 => total / known.max(1),
            d => d,
        })
        .collect();
    Ok(Array {
        dims,
        values: a.values.clone(),
    })
}

fn squeeze(n: &NodeProto, ins: &[Option<Array>]) -> Result<Array, String> {
    let a = arg(ins, 0)?;
    let axes = attr_ints(n, "axes").or_else(|| ins.get(1).cloned().flatten().map(|x| x.ints()));
    let mut dims = a.dims.clone();
    if n.op_type == "Unsqueeze" {
        let rank = dims.len() + axes.as_ref().map_or(0, Vec::len);
        let mut axes: Vec<usize> = axes
            .unwrap_or_default()
            .iter()
            .map(|&x| normalise(x, rank))
            .collect();
        axes.sort_unstable();
        for ax in axes {
            dims.insert(ax.min(dims.len()), 1);
        }
    } else {
        let rank = dims.len();
        let axes: Vec<usize> = match axes {
            Some(ax) => ax.iter().map(|&x| normalise(x, rank)).collect(),
            None => (0..rank).filter(|&i| dims[i] == 1).collect(),
        };
        dims = dims
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect();
    }
    Ok(Array {
        dims,
        values: a.values.clone(),
    })
}

fn concat(n: &NodeProto, ins: &[Option<Array>]) -> Result<Array, String> {
    let parts: Vec<&Array> = ins.iter().flatten().collect();
    let first = parts.first().ok_or("has no inputs")?;
    let rank = first.dims.len();
    let axis = normalise(attr_int(n, "axis", 0), rank);
    let float = parts.iter().any(|p| p.floats().is_some());
    let outer: usize = first.dims[..axis]
        .iter()
        .map(|&d| d.max(0) as usize)
        .product();
    let mut out = Vec::new();
    for o in 0..outer {
        for p in &parts {
            let inner: usize = p.dims[axis..].iter().map(|&d| d.max(0) as usize).product();
            let (v, _) = as_f64(p);
            out.extend_from_slice(
                v.get(o * inner..(o + 1) * inner)
                    .ok_or("inputs of unequal shapes")?,
            );
        }
    }
    let mut dims = first.dims.clone();
    if rank == 0 {
        return Err("joins scalars".into());
    }
    dims[axis] = parts.iter().map(|p| p.dims[axis]).sum();
    Ok(make(dims, out, float))
}

fn transpose(n: &NodeProto, ins: &[Option<Array>]) -> Result<Array, String> {
    let a = arg(ins, 0)?;
    let rank = a.dims.len();
    let perm: Vec<usize> = attr_ints(n, "perm").map_or_else(
        || (0..rank).rev().collect(),
        |p| p.iter().map(|&x| normalise(x, rank)).collect(),
    );
    let dims: Vec<i64> = perm.iter().map(|&p| a.dims[p]).collect();
    let (v, float) = as_f64(a);
    let src = strides(&a.dims);
    let out = (0..a.numel())
        .map(|i| {
            let c = coords(&dims, i);
            let flat: usize = perm.iter().enumerate().map(|(k, &p)| c[k] * src[p]).sum();
            v[flat]
        })
        .collect();
    Ok(make(dims, out, float))
}

fn gather(n: &NodeProto, ins: &[Option<Array>]) -> Result<Array, String> {
    let (a, idx) = (arg(ins, 0)?, arg(ins, 1)?);
    let axis = normalise(attr_int(n, "axis", 0), a.dims.len());
    if axis != 0 {
        return Err("gathers along an axis other than 0".into());
    }
    let inner: usize = a.dims[1..].iter().map(|&d| d.max(0) as usize).product();
    let (v, float) = as_f64(a);
    let len = a.dims.first().copied().unwrap_or(0);
    let mut out = Vec::new();
    for i in idx.ints() {
        let i = if i < 0 { i + len } else { i } as usize;
        out.extend_from_slice(
            v.get(i * inner..(i + 1) * inner)
                .ok_or("an index past the end")?,
        );
    }
    let mut dims = idx.dims.clone();
    dims.extend_from_slice(&a.dims[1..]);
    Ok(make(dims, out, float))
}

/// ONNX's Slice (opset 10 on: starts, ends, axes, steps as inputs).
fn slice(n: &NodeProto, ins: &[Option<Array>]) -> Result<Array, String> {
    let a = ins.first().and_then(Option::as_ref).ok_or("has no data")?;
    let list = |i: usize| ins.get(i).and_then(Option::as_ref).map(Array::ints);
    let (starts, ends) = (
        list(1).ok_or("has no starts")?,
        list(2).ok_or("has no ends")?,
    );
    let rank = a.dims.len();
    let axes: Vec<usize> = list(3).map_or_else(
        || (0..starts.len()).collect(),
        |v| v.iter().map(|&x| normalise(x, rank)).collect(),
    );
    let steps = list(4).unwrap_or_else(|| vec![1; starts.len()]);
    let mut ranges: Vec<Vec<usize>> = a
        .dims
        .iter()
        .map(|&d| (0..d.max(0) as usize).collect())
        .collect();
    for k in 0..axes.len() {
        let (ax, step) = (axes[k], steps.get(k).copied().unwrap_or(1));
        let d = a.dims[ax];
        let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
        let fix = |v: i64| if v < 0 { v + d } else { v };
        let picked: Vec<usize> = if step > 0 {
            let (s, e) = (clamp(fix(starts[k]), 0, d), clamp(fix(ends[k]), 0, d));
            (s..e).step_by(step as usize).map(|i| i as usize).collect()
        } else if step < 0 {
            let (s, e) = (
                clamp(fix(starts[k]), -1, d - 1),
                clamp(fix(ends[k]), -1, d - 1),
            );
            let mut v = Vec::new();
            let mut i = s;
            while i > e {
                v.push(i as usize);
                i += step;
            }
            v
        } else {
            return Err(format!("{} has a step of 0", n.name));
        };
        ranges[ax] = picked;
    }
    let dims: Vec<i64> = ranges.iter().map(|r| r.len() as i64).collect();
    let (v, float) = as_f64(a);
    let src = strides(&a.dims);
    let total: usize = dims.iter().map(|&d| d as usize).product();
    let out = (0..total)
        .map(|i| {
            let c = coords(&dims, i);
            let flat: usize = c
                .iter()
                .enumerate()
                .map(|(ax, &ci)| ranges[ax][ci] * src[ax])
                .sum();
            v[flat]
        })
        .collect();
    Ok(make(dims, out, float))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str) -> NodeProto {
        NodeProto {
            op_type: op.to_owned(),
            ..NodeProto::default()
        }
    }

    fn ints(dims: Vec<i64>, v: Vec<i64>) -> Option<Array> {
        Some(Array {
            dims,
            values: Values::I64(v),
        })
    }

    #[test]
    fn f_pad_s_padding_arithmetic_folds_to_onnx_s_order() {
        // [2, 2, 1, 1] (left, right, top, bottom) as a [2, 2] reversed into ONNX's begins/ends.
        let pads = ints(vec![4], vec![2, 2, 1, 1]);
        let shaped = eval(&node("Reshape"), &[pads, ints(vec![2], vec![-1, 2])]).unwrap();
        assert_eq!(shaped.as_ref().unwrap().dims, vec![2, 2]);
        let mut s = node("Slice");
        s.name = "s".into();
        let rev = eval(
            &s,
            &[
                shaped,
                ints(vec![1], vec![-1]),
                ints(vec![1], vec![i64::MIN]),
                ints(vec![1], vec![0]),
                ints(vec![1], vec![-1]),
            ],
        )
        .unwrap();
        assert_eq!(rev.as_ref().unwrap().ints(), vec![1, 1, 2, 2]);
        let t = eval(&node("Transpose"), &[rev]).unwrap().unwrap();
        assert_eq!((t.dims.clone(), t.ints()), (vec![2, 2], vec![1, 2, 1, 2]));
        let sub = eval(
            &node("Sub"),
            &[ints(vec![], vec![8]), ints(vec![], vec![4])],
        )
        .unwrap()
        .unwrap();
        assert_eq!(sub.ints(), vec![4]);
        let c = eval(
            &node("Concat"),
            &[ints(vec![2], vec![1, 2]), ints(vec![1], vec![3])],
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.ints(), vec![1, 2, 3]);
    }
}
