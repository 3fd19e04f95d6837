//! NumPy .npy arrays (the inputs of `netloom forward`), and writing back what was read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(array) = netloom::engine::npy::parse(bytes) {
        let again = netloom::engine::npy::encode(&array);
        assert!(netloom::engine::npy::parse(&again).is_ok());
    }
});
