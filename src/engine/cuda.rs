//! libtorch's CUDA half, loaded at start when it is there.
//!
//! netloom links only libtorch's CPU libraries (libtorch_cpu, libc10, libgomp), so one binary
//! starts on any machine, and a packaged netloom ships only those. libtorch_cuda registers CUDA
//! with libtorch from its static initialisers, so loading it with `dlopen` (RTLD_GLOBAL) before
//! the first tensor operation gives libtorch CUDA exactly as linking it would: `--device auto`
//! then picks the GPU. Where it is looked for, in order:
//!
//! 1. `NETLOOM_LIBTORCH_CUDA`: a pip `torch==2.11.0` site-packages (or its `torch/lib`), or any
//!    folder holding `libtorch_cuda.so`;
//! 2. beside the libtorch_cpu this process loaded: the wheel a source build was linked against
//!    (through its rpath), or one `LD_LIBRARY_PATH` chose;
//! 3. the CUDA add-on under that folder, as a packaged netloom has it (`lib/cuda/torch/lib`).
//!
//! So a packaged netloom never reaches for libraries outside its own folder unless told to.
//!
//! Without an NVIDIA driver CUDA can't run, so the ~0.5 GB of CUDA libraries are then not
//! loaded at all (that mapping is most of a CPU machine's start-up time); `NETLOOM_CUDA=on`
//! loads them anyway, `NETLOOM_CUDA=off` never does.
//!
//! This is the crate's one `unsafe`: loading a shared library runs its initialisers. They are
//! libtorch's own, of the exact libtorch version netloom was built against (checked below).
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The libtorch version netloom was built against (`2.11.0+cu130`), from build.rs.
pub const LIBTORCH_VERSION: &str = env!("NETLOOM_LIBTORCH_VERSION");

/// The libtorch `lib` folder a source build was linked against ("" where unknown): where
/// libtorch_cpu is when the process can't say where it loaded it from.
const BUILD_LIBTORCH_LIB: &str = env!("NETLOOM_LIBTORCH_LIB");

#[cfg(target_os = "linux")]
const CUDA_LIBRARY: &str = "libtorch_cuda.so";
#[cfg(windows)]
const CUDA_LIBRARY: &str = "torch_cuda.dll";
#[cfg(not(any(target_os = "linux", windows)))]
const CUDA_LIBRARY: &str = "";

#[cfg(target_os = "linux")]
const CPU_LIBRARY: &str = "libtorch_cpu.so";
#[cfg(windows)]
const CPU_LIBRARY: &str = "torch_cpu.dll";
#[cfg(not(any(target_os = "linux", windows)))]
const CPU_LIBRARY: &str = "libtorch_cpu.dylib";

/// What became of libtorch's CUDA libraries at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CudaSupport {
    /// Loaded from this folder: libtorch can use CUDA wherever the driver sees a GPU.
    Loaded(PathBuf),
    /// Found in this folder but not loaded, as there is no NVIDIA driver here.
    NoDriver(PathBuf),
    /// `NETLOOM_CUDA=off`.
    Off,
    /// No CUDA libraries found: CPU only (the packaged netloom without its CUDA add-on).
    NotFound,
    /// Found or asked for, but unusable: what is wrong and what to change.
    Failed(String),
    /// There is no CUDA build of libtorch for this platform (macOS).
    NotOnThisPlatform,
}

impl CudaSupport {
    /// Whether libtorch's CUDA half is loaded.
    pub fn is_loaded(&self) -> bool {
        matches!(self, CudaSupport::Loaded(_))
    }

