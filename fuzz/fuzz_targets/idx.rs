//! IDX files (MNIST's format), plain or gzipped; the first byte picks labels (1-d) or images
//! (3-d), the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&pick, file)) = bytes.split_first() else {
        return;
    };
    let ndims = if pick % 2 == 0 { 1 } else { 3 };
    let path = std::path::Path::new("fuzz.idx");
    let _ = netloom::data::decode_idx(file.to_vec(), ndims, path);
});
