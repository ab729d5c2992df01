//! `loyalty sim <vendor>`: starts one vendor simulator and prints its URL, its test
//! credentials and a ready `loyalty.toml` (secrets by variable, with the `export` lines that set
//! them), so the bridge, `loyalty member find` or a shop's own test suite can talk to it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use loyalty_sim::SimClock;

use crate::{out, registry};

/// Arguments of `loyalty sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The vendor: diller, sessionm, emanage or idosell (those compiled in).
    vendor: String,
    /// Port on 127.0.0.1; 0 takes a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The simulator's clock: `real` (the system's) or `fixed:2026-01-15T10:00:00Z` (a fixed
    /// start that moves only when told, as the conformance suite runs it).
    #[arg(long, default_value = "real")]
    clock: String,
    /// Also serve the control API under /_sim: move the clock, inject faults, read the journal,
    /// fire vendor events (see docs/conformance.md, "Driving a simulator from another language").
    #[arg(long)]
    control: bool,
    /// The simulator's settings (the choices its contract leaves open), as JSON or TOML; a key
    /// left out keeps its default, an unknown key is an error. The keys are the fields of the
    /// settings type in the vendor's folder of the simulators (for Diller
    /// conformance/simulators/src/diller/settings.rs).
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Also write the ready loyalty.toml to this file.
    #[arg(long, value_name = "FILE")]
    write_config: Option<PathBuf>,
}

fn clock(text: &str) -> Result<SimClock, String> {
    match text.split_once(':') {
        None if text == "real" => Ok(SimClock::real()),
        Some(("fixed", at)) => chrono::DateTime::parse_from_rfc3339(at)
            .map(|t| SimClock::at(t.with_timezone(&chrono::Utc)))
            .map_err(|e| format!("--clock {text:?}: {e}; expected fixed:2026-01-15T10:00:00Z")),
        _ => Err(format!("--clock {text:?}: expected `real` or `fixed:RFC3339`")),
    }
}

/// A settings file: TOML when it ends in `.toml`, JSON otherwise.
fn read_settings(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).map_err(|e| format!("{}: not valid TOML: {e}", path.display()))
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{}: not valid JSON: {e}", path.display()))
    }
}

/// The `loyalty.toml` for a running simulator.
pub fn config_text(running: &registry::SimRunning) -> String {
    let mut text = String::from("[provider]\n");
    for (key, value) in &running.provider {
        // TOML basic strings take JSON's escapes.
        text.push_str(&format!("{key} = {}\n", serde_json::Value::String(value.clone())));
    }
    text.push_str("\n[store]\nurl = \"sqlite:loyalty-checkout.db\"\n");
    text
}

/// Runs the simulator until Ctrl-C.
pub fn execute(args: &SimArgs) -> ExitCode {
    let Some((name, start)) = registry::find(&args.vendor).and_then(|e| e.simulator.map(|s| (e.name, s)))
    else {
        let known: Vec<&str> =
            registry::adapters().iter().filter(|e| e.simulator.is_some()).map(|e| e.name).collect();
        return out::bad_input(format!("no simulator for {:?}; known: {}", args.vendor, known.join(", ")));
    };
    let clock = match clock(&args.clock) {
        Ok(c) => c,
        Err(e) => return out::bad_input(e),
    };
    let settings = match &args.settings {
        None => None,
        Some(path) => match read_settings(path) {
            Ok(v) => Some(v),
            Err(e) => return out::bad_input(e),
        },
    };
    let runtime = match crate::ops::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let request = registry::SimRequest { port: args.port, clock, control: args.control, settings };
        let running = match start(request).await {
            Ok(r) => r,
            Err(e) => return out::fail(&e),
        };
        let config = config_text(&running);
        if let Some(path) = &args.write_config {
            if let Err(e) = std::fs::write(path, &config) {
                return out::bad_input(format!("cannot write {}: {e}", path.display()));
            }
        }
        out::line(format!("{name} simulator on {} (Ctrl-C stops it)", running.url));
        if args.control {
            let base = running.url.trim_end_matches("/api");
            out::line(format!(
                "control API on {base}{} (GET it for the clock and the vendor events)",
                loyalty_sim::control::PREFIX
            ));
        }
        out::line("test credentials (the simulator's own, not secrets):");
        for (k, v) in &running.credentials {
            out::line(format!("  {k:18} {v}"));
        }
        out::line("");
        out::line("# the variables the configuration reads its secrets from:");
        for (var, value) in &running.secrets {
            out::line(format!("export {var}={}", shell_word(value)));
        }
        if !running.setup_vars.is_empty() {
            out::line(format!("# and for `loyalty setup {name}`, with the secret above:"));
            for (var, value) in &running.setup_vars {
                out::line(format!("export {var}={}", shell_word(value)));
            }
        }
        out::line("");
        out::line("# loyalty.toml:");
        config.lines().for_each(out::line);
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}

/// `value` as one POSIX shell word: bare when it is plain, single-quoted otherwise, so a pasted
/// `export` line means the value exactly (a `!` or `$` in a secret is not expanded).
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b':' | b'-' | b'+' | b',')
        });
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::{clock, shell_word};

    #[test]
    fn export_values_are_one_shell_word() {
        assert_eq!(shell_word("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(shell_word("Hurt0wnia!2024"), "'Hurt0wnia!2024'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn clocks_are_real_or_fixed() {
        assert!(clock("real").is_ok());
        let fixed = clock("fixed:2026-01-15T10:00:00Z").unwrap();
        assert_eq!(fixed.now().to_rfc3339(), "2026-01-15T10:00:00+00:00");
        assert!(
            clock("fixed:yesterday").unwrap_err().contains("RFC3339") || clock("fixed:yesterday").is_err()
        );
        assert!(clock("sundial").is_err());
    }
}
