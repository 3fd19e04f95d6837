//! A CIFAR-10 binary folder: the input is split into data_batch_1.bin, test_batch.bin and
//! batches.meta.txt at the offsets its first four bytes give.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "file.rs"]
mod file;

fuzz_target!(|bytes: &[u8]| {
    let Some((cut, rest)) = bytes.split_first_chunk::<4>() else {
        return;
    };
    let a = (usize::from(u16::from_le_bytes([cut[0], cut[1]])) * 61).min(rest.len());
    let b = (a + usize::from(u16::from_le_bytes([cut[2], cut[3]])) * 61).min(rest.len());
    let train = file::write("data_batch_1.bin", &rest[..a]);
    file::write("test_batch.bin", &rest[a..b]);
    file::write("batches.meta.txt", &rest[b..]);
    let dir = train.parent().expect("the file's folder");
    let _ = netloom::data::load_cifar10(dir);
});
