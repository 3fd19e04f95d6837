//! Links netloom's binaries (and tests, examples, benches) to libtorch so that they run as built.
//!
//! torch-sys (a direct dependency for this reason) passes us its libtorch lib directory as
//! `DEP_TCH_LIBTORCH_LIB`. With it we:
//! - embed an rpath, so the binary finds libtorch without LD_LIBRARY_PATH;
//! - link libtorch_cuda with `--no-as-needed`. libtorch_cuda registers CUDA from static
//!   initialisers and nothing references its symbols directly, so an `--as-needed` linker drops it
//!   and `Cuda::is_available()` is then always false (tch-rs issues #907, #980).
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
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        // Windows: torch-sys does not export the directory; the DLLs must be on PATH there.
        println!("cargo:rustc-env=NETLOOM_LIBTORCH_VERSION=unknown");
        return;
    };
    let lib_dir = Path::new(&lib);
    println!(
        "cargo:rustc-env=NETLOOM_LIBTORCH_VERSION={}",
        libtorch_version(lib_dir)
    );
    match target_os.as_str() {
        "linux" => {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
            for name in ["torch_cuda", "torch_cpu", "torch", "c10_cuda", "c10"] {
                if lib_dir.join(format!("lib{name}.so")).exists() {
                    println!("cargo:rustc-link-arg=-L{lib}");
                    println!("cargo:rustc-link-arg=-l{name}");
                }
            }
            println!("cargo:rustc-link-arg=-Wl,--as-needed");
        }
        "macos" => println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}"),
        _ => {}
    }
}
