//! The canvas, driven as a user would: big graphs (a template that opens grouped and whole),
//! groups (Ctrl+G, renamed, frozen, expanded and collapsed), and the everyday editing a desktop
//! tool must get right (text clear of pins, new blocks selected, steady inspector rows, title
//! drags, a wire's menu).
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;
use common::ui;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use netloom::app::NetloomApp;
use ui::*;

/// Every block the canvas shows lies inside it.
fn all_in_view(harness: &Harness<'static, NetloomApp>) -> usize {
    let app = harness.state();
    let view = app.canvas_rect();
    let d = app.design();
    let mut shown = 0;
    for g in d.groups.iter().filter(|g| g.collapsed) {
        let r = app.group_screen_rect(g.id).unwrap();
        assert!(
            view.contains_rect(r),
            "{} at {r:?} outside {view:?}",
            g.name
        );
        shown += 1;
    }
    for n in &d.nodes {
        if d.group_of(n.id).is_some_and(|g| g.collapsed) {
            assert!(
                app.node_screen_rect(n.id).is_none(),
                "{} is inside its group",
                n.name
            );
            continue;
        }
        let r = app.node_screen_rect(n.id).unwrap();
        assert!(
            view.contains_rect(r),
            "{} at {r:?} outside {view:?}",
            n.name
        );
        shown += 1;
    }
    shown
}

#[test]
fn resnet18_opens_grouped_and_whole_and_expands_to_the_full_graph() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    open_template(&mut harness, "resnet18");
    assert_eq!(harness.state().design().groups.len(), 8);
    // Too long to read whole at 1280×720: it opens at its start, readable, the map beside.
    let input = node_id(&harness, "input");
    let view = harness.state().canvas_rect();
    assert!(view.contains_rect(harness.state().node_screen_rect(input).unwrap()));
    let (_, px) = harness.state().title_on_screen(input).unwrap();
    assert!(px >= 11.0, "titles {px} px");
    harness.get_by_label("minimap");
    harness.snapshot("resnet18_grouped");
    whole_design(&mut harness);
    assert_eq!(
        all_in_view(&harness),
        17,
        "8 BasicBlocks and 9 other blocks"
    );
    // Edit → Expand all groups, then Auto layout: every one of its 71 blocks, fitted.
    harness.get_by_label("Edit").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Expand all groups").click();
    harness.run_steps(3);
    assert!(harness.state().design().groups.iter().all(|g| !g.collapsed));
    harness.get_by_label("Edit").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Auto layout").click();
    harness.run_steps(6);
    whole_design(&mut harness);
    let every = harness.state().design().nodes.len();
    assert_eq!(all_in_view(&harness), every);
    harness.snapshot("resnet18_fitted");
    // Top to bottom, if the user prefers (as Netron draws): still whole, now running down.
    harness.get_by_label("Edit").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Auto layout, top to bottom").click();
    harness.run_steps(6);
    whole_design(&mut harness);
    assert_eq!(all_in_view(&harness), every);
    let d = harness.state().design();
    let (input, output) = (
        d.node_by_name("input").unwrap(),
        d.node_by_name("output").unwrap(),
    );
    assert!(
        output.pos[1] > input.pos[1] + 2000.0,
        "{:?} → {:?}",
        input.pos,
        output.pos
    );
    // The parameter count is the same whichever way it is drawn.
    harness.get_by_label("11,181,642 parameters");
}

