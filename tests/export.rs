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
            "export",
            design,
            "--format",
            format,
            "--weights",
            s(&w),
            "--out",
            s(&dir.join(file)),
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

/// A strided convolution down, transposed convolutions back up (ONNX ConvTranspose with
/// output_padding, groups and dilation), Upsample three ways (ONNX Resize: nearest by a
/// fractional scale, bilinear to a size, bilinear with corners aligned), a CropPad that pads
/// two sides and crops two (ONNX Pad with negative pads), then a classifier.
fn upsampling(to: &Path) -> String {
    use netloom::design::*;
    let mut down = Conv2d::new(8, 3);
    down.stride = Pair::Same(2);
    down.padding = Pair::Same(1);
    let mut up = ConvTranspose2d::new(8, 3, 2);
    up.padding = Pair::Same(1);
    up.output_padding = Pair::Same(1);
    up.groups = 2;
    let mut dilated = ConvTranspose2d::new(4, 2, 1);
    dilated.dilation = Pair::Same(2);
    dilated.bias = false;
    let d = common::reference::chain(
        InputOp::image(1, 28, 28),
        vec![
            ("down", Op::Conv2d(down)),
            ("relu", Op::Activation(Activation::new(ActivationFn::Relu))),
            ("up", Op::ConvTranspose2d(up)),
            ("dilated", Op::ConvTranspose2d(dilated)),
            (
                "nearest",
                Op::Upsample(Upsample::scale(UpsampleMode::Nearest, 1.5)),
            ),
            (
                "bilinear",
                Op::Upsample(Upsample {
                    mode: UpsampleMode::Bilinear,
                    scale_factor: None,
                    size: Some(Pair::HW(20, 24)),
                    align_corners: false,
                }),
            ),
            (
                "corners",
                Op::Upsample(Upsample {
                    mode: UpsampleMode::Bilinear,
                    scale_factor: Some(2.0),
                    size: None,
                    align_corners: true,
                }),
            ),
            (
                "crop",
                Op::CropPad(CropPad {
                    top: -1,
                    bottom: 2,
                    left: 1,
                    right: -3,
                }),
            ),
            (
                "pool",
                Op::AdaptiveAvgPool2d(AdaptivePool2d {
                    output_size: Pair::Same(2),
                }),
            ),
            ("flatten", Op::Flatten(Flatten {})),
            ("fc", Op::Linear(Linear::new(10))),
            ("output", Op::Output(OutputOp::default())),
        ],
    );
    std::fs::write(to, to_json(&d)).unwrap();
    s(to).to_owned()
}

fn template(name: &str, input: &str, classes: &str, to: &Path) -> String {
    netloom_ok(&[
        "template",
        name,
        "--input",
        input,
        "--classes",
        classes,
        "-o",
        s(to),
    ]);
    s(to).to_owned()
}

#[test]
fn every_example_and_the_big_templates_export_to_pytorch_onnx_and_torchscript_exactly() {
    let root = tempdir("export-all");
    let _cleanup = common::run::RemovedOnPass(root.clone());
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
    // ReLU6 (ONNX Clip), Hardswish, Hardsigmoid and the squeeze-and-excitation Mul; RegNet's
    // module names with a hyphen (`block1-0`), which Python reaches as ModuleDict keys;
    // ConvNeXt's LayerNorm over channels (LayerNorm2d in model.py, Transposes around
    // LayerNormalization in ONNX), GELU and layer scale (a parameter of a ModuleDict).
    for name in [
        "mobilenet_v2",
        "mobilenet_v3_small",
        "regnet_y_400mf",
        "convnext_tiny",
    ] {
        let path = root.join(format!("{name}.json"));
        designs.push((name.into(), template(name, "3,64,64", "10", &path)));
    }
    designs.push((
        "upsampling".into(),
        upsampling(&root.join("upsampling.json")),
    ));
    let mut dirs = Vec::new();
    for (tag, design) in &designs {
        let dir = root.join(tag);
        // Each on the data it is made for (docs/transfer-learning.md for the transfer pair):
        // the export checks the data against the design, as train does.
        let data = match tag.as_str() {
            "vgg_small_json" | "resnet_mini_json" => Some(cifar.as_str()),
            "transfer_pretrain_json" => Some("builtin:fashion-mnist?classes=0,1,2,3,4,6"),
            "transfer_finetune_json" => Some("builtin:fashion-mnist?classes=5,7,8,9"),
            _ => None,
        };
        export_all(design, data, &dir);
        for f in [
            "model.py",
            "train.py",
            "design.json",
            "preprocessor.json",
            "model.onnx",
            "model.pt",
        ] {
            assert!(dir.join(f).is_file(), "{tag}: {f} missing");
        }
        dirs.push(dir.to_str().unwrap().to_owned());
    }
    let mut args = vec!["compare"];
    args.extend(dirs.iter().map(String::as_str));
    let report = python(&reference("export_check.py"), &args);
    assert_eq!(report.lines().count(), designs.len(), "{report}");
    // The TorchScript files load in libtorch's C++ API too (tch is its binding).
    for dir in &dirs {
        torchscript_in_libtorch(Path::new(dir));
    }
}

