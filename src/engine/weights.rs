//! Weights files: reading .safetensors and PyTorch .pt/.pth state dicts (and writing
//! .safetensors). Mapping their tensors onto a network is `weights_map`.

use super::error::EngineError;
use super::files::{read_tensors, write_tensors};
use super::params::ParamStore;
use super::weights_format::{WeightsFormat, identify};
use crate::pth::{Dtype, TensorRef, state_dict};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use tch::{Kind, Tensor};

/// Reads every named tensor of a weights file: .safetensors, or a zip-format .pt/.pth written
/// by `torch.save` (a dict or OrderedDict of tensors, or a checkpoint dict with a
/// `state_dict`). The format is told by the file's first bytes, not its name.
pub fn read_weights(path: &Path) -> Result<Vec<(String, Tensor)>, EngineError> {
    Ok(read_weights_wanted(path, &|_, _| true)?.0)
}

/// The name and shape of every tensor in a weights file, reading no tensor data from a
/// PyTorch file (its pickle describes them): listing a file, or checking it against a design,
/// costs kilobytes however large (or however compressed a "bomb") its tensors are.
pub fn read_shapes(path: &Path) -> Result<Shapes, EngineError> {
    Ok(read_weights_wanted(path, &|_, _| false)?.1)
}

/// [`read_shapes`], after reading every byte of the file once to check that it is whole (a
/// PyTorch file's records against their CRC-32s, streamed; a .safetensors file is parsed
/// whole): what `netloom weights` and the app's weights review say, in constant memory however
/// large (or however compressed) the tensors are.
pub fn check_weights_file(path: &Path) -> Result<Shapes, EngineError> {
    let shapes = read_shapes(path)?;
    if identify(path)? == WeightsFormat::TorchZip {
        let bad = |problem: String| EngineError::BadFile {
            problem,
            path: path.to_owned(),
        };
        let mut zip = open_zip(path)?;
        for i in 0..zip.len() {
            let mut entry = zip
                .by_index(i)
                .map_err(|e| bad(format!("record {i} of the archive can't be read: {e}")))?;
            let name = entry.name().to_owned();
            std::io::copy(&mut entry, &mut std::io::sink())
                .map_err(|e| bad(format!("{name} can't be read (truncated or corrupt?): {e}")))?;
        }
    }
    Ok(shapes)
}

pub use super::files::NamedTensors;

/// Tensor names with their shapes.
pub type Shapes = Vec<(String, Vec<i64>)>;

/// The tensors of a weights file whose name and shape `want` accepts, and the name and shape
/// of every tensor in it. For a PyTorch file only the storages of wanted tensors are read,
/// and each only as far as its tensors reach: reading pretrained weights for a design costs
/// about the bytes the design needs, whatever else (or however large a compressed "bomb") the
/// file holds, when `want` takes only the design's names and shapes.
pub fn read_weights_wanted(
    path: &Path,
    want: &dyn Fn(&str, &[i64]) -> bool,
) -> Result<(NamedTensors, Shapes), EngineError> {
    let bad = |problem: String| EngineError::BadFile {
        problem,
        path: path.to_owned(),
    };
    match identify(path)? {
        WeightsFormat::TorchZip => read_pth(path, want),
        WeightsFormat::TorchLegacy => Err(bad(
            "this is a PyTorch file in the legacy format (before PyTorch 1.6), which netloom doesn't read. Convert it with PyTorch: torch.save(torch.load(\"OLD.pth\"), \"NEW.pth\") writes the zip format, or save it with safetensors.torch.save_file".to_owned(),
        )),
        WeightsFormat::Safetensors => {
            let all = read_tensors(path)?;
            let shapes = shapes_of(&all);
            let wanted = all
                .into_iter()
                .filter(|(n, t)| want(n, &t.size()))
                .collect();
            Ok((wanted, shapes))
        }
    }
}

/// The most a pickle (data.pkl) may take: a state dict's pickle is kilobytes (ResNet-152's is
/// 100 kB); the tensors' bytes are in their own records.
const MAX_PICKLE_BYTES: u64 = 256 << 20;

/// Saves a network's weights and buffers under their state-dict names.
pub fn save_weights(params: &ParamStore, path: &Path) -> Result<(), EngineError> {
    write_tensors(path, &params.to_named_cpu())
}

/// Writes named tensors (not a network's) as safetensors, atomically: e.g. exported data.
pub fn write_named(path: &Path, tensors: &[(String, Tensor)]) -> Result<(), EngineError> {
    write_tensors(path, tensors)
}

