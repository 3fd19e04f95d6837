//! Writing files so that a crash, a kill or a full disk never leaves half of one: every file
//! netloom writes for keeps (designs, checkpoints, run state) goes through [`atomic_write`].
//!
//! It also holds the fault-injection point the kill tests use ([`fault_point`]): with
//! `NETLOOM_FAULT_KILL_AT=N` in the environment, the process kills itself with SIGKILL at the
//! N-th point it passes, so a test can stop a save or a checkpoint at every file boundary and
//! check what survives. Without the variable a point costs one atomic increment.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms [`fault_point`].
pub const FAULT_KILL_AT: &str = "NETLOOM_FAULT_KILL_AT";

/// The environment variable that fakes a full disk for the tests: `FROM:COUNT` makes the
/// FROM-th to the (FROM+COUNT−1)-th appends to metrics.csv fail part-way, as a disk that
/// fills for a moment does.
pub const FAULT_FULL_DISK: &str = "NETLOOM_FAULT_FULL_DISK";

/// Whether this append should fail as on a full disk ([`FAULT_FULL_DISK`]); without the
/// variable, one atomic increment.
pub fn full_disk_fault() -> bool {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    static ARMED: OnceLock<Option<(u64, u64)>> = OnceLock::new();
    let n = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
    let armed = ARMED.get_or_init(|| {
        let v = std::env::var(FAULT_FULL_DISK).ok()?;
        let (from, count) = v.trim().split_once(':')?;
        Some((from.parse().ok()?, count.parse().ok()?))
    });
    armed.is_some_and(|(from, count)| n >= from && n < from + count)
}

/// Points passed so far in this process.
static POINTS: AtomicU64 = AtomicU64::new(0);

/// A place where a kill leaves the files in a state worth testing (between two writes, or
/// between a write and its rename). When [`FAULT_KILL_AT`] names this point's number, the
/// process is killed here with SIGKILL: no destructor, flush or handler runs, as with a real
/// `kill -9` or power cut (minus the page cache).
pub fn fault_point() {
    static ARMED: OnceLock<Option<u64>> = OnceLock::new();
    let n = POINTS.fetch_add(1, Ordering::Relaxed) + 1;
    let armed = ARMED.get_or_init(|| {
        std::env::var(FAULT_KILL_AT)
            .ok()
            .and_then(|v| v.trim().parse().ok())
    });
    if *armed == Some(n) {
        kill_self();
    }
}

#[cfg(unix)]
fn kill_self() {
    let _ = signal_hook::low_level::raise(signal_hook::consts::SIGKILL);
    std::process::abort();
}

#[cfg(not(unix))]
fn kill_self() {
    std::process::abort();
}

/// A temporary sibling of `path` no other writer uses: two processes saving one file at once
/// each write their own, and the last rename wins with a whole file.
fn temporary_for(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// Writes `path` atomically: `write` fills a temporary sibling, which is flushed to the disk
/// and then renamed over `path`. When anything fails (a full disk) the temporary file is
/// removed and `path` keeps its old content. A kill at any moment leaves either the old file or
/// the new one, whole (a stray temporary file at worst, which the next write of `path`
/// clears, or [`remove_stale_temporaries`]).
pub fn atomic_write<F>(path: &Path, write: F) -> std::io::Result<()>
where
    F: FnOnce(&Path) -> std::io::Result<()>,
{
    let tmp = temporary_for(path);
    let result = write(&tmp)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| {
            fault_point();
            std::fs::rename(&tmp, path)
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    sync_dir(path);
    if let Some(name) = path.file_name() {
        remove_stale_temporaries(parent_dir(path), Some(&name.to_string_lossy()));
    }
    fault_point();
    Ok(())
}

/// What a path that is not a regular file is, for the refusal's message; None for a regular
/// file (symbolic links followed).
pub fn not_a_regular_file(path: &Path) -> Option<String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            // A link to nothing, or a loop of links, is named as such rather than "not found".
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                return Some(format!(
                    "it is a symbolic link that leads nowhere ({e}): point it at a file, or remove it"
                ));
            }
            return None;
        }
    };
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    let what = if kind.is_dir() {
        "a folder"
    } else {
        special_kind(&kind)
    };
    Some(format!(
        "it is {what}, not a regular file: netloom reads designs, weights and data only from files"
    ))
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_char_device() {
        "a character device (such as /dev/zero)"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "not a file"
}

/// Opens `path` for reading after checking that it is a regular file: a FIFO with no writer
/// would block for ever, `/dev/zero` would never end, a dangling link would read as missing.
/// The refusal is an `InvalidInput` error whose text says what the path is.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(why) = not_a_regular_file(path) {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, why));
    }
    std::fs::File::open(path)
}

