//! The design file: versioned, deterministic, pretty-printed JSON.
//!
//! Determinism: nodes are written sorted by id and edges by (to, port, from), every field is
//! written, and floats use the shortest form that reads back exactly; the same design always
//! gives the same bytes, so files diff cleanly under version control.
//!
//! Reading is strict: unknown fields are errors (a typo must not silently become a default),
//! missing optional fields take PyTorch's defaults, and every error carries a line and column.

use super::graph::{Design, Edge, Node};
use super::group::Group;
use super::settings::{DataSettings, TrainingSettings};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The value of the `format` field.
pub const FORMAT_NAME: &str = "netloom-design";
/// The newest file version this build writes and reads.
pub const FORMAT_VERSION: u32 = 4;

// Versions: 1, nodes, edges and training; 2 added `data`; 3 added `groups`; 4 added the
// training set-up (`data.source`, `training.pretrained`). Each addition has a default, so
// every older file reads as it always did; and a design is written at the oldest version
// that holds it, so a file without a set-up still opens in a netloom that reads only 3.

/// Why a design file could not be read.
#[derive(Debug, Error)]
pub enum FormatError {
    /// Not valid JSON, or a field of the wrong type, or an unknown field.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What serde found wrong, e.g. an unknown field and the expected ones.
        message: String,
    },
    /// The `format` field names something other than a netloom design.
    #[error(
        "this is not a netloom design: its \"format\" is {found:?}, expected \"{FORMAT_NAME}\""
    )]
    NotADesign {
        /// The format the file claims.
        found: String,
    },
    /// A field where the kind it sits in takes none (found after reading, so without its
    /// line).
    #[error("{0}")]
    Field(String),
    /// The groups contradict the nodes (a member missing or in two groups, a clashing name).
    #[error("{0}")]
    Groups(String),
    /// The file was written by a later netloom whose format this build does not know.
    #[error(
        "this design was made by a newer netloom (file version {found}, this netloom reads up to {FORMAT_VERSION}): update netloom to open it"
    )]
    NewerVersion {
        /// The file's version.
        found: u32,
    },
}

impl FormatError {
    fn from_json(e: &serde_json::Error) -> Self {
        let full = e.to_string();
        // serde_json appends " at line L column C"; we report those apart.
        let message = match full.rfind(" at line ") {
            Some(cut) => full[..cut].to_owned(),
            None => full,
        };
        FormatError::Syntax {
            line: e.line(),
            column: e.column(),
            message,
        }
    }
}

/// Only the header, read leniently first so that a newer file gets the "newer netloom"
/// message rather than a complaint about fields this build does not know.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    version: Option<u32>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignFile {
    format: String,
    version: u32,
    nodes: Vec<Node>,
    #[serde(default)]
    edges: Vec<Edge>,
    #[serde(default)]
    training: TrainingSettings,
    /// Added in version 2; version-1 files get the defaults.
    #[serde(default)]
    data: DataSettings,
    /// Added in version 3; older files have no groups.
    #[serde(default)]
    groups: Vec<Group>,
}

/// Reads a design from the text of a file.
pub fn from_json(text: &str) -> Result<Design, FormatError> {
    // Editors on Windows may start a UTF-8 file with a byte-order mark; JSON has none.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header: Header = serde_json::from_str(text).map_err(|e| FormatError::from_json(&e))?;
    match header.format.as_deref() {
        Some(FORMAT_NAME) => {}
        Some(other) => {
            return Err(FormatError::NotADesign {
                found: other.to_owned(),
            });
        }
        None => {
            return Err(FormatError::NotADesign {
                found: String::new(),
            });
        }
    }
    if let Some(found) = header.version
        && found > FORMAT_VERSION
    {
        return Err(FormatError::NewerVersion { found });
    }
    let file: DesignFile = serde_json::from_str(text).map_err(|e| FormatError::from_json(&e))?;
    refuse_fields_of_settingless_kinds(text, &file)?;
    let design = Design {
        nodes: file.nodes,
        edges: file.edges,
        training: file.training,
        data: file.data,
        groups: file.groups,
    };
    design.check_groups().map_err(FormatError::Groups)?;
    Ok(design)
}

/// serde lets a kind without settings (`{"kind": "constant"}`, `{"method": "none"}`) carry any
/// field, even with `deny_unknown_fields`: `{"kind": "constant", "gamma": 0.1}` (a step
/// schedule half-edited) would read as constant without a word. A field the kind read doesn't
/// write back is refused, as an unknown field anywhere else is.
fn refuse_fields_of_settingless_kinds(text: &str, file: &DesignFile) -> Result<(), FormatError> {
    let Ok(raw) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(());
    };
    let read = [
        (
            "training.schedule",
            raw.pointer("/training/schedule"),
            serde_json::to_value(file.training.schedule).ok(),
        ),
        (
            "data.preprocessing",
            raw.pointer("/data/preprocessing"),
            serde_json::to_value(file.data.preprocessing).ok(),
        ),
    ];
    for (place, given, kept) in read {
        let (Some(serde_json::Value::Object(given)), Some(serde_json::Value::Object(kept))) =
            (given, kept)
        else {
            continue;
        };
        if let Some(extra) = given.keys().find(|k| !kept.contains_key(*k)) {
            let expected: Vec<String> = kept.keys().map(|k| format!("`{k}`")).collect();
            return Err(FormatError::Field(format!(
                "{place}: unknown field `{extra}`, expected {}",
                expected.join(", ")
            )));
        }
    }
    Ok(())
}

/// Writes a design as canonical, pretty-printed JSON ending in a newline.
pub fn to_json(design: &Design) -> String {
    let mut d = design.clone();
    d.canonicalize();
    let set_up = d.data.source.is_some() || d.training.pretrained.is_some();
    let file = DesignFile {
        format: FORMAT_NAME.to_owned(),
        version: if set_up { FORMAT_VERSION } else { 3 },
        nodes: d.nodes,
        edges: d.edges,
        training: d.training,
        data: d.data,
        groups: d.groups,
    };
    // Serialising plain structs of numbers, strings and bools cannot fail.
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}
