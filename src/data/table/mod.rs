//! Tables: a CSV (or TSV, or either gzipped) with feature columns and one target column, the
//! first data of almost every course and most of what practitioners have. `csv:PATH` with
//! options after `?` (`target=species&drop=id,name&split=fold&sep=;&header=false`).
//!
//! Each row becomes a vector: the features encoded as [`encode`] says, fitted on the training
//! rows only, so nothing of the validation rows leaks into the model. What was done to each
//! column (standardised, one-hot, imputed, dropped and why) is said in the dataset's notes.

mod encode;
mod preview;
mod read;
mod target;

pub use encode::{Column, Encoder, Encoding, MISSING as MISSING_CATEGORY};
pub use preview::{PREVIEW_ROWS, TablePreview};
pub use read::MISSING as MISSING_CELLS;

use super::rng::Rng;
use super::{DataError, Dataset, Samples, Split};
use crate::design::Shape;
use read::{Table, read_table, separator_for};
use std::path::Path;
use target::{classes_of, infer_task, quantity_of, regression, target_column};

/// What the target column is predicted as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// One class per distinct value.
    Classification,
    /// A real number.
    Regression,
}

/// How a table is read: `csv:PATH?…` options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// The column predicted (default: the last one not dropped or the split).
    pub target: Option<String>,
    /// Classification or regression (default: inferred from the target).
    pub task: Option<Task>,
    /// Columns left out.
    pub drop: Vec<String>,
    /// A column saying which rows validate (`val`, `valid`, `validation`, `test`) and which
    /// train (`train`, `training`); default: a seeded fifth of the rows validate.
    pub split: Option<String>,
    /// The separator (default: a tab for .tsv, else a comma).
    pub sep: Option<u8>,
    /// False when the first row is data, not column names.
    pub no_header: bool,
}

/// The share of rows that validate when no split column says.
const VAL_FRACTION: f64 = 0.2;
/// The seed of that split: the same file always splits the same way.
const SPLIT_SEED: u64 = 0;
/// At most this many distinct integer targets are read as classes, not as a quantity.
const MAX_INTEGER_CLASSES: usize = 20;

impl TableOptions {
    /// Reads the options of a query (`target=y&drop=a,b`).
    pub fn parse(query: &str) -> Result<TableOptions, DataError> {
        let mut o = TableOptions::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "target" => o.target = Some(value.to_owned()),
                "task" => {
                    o.task = Some(match value {
                        "classification" => Task::Classification,
                        "regression" => Task::Regression,
                        _ => {
                            return Err(DataError::Spec(format!(
                                "task={value}: use task=classification or task=regression"
                            )));
                        }
                    });
                }
                "drop" => o.drop = value.split(',').map(|s| s.trim().to_owned()).collect(),
                "split" => o.split = Some(value.to_owned()),
                "sep" => {
                    o.sep = Some(match value {
                        "tab" | "\\t" | "\t" => b'\t',
                        "comma" => b',',
                        "semicolon" => b';',
                        v if v.len() == 1 => v.as_bytes()[0],
                        _ => {
                            return Err(DataError::Spec(format!(
                                "sep={value}: give one character, or tab, comma or semicolon"
                            )));
                        }
                    });
                }
                "header" => {
                    o.no_header = match value {
                        "true" | "yes" | "1" => false,
                        "false" | "no" | "0" => true,
                        _ => {
                            return Err(DataError::Spec(format!(
                                "header={value}: use header=true or header=false"
                            )));
                        }
                    };
                }
                _ => {
                    return Err(DataError::Spec(format!(
                        "unknown table option \"{key}\": use target, task, drop, split, sep or header"
                    )));
                }
            }
        }
        Ok(o)
    }

    /// The options as a query that [`TableOptions::parse`] reads back ("" for the defaults).
    pub fn to_query(&self) -> String {
        let mut q = Vec::new();
        if let Some(t) = &self.target {
            q.push(format!("target={t}"));
        }
        match self.task {
            Some(Task::Classification) => q.push("task=classification".to_owned()),
            Some(Task::Regression) => q.push("task=regression".to_owned()),
            None => {}
        }
        if !self.drop.is_empty() {
            q.push(format!("drop={}", self.drop.join(",")));
        }
        if let Some(s) = &self.split {
            q.push(format!("split={s}"));
        }
        match self.sep {
            Some(b'\t') => q.push("sep=tab".to_owned()),
            Some(c) => q.push(format!("sep={}", char::from(c))),
            None => {}
        }
        if self.no_header {
            q.push("header=false".to_owned());
        }
        q.join("&")
    }
}