#[test]
fn blocks_grouped_with_ctrl_g_rename_freeze_expand_and_collapse_as_one() {
    let mut harness = app(None);
    let id = |h: &Harness<'static, NetloomApp>, name: &str| {
        h.state().design().node_by_name(name).unwrap().id
    };
    let names = ["conv1", "relu1", "pool1"];
    let ids: Vec<_> = names.iter().map(|n| id(&harness, n)).collect();
    // Shift-click adds to snarl's selection.
    let shift = |h: &mut Harness<'static, NetloomApp>, m| {
        h.input_mut().events.push(egui::Event::ModifiersChanged(m));
    };
    shift(&mut harness, egui::Modifiers::SHIFT);
    for n in &ids {
        let at = harness.state().node_screen_rect(*n).unwrap().center();
        click_with(&mut harness, at, egui::PointerButton::Primary);
    }
    shift(&mut harness, egui::Modifiers::NONE);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::G);
    harness.run_steps(4);
    let g = harness
        .state()
        .design()
        .group_by_name("group1")
        .unwrap()
        .clone();
    assert_eq!(g.members, ids, "the three selected blocks, nothing else");
    assert!(g.collapsed);
    assert!(
        harness.state().node_screen_rect(ids[0]).is_none(),
        "drawn as one block"
    );
    assert!(
        harness
            .state()
            .design()
            .node_by_name("group1.conv1")
            .is_some()
    );
    harness.get_by_label("group1");
    // Its shape out is pool1's, and its parameters are conv1's.
    harness.get_by_label("156 params");
    harness.get_by_label("valid");

    // Clicking the block shows it in the inspector; a new name renames its members' paths.
    let at = harness.state().group_screen_rect(g.id).unwrap().center();
    click_at(&mut harness, at);
    assert_eq!(harness.state().focused_group(), Some(g.id));
    harness.get_by_label("Group · Group");
    let name = harness.get_by_label("name");
    name.focus();
    harness.run_steps(1);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.get_by_label("name").type_text("stem");
    harness.run_steps(3);
    assert!(
        harness
            .state()
            .design()
            .node_by_name("stem.conv1")
            .is_some()
    );
    // Freezing the group freezes what in it has parameters.
    harness.get_by_label("frozen").click();
    harness.run_steps(3);
    let conv1 = harness.state().design().node_by_name("stem.conv1").unwrap();
    assert!(conv1.frozen);
    harness.get_by_label("156 frozen");

    // A double click expands it in place; its frame's title collapses it again.
    let at = harness.state().group_screen_rect(g.id).unwrap().center();
    double_click(&mut harness, at);
    let d = harness.state().design();
    assert!(!d.group(g.id).unwrap().collapsed);
    assert!(harness.state().node_screen_rect(ids[0]).is_some());
    let conv2 = id(&harness, "conv2");
    let title = harness.state().frame_title_screen_rect(g.id).unwrap();
    let inner = harness.state().node_screen_rect(ids[2]).unwrap();
    let next = harness.state().node_screen_rect(conv2).unwrap();
    assert!(
        title.bottom() <= inner.top(),
        "the title is above the members"
    );
    assert!(next.left() > inner.right(), "the blocks after it made room");
    click_at(&mut harness, title.center());
    assert!(harness.state().design().group(g.id).unwrap().collapsed);
    // One undo at a time takes it all back: collapse, expand, freeze, rename, group.
    for _ in 0..5 {
        harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
        harness.run_steps(2);
    }
    assert!(harness.state().design().groups.is_empty());
    assert!(harness.state().design().node_by_name("conv1").is_some());
}

#[test]
fn the_edit_menu_lists_its_shortcuts() {
    let mut harness = app(None);
    harness.get_by_label("Edit").click_accesskit();
    harness.run_steps(2);
    assert_menu_shortcuts(
        &harness,
        &[
            ("Undo", "Ctrl+Z"),
            ("Group", "Ctrl+G"),
            ("Duplicate", "Ctrl+D"),
        ],
    );
}

fn node_id(h: &Harness<'static, NetloomApp>, name: &str) -> netloom::design::NodeId {
    h.state().design().node_by_name(name).unwrap().id
}

