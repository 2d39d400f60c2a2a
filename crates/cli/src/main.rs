//! The `docde` binary. Everything lives in the library crates; this file parses the command
//! line, loads the configuration and dispatches.

mod admin;
mod bench;
mod bench_search;
mod bench_ward;
mod commands;
mod rotate_keys;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::commands::Command;

// Every request allocates and frees a few dozen small objects on two busy threads; glibc's
// malloc (arenas, consolidation) took ~9 % of the request threads' samples under booking load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "docde",
    version,
    about = "DocDe: the hospital's real-time service"
)]
struct Cli {
    /// Configuration file (TOML). Default: ./docde.toml if present.
    #[arg(long, global = true, env = "DOCDE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("docde: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(commands::run(cli.command, cli.config.as_deref()))
}
