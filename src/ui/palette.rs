//! The palette: the block catalogue, searchable, each entry with its explanation on hover.

use crate::design::catalogue::{Block, search};

/// Shows the palette; returns the block clicked.
pub fn show(ui: &mut egui::Ui, query: &mut String) -> Option<&'static Block> {
    ui.heading("Blocks");
    ui.horizontal(|ui| {
        let label = ui.label("Search");
        ui.add(
            egui::TextEdit::singleline(query)
                .hint_text("e.g. pooling")
                .desired_width(110.0),
        )
        .labelled_by(label.id);
    });
    let mut picked = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        let mut group = "";
        for block in search(query) {
            if block.group != group {
                group = block.group;
                ui.add_space(4.0);
                ui.label(egui::RichText::new(group).strong());
            }
            if ui.button(block.label).on_hover_text(block.help).clicked() {
                picked = Some(block);
            }
        }
    });
    picked
}
