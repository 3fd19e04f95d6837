//! What the tests read and do to the app that a user does through the screen: where a block
//! is drawn, the design and the data chosen, scripted edits (rerun's `viewer_test_utils`).
//! Compiled only with the `testing` feature, which the integration tests turn on through
//! netloom's dev-dependency on itself, so none of it is in the app people run.

use super::{NetloomApp, View, design};
use crate::design::Design;
use crate::engine::RunHistory;
use crate::ui;
use std::path::PathBuf;

impl NetloomApp {
    /// Imports `path` as File → Import ONNX… does once the file is chosen.
    pub fn import_file(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.import_onnx(ctx, path);
    }

    /// The last import's summary while its bar shows.
    pub fn import_summary(&self) -> Option<&str> {
        self.import_result.as_ref().map(|r| r.summary.as_str())
    }

    /// Whether an import is under way.
    pub fn importing(&self) -> bool {
        self.importing.is_some()
    }

    /// The design on screen.
    pub fn design(&self) -> &Design {
        &self.doc.design
    }

    /// The block the inspector shows.
    pub fn focused(&self) -> Option<design::NodeId> {
        self.canvas.selection.first().copied()
    }

    /// Where a block is on the screen (for tests and scripted clicks).
    pub fn node_screen_rect(&self, id: design::NodeId) -> Option<egui::Rect> {
        self.canvas.screen_rect(id)
    }

    /// Where a collapsed group's block is on the screen (for tests and scripted clicks).
    pub fn group_screen_rect(&self, id: design::GroupId) -> Option<egui::Rect> {
        self.canvas.group_screen_rect(id)
    }

    /// Far out, where the overview wrote an expanded group's title (the one a user sees).
    pub fn overview_title_screen_rect(&self, id: design::GroupId) -> Option<egui::Rect> {
        self.canvas.overview_title_screen_rect(id)
    }

    /// Where an expanded group's frame title is on the screen (a click there collapses it).
    pub fn frame_title_screen_rect(&self, id: design::GroupId) -> Option<egui::Rect> {
        self.canvas.frame_title_screen_rect(&self.doc.design, id)
    }

    /// The collapsed group the inspector shows, if a group is what was clicked.
    pub fn focused_group(&self) -> Option<design::GroupId> {
        self.canvas.focused_group()
    }

    /// A rectangle on the canvas (as accessibility reports the canvas's widgets, before its
    /// zoom and pan) where it is on the screen.
    pub fn canvas_to_screen(&self, rect: egui::Rect) -> egui::Rect {
        self.canvas.to_screen(rect)
    }

    /// Zooms the canvas to `scale` about the middle of its view (as Ctrl+wheel would).
    pub fn zoom_canvas(&mut self, scale: f32) {
        self.canvas.zoom_to(scale);
    }

    /// Where a block's title was drawn on the screen, and its font size there.
    pub fn title_on_screen(&self, id: design::NodeId) -> Option<(egui::Rect, f32)> {
        self.canvas.title_on_screen(id)
    }

    /// The design point in the middle of the canvas, and its zoom.
    pub fn canvas_view(&self) -> (egui::Pos2, f32) {
        self.canvas.view_centre()
    }

    /// The canvas's screen rectangle in the last frame.
    pub fn canvas_rect(&self) -> egui::Rect {
        self.canvas.view_rect()
    }

    /// Where a block's pin is on the screen (for tests and scripted drags).
    pub fn pin_screen_pos(
        &self,
        id: design::NodeId,
        side: ui::canvas::PinSide,
    ) -> Option<egui::Pos2> {
        self.canvas.pin_screen_pos(id, side)
    }

    /// True when there are unsaved changes.
    /// The data runs train on now.
    pub fn data_spec(&self) -> crate::data::DataSpec {
        self.training.data().clone()
    }

    /// Freezes the block named `name`, as its inspector's "frozen" box does (tests, scripts).
    pub fn freeze_by_name(&mut self, name: &str) {
        if let Some(id) = self.doc.design.node_by_name(name).map(|n| n.id) {
            self.edit(crate::design::edit::Edit::Freeze {
                nodes: vec![id],
                frozen: true,
            });
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.doc.dirty
    }

    /// Recently opened or saved files, newest first.
    pub fn recent_files(&self) -> &[PathBuf] {
        &self.recent
    }

    /// The screen showing.
    pub fn view(&self) -> View {
        self.view
    }

    /// Every run's metrics as CSV (what "Save metrics (CSV)" writes).
    pub fn metrics_csv(&self) -> String {
        self.training.metrics_csv()
    }

    /// Every run of this session.
    pub fn runs(&self) -> &[RunHistory] {
        self.training.runs()
    }

    /// The error shown in the error bar, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// What the last file action did, if it said so (e.g. "Saved the metrics to …").
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// True while netloom's own file dialog is open (the native one could not open).
    pub fn in_app_file_dialog_open(&self) -> bool {
        self.file_dialogs.is_open()
    }

    /// The Experiments view's trials in the table's order (those the filter and brushes let
    /// through), each with its best objective value.
    pub fn visible_trials(&self) -> Vec<(String, Option<f64>)> {
        self.experiments.visible_for_tests()
    }

    /// Whether the Experiments view's sweep has ended (or none runs).
    pub fn sweep_over(&self) -> bool {
        !self.experiments.busy()
    }

    /// The Experiments view's error, if any.
    pub fn experiments_error(&self) -> Option<String> {
        self.experiments.error_for_tests()
    }

    /// Sets the sweep editor's epochs a trial (a DragValue a test can't type into).
    pub fn set_sweep_epochs(&mut self, epochs: u64) {
        self.experiments.set_epochs_for_tests(epochs);
    }
}
