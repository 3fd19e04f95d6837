//! The menu bar: File, Edit, and the switch between the Design and Train views.

use super::actions::AppCommand;
use super::actions::Zoom;
use super::help::shortcut_of;
use super::{NetloomApp, View};
use crate::design;
use crate::design::edit::Edit;
use crate::examples::EXAMPLES;

impl NetloomApp {
    /// Draws the menu bar; what is clicked is queued as commands.
    pub(super) fn menu_bar(&self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| self.file_menu(ui, cmds));
            ui.menu_button("Edit", |ui| self.edit_menu(ui, cmds));
            ui.menu_button("View", |ui| view_menu(ui, cmds));
            ui.menu_button("Help", |ui| help_menu(ui, cmds));
            ui.separator();
            for (view, label) in [
                (View::Design, "Design"),
                (View::Train, "Train"),
                (View::Experiments, "Experiments"),
                (View::Learn, "Learn"),
            ] {
                if ui.selectable_label(self.view == view, label).clicked() {
                    cmds.push(AppCommand::Show(view));
                }
            }
        });
    }

    /// Edit: undo, the selection's actions, groups and layout, each with its shortcut.
    fn edit_menu(&self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        let ctx = ui.ctx().clone();
        let key = |m: egui::Modifiers, k: egui::Key| {
            ctx.format_shortcut(&egui::KeyboardShortcut::new(m, k))
        };
        let cmd = egui::Modifiers::COMMAND;
        let item = |ui: &mut egui::Ui, enabled: bool, label: &str, keys: String| {
            ui.add_enabled(enabled, egui::Button::new(label).shortcut_text(keys))
                .clicked()
        };
        let (undo, redo) = self.doc.history.can();
        if item(ui, undo, "Undo", key(cmd, egui::Key::Z)) {
            cmds.push(AppCommand::Undo);
        }
        if item(
            ui,
            redo,
            "Redo",
            key(cmd | egui::Modifiers::SHIFT, egui::Key::Z),
        ) {
            cmds.push(AppCommand::Redo);
        }
        ui.separator();
        let selection = &self.canvas.selection;
        let some = !selection.is_empty();
        if item(ui, some, "Copy", key(cmd, egui::Key::C)) {
            cmds.push(AppCommand::Copy);
        }
        if item(ui, some, "Duplicate", key(cmd, egui::Key::D)) {
            cmds.push(AppCommand::Edit(Edit::Duplicate(selection.clone())));
        }
        if item(ui, some, "Delete", "Del".to_owned()) {
            cmds.push(AppCommand::Edit(Edit::Remove(selection.clone())));
        }
        ui.separator();
        let free = selection
            .iter()
            .any(|n| self.doc.design.group_of(*n).is_none());
        if item(ui, free, "Group", key(cmd, egui::Key::G)) {
            cmds.push(AppCommand::Edit(Edit::Group(selection.clone())));
        }
        let focused = self.canvas.focused_group();
        if item(ui, focused.is_some(), "Ungroup", String::new())
            && let Some(g) = focused
        {
            cmds.push(AppCommand::Edit(Edit::Ungroup(g)));
        }
        let groups = &self.doc.design.groups;
        for (collapsed, label) in [(false, "Expand all groups"), (true, "Collapse all groups")] {
            let to_do: Vec<Edit> = groups
                .iter()
                .filter(|g| g.collapsed != collapsed)
                .map(|g| Edit::Collapse {
                    group: g.id,
                    collapsed,
                })
                .collect();
            if item(ui, !to_do.is_empty(), label, String::new()) {
                cmds.push(AppCommand::Edit(Edit::Many(to_do)));
            }
        }
        ui.separator();
        use design::layout::Direction;
        let help = "Arrange the blocks in layers, wires running one way, few crossings";
        if ui
            .button("Auto layout")
            .on_hover_text(format!("{help}: left to right"))
            .clicked()
        {
            cmds.push(AppCommand::Layout(Direction::LeftToRight));
        }
        if ui
            .button("Auto layout, top to bottom")
            .on_hover_text(format!("{help}: top to bottom, as Netron draws a network"))
            .clicked()
        {
            cmds.push(AppCommand::Layout(Direction::TopToBottom));
        }
    }

    fn file_menu(&self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        if ui.button("New").clicked() {
            cmds.push(AppCommand::New);
        }
        let ctx = ui.ctx().clone();
        let key = |k: egui::Key| {
            ctx.format_shortcut(&egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, k))
        };
        if ui
            .add(egui::Button::new("Open…").shortcut_text(key(egui::Key::O)))
            .clicked()
        {
            cmds.push(AppCommand::OpenDialog);
        }
        if ui
            .button("Import ONNX…")
            .on_hover_text("Open a network exported to ONNX (PyTorch, TensorFlow, …) as a design, with its weights as the pretrained weights")
            .clicked()
        {
            cmds.push(AppCommand::ImportDialog);
        }
        ui.menu_button("Examples", |ui| {
            for &(name, text) in EXAMPLES {
                if ui.button(name).clicked() {
                    cmds.push(AppCommand::OpenExample(name, text));
                }
            }
        });
        ui.menu_button("Templates", |ui| {
            for (name, what) in design::templates::TEMPLATES {
                if ui.button(name).on_hover_text(what).clicked() {
                    cmds.push(AppCommand::OpenTemplate(name));
                }
            }
        });
        ui.menu_button("Recent", |ui| {
            if self.recent.is_empty() {
                ui.label("no recent files");
            }
            for p in &self.recent {
                if ui.button(p.display().to_string()).clicked() {
                    cmds.push(AppCommand::OpenFile(p.clone()));
                }
            }
        });
        ui.separator();
        if ui
            .add(egui::Button::new("Save").shortcut_text(key(egui::Key::S)))
            .clicked()
        {
            cmds.push(AppCommand::Save);
        }
        if ui
            .add(egui::Button::new("Save As…").shortcut_text(shortcut_of(&ctx, "Save As…")))
            .clicked()
        {
            cmds.push(AppCommand::SaveAs);
        }
        if ui
            .button("Open run folder…")
            .on_hover_text(
                "Show a finished run's curves in the Train view: netloom's, or one an exported train.py wrote on a cluster",
            )
            .clicked()
        {
            cmds.push(AppCommand::OpenRunFolder);
        }
        if ui
            .button("Export…")
            .on_hover_text("PyTorch code that trains under torchrun, ONNX, or TorchScript")
            .clicked()
        {
            cmds.push(AppCommand::Export(super::actions::ExportAction::Open));
        }
        ui.separator();
        if ui
            .add(egui::Button::new("Quit").shortcut_text(shortcut_of(&ctx, "Quit")))
            .clicked()
        {
            cmds.push(AppCommand::Quit);
        }
    }
}

