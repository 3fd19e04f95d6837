//! The fast defaults, checked for what they must not change: reading the loss every N steps
//! reports exactly what reading every step does, and the 16-bit precisions train, record
//! themselves and resume exactly. (How fast they are is a benchmark: docs/performance.md.)
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use std::path::Path;

/// A run compared bit for bit with another: its thread count fixed (--deterministic).
fn train(args: &[&str], out: &Path) {
    let mut all = vec!["train", "--deterministic", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    netloom_ok(&all);
}

fn bytes(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// metrics.csv without the throughput column.
fn without_throughput(dir: &Path) -> Vec<Vec<String>> {
    metrics(dir)
        .into_iter()
        .map(|mut r| {
            r.remove(9);
            r
        })
        .collect()
}

#[test]
fn reading_the_loss_every_seven_steps_reports_what_reading_every_step_does() {
    let dir = tempdir("speed-sync");
    let _cleanup = RemovedOnPass(dir.clone());
    let lenet = example_path("lenet5.json");
    // 100 steps: an epoch boundary and the stop both fall inside a window of 7.
    let common = [
        lenet.as_str(),
        "--epochs",
        "2",
        "--batch-size",
        "128",
        "--max-steps",
        "100",
        "--log-every",
        "3",
    ];
    let (each, windowed) = (dir.join("each"), dir.join("windowed"));
    train(&[&common[..], &["--sync-every", "1"]].concat(), &each);
    train(&[&common[..], &["--sync-every", "7"]].concat(), &windowed);
    let rows = without_throughput(&each);
    assert!(rows.iter().filter(|r| r[0] == "step").count() >= 30);
    assert!(rows.iter().any(|r| r[0] == "epoch"), "{rows:?}");
    assert_eq!(rows, without_throughput(&windowed));
    for f in [
        "weights.safetensors",
        "checkpoint/000002/optimizer.safetensors",
    ] {
        assert!(bytes(&each, f) == bytes(&windowed, f), "{f} differs");
    }
    // The run state too (the epoch's running sums among it), but for metrics.csv's length,
    // which counts the throughput column's digits.
    let state = |dir: &Path| {
        let mut v: serde_json::Value = serde_json::from_slice(&bytes(dir, "state.json")).unwrap();
        v.as_object_mut().unwrap().remove("metrics_len");
        // Its checksum covers metrics_len too.
        v.as_object_mut().unwrap().remove("crc32");
        v
    };
    assert_eq!(state(&each), state(&windowed));
}

#[test]
fn a_loss_that_diverges_inside_a_window_names_the_step_it_diverged_at() {
    let dir = tempdir("speed-diverge");
    let _cleanup = RemovedOnPass(dir.clone());
    let mut said = Vec::new();
    for every in ["1", "5"] {
        let (code, _, err) = netloom(&[
            "train",
            &example_path("two_layer_mlp.json"),
            "--lr",
            "1e30",
            "--sync-every",
            every,
            "--out",
            dir.join(every).to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("training diverged"), "{err}");
        said.push(
            err.lines()
                .find(|l| l.contains("training diverged"))
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(said[0], said[1]);
}

/// The dtype of every tensor in a safetensors file's header.
fn dtypes(path: &Path) -> Vec<String> {
    let raw = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(raw[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&raw[8..8 + n]).unwrap();
    header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(_, v)| v["dtype"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn bf16_trains_lenet_near_fp32_and_the_run_records_its_precision() {
    let dir = tempdir("speed-bf16");
    let _cleanup = RemovedOnPass(dir.clone());
    let lenet = example_path("lenet5.json");
    let mut acc = Vec::new();
    for p in ["fp32", "bf16"] {
        let out = dir.join(p);
        train(&[&lenet, "--epochs", "1", "--precision", p], &out);
        let rows = metrics(&out);
        let epoch = rows.iter().find(|r| r[0] == "epoch").unwrap();
        assert_eq!(epoch[10], p, "{epoch:?}");
        acc.push(epoch[8].parse::<f64>().unwrap());
        // Master weights, optimizer state and files stay fp32.
        assert!(
            dtypes(&out.join("weights.safetensors"))
                .iter()
                .all(|d| d == "F32")
        );
        let optimizer = out.join("checkpoint/000001/optimizer.safetensors");
        assert!(dtypes(&optimizer).iter().all(|d| d == "F32"));
    }
    // One epoch of the built-in set: bf16's rounding moves accuracy by a point or so, not more.
    assert!(acc[1] > 0.6 && (acc[0] - acc[1]).abs() < 0.03, "{acc:?}");
    // The design's setting is what the run uses, and auto is fp32 on the CPU.
    let (code, _, err) = netloom(&[
        "train",
        &lenet,
        "--max-steps",
        "1",
        "--out",
        dir.join("auto").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("in fp32"), "{err}");
}

#[test]
fn an_fp16_run_scales_its_loss_and_resumes_exactly() {
    let dir = tempdir("speed-fp16");
    let _cleanup = RemovedOnPass(dir.clone());
    let lenet = example_path("lenet5.json");
    let args = [
        lenet.as_str(),
        "--epochs",
        "1",
        "--precision",
        "fp16",
        "--log-every",
        "5",
    ];
    let (whole, parts) = (dir.join("whole"), dir.join("parts"));
    train(&[&args[..], &["--max-steps", "40"]].concat(), &whole);
    train(&[&args[..], &["--max-steps", "20"]].concat(), &parts);
    let state: serde_json::Value = serde_json::from_slice(&bytes(&parts, "state.json")).unwrap();
    let scale = state["loss_scale"]["scale"].as_f64().unwrap();
    assert!(scale > 0.0 && scale <= 65_536.0, "{state}");
    netloom_ok(&[
        "train",
        &lenet,
        "--resume",
        parts.to_str().unwrap(),
        "--max-steps",
        "40",
        "--log-every",
        "5",
    ]);
    assert_eq!(without_throughput(&whole), without_throughput(&parts));
    assert!(bytes(&whole, "weights.safetensors") == bytes(&parts, "weights.safetensors"));
    // fp16 learns: the loss falls from its start.
    let losses: Vec<f64> = metrics(&whole)
        .iter()
        .filter(|r| r[0] == "step")
        .map(|r| r[4].parse().unwrap())
        .collect();
    assert!(losses.last().unwrap() < &(losses[0] * 0.9), "{losses:?}");
}
