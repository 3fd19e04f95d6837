//! `netloom sweep` end to end on LeNet-5 and Fashion-MNIST: grids and seeded random sweeps
//! into run folders that `eval` takes, the median rule stopping a hopeless trial, an invalid
//! trial skipped, and a killed sweep resumed to the table an uninterrupted one writes.
#![allow(clippy::unwrap_used)]

mod common;

use common::run::{RemovedOnPass, netloom, netloom_ok, tempdir};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A small slice of the built-in set: a trial's epoch takes a fraction of a second.
const DATA: &str = "builtin:fashion-mnist?limit=1000";

/// LeNet-5 with a dropout (`drop1`) between fc1's activation and fc2, trained with Adam,
/// written into `dir`.
fn lenet_with_dropout(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::run::example_path("lenet5.json")).unwrap();
    let mut d: Value = serde_json::from_str(&text).unwrap();
    let (relu3, fc2) = {
        let id = |name: &str| {
            d["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["name"] == name)
                .unwrap()["id"]
                .clone()
        };
        (id("relu3"), id("fc2"))
    };
    d["nodes"].as_array_mut().unwrap().push(json!({
        "id": 100, "name": "drop1", "op": {"type": "dropout", "p": 0.5}, "pos": [0.0, 0.0]
    }));
    let edges = d["edges"].as_array_mut().unwrap();
    let wire = edges
        .iter_mut()
        .find(|e| e["from"] == relu3 && e["to"] == fc2)
        .unwrap();
    wire["to"] = json!(100);
    edges.push(json!({"from": 100, "to": fc2}));
    // Adam: plain SGD can sit at chance for the first epochs on a thousand images.
    d["training"]["optimizer"] = json!("adam");
    d["training"]["learning_rate"] = json!(0.002);
    let path = dir.join("lenet5_dropout.json");
    std::fs::write(&path, serde_json::to_string_pretty(&d).unwrap()).unwrap();
    path
}

