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

pub use encode::{Column, Encoder, Encoding};
pub use preview::{PREVIEW_ROWS, TablePreview};

use super::rng::Rng;
use super::{DataError, Dataset, Quantity, Samples, Split};
use crate::design::Shape;
use read::{Cells, Table, read_table, separator_for};
use std::path::Path;

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

/// The classes of the target's values (sorted as numbers when they all are), and each row's.
fn classes_of(cells: &Cells, rows: &[usize]) -> (Vec<String>, Vec<u32>) {
    let mut values: Vec<String> = rows.iter().filter_map(|&r| cells.text(r)).collect();
    values.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    values.dedup();
    let index: std::collections::HashMap<&str, u32> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v.as_str(), i as u32))
        .collect();
    let labels = (0..cells.len())
        .map(|r| {
            cells
                .text(r)
                .and_then(|t| index.get(t.as_str()).copied())
                .unwrap_or(0)
        })
        .collect();
    (values, labels)
}

/// Classification when the target is text or holds few integers.
fn infer_task(cells: &Cells, rows: &[usize]) -> Task {
    match cells {
        Cells::Text(_) => Task::Classification,
        Cells::Numbers(v) => {
            let mut ints: Vec<i64> = Vec::new();
            for &r in rows {
                let x = v[r];
                if x.is_nan() {
                    continue;
                }
                if x.fract() != 0.0 {
                    return Task::Regression;
                }
                ints.push(x as i64);
            }
            ints.sort_unstable();
            ints.dedup();
            if ints.len() <= MAX_INTEGER_CLASSES {
                Task::Classification
            } else {
                Task::Regression
            }
        }
    }
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

/// The target column: the one named, else the last that isn't dropped or the split; and
/// every column named in drop or split must exist.
fn target_column(path: &Path, table: &Table, options: &TableOptions) -> Result<usize, DataError> {
    let target = match &options.target {
        Some(name) => table.column(name).ok_or_else(|| {
            DataError::invalid(
                path,
                format!(
                    "there is no target column \"{name}\"; the columns are {}",
                    table.names.join(", ")
                ),
            )
        })?,
        // The last column that isn't left out or the split.
        None => (0..table.names.len())
            .rev()
            .find(|&c| {
                let name = &table.names[c];
                !options.drop.contains(name) && options.split.as_deref() != Some(name)
            })
            .ok_or_else(|| DataError::invalid(path, "every column is dropped: keep a target"))?,
    };
    for name in options.drop.iter().chain(&options.split) {
        if table.column(name).is_none() {
            return Err(DataError::invalid(
                path,
                format!("there is no column \"{name}\" (given in drop or split)"),
            ));
        }
    }
    Ok(target)
}

/// A regression's target values (None for classification); a text column is refused.
fn quantity_of<'a>(
    path: &Path,
    table: &'a Table,
    target: usize,
    task: Task,
) -> Result<Option<&'a [f32]>, DataError> {
    match (task, &table.columns[target]) {
        (Task::Regression, Cells::Numbers(v)) => Ok(Some(v)),
        (Task::Regression, Cells::Text(_)) => Err(DataError::invalid(
            path,
            format!(
                "the target \"{}\" holds text, so it can't be a quantity to predict (task=regression): pick a numeric column with target=COLUMN, or leave out task=regression to classify by its values",
                table.names[target]
            ),
        )),
        (Task::Classification, _) => Ok(None),
    }
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
    let shown = preview::preview(
        &table,
        target,
        task_words,
        options.split.as_deref(),
        &encoder,
    );
    if let Some(values) = values {
        let train_x = encoder.encode(&table, &train, false);
        let val_x = encoder.encode(&table, &val, true);
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

/// A regression set: the target standardised with the training rows' mean and spread (so one
/// learning rate suits prices and probabilities alike), which [`Quantity`] keeps to give
/// predictions and errors back in the column's units.
fn regression(
    name: String,
    (target, column): (&str, &[f32]),
    [(train_x, train), (val_x, val)]: [(Vec<f32>, &Vec<usize>); 2],
    width: usize,
    mut notes: Vec<String>,
) -> Dataset {
    let n = train.len().max(1) as f64;
    let mean = train.iter().map(|&r| f64::from(column[r])).sum::<f64>() / n;
    let var = train
        .iter()
        .map(|&r| (f64::from(column[r]) - mean).powi(2))
        .sum::<f64>()
        / n;
    let std = if var > 0.0 { var.sqrt() } else { 1.0 };
    let scaled = |rows: &[usize]| -> Vec<f32> {
        rows.iter()
            .map(|&r| ((f64::from(column[r]) - mean) / std) as f32)
            .collect()
    };
    notes.insert(
        1,
        format!(
            "regression: \"{target}\" standardised for training (mean {}, std {}); predictions and errors are given in its own units",
            crate::units::sig(mean),
            crate::units::sig(std)
        ),
    );
    Dataset {
        table: None,
        name,
        shape: Shape::vector(width as u64),
        classes: Vec::new(),
        quantity: Some(Quantity {
            name: target.to_owned(),
            mean,
            std,
        }),
        train: Split {
            masks: Vec::new(),
            samples: Samples::F32(train_x),
            labels: Vec::new(),
            values: scaled(train),
        },
        val: Split {
            masks: Vec::new(),
            samples: Samples::F32(val_x),
            labels: Vec::new(),
            values: scaled(val),
        },
        skipped: Vec::new(),
        notes,
    }
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
