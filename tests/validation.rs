//! Validation reports every problem at once, each tied to its node and worded so a learner can
//! act on it.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;

use common::reference::chain;
use netloom::design::*;

fn messages(d: &Design) -> Vec<String> {
    analyse(d).problems.into_iter().map(|p| p.message).collect()
}

fn relu() -> Op {
    Op::Activation(Activation::new(ActivationFn::Relu))
}

fn out() -> Op {
    Op::Output(OutputOp::default())
}

#[test]
fn kernel_larger_than_input_names_the_node_and_the_fix() {
    let d = chain(
        InputOp::image(1, 16, 16),
        vec![
            ("conv1", Op::Conv2d(Conv2d::new(4, 5))),
            ("pool1", Op::MaxPool2d(Pool2d::new(2))),
            ("conv2", Op::Conv2d(Conv2d::new(4, 1))),
            ("pool2", Op::MaxPool2d(Pool2d::new(2))),
            ("conv3", Op::Conv2d(Conv2d::new(8, 5))),
            ("flatten", Op::Flatten(Flatten {})),
            ("fc", Op::Linear(Linear::new(10))),
            ("output", out()),
        ],
    );
    let a = analyse(&d);
    assert_eq!(
        messages(&d),
        [
            "conv3: its 5×5 kernel is larger than its 3×3 input: lower kernel_size, or remove a pooling layer before it"
        ]
    );
    let conv3 = d.node_by_name("conv3").unwrap().id;
    assert_eq!(a.problems[0].node, Some(conv3));
    // Nodes after the broken one have no shape but no extra complaints either.
    assert!(
        a.report(d.node_by_name("fc").unwrap().id)
            .unwrap()
            .output
            .is_none()
    );
}

