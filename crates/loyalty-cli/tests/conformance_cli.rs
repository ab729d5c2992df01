//! `loyalty conformance`, `loyalty capabilities` and `loyalty demo` through the binary.

use std::process::Command;

use serde_json::Value;

fn loyalty(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(args)
        .env_remove("LOYALTY_LIVE_DILLER_URL")
        .env_remove("LOYALTY_LIVE_EMANAGE_URL")
        .output()
        .expect("runs")
}

fn report(args: &[&str]) -> Value {
    let out = loyalty(args);
    assert!(out.status.success(), "exit {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is the JSON report")
}

#[test]
fn memory_report_has_the_documented_shape_and_no_failure() {
    let v = report(&["conformance", "--adapter", "memory", "--format", "json"]);
    let adapters = v["adapters"].as_array().unwrap();
    assert_eq!(adapters.len(), 1);
    assert_eq!(adapters[0]["name"], "memory");
    assert_eq!(adapters[0]["target"], "memory");
    let scenarios = adapters[0]["scenarios"].as_array().unwrap();
    assert!(scenarios.len() > 30);
    for s in scenarios {
        assert!(s["name"].is_string());
        assert!(matches!(s["status"].as_str(), Some("pass" | "skip")), "{s}");
        if s["status"] == "skip" {
            assert!(
                s["reason"].as_str().is_some_and(|r| r.starts_with("needs ")),
                "a skip carries its reason: {s}"
            );
        }
    }
}

#[cfg(feature = "diller")]
#[test]
fn diller_report_fails_nothing_and_skips_only_for_missing_capabilities() {
    let v = report(&["conformance", "--adapter", "diller", "--format", "json"]);
    let a = &v["adapters"][0];
    assert_eq!(a["name"], "diller");
    assert_eq!(a["target"], "simulator");
    for s in a["scenarios"].as_array().unwrap() {
        assert_ne!(s["status"], "fail", "{s}");
        if s["status"] == "skip" {
            assert!(s["reason"].as_str().unwrap().starts_with("needs "), "{s}");
        }
    }
}

#[cfg(feature = "emanage")]
#[test]
fn emanage_report_fails_nothing_and_passes_at_least_fifteen_scenarios() {
    let v = report(&["conformance", "--adapter", "emanage", "--format", "json"]);
    let a = &v["adapters"][0];
    assert_eq!((&a["name"], &a["target"]), (&Value::from("emanage"), &Value::from("simulator")));
    let scenarios = a["scenarios"].as_array().unwrap();
    for s in scenarios {
        assert_ne!(s["status"], "fail", "{s}");
    }
    let passed = scenarios.iter().filter(|s| s["status"] == "pass").count();
    assert!(passed >= 15, "{passed} passing");
}

