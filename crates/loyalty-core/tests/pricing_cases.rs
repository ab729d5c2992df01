//! Every case of `tests/data/pricing.json` (the cases of `docs/pricing.md`) through the
//! wire format and the engine: parse_input -> price -> render_output, compared with `expect`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use loyalty_core::pricing::json::{parse_input, render_output};

const CASES: &str = include_str!("data/pricing.json");

/// Compares every key present in `expect` with the rendered output; returns the differences.
fn differences(expect: &Value, output: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let Some(expect) = expect.as_object() else { return vec!["expect is not an object".into()] };
    for (key, want) in expect {
        match key.as_str() {
            "lines" => {
                let got: BTreeMap<&str, &Value> = output["lines"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| (l["line_id"].as_str().unwrap_or_default(), &l["discount"]))
                    .collect();
                for (line_id, discount) in want.as_object().into_iter().flatten() {
                    match got.get(line_id.as_str()) {
                        Some(g) if *g == discount => {}
                        other => {
                            diffs.push(format!("line {line_id} discount: want {discount}, got {other:?}"))
                        }
                    }
                }
            }
            "total_discount" | "total" | "total_gross" => {
                if &output[key] != want {
                    diffs.push(format!("{key}: want {want}, got {}", output[key]));
                }
            }
            "needs_confirmation" | "not_applied" => {
                let ids = |v: &Value| -> BTreeSet<String> {
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .map(|x| x.get("offer_id").unwrap_or(x).as_str().unwrap_or_default().to_string())
                        .collect()
                };
                if ids(&output[key]) != ids(want) {
                    diffs.push(format!("{key}: want {want}, got {}", output[key]));
                }
            }
            "stamps" => {
                let got: BTreeMap<String, Value> = output["stamps"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        let mut entry = s.as_object().cloned().unwrap_or_default();
                        let id = entry.remove("offer_id").and_then(|v| v.as_str().map(String::from));
                        (id.unwrap_or_default(), Value::Object(entry))
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

fn run_case(case: &Value) -> Result<(), String> {
    let input = serde_json::to_string_pretty(&case["input"]).map_err(|e| e.to_string())?;
    let request = parse_input(&input).map_err(|e| format!("parse_input: {e}"))?;
    let priced = request.price().map_err(|e| format!("price: {e}"))?;
    let diffs = differences(&case["expect"], &render_output(&priced));
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

#[test]
fn every_pricing_case_matches_its_expectation() {
    let cases: Vec<Value> = serde_json::from_str(CASES).expect("pricing.json is JSON");
    assert!(cases.len() >= 21, "expected the 21 cases of tests/data/pricing.json, found {}", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let name = case["name"].as_str().unwrap_or("<unnamed case>");
            run_case(case).err().map(|why| format!("case {name:?}: {why}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn a_wrong_expectation_is_reported_with_its_difference() {
    let case: Value = serde_json::json!({
        "name": "deliberately wrong",
        "input": { "currency": "NOK",
                   "lines": [ { "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": "10.00" } ] },
        "expect": { "total": "9.00", "lines": { "1": "1.00" } }
    });
    let err = run_case(&case).unwrap_err();
    assert!(err.contains("total: want \"9.00\", got \"10.00\""), "{err}");
    assert!(err.contains("line 1 discount"), "{err}");
}

#[test]
fn every_case_output_is_internally_consistent() {
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or_default();
        let request = parse_input(&case["input"].to_string()).unwrap();
        let priced = request.price().unwrap();
        let line_sum: i64 = priced.lines.iter().map(|l| l.discount.minor).sum();
        assert_eq!(line_sum, priced.total_discount.minor, "case {name:?}: line discounts sum to the total");
        assert_eq!(
            priced.total_gross.minor - priced.total_discount.minor,
            priced.total.minor,
            "case {name:?}: total = gross - discount"
        );
        for line in &priced.lines {
            let parts: i64 = line.discounts.iter().map(|d| d.amount.minor).sum();
            assert_eq!(
                parts, line.discount.minor,
                "case {name:?}: line {} offers sum to its discount",
                line.line_id
            );
        }
    }
}
