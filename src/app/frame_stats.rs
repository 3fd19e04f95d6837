//! Frame times, measured when asked for with `--frame-stats` (docs/performance.md).
//!
//! Two figures per frame: eframe's `cpu_usage` (netloom's `ui` plus egui's tessellation and
//! the GL calls, which under a software rasteriser such as Xvfb's llvmpipe include drawing
//! every pixel), and the time in netloom's `ui` alone (what netloom's own code costs,
//! whatever the graphics driver). And the wall time from one frame's start to the next's:
//! what the user sees, including any wait for a core the UI thread didn't get (training
//! beside a busy program must not starve the window).

/// Frame times in seconds, split by whether a run was training.
#[derive(Default)]
pub struct FrameStats {
    idle: Vec<f32>,
    training: Vec<f32>,
    ui_idle: Vec<f32>,
    ui_training: Vec<f32>,
    gap_idle: Vec<f32>,
    gap_training: Vec<f32>,
    last_start: Option<std::time::Instant>,
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

    /// Marks a frame's start: the time since the previous frame's start is recorded.
    pub fn start(&mut self, now: std::time::Instant, training: bool) {
        if let Some(last) = self.last_start.replace(now) {
            let gap = now.duration_since(last).as_secs_f32();
            if training {
                self.gap_training.push(gap);
            } else {
                self.gap_idle.push(gap);
            }
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
            Self::summary("idle, start to start", &mut self.gap_idle),
            Self::summary("training, start to start", &mut self.gap_training),
        ]
        .join("\n")
    }
}