#[test]
fn pins_clear_the_shapes_and_parameter_counts_read_at_full_size() {
    use netloom::ui::canvas::PinSide;
    let harness = app(None);
    let d = harness.state().design().clone();
    let analysis = netloom::design::analyse(&d);
    let view = harness.state().canvas_rect();
    let mut checked = 0;
    for n in &d.nodes {
        let (Some(pin), Some(shape)) = (
            harness.state().pin_screen_pos(n.id, PinSide::Out),
            analysis.report(n.id).and_then(|r| r.output),
        ) else {
            continue;
        };
        // The blocks in view at the readable zoom the app opens with.
        if !view.contains(pin) {
            continue;
        }
        // The shape label on the pin's row: the one whose right end is nearest the pin.
        let label = harness
            .get_all_by_label(&shape.to_string())
            .map(|l| harness.state().canvas_to_screen(l.rect()))
            .filter(|r| (r.center().y - pin.y).abs() < 8.0 && r.right() < pin.x + 20.0)
            .min_by(|a, b| {
                (pin.x - a.right())
                    .abs()
                    .total_cmp(&(pin.x - b.right()).abs())
            })
            .unwrap_or_else(|| panic!("{}: no shape label beside its pin", n.name));
        assert!(
            label.right() < pin.x - 4.0,
            "{}: the pin at {pin:?} covers its shape {label:?}",
            n.name
        );
        checked += 1;
    }
    assert!(checked >= 4, "{checked}");
    let name = harness.get_by_label("conv1").rect();
    let params = harness.get_by_label("156 params").rect();
    // (Both on the canvas, so both scaled alike: the ratio is what matters.)
    assert!(
        params.height() >= name.height() * 0.9,
        "parameter counts are as tall as names: {params:?} vs {name:?}"
    );
}

#[test]
fn a_block_added_pasted_or_duplicated_is_the_selection() {
    let mut harness = app(None);
    let before = harness.state().design().nodes.len();
    harness.get_by_label("Dropout").click();
    harness.run_steps(3);
    let dropout = node_id(&harness, "drop1");
    assert_eq!(
        harness.state().focused(),
        Some(dropout),
        "the new block is selected"
    );
    harness.get_by_label("p");
    // Pasting conv1: the copy is the selection, so Delete removes the copy, not conv1.
    let conv1 = node_id(&harness, "conv1");
    let at = harness.state().node_screen_rect(conv1).unwrap().center();
    click_at(&mut harness, at);
    assert_eq!(harness.state().focused(), Some(conv1));
    let text = netloom::design::edit::copy_text(harness.state().design(), &[conv1]).unwrap();
    harness.input_mut().events.push(egui::Event::Paste(text));
    harness.run_steps(3);
    let copy = node_id(&harness, "conv3");
    assert_eq!(harness.state().focused(), Some(copy));
    harness.key_press(egui::Key::Delete);
    harness.run_steps(3);
    let d = harness.state().design();
    assert!(d.node_by_name("conv3").is_none() && d.node_by_name("conv1").is_some());
    // Ctrl+D on conv1: the duplicate is selected.
    let at = harness.state().node_screen_rect(conv1).unwrap().center();
    click_at(&mut harness, at);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::D);
    harness.run_steps(3);
    let dup = node_id(&harness, "conv3");
    assert_eq!(harness.state().focused(), Some(dup));
    assert_eq!(harness.state().design().nodes.len(), before + 2);
}

#[test]
fn inspector_rows_stay_put_and_fields_follow_pytorch_s_order() {
    let mut harness = app(None);
    whole_design(&mut harness);
    let conv2 = node_id(&harness, "conv2");
    let at = harness.state().node_screen_rect(conv2).unwrap().center();
    click_at(&mut harness, at);
    let ys: Vec<f32> = [
        "out channels",
        "kernel size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "bias",
    ]
    .iter()
    .map(|l| harness.get_by_label(l).rect().top())
    .collect();
    assert!(
        ys.is_sorted(),
        "Conv2d(out_channels, kernel_size, stride, …): {ys:?}"
    );
    let stride = harness.get_by_label("stride").rect();
    // Cut conv2's input: it becomes invalid (no parameter count), its rows stay where they were.
    let pool1 = node_id(&harness, "pool1");
    harness
        .state_mut()
        .edit(netloom::design::edit::Edit::Disconnect {
            from: pool1,
            to: conv2,
            port: 0,
        });
    harness.run_steps(3);
    assert!(harness.query_by_label("valid").is_none());
    harness.get_by_label("frozen");
    assert_eq!(harness.get_by_label("stride").rect(), stride);
    // Frozen greys the learning-rate row out rather than removing it.
    harness.get_by_label("frozen").click();
    harness.run_steps(3);
    harness.get_by_label("learning rate ×");
    assert_eq!(harness.get_by_label("stride").rect(), stride);
}