/// Loads every tensor of a network strictly (each one present, with its shape, and nothing
/// else): weights saved by [`save_weights`], by PyTorch's `safetensors.torch.save_file`, or a
/// `torch.save`d state dict.
///
/// Only the tensors the network has are read (a PyTorch file's other storages never are), so
/// loading costs about the bytes of the network's weights; a tensor the network doesn't have
/// is still an error, told from the file's list of names and shapes.
pub fn load_weights(params: &ParamStore, path: &Path) -> Result<(), EngineError> {
    let named = read_fitting(params, path)?;
    params.load_named(&named, path)
}

/// The tensors of `path` that fit `params` by name and shape, after refusing a file with
/// other names or shapes: decided from the file's list of names and shapes, so that a tensor
/// of the wrong shape (a "bomb" of a billion values under a design's name) is never read.
pub fn read_fitting(params: &ParamStore, path: &Path) -> Result<NamedTensors, EngineError> {
    let fits = |name: &str, shape: &[i64]| {
        params
            .by_name(name)
            .is_some_and(|p| super::params::fits(shape, &p.tensor.size()))
    };
    let (named, shapes) = read_weights_wanted(path, &fits)?;
    params.refuse_unexpected(shapes.iter().map(|(n, _)| n.as_str()), path)?;
    if let Some((name, shape)) = shapes.iter().find(|(n, s)| !fits(n, s)) {
        let design = params
            .by_name(name)
            .map(|p| p.tensor.size())
            .unwrap_or_default();
        return Err(EngineError::BadFile {
            problem: format!(
                "\"{name}\" has shape {shape:?} in the weights file but {design:?} in the design; the file is from a different design"
            ),
            path: path.to_owned(),
        });
    }
    Ok(named)
}

/// A zip-format PyTorch file's archive, or why it isn't one.
fn open_zip(path: &Path) -> Result<zip::ZipArchive<std::fs::File>, EngineError> {
    let file = crate::fsio::open_regular(path)
        .map_err(|e| EngineError::io("read the weights", path, e))?;
    zip::ZipArchive::new(file).map_err(|e| EngineError::BadFile {
        problem: format!(
            "this PyTorch file is not a readable zip archive (truncated or corrupt?): {e}"
        ),
        path: path.to_owned(),
    })
}