    /// One line for people, e.g. for `--version` and Help → About.
    pub fn describe(&self) -> String {
        match self {
            CudaSupport::Loaded(dir) => format!("CUDA libraries loaded from {}", dir.display()),
            CudaSupport::NoDriver(dir) => format!(
                "CUDA libraries found in {}, not loaded: no NVIDIA driver (libcuda) on this machine",
                dir.display()
            ),
            CudaSupport::Off => "CUDA not loaded (NETLOOM_CUDA=off)".to_owned(),
            CudaSupport::NotFound => "no CUDA libraries (CPU build; add the CUDA add-on or set \
                 NETLOOM_LIBTORCH_CUDA to a pip torch==2.11.0 for GPUs)"
                .to_owned(),
            CudaSupport::Failed(why) => format!("CUDA libraries not loaded: {why}"),
            CudaSupport::NotOnThisPlatform => "no CUDA on this platform".to_owned(),
        }
    }
}

/// Loads libtorch's CUDA libraries if they are there and usable, once per process; call it
/// before the first tensor operation (main does). Later calls return the first one's answer.
pub fn init() -> &'static CudaSupport {
    static SUPPORT: OnceLock<CudaSupport> = OnceLock::new();
    SUPPORT.get_or_init(|| {
        let probe = Probe {
            mode: std::env::var("NETLOOM_CUDA").unwrap_or_default(),
            from_env: std::env::var_os("NETLOOM_LIBTORCH_CUDA").map(PathBuf::from),
            cpu_lib: loaded_cpu_lib(),
        };
        probe.run(driver_present, load_global)
    })
}

/// What decides where CUDA is looked for; separate from the process so tests can vary it.
struct Probe {
    mode: String,
    from_env: Option<PathBuf>,
    /// The folder of the libtorch_cpu in use.
    cpu_lib: Option<PathBuf>,
}

impl Probe {
    fn run(
        &self,
        driver: impl Fn() -> bool,
        load: impl Fn(&Path) -> Result<(), String>,
    ) -> CudaSupport {
        if CUDA_LIBRARY.is_empty() {
            return CudaSupport::NotOnThisPlatform;
        }
        match self.mode.as_str() {
            "off" | "0" => return CudaSupport::Off,
            "" | "auto" | "on" | "1" => {}
            other => {
                return CudaSupport::Failed(format!("NETLOOM_CUDA={other} is not auto, on or off"));
            }
        }
        let dir = match self.find() {
            Ok(Some(dir)) => dir,
            Ok(None) => return CudaSupport::NotFound,
            Err(why) => return CudaSupport::Failed(why),
        };
        if let Err(why) = same_version(&dir) {
            return CudaSupport::Failed(why);
        }
        let forced = matches!(self.mode.as_str(), "on" | "1");
        if !forced && !driver() {
            return CudaSupport::NoDriver(dir);
        }
        match load(&dir.join(CUDA_LIBRARY)) {
            Ok(()) => CudaSupport::Loaded(dir),
            Err(e) => CudaSupport::Failed(format!("{}: {e}", dir.join(CUDA_LIBRARY).display())),
        }
    }

    /// The folder holding libtorch_cuda, `None` for none, or why `NETLOOM_LIBTORCH_CUDA` is wrong.
    fn find(&self) -> Result<Option<PathBuf>, String> {
        if let Some(given) = &self.from_env {
            let candidates = [
                given.join("torch").join("lib"),
                given.join("lib"),
                given.clone(),
            ];
            return match candidates.iter().find(|d| d.join(CUDA_LIBRARY).is_file()) {
                Some(dir) => Ok(Some(dir.clone())),
                None => Err(format!(
                    "NETLOOM_LIBTORCH_CUDA={} holds no {CUDA_LIBRARY} (looked in it, its lib/ and \
                     its torch/lib/); point it at a pip torch==2.11.0 site-packages folder",
                    given.display()
                )),
            };
        }
        let Some(cpu_lib) = &self.cpu_lib else {
            return Ok(None);
        };
        let addon = cpu_lib.join("cuda").join("torch").join("lib");
        Ok([cpu_lib.clone(), addon]
            .into_iter()
            .find(|d| d.join(CUDA_LIBRARY).is_file()))
    }
}

