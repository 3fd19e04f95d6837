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

/// Decompresses `bytes` when they are gzip, otherwise returns them as they are.
pub(crate) fn maybe_gunzip(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() * 3);
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| {
            DataError::invalid(
                path,
                format!("the gzip data is damaged ({e}): download the file again"),
            )
        })?;
    Ok(out)
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
    let dims: Vec<usize> = head
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .unwrap_or(usize::MAX);
    let found = bytes.len() - header;
    if found < expected {
        return Err(DataError::invalid(
            path,
            format!(
                "the file is truncated: its header promises {expected} values ({}) but only {found} follow; download it again",
                dims.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("×")
            ),
        ));
    }
    let mut data = bytes;
    data.drain(..header);
    data.truncate(expected);
    Ok(IdxArray { dims, data })
}

fn read_idx(path: &Path, ndims: usize) -> Result<IdxArray, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io("the IDX file", path, e))?;
    parse_idx(maybe_gunzip(bytes, path)?, ndims, path)
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
        name: format!("{name} ({})", dir.display()),
        shape,
        classes,
        train,
        val,
        skipped: Vec::new(),
    };
    ds.check().map_err(|e| DataError::invalid(dir, e))?;
    Ok(ds)
}
