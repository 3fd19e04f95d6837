//! The built-in dataset, compiled into the binary: 12,000 Fashion-MNIST images (see
//! assets/README.md for the source and licence), so netloom trains out of the box.

use super::idx::{FASHION_MNIST_CLASSES, decode_idx, idx_split};
use super::{DataError, Dataset, Split};
use crate::design::Shape;
use std::path::Path;

const TRAIN_IMAGES: &[u8] = include_bytes!("../../assets/fashion-mnist/train-images-idx3-ubyte.gz");
const TRAIN_LABELS: &[u8] = include_bytes!("../../assets/fashion-mnist/train-labels-idx1-ubyte.gz");
const VAL_IMAGES: &[u8] = include_bytes!("../../assets/fashion-mnist/t10k-images-idx3-ubyte.gz");
const VAL_LABELS: &[u8] = include_bytes!("../../assets/fashion-mnist/t10k-labels-idx1-ubyte.gz");

/// The built-in set's four IDX files (gzipped) under their usual names, for exporting it next
/// to a training script.
pub fn builtin_idx_files() -> [(&'static str, &'static [u8]); 4] {
    [
        ("train-images-idx3-ubyte.gz", TRAIN_IMAGES),
        ("train-labels-idx1-ubyte.gz", TRAIN_LABELS),
        ("t10k-images-idx3-ubyte.gz", VAL_IMAGES),
        ("t10k-labels-idx1-ubyte.gz", VAL_LABELS),
    ]
}

fn split(images: &[u8], labels: &[u8], name: &str) -> Result<(Split, Shape), DataError> {
    let path = Path::new("builtin:fashion-mnist").join(name);
    let imgs = decode_idx(images.to_vec(), 3, &path)?;
    let labs = decode_idx(labels.to_vec(), 1, &path)?;
    idx_split(imgs, labs, &path)
}

/// The built-in Fashion-MNIST subset: 10,000 training and 2,000 validation images, 28×28.
pub fn fashion_mnist_builtin() -> Result<Dataset, DataError> {
    let (train, shape) = split(TRAIN_IMAGES, TRAIN_LABELS, "train")?;
    let (val, _) = split(VAL_IMAGES, VAL_LABELS, "val")?;
    let ds = Dataset {
        table: None,
        quantity: None,
        name: "Fashion-MNIST (built-in subset)".to_owned(),
        shape,
        classes: FASHION_MNIST_CLASSES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        train,
        val,
        skipped: Vec::new(),
        notes: Vec::new(),
    };
    ds.check()
        .map_err(|e| DataError::invalid("builtin:fashion-mnist", e))?;
    Ok(ds)
}
