//! Hostile but well-formed amounts (products and sums past rust_decimal's range, about
//! 7.9 × 10^28) answer the POS validation error naming the field (§3.2, §5.8 envelope, HTTP
//! 200 by default), never a dropped connection; huge quantities allocate nothing per unit.

use loyalty_sim::sessionm::SessionmSettings;

use super::*;

fn num(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// One basket line with amounts given as JSON number text.
fn raw_line(line_id: &str, item: &str, quantity: &str, unit_price: &str, subtotal: &str) -> Value {
    json!({"line_id": line_id, "item_id": item, "quantity": num(quantity),
           "unit_price": num(unit_price), "subtotal": num(subtotal)})
}

/// An open basket of `items` (subtotal and tax as given).
fn raw_basket(tid: &str, items: Vec<Value>, subtotal: &str) -> Value {
    json!({"transaction_id": tid, "is_closed": false, "is_voided": false, "subtotal": num(subtotal),
           "tax_total": 0, "modified_time": "2026-01-15T11:58:00Z", "items": items})
}

/// Two lines of 5 × 10^28 each: every line is in range, their sum is not.
fn two_huge_lines(tid: &str) -> Value {
    raw_basket(
        tid,
        vec![
            raw_line("1", demo::ITEM_COFFEE, "1", "5e28", "5e28"),
            raw_line("2", demo::ITEM_MUG, "1", "5e28", "5e28"),
        ],
        "5e28",
    )
}

/// Asserts the POS validation failure naming `field`.
fn assert_names(s: u16, v: &Value, field: &str) {
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "error", "{v}");
    assert_eq!(code(v), "validation", "{v}");
    assert!(v["errors"]["fields"][field].is_array(), "{field} in {v}");
}

#[tokio::test]
async fn lock_with_line_subtotals_summing_past_the_range_names_the_line() {
    let t = sim().await;
    let (s, v) = t.lock(demo::UO_FIXED_CHECK, two_huge_lines("T1")).await;
    assert_names(s, &v, "request_payload.transaction.items[1].subtotal");
    assert_eq!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(loyalty_sim::sessionm::OfferState::Issued));
}

#[tokio::test]
async fn redeem_with_line_subtotals_summing_past_the_range_names_the_line() {
    let t = sim().await;
    let (s, v) = t.redeem(demo::UO_PERCENT_CHECK, two_huge_lines("T1")).await;
    assert_names(s, &v, "request_payload.transaction.items[1].subtotal");
}

#[tokio::test]
async fn lookup_with_a_basket_summing_past_the_range_names_the_line() {
    let t = sim().await;
    let (s, v) =
        t.pos("lookup", json!({"user_id": demo::USER_ID, "transaction": two_huge_lines("T1")})).await;
    assert_names(s, &v, "request_payload.transaction.items[1].subtotal");
}

#[tokio::test]
async fn send_transaction_with_quantity_times_price_past_the_range_names_the_quantity() {
    let t = sim().await;
    let line = raw_line("1", demo::ITEM_COFFEE, "1000000000000000", "1000000000000000", "1000000");
    let (s, v) = t.send_transaction(raw_basket("T1", vec![line], "1000000")).await;
    assert_names(s, &v, "request_payload.items[0].quantity");
    assert!(t.probe.transaction("T1").is_none());
}

#[tokio::test]
async fn send_transaction_with_discounts_summing_past_the_range_names_the_discount() {
    let t = sim().await;
    let mut b = raw_basket("T1", vec![raw_line("1", demo::ITEM_COFFEE, "1", "129", "129")], "129");
    b["is_closed"] = json!(true);
    b["discounts"] = json!([{"amount": num("5e28")}, {"amount": num("5e28")}]);
    let (s, v) = t.send_transaction(b).await;
    assert_names(s, &v, "request_payload.discounts[1].amount");
}

#[tokio::test]
async fn send_transaction_whose_points_pass_the_range_is_refused_before_any_change() {
    let mut settings = SessionmSettings::default();
    settings.points_per_currency_unit = Decimal::from(10);
    let t = sim_with(settings).await;
    let mut b = raw_basket("T1", vec![raw_line("1", demo::ITEM_COFFEE, "1", "7e28", "7e28")], "7e28");
    b["is_closed"] = json!(true);
    b["payments"] = json!([{"amount": num("7e28"), "user_id": demo::USER_ID}]);
    let (s, v) = t.send_transaction(b).await;
    assert_names(s, &v, "request_payload.items");
    assert!(t.probe.transaction("T1").is_none());
    assert_eq!(t.probe.points(demo::USER_ID), Some(Decimal::from(demo::USER_POINTS)));
}

#[tokio::test]
async fn a_sale_that_would_push_the_balance_past_the_range_is_refused_and_the_sim_keeps_answering() {
    let t = sim().await;
    let sale = |tid: &str| {
        let mut b = raw_basket(tid, vec![raw_line("1", demo::ITEM_COFFEE, "1", "5e28", "5e28")], "5e28");
        b["is_closed"] = json!(true);
        b["payments"] = json!([{"amount": num("5e28"), "user_id": demo::USER_ID}]);
        b
    };
    ok(&t.send_transaction(sale("T1")).await.1);
    let (s, v) = t.send_transaction(sale("T2")).await;
    assert_names(s, &v, "request_payload.items");
    assert!(t.probe.transaction("T2").is_none());
    // Still answering (no poisoned state, no panic on the next settle).
    let (s, v) = t.pos("lookup", json!({"user_id": demo::USER_ID})).await;
    assert_eq!((s, &v["status"]), (200, &json!("OK")), "{v}");
}

// Buy-X-get-Y counts whole units: a quantity of 10^15 must not allocate 10^15 entries.
#[tokio::test]
async fn buy_x_get_y_lock_on_a_huge_quantity_rewards_once() {
    let t = sim().await;
    let line = raw_line("1", demo::ITEM_COFFEE, "1000000000000000", "129", "129000000000000000");
    let (s, v) = t.lock(demo::UO_BXGY_FIXED, raw_basket("T1", vec![line], "129000000000000000")).await;
    assert_eq!(s, 200, "{v}");
    let d = ok(&v);
    assert_eq!(d["amount"], json!(30.0), "{v}");
    assert_eq!(d["discounted_line_ids"], json!(["1"]), "{v}");
}
