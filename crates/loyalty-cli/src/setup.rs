//! `loyalty setup <vendor>`: asks the vendor for its stores, departments and segments and
//! prints the TOML configuration (secrets referred to by environment variable).

use std::process::ExitCode;

use clap::Args;

use crate::registry;

/// Arguments of `loyalty setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The vendor (`diller`); credentials come from `LOYALTY_<VENDOR>_*`.
    vendor: String,
    /// Ask the in-process simulator instead of the vendor (no credentials needed).
    #[arg(long)]
    simulator: bool,
}

/// Prints the configuration; exit 2 for a vendor without setup, 1 when the vendor fails.
pub fn execute(args: &SetupArgs) -> ExitCode {
    let Some(setup) = registry::find(&args.vendor).and_then(|e| e.setup) else {
        crate::out::error_line(format!("nothing to set up for {:?}", args.vendor));
        return ExitCode::from(2);
    };
    let runtime = match crate::ops::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match runtime.block_on(setup(args.simulator)) {
        Ok(toml) => {
            print!("{toml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::out::error_line(e.to_string());
            ExitCode::from(1)
        }
    }
}
