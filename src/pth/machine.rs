//! The restricted unpickler: a stack machine that knows the opcodes containers and numbers
//! need, calls only the allowed globals (as data), and bounds nesting and memo copies.

use super::{Dtype, PickleError, TensorRef, err};
use std::collections::HashMap;

/// What the restricted unpickler can build.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
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

/// The functions and classes a state dict names: the only globals allowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Global {
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

pub(super) struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    memo: HashMap<u32, Value>,
    /// Bytes copied out of the memo so far (bounded by [`MAX_COPIED`]).
    copied: usize,
}

impl<'a> Machine<'a> {
    /// A machine about to run the pickle `data`.
    pub(super) fn new(data: &'a [u8]) -> Machine<'a> {
        Machine {
            data,
            pos: 0,
            stack: Vec::new(),
            memo: HashMap::new(),
            copied: 0,
        }
    }

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
    pub(super) fn run(&mut self) -> Result<Value, PickleError> {
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
