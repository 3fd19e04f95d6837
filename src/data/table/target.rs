//! The target column: which one it is, whether it holds classes or a quantity, and what it
//! becomes (class labels, or for regression values standardised with the training rows).

use super::read::{Cells, Table};
use super::{MAX_INTEGER_CLASSES, TableOptions, Task};
use crate::data::{DataError, Dataset, Quantity, Samples, Split};
use crate::design::Shape;
use std::path::Path;

/// The classes of the target's values (sorted as numbers when they all are), and each row's.
pub(super) fn classes_of(cells: &Cells, rows: &[usize]) -> (Vec<String>, Vec<u32>) {
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
pub(super) fn infer_task(cells: &Cells, rows: &[usize]) -> Task {
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

/// The target column: the one named, else the last that isn't dropped or the split; and
/// every column named in drop or split must exist.
pub(super) fn target_column(
    path: &Path,
    table: &Table,
    options: &TableOptions,
) -> Result<usize, DataError> {
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
pub(super) fn quantity_of<'a>(
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

/// A regression set: the target standardised with the training rows' mean and spread (so one
/// learning rate suits prices and probabilities alike), which [`Quantity`] keeps to give
/// predictions and errors back in the column's units.
pub(super) fn regression(
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
