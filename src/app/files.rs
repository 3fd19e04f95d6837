//! Recent files and crash recovery: an autosave of unsaved work every 30 s in the app's data
//! directory, offered back at the next start if the app didn't get to close cleanly.

use crate::design::Design;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How many recent files the File menu lists.
pub const RECENT: usize = 10;
/// How often unsaved work is written to the autosave file.
pub const AUTOSAVE_EVERY: Duration = Duration::from_secs(30);

/// Puts `path` first in `recent`, without duplicates.
pub fn remember(recent: &mut Vec<PathBuf>, path: &Path) {
    recent.retain(|p| p != path);
    recent.insert(0, path.to_owned());
    recent.truncate(RECENT);
}

/// The autosave file and when it was last written.
pub struct Autosave {
    /// Where unsaved work goes; None disables autosave (tests, no data dir).
    pub path: Option<PathBuf>,
    last: Instant,
}

impl Autosave {
    /// Autosave into `dir`/autosave.json.
    pub fn new(dir: Option<PathBuf>) -> Self {
        Autosave {
            path: dir.map(|d| d.join("autosave.json")),
            last: Instant::now(),
        }
    }

    /// Disabled.
    pub fn off() -> Self {
        Autosave {
            path: None,
            last: Instant::now(),
        }
    }

    /// Writes `design` when it is unsaved and the interval has passed.
    pub fn tick(&mut self, design: &Design, dirty: bool) {
        if !dirty || self.last.elapsed() < AUTOSAVE_EVERY {
            return;
        }
        self.last = Instant::now();
        if let Some(path) = &self.path {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            // A failed autosave must not disturb the user; the next tick tries again.
            let _ = crate::document::save_design(design, path);
        }
    }

    /// Forgets the autosave (the work was saved or deliberately discarded).
    pub fn clear(&self) {
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Work left behind by a session that didn't close cleanly: the design, or why the
    /// autosave can't be read. An unreadable one is set aside as autosave.damaged.json (never
    /// deleted: it may be all that is left of the work), and the message says where.
    pub fn recovered(&self) -> Option<Result<Design, String>> {
        let path = self.path.as_ref()?;
        if !path.exists() {
            return None;
        }
        Some(crate::document::load_design(path).map_err(|e| {
            let aside = path.with_file_name("autosave.damaged.json");
            let kept = match std::fs::rename(path, &aside) {
                Ok(()) => format!("it was kept as {}", aside.display()),
                Err(_) => format!("it is still at {}", path.display()),
            };
            format!("the work autosaved last time can't be read back ({e}); {kept}")
        }))
    }
}
