//! Augmented images per second: netloom's batched augmentation against
//! torchvision.transforms.v2 doing the same operations on the same kind of batch, both run by
//! this one command so the ratio is measured side by side.
//!
//! Needs torchvision 0.26.0 beside the provisioned torch:
//! `pip install --target ~/.cache/netloom/torchvision-0.26.0/site-packages --no-deps torchvision==0.26.0 numpy pillow`
//! Run with `cargo bench --bench augment`.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a bench prints its results
use netloom::data::augment::Augmenter;
use netloom::design::Augment;
use std::process::Command;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

const ITERS: u64 = 20;

fn main() {
    tch::manual_seed(0);
    let batch = Tensor::rand([256, 3, 32, 32], (Kind::Float, Device::Cpu));
    // The operations torchvision's pipeline in scripts/bench-augment-torchvision.py has.
    let ops = vec![
        Augment::HorizontalFlip { p: 0.5 },
        Augment::Rotate {
            p: 1.0,
            degrees: 15.0,
        },
        Augment::Translate {
            p: 1.0,
            fraction: 0.1,
        },
        Augment::Scale {
            p: 1.0,
            min: 0.9,
            max: 1.1,
            aspect: 0.0,
        },
        Augment::Shear {
            p: 1.0,
            degrees: 10.0,
        },
        Augment::Brightness { p: 1.0, delta: 0.2 },
        Augment::Contrast {
            p: 1.0,
            factor: 0.2,
        },
        Augment::Saturation {
            p: 1.0,
            factor: 0.2,
        },
        Augment::Hue {
            p: 1.0,
            delta: 0.05,
        },
        Augment::Noise { p: 1.0, std: 0.02 },
        Augment::Cutout {
            p: 0.5,
            min: 0.2,
            max: 0.4,
        },
    ];
    let aug = Augmenter::new(ops, None).expect("valid pipeline");
    let _ = aug.apply(&batch, 0).expect("warm-up");
    let start = Instant::now();
    for seed in 0..ITERS {
        let _ = aug.apply(&batch, seed).expect("augment");
    }
    let ours = (ITERS * 256) as f64 / start.elapsed().as_secs_f64();
    println!(
        "netloom (per-image parameters)   {ours:>10.0} images/s   (torch threads {})",
        tch::get_num_threads()
    );

    let home = std::env::var("HOME").unwrap_or_default();
    let tv = format!("{home}/.cache/netloom/torchvision-0.26.0/site-packages");
    let torch = std::env::var("NETLOOM_TORCH_SITE").unwrap_or_default();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/bench-augment-torchvision.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg("5")
        .env("PYTHONPATH", format!("{tv}:{torch}"))
        .output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            println!(
                "torchvision: not run ({})",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            return;
        }
        Err(e) => {
            println!("torchvision: not run ({e})");
            return;
        }
    };
    let rate = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    if let (Some(per_image), Some(batched)) =
        (rate("torchvision per_image"), rate("torchvision batched"))
    {
        println!(
            "torchvision v2, per image        {per_image:>10.0} images/s   → netloom is {:.1}×",
            ours / per_image
        );
        println!(
            "torchvision v2, whole batch      {batched:>10.0} images/s   → netloom is {:.2}× (but torchvision gives every image the same parameters)",
            ours / batched
        );
    }
}
