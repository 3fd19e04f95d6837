//! The `netloom` binary: no subcommand opens the app, subcommands run headless.
#![allow(clippy::print_stderr)] // the window's error goes to the terminal it was started from
use clap::Parser;
use netloom::cli::{Cli, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything touches libtorch: its CUDA half registers itself as it loads.
    netloom::engine::cuda::init();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
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
