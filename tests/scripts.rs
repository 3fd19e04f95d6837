//! The shell scripts: every one passes shellcheck (the macOS and Windows packaging and the
//! release workflow can't run here, so this is what is checked of them), and
//! scripts/prerequisites.sh installs or names exactly what is missing.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn source_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shell_scripts() -> Vec<PathBuf> {
    let mut out = vec![source_root().join(".ci/run")];
    for dir in ["scripts", "packaging", "packaging/linux", "packaging/macos"] {
        for entry in std::fs::read_dir(source_root().join(dir))
            .unwrap()
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "sh") {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn every_shell_script_passes_shellcheck() {
    let scripts = shell_scripts();
    assert!(scripts.len() >= 12, "{scripts:?}");
    let out = Command::new("shellcheck")
        .arg("-x")
        .args(&scripts)
        .current_dir(source_root())
        .output()
        .expect("shellcheck is needed (scripts/prerequisites.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A folder of stand-ins for dpkg, id, sudo and apt-get, first on PATH: dpkg says `missing` is
/// not installed, id says `uid`, sudo refuses, apt-get writes its arguments to apt.log.
fn fake_system(name: &str, missing: &str, uid: u32) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("apt.log");
    let write = |file: &str, body: String| {
        let path = dir.join(file);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    write("dpkg", format!("[ \"$2\" = {missing} ] && exit 1\nexit 0"));
    write("id", format!("echo {uid}"));
    write("sudo", "exit 1".to_owned());
    write("apt-get", format!("echo \"$*\" >> '{}'", log.display()));
    dir
}

fn prerequisites(fake: &Path, args: &[&str]) -> Output {
    let path = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap());
    Command::new(source_root().join("scripts/prerequisites.sh"))
        .args(args)
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn prerequisites_names_the_exact_command_when_it_cannot_install() {
    let fake = fake_system("prereq-user", "xvfb", 1000);
    let out = prerequisites(&fake, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sudo apt-get install -y --no-install-recommends xvfb"),
        "{err}"
    );
    assert!(
        !fake.join("apt.log").exists(),
        "nothing may be installed without root"
    );
}

#[test]
fn prerequisites_installs_what_is_missing_as_root() {
    let fake = fake_system("prereq-root", "shellcheck", 0);
    let out = prerequisites(&fake, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(fake.join("apt.log")).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "update -qq",
            "install -y --no-install-recommends shellcheck -qq"
        ]
    );
    // --check reports, and installs nothing, even as root.
    std::fs::remove_file(fake.join("apt.log")).unwrap();
    let out = prerequisites(&fake, &["--check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!fake.join("apt.log").exists());
}

#[test]
fn prerequisites_passes_quietly_when_nothing_is_missing() {
    let fake = fake_system("prereq-none", "no-such-package", 1000);
    let out = prerequisites(&fake, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
}
