//! Groups and big graphs on the canvas, driven as a user would: a template that opens grouped
//! and whole, blocks grouped with Ctrl+G, a group renamed, frozen, expanded and collapsed.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
#[path = "common/ui.rs"]
mod ui;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use netloom::app::NetloomApp;
use ui::*;

fn open_template(harness: &mut Harness<'static, NetloomApp>, name: &str) {
    harness.get_by_label("File").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Templates").hover();
    harness.run_steps(2);
    harness.get_by_label(name).click();
    harness.run_steps(6);
}

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
    assert_eq!(
        all_in_view(&harness),
        17,
        "8 BasicBlocks and 9 other blocks"
    );
    harness.snapshot("resnet18_grouped");
    // Edit → Expand all groups, then Auto layout: every one of its 71 blocks, fitted.
    harness.get_by_label("Edit").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Expand all groups").click();
    harness.run_steps(3);
    assert!(harness.state().design().groups.iter().all(|g| !g.collapsed));
    harness.get_by_label("Edit").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label_contains("Auto layout").click();
    harness.run_steps(6);
    let every = harness.state().design().nodes.len();
    assert_eq!(all_in_view(&harness), every);
    harness.snapshot("resnet18_fitted");
    // The parameter count is the same whichever way it is drawn.
    harness.get_by_label("11,689,512 parameters");
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
    harness.get_by_label("❄ 156 frozen");

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
    for (item, keys) in [
        ("Undo", "Ctrl+Z"),
        ("Group", "Ctrl+G"),
        ("Duplicate", "Ctrl+D"),
    ] {
        let label = harness
            .get_by_label_contains(item)
            .accesskit_node()
            .label()
            .unwrap_or_default();
        assert!(label.contains(keys), "{item}: {label:?}");
    }
}
