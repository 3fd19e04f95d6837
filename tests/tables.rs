//! Tables (`csv:PATH`): a table with numeric, categorical and missing values, made here,
//! trains to the accuracy of scikit-learn's logistic regression on the same split, and the
//! loader says what it did to every column.
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use std::path::Path;

/// Input (the encoded width) → Linear(2) → Output: a logistic regression, as scikit-learn's.
fn logistic_design(features: u64, path: &Path) {
    use netloom::design::*;
    let mut d = common::reference::chain(
        InputOp::vector(features),
        vec![
            ("fc", Op::Linear(Linear::new(2))),
            ("output", Op::Output(OutputOp::default())),
        ],
    );
    d.training.optimizer = Optimizer::Adam;
    d.training.learning_rate = 0.01;
    d.training.batch_size = 64;
    d.training.epochs = 30;
    d.data.preprocessing = Preprocessing::default();
    std::fs::write(path, to_json(&d)).unwrap();
}

#[test]
fn a_table_trains_to_the_accuracy_of_a_logistic_regression_on_the_same_split() {
    let dir = tempdir("tables-logistic");
    let csv = dir.join("people.csv");
    let script = reference("table_reference.py");
    python(&script, &["make", csv.to_str().unwrap()]);
    let theirs: f64 = python(&script, &["logistic", csv.to_str().unwrap()])
        .trim()
        .parse()
        .unwrap();
    let spec = format!("csv:{}?split=fold", csv.display());
    let data = netloom::data::DataSpec::parse(&spec).unwrap();
    let ds = data.load_for(None).unwrap();
    // x1, x2, x3; colour's red, green, blue, (missing) and other; size's four and other.
    assert_eq!(ds.shape.dims(), [13]);
    assert_eq!(ds.classes, ["no", "yes"]);
    let notes = ds.notes.join("\n");
    for said in [
        "standardised: x1, x2, x3",
        "one-hot: colour (4 values + other), size (4 values + other)",
        "\"x1\": 150 missing values filled with the training mean",
        "\"colour\": 80 missing values made the category \"(missing)\"",
        "dropped \"id\": its values are the row numbers",
        "dropped \"constant\": it has one value on every training row",
    ] {
        assert!(notes.contains(said), "{said:?} not in:\n{notes}");
    }
    let design = dir.join("logistic.json");
    logistic_design(13, &design);
    let out = dir.join("run");
    netloom_ok(&[
        "train",
        design.to_str().unwrap(),
        "--data",
        &spec,
        "--out",
        out.to_str().unwrap(),
    ]);
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let last = metrics.lines().rfind(|l| l.starts_with("epoch,")).unwrap();
    let ours: f64 = last.split(',').nth(8).unwrap().parse().unwrap();
    assert!(
        (ours - theirs).abs() <= 0.02,
        "netloom's validation accuracy {ours:.4}, scikit-learn's {theirs:.4}"
    );
}

#[test]
fn a_bad_table_is_refused_saying_what_to_change() {
    let dir = tempdir("tables-refused");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let load = |spec: String| {
        netloom::data::DataSpec::parse(&spec)
            .and_then(|s| s.load_for(None))
            .unwrap_err()
            .to_string()
    };
    let ragged = write("ragged.csv", "a,b,y\n1,2,x\n3,4\n");
    assert!(load(format!("csv:{ragged}")).contains("row 3 has 2 fields where the first row has 3"));
    let good = write("good.csv", "a,b,y\n1,2,x\n3,4,z\n5,6,x\n");
    assert!(
        load(format!("csv:{good}?target=label"))
            .contains("there is no target column \"label\"; the columns are a, b, y")
    );
    let e = netloom::data::DataSpec::parse(&format!("csv:{good}?targt=y")).unwrap_err();
    assert!(e.to_string().contains("unknown table option \"targt\""));
    assert!(
        load(format!("csv:{good}?task=regression"))
            .contains("the target \"y\" holds text, so it can't be a quantity to predict")
    );
    let empty = write("empty.csv", "a,y\n");
    assert!(load(format!("csv:{empty}")).contains("the table has no rows"));
    assert!(
        load(format!("csv:{}", dir.join("absent.csv").display())).contains("cannot read the table")
    );
}

