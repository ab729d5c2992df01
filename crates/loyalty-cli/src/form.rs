//! `loyalty form`: the registration form schema built from a provider's segments, as JSON a
//! web page renders (profile fields, the store's visible segments, the two consents last).

use std::process::ExitCode;

use clap::Args;
use loyalty_core::form::registration_form;
use loyalty_core::Context;

use crate::registry;

/// Arguments of `loyalty form`.
#[derive(Debug, Args)]
pub struct FormArgs {
    /// The provider whose segments shape the form (against its embedded default).
    #[arg(long, default_value = "memory")]
    adapter: String,
}

/// Prints the schema; exit 2 for an unknown adapter, otherwise as `out::fail`.
pub fn execute(args: &FormArgs) -> ExitCode {
    let Some(entry) = registry::find(&args.adapter) else {
        return crate::out::bad_input(format!("unknown adapter {:?}", args.adapter));
    };
    let runtime = match crate::ops::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let running = match entry.start_embedded().await {
            Ok(r) => r,
            Err(code) => return code,
        };
        let segments = match running.provider.members() {
            Some(m) if running.provider.capabilities().segments => m.segments(&Context::new()).await,
            _ => Ok(Vec::new()),
        };
        match segments {
            Ok(segments) => {
                crate::out::json(&registration_form(&segments));
                ExitCode::SUCCESS
            }
            Err(e) => crate::out::fail(&e),
        }
    })
}
