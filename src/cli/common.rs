//! What train, eval and forward share: loading the design and the data, with messages.

use crate::data::DataSpec;
use crate::design::Design;
use crate::document::load_design;
use crate::engine::run_dir;
use crate::engine::run_dir::RunDir;
use std::path::{Path, PathBuf};

/// The design, or a message for stderr.
pub fn design(path: &Path) -> Result<Design, String> {
    load_design(path).map_err(|e| e.to_string())
}

/// The data named by `spec`, or the design's own (see [`DataSpec::for_design`]).
pub fn data_spec(spec: Option<&str>, design: &Design) -> Result<DataSpec, String> {
    match spec {
        Some(s) => DataSpec::parse(s),
        None => DataSpec::for_design(design),
    }
    .map_err(|e| e.to_string())
}

/// What a command reads when it is given a design file or a run folder: the design, the
/// weights (a run folder's best, unless --weights names others) and, for a run folder, the
/// folder (its preprocessing and its data).
pub struct Source {
    /// The design.
    pub design: Design,
    /// The design file it was read from.
    pub design_path: PathBuf,
    /// The weights to use, if any.
    pub weights: Option<PathBuf>,
    /// The run folder, when the source is one.
    pub run: Option<PathBuf>,
}

/// Reads `path` as a design file or a run folder ([`Source`]); `weights` overrides a run's.
/// A run folder without best weights is refused with what it lacks and what to pass instead.
pub fn source(path: &Path, weights: Option<&Path>) -> Result<Source, String> {
    if !path.is_dir() {
        return Ok(Source {
            design: design(path)?,
            design_path: path.to_owned(),
            weights: weights.map(Path::to_path_buf),
            run: None,
        });
    }
    let design_path = RunDir::at(path).design();
    if !design_path.is_file() {
        return Err(format!(
            "{} is a folder without {}, so it is not a run folder: give a design file or a run folder",
            path.display(),
            run_dir::DESIGN
        ));
    }
    let weights = match weights {
        Some(w) => Some(w.to_path_buf()),
        None => Some(best_weights(path)?),
    };
    Ok(Source {
        design: design(&design_path)?,
        design_path,
        weights,
        run: Some(path.to_owned()),
    })
}

/// A run folder's best weights, or what the folder lacks and what to pass instead.
pub fn best_weights(dir: &Path) -> Result<PathBuf, String> {
    let best = RunDir::at(dir).best();
    if best.is_file() {
        return Ok(best);
    }
    let latest = RunDir::at(dir).weights();
    Err(if latest.is_file() {
        format!(
            "the run folder {} has no {} yet (no epoch of the run has finished): pass --weights {} for its latest checkpoint's weights, or train on",
            dir.display(),
            run_dir::BEST,
            latest.display()
        )
    } else {
        format!(
            "the run folder {} has no weights yet ({} and {} are missing: the run was stopped before its first checkpoint); resume it with netloom train --resume {}",
            dir.display(),
            run_dir::BEST,
            run_dir::WEIGHTS,
            dir.display()
        )
    })
}

/// The data for a command on `src`: `spec` when given; for a run folder the data it trained
/// on (with a phrase saying so); otherwise the design's default.
pub fn data_spec_for(
    spec: Option<&str>,
    src: &Source,
) -> Result<(DataSpec, Option<String>), String> {
    match (spec, &src.run) {
        (None, Some(dir)) => run_dir::data_of_run(dir, src.design.input_shape())
            .map(|(spec, said)| (spec, Some(said)))
            .map_err(|e| e.to_string()),
        (spec, _) => data_spec(spec, &src.design).map(|s| (s, None)),
    }
}
