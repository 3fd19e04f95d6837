//! Putting an export in place without harming what is already there.
//!
//! An export is written beside its destination under a temporary name and moved in at the
//! end, so a failed export leaves nothing half-written. What it may replace is only what
//! netloom itself wrote: a PyTorch folder records its files in `netloom-export.json`, and a
//! later export into that folder replaces exactly those (the user's notes and subfolders
//! beside them stay); a folder without that record is refused unless it is empty. A single
//! file replaces only an earlier file of the same format. An output that is one of the
//! export's own inputs (the design, the weights) is refused before anything is written.

use super::{ExportError, ExportFormat};
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// The record of a PyTorch export folder's files, written into the folder.
pub const MANIFEST: &str = "netloom-export.json";

/// What [`MANIFEST`] holds.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// Always "netloom-export".
    format: String,
    /// 1.
    version: u32,
    /// The files netloom wrote, relative to the folder, sorted (the manifest itself not
    /// among them).
    files: Vec<String>,
}

fn refused(out: &Path, why: String) -> ExportError {
    ExportError::Destination(format!("{why}: {}", out.display()))
}

/// A hidden sibling of `out` to write into first, unique to this process.
pub(super) fn staging(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Result<Vec<String>, ExportError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|source| ExportError::Write {
            what: "the export",
            path: dir.to_owned(),
            source,
        })?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// A relative path that stays inside its folder (no `..`, not absolute).
fn is_inside(rel: &str) -> bool {
    let p = Path::new(rel);
    !rel.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// The files an earlier export recorded in `dir`, or why the folder can't be written into.
fn earlier_export(dir: &Path) -> Result<Vec<String>, ExportError> {
    let names = names(dir)?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let foreign = || {
        refused(
            dir,
            format!(
                "the folder holds files netloom didn't write ({}); netloom only writes into an empty folder or replaces an earlier export of its own (one with {MANIFEST}): choose a new or empty folder",
                crate::fsio::some_names(dir, &names)
            ),
        )
    };
    let Ok(text) = crate::fsio::read_regular_to_string(&dir.join(MANIFEST)) else {
        return Err(foreign());
    };
    let manifest: Manifest = serde_json::from_str(&text).map_err(|_| foreign())?;
    if manifest.format != "netloom-export" || !manifest.files.iter().all(|f| is_inside(f)) {
        return Err(foreign());
    }
    Ok(manifest.files)
}

/// Whether the file at `path` is an earlier export in `format`, told by its structure.
fn is_earlier_file(path: &Path, format: ExportFormat) -> bool {
    match format {
        ExportFormat::Onnx => crate::fsio::read_regular(path).is_ok_and(|bytes| {
            use prost::Message;
            crate::onnx_proto::ModelProto::decode(bytes.as_slice())
                .is_ok_and(|m| m.ir_version > 0 && m.graph.is_some())
        }),
        ExportFormat::Torchscript => crate::fsio::open_regular(path)
            .ok()
            .and_then(|f| zip::ZipArchive::new(f).ok())
            .is_some_and(|z| {
                z.file_names()
                    .any(|n| n.ends_with("/constants.pkl") || n.contains("/code/"))
            }),
        ExportFormat::Pytorch | ExportFormat::RayTune => false,
    }
}

/// Checks, before anything is written, that the export may go to `out` (and `extra`, the
/// side files a format writes beside it): its folder exists, none of them is one of the
/// export's `inputs` or holds one, and what is there already may be replaced.
pub(super) fn check_destination(
    out: &Path,
    extra: &[PathBuf],
    format: ExportFormat,
    inputs: &[PathBuf],
) -> Result<(), ExportError> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        let why = if parent.exists() {
            "is not a folder (a file is there)"
        } else {
            "does not exist: make it first, or choose another place"
        };
        return Err(refused(
            out,
            format!("its folder {} {why}", parent.display()),
        ));
    }
    for target in std::iter::once(out).chain(extra.iter().map(PathBuf::as_path)) {
        crate::fsio::refuse_overwriting_inputs(target, inputs).map_err(ExportError::Destination)?;
    }
    match format {
        f if f.is_folder() && out.is_dir() => earlier_export(out).map(|_| ()),
        f if f.is_folder() && out.exists() => Err(refused(
            out,
            "a file is in the way: PyTorch code is a folder; give a folder's name".to_owned(),
        )),
        f if f.is_folder() => Ok(()),
        _ if out.is_dir() => Err(refused(
            out,
            "a folder is in the way; give a file name".to_owned(),
        )),
        _ => {
            for target in std::iter::once(out).chain(extra.iter().map(PathBuf::as_path)) {
                if target.exists() && !is_earlier_file(out, format) {
                    return Err(refused(
                        target,
                        format!(
                            "the file exists and is not an earlier {} export, so netloom won't replace it: choose another name, or move it away first",
                            format.label()
                        ),
                    ));
                }
            }
            Ok(())
        }
    }
}