#[test]
fn dragging_a_block_by_its_title_moves_it() {
    let mut harness = app(None);
    let fc1 = node_id(&harness, "conv1");
    let before = harness.state().design().node(fc1).unwrap().pos;
    let title = harness.get_by_label("conv1").rect();
    let title = harness.state().canvas_to_screen(title).center();
    drag(&mut harness, title, title + egui::vec2(90.0, 60.0));
    let after = harness.state().design().node(fc1).unwrap().pos;
    assert!(
        after[0] > before[0] + 40.0 && after[1] > before[1] + 30.0,
        "{before:?} → {after:?}"
    );
}

#[test]
fn a_right_clicked_wire_gets_a_menu_that_deletes_it_or_inserts_a_block() {
    use netloom::ui::canvas::PinSide;
    let mut harness = app(None);
    whole_design(&mut harness);
    let (fc1, relu3) = (node_id(&harness, "fc1"), node_id(&harness, "relu3"));
    let mid = |h: &Harness<'static, NetloomApp>, a, b| {
        let p = h.state().pin_screen_pos(a, PinSide::Out).unwrap();
        let q = h.state().pin_screen_pos(b, PinSide::In(0)).unwrap();
        p + (q - p) / 2.0
    };
    let wires = harness.state().design().edges.len();
    let at = mid(&harness, fc1, relu3);
    click_with(&mut harness, at, egui::PointerButton::Secondary);
    // Nothing is deleted yet: the menu names the wire and what it carries.
    assert_eq!(harness.state().design().edges.len(), wires);
    harness.get_by_label_contains("fc1 ⏵ relu3");
    let ends = |h: &Harness<'static, NetloomApp>| {
        ["Input", "Output", "Dropout"].map(|l| h.get_all_by_label(l).count())
    };
    let before = ends(&harness);
    harness.get_by_label_contains("Insert a block here").click();
    harness.run_steps(2);
    // Input and Output can't sit on a wire: the menu adds no button for them (the palette and
    // the blocks' kind lines name them already), as it does for Dropout.
    let [input, output, dropout] = ends(&harness);
    assert_eq!(
        [input, output, dropout],
        [before[0], before[1], before[2] + 1],
        "Input, Output and Dropout labels before the menu opened: {before:?}"
    );
    // The menu's Dropout, not the palette's (left of x = 150).
    harness
        .get_all_by_label("Dropout")
        .find(|b| b.rect().left() > 200.0)
        .unwrap()
        .click();
    harness.run_steps(3);
    let d = harness.state().design();
    let dropout = d.node_by_name("drop1").unwrap().id;
    assert!(d.edges.iter().any(|e| e.from == fc1 && e.to == dropout));
    assert!(d.edges.iter().any(|e| e.from == dropout && e.to == relu3));
    assert!(!d.edges.iter().any(|e| e.from == fc1 && e.to == relu3));
    harness.get_by_label("valid");
    // Delete wire removes exactly that wire.
    let (fc2, relu4) = (node_id(&harness, "fc2"), node_id(&harness, "relu4"));
    let at = mid(&harness, fc2, relu4);
    click_with(&mut harness, at, egui::PointerButton::Secondary);
    harness.get_by_label("Delete wire").click();
    harness.run_steps(3);
    let d = harness.state().design();
    assert!(!d.edges.iter().any(|e| e.from == fc2 && e.to == relu4));
    assert_eq!(d.edges.len(), wires + 1 - 1);
    assert!(
        harness.query_by_label("Delete wire").is_none(),
        "the menu closed"
    );
}

