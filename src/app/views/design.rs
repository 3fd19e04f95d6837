//! The Design view: the palette on the left, the inspector and problem list on the right, the
//! node canvas in the middle.

use crate::app::NetloomApp;
use crate::app::actions::AppCommand;
use crate::ui;

/// Draws the Design view.
pub(in crate::app) fn show(app: &mut NetloomApp, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
    egui::Panel::left("palette")
        .default_size(150.0)
        .show(ui, |ui| {
            if let Some(block) = ui::palette::show(ui, &mut app.palette_query) {
                // After the one selected block, wired to it where the shapes allow; else in
                // view, clear of the blocks already there. Either way it is then shown.
                let after = match app.canvas.selection.as_slice() {
                    [one] => crate::design::append::add_after(&app.doc.design, block, *one),
                    _ => None,
                };
                let edit =
                    after.unwrap_or_else(|| block.add_at(app.canvas.free_spot(&app.doc.design)));
                cmds.push(AppCommand::Edit(edit));
            }
        });
    let selected = app.canvas.selection.first().copied();
    // The block clicked on the canvas is the one whose activations the Train view shows.
    if let Some(node) = selected.and_then(|id| app.doc.design.node(id)) {
        let conv = node.op.kind_name() == "Conv2d";
        app.training.watch(&node.name, conv);
    }
    egui::Panel::right("inspector")
        .default_size(240.0)
        .show(ui, |ui| {
            let edit = match app.canvas.focused_group() {
                Some(g) => app
                    .inspector
                    .show_group(ui, &app.doc.design, &app.doc.analysis, g),
                None => app
                    .inspector
                    .show(ui, &app.doc.design, &app.doc.analysis, selected),
            };
            if let Some(e) = edit {
                cmds.push(AppCommand::Edit(e));
            }
            if let Some(node) = selected.and_then(|id| app.doc.design.node(id)) {
                lesson_link(ui, node, cmds);
            }
            ui.separator();
            ui::summary::problem_list(ui, &app.doc.analysis);
        });
    egui::CentralPanel::default().show(ui, |ui| {
        if app.canvas.shown != Some(app.doc.revision) {
            app.canvas.rebuild(&app.doc.design, app.doc.revision);
        }
        for e in app.canvas.show(ui, &app.doc.design, &app.doc.analysis) {
            cmds.push(AppCommand::Edit(e));
        }
    });
}

/// A link from the selected block to the Learn lesson that shows it at work.
fn lesson_link(ui: &mut egui::Ui, node: &crate::design::Node, cmds: &mut Vec<AppCommand>) {
    use crate::app::actions::Lesson;
    use crate::design::Op;
    let (lesson, text) = match node.op {
        Op::Conv2d(_) | Op::MaxPool2d(_) | Op::AvgPool2d(_) => (
            Lesson::Convolution,
            "See its window slide over a sample (Learn)",
        ),
        Op::BatchNorm(_) | Op::LayerNorm(_) | Op::Dropout(_) | Op::Dropout2d(_) => (
            Lesson::Normalisation,
            "See what it does to activations (Learn)",
        ),
        Op::Activation(_) => (Lesson::Activations, "Compare activations (Learn)"),
        Op::ConvTranspose2d(_) => (
            Lesson::TransposedConvolution,
            "See its window in reverse, and its checkerboard (Learn)",
        ),
        _ => return,
    };
    if ui.link(text).clicked() {
        cmds.push(AppCommand::Lesson(lesson, Some(node.name.clone())));
    }
}
