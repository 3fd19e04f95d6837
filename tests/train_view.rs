//! The Train view before a run, driven as a user would: its run controls in view at
//! 1280×720, data that can't train the design refused as soon as it is picked, and each
//! optimizer with its own settings.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;
use common::{run, ui};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use netloom::app::NetloomApp;
use netloom::design::Optimizer;
use ui::*;

fn train_view(size: egui::Vec2) -> Harness<'static, NetloomApp> {
    let mut harness = app_sized(None, size);
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    wait_for_label(&mut harness, "Re-roll", 60);
    harness
}

/// The Train button (the second "Train": the first is the view switch).
fn train_button(harness: &Harness<'static, NetloomApp>) -> egui::Rect {
    harness.get_all_by_label("Train").nth(1).unwrap().rect()
}

fn pick_data(harness: &mut Harness<'static, NetloomApp>, current: &str, choice: &str) {
    // A combo box's accessible value is its current choice.
    harness.get_by_value(current).click();
    harness.run_steps(2);
    harness.get_by_label(choice).click();
    harness.run_steps(2);
}

#[test]
fn at_1280x720_with_augmentation_the_run_controls_stay_in_view() {
    let mut harness = train_view(egui::vec2(1280.0, 720.0));
    for aug in ["rotate", "scale"] {
        harness.get_by_value("add…").click();
        harness.run_steps(2);
        harness.get_by_label(aug).click();
        harness.run_steps(3);
    }
    assert_eq!(harness.state().design().data.augmentation.len(), 2);
    wait_for_label(&mut harness, "Re-roll", 60);
    harness.run_steps(4);
    for label in ["Pause", "Stop"] {
        let r = harness.get_by_label(label).rect();
        assert!(r.bottom() <= 720.0 && r.top() >= 0.0, "{label} at {r:?}");
    }
    let train = train_button(&harness);
    assert!(train.bottom() <= 720.0, "Train at {train:?}");
    harness.snapshot("train_view_1280x720");
}

#[test]
fn data_that_does_not_fit_the_input_disables_train_and_says_why_before_a_run() {
    let mut harness = train_view(egui::vec2(1280.0, 800.0));
    // LeNet takes 1×28×28 images; the spiral is points with 2 features.
    pick_data(&mut harness, "Fashion-MNIST (built-in)", "toy: spiral");
    wait_for_label(
        &mut harness,
        "the preview shows images; this data is vectors",
        60,
    );
    harness.get_by_label_contains(
        "Can't train yet: node \"input\" takes samples of shape 1×28×28 but",
    );
    harness.get_by_label_contains("has samples of shape 2: set \"input\" to 2");
    // Train is disabled, so pressing it starts nothing: no run number, no folder.
    harness
        .get_all_by_label("Train")
        .nth(1)
        .unwrap()
        .click_accesskit();
    harness.run_steps(3);
    assert!(harness.state().runs().is_empty());
    // Back to the clothes: the preview shows them again (never the previous data's) and Train
    // is free.
    pick_data(&mut harness, "toy: spiral", "Fashion-MNIST (built-in)");
    wait_for_label(&mut harness, "Re-roll", 60);
    assert!(harness.query_by_label_contains("Can't train yet").is_none());
}

#[test]
fn each_optimizer_shows_its_own_settings_with_its_usual_rate() {
    let mut harness = train_view(egui::vec2(1280.0, 800.0));
    let settings = |h: &Harness<'static, NetloomApp>| h.state().design().training.clone();
    let choose = |h: &mut Harness<'static, NetloomApp>, from: &str, to: &str| {
        h.get_by_value(from).click();
        h.run_steps(2);
        h.get_by_label(to).click();
        h.run_steps(3);
    };
    let before = settings(&harness);
    let from = match before.optimizer {
        Optimizer::Adam => "Adam",
        Optimizer::Sgd => "SGD",
        other => panic!("LeNet's example trains with {other:?}"),
    };
    choose(&mut harness, from, "SGD + Nesterov");
    let s = settings(&harness);
    assert_eq!((s.optimizer, s.learning_rate), (Optimizer::Nesterov, 0.01));
    assert!(s.momentum > 0.0, "Nesterov needs momentum");
    harness.get_by_label("momentum");
    choose(&mut harness, "SGD + Nesterov", "Adam");
    let s = settings(&harness);
    assert_eq!((s.optimizer, s.learning_rate), (Optimizer::Adam, 0.001));
    assert!(
        harness.query_by_label("momentum").is_none(),
        "Adam does not read momentum, so it is not offered"
    );
    choose(&mut harness, "Adam", "AdamW");
    let s = settings(&harness);
    assert_eq!(s.learning_rate, 0.001);
    assert_eq!(s.weight_decay, 0.01, "AdamW's decoupled decay");
}

