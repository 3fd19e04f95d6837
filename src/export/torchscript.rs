//! TorchScript, written from Rust: the compiled network traced in eval mode by libtorch's own
//! tracer and saved as a `torch.jit` archive, which `torch.jit.load` (Python) and
//! `torch::jit::load` (C++) read.
//!
//! Tracing records the operators the engine runs, so the file computes exactly what
//! `netloom forward` does. None of them depends on the batch size (flatten keeps dimension 0,
//! concatenation is along channels), so the one trace serves every batch size.
//!
//! libtorch's archive writer aborts the whole process when a write fails part-way (its
//! destructor throws while the first error unwinds: SIGABRT on a full disk, with a `.partial`
//! file left behind). So libtorch writes to memory, and netloom writes the bytes to disk
//! through the same checked, atomic path as every other export: a full disk or a read-only
//! folder is then a plain error.

use super::ExportError;
use crate::engine::Network;
use tch::{CModule, Kind, Tensor};

/// Traces `net` (weights loaded) and returns the archive's bytes.
pub fn torchscript_bytes(net: &Network) -> Result<Vec<u8>, ExportError> {
    let _guard = tch::no_grad_guard();
    net.params.stop_gradients();
    let mut dims = vec![2i64];
    dims.extend(net.input_shape.dims().iter().map(|&d| d as i64));
    let example = Tensor::zeros(dims.as_slice(), (Kind::Float, net.device));
    let mut failure = None;
    let module = CModule::create_by_tracing("Netloom", "forward", &[example], &mut |xs| match xs
        .first()
        .map(|x| net.forward(x, false, None))
    {
        Some(Ok(y)) => vec![y],
        Some(Err(e)) => {
            failure = Some(e.to_string());
            Vec::new()
        }
        None => Vec::new(),
    })
    .map_err(|e| ExportError::Torch(format!("tracing the network failed: {}", first_line(&e))))?;
    if let Some(why) = failure {
        return Err(ExportError::Torch(format!(
            "tracing the network failed: {why}"
        )));
    }
    within_file_size_limit(net)?;
    save_in_memory(&module)
}

/// A file-size limit (`ulimit -f`) applies to an in-memory file too, and libtorch would abort
/// on reaching it: an archive that can't fit under it is refused before it is written. The
/// archive is the weights plus, generously, a megabyte and a kilobyte per tensor of code and
/// zip records.
#[cfg(target_os = "linux")]
fn within_file_size_limit(net: &Network) -> Result<(), ExportError> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Fsize).current;
    let tensors = net.params.shapes().len() as u64;
    let need = net.params.total_bytes() + (1 << 20) + tensors * 1024;
    match limit {
        Some(limit) if limit < need => Err(ExportError::Destination(format!(
            "the TorchScript file can't be written: this process may write files of at most {} (its file-size limit, ulimit -f), and the archive needs about {}; raise the limit",
            crate::units::bytes(limit),
            crate::units::bytes(need)
        ))),
        _ => Ok(()),
    }
}

#[cfg(not(target_os = "linux"))]
fn within_file_size_limit(_: &Network) -> Result<(), ExportError> {
    Ok(())
}

/// libtorch's message without its C++ backtrace.
fn first_line(e: &tch::TchError) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}

/// The archive `module.save` writes, written into an anonymous in-memory file (Linux's
/// memfd, reached by its /proc path) so that no disk is involved.
#[cfg(target_os = "linux")]
fn save_in_memory(module: &CModule) -> Result<Vec<u8>, ExportError> {
    use std::io::{Read, Seek};
    let memory = |e: std::io::Error| {
        ExportError::Torch(format!(
            "could not make an in-memory file for TorchScript: {e}"
        ))
    };
    let fd = rustix::fs::memfd_create("netloom-torchscript", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(|e| memory(e.into()))?;
    let mut file = std::fs::File::from(fd);
    let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
    module.save(&path).map_err(|e| {
        ExportError::Torch(format!("writing TorchScript failed: {}", first_line(&e)))
    })?;
    file.rewind().map_err(memory)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(memory)?;
    Ok(bytes)
}

/// Elsewhere libtorch writes a temporary file in the system's temporary folder, read back and
/// removed: a failure there can't touch the user's folder.
#[cfg(not(target_os = "linux"))]
fn save_in_memory(module: &CModule) -> Result<Vec<u8>, ExportError> {
    let path = std::env::temp_dir().join(format!("netloom-torchscript-{}.pt", std::process::id()));
    let saved = module
        .save(&path)
        .map_err(|e| ExportError::Torch(format!("writing TorchScript failed: {}", first_line(&e))));
    let bytes = saved.and_then(|()| {
        std::fs::read(&path)
            .map_err(|e| ExportError::Torch(format!("reading TorchScript back failed: {e}")))
    });
    let _ = std::fs::remove_file(&path);
    bytes
}