#[test]
fn unknown_adapter_is_bad_input() {
    let out = loyalty(&["conformance", "--adapter", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown adapter"));
}

#[test]
fn memory_has_no_live_mode() {
    let out = loyalty(&["conformance", "--adapter", "memory", "--live", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no live mode"));
}

#[test]
fn live_mode_without_variables_skips_each_vendor_naming_what_it_needs() {
    let out = loyalty(&["conformance", "--live", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["adapters"].as_array().unwrap().len(), 0, "nothing configured, nothing run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("memory"), "memory is not offered a live mode: {err}");
    #[cfg(feature = "diller")]
    assert!(err.contains("LOYALTY_LIVE_DILLER_CLIENT_SECRET"), "{err}");
}

#[test]
fn require_live_without_any_live_vendor_fails() {
    let out = loyalty(&["conformance", "--require-live"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--require-live"));
}

#[test]
fn junit_report_is_xml_with_one_case_per_scenario() {
    let out = loyalty(&["conformance", "--adapter", "memory", "--format", "junit"]);
    assert!(out.status.success());
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(r#"<testsuite name="memory.memory""#), "{xml}");
    assert!(xml.matches("<testcase ").count() > 30);
    assert!(xml.trim_end().ends_with("</testsuites>"));
}

#[test]
fn capability_matrix_in_docs_is_the_generated_one() {
    let out = loyalty(&["capabilities", "--format", "markdown"]);
    assert!(out.status.success());
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/capabilities.md")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        doc,
        "regenerate docs/capabilities.md with `loyalty capabilities`"
    );
}

#[test]
fn demo_runs_a_checkout_a_return_and_a_sign_up_on_every_provider() {
    let out = loyalty(&["demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["== memory", "checkout", "return", "guest", "Paid (NOK)"] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    for debug in ["Some(", "None", "conf-", "conformance+", "Recorded"] {
        assert!(!text.contains(debug), "no Debug text or suite ids ({debug}):\n{text}");
    }
    #[cfg(feature = "diller")]
    assert!(text.contains("== diller: its simulator at http://127.0.0.1:"), "{text}");
}

#[cfg(feature = "diller")]
#[test]
fn form_schema_comes_from_the_store_segments() {
    let out = loyalty(&["form", "--adapter", "diller"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fields = v["fields"].as_array().unwrap();
    assert!(fields.iter().any(|f| f["name"] == "segment.4" && f["kind"] == "multi_choice"));
    assert_eq!(fields.last().unwrap()["name"], "consent.order_history");
}

#[cfg(feature = "diller")]
#[test]
fn setup_writes_a_config_with_the_secret_by_reference() {
    let out = loyalty(&["setup", "diller", "--simulator"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let toml = String::from_utf8_lossy(&out.stdout);
    assert!(toml.contains("store_id = \"demo-client\""), "{toml}");
    assert!(toml.contains("client_secret_env = \"LOYALTY_DILLER_CLIENT_SECRET\""), "{toml}");
    assert!(toml.contains("#   web = "), "departments listed: {toml}");
    assert!(!toml.contains("demo-secret"), "the secret itself is never written");
}

#[cfg(feature = "diller")]
#[test]
fn setup_output_is_a_loyalty_toml_that_opens_the_diller_adapter() {
    let out = loyalty(&["setup", "diller", "--simulator"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let config = loyalty_config::parse(&text, "setup output").expect("a valid loyalty.toml");
    assert_eq!(config.kind, "diller");
    assert_eq!(config.store_url, "sqlite:loyalty-checkout.db");
    // The secret is read from the variable the file names.
    std::env::set_var("LOYALTY_DILLER_CLIENT_SECRET", "from-the-environment");
    let diller = loyalty_diller::DillerConfig::from_value(serde_json::Value::Object(config.provider.clone()))
        .expect("keys DillerConfig accepts");
    assert_eq!(diller.store_id, "demo-client");
    assert_eq!(diller.client_secret.expose(), "from-the-environment");
    assert_eq!(diller.identifier_kind, loyalty_core::LookupKind::ExternalId);
    assert_eq!(config.provider().expect("opens").name(), "diller");
}

#[cfg(feature = "diller")]
#[test]
fn live_mode_runs_the_suite_against_the_server_the_live_variables_name() {
    use loyalty_sim::diller::{demo, DillerSettings, DillerSim};
    // A stand-in for the vendor's sandbox: the simulator, reached only through the variables.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime
        .block_on(DillerSim::start(DillerSettings::default(), loyalty_sim::SimClock::default()))
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["conformance", "--adapter", "diller", "--live", "--format", "json"])
        .env("LOYALTY_LIVE_DILLER_URL", server.base_url())
        .env("LOYALTY_LIVE_DILLER_CLIENT_ID", demo::CLIENT_ID)
        .env("LOYALTY_LIVE_DILLER_CLIENT_SECRET", demo::CLIENT_SECRET)
        .env("LOYALTY_LIVE_DILLER_STORE_ID", demo::STORE_ID)
        .env("LOYALTY_LIVE_DILLER_DEPARTMENT_ID", demo::DEPARTMENT_ID)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stderr: {}\nstdout: {stdout}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let a = &v["adapters"][0];
    assert_eq!(a["target"], "live");
    assert!(a["scenarios"].as_array().unwrap().iter().all(|s| s["status"] != "fail"), "{a}");
    assert!(!stdout.contains(demo::CLIENT_SECRET), "the secret never reaches the report");
    // The suite worked on a member it registered, not on the store's own members.
    assert!(
        server.handle().journal().count("POST", &format!("/api/v2.0/stores/{}/members", demo::STORE_ID)) >= 1
    );
}
