//! Each augmentation does what it must, reproducibly, and the preview shows it.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap

use netloom::data::augment::*;
use netloom::data::*;
use netloom::design::{Augment, Shape};
use tch::{Device, Kind, Tensor};

fn batch(n: i64, c: i64, h: i64, w: i64) -> Tensor {
    tch::manual_seed(0);
    Tensor::rand([n, c, h, w], (Kind::Float, Device::Cpu)) * 0.4 + 0.3
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn run(ops: Vec<Augment>, x: &Tensor, seed: u64) -> Tensor {
    Augmenter::new(ops, None).unwrap().apply(x, seed).unwrap()
}

#[test]
fn flips_mirror_exactly() {
    let x = batch(4, 3, 5, 7);
    assert_eq!(
        max_diff(
            &run(vec![Augment::HorizontalFlip { p: 1.0 }], &x, 1),
            &x.flip([3])
        ),
        0.0
    );
    assert_eq!(
        max_diff(
            &run(vec![Augment::VerticalFlip { p: 1.0 }], &x, 1),
            &x.flip([2])
        ),
        0.0
    );
    assert_eq!(
        max_diff(&run(vec![Augment::HorizontalFlip { p: 0.0 }], &x, 1), &x),
        0.0
    );
}

#[test]
fn a_90_degree_rotation_is_a_transpose_and_a_flip() {
    let x = batch(2, 3, 8, 8);
    let r = warp(&x, &[rotation(90.0, 8, 8); 2], &[0.0, 0.0]).unwrap();
    assert!(max_diff(&r, &x.transpose(2, 3).flip([3])) < 1e-5);
    let back = warp(&r, &[rotation(-90.0, 8, 8); 2], &[0.0, 0.0]).unwrap();
    assert!(max_diff(&back, &x) < 1e-5);
}

#[test]
fn zero_strength_operations_are_the_identity() {
    let x = batch(3, 3, 9, 6);
    let ops = vec![
        Augment::Rotate {
            p: 1.0,
            degrees: 0.0,
        },
        Augment::Scale {
            p: 1.0,
            min: 1.0,
            max: 1.0,
            aspect: 0.0,
        },
        Augment::Shear {
            p: 1.0,
            degrees: 0.0,
        },
        Augment::Translate {
            p: 1.0,
            fraction: 0.0,
        },
        Augment::Lens { p: 1.0, k: 0.0 },
        Augment::RandomCrop { p: 1.0, padding: 0 },
        Augment::Noise { p: 1.0, std: 0.0 },
        Augment::Brightness { p: 1.0, delta: 0.0 },
        Augment::Contrast {
            p: 1.0,
            factor: 0.0,
        },
        Augment::Saturation {
            p: 1.0,
            factor: 0.0,
        },
        Augment::Hue { p: 1.0, delta: 0.0 },
    ];
    assert!(max_diff(&run(ops, &x, 3), &x) < 1e-5);
}

#[test]
fn every_operation_changes_the_image_and_a_seed_reproduces_it() {
    let x = batch(4, 3, 16, 16);
    let ops = [
        Augment::Rotate {
            p: 1.0,
            degrees: 30.0,
        },
        Augment::Scale {
            p: 1.0,
            min: 0.7,
            max: 0.8,
            aspect: 0.2,
        },
        Augment::Shear {
            p: 1.0,
            degrees: 20.0,
        },
        Augment::Translate {
            p: 1.0,
            fraction: 0.2,
        },
        Augment::Lens { p: 1.0, k: 0.5 },
        Augment::RandomCrop { p: 1.0, padding: 4 },
        Augment::Cutout {
            p: 1.0,
            min: 0.3,
            max: 0.5,
        },
        Augment::Noise { p: 1.0, std: 0.1 },
        Augment::Brightness { p: 1.0, delta: 0.2 },
        Augment::Contrast {
            p: 1.0,
            factor: 0.5,
        },
        Augment::Saturation {
            p: 1.0,
            factor: 0.5,
        },
        Augment::Hue { p: 1.0, delta: 0.3 },
    ];
    for op in ops {
        let a = run(vec![op], &x, 7);
        assert!(max_diff(&a, &x) > 0.01, "{op:?} changed nothing");
        assert_eq!(
            max_diff(&a, &run(vec![op], &x, 7)),
            0.0,
            "{op:?} is not reproducible"
        );
        assert!(
            max_diff(&a, &run(vec![op], &x, 8)) > 0.0,
            "{op:?} ignores the seed"
        );
    }
}

#[test]
fn pca_colour_shifts_whole_channels_and_keeps_structure() {
    // A small RGB dataset with correlated channels, so the colour basis is non-trivial.
    let n = 64usize;
    let mut px = Vec::with_capacity(n * 3 * 64);
    for i in 0..n {
        for c in 0..3 {
            for p in 0..64 {
                px.push((60 + (i * 7 + p * 3 + c * 20) % 120) as u8);
            }
        }
    }
    let ds = Dataset {
        table: None,
        quantity: None,
        name: "rgb".into(),
        shape: Shape::image(3, 8, 8),
        classes: vec!["a".into()],
        train: Split {
            masks: Vec::new(),
            values: Vec::new(),
            samples: Samples::U8(px.clone()),
            labels: vec![0; n],
        },
        val: Split {
            masks: Vec::new(),
            values: Vec::new(),
            samples: Samples::U8(px),
            labels: vec![0; n],
        },
        skipped: vec![],
        notes: Vec::new(),
    };
    let basis = ColorBasis::fit(&ds).unwrap().unwrap();
    assert!(basis.eigenvalues.iter().all(|&l| l >= 0.0));
    let aug = Augmenter::new(vec![Augment::PcaColor { p: 1.0, std: 0.5 }], Some(basis)).unwrap();
    let x = batch(4, 3, 8, 8);
    let diff = aug.apply(&x, 2).unwrap() - &x;
    // The same offset on every pixel of a channel: the image's structure is untouched.
    let spread = diff
        .view([4, 3, 64])
        .std_dim(&[2i64][..], false, false)
        .max()
        .double_value(&[]);
    assert!(spread < 1e-6, "{spread}");
    assert!(
        diff.abs().max().double_value(&[]) > 1e-4,
        "it must shift the colour"
    );

    let no_basis = Augmenter::new(vec![Augment::PcaColor { p: 1.0, std: 0.1 }], None).unwrap();
    assert!(
        no_basis
            .apply(&x, 1)
            .unwrap_err()
            .to_string()
            .contains("colour basis")
    );
}

#[test]
fn the_preview_gives_rgba_pairs_of_what_the_network_sees() {
    let ds = fashion_mnist_builtin().unwrap();
    let aug = Augmenter::new(vec![Augment::HorizontalFlip { p: 1.0 }], None).unwrap();
    let pairs = preview(&ds, &aug, 6, 0).unwrap();
    assert_eq!(pairs.len(), 6);
    let (orig, flipped) = &pairs[0];
    assert_eq!(
        (orig.width, orig.height, orig.pixels.len()),
        (28, 28, 28 * 28 * 4)
    );
    // Gray replicated to RGB, opaque, and mirrored.
    assert_eq!(
        orig.pixels[4 * 5..4 * 5 + 4],
        [orig.pixels[20], orig.pixels[20], orig.pixels[20], 255]
    );
    let px = |img: &Rgba, x: usize, y: usize| img.pixels[(y * 28 + x) * 4];
    assert!((0..28).all(|y| (0..28).all(|x| px(orig, x, y) == px(flipped, 27 - x, y))));
    assert_eq!(
        orig.pixels[..],
        ds.train
            .image(0, 784)
            .unwrap()
            .iter()
            .flat_map(|&v| [v, v, v, 255])
            .collect::<Vec<_>>()[..]
    );
}

#[test]
fn bad_settings_are_refused_with_the_range() {
    let e = Augmenter::new(
        vec![Augment::Rotate {
            p: 1.5,
            degrees: 10.0,
        }],
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("p is 1.5; use a probability from 0 to 1"), "{e}");
    let e = Augmenter::new(
        vec![Augment::Scale {
            p: 1.0,
            min: 1.2,
            max: 1.1,
            aspect: 0.0,
        }],
        None,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "augmentation: scale max is 1.1; use a value from 1.2 to 10"
    );
}

#[test]
fn malformed_batches_are_refused_not_panicked_on() {
    let x = batch(2, 3, 4, 4);
    assert!(
        warp(&x, &[IDENTITY], &[0.0, 0.0])
            .unwrap_err()
            .to_string()
            .contains("one matrix and one lens strength per image")
    );
    assert!(warp(&x.view([2, 48]), &[IDENTITY; 2], &[0.0; 2]).is_err());
    assert!(
        to_rgba(&batch(1, 4, 2, 2))
            .unwrap_err()
            .to_string()
            .contains("1 or 3 channels")
    );
    let aug = Augmenter::new(vec![Augment::HorizontalFlip { p: 1.0 }], None).unwrap();
    assert!(aug.apply(&x.view([2, 48]), 0).is_err());
}
