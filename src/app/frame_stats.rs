//! Frame times, measured when asked for with `--frame-stats` (docs/performance.md).

/// Frame times (CPU seconds in `ui`), split by whether a run was training.
#[derive(Default)]
pub struct FrameStats {
    idle: Vec<f32>,
    training: Vec<f32>,
}

impl FrameStats {
    /// Records one frame's CPU time.
    pub fn push(&mut self, seconds: f32, training: bool) {
        if training {
            self.training.push(seconds);
        } else {
            self.idle.push(seconds);
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

    /// One line per state, for stderr.
    pub fn report(&mut self) -> String {
        format!(
            "{}\n{}",
            Self::summary("idle", &mut self.idle),
            Self::summary("training", &mut self.training)
        )
    }
}
