//! The `netloom` binary: no subcommand opens the app, subcommands run headless.
#![allow(clippy::print_stderr)] // the window's error goes to the terminal it was started from
use clap::Parser;
use netloom::cli::{Cli, run};
use std::process::ExitCode;

/// libgomp (libtorch's OpenMP runtime on Linux) reads its wait policy once, as it is loaded,
/// and by default its threads spin for 300,000 turns while they wait for work; beside another
/// busy program a spinning thread waits on a partner the kernel has descheduled (training ran
/// 7–75× slower: issue 27, docs/performance.md). Sleeping at once (`OMP_WAIT_POLICY=PASSIVE`)
/// cures that but makes LeNet-5 1.7× slower on a quiet machine (each of its thousands of small
/// parallel regions then waits for threads to wake); spinning 10,000 turns (`GOMP_SPINCOUNT`)
/// keeps the quiet speed and shortens the busy collapse, and the trainer takes threads away when
/// the machine stays busy (engine/cpus.rs). Setting the variable in `main` is too late, and
/// glibc's environment isn't there yet in the executable's pre-initialisers. So this
/// pre-initialiser, which runs before any library's (libtorch's registrations take 0.15 s),
/// starts the same program again at once with the variable added to its environment: the second
/// start finds it set and goes on. It costs the dynamic loader's work, milliseconds. A value the
/// user set (`OMP_WAIT_POLICY`, `GOMP_SPINCOUNT`) is kept, and `NETLOOM_OMP_WAIT` chooses for
/// comparisons (`libgomp`: its default; `passive`; `spin:N`: `GOMP_SPINCOUNT=N`). The commands
/// that don't compute (check, weights, template, --version, help) are left alone.
///
/// The only `unsafe` of netloom's: placing a function among the pre-initialisers, and reading
/// the kernel's argument and environment arrays with `execve` before the C library is set up.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod wait_policy {
    #![allow(unsafe_code)]
    use std::ffi::{CStr, c_char, c_int};

    unsafe extern "C" {
        fn execve(
            path: *const c_char,
            argv: *const *const c_char,
            envp: *const *const c_char,
        ) -> c_int;
    }

    #[used]
    #[unsafe(link_section = ".preinit_array")]
    static SET_WAIT_POLICY: extern "C" fn(c_int, *const *const c_char, *const *const c_char) =
        set_wait_policy;

    /// What netloom sets: spin 10,000 turns, then sleep (see above; docs/performance.md).
    const DEFAULT: &[u8] = b"GOMP_SPINCOUNT=10000\0";

    /// The most environment entries carried over (a copy on the stack, no allocation: the C
    /// library isn't initialised yet). More than that, and the process goes on unchanged.
    const MAX_ENV: usize = 4096;

    extern "C" fn set_wait_policy(
        argc: c_int,
        argv: *const *const c_char,
        envp: *const *const c_char,
    ) {
        // SAFETY: argv and envp are the kernel's NULL-terminated arrays of NUL-terminated
        // strings, passed by the dynamic loader to every pre-initialiser; only read here.
        let arg = |i: usize| -> Option<&CStr> {
            (i < usize::try_from(argc).unwrap_or(0))
                .then(|| unsafe { *argv.add(i) })
                .filter(|p| !p.is_null())
                .map(|p| unsafe { CStr::from_ptr(p) })
        };
        const LIGHT: [&[u8]; 8] = [
            b"check",
            b"weights",
            b"template",
            b"help",
            b"--version",
            b"-V",
            b"--help",
            b"-h",
        ];
        if arg(1).is_some_and(|a| LIGHT.contains(&a.to_bytes())) {
            return;
        }
        let mut env: [*const c_char; MAX_ENV + 2] = [std::ptr::null(); MAX_ENV + 2];
        let mut n = 0;
        let mut choice: &[u8] = b"";
        loop {
            // SAFETY: as above; the array ends with a NULL pointer.
            let p = unsafe { *envp.add(n) };
            if p.is_null() {
                break;
            }
            let entry = unsafe { CStr::from_ptr(p) }.to_bytes();
            if entry.starts_with(b"OMP_WAIT_POLICY=") || entry.starts_with(b"GOMP_SPINCOUNT=") {
                return;
            }
            if let Some(v) = entry.strip_prefix(b"NETLOOM_OMP_WAIT=") {
                choice = v;
            }
            if n == MAX_ENV {
                return;
            }
            env[n] = p;
            n += 1;
        }
        let mut spin = [0u8; 64];
        let added: &[u8] = match choice {
            b"libgomp" => return,
            b"passive" => b"OMP_WAIT_POLICY=PASSIVE\0",
            v if v.starts_with(b"spin:") && v.len() - 5 < spin.len() - 16 => {
                let digits = &v[5..];
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return;
                }
                let key = b"GOMP_SPINCOUNT=";
                spin[..key.len()].copy_from_slice(key);
                spin[key.len()..key.len() + digits.len()].copy_from_slice(digits);
                &spin[..=key.len() + digits.len()]
            }
            _ => DEFAULT,
        };
        env[n] = added.as_ptr().cast();
        // SAFETY: /proc/self/exe is this program; argv is passed on as the kernel gave it, and
        // env is NULL-terminated (the array was zeroed). execve returns only on failure, and
        // then the process simply goes on with libgomp's default.
        unsafe { execve(c"/proc/self/exe".as_ptr(), argv, env.as_ptr()) };
    }
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Before anything touches libtorch: its CUDA half registers itself as it loads.
    netloom::engine::cuda::init();
    if let Some(msg) = netloom::cli::unknown_command(&args) {
        eprintln!("netloom: {msg}");
        return ExitCode::from(netloom::cli::EXIT_UNREADABLE);
    }
    let cli = Cli::parse_from(args);
    match cli.command {
        Some(command) => run(command),
        None => match netloom::app::run(cli.open, cli.frame_stats, cli.exit_after_first_frame) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("netloom: could not open the window: {e}");
                ExitCode::from(1)
            }
        },
    }
}
