//! What train, eval and forward share: loading the design and the data, with messages.

use crate::data::{DataSpec, Dataset};
use crate::design::Design;
use crate::document::load_design;
use std::path::Path;

/// The design, or a message for stderr.
pub fn design(path: &Path) -> Result<Design, String> {
    load_design(path).map_err(|e| e.to_string())
}

/// The data named by `spec`, or the default for the design (see [`DataSpec::default_for`]).
pub fn data_spec(spec: Option<&str>, design: &Design) -> Result<DataSpec, String> {
    match spec {
        Some(s) => DataSpec::parse(s),
        None => DataSpec::default_for(design.input_shape()),
    }
    .map_err(|e| e.to_string())
}

/// The data named by `spec` (or the default), loaded for the design's input.
pub fn data(spec: Option<&str>, design: &Design) -> Result<Dataset, String> {
    data_spec(spec, design)?
        .load_for(design.input_shape())
        .map_err(|e| e.to_string())
}