#[test]
fn linear_on_an_image_asks_for_flatten() {
    let d = chain(
        InputOp::image(16, 5, 5),
        vec![("fc1", Op::Linear(Linear::new(120))), ("output", out())],
    );
    assert_eq!(
        messages(&d),
        ["fc1: expects a flat vector but gets 16×5×5: insert Flatten before it"]
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let mut d = chain(
        InputOp::image(3, 8, 8),
        vec![
            ("conv1", Op::Conv2d(Conv2d::new(8, 3))),
            ("fc1", Op::Linear(Linear::new(10))),
            ("fc2", Op::Linear(Linear::new(0))),
        ],
    );
    // A dangling branch and an unwired node.
    let stray = d.add("stray", relu(), [0.0, 0.0]);
    let conv1 = d.node_by_name("conv1").unwrap().id;
    d.connect(conv1, stray, 0);
    d.add("lonely", relu(), [0.0, 0.0]);
    let m = messages(&d);
    let has = |s: &str| m.iter().any(|x| x.contains(s));
    assert!(has("the design has no Output"), "{m:?}");
    assert!(has("fc1: expects a flat vector but gets 8×6×6"), "{m:?}");
    assert!(has("stray: its output goes nowhere"), "{m:?}");
    assert!(has("fc2: its output goes nowhere"), "{m:?}");
    assert!(has("lonely: it has no input"), "{m:?}");
    assert!(m.len() >= 5);
}

#[test]
fn cycles_are_found_and_every_node_on_them_is_marked() {
    let mut d = chain(
        InputOp::vector(4),
        vec![
            ("fc1", Op::Linear(Linear::new(4))),
            ("a", Op::Add(Merge {})),
            ("b", relu()),
            ("output", out()),
        ],
    );
    let (a, b) = (
        d.node_by_name("a").unwrap().id,
        d.node_by_name("b").unwrap().id,
    );
    d.connect(b, a, 1);
    let analysis = analyse(&d);
    let on_cycle: Vec<_> = analysis
        .problems
        .iter()
        .filter(|p| p.message.contains("part of a loop"))
        .collect();
    assert_eq!(on_cycle.len(), 2, "{:?}", analysis.problems);
    assert!(
        on_cycle.iter().any(|p| p.node == Some(a)) && on_cycle.iter().any(|p| p.node == Some(b))
    );
    // Tables still list every node once, the unordered ones last.
    let listed = analysis.in_execution_order();
    assert_eq!(listed.len(), d.nodes.len());
    assert_eq!(listed[0].name, "input");
    // The output is downstream of the loop, not on it.
    assert!(
        !analysis
            .problems
            .iter()
            .any(|p| p.message.starts_with("output"))
    );
}

#[test]
fn add_and_concat_mismatches_are_explained() {
    let mut d = Design::default();
    let i = d.add("input", Op::Input(InputOp::image(3, 8, 8)), [0.0, 0.0]);
    let c = d.add("conv", Op::Conv2d(Conv2d::new(16, 3)), [0.0, 0.0]);
    let add = d.add("add1", Op::Add(Merge {}), [0.0, 0.0]);
    let cat = d.add("cat1", Op::Concat(Merge {}), [0.0, 0.0]);
    let o = d.add(
        "output",
        Op::Output(OutputOp { loss: Loss::Mse }),
        [0.0, 0.0],
    );
    d.connect(i, c, 0);
    d.connect(c, add, 0);
    d.connect(i, add, 1);
    d.connect(c, cat, 0);
    d.connect(i, cat, 1);
    d.connect(add, o, 0);
    let m = messages(&d);
    assert!(m.iter().any(|x| x == "add1: can only add equal shapes, but conv gives 16×6×6 and input gives 3×8×8: the sizes differ: give the shortcut a Conv2d with the same stride as the main path"), "{m:?}");
    assert!(m.iter().any(|x| x == "cat1: joins along channels, so heights and widths must match, but conv gives 16×6×6 and input gives 3×8×8: put a CropPad of top 1, bottom 1, left 1, right 1 after conv (making it 8×8), or one of top -1, bottom -1, left -1, right -1 after input (making it 6×6)"), "{m:?}");
    // Either fix, as said, makes the join valid.
    for (after, port, fix) in [
        (
            c,
            0,
            CropPad {
                top: 1,
                bottom: 1,
                left: 1,
                right: 1,
            },
        ),
        (
            i,
            1,
            CropPad {
                top: -1,
                bottom: -1,
                left: -1,
                right: -1,
            },
        ),
    ] {
        let mut fixed = d.clone();
        let crop = fixed.add("fix", Op::CropPad(fix), [0.0, 0.0]);
        fixed.edges.retain(|e| !(e.to == cat && e.port == port));
        fixed.connect(after, crop, 0);
        fixed.connect(crop, cat, port);
        let m = messages(&fixed);
        assert!(!m.iter().any(|x| x.starts_with("cat1: joins")), "{m:?}");
    }
    // A U-Net's odd size: 57 against 56 crops the bottom row and right column.
    let odd = netloom::design::infer(
        &Op::Concat(Merge {}),
        &[
            ("skip", &Shape::image(8, 57, 57)),
            ("up", &Shape::image(8, 56, 56)),
        ],
    )
    .unwrap_err()
    .0;
    assert!(
        odd.contains(
            "a CropPad of top 0, bottom -1, left 0, right -1 after skip (making it 56×56)"
        ),
        "{odd}"
    );
    assert!(
        m.iter().any(|x| x
            == "cat1: its output goes nowhere: wire it onward (towards the Output), or delete it"),
        "{m:?}"
    );
}

#[test]
fn input_and_output_counts() {
    let mut d = chain(
        InputOp::vector(2),
        vec![("fc", Op::Linear(Linear::new(2))), ("output", out())],
    );
    let extra = d.add("input2", Op::Input(InputOp::vector(2)), [0.0, 0.0]);
    let fc = d.node_by_name("fc").unwrap().id;
    let _ = (extra, fc);
    let m = messages(&d);
    assert!(
        m.iter()
            .any(|x| x == "the design has 2 Input blocks (input, input2): keep exactly one"),
        "{m:?}"
    );
    let empty = messages(&Design::default());
    assert!(
        empty
            .iter()
            .any(|x| x.starts_with("the design has no Input"))
    );
    assert!(
        empty
            .iter()
            .any(|x| x.starts_with("the design has no Output"))
    );
}

#[test]
fn cross_entropy_needs_a_score_per_class_for_a_sample_or_a_pixel() {
    let d = chain(
        InputOp::image(1, 4, 4),
        vec![("conv", Op::Conv2d(Conv2d::new(1, 1))), ("output", out())],
    );
    assert_eq!(
        messages(&d),
        [
            "output: cross_entropy per pixel needs a score per class at every pixel, at least 2 channels, but gets 1: end the network in a Conv2d with a channel per class"
        ]
    );
    // Two channels at every pixel: a segmentation's scores.
    let per_pixel = chain(
        InputOp::image(1, 4, 4),
        vec![("conv", Op::Conv2d(Conv2d::new(2, 1))), ("output", out())],
    );
    assert!(messages(&per_pixel).is_empty());
    let mse = chain(
        InputOp::image(1, 4, 4),
        vec![
            ("conv", Op::Conv2d(Conv2d::new(2, 1))),
            ("output", Op::Output(OutputOp { loss: Loss::Mse })),
        ],
    );
    assert!(messages(&mse).is_empty());
}

#[test]
fn names_must_be_unique_identifiers() {
    let d = chain(
        InputOp::vector(2),
        vec![
            ("fc", Op::Linear(Linear::new(2))),
            ("fc", relu()),
            ("1x", relu()),
            ("output", out()),
        ],
    );
    let m = messages(&d);
    assert!(
        m.iter().any(|x| x
            == "fc: another node (Linear) has the same name: names must be unique, rename one"),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|x| x.starts_with("1x: a name must start with a letter")),
        "{m:?}"
    );
    assert!(
        is_valid_name("conv1")
            && is_valid_name("_x")
            && is_valid_name("layer1.0.conv1")
            && !is_valid_name("a..b")
            && !is_valid_name("a.")
            && !is_valid_name(".a")
            && is_valid_name("trunk_output.block1.block1-0.f.a.0")
            && !is_valid_name("a.-b")
            && !is_valid_name("-a")
            && !is_valid_name("a b")
            && !is_valid_name("")
    );
}

