//! The Train view: data, settings, device and the run controls on the left; live plots of
//! every run of this session and the inside of the network in the middle; the review of
//! pretrained weights as a modal window. One file per panel.

mod boundary;
pub(super) mod confusion;
mod controls;
mod data;
pub(super) mod iou;
mod network;
pub(super) mod plots;
pub(super) mod scatter;
mod settings;
mod table;
mod weights;

use crate::app::NetloomApp;
use crate::app::actions::AppCommand;
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
            egui::Panel::bottom("run_buttons")
                .resizable(false)
                .show(ui, |ui| {
                    let actions = controls::run_buttons(
                        ui,
                        &app.training,
                        &app.doc.design,
                        blocked.as_deref(),
                    );
                    cmds.extend(actions.into_iter().map(AppCommand::Train));
                });
            // Then the run's state above them: its messages are at most four lines each, so
            // it never squeezes the settings to a row.
            // Not resizable: a resizable panel keeps the height it had (egui stores it), and
            // a message that came later would be cut to its first line.
            let bar = egui::Panel::bottom("run_bar")
                .resizable(false)
                .show(ui, |ui| {
                    let input = app.doc.design.input_shape();
                    let regression_head = app.doc.design.nodes.iter().any(|n| {
                        matches!(&n.op, crate::design::Op::Output(o) if o.loss == crate::design::Loss::Mse)
                    }) && app
                        .doc
                        .design
                        .head(&app.doc.analysis)
                        .is_some_and(|(_, _, w)| w == 1);
                    let actions =
                        controls::run_bar(ui, &app.training, (input, regression_head), blocked);
                    cmds.extend(actions.into_iter().map(AppCommand::Train));
                });
            // A panel takes its new height in the next frame: ask for it, or a message that
            // just appeared stays cut to its first line until something else repaints.
            let height = bar.response.rect.height();
            let key = egui::Id::new("netloom_run_bar_height");
            if ctx.data(|d| d.get_temp::<f32>(key)) != Some(height) {
                ctx.data_mut(|d| d.insert_temp(key, height));
                ctx.request_repaint();
            }
            egui::CentralPanel::default().show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let head = app
                        .doc
                        .design
                        .head(&app.doc.analysis)
                        .map(|(_, n, w)| (n, w));
                    let actions = controls::controls(
                        ui,
                        &app.training,
                        &app.doc.design.training,
                        &app.doc.design.data,
                        head,
                        app.doc.design.input_shape(),
                    );
                    cmds.extend(actions.into_iter().map(AppCommand::Train));
                });
            });
        });
    if let Pretrained::Review(choice) = app.training.pretrained() {
        let actions = weights::review(&ctx, choice);
        cmds.extend(actions.into_iter().map(AppCommand::Train));
    }
    app.training.update_views(&ctx, &app.doc.design);
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
        if let Some(p) = self.doc.analysis.problems.first() {
            // Worded as every gate words it (crate::design::PlanError).
            return Some(
                crate::design::PlanError::Invalid {
                    count: self.doc.analysis.problems.len(),
                    first: p.message.clone(),
                }
                .to_string(),
            );
        }
        if let Some(p) = self.doc.design.training.problems().into_iter().next() {
            return Some(p);
        }
        // The chosen data, checked as soon as it has loaded, not after pressing Train.
        self.training
            .data_mismatch(&self.doc.design, &self.doc.analysis)
    }
}
