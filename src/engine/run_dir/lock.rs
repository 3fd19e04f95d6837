//! The lock a training run holds on its run folder.

use super::LOCK;
use crate::engine::EngineError;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The lock a training run holds on its folder while it writes there: a second run or resume
/// is refused with the holder's pid instead of both writing the same files. It is an OS lock
/// on `.netloom.lock` (released by the OS when the process dies, however it dies), and the
/// file holds the pid to name. A lock file left by a dead process is taken over, and said.
#[derive(Debug)]
pub struct RunLock {
    file: std::fs::File,
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock of the run folder `dir` (which must exist). The second value says
    /// when a lock file left by a process that has gone was taken over.
    pub fn take(dir: &Path) -> Result<(RunLock, Option<String>), EngineError> {
        let path = dir.join(LOCK);
        let io = |e| EngineError::io("lock the run folder", &path, e);
        // The holder removes the file as it ends: a lock taken on a file just unlinked would be
        // a second lock beside the next one's, so it is taken again on the file now there.
        for _ in 0..8 {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io)?;
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = text
                .trim()
                .strip_prefix("pid ")
                .unwrap_or(text.trim())
                .to_owned();
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(EngineError::RunFolder {
                        problem: format!(
                            "the folder is in use by netloom (pid {}): wait for that run to end, or choose another folder",
                            if holder.is_empty() {
                                "unknown"
                            } else {
                                &holder
                            }
                        ),
                        path: dir.to_owned(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0).map_err(io)?;
            use std::io::Seek;
            file.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
            file.write_all(format!("pid {}\n", std::process::id()).as_bytes())
                .map_err(io)?;
            let _ = file.sync_data();
            let taken_over = (!holder.is_empty()).then(|| {
                format!(
                    "took over the run folder's lock, left by netloom pid {holder}, which is no longer running"
                )
            });
            return Ok((RunLock { file, path }, taken_over));
        }
        Err(EngineError::RunFolder {
            problem:
                "its lock file keeps changing under netloom: another program is using the folder"
                    .to_owned(),
            path: dir.to_owned(),
        })
    }
}

#[cfg(unix)]
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::File, path: &Path) -> bool {
    // Windows doesn't unlink an open file, so the file is the one at the path.
    path.exists()
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked: whoever opened it meanwhile sees the change and retries.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
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
    fn a_second_lock_is_refused_with_the_holders_pid_and_a_dead_holders_is_taken_over() {
        let dir = scratch("lock");
        let (held, note) = RunLock::take(&dir).unwrap();
        assert!(note.is_none());
        let e = RunLock::take(&dir).unwrap_err().to_string();
        assert!(
            e.contains(&format!("in use by netloom (pid {})", std::process::id())),
            "{e}"
        );
        drop(held);
        assert!(!dir.join(LOCK).exists(), "the lock file goes with the lock");
        // A lock file left by a process that died (nobody holds its OS lock).
        std::fs::write(dir.join(LOCK), "pid 4000000\n").unwrap();
        let (_held, note) = RunLock::take(&dir).unwrap();
        assert!(note.unwrap().contains("pid 4000000"));
    }
}