#[test]
fn a_minimap_shows_the_whole_design_and_a_click_there_moves_the_view() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    open_template(&mut harness, "resnet34");
    whole_design(&mut harness);
    assert!(
        harness.query_by_label("minimap").is_none(),
        "all of it is in view"
    );
    harness.state_mut().zoom_canvas(1.0);
    harness.run_steps(4);
    let map = harness.get_by_label("minimap").rect();
    let view = harness.state().canvas_rect();
    assert!(view.contains_rect(map), "{map:?} in {view:?}");
    let (before, scale) = harness.state().canvas_view();
    assert!((scale - 1.0).abs() < 1e-3);
    // The far right of the map is the end of the network.
    click_at(&mut harness, map.right_center() - egui::vec2(3.0, 0.0));
    harness.run_steps(2);
    let (after, scale) = harness.state().canvas_view();
    assert!(after.x > before.x + 1500.0, "{before:?} → {after:?}");
    assert!((scale - 1.0).abs() < 1e-3, "the zoom stays");
    assert_eq!(
        harness.state().focused(),
        None,
        "the click was the map's, not a block's"
    );
}

#[test]
fn a_setting_changed_in_one_instance_changes_every_instance_of_its_kind() {
    let mut harness = app(None);
    open_template(&mut harness, "resnet18");
    harness.get_by_label("Edit").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Expand all groups").click();
    harness.run_steps(4);
    whole_design(&mut harness);
    let conv = node_id(&harness, "layer1.0.conv1");
    let at = harness.state().node_screen_rect(conv).unwrap().center();
    click_at(&mut harness, at);
    assert_eq!(harness.state().focused(), Some(conv));
    harness.get_by_label("edit every BasicBlock (8 instances)");
    // The check box on the "bias" row.
    let row = harness.get_by_label("bias").rect().center().y;
    harness
        .get_all_by_role(egui::accesskit::Role::CheckBox)
        .find(|c| (c.rect().center().y - row).abs() < 6.0)
        .unwrap()
        .click();
    harness.run_steps(3);
    let d = harness.state().design();
    let bias = |name: &str| match &d.node_by_name(name).unwrap().op {
        netloom::design::Op::Conv2d(c) => (c.bias, c.out_channels),
        _ => panic!("{name} is a Conv2d"),
    };
    assert_eq!(bias("layer1.0.conv1"), (true, 64));
    assert_eq!(
        bias("layer4.1.conv1"),
        (true, 512),
        "its own width, the shared setting"
    );
    assert_eq!(
        bias("layer1.0.conv2"),
        (false, 64),
        "only the same block of each instance"
    );
    // One undo takes it back everywhere.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(3);
    let d = harness.state().design();
    assert!(matches!(&d.node_by_name("layer4.1.conv1").unwrap().op,
        netloom::design::Op::Conv2d(c) if !c.bias));
}

/// The string literals of a line of Rust, roughly: what lies between its quotes (comment lines
/// are skipped by the caller; a trailing comment after a literal falls outside the quotes).
fn literals(line: &str) -> impl Iterator<Item = &str> {
    line.split('"').skip(1).step_by(2)
}

/// Every character the app's and canvas's strings can show has a glyph in the fonts the app
/// draws with: a missing one is drawn as a box (the wire menu's header read "pool1 □ fc1").
#[test]
fn every_character_the_ui_writes_has_a_glyph() {
    let ctx = egui::Context::default();
    let mut out = ctx.run_ui(egui::RawInput::default(), |_| {});
    out.textures_delta.clear(); // no renderer here
    let mut files = Vec::new();
    // The engine's, the design's and the data's messages are shown in the app too.
    let mut dirs = vec![
        std::path::PathBuf::from("src/ui"),
        "src/app".into(),
        "src/design".into(),
        "src/engine".into(),
        "src/data".into(),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 20, "the UI's sources: {files:?}");
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests (at a file's end) show nothing.
        let shown = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in shown.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for c in literals(line)
                .flat_map(str::chars)
                .filter(|c| !c.is_ascii())
            {
                let font = egui::FontId::proportional(14.0);
                if !ctx.fonts_mut(|f| f.has_glyph(&font, c)) {
                    missing.push(format!("{}:{}: {c:?} in {line:?}", file.display(), i + 1));
                }
            }
        }
    }
    assert!(missing.is_empty(), "no glyph for:\n{}", missing.join("\n"));
}

