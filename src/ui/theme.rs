//! Colours and spacing in one place, so every panel speaks the same visual language.
use crate::design::{Family, Op};
use egui::Color32;

/// Errors and invalid nodes.
pub const ERROR: Color32 = Color32::from_rgb(0xE0, 0x50, 0x50);
/// A valid design.
pub const OK: Color32 = Color32::from_rgb(0x4C, 0xAF, 0x50);
/// Secondary text such as parameter counts: light enough to read on a block (≥ 4.5:1).
pub const MUTED: Color32 = Color32::from_gray(165);
/// Something the user should know but that doesn't stop them (files a dataset skipped).
pub const WARNING: Color32 = Color32::from_rgb(0xE8, 0xB0, 0x40);
/// A block's kind beside its name (`Conv2d`): quieter than the name, still readable.
pub const KIND: Color32 = Color32::from_gray(175);
/// Room between a block's output shape and its pin, so the pin never covers the text.
pub const PIN_GAP: f32 = 8.0;
/// Tensor shapes written on wires.
pub const WIRE_LABEL: Color32 = Color32::from_rgb(0x6A, 0xA8, 0xD8);
/// Pins.
pub const PIN: Color32 = Color32::from_rgb(0x90, 0xB8, 0xE0);
/// The outline of the block the inspector shows.
pub const FOCUS: Color32 = Color32::from_rgb(0xE8, 0xB0, 0x40);
/// Frozen blocks (not trained while fine-tuning): an icy tint.
pub const FROZEN: Color32 = Color32::from_rgb(0x7F, 0xC8, 0xF0);
/// The fill of a frozen block.
pub const FROZEN_FILL: Color32 = Color32::from_rgb(0x1E, 0x2C, 0x3A);

/// A block kind's colour in the zoomed-out overview, by family: convolution blue, pooling
/// teal, normalisation and dropout violet, activation orange, dense green, merge yellow,
/// input/output grey.
pub fn kind_colour(op: &Op) -> Color32 {
    match op.family() {
        Family::Convolution => Color32::from_rgb(0x3D, 0x7E, 0xC8),
        Family::Pooling => Color32::from_rgb(0x2E, 0x9E, 0x96),
        Family::Normalisation => Color32::from_rgb(0x8A, 0x63, 0xC8),
        Family::Dense => Color32::from_rgb(0x4C, 0xA0, 0x50),
        Family::Merge => Color32::from_rgb(0xC8, 0xA8, 0x30),
        Family::InputOutput => Color32::from_gray(120),
        Family::Activation => Color32::from_rgb(0xD0, 0x78, 0x30),
    }
}

/// A group: the fill of its collapsed block, and its frame when expanded.
pub const GROUP: Color32 = Color32::from_rgb(0x2A, 0x33, 0x48);
/// The outline and title of an expanded group's frame.
pub const GROUP_EDGE: Color32 = Color32::from_rgb(0x8C, 0x9C, 0xC8);

/// One colour per run, the same in every plot (Tableau 10, readable on dark): run `i` of the
/// session gets `RUNS[i % 10]`.
pub const RUNS: [Color32; 10] = [
    Color32::from_rgb(0x4E, 0x79, 0xA7),
    Color32::from_rgb(0xF2, 0x8E, 0x2B),
    Color32::from_rgb(0x59, 0xA1, 0x4F),
    Color32::from_rgb(0xE1, 0x57, 0x59),
    Color32::from_rgb(0xB0, 0x7A, 0xA1),
    Color32::from_rgb(0x76, 0xB7, 0xB2),
    Color32::from_rgb(0xED, 0xC9, 0x48),
    Color32::from_rgb(0xFF, 0x9D, 0xA7),
    Color32::from_rgb(0x9C, 0x75, 0x5F),
    Color32::from_rgb(0xBA, 0xB0, 0xAC),
];

/// The colour of run `i` of the session.
pub fn run_colour(i: usize) -> Color32 {
    RUNS[i % RUNS.len()]
}
