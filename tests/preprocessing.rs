//! Preprocessing is fitted on the training split only and does what its name says.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap

use netloom::data::rng::Rng;
use netloom::data::*;
use netloom::design::{Preprocessing, Shape};
use tch::{Kind, Tensor};

/// Correlated Gaussian data: x = A·z with a fixed, well-conditioned mixing matrix (2·I plus
/// noise), so the covariance is far from the identity but has no near-zero direction.
fn correlated(n: usize, d: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let a: Vec<f64> = (0..d * d)
        .map(|i| rng.normal() + if i % (d + 1) == 0 { 2.0 } else { 0.0 })
        .collect();
    let mut sample = |n: usize| {
        let mut v = Vec::with_capacity(n * d);
        for _ in 0..n {
            let z: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            for r in 0..d {
                v.push((3.0 + (0..d).map(|c| a[r * d + c] * z[c]).sum::<f64>()) as f32);
            }
        }
        Split {
            masks: Vec::new(),
            values: Vec::new(),
            samples: Samples::F32(v),
            labels: vec![0; n],
        }
    };
    let (train, val) = (sample(n), sample(n / 4));
    Dataset {
        table: None,
        quantity: None,
        name: "synthetic".into(),
        shape: Shape::vector(d as u64),
        classes: vec!["a".into()],
        train,
        val,
        skipped: vec![],
        notes: Vec::new(),
    }
}

fn covariance(x: &Tensor) -> Tensor {
    let x = x.to_kind(Kind::Double);
    let xc = &x - x.mean_dim(0, true, Kind::Double);
    xc.tr().matmul(&xc) / (x.size()[0] as f64)
}

fn max_abs(t: &Tensor) -> f64 {
    t.abs().max().double_value(&[])
}

#[test]
fn whitening_gives_identity_covariance_on_the_training_split() {
    let ds = correlated(20_000, 8, 1);
    let x = split_tensor(&ds.train, 8).unwrap();
    assert!(max_abs(&(covariance(&x) - Tensor::eye(8, (Kind::Double, tch::Device::Cpu)))) > 1.0);
    // A tiny epsilon: with epsilon e, each direction of variance λ comes out with λ/(λ+e).
    for method in [
        Preprocessing::PcaWhiten { epsilon: 1e-9 },
        Preprocessing::ZcaWhiten { epsilon: 1e-9 },
    ] {
        let p = Preprocessor::fit(method, &ds).unwrap();
        let white = p.apply(&x).unwrap();
        let off = covariance(&white) - Tensor::eye(8, (Kind::Double, tch::Device::Cpu));
        assert!(max_abs(&off) < 1e-3, "{method:?}: {}", max_abs(&off));
        // Validation data gets the same transform: close to white, not exactly.
        let v = p.apply(&split_tensor(&ds.val, 8).unwrap()).unwrap();
        assert!(
            max_abs(&(covariance(&v) - Tensor::eye(8, (Kind::Double, tch::Device::Cpu)))) < 0.2
        );
    }
    // ZCA stays closest to the input among all whitenings: it is symmetric.
    let zca = Preprocessor::fit(Preprocessing::ZcaWhiten { epsilon: 1e-6 }, &ds).unwrap();
    let w = Tensor::from_slice(&zca.components).view([8, 8]);
    assert!(max_abs(&(&w - w.tr())) < 1e-4);
}

