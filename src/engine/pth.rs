//! PyTorch `.pt`/`.pth` state dicts, read without Python and without running anything.
//!
//! `torch.save` writes a zip archive: `<name>/data.pkl` is a pickle of the dict, and each tensor's
//! bytes are in `<name>/data/<key>`. A pickle is a small program for a stack machine, and the
//! standard unpickler will call any function the file names — loading an untrusted file could
//! run code. This reader is a restricted unpickler: it knows the opcodes that containers and
//! numbers need, and it "calls" only the few functions a state dict uses
//! (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`), which
//! it implements itself as plain data. Any other function or class is refused by name.

use std::collections::HashMap;
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

/// What the restricted unpickler can build.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// A function or class named by GLOBAL, allowed by [`allowed`].
    Global(Global),
    Storage {
        key: String,
        dtype: Dtype,
        numel: u64,
    },
    Tensor(TensorRef),
    Mark,
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

/// The functions and classes a state dict names: the only globals allowed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Global {
    OrderedDict,
    RebuildTensor,
    RebuildParameter,
    /// `torch.FloatStorage` and its kin.
    Storage(Dtype),
}

/// The only globals a state dict needs. Everything else is refused before anything happens.
fn allowed(module: &str, name: &str) -> Option<Global> {
    Some(match (module, name) {
        ("collections", "OrderedDict") => Global::OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2") => Global::RebuildTensor,
        ("torch._utils", "_rebuild_parameter") => Global::RebuildParameter,
        ("torch", s) => Global::Storage(Dtype::from_storage(s)?),
        _ => return None,
    })
}

/// How deep values may nest. A state dict nests a handful of levels (a dict of tensors built
/// from tuples); a pickle nested a million levels deep once overflowed the stack (dropping or
/// copying such a value recurses).
const MAX_DEPTH: usize = 100;

/// How many bytes copies of remembered values may take in all. A 4 KB pickle whose memo
/// references copy ever larger values ("billion laughs") once grew to gigabytes.
const MAX_COPIED: usize = 256 << 20;

/// How deep `v` nests (a scalar is 1), or None when deeper than `limit`. Recurses at most
/// `limit` levels.
fn depth_within(v: &Value, limit: usize) -> Option<usize> {
    let limit = limit.checked_sub(1)?;
    let inner = match v {
        Value::Tuple(items) | Value::List(items) => items
            .iter()
            .try_fold(0, |d, x| Some(d.max(depth_within(x, limit)?)))?,
        Value::Dict(pairs) => pairs.iter().try_fold(0, |d, (k, x)| {
            Some(d.max(depth_within(k, limit)?).max(depth_within(x, limit)?))
        })?,
        _ => 0,
    };
    Some(inner + 1)
}

