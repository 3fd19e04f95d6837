//! The IDX format of MNIST, Fashion-MNIST and KMNIST, gzipped or not.
//!
//! An IDX file is `00 00 <type> <ndims>`, then `ndims` big-endian u32 sizes, then the values.
//! netloom reads unsigned-byte files (type 0x08): images with 3 dimensions, labels with 1.

use super::{DataError, Dataset, Samples, Split};
use crate::design::Shape;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Fashion-MNIST's ten classes, in label order.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// KMNIST's ten Hiragana classes, in label order.
const KMNIST_CLASSES: [&str; 10] = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"];

/// A parsed IDX array of bytes: its dimensions and values.
#[derive(Debug)]
pub struct IdxArray {
    /// Sizes, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The values.
    pub data: Vec<u8>,
}

/// The most values an IDX file may hold: 4 Gi bytes, 90 times the whole of Fashion-MNIST. A
/// header that claims more is damaged (or hostile), and is refused before anything is read.
const MAX_IDX_VALUES: usize = 1 << 32;

/// The IDX array in `bytes`, gunzipping them first when they are gzip. Only as much is
/// decompressed as the header says the file holds: a small gzip "bomb" that inflates to
/// gigabytes past its header is never inflated.
pub fn decode_idx(bytes: Vec<u8>, ndims: usize, path: &Path) -> Result<IdxArray, DataError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return parse_idx(bytes, ndims, path);
    }
    let damaged = |e: std::io::Error| {
        DataError::invalid(
            path,
            format!("the gzip data is damaged ({e}): download the file again"),
        )
    };
    let mut reader = flate2::read::MultiGzDecoder::new(bytes.as_slice());
    let header = 4 + 4 * ndims;
    let mut out = Vec::with_capacity(header);
    reader
        .by_ref()
        .take(header as u64)
        .read_to_end(&mut out)
        .map_err(damaged)?;
    if let Some(values) = out
        .get(4..header)
        .and_then(|head| values_within(&dims_of(head)))
    {
        out.reserve(values.min(bytes.len().saturating_mul(8)));
        reader
            .take(values as u64)
            .read_to_end(&mut out)
            .map_err(damaged)?;
    }
    parse_idx(out, ndims, path)
}

/// The sizes a header declares, from its big-endian u32 fields after the magic number.
fn dims_of(head: &[u8]) -> Vec<usize> {
    head.chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect()
}

/// How many values `dims` hold, when that is a number within [`MAX_IDX_VALUES`].
fn values_within(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_IDX_VALUES)
}

/// Parses IDX bytes (already decompressed) holding `ndims` dimensions of unsigned bytes.
pub fn parse_idx(bytes: Vec<u8>, ndims: usize, path: &Path) -> Result<IdxArray, DataError> {
    let magic = bytes.get(..4).unwrap_or(&bytes);
    if magic.len() < 4 || magic[..3] != [0, 0, 0x08] || usize::from(magic[3]) != ndims {
        let shown: Vec<String> = magic.iter().map(|b| format!("{b:02x}")).collect();
        return Err(DataError::invalid(
            path,
            format!(
                "not an IDX file of {ndims}-d unsigned bytes: it starts with {} instead of the magic number 00 00 08 {ndims:02x}; check that this is the right file",
                if shown.is_empty() {
                    "nothing".to_owned()
                } else {
                    shown.join(" ")
                }
            ),
        ));
    }
    let header = 4 + 4 * ndims;
    let Some(head) = bytes.get(4..header) else {
        return Err(DataError::invalid(
            path,
            "the file is truncated inside its header: download it again",
        ));
    };
    let dims = dims_of(head);
    let shown = dims
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("×");
    let Some(expected) = values_within(&dims) else {
        return Err(DataError::invalid(
            path,
            format!(
                "its header claims {shown} values, more than netloom reads from an IDX file ({MAX_IDX_VALUES}): the header is damaged, or this is not an IDX file"
            ),
        ));
    };
    let found = bytes.len() - header;
    if found < expected {
        return Err(DataError::invalid(
            path,
            format!(
                "the file is truncated: its header promises {expected} values ({shown}) but only {found} follow; download it again"
            ),
        ));
    }
    let mut data = bytes;
    data.drain(..header);
    data.truncate(expected);
    Ok(IdxArray { dims, data })
}

fn read_idx(path: &Path, ndims: usize) -> Result<IdxArray, DataError> {
    let bytes =
        crate::fsio::read_regular(path).map_err(|e| DataError::io("the IDX file", path, e))?;
    decode_idx(bytes, ndims, path)
}

/// Reads an images file and its labels file into a split, checking that they agree.
pub(crate) fn read_idx_split(images: &Path, labels: &Path) -> Result<(Split, Shape), DataError> {
    idx_split(read_idx(images, 3)?, read_idx(labels, 1)?, labels)
}

