//! Reading a table into columns: the `csv` crate parses (quoting, escapes, ragged rows), and
//! each cell is kept as a number while every cell of its column is one, as text otherwise.
//! A 1,000,000 × 50 numeric table is then 200 MB of f32, not 50 million strings.

use crate::data::DataError;
use std::io::Read;
use std::path::Path;

/// Cells read as missing: empty, and the spellings pandas' `read_csv` treats as NaN.
pub const MISSING: [&str; 8] = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "?"];

/// Whether a cell is a missing value.
pub(super) fn is_missing(cell: &str) -> bool {
    MISSING.contains(&cell.trim())
}

/// One column's cells.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Cells {
    /// Every present cell is a number; missing ones are NaN.
    Numbers(Vec<f32>),
    /// Some cell is text; missing ones are None. Cells that are numbers are kept as the
    /// number's shortest text (`1.50` as `1.5`), before the first text cell and after alike.
    Text(Vec<Option<String>>),
}

impl Cells {
    fn push(&mut self, cell: &str) {
        let cell = cell.trim();
        match self {
            Cells::Numbers(v) if is_missing(cell) => v.push(f32::NAN),
            Cells::Numbers(v) => match cell.parse::<f32>() {
                Ok(x) if x.is_finite() => v.push(x),
                _ => {
                    let mut text: Vec<Option<String>> = v
                        .iter()
                        .map(|x| (!x.is_nan()).then(|| x.to_string()))
                        .collect();
                    text.push(Some(cell.to_owned()));
                    *self = Cells::Text(text);
                }
            },
            // A number in a text column is written as the numbers before the first text
            // cell were (`1.50` as `1.5`), so one value is one category wherever it appears.
            Cells::Text(v) => v.push((!is_missing(cell)).then(|| match cell.parse::<f32>() {
                Ok(x) if x.is_finite() => x.to_string(),
                _ => cell.to_owned(),
            })),
        }
    }

    /// How many rows.
    pub(super) fn len(&self) -> usize {
        match self {
            Cells::Numbers(v) => v.len(),
            Cells::Text(v) => v.len(),
        }
    }

    /// Cell `i` as text (None when missing).
    pub(super) fn text(&self, i: usize) -> Option<String> {
        match self {
            Cells::Numbers(v) => v.get(i).filter(|x| !x.is_nan()).map(f32::to_string),
            Cells::Text(v) => v.get(i).cloned().flatten(),
        }
    }
}

/// A table read from a file: its column names and cells.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Table {
    pub names: Vec<String>,
    pub columns: Vec<Cells>,
}

impl Table {
    /// How many rows.
    pub(super) fn rows(&self) -> usize {
        self.columns.first().map_or(0, Cells::len)
    }

    /// The index of the column called `name`.
    pub(super) fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// The separator a file's name suggests: a tab for `.tsv` (or `.tsv.gz`), else a comma.
pub(super) fn separator_for(path: &Path) -> u8 {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".tsv") || name.ends_with(".tab") {
        b'\t'
    } else {
        b','
    }
}

/// A CSV reader of `path` (gunzipped when it ends in `.gz`).
fn reader(path: &Path, sep: u8, header: bool) -> Result<csv::Reader<Box<dyn Read>>, DataError> {
    let file = crate::fsio::open_regular(path).map_err(|e| DataError::io("the table", path, e))?;
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let input: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        )))
    } else {
        Box::new(file)
    };
    Ok(csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(header)
        .flexible(false)
        .buffer_capacity(1 << 20)
        .from_reader(input))
}

/// The column names alone: the first row, or `column_1`, … for as many fields.
pub(super) fn read_names(path: &Path, sep: u8, header: bool) -> Result<Vec<String>, DataError> {
    let mut r = reader(path, sep, header)?;
    let bad = |e: csv::Error| DataError::invalid(path, format!("it isn't a readable table: {e}"));
    if header {
        let names = r.headers().map_err(bad)?;
        return Ok(names.iter().map(|h| h.trim().to_owned()).collect());
    }
    let mut record = csv::StringRecord::new();
    r.read_record(&mut record).map_err(bad)?;
    Ok((1..=record.len()).map(|i| format!("column_{i}")).collect())
}

/// Reads `path` (gunzipped when it ends in `.gz`): the first row names the columns when
/// `header`, else they are `column_1`, `column_2`, …
pub(super) fn read_table(path: &Path, sep: u8, header: bool) -> Result<Table, DataError> {
    let mut reader = reader(path, sep, header)?;
    let bad = |e: csv::Error| -> DataError {
        let problem = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => format!(
                "row {} has {len} fields where the first row has {expected_len}: fix that row, or give the right separator (sep=tab, sep=;)",
                pos.as_ref().map_or(0, |p| p.line())
            ),
            csv::ErrorKind::Utf8 { pos, .. } => format!(
                "row {} isn't UTF-8 text: save the file as UTF-8",
                pos.as_ref().map_or(0, |p| p.line())
            ),
            csv::ErrorKind::Io(io) => format!("it can't be read to the end: {io}"),
            _ => format!("it isn't a readable table: {e}"),
        };
        DataError::invalid(path, problem)
    };
    let mut names: Vec<String> = if header {
        reader
            .headers()
            .map_err(bad)?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect()
    } else {
        Vec::new()
    };
    let mut columns: Vec<Cells> = vec![Cells::Numbers(Vec::new()); names.len()];
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(bad)? {
        if columns.is_empty() {
            columns = vec![Cells::Numbers(Vec::new()); record.len()];
            names = (1..=record.len()).map(|i| format!("column_{i}")).collect();
        }
        for (column, cell) in columns.iter_mut().zip(record.iter()) {
            column.push(cell);
        }
    }
    if columns.is_empty() || columns[0].len() == 0 {
        return Err(DataError::invalid(path, "the table has no rows"));
    }
    if let Some(name) = duplicate(&names) {
        return Err(DataError::invalid(
            path,
            format!("two columns are called \"{name}\": rename one"),
        ));
    }
    Ok(Table { names, columns })
}

fn duplicate(names: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .find(|n| !seen.insert(n.as_str()))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_one_category_before_and_after_the_first_text_cell() {
        let mut c = Cells::Numbers(Vec::new());
        for cell in ["1.50", "2", "L", "1.50", " 2 ", "NA", "XL"] {
            c.push(cell);
        }
        let text = |s: &str| Some(s.to_owned());
        assert_eq!(
            c,
            Cells::Text(vec![
                text("1.5"),
                text("2"),
                text("L"),
                text("1.5"),
                text("2"),
                None,
                text("XL")
            ])
        );
    }
}