/// Roughly how many bytes a copy of `v` takes, or None when over `budget`.
fn size_within(v: &Value, budget: usize) -> Option<usize> {
    let own = std::mem::size_of::<Value>();
    let inner = match v {
        Value::Str(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::Tuple(items) | Value::List(items) => items.iter().try_fold(0usize, |n, x| {
            n.checked_add(size_within(x, budget.checked_sub(n)?)?)
        })?,
        Value::Dict(pairs) => pairs.iter().try_fold(0usize, |n, (k, x)| {
            let n = n.checked_add(size_within(k, budget.checked_sub(n)?)?)?;
            n.checked_add(size_within(x, budget.checked_sub(n)?)?)
        })?,
        Value::Tensor(t) => t.key.len() + 8 * (t.size.len() + t.stride.len()),
        Value::Storage { key, .. } => key.len(),
        _ => 0,
    };
    Some(own + inner).filter(|&n| n <= budget)
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    memo: HashMap<u32, Value>,
    /// Bytes copied out of the memo so far (bounded by [`MAX_COPIED`]).
    copied: usize,
}

impl<'a> Machine<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let Some(end) = end else {
            return err("the pickle ends in the middle of an instruction (the file is truncated)");
        };
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, PickleError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn line(&mut self) -> Result<String, PickleError> {
        let rest = &self.data[self.pos..];
        let Some(n) = rest.iter().position(|&b| b == b'\n') else {
            return err("the pickle ends in the middle of a name (the file is truncated)");
        };
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }

    fn text(&mut self, n: usize) -> Result<String, PickleError> {
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).or_else(|_| err("a string in the pickle is not UTF-8"))
    }

    fn pop(&mut self) -> Result<Value, PickleError> {
        match self.stack.pop() {
            Some(Value::Mark) | None => err("the pickle is malformed (its stack ran empty)"),
            Some(v) => Ok(v),
        }
    }

    /// Everything above the topmost MARK, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Value>, PickleError> {
        let Some(at) = self.stack.iter().rposition(|v| *v == Value::Mark) else {
            return err("the pickle is malformed (a MARK is missing)");
        };
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }

    fn top(&mut self) -> Result<&mut Value, PickleError> {
        match self.stack.last_mut() {
            Some(Value::Mark) | None => err("the pickle is malformed (its stack ran empty)"),
            Some(v) => Ok(v),
        }
    }

    fn memo_get(&mut self, k: u32) -> Result<(), PickleError> {
        let Some(v) = self.memo.get(&k) else {
            return err("the pickle refers to a value it never stored (corrupt file)");
        };
        let v = Self::copy(&mut self.copied, v)?;
        self.stack.push(v);
        Ok(())
    }

    fn memo_put(&mut self, k: u32) -> Result<(), PickleError> {
        let Some(top) = self.stack.last().filter(|v| **v != Value::Mark) else {
            return err("the pickle is malformed (its stack ran empty)");
        };
        let v = Self::copy(&mut self.copied, top)?;
        self.memo.insert(k, v);
        Ok(())
    }

    /// A copy of `v`, counted against [`MAX_COPIED`] in `copied`.
    fn copy(copied: &mut usize, v: &Value) -> Result<Value, PickleError> {
        let Some(size) = size_within(v, MAX_COPIED - *copied) else {
            return err(format!(
                "the pickle copies its values over {} MB in all, far more than any state dict; the file is damaged or hostile",
                MAX_COPIED >> 20
            ));
        };
        *copied += size;
        Ok(v.clone())
    }

    /// Refuses `items` that would nest deeper than [`MAX_DEPTH`] inside a container.
    fn nestable<'v>(items: impl IntoIterator<Item = &'v Value>) -> Result<(), PickleError> {
        for v in items {
            if depth_within(v, MAX_DEPTH - 1).is_none() {
                return err(format!(
                    "the pickle nests values more than {MAX_DEPTH} levels deep, far more than any state dict; the file is damaged or hostile"
                ));
            }
        }
        Ok(())
    }

    fn set_items(&mut self, items: Vec<Value>) -> Result<(), PickleError> {
        Self::nestable(&items)?;
        let Value::Dict(d) = self.top()? else {
            return err("the pickle sets items on something that is not a dict");
        };
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            d.push((k, v));
        }
        Ok(())
    }

    // The opcode loop: one arm per pickle opcode reads best as one match.
    #[allow(clippy::too_many_lines)]
    fn run(&mut self) -> Result<Value, PickleError> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    let proto = self.u8()?;
                    if proto > 5 {
                        return err(format!("pickle protocol {proto} is newer than any known"));
                    }
                }
                0x95 => {
                    self.take(8)?;
                }
                b'.' => return self.pop(),
                b'(' => self.stack.push(Value::Mark),
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'K' => {
                    let v = self.u8()?;
                    self.stack.push(Value::Int(i64::from(v)));
                }
                b'M' => {
                    let b = self.take(2)?;
                    self.stack
                        .push(Value::Int(i64::from(u16::from_le_bytes([b[0], b[1]]))));
                }
                b'J' => {
                    let v = self.u32()? as i32;
                    self.stack.push(Value::Int(i64::from(v)));
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    if n > 8 {
                        return err("the pickle holds an integer too large for a tensor size");
                    }
                    let mut v: i64 = 0;
                    for (i, &byte) in b.iter().enumerate() {
                        v |= i64::from(byte) << (8 * i);
                    }
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    self.stack.push(Value::Int(v));
                }
                b'G' => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.stack.push(Value::Float(f64::from_be_bytes(a)));
                }
                b'X' => {
                    let n = self.u32()? as usize;
                    let s = self.text(n)?;
                    self.stack.push(Value::Str(s));
                }
                0x8c => {
                    let n = self.u8()? as usize;
                    let s = self.text(n)?;
                    self.stack.push(Value::Str(s));
                }
                b'C' => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.stack.push(Value::Bytes(b));
                }
                b'B' => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.stack.push(Value::Bytes(b));
                }
                b')' => self.stack.push(Value::Tuple(Vec::new())),
                b']' => self.stack.push(Value::List(Vec::new())),
                b'}' => self.stack.push(Value::Dict(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    Self::nestable(&items)?;
                    self.stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    Self::nestable(&items)?;
                    self.stack.push(Value::Tuple(items));
                }
                b'q' => {
                    let k = u32::from(self.u8()?);
                    self.memo_put(k)?;
                }
                b'r' => {
                    let k = self.u32()?;
                    self.memo_put(k)?;
                }
                0x94 => {
                    let k = self.memo.len() as u32;
                    self.memo_put(k)?;
                }
                b'h' => {
                    let k = u32::from(self.u8()?);
                    self.memo_get(k)?;
                }
                b'j' => {
                    let k = self.u32()?;
                    self.memo_get(k)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.global(&module, &name)?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Value::Str(m), Value::Str(n)) = (module, name) else {
                        return err("the pickle is malformed (a global without a name)");
                    };
                    self.global(&m, &n)?;
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let v = persistent(pid)?;
                    self.stack.push(v);
                }
                b'R' => {
                    let args = self.pop()?;
                    let f = self.pop()?;
                    let v = reduce(f, args)?;
                    self.stack.push(v);
                }
                0x81 => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let v = reduce(cls, args)?;
                    self.stack.push(v);
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                b'a' => {
                    let v = self.pop()?;
                    Self::nestable([&v])?;
                    let Value::List(l) = self.top()? else {
                        return err("the pickle appends to something that is not a list");
                    };
                    l.push(v);
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    Self::nestable(&items)?;
                    let Value::List(l) = self.top()? else {
                        return err("the pickle appends to something that is not a list");
                    };
                    l.extend(items);
                }
                b'b' => {
                    // BUILD sets an object's state. An OrderedDict's only state is the
                    // `_metadata` PyTorch attaches (module versions); tensors have none here.
                    let _state = self.pop()?;
                    if !matches!(self.top()?, Value::Dict(_) | Value::Tensor(_)) {
                        return err("the pickle sets the state of an object netloom does not read");
                    }
                }
                other => {
                    return err(format!(
                        "the file uses pickle instruction 0x{other:02x}, which a state dict doesn't need; netloom reads only dicts of tensors"
                    ));
                }
            }
        }
    }

    fn global(&mut self, module: &str, name: &str) -> Result<(), PickleError> {
        match allowed(module, name) {
            Some(g) => {
                self.stack.push(Value::Global(g));
                Ok(())
            }
            None => err(format!(
                "the file asks to call {module}.{name}, which a state dict never needs; netloom refuses it, because calling it could run code. Save only the model's state_dict()"
            )),
        }
    }
}

