//! Replies a live tenant may give that the simulator's defaults do not: the adapter must
//! tolerate what the contract marks inferred ("How to use this document"). Each test stands a
//! loopback stub in for SessionM.
#![cfg(feature = "simulator")]

mod common;

use std::time::Duration;

use common::*;
use loyalty_core::{Context, HoldRequest, MemberId, OfferRef, Provider, TransactionId};
use loyalty_sessionm::SessionmAdapter;
use loyalty_sim::sessionm::demo;
use serde_json::{json, Value};

fn adapter(base: &str) -> SessionmAdapter {
    SessionmAdapter::new(common::config(base, Duration::from_secs(5))).unwrap()
}

fn ok(payload: Value) -> loyalty_sim::stub::Reply {
    (200, "application/json", json!({"status": "OK", "payload": payload}).to_string())
}

/// A Connect wallet of 1005 offers, paged as asked (§4.3 `skip`/`take`), whose replies leave
/// out `total_records`.
fn wallet_without_total(_line: &str, _headers: &str, body: &str) -> loyalty_sim::stub::Reply {
    let req: Value = serde_json::from_str(body).unwrap_or_default();
    let skip = req["skip"].as_u64().unwrap_or(0);
    let take = req["take"].as_u64().unwrap_or(0);
    let page: Vec<Value> = (skip..1005.min(skip + take))
        .map(|i| json!({"user_offer_id": format!("uo-{i}"), "offer_id": "o", "name": "Offer"}))
        .collect();
    (
        200,
        "application/json",
        json!({"status": "ok", "payload": {"user_id": "u1", "user_offers": page}}).to_string(),
    )
}

#[tokio::test]
async fn a_full_wallet_page_without_total_records_is_followed_by_the_next_page() {
    let base = loyalty_sim::stub::serve(wallet_without_total).await.unwrap();
    let offers = adapter(&base)
        .offers()
        .unwrap()
        .list(&Context::new(), Some(&MemberId::new("u1")), None)
        .await
        .unwrap();
    assert_eq!(offers.len(), 1005, "a full page says there may be more; the short one ends the wallet");
}

/// POS: lock by TTL code answers a Discount naming the code (§5.5 [I]: `reference_id_type`
/// likely mirrors `offer_lookup_type`); the lookup of the user with the basket lists the two
/// offers locked to the transaction with their `user_offer_id` (§3.3, §3.6: "the reference id
/// from the prior lookup"); unlock succeeds only for the user offer the code locked.
fn ttl_lock_naming_the_code(line: &str, _headers: &str, body: &str) -> loyalty_sim::stub::Reply {
    let req: Value = serde_json::from_str(body).unwrap_or_default();
    let p = &req["request_payload"];
    let locked = |id: &str, amount: f64| {
        json!({"user_offer_id": id, "offer_id": "o", "name": "Offer", "discount": {
            "reference_id": id, "reference_id_type": "UserOfferId", "status": "Locked",
            "amount": amount, "discounted_line_ids": ["l1"], "discounted_line_id_quantities": [1]}})
    };
    if line.contains("/api/2.0/lock") {
        ok(json!({"reference_id": p["offer_lookup_code"], "reference_id_type": "TTLCode", "status": "locked",
                  "amount": 50.0, "discounted_line_ids": ["l1"], "discounted_line_id_quantities": [1],
                  "user_id": "u1"}))
    } else if line.contains("/api/2.0/lookup") {
        assert_eq!(p["transaction"]["transaction_id"], "order-1", "the lock's transaction");
        ok(json!({"user": {"id": "u1"}, "offers": [locked("uo-other", 20.0), locked("uo-ttl", 50.0)]}))
    } else if line.contains("/api/2.0/unlock") && p["user_offer_id"] == "uo-ttl" {
        (200, "application/json", json!({"status": "OK"}).to_string())
    } else {
        let e = json!({"status": "error", "errors": {"code": "offer_not_found", "message": "No such user offer."}});
        (200, "application/json", e.to_string())
    }
}

#[tokio::test]
async fn a_hold_taken_by_ttl_code_whose_discount_names_the_code_is_released_by_its_user_offer() {
    let base = loyalty_sim::stub::serve(ttl_lock_naming_the_code).await.unwrap();
    let adapter = adapter(&base);
    let offer = wallet_offer("ttl").with_reference(OfferRef::code("TTL-4711"));
    let req = HoldRequest::new(MemberId::new("u1"), offer, TransactionId::new("order-1"))
        .with_basket(basket(&[(demo::ITEM_MUG, "1")]));
    let holds = adapter.holds().unwrap();
    let hold = holds.hold(&Context::new(), &req).await.expect("lock by TTL code");
    assert_eq!(lock_discount(&hold)["reference_id"], "TTL-4711", "the Discount kept as it came");
    holds.release(&Context::new(), &hold).await.expect("unlocked by the user offer the code locked");
}
