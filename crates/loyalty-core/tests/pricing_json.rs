//! The pricing wire format (`docs/pricing.md`): strict parsing and the exact output shape.

// Amounts are written as kroner_øre (100_00 = 100.00 NOK), which reads better than 10_000.
#![allow(clippy::inconsistent_digit_grouping)]

use serde_json::{json, Value};

use loyalty_core::pricing::json::{parse_input, render_output, InputError};
use loyalty_core::{Currency, Money, OfferKind, Scope};

fn input(lines: Value, offers: Value) -> String {
    json!({ "currency": "NOK", "now": "2026-01-15T12:00:00Z", "lines": lines, "offers": offers, "confirmed": [] })
        .to_string()
}

fn one_line() -> Value {
    json!([{ "line_id": "1", "product_id": "A", "quantity": "2", "unit_price": "100.00" }])
}

fn error_of(text: &str) -> String {
    let err = parse_input(text).unwrap_err().to_string();
    assert_eq!(err.lines().count(), 1, "error must be one line: {err:?}");
    err
}

#[test]
fn unknown_top_level_field_is_rejected_with_its_name_and_line() {
    let text = "{\n  \"currency\": \"NOK\",\n  \"lines\": [],\n  \"colour\": \"red\"\n}";
    let err = parse_input(text).unwrap_err();
    assert_eq!(err.line(), Some(4));
    let msg = err.to_string();
    assert!(msg.contains("unknown field `colour`") && msg.contains("line 4"), "{msg}");
}

#[test]
fn unknown_line_field_is_rejected_with_its_name() {
    let lines =
        json!([{ "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": "1.00", "qty": "2" }]);
    assert!(error_of(&input(lines, json!([]))).contains("unknown field `qty`"));
}

#[test]
fn unknown_offer_field_is_rejected_with_its_name() {
    let offers = json!([{ "id": "c1", "type": "coupon", "percent": "10", "product": ["A"] }]);
    assert!(error_of(&input(one_line(), offers)).contains("unknown field `product`"));
}

#[test]
fn unknown_tier_field_is_rejected_with_its_name() {
    let offers = json!([{ "id": "p1", "type": "progressive", "products": ["A"],
                          "tiers": [ { "min_units": 1, "percent": "5", "max_units": 3 } ] }]);
    assert!(error_of(&input(one_line(), offers)).contains("unknown field `max_units`"));
}

#[test]
fn malformed_amount_names_the_line_index_id_and_field() {
    let lines = json!([
        { "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": "1.00" },
        { "line_id": "2", "product_id": "B", "quantity": "1", "unit_price": "12,5" },
    ]);
    assert_eq!(
        error_of(&input(lines, json!([]))),
        "lines[1].unit_price: malformed amount \"12,5\" (line_id \"2\")"
    );
}

#[test]
fn malformed_quantity_names_the_line_and_field() {
    let lines = json!([{ "line_id": "7", "product_id": "A", "quantity": "two", "unit_price": "1.00" }]);
    assert_eq!(
        error_of(&input(lines, json!([]))),
        "lines[0].quantity: malformed quantity \"two\" (line_id \"7\")"
    );
}

#[test]
fn amount_with_more_decimals_than_the_currency_is_refused_not_rounded() {
    let lines = json!([{ "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": "1.005" }]);
    assert_eq!(
        error_of(&input(lines, json!([]))),
        "lines[0].unit_price: 1.005 has more than 2 decimals for NOK (line_id \"1\")"
    );
    let yen = json!({ "currency": "JPY", "lines": [
        { "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": "333.5" } ] });
    assert!(error_of(&yen.to_string()).contains("more than 0 decimals for JPY"));
}

#[test]
fn fixed_coupon_amount_with_too_many_decimals_names_the_offer() {
    let offers = json!([{ "id": "c3", "type": "coupon", "fixed": "5.001" }]);
    assert_eq!(
        error_of(&input(one_line(), offers)),
        "offers[0].fixed: 5.001 has more than 2 decimals for NOK (offer \"c3\")"
    );
}

#[test]
fn amount_given_as_a_json_number_is_refused() {
    let lines = json!([{ "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": 100.0 }]);
    assert!(error_of(&input(lines, json!([]))).contains("expected a string"));
}