/// The training and validation rows: by the split column, or a seeded fifth to validate.
fn split_rows(
    path: &Path,
    table: &Table,
    split: Option<&str>,
    rows: Vec<usize>,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    let Some(name) = split else {
        let mut rows = rows;
        Rng::new(SPLIT_SEED).shuffle(&mut rows);
        let n_val = ((rows.len() as f64) * VAL_FRACTION).round() as usize;
        let mut val = rows.split_off(rows.len() - n_val.min(rows.len().saturating_sub(1)));
        let mut train = rows;
        train.sort_unstable();
        val.sort_unstable();
        return Ok((train, val));
    };
    let c = table
        .column(name)
        .ok_or_else(|| DataError::invalid(path, format!("there is no split column \"{name}\"")))?;
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for r in rows {
        let v = table.columns[c].text(r).unwrap_or_default();
        match v.to_lowercase().as_str() {
            "train" | "training" => train.push(r),
            "val" | "valid" | "validation" | "test" => val.push(r),
            other => {
                return Err(DataError::invalid(
                    path,
                    format!(
                        "row {} of the split column \"{name}\" says \"{other}\": use train or val",
                        r + 2
                    ),
                ));
            }
        }
    }
    if train.is_empty() || val.is_empty() {
        return Err(DataError::invalid(
            path,
            format!("the split column \"{name}\" leaves no training or no validation rows"),
        ));
    }
    Ok((train, val))
}

/// The column names of the table at `path` (its first row, or `column_1`, … without a
/// header), read without the rest: for a target picker.
pub fn column_names(path: &Path, options: &TableOptions) -> Result<Vec<String>, DataError> {
    read::read_names(
        path,
        options.sep.unwrap_or_else(|| separator_for(path)),
        !options.no_header,
    )
}

