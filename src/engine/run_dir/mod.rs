//! A run folder as one thing: the names of the files netloom keeps in it, the lock that keeps
//! two runs out of one folder, the record of the data it trained on, and the rules that keep
//! a new run from writing over an old one (or over a folder of the user's).
//!
//! ```text
//! DIR/design.json              the design as trained
//! DIR/data.json                the data it trains on: the spec as given and resolved, and
//!                              the data's fingerprint (counts, shape, classes, checksum)
//! DIR/preprocessor.json        the fitted input transform
//! DIR/metrics.csv              a row per logged step and per epoch
//! DIR/checkpoint/N/            checkpoints (engine/checkpoint.rs)
//! DIR/weights.safetensors      the latest checkpoint's weights
//! DIR/best.safetensors         the best epoch's weights
//! DIR/state.json               the latest checkpoint's state
//! DIR/skipped.txt              files the data left out, with why
//! DIR/.netloom.lock            held while a run trains here (the pid inside)
//! ```

mod data_record;
mod lock;
mod state;

pub use data_record::DataRecord;
pub use lock::RunLock;
pub use state::{FileSum, RunState};

use super::error::EngineError;
use crate::data::DataSpec;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The design as trained.
pub const DESIGN: &str = "design.json";
/// The data the run trains on.
pub const DATA: &str = "data.json";
/// The fitted input transform.
pub const PREPROCESSOR: &str = "preprocessor.json";
/// The curves.
pub const METRICS: &str = "metrics.csv";
/// The latest checkpoint's weights.
pub const WEIGHTS: &str = "weights.safetensors";
/// The best epoch's weights.
pub const BEST: &str = "best.safetensors";
/// The latest checkpoint's state.
pub const STATE: &str = "state.json";
/// The files the data left out.
pub const SKIPPED: &str = "skipped.txt";
/// The folder of checkpoint folders.
pub const CHECKPOINTS: &str = "checkpoint";
/// The lock file a training run holds.
pub const LOCK: &str = ".netloom.lock";

/// A run folder seen through the layout netloom keeps in it: each file by what it is, so no
/// caller spells a file name (the constants above are this type's, and the checkpoint
/// folders').
#[derive(Clone, Copy, Debug)]
pub struct RunDir<'a>(&'a Path);

impl<'a> RunDir<'a> {
    /// The run folder at `path`.
    pub fn at(path: &'a Path) -> Self {
        RunDir(path)
    }

    /// The design as trained.
    pub fn design(self) -> PathBuf {
        self.0.join(DESIGN)
    }

    /// The record of the data it trains on ([`DataRecord::read`] reads it).
    pub fn data_file(self) -> PathBuf {
        self.0.join(DATA)
    }

    /// The fitted input transform.
    pub fn preprocessor(self) -> PathBuf {
        self.0.join(PREPROCESSOR)
    }

    /// The curves.
    pub fn metrics(self) -> PathBuf {
        self.0.join(METRICS)
    }

    /// The latest checkpoint's weights.
    pub fn weights(self) -> PathBuf {
        self.0.join(WEIGHTS)
    }

    /// The best epoch's weights.
    pub fn best(self) -> PathBuf {
        self.0.join(BEST)
    }

    /// The latest checkpoint's state.
    pub fn state(self) -> PathBuf {
        self.0.join(STATE)
    }

    /// The files the data left out.
    pub fn skipped(self) -> PathBuf {
        self.0.join(SKIPPED)
    }

    /// The folder of checkpoint folders.
    pub fn checkpoints(self) -> PathBuf {
        self.0.join(CHECKPOINTS)
    }
}

/// Every name netloom writes at the top of a run folder: what `--overwrite` removes, and what
/// tells a run folder from a folder of the user's.
pub const RUN_FILES: [&str; 9] = [
    DESIGN,
    DATA,
    PREPROCESSOR,
    METRICS,
    WEIGHTS,
    BEST,
    STATE,
    SKIPPED,
    CHECKPOINTS,
];

