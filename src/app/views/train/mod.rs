//! The Train view: data, settings, device and the run controls on the left; live plots of
//! every run of this session and the inside of the network in the middle; the review of
//! pretrained weights as a modal window. One file per panel.

mod boundary;
mod confusion;
mod controls;
mod data;
mod network;
mod plots;
mod settings;
mod weights;

use crate::app::NetloomApp;
use crate::app::commands::AppCommand;
use crate::app::training::Pretrained;

/// Draws the Train view.
pub(in crate::app) fn show(app: &mut NetloomApp, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
    let ctx = ui.ctx().clone();
    let blocked = app.train_blocked();
    egui::Panel::left("train_controls")
        .default_size(280.0)
        .show(ui, |ui| {
            // Train, Pause and Stop first, at the very bottom: nothing below them grows, so
            // they keep their place from a run's start to its end (the progress, the epoch's
            // accuracy and any message appear above them).
            egui::Panel::bottom("run_buttons").show(ui, |ui| {
                let actions =
                    controls::run_buttons(ui, &app.training, &app.design, blocked.as_deref());
                cmds.extend(actions.into_iter().map(AppCommand::Train));
            });
            // Then the run's state above them, at most a third of the column (scrolling past
            // that), so a long message never squeezes the settings to a row.
            let most = (ui.available_height() / 3.0).max(120.0);
            egui::Panel::bottom("run_bar").show(ui, |ui| {
                // The scroll area's least height is its greatest too: it grows with what it
                // shows up to a third of the column (egui would otherwise keep it at the height
                // of the panel's last frame, and a new line would scroll out of sight).
                egui::ScrollArea::vertical()
                    .id_salt("run_bar_scroll")
                    .max_height(most)
                    .min_scrolled_height(most)
                    .show(ui, |ui| {
                        let actions = controls::run_bar(ui, &app.training, blocked);
                        cmds.extend(actions.into_iter().map(AppCommand::Train));
                    });
            });
            egui::CentralPanel::default().show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let head = app.design.head(&app.analysis).map(|(_, n, w)| (n, w));
                    let actions = controls::controls(
                        ui,
                        &app.training,
                        &app.design.training,
                        &app.design.data,
                        head,
                        app.design.input_shape(),
                    );
                    cmds.extend(actions.into_iter().map(AppCommand::Train));
                });
            });
        });
    if let Pretrained::Review(choice) = app.training.pretrained() {
        let actions = weights::review(&ctx, choice);
        cmds.extend(actions.into_iter().map(AppCommand::Train));
    }
    app.training.update_views(&ctx, &app.design);
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            let actions = plots::plots(ui, &app.training);
            cmds.extend(actions.into_iter().map(AppCommand::Train));
        });
    });
}

impl NetloomApp {
    /// Why training can't start, if it can't.
    fn train_blocked(&self) -> Option<String> {
        if let Some(p) = self.analysis.problems.first() {
            return Some(format!(
                "the design has {}, e.g. {}",
                crate::units::count(self.analysis.problems.len() as u64, "problem"),
                p.message
            ));
        }
        if let Some(p) = self.design.training.problems().into_iter().next() {
            return Some(p);
        }
        // The chosen data, checked as soon as it has loaded, not after pressing Train.
        self.training.data_mismatch(&self.design, &self.analysis)
    }
}