/// Loads a table as a dataset of encoded feature vectors and class labels.
pub fn load_table(path: &Path, options: &TableOptions) -> Result<Dataset, DataError> {
    let sep = options.sep.unwrap_or_else(|| separator_for(path));
    let table = read_table(path, sep, !options.no_header)?;
    let target = target_column(path, &table, options)?;
    let target_cells = &table.columns[target];
    let labelled: Vec<usize> = (0..table.rows())
        .filter(|&r| target_cells.text(r).is_some())
        .collect();
    let unlabelled = table.rows() - labelled.len();
    let task = options
        .task
        .unwrap_or_else(|| infer_task(target_cells, &labelled));
    let values = quantity_of(path, &table, target, task)?;
    let (train, val) = split_rows(path, &table, options.split.as_deref(), labelled)?;
    let features: Vec<usize> = (0..table.names.len())
        .filter(|&c| {
            c != target
                && !options.drop.contains(&table.names[c])
                && options.split.as_deref() != Some(&table.names[c])
        })
        .collect();
    let mut encoder = Encoder::fit(&table, &features, &train);
    if encoder.columns.is_empty() {
        return Err(DataError::invalid(
            path,
            format!(
                "no column is left to learn from: {}",
                describe_dropped(&encoder.dropped)
            ),
        ));
    }
    let name = path
        .file_name()
        .map_or_else(|| "table".to_owned(), |f| f.to_string_lossy().into_owned());
    let task_words = if values.is_some() {
        "a quantity"
    } else {
        "classes"
    };
    // After encoding, which counts the validation rows' unseen values.
    let preview_of =
        |e: &Encoder| preview::preview(&table, target, task_words, options.split.as_deref(), e);
    if let Some(values) = values {
        let train_x = encoder.encode(&table, &train, false);
        let val_x = encoder.encode(&table, &val, true);
        let shown = preview_of(&encoder);
        let notes = notes(&table.names[target], &encoder, unlabelled, val.len());
        let mut data = regression(
            name,
            (&table.names[target], values),
            [(train_x, &train), (val_x, &val)],
            encoder.width(),
            notes,
        );
        data.table = Some(Box::new(shown));
        return Ok(data);
    }
    let (classes, labels) = classes_of(target_cells, &(0..table.rows()).collect::<Vec<_>>());
    if classes.len() < 2 {
        return Err(DataError::invalid(
            path,
            format!(
                "the target \"{}\" has one value: a classifier needs two or more",
                table.names[target]
            ),
        ));
    }
    let train_x = encoder.encode(&table, &train, false);
    let val_x = encoder.encode(&table, &val, true);
    let shown = preview_of(&encoder);
    let pick = |rows: &[usize]| rows.iter().map(|&r| labels[r]).collect::<Vec<u32>>();
    let notes = notes(&table.names[target], &encoder, unlabelled, val.len());
    Ok(Dataset {
        table: Some(Box::new(shown)),
        quantity: None,
        name,
        shape: Shape::vector(encoder.width() as u64),
        classes,
        train: Split {
            masks: Vec::new(),
            values: Vec::new(),
            samples: Samples::F32(train_x),
            labels: pick(&train),
        },
        val: Split {
            masks: Vec::new(),
            values: Vec::new(),
            samples: Samples::F32(val_x),
            labels: pick(&val),
        },
        skipped: Vec::new(),
        notes,
    })
}

fn describe_dropped(dropped: &[(String, String)]) -> String {
    let parts: Vec<String> = dropped
        .iter()
        .map(|(name, why)| format!("\"{name}\": {why}"))
        .collect();
    parts.join("; ")
}

/// What a user should know of the encoding: one line per kind of thing done.
fn notes(target: &str, e: &Encoder, unlabelled: usize, val_rows: usize) -> Vec<String> {
    let mut notes = Vec::new();
    let (mut numeric, mut categorical) = (Vec::new(), Vec::new());
    for (_, c) in &e.columns {
        match &c.encoding {
            Encoding::Numeric { .. } => numeric.push(c.name.as_str()),
            Encoding::Categorical { vocabulary } => {
                categorical.push(format!("{} ({} values + other)", c.name, vocabulary.len()));
            }
        }
    }
    notes.push(format!(
        "target \"{target}\"; {} features from {} columns, fitted on the training rows",
        e.width(),
        e.columns.len()
    ));
    if !numeric.is_empty() {
        notes.push(format!("standardised: {}", numeric.join(", ")));
    }
    if !categorical.is_empty() {
        notes.push(format!("one-hot: {}", categorical.join(", ")));
    }
    for (_, c) in e.columns.iter().filter(|(_, c)| c.missing > 0) {
        let how = match c.encoding {
            Encoding::Numeric { .. } => "filled with the training mean",
            Encoding::Categorical { .. } => "made the category \"(missing)\"",
        };
        notes.push(format!(
            "\"{}\": {} missing values {how}",
            c.name, c.missing
        ));
    }
    for (_, c) in e.columns.iter().filter(|(_, c)| c.unseen > 0) {
        notes.push(format!(
            "\"{}\": {} of {val_rows} validation rows have a value the training rows never had (encoded as \"other\")",
            c.name, c.unseen
        ));
    }
    for (name, why) in &e.dropped {
        notes.push(format!("dropped \"{name}\": {why}"));
    }
    if unlabelled > 0 {
        notes.push(format!(
            "{unlabelled} rows have no \"{target}\" and are left out"
        ));
    }
    notes
}
