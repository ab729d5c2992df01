//! `loyalty setup <vendor>`: asks the vendor for its stores, departments and segments and
//! prints the TOML configuration (secrets referred to by environment variable).

use std::process::ExitCode;

use clap::Args;

use crate::{out, registry};

/// Arguments of `loyalty setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The vendor (`diller`). Its base URL, client id and secret come from
    /// `LOYALTY_DILLER_BASE_URL`, `LOYALTY_DILLER_CLIENT_ID` and `LOYALTY_DILLER_CLIENT_SECRET`
    /// (`loyalty sim diller` prints the `export` lines for its own); see docs/configuration.md.
    vendor: String,
    /// Ask the in-process simulator instead of the vendor (no credentials needed).
    #[arg(long)]
    simulator: bool,
}

/// Prints the configuration; exit 2 for a vendor without setup or a missing or malformed
/// variable, 1 when the vendor fails.
pub fn execute(args: &SetupArgs) -> ExitCode {
    let Some(setup) = registry::find(&args.vendor).and_then(|e| e.setup) else {
        return out::bad_input(format!("nothing to set up for {:?}", args.vendor));
    };
    let runtime = match crate::ops::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match runtime.block_on(setup(args.simulator)) {
        Ok(toml) => {
            out::line(toml.trim_end_matches('\n'));
            ExitCode::SUCCESS
        }
        Err(e) => out::fail(&e),
    }
}