/// The names of the things in `dir` (none when it doesn't exist), sorted, netloom's stray
/// temporary files and its lock left out.
fn entries(dir: &Path) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != LOCK && !(n.starts_with('.') && n.ends_with(".tmp")))
        .collect();
    names.sort();
    names
}

/// Whether `dir` holds a run of netloom's, told by what only a run writes: a metrics.csv with
/// netloom's header, a run state or data record netloom can read, or a checkpoint folder. (A
/// file merely named design.json is the user's as likely as a run's.)
pub fn holds_a_run(dir: &Path) -> bool {
    let starts_like_ours = |name: &str, prefix: &[u8]| {
        crate::fsio::open_regular(&dir.join(name)).is_ok_and(|mut f| {
            let mut head = vec![0u8; prefix.len()];
            f.read_exact(&mut head).is_ok() && head == prefix
        })
    };
    starts_like_ours(METRICS, b"kind,epoch,step,")
        || crate::fsio::read_regular_to_string(&RunDir::at(dir).state())
            .is_ok_and(|t| RunState::from_text(&t).is_ok())
        || DataRecord::read(dir).is_ok_and(|r| r.is_some())
        || std::fs::read_dir(RunDir::at(dir).checkpoints()).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.parse::<u64>().is_ok())
            })
        })
}

/// Whether `dir` holds a checkpoint a resume can start from (complete or not: a damaged one is
/// the checkpoint code's to report). A run stopped before its first checkpoint has none, and
/// nothing to lose by starting over.
pub fn has_checkpoint(dir: &Path) -> bool {
    RunDir::at(dir).state().exists()
        || std::fs::read_dir(RunDir::at(dir).checkpoints())
            .is_ok_and(|rd| rd.flatten().any(|e| e.path().join(STATE).exists()))
}

/// Makes `dir` ready for a new run: refuses a folder that holds a run (unless `overwrite`,
/// which removes that run's files and nothing else) or files of the user's; never deletes
/// what netloom did not write.
pub fn prepare_new(dir: &Path, overwrite: bool) -> Result<(), EngineError> {
    let names = entries(dir);
    if names.is_empty() {
        return Ok(());
    }
    let ours: Vec<&String> = names
        .iter()
        .filter(|n| RUN_FILES.contains(&n.as_str()))
        .collect();
    if !holds_a_run(dir) {
        return Err(EngineError::RunFolder {
            problem: format!(
                "the folder holds files that are not a netloom run ({}): netloom won't write a run among them; choose a new or empty folder for --out",
                crate::fsio::some_names(dir, &names)
            ),
            path: dir.to_owned(),
        });
    }
    if !overwrite {
        return Err(EngineError::RunFolder {
            problem: "the folder holds a run: use --resume to continue it, another --out for a new run, or --overwrite to replace it".to_owned(),
            path: dir.to_owned(),
        });
    }
    for name in ours {
        let path = dir.join(name);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| EngineError::io("remove the old run's files", &path, e))?;
    }
    Ok(())
}

/// A run folder claimed for a run: its lock (held until the claim is dropped), what claiming
/// had to say, and whether a resume found nothing to resume and starts the run over.
#[derive(Debug)]
pub(crate) struct Claim {
    lock: Option<RunLock>,
    dir: PathBuf,
    /// Whether claiming made the folder: a run that fails before writing anything leaves no
    /// empty folder behind.
    created: bool,
    /// Said when the run starts.
    pub notices: Vec<String>,
    /// A resume whose folder has no checkpoint yet (the run was stopped before its first):
    /// nothing is lost by starting it again from its design and data.
    pub start_over: bool,
}

