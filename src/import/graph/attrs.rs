//! Reading ONNX attributes, with ONNX's defaults.

use super::Reader;
use crate::design::Pair;
use crate::import::ImportError;
use crate::onnx_proto::{AttributeProto, NodeProto, attribute_type};

pub(super) fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

pub(super) fn attr_int(n: &NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map_or(default, |a| a.i)
}

pub(super) fn attr_float(n: &NodeProto, name: &str, default: f32) -> f32 {
    attr(n, name).map_or(default, |a| a.f)
}

pub(super) fn attr_ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name)
        .filter(|a| a.r#type == attribute_type::INTS || !a.ints.is_empty())
        .map(|a| a.ints.clone())
}

pub(super) fn attr_string(n: &NodeProto, name: &str) -> Option<String> {
    attr(n, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

/// An f32 setting as the decimal a user wrote in Python (ONNX stores eps = 1e-3 as
/// 0.0010000000474974513): five significant digits.
pub(super) fn tidy(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    format!("{v:.4e}").parse().unwrap_or(v)
}

/// The short name of a functional step of this op type (`features.3.add`).
pub(super) fn short(op_type: &str) -> &'static str {
    match op_type {
        "Add" => "add",
        "Mul" => "mul",
        "Concat" => "cat",
        "Flatten" | "Reshape" | "Squeeze" => "flatten",
        "ReduceMean" => "avgpool",
        "GlobalAveragePool" => "avgpool",
        "AveragePool" => "avg_pool",
        "MaxPool" => "max_pool",
        "Conv" => "conv",
        "ConvTranspose" => "conv_transpose",
        "Resize" => "upsample",
        "BatchNormalization" => "batch_norm",
        "Gemm" | "MatMul" => "linear",
        "LayerNormalization" => "layer_norm",
        "Relu" => "relu",
        "Clip" => "clip",
        "Sigmoid" => "sigmoid",
        "Softmax" => "softmax",
        _ => "op",
    }
}

/// `pads` as netloom's symmetric padding, or an error for padding that differs by side.
pub(super) fn pads(n: &NodeProto) -> Result<Pair, ImportError> {
    let p = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 4]);
    match p.as_slice() {
        [t, l, b, r] if t == b && l == r && *t >= 0 && *l >= 0 => {
            Ok(Pair::HW(*t as u64, *l as u64).simplified())
        }
        _ => Err(Reader::malformed(
            n,
            format!(
                "pads {p:?} (top, left, bottom, right); netloom pads both sides alike, as PyTorch's padding does"
            ),
        )),
    }
}

/// A (height, width) attribute such as `strides` or `dilations` (`default` on both sides when
/// absent), or an error naming it.
pub(super) fn attr_pair(n: &NodeProto, name: &str, default: i64) -> Result<Pair, ImportError> {
    let v = attr_ints(n, name).unwrap_or_else(|| vec![default, default]);
    match v.as_slice() {
        [h, w] if *h >= 0 && *w >= 0 => Ok(Pair::HW(*h as u64, *w as u64).simplified()),
        _ => Err(Reader::malformed(
            n,
            format!("has {name} {v:?}; netloom reads two values (height, width)"),
        )),
    }
}
