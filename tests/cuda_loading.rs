//! libtorch_cuda, loaded with dlopen at start (engine/cuda.rs), must register CUDA with libtorch
//! exactly as linking it did. There is no GPU here, so the test tells the two apart by what
//! libtorch says when asked for a CUDA tensor: with its CUDA half registered it looks for the
//! driver; without, it says it has no CUDA library at all.
//!
//! Each case runs in a child process of this test binary with its own `NETLOOM_CUDA`, as the
//! loading must come before the process's first tensor operation.

use std::process::Command;
use tch::{Device, Kind, Tensor};

const CHILD: &str = "NETLOOM_TEST_CUDA_CHILD";

/// What libtorch says when asked for a CUDA tensor in a child with `NETLOOM_CUDA=mode`.
fn cuda_tensor_error(mode: &str) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new(exe)
        .args([
            "--exact",
            "child_reports_a_cuda_tensor",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("NETLOOM_CUDA", mode)
        .env_remove("NETLOOM_LIBTORCH_CUDA")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("CUDA TENSOR: "))
        .unwrap_or_else(|| panic!("child said nothing: {stdout}"))
        .to_owned()
}

#[test]
#[ignore = "not a test: the child process that loading_libtorch_cuda_at_start_registers_cuda_with_libtorch runs"]
fn child_reports_a_cuda_tensor() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "run by loading_libtorch_cuda_at_start_registers_cuda_with_libtorch, with {CHILD} set"
    );
    let support = netloom::engine::cuda::init();
    let answer = match Tensor::f_zeros([1], (Kind::Float, Device::Cuda(0))) {
        Ok(_) => "created".to_owned(),
        Err(e) => e.to_string().replace('\n', " "),
    };
    #[allow(clippy::print_stdout)]
    {
        println!("CUDA SUPPORT: {}", support.describe());
        println!("CUDA TENSOR: {answer}");
    }
}

#[test]
#[cfg(target_os = "linux")]
// A CPU-only libtorch (a libtorch zip, macOS) has nothing to load; the loader's own unit tests
// cover finding it. build.rs sets the cfg where libtorch_cuda.so is beside libtorch.
#[cfg_attr(
    not(netloom_libtorch_cuda),
    ignore = "needs the CUDA build of libtorch (the PyPI wheel's)"
)]
fn loading_libtorch_cuda_at_start_registers_cuda_with_libtorch() {
    let loaded = cuda_tensor_error("on");
    let not_loaded = cuda_tensor_error("off");
    // Registered: libtorch's CUDA hooks ask for the driver (or, on a GPU machine, succeed).
    assert!(
        loaded == "created" || loaded.contains("driver") || loaded.contains("NVIDIA"),
        "with libtorch_cuda loaded: {loaded}"
    );
    // Not registered: libtorch has no CUDA backend at all.
    assert!(
        !not_loaded.contains("driver") && not_loaded != "created",
        "without libtorch_cuda: {not_loaded}"
    );
    assert_ne!(loaded, not_loaded);
}
