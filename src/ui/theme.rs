//! Colours and spacing in one place, so every panel speaks the same visual language.
use egui::Color32;

/// Errors and invalid nodes.
pub const ERROR: Color32 = Color32::from_rgb(0xE0, 0x50, 0x50);
/// A valid design.
pub const OK: Color32 = Color32::from_rgb(0x4C, 0xAF, 0x50);
/// Secondary text such as parameter counts.
pub const MUTED: Color32 = Color32::from_gray(150);
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