/// Writes a sweep file beside the design and returns its path.
fn sweep_file(dir: &Path, name: &str, mut sweep: Value) -> String {
    sweep["format"] = json!("netloom-sweep");
    sweep["design"] = json!("lenet5_dropout.json");
    sweep["data"] = json!(DATA);
    let path = dir.join(name);
    std::fs::write(&path, sweep.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// trials.csv as rows of cells (csv-quoted cells kept whole).
fn table(out: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(out.join("trials.csv")).unwrap();
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The table without its `seconds` column: what two runs of one sweep must agree on.
fn without_times(out: &Path) -> String {
    let text = std::fs::read_to_string(out.join("trials.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let at = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "seconds")
        .unwrap();
    r.records()
        .map(|row| {
            let row = row.unwrap();
            let cells: Vec<&str> = row
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, c)| c)
                .collect();
            cells.join("|")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `netloom sweep SWEEP --out OUT ARGS` (it must succeed) and returns trials.csv's rows.
fn sweep_into(sweep: &str, out: &Path, args: &[&str]) -> Vec<Vec<String>> {
    let mut all = vec!["sweep", sweep, "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    netloom_ok(&all);
    table(out)
}

/// `netloom eval` of the trial in `row` reads its best weights and finds the accuracy the
/// table says.
fn eval_agrees(out: &Path, row: &[String]) {
    let best: f64 = row[column(out, "best_val_acc")].parse().unwrap();
    let said = netloom_ok(&["eval", out.join(&row[0]).to_str().unwrap()]);
    let line = said.lines().find(|l| l.starts_with("accuracy")).unwrap();
    let pct: f64 = line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!((pct / 100.0 - best).abs() < 1e-9, "{line} vs {best}");
}

fn column(out: &Path, name: &str) -> usize {
    let text = std::fs::read_to_string(out.join("trials.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.headers().unwrap().iter().position(|h| h == name).unwrap()
}

#[test]
fn a_grid_sweep_trains_every_trial_into_a_run_folder_that_eval_accepts() {
    let dir = tempdir("sweep-grid");
    let _clean = RemovedOnPass(dir.clone());
    lenet_with_dropout(&dir);
    let sweep = sweep_file(
        &dir,
        "grid.json",
        json!({"epochs": 2, "parameters": {
            "training.learning_rate": {"values": [0.001, 0.003]},
            "fc1.out_features": {"values": [32, 64]},
            "drop1.p": {"values": [0.0, 0.3]}}}),
    );
    let out = dir.join("grid");
    let rows = sweep_into(&sweep, &out, &["--parallel", "2"]);
    assert_eq!(rows.len(), 8, "2 × 2 × 2 trials");
    let (status, best, params) = (1, column(&out, "best_val_acc"), column(&out, "params"));
    let fc1 = column(&out, "fc1.out_features");
    for row in &rows {
        assert_eq!(row[status], "done", "{row:?}");
        let acc: f64 = row[best].parse().unwrap();
        assert!(
            acc > 0.3,
            "every setting learns something in 2 epochs: {row:?}"
        );
    }
    // fc1's width changes the parameter count: 400·w + w + (w·84 + 84) + … differ by 485 a unit.
    let count = |w: &str| -> u64 {
        rows.iter().find(|r| r[fc1] == w).unwrap()[params]
            .parse()
            .unwrap()
    };
    assert_eq!(count("64") - count("32"), 32 * (400 + 1 + 84));
    // Each trial is an ordinary run: eval reads its best weights and agrees with the table.
    for row in [&rows[0], &rows[7]] {
        eval_agrees(&out, row);
    }
    // A second sweep into the same folder is refused, the first one's files untouched.
    let before = std::fs::read(out.join("trials.csv")).unwrap();
    let (code, _, err) = netloom(&["sweep", &sweep, "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert_eq!(std::fs::read(out.join("trials.csv")).unwrap(), before);
}

#[test]
fn a_seeded_random_sweep_is_reproducible() {
    let dir = tempdir("sweep-random");
    let _clean = RemovedOnPass(dir.clone());
    lenet_with_dropout(&dir);
    let sweep = sweep_file(
        &dir,
        "random.json",
        json!({"method": "random", "max_trials": 6, "seed": 7, "epochs": 1, "parameters": {
            "training.learning_rate": {"log_uniform": [1e-4, 1e-2]},
            "fc1.out_features": {"int": [16, 128]},
            "drop1.p": {"uniform": [0.0, 0.5]}}}),
    );
    let (a, b) = (dir.join("a"), dir.join("b"));
    for out in [&a, &b] {
        sweep_into(&sweep, out, &["--parallel", "1", "--threads", "1"]);
    }
    assert_eq!(
        without_times(&a),
        without_times(&b),
        "same parameters, same metrics"
    );
    let rows = table(&a);
    assert_eq!(rows.len(), 6);
    let lr = column(&a, "training.learning_rate");
    let lrs: Vec<f64> = rows.iter().map(|r| r[lr].parse().unwrap()).collect();
    assert!(lrs.iter().all(|v| (1e-4..=1e-2).contains(v)), "{lrs:?}");
    let distinct: std::collections::BTreeSet<String> = rows.iter().map(|r| r[lr].clone()).collect();
    assert_eq!(distinct.len(), 6, "every trial draws its own rate");
    // Its trials are runs eval takes, at the accuracy the table says.
    eval_agrees(&a, &rows[2]);
}

#[test]
fn the_median_rule_stops_a_trial_with_a_hopeless_learning_rate() {
    let dir = tempdir("sweep-median");
    let _clean = RemovedOnPass(dir.clone());
    lenet_with_dropout(&dir);
    let sweep = sweep_file(
        &dir,
        "median.json",
        json!({"epochs": 3,
            "parameters": {"training.learning_rate": {"values": [0.002, 0.001, 1e-7]}},
            "early_stopping": {"rule": "median", "grace_epochs": 1, "min_trials": 2}}),
    );
    let out = dir.join("median");
    let rows = sweep_into(&sweep, &out, &["--parallel", "1"]);
    let (epochs, message) = (column(&out, "epochs"), column(&out, "message"));
    assert_eq!(
        (rows[0][1].as_str(), rows[0][epochs].as_str()),
        ("done", "3")
    );
    assert_eq!(
        (rows[1][1].as_str(), rows[1][epochs].as_str()),
        ("done", "3")
    );
    assert_eq!(rows[2][1], "pruned", "{:?}", rows[2]);
    assert_eq!(rows[2][epochs], "1", "stopped after its first epoch");
    assert!(rows[2][message].contains("median rule"), "{:?}", rows[2]);
    // Its run folder holds the one epoch it trained, resumable like any stopped run.
    let metrics = std::fs::read_to_string(out.join("trial-003/metrics.csv")).unwrap();
    assert_eq!(
        metrics.lines().filter(|l| l.starts_with("epoch,")).count(),
        1
    );
}

#[test]
fn a_trial_the_design_refuses_is_reported_and_skipped() {
    let dir = tempdir("sweep-invalid");
    let _clean = RemovedOnPass(dir.clone());
    lenet_with_dropout(&dir);
    let sweep = sweep_file(
        &dir,
        "invalid.json",
        json!({"epochs": 1, "parameters": {"conv2.kernel_size": {"values": [40, 5]}}}),
    );
    let out = dir.join("invalid");
    let (code, _, err) = netloom(&["sweep", &sweep, "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let rows = table(&out);
    let message = column(&out, "message");
    assert_eq!(rows[0][1], "invalid");
    assert!(rows[0][message].contains("conv2"), "{:?}", rows[0]);
    assert!(err.contains("trial-001 skipped"), "{err}");
    assert!(
        !out.join("trial-001").exists(),
        "an invalid trial trains nothing"
    );
    assert_eq!(rows[1][1], "done");
    // A parameter that names nothing is refused before anything trains.
    let typo = sweep_file(
        &dir,
        "typo.json",
        json!({"parameters": {"fc9.out_features": {"values": [1]}}}),
    );
    let (_, _, err) = netloom(&["sweep", &typo, "--out", dir.join("typo").to_str().unwrap()]);
    assert!(err.contains("fc9"), "{err}");
}

#[test]
#[cfg(unix)]
fn a_killed_sweep_resumes_to_the_table_of_an_uninterrupted_one() {
    use std::process::{Command, Stdio};
    let dir = tempdir("sweep-resume");
    let _clean = RemovedOnPass(dir.clone());
    lenet_with_dropout(&dir);
    let sweep = sweep_file(
        &dir,
        "resume.json",
        json!({"epochs": 3, "parameters": {
            "training.learning_rate": {"values": [0.002, 0.001, 1e-7, 0.003]}},
            "early_stopping": {"rule": "median", "grace_epochs": 1, "min_trials": 2}}),
    );
    let args = ["--parallel", "1", "--threads", "1"];
    let whole = dir.join("whole");
    netloom_ok(
        &[
            &["sweep", sweep.as_str(), "--out", whole.to_str().unwrap()],
            &args[..],
        ]
        .concat(),
    );
    let killed = dir.join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_netloom"))
        .args(["sweep", &sweep, "--out", killed.to_str().unwrap()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed in the middle of the second trial: after an epoch of it, before its last.
    let started = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(killed.join("trials.csv")).unwrap_or_default();
        let second = csv::Reader::from_reader(text.as_bytes())
            .records()
            .filter_map(Result::ok)
            .find(|r| r.get(0) == Some("trial-002"));
        let (status, curve) = second.as_ref().map_or(("", ""), |r| {
            (r.get(1).unwrap_or(""), r.get(r.len() - 2).unwrap_or(""))
        });
        let mid = status == "running" && !curve.is_empty();
        let over = status == "done";
        assert!(
            !over,
            "the second trial ended before it could be killed: make its epochs longer"
        );
        if mid {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "the sweep never reached trial 2:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, _, err) =
        netloom(&[&["sweep", "--resume", killed.to_str().unwrap()], &args[..]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("trial-002 resumed"), "{err}");
    assert_eq!(without_times(&killed), without_times(&whole));
}

/// `python3 tune.py ARGS` with Ray Tune on its path (scripts/provision-torch.sh installs it in
/// its own folder, NETLOOM_RAY_SITE, kept off the other tests' path).
fn tune_py(script: &Path, args: &[&str]) -> (bool, String) {
    let ray = std::env::var("NETLOOM_RAY_SITE").expect(
        "NETLOOM_RAY_SITE names Ray Tune's folder: run the tests through scripts/test.sh, which provisions it",
    );
    let path = match std::env::var("PYTHONPATH") {
        Ok(p) if !p.is_empty() => format!("{p}:{ray}"),
        _ => ray,
    };
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .env("PYTHONPATH", path)
        // A test machine has no use for Ray's usage reporting or its dashboard.
        .env("RAY_USAGE_STATS_ENABLED", "0")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn the_ray_tune_export_runs_the_same_trials_and_netloom_reads_its_results() {
    let dir = tempdir("sweep-ray");
    let _clean = RemovedOnPass(dir.clone());
    lenet_with_dropout(&dir);
    let sweep = sweep_file(
        &dir,
        "ray.json",
        json!({"epochs": 2, "parameters": {
            "training.learning_rate": {"values": [0.002, 0.001]},
            "fc1.out_features": {"values": [32, 64]}},
            "early_stopping": {"rule": "median", "grace_epochs": 1, "min_trials": 2}}),
    );
    let export = dir.join("ray-tune");
    netloom_ok(&[
        "export",
        &sweep,
        "--format",
        "ray-tune",
        "--out",
        export.to_str().unwrap(),
    ]);
    for f in [
        "tune.py",
        "train.py",
        "model.py",
        "nets/net_1.py",
        "nets/net_2.py",
        "trials/trial-004.json",
    ] {
        assert!(export.join(f).is_file(), "{f} written");
    }
    // A design can't go to Ray without a sweep, nor a sweep anywhere else.
    let (code, _, err) = netloom(&[
        "export",
        dir.join("lenet5_dropout.json").to_str().unwrap(),
        "--format",
        "ray-tune",
        "--out",
        dir.join("no").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("sweep"), "{err}");
    let results = dir.join("results");
    let (ok, said) = tune_py(
        &export.join("tune.py"),
        &[
            "--out",
            results.to_str().unwrap(),
            "--num-cpus",
            "2",
            "--cpus-per-trial",
            "1",
        ],
    );
    assert!(ok, "tune.py failed:\n{said}");
    // Ray's results are a netloom sweep: the same trials (netloom's values), run folders eval
    // reads, and a table netloom reads back (nothing left to train: it only reports).
    let rows = table(&results);
    assert_eq!(rows.len(), 4, "{said}");
    let ours = dir.join("netloom");
    netloom_ok(&["sweep", &sweep, "--out", ours.to_str().unwrap()]);
    let (fc1, lr, params) = (
        column(&results, "fc1.out_features"),
        column(&results, "training.learning_rate"),
        column(&results, "params"),
    );
    let trials = |rows: &[Vec<String>]| -> Vec<[String; 5]> {
        rows.iter()
            .map(|r| [0, 2, fc1, lr, params].map(|k| r[k].clone()))
            .collect()
    };
    assert_eq!(
        trials(&rows),
        trials(&table(&ours)),
        "the same trials, seeds and networks"
    );
    for row in &rows {
        assert!(
            matches!(row[1].as_str(), "done" | "pruned"),
            "{row:?}\n{said}"
        );
    }
    let done = rows
        .iter()
        .find(|r| r[1] == "done")
        .expect("a trial ran to the end");
    let trial = results.join(&done[0]);
    let eval = netloom_ok(&["eval", trial.to_str().unwrap()]);
    assert!(eval.contains("accuracy"), "{eval}");
    let (code, out, err) = netloom(&["sweep", "--resume", results.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 to train"), "{err}");
    assert!(out.contains(&done[0]), "{out}");
}
