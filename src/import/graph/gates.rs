//! Activations the exporter writes as two ops, found before the graph is read.

use super::attrs::attr_float;
use crate::design::ActivationFn;
use crate::onnx_proto::{GraphProto, NodeProto};
use std::collections::{HashMap, HashSet};

/// Finds `x · sigmoid(x)` (SiLU) and `x · hardsigmoid(x)` (Hardswish, before opset 14): the
/// gate's output feeding nothing but the Mul.
pub(super) fn find_gates(
    graph: &GraphProto,
) -> (HashMap<usize, (ActivationFn, String)>, HashSet<String>) {
    let mut producer: HashMap<&str, &NodeProto> = HashMap::new();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for n in &graph.node {
        for o in &n.output {
            producer.insert(o, n);
        }
        for i in &n.input {
            *uses.entry(i.as_str()).or_default() += 1;
        }
    }
    for o in &graph.output {
        *uses.entry(o.name.as_str()).or_default() += 1;
    }
    let mut fused = HashMap::new();
    let mut absorbed = HashSet::new();
    for (i, n) in graph.node.iter().enumerate() {
        if n.op_type != "Mul" || n.input.len() != 2 {
            continue;
        }
        for (g, x) in [(&n.input[0], &n.input[1]), (&n.input[1], &n.input[0])] {
            let Some(gate) = producer.get(g.as_str()) else {
                continue;
            };
            let f = match gate.op_type.as_str() {
                "Sigmoid" => ActivationFn::Silu,
                "HardSigmoid"
                    if (attr_float(gate, "alpha", 0.2) - 1.0 / 6.0).abs() < 1e-6
                        && (attr_float(gate, "beta", 0.5) - 0.5).abs() < 1e-6 =>
                {
                    ActivationFn::Hardswish
                }
                _ => continue,
            };
            if gate.input.first() == Some(x) && uses.get(g.as_str()) == Some(&1) {
                fused.insert(i, (f, x.clone()));
                absorbed.insert(g.clone());
                break;
            }
        }
    }
    (fused, absorbed)
}
