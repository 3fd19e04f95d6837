//! An image folder with one subfolder per class (`cats/`, `dogs/`), using `train/` and `val/`
//! when present and a seeded, per-class split otherwise. Images are decoded on all cores and
//! converted to the design's input channels and size.

use super::rng::Rng;
use super::{DataError, Dataset, Samples, Skipped, Split};
use crate::design::Shape;
use image::imageops::FilterType;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `(channels, height, width)` of an image.
type Chw = (u64, u64, u64);

/// Image files with their class labels.
type Labelled = Vec<(PathBuf, u32)>;

/// One decoded image: channel-major pixels, its label and the image's own shape.
struct Decoded {
    pixels: Vec<u8>,
    label: u32,
    own: Chw,
}

/// How an image is brought to the target size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fit {
    /// Stretch to the target size.
    #[default]
    Resize,
    /// Scale the shorter side to the target, then cut out the centre.
    CenterCrop,
    /// No conversion: every image must already have the target (or the first image's) size.
    Exact,
}

/// How an image folder is read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FolderOptions {
    /// `(channels, height, width)` to convert to, usually the design's Input; None takes the
    /// first image's and requires every image to match it.
    pub target: Option<Chw>,
    /// How images reach the target size.
    pub fit: Fit,
    /// Fraction of each class held out for validation when there is no `val/` folder.
    pub val_fraction: f64,
    /// Seed of that split.
    pub seed: u64,
}

impl FolderOptions {
    /// Options that convert every image to the design's input shape, when it is an image.
    pub fn for_input(input: &Shape, fit: Fit) -> Self {
        Self {
            target: input.as_image(),
            fit,
            ..Self::default()
        }
    }
}

impl Default for FolderOptions {
    fn default() -> Self {
        Self {
            target: None,
            fit: Fit::Resize,
            val_fraction: 0.2,
            seed: 0,
        }
    }
}

pub(super) fn is_image(path: &Path) -> bool {
    // Anything but a folder that is named as an image: a link to nothing or a pipe named
    // cat.png is listed, and then skipped with its reason, never passed over in silence.
    !path.is_dir() && image::ImageFormat::from_path(path).is_ok_and(|f| f.reading_enabled())
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Whether a folder looks like one subfolder of images per class (or has `train/`).
pub(crate) fn is_class_folder(dir: &Path) -> bool {
    let root = if dir.join("train").is_dir() {
        dir.join("train")
    } else {
        dir.to_path_buf()
    };
    subdirs(&root)
        .iter()
        .any(|d| std::fs::read_dir(d).is_ok_and(|rd| rd.flatten().any(|e| is_image(&e.path()))))
}

/// Class names and every image file, labelled, of one folder of class subfolders.
fn list_classes(
    dir: &Path,
    classes: Option<&[String]>,
) -> Result<(Vec<String>, Labelled), DataError> {
    let dirs = subdirs(dir);
    if dirs.is_empty() {
        return Err(DataError::invalid(
            dir,
            "no class subfolders here: put each class's images in a folder of its own, e.g. cats/ and dogs/",
        ));
    }
    let names: Vec<String> = dirs
        .iter()
        .map(|d| {
            d.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let classes = classes
        .map(<[String]>::to_vec)
        .unwrap_or_else(|| names.clone());
    let mut files = Vec::new();
    for (d, name) in dirs.iter().zip(&names) {
        let Some(label) = classes.iter().position(|c| c == name) else {
            return Err(DataError::invalid(
                d,
                format!(
                    "class \"{name}\" is not among the training classes ({}): rename or remove it",
                    classes.join(", ")
                ),
            ));
        };
        let mut images: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| DataError::io("the class folder", d, e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| is_image(p))
            .collect();
        if images.is_empty() {
            return Err(DataError::invalid(
                d,
                format!(
                    "class \"{name}\" has no images (PNG, JPEG, BMP, …): add some, or remove the folder"
                ),
            ));
        }
        images.sort();
        files.extend(images.into_iter().map(|p| (p, label as u32)));
    }
    Ok((classes, files))
}

/// The largest image netloom decodes, per side, in pixels: beyond any training image (which
/// are resized to a few hundred pixels), and a 20000×20000 PNG no longer takes 754 MB.
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// The most memory one image's decoding may take: an 8192×8192 RGBA image, and what is
/// decoded on every core at once stays bounded.
const MAX_IMAGE_BYTES: u64 = 8192 * 8192 * 4;

/// One decoded image, channel-major, or why it can't be used.
pub(super) fn decode_path(
    path: &Path,
    target: Option<Chw>,
    fit: Fit,
) -> Result<(Vec<u8>, Chw), String> {
    if let Some(why) = crate::fsio::not_a_regular_file(path) {
        return Err(why);
    }
    decode_from(
        image::ImageReader::open(path).map_err(|e| e.to_string())?,
        target,
        fit,
    )
}

/// One image decoded from its bytes exactly as a folder's images are (the same format
/// guessing, limits, fitting and channel conversion): the pixels channel-major and the image's
/// own `(channels, height, width)`, or why it can't be used. The fuzz target `image` calls it.
pub fn decode_image(bytes: &[u8], target: Option<Chw>, fit: Fit) -> Result<(Vec<u8>, Chw), String> {
    decode_from(
        image::ImageReader::new(std::io::Cursor::new(bytes)),
        target,
        fit,
    )
}

fn decode_from<R: std::io::BufRead + std::io::Seek>(
    reader: image::ImageReader<R>,
    target: Option<Chw>,
    fit: Fit,
) -> Result<(Vec<u8>, Chw), String> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_BYTES);
    let mut reader = reader.with_guessed_format().map_err(|e| e.to_string())?;
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => format!(
            "it is larger than netloom decodes ({MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} pixels at most): scale it down first"
        ),
        e => format!("cannot decode it: {e}"),
    })?;
    let (own_w, own_h) = (img.width(), img.height());
    if own_w == 0 || own_h == 0 {
        return Err(format!("it has no pixels ({own_w}×{own_h})"));
    }
    let own_channels = if img.color().has_color() { 3 } else { 1 };
    let (c, h, w) = target.unwrap_or((
        own_channels,
        u64::from(img.height()),
        u64::from(img.width()),
    ));
    let (tw, th) = (
        u32::try_from(w).unwrap_or(u32::MAX),
        u32::try_from(h).unwrap_or(u32::MAX),
    );
    let img = match fit {
        Fit::Exact => img,
        Fit::Resize => img.resize_exact(tw, th, FilterType::Triangle),
        Fit::CenterCrop => img.resize_to_fill(tw, th, FilterType::Triangle),
    };
    let found = (
        own_channels,
        u64::from(img.height()),
        u64::from(img.width()),
    );
    // Resizing a degenerate image (one row of 20,000 pixels, say) can come out a pixel short:
    // the pixels must be exactly the shape asked for before they are laid out channel-major.
    if (found.1, found.2) != (h, w) {
        return Err(match fit {
            Fit::Exact => format!("size {}×{} differs from {h}×{w}", found.2, found.1),
            _ => format!("its {own_w}×{own_h} pixels can't be fitted to {w}×{h}"),
        });
    }
    let hwc: Vec<u8> = match c {
        1 => img.to_luma8().into_raw(),
        3 => img.to_rgb8().into_raw(),
        other => {
            return Err(format!(
                "{other} channels can't be made from an image: use 1 or 3"
            ));
        }
    };
    let (c, plane) = (c as usize, (h * w) as usize);
    let mut chw = vec![0u8; hwc.len()];
    for (i, px) in hwc.chunks_exact(c).enumerate() {
        for (ch, &v) in px.iter().enumerate() {
            chw[ch * plane + i] = v;
        }
    }
    Ok((chw, found))
}

