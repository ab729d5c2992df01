//! `loyalty`: the Loyalty Bridge command line tool.
//!
//! Each subcommand lives in its own module with an `execute` function returning the exit code;
//! `main` only parses arguments and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod capabilities;
mod conformance;
mod demo;
mod form;
mod price;
mod registry;
mod setup;
mod sim;
mod targets;

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
    /// Price one basket given as JSON (the format of docs/pricing.md) and print the priced basket.
    Price(price::PriceArgs),
    /// Run a checkout, a return and a guest sign-up on every provider against its embedded
    /// default (memory store, in-process simulators). No credentials needed.
    Demo,
    /// Run the conformance suite and print the adapter x scenario matrix.
    Conformance(conformance::ConformanceArgs),
    /// Start one vendor simulator and print its URL and test credentials.
    Sim(sim::SimArgs),
    /// Ask a vendor for its stores, departments and segments and print the TOML config.
    Setup(setup::SetupArgs),
    /// Print the registration form schema (JSON) built from a provider's segments.
    Form(form::FormArgs),
    /// Print the capability matrix generated from each adapter's declaration.
    Capabilities(capabilities::CapabilitiesArgs),
}

fn main() -> ExitCode {
    // Logs go to stderr so JSON on stdout stays clean; `RUST_LOG=loyalty_http=debug` shows
    // every call (secrets are redacted by the transport).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Price(args) => price::execute(&args),
        Command::Demo => demo::execute(),
        Command::Conformance(args) => conformance::execute(&args),
        Command::Sim(args) => sim::execute(&args),
        Command::Capabilities(args) => capabilities::execute(&args),
        Command::Form(args) => form::execute(&args),
        Command::Setup(args) => setup::execute(&args),
    }
}
