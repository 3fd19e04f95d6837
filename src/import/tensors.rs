//! An ONNX file's constants as plain arrays: initializers, `Constant` nodes, and values kept
//! in a side file (`external_data`, which PyTorch writes past protobuf's 2 GB limit).

use super::ImportError;
use crate::onnx_proto::{TensorProto, data_location, data_type};
use std::path::Path;

/// A constant's values, as f32 or i64 (ONNX's other types are refused where they are used).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The shape.
    pub dims: Vec<i64>,
    /// The values, row-major.
    pub values: Values,
}

/// The element type and values of an [`Array`].
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// 32-bit floats (weights), also from doubles.
    F32(Vec<f32>),
    /// Integers (shapes, axes, counters), also from int32.
    I64(Vec<i64>),
}

impl Array {
    /// The element count its shape gives.
    pub fn numel(&self) -> usize {
        self.dims
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(0))
            .product()
    }

    /// The float values, or None for integers.
    pub fn floats(&self) -> Option<&[f32]> {
        match &self.values {
            Values::F32(v) => Some(v),
            Values::I64(_) => None,
        }
    }

    /// The values as integers (floats truncated), for shapes and axes.
    pub fn ints(&self) -> Vec<i64> {
        match &self.values {
            Values::F32(v) => v.iter().map(|&x| x as i64).collect(),
            Values::I64(v) => v.clone(),
        }
    }

    /// The single value of a scalar (or one-element) float constant, as Clip's bounds are.
    pub fn scalar(&self) -> Option<f64> {
        match &self.values {
            Values::F32(v) if v.len() == 1 => Some(f64::from(v[0])),
            Values::I64(v) if v.len() == 1 => Some(v[0] as f64),
            _ => None,
        }
    }
}

/// Reads one tensor; `dir` is the model file's folder, where side files are.
pub fn read(t: &TensorProto, dir: &Path) -> Result<Array, ImportError> {
    let bad = |problem: String| ImportError::Malformed {
        problem: format!("the constant {:?} {problem}", t.name),
    };
    let owned;
    let raw: &[u8] = if t.data_location == data_location::EXTERNAL {
        owned = external(t, dir)?;
        &owned
    } else {
        &t.raw_data
    };
    let values = match t.data_type {
        data_type::FLOAT if !raw.is_empty() || t.float_data.is_empty() => {
            if !raw.len().is_multiple_of(4) {
                return Err(bad(format!(
                    "has {} bytes, not whole f32 values",
                    raw.len()
                )));
            }
            Values::F32(
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        }
        data_type::FLOAT => Values::F32(t.float_data.clone()),
        data_type::DOUBLE if !raw.is_empty() => Values::F32(
            raw.chunks_exact(8)
                .map(|c| {
                    f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32
                })
                .collect(),
        ),
        data_type::DOUBLE => Values::F32(t.double_data.iter().map(|&x| x as f32).collect()),
        data_type::INT64 if !raw.is_empty() => Values::I64(
            raw.chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
        data_type::INT64 => Values::I64(t.int64_data.clone()),
        data_type::INT32 if !raw.is_empty() => Values::I64(
            raw.chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        ),
        data_type::INT32 => Values::I64(t.int32_data.iter().map(|&x| i64::from(x)).collect()),
        other => {
            return Err(bad(format!(
                "has element type {other} (ONNX's numbering); netloom reads float32, float64, int32 and int64 constants"
            )));
        }
    };
    let a = Array {
        dims: t.dims.clone(),
        values,
    };
    let len = match &a.values {
        Values::F32(v) => v.len(),
        Values::I64(v) => v.len(),
    };
    if t.dims.iter().any(|&d| d < 0) || len != a.numel() {
        return Err(bad(format!(
            "has shape {:?} but {len} values: the file is damaged",
            t.dims
        )));
    }
    Ok(a)
}

/// The bytes of a tensor kept in a side file: `location` beside the model, from `offset`
/// for `length` bytes.
fn external(t: &TensorProto, dir: &Path) -> Result<Vec<u8>, ImportError> {
    let field = |k: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == k)
            .map(|e| e.value.as_str())
    };
    let malformed = |problem: &str| ImportError::Malformed {
        problem: format!("the constant {:?} {problem}", t.name),
    };
    let location =
        field("location").ok_or_else(|| malformed("is in a side file it doesn't name"))?;
    // Only a plain file beside the model: a path that climbs out is no place for weights.
    let rel = Path::new(location);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(malformed(&format!(
            "names the side file {location:?}, which is not a file beside the model"
        )));
    }
    let path = dir.join(rel);
    let io = |e: std::io::Error| ImportError::Io {
        what: "read the weights' side file",
        path: path.clone(),
        source: e,
    };
    // Only this tensor's bytes: a side file holds every weight, often gigabytes.
    let mut file = crate::fsio::open_regular(&path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let num = |k: &str| field(k).and_then(|v| v.parse::<u64>().ok());
    let offset = num("offset").unwrap_or(0);
    let length = num("length").unwrap_or(size.saturating_sub(offset));
    let end = offset.saturating_add(length);
    if end > size {
        return Err(malformed(&format!(
            "lies at bytes {offset}..{end} of {}, which has {size} bytes: the side file is truncated",
            path.display()
        )));
    }
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut bytes = vec![0u8; usize::try_from(length).unwrap_or(usize::MAX)];
    file.read_exact(&mut bytes).map_err(io)?;
    Ok(bytes)
}