/// Opens File → Examples → `name`.
fn open_example(harness: &mut Harness<'static, NetloomApp>, name: &str) {
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Examples").hover();
    harness.run_steps(2);
    harness.get_by_label(name).click();
    harness.run_steps(6);
}

#[test]
fn examples_and_a_grouped_template_open_with_titles_a_person_can_read() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    for what in ["lenet5.json", "vgg_small.json", "resnet18"] {
        if what.ends_with(".json") {
            open_example(&mut harness, what);
        } else {
            open_template(&mut harness, what);
        }
        let view = harness.state().canvas_rect();
        let d = harness.state().design().clone();
        let mut seen = 0;
        for n in &d.nodes {
            let Some((at, px)) = harness.state().title_on_screen(n.id) else {
                continue;
            };
            if !view.contains_rect(at) {
                continue;
            }
            assert!(px >= 11.0, "{what}: {} drawn at {px} px", n.name);
            seen += 1;
        }
        // The design's start is what the user sees first.
        let input = d.node_by_name("input").unwrap().id;
        let r = harness.state().node_screen_rect(input).unwrap();
        assert!(view.contains_rect(r), "{what}: input at {r:?}");
        assert!(seen >= 4, "{what}: {seen} titles in view");
    }
}

/// The brightest channel of the screenshot's pixels in `rect`: how strong the ink is there.
fn ink_in(image: &image::RgbaImage, rect: egui::Rect) -> u8 {
    let (x0, x1) = (rect.left().round() as u32, rect.right().round() as u32);
    let (y0, y1) = (rect.top().floor() as u32, rect.bottom().ceil() as u32);
    let mut most = 0;
    for y in y0..y1.min(image.height()) {
        for x in x0..x1.min(image.width()) {
            let p = image.get_pixel(x, y).0;
            most = most.max(p[0].max(p[1]).max(p[2]));
        }
    }
    most
}

#[test]
fn the_first_glyph_of_every_title_is_drawn_at_any_zoom() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    whole_design(&mut harness);
    for zoom in [0.88, 0.75, 0.65, 0.5, 1.3] {
        harness.state_mut().zoom_canvas(zoom);
        harness.run_steps(3);
        let image = harness.render().unwrap();
        let view = harness.state().canvas_rect();
        let d = harness.state().design().clone();
        let mut checked = 0;
        for n in &d.nodes {
            let Some((at, px)) = harness.state().title_on_screen(n.id) else {
                continue;
            };
            if !view.contains_rect(at) {
                continue;
            }
            // The first glyph's stem (the i of input, the r of relu1, the f of fc1) lies in
            // the title's first quarter em: scaled-down bitmaps used to lose it.
            let first = egui::Rect::from_min_size(at.min, egui::vec2(px * 0.25, at.height()));
            let (stem, title) = (ink_in(&image, first), ink_in(&image, at));
            assert!(
                f32::from(stem) >= 0.75 * f32::from(title),
                "zoom {zoom}: {}'s first letter is faint or missing at {first:?} ({stem} of {title})",
                n.name
            );
            checked += 1;
        }
        assert!(checked >= 3, "zoom {zoom}: {checked} titles checked");
    }
}

