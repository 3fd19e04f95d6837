//! Help → About: the version, the libtorch it runs on, the devices it found, and the licences
//! of everything inside it (netloom's, the bundled dataset's, libtorch's).

use super::NetloomApp;
use crate::engine::available_devices;
use crate::engine::cuda;

const NETLOOM_LICENCE: &str = include_str!("../../LICENSE");
const DATASET_LICENCE: &str = include_str!("../../assets/fashion-mnist/LICENSE");
const LIBTORCH_LICENCE: &str = include_str!("../../assets/licences/pytorch-LICENSE.txt");

/// What the About window shows, gathered once when it opens (finding the devices asks the
/// drivers, which is too slow for every frame).
#[derive(Clone, Debug)]
pub struct About {
    /// "CPU (2 threads)", "CUDA 0: …", one per device found.
    pub devices: Vec<String>,
    /// What became of libtorch's CUDA libraries at start (engine/cuda.rs).
    pub cuda: String,
}

impl About {
    /// Looks the devices up.
    pub fn gather() -> About {
        // The CPU as a run from this window uses it, which is what the Train view reports
        // ("CPU (1 thread)"): the threads the process may use, one left to the window.
        let app = crate::engine::cpus::budget(None, true);
        let cpu = format!(
            "CPU: runs from this window use {} ({})",
            crate::units::count(app.threads as u64, "thread"),
            app.why,
        );
        About {
            devices: available_devices()
                .into_iter()
                .map(|(choice, d)| match choice {
                    crate::engine::DeviceChoice::Cpu => cpu.clone(),
                    _ => d.name,
                })
                .collect(),
            cuda: cuda::init().describe(),
        }
    }
}

/// The libtorch version netloom was built against (from build.rs).
pub const LIBTORCH_VERSION: &str = cuda::LIBTORCH_VERSION;

fn licence(ui: &mut egui::Ui, title: &str, text: &str) {
    egui::CollapsingHeader::new(title)
        .id_salt(title)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt(title)
                .max_height(220.0)
                .show(ui, |ui| {
                    ui.add(egui::Label::new(egui::RichText::new(text).monospace().small()).wrap());
                });
        });
}

impl NetloomApp {
    /// The About window, while open.
    pub(super) fn about_window(&mut self, ctx: &egui::Context) {
        let Some(about) = self.about.clone() else {
            return;
        };
        let mut open = true;
        egui::Window::new("About netloom")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .default_width(520.0)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                ui.heading(format!("netloom {}", env!("CARGO_PKG_VERSION")));
                ui.label(env!("CARGO_PKG_DESCRIPTION"));
                ui.separator();
                egui::Grid::new("about_facts")
                    .num_columns(2)
                    .show(ui, |ui| {
                        ui.label("libtorch");
                        ui.label(LIBTORCH_VERSION);
                        ui.end_row();
                        ui.label("devices found");
                        ui.label(about.devices.join(", "));
                        ui.end_row();
                        ui.label("CUDA");
                        ui.add(egui::Label::new(&about.cuda).wrap());
                        ui.end_row();
                    });
                ui.separator();
                ui.label("Licences");
                licence(ui, "netloom: MIT", NETLOOM_LICENCE);
                licence(
                    ui,
                    "Fashion-MNIST subset (built in): MIT, Zalando SE",
                    DATASET_LICENCE,
                );
                licence(ui, "PyTorch / libtorch: BSD-3-Clause", LIBTORCH_LICENCE);
            });
        if !open {
            self.about = None;
        }
    }
}
