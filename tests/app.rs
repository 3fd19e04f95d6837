//! The app, driven through its accessible labels as a user would (egui_kittest).
#![allow(clippy::too_many_lines)] // test scenarios and reference tables read top to bottom
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;
use common::ui;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use netloom::app::NetloomApp;
use ui::*;

#[test]
fn opens_on_lenet5_and_shows_shapes_and_totals() {
    let harness = app(None);
    assert_eq!(harness.state().design().nodes.len(), 14);
    harness.get_by_label("conv1");
    // conv1's and relu1's outputs, and the same shapes where they arrive at relu1 and pool1.
    assert!(harness.get_all_by_label("6×28×28").count() >= 2);
    harness.get_by_label("61,706 parameters");
    harness.get_by_label("valid");
}

#[test]
fn examples_open_from_the_file_menu() {
    let mut harness = app(None);
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Examples").hover();
    harness.run_steps(2);
    harness.get_by_label("resnet_mini.json").click();
    harness.run_steps(4);
    assert_eq!(
        harness.state().title(),
        "resnet_mini.json (example) — netloom"
    );
    assert!(
        harness
            .state()
            .design()
            .node_by_name("layer2_add")
            .is_some()
    );
    // Templates of known architectures, with torchvision's names.
    open_template(&mut harness, "resnet18");
    assert_eq!(harness.state().title(), "resnet18 (template) — netloom");
    assert!(
        harness
            .state()
            .design()
            .node_by_name("layer4.1.conv2")
            .is_some()
    );
    harness.get_by_label("11,181,642 parameters");
}

#[test]
fn a_broken_file_keeps_the_open_design_and_says_why() {
    let path = std::env::temp_dir().join(format!("netloom-app-broken-{}.json", std::process::id()));
    std::fs::write(
        &path,
        "{\"format\": \"netloom-design\", \"version\": 99, \"nodes\": []}",
    )
    .unwrap();
    let harness = app(Some(path.clone()));
    assert_eq!(
        harness.state().design().nodes.len(),
        14,
        "the default design stays open"
    );
    harness.get_by_label_contains("made by a newer netloom");
    std::fs::remove_file(&path).ok();
}

#[test]
fn blocks_come_from_the_palette_and_undo_takes_them_back() {
    let mut harness = app(None);
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("New").click();
    harness.run_steps(3);
    assert_eq!(harness.state().design().nodes.len(), 0);
    for block in ["Input", "Flatten", "Linear", "Output"] {
        harness.get_by_label(block).click();
        harness.run_steps(3);
    }
    let names: Vec<String> = harness
        .state()
        .design()
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .collect();
    assert_eq!(names, ["input1", "flatten1", "fc1", "output1"]);
    // Unwired blocks are invalid, and say so on the canvas and in the problem list.
    assert!(harness.query_by_label("valid").is_none());
    assert!(harness.state().is_dirty());
    assert!(harness.state().title().starts_with("• untitled"));
    harness.get_by_label("Edit").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Undo").click();
    harness.run_steps(3);
    assert_eq!(
        harness.state().design().nodes.len(),
        3,
        "undo removed the Output"
    );
    harness.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    harness.run_steps(3);
    assert_eq!(
        harness.state().design().nodes.len(),
        4,
        "redo brought it back"
    );
}

#[test]
fn the_palette_search_filters_blocks_and_explains_them() {
    let mut harness = app(None);
    harness.get_by_label("GELU");
    harness.get_by_label("Search").click();
    harness.run_steps(2);
    harness.get_by_label("Search").type_text("residual");
    harness.run_steps(3);
    harness.get_by_label("Add");
    assert!(
        harness.query_by_label("GELU").is_none(),
        "the search keeps only matching blocks"
    );
}

#[test]
fn wiring_shows_shapes_breaking_shows_errors_and_undo_repairs() {
    use netloom::ui::canvas::PinSide;
    let mut harness = app(None);
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("New").click();
    harness.run_steps(3);
    for block in ["Input", "Flatten", "Linear", "Output"] {
        // Nothing selected, so the palette adds the block alone (with a block selected it
        // would go after it, wired: tests/canvas.rs).
        click_at(&mut harness, egui::pos2(900.0, 700.0));
        harness.get_by_label(block).click();
        harness.run_steps(3);
    }
    assert!(
        harness.state().design().edges.is_empty(),
        "nothing was selected, nothing wired"
    );
    assert!(
        harness.query_by_label("784").is_none(),
        "an unwired Flatten has no shape yet"
    );
    let ids: Vec<_> = harness
        .state()
        .design()
        .nodes
        .iter()
        .map(|n| n.id)
        .collect();
    // Wire them as a person does: drag from each output pin to the next block's input pin.
    for pair in ids.windows(2) {
        let from = harness
            .state()
            .pin_screen_pos(pair[0], PinSide::Out)
            .unwrap();
        let to = harness
            .state()
            .pin_screen_pos(pair[1], PinSide::In(0))
            .unwrap();
        drag(&mut harness, from, to);
    }
    assert_eq!(harness.state().design().edges.len(), 3, "three wires drawn");
    harness.get_by_label("784");
    harness.get_by_label("valid");
    harness.get_by_label("7,850 parameters");
    // Break it: right-click the wire into the Linear, and delete it from the wire's menu.
    let pin = harness
        .state()
        .pin_screen_pos(ids[2], PinSide::In(0))
        .unwrap();
    click_with(&mut harness, pin, egui::PointerButton::Secondary);
    harness.get_by_label("Delete wire").click();
    harness.run_steps(3);
    assert!(harness.query_by_label("valid").is_none());
    harness.get_by_label_contains("fc1: it has no input");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    harness.get_by_label("valid");
    // Save and reopen.
    let path = std::env::temp_dir().join(format!("netloom-app-save-{}.json", std::process::id()));
    harness.state_mut().save_to(path.clone());
    assert!(!harness.state().is_dirty());
    let saved = harness.state().design().clone();
    let reopened = app(Some(path.clone()));
    assert_eq!(reopened.state().design(), &saved);
    assert_eq!(
        reopened.state().title(),
        format!("{} — netloom", path.file_name().unwrap().to_string_lossy())
    );
    std::fs::remove_file(&path).ok();
}