#[test]
fn unknown_currency_is_refused() {
    let text = json!({ "currency": "XYZ", "lines": [] }).to_string();
    assert_eq!(error_of(&text), "currency: unknown currency \"XYZ\"");
}

#[test]
fn coupon_with_both_percent_and_fixed_is_refused() {
    let offers = json!([{ "id": "c1", "type": "coupon", "percent": "10", "fixed": "5.00" }]);
    assert_eq!(
        error_of(&input(one_line(), offers)),
        "offers[0]: a coupon has exactly one of percent or fixed, found both (offer \"c1\")"
    );
}

#[test]
fn coupon_with_neither_percent_nor_fixed_is_refused() {
    let offers = json!([{ "id": "c1", "type": "coupon", "products": ["A"] }]);
    assert!(error_of(&input(one_line(), offers)).contains("found neither"));
}

#[test]
fn field_of_another_offer_type_is_refused() {
    let offers = json!([{ "id": "c1", "type": "coupon", "percent": "10", "required": 3 }]);
    assert_eq!(
        error_of(&input(one_line(), offers)),
        "offers[0].required: not a field of a coupon (offer \"c1\")"
    );
}

#[test]
fn stamp_card_without_collected_is_refused() {
    let offers =
        json!([{ "id": "s1", "type": "stamp_card", "required": 3, "restartable": false, "products": ["A"] }]);
    assert_eq!(
        error_of(&input(one_line(), offers)),
        "offers[0].collected: missing for a stamp_card (offer \"s1\")"
    );
}

#[test]
fn unknown_offer_type_is_refused() {
    let offers = json!([{ "id": "x", "type": "voucher" }]);
    assert!(
        error_of(&input(one_line(), offers)).starts_with("offers[0].type: unknown offer type \"voucher\"")
    );
}

#[test]
fn validity_time_must_be_rfc_3339() {
    let offers = json!([{ "id": "c1", "type": "coupon", "percent": "10", "valid_to": "31.12.2025" }]);
    assert!(error_of(&input(one_line(), offers)).starts_with("offers[0].valid_to: not an RFC 3339 time"));
}

#[test]
fn malformed_json_reports_its_line() {
    let err = parse_input("{\n \"currency\": \"NOK\",\n \"lines\": [,]\n}").unwrap_err();
    assert!(matches!(err, InputError::Json(_)));
    assert_eq!(err.line(), Some(3));
}

#[test]
fn empty_or_absent_products_mean_the_whole_basket() {
    let offers = json!([
        { "id": "c1", "type": "coupon", "percent": "10", "products": [] },
        { "id": "c2", "type": "coupon", "fixed": "5.00" },
    ]);
    let request = parse_input(&input(one_line(), offers)).unwrap();
    for offer in &request.offers {
        assert!(matches!(offer.kind, OfferKind::Coupon { scope: Scope::Basket, .. }), "{offer:?}");
    }
}

#[test]
fn amounts_are_parsed_exactly_into_minor_units() {
    let request = parse_input(&input(one_line(), json!([]))).unwrap();
    assert_eq!(request.basket.lines[0].unit_price, Money::new(100_00, Currency::NOK));
    assert!(request.now.is_some());
}

#[test]
fn without_now_the_request_has_no_pricing_time() {
    let text = json!({ "currency": "NOK", "lines": [] }).to_string();
    assert_eq!(parse_input(&text).unwrap().now, None);
}

#[test]
fn output_has_exactly_the_format_fields_and_currency_digits() {
    let offers = json!([
        { "id": "c1", "type": "coupon", "percent": "10", "products": ["A"] },
        { "id": "c2", "type": "coupon", "fixed": "50.00" },
        { "id": "c9", "type": "coupon", "percent": "5", "valid_to": "2025-12-31T23:59:59Z" },
        { "id": "s1", "type": "stamp_card", "required": 6, "collected": 5, "restartable": true, "products": ["C"] },
    ]);
    let priced = parse_input(&input(one_line(), offers)).unwrap().price().unwrap();
    let expected = json!({
        "currency": "NOK",
        "lines": [ { "line_id": "1", "gross": "200.00", "discount": "20.00", "net": "180.00", "offers": ["c1"] } ],
        "total_gross": "200.00", "total_discount": "20.00", "total": "180.00",
        "stamps": [ { "offer_id": "s1", "earned": 0, "free_units": 0, "remaining": 1 } ],
        "needs_confirmation": ["c2"],
        "not_applied": [
            { "offer_id": "c2", "reason": "waiting for the customer to confirm it" },
            { "offer_id": "c9", "reason": "expired on 2025-12-31" },
            { "offer_id": "s1", "reason": "no matching products in the basket" },
        ],
        "applied": [ { "offer_id": "c1", "reason": "10 % off on the products it covers: 20.00 NOK on 1 line" } ]
    });
    assert_eq!(render_output(&priced), expected);
}