#[test]
fn options_read_back_and_values_the_training_rows_never_had_are_counted() {
    let spec =
        "csv:/data/t.csv?target=y&task=classification&drop=a,b&split=fold&sep=;&header=false";
    let parsed = netloom::data::DataSpec::parse(spec).unwrap();
    assert_eq!(parsed.to_spec(), spec);
    let tsv = netloom::data::DataSpec::parse("tsv:/data/t.tsv").unwrap();
    assert_eq!(tsv.to_spec(), "csv:/data/t.tsv?sep=tab");
    let dir = tempdir("tables-unseen");
    let mut text = "shade,n,y,fold\n".to_owned();
    for i in 0..40 {
        let shade = ["dark", "light"][i % 2];
        text += &format!("{shade},{},{},train\n", i % 7, ["a", "b"][i % 3 % 2]);
    }
    text += "dark,1,a,val\npurple,2,b,val\nteal,3,a,val\nlight,4,b,val\n";
    let csv = dir.join("unseen.csv");
    std::fs::write(&csv, text).unwrap();
    let ds = netloom::data::DataSpec::parse(&format!("csv:{}?split=fold", csv.display()))
        .unwrap()
        .load_for(None)
        .unwrap();
    assert_eq!((ds.train.len(), ds.val.len()), (40, 4));
    // shade: dark, light and other; n standardised.
    assert_eq!(ds.shape.dims(), [4]);
    let netloom::data::Samples::F32(val) = &ds.val.samples else {
        panic!()
    };
    // purple and teal are "other", the third of shade's slots.
    assert_eq!(val[4..7], [0.0, 0.0, 1.0]);
    assert!(
        ds.notes
            .iter()
            .any(|n| n == "\"shade\": 2 of 4 validation rows have a value the training rows never had (encoded as \"other\")"),
        "{:?}",
        ds.notes
    );
}

/// In the app: a design whose file names a table opens in the Train view with the table's
/// encoding said, one click makes the Input as wide as the encoding, and it trains.
#[test]
fn the_train_view_says_what_a_table_became_fits_the_input_and_trains() {
    use egui_kittest::kittest::Queryable as _;
    use netloom::engine::RunStatus;
    let dir = tempdir("tables-app");
    let csv = dir.join("people.csv");
    python(
        &reference("table_reference.py"),
        &["make", csv.to_str().unwrap()],
    );
    let design = dir.join("logistic.json");
    // Two features too few: as a user's design before the table's encoding is known.
    logistic_design(11, &design);
    let mut d = netloom::design::from_json(&std::fs::read_to_string(&design).unwrap()).unwrap();
    d.training.epochs = 3;
    d.data.source = Some(format!("csv:{}?target=y&split=fold", csv.display()));
    std::fs::write(&design, netloom::design::to_json(&d)).unwrap();
    let mut harness = common::ui::app_sized(Some(design), egui::vec2(1280.0, 720.0));
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    common::ui::wait_for_label_containing(&mut harness, "one-hot: colour (4 values + other)", 60);
    harness.get_by_label_contains("dropped \"id\": its values are the row numbers");
    harness.get_by_label_contains("has samples of shape 13: set \"input\" to 13");
    // The target picker and the preview's header both name "y"; the preview says its role.
    assert!(harness.query_all_by_value("y").count() >= 2);
    harness.get_by_label_contains("text · target (classes)");
    harness.get_by_label("class balance (training rows)");
    // The run bar takes its new height a frame after its message appears.
    harness.run_steps(3);
    harness.get_by_label("Set the Input to 13 features").click();
    harness.run_steps(3);
    assert_eq!(
        harness.state().design().input_shape(),
        Some(netloom::design::Shape::vector(13))
    );
    assert!(harness.query_by_label_contains("Can't train yet").is_none());
    harness.get_all_by_label("Train").nth(1).unwrap().click();
    common::ui::step_until(&mut harness, 120, "the run ends", |app| {
        app.runs()
            .last()
            .is_some_and(|r| r.status == RunStatus::Finished)
    });
    assert_eq!(harness.state().runs()[0].epochs.len(), 3);
}

/// y = 3·x1 − 2·x2² + 4·sin(2·x3) + 5 where colour is red, then ×100 + 1000 (units far from 1,
/// so the target's standardisation is exercised), plus a little noise: a known function of
/// numeric and categorical columns, with some x1 missing.
fn regression_table(path: &Path, rows: usize) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut text = String::from("x1,x2,x3,colour,price\n");
    for _ in 0..rows {
        let (x1, x2, x3) = (
            uniform() * 2.0 - 1.0,
            uniform() * 2.0 - 1.0,
            uniform() * 2.0 - 1.0,
        );
        let colour = ["red", "green", "blue"][(uniform() * 3.0) as usize % 3];
        let noise = (uniform() - 0.5) * 0.2;
        let y = 3.0 * x1 - 2.0 * x2 * x2
            + 4.0 * (2.0 * x3).sin()
            + if colour == "red" { 5.0 } else { 0.0 }
            + noise;
        let x1 = if uniform() < 0.02 {
            String::new()
        } else {
            format!("{x1:.5}")
        };
        text += &format!("{x1},{x2:.5},{x3:.5},{colour},{:.4}\n", y * 100.0 + 1000.0);
    }
    std::fs::write(path, text).unwrap();
}

/// Input → Linear(64) → ReLU → Linear(64) → ReLU → Linear(1) → Output (MSE).
fn regression_design(features: u64, path: &Path) {
    use netloom::design::*;
    let mut d = common::reference::chain(
        InputOp::vector(features),
        vec![
            ("fc1", Op::Linear(Linear::new(64))),
            ("relu1", Op::Activation(Activation::new(ActivationFn::Relu))),
            ("fc2", Op::Linear(Linear::new(64))),
            ("relu2", Op::Activation(Activation::new(ActivationFn::Relu))),
            ("fc3", Op::Linear(Linear::new(1))),
            ("output", Op::Output(OutputOp { loss: Loss::Mse })),
        ],
    );
    d.training.optimizer = Optimizer::Adam;
    d.training.learning_rate = 0.003;
    d.training.batch_size = 32;
    d.training.epochs = 30;
    d.data.preprocessing = Preprocessing::default();
    std::fs::write(path, to_json(&d)).unwrap();
}

