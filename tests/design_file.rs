//! The design file: deterministic round-trips, strict reading, and clear errors.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;

use netloom::design::*;
use netloom::examples::EXAMPLES;

/// Set NETLOOM_BLESS=1 to rewrite the examples in canonical form after editing them by hand.
#[test]
fn examples_are_canonical_and_round_trip_byte_for_byte() {
    for (name, text) in EXAMPLES {
        let design = from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = to_json(&design);
        if std::env::var_os("NETLOOM_BLESS").is_some() {
            std::fs::write(
                format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR")),
                &written,
            )
            .unwrap();
            continue;
        }
        assert_eq!(&written, text, "{name} is not in canonical form");
        assert_eq!(to_json(&from_json(&written).unwrap()), written);
    }
}

#[test]
fn output_is_sorted_whatever_the_order_in_memory() {
    let mut d = common::reference::example("resnet_mini.json");
    let canonical = to_json(&d);
    d.nodes.reverse();
    d.edges.reverse();
    assert_eq!(to_json(&d), canonical);
}

#[test]
fn missing_optional_fields_take_pytorch_defaults() {
    let text = r#"{
  "format": "netloom-design",
  "version": 1,
  "nodes": [
    {"id": 1, "name": "input", "op": {"type": "input", "channels": 1, "height": 8, "width": 8}},
    {"id": 2, "name": "conv", "op": {"type": "conv2d", "out_channels": 4, "kernel_size": [3, 1]}},
    {"id": 3, "name": "pool", "op": {"type": "max_pool2d", "kernel_size": 2}},
    {"id": 4, "name": "bn", "op": {"type": "batch_norm"}},
    {"id": 5, "name": "output", "op": {"type": "output", "loss": "mse"}}
  ],
  "edges": [{"from": 1, "to": 2}, {"from": 2, "to": 3}, {"from": 3, "to": 4}, {"from": 4, "to": 5}]
}"#;
    let d = from_json(text).unwrap();
    let Op::Conv2d(c) = &d.node_by_name("conv").unwrap().op else {
        panic!()
    };
    assert_eq!(
        (c.stride, c.padding, c.dilation, c.groups, c.bias),
        (Pair::Same(1), Pair::Same(0), Pair::Same(1), 1, true)
    );
    assert_eq!(c.kernel_size, Pair::HW(3, 1));
    let Op::MaxPool2d(p) = &d.node_by_name("pool").unwrap().op else {
        panic!()
    };
    assert_eq!(p.effective_stride(), Pair::Same(2));
    let Op::BatchNorm(b) = &d.node_by_name("bn").unwrap().op else {
        panic!()
    };
    assert_eq!((b.eps, b.momentum, b.affine), (1e-5, 0.1, true));
    assert_eq!(d.training, TrainingSettings::default());
    let a = analyse(&d);
    assert!(a.is_valid(), "{:?}", a.problems);
    assert_eq!(
        a.report(NodeId(5)).unwrap().output,
        Some(Shape::image(4, 3, 4))
    );
}

fn err(text: &str) -> String {
    from_json(text).unwrap_err().to_string()
}

#[test]
fn malformed_json_gives_line_and_column() {
    let e = err(
        "{\n  \"format\": \"netloom-design\",\n  \"version\": 1,\n  \"nodes\": [\n    {\"id\": 1,,}\n  ]\n}",
    );
    assert!(
        e.starts_with("line 5, column 14: key must be a string"),
        "{e}"
    );
    assert!(err("").starts_with("line 1, column 0: EOF"), "{}", err(""));
}

#[test]
fn unknown_fields_are_rejected_by_name() {
    let e = err(r#"{"format": "netloom-design", "version": 1, "nodes": [
        {"id": 1, "name": "c", "op": {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "kernal": 5}}]}"#);
    assert!(e.contains("unknown field `kernal`"), "{e}");
    assert!(e.starts_with("line 2,"), "{e}");
    let e = err(r#"{"format": "netloom-design", "version": 1, "nodes": [], "colour": "red"}"#);
    assert!(e.contains("unknown field `colour`"), "{e}");
    let e = err(
        r#"{"format": "netloom-design", "version": 1, "nodes": [{"id": 1, "name": "x", "op": {"type": "conv3d"}}]}"#,
    );
    assert!(e.contains("unknown variant `conv3d`"), "{e}");
}

