//! `netloom export`: the PyTorch module, the ONNX file and the TorchScript file of every
//! example and of the resnet18 and vgg11_bn templates compute what `netloom forward` computes;
//! torchvision's resnet18 loads into the exported module; the exported training script trains
//! alone and under torchrun and its weights come back into netloom; bad input is refused with
//! nothing left behind. The Python side is tests/reference/export_check.py.
#![allow(clippy::unwrap_used)]

mod common;

use common::run::{example_path, netloom, netloom_ok, python, reference, tempdir};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Exports `design` three ways with random weights (made by the exported model.py, with
/// non-trivial BatchNorm statistics) and runs `netloom forward` on batches of 1 and 7.
fn export_all(design: &str, data: Option<&str>, dir: &Path) {
    let mut args = vec!["export", design, "--format", "pytorch", "--out", s(dir)];
    if let Some(spec) = data {
        args.extend(["--data", spec]);
    }
    netloom_ok(&args);
    python(&reference("export_check.py"), &["weights", s(dir)]);
    let w = dir.join("w.safetensors");
    for (format, file) in [("onnx", "model.onnx"), ("torchscript", "model.pt")] {
        netloom_ok(&[
            "export", design, "--format", format, "--weights", s(&w), "--out", s(&dir.join(file)),
        ]);
    }
    for n in ["1", "7"] {
        netloom_ok(&[
            "forward",
            design,
            "--weights",
            s(&w),
            "--input",
            s(&dir.join(format!("x{n}.npy"))),
            "--output",
            s(&dir.join(format!("y{n}.npy"))),
        ]);
    }
}

fn template(name: &str, input: &str, classes: &str, to: &Path) -> String {
    netloom_ok(&["template", name, "--input", input, "--classes", classes, "-o", s(to)]);
    s(to).to_owned()
}

#[test]
fn every_example_and_the_big_templates_export_to_pytorch_onnx_and_torchscript_exactly() {
    let root = tempdir("export-all");
    // The CIFAR-shaped examples standardise their input: the exporter fits that on their data.
    common::run::tiny_cifar(&root.join("cifar"), 40, 20);
    let cifar = format!("cifar10:{}", s(&root.join("cifar")));
    let mut designs: Vec<(String, String)> = [
        "lenet5.json",
        "two_layer_mlp.json",
        "vgg_small.json",
        "resnet_mini.json",
        "transfer/pretrain.json",
        "transfer/finetune.json",
    ]
    .iter()
    .map(|n| (n.replace(['/', '.'], "_"), example_path(n)))
    .collect();
    designs.push((
        "resnet18".into(),
        template("resnet18", "3,64,64", "10", &root.join("resnet18.json")),
    ));
    designs.push((
        "vgg11_bn".into(),
        template("vgg11_bn", "3,32,32", "10", &root.join("vgg11_bn.json")),
    ));
    let mut dirs = Vec::new();
    for (tag, design) in &designs {
        let dir = root.join(tag);
        let rgb = ["vgg_small_json", "resnet_mini_json"].contains(&tag.as_str());
        export_all(design, rgb.then_some(cifar.as_str()), &dir);
        for f in ["model.py", "train.py", "design.json", "preprocessor.json", "model.onnx", "model.pt"] {
            assert!(dir.join(f).is_file(), "{tag}: {f} missing");
        }
        dirs.push(dir.to_str().unwrap().to_owned());
    }
    let mut args = vec!["compare"];
    args.extend(dirs.iter().map(String::as_str));
    let report = python(&reference("export_check.py"), &args);
    assert_eq!(report.lines().count(), designs.len(), "{report}");
}

#[test]
fn torchvision_resnet18_loads_strictly_into_the_exported_module() {
    let root = tempdir("export-torchvision");
    let design = template("resnet18", "3,64,64", "1000", &root.join("r.json"));
    let dir = root.join("py");
    netloom_ok(&["export", &design, "--format", "pytorch", "--out", s(&dir)]);
    let out = python(&reference("export_check.py"), &["torchvision", s(&dir)]);
    assert!(out.contains("loads strictly"), "{out}");
    // Nested modules as torchvision lays them out, one readable line per node.
    let model = std::fs::read_to_string(dir.join("model.py")).unwrap();
    assert!(model.contains("self.layer1[\"0\"].conv1 = nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False)"), "{model}");
    assert!(model.contains("layer1_0_conv1 = self.layer1[\"0\"].conv1(maxpool)"), "{model}");
}

/// Runs the exported train.py with the provisioned Python (`torchrun` as its module, which is
/// what the `torchrun` command runs), in the export folder; returns stdout.
fn train_py(dir: &Path, launcher: &[&str], args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .args(launcher)
        .arg("train.py")
        .args(args)
        .current_dir(dir)
        .env("OMP_NUM_THREADS", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "train.py {args:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The accuracy train.py printed last, in percent.
fn printed_accuracy(out: &str) -> f64 {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("validation accuracy "))
        .unwrap_or_else(|| panic!("no accuracy in:\n{out}"));
    line.trim_end_matches('%').parse().unwrap()
}

/// The accuracy `netloom eval` reports for a run folder's weights, in percent.
fn netloom_accuracy(run: &Path) -> f64 {
    let out = netloom_ok(&[
        "eval",
        s(&run.join("design.json")),
        "--weights",
        s(&run.join("weights.safetensors")),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["accuracy"].as_f64().unwrap() * 100.0
}

/// The step rows' losses in a run's metrics.csv.
fn step_losses(run: &Path) -> Vec<f64> {
    common::run::metrics(run)
        .iter()
        .filter(|r| r[0] == "step")
        .map(|r| r[4].parse().unwrap())
        .collect()
}

#[test]
fn the_exported_script_trains_alone_and_under_torchrun_and_its_weights_come_back() {
    let dir = tempdir("export-train");
    let py = dir.join("lenet");
    netloom_ok(&["export", &example_path("lenet5.json"), "--format", "pytorch", "--out", s(&py)]);
    // The built-in set travels with the script, as IDX files.
    assert!(py.join("data/train-images-idx3-ubyte.gz").is_file());
    for (tag, launcher) in [
        ("alone", vec![]),
        ("torchrun", vec!["-m", "torch.distributed.run", "--nproc_per_node=2"]),
    ] {
        let out = train_py(&py, &launcher, &["--epochs", "1", "--out", tag]);
        let run = py.join(tag);
        let losses = step_losses(&run);
        assert!(losses.len() > 5, "{tag}: {losses:?}");
        assert!(losses[losses.len() - 1] < 0.6 * losses[0], "{tag}: the loss did not fall: {losses:?}");
        // Every rank ends with the same weights.
        let digests: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("weights sha256"))
            .filter_map(|l| l.split_whitespace().last())
            .collect();
        let ranks = if tag == "alone" { 1 } else { 2 };
        assert_eq!(digests.len(), ranks, "{tag}:\n{out}");
        assert!(digests.iter().all(|d| *d == digests[0]), "{tag}: ranks differ:\n{out}");
        // netloom reads the run: its metrics, and its weights give the accuracy printed.
        let printed = printed_accuracy(&out);
        let evaluated = netloom_accuracy(&run);
        assert!(
            (printed - evaluated).abs() <= 0.5,
            "{tag}: train.py printed {printed}%, netloom eval says {evaluated}%"
        );
        assert!(printed > 60.0, "{tag}: {printed}%");
    }
}

#[test]
fn netloom_and_the_exported_script_reach_the_same_accuracy() {
    let dir = tempdir("export-parity");
    let py = dir.join("lenet");
    netloom_ok(&["export", &example_path("lenet5.json"), "--format", "pytorch", "--out", s(&py)]);
    let out = train_py(&py, &[], &["--epochs", "3", "--out", "run"]);
    let script = printed_accuracy(&out);
    let run = dir.join("netloom-run");
    netloom_ok(&[
        "train",
        &example_path("lenet5.json"),
        "--epochs",
        "3",
        "--device",
        "cpu",
        "--out",
        s(&run),
    ]);
    let own = 100.0 * common::run::val_accuracies(&run).last().copied().unwrap();
    assert!(
        (own - script).abs() <= 2.0,
        "after 3 epochs netloom reached {own:.2}%, the exported script {script:.2}%"
    );
}
