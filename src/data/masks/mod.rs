//! Segmentation data: images, each with a mask giving every pixel a class. `masks:DIR` reads
//! `DIR/images/` and `DIR/masks/`, paired by file stem (a seeded fifth validates), or
//! `DIR/train/` and `DIR/val/`, each holding `images/` and `masks/`.
//!
//! A mask is a PNG of class indices (8-bit grey, or a palette PNG whose palette index is the
//! class: what most annotation tools write), or an RGB PNG read through `DIR/classes.json`,
//! which maps each colour to a class. One value means "ignore" (255 unless `ignore=N`): those
//! pixels count toward no loss and no metric. Missing pairs, sizes that differ and colours no
//! class has are refused naming the file, never dropped: a silently shrunk training set, or a
//! mask off by a pixel, is what made segmentation data so hard to get right in other tools.
//!
//! The masks are read with the `png` crate itself (which the `image` crate uses underneath):
//! `image` turns a palette PNG into RGB and loses the indices that are the classes.

mod file;
mod overlay;

pub use overlay::{CLASS_COLOURS, overlay};

use super::folder::{Fit, decode_path, is_image};
use super::rng::Rng;
use super::{DataError, Dataset, Samples, Split};
use crate::design::Shape;
use file::{ClassMap, mask_values, read_classes};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stored value of an ignored pixel (whatever value the files use for it).
pub const IGNORE: u8 = 255;

/// Fraction of the pairs held out for validation without `train/` and `val/` folders.
const VAL_FRACTION: f64 = 0.2;

/// How a mask folder is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaskOptions {
    /// The mask value meaning "no class here" (255 by default).
    pub ignore: u8,
}

impl Default for MaskOptions {
    fn default() -> Self {
        MaskOptions { ignore: IGNORE }
    }
}

impl MaskOptions {
    /// Reads `ignore=N` (the only option).
    pub fn parse(query: &str) -> Result<MaskOptions, DataError> {
        let mut options = MaskOptions::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("ignore", v)) => {
                    options.ignore = v.parse().map_err(|_| {
                        DataError::Spec(format!(
                            "ignore={v}: give the mask value to ignore, 0 to 255"
                        ))
                    })?;
                }
                _ => {
                    return Err(DataError::Spec(format!(
                        "unknown mask option \"{pair}\": the option is ignore=N (default 255)"
                    )));
                }
            }
        }
        Ok(options)
    }

    /// The options as `parse` reads them ("" for the defaults).
    pub fn to_query(self) -> String {
        if self == MaskOptions::default() {
            String::new()
        } else {
            format!("ignore={}", self.ignore)
        }
    }
}

/// The files of `dir` by stem; two files of one stem are refused.
fn by_stem(dir: &Path, keep: fn(&Path) -> bool) -> Result<BTreeMap<String, PathBuf>, DataError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| DataError::io("the segmentation folder", dir, e))?;
    let mut out = BTreeMap::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !keep(&path) {
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(other) = out.insert(stem.clone(), path.clone()) {
            return Err(DataError::invalid(
                &path,
                format!(
                    "{} has the same name: a pair is found by its name without the extension, so keep one",
                    other.display()
                ),
            ));
        }
    }
    Ok(out)
}

