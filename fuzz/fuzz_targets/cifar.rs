//! A CIFAR-10 binary folder: data_batch_1.bin, test_batch.bin and batches.meta.txt cut from
//! the input. Its first two bytes give the training batch's length in whole 3,073-byte records
//! and a signed offset from that (so that truncated and overlong batches come up too); its third
//! byte gives the test batch's length in records.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "file.rs"]
mod file;

const RECORD: usize = 3073;

fuzz_target!(|bytes: &[u8]| {
    let Some((&[train, offset, test], rest)) = bytes.split_first_chunk::<3>() else {
        return;
    };
    let shifted = (usize::from(train) * RECORD).saturating_add_signed(isize::from(offset as i8));
    let a = shifted.min(rest.len());
    let b = (a + usize::from(test) * RECORD).min(rest.len());
    let batch = file::write("data_batch_1.bin", &rest[..a]);
    file::write("test_batch.bin", &rest[a..b]);
    file::write("batches.meta.txt", &rest[b..]);
    let dir = batch.parent().expect("the file's folder");
    let _ = netloom::data::load_cifar10(dir);
});
