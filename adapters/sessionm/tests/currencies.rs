//! Checklist 18 in currencies without two decimals: no SessionM payload carries a currency, so
//! the adapter writes major-unit decimals of its configured store currency and reads the
//! vendor's decimals back into that currency's minor units (JPY: 0 decimals, KWD: 3).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use loyalty_core::{Basket, Context, Currency, Line, Money, Provider};
use loyalty_http::Secret;
use loyalty_sessionm::{SessionmAdapter, SessionmConfig};
use loyalty_sim::sessionm::{demo, SessionmSettings, SessionmSim, TotalsMismatch};
use loyalty_sim::SimClock;
use serde_json::{json, Value};

/// A simulator whose store trades in `currency` and an adapter configured for it.
async fn start_in(currency: &str) -> Env {
    start_with(currency, SessionmSettings::default()).await
}

/// As [`start_in`], with other simulator settings as given.
async fn start_with(currency: &str, mut settings: SessionmSettings) -> Env {
    let clock = SimClock::default();
    settings.store_currency = currency.to_string();
    let (server, probe) =
        SessionmSim::start_with_probe(settings, clock.clone()).await.expect("simulator starts");
    let base = server.base_url();
    let config = SessionmConfig::builder()
        .with_pos(base, demo::POS_KEY, Secret::new(demo::POS_SECRET))
        .with_connect(base, demo::CONNECT_KEY, Secret::new(demo::CONNECT_SECRET))
        .with_core(base, Secret::new(demo::API_KEY), Secret::new(demo::S2S_SECRET))
        .with_tenant(demo::RETAILER_ID, demo::CLIENT_ID, demo::STORE_ID)
        .with_currency(currency)
        .with_time_zone("Europe/Oslo")
        .with_attempt_timeout(Duration::from_secs(5))
        .build()
        .expect("valid config");
    let adapter =
        SessionmAdapter::with_clock(config, Arc::new(Bridge(clock.clone()))).expect("adapter builds");
    Env { adapter, server, probe, clock }
}

/// One coffee at `price` in `currency`, tax 15 % included.
fn coffee(currency: Currency, price: &str) -> Basket {
    Basket::new(currency).with_line(
        Line::new("l1", demo::ITEM_COFFEE, dec("1"), Money::parse(price, currency).expect("price"))
            .with_tax_rate(dec("15")),
    )
}

/// The raw JSON text and the parsed `request_payload` of the only request of `op`.
fn only(env: &Env, op: &str) -> (String, Value) {
    let entries = env.pos(op);
    assert_eq!(entries.len(), 1, "{op}");
    let body = entries[0].body.clone();
    let v: Value = serde_json::from_str(&body).expect("JSON body");
    (body, v["request_payload"].clone())
}

fn no_currency(body: &str, code: &str) {
    assert!(!body.contains("currency") && !body.contains(code), "{body}");
}

// Checklist 18, JPY: 1290 yen leave as the major-unit number 1290.0; the lock's reply 50.0
// becomes 50 yen (minor units = yen).
#[tokio::test]
async fn jpy_amounts_leave_as_whole_major_units_and_a_50_0_discount_is_50_yen() {
    let env = start_in("JPY").await;
    let b = coffee(Currency::JPY, "1290");
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &b).await.unwrap();

    let (body, sent) = only(&env, "lock");
    no_currency(&body, "JPY");
    let item = &sent["transaction"]["items"][0];
    assert_eq!(item["unit_price"], json!(1290.0), "{sent}");
    assert_eq!(item["subtotal"], json!(1290.0), "{sent}");
    // 1290 × 15 / 115 = 168.26, rounded to whole yen.
    assert_eq!(item["tax_included"], json!(168.0), "{sent}");
    assert_eq!(sent["transaction"]["subtotal"], json!(1290.0));
    assert!(body.contains("\"unit_price\":1290.0"), "written as a decimal number: {body}");

    let data = lock_discount(&hold);
    assert_eq!(data["amount"], json!(50.0), "the simulator's reply");
    let discount = hold.vendor_discount.clone().unwrap();
    assert_eq!(discount.amount, Money::new(50, Currency::JPY));
    assert_eq!(discount.amount.currency, Currency::JPY);

    // The sale sends the same numbers and echoes the Discount object.
    env.adapter.transactions().unwrap().send(&Context::new(), &sale(&env, "T-1", &b, &[hold])).await.unwrap();
    let (body, sent) = only(&env, "send_transaction");
    no_currency(&body, "JPY");
    assert_eq!(sent["items"][0]["unit_price"], json!(1290.0), "{sent}");
    assert_eq!(sent["discounts"][0]["amount"], json!(50.0), "{sent}");
    let stored = env.probe.transaction("T-1").unwrap();
    assert_eq!(stored["items"][0]["unit_price"], json!(1290.0));
}