fn write_error(path: &Path, source: std::io::Error) -> ExportError {
    ExportError::Write {
        what: "the export",
        path: path.to_owned(),
        source,
    }
}

/// Every file under `dir`, relative to it, sorted.
pub(super) fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Moves the finished folder `staged` to `out`, with its manifest: into place when `out` is
/// new or empty; over an earlier export by replacing only the files that export recorded,
/// refusing when a new file would replace one it didn't write. Anything else in `out` stays.
pub(super) fn commit_folder(staged: &Path, out: &Path) -> Result<(), ExportError> {
    let files = files_under(staged);
    let manifest = Manifest {
        format: "netloom-export".to_owned(),
        version: 1,
        files: files.clone(),
    };
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    std::fs::write(staged.join(MANIFEST), text).map_err(|e| write_error(staged, e))?;
    if !out.exists() {
        return std::fs::rename(staged, out).map_err(|e| write_error(out, e));
    }
    let earlier = earlier_export(out)?;
    if names(out)?.is_empty() {
        std::fs::remove_dir(out).map_err(|e| write_error(out, e))?;
        return std::fs::rename(staged, out).map_err(|e| write_error(out, e));
    }
    if let Some(clash) = files
        .iter()
        .find(|f| !earlier.contains(f) && out.join(f).symlink_metadata().is_ok())
    {
        return Err(refused(
            out,
            format!(
                "this export writes {clash}, and the folder has a {clash} the earlier export didn't write: move it away, or choose another folder"
            ),
        ));
    }
    replace_recorded(staged, out, &earlier, &files)
}

/// Sets the earlier export's files aside, moves the new ones in, and removes what was set
/// aside; when a move fails, what was set aside comes back.
fn replace_recorded(
    staged: &Path,
    out: &Path,
    earlier: &[String],
    files: &[String],
) -> Result<(), ExportError> {
    let aside = out.with_file_name(format!(
        ".{}.old-{}",
        out.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let move_file = |from: &Path, to: &Path| -> std::io::Result<()> {
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::rename(from, to)
    };
    let mut set_aside = Vec::new();
    let mut result = Ok(());
    for rel in earlier.iter().map(String::as_str).chain([MANIFEST]) {
        let from = out.join(rel);
        if from.symlink_metadata().is_err() || from.is_dir() {
            continue;
        }
        if let Err(e) = move_file(&from, &aside.join(rel)) {
            result = Err(write_error(&from, e));
            break;
        }
        set_aside.push(rel.to_owned());
    }
    let mut moved_in = Vec::new();
    if result.is_ok() {
        for rel in files.iter().map(String::as_str).chain([MANIFEST]) {
            if let Err(e) = move_file(&staged.join(rel), &out.join(rel)) {
                result = Err(write_error(&out.join(rel), e));
                break;
            }
            moved_in.push(rel.to_owned());
        }
    }
    if result.is_err() {
        for rel in &moved_in {
            let _ = std::fs::remove_file(out.join(rel));
        }
        for rel in &set_aside {
            let _ = move_file(&aside.join(rel), &out.join(rel));
        }
    } else {
        // Folders the earlier export's files lived in go when nothing else is left in them.
        for rel in earlier {
            let mut dir = Path::new(rel).parent();
            while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
                if std::fs::remove_dir(out.join(d)).is_err() {
                    break;
                }
                dir = d.parent();
            }
        }
    }
    let _ = std::fs::remove_dir_all(&aside);
    let _ = std::fs::remove_dir_all(staged);
    result
}

/// Moves finished single files into place (`(staged, target)` pairs, checked by
/// [`check_destination`]).
pub(super) fn commit_files(pairs: &[(PathBuf, PathBuf)]) -> Result<(), ExportError> {
    for (staged, target) in pairs {
        std::fs::rename(staged, target).map_err(|e| write_error(target, e))?;
    }
    Ok(())
}