/// Loads DIR/model.pt with libtorch's `torch::jit::load` and checks it against netloom's
/// forward on the batch of 7.
fn torchscript_in_libtorch(dir: &Path) {
    use netloom::engine::npy;
    let module = tch::CModule::load(dir.join("model.pt")).unwrap();
    let x = npy::read(&dir.join("x7.npy")).unwrap();
    let want = npy::read(&dir.join("y7.npy")).unwrap();
    let dims: Vec<i64> = x.shape.iter().map(|&d| d as i64).collect();
    let input = tch::Tensor::from_slice(&x.data).view(dims.as_slice());
    let got = tch::no_grad(|| module.forward_ts(&[input])).unwrap();
    let got: Vec<f32> = Vec::try_from(got.flatten(0, -1)).unwrap();
    let scale = want.data.iter().fold(1e-12f32, |m, v| m.max(v.abs()));
    let err = got
        .iter()
        .zip(&want.data)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
        / scale;
    assert_eq!(got.len(), want.data.len(), "{}", dir.display());
    assert!(
        err <= 1e-5,
        "{}: libtorch's TorchScript is off by {err}",
        dir.display()
    );
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
    assert!(
        model.contains(
            "self.layer1[\"0\"].conv1 = nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False)"
        ),
        "{model}"
    );
    assert!(
        model.contains("layer1_0_conv1 = self.layer1[\"0\"].conv1(maxpool)"),
        "{model}"
    );
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

/// LeNet-5 exported as PyTorch code into `dir/lenet`.
fn lenet_export(dir: &Path) -> std::path::PathBuf {
    let py = dir.join("lenet");
    netloom_ok(&[
        "export",
        &example_path("lenet5.json"),
        "--format",
        "pytorch",
        "--out",
        s(&py),
    ]);
    py
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
    let py = lenet_export(&dir);
    // The built-in set travels with the script, as IDX files.
    assert!(py.join("data/train-images-idx3-ubyte.gz").is_file());
    for (tag, launcher) in [
        ("alone", vec![]),
        (
            "torchrun",
            vec![
                "-m",
                "torch.distributed.run",
                "--standalone",
                "--nproc_per_node=2",
            ],
        ),
    ] {
        let out = train_py(&py, &launcher, &["--epochs", "1", "--out", tag]);
        let run = py.join(tag);
        let losses = step_losses(&run);
        assert!(losses.len() > 5, "{tag}: {losses:?}");
        assert!(
            losses[losses.len() - 1] < 0.6 * losses[0],
            "{tag}: the loss did not fall: {losses:?}"
        );
        // Every rank ends with the same weights.
        // The ranks' lines can interleave mid-line (two processes share stdout), so each
        // digest is the 64 hex digits after its marker, wherever the line breaks.
        let digests: Vec<&str> = out
            .match_indices("weights sha256 ")
            .filter_map(|(i, m)| out.get(i + m.len()..i + m.len() + 64))
            .collect();
        let ranks = if tag == "alone" { 1 } else { 2 };
        assert_eq!(digests.len(), ranks, "{tag}:\n{out}");
        assert!(
            digests.iter().all(|d| *d == digests[0]),
            "{tag}: ranks differ:\n{out}"
        );
        // netloom reads the run: its metrics, and its weights give the accuracy printed.
        let printed = printed_accuracy(&out);
        let evaluated = netloom_accuracy(&run);
        assert!(
            (printed - evaluated).abs() <= 0.5,
            "{tag}: train.py printed {printed}%, netloom eval says {evaluated}%"
        );
        assert!(printed > 60.0, "{tag}: {printed}%");
        // The app's reader (File → Open run folder…) takes the run as it takes its own.
        let opened = netloom::engine::RunHistory::from_metrics_csv(tag.to_owned(), &run).unwrap();
        assert_eq!(opened.epochs.len(), 1);
        assert!((opened.epochs[0].val_acc * 100.0 - printed).abs() < 0.01);
    }
}

#[test]
fn netloom_and_the_exported_script_reach_the_same_accuracy() {
    let dir = tempdir("export-parity");
    let py = lenet_export(&dir);
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

/// The example LeNet-5's JSON, changed by `edit`, written to `to`.
fn lenet_edited(to: &Path, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let text = std::fs::read_to_string(example_path("lenet5.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut v);
    std::fs::write(to, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    s(to).to_owned()
}

fn rename(v: &mut serde_json::Value, from: &str, to: &str) {
    for n in v["nodes"].as_array_mut().unwrap() {
        if n["name"] == from {
            n["name"] = to.into();
        }
    }
}

/// Nothing named `name` (or a staging leftover of it) is in `dir`.
fn nothing_left(dir: &Path, name: &str) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(name))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn an_invalid_design_exits_1_naming_the_node_with_nothing_written() {
    let dir = tempdir("export-invalid");
    // An invalid design: fc2 loses its input. Exit 1, the node named, nothing at PATH.
    let broken = lenet_edited(&dir.join("broken.json"), |v| {
        let id = v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == "fc2")
            .unwrap()["id"]
            .clone();
        v["edges"].as_array_mut().unwrap().retain(|e| e["to"] != id);
    });
    for format in ["pytorch", "onnx", "torchscript"] {
        let out = dir.join(format!("out-{format}"));
        let (code, _, err) = netloom(&[
            "export",
            &broken,
            "--format",
            format,
            "--weights",
            &broken,
            "--out",
            s(&out),
        ]);
        assert_eq!(code, 1, "{format}: {err}");
        // The first problem, naming its node: fc2's input (relu3) now leads nowhere.
        assert!(
            err.contains("relu3") && err.contains("wire it onward"),
            "{format}: {err}"
        );
        nothing_left(&dir, &format!("out-{format}"));
    }
}

/// A run of the two-layer MLP in `dir`, for its weights and its folder.
fn mlp_run(dir: &Path) -> std::path::PathBuf {
    let mlp_run = dir.join("mlp-run");
    netloom_ok(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--out",
        s(&mlp_run),
    ]);
    mlp_run
}

#[test]
fn weights_of_another_design_exit_1_and_a_run_folder_exports_with_its_own() {
    let dir = tempdir("export-weights");
    let lenet = example_path("lenet5.json");
    let mlp_run = mlp_run(&dir);
    let foreign = mlp_run.join("weights.safetensors");
    // A run folder is a source of its own: its design, best weights and fitted preprocessing.
    let from_run = dir.join("from-run");
    netloom_ok(&[
        "export",
        s(&mlp_run),
        "--format",
        "pytorch",
        "--out",
        s(&from_run),
    ]);
    assert_eq!(
        std::fs::read(from_run.join("preprocessor.json")).unwrap(),
        std::fs::read(mlp_run.join("preprocessor.json")).unwrap()
    );
    assert!(from_run.join("weights.safetensors").is_file());
    netloom_ok(&[
        "export",
        s(&mlp_run),
        "--format",
        "onnx",
        "--out",
        s(&dir.join("from-run.onnx")),
    ]);
    for format in ["pytorch", "onnx", "torchscript"] {
        let out = dir.join(format!("foreign-{format}"));
        let (code, _, err) = netloom(&[
            "export",
            &lenet,
            "--format",
            format,
            "--weights",
            s(&foreign),
            "--out",
            s(&out),
        ]);
        assert_eq!(code, 1, "{format}: {err}");
        assert!(err.contains("different design"), "{format}: {err}");
        nothing_left(&dir, &format!("foreign-{format}"));
    }
}

/// Whether `err` is a refusal of the destination (a file where a folder should be, a missing
/// folder, a folder of the user's, a folder where a file should be).
fn refused_destination(err: &str) -> bool {
    [
        "is not a folder",
        "does not exist",
        "didn't write",
        "in the way",
    ]
    .iter()
    .any(|said| err.contains(said))
}

#[test]
fn unreadable_input_and_unwritable_destinations_exit_2_with_nothing_half_written() {
    let dir = tempdir("export-unreadable");
    let lenet = example_path("lenet5.json");
    let foreign = mlp_run(&dir).join("weights.safetensors");
    // Unreadable input: exit 2.
    std::fs::write(dir.join("garbage.safetensors"), b"not a tensor file at all").unwrap();
    std::fs::write(dir.join("malformed.json"), b"{\"format\": ").unwrap();
    for (args, says) in [
        (
            vec![
                "export",
                s(&dir.join("missing.json")),
                "--format",
                "pytorch",
            ],
            "missing.json",
        ),
        (
            vec![
                "export",
                s(&dir.join("malformed.json")),
                "--format",
                "pytorch",
            ],
            "malformed.json",
        ),
        (vec!["export", &lenet, "--format", "onnx"], "weights"),
        (
            vec![
                "export",
                &lenet,
                "--format",
                "onnx",
                "--weights",
                s(&dir.join("nope.safetensors")),
            ],
            "nope.safetensors",
        ),
        (
            vec![
                "export",
                &lenet,
                "--format",
                "onnx",
                "--weights",
                s(&dir.join("garbage.safetensors")),
            ],
            "garbage.safetensors",
        ),
    ] {
        let out = dir.join("unreadable.onnx");
        let mut args = args;
        args.extend(["--out", s(&out)]);
        let (code, _, err) = netloom(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!out.exists());
    }
    // A destination that can't be written: exit 2, and a folder of the user's is never replaced.
    std::fs::write(dir.join("a-file"), b"x").unwrap();
    let mine = dir.join("my-folder");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), b"keep me").unwrap();
    let mlp = example_path("two_layer_mlp.json");
    for (format, out) in [
        ("pytorch", dir.join("a-file/sub")),
        ("pytorch", dir.join("no/such/folder")),
        ("pytorch", mine.clone()),
        ("onnx", mine.clone()),
    ] {
        let (code, _, err) = netloom(&[
            "export",
            &mlp,
            "--format",
            format,
            "--weights",
            s(&foreign),
            "--out",
            s(&out),
        ]);
        assert_eq!(code, 2, "{format} {}: {err}", out.display());
        assert!(refused_destination(&err), "{err}");
    }
    assert_eq!(std::fs::read(mine.join("notes.txt")).unwrap(), b"keep me");
    assert_eq!(std::fs::read_dir(&mine).unwrap().count(), 1);
    nothing_left(&dir, ".partial");
    // A second export to the same folder replaces the first.
    let again = dir.join("again");
    netloom_ok(&["export", &mlp, "--format", "pytorch", "--out", s(&again)]);
    netloom_ok(&[
        "export",
        &mlp,
        "--format",
        "pytorch",
        "--weights",
        s(&foreign),
        "--out",
        s(&again),
    ]);
    assert!(again.join("weights.safetensors").is_file());
}

