//! The runs folder in the app's data dir: where each run keeps its checkpoints, how much the
//! saved runs take, deleting the old ones, and opening a finished run folder (netloom's, or an
//! exported train.py's from a cluster) beside this session's runs.

use super::{Training, run_store};
use crate::design::Design;
use crate::engine::RunHistory;
use crate::engine::run_dir::RunDir;
use std::path::{Path, PathBuf};

impl Training {
    /// Where runs (and sweeps) are kept, when the app has a data folder.
    pub fn runs_dir(&self) -> Option<&Path> {
        self.runs_dir.as_deref()
    }

    /// Where runs keep their folders (the app's data dir); None keeps nothing on disk.
    pub fn set_runs_dir(&mut self, dir: Option<PathBuf>) {
        self.runs_dir = dir;
        self.refresh_usage();
    }

    /// Measures the runs folder again (a walk of a few files per run: cheap, but not for
    /// every frame, so only when it may have changed).
    pub(super) fn refresh_usage(&mut self) {
        self.usage = self.runs_dir.as_deref().map(run_store::usage);
    }

    /// What the runs folder holds, when the app keeps one.
    pub fn runs_usage(&self) -> Option<&run_store::Usage> {
        self.usage.as_ref()
    }

    /// The folders of this session's runs (never deleted as "old").
    pub fn session_dirs(&self) -> Vec<PathBuf> {
        self.runs.iter().filter_map(|r| r.dir.clone()).collect()
    }

    /// Deletes the saved runs older than the newest `keep`, except this session's; returns
    /// (folders deleted, bytes freed).
    pub fn delete_old_runs(&mut self, keep: usize) -> Result<(usize, u64), String> {
        if self.busy() {
            return Err("a run is training: delete old runs when it has finished".to_owned());
        }
        let Some(usage) = &self.usage else {
            return Ok((0, 0));
        };
        let (doomed, bytes) = usage.older_than_newest(keep, &self.session_dirs());
        let result = run_store::delete(&doomed).map(|n| (n, bytes));
        self.refresh_usage();
        result
    }

    /// Adds the finished run in `dir` (netloom's, or an exported train.py's from a cluster),
    /// read from its metrics.csv, so its curves show beside this session's runs. Returns its
    /// name.
    pub fn open_run_folder(&mut self, dir: &Path) -> Result<String, String> {
        if self.busy() {
            return Err("a run is training: open the run folder when it has finished".to_owned());
        }
        let folder = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let name = format!("#{} {folder} (opened)", self.runs.len() + 1);
        let mut run = RunHistory::from_metrics_csv(name.clone(), dir)?;
        // The network it trained, where the folder kept it (netloom's runs do).
        run.network = crate::document::load_design(&RunDir::at(dir).design()).ok();
        self.runs.push(run);
        Ok(name)
    }

    /// The newest run that kept its best weights on disk: (its name, its folder).
    pub fn last_run_with_weights(&self, design: &Design) -> Option<(&str, &Path)> {
        self.runs
            .iter()
            .rev()
            // A run of another network has weights that don't fit this one: not a "last
            // run" of this design at all (the lessons say nothing about it).
            .filter(|r| r.network.as_ref().is_none_or(|n| n.same_network(design)))
            .find_map(|r| {
                r.dir
                    .as_deref()
                    .filter(|d| RunDir::at(d).best().is_file())
                    .map(|d| (r.name.as_str(), d))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::Training;
    use crate::engine::RunHistory;

    #[test]
    fn the_last_run_s_weights_are_only_those_of_a_run_of_this_network() {
        let dir = std::env::temp_dir().join(format!("netloom-last-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(crate::engine::run_dir::RunDir::at(&dir).best(), b"x").unwrap();
        let lenet = crate::design::from_json(crate::examples::EXAMPLES[0].1).unwrap();
        let resnet = crate::design::from_json(crate::examples::EXAMPLES[3].1).unwrap();
        let mut t = Training::default();
        let mut run = RunHistory::new("#1".to_owned(), 1, Some(dir.clone()));
        run.network = Some(lenet.clone());
        t.runs.push(run);
        assert!(t.last_run_with_weights(&lenet).is_some());
        assert!(
            t.last_run_with_weights(&resnet).is_none(),
            "LeNet's weights are not resnet_mini's last run"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
