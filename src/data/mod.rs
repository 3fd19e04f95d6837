//! Datasets: reading them from the built-in asset, generated toy sets and files on disk, into
//! one in-memory form that training and the UI's previews share.
//!
//! A dataset is held once, in the source's own element type (u8 pixels stay u8); conversion to
//! f32 happens per batch on the training device, never as a full copy per epoch.

pub mod augment;
mod builtin;
mod cifar;
pub mod cloud;
mod convert;
mod error;
mod fingerprint;
pub mod fit;
mod folder;
mod idx;
pub mod masks;
mod preprocess;
pub mod rng;
mod spec;
pub mod table;
mod toy;

pub use builtin::{builtin_idx_files, fashion_mnist_builtin};
pub use cifar::{CIFAR10_CLASSES, load_cifar10};
pub use convert::{Convert, convert};
pub use error::DataError;
pub use fingerprint::Fingerprint;
pub use fit::Misfit;
pub use folder::{Fit, FolderOptions, decode_image, load_folder};
pub use idx::{FASHION_MNIST_CLASSES, decode_idx, load_idx_dir, parse_idx};
pub use preprocess::{Preprocessor, split_tensor};
pub use spec::{DataSpec, SYSTEM_DATASETS, system_datasets};
pub use toy::{Toy, ToyOptions, toy_dataset};

use crate::design::Shape;

/// Sample values, stored once in the element type the source has.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    /// Image pixels, 0–255, channel-major (C×H×W) per sample, samples back to back.
    U8(Vec<u8>),
    /// Real-valued features (the toy sets), samples back to back.
    F32(Vec<f32>),
}

impl Samples {
    /// Number of stored values.
    pub fn len(&self) -> usize {
        match self {
            Samples::U8(v) => v.len(),
            Samples::F32(v) => v.len(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One split (train or validation): samples and what each should give: a class label, or
/// for regression a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// All samples, each `shape.numel()` values long.
    pub samples: Samples,
    /// One class index per sample (empty for regression).
    pub labels: Vec<u32>,
    /// For regression, one target value per sample, standardised with the training split's
    /// mean and spread ([`Quantity`]) so that one learning rate suits any unit; empty for
    /// classification.
    pub values: Vec<f32>,
    /// For segmentation, one mask per sample: a class index per pixel (H×W, row by row),
    /// [`masks::IGNORE`] where no class counts; empty otherwise.
    pub masks: Vec<Vec<u8>>,
}

impl Split {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels
            .len()
            .max(self.values.len())
            .max(self.masks.len())
    }

    /// True when the split has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many samples each class has, indexed by class.
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(l as usize) {
                *c += 1;
            }
        }
        counts
    }

    /// The u8 pixels of sample `i`, when this split holds images.
    pub fn image(&self, i: usize, numel: usize) -> Option<&[u8]> {
        match &self.samples {
            Samples::U8(v) => v.get(i * numel..(i + 1) * numel),
            Samples::F32(_) => None,
        }
    }
}

/// What a regression dataset predicts, and how its stored values were standardised: a
/// prediction `p` of the network is `p * std + mean` in the data's own units, the units its
/// metrics (MAE, RMSE) are given in.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    /// The target column's name.
    pub name: String,
    /// The training split's mean of the target.
    pub mean: f64,
    /// The training split's standard deviation of the target (1 where it was 0).
    pub std: f64,
}

impl Quantity {
    /// A stored (standardised) value in the data's units.
    pub fn unscale(&self, v: f64) -> f64 {
        v * self.std + self.mean
    }
}

/// A file that was skipped while loading (e.g. a corrupt image), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: std::path::PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// A loaded dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// A short name for the UI and logs, e.g. "Fashion-MNIST (built-in subset)".
    pub name: String,
    /// The shape of one sample, as the design's Input sees it.
    pub shape: Shape,
    /// Class names, indexed by label (empty for regression).
    pub classes: Vec<String>,
    /// For regression, the quantity predicted; None for classification.
    pub quantity: Option<Quantity>,
    /// For a table, its first rows and what became of each column (the data panel's
    /// preview); None for other sources.
    pub table: Option<Box<table::TablePreview>>,
    /// The training split.
    pub train: Split,
    /// The validation split.
    pub val: Split,
    /// Files that could not be used, each with its reason.
    pub skipped: Vec<Skipped>,
    /// What loading did that a user should know, one line each (a table's encoding: columns
    /// standardised, one-hot, imputed, dropped and why). Empty for most sources.
    pub notes: Vec<String>,
}

impl Dataset {
    /// Says how many files were skipped and names the first few with their reasons, or `None`
    /// when none were: shown by the CLI, the Train view's data panel, and written to a run's
    /// folder (with every file) so that nothing is dropped without a word.
    pub fn skipped_summary(&self) -> Option<String> {
        const SHOWN: usize = 3;
        let n = self.skipped.len();
        if n == 0 {
            return None;
        }
        let first: Vec<String> = self
            .skipped
            .iter()
            .take(SHOWN)
            .map(|s| {
                let name = s.path.file_name().map_or_else(
                    || s.path.display().to_string(),
                    |f| f.to_string_lossy().into_owned(),
                );
                format!("{name} ({})", s.reason)
            })
            .collect();
        let more = if n > SHOWN {
            format!(", and {} more", n - SHOWN)
        } else {
            String::new()
        };
        Some(format!(
            "{n} file{} skipped: {}{more}",
            if n == 1 { " was" } else { "s were" },
            first.join("; ")
        ))
    }

