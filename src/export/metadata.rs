//! What an ONNX file tells a deployment besides its graph: netloom's version, the class names
//! and the fitted preprocessing, as `metadata_props`.

use super::{ExportError, ExportRequest};
use crate::data::Preprocessor;
use crate::design::{Design, Preprocessing};

/// The ONNX file's metadata: netloom's version, the class names when known, and the fitted
/// preprocessing (from the run, or nothing to fit), as JSON a deployment reads.
pub(super) fn onnx_metadata(req: &ExportRequest) -> Result<Vec<(String, String)>, ExportError> {
    let mut out = vec![(
        "netloom_version".to_owned(),
        env!("CARGO_PKG_VERSION").to_owned(),
    )];
    if let Some(classes) = &req.classes {
        out.push((
            "class_names".to_owned(),
            serde_json::to_string(classes).unwrap_or_default(),
        ));
    }
    let pre = match &req.preprocessor {
        Some(p) => Some(Preprocessor::load(p).map_err(|e| ExportError::Unreadable(e.to_string()))?),
        None if req.design.data.preprocessing == Preprocessing::None => Some(unfitted(&req.design)),
        None => None,
    };
    if let Some(pre) = pre {
        out.push(("preprocessing".to_owned(), preprocessing_json(&pre)));
    }
    Ok(out)
}

/// What a deployment applies before the network, in plain terms: pixel bytes divided by 255
/// (images), then the fitted method's numbers (a whitening matrix is only named: it is in
/// preprocessor.json, too large for metadata).
fn preprocessing_json(pre: &Preprocessor) -> String {
    // The method's tag and settings at the top: {"method": "zca_whiten", "epsilon": 0.01}.
    let mut v = serde_json::to_value(pre.method).unwrap_or_else(|_| serde_json::json!({}));
    v["shape"] = serde_json::json!(pre.shape);
    v["input_scale"] =
        serde_json::json!("image bytes are divided by 255 first; features are used as they are");
    match pre.method {
        Preprocessing::None => {}
        Preprocessing::Standardize => {
            v["mean"] = serde_json::json!(pre.mean);
            v["std"] = serde_json::json!(pre.scale);
        }
        Preprocessing::MinMax => {
            v["min"] = serde_json::json!(pre.mean);
            v["range"] = serde_json::json!(pre.scale);
        }
        Preprocessing::ZeroCenter => v["mean"] = serde_json::json!(pre.mean),
        Preprocessing::PcaWhiten { .. } | Preprocessing::ZcaWhiten { .. } => {
            v["mean"] = serde_json::json!(pre.mean);
            v["components"] = serde_json::json!(
                "a whitening matrix of the run's preprocessor.json: too large for metadata"
            );
        }
    }
    v.to_string()
}

/// The transform of a design that fits nothing: bytes divided by 255.
pub(super) fn unfitted(design: &Design) -> Preprocessor {
    Preprocessor {
        method: Preprocessing::None,
        shape: design
            .input_shape()
            .map(|s| s.dims().to_vec())
            .unwrap_or_default(),
        mean: Vec::new(),
        scale: Vec::new(),
        components: Vec::new(),
    }
}
