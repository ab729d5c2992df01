//! `loyalty`: the Loyalty Bridge command line tool.
//!
//! Each subcommand lives in its own module with an `execute` function returning the exit code;
//! `main` only parses arguments and dispatches. Single operations (`member`, `offers`,
//! `checkout`, `return`, `pending`, `resend`, `serve`) act on the provider a `loyalty.toml` names; the
//! commands that start simulators or run the suite (`demo`, `sim`, `conformance`, `setup`,
//! `form`, `capabilities`) are compiled in with the `dev` feature (on by default).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod ops;
mod out;
mod price;
mod receipt;
mod serve;

#[cfg(feature = "dev")]
mod capabilities;
#[cfg(feature = "dev")]
mod conformance;
#[cfg(feature = "dev")]
mod demo;
#[cfg(feature = "dev")]
mod form;
#[cfg(feature = "dev")]
mod registry;
#[cfg(feature = "dev")]
mod setup;
#[cfg(feature = "dev")]
mod sim;
#[cfg(feature = "dev")]
mod targets;

/// Loyalty Bridge: one loyalty API over many vendors.
#[derive(Debug, Parser)]
#[command(name = "loyalty", version, about)]
struct Cli {
    /// The configuration naming the provider and the checkout store (see docs/configuration.md).
    #[arg(long, global = true, env = "LOYALTY_CONFIG", default_value = "loyalty.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Find or register a member (also `loyalty members`).
    #[command(subcommand, alias = "members")]
    Member(ops::member::MemberCommand),
    /// List the offers a member (or a guest) can use, optionally for a basket.
    Offers(ops::offers::OffersArgs),
    /// Check a basket out through the checkout store: price, hold, record, send.
    Checkout(ops::checkout::CheckoutArgs),
    /// Return lines of an order, in the provider's return style.
    Return(ops::checkout::ReturnArgs),
    /// List the transactions waiting in the outbox for a resend.
    Pending(ops::outbox::OutboxArgs),
    /// Resend the transactions waiting in the outbox now; exit 1 when one is still pending,
    /// was refused for good, or failed (someone must act).
    Resend(ops::outbox::OutboxArgs),
    /// Serve the configured provider and checkout store as a JSON service over HTTP for shops
    /// not written in Rust (docs/serve.md); the API key comes from `[serve] api_key_env`.
    Serve(serve::ServeArgs),
    /// Price one basket given as JSON (the format of docs/pricing.md) and print the priced basket.
    Price(price::PriceArgs),
    /// Run a checkout, a return and a guest sign-up on every provider against its embedded
    /// default (memory, in-process simulators), printed as receipts. No credentials needed.
    #[cfg(feature = "dev")]
    Demo,
    /// Run the conformance suite and print the adapter x scenario matrix.
    #[cfg(feature = "dev")]
    Conformance(conformance::ConformanceArgs),
    /// Start one vendor simulator and print its URL, credentials and a ready loyalty.toml.
    #[cfg(feature = "dev")]
    Sim(sim::SimArgs),
    /// Ask a vendor for its stores, departments and segments and print the TOML config.
    #[cfg(feature = "dev")]
    Setup(setup::SetupArgs),
    /// Print the registration form schema (JSON) built from a provider's segments.
    #[cfg(feature = "dev")]
    Form(form::FormArgs),
    /// Print the capability matrix generated from each adapter's declaration.
    #[cfg(feature = "dev")]
    Capabilities(capabilities::CapabilitiesArgs),
}

/// What `main` does with a command line clap refused: help and version are printed as clap
/// prints them; anything else is one `error:` line and exit 2.
fn parse_error(e: &clap::Error) -> Option<String> {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => None,
        _ => Some(from_context(e).unwrap_or_else(|| one_line(&e.to_string()))),
    }
}

/// Clap's message for an error that echoes what was typed (a subcommand, an argument, a value),
/// built from the values as typed. Clap's rendered text drops terminal escapes and other
/// control characters, so it may show a value other than the one typed (`pri<ESC>[2Jce` as
/// `price`); these values are left whole for [`out::safe_line`] to show escaped. `None` for an
/// error without such context: its rendered text echoes nothing typed.
fn from_context(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let mut line = match e.kind() {
        ErrorKind::InvalidSubcommand => {
            format!("unrecognized subcommand '{}'", text(ContextKind::InvalidSubcommand)?)
        }
        ErrorKind::UnknownArgument => {
            format!("unexpected argument '{}' found", text(ContextKind::InvalidArg)?)
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let (arg, value) = (text(ContextKind::InvalidArg)?, text(ContextKind::InvalidValue)?);
            if value.is_empty() {
                format!("a value is required for '{arg}' but none was supplied")
            } else {
                format!("invalid value '{value}' for '{arg}'")
            }
        }
        ErrorKind::TooManyValues => {
            let (arg, value) = (text(ContextKind::InvalidArg)?, text(ContextKind::InvalidValue)?);
            format!("unexpected value '{value}' for '{arg}' found; no more were expected")
        }
        _ => return None,
    };
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
        if !valid.is_empty() {
            line.push_str(&format!(" [possible values: {}]", valid.join(", ")));
        }
    }
    if let Some(source) = std::error::Error::source(e) {
        line.push_str(&format!(": {source}"));
    }
    Some(line)
}

/// Clap's message without its usage block and tips, on one line and without its own `error: `.
fn one_line(rendered: &str) -> String {
    let first = rendered.trim_start().split("\n\n").next().unwrap_or_default();
    let first = first.strip_prefix("error:").unwrap_or(first);
    first.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn main() -> ExitCode {
    // Logs go to stderr so JSON on stdout stays clean. Only errors by default: a command's
    // outcome is its one line, and a retry it recovered from is not news.
    // `RUST_LOG=warn` shows retries, `RUST_LOG=loyalty_http=debug` every call (secrets are
    // redacted by the transport).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match parse_error(&e) {
            Some(line) => return out::bad_input(line),
            None => e.exit(),
        },
    };
    let config = cli.config.as_path();
    match cli.command {
        Command::Member(c) => ops::member::execute(config, &c),
        Command::Offers(args) => ops::offers::execute(config, &args),
        Command::Checkout(args) => ops::checkout::execute(config, &args),
        Command::Return(args) => ops::checkout::execute_return(config, &args),
        Command::Pending(args) => ops::outbox::pending(config, &args),
        Command::Resend(args) => ops::outbox::resend(config, &args),
        Command::Price(args) => price::execute(&args),
        Command::Serve(args) => serve::execute(config, &args),
        #[cfg(feature = "dev")]
        Command::Demo => demo::execute(),
        #[cfg(feature = "dev")]
        Command::Conformance(args) => conformance::execute(&args),
        #[cfg(feature = "dev")]
        Command::Sim(args) => sim::execute(&args),
        #[cfg(feature = "dev")]
        Command::Capabilities(args) => capabilities::execute(&args),
        #[cfg(feature = "dev")]
        Command::Form(args) => form::execute(&args),
        #[cfg(feature = "dev")]
        Command::Setup(args) => setup::execute(&args),
    }
}
