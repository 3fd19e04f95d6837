//! Telling a weights file's format by its structure: safetensors, a zip-format `torch.save`
//! file, or a legacy pickle one. Never by one byte (a safetensors file's first byte is the low
//! byte of its header length, 0x80 in one file of 256).

use super::error::EngineError;
use std::io::Read;
use std::path::Path;

/// The formats of weights file netloom tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WeightsFormat {
    /// safetensors: an 8-byte little-endian header length, that many bytes of JSON, the data.
    Safetensors,
    /// `torch.save` since PyTorch 1.6: a zip archive (a local-file header first).
    TorchZip,
    /// `torch.save` before 1.6 (or `_use_new_zipfile_serialization=False`): a pickle that
    /// starts with the protocol opcode and then torch's magic number.
    TorchLegacy,
}

/// The largest safetensors header netloom reads: the format's own limit (100 MB).
const MAX_SAFETENSORS_HEADER: u64 = 100_000_000;

/// The bytes that start a legacy `torch.save` file after the protocol opcode and version:
/// `LONG1` of 10 bytes holding torch's magic number 0x1950a86a20f9469cfc6c, little-endian.
const TORCH_LEGACY_MAGIC: [u8; 12] = [
    0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
];

/// Tells a weights file's format by its structure, never by one byte: a safetensors file
/// starts with its header length, so its first byte is anything (0x80, a pickle's opcode, in
/// one file of 256; "PK" in others). Checked in an order where no format can pass for another:
/// a zip's local-file signature, a legacy pickle's opcode with torch's magic number, and a
/// safetensors header length that fits the file followed by a header that parses as JSON.
pub(crate) fn identify(path: &Path) -> Result<WeightsFormat, EngineError> {
    let bad = |problem: String| EngineError::BadFile {
        problem,
        path: path.to_owned(),
    };
    let mut file = crate::fsio::open_regular(path)
        .map_err(|e| EngineError::io("read the weights", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| EngineError::io("read the weights", path, e))?
        .len();
    if len == 0 {
        return Err(bad("the weights file is empty".to_owned()));
    }
    let mut head = [0u8; 14];
    let n = read_up_to(&mut file, &mut head)
        .map_err(|e| EngineError::io("read the weights", path, e))?;
    let head = &head[..n];
    if head.starts_with(b"PK\x03\x04") {
        return Ok(WeightsFormat::TorchZip);
    }
    if let [0x80, 2..=5, rest @ ..] = head
        && rest.starts_with(&TORCH_LEGACY_MAGIC)
    {
        return Ok(WeightsFormat::TorchLegacy);
    }
    let Some(header_len) = head
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
    else {
        return Err(bad(format!(
            "this is not a readable .safetensors file, nor a .pt/.pth written by torch.save: it is {len} bytes, too short for either"
        )));
    };
    let not_weights = |why: String| {
        bad(format!(
            "this is not a readable .safetensors file ({why}), nor a .pt/.pth written by torch.save: it is truncated, damaged or another kind of file"
        ))
    };
    if header_len == 0 || header_len > MAX_SAFETENSORS_HEADER || 8 + header_len > len {
        return Err(not_weights(format!(
            "its first 8 bytes give a header of {header_len} bytes, which doesn't fit the file's {len}"
        )));
    }
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(8))
        .map_err(|e| EngineError::io("read the weights", path, e))?;
    let mut header = Vec::with_capacity(header_len as usize);
    (&mut file)
        .take(header_len)
        .read_to_end(&mut header)
        .map_err(|e| EngineError::io("read the weights", path, e))?;
    match serde_json::from_slice::<serde_json::Value>(&header) {
        Ok(serde_json::Value::Object(_)) => Ok(WeightsFormat::Safetensors),
        Ok(_) => Err(not_weights(
            "its header is JSON but not an object of tensors".to_owned(),
        )),
        Err(e) => Err(not_weights(format!(
            "its {header_len}-byte header is not JSON: {e}"
        ))),
    }
}

/// Reads until `buf` is full or the file ends; how many bytes were read.
fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::engine::{read_shapes, read_weights};

    /// A safetensors file holding `fc.weight` = [1.5, -2.0], its JSON header padded with
    /// spaces (as the format allows) to a length whose low byte is `low`: the file's first
    /// byte is then `low`, whatever it happens to mean in other formats (0x80: a pickle's
    /// opcode; 0x50: "P" of "PK").
    fn safetensors_with_first_byte(low: u8) -> Vec<u8> {
        let json = r#"{"fc.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        let pad = (usize::from(low) + 256 - json.len() % 256) % 256;
        let header = format!("{json}{}", " ".repeat(pad));
        assert_eq!(header.len() % 256, usize::from(low));
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        for v in [1.5f32, -2.0] {
            bytes.extend(v.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn a_safetensors_file_reads_whatever_its_first_byte() {
        let dir = std::env::temp_dir().join(format!("netloom-st-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for low in 0..=255u8 {
            let path = dir.join(format!("{low}.safetensors"));
            let bytes = safetensors_with_first_byte(low);
            assert_eq!(bytes[0], low);
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(
                identify(&path).unwrap(),
                WeightsFormat::Safetensors,
                "first byte {low:#04x}"
            );
            let named =
                read_weights(&path).unwrap_or_else(|e| panic!("first byte {low:#04x}: {e}"));
            assert_eq!(named.len(), 1);
            let v = Vec::<f32>::try_from(&named[0].1).unwrap();
            assert_eq!(v, [1.5, -2.0], "first byte {low:#04x}");
            assert_eq!(
                read_shapes(&path).unwrap(),
                [("fc.weight".to_owned(), vec![2])]
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_legacy_pickle_is_told_by_its_magic_number_and_anything_else_is_named() {
        let dir = std::env::temp_dir().join(format!("netloom-legacy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // What torch.save(..., _use_new_zipfile_serialization=False) starts with.
        let mut legacy = vec![0x80, 0x02];
        legacy.extend(TORCH_LEGACY_MAGIC);
        legacy.extend(b".\x80\x02M\xe9\x03.");
        let path = dir.join("old.pth");
        std::fs::write(&path, &legacy).unwrap();
        let e = read_weights(&path).unwrap_err().to_string();
        assert!(e.contains("legacy format"), "{e}");
        // A plain pickle (not torch's) is not called a PyTorch file.
        let path = dir.join("pickle.pkl");
        std::fs::write(&path, b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.").unwrap();
        let e = read_weights(&path).unwrap_err().to_string();
        assert!(e.contains("not a readable .safetensors file"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
