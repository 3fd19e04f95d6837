//! How long `design::analyse` takes on a generated 1,000-node design: the canvas re-runs it on
//! every edit, so the target is under 1 ms. Run with `cargo bench --bench analyse`.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a bench prints its results
use netloom::design::{analyse, from_json, generate, to_json};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn measure(label: &str, runs: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..runs / 10 {
        f(); // warm-up
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    let median = times[runs / 2];
    let p90 = times[runs * 9 / 10];
    println!(
        "{label:<40} median {:>9.1} µs   p90 {:>9.1} µs   ({runs} runs)",
        micros(median),
        micros(p90)
    );
    median
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    for blocks in [14, 142] {
        let design = generate::residual_tower(blocks);
        let n = design.nodes.len();
        assert!(analyse(&design).is_valid());
        let median = measure(&format!("analyse, {n} nodes"), 500, || {
            black_box(analyse(black_box(&design)));
        });
        if n == 1000 {
            let verdict = if median < Duration::from_millis(1) {
                "under"
            } else {
                "OVER"
            };
            println!(
                "  → {verdict} the 1 ms budget ({:.2} of it)",
                micros(median) / 1000.0
            );
        }
        let text = to_json(&design);
        measure(
            &format!("to_json, {n} nodes ({} kB)", text.len() / 1000),
            100,
            || {
                black_box(to_json(black_box(&design)));
            },
        );
        measure(&format!("from_json, {n} nodes"), 100, || {
            black_box(from_json(black_box(&text)).ok());
        });
    }
    // Groups: reading a file checks every group against the nodes and the other groups. That
    // was quadratic (100,000 empty groups: 104 s); it must grow linearly.
    for groups in [20_000usize, 200_000] {
        let mut design = generate::residual_tower(14);
        design.groups = (0..groups)
            .map(|i| netloom::design::Group {
                id: netloom::design::GroupId(i as u64 + 1),
                name: format!("g{i}"),
                kind: "Group".to_owned(),
                members: Vec::new(),
                collapsed: false,
                pos: [0.0; 2],
            })
            .collect();
        let text = to_json(&design);
        measure(
            &format!("from_json, {groups} groups ({} MB)", text.len() / 1_000_000),
            5,
            || {
                black_box(from_json(black_box(&text)).ok());
            },
        );
        measure(&format!("analyse, {groups} groups"), 5, || {
            black_box(analyse(black_box(&design)));
        });
    }
}
