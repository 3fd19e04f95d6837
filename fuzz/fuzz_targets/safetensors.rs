//! .safetensors files, read as pretrained weights and checkpoints are.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "file.rs"]
mod file;

fuzz_target!(|bytes: &[u8]| {
    let path = file::write("weights.safetensors", bytes);
    let _ = netloom::engine::read_weights(&path);
});
