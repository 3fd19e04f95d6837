//! Links netloom's binaries (and tests, examples, benches) to libtorch so that they run as built.
//!
//! torch-sys (a direct dependency for this reason) passes us its libtorch lib directory as
//! `DEP_TCH_LIBTORCH_LIB`. With it we:
//! - embed an rpath, so the binary finds libtorch without LD_LIBRARY_PATH;
//! - tell engine/cuda.rs where libtorch_cuda is. It is *not* linked: the `--as-needed` linker
//!   drops it anyway (nothing references its symbols; tch-rs #907, #980), and linking it with
//!   `--no-as-needed`, as netloom once did, made the CUDA libraries mandatory. engine/cuda.rs
//!   loads it at start instead, when it is there and there is a driver;
//! - record the libtorch version for `--version` and Help → About.
#![allow(clippy::print_stdout)] // cargo reads a build script's directives from stdout

use std::path::Path;

/// The libtorch version, for Help → About: a pip wheel's `torch/version.py`
/// (`__version__ = '2.11.0+cu130'`), or a libtorch zip's `build-version`.
fn libtorch_version(lib_dir: &Path) -> String {
    let root = lib_dir.parent().unwrap_or(lib_dir);
    if let Ok(text) = std::fs::read_to_string(root.join("version.py"))
        && let Some(line) = text.lines().find(|l| l.starts_with("__version__"))
        && let Some(v) = line.split(['\'', '"']).nth(1)
    {
        return v.to_owned();
    }
    std::fs::read_to_string(root.join("build-version"))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Set when libtorch has its CUDA half (the PyPI wheel's): tests/cuda_loading.rs runs only
    // then, and is marked ignored, saying why, with a CPU-only libtorch.
    println!("cargo::rustc-check-cfg=cfg(netloom_libtorch_cuda)");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // torch-sys passes its lib directory on Linux and macOS; on Windows it doesn't, and the
    // build then reads LIBTORCH as torch-sys does (a libtorch zip or a pip wheel's torch/).
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").ok().or_else(|| {
        std::env::var("LIBTORCH")
            .ok()
            .map(|root| Path::new(&root).join("lib").display().to_string())
    });
    let Some(lib) = lib else {
        println!("cargo:rustc-env=NETLOOM_LIBTORCH_VERSION=unknown");
        println!("cargo:rustc-env=NETLOOM_LIBTORCH_LIB=");
        return;
    };
    let lib_dir = Path::new(&lib);
    println!(
        "cargo:rustc-env=NETLOOM_LIBTORCH_VERSION={}",
        libtorch_version(lib_dir)
    );
    // Where engine/cuda.rs looks for libtorch_cuda in a source build.
    println!("cargo:rustc-env=NETLOOM_LIBTORCH_LIB={lib}");
    if lib_dir.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-cfg=netloom_libtorch_cuda");
    }
    match target_os.as_str() {
        // The binary finds libtorch without LD_LIBRARY_PATH; packaging/ rewrites this rpath to
        // the bundle's own lib/ folder.
        "linux" | "macos" => println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}"),
        // Windows has no rpath: the DLLs go beside netloom.exe (packaging/windows), or on PATH.
        _ => {}
    }
}