#[test]
fn newer_versions_and_other_formats_are_named() {
    let e = err(r#"{"format": "netloom-design", "version": 7, "nodes": [], "future": {"x": 1}}"#);
    assert_eq!(
        e,
        "this design was made by a newer netloom (file version 7, this netloom reads up to 4): update netloom to open it"
    );
    let e = err(r#"{"format": "keras", "version": 1}"#);
    assert!(e.starts_with("this is not a netloom design"), "{e}");
    let e = err(r#"{"version": 1, "nodes": []}"#);
    assert!(e.starts_with("this is not a netloom design"), "{e}");
    let e = err(r#"{"format": "netloom-design", "nodes": []}"#);
    assert!(e.contains("missing field `version`"), "{e}");
}

#[test]
fn wrong_types_are_explained() {
    let e = err(r#"{"format": "netloom-design", "version": 1, "nodes": [
        {"id": 1, "name": "c", "op": {"type": "conv2d", "out_channels": -4, "kernel_size": 3}}]}"#);
    assert!(e.starts_with("line 2,"), "{e}");
    let e = err(r#"{"format": "netloom-design", "version": 1, "nodes": [
        {"id": 1, "name": "c", "op": {"type": "conv2d", "out_channels": 4, "kernel_size": [3, 3, 3]}}]}"#);
    assert!(e.contains("[height, width]"), "{e}");
}

#[test]
fn preprocessing_is_part_of_the_file() {
    let mut d = common::reference::example("lenet5.json");
    d.data.preprocessing = Preprocessing::ZcaWhiten { epsilon: 0.1 };
    let text = to_json(&d);
    assert!(text.contains("\"method\": \"zca_whiten\""), "{text}");
    assert_eq!(
        from_json(&text).unwrap().data.preprocessing,
        Preprocessing::ZcaWhiten { epsilon: 0.1 }
    );
    let e = err(&text.replace("zca_whiten", "sphere"));
    assert!(e.contains("unknown variant `sphere`"), "{e}");
    let e = err(&text.replace("\"epsilon\": 0.1", "\"epsilon\": 0.1, \"k\": 3"));
    assert!(e.contains("unknown field `k`"), "{e}");
    d.data.preprocessing = Preprocessing::PcaWhiten { epsilon: 0.0 };
    let a = analyse(&d);
    assert!(
        a.problems
            .iter()
            .any(|p| p.message.starts_with("data: whitening epsilon is 0")),
        "{:?}",
        a.problems
    );
}

#[test]
fn augmentation_is_part_of_the_file() {
    let mut d = common::reference::example("vgg_small.json");
    d.data.augmentation = vec![
        Augment::HorizontalFlip { p: 0.5 },
        Augment::RandomCrop { p: 1.0, padding: 4 },
        Augment::Hue {
            p: 0.3,
            delta: 0.05,
        },
    ];
    let text = to_json(&d);
    assert!(text.contains("\"op\": \"random_crop\""), "{text}");
    assert_eq!(
        from_json(&text).unwrap().data.augmentation,
        d.data.augmentation
    );
    let short = text.replace(
        "\"op\": \"horizontal_flip\",\n          \"p\": 0.5",
        "\"op\": \"horizontal_flip\"",
    );
    assert_eq!(
        from_json(&short).unwrap().data.augmentation[0],
        Augment::HorizontalFlip { p: 0.5 }
    );
    d.data.augmentation.push(Augment::Rotate {
        p: 2.0,
        degrees: 10.0,
    });
    assert!(
        analyse(&d)
            .problems
            .iter()
            .any(|p| p.message.contains("p is 2"))
    );
}

#[test]
fn a_grouped_template_round_trips_byte_for_byte_and_version_2_files_still_read() {
    let d = templates::template("resnet18", [3, 64, 64], 10).unwrap();
    assert_eq!(d.groups.len(), 8, "one group per BasicBlock");
    let text = to_json(&d);
    assert!(text.contains("\"version\": 3"), "{}", &text[..80]);
    assert!(text.contains("\"kind\": \"BasicBlock\""));
    let back = from_json(&text).unwrap();
    assert_eq!(back, {
        let mut c = d.clone();
        c.canonicalize();
        c
    });
    assert_eq!(to_json(&back), text, "byte for byte");
    // A version-2 file (no groups) reads as it always did, and is written as version 3.
    let v2 = text
        .replace("\"version\": 3", "\"version\": 2")
        .split("\n  \"groups\": [")
        .next()
        .unwrap()
        .trim_end()
        .trim_end_matches(',')
        .to_owned()
        + "\n}\n";
    let old = from_json(&v2).unwrap();
    assert!(old.groups.is_empty());
    assert_eq!(old.nodes, back.nodes);
}

#[test]
fn groups_that_contradict_the_nodes_are_refused_by_name() {
    let head = r#"{"format": "netloom-design", "version": 3, "nodes": [
        {"id": 1, "name": "a", "op": {"type": "flatten"}},
        {"id": 2, "name": "b", "op": {"type": "flatten"}}], "groups": "#;
    let e = err(&format!(
        r#"{head}[{{"id": 1, "name": "g", "kind": "Group", "members": [1, 9]}}]}}"#
    ));
    assert_eq!(e, "group \"g\" lists node #9, which is not in the design");
    let e = err(&format!(
        r#"{head}[{{"id": 1, "name": "g", "kind": "G", "members": [1]}},
                 {{"id": 2, "name": "h", "kind": "G", "members": [1, 2]}}]}}"#
    ));
    assert!(
        e.contains("node #1 is in both group \"g\" and group \"h\""),
        "{e}"
    );
    let e = err(&format!(
        r#"{head}[{{"id": 1, "name": "a", "kind": "G", "members": [2]}}]}}"#
    ));
    assert!(e.contains("the name of a block"), "{e}");
    let e = err(&format!(
        r#"{head}[{{"id": 1, "name": "g", "kind": "G", "members": [2], "open": true}}]}}"#
    ));
    assert!(e.contains("unknown field `open`"), "{e}");
}

