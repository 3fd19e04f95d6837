//! Frame times, measured when asked for with `--frame-stats` (docs/performance.md).
//!
//! Two figures per frame: eframe's `cpu_usage` (netloom's `ui` plus egui's tessellation and
//! the GL calls, which under a software rasteriser such as Xvfb's llvmpipe include drawing
//! every pixel), and the time in netloom's `ui` alone (what netloom's own code costs,
//! whatever the graphics driver). And the wall time from one frame's start to the next's:
//! what the user sees, including any wait for a core the UI thread didn't get (training
//! beside a busy program must not starve the window).

/// One measure's frame times in seconds, split by whether a run was training.
#[derive(Default)]
struct Split {
    idle: Vec<f32>,
    training: Vec<f32>,
}

impl Split {
    fn push(&mut self, seconds: f32, training: bool) {
        if training {
            self.training.push(seconds);
        } else {
            self.idle.push(seconds);
        }
    }
}

/// Frame times in seconds: three measures, each split by whether a run was training.
#[derive(Default)]
pub struct FrameStats {
    frame: Split,
    ui: Split,
    start_to_start: Split,
    last_start: Option<std::time::Instant>,
}

impl FrameStats {
    /// Records one frame's CPU time (`ui` and rendering).
    pub fn push(&mut self, seconds: f32, training: bool) {
        self.frame.push(seconds, training);
    }

    /// Marks a frame's start: the time since the previous frame's start is recorded.
    pub fn start(&mut self, now: std::time::Instant, training: bool) {
        if let Some(last) = self.last_start.replace(now) {
            let gap = now.duration_since(last).as_secs_f32();
            self.start_to_start.push(gap, training);
        }
    }

    /// Records the time one frame spent in netloom's `ui`.
    pub fn push_ui(&mut self, seconds: f32, training: bool) {
        self.ui.push(seconds, training);
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
        let measures = [
            (&mut self.frame, ""),
            (&mut self.ui, ", ui alone"),
            (&mut self.start_to_start, ", start to start"),
        ];
        measures
            .into_iter()
            .flat_map(|(m, what)| {
                [
                    Self::summary(&format!("idle{what}"), &mut m.idle),
                    Self::summary(&format!("training{what}"), &mut m.training),
                ]
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
