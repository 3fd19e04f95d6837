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

use super::augment::Rgba;
use super::folder::{Fit, decode_path, is_image};
use super::rng::Rng;
use super::{DataError, Dataset, Samples, Split};
use crate::design::Shape;
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

/// `DIR/classes.json`: class names, and for RGB masks each class's colour.
#[derive(Clone, Debug, Default, PartialEq)]
struct ClassMap {
    names: Vec<String>,
    /// Colour → stored value (a class index, or [`IGNORE`]).
    colours: BTreeMap<[u8; 3], u8>,
}

fn read_classes(dir: &Path) -> Result<Option<ClassMap>, DataError> {
    let path = dir.join("classes.json");
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&path).map_err(|e| DataError::io("classes.json", &path, e))?;
    let bad = |why: String| {
        DataError::invalid(
            &path,
            format!(
                "{why}: write a list of classes, e.g. [\"background\", \"cat\"], or with colours for RGB masks [{{\"name\": \"background\", \"color\": [0, 0, 0]}}, {{\"name\": \"cat\", \"color\": [255, 0, 0]}}] (an entry with \"ignore\": true marks a colour to ignore)"
            ),
        )
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("it isn't JSON ({e})")))?;
    let items = value
        .as_array()
        .ok_or_else(|| bad("it isn't a list".to_owned()))?;
    let mut map = ClassMap::default();
    for item in items {
        let (name, colour, ignore) = match item {
            serde_json::Value::String(s) => (s.clone(), None, false),
            serde_json::Value::Object(o) => {
                let name = o.get("name").and_then(|n| n.as_str()).unwrap_or_default();
                let colour = o.get("color").or_else(|| o.get("colour"));
                let ignore = o.get("ignore").and_then(serde_json::Value::as_bool) == Some(true);
                (name.to_owned(), colour.cloned(), ignore)
            }
            other => {
                return Err(bad(format!(
                    "the entry {other} is neither a name nor an object"
                )));
            }
        };
        let value = if ignore {
            IGNORE
        } else {
            map.names.push(name.clone());
            u8::try_from(map.names.len() - 1)
                .ok()
                .filter(|&v| v != IGNORE)
                .ok_or_else(|| bad("more than 255 classes".to_owned()))?
        };
        if let Some(c) = colour {
            let rgb: Vec<u8> = c
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_u64())
                        .filter_map(|v| u8::try_from(v).ok())
                        .collect()
                })
                .unwrap_or_default();
            let rgb: [u8; 3] = rgb
                .try_into()
                .map_err(|_| bad(format!("\"{name}\"'s color {c} isn't three numbers 0–255")))?;
            if map.colours.insert(rgb, value).is_some() {
                return Err(bad(format!("the color {rgb:?} is given twice")));
            }
        }
    }
    Ok(Some(map))
}

/// One mask's pixels as the file has them: values (indices, or RGB triples) row by row.
enum Pixels {
    Indices(Vec<u8>),
    Rgb(Vec<u8>),
}

/// Reads a mask PNG without turning a palette into colours.
fn read_png(path: &Path) -> Result<(Pixels, (u32, u32)), String> {
    if let Some(why) = crate::fsio::not_a_regular_file(path) {
        return Err(why);
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("it isn't a readable PNG ({e}): masks are PNG files"))?;
    let size = reader
        .output_buffer_size()
        .ok_or("it is too large to decode")?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("it can't be decoded ({e})"))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let bits = info.bit_depth as usize;
    if bits == 16 {
        return Err(
            "it has 16 bits per value: save masks with 8 bits (class indices 0–254)".into(),
        );
    }
    use png::ColorType::{Grayscale, GrayscaleAlpha, Indexed, Rgb, Rgba};
    let samples = match info.color_type {
        Grayscale | Indexed => 1,
        GrayscaleAlpha => 2,
        Rgb => 3,
        Rgba => 4,
    };
    let row = |y: usize| &buf[y * info.line_size..(y + 1) * info.line_size];
    let pixels = match info.color_type {
        Grayscale | Indexed | GrayscaleAlpha => {
            let mut out = Vec::with_capacity(w * h);
            for y in 0..h {
                let r = row(y);
                for x in 0..w {
                    out.push(if bits == 8 {
                        r[x * samples]
                    } else {
                        // Packed 1, 2 or 4-bit values, most significant first.
                        let bit = x * bits;
                        (r[bit / 8] >> (8 - bits - bit % 8)) & ((1u8 << bits) - 1)
                    });
                }
            }
            Pixels::Indices(out)
        }
        Rgb | Rgba => {
            let mut out = Vec::with_capacity(w * h * 3);
            for y in 0..h {
                let r = row(y);
                for x in 0..w {
                    out.extend_from_slice(&r[x * samples..x * samples + 3]);
                }
            }
            Pixels::Rgb(out)
        }
    };
    Ok((pixels, (info.width, info.height)))
}

