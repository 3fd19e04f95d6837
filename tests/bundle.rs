//! The Linux packages as a user gets them: packaging/linux/build.sh turns the release binary
//! into the .tar.gz (and the .deb where dpkg-deb is present), which are unpacked into a scratch
//! root outside the source tree and run there with an empty HOME, an empty NETLOOM_CACHE, no
//! LD_LIBRARY_PATH and no path into the source tree or the torch cache.
//!
//! Needs the release binary (scripts/test.sh builds it first), patchelf, Xvfb and ImageMagick's
//! `import` (scripts/prerequisites.sh installs them).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn source_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The newest modification time under `dir`.
fn newest(dir: &Path) -> SystemTime {
    let mut latest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let t = if entry.file_type().unwrap().is_dir() {
            newest(&entry.path())
        } else {
            entry.metadata().unwrap().modified().unwrap()
        };
        latest = latest.max(t);
    }
    latest
}

/// target/release/netloom, which must be built from the sources as they are.
fn release_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| source_root().join("target"));
    let binary = target.join("release/netloom");
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "no release binary at {}: run scripts/test.sh, or cargo build --release first",
                binary.display()
            )
        });
    assert!(
        built >= newest(&source_root().join("src")),
        "{} is older than src/: cargo build --release (scripts/test.sh does) before this test",
        binary.display()
    );
    binary
}

fn scratch() -> PathBuf {
    // Outside the source tree (CARGO_TARGET_TMPDIR is inside it), so nothing can be found there.
    let dir = std::env::temp_dir().join(format!("netloom-bundle-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", text(&out));
    text(&out)
}

/// A command for the installed netloom: a user's bare environment in `root`.
fn installed(root: &Path, binary: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", root.join("home"))
        .env("NETLOOM_CACHE", root.join("cache"))
        .env("TMPDIR", root.join("tmp"))
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/netloom-bundle-test",
        )
        .current_dir(root.join("home"));
    cmd
}

/// Builds the packages into `dist`: (tarball, the .deb if dpkg-deb is here).
fn build_packages(dist: &Path) -> (PathBuf, Option<PathBuf>) {
    let out = run_ok(
        Command::new(source_root().join("packaging/linux/build.sh"))
            .arg("--binary")
            .arg(release_binary())
            .arg("--out")
            .arg(dist)
            .arg("--fast"),
    );
    let tarball = dist.join(format!("netloom-{VERSION}-linux-x86_64.tar.gz"));
    assert!(tarball.is_file(), "no tarball:\n{out}");
    assert!(
        out.contains("package: netloom-"),
        "sizes are printed:\n{out}"
    );
    let has_dpkg = Command::new("dpkg-deb").arg("--version").output().is_ok();
    let deb = dist.join(format!("netloom_{VERSION}_amd64.deb"));
    assert_eq!(
        deb.is_file(),
        has_dpkg,
        "a .deb exactly where dpkg-deb is:\n{out}"
    );
    (tarball, has_dpkg.then_some(deb))
}

/// Every library `file` loads resolves, inside `bundle` or from the base system, and none is
/// a CUDA library except the two runtime ones PyPI's libtorch_cpu needs, bundled.
fn check_libraries(file: &Path, bundle: &Path) {
    let out = run_ok(
        Command::new("ldd")
            .arg(file)
            .env_clear()
            .env("PATH", "/usr/bin:/bin"),
    );
    let bundle = bundle.canonicalize().unwrap();
    for line in out.lines().map(str::trim).filter(|l| l.contains("=>")) {
        assert!(
            !line.contains("not found"),
            "{}: {line}\n{out}",
            file.display()
        );
        let name = line.split_whitespace().next().unwrap();
        let path = line
            .split("=>")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        let path = Path::new(path);
        let inside = path.canonicalize().unwrap().starts_with(&bundle);
        let system = ["/lib", "/usr/lib", "/lib64", "/usr/lib64"]
            .iter()
            .any(|d| path.starts_with(d));
        assert!(
            inside || system,
            "{name} from {} (neither bundle nor system)",
            path.display()
        );
        let cuda = [
            "cuda",
            "cublas",
            "cudnn",
            "nccl",
            "cufft",
            "curand",
            "cusolver",
            "cusparse",
            "nvrtc",
            "nvJitLink",
            "nvshmem",
            "cupti",
        ]
        .iter()
        .any(|c| name.contains(c));
        if cuda {
            assert!(
                ["libcudart.so.13", "libcupti.so.13"].contains(&name) && inside,
                "the CPU bundle must not need {name} ({})",
                path.display()
            );
        }
        if name.starts_with("libtorch") || name.starts_with("libc10") || name.starts_with("libgomp")
        {
            assert!(
                inside,
                "{name} must come from the bundle, not {}",
                path.display()
            );
        }
    }
}

