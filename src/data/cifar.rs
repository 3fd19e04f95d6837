//! The CIFAR-10 binary version: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`,
//! each a run of 3,073-byte records (a label byte, then 32×32 red, green and blue planes).

use super::{DataError, Dataset, Samples, Split};
use crate::design::Shape;
use std::path::Path;

/// CIFAR-10's classes, in label order (as in `batches.meta.txt`).
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

const RECORD: usize = 1 + 3 * 32 * 32;

fn read_batches(dir: &Path, files: &[String], into: &mut Split) -> Result<(), DataError> {
    let Samples::U8(pixels) = &mut into.samples else {
        return Ok(());
    };
    for name in files {
        let path = dir.join(name);
        let bytes = crate::fsio::read_regular(&path)
            .map_err(|e| DataError::io("the CIFAR-10 batch", &path, e))?;
        if bytes.is_empty() || bytes.len() % RECORD != 0 {
            return Err(DataError::invalid(
                &path,
                format!(
                    "it is {} bytes, not a whole number of {RECORD}-byte CIFAR-10 records (10,000 records make 30,730,000 bytes): the file is truncated or not the binary version",
                    bytes.len()
                ),
            ));
        }
        for record in bytes.chunks_exact(RECORD) {
            let label = record[0];
            if label > 9 {
                return Err(DataError::invalid(
                    &path,
                    format!("a record has label {label}, but CIFAR-10 labels are 0–9"),
                ));
            }
            into.labels.push(u32::from(label));
            pixels.extend_from_slice(&record[1..]);
        }
    }
    Ok(())
}

/// Whether a folder holds the CIFAR-10 binary batches.
pub(crate) fn is_cifar_dir(dir: &Path) -> bool {
    dir.join("data_batch_1.bin").is_file() || dir.join("test_batch.bin").is_file()
}

/// Loads CIFAR-10 (binary version) from its folder; the training split is every
/// `data_batch_N.bin` present, the validation split `test_batch.bin`.
pub fn load_cifar10(dir: &Path) -> Result<Dataset, DataError> {
    let train_files: Vec<String> = (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        // Every batch that is there in any form: one that can't be read (a link to nothing, a
        // pipe) is refused by name when read, never skipped in silence.
        .filter(|f| std::fs::symlink_metadata(dir.join(f)).is_ok())
        .collect();
    if train_files.is_empty() {
        return Err(DataError::invalid(
            dir,
            "no data_batch_1.bin … data_batch_5.bin here: pick the folder of CIFAR-10's binary version (cifar-10-batches-bin)",
        ));
    }
    let mut train = Split {
        masks: Vec::new(),
        values: Vec::new(),
        samples: Samples::U8(Vec::new()),
        labels: Vec::new(),
    };
    read_batches(dir, &train_files, &mut train)?;
    let mut val = Split {
        masks: Vec::new(),
        values: Vec::new(),
        samples: Samples::U8(Vec::new()),
        labels: Vec::new(),
    };
    read_batches(dir, &["test_batch.bin".to_owned()], &mut val)?;
    let classes = std::fs::read_to_string(dir.join("batches.meta.txt"))
        .ok()
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|c| c.len() == 10)
        .unwrap_or_else(|| CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect());
    Ok(Dataset {
        table: None,
        quantity: None,
        name: format!("CIFAR-10 ({})", dir.display()),
        shape: Shape::image(3, 32, 32),
        classes,
        train,
        val,
        skipped: Vec::new(),
        notes: Vec::new(),
    })
}
