//! The menu bar: File, Edit, and the switch between the Design and Train views.

use super::commands::AppCommand;
use super::{NetloomApp, View};
use crate::design;
use crate::examples::EXAMPLES;

impl NetloomApp {
    /// Draws the menu bar; what is clicked is queued as commands.
    pub(super) fn menu_bar(&self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| self.file_menu(ui, cmds));
            ui.menu_button("Edit", |ui| {
                let (undo, redo) = self.history.can();
                if ui.add_enabled(undo, egui::Button::new("Undo")).clicked() {
                    cmds.push(AppCommand::Undo);
                }
                if ui.add_enabled(redo, egui::Button::new("Redo")).clicked() {
                    cmds.push(AppCommand::Redo);
                }
                ui.separator();
                if ui
                    .button("Auto layout")
                    .on_hover_text("Arrange the blocks left to right by depth, branches in lanes")
                    .clicked()
                {
                    cmds.push(AppCommand::Layout);
                }
            });
            ui.separator();
            for (view, label) in [(View::Design, "Design"), (View::Train, "Train")] {
                if ui.selectable_label(self.view == view, label).clicked() {
                    cmds.push(AppCommand::Show(view));
                }
            }
        });
    }

    fn file_menu(&self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        if ui.button("New").clicked() {
            cmds.push(AppCommand::New);
        }
        if ui.button("Open…").clicked() {
            cmds.push(AppCommand::OpenDialog);
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
        if ui.button("Save").clicked() {
            cmds.push(AppCommand::Save);
        }
        if ui.button("Save As…").clicked() {
            cmds.push(AppCommand::SaveAs);
        }
        ui.separator();
        if ui.button("Quit").clicked() {
            cmds.push(AppCommand::Quit);
        }
    }
}
