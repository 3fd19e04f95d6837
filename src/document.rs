//! Design files on disk: reading with errors that name the file, and atomic saving.

use crate::design::{self, Design};
use std::path::Path;

/// Reads and parses a design file. The error says what is wrong, then the path.
pub fn load_design(path: &Path) -> Result<Design, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the design: {e} ({})", path.display()))?;
    design::from_json(&text).map_err(|e| format!("{e} ({})", path.display()))
}

/// Writes a design atomically: a temporary file beside the target, then a rename, so a crash
/// mid-save never leaves a half-written design.
pub fn save_design(design: &Design, path: &Path) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp"));
    std::fs::write(&tmp, design::to_json(design))?;
    std::fs::rename(&tmp, path)
}
