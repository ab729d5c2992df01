//! `loyalty price` through the built binary: every pricing case, and bad input.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const CASES: &str = include_str!("../../loyalty-core/tests/data/pricing.json");

fn loyalty_price(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .arg("price")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the loyalty binary starts");
    child.stdin.take().expect("stdin is piped").write_all(stdin.as_bytes()).expect("stdin takes the input");
    child.wait_with_output().expect("the loyalty binary finishes")
}

fn price_stdin(input: &str) -> Output {
    loyalty_price(&["--input", "-"], input)
}

/// Compares every key present in `expect` with the printed output; returns the differences.
fn differences(expect: &Value, output: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let ids = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|x| x.get("offer_id").unwrap_or(x).as_str().unwrap_or_default().to_string())
            .collect()
    };
    for (key, want) in expect.as_object().into_iter().flatten() {
        match key.as_str() {
            "lines" => {
                for (line_id, discount) in want.as_object().into_iter().flatten() {
                    let got = output["lines"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|l| l["line_id"] == line_id.as_str())
                        .map(|l| &l["discount"]);
                    if got != Some(discount) {
                        diffs.push(format!("line {line_id} discount: want {discount}, got {got:?}"));
                    }
                }
            }
            "total_discount" | "total" | "total_gross" if &output[key] != want => {
                diffs.push(format!("{key}: want {want}, got {}", output[key]));
            }
            "total_discount" | "total" | "total_gross" => {}
            "needs_confirmation" | "not_applied" if ids(&output[key]) != ids(want) => {
                diffs.push(format!("{key}: want {want}, got {}", output[key]));
            }
            "needs_confirmation" | "not_applied" => {}
            "stamps" => {
                let got: BTreeMap<String, Value> = output["stamps"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        let id = s["offer_id"].as_str().unwrap_or_default().to_string();
                        (id, json!({ "earned": s["earned"], "free_units": s["free_units"], "remaining": s["remaining"] }))
                    })
                    .collect();
                let want: BTreeMap<String, Value> =
                    want.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
                if got != want {
                    diffs.push(format!("stamps: want {want:?}, got {got:?}"));
                }
            }
            other => diffs.push(format!("unknown expect key {other:?}: the test cannot check it")),
        }
    }
    diffs
}

