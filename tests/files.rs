//! Issue 26: nothing of the user's overwritten, and every file read as what it is. Each test
//! is a reproducer as a user met it, run through the real binary: the user's files must be
//! intact after the refused (or corrected) action, and what netloom reads must be what the file
//! says (a run's data, a safetensors header whatever its first byte, a whole metrics.csv).
#![allow(clippy::unwrap_used)]

mod common;

use common::run::{example_path, netloom, netloom_ok, tempdir};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir` with its bytes, sorted: a folder's whole content, to compare.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push((
                    p.strip_prefix(root).unwrap().to_owned(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Writes an IDX dataset of 28×28 images in 10 classes: `train` and `val` samples of pixels
/// drawn from `seed`, each class with its own bright band so that it can be learnt.
fn idx_set(dir: &Path, train: u32, val: u32, seed: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (prefix, n) in [("train", train), ("t10k", val)] {
        let mut images = vec![0, 0, 8, 3];
        for d in [n, 28, 28] {
            images.extend(d.to_be_bytes());
        }
        let mut labels = vec![0, 0, 8, 1];
        labels.extend(n.to_be_bytes());
        for _ in 0..n {
            let class = (next() % 10) as u8;
            labels.push(class);
            for px in 0..784u32 {
                let band = (px / 28) / 3 == u32::from(class);
                let noise = (next() % 64) as u8;
                images.push(if band { 190 + noise } else { noise });
            }
        }
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
    }
}

// ---------------------------------------------------------------- exports never clobber

#[test]
fn an_export_into_a_folder_of_the_users_refuses_and_leaves_every_file() {
    let dir = tempdir("files-export-folder");
    let p = dir.join("P");
    std::fs::create_dir_all(p.join("thesis")).unwrap();
    std::fs::write(p.join("notes.txt"), "my notes").unwrap();
    std::fs::write(p.join("thesis/a.tex"), "\\section{}").unwrap();
    std::fs::write(p.join("model.py"), "# my own model").unwrap();
    let before = snapshot(&p);
    let (code, _, err) = netloom(&[
        "export",
        &example_path("two_layer_mlp.json"),
        "--format",
        "pytorch",
        "--out",
        s(&p),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds files netloom didn't write"), "{err}");
    assert!(err.contains("notes.txt"), "{err}");
    assert_eq!(snapshot(&p), before, "the folder changed");
    let stray: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "P")
        .collect();
    assert!(stray.is_empty(), "left beside it: {stray:?}");

    // An earlier export of netloom's own is replaced file by file: the user's note beside it
    // stays, and a file the earlier export didn't write is never replaced.
    let q = dir.join("Q");
    let export_to = |out: &Path| {
        netloom(&[
            "export",
            &example_path("two_layer_mlp.json"),
            "--format",
            "pytorch",
            "--out",
            s(out),
        ])
    };
    assert_eq!(export_to(&q).0, 0);
    assert!(q.join("netloom-export.json").is_file());
    std::fs::write(q.join("mine.txt"), "keep me").unwrap();
    std::fs::write(q.join("train.py"), "# edited").unwrap();
    let (code, _, err) = export_to(&q);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(q.join("mine.txt")).unwrap(),
        "keep me"
    );
    assert!(
        std::fs::read_to_string(q.join("train.py"))
            .unwrap()
            .contains("torchrun")
    );
    // A file of the same name as one the export writes, which the earlier one didn't: refused.
    let r = dir.join("R");
    assert_eq!(export_to(&r).0, 0);
    let manifest = std::fs::read_to_string(r.join("netloom-export.json")).unwrap();
    std::fs::write(
        r.join("netloom-export.json"),
        manifest.replace("\"model.py\",", ""),
    )
    .unwrap();
    std::fs::write(r.join("model.py"), "# the user's now").unwrap();
    let (code, _, err) = export_to(&r);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the earlier export didn't write"), "{err}");
    assert_eq!(
        std::fs::read_to_string(r.join("model.py")).unwrap(),
        "# the user's now"
    );
}

#[test]
fn an_export_over_one_of_its_own_inputs_is_refused() {
    let dir = tempdir("files-export-input");
    let design = dir.join("d.json");
    std::fs::copy(example_path("two_layer_mlp.json"), &design).unwrap();
    let run = dir.join("run");
    netloom_ok(&["train", s(&design), "--epochs", "1", "--out", s(&run)]);
    let weights = dir.join("w.safetensors");
    std::fs::copy(run.join("best.safetensors"), &weights).unwrap();
    let link = dir.join("also-w.safetensors");
    std::fs::hard_link(&weights, &link).unwrap();
    let before = snapshot(&dir);
    for (format, out) in [
        ("onnx", &design),
        ("torchscript", &weights),
        ("onnx", &link),
        ("pytorch", &dir),
    ] {
        let (code, _, err) = netloom(&[
            "export",
            s(&design),
            "--format",
            format,
            "--weights",
            s(&weights),
            "--out",
            s(out),
        ]);
        assert_eq!(code, 2, "{format} over {}: {err}", out.display());
        assert!(
            err.contains("one of this command's inputs")
                || err.contains("holds files netloom didn't write"),
            "{err}"
        );
    }
    // An export of a run folder into the run folder.
    let (code, _, err) = netloom(&["export", s(&run), "--format", "onnx", "--out", s(&run)]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(snapshot(&dir), before, "an input changed");
    // forward's output over its input.
    let x = dir.join("x.npy");
    netloom::engine::npy::write(
        &x,
        &netloom::engine::npy::NpyArray {
            shape: vec![1, 2],
            data: vec![0.5, -0.5],
        },
    )
    .unwrap();
    let (code, _, err) = netloom(&["forward", s(&run), "--input", s(&x), "--output", s(&x)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("one of this command's inputs"), "{err}");
}

#[test]
fn a_file_export_replaces_only_an_earlier_file_of_its_format() {
    let dir = tempdir("files-export-file");
    let run = dir.join("run");
    netloom_ok(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--out",
        s(&run),
    ]);
    let onnx = dir.join("m.onnx");
    let pt = dir.join("m.pt");
    for (format, out) in [("onnx", &onnx), ("torchscript", &pt)] {
        netloom_ok(&["export", s(&run), "--format", format, "--out", s(out)]);
        // Again: an earlier export of the same format is replaced.
        netloom_ok(&["export", s(&run), "--format", format, "--out", s(out)]);
    }
    let notes = dir.join("notes.onnx");
    std::fs::write(&notes, "not a model").unwrap();
    for (format, out) in [("onnx", &notes), ("torchscript", &onnx)] {
        let (code, _, err) = netloom(&["export", s(&run), "--format", format, "--out", s(out)]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("is not an earlier"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "not a model");
}

// ---------------------------------------------------------------- runs never clobber

#[test]
fn a_second_train_into_a_finished_run_is_refused_and_overwrite_keeps_the_users_files() {
    let dir = tempdir("files-train-twice");
    let run = dir.join("R");
    let mlp = example_path("two_layer_mlp.json");
    let train = |extra: &[&str]| {
        let mut args = vec!["train", &mlp, "--epochs", "1", "--out", s(&run)];
        args.extend_from_slice(extra);
        netloom(&args)
    };
    assert_eq!(train(&[]).0, 0);
    std::fs::write(run.join("notes.txt"), "mine").unwrap();
    let before = snapshot(&run);
    let (code, _, err) = train(&["--seed", "5"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "holds a run: use --resume to continue it, another --out for a new run, or --overwrite"
        ),
        "{err}"
    );
    assert_eq!(snapshot(&run), before, "the finished run changed");
    let (code, _, err) = train(&["--seed", "5", "--overwrite"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(run.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_ne!(snapshot(&run), before, "--overwrite trained anew");
    // A folder of the user's is never a run's.
    let mine = dir.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("design.json"), "my own file").unwrap();
    let (code, _, err) = netloom(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--out",
        s(&mine),
        "--overwrite",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        std::fs::read_to_string(mine.join("design.json")).unwrap(),
        "my own file"
    );
    // --overwrite never removes the files a run is made from.
    let inside = run.join("design.json");
    let (code, _, err) = netloom(&["train", s(&inside), "--out", s(&run), "--overwrite"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds one of this command's inputs"), "{err}");
    assert!(inside.is_file());
}

/// Starts a long LeNet-5 run into `run`, returning it once its lock file exists.
fn long_run(run: &Path) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_netloom"))
        .args([
            "train",
            &example_path("lenet5.json"),
            "--epochs",
            "500",
            "--out",
            s(run),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !run.join(".netloom.lock").exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "no lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[test]
#[cfg(unix)]
fn two_runs_on_one_folder_are_refused_and_a_dead_runs_lock_is_taken_over() {
    let dir = tempdir("files-two-runs");
    let run = dir.join("R");
    let mut first = long_run(&run);
    let pid = first.id();
    let (code, _, err) = netloom(&[
        "train",
        &example_path("lenet5.json"),
        "--epochs",
        "1",
        "--out",
        s(&run),
        "--overwrite",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("in use by netloom (pid {pid})")),
        "{err}"
    );
    let (code, _, err) = netloom(&["train", &example_path("lenet5.json"), "--resume", s(&run)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("pid {pid}")), "{err}");
    // Wait for a checkpoint, then kill the run as a power cut would: its lock file stays,
    // but nothing holds it.
    let started = Instant::now();
    while !run.join("state.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(run.join(".netloom.lock").exists());
    let (code, _, err) = netloom(&[
        "train",
        &example_path("lenet5.json"),
        "--resume",
        s(&run),
        "--max-steps",
        "1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "took over the run folder's lock, left by netloom pid {pid}"
        )),
        "{err}"
    );
    assert!(
        !run.join(".netloom.lock").exists(),
        "the lock goes with the run"
    );
}

#[test]
fn a_full_disk_for_a_moment_loses_no_row_and_tears_none() {
    let dir = tempdir("files-full-disk");
    let train = |run: &Path, fault: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_netloom"));
        cmd.args([
            "train",
            &example_path("two_layer_mlp.json"),
            // Compared bit for bit: the thread count fixed.
            "--deterministic",
            "--epochs",
            "2",
            "--log-every",
            "1",
            "--out",
            s(run),
        ]);
        if let Some(f) = fault {
            cmd.env("NETLOOM_FAULT_FULL_DISK", f);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = train(&dir.join("quiet"), None);
    assert_eq!(code, Some(0), "{err}");
    // Appends 5 to 14 fail part-way, as on a disk full for a moment mid-epoch.
    let (code, err) = train(&dir.join("full"), Some("5:10"));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("metrics.csv can't be written"), "{err}");
    assert!(err.contains("metrics.csv is written again"), "{err}");
    // Every row whole, none missing: the same step rows as the undisturbed run, to the byte.
    let steps = |run: &Path| -> Vec<Vec<String>> {
        common::run::metrics(run)
            .into_iter()
            .filter(|r| r[0] == "step")
            .collect()
    };
    let (quiet, full) = (steps(&dir.join("quiet")), steps(&dir.join("full")));
    assert_eq!(quiet.len(), 38);
    assert_eq!(full, quiet);
    let epochs = common::run::val_accuracies(&dir.join("full"));
    assert_eq!(epochs, common::run::val_accuracies(&dir.join("quiet")));
    // A disk that stays full past the checkpoint's wait: the run stops, the file stays whole.
    let (code, err) = train(&dir.join("stays-full"), Some("3:100000"));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("could not write metrics.csv"), "{err}");
    let text = std::fs::read_to_string(dir.join("stays-full/metrics.csv")).unwrap();
    assert!(text.ends_with('\n'));
    for line in text.lines().skip(1) {
        assert_eq!(line.split(',').count(), 17, "torn row {line:?}");
    }
}

// ---------------------------------------------------------------- runs remember their data

#[test]
fn a_run_remembers_its_data_for_resume_eval_and_export() {
    let dir = tempdir("files-run-data");
    let (a, b) = (dir.join("A"), dir.join("B"));
    idx_set(&a, 600, 200, 1);
    idx_set(&b, 300, 100, 2);
    let run = dir.join("run");
    let lenet = example_path("lenet5.json");
    let data_a = format!("idx:{}", a.display());
    let (code, _, err) = netloom(&[
        "train",
        &lenet,
        "--data",
        &data_a,
        "--epochs",
        "1",
        "--out",
        s(&run),
    ]);
    assert_eq!(code, 0, "{err}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("data.json")).unwrap()).unwrap();
    assert_eq!(record["spec"], data_a.as_str());
    assert_eq!(record["fingerprint"]["train"], 600);

    // Resume with no --data: the run's own data, said.
    let (code, _, err) = netloom(&["train", &lenet, "--resume", s(&run), "--epochs", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("resuming on the run's own data, {data_a}")),
        "{err}"
    );
    assert!(
        err.contains("(600 training, 200 validation samples)"),
        "{err}"
    );
    // eval with no --data: the same.
    let (code, out, err) = netloom(&["eval", s(&run)]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("evaluating on the run's own data"), "{err}");
    assert!(out.contains("200 validation samples"), "{out}");
    // Another set: refused, saying what differs; --new-data is the deliberate way.
    let data_b = format!("idx:{}", b.display());
    let (code, _, err) = netloom(&[
        "train",
        &lenet,
        "--resume",
        s(&run),
        "--epochs",
        "3",
        "--data",
        &data_b,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "{data_b} is not the data this run trained on ({data_a})"
        )),
        "{err}"
    );
    assert!(err.contains("300 training samples, not 600"), "{err}");
    assert_eq!(
        common::run::val_accuracies(&run).len(),
        2,
        "the run went on"
    );
    // The export of the run trains on its data.
    let py = dir.join("py");
    let (code, _, err) = netloom(&["export", s(&run), "--format", "pytorch", "--out", s(&py)]);
    assert_eq!(code, 0, "{err}");
    let train_py = std::fs::read_to_string(py.join("train.py")).unwrap();
    let resolved = std::fs::canonicalize(&a).unwrap();
    assert!(
        train_py.contains(&format!("\"path\": \"{}\"", resolved.display())),
        "train.py doesn't train on the run's data"
    );
    // Moved data is said by name when it can't be found.
    std::fs::rename(&a, dir.join("A-moved")).unwrap();
    let (code, _, err) = netloom(&["train", &lenet, "--resume", s(&run), "--epochs", "3"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "the data this run trained on ({data_a}) can't be loaded"
        )),
        "{err}"
    );
    let moved = format!("idx:{}", dir.join("A-moved").display());
    let (code, _, err) = netloom(&[
        "train",
        &lenet,
        "--resume",
        s(&run),
        "--epochs",
        "3",
        "--data",
        &moved,
    ]);
    assert_eq!(
        code, 0,
        "the same data from its new place is accepted: {err}"
    );
}

#[test]
fn a_run_stopped_before_its_first_checkpoint_is_started_over_by_resume() {
    let dir = tempdir("files-early-kill");
    let run = dir.join("run");
    let mlp = example_path("two_layer_mlp.json");
    // Killed at the first fault point (before anything was checkpointed).
    let out = Command::new(env!("CARGO_BIN_EXE_netloom"))
        .args([
            "train",
            &mlp,
            "--epochs",
            "1",
            "--data",
            "toy:spiral?samples=600",
            "--out",
            s(&run),
        ])
        .env("NETLOOM_FAULT_KILL_AT", "3")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let (code, _, err) = netloom(&["train", &mlp, "--resume", s(&run), "--epochs", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing to resume in"), "{err}");
    assert!(
        err.contains("starts over from its design and data"),
        "{err}"
    );
    assert_eq!(common::run::val_accuracies(&run).len(), 1);
}

// ---------------------------------------------------------------- files read as what they are

/// two_layer_mlp with fc1 renamed to `name`.
fn mlp_named(dir: &Path, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(example_path("two_layer_mlp.json"))
        .unwrap()
        .replace("\"fc1\"", &format!("\"{name}\""));
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn netlooms_own_weights_read_back_when_their_first_byte_is_0x80() {
    let dir = tempdir("files-0x80");
    // Names that make the safetensors header 128 bytes past a multiple of 256: "fc" and 54
    // "x" is the one that was found; search near it in case the header's layout shifts.
    let run = (40..80)
        .find_map(|k| {
            let name = format!("fc{}", "x".repeat(k));
            let design = mlp_named(&dir, &name);
            let run = dir.join(&name);
            netloom_ok(&["train", s(&design), "--max-steps", "1", "--out", s(&run)]);
            let first = std::fs::read(run.join("weights.safetensors")).unwrap()[0];
            (first == 0x80).then_some((design, run))
        })
        .expect("some name gives a header of 128 mod 256 bytes");
    let (design, run) = run;
    netloom_ok(&["train", s(&design), "--resume", s(&run), "--epochs", "1"]);
    netloom_ok(&["eval", s(&run)]);
    netloom_ok(&[
        "eval",
        s(&design),
        "--weights",
        s(&run.join("weights.safetensors")),
    ]);
    netloom_ok(&[
        "export",
        s(&run),
        "--format",
        "onnx",
        "--out",
        s(&dir.join("m.onnx")),
    ]);
    let out = netloom_ok(&["weights", s(&run.join("weights.safetensors"))]);
    assert!(out.starts_with("4 tensors in"), "{out}");
}

#[test]
#[cfg(unix)]
fn pipes_devices_and_dangling_links_are_refused_by_name_not_waited_on() {
    let dir = tempdir("files-special");
    let fifo = dir.join("pipe.json");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let run = dir.join("run");
    netloom_ok(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--out",
        s(&run),
    ]);
    let timed = |args: &[&str]| {
        let started = Instant::now();
        let r = netloom(args);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{args:?} waited"
        );
        r
    };
    let mlp = example_path("two_layer_mlp.json");
    let (y, r2) = (dir.join("y.npy"), dir.join("r2"));
    for args in [
        vec!["check", s(&fifo)],
        vec!["check", "/dev/zero"],
        vec!["weights", s(&fifo)],
        vec!["eval", &mlp, "--weights", s(&fifo)],
        vec![
            "forward",
            s(&run),
            "--input",
            "/dev/zero",
            "--output",
            s(&y),
        ],
        vec!["forward", s(&run), "--input", s(&fifo), "--output", s(&y)],
        vec!["train", &mlp, "--init-weights", s(&fifo), "--out", s(&r2)],
    ] {
        let (code, _, err) = timed(&args);
        assert_ne!(code, 0, "{args:?}");
        assert!(
            err.contains("named pipe (FIFO)") || err.contains("character device"),
            "{args:?}: {err}"
        );
    }
    // A CIFAR-10 batch that is a link to nothing is named, not skipped.
    let cifar = dir.join("cifar");
    common::run::tiny_cifar(&cifar, 20, 10);
    std::os::unix::fs::symlink(dir.join("gone.bin"), cifar.join("data_batch_2.bin")).unwrap();
    let vgg = example_path("vgg_small.json");
    let data = format!("cifar10:{}", cifar.display());
    let r3 = dir.join("r3");
    let (code, _, err) = timed(&[
        "train",
        &vgg,
        "--data",
        &data,
        "--max-steps",
        "1",
        "--out",
        s(&r3),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("data_batch_2.bin"), "{err}");
    assert!(err.contains("symbolic link that leads nowhere"), "{err}");
}

#[test]
fn state_json_edited_by_hand_is_told_not_trusted() {
    let dir = tempdir("files-state");
    let run = dir.join("run");
    let mlp = example_path("two_layer_mlp.json");
    netloom_ok(&["train", &mlp, "--epochs", "1", "--out", s(&run)]);
    for state in std::iter::once(run.join("state.json")).chain(
        std::fs::read_dir(run.join("checkpoint"))
            .unwrap()
            .flatten()
            .map(|e| e.path().join("state.json")),
    ) {
        let text = std::fs::read_to_string(&state).unwrap();
        let edited = text.replace(
            "\"epochs_done\": 1",
            "\"epochs_done\": 18446744073709551615",
        );
        assert_ne!(edited, text);
        std::fs::write(&state, edited).unwrap();
    }
    let (code, _, err) = netloom(&["train", &mlp, "--resume", s(&run), "--epochs", "2"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("doesn't match its checksum"), "{err}");
    assert!(!err.contains("18446744073709551615 epochs"), "{err}");
}

#[test]
fn an_unknown_command_is_named_with_the_closest_one() {
    for args in [vec!["trian"], vec!["trian", "x.json"]] {
        let (code, _, err) = netloom(&args);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("unknown command 'trian' (did you mean 'train'?)"),
            "{err}"
        );
    }
}

#[test]
#[cfg(target_os = "linux")]
fn torchscript_on_a_full_disk_or_a_read_only_folder_is_a_plain_error() {
    let dir = tempdir("files-torchscript-disk");
    let run = dir.join("run");
    netloom_ok(&[
        "train",
        &example_path("lenet5.json"),
        "--max-steps",
        "1",
        "--out",
        s(&run),
    ]);
    // A file-size limit stands in for a full disk: the archive can't be written whole.
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let script = format!(
        "ulimit -f 64; trap '' XFSZ; exec '{}' export '{}' --weights '{}' --format torchscript --out '{}'",
        env!("CARGO_BIN_EXE_netloom"),
        run.display(),
        run.join("weights.safetensors").display(),
        out.join("m.pt").display()
    );
    let result = Command::new("bash").args(["-c", &script]).output().unwrap();
    let err = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{err}");
    assert!(err.contains("file-size limit"), "{err}");
    assert!(
        !err.contains("Exception raised from"),
        "a C++ backtrace: {err}"
    );
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // A read-only folder (root writes anywhere: skipped as root).
    if !std::env::var("USER").is_ok_and(|u| u == "root")
        && std::fs::metadata("/proc/self").is_ok()
        && !Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"))
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
        let (code, _, err) = netloom(&[
            "export",
            s(&run),
            "--weights",
            s(&run.join("weights.safetensors")),
            "--format",
            "torchscript",
            "--out",
            s(&out.join("m.pt")),
        ]);
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(code, 2, "{err}");
        assert!(!err.contains("Exception raised from"), "{err}");
    }
}

#[test]
fn data_that_changed_in_its_place_is_said_and_named() {
    let dir = tempdir("files-data-changed");
    let a = dir.join("A");
    idx_set(&a, 300, 100, 1);
    let run = dir.join("run");
    let lenet = example_path("lenet5.json");
    let spec = format!("idx:{}", a.display());
    netloom_ok(&[
        "train",
        &lenet,
        "--data",
        &spec,
        "--epochs",
        "1",
        "--out",
        s(&run),
    ]);
    // The same folder, other images and labels.
    idx_set(&a, 300, 100, 9);
    let (code, _, err) = netloom(&["train", &lenet, "--resume", s(&run), "--epochs", "2"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "the data at {spec} has changed since this run trained on it"
        )),
        "{err}"
    );
    assert!(err.contains("other samples or labels"), "{err}");
    let (code, _, err) = netloom(&[
        "train",
        &lenet,
        "--resume",
        s(&run),
        "--epochs",
        "2",
        "--data",
        &spec,
        "--new-data",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("carrying on on new data"), "{err}");
}

#[test]
fn a_single_output_file_replaces_only_its_own_kind() {
    let dir = tempdir("files-single-outputs");
    // template -o over an existing design: it may be one someone edited.
    let mine = dir.join("mine.json");
    std::fs::write(&mine, "my edited design").unwrap();
    let (code, _, err) = netloom(&["template", "lenet", "-o", s(&mine)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("add --overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my edited design");
    netloom_ok(&["template", "lenet", "-o", s(&mine), "--overwrite"]);
    // forward --output over a file that is not an .npy.
    let run = dir.join("run");
    netloom_ok(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--out",
        s(&run),
    ]);
    let x = dir.join("x.npy");
    netloom::engine::npy::write(
        &x,
        &netloom::engine::npy::NpyArray {
            shape: vec![1, 2],
            data: vec![0.5, -0.5],
        },
    )
    .unwrap();
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "mine").unwrap();
    let (code, _, err) = netloom(&["forward", s(&run), "--input", s(&x), "--output", s(&notes)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a .npy file"), "{err}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine");
    let y = dir.join("y.npy");
    for _ in 0..2 {
        netloom_ok(&["forward", s(&run), "--input", s(&x), "--output", s(&y)]);
    }
}
