//! Bad input and hard stops, each as a user met it, run through the real binary: what netloom
//! must say instead of panicking, aborting or failing inside libtorch. (Each exit 101 was a
//! Rust panic; each test also asserts the exit code the README promises.)
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;
use common::{run, ui};
// The kill sweeps: a checkpoint's and a design save's every file boundary.
#[path = "failures/kills.rs"]
mod kills;
// Every whole-number field of LeNet-5 mutated: check and a training step, no panics.
#[path = "failures/mutations.rs"]
mod mutations;
// Two windows, edits mid-run, closing mid-run: in the app, through egui_kittest.
#[path = "failures/app.rs"]
mod app;

use run::{example_path, netloom, tempdir};
use std::path::{Path, PathBuf};

/// lenet5.json with `edit` applied to its JSON, written into `dir`.
fn edited(dir: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let text = std::fs::read_to_string(example_path(name)).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut json);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    path
}

#[test]
fn check_on_a_65536_character_node_name_reports_it_instead_of_panicking() {
    let dir = tempdir("failures-long-name");
    let path = edited(&dir, "lenet5.json", |j| {
        j["nodes"][1]["name"] = serde_json::Value::String("c".repeat(65_536));
    });
    let (code, out, err) = netloom(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 1, "an invalid design, not a panic:\n{err}");
    assert!(
        out.contains("a name may have at most 128 characters, this one has 65536"),
        "{out}"
    );
    let (code, _, err) = netloom(&["check", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn a_design_starting_with_a_utf8_byte_order_mark_opens() {
    let dir = tempdir("failures-bom");
    let text = std::fs::read_to_string(example_path("lenet5.json")).unwrap();
    let path = dir.join("bom.json");
    std::fs::write(&path, format!("\u{feff}{text}")).unwrap();
    let (code, out, err) = netloom(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no problems"), "{out}");
}

#[test]
fn a_toy_set_of_four_billion_samples_is_refused_before_allocating() {
    let dir = tempdir("failures-toy");
    let (code, _, err) = netloom(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--data",
        "toy:moons?samples=4000000000",
        "--epochs",
        "1",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "bad input, not an abort (134):\n{err}");
    assert!(
        err.contains("at most 10000000 samples, not 4000000000"),
        "{err}"
    );
}

#[test]
fn a_design_with_everything_frozen_says_there_is_nothing_to_train() {
    let dir = tempdir("failures-frozen");
    let path = edited(&dir, "two_layer_mlp.json", |j| {
        for node in j["nodes"].as_array_mut().unwrap() {
            node["frozen"] = serde_json::Value::Bool(true);
        }
    });
    let (code, _, err) = netloom(&[
        "train",
        path.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing to train: all "), "{err}");
    assert!(err.contains("parameters are frozen"), "{err}");
    assert!(
        !err.contains("does not require grad"),
        "libtorch's words leaked:\n{err}"
    );
}

#[test]
fn unreadable_files_exit_2_from_forward_and_train_init_weights() {
    let dir = tempdir("failures-exit-2");
    let missing = dir.join("missing.safetensors");
    let (code, _, err) = netloom(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--init-weights",
        missing.to_str().unwrap(),
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.safetensors"), "{err}");

    let (code, _, err) = netloom(&[
        "forward",
        &example_path("two_layer_mlp.json"),
        "--weights",
        missing.to_str().unwrap(),
        "--input",
        dir.join("x.npy").to_str().unwrap(),
        "--output",
        dir.join("y.npy").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");

    // A .npy whose shape's product overflows: once a panic in forward.
    let weights = dir.join("w.safetensors");
    let (code, _, err) = netloom(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--out",
        dir.join("trained").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    std::fs::copy(dir.join("trained/weights.safetensors"), &weights).unwrap();
    let mut header =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }"
            .to_owned();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend([0u8; 8]);
    let x = dir.join("huge.npy");
    std::fs::write(&x, bytes).unwrap();
    let (code, _, err) = netloom(&[
        "forward",
        &example_path("two_layer_mlp.json"),
        "--weights",
        weights.to_str().unwrap(),
        "--input",
        x.to_str().unwrap(),
        "--output",
        dir.join("y.npy").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("larger than any file can hold"), "{err}");
}

#[test]
fn a_concat_too_wide_for_the_classes_is_told_to_add_a_linear_not_set_out_features() {
    let dir = tempdir("failures-concat");
    // input(2) → fc1(3) and fc2(4) → concat(7) → output, on toy:spiral's 3 classes.
    let path = edited(&dir, "two_layer_mlp.json", |j| {
        j["nodes"][2] = serde_json::json!({
            "id": 3, "name": "fc0", "op": {"type": "linear", "out_features": 4, "bias": true}
        });
        j["nodes"][3] = serde_json::json!({
            "id": 4, "name": "cat", "op": {"type": "concat"}
        });
        j["edges"] = serde_json::json!([
            {"from": 1, "to": 2, "port": 0}, {"from": 1, "to": 3, "port": 0},
            {"from": 2, "to": 4, "port": 0}, {"from": 3, "to": 4, "port": 1},
            {"from": 4, "to": 5, "port": 0}
        ]);
        j["nodes"][1]["op"]["out_features"] = serde_json::json!(3);
    });
    let (code, _, err) = netloom(&[
        "train",
        path.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("node \"cat\" gives 7 outputs"), "{err}");
    assert!(
        err.contains("add a Linear with 3 outputs after \"cat\""),
        "{err}"
    );
    assert!(
        !err.contains("out_features"),
        "Concat has no out_features:\n{err}"
    );
}

/// A folder of 28×28 grey PNGs in two classes, with `bad` files added to class `a`.
fn image_folder(dir: &Path, bad: &[(&str, Vec<u8>)]) -> PathBuf {
    let root = dir.join("images");
    for (class, shade) in [("a", 40u8), ("b", 200u8)] {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..12u8 {
            let img = image::GrayImage::from_fn(28, 28, |x, y| {
                image::Luma([shade.wrapping_add((x as u8 ^ y as u8) & 7).wrapping_add(i)])
            });
            img.save(root.join(class).join(format!("{i}.png"))).unwrap();
        }
    }
    for (name, bytes) in bad {
        std::fs::write(root.join("a").join(name), bytes).unwrap();
    }
    root
}

#[test]
fn skipped_images_are_reported_in_the_cli_and_the_run_folder() {
    let dir = tempdir("failures-skipped");
    // Too wide to decode (limits), garbage, and empty.
    let mut wide = Vec::new();
    image::GrayImage::new(9000, 1)
        .write_to(
            &mut std::io::Cursor::new(&mut wide),
            image::ImageFormat::Png,
        )
        .unwrap();
    let images = image_folder(
        &dir,
        &[
            ("wide.png", wide),
            ("garbage.png", b"not a png at all".to_vec()),
            ("empty.png", Vec::new()),
        ],
    );
    let design = lenet_for_two_classes(&dir);
    let run = dir.join("run");
    let (code, _, err) = netloom(&[
        "train",
        design.to_str().unwrap(),
        "--data",
        images.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("3 files were skipped: "), "{err}");
    let listed = std::fs::read_to_string(run.join("skipped.txt")).unwrap();
    for name in ["wide.png", "garbage.png", "empty.png"] {
        assert!(listed.contains(name), "{name} in:\n{listed}");
    }
    assert!(
        listed.contains("larger than netloom decodes (8192×8192 pixels at most)"),
        "{listed}"
    );
}

#[test]
fn a_failed_resume_with_new_settings_leaves_the_runs_settings_as_they_were() {
    let dir = tempdir("failures-resume-lr");
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    let design = example_path("two_layer_mlp.json");
    let (code, _, err) = netloom(&["train", &design, "--epochs", "1", "--out", run_s]);
    assert_eq!(code, 0, "{err}");
    let before = std::fs::read_to_string(run.join("design.json")).unwrap();
    let (code, _, err) = netloom(&[
        "train", &design, "--resume", run_s, "--lr", "1e6", "--epochs", "3",
    ]);
    assert_eq!(code, 1, "a learning rate of 10^6 diverges:\n{err}");
    assert!(err.contains("diverged"), "{err}");
    let after = std::fs::read_to_string(run.join("design.json")).unwrap();
    assert_eq!(
        before, after,
        "the failed attempt changed the run's design.json"
    );
    // Another network is refused before anything is touched (the engine checks it, so the
    // app's resume and a sweep's are checked alike).
    let metrics = std::fs::read(run.join("metrics.csv")).unwrap();
    let other = dir.join("wider.json");
    std::fs::write(
        &other,
        std::fs::read_to_string(&design).unwrap().replacen(
            "\"out_features\": 100",
            "\"out_features\": 101",
            1,
        ),
    )
    .unwrap();
    let (code, err) = resume_with(other.to_str().unwrap(), &run, &["--epochs", "2"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not the design trained in this run folder")
            && err.contains("resume with the same design"),
        "{err}"
    );
    assert_eq!(std::fs::read(run.join("metrics.csv")).unwrap(), metrics);
    // So a plain resume carries on with the run's own settings, and succeeds.
    let (code, _, err) = netloom(&["train", &design, "--resume", run_s, "--epochs", "2"]);
    assert_eq!(code, 0, "{err}");
}

/// Starts `netloom train` on LeNet-5 for many epochs, waits until it has logged steps, sends
/// `signal`, and returns (exit code, stderr, run folder).
#[cfg(unix)]
fn interrupt_training(name: &str, signal: &str) -> (Option<i32>, String, PathBuf) {
    use std::process::{Command, Stdio};
    let dir = tempdir(name);
    let run = dir.join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_netloom"))
        .args([
            "train",
            &example_path("lenet5.json"),
            "--epochs",
            "50",
            "--out",
        ])
        .arg(&run)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(run.join("metrics.csv")).is_ok_and(|m| m.contains("\nstep,")) {
        assert!(started.elapsed().as_secs() < 120, "training never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        run,
    )
}

#[test]
#[cfg(unix)]
fn ctrl_c_finishes_the_batch_writes_a_checkpoint_and_says_how_to_resume() {
    let (code, err, run) = interrupt_training("failures-sigint", "-INT");
    assert_eq!(code, Some(130), "128 + SIGINT, after a clean stop:\n{err}");
    assert!(err.contains("Ctrl+C: stopping after this batch"), "{err}");
    assert!(err.contains("Resume with:"), "{err}");
    assert!(
        err.contains(&format!("--resume {}", run.display())),
        "{err}"
    );
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("state.json")).unwrap()).unwrap();
    assert!(
        state["step"].as_u64().unwrap() > 0,
        "the checkpoint holds the steps done: {state}"
    );
    // The run carries on from it.
    let (code, err) = resume_with(&example_path("lenet5.json"), &run, &["--epochs", "1"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
#[cfg(unix)]
fn sigterm_stops_the_same_way_with_its_own_exit_code() {
    let (code, err, run) = interrupt_training("failures-sigterm", "-TERM");
    assert_eq!(code, Some(143), "128 + SIGTERM:\n{err}");
    assert!(err.contains("SIGTERM: stopping after this batch"), "{err}");
    assert!(run.join("state.json").is_file());
}

#[test]
fn a_design_too_big_for_any_machine_is_a_problem_check_names() {
    let dir = tempdir("failures-huge-linear");
    // fc1 with 10^12 outputs: 2 × 10^12 weights, once "no problems" and an allocator crash.
    let path = edited(&dir, "two_layer_mlp.json", |j| {
        j["nodes"][1]["op"]["out_features"] = serde_json::json!(1_000_000_000_000u64);
    });
    let (code, out, err) = netloom(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("fc1: training this design needs about"),
        "{out}"
    );
    assert!(out.contains("lower its out_features"), "{out}");
    let (code, _, err) = netloom(&[
        "train",
        path.to_str().unwrap(),
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "refused before any allocation:\n{err}");
    assert!(err.contains("training this design needs about"), "{err}");
}

/// A torch.save-style zip holding one float32 tensor `name` of `numel` values, whose storage
/// record is `numel * 4` zero bytes, deflated (a "bomb": a few hundred kB that inflate to
/// hundreds of MB).
fn pth_bomb(path: &Path, name: &str, numel: u32) {
    use std::io::Write;
    let mut p = b"\x80\x02ccollections\nOrderedDict\n)R".to_vec();
    let text = |p: &mut Vec<u8>, s: &str| {
        p.push(b'X');
        p.extend((s.len() as u32).to_le_bytes());
        p.extend(s.as_bytes());
    };
    let int = |p: &mut Vec<u8>, v: u32| {
        p.push(b'J');
        p.extend(v.to_le_bytes());
    };
    text(&mut p, name);
    p.extend(b"ctorch._utils\n_rebuild_tensor_v2\n(");
    p.push(b'(');
    text(&mut p, "storage");
    p.extend(b"ctorch\nFloatStorage\n");
    text(&mut p, "0");
    text(&mut p, "cpu");
    int(&mut p, numel);
    p.extend(b"tQ"); // the storage, by persistent id
    int(&mut p, 0); // offset
    int(&mut p, numel);
    p.push(0x85); // size (numel,)
    int(&mut p, 1);
    p.push(0x85); // stride (1,)
    p.push(0x89); // requires_grad False
    p.extend(b"ccollections\nOrderedDict\n)Rt"); // backward hooks; end of the arguments
    p.extend(b"Rs."); // rebuild the tensor, set it in the dict, stop
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::FileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("archive/data.pkl", options).unwrap();
    zip.write_all(&p).unwrap();
    zip.start_file("archive/data/0", options).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..((u64::from(numel) * 4) >> 20) {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn pretrained_weights_read_only_what_the_design_needs_from_a_deflate_bomb() {
    let dir = tempdir("failures-pth-bomb");
    let bomb = dir.join("bomb.pth");
    // 128 MB of zeros under a name LeNet-5 doesn't have, and nothing it does have.
    pth_bomb(&bomb, "unused.weight", 32 << 20);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 4 << 20);
    let (code, out, err) = netloom(&["weights", bomb.to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "the listing streams it through its CRC check: {err}"
    );
    assert!(out.contains("unused.weight [33554432]"), "{out}");
    // Fine-tuning from it reads no storage the design doesn't name: it is said at once.
    let started = std::time::Instant::now();
    let (code, _, err) = netloom(&[
        "train",
        &example_path("lenet5.json"),
        "--init-weights",
        bomb.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("none of its weights fit this design"), "{err}");
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}

#[test]
#[cfg(target_os = "linux")]
fn a_full_disk_mid_checkpoint_fails_cleanly_and_leaves_no_temporary_files() {
    let dir = tempdir("failures-full-disk");
    let run = dir.join("run");
    // A file-size limit of 100 kB stands in for a full disk: LeNet-5's weights (250 kB) can't
    // be written, so the first checkpoint fails (EFBIG, with SIGXFSZ ignored, as ENOSPC would).
    let script = format!(
        "ulimit -f 100; trap '' XFSZ; exec '{}' train '{}' --epochs 1 --out '{}'",
        env!("CARGO_BIN_EXE_netloom"),
        example_path("lenet5.json"),
        run.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("could not") || err.contains("writing"),
        "{err}"
    );
    let left: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !left.iter().any(|f| f.ends_with(".tmp")),
        "temporary files left: {left:?}"
    );
    assert!(
        !left.contains(&"state.json".to_owned()),
        "no state without its weights: {left:?}"
    );
    // The half-written checkpoint folder is gone too.
    let checkpoints = std::fs::read_dir(run.join("checkpoint")).map_or(0, |d| d.count());
    assert_eq!(checkpoints, 0, "the failed checkpoint's folder was left");
}

/// Trains two_layer_mlp for an epoch into `run` with Adam (an optimizer with state).
fn one_epoch(run: &Path) {
    let (code, _, err) = netloom(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "1",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
}

/// `netloom train DESIGN --resume RUN EXTRA…`: (exit code, stderr).
fn resume_with(design: &str, run: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["train", design, "--resume", run.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, _, err) = netloom(&args);
    (code, err)
}

fn resume(run: &Path) -> String {
    let (code, err) = resume_with(&example_path("two_layer_mlp.json"), run, &["--epochs", "2"]);
    assert_eq!(code, 0, "{err}");
    let metrics = std::fs::read(run.join("metrics.csv")).unwrap();
    assert!(!metrics.contains(&0), "NUL bytes in metrics.csv");
    assert!(metrics.starts_with(b"kind,epoch,step,"));
    err
}

#[test]
fn a_resumed_runs_missing_or_truncated_metrics_are_repaired_and_said() {
    let dir = tempdir("failures-metrics");
    let run = dir.join("run");
    one_epoch(&run);
    let full = std::fs::read(run.join("metrics.csv")).unwrap();
    std::fs::remove_file(run.join("metrics.csv")).unwrap();
    let err = resume(&run);
    assert!(err.contains("metrics.csv was missing"), "{err}");

    let run = dir.join("run2");
    one_epoch(&run);
    std::fs::write(run.join("metrics.csv"), &full[..full.len() / 2]).unwrap();
    let err = resume(&run);
    assert!(
        err.contains(&format!("metrics.csv holds {} of the", full.len() / 2)),
        "{err}"
    );
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(
        metrics
            .lines()
            .filter(|l| l.starts_with("epoch,2,"))
            .count(),
        1,
        "{metrics}"
    );
}

/// Turns a run folder into one from before checkpoint folders (its files at the top).
fn as_legacy_run(run: &Path) {
    let checkpoint = run.join("checkpoint/000001");
    std::fs::rename(
        checkpoint.join("optimizer.safetensors"),
        run.join("optimizer.safetensors"),
    )
    .unwrap();
    std::fs::remove_dir_all(run.join("checkpoint")).unwrap();
}

#[test]
fn a_resumed_runs_missing_or_foreign_optimizer_state_is_said() {
    let dir = tempdir("failures-optimizer");
    // Another design's optimizer state (LeNet-5's, with Adam).
    let other = dir.join("lenet");
    let (code, _, err) = netloom(&[
        "train",
        &example_path("lenet5.json"),
        "--optimizer",
        "adam",
        "--epochs",
        "1",
        "--out",
        other.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let foreign = other.join("checkpoint/000001/optimizer.safetensors");

    // In a checkpoint folder, the checksums catch it: the checkpoint is passed over, and with
    // no earlier one the resume is refused, the run folder untouched.
    let run = dir.join("run");
    one_epoch(&run);
    std::fs::copy(
        &foreign,
        run.join("checkpoint/000001/optimizer.safetensors"),
    )
    .unwrap();
    let weights = std::fs::read(run.join("weights.safetensors")).unwrap();
    let (code, err) = resume_with(&example_path("two_layer_mlp.json"), &run, &[]);
    assert_eq!(code, 2, "a damaged file is exit 2: {err}");
    assert!(
        err.contains("no checkpoint here is complete")
            && err.contains("checkpoint 1 is incomplete (optimizer.safetensors is"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(run.join("weights.safetensors")).unwrap(),
        weights
    );

    // A run from before checkpoint folders has no checksums: a missing or foreign file is
    // taken as no state, and said.
    let run = dir.join("legacy");
    one_epoch(&run);
    as_legacy_run(&run);
    std::fs::remove_file(run.join("optimizer.safetensors")).unwrap();
    let err = resume(&run);
    assert!(err.contains("optimizer.safetensors is missing"), "{err}");
    let run = dir.join("legacy2");
    one_epoch(&run);
    as_legacy_run(&run);
    std::fs::copy(&foreign, run.join("optimizer.safetensors")).unwrap();
    let err = resume(&run);
    assert!(
        err.contains("optimizer.safetensors doesn't belong to this run"),
        "{err}"
    );
}

#[test]
fn a_damaged_newest_checkpoint_falls_back_to_the_one_before_and_says_so() {
    let dir = tempdir("failures-damaged-checkpoint");
    let run = dir.join("run");
    one_epoch(&run);
    resume(&run); // a second epoch: checkpoints 1 and 2
    let newest = run.join("checkpoint/000002/weights.safetensors");
    let mut bytes = std::fs::read(&newest).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40; // one flipped bit in the last weight
    std::fs::write(&newest, bytes).unwrap();
    let (code, err) = resume_with(
        &example_path("two_layer_mlp.json"),
        &run,
        &["--epochs", "3"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "checkpoint 2 is incomplete (weights.safetensors doesn't match its checksum): resumed from checkpoint 1 instead (epoch 1,"
        ),
        "{err}"
    );
}

#[test]
#[cfg(target_os = "linux")]
fn a_design_too_big_for_this_machine_is_refused_before_allocating() {
    let dir = tempdir("failures-too-big-here");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    // fc1 (2 → N), ReLU, fc2 (N → 3) at batch size 1 needs about 96·N bytes to train: twice
    // this machine's memory, and well under the 1 TiB no machine has (so `check` accepts it).
    let n = total_kb * 1024 * 2 / 96;
    let path = edited(&dir, "two_layer_mlp.json", |j| {
        j["nodes"][1]["op"]["out_features"] = serde_json::json!(n);
        j["training"]["batch_size"] = serde_json::json!(1);
    });
    let (code, out, err) = netloom(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = netloom(&[
        "train",
        path.to_str().unwrap(),
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("more than this machine's"), "{err}");
    assert!(err.contains("\"fc"), "names the node: {err}");
    assert!(
        !dir.join("run").exists(),
        "refused before the run folder is made"
    );
}

/// LeNet-5 for the two classes of [`image_folder`].
fn lenet_for_two_classes(dir: &Path) -> PathBuf {
    edited(dir, "lenet5.json", |j| {
        for node in j["nodes"].as_array_mut().unwrap() {
            if node["name"] == "fc3" {
                node["op"]["out_features"] = serde_json::json!(2);
            }
        }
    })
}

/// metrics.csv's epoch rows so far.
fn epoch_rows(run: &Path) -> usize {
    std::fs::read_to_string(run.join("metrics.csv"))
        .map_or(0, |m| m.lines().filter(|l| l.starts_with("epoch,")).count())
}

#[test]
#[cfg(unix)]
fn the_dataset_folder_deleted_mid_training_neither_stops_the_run_nor_loses_its_checkpoint() {
    use std::process::{Command, Stdio};
    let dir = tempdir("failures-data-deleted");
    let images = image_folder(&dir, &[]);
    let design = lenet_for_two_classes(&dir);
    let run = dir.join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_netloom"))
        .args(["train", design.to_str().unwrap(), "--epochs", "5000"])
        .arg("--data")
        .arg(&images)
        .arg("--out")
        .arg(&run)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let wait_for = |epochs: usize| {
        let started = std::time::Instant::now();
        while epoch_rows(&run) < epochs {
            assert!(started.elapsed().as_secs() < 120, "no epoch {epochs}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    wait_for(1);
    // The images are read into memory when the run starts: deleting them changes nothing.
    std::fs::remove_dir_all(&images).unwrap();
    let deleted_at = epoch_rows(&run);
    wait_for(deleted_at + 2);
    assert!(child.try_wait().unwrap().is_none(), "the run ended early");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let state = std::fs::read(run.join("state.json")).unwrap();
    // Resuming needs the data again: refused with what is missing, and the run is untouched.
    let (code, err) = resume_with(
        design.to_str().unwrap(),
        &run,
        &["--data", images.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(images.to_str().unwrap()), "{err}");
    assert_eq!(std::fs::read(run.join("state.json")).unwrap(), state);
    assert!(run.join("weights.safetensors").is_file());
}

/// The peak memory (RSS, in MB) of `netloom ARGS` and its exit code, measured by Python's
/// `getrusage` of the child.
#[cfg(target_os = "linux")]
fn peak_mb(args: &[&str]) -> (u64, i32) {
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, r.returncode)";
    let out = std::process::Command::new("python3")
        .args(["-c", script, env!("CARGO_BIN_EXE_netloom")])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    (
        it.next().unwrap().parse().unwrap(),
        it.next().unwrap().parse().unwrap(),
    )
}

#[test]
#[cfg(target_os = "linux")]
fn a_bomb_under_a_name_the_design_has_is_never_inflated_by_any_command() {
    let dir = tempdir("failures-named-bomb");
    let bomb = dir.join("bomb.pth");
    // 1 GB of zeros under LeNet-5's fc1.weight (whose shape is [120, 400]): about 1 MB deflated.
    pth_bomb(&bomb, "fc1.weight", 256 << 20);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 8 << 20);
    let lenet = example_path("lenet5.json");
    let x = dir.join("x.npy");
    netloom::engine::npy::write(
        &x,
        &netloom::engine::npy::NpyArray {
            shape: vec![1, 1, 28, 28],
            data: vec![0.0; 784],
        },
    )
    .unwrap();
    let b = bomb.to_str().unwrap();
    let (run, y, onnx) = (dir.join("run"), dir.join("y.npy"), dir.join("m.onnx"));
    let (baseline, code) = peak_mb(&["check", &lenet]);
    assert_eq!(code, 0);
    for args in [
        vec![
            "train",
            &lenet,
            "--init-weights",
            b,
            "--out",
            run.to_str().unwrap(),
        ],
        vec!["eval", &lenet, "--weights", b],
        vec![
            "forward",
            &lenet,
            "--weights",
            b,
            "--input",
            x.to_str().unwrap(),
            "--output",
            y.to_str().unwrap(),
        ],
        vec![
            "export",
            &lenet,
            "--weights",
            b,
            "--format",
            "onnx",
            "--out",
            onnx.to_str().unwrap(),
        ],
    ] {
        let (peak, code) = peak_mb(&args);
        assert_ne!(code, 0, "{args:?} accepted a tensor of the wrong shape");
        assert!(
            peak < baseline + 300,
            "{args:?} peaked at {peak} MB (check: {baseline} MB): the bomb was inflated"
        );
    }
}