#[test]
fn hostile_names_and_strings_cannot_break_the_generated_code() {
    let dir = tempdir("export-hostile");
    // Valid node names that are Python keywords or nn.Module's own attributes.
    let design = lenet_edited(&dir.join("hostile.json"), |v| {
        for (from, to) in [
            ("conv1", "in"),
            ("relu1", "eval"),
            ("pool1", "forward.train.0"),
            ("conv2", "lambda.state_dict"),
            ("flatten", "x"),
            ("fc1", "self"),
            ("fc2", "torch"),
            ("fc3", "parameters"),
        ] {
            rename(v, from, to);
        }
    });
    let py = dir.join("py");
    export_all(&design, None, &py);
    let report = python(&reference("export_check.py"), &["compare", s(&py)]);
    assert!(report.contains("worst relative error"), "{report}");
    // A data path full of quotes, backslashes, a newline and non-ASCII stays one string.
    let plain = lenet_edited(&dir.join("plain.json"), |v| {
        v["data"]["preprocessing"] = serde_json::json!({"method": "none"});
    });
    let hostile = "/tmp/netloom \"q\" 'p'\\\"\"\"\n)); import os #é😀/x";
    let out = dir.join("data-path");
    netloom_ok(&[
        "export",
        &plain,
        "--format",
        "pytorch",
        "--data",
        &format!("idx:{hostile}"),
        "--out",
        s(&out),
    ]);
    let said = python(
        &reference("export_check.py"),
        &["datapath", s(&out), hostile],
    );
    assert!(said.contains("survives"), "{said}");
    // Names that aren't identifiers never get that far: the design is refused, naming them.
    let bad = lenet_edited(&dir.join("bad.json"), |v| {
        rename(v, "conv1", "a\"); import os; (\"")
    });
    let (code, _, err) = netloom(&[
        "export",
        &bad,
        "--format",
        "pytorch",
        "--out",
        s(&dir.join("bad")),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("import os"), "{err}");
    assert!(!dir.join("bad").exists());
}

/// Every augmentation op, every optimizer setting train.py maps, a frozen BatchNorm and a
/// learning-rate factor: the exported script runs them all (on a tiny CIFAR-format set) and
/// its metrics.csv has netloom's rows.
#[test]
fn the_exported_script_runs_every_augmentation_and_setting() {
    let dir = tempdir("export-augment");
    common::run::tiny_cifar(&dir.join("cifar"), 48, 16);
    let text = std::fs::read_to_string(example_path("resnet_mini.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["data"]["augmentation"] = serde_json::json!([
        {"op": "horizontal_flip", "p": 0.5},
        {"op": "vertical_flip", "p": 0.5},
        {"op": "rotate", "degrees": 15.0},
        {"op": "scale", "min": 0.8, "max": 1.2},
        {"op": "scale", "min": 0.9, "max": 1.1, "aspect": 0.1},
        {"op": "shear", "degrees": 10.0},
        {"op": "translate", "fraction": 0.1},
        {"op": "lens", "k": 0.2},
        {"op": "random_crop", "padding": 4},
        {"op": "cutout", "min": 0.1, "max": 0.3, "p": 0.5},
        {"op": "noise", "std": 0.02},
        {"op": "brightness", "delta": 0.1},
        {"op": "contrast", "factor": 0.2},
        {"op": "saturation", "factor": 0.2},
        {"op": "hue", "delta": 0.05},
        {"op": "pca_color", "std": 0.1}
    ]);
    v["training"]["optimizer"] = "nesterov".into();
    v["training"]["momentum"] = 0.9.into();
    v["training"]["weight_decay"] = 5e-4.into();
    v["training"]["schedule"] = serde_json::json!({"kind": "cosine", "min_lr": 0.001});
    v["training"]["warmup_steps"] = 2.into();
    v["training"]["clip_grad_norm"] = 1.0.into();
    v["training"]["init"] = "kaiming".into();
    v["training"]["batch_size"] = 16.into();
    for n in v["nodes"].as_array_mut().unwrap() {
        if n["op"]["type"] == "batch_norm" {
            n["frozen"] = true.into();
            break;
        }
    }
    for n in v["nodes"].as_array_mut().unwrap() {
        if n["op"]["type"] == "conv2d" {
            n["lr_mult"] = 0.1.into();
            break;
        }
    }
    let design = dir.join("augmented.json");
    std::fs::write(&design, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let py = dir.join("py");
    let cifar = format!("cifar10:{}", s(&dir.join("cifar")));
    netloom_ok(&[
        "export",
        s(&design),
        "--format",
        "pytorch",
        "--data",
        &cifar,
        "--out",
        s(&py),
    ]);
    let script = std::fs::read_to_string(py.join("train.py")).unwrap();
    assert!(script.contains("\"optimizer\": \"nesterov\""), "{script}");
    assert!(
        script.contains("FROZEN = {\""),
        "a frozen BatchNorm: {script}"
    );
    assert!(
        script.contains("LR_MULT = {\""),
        "a learning-rate factor: {script}"
    );
    let out = train_py(
        &py,
        &[],
        &["--epochs", "2", "--log-every", "1", "--out", "run"],
    );
    assert!(out.contains("epoch 2/2"), "{out}");
    let rows = common::run::metrics(&py.join("run"));
    assert_eq!(rows.iter().filter(|r| r[0] == "epoch").count(), 2);
    // Warm-up then cosine, at netloom's rates (netloom's learning_rate() at steps 0 and 1).
    let lrs: Vec<f64> = rows
        .iter()
        .filter(|r| r[0] == "step")
        .map(|r| r[3].parse().unwrap())
        .collect();
    let settings: netloom::design::TrainingSettings =
        serde_json::from_value(v["training"].clone()).unwrap();
    for (step, lr) in lrs.iter().enumerate().take(4) {
        let want = netloom::engine::learning_rate(&settings, step as u64, 3);
        assert!(
            (lr - want).abs() < 1e-9,
            "step {step}: {lr} against netloom's {want}"
        );
    }
}

/// Data that doesn't fit the design is said in words before training starts: the fine-tuning
/// example has 4 outputs, the built-in set 10 classes; with the classes it was made for, it trains.
#[test]
fn the_exported_script_says_when_the_data_does_not_fit() {
    let dir = tempdir("export-misfit");
    let shipped = example_path("transfer/finetune.json");
    // The example records the classes it was made for; without that record the default (all
    // ten) doesn't fit its four outputs.
    let bare = dir.join("finetune-no-data.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&shipped).unwrap()).unwrap();
    v["data"].as_object_mut().unwrap().remove("source");
    std::fs::write(&bare, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let design = s(&bare).to_owned();
    let design = design.as_str();
    let ft = dir.join("all-classes");
    // No data named, and the default doesn't fit. This design standardises its input, which
    // needs data to fit on: refused, saying why.
    let (code, _, said) = netloom(&["export", design, "--format", "pytorch", "--out", s(&ft)]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("there is none here to fit it on"), "{said}");
    assert!(said.contains("has 10 classes"), "{said}");
    // Without standardising, the code is written, train.py without data, and both the export
    // and train.py say why.
    let plain = dir.join("plain.json");
    let text = std::fs::read_to_string(design).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["data"]["preprocessing"] = serde_json::json!({"method": "none"});
    std::fs::write(&plain, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let (code, _, said) = netloom(&["export", s(&plain), "--format", "pytorch", "--out", s(&ft)]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("note: train.py has no data"), "{said}");
    assert!(said.contains("has 10 classes"), "{said}");
    let run = std::process::Command::new("python3")
        .args(["train.py", "--epochs", "1"])
        .current_dir(&ft)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success()
            && err.contains("train.py has no data")
            && err.contains("has 10 classes"),
        "{err}"
    );
    assert!(!ft.join("run/weights.safetensors").exists());
    // The same data named: refused, as train refuses it.
    let named = dir.join("named");
    let (code, _, err) = netloom(&[
        "export",
        design,
        "--format",
        "pytorch",
        "--data",
        "builtin:fashion-mnist",
        "--out",
        s(&named),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("train.py couldn't train on builtin:fashion-mnist"),
        "{err}"
    );
    assert!(!named.exists());
    let fits = dir.join("four-classes");
    let spec = "builtin:fashion-mnist?classes=5,7,8,9";
    netloom_ok(&[
        "export",
        design,
        "--format",
        "pytorch",
        "--data",
        spec,
        "--out",
        s(&fits),
    ]);
    let out = train_py(&fits, &[], &["--epochs", "1"]);
    assert!(printed_accuracy(&out) > 50.0, "{out}");
    // The shipped file records those classes: with no --data it exports that data.
    let recorded = dir.join("recorded");
    netloom_ok(&[
        "export",
        &shipped,
        "--format",
        "pytorch",
        "--out",
        s(&recorded),
    ]);
    let py = std::fs::read_to_string(recorded.join("train.py")).unwrap();
    assert!(
        py.contains("[5, 7, 8, 9]") || py.contains("5, 7, 8, 9"),
        "the classes"
    );
}

/// Puts a BatchNorm named `name` right after node `after` (by id), rewiring what `after` fed.
fn insert_batch_norm(v: &mut serde_json::Value, after: u64, name: &str) {
    let id = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .max()
        .unwrap()
        + 1;
    for e in v["edges"].as_array_mut().unwrap() {
        if e["from"] == after {
            e["from"] = id.into();
        }
    }
    v["edges"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"from": after, "to": id, "port": 0}));
    v["nodes"].as_array_mut().unwrap().push(serde_json::json!({
        "id": id, "name": name, "op": {"type": "batch_norm"}, "pos": [0.0, 0.0]
    }));
}

#[test]
fn under_torchrun_with_batchnorm_the_printed_accuracy_is_the_saved_weights_to_the_digit() {
    let dir = tempdir("export-torchrun-bn");
    // LeNet-5 with BatchNorm after each convolution: each rank's batches run up statistics of
    // their own, which train.py used to score its half of the split with.
    let design = lenet_edited(&dir.join("lenet_bn.json"), |v| {
        insert_batch_norm(v, 2, "bn1");
        insert_batch_norm(v, 5, "bn2");
    });
    let py = dir.join("py");
    netloom_ok(&["export", &design, "--format", "pytorch", "--out", s(&py)]);
    let out = train_py(
        &py,
        &[
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
        ],
        &["--epochs", "1", "--out", "run"],
    );
    let printed = out
        .lines()
        .find_map(|l| l.strip_prefix("validation accuracy "))
        .unwrap_or_else(|| panic!("no accuracy in:\n{out}"))
        .trim()
        .to_owned();
    let run = py.join("run");
    let eval = netloom_ok(&[
        "eval",
        s(&run.join("design.json")),
        "--weights",
        s(&run.join("best.safetensors")),
        "--data",
        &format!("idx:{}", py.join("data").display()),
    ]);
    let evaluated = eval
        .lines()
        .find_map(|l| l.strip_prefix("accuracy"))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(
        printed, evaluated,
        "train.py printed {printed}, netloom eval of best.safetensors says {evaluated}"
    );
}

#[test]
fn export_refuses_data_that_cannot_train_the_design_and_says_what_a_run_folder_lacks() {
    let dir = tempdir("export-misfit");
    let vgg = template("vgg11_bn", "3,64,64", "10", &dir.join("vgg.json"));
    let out = dir.join("py");
    let (code, _, err) = netloom(&[
        "export",
        &vgg,
        "--format",
        "pytorch",
        "--data",
        "builtin:fashion-mnist",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("train.py couldn't train on builtin:fashion-mnist"),
        "{err}"
    );
    assert!(err.contains("3×64×64"), "{err}");
    assert!(!out.exists(), "written anyway");
    // A run stopped before its first epoch ended: what it lacks, and what to pass instead.
    let run = dir.join("run");
    netloom_ok(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--max-steps",
        "2",
        "--out",
        s(&run),
    ]);
    let (code, _, err) = netloom(&[
        "export",
        s(&run),
        "--format",
        "onnx",
        "--out",
        s(&dir.join("m.onnx")),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has no best.safetensors yet"), "{err}");
    assert!(err.contains("weights.safetensors"), "{err}");
    assert!(!err.contains("or export a run folder"), "{err}");
}

#[test]
fn names_every_nn_module_has_export_or_are_refused_with_the_reason() {
    let dir = tempdir("export-module-names");
    // Every attribute of torch.nn.Module and nn.ModuleDict, read from the provisioned torch.
    let names = python(&reference("module_names.py"), &[]);
    let names: Vec<&str> = names.split_whitespace().collect();
    assert!(
        names.contains(&"training") && names.contains(&"type"),
        "{names:?}"
    );
    // A chain of Linear(8, 8) layers, each named after one attribute.
    let mut nodes = vec![serde_json::json!(
        {"id": 1, "name": "inp", "op": {"type": "input", "features": 2}})];
    let mut edges = Vec::new();
    let chain: Vec<&str> = names.iter().copied().filter(|n| *n != "training").collect();
    for (i, name) in chain.iter().enumerate() {
        let id = i as u64 + 2;
        let width = if i + 1 == chain.len() { 3 } else { 8 };
        nodes.push(serde_json::json!(
            {"id": id, "name": name, "op": {"type": "linear", "out_features": width}}));
        edges.push(serde_json::json!({"from": id - 1, "to": id}));
    }
    let last = chain.len() as u64 + 2;
    nodes.push(serde_json::json!({"id": last, "name": "out", "op": {"type": "output"}}));
    edges.push(serde_json::json!({"from": last - 1, "to": last}));
    let design = serde_json::json!({
        "format": "netloom-design", "version": 3, "nodes": nodes, "edges": edges,
        "training": {"epochs": 1}});
    let path = dir.join("names.json");
    std::fs::write(&path, serde_json::to_string_pretty(&design).unwrap()).unwrap();
    let run = dir.join("run");
    netloom_ok(&["train", s(&path), "--data", "toy:spiral", "--out", s(&run)]);
    let py = dir.join("py");
    netloom_ok(&["export", s(&run), "--format", "pytorch", "--out", s(&py)]);
    // model.py builds, switches to eval mode, loads netloom's weights strictly and computes
    // what netloom computes.
    let x = netloom::engine::npy::NpyArray {
        shape: vec![3, 2],
        data: vec![0.5, -1.0, 2.0, 0.25, -0.75, 1.5],
    };
    netloom::engine::npy::write(&dir.join("x.npy"), &x).unwrap();
    netloom_ok(&[
        "forward",
        s(&run),
        "--input",
        s(&dir.join("x.npy")),
        "--output",
        s(&dir.join("y.npy")),
    ]);
    let out = python(
        &reference("module_names.py"),
        &[
            s(&py),
            s(&run.join("best.safetensors")),
            s(&dir.join("x.npy")),
            s(&dir.join("y.npy")),
        ],
    );
    assert!(out.contains("model.py holds every name"), "{out}");
    // "training" can't be held: check says so, with the reason.
    let v = design
        .to_string()
        .replace("\"name\":\"train\"", "\"name\":\"training\"");
    std::fs::write(&path, v).unwrap();
    let (code, out, _) = netloom(&["check", s(&path)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("\"training\" can't name a block or group: every PyTorch module has a training attribute"),
        "{out}"
    );
    // A node named as part of another node (fc2.weight beside fc2).
    let nested = lenet_edited(&dir.join("nested.json"), |v| {
        rename(v, "relu3", "fc1.weight")
    });
    let (code, out, _) = netloom(&["check", &nested]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("fc1.weight: its name puts it inside the block fc1"),
        "{out}"
    );
}

#[test]
fn train_py_and_netloom_take_and_refuse_the_same_settings() {
    let dir = tempdir("export-settings");
    // The largest seed: both train.
    let seed = lenet_edited(&dir.join("seed.json"), |v| {
        v["training"]["seed"] = serde_json::json!(u64::MAX);
        v["training"]["epochs"] = serde_json::json!(1);
    });
    let py = dir.join("seed");
    netloom_ok(&["export", &seed, "--format", "pytorch", "--out", s(&py)]);
    let out = train_py(&py, &[], &["--epochs", "1", "--out", "run"]);
    assert!(out.contains("validation accuracy"), "{out}");
    // A rate past float32: netloom refuses it, and train.py (edited by hand) in the same words.
    let big = lenet_edited(&dir.join("big.json"), |v| {
        v["training"]["learning_rate"] = serde_json::json!(1e308);
    });
    let (code, out, _) = netloom(&["check", &big]);
    assert_eq!(code, 1);
    let said = "training: learning_rate is 1e308; it must be a positive number no larger than 3.4e38 (float32's largest), such as 0.01";
    assert!(out.contains(said), "{out}");
    let (code, _, err) = netloom(&["train", &big, "--out", s(&dir.join("r"))]);
    assert_eq!(code, 2);
    assert!(err.contains(said), "{err}");
    let script = py.join("train.py");
    let text = std::fs::read_to_string(&script).unwrap();
    let edited = text.replacen(
        "\"learning_rate\": ",
        "\"learning_rate\": 1e308, \"was\": ",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&script, edited).unwrap();
    let run = std::process::Command::new("python3")
        .arg("train.py")
        .current_dir(&py)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(err.contains(said), "{err}");
}

#[test]
#[cfg(target_os = "linux")]
fn the_exported_script_sets_the_wait_policy_before_torch_and_counts_usable_cpus() {
    let dir = tempdir("export-threads");
    let py = lenet_export(&dir);
    let probe = "import os, sys\n\
                 sys.path.insert(0, sys.argv[1])\n\
                 import train\n\
                 print(os.environ.get('GOMP_SPINCOUNT'), train.usable_cpus())";
    let run = |prefix: &[&str], env: &[(&str, &str)]| {
        let mut all: Vec<&str> = prefix.to_vec();
        all.extend(["python3", "-c", probe, s(&py)]);
        let mut cmd = std::process::Command::new(all[0]);
        cmd.args(&all[1..])
            .env_remove("GOMP_SPINCOUNT")
            .env_remove("OMP_WAIT_POLICY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(run(&["taskset", "-c", "0"], &[]), "10000 1");
    // A value the user set is kept.
    let kept = run(&[], &[("GOMP_SPINCOUNT", "5")]);
    assert!(kept.starts_with("5 "), "{kept}");
}
