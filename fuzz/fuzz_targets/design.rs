//! The design loader and everything `check` runs on what it loads: shape inference, parameter
//! and memory counts, the problems list, the training settings' problems, and writing it back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(design) = netloom::design::from_json(text) {
        let analysis = netloom::design::analyse(&design);
        let _ = netloom::design::training_memory(&analysis.nodes, design.training.batch_size);
        let _ = design.training.problems();
        let again = netloom::design::to_json(&design);
        // What netloom writes it must read back.
        assert!(netloom::design::from_json(&again).is_ok(), "{again}");
    }
});
