//! PyTorch `.pt`/`.pth` state dicts, read without Python and without running anything.
//!
//! `torch.save` writes a zip archive: `<name>/data.pkl` is a pickle of the dict, and each tensor's
//! bytes are in `<name>/data/<key>`. A pickle is a small program for a stack machine, and the
//! standard unpickler will call any function the file names — loading an untrusted file could
//! run code. This reader is a restricted unpickler: it knows the opcodes that containers and
//! numbers need, and it "calls" only the few functions a state dict uses
//! (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`), which
//! it implements itself as plain data. Any other function or class is refused by name.

mod machine;

use machine::{Machine, Value};
use std::fmt;

/// A tensor's element type, from the storage class that `torch.save` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
    F16,
    Bf16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F64 | Dtype::I64 => 8,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F16 | Dtype::Bf16 | Dtype::I16 => 2,
            Dtype::I8 | Dtype::U8 | Dtype::Bool => 1,
        }
    }

    fn from_storage(name: &str) -> Option<Dtype> {
        Some(match name {
            "FloatStorage" => Dtype::F32,
            "DoubleStorage" => Dtype::F64,
            "HalfStorage" => Dtype::F16,
            "BFloat16Storage" => Dtype::Bf16,
            "LongStorage" => Dtype::I64,
            "IntStorage" => Dtype::I32,
            "ShortStorage" => Dtype::I16,
            "CharStorage" => Dtype::I8,
            "ByteStorage" => Dtype::U8,
            "BoolStorage" => Dtype::Bool,
            _ => return None,
        })
    }
}

/// A tensor as the pickle describes it: a view into a storage record of the archive.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorRef {
    /// The record holding the bytes: `data/<key>`.
    pub key: String,
    pub dtype: Dtype,
    /// Elements the storage holds.
    pub numel: u64,
    /// The view: offset, sizes and strides, in elements.
    pub offset: i64,
    pub size: Vec<i64>,
    pub stride: Vec<i64>,
}

/// Why a pickle was refused.
#[derive(Clone, Debug, PartialEq)]
pub struct PickleError(pub String);

impl fmt::Display for PickleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, PickleError> {
    Err(PickleError(msg.into()))
}

/// The named tensors of a pickled state dict: the top-level dict's tensors, or, for a training
/// checkpoint, those of its `state_dict` / `model` / `model_state_dict` entry.
pub fn state_dict(pickle: &[u8]) -> Result<Vec<(String, TensorRef)>, PickleError> {
    let mut m = Machine::new(pickle);
    let Value::Dict(top) = m.run()? else {
        return err("the file holds no dict; save a model's state_dict()");
    };
    let tensors = |d: &[(Value, Value)]| -> Vec<(String, TensorRef)> {
        d.iter()
            .filter_map(|(k, v)| match (k, v) {
                (Value::Str(k), Value::Tensor(t)) => Some((k.clone(), t.clone())),
                _ => None,
            })
            .collect()
    };
    let direct = tensors(&top);
    if !direct.is_empty() {
        return Ok(direct);
    }
    for wanted in ["state_dict", "model_state_dict", "model"] {
        let inner = top.iter().find_map(|(k, v)| match (k, v) {
            (Value::Str(k), Value::Dict(d)) if k == wanted => Some(tensors(d)),
            _ => None,
        });
        if let Some(found) = inner.filter(|t| !t.is_empty()) {
            return Ok(found);
        }
    }
    err("the file's dict holds no tensors; save a model's state_dict()")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn code_is_refused_by_name_before_it_runs() {
        // pickle.dumps(os.system) style: GLOBAL 'os system', then REDUCE.
        let evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.";
        let e = state_dict(evil).unwrap_err().0;
        assert!(e.contains("os.system") && e.contains("refuses"), "{e}");
        let e = state_dict(b"\x80\x02cbuiltins\neval\n.").unwrap_err().0;
        assert!(e.contains("builtins.eval"), "{e}");
    }

    #[test]
    fn a_truncated_pickle_says_so() {
        let e = state_dict(b"\x80\x02}q\x00(X\x05\x00\x00").unwrap_err().0;
        assert!(e.contains("truncated"), "{e}");
        assert!(state_dict(b"").unwrap_err().0.contains("truncated"));
    }

    #[test]
    fn a_pickle_nested_a_million_levels_is_refused_without_overflowing_the_stack() {
        let n = 1_000_000;
        let mut p = b"\x80\x02".to_vec();
        p.extend(std::iter::repeat_n(b']', n));
        p.extend(std::iter::repeat_n(b'a', n - 1));
        p.push(b'.');
        let e = state_dict(&p).unwrap_err().0;
        assert!(e.contains("levels deep"), "{e}");
    }

    #[test]
    fn memo_copies_that_double_each_step_are_stopped() {
        // memo[i+1] = [memo[i], memo[i]]: 60 steps would be 2^60 values.
        let mut p = b"\x80\x02]q\x00".to_vec();
        for i in 0..60u8 {
            p.extend([b']', b'(', b'h', i, b'h', i, b'e', b'q', i + 1]);
        }
        p.push(b'.');
        let e = state_dict(&p).unwrap_err().0;
        assert!(e.contains("copies its values over 256 MB"), "{e}");
    }

    #[test]
    fn negative_long1_integers_read_back() {
        let mut m = Machine::new(b"\x8a\x01\xff.");
        assert_eq!(m.run().unwrap(), Value::Int(-1));
    }
}