/// The folder this process loaded libtorch_cpu from (the dynamic loader's choice: the rpath, a
/// bundle's `$ORIGIN/../lib`, or `LD_LIBRARY_PATH`), read from the process's own memory map.
#[cfg(target_os = "linux")]
fn loaded_cpu_lib() -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let suffix = format!("/{CPU_LIBRARY}");
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with(&suffix))
        .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
        .or_else(|| (!BUILD_LIBTORCH_LIB.is_empty()).then(|| PathBuf::from(BUILD_LIBTORCH_LIB)))
}

/// Windows loads DLLs from the executable's folder first, where packaging/windows puts them.
#[cfg(not(target_os = "linux"))]
fn loaded_cpu_lib() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    if dir.join(CPU_LIBRARY).is_file() {
        Some(dir.to_path_buf())
    } else {
        (!BUILD_LIBTORCH_LIB.is_empty()).then(|| PathBuf::from(BUILD_LIBTORCH_LIB))
    }
}

/// A pip torch's `version.py` beside `lib/` must say the version netloom was built with: the
/// CUDA half of another libtorch doesn't fit netloom's CPU half.
fn same_version(lib_dir: &Path) -> Result<(), String> {
    let Some(root) = lib_dir.parent() else {
        return Ok(());
    };
    let Ok(text) = std::fs::read_to_string(root.join("version.py")) else {
        return Ok(()); // a libtorch zip or the add-on: no version file to check
    };
    let found = text
        .lines()
        .find(|l| l.starts_with("__version__"))
        .and_then(|l| l.split(['\'', '"']).nth(1))
        .unwrap_or("unknown");
    if found == LIBTORCH_VERSION || LIBTORCH_VERSION == "unknown" {
        Ok(())
    } else {
        Err(format!(
            "{} is torch {found}, but netloom was built with {LIBTORCH_VERSION}; install \
             torch=={LIBTORCH_VERSION} (pip) and point NETLOOM_LIBTORCH_CUDA at it",
            root.display()
        ))
    }
}

/// Whether the NVIDIA driver's user library can be loaded (it is what CUDA talks to).
#[cfg(unix)]
fn driver_present() -> bool {
    use libloading::os::unix::{Library, RTLD_LAZY, RTLD_LOCAL};
    // SAFETY: libcuda's initialisers only register the driver API; it stays loaded, as libtorch
    // would load it anyway.
    match unsafe { Library::open(Some("libcuda.so.1"), RTLD_LAZY | RTLD_LOCAL) } {
        Ok(lib) => {
            std::mem::forget(lib);
            true
        }
        Err(_) => false,
    }
}

#[cfg(windows)]
fn driver_present() -> bool {
    // SAFETY: as above, for the driver's DLL.
    match unsafe { libloading::Library::new("nvcuda.dll") } {
        Ok(lib) => {
            std::mem::forget(lib);
            true
        }
        Err(_) => false,
    }
}

#[cfg(not(any(unix, windows)))]
fn driver_present() -> bool {
    false
}

/// Loads a library for good, its symbols visible to libraries loaded after it.
#[cfg(unix)]
fn load_global(path: &Path) -> Result<(), String> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    // SAFETY: libtorch_cuda's initialisers register its CUDA kernels and hooks with the libtorch
    // already loaded, which is the same version (checked by `same_version` for a pip torch, by
    // construction for the add-on). It is never unloaded: libtorch keeps pointers into it.
    let lib =
        unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) }.map_err(|e| e.to_string())?;
    std::mem::forget(lib);
    Ok(())
}

