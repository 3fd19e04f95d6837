//! How long datasets take to load: the built-in subset and, when Debian's
//! `dataset-fashion-mnist` is installed, the full Fashion-MNIST (target: under 1 s).
//! Run with `cargo bench --bench data_load`.
use netloom::data::{DataSpec, FolderOptions, fashion_mnist_builtin};
use std::time::Instant;

fn time(label: &str, runs: usize, mut f: impl FnMut() -> usize) {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let n = f();
            assert!(n > 0);
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{label:<46} median {:>7.1} ms   min {:>7.1} ms   ({runs} runs)",
        times[runs / 2] * 1e3,
        times[0] * 1e3
    );
}

fn main() {
    time("built-in Fashion-MNIST subset (12k images)", 7, || {
        fashion_mnist_builtin()
            .map(|d| d.train.len() + d.val.len())
            .unwrap_or(0)
    });
    let full = "/usr/share/datasets/fashion-mnist";
    if std::path::Path::new(full).is_dir() {
        let spec = DataSpec::parse(full).expect("detected as IDX");
        time("full Fashion-MNIST from Debian (70k images)", 5, || {
            spec.load(&FolderOptions::default())
                .map(|d| d.train.len() + d.val.len())
                .unwrap_or(0)
        });
    } else {
        println!("full Fashion-MNIST: not installed (apt-get install dataset-fashion-mnist)");
    }
}
