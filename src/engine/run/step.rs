//! One training step and one epoch's end, with the statistics the UI plots.

use super::Session;
use super::pending::PendingStep;
use crate::data::augment::Rgba;
use crate::data::augment::to_rgba;
use crate::data::masks::overlay;
use crate::data::rng::libtorch_lock;
use crate::engine::batch::{Truth, batch_of, evaluate, loss_of, mix};
use crate::engine::error::{EngineError, TorchContext};
use crate::engine::files::write_text;
use crate::engine::metrics::{Histogram, NodeStats, Throughput, dead_fraction};
use crate::engine::network::Trace;
use crate::engine::optim::clip_grad_norm;
use crate::engine::protocol::{Emitter, EpochMetrics, EpochViews, EventKind};
use crate::engine::regression::RegressionFit;
use crate::engine::run_dir::RunDir;
use crate::engine::schedule::learning_rate;
use crate::engine::segmentation::SegmentationFit;
use std::collections::HashMap;
use std::time::Instant;
use tch::{Kind, Tensor};

/// Images shown per Samples event.
const SHOWN: i64 = 16;

impl Session<'_> {
    /// One optimizer step on the next batch of the epoch's `order` (its rows on the device in
    /// `order_on_device`, uploaded once per epoch). Its loss and accuracy stay on the device
    /// until [`Session::flush`] reads them.
    pub(super) fn train_step(
        &mut self,
        order: &[i64],
        order_on_device: &Tensor,
        rate: &mut Throughput,
        emit: &Emitter,
    ) -> Result<(), EngineError> {
        let batch = self.settings().batch_size.max(1) as usize;
        let start = self.state.step_in_epoch as usize * batch;
        let end = (start + batch).min(order.len());
        let rows = order.get(start..end).unwrap_or_default();
        let idx = order_on_device
            .f_narrow(0, start as i64, rows.len() as i64)
            .ctx("taking a batch")?;
        let step = self.state.step;
        let seed = self.state.seed;
        let stats = step.is_multiple_of(self.job.options.stats_every.max(1));
        let (mut x, mut y) = batch_of((&self.train.0, &self.train.1), &idx, self.net.device)?;
        if let Some(aug) = &self.aug {
            // Masks move with their images.
            let masks = (y.kind() == Kind::Uint8).then_some(&y);
            let (ax, ay) = aug.apply_joint(&x, masks, mix(seed, 2, step))?;
            x = ax;
            if let Some(ay) = ay {
                y = ay;
            }
        }
        if stats && x.dim() == 4 {
            self.offer_samples(&x, rows, emit);
        }
        let x = self.pre.apply(&x)?;
        // Dropout draws from libtorch's generator: seed it from the step so a resumed run
        // drops the same units.
        let rng = libtorch_lock();
        tch::manual_seed(mix(seed, 3, step) as i64);
        self.optim.zero_grad(&self.net.params);
        let mut trace = Trace {
            outputs: Vec::new(),
        };
        let logits = self.net.forward(&x, true, stats.then_some(&mut trace))?;
        drop(rng);
        let loss = loss_of(&self.net, &logits, &y)?;
        let apply = self.backward(&loss)?;
        let n = rows.len() as u64;
        rate.tick(n);
        let lr = learning_rate(self.settings(), step, self.steps_per_epoch);
        self.pending.push(PendingStep {
            epoch: self.state.epochs_done + 1,
            step: step + 1,
            step_in_epoch: self.state.step_in_epoch + 1,
            samples: n,
            lr,
            samples_per_s: rate.samples_per_s(),
            eta_s: rate.eta_s(),
            loss: loss.detach(),
            correct: if y.kind() != Kind::Int64 {
                // Regression and segmentation are measured on validation data (R², IoU).
                Tensor::zeros([], (Kind::Int64, y.device()))
            } else {
                logits
                    .f_argmax(1, false)
                    .and_then(|p| p.f_eq_tensor(&y))
                    .and_then(|c| c.f_sum(Kind::Int64))
                    .ctx("accuracy")?
            },
        });
        // Read before the weights change, so that a diverged loss stops the run before its
        // step is applied wherever the window is one step (the CPU's default).
        if self.pending.len() as u64 >= self.sync_every {
            self.flush(emit)?;
        }
        if apply && let Some(max) = self.settings().clip_grad_norm {
            clip_grad_norm(&self.net.params, max)?;
        }
        if stats {
            let nodes = self.node_stats(&trace, apply)?;
            emit.offer(EventKind::Histograms { step, nodes });
        }
        drop(trace);
        if apply {
            self.optim.step(&self.net.params, lr)?;
        }
        self.state.step += 1;
        self.state.step_in_epoch += 1;
        Ok(())
    }

    /// The backward pass: straight, or for fp16 through the loss scale. Returns whether the
    /// optimizer should apply this step (false when fp16 gradients overflowed; the scale is
    /// then lowered and the step skipped, as `GradScaler` does).
    fn backward(&mut self, loss: &Tensor) -> Result<bool, EngineError> {
        let Some(scale) = &mut self.state.loss_scale else {
            loss.f_backward().ctx("backward pass")?;
            return Ok(true);
        };
        loss.f_mul_scalar(scale.scale)
            .ctx("scaling the loss")?
            .f_backward()
            .ctx("backward pass")?;
        let grads: Vec<Tensor> = self
            .net
            .params
            .trainable()
            .map(|p| p.tensor.grad())
            .collect();
        scale.unscale(&grads)
    }

    /// The first images of a batch as the network is fed them, for the samples strip.
    fn offer_samples(&self, x: &Tensor, rows: &[i64], emit: &Emitter) {
        let shown = x
            .narrow(0, 0, SHOWN.min(x.size()[0]))
            .to_device(tch::Device::Cpu);
        if let Ok(images) = to_rgba(&shown) {
            let labels = rows
                .iter()
                .take(images.len())
                .filter_map(|&r| self.job.data.train.labels.get(r as usize).copied())
                .collect();
            emit.offer(EventKind::Samples {
                step: self.state.step,
                images,
                labels,
            });
        }
    }

    /// Each traced node's activation histogram, dead fraction and gradient norm. A step fp16
    /// skipped (its gradients overflowed) has no gradient norms to show: they are the scaled,
    /// infinite ones.
    fn node_stats(&mut self, trace: &Trace, applied: bool) -> Result<Vec<NodeStats>, EngineError> {
        let _guard = tch::no_grad_guard();
        let mut grad_sq: HashMap<&str, f64> = HashMap::new();
        for p in self.net.params.trainable().filter(|_| applied) {
            let g = p.tensor.grad();
            if g.defined() {
                let n = g.norm().double_value(&[]);
                *grad_sq.entry(p.node.as_str()).or_default() += n * n;
            }
        }
        let mut out = Vec::with_capacity(trace.outputs.len());
        for (name, relu, y) in &trace.outputs {
            let (lo, hi) = *self
                .histogram_edges
                .entry(name.clone())
                .or_insert_with(|| Histogram::edges_for(y));
            out.push(NodeStats {
                node: name.clone(),
                activation: Histogram::compute(y, lo, hi)?,
                grad_norm: grad_sq.get(name.as_str()).map(|s| s.sqrt() as f32),
                dead_fraction: if *relu { Some(dead_fraction(y)?) } else { None },
            });
        }
        Ok(out)
    }

    /// Validates, writes the epoch row and resets the epoch's sums.
    pub(super) fn finish_epoch(
        &mut self,
        started: Instant,
        emit: &Emitter,
    ) -> Result<EpochMetrics, EngineError> {
        self.flush(emit)?;
        let batch = (self.settings().batch_size as i64).max(256);
        let report = evaluate(
            &self.net,
            &self.pre,
            (&self.val.0, &self.val.1),
            Truth::of(&self.job.data),
            batch,
        )?;
        let no_train_acc = self.job.data.quantity.is_some() || self.job.data.is_segmentation();
        let seen = self.state.epoch_seen.max(1) as f64;
        self.state.epochs_done += 1;
        let m = EpochMetrics {
            epoch: self.state.epochs_done,
            step: self.state.step,
            train_loss: self.state.epoch_loss_sum / seen,
            train_acc: if no_train_acc {
                f64::NAN
            } else {
                self.state.epoch_correct as f64 / seen
            },
            val_loss: report.loss,
            val_acc: report.accuracy,
            confusion: report.confusion,
            regression: report.regression,
            segmentation: report.segmentation,
            seconds: started.elapsed().as_secs_f64(),
        };
        let lr = learning_rate(
            self.settings(),
            self.state.step.saturating_sub(1),
            self.steps_per_epoch,
        );
        let sps = self.state.epoch_seen as f64 / m.seconds.max(1e-9);
        if let Some(notice) = self.csv.row(format!(
            "epoch,{},{},{lr},,{},{},{},{},{sps:.1},{},{},{},{}\n",
            m.epoch,
            m.step,
            m.train_loss,
            cell(m.train_acc),
            m.val_loss,
            cell(m.val_acc),
            self.net.compute.name(),
            self.threads_cell(),
            regression_cells(m.regression.as_ref()),
            segmentation_cells(m.segmentation.as_ref()),
        )) {
            emit.send(EventKind::Notice(notice));
        }
        self.state.step_in_epoch = 0;
        self.state.epoch_loss_sum = 0.0;
        self.state.epoch_correct = 0;
        self.state.epoch_seen = 0;
        Ok(m)
    }

    /// What the net does with validation images, for the UI's feature-map, filter and
    /// prediction views. None for vector data.
    pub(super) fn views(&self) -> Result<Option<EpochViews>, EngineError> {
        let _guard = tch::no_grad_guard();
        let n = self.job.data.val.len().min(16) as i64;
        if n == 0 || self.job.data.shape.as_image().is_none() {
            return Ok(None);
        }
        let device = self.net.device;
        let idx = Tensor::f_arange(n, (Kind::Int64, device)).ctx("views")?;
        let (raw, _) = batch_of((&self.val.0, &self.val.1), &idx, device)?;
        let x = self.pre.apply(&raw)?;
        let mut trace = Trace {
            outputs: Vec::new(),
        };
        let logits = self.net.forward(&x, false, Some(&mut trace))?;
        let images = to_rgba(&raw.to_device(tch::Device::Cpu))?;
        let (predictions, segments) = if self.job.data.is_segmentation() {
            (Vec::new(), self.segments(&images, &logits)?)
        } else {
            let pred: Vec<i64> = Vec::try_from(
                logits
                    .f_argmax(1, false)
                    .ctx("views")?
                    .to_device(tch::Device::Cpu),
            )
            .map_err(|e| EngineError::torch("views", e))?;
            let labels = &self.job.data.val.labels;
            let predictions = images
                .into_iter()
                .zip(labels)
                .zip(&pred)
                .map(|((img, &t), &p)| (img, t, p as u32))
                .collect();
            (predictions, Vec::new())
        };
        let convs = self.net.conv_nodes();
        let mut feature_maps = Vec::new();
        for (name, _, y) in &trace.outputs {
            if !convs.contains(name) || y.dim() != 4 {
                continue;
            }
            // Channels of the first image, each scaled to [0, 1] on its own.
            let c = y.size()[1].min(32);
            let maps = y
                .narrow(0, 0, 1)
                .narrow(1, 0, c)
                .reshape([c, 1, y.size()[2], y.size()[3]]);
            feature_maps.push((
                name.clone(),
                to_rgba(&unit_scale(&maps)?.to_device(tch::Device::Cpu))?,
            ));
        }
        let filters = match self.net.first_conv_weight() {
            Some(w) if w.dim() == 4 && matches!(w.size()[1], 1 | 3) => {
                let o = w.size()[0].min(64);
                to_rgba(&unit_scale(&w.detach().narrow(0, 0, o))?.to_device(tch::Device::Cpu))?
            }
            _ => Vec::new(),
        };
        Ok(Some(EpochViews {
            epoch: self.state.epochs_done,
            feature_maps,
            filters,
            predictions,
            segments,
        }))
    }

    /// The first validation images with their true and predicted masks over them.
    fn segments(&self, images: &[Rgba], logits: &Tensor) -> Result<Vec<[Rgba; 3]>, EngineError> {
        const SHOWN_SEGMENTS: usize = 6;
        let n = images.len().min(SHOWN_SEGMENTS);
        let predicted: Vec<u8> = Vec::try_from(
            logits
                .f_narrow(0, 0, n as i64)
                .and_then(|l| l.f_argmax(1, false))
                .ctx("views")?
                .to_kind(Kind::Uint8)
                .flatten(0, -1)
                .to_device(tch::Device::Cpu),
        )
        .map_err(|e| EngineError::torch("views", e))?;
        let pixels = predicted.len() / n.max(1);
        Ok((0..n)
            .map(|i| {
                let truth = self
                    .job
                    .data
                    .val
                    .masks
                    .get(i)
                    .map_or(&[][..], Vec::as_slice);
                let guess = predicted
                    .get(i * pixels..(i + 1) * pixels)
                    .unwrap_or_default();
                [
                    images[i].clone(),
                    overlay(&images[i], truth),
                    overlay(&images[i], guess),
                ]
            })
            .collect())
    }

    /// Writes a checkpoint: weights, optimizer state and run state as one set, and the best
    /// weights when `best` ([`crate::engine::checkpoint::Checkpoints::write`]).
    pub(super) fn checkpoint(&mut self, emit: &Emitter, best: bool) -> Result<(), EngineError> {
        self.flush(emit)?;
        let Some(dir) = self.job.options.out_dir.clone() else {
            return Ok(());
        };
        if self.design_pending {
            let text = crate::design::to_json(&self.job.design);
            write_text(&RunDir::at(&dir).design(), "write the design", &text)?;
            self.design_pending = false;
        }
        self.state.optimizer_steps = self.optim.steps;
        self.csv.sync()?;
        self.state.metrics_len = self.csv.len;
        let mut edges: Vec<(String, f32, f32)> = self
            .histogram_edges
            .iter()
            .map(|(n, (lo, hi))| (n.clone(), *lo, *hi))
            .collect();
        edges.sort_by(|a, b| a.0.cmp(&b.0));
        self.state.histogram_edges = edges;
        let weights = self.net.params.to_named_cpu();
        let optimizer = self.optim.state_tensors();
        if let Some(checkpoints) = &mut self.checkpoints {
            checkpoints.write(&mut self.state, &weights, &optimizer, best)?;
        }
        emit.send(EventKind::Checkpoint {
            path: dir.join(crate::engine::checkpoint::WEIGHTS),
            epoch: self.state.epochs_done,
            best,
        });
        Ok(())
    }
}

