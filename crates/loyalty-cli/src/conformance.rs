//! `loyalty conformance`: runs the suite against every adapter (or one) and prints the matrix.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use loyalty_conformance::{run, Report};

use crate::registry;

/// Report format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One line per scenario.
    Text,
    /// A Markdown table per adapter.
    Markdown,
    /// `{"adapters":[{"name","target","scenarios":[{"name","status","reason"}]}]}`.
    Json,
}

/// Arguments of `loyalty conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Only this adapter (`memory`, `diller`).
    #[arg(long)]
    adapter: Option<String>,
    /// Run against live sandboxes from `LOYALTY_LIVE_<VENDOR>_*` (vendors without them are
    /// skipped) instead of the in-process simulators.
    #[arg(long)]
    live: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Runs the suite; exit 1 when a scenario failed, 2 for an unknown adapter.
pub fn execute(args: &ConformanceArgs) -> ExitCode {
    let entries = match &args.adapter {
        Some(name) => match registry::find(name) {
            Some(e) => vec![e],
            None => {
                let known: Vec<&str> = registry::adapters().iter().map(|e| e.name).collect();
                eprintln!("error: unknown adapter {name:?}; known: {}", known.join(", "));
                return ExitCode::from(2);
            }
        },
        None => registry::adapters(),
    };
    let runtime = match registry::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let report = runtime.block_on(async {
        let mut report = Report::default();
        for entry in entries {
            let started = if args.live { (entry.live)().await } else { (entry.embedded)().await.map(Some) };
            let running = match started {
                Ok(Some(r)) => r,
                Ok(None) => {
                    eprintln!(
                        "{}: no live variables set (LOYALTY_LIVE_{}_*), skipped",
                        entry.name,
                        entry.name.to_uppercase()
                    );
                    continue;
                }
                Err(e) => {
                    eprintln!("error: {} could not start: {e}", entry.name);
                    return Err(());
                }
            };
            let total = loyalty_conformance::scenarios::all().len() as u64 + 1;
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(entry.name);
            let adapter = run(running.provider.as_ref(), &running.env, running.target, |r| {
                bar.set_message(r.name.clone());
                bar.inc(1);
            })
            .await;
            bar.finish_and_clear();
            report.adapters.push(adapter);
        }
        Ok(report)
    });
    let Ok(report) = report else { return ExitCode::from(1) };
    let out = match args.format {
        Format::Text => report.to_text(),
        Format::Markdown => report.to_markdown(),
        Format::Json => report.to_json(),
    };
    println!("{out}");
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
