//! The example designs in examples/, compiled into the binary so that the app always has its
//! default design and the templates, whatever the working directory.

/// `(file name, JSON text)` of every bundled example.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("lenet5.json", include_str!("../examples/lenet5.json")),
    (
        "two_layer_mlp.json",
        include_str!("../examples/two_layer_mlp.json"),
    ),
    ("vgg_small.json", include_str!("../examples/vgg_small.json")),
    (
        "resnet_mini.json",
        include_str!("../examples/resnet_mini.json"),
    ),
];

/// The design the app opens with: LeNet-5, the classic first CNN.
pub const DEFAULT_DESIGN: (&str, &str) = EXAMPLES[0];

#[cfg(test)]
mod tests {
    use super::EXAMPLES;
    use crate::design::{from_json, layout::auto_layout, to_json};

    /// The shipped examples are where Auto layout puts them: wires one way, no long diagonals
    /// between hand-made rows. `NETLOOM_LAY_OUT_EXAMPLES=1 cargo test --lib examples` rewrites
    /// them after a change to the layout or to an example.
    #[test]
    fn shipped_examples_are_laid_out_as_auto_layout_lays_them_out() {
        let write = std::env::var_os("NETLOOM_LAY_OUT_EXAMPLES").is_some();
        for (name, text) in EXAMPLES {
            let d = from_json(text).unwrap();
            let mut laid = d.clone();
            auto_layout(&mut laid);
            if write {
                let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
                std::fs::write(path, to_json(&laid)).unwrap();
                continue;
            }
            for (a, b) in d.nodes.iter().zip(&laid.nodes) {
                let moved = (a.pos[0] - b.pos[0]).abs() > 0.5 || (a.pos[1] - b.pos[1]).abs() > 0.5;
                assert!(
                    !moved,
                    "{name}: {} at {:?}, Auto layout puts it at {:?}",
                    a.name, a.pos, b.pos
                );
            }
        }
    }

    #[test]
    fn no_wire_runs_under_a_block_in_the_examples_or_the_templates() {
        let mut designs: Vec<(String, crate::design::Design)> = EXAMPLES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), crate::design::from_json(t).unwrap()))
            .collect();
        for (name, _) in crate::design::templates::TEMPLATES {
            let mut d = crate::design::templates::template(name, [3, 224, 224], 10).unwrap();
            // As it opens, collapsed.
            designs.push((format!("{name}, as it opens"), d.clone()));
            // Expanded, as a user reads a block's inside. A dense block wires each of its
            // layers to every later one (300 wires in DenseNet's third block), which this
            // straight-wire layout can't route clear of the blocks: DenseNet is checked as
            // it opens, with its dense blocks collapsed.
            if name == "densenet121" {
                continue;
            }
            for g in &mut d.groups {
                g.collapsed = false;
            }
            designs.push((format!("{name}, expanded"), d));
        }
        for (name, mut d) in designs {
            auto_layout(&mut d);
            let stats = crate::design::layout::measure(&d);
            assert_eq!(stats.under, 0, "{name}: {stats:?}");
            assert_eq!(stats.overlaps, 0, "{name}: {stats:?}");
        }
    }
}
