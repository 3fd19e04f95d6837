//! Issue 27: the threads a run uses come from what the process may really use (its affinity
//! mask, its cgroup's CPU quota) or `--threads`, and OpenMP's wait policy is set before
//! libtorch loads, keeping a value the user set. Read off the run's first line.
#![allow(clippy::unwrap_used)]
#![allow(clippy::print_stderr)] // says where the cgroup test could run

mod common;

use common::run::{example_path, tempdir};
use std::path::Path;
use std::process::Command;

/// The "… trainable parameters on …" line of a one-step LeNet-5 run, started by `prefix`
/// (a command that execs netloom, or none) with `env`.
fn first_line(dir: &Path, prefix: &[&str], args: &[&str], env: &[(&str, &str)]) -> String {
    let bin = env!("CARGO_BIN_EXE_netloom");
    let out = dir.join(format!(
        "run-{}",
        std::process::id() ^ args.len() as u32 ^ prefix.len() as u32
    ));
    let _ = std::fs::remove_dir_all(&out);
    let lenet = example_path("lenet5.json");
    let mut all: Vec<&str> = prefix.to_vec();
    all.extend([
        bin,
        "train",
        &lenet,
        "--max-steps",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    all.extend_from_slice(args);
    let mut cmd = Command::new(all[0]);
    cmd.args(&all[1..])
        .env_remove("OMP_WAIT_POLICY")
        .env_remove("GOMP_SPINCOUNT")
        .env_remove("NETLOOM_OMP_WAIT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let done = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr).into_owned();
    assert!(done.status.success(), "{all:?}: {err}");
    let _ = std::fs::remove_dir_all(&out);
    err.lines()
        .find(|l| l.contains("trainable parameters on"))
        .unwrap_or_else(|| panic!("no first line in:\n{err}"))
        .to_owned()
}

#[test]
fn the_wait_policy_is_set_before_libtorch_loads_and_a_users_value_is_kept() {
    let dir = tempdir("threads-wait");
    let line = first_line(&dir, &[], &[], &[]);
    assert!(line.contains("GOMP_SPINCOUNT=10000"), "{line}");
    let line = first_line(&dir, &[], &[], &[("OMP_WAIT_POLICY", "active")]);
    assert!(line.contains("OMP_WAIT_POLICY=active"), "{line}");
    assert!(!line.contains("GOMP_SPINCOUNT"), "{line}");
    let line = first_line(&dir, &[], &[], &[("NETLOOM_OMP_WAIT", "libgomp")]);
    assert!(line.contains("libgomp's default wait"), "{line}");
}

#[test]
#[cfg(target_os = "linux")]
fn an_affinity_mask_of_one_cpu_gives_one_thread_and_threads_overrides() {
    let dir = tempdir("threads-affinity");
    let line = first_line(&dir, &["taskset", "-c", "0"], &[], &[]);
    assert!(line.contains("on CPU (1 thread)"), "{line}");
    let cpus = std::thread::available_parallelism().unwrap().get();
    if cpus > 1 {
        assert!(
            line.contains(&format!("the 1 of {cpus} cores this process may run on")),
            "{line}"
        );
    }
    let line = first_line(&dir, &[], &["--threads", "3"], &[]);
    assert!(line.contains("on CPU (3 threads) [as asked"), "{line}");
}

/// A cgroup limited to one CPU of time, made under the cgroup-v2 or v1 `cpu` hierarchy; None
/// (with why) where this process can't make one (not root, or no writable hierarchy).
#[cfg(target_os = "linux")]
fn one_cpu_cgroup() -> Result<std::path::PathBuf, String> {
    let name = format!("netloom-test-{}", std::process::id());
    let tries = [
        ("/sys/fs/cgroup", true),
        ("/sys/fs/cgroup/unified", true),
        ("/sys/fs/cgroup/cpu", false),
        ("/sys/fs/cgroup/cpu,cpuacct", false),
    ];
    let mut why = Vec::new();
    for (root, v2) in tries {
        let root = Path::new(root);
        let marker = if v2 {
            "cgroup.controllers"
        } else {
            "cpu.cfs_quota_us"
        };
        if !root.join(marker).is_file() {
            continue;
        }
        if v2 {
            // The cpu controller must be on for the children of the root.
            let _ = std::fs::write(root.join("cgroup.subtree_control"), "+cpu");
        }
        let dir = root.join(&name);
        let made = std::fs::create_dir_all(&dir).and_then(|()| {
            if v2 {
                std::fs::write(dir.join("cpu.max"), "100000 100000")
            } else {
                std::fs::write(dir.join("cpu.cfs_period_us"), "100000")?;
                std::fs::write(dir.join("cpu.cfs_quota_us"), "100000")
            }
        });
        match made {
            Ok(()) => return Ok(dir),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                why.push(format!("{}: {e}", root.display()));
            }
        }
    }
    Err(if why.is_empty() {
        "no cgroup hierarchy with a cpu controller is mounted".to_owned()
    } else {
        why.join("; ")
    })
}

#[test]
#[cfg(target_os = "linux")]
fn a_cgroup_quota_of_one_cpu_gives_one_thread_where_a_cgroup_can_be_made() {
    let dir = tempdir("threads-cgroup");
    let group = match one_cpu_cgroup() {
        Ok(g) => g,
        Err(why) => {
            eprintln!(
                "threads test: no cgroup could be made here ({why}); the quota is read by engine::cpus's unit tests only"
            );
            return;
        }
    };
    eprintln!("threads test: running netloom in {}", group.display());
    let procs = group.join("cgroup.procs");
    let script = format!("echo $$ > '{}' && exec \"$@\"", procs.display());
    let line = first_line(&dir, &["sh", "-c", &script, "sh"], &[], &[]);
    let _ = std::fs::remove_dir(&group);
    assert!(line.contains("on CPU (1 thread)"), "{line}");
    assert!(line.contains("the cgroup's CPU quota of 1 CPU"), "{line}");
}