#[cfg(windows)]
fn load_global(path: &Path) -> Result<(), String> {
    use libloading::os::windows::{
        LOAD_LIBRARY_SEARCH_DEFAULT_DIRS, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR, Library,
    };
    // SAFETY: as on Unix; the DLL's own folder is searched for the CUDA DLLs it needs.
    let lib = unsafe {
        Library::load_with_flags(
            path,
            LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS,
        )
    }
    .map_err(|e| e.to_string())?;
    std::mem::forget(lib);
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn load_global(_path: &Path) -> Result<(), String> {
    Err("not supported on this platform".to_owned())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn probe(dir: &Path) -> Probe {
        Probe {
            mode: String::new(),
            from_env: None,
            cpu_lib: Some(dir.join("torch/lib")),
        }
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, b"").expect("write");
    }

    /// A fresh folder with an empty bin/ (where the probe's executable "is").
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("netloom-cuda-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).expect("mkdir");
        dir
    }

    #[test]
    fn libtorch_cuda_beside_the_libtorch_cpu_in_use_loads_when_there_is_a_driver() {
        let dir = scratch("beside");
        let p = probe(&dir);
        assert_eq!(p.run(|| true, |_| Ok(())), CudaSupport::NotFound);
        touch(&dir.join("torch/lib/libtorch_cuda.so"));
        let lib = dir.join("torch/lib");
        assert_eq!(
            p.run(|| false, |_| Ok(())),
            CudaSupport::NoDriver(lib.clone())
        );
        assert_eq!(p.run(|| true, |_| Ok(())), CudaSupport::Loaded(lib.clone()));
        let failed = p.run(|| true, |_| Err("undefined symbol".into()));
        assert!(matches!(failed, CudaSupport::Failed(m) if m.contains("undefined symbol")));
        let forced = Probe {
            mode: "on".into(),
            ..probe(&dir)
        };
        assert_eq!(forced.run(|| false, |_| Ok(())), CudaSupport::Loaded(lib));
        let off = Probe {
            mode: "off".into(),
            ..probe(&dir)
        };
        assert_eq!(off.run(|| true, |_| Ok(())), CudaSupport::Off);
    }

    #[test]
    fn a_bundle_finds_its_cuda_add_on_under_its_own_lib() {
        let dir = scratch("bundle");
        touch(&dir.join("torch/lib/libtorch_cpu.so"));
        assert_eq!(probe(&dir).run(|| true, |_| Ok(())), CudaSupport::NotFound);
        touch(&dir.join("torch/lib/cuda/torch/lib/libtorch_cuda.so"));
        assert_eq!(
            probe(&dir).run(|| true, |_| Ok(())),
            CudaSupport::Loaded(dir.join("torch/lib/cuda/torch/lib"))
        );
    }

    #[test]
    fn this_process_knows_where_its_libtorch_cpu_is() {
        let lib = loaded_cpu_lib().expect("libtorch_cpu is loaded");
        assert!(lib.join(CPU_LIBRARY).is_file(), "{}", lib.display());
    }

    #[test]
    fn netloom_libtorch_cuda_takes_a_site_packages_and_checks_its_version() {
        let dir = scratch("env");
        let site = dir.join("site-packages");
        touch(&site.join("torch/lib/libtorch_cuda.so"));
        let p = Probe {
            from_env: Some(site.clone()),
            ..probe(&dir)
        };
        let lib = site.join("torch/lib");
        assert_eq!(p.run(|| true, |_| Ok(())), CudaSupport::Loaded(lib.clone()));
        if LIBTORCH_VERSION != "unknown" {
            std::fs::write(
                site.join("torch/version.py"),
                "__version__ = '2.3.1+cu121'\n",
            )
            .expect("write");
            let CudaSupport::Failed(why) = p.run(|| true, |_| Ok(())) else {
                panic!("another torch's CUDA half must be refused");
            };
            assert!(
                why.contains("2.3.1+cu121") && why.contains(LIBTORCH_VERSION),
                "{why}"
            );
        }
        let wrong = Probe {
            from_env: Some(dir.join("nowhere")),
            ..probe(&dir)
        };
        let CudaSupport::Failed(why) = wrong.run(|| true, |_| Ok(())) else {
            panic!("a wrong NETLOOM_LIBTORCH_CUDA must be said");
        };
        assert!(
            why.contains("NETLOOM_LIBTORCH_CUDA") && why.contains("nowhere"),
            "{why}"
        );
        let bad_mode = Probe {
            mode: "yes".into(),
            ..probe(&dir)
        };
        assert!(matches!(
            bad_mode.run(|| true, |_| Ok(())),
            CudaSupport::Failed(_)
        ));
    }
}
