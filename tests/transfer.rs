//! Transfer learning: PyTorch-written weights (.pth and .safetensors) and torchvision's
//! resnet18 load by name and compute what PyTorch computes; untrusted files run nothing; bad
//! files say what is wrong; frozen nodes stay bit-for-bit unchanged through training.
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use std::path::Path;

#[test]
fn pytorch_written_pth_and_safetensors_load_and_compute_what_pytorch_computes() {
    let dir = tempdir("transfer-lenet");
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    python(&reference("transfer_reference.py"), &["lenet", &d("")]);
    netloom_ok(&["template", "lenet", "-o", &d("lenet.json")]);
    let report = netloom_ok(&["weights", &d("weights.pth"), "--design", &d("lenet.json")]);
    assert!(
        report.starts_with(
            "10 matched, 0 missing in the file, 0 unexpected in the file, 0 shape mismatches"
        ),
        "{report}"
    );
    assert!(
        report.contains("matched      conv1.weight [6, 1, 5, 5]"),
        "{report}"
    );
    for file in ["weights.pth", "weights.safetensors", "checkpoint.pth"] {
        let y = d(&format!("y-{file}.npy"));
        netloom_ok(&[
            "forward",
            &d("lenet.json"),
            "--weights",
            &d(file),
            "--input",
            &d("x.npy"),
            "--output",
            &y,
        ]);
        let err = relative_error(Path::new(&y), &dir.join("y.npy"));
        assert!(err < 1e-5, "{file}: relative error {err}");
    }
    // The pre-1.6 format is refused with the way to convert it.
    let (code, _, err) = netloom(&["weights", &d("legacy.pth")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("legacy format") && err.contains("torch.save(torch.load("),
        "{err}"
    );
}

/// A folder with torchvision's resnet18 weights (and its input and output, from the
/// reference script) and netloom's resnet18 template for `input` and `classes` as r.json.
fn resnet18_and_its_weights(tag: &str, input: &str, classes: &str) -> std::path::PathBuf {
    let dir = tempdir(tag);
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    python(&reference("transfer_reference.py"), &["resnet18", &d("")]);
    netloom_ok(&[
        "template",
        "resnet18",
        "--input",
        input,
        "--classes",
        classes,
        "-o",
        &d("r.json"),
    ]);
    dir
}

#[test]
fn torchvision_resnet18_loads_into_the_template_with_every_key_matched() {
    let dir = resnet18_and_its_weights("transfer-resnet18", "3,64,64", "1000");
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let report = netloom_ok(&["weights", &d("weights.pth"), "--design", &d("r.json")]);
    let first = report.lines().next().unwrap();
    assert_eq!(
        first, "122 matched, 0 missing in the file, 0 unexpected in the file, 0 shape mismatches",
        "{report}"
    );
    netloom_ok(&[
        "forward",
        &d("r.json"),
        "--weights",
        &d("weights.pth"),
        "--input",
        &d("x.npy"),
        "--output",
        &d("ours.npy"),
    ]);
    let err = relative_error(&dir.join("ours.npy"), &dir.join("y.npy"));
    assert!(err < 1e-4, "relative error {err}");
    // The segmentation template's trunk is resnet18 by name: every trunk tensor matches; the
    // FCN head (classifier.*: 8 tensors) starts afresh and the classifier's fc is unused.
    netloom_ok(&[
        "template",
        "fcn_resnet18",
        "--input",
        "3,64,64",
        "--classes",
        "3",
        "-o",
        &d("fcn.json"),
    ]);
    let report = netloom_ok(&["weights", &d("weights.pth"), "--design", &d("fcn.json")]);
    assert_eq!(
        report.lines().next().unwrap(),
        "120 matched, 8 missing in the file, 2 unexpected in the file, 0 shape mismatches",
        "{report}"
    );
    assert!(
        report.contains("classifier.4.weight") && report.contains("fc.weight"),
        "{report}"
    );
}

/// Every torchvision family with a template: torchvision's own state dict (random init, BN
/// statistics made non-trivial) maps onto the template by name with nothing missing,
/// unexpected or mismatched, and netloom's forward equals torchvision's in eval mode.
#[test]
fn torchvisions_model_zoo_loads_into_the_templates_and_computes_what_torchvision_computes() {
    let zoo = [
        "resnet50",
        "mobilenet_v2",
        "mobilenet_v3_small",
        "mobilenet_v3_large",
        "efficientnet_b0",
        "densenet121",
        "squeezenet1_1",
        "regnet_y_400mf",
        "convnext_tiny",
    ];
    let dir = tempdir("transfer-zoo");
    let mut args = vec!["zoo", dir.to_str().unwrap()];
    args.extend(zoo);
    python(&reference("transfer_reference.py"), &args);
    let mut failures = Vec::new();
    for name in zoo {
        let d = |n: &str| dir.join(name).join(n).to_str().unwrap().to_owned();
        netloom_ok(&[
            "template",
            name,
            "--input",
            "3,64,64",
            "--classes",
            "1000",
            "-o",
            &d("t.json"),
        ]);
        let report = netloom_ok(&["weights", &d("weights.pth"), "--design", &d("t.json")]);
        let first = report.lines().next().unwrap();
        if !first.ends_with(
            " matched, 0 missing in the file, 0 unexpected in the file, 0 shape mismatches",
        ) {
            failures.push(format!("{name}: {report}"));
            continue;
        }
        netloom_ok(&[
            "forward",
            &d("t.json"),
            "--weights",
            &d("weights.pth"),
            "--input",
            &d("x.npy"),
            "--output",
            &d("ours.npy"),
        ]);
        let err = relative_error(Path::new(&d("ours.npy")), Path::new(&d("y.npy")));
        if err.is_nan() || err > 1e-4 {
            failures.push(format!("{name}: relative error {err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The ResNet template opens grouped (one group per BasicBlock); grouping changes no weight
/// name, so torchvision's weights load onto it, it trains, and freezing a group as the app
/// does (every member) keeps the whole block as it was loaded.
#[test]
fn a_grouped_resnet18_round_trips_loads_torchvision_weights_and_fine_tunes_a_frozen_group() {
    use netloom::design::edit::{Edit, apply};
    let dir = resnet18_and_its_weights("transfer-grouped", "3,32,32", "10");
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let text = std::fs::read_to_string(dir.join("r.json")).unwrap();
    let mut design = netloom::design::from_json(&text).unwrap();
    assert_eq!(netloom::design::to_json(&design), text, "byte for byte");
    let kinds: Vec<&str> = design.groups.iter().map(|g| g.kind.as_str()).collect();
    assert_eq!(kinds, ["BasicBlock"; 8]);
    let block = design.group_by_name("layer1.0").unwrap().clone();
    assert!(apply(
        &mut design,
        &Edit::Freeze {
            nodes: block.members.clone(),
            frozen: true
        }
    ));
    netloom::document::save_design(&design, &dir.join("frozen.json")).unwrap();
    let report = netloom_ok(&["weights", &d("weights.pth"), "--design", &d("frozen.json")]);
    assert!(
        report.starts_with(
            "120 matched, 0 missing in the file, 0 unexpected in the file, 2 shape mismatches"
        ),
        "only the 10-class head differs: {report}"
    );
    tiny_cifar(&dir.join("cifar"), 64, 32);
    let (code, out, err) = netloom(&[
        "train",
        &d("frozen.json"),
        "--data",
        &format!("cifar10:{}", d("cifar")),
        "--init-weights",
        &d("weights.pth"),
        "--init-skip",
        "fc",
        "--max-steps",
        "2",
        "--batch-size",
        "16",
        "--out",
        &d("run"),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let loaded: std::collections::HashMap<String, tch::Tensor> =
        netloom::engine::read_weights(&dir.join("weights.pth"))
            .unwrap()
            .into_iter()
            .collect();
    let trained = tch::Tensor::read_safetensors(dir.join("run/weights.safetensors")).unwrap();
    let mut frozen_seen = 0;
    for (name, t) in &trained {
        let Some(before) = loaded.get(name) else {
            continue;
        };
        let same = t.equal(before);
        if name.starts_with("layer1.0.") {
            assert!(same, "{name} is in a frozen group but changed");
            frozen_seen += 1;
        } else if name.ends_with(".weight") && name.contains("conv") {
            assert!(!same, "{name} should have trained");
        }
    }
    assert!(
        frozen_seen >= 10,
        "the frozen block's tensors were compared: {frozen_seen}"
    );
}

#[test]
fn an_untrusted_pth_is_refused_and_runs_nothing() {
    let dir = tempdir("transfer-evil");
    python(
        &reference("transfer_reference.py"),
        &["evil", dir.to_str().unwrap()],
    );
    let file = dir.join("weights.pth");
    let (code, _, err) = netloom(&["weights", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("posix.system") && err.contains("refuses"),
        "{err}"
    );
    assert!(!dir.join("pwned").exists(), "the payload ran");
}

#[test]
fn bad_weights_files_get_clear_messages() {
    let dir = tempdir("transfer-bad");
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    python(&reference("transfer_reference.py"), &["lenet", &d("")]);
    let pth = std::fs::read(dir.join("weights.pth")).unwrap();
    let st = std::fs::read(dir.join("weights.safetensors")).unwrap();
    std::fs::write(dir.join("empty.pth"), b"").unwrap();
    std::fs::write(dir.join("truncated.pth"), &pth[..pth.len() / 2]).unwrap();
    std::fs::write(dir.join("truncated.safetensors"), &st[..st.len() / 2]).unwrap();
    // Flip bytes in the middle of the tensor data: the zip's checksums catch it.
    let mut corrupt = pth.clone();
    let mid = corrupt.len() / 2;
    for b in &mut corrupt[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(dir.join("corrupt.pth"), corrupt).unwrap();
    for (file, says) in [
        ("empty.pth", "the weights file is empty"),
        ("truncated.pth", "truncated or corrupt"),
        ("truncated.safetensors", "truncated or corrupt"),
        ("corrupt.pth", "corrupt"),
    ] {
        let (code, _, err) = netloom(&["weights", &d(file)]);
        assert_eq!(code, 2, "{file}: {err}");
        assert!(err.contains(says) && err.contains(file), "{file}: {err}");
        assert!(!err.contains("panicked"), "{file}: {err}");
    }
    // A file whose tensors all have the wrong shape: training refuses to start from it.
    let wide = std::fs::read_to_string(example_path("lenet5.json"))
        .unwrap()
        .replace("\"out_channels\": 6", "\"out_channels\": 8")
        .replace("\"out_channels\": 16", "\"out_channels\": 12")
        .replace("\"out_features\": 120", "\"out_features\": 100")
        .replace("\"out_features\": 84", "\"out_features\": 80")
        .replace(
            "\"out_features\": 10,\n        \"bias\": true",
            "\"out_features\": 10,\n        \"bias\": false",
        );
    std::fs::write(dir.join("wide.json"), wide).unwrap();
    let (code, _, err) = netloom(&[
        "train",
        &d("wide.json"),
        "--init-weights",
        &d("weights.pth"),
        "--epochs",
        "1",
        "--out",
        &d("run"),
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("none of its weights fit this design")
            && err.contains("every tensor has the wrong shape"),
        "{err}"
    );
}

#[test]
fn frozen_nodes_stay_bit_for_bit_the_same_and_frozen_batchnorm_keeps_its_statistics() {
    let dir = tempdir("transfer-frozen");
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    tiny_cifar(&dir.join("cifar"), 256, 64);
    let data = format!("cifar10:{}", d("cifar"));
    netloom_ok(&[
        "train",
        &example_path("resnet_mini.json"),
        "--data",
        &data,
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--out",
        &d("a"),
    ]);
    // Everything but the head frozen.
    let mut design =
        netloom::document::load_design(Path::new(&example_path("resnet_mini.json"))).unwrap();
    for n in &mut design.nodes {
        n.frozen = n.name != "fc";
    }
    netloom::document::save_design(&design, &dir.join("frozen.json")).unwrap();
    let (code, out, err) = netloom(&[
        "train",
        &d("frozen.json"),
        "--data",
        &data,
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--init-weights",
        &d("a/weights.safetensors"),
        "--out",
        &d("b"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("pretrained weights: 38 matched, 0 missing"),
        "{out}"
    );
    assert!(
        err.contains("trainable parameters") && err.contains("frozen)"),
        "{err}"
    );
    let before = tch::Tensor::read_safetensors(dir.join("a/weights.safetensors")).unwrap();
    let after: std::collections::HashMap<String, tch::Tensor> =
        tch::Tensor::read_safetensors(dir.join("b/weights.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(before.len(), after.len());
    for (name, t) in &before {
        let same = t.equal(&after[name]);
        if name.starts_with("fc.") {
            assert!(!same, "{name} trained");
        } else {
            assert!(same, "{name} is frozen but changed");
        }
    }
}

/// The example of docs/transfer-learning.md, end to end: pretrain on clothing, load into a
/// design with a new 4-class head, freeze the convolutions, fine-tune on footwear and bags.
#[test]
fn pretrained_frozen_features_beat_random_frozen_features() {
    let dir = tempdir("transfer-example");
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let example = |n: &str| example_path(&format!("transfer/{n}"));
    netloom_ok(&[
        "train",
        &example("pretrain.json"),
        "--data",
        "builtin:fashion-mnist?classes=0,1,2,3,4,6",
        "--out",
        &d("pretrain"),
    ]);
    let report = netloom_ok(&[
        "train",
        &example("finetune.json"),
        "--data",
        "builtin:fashion-mnist?classes=5,7,8,9",
        "--init-weights",
        &d("pretrain/weights.safetensors"),
        "--out",
        &d("pretrained"),
    ]);
    assert!(
        report.contains("8 matched")
            && report.contains("fc3.weight: [6, 84] in the file, [4, 84] in the design"),
        "{report}"
    );
    netloom_ok(&[
        "train",
        &example("finetune.json"),
        "--data",
        "builtin:fashion-mnist?classes=5,7,8,9",
        "--out",
        &d("random"),
    ]);
    let pretrained = *val_accuracies(&dir.join("pretrained")).last().unwrap();
    let random = *val_accuracies(&dir.join("random")).last().unwrap();
    assert!(
        pretrained > random,
        "pretrained features {pretrained} vs random {random}"
    );
}

/// Discriminative fine-tuning: a node's lr_mult scales its update like a torch.optim
/// parameter group's lr, and nothing else changes.
#[test]
fn a_nodes_learning_rate_multiplier_scales_its_step() {
    let dir = tempdir("transfer-lr-mult");
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let lenet = example_path("lenet5.json");
    let one_step = |design: &str, out: &str, init: Option<&str>| {
        let mut args = vec![
            "train",
            design,
            "--optimizer",
            "sgd",
            "--lr",
            "0.05",
            "--max-steps",
            "1",
            "--out",
            out,
        ];
        if let Some(w) = init {
            args.extend(["--init-weights", w]);
        }
        netloom_ok(&args);
    };
    one_step(&lenet, &d("start"), None);
    let start = d("start/weights.safetensors");
    let mut design = netloom::document::load_design(Path::new(&lenet)).unwrap();
    for n in &mut design.nodes {
        if n.name == "fc1" {
            n.lr_mult = Some(0.1);
        }
    }
    netloom::document::save_design(&design, &dir.join("slow_fc1.json")).unwrap();
    one_step(&lenet, &d("plain"), Some(&start));
    one_step(&d("slow_fc1.json"), &d("slow"), Some(&start));
    let load = |p: &str| -> std::collections::HashMap<String, tch::Tensor> {
        tch::Tensor::read_safetensors(dir.join(p))
            .unwrap()
            .into_iter()
            .collect()
    };
    let (w0, plain, slow) = (
        load("start/weights.safetensors"),
        load("plain/weights.safetensors"),
        load("slow/weights.safetensors"),
    );
    for (name, t) in &plain {
        if name.starts_with("fc1.") {
            let full = t - &w0[name];
            let tenth = &slow[name] - &w0[name];
            let err = (&full * 0.1 - &tenth).abs().max().double_value(&[]);
            let size = full.abs().max().double_value(&[]);
            assert!(size > 0.0 && err < 1e-3 * size, "{name}: {err} of {size}");
        } else {
            assert!(t.equal(&slow[name]), "{name} changed with fc1's multiplier");
        }
    }
}

/// Gradual unfreezing from a fully frozen resnet_mini, one more block per epoch: after E
/// epochs exactly the first E blocks of unfreezing.csv's order have moved (weights, and a
/// thawed BatchNorm's running statistics), and every other tensor is bit-for-bit the start.
#[test]
fn gradual_unfreezing_thaws_exactly_one_more_block_per_epoch_from_the_head_down() {
    let dir = tempdir("transfer-unfreeze");
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    tiny_cifar(&dir.join("cifar"), 256, 64);
    let data = format!("cifar10:{}", d("cifar"));
    let common = ["--data", &data, "--batch-size", "32", "--lr", "0.05"];
    netloom_ok(
        &[
            &[
                "train",
                &example_path("resnet_mini.json"),
                "--epochs",
                "1",
                "--out",
                &d("a"),
            ][..],
            &common[..],
        ]
        .concat(),
    );
    let mut design =
        netloom::document::load_design(Path::new(&example_path("resnet_mini.json"))).unwrap();
    for n in &mut design.nodes {
        n.frozen = true;
    }
    netloom::document::save_design(&design, &dir.join("frozen.json")).unwrap();
    let start = tch::Tensor::read_safetensors(dir.join("a/weights.safetensors")).unwrap();
    let mut order: Vec<String> = Vec::new();
    for epochs in 1..=3usize {
        let out = d(&format!("run{epochs}"));
        let e = epochs.to_string();
        let (code, _, err) = netloom(
            &[
                &[
                    "train",
                    &d("frozen.json"),
                    "--epochs",
                    &e,
                    "--unfreeze-every",
                    "1",
                    "--init-weights",
                    &d("a/weights.safetensors"),
                    "--out",
                    &out,
                ][..],
                &common[..],
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(&format!("epoch {epochs}: unfroze ")), "{err}");
        // unfreezing.csv: one row per epoch, each naming one block more than the one before.
        let csv = std::fs::read_to_string(dir.join(format!("run{epochs}/unfreezing.csv"))).unwrap();
        let rows: Vec<Vec<String>> = csv
            .lines()
            .skip(1)
            .map(|l| {
                l.split(',')
                    .nth(2)
                    .unwrap()
                    .split(' ')
                    .map(str::to_owned)
                    .collect()
            })
            .collect();
        assert_eq!(rows.len(), epochs, "{csv}");
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row.len(), i + 1, "{csv}");
            assert_eq!(row[..i], rows.last().unwrap()[..i], "{csv}");
        }
        if order.len() < epochs {
            order = rows.last().unwrap().clone();
        }
        assert_eq!(order[0], "fc", "the head thaws first: {csv}");
        let thawed = &order[..epochs];
        let after: std::collections::HashMap<String, tch::Tensor> =
            tch::Tensor::read_safetensors(dir.join(format!("run{epochs}/weights.safetensors")))
                .unwrap()
                .into_iter()
                .collect();
        let mut moved = std::collections::BTreeSet::new();
        for (name, t) in &start {
            let node = name.rsplit_once('.').unwrap().0;
            if t.equal(&after[name]) {
                assert!(
                    !thawed.iter().any(|b| b == node),
                    "after {epochs} epoch(s) {name} is in a thawed block but didn't train"
                );
            } else {
                assert!(
                    thawed.iter().any(|b| b == node),
                    "after {epochs} epoch(s) {name} changed but its block is still frozen (thawed: {thawed:?})"
                );
                moved.insert(node.to_owned());
            }
        }
        assert_eq!(moved.len(), epochs, "blocks that moved: {moved:?}");
    }
}
