//! What identifies a loaded dataset, so that a run folder can say which data it trained on and
//! a resume, an eval or an export can tell the same data from other data: its sample counts,
//! sample shape and classes, and a checksum of every sample and label as loaded.
//!
//! The checksum is over the data as the run sees it (after decoding, resizing and choosing
//! classes), not over the files: a folder that was copied elsewhere is the same data, a folder
//! whose images changed is not.

use super::{Dataset, Samples, Split};
use serde::{Deserialize, Serialize};

/// A dataset's identity, as a run folder records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Training samples.
    pub train: usize,
    /// Validation samples.
    pub val: usize,
    /// The shape of one sample.
    pub shape: Vec<u64>,
    /// The class names, by label.
    pub classes: Vec<String>,
    /// CRC-32 of every sample's values and every label, training split first, as 8 hex digits.
    pub checksum: String,
}

fn hash_split(hasher: &mut crc32fast::Hasher, split: &Split) {
    match &split.samples {
        Samples::U8(v) => hasher.update(v),
        Samples::F32(v) => {
            for chunk in v.chunks(4096) {
                let bytes: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
                hasher.update(&bytes);
            }
        }
    }
    let labels: Vec<u8> = split.labels.iter().flat_map(|l| l.to_le_bytes()).collect();
    hasher.update(&labels);
    // A regression's targets (empty, and so no change to the hash, for classes).
    let values: Vec<u8> = split.values.iter().flat_map(|v| v.to_le_bytes()).collect();
    hasher.update(&values);
}

impl Fingerprint {
    /// The fingerprint of `data` (one pass over its values: milliseconds for Fashion-MNIST).
    pub fn of(data: &Dataset) -> Fingerprint {
        let mut hasher = crc32fast::Hasher::new();
        hash_split(&mut hasher, &data.train);
        hash_split(&mut hasher, &data.val);
        Fingerprint {
            train: data.train.len(),
            val: data.val.len(),
            shape: data.shape.dims().to_vec(),
            classes: data.classes.clone(),
            checksum: format!("{:08x}", hasher.finalize()),
        }
    }

    /// How `other` differs from this one, a phrase per difference ("10,000 training samples,
    /// not 60,000"); empty when they are the same data.
    pub fn differences(&self, other: &Fingerprint) -> Vec<String> {
        let n = crate::units::thousands;
        let mut out = Vec::new();
        if other.train != self.train {
            out.push(format!(
                "{} training samples, not {}",
                n(other.train as u64),
                n(self.train as u64)
            ));
        }
        if other.val != self.val {
            out.push(format!(
                "{} validation samples, not {}",
                n(other.val as u64),
                n(self.val as u64)
            ));
        }
        if other.shape != self.shape {
            out.push(format!(
                "samples of shape {}, not {}",
                dims(&other.shape),
                dims(&self.shape)
            ));
        }
        if other.classes != self.classes {
            out.push(if other.classes.len() == self.classes.len() {
                format!(
                    "classes {}, not {}",
                    classes(&other.classes),
                    classes(&self.classes)
                )
            } else {
                format!(
                    "{}, not {}",
                    crate::units::count(other.classes.len() as u64, "class"),
                    self.classes.len()
                )
            });
        }
        if out.is_empty() && other.checksum != self.checksum {
            out.push("the same counts, shape and classes, but other samples or labels".to_owned());
        }
        out
    }
}

fn dims(d: &[u64]) -> String {
    d.iter().map(u64::to_string).collect::<Vec<_>>().join("×")
}

fn classes(c: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut list: Vec<&str> = c.iter().take(SHOWN).map(String::as_str).collect();
    if c.len() > SHOWN {
        list.push("…");
    }
    format!("[{}]", list.join(", "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::data::{Toy, ToyOptions, toy_dataset};

    #[test]
    fn the_same_data_has_the_same_fingerprint_and_other_data_says_what_differs() {
        let spiral = toy_dataset(Toy::Spiral, ToyOptions::default()).unwrap();
        let again = toy_dataset(Toy::Spiral, ToyOptions::default()).unwrap();
        let a = Fingerprint::of(&spiral);
        assert_eq!(a, Fingerprint::of(&again));
        assert!(a.differences(&Fingerprint::of(&again)).is_empty());

        let other_seed = toy_dataset(
            Toy::Spiral,
            ToyOptions {
                seed: 1,
                ..ToyOptions::default()
            },
        )
        .unwrap();
        let d = a.differences(&Fingerprint::of(&other_seed));
        assert_eq!(
            d,
            ["the same counts, shape and classes, but other samples or labels"]
        );

        let bigger = toy_dataset(
            Toy::Moons,
            ToyOptions {
                samples: 60_000,
                ..ToyOptions::default()
            },
        )
        .unwrap();
        let d = a.differences(&Fingerprint::of(&bigger));
        assert_eq!(d[0], "60,000 training samples, not 1,200");
        assert!(d.iter().any(|p| p == "2 classes, not 3"), "{d:?}");
    }
}
