//! The zoom buttons in the canvas's top right corner: out, in, fit readably, the whole design.
//! (The wheel pans and Ctrl+wheel zooms, as in snarl; a new user finds these first.)

use super::{Canvas, Fit};
use egui::{Rect, Ui, vec2};

/// How much one step of Ctrl+= / Ctrl+− or a button zooms.
pub const STEP: f32 = 1.25;

impl Canvas {
    /// Draws the zoom buttons over the canvas, on their own layer above the blocks (a click
    /// there is the button's, not a block's under it).
    pub(super) fn zoom_buttons(&mut self, ui: &mut Ui, clip: Rect, above: egui::LayerId) {
        if clip.width() < 300.0 || clip.height() < 80.0 {
            return;
        }
        let row = Rect::from_min_size(
            clip.right_top() + vec2(-8.0 - 220.0, 8.0),
            vec2(220.0, 24.0),
        );
        let layer = egui::LayerId::new(ui.layer_id().order, ui.id().with("zoom_buttons"));
        ui.ctx().set_sublayer(above, layer);
        let mut bar = ui.new_child(
            egui::UiBuilder::new()
                .layer_id(layer)
                .max_rect(row)
                .layout(egui::Layout::right_to_left(egui::Align::Center)),
        );
        let key = |k: egui::Key| {
            ui.ctx()
                .format_shortcut(&egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, k))
        };
        let percent = (self.transform.scaling * 100.0).round();
        let whole = bar
            .button("All")
            .on_hover_text("Zoom out to the whole design (far out, blocks show as named boxes)");
        let fit = bar.button("Fit").on_hover_text(format!(
            "Fit the design at a size you can read ({}, or double-click the canvas)",
            key(egui::Key::Num0)
        ));
        let zoom_in = bar.button("+").on_hover_text(format!(
            "Zoom in ({}, or Ctrl+wheel)",
            key(egui::Key::Equals)
        ));
        bar.label(format!("{percent}%"));
        let zoom_out = bar.button("−").on_hover_text(format!(
            "Zoom out ({}, or Ctrl+wheel)",
            key(egui::Key::Minus)
        ));
        if whole.clicked() {
            self.fit_as(Fit::Whole);
        }
        if fit.clicked() {
            self.fit_as(Fit::Readable);
        }
        if zoom_in.clicked() {
            self.zoom_by(STEP);
        }
        if zoom_out.clicked() {
            self.zoom_by(1.0 / STEP);
        }
        if [whole, fit, zoom_in, zoom_out].iter().any(|r| r.clicked()) {
            ui.ctx().request_repaint();
        }
    }
}
