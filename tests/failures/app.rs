//! Failures a user causes in the app: two windows saving one file, the design edited on the
//! canvas while a run trains it, the window closed mid-run.

use super::ui::{app, app_on_endless_mlp, step_until};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use netloom::app::NetloomApp;
use netloom::engine::RunStatus;
use std::path::{Path, PathBuf};

fn scratch(tag: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("failures-app-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn save(harness: &mut Harness<'static, NetloomApp>) {
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    harness.run_steps(3);
}

fn has_node(path: &Path, name: &str) -> bool {
    netloom::document::load_design(path)
        .unwrap()
        .node_by_name(name)
        .is_some()
}

#[test]
fn two_windows_saving_one_file_ask_before_replacing_each_others_changes() {
    let dir = scratch("two-windows");
    let path = dir.join("lenet.json");
    std::fs::write(&path, netloom::examples::DEFAULT_DESIGN.1).unwrap();
    let (mut a, mut b) = (app(Some(path.clone())), app(Some(path.clone())));
    a.get_by_label("Dropout").click();
    a.run_steps(3);
    save(&mut a);
    assert!(!a.state().is_dirty());
    assert!(has_node(&path, "drop1"), "window A saved its Dropout");
    b.get_by_label("GELU").click();
    b.run_steps(3);
    save(&mut b);
    // B is asked; A's saved work is still on disk, and B's edits are still open and unsaved.
    b.get_by_label("The file changed on disk");
    assert!(has_node(&path, "drop1") && !has_node(&path, "gelu1"));
    b.get_by_label("Cancel").click();
    b.run_steps(3);
    assert!(
        b.state().is_dirty(),
        "B's edits are still unsaved after Cancel"
    );
    assert!(b.query_by_label("The file changed on disk").is_none());
    assert!(has_node(&path, "drop1"));
    // Asked again, B replaces A's changes deliberately; A, saving after that, is asked in turn.
    save(&mut b);
    b.get_by_label("Replace").click();
    b.run_steps(3);
    assert!(!b.state().is_dirty());
    assert!(has_node(&path, "gelu1") && !has_node(&path, "drop1"));
    a.get_by_label("ELU").click();
    a.run_steps(3);
    save(&mut a);
    a.get_by_label("The file changed on disk");
    assert!(has_node(&path, "gelu1"), "B's save is kept until A answers");
    // The same window saving twice is never asked: the file is as it left it.
    save(&mut b);
    assert!(b.query_by_label("The file changed on disk").is_none());
}

/// The app with its data folder in `dir`, on a design of `dir` (the two-layer MLP with so many
/// epochs that a run never ends by itself), switched to the Train view with a run started.
fn training(dir: &Path) -> Harness<'static, NetloomApp> {
    let mut harness = app_on_endless_mlp(dir);
    harness.get_by_label("Train").click();
    harness.run_steps(3);
    harness
        .get_all_by_label("Train")
        .nth(1)
        .unwrap()
        .click_accesskit();
    step_until(&mut harness, 120, "no epoch arrived", |app| {
        app.runs().first().is_some_and(|r| !r.epochs.is_empty())
    });
    harness
}

#[test]
fn editing_the_design_while_it_trains_changes_neither_the_run_nor_loses_the_edit() {
    let dir = scratch("edit-while-training");
    let mut harness = training(&dir);
    harness.get_by_label("Design").click();
    harness.run_steps(2);
    harness.get_by_label("Dropout").click();
    harness.run_steps(3);
    let epochs = harness.state().runs()[0].epochs.len();
    step_until(&mut harness, 120, "the run stopped after the edit", |app| {
        app.runs()[0].epochs.len() > epochs
    });
    harness.get_by_label_contains("⏵ training #1").click();
    harness.run_steps(2);
    harness.get_by_label("Stop").click_accesskit();
    step_until(&mut harness, 60, "Stop was not honoured", |app| {
        app.runs()[0].status == RunStatus::Finished
    });
    let run_dir = harness.state().runs()[0].dir.clone().unwrap();
    // The run trained the design as it was when it started; the edit is in the editor, unsaved.
    let trained = netloom::document::load_design(&run_dir.join("design.json")).unwrap();
    assert!(trained.node_by_name("drop1").is_none());
    assert!(harness.state().design().node_by_name("drop1").is_some());
    assert!(harness.state().is_dirty());
}

#[test]
fn closing_the_window_mid_run_keeps_a_checkpoint_that_resumes() {
    let dir = scratch("close-mid-run");
    let mut harness = training(&dir);
    let run_dir = harness.state().runs()[0].dir.clone().unwrap();
    let epochs = harness.state().runs()[0].epochs.len() as u64;
    // Closing the window drops the app: its trainer stops the run after the batch in hand
    // and writes a checkpoint before the window goes.
    harness.run_steps(2);
    drop(harness);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("state.json")).unwrap()).unwrap();
    let step = state["step"].as_u64().unwrap();
    assert!(
        state["epochs_done"].as_u64().unwrap() >= epochs && step > 0,
        "{state}"
    );
    // The CLI carries the run on from there (as Continue or File → Open run folder would).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netloom"))
        .args([
            "train",
            dir.join("mlp.json").to_str().unwrap(),
            "--resume",
            run_dir.to_str().unwrap(),
            "--max-steps",
            &(step + 3).to_string(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("step {step}")), "{err}");
}
