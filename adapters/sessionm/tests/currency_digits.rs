//! End to end through the adapter: the simulator computes in the store currency's minor unit,
//! so a KWD discount keeps its fils and a JPY weighed line the engine rounded to whole yen is
//! kept, not refused as a totals mismatch.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use loyalty_core::{Basket, Context, Currency, Line, Money, Provider};
use loyalty_http::Secret;
use loyalty_sessionm::{SessionmAdapter, SessionmConfig};
use loyalty_sim::sessionm::{demo, SessionmSettings, SessionmSim, TotalsMismatch};
use loyalty_sim::SimClock;
use serde_json::json;

/// A simulator whose store trades in `currency` (other settings as given) and an adapter
/// configured for it.
async fn start_in(currency: &str, mut settings: SessionmSettings) -> Env {
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

#[tokio::test]
async fn kwd_percent_discount_keeps_the_fils() {
    let env = start_in("KWD", SessionmSettings::default()).await;
    // 10 % of 60.125 KWD = 6.0125 → 6.013 (half-up to the fils), not 6.01.
    let b = Basket::new(Currency::KWD).with_line(Line::new(
        "l1",
        demo::ITEM_COFFEE,
        dec("1"),
        Money::parse("60.125", Currency::KWD).unwrap(),
    ));
    let hold = lock(&env, &wallet_offer(demo::UO_PERCENT_CHECK), "T-1", &b).await.unwrap();
    assert_eq!(hold.vendor_data.clone().unwrap()["amount"], json!(6.013));
    assert_eq!(hold.vendor_discount.unwrap().amount, Money::new(6_013, Currency::KWD));
}

#[tokio::test]
async fn jpy_weighed_line_is_kept_when_mismatched_totals_are_refused() {
    let mut settings = SessionmSettings::default();
    settings.mismatched_totals = TotalsMismatch::Reject;
    let env = start_in("JPY", settings).await;
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
