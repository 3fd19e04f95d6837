//! Design files on disk: reading with errors that name the file, and atomic saving.

use crate::design::{self, Design, FormatError};
use std::path::{Path, PathBuf};

/// Why a design file could not be read. The message says what is wrong, then the path.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The file could not be read at all.
    #[error("cannot read the design: {source} ({})", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file was read but is not a design this netloom opens.
    #[error("{source} ({})", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: FormatError,
    },
}

/// Reads and parses a design file.
pub fn load_design(path: &Path) -> Result<Design, DocumentError> {
    let text = crate::fsio::read_regular_to_string(path).map_err(|source| DocumentError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut d = design::from_json(&text).map_err(|source| DocumentError::Format {
        path: path.to_owned(),
        source,
    })?;
    if let Some(dir) = path.parent() {
        map_setup(&mut d, &|p| absolute(dir, p));
    }
    Ok(d)
}

/// Writes a design atomically ([`crate::fsio::atomic_write`]): a temporary file of this
/// writer's own beside the target, flushed, then renamed, so a crash or kill mid-save leaves the
/// old design or the new one, whole (a killed save's temporary file goes with the next save),
/// and two windows saving one file never mix their bytes.
pub fn save_design(design: &Design, path: &Path) -> std::io::Result<()> {
    crate::fsio::atomic_write_bytes(path, design_text(design, path).as_bytes())
}

/// The text `save_design` writes for `design` at `path`: the set-up's paths relative to the
/// file's folder where they are near it (so a project folder moves or is shared whole).
pub fn design_text(design: &Design, path: &Path) -> String {
    let mut d = design.clone();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let dir = absolute(&std::env::current_dir().unwrap_or_default(), dir);
        map_setup(&mut d, &|p| near(&dir, p));
    }
    design::to_json(&d)
}

/// Applies `f` to every path of the design's training set-up: its data source's and its
/// pretrained weights'. A source that doesn't parse is left as written (said when used).
fn map_setup(design: &mut Design, f: &dyn Fn(&Path) -> PathBuf) {
    if let Some(text) = &design.data.source
        && let Ok(spec) = crate::data::DataSpec::parse(text)
    {
        design.data.source = Some(spec.map_paths(f).to_spec());
    }
    if let Some(p) = &mut design.training.pretrained {
        p.path = f(Path::new(&p.path)).to_string_lossy().into_owned();
    }
}

/// `path` against `dir` (lexically: `..` taken back, no links followed, so that reading and
/// writing a file gives back its text).
fn absolute(dir: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in dir.join(path).components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `dir` when it lies in `dir`, or at most two folders up from it
/// (`../data/photos`); else as it is.
fn near(dir: &Path, path: &Path) -> PathBuf {
    if path.is_relative() {
        return path.to_owned();
    }
    for (ups, base) in dir.ancestors().take(3).enumerate() {
        if let Ok(rest) = path.strip_prefix(base) {
            let mut out: PathBuf = std::iter::repeat_n("..", ups).collect();
            out.push(rest);
            return if out.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                out
            };
        }
    }
    path.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_up_paths_are_relative_in_the_file_and_absolute_once_read() {
        let dir = std::env::temp_dir().join(format!("netloom-setup-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("project")).unwrap();
        let file = dir.join("project/net.json");
        let mut d = design::from_json(include_str!("../examples/lenet5.json")).unwrap();
        d.data.source = Some(format!(
            "folder:{}?classes=1,2&channels=3&size=32x32",
            dir.join("photos").display()
        ));
        d.training.pretrained = Some(design::PretrainedSource {
            path: dir.join("project/weights/resnet.pth").display().to_string(),
            skip: vec!["fc".to_owned()],
        });
        save_design(&d, &file).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains(r#""source": "folder:../photos?classes=1,2&channels=3&size=32x32""#),
            "{text}"
        );
        assert!(text.contains(r#""path": "weights/resnet.pth""#), "{text}");
        assert!(text.contains(r#""version": 4"#), "{text}");
        let back = load_design(&file).unwrap();
        assert_eq!(back.data.source, d.data.source);
        assert_eq!(back.training.pretrained, d.training.pretrained);
        // Read and written again: the same bytes.
        save_design(&back, &file).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        // Far away: kept absolute.
        assert_eq!(
            near(Path::new("/a/b/c/d"), Path::new("/x/y")),
            Path::new("/x/y")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_design_without_a_set_up_stays_version_3_and_byte_for_byte() {
        for text in [
            include_str!("../examples/lenet5.json"),
            include_str!("../examples/two_layer_mlp.json"),
        ] {
            let d = design::from_json(text).unwrap();
            assert!(d.data.source.is_none() && d.training.pretrained.is_none());
            assert!(text.contains(r#""version": 3"#));
            assert_eq!(design::to_json(&d), text);
        }
    }
}