/// A mask as stored: a class index per pixel, [`IGNORE`] where ignored.
fn mask_values(
    path: &Path,
    classes: Option<&ClassMap>,
    options: MaskOptions,
) -> Result<(Vec<u8>, (u32, u32)), DataError> {
    let (pixels, size) = read_png(path).map_err(|why| DataError::invalid(path, why))?;
    let values = match pixels {
        Pixels::Indices(v) => {
            let mut out = Vec::with_capacity(v.len());
            for (i, &x) in v.iter().enumerate() {
                out.push(if x == options.ignore {
                    IGNORE
                } else if x == IGNORE {
                    return Err(DataError::invalid(
                        path,
                        format!(
                            "pixel ({}, {}) is 255, but ignore={} and classes go up to 254: set ignore=255 if 255 marks pixels to ignore",
                            i as u32 % size.0,
                            i as u32 / size.0,
                            options.ignore
                        ),
                    ));
                } else {
                    x
                });
            }
            out
        }
        Pixels::Rgb(v) => {
            let Some(map) = classes.filter(|m| !m.colours.is_empty()) else {
                return Err(DataError::invalid(
                    path,
                    "it is an RGB image: add DIR/classes.json giving each class's colour, e.g. [{\"name\": \"background\", \"color\": [0, 0, 0]}, {\"name\": \"cat\", \"color\": [255, 0, 0]}], or save masks as grey or palette PNGs of class indices",
                ));
            };
            let mut out = Vec::with_capacity(v.len() / 3);
            for (i, px) in v.chunks_exact(3).enumerate() {
                let rgb = [px[0], px[1], px[2]];
                let Some(&c) = map.colours.get(&rgb) else {
                    return Err(DataError::invalid(
                        path,
                        format!(
                            "pixel ({}, {}) has the colour {rgb:?}, which no class in classes.json has: add it (or mark it \"ignore\": true)",
                            i as u32 % size.0,
                            i as u32 / size.0
                        ),
                    ));
                };
                out.push(c);
            }
            out
        }
    };
    Ok((values, size))
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

/// The colour a class is drawn in over its pixels (repeating after twelve classes); class 0,
/// most often the background, is drawn in none.
pub const CLASS_COLOURS: [[u8; 3]; 12] = [
    [0, 0, 0],
    [250, 220, 40],
    [40, 220, 220],
    [230, 60, 230],
    [60, 200, 90],
    [250, 130, 40],
    [230, 60, 60],
    [60, 120, 230],
    [150, 230, 60],
    [240, 110, 180],
    [120, 90, 40],
    [160, 160, 255],
];

/// What ignored pixels are tinted (as Pascal VOC draws its outlines).
const IGNORED_COLOUR: [u8; 3] = [235, 235, 225];

/// `image` with each pixel of `mask` (a class per pixel) tinted its class's colour, half and
/// half (ignored pixels near-white); background (class 0) is left as it is.
pub fn overlay(image: &Rgba, mask: &[u8]) -> Rgba {
    let mut out = image.clone();
    for (px, &c) in out.pixels.chunks_exact_mut(4).zip(mask) {
        if c == 0 {
            continue;
        }
        let colour = if c == IGNORE {
            IGNORED_COLOUR
        } else {
            CLASS_COLOURS[usize::from(c) % CLASS_COLOURS.len()]
        };
        for (v, t) in px.iter_mut().zip(colour) {
            *v = ((u16::from(*v) + u16::from(t)) / 2) as u8;
        }
    }
    out
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
