//! Choosing where to train: CUDA when there is a GPU, else Apple's MPS, else the CPU.

use serde::{Deserialize, Serialize};
use tch::{Cuda, Device};

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// CUDA if available, else MPS on macOS, else CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// The first CUDA GPU.
    Cuda,
    /// Apple's Metal Performance Shaders.
    Mps,
}

/// A device that exists on this machine, with a name for people.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedDevice {
    /// The tch device.
    pub device: Device,
    /// E.g. "CPU (2 threads)" or "CUDA 0: NVIDIA H100 80GB HBM3".
    pub name: String,
}

fn cpu_name() -> String {
    format!(
        "CPU ({})",
        crate::units::count(u64::try_from(tch::get_num_threads()).unwrap_or(1), "thread")
    )
}

/// The GPU's marketing name. libtorch's C API has no device-properties call, so ask the
/// driver's tool; fall back to the index when it isn't there.
fn cuda_name(index: usize) -> String {
    let name = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name", "--format=csv,noheader"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .nth(index)
                .map(|l| l.trim().to_owned())
        })
        .filter(|n| !n.is_empty());
    match name {
        Some(n) => format!("CUDA {index}: {n}"),
        None => format!("CUDA {index}"),
    }
}

fn mps_available() -> bool {
    cfg!(target_os = "macos") && tch::utils::has_mps()
}

/// Why the requested device can't be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// No CUDA GPU is visible to libtorch.
    #[error(
        "CUDA was asked for, but libtorch sees no CUDA GPU here (no NVIDIA driver, or a CPU-only libtorch); use --device cpu or auto"
    )]
    NoCuda,
    /// No MPS device here.
    #[error(
        "MPS was asked for, but it exists only on Apple-silicon Macs with a libtorch built for it; use --device cpu or auto"
    )]
    NoMps,
}

impl DeviceChoice {
    /// The device to use, or why the requested one can't be.
    pub fn resolve(self) -> Result<ResolvedDevice, DeviceError> {
        // CUDA exists for libtorch only once its libraries are loaded (main does it first).
        super::cuda::init();
        match self {
            DeviceChoice::Cpu => Ok(ResolvedDevice {
                device: Device::Cpu,
                name: cpu_name(),
            }),
            DeviceChoice::Cuda if Cuda::is_available() => Ok(ResolvedDevice {
                device: Device::Cuda(0),
                name: cuda_name(0),
            }),
            DeviceChoice::Cuda => Err(DeviceError::NoCuda),
            DeviceChoice::Mps if mps_available() => Ok(ResolvedDevice {
                device: Device::Mps,
                name: "Apple MPS".to_owned(),
            }),
            DeviceChoice::Mps => Err(DeviceError::NoMps),
            DeviceChoice::Auto if Cuda::is_available() => DeviceChoice::Cuda.resolve(),
            DeviceChoice::Auto if mps_available() => DeviceChoice::Mps.resolve(),
            DeviceChoice::Auto => DeviceChoice::Cpu.resolve(),
        }
    }
}

impl DeviceChoice {
    /// As [`DeviceChoice::resolve`], on CUDA GPU `gpu` when it resolves to CUDA and that GPU
    /// exists (a sweep trains a trial on each GPU); other devices ignore `gpu`.
    pub fn resolve_gpu(self, gpu: Option<usize>) -> Result<ResolvedDevice, DeviceError> {
        let resolved = self.resolve()?;
        match (resolved.device, gpu) {
            (Device::Cuda(_), Some(i)) if (i as i64) < Cuda::device_count() => Ok(ResolvedDevice {
                device: Device::Cuda(i),
                name: cuda_name(i),
            }),
            _ => Ok(resolved),
        }
    }
}

/// How many CUDA GPUs libtorch sees (0 without CUDA).
pub fn cuda_count() -> usize {
    super::cuda::init();
    if Cuda::is_available() {
        usize::try_from(Cuda::device_count()).unwrap_or(0)
    } else {
        0
    }
}

/// Every device this machine offers, for a selector: the CPU first.
pub fn available_devices() -> Vec<(DeviceChoice, ResolvedDevice)> {
    let mut out = Vec::new();
    for choice in [DeviceChoice::Cpu, DeviceChoice::Cuda, DeviceChoice::Mps] {
        if let Ok(d) = choice.resolve() {
            out.push((choice, d));
        }
    }
    out
}

/// A CUDA GPU's free memory in bytes, from nvidia-smi (libtorch's C API has no call for it);
/// None for other devices or where it can't be read.
pub fn free_memory(device: Device) -> Option<u64> {
    let Device::Cuda(index) = device else {
        return None;
    };
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=memory.free", "--format=csv,noheader,nounits"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let mib: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(index)?
        .trim()
        .parse()
        .ok()?;
    mib.checked_mul(1 << 20)
}

/// This machine's memory in bytes (Linux's MemTotal), where it can be read.
pub fn total_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kb.checked_mul(1024)
}
