//! The `netloom` binary: no subcommand opens the app, subcommands run headless.
#![allow(clippy::print_stderr)] // the window's error goes to the terminal it was started from
use clap::Parser;
use netloom::cli::{Cli, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(command) => run(command),
        None => match netloom::app::run(cli.open, cli.frame_stats) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("netloom: could not open the window: {e}");
                ExitCode::from(1)
            }
        },
    }
}