fn trains_one_epoch(root: &Path, binary: &Path, example: &Path) {
    let run = root.join("home/run");
    let out = run_ok(installed(root, binary).args([
        "train",
        example.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        run.to_str().unwrap(),
    ]));
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let epochs: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("epoch,"))
        .collect();
    assert_eq!(epochs.len(), 1, "one epoch:\n{metrics}\n{out}");
    // The epoch's validation accuracy: LeNet-5 learns Fashion-MNIST well past chance (10 %).
    let val_acc: f64 = epochs[0].split(',').nth(8).unwrap().parse().unwrap();
    assert!(
        val_acc > 0.5,
        "validation accuracy {val_acc} after one epoch:\n{metrics}"
    );
    assert!(run.join("weights.safetensors").is_file());
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Opens the installed app under Xvfb and waits until the screen shows it.
fn opens_a_window(root: &Path, binary: &Path) {
    let display = format!(":{}", 200 + std::process::id() % 300);
    let _xvfb = Killed(
        Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x720x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is needed (scripts/prerequisites.sh installs xvfb)"),
    );
    std::thread::sleep(Duration::from_millis(500));
    let mut app = Killed(
        installed(root, binary)
            .env("DISPLAY", &display)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let shot = root.join("shot.png");
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_secs(2));
        if let Some(status) = app.0.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(app.0.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("the installed app exited ({status}):\n{err}");
        }
        let out = Command::new("import")
            .args(["-display", &display, "-window", "root"])
            .arg(&shot)
            .output()
            .expect("ImageMagick's import is needed (scripts/prerequisites.sh installs it)");
        if !out.status.success() {
            last = text(&out);
            continue;
        }
        let image = image::open(&shot).unwrap().to_rgb8();
        // Xvfb's empty screen is one colour; netloom's (dark) window has its text, blocks
        // and wires in hundreds of colours, over a good part of the screen.
        let lit = image
            .pixels()
            .filter(|p| p.0.iter().any(|&c| c > 16))
            .count();
        let mut colours: Vec<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        colours.sort_unstable();
        colours.dedup();
        last = format!("{lit} lit pixels, {} colours", colours.len());
        if lit > image.pixels().count() / 10 && colours.len() > 256 {
            return;
        }
    }
    panic!(
        "no window on the screen after 90 s ({last}); see {}",
        shot.display()
    );
}

#[test]
fn the_tarball_and_the_deb_run_from_a_bare_scratch_root() {
    let root = scratch();
    for d in ["home", "cache", "tmp"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let (tarball, deb) = build_packages(&root.join("dist"));

    // The tarball: relocatable, unpacked wherever.
    let opt = root.join("opt");
    std::fs::create_dir_all(&opt).unwrap();
    run_ok(
        Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&opt),
    );
    let bundle = opt.join(format!("netloom-{VERSION}-linux-x86_64"));
    let binary = bundle.join("bin/netloom");
    for file in [
        "share/applications/netloom.desktop",
        "share/icons/hicolor/256x256/apps/netloom.png",
        "share/icons/hicolor/scalable/apps/netloom.svg",
        "share/netloom/examples/lenet5.json",
        "share/doc/netloom/licences/netloom-LICENSE.txt",
        "share/doc/netloom/docs/training.md",
        "share/doc/netloom/licences/pytorch-LICENSE.txt",
        "share/doc/netloom/licences/fashion-mnist-LICENSE.txt",
        "share/doc/netloom/licences/nvidia-cuda-runtime-License.txt",
        "lib/libtorch_cpu.so",
        "lib/libc10.so",
        "lib/libgomp.so.1",
    ] {
        assert!(bundle.join(file).is_file(), "the tarball lacks {file}");
    }
    assert!(!bundle.join("lib/libtorch_cuda.so").exists());

    let version = run_ok(installed(&root, &binary).arg("--version"));
    assert!(
        version.starts_with(&format!("netloom {VERSION}\nlibtorch 2.11.0")),
        "{version}"
    );
    assert!(version.contains("devices: CPU ("), "{version}");
    assert!(
        version.contains("cuda: no CUDA libraries"),
        "the CPU bundle finds none: {version}"
    );

    check_libraries(&binary, &bundle);
    for lib in std::fs::read_dir(bundle.join("lib")).unwrap().flatten() {
        check_libraries(&lib.path(), &bundle);
    }
    trains_one_epoch(
        &root,
        &binary,
        &bundle.join("share/netloom/examples/lenet5.json"),
    );
    opens_a_window(&root, &binary);

    // The .deb: the same files under /opt/netloom, with the link, menu entry and icons.
    if let Some(deb) = deb {
        let info = run_ok(Command::new("dpkg-deb").arg("--info").arg(&deb));
        for field in [
            "Package: netloom",
            "Depends: libc6 (>= 2.",
            "libgl1",
            "libxkbcommon0",
            "libwayland-client0",
        ] {
            assert!(info.contains(field), "{field} in:\n{info}");
        }
        let debroot = root.join("debroot");
        run_ok(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&debroot));
        let link = std::fs::read_link(debroot.join("usr/bin/netloom")).unwrap();
        assert_eq!(link, Path::new("/opt/netloom/bin/netloom"));
        assert!(
            debroot
                .join("usr/share/applications/netloom.desktop")
                .is_file()
        );
        assert!(
            debroot
                .join("usr/share/icons/hicolor/48x48/apps/netloom.png")
                .is_file()
        );
        assert!(debroot.join("usr/share/doc/netloom/copyright").is_file());
        let deb_binary = debroot.join("opt/netloom/bin/netloom");
        let version = run_ok(installed(&root, &deb_binary).arg("--version"));
        assert!(version.contains("devices: CPU ("), "{version}");
        check_libraries(&deb_binary, &debroot.join("opt/netloom"));
    }
    let _ = std::fs::remove_dir_all(&root);
}
