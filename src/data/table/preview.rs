//! What the data panel shows of a table before it trains: its first rows as read, and what
//! became of each column (the target, a standardised number, a one-hot category, dropped and
//! why), so a wrong target or a number read as text is seen before a run, not after.

use super::encode::{Column, Encoder, Encoding};
use super::read::{Cells, Table};

/// Rows shown.
pub const PREVIEW_ROWS: usize = 8;

/// A table's first rows and each column's role.
#[derive(Clone, Debug, PartialEq)]
pub struct TablePreview {
    /// The column names, in the file's order.
    pub names: Vec<String>,
    /// The kind each column was read as: "number" or "text".
    pub kinds: Vec<&'static str>,
    /// What each column became, in a few words.
    pub roles: Vec<String>,
    /// The first rows' cells as text ("" where missing).
    pub rows: Vec<Vec<String>>,
    /// All the rows the file has.
    pub total_rows: usize,
    /// The target column's name.
    pub target: String,
    /// The encoded feature columns, in the order their features come, as fitted on the
    /// training rows (what an exported train.py writes beside it as encoding.json).
    pub encoded: Vec<Column>,
}

/// The preview of `table`, whose target is column `target` (of `task`, in words), split by
/// column `split` if one is, with features encoded by `encoder`.
pub(super) fn preview(
    table: &Table,
    target: usize,
    task: &str,
    split: Option<&str>,
    encoder: &Encoder,
) -> TablePreview {
    let roles = (0..table.names.len())
        .map(|c| {
            let name = &table.names[c];
            if c == target {
                return format!("target ({task})");
            }
            if split == Some(name.as_str()) {
                return "the train/val split".to_owned();
            }
            if let Some((_, col)) = encoder.columns.iter().find(|(i, _)| *i == c) {
                return match &col.encoding {
                    Encoding::Numeric { .. } => "standardised".to_owned(),
                    Encoding::Categorical { vocabulary } => {
                        format!("one-hot, {} values + other", vocabulary.len())
                    }
                };
            }
            match encoder.dropped.iter().find(|(n, _)| n == name) {
                Some((_, why)) => format!("dropped: {why}"),
                None => "dropped (drop=)".to_owned(),
            }
        })
        .collect();
    let shown = table.rows().min(PREVIEW_ROWS);
    TablePreview {
        names: table.names.clone(),
        kinds: table
            .columns
            .iter()
            .map(|c| match c {
                Cells::Numbers(_) => "number",
                Cells::Text(_) => "text",
            })
            .collect(),
        roles,
        rows: (0..shown)
            .map(|r| {
                table
                    .columns
                    .iter()
                    .map(|c| c.text(r).unwrap_or_default())
                    .collect()
            })
            .collect(),
        total_rows: table.rows(),
        target: table.names[target].clone(),
        encoded: encoder.columns.iter().map(|(_, c)| c.clone()).collect(),
    }
}