/// The names a strict reader expects where `probe` is, read off the error it gives for an
/// unknown field (or variant) there: "unknown field `__probe__`, expected one of `a`, `b`".
/// serde lists every field of the type itself, so nothing here is a hand-kept list.
fn expected_at(text: &str) -> Vec<String> {
    let err = from_json(text)
        .expect_err(&format!("the probe is refused in {text}"))
        .to_string();
    let Some((_, expected)) = err.split_once("expected") else {
        // "there are no fields": a type without fields.
        return Vec::new();
    };
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .filter(|n| n != "__probe__")
        .collect()
}

/// A design file with `node_op` as its one node's op, `extra` merged into the top level.
fn probe_file(top: &str, node: &str, op: &str) -> String {
    format!(
        r#"{{"format": "netloom-design", "version": 3 {top},
            "nodes": [{{"id": 1, "name": "a", "op": {{{op}}} {node}}}]}}"#
    )
}

#[test]
fn every_field_and_kind_of_the_design_format_is_documented() {
    let doc = std::fs::read_to_string(format!(
        "{}/docs/design-format.md",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let documented = |name: &str| doc.contains(&format!("`{name}`"));
    let mut found: Vec<(String, String)> = Vec::new();
    let mut add = |place: &str, names: Vec<String>| {
        assert!(!names.is_empty(), "nothing read at {place}");
        found.extend(names.into_iter().map(|n| (place.to_owned(), n)));
    };
    let flatten = r#""type": "flatten""#;
    add(
        "top level",
        expected_at(&probe_file(r#", "__probe__": 1"#, "", flatten)),
    );
    add(
        "node",
        expected_at(&probe_file("", r#", "__probe__": 1"#, flatten)),
    );
    let types = expected_at(&probe_file("", "", r#""type": "__probe__""#));
    add("node types", types.clone());
    for t in &types {
        let names = expected_at(&probe_file(
            "",
            "",
            &format!(r#""type": "{t}", "__probe__": 1"#),
        ));
        if !names.is_empty() {
            add(&format!("{t} op"), names);
        }
    }
    for (place, section) in [
        ("training", r#""training": {"__probe__": 1}"#),
        ("data", r#""data": {"__probe__": 1}"#),
        (
            "schedule kinds",
            r#""training": {"schedule": {"kind": "__probe__"}}"#,
        ),
        (
            "preprocessing methods",
            r#""data": {"preprocessing": {"method": "__probe__"}}"#,
        ),
        (
            "augmentation ops",
            r#""data": {"augmentation": [{"op": "__probe__"}]}"#,
        ),
        ("optimizers", r#""training": {"optimizer": "__probe__"}"#),
        ("precisions", r#""training": {"precision": "__probe__"}"#),
        ("inits", r#""training": {"init": "__probe__"}"#),
        ("group", r#""groups": [{"__probe__": 1}]"#),
        ("edge", r#""edges": [{"__probe__": 1}]"#),
    ] {
        add(
            place,
            expected_at(&probe_file(&format!(", {section}"), "", flatten)),
        );
    }
    // Each kind's own fields: schedules, preprocessing methods, augmentation operations.
    for (kinds_at, fields_at) in [
        (
            r#""training": {"schedule": {"kind": "__probe__"}}"#,
            r#""training": {"schedule": {"kind": "KIND", "__probe__": 1}}"#,
        ),
        (
            r#""data": {"preprocessing": {"method": "__probe__"}}"#,
            r#""data": {"preprocessing": {"method": "KIND", "__probe__": 1}}"#,
        ),
        (
            r#""data": {"augmentation": [{"op": "__probe__"}]}"#,
            r#""data": {"augmentation": [{"op": "KIND", "__probe__": 1}]}"#,
        ),
    ] {
        for kind in expected_at(&probe_file(&format!(", {kinds_at}"), "", flatten)) {
            let section = fields_at.replace("KIND", &kind);
            let names = expected_at(&probe_file(&format!(", {section}"), "", flatten));
            if !names.is_empty() {
                add(&format!("{kind}'s fields"), names);
            }
        }
    }
    let functions = expected_at(&probe_file(
        "",
        "",
        r#""type": "activation", "function": "__probe__""#,
    ));
    add("activation functions", functions);
    let undocumented: Vec<String> = found
        .iter()
        .filter(|(_, n)| !documented(n))
        .map(|(place, n)| format!("{place}: `{n}`"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/design-format.md doesn't mention these (write each in backticks): {undocumented:#?}"
    );
}

#[test]
fn a_setting_on_a_kind_without_settings_is_refused_not_dropped() {
    // {"kind": "constant", "gamma": 0.1}: a step schedule half-edited read as constant.
    let text = probe_file(
        r#", "training": {"schedule": {"kind": "constant", "gamma": 0.1}}"#,
        "",
        r#""type": "flatten""#,
    );
    let e = from_json(&text).unwrap_err().to_string();
    assert!(
        e.contains("training.schedule: unknown field `gamma`, expected `kind`"),
        "{e}"
    );
    let text = probe_file(
        r#", "data": {"preprocessing": {"method": "standardize", "epsilon": 0.1}}"#,
        "",
        r#""type": "flatten""#,
    );
    let e = from_json(&text).unwrap_err().to_string();
    assert!(
        e.contains("data.preprocessing: unknown field `epsilon`"),
        "{e}"
    );
    let ok = probe_file(
        r#", "data": {"preprocessing": {"method": "zca_whiten", "epsilon": 0.1}}"#,
        "",
        r#""type": "flatten""#,
    );
    from_json(&ok).unwrap();
}