#[test]
fn a_regression_table_fits_a_known_function_and_reports_mae_rmse_and_r2() {
    let dir = tempdir("tables-regression");
    let csv = dir.join("prices.csv");
    regression_table(&csv, 2000);
    let spec = format!("csv:{}?target=price", csv.display());
    let ds = netloom::data::DataSpec::parse(&spec)
        .unwrap()
        .load_for(None)
        .unwrap();
    // Inferred: a target of many non-integer values is a quantity.
    let q = ds.quantity.clone().unwrap();
    assert_eq!(q.name, "price");
    assert!(ds.classes.is_empty());
    assert_eq!(ds.shape.dims(), [7]); // x1, x2, x3 and colour's three values + other
    assert!(
        ds.notes
            .join("\n")
            .contains("regression: \"price\" standardised"),
        "{:?}",
        ds.notes
    );
    let design = dir.join("mlp.json");
    // A classifier's head is refused with the fix.
    let wrong = dir.join("wrong.json");
    logistic_design(7, &wrong);
    let (code, _, err) = netloom(&["train", wrong.to_str().unwrap(), "--data", &spec]);
    assert_ne!(code, 0);
    assert!(err.contains("set \"output\"'s loss to mse"), "{err}");
    regression_design(7, &design);
    let out = dir.join("run");
    let (_, _, said) = netloom(&[
        "train",
        design.to_str().unwrap(),
        "--data",
        &spec,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(said.contains("R²") && said.contains("MAE"), "{said}");
    let rows = metrics(&out);
    let last = rows.iter().rev().find(|r| r[0] == "epoch").unwrap();
    let (mae, rmse, r2): (f64, f64, f64) = (
        last[12].parse().unwrap(),
        last[13].parse().unwrap(),
        last[14].parse().unwrap(),
    );
    assert!(r2 >= 0.95, "validation R² {r2}: {said}");
    // In the target's units (×100): a fit of R² 0.95 is within tens, not within 0.1.
    assert!(
        mae > 1.0 && mae < rmse && rmse < 150.0,
        "MAE {mae}, RMSE {rmse}"
    );
    assert_eq!(last[8], "", "a regression has no accuracy");
    // The run reads back with its fit, and evaluates to the same numbers.
    let opened = netloom::engine::RunHistory::from_metrics_csv("r".to_owned(), &out).unwrap();
    let fit = opened.epochs.last().unwrap().regression.clone().unwrap();
    assert!((fit.r2 - r2).abs() < 1e-12);
    let eval = netloom_ok(&[
        "eval",
        out.join("design.json").to_str().unwrap(),
        "--weights",
        out.join("weights.safetensors").to_str().unwrap(),
        "--data",
        &spec,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&eval).unwrap();
    assert!((v["r2"].as_f64().unwrap() - r2).abs() < 1e-6, "{eval}");
    assert_eq!(v["target"], "price");
    exported_script_trains_the_same_regression(&dir, &out, q.mean, r2);
}

/// The exported train.py trains the same regression on the same standardised targets, and
/// writes the same columns; the fitted encoding is written beside it.
fn exported_script_trains_the_same_regression(dir: &Path, out: &Path, mean: f64, r2: f64) {
    let py = dir.join("py");
    netloom_ok(&[
        "export",
        out.to_str().unwrap(),
        "--format",
        "pytorch",
        "--out",
        py.to_str().unwrap(),
    ]);
    // The fitted encoding is written beside it, to encode new rows the same way.
    let encoding: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(py.join("data/encoding.json")).unwrap())
            .unwrap();
    assert_eq!(encoding["width"], 7);
    assert_eq!(encoding["target"]["column"], "price");
    assert_eq!(encoding["target"]["task"], "regression");
    assert!((encoding["target"]["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
    let features = encoding["features"].as_array().unwrap();
    assert_eq!(features.len(), 4);
    assert_eq!(features[3]["column"], "colour");
    assert_eq!(features[3]["categories"].as_array().unwrap().len(), 3);
    let run = std::process::Command::new("python3")
        .args(["train.py", "--epochs", "30", "--out", "run"])
        .current_dir(&py)
        .env("OMP_NUM_THREADS", "1")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let theirs = metrics(&py.join("run"));
    let theirs = theirs.iter().rev().find(|r| r[0] == "epoch").unwrap();
    let their_r2: f64 = theirs[14].parse().unwrap();
    assert!(
        their_r2 >= 0.95 && (their_r2 - r2).abs() < 0.02,
        "train.py's R² {their_r2}, netloom's {r2}:\n{printed}"
    );
}
