//! `loyalty conformance`: runs the suite against every adapter (or one) and prints the matrix.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use loyalty_conformance::{run, Report};

use crate::{out, registry};

/// Report format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One line per scenario.
    Text,
    /// A Markdown table per adapter.
    Markdown,
    /// `{"adapters":[{"name","target","scenarios":[{"name","status","reason"}]}]}`.
    Json,
    /// JUnit XML, for CI systems: one test suite per adapter, one test case per scenario.
    Junit,
}

/// Arguments of `loyalty conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Only this adapter (see `loyalty capabilities` for the names compiled in).
    #[arg(long)]
    adapter: Option<String>,
    /// Run against live sandboxes named by `LOYALTY_LIVE_<VENDOR>_*` variables instead of the
    /// in-process simulators. A vendor whose variables are not all set is skipped, naming the
    /// missing ones; memory has no live mode.
    #[arg(long)]
    live: bool,
    /// With `--live`: exit 2 when no vendor had its live variables set (implies `--live`).
    #[arg(long)]
    require_live: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Runs the suite; exit 1 when a scenario failed, 2 for an unknown adapter, a live run asked
/// of memory, or `--require-live` with no live vendor configured.
pub fn execute(args: &ConformanceArgs) -> ExitCode {
    let live = args.live || args.require_live;
    let mut entries = match &args.adapter {
        Some(name) => match registry::find(name) {
            Some(e) if live && e.live_vars.is_empty() => {
                return out::bad_input(format!("{name} has no live mode: it runs in-process only"));
            }
            Some(e) => vec![e],
            None => {
                let known: Vec<&str> = registry::adapters().iter().map(|e| e.name).collect();
                return out::bad_input(format!("unknown adapter {name:?}; known: {}", known.join(", ")));
            }
        },
        None => registry::adapters(),
    };
    if live {
        entries.retain(|e| !e.live_vars.is_empty());
        entries.retain(|e| {
            let missing = e.missing_live_vars();
            if !missing.is_empty() {
                eprintln!(
                    "{}: skipped, no live sandbox configured; it needs {} (missing: {})",
                    e.name,
                    e.live_vars.join(", "),
                    missing.join(", ")
                );
            }
            missing.is_empty()
        });
        if entries.is_empty() && args.require_live {
            return out::bad_input("--require-live: no vendor has its live variables set (see above)");
        }
    }
    let runtime = match crate::ops::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let report = runtime.block_on(async {
        let mut report = Report::default();
        for entry in entries {
            let started = if live { (entry.live)().await } else { (entry.embedded)().await.map(Some) };
            let running = match started {
                Ok(Some(r)) => r,
                Ok(None) => {
                    eprintln!("{}: no live sandbox configured, skipped", entry.name);
                    continue;
                }
                Err(e) => {
                    crate::out::error_line(format!("{} could not start: {e}", entry.name));
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
    let text = match args.format {
        Format::Text => report.to_text(),
        Format::Markdown => report.to_markdown(),
        Format::Json => report.to_json(),
        Format::Junit => report.to_junit(),
    };
    out::line(text);
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