/// The tensors of a zip-format PyTorch file that `want` accepts, read with the restricted
/// unpickler, and every tensor's name and shape.
fn read_pth(
    path: &Path,
    want: &dyn Fn(&str, &[i64]) -> bool,
) -> Result<(NamedTensors, Shapes), EngineError> {
    let bad = |problem: String| EngineError::BadFile {
        problem,
        path: path.to_owned(),
    };
    let mut zip = open_zip(path)?;
    let pkl = zip
        .file_names()
        .find(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
        .map(str::to_owned)
        .ok_or_else(|| {
            bad("this zip has no data.pkl, so it was not written by torch.save".to_owned())
        })?;
    let prefix = pkl.trim_end_matches("data.pkl").to_owned();
    // Reads a record that should hold at most `limit` bytes, refusing a longer one without
    // inflating it. The declared size is the file's claim, not a promise (1 TiB once aborted
    // an allocation here), so it only bounds the first reserve. Reading one byte past the
    // limit reaches the record's end, where the zip reader checks its CRC.
    let mut read = |name: &str, limit: u64| -> Result<Vec<u8>, EngineError> {
        let entry = zip
            .by_name(name)
            .map_err(|e| bad(format!("the archive has no readable {name}: {e}")))?;
        let mut bytes = Vec::with_capacity(entry.size().min(limit).min(64 << 20) as usize);
        entry
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{name} can't be read (truncated or corrupt?): {e}")))?;
        if bytes.len() as u64 > limit {
            return Err(bad(format!(
                "{name} holds more than the {limit} bytes expected of it: the file is corrupt, or not a state dict"
            )));
        }
        Ok(bytes)
    };
    if let Ok(order) = read(&format!("{prefix}byteorder"), 16)
        && order.trim_ascii() != b"little"
    {
        return Err(bad(
            "the tensors were saved big-endian; load and save the file again on a little-endian machine".to_owned(),
        ));
    }
    let pickle = read(&pkl, MAX_PICKLE_BYTES)?;
    let refs = state_dict(&pickle).map_err(|e| bad(e.0))?;
    let shapes: Shapes = refs
        .iter()
        .map(|(n, r)| (n.clone(), r.size.clone()))
        .collect();
    // How far into each storage the wanted tensors reach: only that much is read.
    let mut reach: HashMap<String, u64> = HashMap::new();
    for (_, r) in refs.iter().filter(|(n, r)| want(n, &r.size)) {
        let bytes = r.numel.saturating_mul(r.dtype.size() as u64);
        let e = reach.entry(r.key.clone()).or_default();
        *e = (*e).max(bytes);
    }
    let mut storages: HashMap<String, Vec<u8>> = HashMap::new();
    let mut out = Vec::new();
    for (name, r) in refs.into_iter().filter(|(n, r)| want(n, &r.size)) {
        if !storages.contains_key(&r.key) {
            let limit = reach.get(&r.key).copied().unwrap_or(0);
            let bytes = read(&format!("{prefix}data/{}", r.key), limit)?;
            storages.insert(r.key.clone(), bytes);
        }
        let bytes = storages.get(&r.key).map(Vec::as_slice).unwrap_or_default();
        let t = view(&r, bytes).map_err(|p| bad(format!("tensor \"{name}\": {p}")))?;
        out.push((name, t));
    }
    Ok((out, shapes))
}

fn kind(d: Dtype) -> Kind {
    match d {
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        Dtype::F16 => Kind::Half,
        Dtype::Bf16 => Kind::BFloat16,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::I16 => Kind::Int16,
        Dtype::I8 => Kind::Int8,
        Dtype::U8 => Kind::Uint8,
        Dtype::Bool => Kind::Bool,
    }
}

/// The tensor `r` describes, copied out of its storage's bytes after checking that the view
/// stays inside them (a corrupt file must not read out of bounds).
fn view(r: &TensorRef, bytes: &[u8]) -> Result<Tensor, String> {
    let need = (r.numel as usize)
        .checked_mul(r.dtype.size())
        .ok_or("its storage size overflows")?;
    if bytes.len() < need {
        return Err(format!(
            "its storage holds {} bytes, but {need} are needed (the file is truncated or corrupt)",
            bytes.len()
        ));
    }
    if r.size.len() != r.stride.len() || r.size.iter().chain(&r.stride).any(|&v| v < 0) {
        return Err("its size and stride don't fit together (corrupt file)".to_owned());
    }
    // Sizes, strides and offsets come from the file: checked arithmetic, so that a product
    // that overflows is an error and never a skipped bounds check.
    let overflow = || "its size, stride or offset overflows (corrupt file)".to_owned();
    let elems = r
        .size
        .iter()
        .try_fold(1i64, |n, &d| n.checked_mul(d))
        .ok_or_else(overflow)?;
    if elems > r.numel as i64 {
        return Err(format!(
            "its view has {elems} elements but its storage only {}: a tensor can't be larger than its storage (corrupt file, or an expanded view: save it with .contiguous())",
            r.numel
        ));
    }
    if elems > 0 {
        let reach = r
            .size
            .iter()
            .zip(&r.stride)
            .try_fold(0i64, |acc, (s, st)| {
                (s - 1).checked_mul(*st)?.checked_add(acc)
            })
            .ok_or_else(overflow)?;
        let last = r.offset.checked_add(reach).ok_or_else(overflow)?;
        if r.offset < 0 || last >= r.numel as i64 {
            return Err("its view reaches past its storage (corrupt file)".to_owned());
        }
    }
    let storage = Tensor::from_data_size(&bytes[..need], &[r.numel as i64], kind(r.dtype));
    Ok(storage
        .as_strided(r.size.as_slice(), r.stride.as_slice(), r.offset)
        .contiguous())
}

/// (name, shape) of named tensors.
pub fn shapes_of(named: &[(String, Tensor)]) -> Vec<(String, Vec<i64>)> {
    named.iter().map(|(n, t)| (n.clone(), t.size())).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn r(numel: u64, offset: i64, size: &[i64], stride: &[i64]) -> TensorRef {
        TensorRef {
            key: "0".to_owned(),
            dtype: Dtype::F32,
            numel,
            offset,
            size: size.to_vec(),
            stride: stride.to_vec(),
        }
    }

    #[test]
    fn views_from_a_hostile_file_are_refused_not_panicked_on() {
        let bytes = vec![0u8; 64]; // 16 float32s
        // Sizes whose product overflows i64 once skipped the bounds check.
        let e = view(&r(16, 0, &[1 << 32, 1 << 32, 4], &[0, 0, 1]), &bytes).unwrap_err();
        assert!(e.contains("overflows"), "{e}");
        // A reach that overflows: (size - 1) * stride past i64.
        let e = view(&r(16, 0, &[3], &[i64::MAX / 2 + 1]), &bytes).unwrap_err();
        assert!(e.contains("overflows"), "{e}");
        // Zero strides: a 823-byte file once expanded to 1.4 GB.
        let e = view(&r(16, 0, &[1 << 20, 1 << 10], &[0, 0]), &bytes).unwrap_err();
        assert!(e.contains("can't be larger than its storage"), "{e}");
        let e = view(&r(16, 14, &[2, 2], &[2, 1]), &bytes).unwrap_err();
        assert!(e.contains("reaches past"), "{e}");
        let t = view(&r(16, 4, &[2, 3], &[4, 1]), &bytes).unwrap();
        assert_eq!(t.size(), [2, 3]);
    }
}
