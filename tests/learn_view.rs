//! The Learn view and the lesson pictures elsewhere, driven as a user would: every lesson
//! shows and moves, the block lessons run the design's own blocks on real samples, the
//! inspector links to them, and a two-feature run draws its decision boundary.
#![allow(clippy::unwrap_used)] // tests and their helpers may unwrap
mod common;
use common::{run, ui};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use netloom::app::NetloomApp;
use ui::*;

fn learn(harness: &mut Harness<'static, NetloomApp>, lesson: &str) {
    harness.get_by_label("Learn").click();
    harness.run_steps(2);
    // The first of the name is the lesson list's entry (the second, the lesson's heading).
    harness.get_all_by_label(lesson).next().unwrap().click();
    harness.run_steps(3);
}

#[test]
fn optimizer_paths_step_and_race() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    learn(&mut harness, "Optimizer paths");
    harness.get_by_label("step 0 of 600");
    for _ in 0..40 {
        harness.get_by_label("Step").click();
        harness.step();
    }
    harness.run_steps(2);
    harness.get_by_label("step 40 of 600");
    // In the valley after 40 steps: plain SGD is still far from the minimum, momentum isn't.
    let distance = |h: &Harness<'static, NetloomApp>, i: usize| -> f64 {
        let label = h
            .get_all_by_label_contains("from min")
            .nth(i)
            .unwrap()
            .accesskit_node()
            .value()
            .or_else(|| {
                h.get_all_by_label_contains("from min")
                    .nth(i)
                    .unwrap()
                    .accesskit_node()
                    .label()
            })
            .unwrap_or_default();
        let d = label.rsplit(" · ").next().unwrap_or_default();
        let d = d.trim_end_matches(" from min");
        d.parse().unwrap_or_else(|e| panic!("{label:?}: {e}"))
    };
    // The table lists SGD first, momentum second.
    let (sgd, momentum) = (distance(&harness, 0), distance(&harness, 1));
    assert!(momentum < sgd, "momentum {momentum} vs SGD {sgd}");
    harness.snapshot("learn_optimizer_paths");
    // The saddle: the adaptive methods escape while SGD lingers.
    harness.get_by_value("narrow valley").click();
    harness.run_steps(2);
    harness.get_by_label("saddle point").click();
    harness.run_steps(2);
    for _ in 0..60 {
        harness.get_by_label("Step").click();
        harness.step();
    }
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("escaped (|y| > 1) at step")
            .is_some()
    );
    harness.snapshot("learn_saddle");
}

#[test]
fn preprocessing_shows_the_cloud_at_every_stage_and_whitened_images() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 800.0));
    learn(&mut harness, "Preprocessing");
    for stage in [
        "original",
        "zero-centred",
        "standardised",
        "PCA-whitened",
        "ZCA-whitened",
    ] {
        harness.get_by_label(stage);
    }
    // Unit variances after standardising and both whitenings, as the view prints them; only
    // whitening removes the covariance.
    assert_eq!(
        harness
            .get_all_by_label_contains("variances 1.00, 1.00")
            .count(),
        3
    );
    assert_eq!(
        harness
            .get_all_by_label_contains("covariance +0.00")
            .count()
            + harness
                .get_all_by_label_contains("covariance -0.00")
                .count(),
        2
    );
    // Two neighbouring pixels of the chosen (built-in) images: whitened round too.
    harness
        .get_by_label("two pixels of the chosen images")
        .click();
    harness.run_steps(3);
    wait_for_label_containing(
        &mut harness,
        "Fit PCA and ZCA on 2,000 images of Fashion-MNIST",
        120,
    );
    harness.run_steps(3);
    assert_eq!(
        harness
            .get_all_by_label_contains("variances 1.00, 1.00")
            .count(),
        3
    );
    harness
        .get_by_label_contains("Fit PCA and ZCA on 2,000 images of Fashion-MNIST")
        .click();
    wait_for_label(&mut harness, "whitened", 120);
    harness.run_steps(3);
    harness.snapshot("learn_preprocessing");
}

