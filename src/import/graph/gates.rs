//! Activations the exporter writes as several ops, found before the graph is read: SiLU and
//! Hardswish as `x · gate(x)`, exact GELU as `x · ½ · (1 + erf(x / √2))`.

use super::attrs::{attr, attr_float};
use crate::design::ActivationFn;
use crate::import::tensors::read;
use crate::onnx_proto::{GraphProto, NodeProto, TensorProto};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The graph's wiring: which node gives each value, how many nodes read it, and its
/// constants by name.
struct Wiring<'g> {
    producer: HashMap<&'g str, &'g NodeProto>,
    consumers: HashMap<&'g str, Vec<usize>>,
    initializers: HashMap<&'g str, &'g TensorProto>,
}

impl<'g> Wiring<'g> {
    fn new(graph: &'g GraphProto) -> Self {
        let mut producer = HashMap::new();
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in graph.node.iter().enumerate() {
            for o in &n.output {
                producer.insert(o.as_str(), n);
            }
            for input in &n.input {
                consumers.entry(input.as_str()).or_default().push(i);
            }
        }
        for o in &graph.output {
            // The graph's output is read from outside: never absorbed.
            consumers
                .entry(o.name.as_str())
                .or_default()
                .push(usize::MAX);
        }
        let initializers = graph
            .initializer
            .iter()
            .map(|t| (t.name.as_str(), t))
            .collect();
        Wiring {
            producer,
            consumers,
            initializers,
        }
    }

    /// The one node reading `value`, when exactly one does.
    fn sole_reader(&self, value: &str) -> Option<usize> {
        match self.consumers.get(value).map(Vec::as_slice) {
            Some([i]) if *i != usize::MAX => Some(*i),
            _ => None,
        }
    }

    /// The value of a one-element constant (an initializer or a Constant node).
    fn scalar(&self, value: &str) -> Option<f64> {
        let tensor = match self.initializers.get(value) {
            Some(t) => *t,
            None => {
                let n = self.producer.get(value)?;
                if n.op_type != "Constant" {
                    return None;
                }
                if let Some(f) = attr(n, "value_float") {
                    return Some(f64::from(f.f));
                }
                attr(n, "value")?.t.as_ref()?
            }
        };
        read(tensor, Path::new("")).ok()?.scalar()
    }

    /// Whether `value` is a constant equal to `want` (to f32 precision).
    fn is(&self, value: &str, want: f64) -> bool {
        self.scalar(value)
            .is_some_and(|v| (v - want).abs() <= 1e-6 * want.abs().max(1.0))
    }
}

/// The other input of a binary node, given one of them.
fn other<'n>(n: &'n NodeProto, one: &str) -> Option<&'n str> {
    match n.input.as_slice() {
        [a, b] if a == one => Some(b),
        [a, b] if b == one => Some(a),
        _ => None,
    }
}

/// Finds exact GELU as PyTorch's exporter writes it before opset 20 (`Div(x, √2)`, or
/// netloom's `Mul(x, 1/√2)`, → Erf → Add 1 → the product with `x` and ½ in either order):
/// the node giving the result → (GELU, `x`), and the intermediate values it absorbs.
fn find_gelus(
    graph: &GraphProto,
    w: &Wiring<'_>,
    fused: &mut HashMap<usize, (ActivationFn, String)>,
    absorbed: &mut HashSet<String>,
) {
    let half = 0.5;
    let root2 = std::f64::consts::SQRT_2;
    for erf in graph.node.iter().filter(|n| n.op_type == "Erf") {
        let (Some(scaled), Some(e)) = (erf.input.first(), erf.output.first()) else {
            continue;
        };
        let Some(scale) = w.producer.get(scaled.as_str()) else {
            continue;
        };
        let x = match (scale.op_type.as_str(), scale.input.as_slice()) {
            ("Div", [x, c]) if w.is(c, root2) => x,
            ("Mul", [x, c]) | ("Mul", [c, x]) if w.is(c, 1.0 / root2) => x,
            _ => continue,
        };
        let Some(add) = w.sole_reader(e).map(|i| &graph.node[i]) else {
            continue;
        };
        let plus1 = match (add.op_type.as_str(), other(add, e), add.output.first()) {
            ("Add", Some(c), Some(out)) if w.is(c, 1.0) => out,
            _ => continue,
        };
        let Some(m1i) = w.sole_reader(plus1) else {
            continue;
        };
        let m1 = &graph.node[m1i];
        let (Some(partner), Some(m1_out)) = (other(m1, plus1), m1.output.first()) else {
            continue;
        };
        if m1.op_type != "Mul" || w.sole_reader(scaled).is_none() {
            continue;
        }
        let mut inner = vec![scaled.clone(), e.clone(), plus1.clone()];
        // (a) m1 = x · (1 + erf), then · ½; (b) m1 = (1 + erf) · ½, then · x;
        // (c) m1 = (½x) · (1 + erf), ½x read by m1 alone.
        let result = if partner == x || w.is(partner, half) {
            let want_last = if partner == x { None } else { Some(x.as_str()) };
            let Some(m2i) = w.sole_reader(m1_out) else {
                continue;
            };
            let m2 = &graph.node[m2i];
            let ok = m2.op_type == "Mul"
                && match (other(m2, m1_out), want_last) {
                    (Some(o), None) => w.is(o, half),
                    (Some(o), Some(x)) => o == x,
                    _ => false,
                };
            if !ok {
                continue;
            }
            inner.push(m1_out.clone());
            m2i
        } else {
            let Some(h) = w.producer.get(partner) else {
                continue;
            };
            let halves_x = h.op_type == "Mul"
                && other(h, x).is_some_and(|c| w.is(c, half))
                && w.sole_reader(partner) == Some(m1i);
            if !halves_x {
                continue;
            }
            inner.push(partner.to_owned());
            m1i
        };
        fused.insert(result, (ActivationFn::Gelu, x.clone()));
        absorbed.extend(inner);
    }
}

/// Finds `x · sigmoid(x)` (SiLU) and `x · hardsigmoid(x)` (Hardswish, before opset 14): the
/// gate's output feeding nothing but the Mul; and exact GELU ([`find_gelus`]).
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
    find_gelus(graph, &Wiring::new(graph), &mut fused, &mut absorbed);
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
