//! The app's runs folder: every run the app trains keeps a folder there (checkpoints, metrics,
//! the design), so it grows without bound. This measures it and deletes old runs on request.

use std::path::{Path, PathBuf};

/// The run folders in the runs folder, oldest first, with their sizes in bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    /// (folder, bytes), oldest first (folder names start with their UTC start time).
    pub runs: Vec<(PathBuf, u64)>,
}

impl Usage {
    /// Bytes in all run folders.
    pub fn total(&self) -> u64 {
        self.runs.iter().map(|(_, n)| n).sum()
    }

    /// The folders "keep the newest `keep`" would delete, with their bytes, never one in
    /// `protect` (the runs of this session).
    pub fn older_than_newest(&self, keep: usize, protect: &[PathBuf]) -> (Vec<PathBuf>, u64) {
        let cut = self.runs.len().saturating_sub(keep);
        let doomed: Vec<&(PathBuf, u64)> = self.runs[..cut]
            .iter()
            .filter(|(p, _)| !protect.contains(p))
            .collect();
        (
            doomed.iter().map(|(p, _)| p.clone()).collect(),
            doomed.iter().map(|(_, n)| n).sum(),
        )
    }
}

/// The bytes under `path`. A file hard-linked twice (a run's weights.safetensors and its
/// newest checkpoint's) is counted once: deleting the run frees it once.
fn size_of(path: &Path) -> u64 {
    size_once(path, &mut std::collections::HashSet::new())
}

fn size_once(path: &Path, seen: &mut std::collections::HashSet<(u64, u64)>) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            if meta.nlink() > 1 && !seen.insert((meta.dev(), meta.ino())) {
                return 0;
            }
        }
        #[cfg(not(unix))]
        let _ = &seen;
        return meta.len();
    }
    std::fs::read_dir(path).map_or(0, |entries| {
        entries.flatten().map(|e| size_once(&e.path(), seen)).sum()
    })
}

/// A folder netloom's trainer wrote, told by what only a run writes (engine::run_dir): the
/// Train view offers to delete these, so a folder that merely has a file called metrics.csv
/// must never count as one.
fn is_run_folder(path: &Path) -> bool {
    path.is_dir() && crate::engine::run_dir::holds_a_run(path)
}

/// Measures `dir`'s run folders; an absent folder has none.
pub fn usage(dir: &Path) -> Usage {
    let mut runs: Vec<(PathBuf, u64)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| is_run_folder(p))
                .map(|p| {
                    let n = size_of(&p);
                    (p, n)
                })
                .collect()
        })
        .unwrap_or_default();
    runs.sort();
    Usage { runs }
}

/// Deletes `folders` (run folders only); returns how many went, or the first failure.
pub fn delete(folders: &[PathBuf]) -> Result<usize, String> {
    let mut gone = 0;
    for f in folders.iter().filter(|f| is_run_folder(f)) {
        std::fs::remove_dir_all(f)
            .map_err(|e| format!("could not delete the run folder {} ({e})", f.display()))?;
        gone += 1;
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_runs_are_measured_and_deleted_keeping_the_newest_and_the_protected() {
        let dir = std::env::temp_dir().join(format!("netloom-runs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, bytes) in [
            ("2026-01-01_000000-1", 100),
            ("2026-02-01_000000-1", 200),
            ("2026-03-01_000000-1", 300),
        ] {
            std::fs::create_dir_all(dir.join(name)).unwrap();
            let mut csv = b"kind,epoch,step,".to_vec();
            csv.resize(bytes, b'x');
            std::fs::write(dir.join(name).join("metrics.csv"), csv).unwrap();
        }
        std::fs::create_dir_all(dir.join("not-a-run")).unwrap();
        // A folder of the user's with a file of that name is no run, and is never offered.
        std::fs::create_dir_all(dir.join("users")).unwrap();
        std::fs::write(dir.join("users/metrics.csv"), "my own table").unwrap();
        let u = usage(&dir);
        assert_eq!(u.runs.len(), 3);
        assert_eq!(u.total(), 600);
        let protect = vec![dir.join("2026-01-01_000000-1")];
        let (doomed, bytes) = u.older_than_newest(1, &protect);
        assert_eq!(
            (doomed.clone(), bytes),
            (vec![dir.join("2026-02-01_000000-1")], 200)
        );
        assert_eq!(delete(&doomed), Ok(1));
        assert_eq!(usage(&dir).runs.len(), 2);
        assert!(dir.join("not-a-run").is_dir());
        assert!(dir.join("users/metrics.csv").is_file());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    #[cfg(unix)]
    fn a_checkpoints_hard_linked_weights_count_once() {
        let dir = std::env::temp_dir().join(format!("netloom-run-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("checkpoint/000001")).unwrap();
        let weights = dir.join("checkpoint/000001/weights.safetensors");
        std::fs::write(&weights, vec![0u8; 1000]).unwrap();
        std::fs::hard_link(&weights, dir.join("weights.safetensors")).unwrap();
        std::fs::write(dir.join("metrics.csv"), b"abc").unwrap();
        assert_eq!(size_of(&dir), 1003);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