/// Claims the run folder of `options` before anything is loaded or written: makes it, takes
/// its lock, and for a new run checks that it holds no other run and no files of the user's.
pub(crate) fn claim(options: &super::RunOptions) -> Result<Option<Claim>, EngineError> {
    let Some(dir) = options.out_dir.as_deref() else {
        return Ok(None);
    };
    if options.resume && !dir.is_dir() {
        return Err(EngineError::RunFolder {
            problem: "there is no run folder here to resume: start a new run with --out".to_owned(),
            path: dir.to_owned(),
        });
    }
    let created = !dir.exists();
    std::fs::create_dir_all(dir)
        .map_err(|e| EngineError::io("create the run directory", dir, e))?;
    let (lock, took_over) = match RunLock::take(dir) {
        Ok(taken) => taken,
        Err(e) => {
            if created {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(e);
        }
    };
    let mut notices: Vec<String> = took_over.into_iter().collect();
    let mut start_over = false;
    if !options.resume {
        prepare_new(dir, options.overwrite)?;
    } else if !has_checkpoint(dir) {
        let names = entries(dir);
        if !names.is_empty() && !holds_a_run(dir) {
            return Err(EngineError::RunFolder {
                problem: format!(
                    "there is no run here to resume, only files that are not netloom's ({})",
                    crate::fsio::some_names(dir, &names)
                ),
                path: dir.to_owned(),
            });
        }
        start_over = true;
        notices.push(format!(
            "nothing to resume in {}: the run was stopped before its first checkpoint, so it starts over from its design and data (nothing is lost)",
            dir.display()
        ));
    }
    Ok(Some(Claim {
        lock: Some(lock),
        dir: dir.to_owned(),
        created,
        notices,
        start_over,
    }))
}

impl Drop for Claim {
    fn drop(&mut self) {
        drop(self.lock.take());
        if self.created {
            // Only succeeds when nothing was written.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// The data a resumed run trains on when none is named: what its folder records, or, for a
/// folder from before runs recorded their data, the design's default. The second value says
/// which, as a phrase for the user ("resuming on …", "evaluating on …").
pub fn data_of_run(
    dir: &Path,
    input: Option<crate::design::Shape>,
) -> Result<(DataSpec, String), EngineError> {
    if let Some(record) = DataRecord::read(dir)? {
        let spec = record.data_spec(dir)?;
        return Ok((
            spec,
            format!(
                "the run's own data, {} (recorded in {})",
                record.spec,
                RunDir::at(dir).data_file().display()
            ),
        ));
    }
    let spec = DataSpec::default_for(input)?;
    Ok((
        spec.clone(),
        format!(
            "{}, the design's default: {} doesn't record its data (a run from before netloom kept that record); if the run trained on other data, name it with --data",
            spec.to_spec(),
            dir.display()
        ),
    ))
}

/// The error for a run's recorded data that can't be loaded any more.
pub fn unloadable(dir: &Path, spec: &DataSpec, e: &crate::data::DataError) -> EngineError {
    EngineError::RunFolder {
        problem: format!(
            "the data this run trained on ({}) can't be loaded: {e}. Pass --data to say where it is now (and --new-data if it is other data)",
            spec.to_spec()
        ),
        path: RunDir::at(dir).data_file(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("netloom-rundir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_new_run_is_refused_in_a_run_folder_or_a_users_folder_and_overwrite_keeps_the_users_files()
    {
        let dir = scratch("prepare");
        prepare_new(&dir, false).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let e = prepare_new(&dir, true).unwrap_err().to_string();
        assert!(e.contains("not a netloom run (notes.txt)"), "{e}");
        // A file of a run's name alone doesn't make a run.
        std::fs::write(dir.join(DESIGN), "the user's").unwrap();
        let e = prepare_new(&dir, true).unwrap_err().to_string();
        assert!(
            e.contains("not a netloom run (design.json, notes.txt)"),
            "{e}"
        );
        std::fs::write(dir.join(METRICS), "kind,epoch,step,lr\n").unwrap();
        std::fs::create_dir_all(dir.join(CHECKPOINTS).join("000001")).unwrap();
        let e = prepare_new(&dir, false).unwrap_err().to_string();
        assert!(e.contains("holds a run: use --resume"), "{e}");
        prepare_new(&dir, true).unwrap();
        assert_eq!(entries(&dir), ["notes.txt"]);
    }
}
