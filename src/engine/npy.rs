//! NumPy `.npy` files of float32, the interchange format of `netloom forward`: enough of the
//! format (version 1/2/3 headers, little-endian `<f4`, C order) for arrays NumPy and PyTorch write.

use std::path::{Path, PathBuf};

/// What is wrong with a `.npy` file, or why it could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The bytes are not a float32 array netloom reads; the problem says what to change.
    #[error("{problem}")]
    Invalid {
        /// What is wrong.
        problem: String,
    },
    /// A file's bytes are not a float32 array netloom reads.
    #[error("{problem}: {}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The file could not be read or written.
    #[error("could not {what} {}: {source}", path.display())]
    Io {
        /// "read" or "write".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

fn invalid(problem: impl Into<String>) -> NpyError {
    NpyError::Invalid {
        problem: problem.into(),
    }
}

/// A float32 array with its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values in C order.
    pub data: Vec<f32>,
}

/// Parses a `.npy` file's bytes; the error says what is wrong.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(invalid(
            "not a NumPy .npy file (it doesn't start with \\x93NUMPY)",
        ));
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(invalid(format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| invalid("the .npy header is truncated"))?;
    let header = std::str::from_utf8(header).map_err(|_| invalid("the .npy header is not text"))?;
    // NumPy's reader keeps the last of a repeated key, this one the first: refuse the ambiguity.
    for key in ["descr", "fortran_order", "shape"] {
        let quoted = [format!("'{key}'"), format!("\"{key}\"")];
        if quoted
            .iter()
            .map(|q| header.matches(q.as_str()).count())
            .sum::<usize>()
            > 1
        {
            return Err(invalid(format!(
                "the .npy header names '{key}' more than once: save the array again with np.save"
            )));
        }
    }
    let descr = field(header, "descr").ok_or_else(|| invalid("the .npy header has no 'descr'"))?;
    let descr = descr
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_matches(['\'', '"']);
    if !matches!(descr, "<f4" | "=f4" | "f4") {
        return Err(invalid(format!(
            "the array holds {descr}, but netloom reads float32 ('<f4'): convert it with arr.astype(np.float32)"
        )));
    }
    if field(header, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(invalid(
            "the array is in Fortran order; save it with np.ascontiguousarray(arr)",
        ));
    }
    let shape_text = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| invalid("the .npy header has no 'shape'"))?;
    let shape = shape_text
        .trim_start_matches([' ', '('])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| invalid(format!("bad dimension \"{s}\" in the .npy shape")))
        })
        .collect::<Result<Vec<usize>, NpyError>>()?;
    // The shape comes from the file: its product may overflow, so check it against the bytes.
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|n| n.checked_mul(4).is_some())
        .ok_or_else(|| {
            invalid(format!(
                "the .npy shape {shape:?} is larger than any file can hold: the header is damaged"
            ))
        })?;
    let body = &bytes[start + header_len..];
    if body.len() != count * 4 {
        let verdict = if body.len() < count * 4 {
            "it is truncated"
        } else {
            "it holds more than its header describes (a damaged header, or data appended)"
        };
        return Err(invalid(format!(
            "the array should hold {count} float32 values ({} bytes) but the file has {} bytes of data: {verdict}",
            count * 4,
            body.len()
        )));
    }
    let data = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(NpyArray { shape, data })
}

fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let rest = header.split(&format!("'{key}':")).nth(1)?;
    Some(rest.trim_start())
}

/// Reads a `.npy` file.
pub fn read(path: &Path) -> Result<NpyArray, NpyError> {
    let bytes = crate::fsio::read_regular(path).map_err(|source| NpyError::Io {
        what: "read",
        path: path.to_owned(),
        source,
    })?;
    parse(&bytes).map_err(|e| NpyError::InFile {
        path: path.to_owned(),
        problem: e.to_string(),
    })
}

/// The bytes of a version-1 `.npy` file.
pub fn encode(array: &NpyArray) -> Vec<u8> {
    let dims: Vec<String> = array.shape.iter().map(ToString::to_string).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad so the data starts on a 64-byte boundary, ending the header with a newline.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in &array.data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes a `.npy` file.
/// Whether [`write`] may write `path`: nothing is there, or a `.npy` file (told by its
/// magic string) that it replaces; anything else is refused.
pub fn replaceable(path: &Path) -> Result<(), NpyError> {
    let is_npy = |p: &Path| {
        crate::fsio::open_regular(p).is_ok_and(|mut f| {
            use std::io::Read;
            let mut magic = [0u8; 6];
            f.read_exact(&mut magic).is_ok() && &magic == b"\x93NUMPY"
        })
    };
    if path.exists() && !is_npy(path) {
        return Err(NpyError::InFile {
            path: path.to_owned(),
            problem: "the file exists and is not a .npy file, so netloom won't replace it: choose another name".to_owned(),
        });
    }
    Ok(())
}

/// Writes a `.npy` file, atomically ([`crate::fsio::atomic_write_bytes`]). An existing file
/// is replaced only when it is a `.npy` itself ([`replaceable`]).
pub fn write(path: &Path, array: &NpyArray) -> Result<(), NpyError> {
    replaceable(path)?;
    crate::fsio::atomic_write_bytes(path, &encode(array)).map_err(|source| NpyError::Io {
        what: "write",
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_and_refuses_bad_files() {
        let a = NpyArray {
            shape: vec![2, 3],
            data: vec![1.0, -2.5, 3.0, 0.0, 1e-7, 7.0],
        };
        let bytes = encode(&a);
        assert_eq!(bytes.len() % 64, 24);
        assert_eq!(parse(&bytes).unwrap(), a);
        assert!(
            parse(&bytes[..bytes.len() - 1])
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        assert!(
            parse(b"hello world")
                .unwrap_err()
                .to_string()
                .contains("NUMPY")
        );
        let mut f8 = bytes.clone();
        let at = f8.windows(3).position(|w| w == b"<f4").unwrap();
        f8[at + 2] = b'8';
        let e = parse(&f8).unwrap_err().to_string();
        assert!(e.contains("float32"), "{e}");
    }

    /// A v1 .npy file with `header` (padded as NumPy pads it) and `body`.
    fn npy(header: &str, body: &[u8]) -> Vec<u8> {
        let mut h = header.to_owned();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((h.len() as u16).to_le_bytes());
        out.extend(h.as_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn a_shape_whose_product_overflows_is_refused() {
        let header =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }";
        let e = parse(&npy(header, &[0; 16])).unwrap_err().to_string();
        assert!(e.contains("larger than any file can hold"), "{e}");
    }

    #[test]
    fn a_repeated_header_key_is_refused() {
        // NumPy would read the last 'shape' (3,), this reader the first (2,): neither guesses.
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (3,), }";
        let e = parse(&npy(header, &[0; 8])).unwrap_err().to_string();
        assert!(e.contains("'shape' more than once"), "{e}");
        let ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        assert_eq!(parse(&npy(ok, &[0; 8])).unwrap().shape, [2]);
    }

    #[test]
    fn more_data_than_the_header_describes_is_not_called_truncated() {
        let a = NpyArray {
            shape: vec![2],
            data: vec![1.0, 2.0],
        };
        let mut bytes = encode(&a);
        bytes.extend(3.0f32.to_le_bytes());
        let e = parse(&bytes).unwrap_err().to_string();
        assert!(e.contains("holds more than its header describes"), "{e}");
        assert!(!e.contains("truncated"), "{e}");
    }
}
