//! Large, valid designs generated in code, for benchmarks and stress tests of the analysis.

use super::graph::Design;
use super::op::*;
use super::pair::Pair;

/// A ResNet-like tower: `blocks` residual blocks of conv → BN → ReLU → conv → BN → Add → ReLU
/// on 16×32×32 features, then global pooling and a 10-class head. It has `7 * blocks + 6`
/// nodes, so 142 blocks give 1,000.
pub fn residual_tower(blocks: usize) -> Design {
    let mut d = Design::default();
    let mut x_pos = 0.0f32;
    let mut next = |d: &mut Design, name: String, op: Op, from: &[super::NodeId]| {
        x_pos += 160.0;
        let id = d.add(name, op, [x_pos, 0.0]);
        for (port, &src) in from.iter().enumerate() {
            d.connect(src, id, port as u32);
        }
        id
    };
    let input = next(
        &mut d,
        "input".into(),
        Op::Input(InputOp::image(3, 32, 32)),
        &[],
    );
    let mut conv = Conv2d::new(16, 3);
    conv.padding = Pair::Same(1);
    let stem = next(&mut d, "stem".into(), Op::Conv2d(conv.clone()), &[input]);
    let mut x = stem;
    let relu = || Op::Activation(Activation::new(ActivationFn::Relu));
    let bn = || Op::BatchNorm(BatchNorm::default());
    for b in 0..blocks {
        let c1 = next(
            &mut d,
            format!("b{b}_conv1"),
            Op::Conv2d(conv.clone()),
            &[x],
        );
        let n1 = next(&mut d, format!("b{b}_bn1"), bn(), &[c1]);
        let r1 = next(&mut d, format!("b{b}_relu1"), relu(), &[n1]);
        let c2 = next(
            &mut d,
            format!("b{b}_conv2"),
            Op::Conv2d(conv.clone()),
            &[r1],
        );
        let n2 = next(&mut d, format!("b{b}_bn2"), bn(), &[c2]);
        let add = next(&mut d, format!("b{b}_add"), Op::Add(Merge {}), &[n2, x]);
        x = next(&mut d, format!("b{b}_relu2"), relu(), &[add]);
    }
    let pool = AdaptivePool2d {
        output_size: Pair::Same(1),
    };
    let p = next(&mut d, "pool".into(), Op::AdaptiveAvgPool2d(pool), &[x]);
    let f = next(&mut d, "flatten".into(), Op::Flatten(Flatten {}), &[p]);
    let fc = next(&mut d, "fc".into(), Op::Linear(Linear::new(10)), &[f]);
    next(
        &mut d,
        "output".into(),
        Op::Output(OutputOp::default()),
        &[fc],
    );
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thousand_node_tower_is_valid() {
        let d = residual_tower(142);
        assert_eq!(d.nodes.len(), 1000);
        let a = crate::design::analyse(&d);
        assert!(a.is_valid(), "{:?}", a.problems.first());
        assert_eq!(a.order.len(), 1000);
    }
}
