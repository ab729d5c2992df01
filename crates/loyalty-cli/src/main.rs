//! `loyalty`: the Loyalty Bridge command line tool (DESIGN.md section 9).
//!
//! Each subcommand lives in its own module with an `execute` function returning the exit code;
//! `main` only parses arguments and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod price;

/// Loyalty Bridge: one loyalty API over many vendors.
#[derive(Debug, Parser)]
#[command(name = "loyalty", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Price one basket given as JSON (cases/pricing.md format) and print the priced basket.
    Price(price::PriceArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Price(args) => price::execute(&args),
    }
}