#[test]
fn a_run_that_never_starts_leaves_no_run_number_or_folder_behind() {
    let data_dir =
        std::env::temp_dir().join(format!("netloom-failed-start-{}", std::process::id()));
    let images = data_dir.join("images");
    // Two classes with no images in them: nothing to train on.
    for class in ["a", "b"] {
        std::fs::create_dir_all(images.join(class)).unwrap();
    }
    let mut harness = app_with_data_dir(None, &data_dir, egui::vec2(1280.0, 800.0));
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    let ctx = harness.ctx.clone();
    harness.state_mut().use_data_folder(&ctx, images.clone());
    harness.run_steps(2);
    harness
        .get_all_by_label("Train")
        .nth(1)
        .unwrap()
        .click_accesskit();
    wait_for_label_containing(&mut harness, "The run did not start", 60);
    assert!(
        harness.state().runs().is_empty(),
        "no run, so no number taken"
    );
    assert!(harness.query_by_label("run folder").is_none());
    let runs = data_dir.join("runs");
    let left = std::fs::read_dir(&runs).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "no folder left in {}", runs.display());
    std::fs::remove_dir_all(&data_dir).ok();
}

/// Files an image folder had to skip are said in the data panel, not dropped silently.
#[test]
fn the_data_panel_says_which_images_were_skipped() {
    let data_dir = std::env::temp_dir().join(format!("netloom-skipped-{}", std::process::id()));
    let images = data_dir.join("images");
    for (class, shade) in [("a", 40u8), ("b", 200u8)] {
        std::fs::create_dir_all(images.join(class)).unwrap();
        for i in 0..6u8 {
            image::GrayImage::from_pixel(28, 28, image::Luma([shade + i]))
                .save(images.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    std::fs::write(images.join("a/broken.png"), b"not a png").unwrap();
    let mut harness = train_view(egui::vec2(1280.0, 800.0));
    let ctx = harness.ctx.clone();
    harness.state_mut().use_data_folder(&ctx, images.clone());
    harness.run_steps(2);
    wait_for_label_containing(&mut harness, "1 file was skipped: broken.png", 60);
    std::fs::remove_dir_all(&data_dir).ok();
}

/// Train, Pause and Stop where they are now.
fn run_buttons(harness: &Harness<'static, NetloomApp>) -> [egui::Rect; 3] {
    [
        train_button(harness),
        harness.get_by_label("Pause").rect(),
        harness.get_by_label("Stop").rect(),
    ]
}

#[test]
fn train_pause_and_stop_stay_put_through_a_run_and_a_message() {
    use netloom::engine::RunStatus;
    let data_dir =
        std::env::temp_dir().join(format!("netloom-buttons-stay-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let mut harness = app_on_endless_mlp_sized(&data_dir, egui::vec2(1280.0, 720.0));
    harness.get_by_label("Train").click();
    harness.run_steps(4);
    let before = run_buttons(&harness);
    // A message: data that doesn't fit. It shows above the buttons, which stay, and the
    // settings keep their room.
    pick_data(&mut harness, "toy: spiral", "Fashion-MNIST (built-in)");
    wait_for_label_containing(&mut harness, "Can't train yet", 60);
    harness.run_steps(3);
    assert_eq!(run_buttons(&harness), before, "with the message");
    // The run bar (message included) takes at most a third of the column; the settings
    // scroll in the rest.
    let message = harness.get_by_label_contains("Can't train yet").rect();
    assert!(
        message.top() >= 360.0,
        "the settings keep their room: the message starts at {message:?}"
    );
    pick_data(&mut harness, "Fashion-MNIST (built-in)", "toy: spiral");
    harness.run_steps(4);
    assert!(harness.query_by_label_contains("Can't train yet").is_none());
    assert_eq!(run_buttons(&harness), before, "after the message");
    // A run: the buttons stay from its start, past its first epoch, to its end.
    harness
        .get_all_by_label("Train")
        .nth(1)
        .unwrap()
        .click_accesskit();
    step_until(&mut harness, 60, "the run didn't start", |app| {
        app.runs().first().is_some_and(|r| !r.losses.is_empty())
    });
    harness.run_steps(2);
    assert_eq!(run_buttons(&harness), before, "during epoch 1");
    step_until(&mut harness, 120, "no epoch ended", |app| {
        app.runs().first().is_some_and(|r| r.epochs.len() >= 2)
    });
    harness.run_steps(2);
    assert_eq!(run_buttons(&harness), before, "after epoch 1");
    harness.get_by_label("Stop").click();
    step_until(&mut harness, 60, "the run didn't stop", |app| {
        app.runs()
            .first()
            .is_some_and(|r| r.status == RunStatus::Finished)
    });
    harness.run_steps(3);
    assert_eq!(run_buttons(&harness), before, "after Stop");
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// resnet_mini takes 3×32×32 images and netloom ships grey 28×28 ones: it opens converted to
/// fit (grey to RGB, resized), says so in the data panel, and can train; turning the
/// conversion off says, in the Train view and the status bar alike, that the data doesn't fit.
#[test]
fn a_three_channel_example_opens_with_data_that_fits() {
    let path = std::path::PathBuf::from(format!(
        "{}/examples/resnet_mini.json",
        env!("CARGO_MANIFEST_DIR")
    ));
    let mut harness = app_sized(Some(path), egui::vec2(1280.0, 720.0));
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    wait_for_label(&mut harness, "Re-roll", 120);
    assert!(harness.query_by_label_contains("Can't train yet").is_none());
    harness.get_by_label("valid");
    let grey = harness.get_by_label("grey to RGB");
    assert_eq!(
        grey.accesskit_node().toggled(),
        Some(egui::accesskit::Toggled::True)
    );
    harness.get_by_label("resize to 32×32");
    // Off: the data is grey again, and both places say it doesn't fit.
    harness.get_by_label("grey to RGB").click();
    harness.run_steps(2);
    wait_for_label_containing(&mut harness, "Can't train yet", 120);
    harness.get_by_label("design valid");
    harness.get_by_label_contains("data 1×32×32 doesn't fit the 3×32×32 input");
    assert!(
        harness.query_by_label("valid").is_none(),
        "never \"valid\" alone"
    );
}

/// A template opens at torchvision's 3×224×224 with a 10-class head, on data that fits (the
/// first 1,000 built-in images converted to it), and says so; set its Input to 3×32×32 and
/// the built-in set follows (all of it, at that size).
#[test]
fn a_template_opens_with_data_that_fits_and_the_data_follows_its_input() {
    use netloom::design::edit::Edit;
    use netloom::design::{InputOp, Op};
    let mut harness = app_sized(None, egui::vec2(1280.0, 800.0));
    open_template(&mut harness, "resnet18");
    let said = harness.state().notice().unwrap_or_default().to_owned();
    assert!(
        said.contains("10-class head") && said.contains("3×32×32"),
        "{said}"
    );
    assert_eq!(
        harness.state().data_spec().to_spec(),
        "builtin:fashion-mnist?channels=3&size=224x224&limit=1000"
    );
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    wait_for_label(&mut harness, "Re-roll", 300);
    assert!(harness.query_by_label_contains("Can't train yet").is_none());
    harness.get_by_label("valid");
    let input = harness.state().design().node_by_name("input").unwrap().id;
    harness
        .state_mut()
        .edit(Edit::SetOp(input, Op::Input(InputOp::image(3, 32, 32))));
    harness.run_steps(2);
    assert_eq!(
        harness.state().data_spec().to_spec(),
        "builtin:fashion-mnist?channels=3&size=32x32"
    );
}

/// An example records the built-in set converted for its Input (vgg_small: 3×32×32). Set the
/// Input back to 1×28×28 and the conversion goes, in the design's file too; a file whose Input
/// was edited by hand, and its conversion not, opens with the conversion that fits.
#[test]
fn the_built_in_set_s_recorded_conversion_follows_the_input() {
    use netloom::design::edit::Edit;
    use netloom::design::{InputOp, Op};
    let example = format!("{}/examples/vgg_small.json", env!("CARGO_MANIFEST_DIR"));
    let mut harness = app_sized(
        Some(std::path::PathBuf::from(&example)),
        egui::vec2(1280.0, 720.0),
    );
    let converted = "builtin:fashion-mnist?channels=3&size=32x32";
    assert_eq!(harness.state().data_spec().to_spec(), converted);
    let input = harness.state().design().node_by_name("input").unwrap().id;
    harness
        .state_mut()
        .edit(Edit::SetOp(input, Op::Input(InputOp::image(1, 28, 28))));
    harness.run_steps(2);
    assert_eq!(
        harness.state().data_spec().to_spec(),
        "builtin:fashion-mnist"
    );
    assert_eq!(
        harness.state().design().data.source.as_deref(),
        Some("builtin:fashion-mnist")
    );
    // Undo takes the Input back, and the conversion with it.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(2);
    assert_eq!(harness.state().data_spec().to_spec(), converted);

    // The same file with its Input edited by hand.
    let dir = run::tempdir("follow-input");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    v["nodes"][0]["op"]["channels"] = 1.into();
    v["nodes"][0]["op"]["height"] = 28.into();
    v["nodes"][0]["op"]["width"] = 28.into();
    let path = dir.join("vgg28.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let mut harness = app_sized(Some(path), egui::vec2(1280.0, 720.0));
    assert_eq!(
        harness.state().data_spec().to_spec(),
        "builtin:fashion-mnist"
    );
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    wait_for_label(&mut harness, "Re-roll", 120);
    harness.get_by_label("valid");
    assert!(harness.query_by_label_contains("Can't train yet").is_none());
}