/// Joins parsed images and labels into a split; `labels_path` names the labels in errors.
pub(crate) fn idx_split(
    imgs: IdxArray,
    labs: IdxArray,
    labels_path: &Path,
) -> Result<(Split, Shape), DataError> {
    let (n, h, w) = (imgs.dims[0], imgs.dims[1], imgs.dims[2]);
    if labs.dims[0] != n {
        return Err(DataError::invalid(
            labels_path,
            format!(
                "it has {} labels but its images file has {n} images: the two files don't belong together",
                labs.dims[0]
            ),
        ));
    }
    let split = Split {
        masks: Vec::new(),
        values: Vec::new(),
        samples: Samples::U8(imgs.data),
        labels: labs.data.into_iter().map(u32::from).collect(),
    };
    Ok((split, Shape::image(1, h as u64, w as u64)))
}

/// Finds `<prefix>-<kind>-idxN-ubyte[.gz]` (or a looser match) in a folder.
fn find(dir: &Path, entries: &[PathBuf], prefix: &str, kind: &str) -> Result<PathBuf, DataError> {
    entries
        .iter()
        .find(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
            name.starts_with(prefix) && name.contains(kind) && name.contains("ubyte")
        })
        .cloned()
        .ok_or_else(|| {
            DataError::invalid(
                dir,
                format!("no {prefix}-{kind} IDX file here: an IDX dataset needs train-images, train-labels, t10k-images and t10k-labels (…-idx3-ubyte[.gz])"),
            )
        })
}

/// Whether a folder looks like an IDX dataset.
pub(crate) fn is_idx_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten()
            .any(|e| e.file_name().to_string_lossy().contains("idx3-ubyte"))
    })
}

/// Loads an IDX dataset folder: the four files of MNIST, Fashion-MNIST or KMNIST.
/// Class names follow the folder's name (fashion → clothing names, kmnist → Hiragana).
pub fn load_idx_dir(dir: &Path) -> Result<Dataset, DataError> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io("the dataset folder", dir, e))?
        .flatten()
        .map(|e| e.path())
        .collect();
    let (train, shape) = read_idx_split(
        &find(dir, &entries, "train", "images")?,
        &find(dir, &entries, "train", "labels")?,
    )?;
    let (val, val_shape) = read_idx_split(
        &find(dir, &entries, "t10k", "images")?,
        &find(dir, &entries, "t10k", "labels")?,
    )?;
    if shape != val_shape {
        return Err(DataError::invalid(
            dir,
            format!("training images are {shape} but test images are {val_shape}: mixed sizes"),
        ));
    }
    let folder = dir.to_string_lossy().to_lowercase();
    let (name, classes): (&str, Vec<String>) = if folder.contains("fashion") {
        (
            "Fashion-MNIST",
            FASHION_MNIST_CLASSES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        )
    } else if folder.contains("kmnist") {
        (
            "KMNIST",
            KMNIST_CLASSES.iter().map(|s| s.to_string()).collect(),
        )
    } else {
        let max = train
            .labels
            .iter()
            .chain(&val.labels)
            .max()
            .copied()
            .unwrap_or(0);
        (
            "MNIST-style IDX",
            (0..=max).map(|d| d.to_string()).collect(),
        )
    };
    let ds = Dataset {
        table: None,
        quantity: None,
        name: format!("{name} ({})", dir.display()),
        shape,
        classes,
        train,
        val,
        skipped: Vec::new(),
        notes: Vec::new(),
    };
    ds.check().map_err(|e| DataError::invalid(dir, e))?;
    Ok(ds)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn header(dims: &[u32]) -> Vec<u8> {
        let mut out = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            out.extend(d.to_be_bytes());
        }
        out
    }

    #[test]
    fn a_gzip_bomb_is_inflated_only_as_far_as_its_header_says() {
        // 2 images of 2×2, then 32 MB of zeros that gzip squeezes into about 32 kB.
        let mut plain = header(&[2, 2, 2]);
        plain.extend([1, 2, 3, 4, 5, 6, 7, 8]);
        let mut bomb = gzip(&plain);
        let zeros = gzip(&vec![0u8; 32 << 20]);
        assert!(zeros.len() < 1 << 20, "{}", zeros.len());
        bomb.extend(zeros); // a second gzip member: MultiGzDecoder would read on into it
        let a = decode_idx(bomb, 3, Path::new("bomb.gz")).unwrap();
        assert_eq!(a.dims, [2, 2, 2]);
        assert_eq!(a.data, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(a.data.capacity() < 1 << 20, "{}", a.data.capacity());
    }

    #[test]
    fn a_header_claiming_more_than_the_limit_is_refused() {
        let plain = header(&[65_535, 65_535, 2]);
        let e = decode_idx(gzip(&plain), 3, Path::new("huge.gz")).unwrap_err();
        assert!(e.to_string().contains("more than netloom reads"), "{e}");
        let e = parse_idx(plain, 3, Path::new("huge")).unwrap_err();
        assert!(e.to_string().contains("more than netloom reads"), "{e}");
    }

    #[test]
    fn a_truncated_gzip_file_is_said_to_be_truncated() {
        let mut plain = header(&[2, 2, 2]);
        plain.extend([1, 2, 3]);
        let e = decode_idx(gzip(&plain), 3, Path::new("short.gz")).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }
}
