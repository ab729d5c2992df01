//! Variables that are not Unicode, through the binary: each run gets its own environment (a
//! child process), so no test changes the environment of another.
#![cfg(unix)]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Output};

fn not_unicode() -> OsString {
    OsString::from_vec(vec![b'x', 0xff, 0xfe])
}

/// `loyalty args` with only `vars` in its environment.
fn loyalty(args: &[&str], vars: Vec<(&str, OsString)>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loyalty"));
    cmd.args(args).env_clear();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A live run of `adapter` whose variables are all set, one of them to bytes that are not
/// Unicode: the adapter cannot start, the report names the variable, nothing panics.
fn live_run_names(adapter: &str, mut vars: Vec<(&str, OsString)>, bad: &'static str) {
    vars.push((bad, not_unicode()));
    let out = loyalty(&["conformance", "--live", "--adapter", adapter, "--format", "json"], vars);
    assert_eq!(out.status.code(), Some(1), "no panic (101), a failed start: {}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let start = &v["adapters"][0]["scenarios"][0];
    assert_eq!((&start["name"], &start["status"]), (&"adapter.start".into(), &"fail".into()), "{v}");
    let reason = start["reason"].as_str().unwrap();
    assert!(reason.contains(bad) && reason.contains("not valid Unicode"), "{reason}");
}

fn set(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, OsString)> {
    pairs.iter().map(|(k, v)| (*k, OsString::from(v))).collect()
}

#[cfg(feature = "diller")]
#[test]
fn diller_live_variable_that_is_not_unicode_is_named() {
    let vars = set(&[
        ("LOYALTY_LIVE_DILLER_URL", "http://127.0.0.1:1"),
        ("LOYALTY_LIVE_DILLER_CLIENT_ID", "id"),
        ("LOYALTY_LIVE_DILLER_CLIENT_SECRET", "secret"),
        ("LOYALTY_LIVE_DILLER_STORE_ID", "store"),
    ]);
    live_run_names("diller", vars, "LOYALTY_LIVE_DILLER_DEPARTMENT_ID");
}

#[cfg(feature = "idosell")]
#[test]
fn idosell_live_variable_that_is_not_unicode_is_named() {
    let vars = set(&[
        ("LOYALTY_LIVE_IDOSELL_URL", "http://127.0.0.1:1"),
        ("LOYALTY_LIVE_IDOSELL_LOGIN", "shop"),
        ("LOYALTY_LIVE_IDOSELL_PASSWORD", "pw"),
        ("LOYALTY_LIVE_IDOSELL_DROPSHIPPING_KEY", "k"),
        ("LOYALTY_LIVE_IDOSELL_SUITE_PRODUCT", "p"),
        ("LOYALTY_LIVE_IDOSELL_SUITE_COURIER", "c"),
        ("LOYALTY_LIVE_IDOSELL_SUITE_ADDRESS_ID", "a"),
    ]);
    live_run_names("idosell", vars, "LOYALTY_LIVE_IDOSELL_CURRENCY");
}

#[cfg(feature = "emanage")]
#[test]
fn emanage_live_variable_that_is_not_unicode_is_named() {
    let vars = set(&[
        ("LOYALTY_LIVE_EMANAGE_URL", "http://127.0.0.1:1"),
        ("LOYALTY_LIVE_EMANAGE_CID", "cid"),
        ("LOYALTY_LIVE_EMANAGE_WEB_KEY", "web"),
        ("LOYALTY_LIVE_EMANAGE_CURRENCY", "USD"),
    ]);
    live_run_names("emanage", vars, "LOYALTY_LIVE_EMANAGE_TEST_MODE");
}

#[cfg(feature = "sessionm")]
#[test]
fn sessionm_live_variable_that_is_not_unicode_is_named() {
    let mut vars = Vec::new();
    for key in [
        "POS_BASE_URL",
        "CONNECT_BASE_URL",
        "CORE_BASE_URL",
        "POS_KEY",
        "POS_SECRET",
        "CONNECT_KEY",
        "CONNECT_SECRET",
        "API_KEY",
        "S2S_SECRET",
        "RETAILER_ID",
        "CLIENT_ID",
        "STORE_ID",
    ] {
        let value = if key.ends_with("URL") { "http://127.0.0.1:1" } else { "value-of-the-variable" };
        vars.push((format!("LOYALTY_LIVE_SESSIONM_{key}"), OsString::from(value)));
    }
    let vars: Vec<(&str, OsString)> = vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    live_run_names("sessionm", vars, "LOYALTY_LIVE_SESSIONM_CURRENCY");
}

#[cfg(feature = "diller")]
#[test]
fn setup_ignores_a_variable_elsewhere_that_is_not_unicode_and_names_one_under_its_prefix() {
    // Outside the prefix: read past (it used to panic); the missing base URL is what is said.
    let out = loyalty(&["setup", "diller"], vec![("SOME_OTHER_VARIABLE", not_unicode())]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("LOYALTY_DILLER_BASE_URL: required"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    // Under the prefix: named.
    let out = loyalty(
        &["setup", "diller"],
        vec![
            ("LOYALTY_DILLER_BASE_URL", OsString::from("http://127.0.0.1:1")),
            ("LOYALTY_DILLER_CLIENT_ID", not_unicode()),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("LOYALTY_DILLER_CLIENT_ID is not valid Unicode"), "{}", stderr(&out));
}