#[test]
fn every_pricing_case_through_the_binary_matches_its_expectation() {
    let cases: Vec<Value> = serde_json::from_str(CASES).expect("pricing.json is JSON");
    assert!(cases.len() >= 21, "expected the 21 cases, found {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("<unnamed case>");
        let out = price_stdin(&serde_json::to_string_pretty(&case["input"]).unwrap());
        if !out.status.success() {
            failures.push(format!(
                "case {name:?}: exit {:?}, {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let output: Value = match serde_json::from_slice(&out.stdout) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("case {name:?}: stdout is not JSON: {e}"));
                continue;
            }
        };
        let diffs = differences(&case["expect"], &output);
        if !diffs.is_empty() {
            failures.push(format!("case {name:?}: {}", diffs.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn input_is_read_from_a_file() {
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("price_cli_first_case.json");
    std::fs::write(&path, cases[0]["input"].to_string()).unwrap();
    let out = loyalty_price(&["--input", path.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let output: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(output["total"], cases[0]["expect"]["total"]);
}

#[test]
fn output_is_pretty_json_in_the_format() {
    let input = json!({ "currency": "JPY", "lines": [
        { "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": "333" } ] });
    let out = price_stdin(&input.to_string());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() > 1, "pretty printed: {text}");
    let output: Value = serde_json::from_str(&text).unwrap();
    let keys: BTreeSet<&str> = output.as_object().unwrap().keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "currency",
        "lines",
        "total_gross",
        "total_discount",
        "total",
        "stamps",
        "needs_confirmation",
        "not_applied",
        "applied",
    ]
    .into();
    assert_eq!(keys, expected);
    assert_eq!(output["total"], "333");
}

/// Asserts exit code 2, nothing on stdout and exactly one `error:` line on stderr; returns it.
fn assert_bad_input(input: &str) -> String {
    let out = price_stdin(input);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert_eq!(stderr.lines().count(), 1, "one stderr line: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    stderr
}

fn with_line(line: Value, offers: Value) -> String {
    json!({ "currency": "NOK", "lines": [line], "offers": offers, "confirmed": [] }).to_string()
}

fn good_line() -> Value {
    json!({ "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": "10.00" })
}

#[test]
fn unknown_field_is_bad_input_naming_the_field() {
    let input = json!({ "currency": "NOK", "lines": [], "basket_id": "x" }).to_string();
    assert!(assert_bad_input(&input).contains("unknown field `basket_id`"));
}

#[test]
fn malformed_amount_is_bad_input_naming_line_and_field() {
    let line = json!({ "line_id": "9", "product_id": "A", "quantity": "1", "unit_price": "12,5" });
    let stderr = assert_bad_input(&with_line(line, json!([])));
    assert_eq!(stderr.trim_end(), "error: lines[0].unit_price: malformed amount \"12,5\" (line_id \"9\")");
}

#[test]
fn unknown_currency_is_bad_input() {
    let input = json!({ "currency": "ABC", "lines": [] }).to_string();
    assert!(assert_bad_input(&input).contains("unknown currency \"ABC\""));
}

#[test]
fn coupon_with_both_percent_and_fixed_is_bad_input() {
    let offers = json!([{ "id": "c1", "type": "coupon", "percent": "10", "fixed": "1.00" }]);
    assert!(assert_bad_input(&with_line(good_line(), offers)).contains("exactly one of percent or fixed"));
}

#[test]
fn amount_with_too_many_decimals_is_bad_input() {
    let line = json!({ "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": "10.001" });
    assert!(assert_bad_input(&with_line(line, json!([]))).contains("more than 2 decimals"));
}

#[test]
fn confirmed_id_naming_no_offer_is_bad_input() {
    let input = json!({ "currency": "NOK", "lines": [good_line()], "confirmed": ["ghost"] }).to_string();
    assert!(assert_bad_input(&input).contains("\"ghost\" names no offer"));
}

#[test]
fn stamp_card_with_collected_above_required_is_bad_input() {
    let offers = json!([{ "id": "s1", "type": "stamp_card", "required": 3, "collected": 4,
                          "restartable": false, "products": ["A"] }]);
    assert!(assert_bad_input(&with_line(good_line(), offers)).contains("collected"));
}

#[test]
fn text_that_is_not_json_is_bad_input_with_its_line() {
    assert!(assert_bad_input("{\n  \"currency\": \"NOK\",\n  oops\n}").contains("line 3"));
}

#[test]
fn a_missing_input_file_is_bad_input() {
    let out = loyalty_price(&["--input", "/nonexistent/loyalty/input.json"], "");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.starts_with("error: cannot read /nonexistent/loyalty/input.json"), "{stderr:?}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let input = json!({ "currency": "NOK", "lines": [good_line()] }).to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["price", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader (`| head`) has gone before the input arrives
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// The one stderr line of a bad input holds no control character of any kind.
fn assert_printable(stderr: &str) {
    let line = stderr.trim_end_matches('\n');
    let bad: Vec<char> = line
        .chars()
        .filter(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}'))
        .collect();
    assert!(bad.is_empty(), "non-printing characters {bad:?} in {line:?}");
}

#[test]
fn terminal_escape_in_an_unknown_field_is_shown_escaped() {
    let input = r#"{ "currency": "NOK", "lines": [], "\u001b]0;owned\u0007\u001b[31mred": 1 }"#;
    let stderr = assert_bad_input(input);
    assert_printable(&stderr);
    assert!(stderr.contains(r"unknown field `\u{1b}]0;owned\u{7}\u{1b}[31mred`"), "{stderr:?}");
}

#[test]
fn line_separator_and_bidi_override_in_an_id_are_shown_escaped() {
    let line =
        json!({ "line_id": "a\u{2028}b\u{202e}c", "product_id": "A", "quantity": "1", "unit_price": "1.00" });
    let input = json!({ "currency": "NOK", "lines": [line.clone(), line], "confirmed": [] }).to_string();
    let stderr = assert_bad_input(&input);
    assert_printable(&stderr);
    assert!(
        stderr.contains(r#"line "a\u{2028}b\u{202e}c": line_id: used by more than one line"#),
        "{stderr:?}"
    );
    // A control character makes the id itself refused (ids follow the order id rule): the
    // line and the field are named, the line shows no control character.
    let line = json!({ "line_id": "1", "product_id": "A\u{1b}[2J", "quantity": "1", "unit_price": "1.00" });
    let input = json!({ "currency": "NOK", "lines": [line], "confirmed": [] }).to_string();
    let stderr = assert_bad_input(&input);
    assert_printable(&stderr);
    assert!(stderr.contains(r#"line "1": product_id: contains a control character"#), "{stderr:?}");
}

#[test]
fn ten_megabyte_bad_value_is_cut_with_an_ellipsis() {
    let value = "9,".repeat(5 * 1024 * 1024);
    let line = json!({ "line_id": "7", "product_id": "A", "quantity": "1", "unit_price": value });
    let stderr = assert_bad_input(&with_line(line, json!([])));
    assert!(stderr.len() < 1_000, "{} bytes on stderr", stderr.len());
    assert!(stderr.starts_with("error: lines[0].unit_price: malformed amount \"9,9,"), "{stderr:?}");
    assert!(stderr.trim_end().ends_with(",…\" (line_id \"7\")"), "{stderr:?}");
}

#[test]
fn ten_megabyte_unknown_field_name_is_cut_with_an_ellipsis() {
    let name = "x".repeat(10 * 1024 * 1024);
    let input = format!(r#"{{ "currency": "NOK", "lines": [], "{name}": 1 }}"#);
    let stderr = assert_bad_input(&input);
    assert!(stderr.len() < 1_000, "{} bytes on stderr", stderr.len());
    assert!(stderr.contains("unknown field `xxxx"), "{stderr:?}");
    assert!(stderr.contains("…`, expected one of"), "{stderr:?}");
}
