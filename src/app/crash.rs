//! The last line of defence: a panic on the UI thread. netloom's code returns errors instead of
//! panicking, but should one slip through, the panic hook saves the design being edited (the
//! autosave the next start offers back), writes a crash report into the app's data folder, and
//! the next start says where that report is.

use crate::design::Design;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The report's name in the data folder; renamed once the next start has said so.
const REPORT: &str = "crash-report.txt";
const SEEN: &str = "crash-report.seen.txt";

/// The unsaved design the hook writes at a panic, and where (the autosave file).
static UNSAVED: Mutex<Option<(PathBuf, Design)>> = Mutex::new(None);

/// Keeps the hook's copy of unsaved work current: called when the design changes. `None` when
/// there is nothing unsaved (or no autosave file).
pub fn remember_unsaved(unsaved: Option<(PathBuf, &Design)>) {
    if let Ok(mut slot) = UNSAVED.lock() {
        *slot = unsaved.map(|(path, design)| (path, design.clone()));
    }
}

/// Installs the hook for the app's process; `data_dir` is where the report goes.
pub fn install(data_dir: Option<PathBuf>) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        // Only the UI thread's panics: the trainer's are caught and reported as failed runs.
        if std::thread::current().name() != Some("main") {
            return;
        }
        if let Ok(slot) = UNSAVED.try_lock()
            && let Some((path, design)) = slot.as_ref()
        {
            let _ = crate::document::save_design(design, path);
        }
        if let Some(dir) = &data_dir {
            let message = crate::jobs::panic_text(info.payload());
            let location = info
                .location()
                .map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
            let _ = write_report(dir, &message, &location);
        }
    }));
}

/// Writes the crash report into `dir`; returns its path.
pub fn write_report(dir: &Path, message: &str, location: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(REPORT);
    let text = format!(
        "netloom {} stopped with an internal error.\n\
         Please attach this file to a bug report.\n\n\
         libtorch: {}\nsystem: {} {}\npanic: {message}\nat: {location}\n\nbacktrace:\n{}\n",
        env!("CARGO_PKG_VERSION"),
        crate::engine::cuda::LIBTORCH_VERSION,
        std::env::consts::OS,
        std::env::consts::ARCH,
        std::backtrace::Backtrace::force_capture()
    );
    std::fs::write(&path, text)?;
    Ok(path)
}

/// A report the last session left, said once: its path (renamed so the next start is quiet).
pub fn take_report(dir: &Path) -> Option<PathBuf> {
    let report = dir.join(REPORT);
    if !report.is_file() {
        return None;
    }
    let seen = dir.join(SEEN);
    Some(if std::fs::rename(&report, &seen).is_ok() {
        seen
    } else {
        report
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_report_is_written_then_said_once() {
        let dir = std::env::temp_dir().join(format!("netloom-crash-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(take_report(&dir), None);
        write_report(&dir, "index out of bounds", "src/app/x.rs:3").unwrap();
        let said = take_report(&dir).unwrap();
        let text = std::fs::read_to_string(&said).unwrap();
        assert!(text.contains("panic: index out of bounds"), "{text}");
        assert!(text.contains("at: src/app/x.rs:3"), "{text}");
        assert!(text.contains("backtrace:"), "{text}");
        assert_eq!(take_report(&dir), None, "said once");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