#[test]
fn the_inspector_edits_the_clicked_block_and_one_undo_takes_back_a_typed_value() {
    let mut harness = app(None);
    let conv1 = harness.state().design().node_by_name("conv1").unwrap().id;
    // Focus conv1 by clicking its header label.
    let at = harness.state().node_screen_rect(conv1).unwrap().center();
    click_at(&mut harness, at);
    assert_eq!(harness.state().focused(), Some(conv1));
    harness.get_by_label("Inspector");
    harness.get_by_label("out channels");
    // Rename it in the inspector: a bad name is refused with a reason, a good one applies.
    let name = harness.get_by_label("name");
    name.click();
    harness.run_steps(2);
    harness.get_by_label("name").type_text("!x");
    harness.run_steps(3);
    harness.get_by_label_contains("a name is letters, digits, _ and -");
    assert!(
        harness.state().design().node_by_name("conv1").is_some(),
        "a bad name is not applied"
    );
    harness.key_press(egui::Key::Backspace);
    harness.key_press(egui::Key::Backspace);
    harness.run_steps(2);
    harness.get_by_label("name").type_text("_stem");
    harness.run_steps(3);
    assert!(
        harness
            .state()
            .design()
            .node_by_name("conv1_stem")
            .is_some()
    );
    // Typing is one undo step.
    harness.key_press(egui::Key::Escape);
    click_at(&mut harness, egui::pos2(700.0, 700.0));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    assert!(
        harness.state().design().node_by_name("conv1").is_some(),
        "one undo restored the name"
    );
}

#[test]
fn replacing_unsaved_work_asks_first() {
    let mut harness = app(None);
    harness.get_by_label("Dropout").click();
    harness.run_steps(3);
    assert!(harness.state().is_dirty());
    let count = harness.state().design().nodes.len();
    for answer in ["Cancel", "Don't save"] {
        harness.get_by_label("File").click_accesskit();
        harness.run_steps(2);
        harness.get_by_label("New").click();
        harness.run_steps(3);
        harness.get_by_label("Unsaved changes");
        harness.get_by_label(answer).click();
        harness.run_steps(3);
    }
    assert_eq!(
        harness.state().design().nodes.len(),
        0,
        "after Don't save, New went ahead"
    );
    assert!(count > 0);
}