/// A metric's cell: empty where the run has no such metric (a regression's accuracy).
fn cell(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        v.to_string()
    }
}

/// The `val_mae,val_rmse,val_r2` cells: empty for classification.
fn regression_cells(fit: Option<&RegressionFit>) -> String {
    fit.map_or_else(
        || ",,".to_owned(),
        |f| format!("{},{},{}", f.mae, f.rmse, cell(f.r2)),
    )
}

/// The `val_miou,val_iou` cells (each class's IoU, `;`-separated): empty but for
/// segmentation.
fn segmentation_cells(fit: Option<&SegmentationFit>) -> String {
    fit.map_or_else(
        || ",".to_owned(),
        |f| {
            let each: Vec<String> = f.iou.iter().map(|&v| cell(v)).collect();
            format!("{},{}", cell(f.mean_iou), each.join(";"))
        },
    )
}

/// Scales each image of `[n, c, h, w]` to [0, 1] on its own (min–max), for display.
fn unit_scale(x: &Tensor) -> Result<Tensor, EngineError> {
    let n = x.size()[0];
    let flat = x.f_reshape([n, -1]).ctx("scaling for display")?;
    let lo = flat.f_amin(&[1i64][..], true).ctx("scaling for display")?;
    let hi = flat.f_amax(&[1i64][..], true).ctx("scaling for display")?;
    let scaled = (flat - &lo) / (hi - lo).clamp_min(1e-12);
    scaled
        .f_reshape(x.size().as_slice())
        .ctx("scaling for display")
}