#[test]
fn a_palette_click_adds_the_block_after_the_selection_wired_and_in_view() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    let conv1 = node_id(&harness, "conv1");
    let relu1 = node_id(&harness, "relu1");
    let at = harness.state().node_screen_rect(conv1).unwrap().center();
    click_at(&mut harness, at);
    harness.get_by_label("BatchNorm").click();
    harness.run_steps(4);
    let d = harness.state().design().clone();
    let bn = d.node_by_name("bn1").unwrap().id;
    assert!(d.edges.iter().any(|e| e.from == conv1 && e.to == bn));
    assert!(d.edges.iter().any(|e| e.from == bn && e.to == relu1));
    assert!(!d.edges.iter().any(|e| e.from == conv1 && e.to == relu1));
    harness.get_by_label("valid");
    assert_eq!(
        harness.state().focused(),
        Some(bn),
        "the new block is selected"
    );
    let view = harness.state().canvas_rect();
    let r = harness.state().node_screen_rect(bn).unwrap();
    assert!(view.contains_rect(r), "{r:?} in {view:?}");
    // A block selected at the edge of the view, the view then moved away from it: the new
    // block after it is brought into view.
    let fc3 = node_id(&harness, "fc3");
    whole_design(&mut harness);
    let at = harness.state().node_screen_rect(fc3).unwrap().center();
    click_at(&mut harness, at);
    assert_eq!(harness.state().focused(), Some(fc3));
    harness.state_mut().zoom_canvas(1.5);
    harness.run_steps(3);
    // The palette's ReLU (left of x = 150), not a block's kind line.
    harness
        .get_all_by_label("ReLU")
        .find(|b| b.rect().left() < 150.0)
        .unwrap()
        .click();
    harness.run_steps(4);
    let d = harness.state().design().clone();
    let relu = d.node_by_name("relu5").unwrap().id;
    let output = d.node_by_name("output").unwrap().id;
    assert!(d.edges.iter().any(|e| e.from == fc3 && e.to == relu));
    assert!(d.edges.iter().any(|e| e.from == relu && e.to == output));
    let r = harness.state().node_screen_rect(relu).unwrap();
    assert!(view.contains_rect(r), "{r:?} in {view:?}");
}

#[test]
fn far_out_a_click_on_the_group_title_a_user_sees_collapses_the_group() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    open_template(&mut harness, "resnet18");
    let g = harness
        .state()
        .design()
        .group_by_name("layer1.0")
        .unwrap()
        .id;
    whole_design(&mut harness);
    let at = harness.state().group_screen_rect(g).unwrap().center();
    double_click(&mut harness, at);
    assert!(!harness.state().design().group(g).unwrap().collapsed);
    whole_design(&mut harness);
    let (_, zoom) = harness.state().canvas_view();
    assert!(
        zoom < netloom::ui::canvas::OVERVIEW_BELOW,
        "far out: {zoom}"
    );
    // The title the overview writes above the frame ("⏷ layer1.0 · BasicBlock"), not the
    // strip inside the frame.
    let label = harness.state().overview_title_screen_rect(g).unwrap();
    let strip = harness.state().frame_title_screen_rect(g).unwrap();
    assert!(
        label.bottom() <= strip.top() + 1.0,
        "{label:?} above {strip:?}"
    );
    // Its first letters, where the ▾ is: the place a person aims at.
    click_at(&mut harness, label.left_center() + egui::vec2(4.0, 0.0));
    assert!(harness.state().design().group(g).unwrap().collapsed);
}

/// Whether the screenshot has a pixel of about `colour` in `rect`.
fn has_colour(image: &image::RgbaImage, rect: egui::Rect, colour: egui::Color32) -> bool {
    let (x0, x1) = (rect.left().max(0.0) as u32, rect.right().ceil() as u32);
    let (y0, y1) = (rect.top().max(0.0) as u32, rect.bottom().ceil() as u32);
    (y0..y1.min(image.height())).any(|y| {
        (x0..x1.min(image.width())).any(|x| {
            let p = image.get_pixel(x, y).0;
            (0..3).all(|k| (i32::from(p[k]) - i32::from(colour.to_array()[k])).abs() <= 12)
        })
    })
}