#[test]
fn centering_standardising_and_min_max_on_fashion_mnist() {
    let ds = fashion_mnist_builtin().unwrap();
    let x = split_tensor(&ds.train, 784).unwrap().view([-1, 1, 28, 28]);

    let zc = Preprocessor::fit(Preprocessing::ZeroCenter, &ds).unwrap();
    let centered = zc.apply(&x).unwrap();
    assert_eq!(centered.size(), [10_000, 1, 28, 28]);
    assert!(max_abs(&centered.mean_dim(0, false, Kind::Double)) < 1e-5);

    let st = Preprocessor::fit(Preprocessing::Standardize, &ds).unwrap();
    let s = st.apply(&x).unwrap();
    assert!(s.mean(Kind::Double).double_value(&[]).abs() < 1e-4);
    assert!((s.std(false).double_value(&[]) - 1.0).abs() < 1e-3);
    assert_eq!((st.mean.len(), st.scale.len()), (1, 1));

    let mm = Preprocessor::fit(Preprocessing::MinMax, &ds).unwrap();
    let m = mm.apply(&x).unwrap();
    assert!(
        m.min().double_value(&[]).abs() < 1e-6 && (m.max().double_value(&[]) - 1.0).abs() < 1e-6
    );

    let none = Preprocessor::fit(Preprocessing::None, &ds).unwrap();
    assert!(max_abs(&(none.apply(&x).unwrap() - &x)) == 0.0);
}

#[test]
fn fitting_sees_only_the_training_split_and_round_trips_as_data() {
    let mut ds = correlated(2_000, 4, 2);
    let before = Preprocessor::fit(Preprocessing::ZcaWhiten { epsilon: 0.01 }, &ds).unwrap();
    ds.val = correlated(2_000, 4, 99).val;
    let after = Preprocessor::fit(Preprocessing::ZcaWhiten { epsilon: 0.01 }, &ds).unwrap();
    assert_eq!(before, after);
    let text = serde_json::to_string(&before).unwrap();
    assert_eq!(serde_json::from_str::<Preprocessor>(&text).unwrap(), before);
    assert_eq!(before.components.len(), 16);

    let wrong = split_tensor(&correlated(10, 5, 1).train, 5).unwrap();
    let e = before.apply(&wrong).unwrap_err().to_string();
    assert!(e.contains("fitted on samples of shape [4]"), "{e}");

    let e = Preprocessor::fit(Preprocessing::PcaWhiten { epsilon: -1.0 }, &ds)
        .unwrap_err()
        .to_string();
    assert!(e.contains("whitening epsilon is -1"), "{e}");
}

#[test]
fn a_fitted_transform_is_saved_and_loaded_with_its_mean_and_components() {
    let ds = correlated(1_000, 4, 3);
    let p = Preprocessor::fit(Preprocessing::PcaWhiten { epsilon: 0.01 }, &ds).unwrap();
    let dir = std::env::temp_dir().join(format!("netloom-pre-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("preprocessing.json");
    p.save(&path).unwrap();
    assert_eq!(Preprocessor::load(&path).unwrap(), p);

    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let e = Preprocessor::load(&path).unwrap_err().to_string();
    assert!(
        e.starts_with("not a netloom preprocessor file (line"),
        "{e}"
    );
    let mut short = p.clone();
    short.components.pop();
    std::fs::write(&path, serde_json::to_string(&short).unwrap()).unwrap();
    let e = Preprocessor::load(&path).unwrap_err().to_string();
    assert!(e.contains("don't match its shape"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The preprocessing lesson's image half on the built-in set, reporting each stage (the Learn
/// view shows them as progress) and answering a cancel between stages.
#[test]
fn the_image_lesson_reports_its_stages_and_stops_when_cancelled() {
    use netloom::data::cloud::{STAGES, image_lesson};
    use netloom::jobs::Progress;
    let data = netloom::data::fashion_mnist_builtin().unwrap();
    let progress = Progress::default();
    let lesson = image_lesson(&data, 2000, 16, 8, 0.1, &progress).unwrap();
    assert_eq!(lesson.fitted_on, 2000.min(data.train.len()));
    assert_eq!(progress.fraction(), (STAGES.len(), STAGES.len()));
    assert_eq!(lesson.components.len(), 16);
    assert_eq!(lesson.originals.len(), 8);
    // Cancelled before it starts: it stops at the first stage, with a reason.
    let cancelled = Progress::default();
    cancelled.cancel();
    let e = image_lesson(&data, 2000, 16, 8, 0.1, &cancelled)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cancelled"), "{e}");
}
