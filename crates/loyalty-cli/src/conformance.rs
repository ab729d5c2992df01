//! `loyalty conformance`: runs the suite against every adapter (or one) and prints the matrix.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use loyalty_conformance::{run, AdapterReport, Report, ScenarioResult, Status, Target};

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

/// Runs the suite; exit 1 when a scenario failed or an adapter could not start, 2 for an unknown adapter, a live run asked
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
                    e.live_vars_text(),
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
    let report = runtime.block_on(run_entries(entries, live));
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

/// The name of the result that stands for an adapter that could not start.
const START: &str = "adapter.start";

/// Runs the suite on every entry in turn. An entry that cannot start is reported as one
/// failing result (`adapter.start`, with the reason) and the others still run, so every
/// format shows them and the run exits 1.
async fn run_entries(entries: Vec<registry::Entry>, live: bool) -> Report {
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
                let reason = redact(&format!("could not start: {e}"), &secret_values(&entry, live));
                crate::out::error_line(format!("{}: {reason}", entry.name));
                report.adapters.push(not_started(&entry, live, reason));
                continue;
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
    report
}

/// The report of an adapter that could not start: one failing result with the reason.
fn not_started(entry: &registry::Entry, live: bool, reason: String) -> AdapterReport {
    let target = match (live, entry.simulator.is_some()) {
        (true, _) => Target::Live,
        (false, true) => Target::Simulator,
        (false, false) => Target::Memory,
    };
    AdapterReport {
        name: entry.name.to_string(),
        target,
        scenarios: vec![ScenarioResult { name: START.into(), status: Status::Fail, reason: Some(reason) }],
    }
}

/// Values of the entry's live variables that hold secrets (keys, secrets, passwords, the
/// eManage CID), for a live run: they must never reach a report, whatever an error says.
fn secret_values(entry: &registry::Entry, live: bool) -> Vec<String> {
    if !live {
        return Vec::new();
    }
    const SECRET_PARTS: &[&str] = &["SECRET", "PASSWORD", "KEY", "CID", "TOKEN"];
    entry
        .live_vars
        .iter()
        .flat_map(|group| group.iter())
        .filter(|name| {
            let tail = name.rsplit("LIVE_").next().unwrap_or(name);
            SECRET_PARTS.iter().any(|p| tail.contains(p))
        })
        .filter_map(std::env::var_os)
        .map(|v| v.to_string_lossy().trim().to_string())
        // A value this short would hide common words, not a secret anyone uses.
        .filter(|v| v.chars().count() >= MIN_SECRET_CHARS)
        .collect()
}

/// The shortest value [`secret_values`] redacts.
const MIN_SECRET_CHARS: usize = 4;

/// `text` with every occurrence of a secret value replaced by `[redacted]`.
fn redact(text: &str, secrets: &[String]) -> String {
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    // The longest first, so a secret that contains another is hidden whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.into_iter().fold(text.to_string(), |t, s| t.replace(s.as_str(), "[redacted]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory entry under another name, failing to start with `message`.
    fn broken() -> registry::Entry {
        registry::Entry {
            name: "broken",
            embedded: || {
                Box::pin(async {
                    Err(loyalty_core::Error::invalid("broken", "config", "base_url", "required"))
                })
            },
            simulator: Some(|_| Box::pin(async { Err(loyalty_core::Error::unsupported("broken", "sim")) })),
            ..crate::targets::memory::entry()
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_adapter_that_cannot_start_fails_its_entry_and_the_others_still_report() {
        let entries = vec![broken(), crate::targets::memory::entry()];
        let report = run_entries(entries, false).await;
        assert_eq!(report.adapters.len(), 2, "{report:#?}");
        let broken = &report.adapters[0];
        assert_eq!((broken.name.as_str(), broken.target), ("broken", Target::Simulator));
        assert_eq!(broken.scenarios.len(), 1);
        let start = &broken.scenarios[0];
        assert_eq!((start.name.as_str(), start.status), (START, Status::Fail));
        let reason = start.reason.as_deref().unwrap();
        assert!(reason.starts_with("could not start: ") && reason.contains("base_url"), "{reason}");
        let memory = &report.adapters[1];
        assert_eq!(memory.name, "memory");
        assert!(memory.count(Status::Pass) > 30 && memory.failures().is_empty(), "{memory:#?}");
        assert!(!report.passed(), "a run with an adapter that could not start does not pass");
        // Every format carries both adapters, the failure first.
        let text = report.to_text();
        assert!(text.contains("broken (simulator)\n  FAIL  adapter.start  (could not start: "), "{text}");
        assert!(text.contains("memory (memory)\n"), "{text}");
        assert!(report.to_markdown().contains("| `adapter.start` | **fail** | could not start: "));
        assert!(report.to_junit().contains(r#"<testsuite name="broken.simulator" tests="1" failures="1""#));
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["adapters"][0]["scenarios"][0]["status"], "fail");
        assert_eq!(json["adapters"][1]["name"], "memory");
    }

    #[test]
    fn secrets_are_redacted_from_a_start_failure() {
        let secrets = vec!["s3cr3t".to_string(), "s3cr3t-longer".to_string(), String::new()];
        assert_eq!(
            redact("login with s3cr3t-longer failed; s3cr3t again", &secrets),
            "login with [redacted] failed; [redacted] again"
        );
        assert_eq!(redact("nothing here", &[]), "nothing here");
    }
}
