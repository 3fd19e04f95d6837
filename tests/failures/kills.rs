//! SIGKILL at every file boundary: of a training run's checkpoints (every resume must end
//! bit-identical to the uninterrupted run) and of a design save (the old design or the new
//! one, whole). The kills come from netloom's own fault points (`NETLOOM_FAULT_KILL_AT=N`
//! kills the process at the N-th one it passes: between two files, and between each file's
//! flush and its rename), so every boundary is hit exactly, whatever the machine's speed.

use super::run::{example_path, tempdir};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output};

const FAULT: &str = "NETLOOM_FAULT_KILL_AT";
const EPOCHS: &str = "3";

/// `netloom ARGS`, killed at fault point `kill_at` when given.
fn netloom_killed_at(args: &[&str], kill_at: Option<u64>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netloom"));
    cmd.args(args).env_remove(FAULT);
    if let Some(k) = kill_at {
        cmd.env(FAULT, k.to_string());
    }
    cmd.output().unwrap()
}

/// Trains two_layer_mlp with Adam (an optimizer with state) for three epochs into `run`, or
/// resumes it.
fn train(run: &Path, resume: bool, kill_at: Option<u64>) -> Output {
    let run = run.to_str().unwrap();
    let mut args = vec![
        "train",
        &example_path("two_layer_mlp.json"),
        // Compared bit for bit: the thread count fixed.
        "--deterministic",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        EPOCHS,
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    args.extend([
        if resume { "--resume" } else { "--out" }.to_owned(),
        run.to_owned(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    netloom_killed_at(&args, kill_at)
}

/// Everything a finished run leaves that must not depend on whether it was interrupted: the
/// weights, the best weights, the optimizer state of the newest checkpoint, the run state
/// (without metrics.csv's length, which counts the timing column) and metrics.csv without its
/// samples-per-second column.
fn outcome(run: &Path) -> Vec<(String, String)> {
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let hex = |b: Vec<u8>| format!("{} bytes, crc {:08x}", b.len(), crc(&b));
    let mut state: serde_json::Value =
        serde_json::from_slice(&read(&run.join("state.json"))).unwrap();
    state.as_object_mut().unwrap().remove("metrics_len");
    // Its checksum covers metrics_len too.
    state.as_object_mut().unwrap().remove("crc32");
    let metrics: String = String::from_utf8(read(&run.join("metrics.csv")))
        .unwrap()
        .lines()
        .map(|l| {
            // Every cell but samples_per_s (the tenth).
            let mut cells: Vec<&str> = l.split(',').collect();
            if cells.len() > 9 {
                cells.remove(9);
            }
            cells.join(",") + "\n"
        })
        .collect();
    let newest = std::fs::read_dir(run.join("checkpoint"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("state.json").is_file())
        .max()
        .unwrap();
    vec![
        (
            "weights".into(),
            hex(read(&run.join("weights.safetensors"))),
        ),
        ("best".into(), hex(read(&run.join("best.safetensors")))),
        (
            "optimizer".into(),
            hex(read(&newest.join("optimizer.safetensors"))),
        ),
        ("state".into(), state.to_string()),
        ("metrics".into(), metrics),
        ("design".into(), hex(read(&run.join("design.json")))),
    ]
}

/// CRC-32 (IEEE), bit by bit: the test's own, so it doesn't trust the code under test.
fn crc(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn killed(out: &Output) -> bool {
    out.status.signal() == Some(9)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether the newest checkpoint folder in `run` is one a kill left without its state.
fn newest_is_incomplete(run: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(run.join("checkpoint")) else {
        return false;
    };
    let mut folders: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    folders.sort();
    folders.len() > 1
        && folders
            .last()
            .is_some_and(|f| !f.join("state.json").is_file())
}

#[test]
fn a_kill_at_every_checkpoint_file_boundary_resumes_bit_identical() {
    let dir = tempdir("failures-kill-sweep");
    let reference = dir.join("reference");
    let out = train(&reference, false, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = outcome(&reference);
    let (mut kills, mut fallbacks, mut restarts) = (0, 0, 0);
    for k in 1.. {
        assert!(k < 400, "the run never finished without a kill");
        let run = dir.join(format!("kill-{k}"));
        let out = train(&run, false, Some(k));
        if !killed(&out) {
            // Past the run's last fault point: it finished, and equals the reference.
            assert!(out.status.success(), "{}", stderr(&out));
            assert_eq!(outcome(&run), expected, "unkilled run {k}");
            break;
        }
        kills += 1;
        let incomplete = newest_is_incomplete(&run);
        let resumed = train(&run, true, None);
        let said = stderr(&resumed);
        assert!(resumed.status.success(), "kill {k}: {said}");
        if said.contains("nothing to resume in") {
            // Killed before the first checkpoint was complete: the resume starts the run over
            // from its design and data, says so, and gives the same result.
            assert!(
                said.contains("starts over from its design and data"),
                "kill {k}: {said}"
            );
            restarts += 1;
        } else if incomplete {
            fallbacks += 1;
            assert!(
                said.contains("is incomplete") && said.contains("resumed from checkpoint"),
                "kill {k}: the fallback wasn't said:\n{said}"
            );
        }
        assert_eq!(outcome(&run), expected, "kill at fault point {k}");
        let left = walk(&run);
        assert!(
            !left.iter().any(|f| f.ends_with(".tmp")),
            "kill {k}: temporary files left after the resume: {left:?}"
        );
        std::fs::remove_dir_all(&run).unwrap();
    }
    // Three epochs, a checkpoint each: every one of them was cut at each of its boundaries.
    assert!(kills >= 3 * 10, "only {kills} kill points");
    assert!(
        fallbacks >= 2,
        "{fallbacks} fallbacks to an earlier checkpoint"
    );
    assert!(
        restarts >= 1,
        "{restarts} kills before the first checkpoint"
    );
}

/// Every file under `dir`, by name.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out
}

#[test]
fn a_kill_during_a_design_save_leaves_the_old_design_or_the_new_one_whole() {
    let dir = tempdir("failures-kill-save");
    let path = dir.join("design.json");
    let old = std::fs::read(example_path("two_layer_mlp.json")).unwrap();
    let save = |kill_at| {
        netloom_killed_at(
            &[
                "template",
                "resnet18",
                "--output",
                path.to_str().unwrap(),
                "--overwrite",
            ],
            kill_at,
        )
    };
    let full = {
        std::fs::write(&path, &old).unwrap();
        assert!(save(None).status.success());
        std::fs::read(&path).unwrap()
    };
    let mut outcomes = Vec::new();
    for k in 1.. {
        assert!(k < 10, "the save never finished without a kill");
        std::fs::write(&path, &old).unwrap();
        let out = save(Some(k));
        let now = std::fs::read(&path).unwrap();
        if !killed(&out) {
            assert!(out.status.success(), "{}", stderr(&out));
            assert_eq!(now, full);
            break;
        }
        assert!(
            now == old || now == full,
            "kill {k}: a mixed or partial design"
        );
        outcomes.push(now == old);
    }
    // A kill before the rename keeps the old design, one after it has the new one.
    assert_eq!(outcomes, [true, false]);
    // The killed save's temporary file is cleared by the next save.
    assert!(save(None).status.success());
    let left: Vec<String> = walk(&dir);
    assert_eq!(left, ["design.json"], "{left:?}");
}