fn int(v: &Value, what: &str) -> Result<i64, PickleError> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => err(format!("the pickle's {what} is not an integer")),
    }
}

fn ints(v: &Value, what: &str) -> Result<Vec<i64>, PickleError> {
    match v {
        Value::Tuple(items) | Value::List(items) => items.iter().map(|i| int(i, what)).collect(),
        _ => err(format!("the pickle's {what} is not a tuple")),
    }
}

/// `('storage', StorageClass, key, location, numel)`: a reference to `data/<key>`.
fn persistent(pid: Value) -> Result<Value, PickleError> {
    let Value::Tuple(t) = pid else {
        return err("the pickle refers to external data in a way torch.save doesn't");
    };
    match t.as_slice() {
        [
            Value::Str(kind),
            Value::Global(Global::Storage(dtype)),
            Value::Str(key),
            _location,
            numel,
        ] if kind == "storage" => {
            let numel = int(numel, "storage size")?;
            Ok(Value::Storage {
                key: key.clone(),
                dtype: *dtype,
                numel: u64::try_from(numel).or_else(|_| err("a storage has a negative size"))?,
            })
        }
        _ => err("the pickle refers to external data in a way torch.save doesn't"),
    }
}

/// Calls one of the allowed functions — as data, never as code.
fn reduce(f: Value, args: Value) -> Result<Value, PickleError> {
    let Value::Global(global) = f else {
        return err("the pickle calls something that is not an allowed function");
    };
    let Value::Tuple(args) = args else {
        return err("the pickle calls a function without an argument tuple");
    };
    match global {
        Global::OrderedDict => Ok(Value::Dict(Vec::new())),
        Global::RebuildTensor => {
            let [storage, offset, size, stride, ..] = args.as_slice() else {
                return err("a tensor in the pickle has too few fields");
            };
            let Value::Storage { key, dtype, numel } = storage else {
                return err("a tensor in the pickle has no storage");
            };
            Ok(Value::Tensor(TensorRef {
                key: key.clone(),
                dtype: *dtype,
                numel: *numel,
                offset: int(offset, "tensor offset")?,
                size: ints(size, "tensor size")?,
                stride: ints(stride, "tensor stride")?,
            }))
        }
        Global::RebuildParameter => match args.into_iter().next() {
            Some(t @ Value::Tensor(_)) => Ok(t),
            _ => err("a parameter in the pickle holds no tensor"),
        },
        Global::Storage(_) => err("the pickle calls a storage class, which torch.save never does"),
    }
}

/// The named tensors of a pickled state dict: the top-level dict's tensors, or, for a training
/// checkpoint, those of its `state_dict` / `model` / `model_state_dict` entry.
pub fn state_dict(pickle: &[u8]) -> Result<Vec<(String, TensorRef)>, PickleError> {
    let mut m = Machine {
        data: pickle,
        pos: 0,
        stack: Vec::new(),
        memo: HashMap::new(),
        copied: 0,
    };
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
        let mut m = Machine {
            data: b"\x8a\x01\xff.",
            pos: 0,
            stack: Vec::new(),
            memo: HashMap::new(),
            copied: 0,
        };
        assert_eq!(m.run().unwrap(), Value::Int(-1));
    }
}
