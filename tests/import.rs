//! ONNX import: torchvision's families, exported by PyTorch, open as designs that compute what
//! onnxruntime computes, equal the templates node for node, and take torchvision's own state
//! dicts by name; a model with ops netloom lacks is refused whole, with nothing written.
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use netloom::design::{Design, Op, analyse, from_json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The core models of the issue, each exported as torchvision's exporter is usually run for
/// fine-tuning (batch norm kept), plus one with the exporter's defaults (batch norm folded)
/// and one at opset 13.
const CORE: [&str; 8] = [
    "resnet50",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "densenet121",
    "squeezenet1_1",
    "regnet_y_400mf",
];
/// Beyond the CNN zoo: ConvNeXt's LayerNorm2d, channels-last Linear layers, Erf-pattern
/// GELU and layer scale.
const BEYOND: [&str; 1] = ["convnext_tiny"];
const FOLDED: &str = "mobilenet_v2:folded";
const OPSET_13: &str = "efficientnet_b0:preserve:13";
/// The weights in a side file (ONNX's external data), as past protobuf's 2 GB.
const EXTERNAL: &str = "mobilenet_v3_small:external";
/// `x.view(x.size(0), -1)`, `x.mean([2, 3])` and `squeeze`: shape arithmetic in the graph, at
/// the newest and the oldest opset netloom reads.
const SHAPES: [&str; 5] = [
    "viewnet",
    "viewnet:preserve:11",
    "padnet",
    "layernet",
    "upnet",
];

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A design's nodes (name → op as JSON, output shape) and wires (by name), with Dropout
/// nodes bypassed: an exporter in eval mode writes no Dropout, so an import has none.
type Graph = (
    BTreeMap<String, (String, String)>,
    BTreeSet<(String, String, u32)>,
);

fn graph_of(d: &Design) -> Graph {
    let a = analyse(d);
    let name = |id| d.node(id).unwrap().name.clone();
    let dropout = |id| matches!(d.node(id).unwrap().op, Op::Dropout(_));
    let source = |mut id| {
        while dropout(id) {
            id = d.edges.iter().find(|e| e.to == id).unwrap().from;
        }
        id
    };
    let nodes = d
        .nodes
        .iter()
        .filter(|n| !dropout(n.id))
        .map(|n| {
            let shape = a.report(n.id).and_then(|r| r.output).map(|s| s.to_string());
            (
                n.name.clone(),
                (
                    serde_json::to_string(&n.op).unwrap(),
                    shape.unwrap_or_default(),
                ),
            )
        })
        .collect();
    let wires = d
        .edges
        .iter()
        .filter(|e| !dropout(e.to))
        .map(|e| (name(source(e.from)), name(e.to), e.port))
        .collect();
    (nodes, wires)
}

fn import(dir: &Path) -> String {
    netloom_ok(&[
        "import",
        s(&dir.join("model.onnx")),
        "-o",
        s(&dir.join("imported.json")),
    ])
}

fn exported(specs: &[&str], tag: &str) -> PathBuf {
    let dir = tempdir(tag);
    let mut args = vec![s(&dir).to_owned()];
    args.extend(specs.iter().map(|x| (*x).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    python(&reference("onnx_zoo.py"), &refs);
    dir
}

fn forward_matches_onnxruntime(dir: &Path, failures: &mut Vec<String>, tag: &str) {
    for batch in [1, 4] {
        let out = dir.join(format!("netloom{batch}.npy"));
        netloom_ok(&[
            "forward",
            s(&dir.join("imported.json")),
            "--weights",
            s(&dir.join("imported.safetensors")),
            "--input",
            s(&dir.join(format!("x{batch}.npy"))),
            "--output",
            s(&out),
        ]);
        let err = relative_error(&out, &dir.join(format!("y{batch}.npy")));
        if err.is_nan() || err > 1e-5 {
            failures.push(format!("{tag} at batch {batch}: relative error {err:e}"));
        }
    }
}

#[test]
fn torchvision_models_import_compute_what_onnxruntime_computes_and_equal_the_templates() {
    let mut specs: Vec<&str> = CORE.to_vec();
    specs.extend(BEYOND);
    specs.extend([FOLDED, OPSET_13, EXTERNAL]);
    specs.extend(SHAPES);
    let root = exported(&specs, "import-zoo");
    let _cleanup = RemovedOnPass(root.clone());
    let mut failures = Vec::new();
    for spec in &specs {
        let tag = spec.replace(':', "-");
        let dir = root.join(&tag);
        let report = import(&dir);
        forward_matches_onnxruntime(&dir, &mut failures, &tag);
        let imported =
            from_json(&std::fs::read_to_string(dir.join("imported.json")).unwrap()).unwrap();
        let name = spec.split(':').next().unwrap();
        if checked_alone(name, &report, &imported) {
            continue;
        }
        if *spec == FOLDED {
            // Batch norm folded into the convolutions: the report says so, and how to keep it.
            assert!(
                report.contains("folded batch norm into the convolutions")
                    && report.contains("training=torch.onnx.TrainingMode.PRESERVE"),
                "{report}"
            );
            assert!(
                !imported
                    .nodes
                    .iter()
                    .any(|n| matches!(n.op, Op::BatchNorm(_))),
                "{tag}"
            );
            continue;
        }
        assert!(report.starts_with(&format!("{} matched", report.split(' ').next().unwrap())));
        assert!(report.contains(" 0 unsupported"), "{report}");
        // The same design as the template: nodes, names, settings, shapes and wires.
        let template = netloom::design::templates::template(name, [3, 64, 64], 1000).unwrap();
        let (ours, theirs) = (graph_of(&imported), graph_of(&template));
        if ours != theirs {
            let only = |a: &Graph, b: &Graph| -> Vec<String> {
                a.0.iter()
                    .filter(|(k, v)| b.0.get(*k) != Some(v))
                    .map(|(k, v)| format!("{k} {v:?}"))
                    .take(3)
                    .collect()
            };
            failures.push(format!(
                "{tag}: the import differs from the template: import only {:?}; template only {:?}; wires equal: {}",
                only(&ours, &theirs),
                only(&theirs, &ours),
                ours.1 == theirs.1
            ));
        }
        // Grouped as the template is.
        let groups = |d: &Design| -> BTreeSet<(String, String)> {
            d.groups
                .iter()
                .map(|g| (g.name.clone(), g.kind.clone()))
                .collect()
        };
        if groups(&imported) != groups(&template) {
            failures.push(format!("{tag}: the groups differ from the template's"));
        }
        // torchvision's own state dict maps onto the imported design by name.
        let mapping = netloom_ok(&[
            "weights",
            s(&dir.join("weights.pth")),
            "--design",
            s(&dir.join("imported.json")),
        ]);
        let first = mapping.lines().next().unwrap();
        if !first.ends_with(
            " matched, 0 missing in the file, 0 unexpected in the file, 0 shape mismatches",
        ) {
            failures.push(format!("{tag}: torchvision's weights: {first}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The small models made for one feature each (not torchvision's): their own checks; true
/// when `name` is one of them.
fn checked_alone(name: &str, report: &str, imported: &Design) -> bool {
    if name == "viewnet" {
        assert!(report.contains("folded       shape arithmetic"), "{report}");
        return true;
    }
    if name == "upnet" {
        // ConvTranspose with output_padding, groups, dilation and no bias.
        let up = imported.node_by_name("up").unwrap();
        let Op::ConvTranspose2d(c) = &up.op else {
            panic!("{report}")
        };
        assert_eq!(
            (c.output_padding, c.groups),
            (netloom::design::Pair::Same(1), 2)
        );
        let Op::ConvTranspose2d(c) = &imported.node_by_name("up2").unwrap().op else {
            panic!("{report}")
        };
        assert_eq!(
            (c.dilation, c.bias),
            (netloom::design::Pair::Same(2), false)
        );
        // Upsample three ways: by a scale (nearest), to a size (bilinear: the size computed
        // in the graph from the input's shape), corners aligned.
        let Op::Upsample(b) = &imported.node_by_name("bilinear").unwrap().op else {
            panic!("{report}")
        };
        assert_eq!(b.size, Some(netloom::design::Pair::HW(40, 36)));
        let Op::Upsample(c) = &imported.node_by_name("corners").unwrap().op else {
            panic!("{report}")
        };
        assert!(c.align_corners && c.scale_factor == Some(1.5), "{report}");
        let Op::Upsample(n) = &imported.node_by_name("nearest").unwrap().op else {
            panic!("{report}")
        };
        assert_eq!(n.scale_factor, Some(2.0));
        // A pad that crops two sides: a CropPad block.
        let crop = imported.nodes.iter().find_map(|n| match n.op {
            Op::CropPad(p) => Some(p),
            _ => None,
        });
        assert_eq!(
            crop,
            Some(netloom::design::CropPad {
                top: -1,
                bottom: 2,
                left: 1,
                right: -2
            }),
            "{report}"
        );
        return true;
    }
    if name == "layernet" {
        // On vectors: MatMul + Add a Linear, LayerNorm over features, the Mul by a
        // per-feature constant a LayerScale named after it, GELU from its Erf pattern.
        let kinds: Vec<&str> = imported.nodes.iter().map(|n| n.op.kind_name()).collect();
        assert_eq!(
            kinds,
            [
                "Input",
                "Conv2d",
                "Flatten",
                "Linear",
                "LayerNorm",
                "GELU",
                "LayerScale",
                "Linear",
                "Output"
            ],
            "{report}"
        );
        assert!(imported.node_by_name("gamma").is_some(), "{report}");
        return true;
    }
    if name == "padnet" {
        // Both Pads folded into the convolutions after them: the first on top of its own
        // padding (1 + 1 rows, 1 + 2 columns).
        assert!(
            report.contains("folded       Pad (into the convolution after it) ×2"),
            "{report}"
        );
        let conv = imported.node_by_name("conv").unwrap();
        let Op::Conv2d(c) = &conv.op else { panic!() };
        assert_eq!(c.padding, netloom::design::Pair::HW(2, 3));
        return true;
    }
    false
}

#[test]
fn an_import_exports_and_imports_back_to_the_same_design() {
    let models = ["mobilenet_v3_small", "convnext_tiny"];
    let root = exported(&models, "import-round-trip");
    for model in models {
        round_trip(&root.join(model));
    }
}

/// netloom's own ONNX of an imported design (its GELU as `x · ½ · (1 + erf(x · 1/√2))`, its
/// LayerNorm2d between Transposes) imports back to the same design.
fn round_trip(dir: &Path) {
    import(dir);
    let out = dir.join("again.onnx");
    netloom_ok(&[
        "export",
        s(&dir.join("imported.json")),
        "--weights",
        s(&dir.join("imported.safetensors")),
        "--format",
        "onnx",
        "--out",
        s(&out),
    ]);
    netloom_ok(&["import", s(&out), "-o", s(&dir.join("again.json"))]);
    let first = from_json(&std::fs::read_to_string(dir.join("imported.json")).unwrap()).unwrap();
    let mut again = from_json(&std::fs::read_to_string(dir.join("again.json")).unwrap()).unwrap();
    // Each names its own weights file as its pretrained weights.
    let named = |d: &Design| d.training.pretrained.clone().unwrap().path;
    assert_eq!(named(&first), "imported.safetensors");
    assert_eq!(named(&again), "again.safetensors");
    again.training.pretrained = first.training.pretrained.clone();
    assert_eq!(graph_of(&first), graph_of(&again));
    assert_eq!(
        netloom::design::to_json(&first),
        netloom::design::to_json(&again)
    );
}

#[test]
fn a_model_with_ops_netloom_lacks_is_refused_listing_them_and_nothing_is_written() {
    let root = exported(&["unsupported"], "import-refused");
    let dir = root.join("unsupported");
    let design = dir.join("imported.json");
    let (code, out, err) = netloom(&["import", s(&dir.join("model.onnx")), "-o", s(&design)]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("netloom has no block for, so nothing was imported")
            && err.contains("Sin ×2 (first: /Sin)")
            && err.contains("Cos ×1"),
        "{err}"
    );
    assert!(!design.exists() && !dir.join("imported.safetensors").exists());
    // Not an ONNX file at all: exit 2, saying so.
    std::fs::write(dir.join("junk.onnx"), b"not a model").unwrap();
    let (code, _, err) = netloom(&["import", s(&dir.join("junk.onnx")), "-o", s(&design)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not an ONNX model"), "{err}");
    assert!(!design.exists());
}

/// An imported mobilenet_v2 fine-tunes on real data with its features frozen: only the new
/// 10-class head trains, and every frozen tensor stays bit for bit the imported one.
#[test]
fn an_imported_mobilenet_v2_fine_tunes_with_its_features_frozen() {
    let root = exported(&["mobilenet_v2"], "import-fine-tune");
    let dir = root.join("mobilenet_v2");
    import(&dir);
    let mut design: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("imported.json")).unwrap()).unwrap();
    let mut frozen = 0;
    for n in design["nodes"].as_array_mut().unwrap() {
        let name = n["name"].as_str().unwrap().to_owned();
        if name.starts_with("features.") {
            n["frozen"] = true.into();
            frozen += 1;
        }
        if name == "classifier.1" {
            n["op"]["out_features"] = 10.into();
        }
    }
    // The head is new: the design's pretrained weights skip it, as the app's "Replace head"
    // records.
    design["training"]["pretrained"]["skip"] = serde_json::json!(["classifier.1"]);
    assert!(frozen > 100, "{frozen}");
    let tuned = dir.join("tuned.json");
    std::fs::write(&tuned, serde_json::to_string_pretty(&design).unwrap()).unwrap();
    let weights = dir.join("imported.safetensors");
    let train = |steps: &str, run: &Path, flags: bool| {
        let mut args = vec![
            "train",
            s(&tuned),
            "--data",
            "builtin:fashion-mnist?channels=3&size=64x64&limit=256",
            "--max-steps",
            steps,
            "--batch-size",
            "16",
            "--out",
            s(run),
        ];
        if flags {
            args.extend(["--init-weights", s(&weights), "--init-skip", "classifier.1"]);
        }
        let (code, out, err) = netloom(&args);
        assert_eq!(code, 0, "{out}\n{err}");
        if !flags {
            assert!(
                err.contains("starting from the design's pretrained weights"),
                "{err}"
            );
        }
        tch::Tensor::read_safetensors(run.join("weights.safetensors")).unwrap()
    };
    let imported: BTreeMap<String, tch::Tensor> =
        tch::Tensor::read_safetensors(dir.join("imported.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    // The same seed, so the same fresh head: one step against three. The first names the
    // weights on the command line; the second starts from the design's own.
    let one: BTreeMap<String, tch::Tensor> =
        train("1", &dir.join("run1"), true).into_iter().collect();
    let trained = train("3", &dir.join("run3"), false);
    let (mut same, mut head) = (0, 0);
    for (name, t) in &trained {
        if name.starts_with("features.") {
            assert!(t.equal(&imported[name]), "{name} is frozen but changed");
            same += 1;
        } else if name.starts_with("classifier.1.") {
            assert!(!t.equal(&one[name]), "{name} didn't train");
            head += 1;
        }
    }
    assert!(
        same > 200 && head == 2,
        "{same} frozen tensors, {head} head tensors"
    );
}
