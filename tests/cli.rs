//! `netloom check` and `netloom --version` as a user runs them.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;
use common::run;

use run::{example_path, netloom, tempdir};

#[test]
fn check_prints_a_table_and_exits_0_for_a_valid_design() {
    let (code, out, _) = netloom(&["check", &example_path("lenet5.json")]);
    assert_eq!(code, 0, "{out}");
    let conv1 = out.lines().find(|l| l.starts_with("conv1")).unwrap();
    let cells: Vec<&str> = conv1.split_whitespace().collect();
    assert_eq!(cells, ["conv1", "Conv2d", "6×28×28", "156", "117,600"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("total") && l.contains("61,706")),
        "{out}"
    );
    assert!(out.contains("no problems"));
}

#[test]
fn check_exits_1_and_lists_problems_for_an_invalid_design() {
    let dir = tempdir("cli-invalid");
    let path = dir.join("bad.json");
    let text = std::fs::read_to_string(example_path("lenet5.json"))
        .unwrap()
        .replace("\"out_features\": 10,", "\"out_features\": 1,");
    std::fs::write(&path, text).unwrap();
    let (code, out, _) = netloom(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("1 problem:"), "{out}");
    assert!(
        out.contains("  - output: cross_entropy needs a score per class, at least 2, but gets 1"),
        "{out}"
    );

    let (code, json, _) = netloom(&["check", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["valid"], false);
    assert!(!v["problems"].as_array().unwrap().is_empty());
}

#[test]
fn check_json_matches_the_table() {
    let (code, json, _) = netloom(&["check", &example_path("resnet_mini.json"), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["valid"], true);
    let add = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "layer2_add")
        .unwrap();
    assert_eq!(add["output"], serde_json::json!([32, 16, 16]));
    assert_eq!(add["kind"], "Add");
    assert!(v["totals"]["params"].as_u64().unwrap() > 0);
}

#[test]
fn unreadable_files_and_usage_errors_exit_2() {
    let (code, _, err) = netloom(&["check", "/nonexistent/design.json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read the design") && err.contains("/nonexistent/design.json"),
        "{err}"
    );

    let dir = tempdir("cli-broken");
    let path = dir.join("broken.json");
    std::fs::write(
        &path,
        "{\n  \"format\": \"netloom-design\",\n  \"version\": 1,\n  \"nodes\": [,]\n}",
    )
    .unwrap();
    let (code, _, err) = netloom(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("line 4, column 13"), "{err}");

    let (code, _, _) = netloom(&["check"]);
    assert_eq!(code, 2);
    let (code, _, _) = netloom(&["check", "--bogus", "x.json"]);
    assert_eq!(code, 2);
}

#[test]
fn version_is_printed() {
    let (code, out, _) = netloom(&["--version"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("netloom {}", env!("CARGO_PKG_VERSION")));
    // The libtorch it was built with, the devices found and what became of CUDA's libraries.
    assert!(lines[1].starts_with("libtorch 2.11.0"), "{out}");
    assert!(lines[2].starts_with("devices: CPU ("), "{out}");
    assert!(lines[3].starts_with("cuda: "), "{out}");
    let (code, short, _) = netloom(&["-V"]);
    assert_eq!(code, 0);
    assert_eq!(
        short.trim(),
        format!("netloom {}", env!("CARGO_PKG_VERSION"))
    );
}
