//! The Experiments view driven as a user would: a sweep written in the editor and run, the
//! table sorted by the metric, an axis of the parallel coordinates brushed (the table
//! follows), two trials' curves overlaid, and a trial's design opened into the editor.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;
use common::{run, ui};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use netloom::app::NetloomApp;
use ui::*;

fn wait_for_sweep(harness: &mut Harness<'static, NetloomApp>, trials: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let visible = harness.state().visible_trials();
        let done = visible.len() == trials && visible.iter().all(|(_, b)| b.is_some());
        if done && harness.state().sweep_over() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sweep didn't end: {visible:?} {:?}",
            harness.state().experiments_error()
        );
        harness.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    harness.run_steps(3);
}

#[test]
fn a_sweep_runs_from_the_editor_and_its_trials_are_sorted_brushed_compared_and_opened() {
    let dir = run::tempdir("experiments-view");
    let design = dir.join("lenet5.json");
    std::fs::copy(run::example_path("lenet5.json"), &design).unwrap();
    let mut harness = app_with_data_dir(Some(design), &dir, egui::vec2(1280.0, 800.0));
    harness.get_by_label("Experiments").click();
    harness.run_steps(3);

    // The editor: the learning rate as a list, fc1's width added, a grid of 3 × 2, one epoch.
    harness.get_by_value("log-uniform").click();
    harness.run_steps(2);
    harness.get_by_label("values").click();
    harness.run_steps(2);
    harness.get_by_label("Add a parameter").click();
    harness.run_steps(2);
    harness.get_by_label("parameter 2").click();
    harness.run_steps(1);
    harness
        .get_by_label("parameter 2")
        .type_text("fc1.out_features");
    harness.run_steps(1);
    harness.get_by_label("values of parameter 2").click();
    harness.run_steps(1);
    harness
        .get_by_label("values of parameter 2")
        .type_text("32, 64");
    harness.run_steps(1);
    harness.get_by_label("grid").click();
    harness.state_mut().set_sweep_epochs(1);
    harness.run_steps(2);
    harness.get_by_label("⏵ Run sweep").click();
    harness.run_steps(2);
    assert_eq!(harness.state().experiments_error(), None);
    wait_for_sweep(&mut harness, 6);

    // Sorted by the metric, best first.
    harness.get_by_label("best val_acc").click();
    harness.run_steps(3);
    let sorted: Vec<f64> = harness
        .state()
        .visible_trials()
        .iter()
        .map(|(_, b)| b.unwrap())
        .collect();
    assert!(sorted.windows(2).all(|w| w[0] >= w[1]), "{sorted:?}");
    let (best, worst) = (sorted[0], sorted[5]);
    assert!(best > worst, "the settings made a difference: {sorted:?}");

    // Brushing the objective's axis around its top keeps only the trials up there.
    let axis = harness.get_by_label("axis best val_acc").rect();
    drag(
        &mut harness,
        egui::pos2(axis.center().x, axis.top() + 1.0),
        egui::pos2(axis.center().x, axis.top() + axis.height() * 0.1),
    );
    harness.run_steps(3);
    let brushed = harness.state().visible_trials();
    assert!(
        !brushed.is_empty() && brushed.len() < 6,
        "the brush filters the table: {brushed:?}"
    );
    let cut = brushed
        .iter()
        .map(|(_, b)| b.unwrap())
        .fold(f64::MAX, f64::min);
    assert!(cut > worst, "{brushed:?}");
    harness.get_by_label("clear the brushes").click();
    harness.run_steps(3);
    assert_eq!(harness.state().visible_trials().len(), 6);

    // Two trials picked: their curves overlaid (their names in the plots' legend too).
    let names: Vec<String> = harness
        .state()
        .visible_trials()
        .into_iter()
        .take(2)
        .map(|(n, _)| n)
        .collect();
    for n in &names {
        harness.get_by_label(n).click();
        harness.run_steps(2);
    }
    harness.run_steps(3);
    for n in &names {
        assert!(
            harness.get_all_by_label(n).count() >= 2,
            "{n} in the table and the legend"
        );
    }
    harness.get_by_label("accuracy per epoch (validation solid, training dashed)");

    // The first picked trial's design opens into the editor, unsaved, with its values.
    harness.get_by_label("Open this trial's design").click();
    harness.run_steps(4);
    assert_eq!(harness.state().view(), netloom::app::View::Design);
    assert!(
        harness.state().is_dirty(),
        "the trial's design is a new, unsaved document"
    );
    let d = harness.state().design();
    let fc1 = serde_json::to_value(&d.node_by_name("fc1").unwrap().op).unwrap();
    let width = fc1["out_features"].as_u64().unwrap();
    assert!(width == 32 || width == 64, "{width}");
    assert!([0.001, 0.01, 0.1].contains(&d.training.learning_rate));
    assert!(harness.state().notice().unwrap().contains(&names[0]));
}