/// View: the canvas's zoom, each with its shortcut.
fn view_menu(ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
    use crate::ui::canvas::Fit;
    let ctx = ui.ctx().clone();
    for (label, zoom, help) in [
        ("Zoom in", Zoom::In, "Or Ctrl+wheel over the canvas"),
        ("Zoom out", Zoom::Out, "Or Ctrl+wheel over the canvas"),
        (
            "Fit, readable",
            Zoom::Fit(Fit::Readable),
            "The whole design if its text can be read, else its start (the minimap shows the rest); also a double click on the canvas",
        ),
        (
            "Whole design",
            Zoom::Fit(Fit::Whole),
            "All of it however small: far out, blocks are named boxes",
        ),
    ] {
        if ui
            .add(egui::Button::new(label).shortcut_text(shortcut_of(&ctx, label)))
            .on_hover_text(help)
            .clicked()
        {
            cmds.push(AppCommand::Zoom(zoom));
        }
    }
}

/// Help: the shortcut sheet, the documentation, About.
fn help_menu(ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
    use super::actions::HelpWindow;
    if ui.button("Keyboard shortcuts").clicked() {
        cmds.push(AppCommand::Help(HelpWindow::Shortcuts));
    }
    if ui.button("Documentation").clicked() {
        cmds.push(AppCommand::Help(HelpWindow::Docs));
    }
    ui.separator();
    if ui.button("About netloom").clicked() {
        cmds.push(AppCommand::About);
    }
}
