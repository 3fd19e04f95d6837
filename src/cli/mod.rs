//! The command line: `netloom` with no subcommand opens the app; subcommands run headless.

mod check;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// netloom: draw a neural network, see every shape, train it on libtorch.
#[derive(Debug, Parser)]
#[command(name = "netloom", version, about, long_about = None)]
pub struct Cli {
    /// What to do; none opens the desktop app.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A design to open in the app (default: the LeNet-5 example).
    #[arg(value_name = "DESIGN.json")]
    pub open: Option<PathBuf>,
}

/// The headless subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show every node's output shape, parameters and MACs, and every problem of a design.
    ///
    /// Exits 0 for a valid design, 1 for an invalid one, 2 when the file can't be read.
    Check(check::CheckArgs),
}

/// Exit status for a usage error or an unreadable file (clap uses 2 for usage errors too).
pub const EXIT_UNREADABLE: u8 = 2;

/// Runs a headless subcommand and returns the process exit code.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Check(args) => check::run(&args),
    }
}