#[test]
fn frozen_blocks_are_marked_far_out_and_on_the_minimap() {
    let frozen = netloom::ui::theme::FROZEN;
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    whole_design(&mut harness);
    let conv1 = node_id(&harness, "conv1");
    let before = harness.render().unwrap();
    let r = harness.state().node_screen_rect(conv1).unwrap();
    assert!(
        !has_colour(&before, r.expand(3.0), frozen),
        "not frozen yet"
    );
    harness.state_mut().freeze_by_name("conv1");
    harness.run_steps(3);
    let (_, zoom) = harness.state().canvas_view();
    assert!(
        zoom < netloom::ui::canvas::OVERVIEW_BELOW,
        "far out: {zoom}"
    );
    let image = harness.render().unwrap();
    assert!(
        has_colour(&image, r.expand(3.0), frozen),
        "the overview's box at {r:?}"
    );
    // At a readable zoom the map shows the frozen block in the frozen colour too.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num0);
    harness.run_steps(4);
    let map = harness.get_by_label("minimap").rect();
    let image = harness.render().unwrap();
    assert!(has_colour(&image, map, frozen), "the minimap at {map:?}");
}

/// File → Import ONNX… (the in-app dialog without a portal), then imported models as they
/// open at 1280×720: grouped as the templates are, fitted and readable, on a new unsaved
/// document whose pretrained weights are the file's.
#[test]
fn imported_models_open_grouped_and_readable() {
    let dir = common::run::tempdir("canvas-import");
    common::run::python(
        &common::run::reference("onnx_zoo.py"),
        &[dir.to_str().unwrap(), "mobilenet_v2", "efficientnet_b0"],
    );
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Import ONNX…").click();
    harness.run_steps(4);
    assert!(harness.state().in_app_file_dialog_open());
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    // From another view: the import shows the Design view.
    harness.get_by_label("Learn").click();
    harness.run_steps(2);
    for (name, blocks) in [("mobilenet_v2", 17), ("efficientnet_b0", 16)] {
        let ctx = harness.ctx.clone();
        let onnx = dir.join(name).join("model.onnx");
        harness.state_mut().import_file(&ctx, onnx);
        step_until(&mut harness, 60, "the import never finished", |a| {
            !a.importing()
        });
        harness.run_steps(4);
        assert_eq!(harness.state().error(), None);
        let summary = harness
            .state()
            .import_summary()
            .unwrap_or_default()
            .to_owned();
        assert!(
            summary.starts_with("Imported ") && summary.contains("pretrained weights"),
            "{summary}"
        );
        // The mapping, a click away: every weight, by the name the file gave it.
        harness.get_by_label("Show the mapping").click();
        harness.run_steps(3);
        harness.get_by_label_contains("matched      features.0.0.weight [32, 3, 3, 3]");
        // The summary line twice: in the bar and atop the mapping.
        assert_eq!(
            harness.query_all_by_label_contains("0 unsupported").count(),
            2
        );
        assert_eq!(harness.state().title(), "model.onnx (imported) — netloom");
        assert_eq!(harness.state().view(), netloom::app::View::Design);
        assert!(!harness.state().is_dirty());
        let design = harness.state().design();
        assert_eq!(design.groups.len(), blocks, "{name}");
        assert!(design.groups.iter().all(|g| g.collapsed));
        let weights = design.training.pretrained.clone().unwrap().path;
        assert!(std::path::Path::new(&weights).is_file(), "{weights}");
        // It opens at its start, readable, the map beside.
        let input = node_id(&harness, "input");
        let view = harness.state().canvas_rect();
        assert!(view.contains_rect(harness.state().node_screen_rect(input).unwrap()));
        let (_, px) = harness.state().title_on_screen(input).unwrap();
        assert!(px >= 11.0, "titles {px} px");
        harness.get_by_label("minimap");
        // The summary names temporary paths: dismissed (which closes the mapping too), so
        // the picture is the same anywhere.
        harness.get_by_label("Dismiss").click();
        harness.run_steps(3);
        assert!(harness.state().import_summary().is_none());
        assert!(
            harness
                .query_by_label_contains("matched      features.0.0.weight")
                .is_none()
        );
        // Dismiss sat after the summary, whose length varies with the paths: the pointer
        // moves to a fixed empty spot before the picture.
        harness.event(egui::Event::PointerMoved(egui::pos2(600.0, 600.0)));
        harness.run_steps(2);
        harness.snapshot(format!("imported_{name}"));
    }
}
