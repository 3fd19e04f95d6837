//! The app, driven through its accessible labels as a user would (egui_kittest).
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use netloom::app::NetloomApp;

#[test]
fn opens_on_lenet5_and_shows_shapes_and_totals() {
    let mut harness = Harness::new_eframe(|_cc| NetloomApp::new(None));
    harness.run();
    assert_eq!(harness.state().design().nodes.len(), 14);
    harness.get_by_label("conv1");
    assert_eq!(
        harness.get_all_by_label("6×28×28").count(),
        2,
        "conv1 and relu1"
    );
    harness.get_by_label("61,706 parameters");
    harness.get_by_label("valid");
}

#[test]
fn examples_open_from_the_file_menu() {
    let mut harness = Harness::new_eframe(|_cc| NetloomApp::new(None));
    harness.run();
    harness.get_by_label("File").click_accesskit();
    harness.run();
    harness.get_by_label_contains("Examples").hover();
    harness.run();
    harness.get_by_label("resnet_mini.json").click();
    harness.run();
    assert_eq!(
        harness.state().title(),
        "resnet_mini.json (example) — netloom"
    );
    harness.get_by_label("layer2_add");
    assert_eq!(
        harness.get_all_by_label("32×16×16").count(),
        9,
        "layer2 has nine 32×16×16 outputs"
    );
}

#[test]
fn a_broken_file_keeps_the_open_design_and_says_why() {
    let path = std::env::temp_dir().join(format!("netloom-app-broken-{}.json", std::process::id()));
    std::fs::write(
        &path,
        "{\"format\": \"netloom-design\", \"version\": 99, \"nodes\": []}",
    )
    .unwrap();
    let mut harness = Harness::new_eframe(|_cc| NetloomApp::new(Some(path.clone())));
    harness.run();
    assert_eq!(
        harness.state().design().nodes.len(),
        14,
        "the default design stays open"
    );
    harness.get_by_label_contains("made by a newer netloom");
    std::fs::remove_file(&path).ok();
}