#[test]
fn the_activations_lesson_plots_the_chosen_function() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    learn(&mut harness, "Activations");
    harness
        .get_all_by_label("leaky_relu")
        .next()
        .unwrap()
        .click();
    harness.run_steps(3);
    harness.get_by_label_contains("Leaky ReLU keeps a small slope");
    assert!(
        harness
            .query_all_by_label_contains("negative_slope")
            .next()
            .is_some()
    );
    harness.snapshot("learn_activations");
}

#[test]
fn the_transposed_convolution_lesson_shows_the_window_in_reverse_and_the_checkerboard() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    learn(&mut harness, "Transposed convolution");
    // Kernel 3, stride 2, computed by a ConvTranspose2d the engine runs: a 3×3 input paints
    // into 7×7, a 6×6 one into 13×13 with 1, 2 or 4 windows on a pixel.
    harness.get_by_label_contains("into a 7×7 output");
    harness.get_by_label_contains("each of the 13×13 output pixels");
    harness.get_by_label_contains(
        "Kernel 3 is not a multiple of stride 2: inside the image some output pixels get 1 window and others 4",
    );
    harness.snapshot("learn_transposed_convolution");
}

#[test]
fn the_convolution_lesson_slides_lenets_own_window_over_a_sample() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 720.0));
    learn(&mut harness, "Convolution and pooling");
    wait_for_label_containing(&mut harness, "output[0, 0, 0] = ", 120);
    harness.get_by_label_contains("kernel 5×5 · stride 1×1 · padding 2×2 · dilation 1×1");
    harness.get_by_label("input, channel 0 (28×28, padded to 32×32)");
    for _ in 0..3 {
        harness.get_by_label("Step").click();
        harness.step();
    }
    harness.run_steps(2);
    harness.get_by_label_contains("output[0, 0, 3] = ");
    harness.snapshot("learn_convolution");
    // A pooling block: stride 2, no kernel weights.
    harness.get_by_value("conv1").click();
    harness.run_steps(2);
    harness.get_by_label("pool1").click();
    harness.run_steps(2);
    wait_for_label_containing(
        &mut harness,
        "Max pooling keeps the largest of the 4 values",
        120,
    );
    harness.get_by_label_contains("kernel 2×2 · stride 2×2");
}

