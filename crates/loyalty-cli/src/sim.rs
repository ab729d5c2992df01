//! `loyalty sim <vendor>`: starts one simulator and prints its URL and test credentials.

use std::process::ExitCode;

use clap::Args;

use crate::registry;

/// Arguments of `loyalty sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The vendor (`diller`).
    vendor: String,
}

/// Runs the simulator until Ctrl-C.
pub fn execute(args: &SimArgs) -> ExitCode {
    let Some(entry) = registry::find(&args.vendor).filter(|e| e.name != "memory") else {
        let known: Vec<&str> =
            registry::adapters().iter().map(|e| e.name).filter(|n| *n != "memory").collect();
        crate::out::error_line(format!("no simulator for {:?}; known: {}", args.vendor, known.join(", ")));
        return ExitCode::from(2);
    };
    let runtime = match registry::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let running = match entry.start_embedded().await {
            Ok(r) => r,
            Err(code) => return code,
        };
        println!("{} simulator running (Ctrl-C stops it)", entry.name);
        for (k, v) in &running.info {
            println!("  {k:14} {v}");
        }
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}
