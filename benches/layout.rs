//! Layout quality: edge crossings and total wire length of Auto layout for every bundled
//! example and template (`cargo bench --bench layout`). The figures are in docs/layout.md.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use netloom::design::{self, layout};

fn main() {
    println!("| design | blocks | wires | crossings | wire length | overlapping blocks |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut designs: Vec<(String, design::Design)> = netloom::examples::EXAMPLES
        .iter()
        .map(|(name, text)| ((*name).to_owned(), design::from_json(text).unwrap()))
        .collect();
    for (name, _) in design::templates::TEMPLATES {
        let input = if name == "lenet" {
            [1, 28, 28]
        } else {
            [3, 224, 224]
        };
        designs.push((
            format!("template {name}"),
            design::templates::template(name, input, 10).unwrap(),
        ));
    }
    for (name, mut d) in designs {
        layout::auto_layout(&mut d);
        let s = layout::measure(&d);
        println!(
            "| {name} | {} | {} | {} | {:.0} | {} |",
            d.nodes.len(),
            d.edges.len(),
            s.crossings,
            s.wire_length,
            s.overlaps
        );
    }
}
