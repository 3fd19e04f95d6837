//! Layout quality: edge crossings and total wire length of Auto layout for every bundled
//! example and template (`cargo bench --bench layout`), the templates both with every block
//! drawn and grouped as they open. The figures are in docs/layout.md.
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
        let grouped = design::templates::template(name, input, 10).unwrap();
        // Every block drawn (the figures before groups existed), then as the template opens.
        let mut flat = grouped.clone();
        flat.groups.clear();
        designs.push((format!("template {name}"), flat));
        if !grouped.groups.is_empty() {
            designs.push((format!("template {name}, grouped"), grouped));
        }
    }
    for (name, mut d) in designs {
        layout::auto_layout(&mut d);
        let s = layout::measure(&d);
        // What the canvas shows: a collapsed group is one block.
        let hidden: usize = d
            .groups
            .iter()
            .filter(|g| g.collapsed)
            .map(|g| g.members.len() - 1)
            .sum();
        println!(
            "| {name} | {} | {} | {} | {:.0} | {} |",
            d.nodes.len() - hidden,
            s.wires,
            s.crossings,
            s.wire_length,
            s.overlaps
        );
    }
}
