//! ONNX files every runtime loads (issue 26): pooling exported with PyTorch's output size
//! (ceil mode included) across a sweep of kernels, strides, paddings and input sizes; weights
//! over protobuf's limit in a side file; the operator sets 17 to 21; the graph's input and
//! output named after the design's; metadata for deployment. Checked in onnx.checker and
//! onnxruntime against netloom's forward pass and PyTorch (tests/reference/onnx_check.py).
#![allow(clippy::unwrap_used)]

mod common;

use common::run::{RemovedOnPass, example_path, netloom, netloom_ok, python, reference, tempdir};
use netloom::engine::npy::{self, NpyArray};
use netloom::export::{ExportFormat, ExportRequest, OPSET, export};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A design of one pooling node on a 2×h×w input.
fn pool_design(kind: &str, k: u64, st: u64, p: u64, ceil: bool, h: u64, w: u64) -> String {
    let (op, extra) = match kind {
        "max" => ("max_pool2d", String::new()),
        "avg" => ("avg_pool2d", String::new()),
        _ => ("avg_pool2d", r#", "count_include_pad": false"#.to_owned()),
    };
    format!(
        r#"{{"format": "netloom-design", "version": 3,
 "nodes": [
  {{"id": 1, "name": "input", "op": {{"type": "input", "channels": 2, "height": {h}, "width": {w}}}}},
  {{"id": 2, "name": "pool", "op": {{"type": "{op}", "kernel_size": {k}, "stride": {st}, "padding": {p}, "ceil_mode": {ceil}{extra}}}}},
  {{"id": 3, "name": "output", "op": {{"type": "output", "loss": "mse"}}}}],
 "edges": [{{"from": 1, "to": 2}}, {{"from": 2, "to": 3}}]}}"#
    )
}

