//! Driving the app in tests: a harness, and clicks and drags at screen positions.
#![allow(dead_code)] // each test binary uses some of these

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use netloom::app::NetloomApp;

/// The app at 1280×800 on `path` (None: the default design).
pub fn app(path: Option<std::path::PathBuf>) -> Harness<'static, NetloomApp> {
    app_sized(path, egui::vec2(1280.0, 800.0))
}

/// The app in a window of `size`.
pub fn app_sized(
    path: Option<std::path::PathBuf>,
    size: egui::Vec2,
) -> Harness<'static, NetloomApp> {
    let mut harness = Harness::builder()
        .with_size(size)
        .build_eframe(move |_cc| NetloomApp::new(path.clone()));
    harness.run_steps(4);
    harness
}

pub fn click_at(harness: &mut Harness<'static, NetloomApp>, pos: egui::Pos2) {
    click_with(harness, pos, egui::PointerButton::Primary);
}

pub fn click_with(
    harness: &mut Harness<'static, NetloomApp>,
    pos: egui::Pos2,
    button: egui::PointerButton,
) {
    let button = |pressed| press(pos, button, pressed);
    harness
        .input_mut()
        .events
        .push(egui::Event::PointerMoved(pos));
    harness.step();
    harness.input_mut().events.push(button(true));
    harness.step();
    harness.input_mut().events.push(button(false));
    harness.run_steps(3);
}

/// Presses the primary button at `from`, moves to `to` over a few frames, and releases.
pub fn drag(harness: &mut Harness<'static, NetloomApp>, from: egui::Pos2, to: egui::Pos2) {
    let button = |pos, pressed| press(pos, egui::PointerButton::Primary, pressed);
    let events = &mut harness.input_mut().events;
    events.push(egui::Event::PointerMoved(from));
    events.push(button(from, true));
    harness.step();
    for i in 1..=8 {
        let at = from + (to - from) * (i as f32 / 8.0);
        harness
            .input_mut()
            .events
            .push(egui::Event::PointerMoved(at));
        harness.step();
    }
    harness.input_mut().events.push(button(to, false));
    harness.run_steps(3);
}

/// A pointer button going down (or up) at `pos`.
pub fn press(pos: egui::Pos2, button: egui::PointerButton, pressed: bool) -> egui::Event {
    egui::Event::PointerButton {
        pos,
        button,
        pressed,
        modifiers: egui::Modifiers::default(),
    }
}

/// Opens File → Templates → `name`.
pub fn open_template(harness: &mut Harness<'static, NetloomApp>, name: &str) {
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Templates").hover();
    harness.run_steps(2);
    harness.get_by_label(name).click();
    harness.run_steps(6);
}

/// Two clicks in quick succession at `pos`.
pub fn double_click(harness: &mut Harness<'static, NetloomApp>, pos: egui::Pos2) {
    let button = |pressed| press(pos, egui::PointerButton::Primary, pressed);
    harness
        .input_mut()
        .events
        .push(egui::Event::PointerMoved(pos));
    harness.step();
    // In one frame: a step is a quarter of a second, longer than a double click may take.
    for _ in 0..2 {
        harness.input_mut().events.push(button(true));
        harness.input_mut().events.push(button(false));
    }
    harness.run_steps(3);
}

/// Steps frames until a widget labelled `label` shows (data loads on a thread; frames keep
/// coming meanwhile), failing after `secs`.
pub fn wait_for_label(harness: &mut Harness<'static, NetloomApp>, label: &str, secs: u64) {
    wait_until(harness, secs, label, |h| h.query_by_label(label).is_some());
}

/// Steps frames until a widget whose label contains `part` shows, failing after `secs`.
pub fn wait_for_label_containing(
    harness: &mut Harness<'static, NetloomApp>,
    part: &str,
    secs: u64,
) {
    wait_until(harness, secs, part, |h| {
        h.query_by_label_contains(part).is_some()
    });
}

fn wait_until(
    harness: &mut Harness<'static, NetloomApp>,
    secs: u64,
    what: &str,
    done: impl Fn(&Harness<'static, NetloomApp>) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !done(harness) {
        if std::time::Instant::now() >= deadline {
            // Say what did show: in CI that is all there is to go on.
            let shown: Vec<String> = harness
                .query_all_by_label_contains("")
                .filter_map(|n| n.accesskit_node().label())
                .filter(|l| !l.is_empty())
                .collect();
            panic!("\"{what}\" never appeared; shown: {}", shown.join(" | "));
        }
        harness.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Steps frames (the UI never waits for the trainer) until `done` holds, failing after `secs`.
pub fn step_until(
    harness: &mut Harness<'static, NetloomApp>,
    secs: u64,
    what: &str,
    done: impl Fn(&NetloomApp) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !done(harness.state()) {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}; runs: {:?}",
            harness
                .state()
                .runs()
                .iter()
                .map(|r| (&r.status, r.epochs.len(), r.losses.len(), &r.dir))
                .collect::<Vec<_>>()
        );
        harness.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The app at 1280×800 with its data folder in `dir`, on `dir/mlp.json`: the two-layer MLP with
/// so many epochs that a run never ends by itself (Stop, or the test, always comes first).
pub fn app_on_endless_mlp(dir: &std::path::Path) -> Harness<'static, NetloomApp> {
    app_on_endless_mlp_sized(dir, egui::vec2(1280.0, 800.0))
}

/// The same in a window of `size`.
pub fn app_on_endless_mlp_sized(
    dir: &std::path::Path,
    size: egui::Vec2,
) -> Harness<'static, NetloomApp> {
    let design = dir.join("mlp.json");
    let text = std::fs::read_to_string(format!(
        "{}/examples/two_layer_mlp.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace("\"epochs\": 30", "\"epochs\": 5000");
    std::fs::write(&design, text).unwrap();
    app_with_data_dir(Some(design), dir, size)
}

/// Asserts that the open menu's items `item` show their shortcut `keys` (e.g. "Ctrl+Z").
pub fn assert_menu_shortcuts(harness: &Harness<'static, NetloomApp>, items: &[(&str, &str)]) {
    for (item, keys) in items {
        let label = harness
            .get_by_label_contains(item)
            .accesskit_node()
            .label()
            .unwrap_or_default();
        assert!(label.contains(keys), "{item}: {label:?}");
    }
}

/// The app at `size` on `design` (None: the default one), with its data folder (settings,
/// runs, crash reports) in `data_dir` rather than the user's.
pub fn app_with_data_dir(
    design: Option<std::path::PathBuf>,
    data_dir: &std::path::Path,
    size: egui::Vec2,
) -> Harness<'static, NetloomApp> {
    let data_dir = data_dir.to_owned();
    let mut harness = Harness::builder().with_size(size).build_eframe(move |_cc| {
        NetloomApp::new(design.clone()).with_storage(None, Some(data_dir.clone()))
    });
    harness.run_steps(4);
    harness
}

/// View → Whole design: the canvas zoomed out until all of the design is in view.
pub fn whole_design(harness: &mut Harness<'static, NetloomApp>) {
    harness.get_by_label("View").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Whole design").click();
    harness.run_steps(4);
}
