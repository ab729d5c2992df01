//! `loyalty price`: prices one basket given in the JSON format of `docs/pricing.md` and prints the
//! priced basket as pretty JSON.
//!
//! Exit codes: 0 priced (also when the reader of the output has gone: `| head`); 2 bad input
//! (a missing or unreadable input file, not the format, a malformed amount, a rule the engine
//! refuses), with one `error:` line on stderr. That line shows values from the input escaped and
//! cut short (see `out::safe_line`).

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use loyalty_core::pricing::json::{parse_input, render_output, InputError};
use loyalty_core::pricing::PricingError;
use serde_json::Value;

/// Arguments of `loyalty price`.
#[derive(Debug, clap::Args)]
pub struct PriceArgs {
    /// The pricing input (JSON, see docs/pricing.md); `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
}

/// Input that cannot be priced; the command exits with code 2.
#[derive(Debug)]
pub enum PriceError {
    /// The input is not UTF-8.
    NotUtf8,
    /// The input is not a valid pricing request.
    Input(InputError),
    /// The request breaks a pricing rule (duplicate ids, percent out of range, ...).
    Pricing(PricingError),
}

impl fmt::Display for PriceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriceError::NotUtf8 => f.write_str("input is not UTF-8 text"),
            PriceError::Input(e) => write!(f, "{e}"),
            PriceError::Pricing(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PriceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PriceError::NotUtf8 => None,
            PriceError::Input(e) => Some(e),
            PriceError::Pricing(e) => Some(e),
        }
    }
}

/// Parses `text`, prices it (at its `now`, or the current UTC time) and renders the result.
///
/// # Errors
/// [`PriceError::Input`] for text that is not a valid request, [`PriceError::Pricing`] for a
/// request the engine refuses.
pub fn run(text: &str) -> Result<Value, PriceError> {
    let request = parse_input(text).map_err(PriceError::Input)?;
    let priced = request.price().map_err(PriceError::Pricing)?;
    Ok(render_output(&priced))
}

/// Runs `loyalty price`: reads the input, prints the priced basket, returns the exit code.
pub fn execute(args: &PriceArgs) -> ExitCode {
    let bytes = match read_input(&args.input) {
        Ok(bytes) => bytes,
        Err(e) => return crate::out::bad_input(format!("cannot read {}: {e}", args.input.display())),
    };
    let result = String::from_utf8(bytes).map_err(|_| PriceError::NotUtf8).and_then(|text| run(&text));
    match result {
        Ok(output) => {
            crate::out::json(&output);
            ExitCode::SUCCESS
        }
        Err(e) => crate::out::bad_input(e.to_string()),
    }
}

fn read_input(path: &PathBuf) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes)?;
    } else {
        bytes = std::fs::read(path)?;
    }
    Ok(bytes)
}