/// Reads a whole regular file ([`open_regular`]).
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = open_regular(path)?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads a whole regular file as UTF-8 text ([`open_regular`]).
pub fn read_regular_to_string(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_regular(path)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}

/// `path` absolute with its links resolved, also when it doesn't exist yet (its folder's
/// resolved, its name kept).
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => resolved(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        })
        .join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
    }
}

/// Whether two existing paths are one file (the same device and inode: hard links too).
#[cfg(unix)]
fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_: &Path, _: &Path) -> bool {
    false
}

/// Refuses an output path that would write over one of the command's own inputs: the same
/// file (by resolved path, or by inode for a hard link), or a folder that holds an input. The
/// message names both and says what to change.
pub fn refuse_overwriting_inputs(out: &Path, inputs: &[PathBuf]) -> Result<(), String> {
    let target = resolved(out);
    for input in inputs {
        if !input.exists() {
            continue;
        }
        let source = resolved(input);
        let hit = source == target || same_inode(out, input) || source.starts_with(&target);
        if hit {
            let how = if source == target || same_inode(out, input) {
                "is"
            } else {
                "holds"
            };
            return Err(format!(
                "the output {} {how} one of this command's inputs ({}): writing there would replace it; choose another output path",
                out.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

/// The folder `path` is in ("." for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `bytes` to `path` atomically ([`atomic_write`]).
pub fn atomic_write_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    atomic_write(path, |tmp| {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(bytes)
    })
}

/// Flushes a rename to the disk (the folder's entry), where the platform allows it.
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    let _ = std::fs::File::open(parent_dir(path)).and_then(|d| d.sync_all());
    #[cfg(not(unix))]
    let _ = path;
}

/// Removes the temporary files killed writers left in `dir` (those of [`atomic_write`]:
/// `.NAME.PID-N.tmp`), for files named `name` or, with None, for any file; a live writer's in
/// this process is kept.
pub fn remove_stale_temporaries(dir: &Path, name: Option<&str>) {
    let own = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((target, writer)) = file
            .strip_prefix('.')
            .and_then(|f| f.strip_suffix(".tmp"))
            .and_then(|f| f.rsplit_once('.'))
        else {
            continue;
        };
        let Some((pid, n)) = writer.split_once('-') else {
            continue;
        };
        let ours = [pid, n]
            .iter()
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
        if ours && pid != own && name.is_none_or(|name| name == target) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A few of the `names` in `dir` for a message, folders marked with a slash: "a.txt, b/,
/// and 3 more" (what a refused output folder holds).
pub fn some_names(dir: &Path, names: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut shown: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|n| {
            if dir.join(n).is_dir() {
                format!("{n}/")
            } else {
                n.clone()
            }
        })
        .collect();
    if names.len() > SHOWN {
        shown.push(format!("and {} more", names.len() - SHOWN));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("netloom-fsio-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = scratch("failed");
        let path = dir.join("a.json");
        std::fs::write(&path, "old").expect("old file");
        let err = atomic_write(&path, |tmp| {
            std::fs::write(tmp, "half")?;
            Err(std::io::Error::other("disk full"))
        })
        .expect_err("the write fails");
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
        let left: Vec<_> = std::fs::read_dir(&dir).expect("list").collect();
        assert_eq!(left.len(), 1, "only a.json is left");
    }

    #[test]
    fn two_writers_use_different_temporaries_and_the_last_rename_wins_whole() {
        let dir = scratch("two");
        let path = dir.join("a.json");
        let (a, b) = (temporary_for(&path), temporary_for(&path));
        assert_ne!(a, b);
        atomic_write(&path, |tmp_a| {
            std::fs::write(tmp_a, "first")?;
            // A second writer saves completely while the first is between write and rename.
            atomic_write_bytes(&path, b"second")
        })
        .expect("both saves succeed");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "first");
    }

    #[test]
    fn stale_temporaries_of_other_processes_are_removed() {
        let dir = scratch("stale");
        std::fs::write(dir.join(".a.json.1-0.tmp"), "x").expect("stale");
        std::fs::write(dir.join(".b.json.1-0.tmp"), "x").expect("other file's");
        std::fs::write(dir.join(".user's.tmp"), "x").expect("not netloom's");
        remove_stale_temporaries(&dir, Some("a.json"));
        assert!(!dir.join(".a.json.1-0.tmp").exists());
        assert!(dir.join(".b.json.1-0.tmp").exists());
        remove_stale_temporaries(&dir, None);
        assert!(!dir.join(".b.json.1-0.tmp").exists());
        assert!(dir.join(".user's.tmp").exists());
    }
}
