//! Masks drawn over their images for people: the data panel's preview and the Train view's
//! validation overlays.

use super::IGNORE;
use crate::data::augment::Rgba;

/// The colour a class is drawn in over its pixels (repeating after twelve classes); class 0,
/// most often the background, is drawn in none.
pub const CLASS_COLOURS: [[u8; 3]; 12] = [
    [0, 0, 0],
    [250, 220, 40],
    [40, 220, 220],
    [230, 60, 230],
    [60, 200, 90],
    [250, 130, 40],
    [230, 60, 60],
    [60, 120, 230],
    [150, 230, 60],
    [240, 110, 180],
    [120, 90, 40],
    [160, 160, 255],
];

/// What ignored pixels are tinted (as Pascal VOC draws its outlines).
const IGNORED_COLOUR: [u8; 3] = [235, 235, 225];

/// `image` with each pixel of `mask` (a class per pixel) tinted its class's colour, half and
/// half (ignored pixels near-white); background (class 0) is left as it is.
pub fn overlay(image: &Rgba, mask: &[u8]) -> Rgba {
    let mut out = image.clone();
    for (px, &c) in out.pixels.chunks_exact_mut(4).zip(mask) {
        if c == 0 {
            continue;
        }
        let colour = if c == IGNORE {
            IGNORED_COLOUR
        } else {
            CLASS_COLOURS[usize::from(c) % CLASS_COLOURS.len()]
        };
        for (v, t) in px.iter_mut().zip(colour) {
            *v = ((u16::from(*v) + u16::from(t)) / 2) as u8;
        }
    }
    out
}