/// Regression: answering "Save" to the unsaved-changes question while the Train view is
/// showing used to save but leave the Open that asked waiting until the Design view was shown
/// again (the Train view ended the frame early). Both views now share one end of the frame.
#[test]
fn saving_from_the_unsaved_question_on_the_train_view_goes_on_with_the_open() {
    let dir = std::env::temp_dir().join(format!("netloom-app-train-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lenet.json");
    std::fs::write(&path, netloom::examples::DEFAULT_DESIGN.1).unwrap();
    let mut harness = app(Some(path.clone()));
    harness.get_by_label("Dropout").click();
    harness.run_steps(3);
    assert!(harness.state().is_dirty());
    harness.get_by_label("Train").click();
    harness.run_steps(3);
    assert_eq!(harness.state().view(), netloom::app::View::Train);
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Examples").hover();
    harness.run_steps(2);
    harness.get_by_label("resnet_mini.json").click();
    harness.run_steps(3);
    harness.get_by_label("Unsaved changes");
    harness.get_by_label("Save").click();
    harness.run_steps(3);
    assert_eq!(harness.state().view(), netloom::app::View::Train);
    assert_eq!(
        harness.state().title(),
        "resnet_mini.json (example) — netloom",
        "the Open that asked went ahead after the save"
    );
    let saved = netloom::document::load_design(&path).unwrap();
    assert!(
        saved.nodes.len() == 15 && saved.node_by_name("drop1").is_some(),
        "the edit was saved first"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A fresh folder holding a copy of LeNet-5, for tests that save next to it.
fn lenet_in_tempdir(tag: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("app-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lenet.json");
    std::fs::write(&path, netloom::examples::DEFAULT_DESIGN.1).unwrap();
    (dir, path)
}

/// Whether the open file dialog's name field holds `name`.
fn proposes(harness: &Harness<'static, NetloomApp>, name: &str) -> bool {
    harness
        .query_all_by_value(name)
        .any(|n| n.accesskit_node().role() == egui::accesskit::Role::TextInput)
}

/// The tests run with no desktop portal (scripts/test.sh points D-Bus at nothing, and CI has
/// no zenity), as on a Linux desktop without xdg-desktop-portal: the native dialog can't open.
/// Save As must not do nothing: netloom's own dialog opens, in the design's folder, and saves;
/// the error bar says once why.
#[test]
fn without_a_portal_save_as_opens_netloom_s_own_dialog_and_saves() {
    let (dir, path) = lenet_in_tempdir("no-portal-save");
    let mut harness = app(Some(path));
    harness.get_by_label("Dropout").click();
    harness.run_steps(3);
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Save As…").click();
    harness.run_steps(4);
    assert!(
        harness.state().in_app_file_dialog_open(),
        "the in-app dialog took over"
    );
    let said = harness.state().error().unwrap_or_default().to_owned();
    assert!(said.contains("could not open"), "{said}");
    // It proposes the design's own file, and asks before saving over it.
    assert!(proposes(&harness, "lenet.json"));
    harness.get_by_label("📥  Save").click();
    harness.run_steps(4);
    harness.get_by_label("Overwrite").click();
    harness.run_steps(4);
    assert!(!harness.state().in_app_file_dialog_open());
    let saved = netloom::document::load_design(&dir.join("lenet.json")).unwrap();
    assert!(saved.node_by_name("drop1").is_some(), "the edit was saved");
    assert_eq!(harness.state().title(), "lenet.json — netloom");
    assert_eq!(harness.state().error(), None);
    // From now on the in-app dialog opens straight away, without saying it again.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    harness.run_steps(4);
    assert!(harness.state().in_app_file_dialog_open());
    assert_eq!(harness.state().error(), None);
}

/// Regression: "Don't save" used to clear the unsaved mark before the Open it allowed had
/// happened; when that Open was cancelled (or failed) the edits stayed but looked saved, and
/// Quit then closed without asking.
#[test]
fn don_t_save_then_a_cancelled_open_keeps_the_edits_marked_unsaved() {
    let (_dir, path) = lenet_in_tempdir("dont-save-cancel");
    let mut harness = app(Some(path));
    harness.get_by_label("Dropout").click();
    harness.run_steps(3);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    harness.run_steps(3);
    harness.get_by_label("Unsaved changes");
    harness.get_by_label("Don't save").click();
    harness.run_steps(4);
    assert!(harness.state().in_app_file_dialog_open());
    harness.get_by_label("🚫 Cancel").click();
    harness.run_steps(4);
    assert!(!harness.state().in_app_file_dialog_open());
    assert!(harness.state().is_dirty(), "the edits are still unsaved");
    assert!(harness.state().title().starts_with("• "));
    assert!(harness.state().design().node_by_name("drop1").is_some());
}

/// Regression: the click that answered "Don't save" also selected the block under the question.
#[test]
fn answering_the_unsaved_question_does_not_click_the_canvas_under_it() {
    let (_dir, path) = lenet_in_tempdir("click-through");
    let mut harness = app(Some(path));
    let id = |h: &Harness<'static, NetloomApp>, name: &str| {
        h.state().design().node_by_name(name).unwrap().id
    };
    // Where the answer button will be, then a block put right under it.
    harness.get_by_label("Dropout").click();
    harness.run_steps(3);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    harness.run_steps(3);
    let button = harness.get_by_label("Don't save").rect().center();
    harness.get_by_label("Cancel").click();
    harness.run_steps(3);
    let conv1 = id(&harness, "conv1");
    let from = harness.state().node_screen_rect(conv1).unwrap().center();
    drag(&mut harness, from, button);
    let under = harness.state().node_screen_rect(conv1).unwrap();
    assert!(under.contains(button), "conv1 lies under the button");
    let pool1 = id(&harness, "pool1");
    let pool_at = harness.state().node_screen_rect(pool1).unwrap().center();
    click_at(&mut harness, pool_at);
    assert_eq!(harness.state().focused(), Some(pool1));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    harness.run_steps(3);
    click_at(&mut harness, button);
    assert!(
        harness.state().in_app_file_dialog_open(),
        "Don't save was answered"
    );
    assert_eq!(
        harness.state().focused(),
        Some(pool1),
        "the click stayed on the question"
    );
}

#[test]
fn blocks_copy_and_paste_through_the_clipboard_text() {
    let mut harness = app(None);
    let text = netloom::design::edit::copy_text(
        harness.state().design(),
        &[harness.state().design().node_by_name("conv1").unwrap().id],
    )
    .unwrap();
    harness.input_mut().events.push(egui::Event::Paste(text));
    harness.run_steps(3);
    assert!(
        harness.state().design().node_by_name("conv3").is_some(),
        "the pasted conv got a fresh name"
    );
    harness
        .input_mut()
        .events
        .push(egui::Event::Paste("not blocks".to_owned()));
    harness.run_steps(3);
    assert_eq!(harness.state().design().nodes.len(), 15);
}

#[test]
fn a_short_training_run_from_the_train_view_updates_the_loss_plot() {
    use netloom::engine::RunStatus;
    let data_dir = std::env::temp_dir().join(format!("netloom-app-runs-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).unwrap();
    // The two-layer MLP, with so many epochs that Stop always comes before the end.
    let mut harness = app_on_endless_mlp(&data_dir);
    harness.get_by_label("Train").click();
    harness.run_steps(3);
    assert_eq!(harness.state().view(), netloom::app::View::Train);
    // The Train button (the second "Train": the first is the view switch).
    let button = harness.get_all_by_label("Train").nth(1).unwrap();
    // Through accesskit: the data preview may appear while the click is on its way and move
    // the button; a pointer click would then miss it.
    button.click_accesskit();

    step_until(&mut harness, 120, "no epochs arrived", |app| {
        app.runs().first().is_some_and(|r| r.epochs.len() >= 2)
    });
    let run = &harness.state().runs()[0];
    assert!(run.losses.len() >= 19, "a loss point per step");
    assert!(run.epochs[1].val_acc > 0.4);
    assert_eq!(
        run.classes.len(),
        3,
        "a 2-feature design trains on the spiral by default"
    );
    harness.get_by_label_contains("loss per step");
    // The confusion matrix is a named heat map; hovering a cell says what it counts.
    harness
        .get_by_label_contains("confusion matrix of epoch")
        .scroll_to_me();
    harness.run_steps(3);
    let matrix = harness
        .get_by_label_contains("confusion matrix of epoch")
        .rect();
    assert!(matrix.bottom() <= 800.0, "{matrix:?}");
    harness.hover_at(matrix.right_bottom() - egui::vec2(8.0, 8.0));
    harness.run_steps(4);
    harness.get_by_label_contains("predicted as");
    // The Design view's status bar says a run is training, and takes you to it.
    harness.get_by_label("Design").click();
    harness.run_steps(2);
    harness.get_by_label_contains("⏵ training #1").click();
    harness.run_steps(2);
    assert_eq!(harness.state().view(), netloom::app::View::Train);
    // The mouse wheel over a plot scrolls the page rather than panning the plot (the page is
    // scrolled down to the matrix: the wheel brings the loss plot back down).
    let label = harness.get_by_label_contains("loss per step").rect();
    harness.hover_at(label.center() + egui::vec2(0.0, 60.0));
    harness.run_steps(1);
    // A panned plot stops following its data (auto bounds off); an untouched one follows it.
    let follows = |h: &Harness<'static, NetloomApp>| {
        egui_plot::PlotMemory::load(&h.ctx, egui::Id::new("loss_plot"))
            .unwrap()
            .auto_bounds
    };
    assert!(follows(&harness).all());
    harness.input_mut().events.push(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 120.0),
        phase: egui::TouchPhase::Move,
        modifiers: egui::Modifiers::NONE,
    });
    harness.run_steps(4);
    let moved = harness.get_by_label_contains("loss per step").rect();
    assert!(moved.top() > label.top() + 20.0, "{label:?} → {moved:?}");
    assert!(follows(&harness).all(), "the wheel panned the loss plot");
    let csv = harness.state().metrics_csv();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "run,kind,epoch,step,loss,train_loss,train_acc,val_loss,val_acc,val_mae,val_rmse,val_r2,val_miou"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 13));
    assert!(rows.iter().filter(|r| r[1] == "epoch").count() >= 2);
    harness.get_by_label("Stop").click_accesskit();
    step_until(&mut harness, 60, "Stop was not honoured", |app| {
        app.runs()[0].status == RunStatus::Finished
    });
    // The run kept its folder in the app's data dir, with a checkpoint to continue from.
    let dir = harness.state().runs()[0].dir.clone().unwrap();
    assert!(dir.starts_with(data_dir.join("runs")));
    for file in [
        "design.json",
        "weights.safetensors",
        "state.json",
        "metrics.csv",
    ] {
        assert!(dir.join(file).is_file(), "{file} is in the run folder");
    }
    let last_step = harness.state().runs()[0].losses.last().unwrap()[0];
    let epochs_before = harness.state().runs()[0].epochs.len();
    harness.get_by_label("Continue").click_accesskit();
    step_until(
        &mut harness,
        120,
        "the continued run reported nothing",
        |app| app.runs()[0].epochs.len() > epochs_before,
    );
    let run = &harness.state().runs()[0];
    assert_eq!(harness.state().runs().len(), 1, "Continue extends the run");
    let steps: Vec<f64> = run.losses.iter().map(|p| p[0]).collect();
    assert!(
        steps.windows(2).all(|w| w[0] < w[1]),
        "the loss curve carries on from step {last_step} without repeating steps"
    );
    harness.get_by_label("Stop").click_accesskit();
    step_until(&mut harness, 60, "Stop was not honoured", |app| {
        app.runs()[0].status == RunStatus::Finished
    });
    harness.run_steps(2);
    // A stopped run has no time left to estimate; its throughput stays.
    assert!(harness.query_by_label_contains("ETA").is_none());
    harness.get_by_label_contains("samples/s");
    // Continue is offered for the design that trained; not once the network is another one
    // (a block renamed: its weights no longer map), and again after Undo. Moving a block
    // changes nothing.
    harness.get_by_label("Continue");
    let fc1 = harness.state().design().node_by_name("fc1").unwrap().id;
    harness
        .state_mut()
        .edit(netloom::design::edit::Edit::Moved(vec![(fc1, [5.0, 5.0])]));
    harness.run_steps(2);
    harness.get_by_label("Continue");
    harness
        .state_mut()
        .edit(netloom::design::edit::Edit::Rename(fc1, "dense".to_owned()));
    harness.run_steps(2);
    assert!(harness.query_by_label("Continue").is_none());
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(2);
    harness.get_by_label("Continue");
    // "Save plots (PNG)" once the file is chosen: the window as the next frame draws it.
    let png = data_dir.join("plots.png");
    let ctx = harness.ctx.clone();
    harness.state_mut().save_png(&ctx, png.clone());
    harness.run_steps(3);
    assert_eq!(harness.state().error(), None);
    let image = image::open(&png).unwrap();
    assert_eq!((image.width(), image.height()), (1280, 800));
    // "Save metrics (CSV)…" with no portal: netloom's own dialog, in the design's folder.
    harness
        .get_by_label("Save metrics (CSV)…")
        .click_accesskit();
    harness.run_steps(4);
    assert!(harness.state().in_app_file_dialog_open());
    harness.get_by_label("📥  Save").click();
    harness.run_steps(4);
    let written = std::fs::read_to_string(data_dir.join("metrics.csv")).unwrap();
    assert_eq!(written, harness.state().metrics_csv());
    let notice = harness.state().notice().unwrap_or_default();
    assert!(notice.contains("Saved the metrics of 1 run"), "{notice}");
    std::fs::remove_dir_all(&data_dir).ok();
}

