//! PyTorch .pt/.pth files (torch.save's zip of a pickle and storage records), read as pretrained
//! weights are: every tensor, then only those a design would want.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "file.rs"]
mod file;

fuzz_target!(|bytes: &[u8]| {
    let path = file::write("weights.pth", bytes);
    let _ = netloom::engine::read_weights(&path);
    let _ = netloom::engine::read_weights_wanted(&path, &|name| name.ends_with(".weight"));
});