    /// Every skipped file with its reason, a line each (a run folder's skipped.txt).
    pub fn skipped_list(&self) -> String {
        self.skipped
            .iter()
            .map(|s| format!("{}\t{}\n", s.path.display(), s.reason))
            .collect()
    }
}

impl Split {
    /// The samples of `keep`'s classes, relabelled by their position in `keep`.
    fn only(&self, keep: &[u32], per: usize) -> Split {
        let new_label = |l: u32| keep.iter().position(|&k| k == l).map(|i| i as u32);
        let picked: Vec<(usize, u32)> = self
            .labels
            .iter()
            .enumerate()
            .filter_map(|(i, &l)| new_label(l).map(|n| (i, n)))
            .collect();
        let take = |i: usize| i * per..(i + 1) * per;
        let samples = match &self.samples {
            Samples::U8(v) => Samples::U8(
                picked
                    .iter()
                    .flat_map(|&(i, _)| v[take(i)].iter().copied())
                    .collect(),
            ),
            Samples::F32(v) => Samples::F32(
                picked
                    .iter()
                    .flat_map(|&(i, _)| v[take(i)].iter().copied())
                    .collect(),
            ),
        };
        Split {
            masks: Vec::new(),
            values: Vec::new(),
            samples,
            labels: picked.iter().map(|&(_, n)| n).collect(),
        }
    }
}

impl Dataset {
    /// Only the classes `keep` (class indices, in the order they get as new labels 0, 1, …):
    /// e.g. Fashion-MNIST's footwear and bags as a 4-class task of its own.
    pub fn only_classes(self, keep: &[u32]) -> Result<Dataset, DataError> {
        if let Some(q) = &self.quantity {
            return Err(DataError::Spec(format!(
                "classes= picks classes, but {} predicts a quantity (\"{}\"), not classes: leave out classes=",
                self.name, q.name
            )));
        }
        if let Some(&bad) = keep.iter().find(|&&c| c as usize >= self.classes.len()) {
            return Err(DataError::Spec(format!(
                "{} has classes 0–{}; there is no class {bad}",
                self.name,
                self.classes.len().saturating_sub(1)
            )));
        }
        if keep.is_empty() || (1..keep.len()).any(|i| keep[..i].contains(&keep[i])) {
            return Err(DataError::Spec(
                "classes= needs distinct class numbers, e.g. classes=5,7,8,9".to_owned(),
            ));
        }
        self.check().map_err(DataError::Spec)?;
        let per = self.sample_len();
        Ok(Dataset {
            name: format!(
                "{} (classes {})",
                self.name,
                keep.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            classes: keep
                .iter()
                .map(|&c| self.classes[c as usize].clone())
                .collect(),
            train: self.train.only(keep, per),
            val: self.val.only(keep, per),
            ..self
        })
    }

    /// Whether each sample has a mask (segmentation).
    pub fn is_segmentation(&self) -> bool {
        !self.train.masks.is_empty() || !self.val.masks.is_empty()
    }

    /// Values per sample.
    pub fn sample_len(&self) -> usize {
        usize::try_from(self.shape.numel()).unwrap_or(usize::MAX)
    }

    /// Checks that every split holds exactly `len × sample_len` values and labels below the
    /// class count, so nothing downstream can index out of bounds.
    pub fn check(&self) -> Result<(), String> {
        let per = self.sample_len();
        for (name, split) in [("train", &self.train), ("val", &self.val)] {
            if split.samples.len() != split.len().saturating_mul(per) {
                return Err(format!(
                    "the {name} split holds {} values for {} samples of {per}",
                    split.samples.len(),
                    split.len()
                ));
            }
            if self.quantity.is_some() {
                if split.values.len() != split.len() || !split.labels.is_empty() {
                    return Err(format!(
                        "the {name} split of a regression set has {} values and {} labels for {} samples",
                        split.values.len(),
                        split.labels.len(),
                        split.len()
                    ));
                }
                continue;
            }
            if !split.masks.is_empty() {
                let pixels = self
                    .shape
                    .as_image()
                    .map_or(0, |(_, h, w)| (h * w) as usize);
                if let Some(bad) = split.masks.iter().position(|m| m.len() != pixels) {
                    return Err(format!(
                        "the {name} split's mask {bad} has {} pixels, not {pixels}",
                        split.masks[bad].len()
                    ));
                }
                let classes = self.classes.len();
                if let Some(&v) = split
                    .masks
                    .iter()
                    .flatten()
                    .find(|&&v| v != masks::IGNORE && usize::from(v) >= classes)
                {
                    return Err(format!(
                        "the {name} split has a mask pixel of class {v}, but there are only {}",
                        crate::units::count(classes as u64, "class")
                    ));
                }
                continue;
            }
            if !split.values.is_empty() {
                return Err(format!(
                    "the {name} split has target values but the data has classes"
                ));
            }
            if let Some(&bad) = split
                .labels
                .iter()
                .find(|&&l| l as usize >= self.classes.len())
            {
                return Err(format!(
                    "the {name} split has label {bad}, but there are only {}",
                    crate::units::count(self.classes.len() as u64, "class")
                ));
            }
        }
        Ok(())
    }
}