/// Decodes `files` in parallel. Returns the split, the files that failed, and every image's
/// own (channels, height, width) for the mixed-size check.
fn decode_all(
    files: &[(PathBuf, u32)],
    target: Option<Chw>,
    fit: Fit,
    progress: &(dyn Fn(usize, usize) + Sync),
    done: &AtomicUsize,
    total: usize,
) -> Vec<Result<Decoded, Skipped>> {
    files
        .par_iter()
        .map(|(path, label)| {
            let r = decode_path(path, target, fit)
                .map(|(pixels, own)| Decoded {
                    pixels,
                    label: *label,
                    own,
                })
                .map_err(|reason| Skipped {
                    path: path.clone(),
                    reason,
                });
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(64) || n == total {
                progress(n, total);
            }
            r
        })
        .collect()
}

/// Loads an image folder. `progress(done, total)` is called from the decoding threads.
pub fn load_folder(
    dir: &Path,
    options: &FolderOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Dataset, DataError> {
    if !dir.is_dir() {
        return Err(DataError::invalid(dir, "no such folder"));
    }
    if let Some((c, h, w)) = options.target
        && (!matches!(c, 1 | 3) || h == 0 || w == 0)
    {
        return Err(DataError::invalid(
            dir,
            format!(
                "images can't be converted to {c}×{h}×{w}: use 1 (grayscale) or 3 (RGB) channels and a size of at least 1×1"
            ),
        ));
    }
    let (train_dir, val_dir) = if dir.join("train").is_dir() {
        (
            dir.join("train"),
            Some(dir.join("val")).filter(|v| v.is_dir()),
        )
    } else {
        (dir.to_path_buf(), None)
    };
    let (classes, mut train_files) = list_classes(&train_dir, None)?;
    let mut val_files = match &val_dir {
        Some(v) => list_classes(v, Some(&classes))?.1,
        None => split_off(&mut train_files, classes.len(), options),
    };
    if train_files.is_empty() {
        return Err(DataError::invalid(
            dir,
            "no training images are left after the validation split: add images or lower the validation fraction",
        ));
    }
    // Without a target, the first readable image decides the size; Exact then checks the rest.
    let (target, fit) = match options.target {
        Some(t) => (Some(t), options.fit),
        None => (first_shape(&train_files), Fit::Exact),
    };
    let total = train_files.len() + val_files.len();
    let done = AtomicUsize::new(0);
    let mut skipped = Vec::new();
    let mut splits = Vec::new();
    for files in [&mut train_files, &mut val_files] {
        let decoded = decode_all(files, target, fit, progress, &done, total);
        splits.push(collect(
            decoded,
            &mut skipped,
            dir,
            fit,
            options.target.is_none(),
        )?);
    }
    let val = splits.pop().unwrap_or_else(|| Split {
        masks: Vec::new(),
        values: Vec::new(),
        samples: Samples::U8(Vec::new()),
        labels: Vec::new(),
    });
    let train = splits.pop().unwrap_or_else(|| Split {
        masks: Vec::new(),
        values: Vec::new(),
        samples: Samples::U8(Vec::new()),
        labels: Vec::new(),
    });
    let (c, h, w) = target.unwrap_or((1, 1, 1));
    let ds = Dataset {
        table: None,
        quantity: None,
        name: format!("image folder ({})", dir.display()),
        shape: Shape::image(c, h, w),
        classes,
        train,
        val,
        skipped,
        notes: Vec::new(),
    };
    ds.check().map_err(|e| DataError::invalid(dir, e))?;
    Ok(ds)
}

fn first_shape(files: &[(PathBuf, u32)]) -> Option<Chw> {
    files
        .iter()
        .find_map(|(p, _)| decode_path(p, None, Fit::Exact).ok().map(|(_, own)| own))
}

/// Concatenates decoded images; without a target, refuses mixed sizes or channel counts.
fn collect(
    decoded: Vec<Result<Decoded, Skipped>>,
    skipped: &mut Vec<Skipped>,
    dir: &Path,
    fit: Fit,
    strict: bool,
) -> Result<Split, DataError> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut first: Option<Chw> = None;
    for item in decoded {
        match item {
            Ok(Decoded {
                pixels: px,
                label,
                own,
            }) => {
                if strict && fit == Fit::Exact {
                    let f = *first.get_or_insert(own);
                    if f.0 != own.0 {
                        return Err(DataError::invalid(
                            dir,
                            format!(
                                "mixed channel counts: some images have {} channel(s), others {}: choose the channels to convert to (the design's Input)",
                                f.0, own.0
                            ),
                        ));
                    }
                }
                pixels.extend_from_slice(&px);
                labels.push(label);
            }
            Err(s) if s.reason.starts_with("size ") && strict => {
                return Err(DataError::invalid(
                    dir,
                    format!(
                        "mixed sizes: {} has {}: choose a size to convert to, by resize or centre crop",
                        s.path.display(),
                        s.reason
                    ),
                ));
            }
            Err(s) => skipped.push(s),
        }
    }
    Ok(Split {
        masks: Vec::new(),
        values: Vec::new(),
        samples: Samples::U8(pixels),
        labels,
    })
}