#[test]
fn wiring_mistakes() {
    let mut d = chain(
        InputOp::vector(2),
        vec![("fc", Op::Linear(Linear::new(2))), ("output", out())],
    );
    let (i, fc, o) = (d.nodes[0].id, d.nodes[1].id, d.nodes[2].id);
    d.connect(o, i, 0);
    d.connect(i, fc, 0);
    d.connect(fc, NodeId(99), 0);
    let m = messages(&d);
    assert!(
        m.iter()
            .any(|x| x.starts_with("input: an Input is where data enters")),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|x| x.starts_with("output: the Output ends the network")),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|x| x == "fc: its input 0 has two wires into it: delete one"),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|x| x == "a wire refers to node #99, which does not exist: delete the wire"),
        "{m:?}"
    );
}

#[test]
fn bad_parameters_are_reported_with_fixes() {
    let mut conv = Conv2d::new(6, 3);
    conv.groups = 4;
    let d = chain(
        InputOp::image(3, 8, 8),
        vec![
            ("conv", Op::Conv2d(conv)),
            ("drop", Op::Dropout(Dropout { p: 1.5 })),
            ("output", Op::Output(OutputOp { loss: Loss::Mse })),
        ],
    );
    assert_eq!(
        messages(&d),
        [
            "conv: its 3 input channels can't be split into 4 groups: groups must divide the input channels"
        ]
    );
    let mut bad_settings = chain(
        InputOp::vector(3),
        vec![
            ("drop", Op::Dropout(Dropout { p: 1.5 })),
            ("output", Op::Output(OutputOp { loss: Loss::Mse })),
        ],
    );
    bad_settings.training.learning_rate = -1.0;
    let m = messages(&bad_settings);
    assert!(m.iter().any(|x| x.starts_with("drop: p is 1.5")), "{m:?}");
    assert!(
        m.iter()
            .any(|x| x.starts_with("training: learning_rate is -1")),
        "{m:?}"
    );
}

#[test]
fn a_learning_rate_multiplier_must_be_positive() {
    let mut d = chain(
        InputOp::vector(2),
        vec![("fc", Op::Linear(Linear::new(2))), ("output", out())],
    );
    d.nodes[1].lr_mult = Some(0.1);
    assert!(analyse(&d).is_valid());
    for bad in [0.0, -1.0, f64::NAN] {
        d.nodes[1].lr_mult = Some(bad);
        let a = analyse(&d);
        assert!(
            a.problems
                .iter()
                .any(|p| p.message.contains("must be a positive number")),
            "{bad}: {:?}",
            a.problems
        );
    }
}
