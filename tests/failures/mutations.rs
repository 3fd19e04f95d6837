//! Mutated designs: every whole-number field of every LeNet-5 block set to values from 0 to
//! u64::MAX. `check` must accept or refuse each without panicking, and a design it accepts must
//! train a step or fail with a message: never an internal error from inside libtorch (38 of
//! 156 such designs once reached a panic in the trainer).

use super::run::{RemovedOnPass, example_path, tempdir};
use std::process::Command;

const VALUES: [u64; 9] = [
    0,
    3,
    1000,
    65_536,
    (1 << 31) - 1,
    1 << 32,
    1 << 53,
    (1 << 63) - 1,
    u64::MAX,
];

/// (node index, field, value) for each mutation of the design's ops.
fn mutations(design: &serde_json::Value) -> Vec<(usize, String, serde_json::Value)> {
    let mut out = Vec::new();
    for (i, node) in design["nodes"].as_array().unwrap().iter().enumerate() {
        for (field, value) in node["op"].as_object().unwrap() {
            let values: Vec<serde_json::Value> = match value {
                serde_json::Value::Number(n) if n.is_u64() => {
                    VALUES.iter().map(|&v| serde_json::json!(v)).collect()
                }
                serde_json::Value::Array(a) if a.iter().all(serde_json::Value::is_u64) => VALUES
                    .iter()
                    .flat_map(|&v| {
                        let mut one = a.clone();
                        one[0] = serde_json::json!(v);
                        [
                            serde_json::json!(vec![v; a.len()]),
                            serde_json::Value::Array(one),
                        ]
                    })
                    .collect(),
                _ => continue,
            };
            out.extend(values.into_iter().map(|v| (i, field.clone(), v)));
        }
    }
    out
}

fn said_internally(stderr: &str) -> bool {
    [
        "internal error",
        "panicked",
        "RUST_BACKTRACE",
        "unwrap()",
        "Exception raised from",
    ]
    .iter()
    .any(|s| stderr.contains(s))
}

#[test]
fn mutated_designs_check_and_train_without_panics_or_libtorch_internals() {
    let dir = tempdir("failures-mutations");
    let _cleanup = RemovedOnPass(dir.clone());
    let text = std::fs::read_to_string(example_path("lenet5.json")).unwrap();
    let base: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (mut accepted, mut trained) = (0, 0);
    let all = mutations(&base);
    for (n, (node, field, value)) in all.iter().enumerate() {
        let mut design = base.clone();
        design["nodes"][*node]["op"][field] = value.clone();
        let path = dir.join(format!("m{n}.json"));
        std::fs::write(&path, design.to_string()).unwrap();
        let what = format!("{} {field} = {value}", base["nodes"][*node]["name"]);
        // What `check` decides, in-process (a panic fails the test): problems, or none.
        let Ok(parsed) = netloom::design::from_json(&design.to_string()) else {
            continue;
        };
        let analysis = netloom::design::analyse(&parsed);
        if !analysis.problems.is_empty() || !parsed.training.problems().is_empty() {
            let _ = analysis.problems.iter().map(ToString::to_string).count();
            continue;
        }
        accepted += 1;
        // Batch size 1: a design that fits is trained a step quickly, whatever its size.
        let run = dir.join(format!("run{n}"));
        let train = Command::new(env!("CARGO_BIN_EXE_netloom"))
            .args([
                "train",
                path.to_str().unwrap(),
                "--epochs",
                "1",
                "--max-steps",
                "1",
            ])
            .args(["--batch-size", "1", "--out"])
            .arg(&run)
            .output()
            .unwrap();
        // Some accepted mutations are huge (padding 1000 gives a 2 GB linear layer): each run
        // goes as soon as it has been judged, so the test never holds more than one.
        let _ = std::fs::remove_dir_all(&run);
        let err = String::from_utf8_lossy(&train.stderr);
        let code = train.status.code();
        assert!(
            matches!(code, Some(0..=2)) && !said_internally(&err),
            "train, {what}: {code:?} {err}"
        );
        trained += usize::from(code == Some(0));
    }
    assert!(all.len() > 150, "{} mutations", all.len());
    assert!(
        accepted > 20 && trained > 10,
        "{accepted} accepted, {trained} trained"
    );
}
