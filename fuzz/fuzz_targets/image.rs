//! One image of an image folder, decoded with the folder's limits: as it is, and fitted to a
//! small input shape the first byte picks (1 or 3 channels, resized or centre-cropped).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netloom::data::{Fit, decode_image};

fuzz_target!(|bytes: &[u8]| {
    let Some((&pick, file)) = bytes.split_first() else {
        return;
    };
    let _ = decode_image(file, None, Fit::Exact);
    let channels = if pick & 1 == 0 { 1 } else { 3 };
    let side = u64::from(pick >> 4) + 1;
    let fit = if pick & 2 == 0 { Fit::Resize } else { Fit::CenterCrop };
    let _ = decode_image(file, Some((channels, side, side)), fit);
});
