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
    let blocks: Vec<&'static Block> = search(query).collect();
    egui::ScrollArea::vertical().show(ui, |ui| {
        // Each group's blocks flow in rows, as many to a row as fit: the whole catalogue in
        // view at 1280×720, where one per row needed scrolling for Linear.
        for group in blocks.chunk_by(|a, b| a.group == b.group) {
            ui.add_space(4.0);
            ui.label(egui::RichText::new(group[0].group).strong());
            ui.horizontal_wrapped(|ui| {
                for block in group {
                    if entry(ui, block) {
                        picked = Some(*block);
                    }
                }
            });
        }
    });
    picked
}

/// One block's button, its explanation on hover (with the curve, for an activation); true
/// when clicked.
fn entry(ui: &mut egui::Ui, block: &'static Block) -> bool {
    let button = ui.button(block.label);
    let button = match (block.make)() {
        crate::design::Op::Activation(a) => button.on_hover_ui(|ui| {
            ui.set_max_width(260.0);
            ui.label(block.help);
            super::activation_plot::show(
                ui,
                &format!("palette_{}", block.label),
                &a,
                egui::vec2(240.0, 140.0),
            );
        }),
        _ => button.on_hover_text(block.help),
    };
    button.clicked()
}