#[test]
fn the_train_view_previews_augmentation_and_rerolls_it() {
    let mut harness = app(None);
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    // The built-in data loads on a background thread; frames keep coming meanwhile.
    wait_for_label(&mut harness, "Re-roll", 60);
    harness.get_by_label("original / augmented");
    harness.get_by_label("Re-roll").click();
    harness.run_steps(3);
    // Re-rolling draws another preview; it changes nothing in the design.
    assert!(!harness.state().is_dirty());
}

/// The main screens as images: a change to how the editor or the Train view looks fails here
/// until the snapshots are renewed (`UPDATE_SNAPSHOTS=1 scripts/test.sh --test app`) and the
/// new images reviewed.
#[test]
fn the_main_screens_match_their_snapshots() {
    let mut harness = app(None);
    harness.run_steps(4);
    harness.snapshot("editor_lenet5");
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    wait_for_label(&mut harness, "Re-roll", 60);
    harness.run_steps(4);
    harness.snapshot("train_view_before_a_run");
}

#[test]
fn pretrained_weights_are_reviewed_before_use_and_blocks_freeze_up_to_here() {
    use netloom::app::training::Pretrained;
    use netloom::engine::RunStatus;
    // Weights of LeNet-5 with a 4-class head, as netloom saves them: all but fc3 match.
    let dir = std::env::temp_dir().join(format!("netloom-app-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut other = netloom::design::from_json(netloom::examples::DEFAULT_DESIGN.1).unwrap();
    for n in &mut other.nodes {
        if let netloom::design::Op::Linear(l) = &mut n.op
            && n.name == "fc3"
        {
            l.out_features = 4;
        }
    }
    let net = netloom::engine::Network::compile(&other, tch::Device::Cpu).unwrap();
    let weights = dir.join("four-classes.safetensors");
    netloom::engine::save_weights(&net.params, &weights).unwrap();

    let mut harness = app(None);
    whole_design(&mut harness);
    // Freeze the features: right-click fc1 → "Freeze everything up to here".
    let fc1 = harness.state().design().node_by_name("fc1").unwrap().id;
    let at = harness.state().node_screen_rect(fc1).unwrap().center();
    click_with(&mut harness, at, egui::PointerButton::Secondary);
    harness.get_by_label("Freeze everything up to here").click();
    harness.run_steps(3);
    let frozen: Vec<&str> = harness
        .state()
        .design()
        .nodes
        .iter()
        .filter(|n| n.frozen)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(
        frozen,
        ["conv1", "conv2", "fc1"],
        "the blocks with parameters"
    );
    // 156 + 2,416 + 48,120 frozen; the status bar splits the count.
    harness.get_by_label("50,692 frozen)");
    // Back to the readable view (Ctrl+0), where conv1 says so on its block.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num0);
    harness.run_steps(4);
    harness.get_by_label("156 frozen");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    assert!(
        harness.state().design().nodes.iter().all(|n| !n.frozen),
        "undo unfreezes"
    );
    harness.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    harness.run_steps(3);
    // The inspector freezes the clicked block too.
    whole_design(&mut harness);
    let fc2 = harness.state().design().node_by_name("fc2").unwrap().id;
    let at = harness.state().node_screen_rect(fc2).unwrap().center();
    click_at(&mut harness, at);
    harness.get_by_label("frozen").click();
    harness.run_steps(3);
    assert!(harness.state().design().node_by_name("fc2").unwrap().frozen);
    harness.get_by_label("frozen").click();
    harness.run_steps(3);
    assert!(!harness.state().design().node_by_name("fc2").unwrap().frozen);

    // Load the weights: the mapping is shown for review before anything is applied.
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    // (The data preview loads on a thread; wait for it, so the snapshot is always the same.)
    wait_for_label(&mut harness, "Re-roll", 60);
    let ctx = harness.ctx.clone();
    harness.state_mut().load_weights(&ctx, weights.clone());
    step_until(&mut harness, 60, "no review appeared", |app| {
        matches!(app.pretrained(), Pretrained::Review(_))
    });
    harness.run_steps(2);
    harness.get_by_label_contains(
        "8 matched · 0 missing in the file · 0 unexpected in the file · 2 shape mismatches",
    );
    harness.get_by_label("fc3.weight");
    harness.get_by_label("[4, 84]");
    harness.get_by_label("[10, 84]");
    harness.snapshot("weights_review");
    // Leave conv1 out, then use the rest.
    harness.get_by_label("conv1 (2)").click();
    harness.run_steps(2);
    harness.get_by_label("Use the matched weights").click();
    harness.run_steps(2);
    let Pretrained::Using(choice) = harness.state().pretrained() else {
        panic!("the weights are not in use");
    };
    assert_eq!(choice.skip, ["conv1"]);
    harness.get_by_label_contains(
        "from four-classes.safetensors: 6 tensors to load, 4 re-initialised",
    );
    // A run reports the same mapping when it starts.
    let train = harness.get_all_by_label("Train").nth(1).unwrap();
    train.click_accesskit();
    step_until(&mut harness, 120, "the run reported no weights", |app| {
        app.runs().first().is_some_and(|r| r.weights.is_some())
    });
    let report = harness.state().runs()[0].weights.clone().unwrap();
    assert_eq!(report.matched.len(), 6);
    assert_eq!(report.skipped, ["conv1.weight", "conv1.bias"]);
    assert_eq!(report.mismatched.len(), 2);
    harness.get_by_label("Stop").click_accesskit();
    step_until(&mut harness, 60, "Stop was not honoured", |app| {
        app.runs()[0].status != RunStatus::Running && app.runs()[0].status != RunStatus::Starting
    });
    // Replace the head: fc3 gets 4 outputs, as one undoable edit.
    harness.state_mut().replace_head(4);
    let fc3 = harness.state().design().node_by_name("fc3").unwrap();
    assert!(matches!(&fc3.op, netloom::design::Op::Linear(l) if l.out_features == 4));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(2);
    let fc3 = harness.state().design().node_by_name("fc3").unwrap();
    assert!(matches!(&fc3.op, netloom::design::Op::Linear(l) if l.out_features == 10));
    std::fs::remove_dir_all(&dir).ok();
}

/// File → Export… writes PyTorch code off the UI thread and says where it went; a destination
/// it must not touch (a folder of the user's) is refused in the error bar with the window left
/// open, and nothing in that folder changes; ONNX asks for weights before it can start.
#[test]
fn file_export_writes_pytorch_code_and_refuses_a_folder_it_must_not_replace() {
    let (dir, path) = lenet_in_tempdir("export");
    let out = dir.join("lenet-pytorch");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    let mut harness = app(Some(path));
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Export…").click();
    harness.run_steps(3);
    // The destination starts beside the design, named after it.
    assert!(harness.query_all_by_value(out.to_str().unwrap()).count() > 0);
    harness.get_by_label("Fashion-MNIST (built-in)");
    harness.get_by_label("Export").click_accesskit();
    step_until(&mut harness, 20, "the refusal", |app| app.error().is_some());
    let said = harness.state().error().unwrap().to_owned();
    assert!(said.contains("holds files netloom didn't write"), "{said}");
    harness.get_by_label("Write to"); // still open, to choose again
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    // An empty folder is fine.
    std::fs::remove_file(out.join("notes.txt")).unwrap();
    harness.get_by_label("Export").click_accesskit();
    wait_for_label_containing(&mut harness, "Exported PyTorch code", 30);
    assert!(
        harness.query_by_label("Write to").is_none(),
        "the window closed"
    );
    for f in [
        "model.py",
        "train.py",
        "design.json",
        "preprocessor.json",
        "data/train-images-idx3-ubyte.gz",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // ONNX carries trained weights: with no run and no file chosen, it can't start.
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Export…").click();
    harness.run_steps(3);
    let corner = harness.get_by_label("Export the design").rect().left_top();
    harness.get_by_label("ONNX (.onnx)").click_accesskit();
    harness.run_steps(3);
    harness.get_by_label_contains("carry trained weights");
    // The window keeps its place as the format's options change its size.
    assert_eq!(
        harness.get_by_label("Export the design").rect().left_top(),
        corner
    );
    assert!(
        harness
            .query_all_by_value(dir.join("lenet.onnx").to_str().unwrap())
            .count()
            > 0
    );
    assert!(
        harness
            .get_by_label("Export")
            .accesskit_node()
            .is_disabled()
    );
}

/// File → Open run folder… puts a finished run (here one in the format an exported train.py
/// writes on a cluster) beside this session's runs in the Train view; a damaged metrics.csv is
/// named in the error bar.
#[test]
fn a_run_folder_from_a_cluster_opens_in_the_train_view() {
    let (dir, path) = lenet_in_tempdir("open-run");
    let run = dir.join("cluster-run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(
        run.join("metrics.csv"),
        "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s\n\
         step,1,10,0.002,1.9,,,,,\nstep,1,20,0.002,1.2,,,,,\n\
         epoch,1,20,0.002,,1.5,0.55,1.1,0.62,5000.0\n\
         step,2,30,0.002,0.9,,,,,\nepoch,2,40,0.002,,0.9,0.7,0.8,0.71,5100.0\n",
    )
    .unwrap();
    let mut harness = app(Some(path));
    harness.state_mut().open_run_folder(&run);
    harness.run_steps(3);
    assert_eq!(harness.state().error(), None);
    let said = harness.state().notice().unwrap_or_default().to_owned();
    assert!(said.contains("#1 cluster-run (opened)"), "{said}");
    assert!(
        harness
            .query_all_by_label_contains("cluster-run (opened)")
            .count()
            >= 2,
        "named in the legend too"
    );
    harness.get_by_label_contains("No confusion matrix");
    let runs = harness.state().runs();
    assert_eq!(runs.len(), 1);
    assert!((runs[0].epochs[1].val_acc - 0.71).abs() < 1e-12);
    std::fs::write(run.join("metrics.csv"), "kind,epoch\n").unwrap();
    harness.state_mut().open_run_folder(&run);
    harness.run_steps(2);
    let err = harness.state().error().unwrap_or_default().to_owned();
    assert!(err.contains("netloom's columns"), "{err}");
    assert_eq!(harness.state().runs().len(), 1);
}

/// Exporting a design with data that doesn't fit it (resnet18's 3×224×224 input, the spiral's
/// 2 features) says so in the Export window, in the engine's words, before the user finds out
/// from a failing train.py.
#[test]
fn the_export_window_says_when_the_train_view_s_data_does_not_fit() {
    let mut harness = app(None);
    open_template(&mut harness, "resnet18");
    harness.get_by_label("Train").click();
    harness.run_steps(3);
    harness.get_by_value("Fashion-MNIST (built-in)").click();
    harness.run_steps(2);
    harness.get_by_label("toy: spiral").click();
    harness.run_steps(2);
    wait_for_label_containing(&mut harness, "takes samples of shape", 60);
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Export…").click();
    harness.run_steps(3);
    harness.get_by_label("Write to");
    harness.get_by_label("train.py can't train on this data:");
}

/// Help → About names the version, the libtorch it runs on, the devices found, the CUDA
/// support, and shows the licences of everything inside.
#[test]
fn help_about_shows_the_version_libtorch_devices_and_licences() {
    let mut harness = app(None);
    harness.get_by_label("Help").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("About netloom").click();
    harness.run_steps(3);
    harness.get_by_label(&format!("netloom {}", env!("CARGO_PKG_VERSION")));
    harness.get_by_label(netloom::engine::cuda::LIBTORCH_VERSION);
    assert!(netloom::engine::cuda::LIBTORCH_VERSION.starts_with("2.11.0"));
    harness.get_by_label_contains("CPU: runs from this window use");
    // What became of libtorch's CUDA libraries at start, in engine/cuda.rs's words.
    harness.get_by_label(&netloom::engine::cuda::init().describe());
    for title in [
        "netloom: MIT",
        "Fashion-MNIST subset (built in): MIT, Zalando SE",
        "PyTorch / libtorch: BSD-3-Clause",
    ] {
        harness.get_by_label(title).click_accesskit();
    }
    harness.run_steps(3);
    for text in [
        "Permission is hereby granted",
        "Copyright © 2017 Zalando SE",
        "Redistribution and use in source and binary forms",
    ] {
        assert!(
            harness.query_all_by_label_contains(text).count() > 0,
            "{text}"
        );
    }
}

/// A store for eframe's persistence, in memory.
#[derive(Default)]
struct Store(std::collections::HashMap<String, String>);

impl eframe::Storage for Store {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// The app reopens on the view it was closed on, with its recent files (window size and
/// panel widths persist through eframe's own window and egui-memory persistence).
#[test]
fn the_last_view_and_recent_files_persist() {
    let (_dir, path) = lenet_in_tempdir("persist");
    let mut harness = app(Some(path.clone()));
    harness.get_by_label("Train").click();
    harness.run_steps(3);
    let mut store = Store::default();
    eframe::App::save(harness.state_mut(), &mut store);
    let reopened = NetloomApp::new(None).with_storage(Some(&store), None);
    assert_eq!(reopened.view(), netloom::app::View::Train);
    assert_eq!(reopened.recent_files().first(), Some(&path));
}

/// The Train view says how much the app's runs folder holds and deletes old runs after a
/// confirmation, keeping the newest ones; nothing that isn't a run folder is touched.
#[test]
fn old_runs_are_measured_and_deleted_from_the_train_view() {
    let (dir, _path) = lenet_in_tempdir("old-runs");
    let runs = dir.join("data/runs");
    for (i, name) in [
        "2026-01-01_000000-1",
        "2026-02-01_000000-1",
        "2026-03-01_000000-1",
    ]
    .iter()
    .enumerate()
    {
        std::fs::create_dir_all(runs.join(name)).unwrap();
        // A run's metrics.csv (told by netloom's header), padded to its size.
        let mut csv = b"kind,epoch,step,".to_vec();
        csv.resize(500_000 * (i + 1), b'x');
        std::fs::write(runs.join(name).join("metrics.csv"), csv).unwrap();
    }
    std::fs::write(runs.join("notes.txt"), b"mine").unwrap();
    // A folder of the user's with a file of a run's name is no run: never counted nor deleted.
    std::fs::create_dir_all(runs.join("mine")).unwrap();
    std::fs::write(runs.join("mine/metrics.csv"), b"my own table").unwrap();
    let data = dir.join("data");
    let mut harness = app_with_data_dir(None, &data, egui::vec2(1280.0, 800.0));
    harness.get_by_label("Train").click();
    harness.run_steps(3);
    harness.get_by_label("saved runs: 3, 3.0 MB");
    // Keep the newest one: the two older ones (1.5 MB) go, after a confirmation.
    harness.get_by_label("Delete 0 older (0.0 MB)…");
    harness.state_mut().set_runs_to_keep(1);
    harness.run_steps(2);
    harness.get_by_label("Delete 2 older (1.5 MB)…").click();
    harness.run_steps(2);
    harness.get_by_label("Delete 2 run folders for good?");
    harness.get_by_label("Delete them").click();
    harness.run_steps(3);
    let said = harness.state().notice().unwrap_or_default().to_owned();
    assert!(
        said.contains("Deleted 2 old run folders (1.5 MB freed)"),
        "{said}"
    );
    assert!(runs.join("2026-03-01_000000-1").is_dir());
    assert!(
        !runs.join("2026-01-01_000000-1").exists() && !runs.join("2026-02-01_000000-1").exists()
    );
    assert_eq!(std::fs::read(runs.join("notes.txt")).unwrap(), b"mine");
    assert!(runs.join("mine/metrics.csv").is_file());
    harness.get_by_label("saved runs: 1, 1.5 MB");
}

/// A crash report the last session left is said once at the next start, where it is.
#[test]
fn the_next_start_says_where_the_last_crash_report_is() {
    let data_dir = std::env::temp_dir().join(format!("netloom-crash-app-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::write(data_dir.join("crash-report.txt"), "panic: test\n").unwrap();
    let start = |dir: std::path::PathBuf| app_with_data_dir(None, &dir, egui::vec2(1280.0, 720.0));
    let harness = start(data_dir.clone());
    assert!(
        harness
            .query_by_label_contains("stopped with an internal error last time")
            .is_some()
    );
    assert!(data_dir.join("crash-report.seen.txt").is_file());
    drop(harness);
    let harness = start(data_dir.clone());
    assert!(
        harness
            .query_by_label_contains("stopped with an internal error last time")
            .is_none(),
        "said once"
    );
    drop(harness);
    std::fs::remove_dir_all(&data_dir).ok();
}

/// An autosave that can't be read is said, and kept aside rather than deleted: it may be all
/// that is left of the work.
#[test]
fn a_corrupt_autosave_is_said_and_kept_aside() {
    let data_dir =
        std::env::temp_dir().join(format!("netloom-bad-autosave-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::write(
        data_dir.join("autosave.json"),
        "{\"format\": \"netloom-design\", \"nod",
    )
    .unwrap();
    let harness = app_with_data_dir(None, &data_dir, egui::vec2(1280.0, 720.0));
    assert!(
        harness
            .query_by_label_contains("the work autosaved last time can't be read back")
            .is_some()
    );
    assert!(!data_dir.join("autosave.json").exists());
    let kept = std::fs::read_to_string(data_dir.join("autosave.damaged.json")).unwrap();
    assert!(kept.contains("\"nod"), "kept as it was");
    drop(harness);
    std::fs::remove_dir_all(&data_dir).ok();
}

/// The first Save of a template proposes the template's name (not "design.json" in the folder
/// the app happened to start from).
#[test]
fn the_first_save_of_a_template_proposes_its_name() {
    let mut harness = app(None);
    open_template(&mut harness, "resnet18");
    assert_eq!(harness.state().title(), "resnet18 (template) — netloom");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    harness.run_steps(4);
    assert!(harness.state().in_app_file_dialog_open());
    assert!(proposes(&harness, "resnet18.json"));
    harness.get_by_label("🚫 Cancel").click();
    harness.run_steps(3);
    assert!(!harness.state().in_app_file_dialog_open());
}

/// A fine-tuning set-up survives save and reopen: the image folder it trains on, the
/// pretrained weights (with the blocks left out of them) and the frozen blocks; a folder that
/// has gone is said on open.
#[test]
fn the_design_keeps_its_data_and_weights_through_save_and_reopen() {
    use netloom::app::training::Pretrained;
    let dir = std::env::temp_dir().join(format!("netloom-setup-app-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let images = dir.join("photos");
    for (class, shade) in [("cat", 40u8), ("dog", 200u8)] {
        std::fs::create_dir_all(images.join(class)).unwrap();
        for i in 0..6u8 {
            image::GrayImage::from_pixel(28, 28, image::Luma([shade + i]))
                .save(images.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    // LeNet with two outputs for the two classes, and weights for it.
    let mut design = netloom::design::from_json(netloom::examples::EXAMPLES[0].1).unwrap();
    for n in &mut design.nodes {
        if let netloom::design::Op::Linear(l) = &mut n.op
            && n.name == "fc3"
        {
            l.out_features = 2;
        }
    }
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let path = project.join("pets.json");
    netloom::document::save_design(&design, &path).unwrap();
    let net = netloom::engine::Network::compile(&design, tch::Device::Cpu).unwrap();
    let weights = project.join("pets.safetensors");
    netloom::engine::save_weights(&net.params, &weights).unwrap();

    let mut harness = app(Some(path.clone()));
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    let ctx = harness.ctx.clone();
    harness.state_mut().use_data_folder(&ctx, images.clone());
    harness.state_mut().load_weights(&ctx, weights.clone());
    step_until(&mut harness, 60, "no review appeared", |app| {
        matches!(app.pretrained(), Pretrained::Review(_))
    });
    harness.run_steps(2);
    harness.get_by_label("conv1 (2)").click();
    harness.run_steps(2);
    harness.get_by_label("Use the matched weights").click();
    harness.run_steps(2);
    harness.state_mut().freeze_by_name("conv2");
    harness.run_steps(2);
    assert!(
        harness.state().is_dirty(),
        "the set-up is part of the design"
    );
    harness.state_mut().save_to(path.clone());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(r#""source": "folder:../photos""#), "{text}");
    assert!(text.contains(r#""path": "pets.safetensors""#), "{text}");

    // Reopened in a new window: the same data, the same weights in use, nothing to review.
    let mut again = app(Some(path.clone()));
    step_until(&mut again, 60, "the weights were not restored", |app| {
        matches!(app.pretrained(), Pretrained::Using(_))
    });
    let Pretrained::Using(choice) = again.state().pretrained() else {
        unreachable!()
    };
    assert_eq!(choice.skip, ["conv1"]);
    assert_eq!(
        again.state().data_spec(),
        netloom::data::DataSpec::Folder(images.clone())
    );
    assert!(again.state().design().node_by_name("conv2").unwrap().frozen);
    assert!(!again.state().is_dirty());
    assert_eq!(again.state().notice(), None);

    // The folder moved away: said on open, and the default data is used meanwhile.
    std::fs::rename(&images, dir.join("elsewhere")).unwrap();
    let moved = app(Some(path.clone()));
    let said = moved.state().notice().unwrap_or_default().to_owned();
    assert!(
        said.contains("photos") && said.contains("is not there"),
        "{said}"
    );
    assert_eq!(
        moved.state().data_spec(),
        netloom::data::DataSpec::BuiltinFashionMnist
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Help has the keyboard shortcuts and the documentation, and the menus show the shortcuts
/// that work: Ctrl+Shift+S is Save As, Ctrl+= and Ctrl+− zoom the canvas, Ctrl+0 fits it.
#[test]
fn help_lists_the_shortcuts_and_the_documentation_and_the_shortcuts_work() {
    let mut harness = app(None);
    harness.get_by_label("Help").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Keyboard shortcuts").click();
    harness.run_steps(3);
    for keys in [
        "Ctrl+Shift+S",
        "Ctrl+Q",
        "Ctrl+=",
        "Ctrl+−",
        "Ctrl+0",
        "Ctrl+wheel, or pinch",
    ] {
        harness.get_by_label(keys);
    }
    harness.get_by_label("Save As…");
    harness.key_press(egui::Key::Escape);
    harness.get_by_label("Help").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Documentation").click();
    harness.run_steps(3);
    harness.get_by_label("README.md");
    harness.get_by_label("docs/design-format.md");
    // The menus carry the shortcuts.
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    assert_menu_shortcuts(
        &harness,
        &[("Save As…", "Ctrl+Shift+S"), ("Quit", "Ctrl+Q")],
    );
    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    // And the keys do what they say.
    let (_, zoom) = harness.state().canvas_view();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Equals);
    harness.run_steps(3);
    let (_, bigger) = harness.state().canvas_view();
    assert!((bigger / zoom - 1.25).abs() < 0.01, "{zoom} → {bigger}");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Minus);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Minus);
    harness.run_steps(3);
    let (_, smaller) = harness.state().canvas_view();
    assert!(smaller < zoom, "{zoom} → {smaller}");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num0);
    harness.run_steps(3);
    let (_, fit) = harness.state().canvas_view();
    assert!(
        (fit - zoom).abs() < 1e-3,
        "Ctrl+0 fits as the app opened: {fit} vs {zoom}"
    );
    harness.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::S,
    );
    harness.run_steps(4);
    assert!(
        harness.state().in_app_file_dialog_open(),
        "Ctrl+Shift+S asks where to save (no portal here: netloom's own dialog)"
    );
}