/// A safetensors file of no tensors: the weights of a design without parameters.
fn no_weights(path: &Path) {
    let header = b"{}      ";
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn pooling_exports_pytorchs_windows_across_a_sweep_in_onnxruntime() {
    let dir = tempdir("onnx-pool-sweep");
    let _clean = RemovedOnPass(dir.clone());
    let weights = dir.join("none.safetensors");
    no_weights(&weights);
    let mut cases = Vec::new();
    let mut seed = 7u64;
    let _guard = tch::no_grad_guard();
    for size in 5..=33u64 {
        // Height and width differ, so an axis that needs ceil mode's extra window meets one
        // that drops it.
        let (h, w) = (size, 38 - size);
        for k in 1..=4u64 {
            for st in 1..=3u64 {
                for p in 0..=k / 2 {
                    for ceil in [false, true] {
                        for kind in ["max", "avg", "avg_exclude_pad"] {
                            let text = pool_design(kind, k, st, p, ceil, h, w);
                            let design = netloom::design::from_json(&text).unwrap();
                            if !netloom::design::analyse(&design).is_valid() {
                                continue;
                            }
                            let id = cases.len();
                            export(&ExportRequest {
                                design: design.clone(),
                                title: format!("case{id}"),
                                format: ExportFormat::Onnx,
                                weights: Some(weights.clone()),
                                preprocessor: None,
                                data: None,
                                out: dir.join(format!("{id}.onnx")),
                                inputs: Vec::new(),
                                opset: OPSET,
                                classes: None,
                                sweep: None,
                            })
                            .unwrap_or_else(|e| panic!("case {id}: {e}"));
                            seed += 1;
                            tch::manual_seed(seed as i64);
                            let x = tch::Tensor::randn(
                                [2, 2, h as i64, w as i64],
                                tch::kind::FLOAT_CPU,
                            );
                            let net = netloom::engine::Network::compile(&design, tch::Device::Cpu)
                                .unwrap();
                            let y = net.forward(&x, false, None).unwrap();
                            for (t, name) in [(&x, "x"), (&y, "y")] {
                                let shape = t.size().iter().map(|&d| d as usize).collect();
                                let data = Vec::<f32>::try_from(t.flatten(0, -1)).unwrap();
                                npy::write(
                                    &dir.join(format!("{id}.{name}.npy")),
                                    &NpyArray { shape, data },
                                )
                                .unwrap();
                            }
                            cases.push(serde_json::json!({
                                "id": id, "kind": kind, "k": k, "s": st, "p": p, "ceil": ceil,
                                "h": h, "w": w,
                            }));
                        }
                    }
                }
            }
        }
    }
    assert!(cases.len() > 3000, "{} cases", cases.len());
    std::fs::write(
        dir.join("cases.json"),
        serde_json::to_string(&cases).unwrap(),
    )
    .unwrap();
    let out = python(&reference("onnx_check.py"), &["pools", s(&dir)]);
    assert!(out.contains("pooling cases"), "{out}");
}

/// Trains LeNet-5 for a step into `dir/run` and writes a batch `dir/x.npy` with netloom's
/// output `dir/y.npy`.
fn lenet_run(dir: &Path) -> std::path::PathBuf {
    let run = dir.join("run");
    netloom_ok(&[
        "train",
        &example_path("lenet5.json"),
        "--epochs",
        "1",
        "--out",
        s(&run),
    ]);
    let x = NpyArray {
        shape: vec![3, 1, 28, 28],
        data: (0..3 * 784)
            .map(|i| ((i * 37) % 255) as f32 / 255.0)
            .collect(),
    };
    npy::write(&dir.join("x.npy"), &x).unwrap();
    netloom_ok(&[
        "forward",
        s(&run),
        "--input",
        s(&dir.join("x.npy")),
        "--output",
        s(&dir.join("y.npy")),
    ]);
    run
}

fn check_model(onnx: &Path, dir: &Path) -> serde_json::Value {
    let out = python(
        &reference("onnx_check.py"),
        &[
            "model",
            s(onnx),
            s(&dir.join("x.npy")),
            s(&dir.join("y.npy")),
        ],
    );
    serde_json::from_str(out.trim()).unwrap()
}

#[test]
fn weights_past_the_protobuf_limit_go_to_a_side_file_that_onnxruntime_reads() {
    let dir = tempdir("onnx-external");
    let _clean = RemovedOnPass(dir.clone());
    let run = lenet_run(&dir);
    let onnx = dir.join("lenet.onnx");
    // The 1.8 GB threshold, lowered so that LeNet-5's 247 kB of weights cross it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netloom"))
        .args(["export", s(&run), "--format", "onnx", "--out", s(&onnx)])
        .env("NETLOOM_ONNX_EXTERNAL_BYTES", "100000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let side = dir.join("lenet.onnx.data");
    assert!(side.is_file());
    assert!(
        std::fs::metadata(&onnx).unwrap().len() < 20_000,
        "the weights stayed inside"
    );
    assert_eq!(std::fs::metadata(&side).unwrap().len(), 61_706 * 4);
    let v = check_model(&onnx, &dir);
    assert_eq!(v["external"], 10, "{v}");
    // Exported again over itself: the pair is replaced, and nothing is left beside it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netloom"))
        .args(["export", s(&run), "--format", "onnx", "--out", s(&onnx)])
        .env("NETLOOM_ONNX_EXTERNAL_BYTES", "100000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn every_opset_from_17_to_21_runs_named_after_the_design_with_its_metadata() {
    let dir = tempdir("onnx-opsets");
    let _clean = RemovedOnPass(dir.clone());
    let run = lenet_run(&dir);
    for opset in 17..=21 {
        let onnx = dir.join(format!("lenet{opset}.onnx"));
        netloom_ok(&[
            "export",
            s(&run),
            "--format",
            "onnx",
            "--opset",
            &opset.to_string(),
            "--out",
            s(&onnx),
        ]);
        let v = check_model(&onnx, &dir);
        assert_eq!(v["opset"], opset, "{v}");
        assert_eq!(v["input"], "input", "the design's Input node: {v}");
        assert_eq!(v["output"], "output", "{v}");
        let meta = &v["metadata"];
        assert_eq!(meta["netloom_version"], env!("CARGO_PKG_VERSION"), "{v}");
        let classes: Vec<String> =
            serde_json::from_str(meta["class_names"].as_str().unwrap()).unwrap();
        assert_eq!(classes[0], "T-shirt/top");
        let pre: serde_json::Value =
            serde_json::from_str(meta["preprocessing"].as_str().unwrap()).unwrap();
        assert_eq!(pre["method"], "standardize", "{pre}");
        assert_eq!(
            pre["mean"].as_array().unwrap().len(),
            1,
            "one channel: {pre}"
        );
    }
    let (code, _, err) = netloom(&[
        "export",
        s(&run),
        "--format",
        "onnx",
        "--opset",
        "16",
        "--out",
        s(&dir.join("x.onnx")),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("opsets 17 to 21"), "{err}");
    // GELU is one op from opset 20, and the same numbers as before it.
    let gelu = dir.join("gelu.json");
    let text = std::fs::read_to_string(example_path("two_layer_mlp.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let edited = serde_json::to_string_pretty(&v)
        .unwrap()
        .replace("\"function\": \"relu\"", "\"function\": \"gelu\"");
    assert!(edited.contains("gelu"));
    std::fs::write(&gelu, edited).unwrap();
    let grun = dir.join("grun");
    netloom_ok(&["train", s(&gelu), "--epochs", "1", "--out", s(&grun)]);
    let x = NpyArray {
        shape: vec![4, 2],
        data: vec![0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.0, -2.0],
    };
    npy::write(&dir.join("x.npy"), &x).unwrap();
    netloom_ok(&[
        "forward",
        s(&grun),
        "--input",
        s(&dir.join("x.npy")),
        "--output",
        s(&dir.join("y.npy")),
    ]);
    for (opset, op) in [("17", "Erf"), ("20", "Gelu")] {
        let onnx = dir.join(format!("gelu{opset}.onnx"));
        netloom_ok(&[
            "export",
            s(&grun),
            "--format",
            "onnx",
            "--opset",
            opset,
            "--out",
            s(&onnx),
        ]);
        let v = check_model(&onnx, &dir);
        assert!(
            v["ops"].as_array().unwrap().iter().any(|o| o == op),
            "opset {opset}: {v}"
        );
    }
    // model.py's forward takes x, not Python's builtin `input`.
    let py = dir.join("py");
    netloom_ok(&["export", s(&run), "--format", "pytorch", "--out", s(&py)]);
    let model = std::fs::read_to_string(py.join("model.py")).unwrap();
    assert!(model.contains("def forward(self, x):"), "{model}");
}
