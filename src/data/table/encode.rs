//! Turning a table's feature columns into numbers, fitted on the training rows only (what a
//! user expects of scikit-learn's `StandardScaler` and `OneHotEncoder(handle_unknown=…)`):
//! numbers standardised with the training mean and deviation, missing numbers imputed with the
//! training mean; text one-hot over the training values, a missing value its own category,
//! and one "other" slot for values the training rows never had. Columns that can't help are
//! dropped, each with why.

use super::read::{Cells, Table};
use std::collections::HashMap;

/// The category a missing text cell becomes.
pub const MISSING: &str = "(missing)";
/// More distinct text values than this and a column isn't one-hot encoded.
const MAX_CATEGORIES: usize = 100;

/// How one column becomes numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum Encoding {
    /// `(x − mean) / std`; a missing value is the mean (0 after).
    Numeric { mean: f64, std: f64 },
    /// One-hot over the training values (most frequent first), then one slot for the rest.
    Categorical { vocabulary: Vec<String> },
}

impl Encoding {
    /// How many features it makes.
    pub fn width(&self) -> usize {
        match self {
            Encoding::Numeric { .. } => 1,
            Encoding::Categorical { vocabulary } => vocabulary.len() + 1,
        }
    }
}

/// One encoded column, and what happened to its cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Its name in the table.
    pub name: String,
    /// How it is encoded.
    pub encoding: Encoding,
    /// Missing cells imputed (numbers) or made the missing category (text), in all rows.
    pub missing: usize,
    /// Validation cells with a value the training rows never had (the "other" slot).
    pub unseen: usize,
}

/// The fitted encoding of a table's features.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Encoder {
    /// The encoded columns, with their index in the table, in table order.
    pub columns: Vec<(usize, Column)>,
    /// Columns left out: (name, why).
    pub dropped: Vec<(String, String)>,
}

/// Mean and standard deviation (population, as StandardScaler) of the present values.
fn moments(values: impl Iterator<Item = f32>) -> Option<(f64, f64)> {
    let (mut n, mut sum, mut sq) = (0usize, 0f64, 0f64);
    for v in values.filter(|v| !v.is_nan()) {
        let v = f64::from(v);
        n += 1;
        sum += v;
        sq += v * v;
    }
    (n > 0).then(|| {
        let mean = sum / n as f64;
        (mean, (sq / n as f64 - mean * mean).max(0.0).sqrt())
    })
}

/// Whether a column's integer values are exactly the row numbers in some order (n distinct
/// consecutive integers over all rows): a row ID, which a model can only memorise.
fn is_row_number(values: &[f32]) -> bool {
    let mut seen: Vec<i64> = Vec::with_capacity(values.len());
    for &v in values {
        if v.is_nan() || v.fract() != 0.0 {
            return false;
        }
        seen.push(v as i64);
    }
    seen.sort_unstable();
    seen.len() > 20 && seen.windows(2).all(|w| w[1] == w[0] + 1)
}

impl Encoder {
    /// Fits the encoding of the columns `features` on the rows `train`.
    pub(super) fn fit(table: &Table, features: &[usize], train: &[usize]) -> Encoder {
        let mut e = Encoder::default();
        for &c in features {
            let name = table.names[c].clone();
            match Self::fit_column(&table.columns[c], train) {
                Ok(encoding) => {
                    let missing = (0..table.rows())
                        .filter(|&r| table.columns[c].text(r).is_none())
                        .count();
                    let column = Column {
                        name,
                        encoding,
                        missing,
                        unseen: 0,
                    };
                    e.columns.push((c, column));
                }
                Err(why) => e.dropped.push((name, why)),
            }
        }
        e
    }

    fn fit_column(cells: &Cells, train: &[usize]) -> Result<Encoding, String> {
        match cells {
            Cells::Numbers(v) => {
                let Some((mean, std)) = moments(train.iter().map(|&r| v[r])) else {
                    return Err("it is empty in the training rows".to_owned());
                };
                if std == 0.0 {
                    return Err(
                        "it has one value on every training row, which tells the classes nothing"
                            .to_owned(),
                    );
                }
                if is_row_number(v) {
                    return Err(
                        "its values are the row numbers (an ID), which a model can only memorise"
                            .to_owned(),
                    );
                }
                Ok(Encoding::Numeric { mean, std })
            }
            Cells::Text(v) => {
                let mut counts: HashMap<&str, usize> = HashMap::new();
                for &r in train {
                    let key = v[r].as_deref().unwrap_or(MISSING);
                    *counts.entry(key).or_default() += 1;
                }
                if counts.len() == 1 && counts.contains_key(MISSING) {
                    return Err("it is empty in the training rows".to_owned());
                }
                if counts.len() < 2 {
                    return Err(
                        "it has one value on every training row, which tells the classes nothing"
                            .to_owned(),
                    );
                }
                if counts.len() == train.len() && train.len() > 20 {
                    return Err("it has a different value on every row (an ID?), which a model can only memorise".to_owned());
                }
                if counts.len() > MAX_CATEGORIES {
                    return Err(format!(
                        "it has {} different values, too many to encode one per feature: group them into fewer, or drop it",
                        counts.len()
                    ));
                }
                let mut vocabulary: Vec<(&str, usize)> = counts.into_iter().collect();
                vocabulary.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                Ok(Encoding::Categorical {
                    vocabulary: vocabulary.into_iter().map(|(k, _)| k.to_owned()).collect(),
                })
            }
        }
    }

    /// How many features a row becomes.
    pub fn width(&self) -> usize {
        self.columns.iter().map(|(_, c)| c.encoding.width()).sum()
    }

    /// The features of `rows`, row after row; counts each column's unseen values when
    /// `count_unseen` (the validation rows).
    pub(super) fn encode(&mut self, table: &Table, rows: &[usize], count_unseen: bool) -> Vec<f32> {
        let width = self.width();
        let mut out = vec![0f32; rows.len() * width];
        let mut offset = 0;
        for (c, column) in &mut self.columns {
            let cells = &table.columns[*c];
            match (&column.encoding, cells) {
                (Encoding::Numeric { mean, std }, Cells::Numbers(v)) => {
                    let (mean, inv) = (*mean as f32, (1.0 / *std) as f32);
                    for (i, &r) in rows.iter().enumerate() {
                        let x = v[r];
                        out[i * width + offset] = if x.is_nan() { 0.0 } else { (x - mean) * inv };
                    }
                }
                (Encoding::Categorical { vocabulary }, _) => {
                    let slot: HashMap<&str, usize> = vocabulary
                        .iter()
                        .enumerate()
                        .map(|(i, k)| (k.as_str(), i))
                        .collect();
                    for (i, &r) in rows.iter().enumerate() {
                        let text = cells.text(r);
                        let key = text.as_deref().unwrap_or(MISSING);
                        let s = match slot.get(key) {
                            Some(&s) => s,
                            None => {
                                column.unseen += usize::from(count_unseen);
                                vocabulary.len()
                            }
                        };
                        out[i * width + offset + s] = 1.0;
                    }
                }
                // A numeric encoding is only fitted on a numeric column.
                (Encoding::Numeric { .. }, Cells::Text(_)) => {}
            }
            offset += column.encoding.width();
        }
        out
    }
}