/// Image and mask files of a folder holding `images/` and `masks/`, paired by stem.
fn pairs(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>, DataError> {
    let (images, masks) = (dir.join("images"), dir.join("masks"));
    for d in [&images, &masks] {
        if !d.is_dir() {
            return Err(DataError::invalid(
                dir,
                "a segmentation folder holds images/ and masks/ (a mask per image, named as it, as a PNG), or train/ and val/ each holding both",
            ));
        }
    }
    let images = by_stem(&images, is_image)?;
    let mut masks = by_stem(&masks, |p| {
        p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"))
    })?;
    let mut out = Vec::with_capacity(images.len());
    for (stem, image) in images {
        let Some(mask) = masks.remove(&stem) else {
            return Err(DataError::invalid(
                &image,
                format!("it has no mask: add masks/{stem}.png, or move the image out"),
            ));
        };
        out.push((image, mask));
    }
    if let Some((stem, mask)) = masks.into_iter().next() {
        return Err(DataError::invalid(
            &mask,
            format!(
                "it is a mask without an image: add images/{stem} (a PNG or JPEG), or move the mask out"
            ),
        ));
    }
    if out.is_empty() {
        return Err(DataError::invalid(dir, "images/ holds no images"));
    }
    Ok(out)
}

/// Reads every pair: images of one shape (the first's), masks of their image's size.
fn read_pairs(
    files: &[(PathBuf, PathBuf)],
    classes: Option<&ClassMap>,
    options: MaskOptions,
    shape: &mut Option<(u64, u64, u64)>,
) -> Result<Split, DataError> {
    let mut split = Split {
        samples: Samples::U8(Vec::new()),
        labels: Vec::new(),
        values: Vec::new(),
        masks: Vec::with_capacity(files.len()),
    };
    let mut pixels = Vec::new();
    for (image, mask) in files {
        let (px, own) = decode_path(image, *shape, Fit::Exact).map_err(|why| {
            DataError::invalid(
                image,
                match shape {
                    Some((_, h, w)) => format!("{why}: every image of a segmentation set must be {w}×{h} (the first image's size)"),
                    None => why,
                },
            )
        })?;
        shape.get_or_insert(own);
        let (values, (mw, mh)) = mask_values(mask, classes, options)?;
        if (u64::from(mh), u64::from(mw)) != (own.1, own.2) {
            return Err(DataError::invalid(
                mask,
                format!(
                    "it is {mw}×{mh} but its image {} is {}×{}: a mask must have its image's size",
                    image.display(),
                    own.2,
                    own.1
                ),
            ));
        }
        pixels.extend_from_slice(&px);
        split.masks.push(values);
    }
    split.samples = Samples::U8(pixels);
    Ok(split)
}

/// Loads a segmentation folder (see the module's documentation).
pub fn load_masks(dir: &Path, options: MaskOptions) -> Result<Dataset, DataError> {
    let classes = read_classes(dir)?;
    let (train_files, val_files) = if dir.join("train").is_dir() && dir.join("val").is_dir() {
        (pairs(&dir.join("train"))?, pairs(&dir.join("val"))?)
    } else {
        let mut all = pairs(dir)?;
        let mut rng = Rng::new(0);
        rng.shuffle(&mut all);
        let n_val = ((all.len() as f64 * VAL_FRACTION).round() as usize)
            .clamp(usize::from(all.len() > 1), all.len().saturating_sub(1));
        let mut val: Vec<_> = all.drain(..n_val).collect();
        all.sort();
        val.sort();
        (all, val)
    };
    let mut shape = None;
    let train = read_pairs(&train_files, classes.as_ref(), options, &mut shape)?;
    let val = read_pairs(&val_files, classes.as_ref(), options, &mut shape)?;
    let (c, h, w) = shape.unwrap_or((1, 1, 1));
    let highest = train
        .masks
        .iter()
        .chain(&val.masks)
        .flatten()
        .filter(|&&v| v != IGNORE)
        .max()
        .copied()
        .unwrap_or(0);
    let names = match &classes {
        Some(map) if !map.names.is_empty() => {
            if usize::from(highest) >= map.names.len() {
                return Err(DataError::invalid(
                    dir.join("classes.json"),
                    format!(
                        "a mask has class {highest} but classes.json names {}: name every class",
                        crate::units::count(map.names.len() as u64, "class")
                    ),
                ));
            }
            map.names.clone()
        }
        _ => (0..=highest).map(|i| format!("class {i}")).collect(),
    };
    let notes = vec![format!(
        "{} classes ({}); {} of {} validation pixels are ignored",
        names.len(),
        names.join(", "),
        crate::units::thousands(val.masks.iter().flatten().filter(|&&v| v == IGNORE).count() as u64),
        crate::units::thousands(val.masks.len() as u64 * h * w),
    )];
    Ok(Dataset {
        name: dir
            .file_name()
            .map_or_else(|| "masks".to_owned(), |f| f.to_string_lossy().into_owned()),
        shape: Shape::image(c, h, w),
        classes: names,
        quantity: None,
        table: None,
        train,
        val,
        skipped: Vec::new(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_back() {
        assert_eq!(MaskOptions::parse("").unwrap(), MaskOptions::default());
        let o = MaskOptions::parse("ignore=0").unwrap();
        assert_eq!(o.ignore, 0);
        assert_eq!(MaskOptions::parse(&o.to_query()).unwrap(), o);
        assert!(MaskOptions::parse("ignore=300").is_err());
        assert!(
            MaskOptions::parse("size=3")
                .unwrap_err()
                .to_string()
                .contains("ignore=N")
        );
    }
}