/// Moves a seeded, per-class fraction of `files` out for validation.
fn split_off(
    files: &mut Vec<(PathBuf, u32)>,
    classes: usize,
    options: &FolderOptions,
) -> Vec<(PathBuf, u32)> {
    let mut rng = Rng::new(options.seed);
    let mut val = Vec::new();
    let mut keep = Vec::new();
    for class in 0..classes as u32 {
        let mut of_class: Vec<(PathBuf, u32)> =
            files.iter().filter(|(_, l)| *l == class).cloned().collect();
        rng.shuffle(&mut of_class);
        let n_val =
            ((of_class.len() as f64) * options.val_fraction.clamp(0.0, 1.0)).round() as usize;
        let n_val = n_val.min(of_class.len().saturating_sub(1));
        val.extend(of_class.drain(..n_val));
        keep.extend(of_class);
    }
    keep.sort();
    val.sort();
    *files = keep;
    val
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `image` fuzz target: a PBM whose header declares 20×0 pixels decoded, and
    /// centre-cropping it to 3×3 gave fewer pixels than 3×3, so laying them out channel-major
    /// indexed past the end (a panic that stopped the whole folder's loading).
    #[test]
    fn a_degenerate_image_is_refused_not_panicked_on() {
        let crash: &[u8] = b"P4\n20 \n0 6\xff\xff\xff,\xa26";
        for fit in [Fit::Exact, Fit::Resize, Fit::CenterCrop] {
            for target in [None, Some((3, 3, 3)), Some((1, 28, 28))] {
                assert!(
                    decode_image(crash, target, fit).is_err(),
                    "{fit:?} {target:?}"
                );
            }
        }
        let mut png = Vec::new();
        image::GrayImage::new(2000, 1)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("a PNG");
        for fit in [Fit::Resize, Fit::CenterCrop] {
            for target in [(3, 3, 3), (1, 1, 1), (3, 28, 5)] {
                match decode_image(&png, Some(target), fit) {
                    Ok((pixels, _)) => {
                        assert_eq!(pixels.len() as u64, target.0 * target.1 * target.2);
                    }
                    Err(e) => assert!(e.contains("can't be fitted"), "{e}"),
                }
            }
        }
    }
}
