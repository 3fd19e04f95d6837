//! Running the real `netloom` binary and the test's Python PyTorch, for the engine tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `netloom ARGS`; returns (exit code, stdout, stderr).
pub fn netloom(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_netloom"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `netloom ARGS` and fails the test with its stderr unless it exits 0.
pub fn netloom_ok(args: &[&str]) -> String {
    let (code, out, err) = netloom(args);
    assert_eq!(code, 0, "netloom {args:?} failed:\n{err}");
    out
}

/// Runs a Python script with the provisioned torch (scripts/test.sh exports PYTHONPATH).
pub fn python(script: &Path, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is needed for the PyTorch reference (scripts/test.sh provisions torch)");
    assert!(
        out.status.success(),
        "the PyTorch reference failed (run the tests through scripts/test.sh so PYTHONPATH has torch):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh, empty directory for one test.
pub fn tempdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes a test's directory when the test passes and keeps it when it fails, so a failure
/// can be read and a pass leaves nothing behind. The big exports and the mutated designs'
/// runs wrote gigabytes (vgg11_bn's weights in three formats; a 490-million-parameter
/// mutation), which filled a CI machine's disk when every test kept them.
pub struct RemovedOnPass(pub PathBuf);

impl Drop for RemovedOnPass {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// An example design's path (`common::example` parses it instead).
pub fn example_path(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The test reference scripts' directory.
pub fn reference(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference")
        .join(name)
}

/// A small CIFAR-10-format dataset of random pixels (labels cycle through 0–9).
pub fn tiny_cifar(dir: &Path, train: usize, val: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut state = 0x1234_5678_u64;
    let mut records = |n: usize| {
        let mut out = Vec::with_capacity(n * 3073);
        for i in 0..n {
            out.push((i % 10) as u8);
            for _ in 0..3072 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                out.push((state >> 56) as u8);
            }
        }
        out
    };
    std::fs::write(dir.join("data_batch_1.bin"), records(train)).unwrap();
    std::fs::write(dir.join("test_batch.bin"), records(val)).unwrap();
}

/// metrics.csv as rows of cells, without the header.
pub fn metrics(dir: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "kind,epoch,step,lr,loss,train_loss,train_acc,val_loss,val_acc,samples_per_s,precision,threads,val_mae,val_rmse,val_r2,val_miou,val_iou"
    );
    lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// The epoch rows' validation accuracies.
pub fn val_accuracies(dir: &Path) -> Vec<f64> {
    metrics(dir)
        .iter()
        .filter(|r| r[0] == "epoch")
        .map(|r| r[8].parse().unwrap())
        .collect()
}

/// The largest |a − b| over the largest |b|, for two .npy files of one shape.
pub fn relative_error(a: &Path, b: &Path) -> f32 {
    let (a, b) = (
        netloom::engine::npy::read(a).unwrap(),
        netloom::engine::npy::read(b).unwrap(),
    );
    assert_eq!(a.shape, b.shape);
    let scale = b.data.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    let diff = a
        .data
        .iter()
        .zip(&b.data)
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    diff / scale
}
