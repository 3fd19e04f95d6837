//! How long datasets take to load: the built-in subset and, when Debian's
//! `dataset-fashion-mnist` is installed, the full Fashion-MNIST (target: under 1 s); and a
//! generated folder of 10,000 JPEGs, decoded on all cores.
//! Run with `cargo bench --bench data_load`.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a bench prints its results
use netloom::data::{DataSpec, Fit, FolderOptions, fashion_mnist_builtin, load_folder};
use std::path::Path;
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
    let dir = std::env::temp_dir().join("netloom-bench-10k-jpegs");
    make_jpegs(&dir);
    let options = FolderOptions {
        target: Some((3, 32, 32)),
        fit: Fit::Resize,
        ..FolderOptions::default()
    };
    time(
        &format!(
            "10,000 JPEGs (48×40 → 32×32), {} threads",
            rayon::current_num_threads()
        ),
        3,
        || {
            load_folder(&dir, &options, &|_, _| {})
                .map(|d| d.train.len() + d.val.len())
                .unwrap_or(0)
        },
    );
}

/// 10 classes × 1,000 small JPEGs, made once and kept in the temp dir between runs.
fn make_jpegs(dir: &Path) {
    if dir.join("class9/999.jpg").is_file() {
        return;
    }
    for class in 0..10u32 {
        let sub = dir.join(format!("class{class}"));
        std::fs::create_dir_all(&sub).expect("temp dir");
        for i in 0..1000u32 {
            let img = image::RgbImage::from_fn(48, 40, |x, y| {
                image::Rgb([
                    (x * 5 + class * 20) as u8,
                    (y * 6 + i) as u8,
                    ((x + y + i) * 3) as u8,
                ])
            });
            img.save(sub.join(format!("{i}.jpg"))).expect("write jpeg");
        }
    }
}
