//! The loaders that take a path get the fuzz input through a file of this process's own in the
//! temporary folder (on tmpfs where there is one).

use std::path::PathBuf;

/// Writes `bytes` to this process's file named `name` and returns its path.
pub fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("netloom-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder for the fuzz input");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("writing the fuzz input");
    path
}
