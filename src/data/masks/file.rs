//! Reading one mask file: its PNG's values as the file has them (a palette PNG's indices, not
//! its colours), and `classes.json`'s colour map for RGB masks, into a class per pixel.

use super::{IGNORE, MaskOptions};
use crate::data::DataError;
use std::collections::BTreeMap;
use std::path::Path;

/// `DIR/classes.json`: class names, and for RGB masks each class's colour.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct ClassMap {
    pub(super) names: Vec<String>,
    /// Colour → stored value (a class index, or [`IGNORE`]).
    colours: BTreeMap<[u8; 3], u8>,
}

pub(super) fn read_classes(dir: &Path) -> Result<Option<ClassMap>, DataError> {
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
pub(super) fn mask_values(
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
