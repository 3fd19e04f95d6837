//! Converting a set of images to the shape a design takes: grey ↔ RGB, and a resize to
//! H×W. This is what lets a 3×32×32 example train on the built-in Fashion-MNIST (1×28×28), and
//! what a user with images of the wrong size needs; image folders get the same conversion as
//! they are read ([`super::FolderOptions`]), with the same filter.
//!
//! Written into a data spec after `?` (`builtin:fashion-mnist?channels=3&size=32x32`), so a run
//! folder, the CLI, the exported train.py and the design file all name the converted data.

use super::{DataError, Dataset, Samples, Split};
use crate::design::Shape;
use image::imageops::FilterType;

/// What to convert images to; None keeps that part of the data's own shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Convert {
    /// 1 (grey) or 3 (RGB).
    pub channels: Option<u32>,
    /// Height and width.
    pub size: Option<(u32, u32)>,
    /// Only the first this many training samples (and a fifth as many validation ones):
    /// what keeps the built-in set converted to a 224×224 template to a size a laptop holds.
    pub limit: Option<u32>,
}

impl Convert {
    /// True when it changes nothing.
    pub fn is_none(&self) -> bool {
        self.channels.is_none() && self.size.is_none() && self.limit.is_none()
    }

    /// The query options that name it, e.g. `channels=3&size=32x32`.
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.channels {
            parts.push(format!("channels={c}"));
        }
        if let Some((h, w)) = self.size {
            parts.push(format!("size={h}x{w}"));
        }
        if let Some(n) = self.limit {
            parts.push(format!("limit={n}"));
        }
        parts.join("&")
    }

    /// Reads `channels=` or `size=` into `self`; false for any other key.
    pub fn read(&mut self, key: &str, value: &str) -> Result<bool, DataError> {
        match key {
            "channels" => {
                let c = value.parse::<u32>().ok().filter(|c| *c == 1 || *c == 3);
                self.channels = Some(c.ok_or_else(|| {
                    DataError::Spec(format!(
                        "channels={value}: images convert to 1 (grey) or 3 (RGB) channels"
                    ))
                })?);
                Ok(true)
            }
            "size" => {
                let parsed = value
                    .split_once('x')
                    .and_then(|(h, w)| Some((h.parse::<u32>().ok()?, w.parse::<u32>().ok()?)))
                    .filter(|(h, w)| (1..=4096).contains(h) && (1..=4096).contains(w));
                self.size = Some(parsed.ok_or_else(|| {
                    DataError::Spec(format!(
                        "size={value}: give a height and width from 1 to 4096, e.g. size=32x32"
                    ))
                })?);
                Ok(true)
            }
            "limit" => {
                let n = value.parse::<u32>().ok().filter(|n| *n >= 1);
                self.limit = Some(n.ok_or_else(|| {
                    DataError::Spec(format!(
                        "limit={value}: give how many training samples to keep, e.g. limit=1000"
                    ))
                })?);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The shape `shape` (C×H×W) becomes.
    pub fn apply_to(&self, shape: Shape) -> Option<Shape> {
        let (c, h, w) = shape.as_image()?;
        let c = self.channels.map_or(c, u64::from);
        let (h, w) = self
            .size
            .map_or((h, w), |(h, w)| (u64::from(h), u64::from(w)));
        Some(Shape::image(c, h, w))
    }
}

/// `data` with its images converted (and cut to `limit`); an error for a conversion of data
/// that isn't images.
pub fn convert(data: Dataset, to: Convert) -> Result<Dataset, DataError> {
    let data = match to.limit {
        Some(n) => limited(data, n as usize),
        None => data,
    };
    if to.channels.is_none() && to.size.is_none() {
        return Ok(data);
    }
    let Some((c, h, w)) = data.shape.as_image() else {
        return Err(DataError::Spec(format!(
            "{} holds vectors of {}, not images: channels= and size= convert images only",
            data.name, data.shape
        )));
    };
    let Some(target) = to.apply_to(data.shape) else {
        return Ok(data);
    };
    if target == data.shape {
        return Ok(data);
    }
    let (tc, th, tw) = target.as_image().unwrap_or((c, h, w));
    if (th, tw) != (h, w) && !data.train.masks.is_empty() {
        return Err(DataError::Spec(format!(
            "{} has a mask per image, which size= would not resize with it: give the design's Input the images' size, {h}×{w}",
            data.name
        )));
    }
    let from = (c as u32, h as u32, w as u32);
    let into = (tc as u32, th as u32, tw as u32);
    let split = |s: Split| -> Result<Split, DataError> {
        let Samples::U8(pixels) = s.samples else {
            return Err(DataError::Spec(format!(
                "{} holds real-valued samples, which channels= and size= can't convert",
                data.name
            )));
        };
        let per = (c * h * w) as usize;
        let mut out = Vec::with_capacity(s.labels.len() * (tc * th * tw) as usize);
        for sample in pixels.chunks_exact(per) {
            out.extend(one(sample, from, into));
        }
        Ok(Split {
            masks: s.masks,
            values: s.values,
            samples: Samples::U8(out),
            labels: s.labels,
        })
    };
    let name = format!("{} as {target}", data.name);
    Ok(Dataset {
        name,
        shape: target,
        train: split(data.train)?,
        val: split(data.val)?,
        ..data
    })
}

/// The first `n` training samples and the first `n` / 5 validation ones (at least one).
fn limited(data: Dataset, n: usize) -> Dataset {
    let per = data.sample_len();
    let cut = |s: Split, k: usize| -> Split {
        let k = k.min(s.len());
        Split {
            masks: s.masks.get(..k).unwrap_or_default().to_vec(),
            values: s.values.get(..k).unwrap_or_default().to_vec(),
            samples: match s.samples {
                Samples::U8(mut v) => {
                    v.truncate(k * per);
                    Samples::U8(v)
                }
                Samples::F32(mut v) => {
                    v.truncate(k * per);
                    Samples::F32(v)
                }
            },
            labels: s.labels.get(..k).unwrap_or_default().to_vec(),
        }
    };
    let name = format!(
        "{} (first {})",
        data.name,
        crate::units::thousands(n as u64)
    );
    let val = (n / 5).max(1);
    Dataset {
        name,
        train: cut(data.train, n),
        val: cut(data.val, val),
        ..data
    }
}

/// One C×H×W image converted: resized first (in its own channels, the Triangle filter as for
/// folders), then grey copied to R, G and B, or RGB reduced to its luma.
fn one(pixels: &[u8], (c, h, w): (u32, u32, u32), (tc, th, tw): (u32, u32, u32)) -> Vec<u8> {
    let plane = (h * w) as usize;
    let resize = |p: &[u8]| -> Vec<u8> {
        if (h, w) == (th, tw) {
            return p.to_vec();
        }
        match image::GrayImage::from_raw(w, h, p.to_vec()) {
            Some(img) => image::imageops::resize(&img, tw, th, FilterType::Triangle).into_raw(),
            None => vec![0; (th * tw) as usize],
        }
    };
    let planes: Vec<Vec<u8>> = (0..c as usize)
        .map(|i| resize(&pixels[i * plane..(i + 1) * plane]))
        .collect();
    match (c, tc) {
        (1, 3) => planes[0].repeat(3),
        (3, 1) => {
            // ITU-R 601 luma, as the augmentation's saturation uses.
            (0..planes[0].len())
                .map(|i| {
                    let y = 0.299 * f32::from(planes[0][i])
                        + 0.587 * f32::from(planes[1][i])
                        + 0.114 * f32::from(planes[2][i]);
                    y.round().clamp(0.0, 255.0) as u8
                })
                .collect()
        }
        _ => planes.concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_becomes_three_equal_channels_at_the_new_size() {
        let data = crate::data::fashion_mnist_builtin().unwrap();
        let n = data.train.len();
        let to = Convert {
            channels: Some(3),
            size: Some((32, 32)),
            limit: None,
        };
        let out = convert(data, to).unwrap();
        assert_eq!(out.shape, Shape::image(3, 32, 32));
        assert_eq!(out.train.len(), n);
        let Samples::U8(p) = &out.train.samples else {
            panic!("pixels");
        };
        assert_eq!(p.len(), n * 3 * 32 * 32);
        let first = &p[..3 * 1024];
        assert_eq!(first[..1024], first[1024..2048]);
        assert_eq!(first[..1024], first[2048..]);
        assert!(first.iter().any(|v| *v > 100), "an image, not zeros");
    }

    #[test]
    fn rgb_becomes_luma_and_a_resize_keeps_a_flat_image_flat() {
        let rgb: Vec<u8> = [vec![200u8; 16], vec![100u8; 16], vec![50u8; 16]].concat();
        let grey = one(&rgb, (3, 4, 4), (1, 8, 8));
        assert_eq!(grey.len(), 64);
        let y = (0.299f32 * 200.0 + 0.587 * 100.0 + 0.114 * 50.0).round() as u8;
        assert!(grey.iter().all(|v| *v == y), "{grey:?}");
    }

    #[test]
    fn options_read_back_and_bad_ones_say_what_to_write() {
        let mut c = Convert::default();
        assert!(c.read("channels", "3").unwrap());
        assert!(c.read("size", "32x24").unwrap());
        assert_eq!(c.to_query(), "channels=3&size=32x24");
        assert!(!c.read("classes", "1").unwrap());
        assert!(c.read("limit", "1000").unwrap());
        assert_eq!(c.to_query(), "channels=3&size=32x24&limit=1000");
        assert!(c.read("limit", "0").is_err());
        let e = c.read("channels", "2").unwrap_err().to_string();
        assert!(e.contains("1 (grey) or 3 (RGB)"), "{e}");
        let e = c.read("size", "32").unwrap_err().to_string();
        assert!(e.contains("size=32x32"), "{e}");
    }

    #[test]
    fn a_limit_keeps_the_first_samples_and_a_fifth_for_validation() {
        let data = crate::data::fashion_mnist_builtin().unwrap();
        let first = data.train.labels[..100].to_vec();
        let out = convert(
            data,
            Convert {
                limit: Some(100),
                ..Convert::default()
            },
        )
        .unwrap();
        assert_eq!(out.train.labels, first);
        assert_eq!(out.val.len(), 20);
        assert_eq!(out.train.samples.len(), 100 * 784);
    }

    #[test]
    fn the_default_data_converts_to_sizes_people_mean_and_no_further() {
        use crate::data::DataSpec;
        let spec = |c, h, w| {
            DataSpec::default_for(Some(Shape::image(c, h, w)))
                .unwrap()
                .to_spec()
        };
        assert_eq!(spec(1, 28, 28), "builtin:fashion-mnist");
        assert_eq!(
            spec(3, 32, 32),
            "builtin:fashion-mnist?channels=3&size=32x32"
        );
        assert_eq!(
            spec(3, 224, 224),
            "builtin:fashion-mnist?channels=3&size=224x224&limit=1000"
        );
        // Not to 65,536 rows (gigabytes), nor to 2 channels: the data as it is, the mismatch
        // said where it is used.
        assert_eq!(spec(1, 65536, 28), "builtin:fashion-mnist");
        assert_eq!(spec(2, 28, 28), "builtin:fashion-mnist");
    }

    #[test]
    fn vectors_are_refused_with_a_reason() {
        let toy = crate::data::toy_dataset(crate::data::Toy::Spiral, Default::default()).unwrap();
        let e = convert(
            toy,
            Convert {
                channels: Some(3),
                size: None,
                limit: None,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("convert images only"), "{e}");
    }
}