// Checklist 18, JPY: 10 % of 1295 is 129.5; the simulator rounds to the store currency's
// digits (half away from zero), and the adapter reads 130 yen. A vendor decimal between two
// yen is rounded the same way by the adapter (`convert` unit tests).
#[tokio::test]
async fn jpy_discount_with_a_fraction_rounds_half_up_to_whole_yen() {
    let env = start_in("JPY").await;
    let b = coffee(Currency::JPY, "1295");
    let hold = lock(&env, &wallet_offer(demo::UO_PERCENT_CHECK), "T-1", &b).await.unwrap();
    assert_eq!(lock_discount(&hold)["amount"], json!(130.0));
    assert_eq!(hold.vendor_discount.unwrap().amount, Money::new(130, Currency::JPY));
}

// Checklist 18, KWD (3 decimals): 60.125 dinars leave as 60.125; the reply 50.0 becomes 50 000
// fils.
#[tokio::test]
async fn kwd_amounts_keep_three_decimals_and_a_50_0_discount_is_50000_fils() {
    let env = start_in("KWD").await;
    let b = coffee(Currency::KWD, "60.125");
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-2", &b).await.unwrap();

    let (body, sent) = only(&env, "lock");
    no_currency(&body, "KWD");
    let item = &sent["transaction"]["items"][0];
    assert_eq!(item["unit_price"], json!(60.125), "{sent}");
    // 60.125 × 15 / 115 = 7.84239..., rounded to the fils.
    assert_eq!(item["tax_included"], json!(7.842), "{sent}");
    assert!(body.contains("\"unit_price\":60.125"), "{body}");

    let discount = hold.vendor_discount.clone().unwrap();
    assert_eq!(discount.amount, Money::new(50_000, Currency::KWD));

    env.adapter.transactions().unwrap().send(&Context::new(), &sale(&env, "T-2", &b, &[hold])).await.unwrap();
    let (body, sent) = only(&env, "send_transaction");
    no_currency(&body, "KWD");
    assert_eq!(sent["items"][0]["unit_price"], json!(60.125), "{sent}");
    assert_eq!(sent["discounts"][0]["amount"], json!(50.0), "{sent}");
}

// The simulator computes in the store currency's minor unit: a KWD discount keeps its fils,
// and a JPY weighed line the engine rounded to whole yen is kept, not refused as a totals
// mismatch.
#[tokio::test]
async fn kwd_percent_discount_keeps_the_fils() {
    let env = start_in("KWD").await;
    // 10 % of 60.125 KWD = 6.0125 → 6.013 (half-up to the fils), not 6.01.
    let b = Basket::new(Currency::KWD).with_line(Line::new(
        "l1",
        demo::ITEM_COFFEE,
        dec("1"),
        Money::parse("60.125", Currency::KWD).unwrap(),
    ));
    let hold = lock(&env, &wallet_offer(demo::UO_PERCENT_CHECK), "T-1", &b).await.unwrap();
    assert_eq!(lock_discount(&hold)["amount"], json!(6.013));
    assert_eq!(hold.vendor_discount.unwrap().amount, Money::new(6_013, Currency::KWD));
}

#[tokio::test]
async fn jpy_weighed_line_is_kept_when_mismatched_totals_are_refused() {
    let mut settings = SessionmSettings::default();
    settings.mismatched_totals = TotalsMismatch::Reject;
    let env = start_with("JPY", settings).await;
    // 0.345 kg at 199 yen = 68.655 → 69 yen, the engine's line total.
    let b = Basket::new(Currency::JPY).with_line(Line::new(
        "l1",
        demo::ITEM_COFFEE,
        dec("0.345"),
        Money::parse("199", Currency::JPY).unwrap(),
    ));
    let r = env.adapter.transactions().unwrap().send(&Context::new(), &sale(&env, "T-9", &b, &[])).await;
    assert!(r.is_ok(), "{r:?}");
    let stored = env.probe.transaction("T-9").expect("the sale is stored");
    assert_eq!(stored["items"][0]["subtotal"], json!(69.0), "{stored}");
}
