//! The Learn view's numerics: optimizer paths on 2-D surfaces (netloom's optimizers against
//! torch.optim, and the lessons they are there to show) and the preprocessing of a 2-D cloud.
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use netloom::design::{Optimizer, Schedule, TrainingSettings};
use netloom::engine::surface::{PathPoint, Surface, path};

fn settings(optimizer: Optimizer, lr: f64, momentum: f64) -> TrainingSettings {
    TrainingSettings {
        optimizer,
        learning_rate: lr,
        momentum,
        epochs: 100,
        seed: 7,
        ..TrainingSettings::default()
    }
}

fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

fn end(points: &[PathPoint]) -> [f64; 2] {
    points.last().unwrap().pos
}

/// The optimizers as the Learn view offers them, by name.
fn lineup(lr: f64) -> Vec<(&'static str, TrainingSettings)> {
    vec![
        ("sgd", settings(Optimizer::Sgd, lr, 0.0)),
        ("momentum", settings(Optimizer::Sgd, lr, 0.9)),
        ("nesterov", settings(Optimizer::Nesterov, lr, 0.9)),
        ("adagrad", settings(Optimizer::Adagrad, lr, 0.0)),
        ("rmsprop", settings(Optimizer::Rmsprop, lr, 0.0)),
        ("adam", settings(Optimizer::Adam, lr, 0.0)),
    ]
}

#[test]
fn every_path_is_what_torch_optim_takes_on_the_same_surface() {
    let dir = tempdir("lessons-paths");
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for surface in Surface::ALL {
        let lr = surface.suggested_rate();
        let mut lineup = lineup(lr);
        lineup.push(("adamw", {
            let mut s = settings(Optimizer::Adamw, lr, 0.0);
            s.weight_decay = 0.01;
            s
        }));
        lineup.push(("sgd cosine + decay", {
            let mut s = settings(Optimizer::Sgd, lr, 0.5);
            s.schedule = Schedule::Cosine { min_lr: 0.0 };
            s.weight_decay = 1e-3;
            s
        }));
        for (label, s) in lineup {
            let p = path(surface, &s, 100).unwrap();
            let kind = serde_json::to_value(s.optimizer).unwrap();
            cases.push(serde_json::json!({
                "label": label,
                "surface": surface.name(),
                "optimizer": kind,
                "lr": s.learning_rate,
                "momentum": s.momentum,
                "weight_decay": s.weight_decay,
                "schedule": if matches!(s.schedule, Schedule::Cosine { .. }) { "cosine" } else { "constant" },
                "start": surface.start(),
                "steps": 100,
                "seed": s.seed,
            }));
            ours.push(p);
        }
    }
    std::fs::write(
        dir.join("cases.json"),
        serde_json::to_string(&cases).unwrap(),
    )
    .unwrap();
    python(&reference("surface_reference.py"), &[dir.to_str().unwrap()]);
    let theirs: Vec<Vec<[f64; 2]>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("paths.json")).unwrap()).unwrap();
    assert_eq!(theirs.len(), ours.len());
    for ((case, ours), theirs) in cases.iter().zip(&ours).zip(&theirs) {
        assert_eq!(ours.len(), theirs.len(), "{case}: path lengths differ");
        for (t, (a, b)) in ours.iter().zip(theirs).enumerate() {
            for (k, (ours, theirs)) in a.pos.iter().zip(b).enumerate() {
                let tol = 1e-6 * theirs.abs().max(1.0);
                assert!(
                    (ours - theirs).abs() <= tol,
                    "{case}: step {t}, coordinate {k}: netloom {ours} vs torch.optim {theirs}"
                );
            }
        }
    }
}

#[test]
fn in_the_narrow_valley_momentum_and_adam_end_nearer_the_minimum_than_sgd() {
    let s = Surface::Valley;
    let lr = s.suggested_rate();
    let min = s.minimum().unwrap();
    let at = |o: Optimizer, m: f64| distance(end(&path(s, &settings(o, lr, m), 100).unwrap()), min);
    let sgd = at(Optimizer::Sgd, 0.0);
    let momentum = at(Optimizer::Sgd, 0.9);
    let adam = at(Optimizer::Adam, 0.0);
    assert!(momentum < sgd, "momentum {momentum} vs SGD {sgd}");
    assert!(adam < sgd, "Adam {adam} vs SGD {sgd}");
    // And SGD zig-zags: its steps across the valley (y) alternate in sign.
    let p = path(s, &settings(Optimizer::Sgd, lr, 0.0), 10).unwrap();
    let signs: Vec<bool> = p.iter().map(|q| q.pos[1] > 0.0).collect();
    assert!(
        signs.windows(2).all(|w| w[0] != w[1]),
        "no zig-zag: {signs:?}"
    );
}

