//! The Connect wallet's paging (§4.3 `skip`/`take`, `total_records`): a tenant serving fewer
//! entries per page than asked is read up to its stated total (the contract promises no page
//! size), and a tenant that ignores `skip` ends the read with a `Protocol` error instead of an
//! endless loop.
#![cfg(feature = "simulator")]

mod common;

use std::time::Duration;

use loyalty_core::{Context, MemberId, Provider};
use loyalty_sessionm::SessionmAdapter;
use serde_json::{json, Value};

fn adapter(base: &str) -> SessionmAdapter {
    SessionmAdapter::new(common::config(base, Duration::from_secs(5))).unwrap()
}

/// A wallet of 250 issued offers on a tenant that answers at most 100 entries per page, with
/// the total stated in every reply.
fn capped_wallet(_line: &str, _headers: &str, body: &str) -> loyalty_sim::stub::Reply {
    let req: Value = serde_json::from_str(body).unwrap_or_default();
    let skip = req["skip"].as_u64().unwrap_or(0);
    let take = req["take"].as_u64().unwrap_or(0).min(100);
    let page: Vec<Value> = (skip..250.min(skip + take))
        .map(|i| json!({"user_offer_id": format!("uo-{i}"), "offer_id": "o", "name": "Offer"}))
        .collect();
    (
        200,
        "application/json",
        json!({"status": "ok", "payload": {"user_id": "u1", "user_offers": page, "total_records": 250}})
            .to_string(),
    )
}

#[tokio::test]
async fn a_wallet_served_in_pages_smaller_than_asked_is_read_up_to_its_stated_total() {
    let base = loyalty_sim::stub::serve(capped_wallet).await.unwrap();
    let offers = adapter(&base)
        .offers()
        .unwrap()
        .list(&Context::new(), Some(&MemberId::new("u1")), None)
        .await
        .unwrap();
    assert_eq!(
        offers.len(),
        250,
        "total_records says 250 issued offers; a short page before the total is not the end"
    );
}

/// A tenant that ignores `skip`: every page is the same full page, without `total_records`.
fn skip_ignored(_line: &str, _headers: &str, _body: &str) -> loyalty_sim::stub::Reply {
    // Slowed down so the test cannot eat the machine's memory while the adapter loops.
    std::thread::sleep(Duration::from_millis(20));
    let page: Vec<Value> = (0..1000)
        .map(|i| json!({"user_offer_id": format!("uo-{i}"), "offer_id": "o", "name": "Offer"}))
        .collect();
    (
        200,
        "application/json",
        json!({"status": "ok", "payload": {"user_id": "u1", "user_offers": page}}).to_string(),
    )
}

#[tokio::test]
async fn a_tenant_repeating_the_same_page_does_not_make_the_wallet_read_loop_for_ever() {
    let base = loyalty_sim::stub::serve(skip_ignored).await.unwrap();
    let adapter = adapter(&base);
    let (ctx, member) = (Context::new(), MemberId::new("u1"));
    let read = adapter.offers().unwrap().list(&ctx, Some(&member), None);
    let outcome = tokio::time::timeout(Duration::from_secs(5), read).await;
    let err = outcome.expect("the wallet read ends").expect_err("a page of offers already read is refused");
    assert_eq!(err.kind(), &loyalty_core::ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("skip 1000"), "names the page: {err}");
}

/// Entries shifted by an offer issued between two pages come again: each is listed once.
fn shifting_wallet(_line: &str, _headers: &str, body: &str) -> loyalty_sim::stub::Reply {
    let req: Value = serde_json::from_str(body).unwrap_or_default();
    // The second page starts 10 entries early, as if 10 offers were issued in between.
    let skip = req["skip"].as_u64().unwrap_or(0).saturating_sub(10);
    let take = req["take"].as_u64().unwrap_or(0);
    let page: Vec<Value> = (skip..1200.min(skip + take))
        .map(|i| json!({"user_offer_id": format!("uo-{i}"), "offer_id": "o", "name": "Offer"}))
        .collect();
    (
        200,
        "application/json",
        json!({"status": "ok", "payload": {"user_id": "u1", "user_offers": page}}).to_string(),
    )
}

#[tokio::test]
async fn entries_repeated_by_a_shifted_page_are_listed_once() {
    let base = loyalty_sim::stub::serve(shifting_wallet).await.unwrap();
    let offers = adapter(&base)
        .offers()
        .unwrap()
        .list(&Context::new(), Some(&MemberId::new("u1")), None)
        .await
        .unwrap();
    assert_eq!(offers.len(), 1200);
}
