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
                let reason = markdown_cell(s.reason.as_deref().unwrap_or(""));
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
                    Some(r) => out.push_str(&format!("  {status:4}  {}  ({})\n", s.name, one_line(r))),
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
    /// JUnit XML for CI systems: one `<testsuite>` per adapter and target, one `<testcase>`
    /// per scenario; failures carry the reason, skips say which capability was missing.
    pub fn to_junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let total: usize = self.adapters.iter().map(|a| a.scenarios.len()).sum();
        let failed: usize = self.adapters.iter().map(|a| a.count(Status::Fail)).sum();
        let skipped: usize = self.adapters.iter().map(|a| a.count(Status::Skip)).sum();
        out.push_str(&format!(
            "<testsuites name=\"loyalty-conformance\" tests=\"{total}\" failures=\"{failed}\" skipped=\"{skipped}\">\n"
        ));
        for a in &self.adapters {
            let suite = format!("{}.{}", a.name, a.target.label());
            out.push_str(&format!(
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
                xml_escape(&suite),
                a.scenarios.len(),
                a.count(Status::Fail),
                a.count(Status::Skip)
            ));
            for s in &a.scenarios {
                let head = format!(
                    "    <testcase classname=\"{}\" name=\"{}\"",
                    xml_escape(&suite),
                    xml_escape(&s.name)
                );
                let reason = xml_escape(s.reason.as_deref().unwrap_or(""));
                match s.status {
                    Status::Pass => out.push_str(&format!("{head}/>\n")),
                    Status::Fail => out.push_str(&format!(
                        "{head}>\n      <failure message=\"{reason}\">{reason}</failure>\n    </testcase>\n"
                    )),
                    Status::Skip => out.push_str(&format!(
                        "{head}>\n      <skipped message=\"{reason}\"/>\n    </testcase>\n"
                    )),
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

/// Text on one line: a line break (`\r\n`, `\n` or `\r`) becomes ` / `.
fn one_line(text: &str) -> String {
    text.replace("\r\n", "\n").replace(['\n', '\r'], " / ")
}

/// Text made safe for a Markdown table cell: on one line, with `|` escaped.
fn markdown_cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// Text made safe for an XML attribute or element: markup characters as entities, characters
/// XML 1.0 cannot carry (most control characters) as `\u{..}` text.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", u32::from(c))),
            c if c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            adapters: vec![AdapterReport {
                name: "diller".into(),
                target: Target::Simulator,
                scenarios: vec![
                    ScenarioResult { name: "members.find".into(), status: Status::Pass, reason: None },
                    ScenarioResult {
                        name: "offers.hold".into(),
                        status: Status::Fail,
                        reason: Some("expected <1> & got \"2\"\u{1b}".into()),
                    },
                    ScenarioResult {
                        name: "carts.open".into(),
                        status: Status::Skip,
                        reason: Some("needs carts".into()),
                    },
                ],
            }],
        }
    }

    fn multiline_report() -> Report {
        Report {
            adapters: vec![AdapterReport {
                name: "memory".into(),
                target: Target::Memory,
                scenarios: vec![
                    ScenarioResult {
                        name: "offers.list".into(),
                        status: Status::Fail,
                        reason: Some("a|b\nc".into()),
                    },
                    ScenarioResult {
                        name: "offers.validate".into(),
                        status: Status::Skip,
                        reason: Some("x\r\ny\rz".into()),
                    },
                    ScenarioResult { name: "members.get".into(), status: Status::Pass, reason: None },
                ],
            }],
        }
    }

    #[test]
    fn markdown_keeps_each_scenario_on_one_row() {
        let md = multiline_report().to_markdown();
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(
            rows,
            vec![
                "| `offers.list` | **fail** | a\\|b / c |",
                "| `offers.validate` | skip | x / y / z |",
                "| `members.get` | pass |  |",
            ],
            "{md}"
        );
        assert!(!md.contains('\r'));
        // Header, separator, three rows, blank, summary, blank.
        assert_eq!(md.lines().count(), 10, "{md}");
    }

    #[test]
    fn text_is_one_line_per_scenario() {
        let text = multiline_report().to_text();
        assert_eq!(
            text,
            "memory (memory)\n  FAIL  offers.list  (a|b / c)\n  skip  offers.validate  (x / y / z)\n  \
             pass  members.get\n  1 passed, 1 failed, 1 skipped\n"
        );
    }

    #[test]
    fn junit_counts_and_escapes() {
        let xml = report().to_junit();
        assert!(
            xml.contains(r#"<testsuites name="loyalty-conformance" tests="3" failures="1" skipped="1">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<testsuite name="diller.simulator" tests="3" failures="1" skipped="1">"#));
        assert!(xml.contains(r#"<testcase classname="diller.simulator" name="members.find"/>"#));
        assert!(xml.contains("expected &lt;1&gt; &amp; got &quot;2&quot;\\u{1b}"), "{xml}");
        assert!(xml.contains(r#"<skipped message="needs carts"/>"#));
        assert!(!xml.contains('\u{1b}'));
    }
}