#[test]
fn on_the_saddle_plain_sgd_is_the_slowest_to_escape() {
    let s = Surface::Saddle;
    assert!(
        (s.start()[1] - 1e-3).abs() < 1e-12,
        "started 1e-3 off the ridge"
    );
    let lr = s.suggested_rate();
    let escape = |o: Optimizer, m: f64| -> u64 {
        let p = path(s, &settings(o, lr, m), 2000).unwrap();
        p.iter()
            .position(|q| q.pos[1].abs() > 1.0)
            .expect("never escaped") as u64
    };
    let sgd = escape(Optimizer::Sgd, 0.0);
    for (name, o, m) in [
        ("momentum", Optimizer::Sgd, 0.9),
        ("RMSProp", Optimizer::Rmsprop, 0.0),
        ("Adam", Optimizer::Adam, 0.0),
    ] {
        let steps = escape(o, m);
        assert!(
            steps < sgd,
            "{name} escaped after {steps} steps, SGD after {sgd}"
        );
    }
}

#[test]
fn adagrads_effective_step_shrinks_monotonically() {
    for surface in [Surface::Valley, Surface::Rosenbrock, Surface::Beale] {
        let p = path(surface, &settings(Optimizer::Adagrad, 0.5, 0.0), 200).unwrap();
        for k in 0..2 {
            let rates: Vec<f64> = p
                .windows(2)
                .filter(|w| w[0].grad[k].abs() > 1e-9)
                .map(|w| ((w[1].pos[k] - w[0].pos[k]) / w[0].grad[k]).abs())
                .collect();
            assert!(
                rates.len() > 20,
                "{surface:?}: {} steps with a gradient",
                rates.len()
            );
            for w in rates.windows(2) {
                assert!(
                    w[1] <= w[0] * (1.0 + 1e-9),
                    "{surface:?} coordinate {k}: effective rate rose from {} to {}",
                    w[0],
                    w[1]
                );
            }
        }
    }
}

#[test]
fn whitening_makes_the_cloud_round_and_pcas_first_axis_is_the_major_axis() {
    use netloom::data::cloud::{Stage, moments, pca_axes, stages, tilted_cloud};
    let angle = 0.6_f64;
    let cloud = tilted_cloud(2000, angle, 3);
    let all = stages(&cloud, 1e-5).unwrap();
    for s in &all {
        let m = moments(&s.points);
        let (mean, cov) = (m.mean, m.cov);
        match s.stage {
            Stage::PcaWhitened | Stage::ZcaWhitened => {
                for (i, row) in cov.iter().enumerate() {
                    for (j, v) in row.iter().enumerate() {
                        let want = if i == j { 1.0 } else { 0.0 };
                        assert!(
                            (v - want).abs() < 1e-3,
                            "{}: covariance {cov:?} is not the identity",
                            s.stage.name()
                        );
                    }
                }
            }
            Stage::ZeroCentred | Stage::Standardised => {
                assert!(mean[0].abs() < 1e-5 && mean[1].abs() < 1e-5, "{mean:?}");
                if s.stage == Stage::Standardised {
                    assert!((cov[0][0] - 1.0).abs() < 1e-3 && (cov[1][1] - 1.0).abs() < 1e-3);
                    // Standardising keeps the correlation: still tilted.
                    assert!(cov[0][1] > 0.5, "{cov:?}");
                }
            }
            Stage::Original => assert!((mean[0] - 3.0).abs() < 0.1, "{mean:?}"),
        }
    }
    // PCA's first axis, as the fit found it, is the cloud's major axis: the direction it was
    // stretched along, and the sample covariance's top eigenvector.
    let [(first, sd1), (_, sd2)] = pca_axes(&cloud, 1e-5).unwrap();
    let along = first[0] * angle.cos() + first[1] * angle.sin();
    assert!(
        along.abs() > 0.999,
        "first axis {first:?} vs the stretch at {angle} rad"
    );
    let [(major, s1), (_, s2)] = moments(&cloud).axes;
    assert!((first[0] * major[0] + first[1] * major[1]).abs() > 0.9999);
    assert!(
        (sd1 - s1).abs() < 1e-3 * s1 && (sd2 - s2).abs() < 1e-2 * s2,
        "{sd1} {sd2} vs {s1} {s2}"
    );
    assert!((sd1 - 1.5).abs() < 0.1 && (sd2 - 0.35).abs() < 0.05);
}
