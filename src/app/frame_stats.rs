//! Frame times, measured when asked for with `--frame-stats` (docs/performance.md).
//!
//! Two figures per frame: eframe's `cpu_usage` (netloom's `ui` plus egui's tessellation and
//! the GL calls, which under a software rasteriser such as Xvfb's llvmpipe include drawing
//! every pixel), and the time in netloom's `ui` alone (what netloom's own code costs,
//! whatever the graphics driver).

/// Frame times in seconds, split by whether a run was training.
#[derive(Default)]
pub struct FrameStats {
    idle: Vec<f32>,
    training: Vec<f32>,
    ui_idle: Vec<f32>,
    ui_training: Vec<f32>,
}

impl FrameStats {
    /// Records one frame's CPU time (`ui` and rendering).
    pub fn push(&mut self, seconds: f32, training: bool) {
        if training {
            self.training.push(seconds);
        } else {
            self.idle.push(seconds);
        }
    }

    /// Records the time one frame spent in netloom's `ui`.
    pub fn push_ui(&mut self, seconds: f32, training: bool) {
        if training {
            self.ui_training.push(seconds);
        } else {
            self.ui_idle.push(seconds);
        }
    }

    fn summary(name: &str, v: &mut [f32]) -> String {
        if v.is_empty() {
            return format!("{name}: no frames");
        }
        v.sort_by(f32::total_cmp);
        let at = |q: f32| v[((v.len() - 1) as f32 * q).round() as usize] * 1000.0;
        format!(
            "{name}: {} frames, median {:.2} ms, p99 {:.2} ms",
            v.len(),
            at(0.5),
            at(0.99)
        )
    }

    /// One line per state and measure, for stderr.
    pub fn report(&mut self) -> String {
        [
            Self::summary("idle", &mut self.idle),
            Self::summary("training", &mut self.training),
            Self::summary("idle, ui alone", &mut self.ui_idle),
            Self::summary("training, ui alone", &mut self.ui_training),
        ]
        .join("\n")
    }
}
