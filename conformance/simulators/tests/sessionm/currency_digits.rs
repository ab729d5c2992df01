//! Computed amounts follow the store currency's minor unit (setting `store_currency`, ISO 4217
//! exponent): fils stay in a KWD store, a JPY store has no decimals, NOK keeps two.

use loyalty_sim::sessionm::TotalsMismatch;

use super::*;

fn in_currency(currency: &str) -> SessionmSettings {
    let mut s = SessionmSettings::default();
    s.store_currency = currency.to_string();
    s
}

/// The amount of the 10 % check offer locked on one coffee at `price` in a `currency` store.
async fn percent_check_amount(currency: &str, price: &str) -> Value {
    let t = sim_with(in_currency(currency)).await;
    let (s, v) =
        t.lock(demo::UO_PERCENT_CHECK, basket_priced("T1", &[(demo::ITEM_COFFEE, 1, dec(price))])).await;
    assert_eq!(s, 200, "{v}");
    ok(&v)["amount"].clone()
}

#[tokio::test]
async fn percent_check_discount_rounds_half_up_to_the_store_currency_digits() {
    // 10 % of 60.125 = 6.0125: 6.013 KWD keeps the fils; NOK rounds to 6.01 as before.
    assert_eq!(percent_check_amount("KWD", "60.125").await, json!(6.013));
    assert_eq!(percent_check_amount("NOK", "60.125").await, json!(6.01));
    // 10 % of 605 yen = 60.5: 61 whole yen, not 60.5.
    assert_eq!(percent_check_amount("JPY", "605").await, json!(61.0));
}

/// A closed sale of one weighed line: 0.345 × 199 = 68.655, reported with `subtotal`.
fn weighed_sale(subtotal: Value) -> Value {
    json!({"transaction_id": "T-W", "pos_employee_id": "E-17", "channel": "POS",
           "is_closed": true, "is_voided": false, "subtotal": subtotal, "tax_total": 0,
           "open_time": "2026-01-15T11:55:00Z", "modified_time": "2026-01-15T12:00:00Z",
           "items": [{"line_id": "1", "item_id": demo::ITEM_COFFEE, "quantity": 0.345,
                      "unit_price": 199, "subtotal": subtotal}]})
}

async fn send_weighed(currency: &str, subtotal: Value) -> Value {
    let mut s = in_currency(currency);
    s.mismatched_totals = TotalsMismatch::Reject;
    let t = sim_with(s).await;
    t.send_transaction(weighed_sale(subtotal)).await.1
}

#[tokio::test]
async fn weighed_line_rounded_to_the_store_currency_is_not_a_totals_mismatch() {
    // JPY: 68.655 is 69 whole yen; the sale is kept, not refused as totals_mismatch.
    ok(&send_weighed("JPY", json!(69)).await);
    // NOK keeps two decimals: 68.66 matches, 69 is a mismatch.
    ok(&send_weighed("NOK", json!(68.66)).await);
    assert_eq!(code(&send_weighed("NOK", json!(69)).await), "totals_mismatch");
}
