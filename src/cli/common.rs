//! What train, eval and forward share: loading the design and the data, with messages.

use crate::data::{DataSpec, Dataset, Fit, FolderOptions};
use crate::design::{Design, Op, Shape};
use crate::document::load_design;
use std::path::Path;

/// The design, or a message for stderr.
pub fn design(path: &Path) -> Result<Design, String> {
    load_design(path)
}

/// The design's Input shape.
pub fn input_shape(design: &Design) -> Option<Shape> {
    let id = design
        .nodes
        .iter()
        .find(|n| matches!(n.op, Op::Input(_)))?
        .id;
    crate::design::analyse(design).report(id)?.output
}

/// The data named by `spec`, or the default for the design: the built-in Fashion-MNIST for
/// image designs, toy:spiral for 2-feature vector designs.
pub fn data(spec: Option<&str>, design: &Design) -> Result<Dataset, String> {
    let shape = input_shape(design);
    let spec = match (
        spec,
        shape.and_then(|s| s.as_image()),
        shape.and_then(|s| s.as_vector()),
    ) {
        (Some(s), ..) => s.to_owned(),
        (None, Some(_), _) => "builtin:fashion-mnist".to_owned(),
        (None, None, Some(2)) => "toy:spiral".to_owned(),
        (None, ..) => {
            return Err("this design's input is neither an image nor 2 features, so there is no default data: pass --data (e.g. folder:PATH or cifar10:PATH)".to_owned());
        }
    };
    let parsed = DataSpec::parse(&spec).map_err(|e| e.to_string())?;
    let folder = match shape {
        Some(s) => FolderOptions::for_input(&s, Fit::Resize),
        None => FolderOptions::default(),
    };
    parsed.load(&folder).map_err(|e| e.to_string())
}
