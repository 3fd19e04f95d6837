//! Every example validates, and its parameter count equals the sum of `numel` over the
//! trainable variables of the same net built with tch's own layers.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;

use netloom::design::*;
use netloom::examples::EXAMPLES;
use tch::{Device, nn};

#[test]
fn examples_validate_and_their_parameter_counts_match_libtorch() {
    for (name, _) in EXAMPLES {
        let design = common::reference::example(name);
        let analysis = analyse(&design);
        assert!(analysis.is_valid(), "{name}: {:?}", analysis.problems);

        let vs = nn::VarStore::new(Device::Cpu);
        let results = common::reference::torch_results(&design, Some(&vs.root()));
        for r in &analysis.nodes {
            let ours: Vec<i64> = r
                .output
                .as_ref()
                .unwrap()
                .dims()
                .iter()
                .map(|&d| d as i64)
                .collect();
            assert_eq!(
                results[&r.id].as_ref().unwrap(),
                &ours,
                "{name}: {}",
                r.name
            );
        }
        let numel: i64 = vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum();
        assert_eq!(analysis.totals.params, numel as u64, "{name}");
        // The names are the state-dict keys a PyTorch user expects.
        let vars = vs.variables();
        for r in analysis.nodes.iter().filter(|r| r.params > 0) {
            assert!(
                vars.contains_key(&format!("{}.weight", r.name)),
                "{name}: {}.weight",
                r.name
            );
        }
    }
}

#[test]
fn lenet5_has_the_textbook_counts() {
    let a = analyse(&common::reference::example("lenet5.json"));
    assert_eq!(a.totals.params, 61_706);
    let shapes: Vec<String> = a
        .order
        .iter()
        .map(|&id| a.report(id).unwrap().output.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(
        shapes,
        [
            "1×28×28",
            "6×28×28",
            "6×28×28",
            "6×14×14",
            "16×10×10",
            "16×10×10",
            "16×5×5",
            "400",
            "120",
            "120",
            "84",
            "84",
            "10",
            "10"
        ]
    );
}
