//! Training end to end: learning, determinism, stop/resume, pause, refusals and failures,
//! eval, and PyTorch's default initialisation.
#![allow(clippy::too_many_lines)] // test scenarios and reference tables read top to bottom
#![allow(clippy::unwrap_used)]
mod common;

use common::run::*;
use netloom::data::{DataSpec, FolderOptions};
use netloom::design::*;
use netloom::document::load_design;
use netloom::engine::{
    Command, DataSource, DeviceChoice, EpochViews, EventKind as Event, Network, RunOptions,
    RunRequest, Summary, Trainer,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The loss and accuracy columns (not the throughput) of metrics.csv.
fn deterministic_columns(dir: &Path) -> Vec<Vec<String>> {
    metrics(dir).into_iter().map(|r| r[..9].to_vec()).collect()
}

#[test]
fn two_layer_mlp_reaches_95_percent_on_the_spiral() {
    let dir = tempdir("learn-spiral");
    netloom_ok(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--data",
        "toy:spiral",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let acc = val_accuracies(&dir);
    assert_eq!(acc.len(), 30);
    assert!(
        *acc.last().unwrap() >= 0.95,
        "final validation accuracy {acc:?}"
    );
}

#[test]
fn lenet5_reaches_85_percent_on_the_builtin_set() {
    let dir = tempdir("learn-lenet5");
    netloom_ok(&[
        "train",
        &example_path("lenet5.json"),
        "--out",
        dir.to_str().unwrap(),
    ]);
    let acc = val_accuracies(&dir);
    assert!(
        *acc.last().unwrap() >= 0.85,
        "validation accuracy per epoch {acc:?}"
    );
    // eval on the saved weights agrees with the last epoch's row.
    let out = netloom_ok(&[
        "eval",
        &example_path("lenet5.json"),
        "--weights",
        dir.join("weights.safetensors").to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        (v["accuracy"].as_f64().unwrap() - acc.last().unwrap()).abs() < 1e-9,
        "{out}"
    );
    let confusion = v["confusion"].as_array().unwrap();
    assert_eq!(confusion.len(), 10);
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(total, 2000);
    let text = netloom_ok(&[
        "eval",
        &example_path("lenet5.json"),
        "--weights",
        dir.join("best.safetensors").to_str().unwrap(),
    ]);
    assert!(
        text.contains("accuracy") && text.contains("Ankle boot"),
        "{text}"
    );
}

#[test]
fn the_same_seed_gives_the_same_metrics_and_another_seed_does_not() {
    let dir = tempdir("determinism");
    let mut runs = Vec::new();
    for (name, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
        let out = dir.join(name);
        netloom_ok(&[
            "train",
            &example_path("lenet5.json"),
            // Compared bit for bit: the thread count fixed.
            "--deterministic",
            "--epochs",
            "1",
            "--max-steps",
            "60",
            "--log-every",
            "5",
            "--seed",
            seed,
            "--out",
            out.to_str().unwrap(),
        ]);
        runs.push(deterministic_columns(&out));
    }
    assert!(runs[0].len() >= 12);
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0], runs[2]);
    let spiral = [dir.join("s1"), dir.join("s2")];
    for out in &spiral {
        netloom_ok(&[
            "train",
            &example_path("two_layer_mlp.json"),
            "--deterministic",
            "--epochs",
            "4",
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    assert_eq!(
        deterministic_columns(&spiral[0]),
        deterministic_columns(&spiral[1])
    );
}

fn spiral_job(mut design: Design, out: &Path, resume: bool) -> RunRequest {
    let data = DataSpec::parse("toy:spiral")
        .unwrap()
        .load(&FolderOptions::default())
        .unwrap();
    // Runs compared bit for bit fix their thread count (it otherwise drops while a busy
    // machine, here the other tests, makes the steps slow).
    design.training.deterministic = true;
    RunRequest {
        design,
        data: DataSource::Loaded(Arc::new(data), None),
        options: RunOptions {
            device: DeviceChoice::Cpu,
            out_dir: Some(out.to_owned()),
            resume,
            stats_every: 7,
            ..RunOptions::default()
        },
        init: None,
    }
}

/// The next event of the run `id`, waiting up to `timeout`.
fn next_event(trainer: &Trainer, id: u64, timeout: Duration) -> Option<Event> {
    trainer
        .recv_timeout(timeout)
        .filter(|e| e.run == id)
        .map(|e| e.kind)
}

/// Runs a job to its end, collecting the run's events after its data arrived (DataLoaded
/// comes first); `on` may send commands as events arrive.
fn drive(
    trainer: &Trainer,
    job: RunRequest,
    mut on: impl FnMut(&Trainer, &Event),
) -> (Vec<Event>, Summary) {
    let id = trainer.start(job);
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let Some(e) = next_event(trainer, id, Duration::from_secs(5)) else {
            continue;
        };
        on(trainer, &e);
        match e {
            Event::Finished(s) => return (events, s),
            Event::Failed { message, .. } => panic!("the run failed: {message}"),
            Event::DataLoaded(_) => {}
            other => events.push(other),
        }
    }
    panic!("the run did not finish");
}

#[test]
fn a_run_stopped_midway_and_resumed_matches_an_uninterrupted_run() {
    let dir = tempdir("resume");
    let design = load_design(Path::new(&example_path("two_layer_mlp.json"))).unwrap();
    let trainer = Trainer::spawn(None, false).unwrap();
    let (whole, interrupted) = (dir.join("whole"), dir.join("interrupted"));
    let (_, full) = drive(
        &trainer,
        spiral_job(design.clone(), &whole, false),
        |_, _| {},
    );
    assert!(!full.stopped && full.epochs == 30);
    // Stop as soon as epoch 3 ends (the worker may get a batch or so further: fine).
    let (events, first) = drive(
        &trainer,
        spiral_job(design.clone(), &interrupted, false),
        |t, e| {
            if matches!(e, Event::Epoch(m) if m.epoch == 3) {
                t.send(Command::Stop);
            }
        },
    );
    assert!(first.stopped, "Stop was ignored");
    assert!(first.epochs < 30, "{first:?}");
    assert!(events.iter().any(|e| matches!(e, Event::Checkpoint { .. })));
    let (events, second) = drive(&trainer, spiral_job(design, &interrupted, true), |_, _| {});
    assert!(matches!(
        events.first(),
        Some(Event::Compiled {
            resumed_at: Some(_),
            ..
        })
    ));
    assert_eq!((second.epochs, second.steps), (full.epochs, full.steps));
    assert_eq!(
        deterministic_columns(&interrupted),
        deterministic_columns(&whole)
    );
    let read = |d: &PathBuf| std::fs::read(d.join("weights.safetensors")).unwrap();
    assert!(
        read(&interrupted) == read(&whole),
        "the resumed weights differ from the uninterrupted run's"
    );
}

#[test]
fn pause_holds_training_and_resume_continues() {
    let dir = tempdir("pause");
    let mut design = load_design(Path::new(&example_path("two_layer_mlp.json"))).unwrap();
    design.training.epochs = 200;
    let trainer = Trainer::spawn(None, false).unwrap();
    let id = trainer.start(spiral_job(design, &dir, false));
    // The run says when it holds (Paused, sent as the hold begins), so nothing guesses how
    // long Pause takes to act: from that event on, no batch may come until Resume (a step of
    // this net takes about a millisecond, so a held quarter second would show dozens), and
    // the first batch after Resume is the next step.
    let mut paused_at: Option<u64> = None;
    loop {
        let e = next_event(&trainer, id, Duration::from_secs(60)).expect("the trainer went quiet");
        match (&e, paused_at) {
            (Event::Batch { step: 20, .. }, None) if !trainer.is_paused() => {
                trainer.send(Command::Pause);
            }
            (Event::Paused { step }, None) => {
                assert!(trainer.is_paused());
                assert!(*step >= 20, "paused at step {step}");
                while let Some(e) = trainer.recv_timeout(Duration::from_millis(250)) {
                    if let Event::Batch { step: s, .. } = e.kind {
                        panic!("step {s} trained while paused at step {step}");
                    }
                }
                paused_at = Some(*step);
                trainer.send(Command::Resume);
            }
            (Event::Batch { step, .. }, Some(held)) if *step == held + 1 => {
                // The first step after the pause: training carried on where it held.
                trainer.send(Command::Stop);
            }
            (Event::Batch { step, .. }, Some(held)) if *step <= held => {
                panic!("step {step} again after pausing at step {held}")
            }
            (Event::Finished(s), _) => {
                assert!(s.stopped);
                break;
            }
            (Event::Failed { message, .. }, _) => panic!("{message}"),
            _ => {}
        }
    }
    assert!(paused_at.is_some(), "the run never said it paused");
}

#[test]
fn dropping_the_trainer_stops_a_run_promptly() {
    let dir = tempdir("drop");
    let mut design = load_design(Path::new(&example_path("two_layer_mlp.json"))).unwrap();
    design.training.epochs = 100_000;
    let trainer = Trainer::spawn(None, false).unwrap();
    let id = trainer.start(spiral_job(design, &dir, false));
    while !matches!(
        next_event(&trainer, id, Duration::from_secs(60)),
        Some(Event::Batch { .. })
    ) {}
    let t = Instant::now();
    drop(trainer);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "closing took {:?}",
        t.elapsed()
    );
    assert!(
        dir.join("state.json").exists(),
        "the stopped run left no checkpoint"
    );
}

#[test]
fn the_trainer_streams_histograms_samples_and_epochs() {
    let dir = tempdir("events");
    let mut design = load_design(Path::new(&example_path("lenet5.json"))).unwrap();
    design.training.epochs = 1;
    design.data.augmentation =
        vec![serde_json::from_str(r#"{"op": "horizontal_flip", "p": 0.5}"#).unwrap()];
    let data = netloom::data::fashion_mnist_builtin().unwrap();
    let job = RunRequest {
        design,
        data: DataSource::Loaded(Arc::new(data), None),
        options: RunOptions {
            device: DeviceChoice::Cpu,
            out_dir: Some(dir.clone()),
            stats_every: 50,
            max_steps: Some(157),
            ..RunOptions::default()
        },
        init: None,
    };
    let trainer = Trainer::spawn(None, false).unwrap();
    let (events, _) = drive(&trainer, job, |_, _| {});
    let Some(Event::Compiled { params, device, .. }) = events.first() else {
        panic!("no Compiled first")
    };
    assert_eq!(*params, 61_706);
    assert!(device.starts_with("CPU"));
    let hists: Vec<_> = events
        .iter()
        .filter_map(|e| {
            if let Event::Histograms { nodes, .. } = e {
                Some(nodes)
            } else {
                None
            }
        })
        .collect();
    assert!(hists.len() >= 3);
    let conv1: Vec<_> = hists
        .iter()
        .map(|n| n.iter().find(|s| s.node == "conv1").unwrap())
        .collect();
    // Fixed edges: every histogram of a node uses the first one's bins.
    assert!(
        conv1.iter().all(|s| (s.activation.lo, s.activation.hi)
            == (conv1[0].activation.lo, conv1[0].activation.hi))
    );
    assert!(conv1.iter().all(|s| s.grad_norm.is_some_and(|g| g > 0.0)));
    let relu = hists[0].iter().find(|s| s.node == "relu1").unwrap();
    assert!(relu.dead_fraction.is_some_and(|f| (0.0..=1.0).contains(&f)));
    let first_total: u32 = conv1[0].activation.counts.iter().sum::<u32>()
        + conv1[0].activation.below
        + conv1[0].activation.above;
    assert_eq!(first_total, 64 * 6 * 28 * 28);
    let samples = events
        .iter()
        .find_map(|e| {
            if let Event::Samples { images, labels, .. } = e {
                Some((images, labels))
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!(samples.0.len(), 16);
    assert_eq!(samples.0[0].pixels.len(), 28 * 28 * 4);
    assert_eq!(samples.1.len(), 16);
    let epoch = events
        .iter()
        .find_map(|e| {
            if let Event::Epoch(m) = e {
                Some(m)
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!(epoch.confusion.counts.iter().flatten().sum::<u64>(), 2000);
    let Some(Event::Views(EpochViews {
        feature_maps,
        filters,
        predictions,
        ..
    })) = events.iter().find(|e| matches!(e, Event::Views(_)))
    else {
        panic!("no Views event at the end of the epoch")
    };
    let names: Vec<&str> = feature_maps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["conv1", "conv2"]);
    assert_eq!(feature_maps[0].1.len(), 6, "one map per conv1 channel");
    assert_eq!(
        (feature_maps[0].1[0].width, feature_maps[0].1[0].height),
        (28, 28)
    );
    assert_eq!(filters.len(), 6);
    assert_eq!((filters[0].width, filters[0].height), (5, 5));
    assert_eq!(predictions.len(), 16);
    let right = predictions.iter().filter(|(_, t, p)| t == p).count();
    assert!(
        right >= 8,
        "after an epoch most of 16 validation images are right: {right}"
    );
    let batches = events
        .iter()
        .filter(|e| matches!(e, Event::Batch { .. }))
        .count();
    assert_eq!(batches, 157);
}

#[test]
fn a_design_that_does_not_fit_the_data_is_refused_naming_the_node() {
    let (code, _, err) = netloom(&[
        "train",
        &example_path("lenet5.json"),
        "--data",
        "toy:spiral",
        "--out",
        tempdir("mismatch-a").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("node \"input\"") && err.contains("1×28×28"),
        "{err}"
    );
    let dir = tempdir("mismatch-b");
    let text = std::fs::read_to_string(example_path("lenet5.json"))
        .unwrap()
        .replace("\"out_features\": 10", "\"out_features\": 7");
    let path = dir.join("seven.json");
    std::fs::write(&path, text).unwrap();
    let (code, _, err) = netloom(&[
        "train",
        path.to_str().unwrap(),
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("node \"fc3\" gives 7 outputs") && err.contains("10 classes"),
        "{err}"
    );
}

#[test]
fn a_diverging_run_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint() {
    let dir = tempdir("diverge");
    let run = dir.join("run");
    netloom_ok(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--out",
        run.to_str().unwrap(),
    ]);
    let good = std::fs::read(run.join("weights.safetensors")).unwrap();
    let (code, _, err) = netloom(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--resume",
        run.to_str().unwrap(),
        "--epochs",
        "3",
        "--lr",
        "1e30",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("training diverged") && err.contains("Lower the learning rate"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(run.join("weights.safetensors")).unwrap(),
        good
    );
}

#[test]
fn bad_weights_files_are_refused_clearly() {
    let dir = tempdir("bad-weights");
    let empty = dir.join("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();
    let junk = dir.join("junk.safetensors");
    std::fs::write(&junk, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all").unwrap();
    let run = dir.join("run");
    netloom_ok(&[
        "train",
        &example_path("two_layer_mlp.json"),
        "--epochs",
        "1",
        "--max-steps",
        "1",
        "--out",
        run.to_str().unwrap(),
    ]);
    for (file, expect) in [
        (&empty, "empty"),
        (&junk, "not a readable .safetensors"),
        (&run.join("weights.safetensors"), "different design"),
    ] {
        let (code, _, err) = netloom(&[
            "eval",
            &example_path("lenet5.json"),
            "--weights",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 1);
        assert!(err.contains(expect), "{file:?}: {err}");
    }
}

#[test]
fn initialisation_follows_pytorch_defaults_and_the_chosen_scheme() {
    let mut design = load_design(Path::new(&example_path("lenet5.json"))).unwrap();
    let net = Network::compile(&design, tch::Device::Cpu).unwrap();
    let vgg = load_design(Path::new(&example_path("vgg_small.json"))).unwrap();
    let vgg = Network::compile(&vgg, tch::Device::Cpu).unwrap();
    let stats = |net: &Network, name: &str| {
        let t = &net.params.by_name(name).unwrap().tensor;
        let v: Vec<f32> = Vec::try_from(t.detach().flatten(0, -1)).unwrap();
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let std = (v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        let max = v.iter().fold(0f64, |m, &x| m.max(f64::from(x).abs()));
        (mean, std, max, t.size())
    };
    // Conv: U(±1/√fan_in) for weight and bias; std of a uniform is bound/√3.
    let (_, std, max, size) = stats(&net, "conv2.weight");
    let fan_in = (size[1] * size[2] * size[3]) as f64;
    let bound = 1.0 / fan_in.sqrt();
    assert!(max <= bound && max > 0.95 * bound, "{max} vs {bound}");
    assert!((std / (bound / 3f64.sqrt()) - 1.0).abs() < 0.05, "{std}");
    let (_, _, max, _) = stats(&net, "conv2.bias");
    assert!(max <= bound);
    // BatchNorm: weight 1, bias 0, running var 1 (tch's own default weight is U(0,1)).
    let (mean, std, _, _) = stats(&vgg, "bn1_1.weight");
    assert_eq!((mean, std), (1.0, 0.0));
    assert_eq!(stats(&vgg, "bn1_1.running_var").0, 1.0);
    assert_eq!(
        vgg.params
            .by_name("bn1_1.num_batches_tracked")
            .unwrap()
            .tensor
            .kind(),
        tch::Kind::Int64
    );
    design.training.init = Init::Kaiming;
    let net = Network::compile(&design, tch::Device::Cpu).unwrap();
    let (_, std, _, _) = stats(&net, "conv2.weight");
    assert!(
        (std / (2.0 / fan_in).sqrt() - 1.0).abs() < 0.05,
        "kaiming std {std}"
    );
    assert_eq!(stats(&net, "conv2.bias").2, 0.0);
    design.training.init = Init::Xavier;
    let net = Network::compile(&design, tch::Device::Cpu).unwrap();
    let (_, _, max, size) = stats(&net, "conv2.weight");
    let fan_out = (size[0] * size[2] * size[3]) as f64;
    let xb = (6.0 / (fan_in + fan_out)).sqrt();
    assert!(max <= xb && max > 0.95 * xb, "xavier max {max} vs {xb}");
}

/// The Train view's decision map after the two-layer MLP has learnt the spiral: read cell by
/// cell from the very grid the view draws, it classifies at least 95% of the training points
/// correctly; and the map moved while training (an early map is worse).
#[test]
fn the_decision_map_of_the_trained_spiral_mlp_classifies_the_training_points() {
    let dir = tempdir("boundary");
    let design = load_design(Path::new(&example_path("two_layer_mlp.json"))).unwrap();
    let trainer = Trainer::spawn(None, false).unwrap();
    let (events, summary) = drive(&trainer, spiral_job(design, &dir, false), |_, _| {});
    assert!(!summary.stopped);
    let maps: Vec<&netloom::engine::Boundary> = events
        .iter()
        .filter_map(|e| match e {
            Event::Boundary(b) => Some(b.as_ref()),
            _ => None,
        })
        .collect();
    assert!(maps.len() > 30, "maps every few steps: {}", maps.len());
    let data = DataSpec::parse("toy:spiral")
        .unwrap()
        .load(&FolderOptions::default())
        .unwrap();
    let netloom::data::Samples::F32(xy) = &data.train.samples else {
        panic!("toy data is f32");
    };
    let accuracy = |map: &netloom::engine::Boundary| {
        let right = xy
            .chunks_exact(2)
            .zip(&data.train.labels)
            .filter(|(p, l)| map.class_at(f64::from(p[0]), f64::from(p[1])) == Some(**l))
            .count();
        right as f64 / data.train.len() as f64
    };
    let last = maps.last().unwrap();
    assert_eq!(last.step, summary.steps);
    assert_eq!(last.classes.len(), last.size * last.size);
    let final_acc = accuracy(last);
    assert!(
        final_acc >= 0.95,
        "the map classifies {final_acc:.3} of the points"
    );
    let first_acc = accuracy(maps[0]);
    assert!(
        first_acc < final_acc - 0.1,
        "first map {first_acc:.3}, last {final_acc:.3}"
    );
    // The first hidden layer's units come as maps too.
    assert!(
        last.units
            .iter()
            .any(|(n, v)| n.starts_with("relu[") && v.len() == last.classes.len())
    );
}

/// Every design netloom ships trains from its defaults on the data netloom ships: each file in
/// examples/ on the data it records (or the default for its Input), and each template as the
/// app opens it (3×224×224, a 10-class head) on the default for that Input (the first 1,000
/// images of the built-in set converted to it, loaded once here for all of them). netloom
/// ships no masks: the segmentation templates (2 classes, as the app opens them) train on a
/// small mask folder made here.
#[test]
fn every_example_and_template_trains_a_step_on_data_netloom_ships() {
    fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                json_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    json_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        &mut files,
    );
    files.sort();
    let mut designs: Vec<(String, Design)> = files
        .iter()
        .map(|p| (p.display().to_string(), load_design(p).unwrap()))
        .collect();
    assert!(designs.len() >= 6, "{files:?}");
    let masks = tempdir("training-every-masks");
    for dir in ["images", "masks"] {
        std::fs::create_dir_all(masks.join(dir)).unwrap();
    }
    for i in 0..4u32 {
        let image =
            image::RgbImage::from_fn(224, 224, |x, y| image::Rgb([(x + i) as u8, y as u8, 90]));
        image.save(masks.join(format!("images/{i}.png"))).unwrap();
        let mask = image::GrayImage::from_fn(224, 224, |x, _| image::Luma([u8::from(x > 100 + i)]));
        mask.save(masks.join(format!("masks/{i}.png"))).unwrap();
    }
    for (name, _) in netloom::design::templates::TEMPLATES {
        let segmentation = matches!(name, "unet" | "fcn_resnet18");
        let classes = if segmentation { 2 } else { 10 };
        let input = if name == "lenet" {
            [1, 28, 28]
        } else {
            [3, 224, 224]
        };
        let mut d = netloom::design::templates::template(name, input, classes).unwrap();
        if segmentation {
            d.data.source = Some(format!("masks:{}", masks.display()));
        }
        designs.push((format!("template {name}"), d));
    }
    let mut loaded: Vec<(DataSpec, Arc<netloom::data::Dataset>)> = Vec::new();
    let trainer = Trainer::spawn(None, false).unwrap();
    for (name, mut design) in designs {
        let spec = DataSpec::for_design(&design).unwrap();
        let data = match loaded.iter().find(|(s, _)| *s == spec) {
            Some((_, d)) => Arc::clone(d),
            None => {
                let d = Arc::new(spec.load_for(design.input_shape()).unwrap());
                loaded.push((spec.clone(), Arc::clone(&d)));
                d
            }
        };
        design.training.batch_size = design.training.batch_size.min(8);
        let job = RunRequest {
            design,
            data: DataSource::Loaded(data, Some(spec.clone())),
            options: RunOptions {
                device: DeviceChoice::Cpu,
                max_steps: Some(1),
                ..RunOptions::default()
            },
            init: None,
        };
        let id = trainer.start(job);
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut stepped = false;
        loop {
            assert!(Instant::now() < deadline, "{name}: no end");
            let Some(e) = next_event(&trainer, id, Duration::from_secs(5)) else {
                continue;
            };
            match e {
                Event::Batch { loss, .. } => {
                    assert!(loss.is_finite(), "{name}: loss {loss}");
                    stepped = true;
                }
                Event::Failed { message, .. } => {
                    panic!("{name} on {}: {message}", spec.to_spec())
                }
                Event::Finished(_) => break,
                _ => {}
            }
        }
        assert!(stepped, "{name}: finished without a step");
    }
}
