//! Scenario results and the report in text, Markdown and JSON.

use serde::{Deserialize, Serialize};

/// Where the suite ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The in-memory reference provider.
    Memory,
    /// An adapter against its vendor simulator, in-process.
    Simulator,
    /// An adapter against a live sandbox.
    Live,
}

impl Target {
    /// `"memory"`, `"simulator"` or `"live"`.
    pub fn label(&self) -> &'static str {
        match self {
            Target::Memory => "memory",
            Target::Simulator => "simulator",
            Target::Live => "live",
        }
    }
}

/// A scenario's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every check held.
    Pass,
    /// A check failed; the reason says which.
    Fail,
    /// Not run: the provider lacks a capability it needs (never counted as a pass).
    Skip,
}

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Scenario name.
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
}

/// One adapter's results on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterReport {
    /// Adapter (provider) name.
    pub name: String,
    /// Where it ran.
    pub target: Target,
    /// Results, in suite order.
    pub scenarios: Vec<ScenarioResult>,
}

impl AdapterReport {
    /// Number of results with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.scenarios.iter().filter(|s| s.status == status).count()
    }

    /// The failures.
    pub fn failures(&self) -> Vec<&ScenarioResult> {
        self.scenarios.iter().filter(|s| s.status == Status::Fail).collect()
    }
}

/// The whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// One entry per adapter and target.
    pub adapters: Vec<AdapterReport>,
}

impl Report {
    /// True when no scenario failed.
    pub fn passed(&self) -> bool {
        self.adapters.iter().all(|a| a.count(Status::Fail) == 0)
    }

    /// `{"adapters":[{"name":..,"target":..,"scenarios":[{"name","status","reason"}]}]}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// A Markdown matrix, one table per adapter.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        for a in &self.adapters {
            out.push_str(&format!(
                "## {} ({})\n\n| scenario | status | reason |\n| --- | --- | --- |\n",
                a.name,
                a.target.label()
            ));
            for s in &a.scenarios {
                let status = match s.status {
                    Status::Pass => "pass",
                    Status::Fail => "**fail**",
                    Status::Skip => "skip",
                };
                let reason = s.reason.as_deref().unwrap_or("").replace('|', "\\|");
                out.push_str(&format!("| `{}` | {} | {} |\n", s.name, status, reason));
            }
            out.push_str(&format!(
                "\n{} passed, {} failed, {} skipped\n\n",
                a.count(Status::Pass),
                a.count(Status::Fail),
                a.count(Status::Skip)
            ));
        }
        out
    }

    /// Plain text, one line per scenario and a summary line per adapter.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for a in &self.adapters {
            out.push_str(&format!("{} ({})\n", a.name, a.target.label()));
            for s in &a.scenarios {
                let status = match s.status {
                    Status::Pass => "pass",
                    Status::Fail => "FAIL",
                    Status::Skip => "skip",
                };
                match &s.reason {
                    Some(r) => out.push_str(&format!("  {status:4}  {}  ({r})\n", s.name)),
                    None => out.push_str(&format!("  {status:4}  {}\n", s.name)),
                }
            }
            out.push_str(&format!(
                "  {} passed, {} failed, {} skipped\n",
                a.count(Status::Pass),
                a.count(Status::Fail),
                a.count(Status::Skip)
            ));
        }
        out
    }
}