/// vgg_small at 28×28 grey: batch norms and dropouts, on the built-in data.
fn vgg_for_fashion_mnist(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(format!(
        "{}/examples/vgg_small.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let input = &mut v["nodes"][0]["op"];
    input["channels"] = 1.into();
    input["height"] = 28.into();
    input["width"] = 28.into();
    let path = dir.join("vgg28.json");
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

#[test]
fn batch_norm_and_dropout_show_what_they_do_to_real_activations() {
    let dir = run::tempdir("learn-norm");
    let path = vgg_for_fashion_mnist(&dir);
    let mut harness = app_sized(Some(path), egui::vec2(1280.0, 720.0));
    learn(&mut harness, "Normalisation and dropout");
    // Train mode normalises with the batch's statistics: mean 0, std 1 over the batch.
    wait_for_label_containing(&mut harness, "training output: mean", 120);
    harness.get_by_label_contains("std 1.000");
    harness.snapshot("learn_batch_norm");
    harness.get_by_value("bn1_1").click();
    harness.run_steps(2);
    harness.get_by_label("drop_fc1").click();
    harness.run_steps(2);
    wait_for_label_containing(&mut harness, "Training: ", 120);
    harness.get_by_label_contains("Eval: nothing dropped, nothing scaled");
    harness.snapshot("learn_dropout");
}

/// A LayerNorm normalises every sample by its own statistics: the same in training and
/// evaluation, which the lesson computes on real samples and says.
#[test]
fn layer_norm_shows_each_sample_normalised_on_its_own() {
    use netloom::design::*;
    let dir = run::tempdir("learn-layer-norm");
    let mut conv = Conv2d::new(8, 3);
    conv.padding = Pair::Same(1);
    let design = common::reference::chain(
        InputOp::image(1, 28, 28),
        vec![
            ("conv", Op::Conv2d(conv)),
            ("ln", Op::LayerNorm(LayerNorm::default())),
            ("flatten", Op::Flatten(Flatten {})),
            ("fc", Op::Linear(Linear::new(10))),
            ("output", Op::Output(OutputOp::default())),
        ],
    );
    let path = dir.join("ln.json");
    std::fs::write(&path, to_json(&design)).unwrap();
    let mut harness = app_sized(Some(path), egui::vec2(1280.0, 720.0));
    learn(&mut harness, "Normalisation and dropout");
    wait_for_label_containing(&mut harness, "give exactly the same output here", 120);
    harness.get_by_label_contains("Over 256 samples, each of 784 positions");
    harness.snapshot("learn_layer_norm");
}

#[test]
fn the_inspector_links_a_block_to_its_lesson() {
    let mut harness = app_sized(None, egui::vec2(1280.0, 800.0));
    // LeNet opens readable, pool2 beyond the right edge: show it all, click pool2 on the
    // canvas, then follow the inspector's link.
    harness.get_by_label("All").click();
    harness.run_steps(3);
    let pool2 = harness.state().design().node_by_name("pool2").unwrap().id;
    let at = harness.state().node_screen_rect(pool2).unwrap().center();
    click_at(&mut harness, at);
    harness.run_steps(3);
    harness
        .get_by_label("See its window slide over a sample (Learn)")
        .click();
    harness.run_steps(3);
    assert_eq!(
        harness.get_all_by_label("Convolution and pooling").count(),
        2
    );
    harness.get_by_value("pool2");
}

#[test]
fn a_two_feature_run_draws_its_decision_boundary_in_the_train_view() {
    let dir = run::tempdir("learn-boundary");
    let design = std::path::PathBuf::from(format!(
        "{}/examples/two_layer_mlp.json",
        env!("CARGO_MANIFEST_DIR")
    ));
    let mut harness = app_with_data_dir(Some(design), &dir, egui::vec2(1280.0, 720.0));
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    wait_for_label(
        &mut harness,
        "the preview shows images; this data is vectors",
        60,
    );
    harness
        .get_all_by_label("Train")
        .nth(1)
        .unwrap()
        .click_accesskit();
    step_until(&mut harness, 120, "the run never finished", |app| {
        app.runs().last().is_some_and(|r| r.summary.is_some())
    });
    harness.run_steps(4);
    let run = harness.state().runs().last().unwrap();
    let step = run.boundary.as_ref().unwrap().step;
    harness.get_by_label(&format!("decision boundary at step {step}"));
    // The throughput, ETA and run folder's time differ from run to run: allow their pixels.
    let options = egui_kittest::SnapshotOptions::new().max_failed_pixels(3000);
    harness.snapshot_options("train_view_decision_boundary", &options);
}

#[test]
fn gradual_unfreezing_is_set_in_the_train_view_and_said_as_it_thaws() {
    let dir = run::tempdir("learn-unfreeze");
    // The two-layer MLP with both layers frozen, a few epochs.
    let text = std::fs::read_to_string(format!(
        "{}/examples/two_layer_mlp.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for n in v["nodes"].as_array_mut().unwrap() {
        n["frozen"] = true.into();
    }
    v["training"]["epochs"] = 3.into();
    let design = dir.join("frozen.json");
    std::fs::write(&design, v.to_string()).unwrap();
    let mut harness = app_with_data_dir(Some(design), &dir, egui::vec2(1280.0, 800.0));
    harness.get_by_label("Train").click();
    harness.run_steps(2);
    wait_for_label(
        &mut harness,
        "the preview shows images; this data is vectors",
        60,
    );
    harness.get_by_label("gradual unfreezing").click();
    harness.run_steps(3);
    assert_eq!(harness.state().design().training.unfreeze_every, Some(1));
    harness.get_by_label("one block every");
    harness
        .get_all_by_label("Train")
        .nth(1)
        .unwrap()
        .click_accesskit();
    step_until(&mut harness, 120, "the run never finished", |app| {
        app.runs().last().is_some_and(|r| r.summary.is_some())
    });
    harness.run_steps(3);
    // fc2 thawed first (epoch 1), fc1 at epoch 2; nothing is left frozen after that.
    let thawing = &harness.state().runs().last().unwrap().thawing;
    let order: Vec<&str> = thawing
        .iter()
        .flat_map(|t| t.thawed_now.iter().map(String::as_str))
        .collect();
    assert_eq!(order, ["fc2", "fc1"]);
    harness.get_by_label_contains("epoch 2: unfroze fc1 · 0 block(s) still frozen");
}