#[test]
fn zero_decimal_amounts_render_without_a_decimal_point() {
    let text = json!({ "currency": "JPY", "lines": [
        { "line_id": "1", "product_id": "A", "quantity": "1", "unit_price": "333" } ] })
    .to_string();
    let output = render_output(&parse_input(&text).unwrap().price().unwrap());
    assert_eq!(output["total"], "333");
    assert_eq!(output["lines"][0]["discount"], "0");
}

#[test]
fn a_value_of_the_wrong_type_names_its_line_and_field() {
    let lines = json!([{ "line_id": "1", "product_id": "p", "quantity": 1, "unit_price": "10.00" }]);
    let err = error_of(&input(lines, json!([])));
    assert!(err.starts_with("lines[0].quantity: invalid type: integer `1`, expected a string"), "{err}");
    let offers = json!([{ "id": "s", "type": "stamp_card", "required": -1 }]);
    let err = error_of(&input(one_line(), offers));
    assert!(err.starts_with("offers[0].required: invalid value: integer `-1`"), "{err}");
}

#[test]
fn digits_past_28_are_bad_input_not_rounded() {
    let line =
        |q: &str, p: &str| json!([{ "line_id": "1", "product_id": "A", "quantity": q, "unit_price": p }]);
    let err = error_of(&input(line("1", "100.000000000000000000000000000001"), json!([])));
    assert!(err.contains("unit_price"), "{err}");
    let err = error_of(&input(line("1.0000000000000000000000000000001", "1.00"), json!([])));
    assert!(err.contains("quantity"), "{err}");
}

#[test]
fn progressive_count_and_mode_are_read_and_default_to_units_and_all_units() {
    use loyalty_core::offer::{ProgressiveCount, ProgressiveMode};
    let tiers = json!([ { "min_units": 1, "percent": "25" }, { "min_units": 2, "percent": "50" } ]);
    let offers = json!([
        { "id": "p1", "type": "progressive", "products": ["A"], "tiers": tiers, "mode": "marginal_unit" },
        { "id": "p2", "type": "progressive", "products": ["B"], "tiers": tiers, "count": "lines" },
        { "id": "p3", "type": "progressive", "products": ["C"], "tiers": tiers },
    ]);
    let request = parse_input(&input(one_line(), offers)).unwrap();
    let rules: Vec<_> = request
        .offers
        .iter()
        .map(|o| match &o.kind {
            OfferKind::ProgressiveDiscount { count, mode, .. } => (*count, *mode),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        rules,
        vec![
            (ProgressiveCount::Units, ProgressiveMode::MarginalUnit),
            (ProgressiveCount::Lines, ProgressiveMode::AllUnits),
            (ProgressiveCount::Units, ProgressiveMode::AllUnits),
        ]
    );
    // 2 x 100.00 of A, marginal: 25.00 + 50.00 off.
    let output = render_output(&request.price().unwrap());
    assert_eq!(output["total"], "125.00", "{output}");
}

#[test]
fn unknown_progressive_count_or_mode_is_bad_input_naming_the_field() {
    let offer = |field: &str, value: &str| {
        let mut o = json!({ "id": "p1", "type": "progressive", "products": ["A"],
                            "tiers": [ { "min_units": 1, "percent": "25" } ] });
        o[field] = json!(value);
        json!([o])
    };
    let err = error_of(&input(one_line(), offer("count", "items")));
    assert!(err.starts_with("offers[0].count: unknown count \"items\""), "{err}");
    let err = error_of(&input(one_line(), offer("mode", "marginal")));
    assert!(err.starts_with("offers[0].mode: unknown mode \"marginal\""), "{err}");
    let coupon = json!([{ "id": "c1", "type": "coupon", "percent": "10", "mode": "marginal_unit" }]);
    assert!(error_of(&input(one_line(), coupon)).starts_with("offers[0].mode: not a field of a coupon"));
}
