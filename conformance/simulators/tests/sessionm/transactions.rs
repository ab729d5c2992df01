//! `send_transaction` (§3.9, §5.1-§5.5, §7.1, §7.5-§7.7) and the stored view (§4.5).

use loyalty_sim::sessionm::{ExpiredLockDiscount, OfferState, TotalsMismatch};

use super::*;

fn kari_points(t: &T) -> Decimal {
    t.probe.points(demo::USER_ID).unwrap()
}

fn coffee_and_mug(tid: &str) -> Value {
    basket(tid, &[(demo::ITEM_COFFEE, 1), (demo::ITEM_MUG, 1)])
}

/// Adds a payment by `user_id` (attributes the transaction to that member).
fn paid_by(mut b: Value, user_id: &str) -> Value {
    b["payments"] = json!([{"payment_id": "P1", "amount": b["subtotal"].clone(), "type": "card",
                            "payment_time": "2026-01-15T11:59:00Z", "user_id": user_id, "user_id_type": "sessionm_id"}]);
    b
}

/// Locks `offer` on `b` and returns the Discount object.
async fn locked(t: &T, offer: &str, b: &Value) -> Value {
    let (_, v) = t.lock(offer, b.clone()).await;
    ok(&v).clone()
}

fn warnings_for(t: &T, tid: &str) -> Vec<String> {
    t.probe.warnings().into_iter().filter(|w| w.transaction_id == tid).map(|w| w.message).collect()
}

// Checklist 12.
#[tokio::test]
async fn closed_transaction_carrying_the_locks_discount_redeems_the_offer() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    let (s, v) = t.send_transaction(closed(b, "2026-01-15T12:00:00Z", vec![d])).await;
    assert_eq!(s, 200);
    assert_eq!(ok(&v)["pos_transaction_id"], "T1");
    assert!(!t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
    assert_eq!(
        t.probe.offer_state(demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "T1".into() })
    );
    assert!(warnings_for(&t, "T1").is_empty());
}

#[tokio::test]
async fn open_transaction_does_not_consume_a_lock() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    let mut open = closed(b, "2026-01-15T12:00:00Z", vec![d]);
    open["is_closed"] = json!(false);
    ok(&t.send_transaction(open).await.1);
    assert!(matches!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Locked { .. })));
}

// §7.4: reinstate after a lock whose transaction was closed.
#[tokio::test]
async fn reinstate_after_a_finalized_lock_returns_the_offer() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    ok(&t.send_transaction(closed(b, "2026-01-15T12:00:00Z", vec![d])).await.1);
    assert_eq!(t.reinstate(demo::UO_FIXED_CHECK).await.1, json!({"status": "OK"}));
    assert!(t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
}

// Points formula (simulator decision): floor(lines − discounts) per closed transaction.
#[tokio::test]
async fn closed_transaction_earns_one_point_per_whole_currency_unit_of_net() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_PERCENT_CHECK, &b).await; // 32.80 off 328.00
    ok(&t.send_transaction(closed(b, "2026-01-15T12:00:00Z", vec![d])).await.1);
    assert_eq!(kari_points(&t), Decimal::from(250 + 295));
    assert_eq!(t.probe.life_time_points(demo::USER_ID), Some(Decimal::from(1250 + 295)));
}

#[tokio::test]
async fn payment_user_id_attributes_points_by_sessionm_or_external_id() {
    let t = sim().await;
    ok(&t
        .send_transaction(paid_by(
            closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]),
            demo::USER_ID,
        ))
        .await
        .1);
    ok(&t
        .send_transaction(paid_by(
            closed(basket("T2", &[(demo::ITEM_TEA, 1)]), "2026-01-15T12:00:00Z", vec![]),
            demo::USER_EXTERNAL_ID,
        ))
        .await
        .1);
    assert_eq!(kari_points(&t), Decimal::from(250 + 328 + 59));
}

#[tokio::test]
async fn anonymous_transaction_earns_nothing() {
    let t = sim().await;
    ok(&t.send_transaction(closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![])).await.1);
    assert_eq!(kari_points(&t), Decimal::from(250));
}

// §8.3 setting: the points rate.
#[tokio::test]
async fn points_rate_setting_scales_and_floors() {
    let mut s = SessionmSettings::default();
    s.points_per_currency_unit = "0.1".parse().unwrap();
    let t = sim_with(s).await;
    ok(&t
        .send_transaction(paid_by(
            closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]),
            demo::USER_ID,
        ))
        .await
        .1);
    assert_eq!(kari_points(&t), Decimal::from(250 + 32));
}

// §3.9: points computed later; the delay runs on the simulator clock.
#[tokio::test]
async fn points_delay_setting_credits_points_later_on_the_sim_clock() {
    let mut s = SessionmSettings::default();
    s.points_delay_secs = 600;
    let t = sim_with(s).await;
    ok(&t
        .send_transaction(paid_by(
            closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]),
            demo::USER_ID,
        ))
        .await
        .1);
    assert_eq!(kari_points(&t), Decimal::from(250));
    t.advance_secs(599);
    assert_eq!(kari_points(&t), Decimal::from(250));
    t.advance_secs(1);
    assert_eq!(kari_points(&t), Decimal::from(578));
}

// Checklist 15: a later modified_time replaces the stored version.
#[tokio::test]
async fn resend_with_later_modified_time_replaces_the_transaction_and_its_points() {
    let t = sim().await;
    ok(&t
        .send_transaction(paid_by(
            closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]),
            demo::USER_ID,
        ))
        .await
        .1);
    let returned = paid_by(
        closed(basket("T1", &[(demo::ITEM_COFFEE, 1)]), "2026-01-15T12:05:00Z", vec![]),
        demo::USER_ID,
    );
    ok(&t.send_transaction(returned).await.1);
    let stored = t.probe.transaction("T1").unwrap();
    assert_eq!(stored["items"].as_array().unwrap().len(), 1);
    assert_eq!(stored["modified_time"], "2026-01-15T12:05:00Z");
    assert_eq!(kari_points(&t), Decimal::from(250 + 129));
    assert_eq!(t.probe.transactions().len(), 1);
}

// Checklist 15: an older modified_time arriving later does not overwrite (accepted, warned).
#[tokio::test]
async fn resend_with_older_modified_time_is_ignored_with_a_warning() {
    let t = sim().await;
    ok(&t
        .send_transaction(closed(basket("T1", &[(demo::ITEM_COFFEE, 1)]), "2026-01-15T12:05:00Z", vec![]))
        .await
        .1);
    let (s, v) = t.send_transaction(closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![])).await;
    assert_eq!((s, &v["status"]), (200, &json!("OK")));
    assert_eq!(t.probe.transaction("T1").unwrap()["items"].as_array().unwrap().len(), 1);
    assert_eq!(warnings_for(&t, "T1").len(), 1);
}

// Checklist 17 (simulator side): the return flow re-sends the original without the returned
// lines, then reinstates the offer; points follow the new net.
#[tokio::test]
async fn return_flow_resend_without_returned_line_then_reinstate() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    ok(&t.send_transaction(closed(b, "2026-01-15T12:00:00Z", vec![d.clone()])).await.1);
    assert_eq!(kari_points(&t), Decimal::from(250 + 278));
    let mut kept = d;
    kept["discounted_line_ids"] = json!(["1"]);
    kept["discounted_line_id_quantities"] = json!([1]);
    ok(&t
        .send_transaction(closed(basket("T1", &[(demo::ITEM_COFFEE, 1)]), "2026-01-16T10:00:00Z", vec![kept]))
        .await
        .1);
    assert_eq!(kari_points(&t), Decimal::from(250 + 79));
    assert_eq!(
        t.probe.offer_state(demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "T1".into() })
    );
    assert_eq!(t.reinstate(demo::UO_FIXED_CHECK).await.1, json!({"status": "OK"}));
    assert!(t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
    assert!(warnings_for(&t, "T1").is_empty(), "{:?}", t.probe.warnings());
}

#[tokio::test]
async fn resend_dropping_a_discount_keeps_the_offer_redeemed_with_a_warning() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    ok(&t.send_transaction(closed(b.clone(), "2026-01-15T12:00:00Z", vec![d])).await.1);
    ok(&t.send_transaction(closed(b, "2026-01-15T12:01:00Z", vec![])).await.1);
    assert!(matches!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Redeemed { .. })));
    assert_eq!(warnings_for(&t, "T1").len(), 1);
}

// §7.5 [I]: is_voided reverses the outcomes.
#[tokio::test]
async fn void_takes_points_back_and_returns_redeemed_offers() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    ok(&t.send_transaction(closed(b.clone(), "2026-01-15T12:00:00Z", vec![d.clone()])).await.1);
    let mut void = closed(b, "2026-01-15T12:10:00Z", vec![d]);
    void["is_voided"] = json!(true);
    ok(&t.send_transaction(void).await.1);
    assert_eq!(kari_points(&t), Decimal::from(250));
    assert_eq!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
    assert_eq!(t.probe.transaction("T1").unwrap()["is_voided"], true);
}

// §7.2 / §8.3 default: an expired lock's discount redeems the offer if still available.
#[tokio::test]
async fn expired_locks_discount_redeems_the_offer_if_still_available() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    t.advance_secs(20 * 60);
    ok(&t.send_transaction(closed(b, "2026-01-15T12:20:00Z", vec![d])).await.1);
    assert_eq!(
        t.probe.offer_state(demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "T1".into() })
    );
    assert!(warnings_for(&t, "T1")[0].contains("expired"));
}

// §8.3 default: not available any more → a warning, the transaction is still accepted.
#[tokio::test]
async fn expired_locks_discount_for_an_offer_locked_elsewhere_is_only_a_warning() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    t.advance_secs(20 * 60);
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee_and_mug("T2")).await.1);
    let (_, v) = t.send_transaction(closed(b, "2026-01-15T12:20:00Z", vec![d])).await;
    ok(&v);
    assert!(
        matches!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Locked { transaction_id, .. }) if transaction_id == "T2")
    );
    assert!(warnings_for(&t, "T1")[0].contains("not available"));
}

// §7.2 / §8.3: the lapsed lock stays this transaction's expired lock even after another
// transaction locked and unlocked the offer meanwhile.
#[tokio::test]
async fn expired_locks_discount_redeems_after_another_transactions_lock_came_and_went() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    t.advance_secs(20 * 60);
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee_and_mug("T2")).await.1);
    assert_eq!(t.unlock(demo::UO_FIXED_CHECK).await.1, json!({"status": "OK"}));
    ok(&t.send_transaction(closed(b, "2026-01-15T12:20:00Z", vec![d])).await.1);
    assert_eq!(
        t.probe.offer_state(demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "T1".into() })
    );
    assert!(warnings_for(&t, "T1")[0].contains("expired"), "{:?}", t.probe.warnings());
}

// §8.1: only a lock of this transaction (live, or lapsed per §8.3) lets its sale redeem an
// offer. An offer it never locked has no transition: it stays in the wallet, the sale is
// accepted and the discount noted.
#[tokio::test]
async fn discount_for_an_offer_the_transaction_never_locked_redeems_nothing() {
    let t = sim().await;
    let d = json!({"reference_id": demo::UO_FIXED_CHECK, "reference_id_type": "UserOfferId", "amount": 50.0,
                   "discounted_line_ids": ["1", "2"], "discounted_line_id_quantities": [1, 1]});
    let (s, v) = t.send_transaction(closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![d])).await;
    assert_eq!(s, 200);
    ok(&v);
    assert_eq!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
    assert!(t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
    let w = warnings_for(&t, "T1");
    assert!(w.len() == 1 && w[0].contains("not locked by this transaction"), "{w:?}");
}

// §8.1, §7.3: an unlocked offer is back in the wallet; the lock's Discount no longer redeems it,
// also when an earlier lock of the same transaction had lapsed before it locked again.
#[tokio::test]
async fn discount_of_a_lock_released_with_unlock_redeems_nothing() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let plain = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    assert_eq!(t.unlock(demo::UO_FIXED_CHECK).await.1, json!({"status": "OK"}));
    locked(&t, demo::UO_PERCENT_CHECK, &b).await;
    t.advance_secs(16 * 60);
    let relocked = locked(&t, demo::UO_PERCENT_CHECK, &b).await;
    assert_eq!(t.unlock(demo::UO_PERCENT_CHECK).await.1, json!({"status": "OK"}));
    ok(&t.send_transaction(closed(b, "2026-01-15T12:20:00Z", vec![plain, relocked])).await.1);
    for offer in [demo::UO_FIXED_CHECK, demo::UO_PERCENT_CHECK] {
        assert_eq!(t.probe.offer_state(offer), Some(OfferState::Issued), "{offer}");
    }
    let w = warnings_for(&t, "T1");
    assert_eq!(w.iter().filter(|m| m.contains("not locked by this transaction")).count(), 2, "{w:?}");
}

// §8.3 alternative: reject.
#[tokio::test]
async fn expired_locks_discount_is_rejected_with_setting() {
    let mut s = SessionmSettings::default();
    s.expired_lock_discount = ExpiredLockDiscount::Reject;
    let t = sim_with(s).await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    t.advance_secs(15 * 60);
    let (_, v) = t.send_transaction(closed(b, "2026-01-15T12:15:00Z", vec![d])).await;
    assert_eq!(code(&v), "lock_expired");
    assert!(t.probe.transaction("T1").is_none());
    assert_eq!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
}

#[tokio::test]
async fn discount_referencing_no_offer_is_accepted_with_a_warning() {
    let t = sim().await;
    let d = json!({"reference_id": "nope", "reference_id_type": "UserOfferId", "amount": 5.0});
    ok(&t.send_transaction(closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![d])).await.1);
    assert!(warnings_for(&t, "T1")[0].contains("nope"));
}

// Checklist 16.
#[tokio::test]
async fn item_with_negative_amount_is_rejected() {
    let t = sim().await;
    let mut b = closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]);
    b["items"][1]["subtotal"] = json!(-199.0);
    let (_, v) = t.send_transaction(b).await;
    assert_eq!(code(&v), "validation");
    assert!(v["errors"]["fields"]["request_payload.items[1].subtotal"].is_array(), "{v}");
    assert!(t.probe.transaction("T1").is_none());
}

// Checklist 16.
#[tokio::test]
async fn item_with_zero_or_negative_quantity_is_rejected() {
    let t = sim().await;
    for q in [json!(0), json!(-1)] {
        let mut b = closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]);
        b["items"][0]["quantity"] = q;
        let (_, v) = t.send_transaction(b).await;
        assert!(v["errors"]["fields"]["request_payload.items[0].quantity"].is_array(), "{v}");
    }
}

// Checklist 16: a negative `tax_included` or `unit_price` on an item is a `validation` error
// naming that field, and nothing is stored (no transaction, no points).
#[tokio::test]
async fn item_with_negative_tax_included_or_unit_price_is_rejected_and_not_stored() {
    let t = sim().await;
    for (tid, field) in [("T1", "tax_included"), ("T2", "unit_price")] {
        let mut b = paid_by(closed(coffee_and_mug(tid), "2026-01-15T12:00:00Z", vec![]), demo::USER_ID);
        b["items"][0][field] = json!(-1.0);
        let (s, v) = t.send_transaction(b).await;
        assert_eq!((s, code(&v)), (200, "validation"), "{field}: {v}");
        assert_eq!(v["status"], "error");
        let fields = v["errors"]["fields"].as_object().unwrap();
        let path = format!("request_payload.items[0].{field}");
        assert!(fields[&path].is_array(), "{path} in {v}");
        assert_eq!(fields.len(), 1, "only {path} is wrong: {v}");
        assert!(t.probe.transaction(tid).is_none(), "{tid} was stored");
    }
    assert!(t.probe.transactions().is_empty());
    let (_, v) = t.send(Method::GET, "/_sim/transactions", None, None).await;
    assert_eq!(v["payload"]["total_records"], 0);
    assert_eq!(kari_points(&t), Decimal::from(250));
}

// §7.5, §8.3: `send_transaction` upserts by (store/retailer, `transaction_id`): the same id sent
// from another store of the retailer is another transaction, whatever its `modified_time`.
#[tokio::test]
async fn same_transaction_id_from_another_store_is_another_transaction() {
    let t = sim().await;
    let oslo = paid_by(closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]), demo::USER_ID);
    ok(&t.send_transaction(oslo).await.1);
    // An older modified_time: for the same store it would be ignored, here it is a new sale.
    let bergen = paid_by(
        closed(basket("T1", &[(demo::ITEM_COFFEE, 1)]), "2026-01-15T11:00:00Z", vec![]),
        demo::USER_ID,
    );
    let (s, v) = t.pos_body("send_transaction", t.envelope_at(demo::OTHER_STORE_ID, bergen)).await;
    assert_eq!(s, 200);
    assert_eq!(ok(&v)["pos_transaction_id"], "T1");
    assert_eq!(t.probe.transactions().len(), 2);
    let osl = t.probe.transaction_at(demo::STORE_ID, "T1").unwrap();
    let bgo = t.probe.transaction_at(demo::OTHER_STORE_ID, "T1").unwrap();
    assert_eq!(
        (osl["store_id"].as_str(), osl["items"].as_array().map(Vec::len)),
        (Some(demo::STORE_ID), Some(2))
    );
    assert_eq!(
        (bgo["store_id"].as_str(), bgo["items"].as_array().map(Vec::len)),
        (Some(demo::OTHER_STORE_ID), Some(1))
    );
    assert_ne!(osl["id"], bgo["id"], "two SessionM transaction ids");
    assert!(warnings_for(&t, "T1").is_empty(), "{:?}", t.probe.warnings());
    // Each earns its points: 328 + 129.
    assert_eq!(kari_points(&t), Decimal::from(250 + 328 + 129));
    let (_, v) = t.send(Method::GET, "/_sim/transactions?pos_transaction_id=T1", None, None).await;
    assert_eq!(v["payload"]["total_records"], 2);
    let path = format!("/_sim/transactions?pos_transaction_id=T1&store_id={}", demo::OTHER_STORE_ID);
    let (_, v) = t.send(Method::GET, &path, None, None).await;
    assert_eq!(v["payload"]["total_records"], 1);
    assert_eq!(v["payload"]["results"][0]["items"][0]["pos_item_key"], demo::ITEM_COFFEE);

    // A re-send from Bergen replaces only Bergen's version.
    let bergen2 =
        paid_by(closed(basket("T1", &[(demo::ITEM_TEA, 1)]), "2026-01-15T11:30:00Z", vec![]), demo::USER_ID);
    ok(&t.pos_body("send_transaction", t.envelope_at(demo::OTHER_STORE_ID, bergen2)).await.1);
    assert_eq!(t.probe.transactions().len(), 2);
    let bgo = t.probe.transaction_at(demo::OTHER_STORE_ID, "T1").unwrap();
    assert_eq!(bgo["items"][0]["pos_item_key"], demo::ITEM_TEA);
    assert_eq!(
        t.probe.transaction_at(demo::STORE_ID, "T1").unwrap()["items"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(kari_points(&t), Decimal::from(250 + 328 + 59));
}

// §7.5, §8.1: a lock belongs to the transaction of the store that took it. The same
// `transaction_id` at another store can neither take the lock over nor redeem it with the
// Discount, and its void gives back nothing of the other store's sale.
#[tokio::test]
async fn a_lock_and_its_redemption_belong_to_the_transaction_of_their_store() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    let relock = json!({"offer_lookup_code": demo::UO_FIXED_CHECK, "offer_lookup_type": "UserOfferId",
                        "transaction": b.clone()});
    let (_, v) = t.pos_body("lock", t.envelope_at(demo::OTHER_STORE_ID, relock)).await;
    assert_eq!(code(&v), "offer_locked", "{v}");
    let elsewhere = closed(b.clone(), "2026-01-15T12:00:00Z", vec![d.clone()]);
    ok(&t.pos_body("send_transaction", t.envelope_at(demo::OTHER_STORE_ID, elsewhere)).await.1);
    assert!(
        matches!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Locked { transaction_id, store_id, .. })
            if transaction_id == "T1" && store_id == demo::STORE_ID),
        "Bergen's T1 did not consume Oslo's lock"
    );
    assert!(
        warnings_for(&t, "T1").iter().any(|w| w.contains("locked by T1 at OSL-001")),
        "{:?}",
        t.probe.warnings()
    );
    ok(&t.send_transaction(closed(b.clone(), "2026-01-15T12:01:00Z", vec![d.clone()])).await.1);
    assert_eq!(
        t.probe.offer_state(demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "T1".into() })
    );
    let mut void = closed(b, "2026-01-15T12:05:00Z", vec![d]);
    void["is_voided"] = json!(true);
    ok(&t.pos_body("send_transaction", t.envelope_at(demo::OTHER_STORE_ID, void)).await.1);
    assert_eq!(
        t.probe.offer_state(demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "T1".into() }),
        "voiding Bergen's T1 leaves Oslo's redemption"
    );
    assert_eq!(t.probe.transaction_at(demo::STORE_ID, "T1").unwrap()["is_voided"], false);
}

// §7.6: no negative amounts anywhere (header, payments, discounts).
#[tokio::test]
async fn negative_header_payment_or_discount_amounts_are_rejected() {
    let t = sim().await;
    let mut b = paid_by(
        closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![json!({"amount": -5.0})]),
        demo::USER_ID,
    );
    b["tax_total"] = json!(-1.0);
    b["payments"][0]["amount"] = json!(-328.0);
    let (_, v) = t.send_transaction(b).await;
    let f = &v["errors"]["fields"];
    for path in [
        "request_payload.tax_total",
        "request_payload.payments[0].amount",
        "request_payload.discounts[0].amount",
    ] {
        assert!(f[path].is_array(), "{path} in {v}");
    }
}

#[tokio::test]
async fn send_transaction_without_modified_time_is_rejected() {
    let t = sim().await;
    let mut b = closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]);
    b.as_object_mut().unwrap().remove("modified_time");
    let (_, v) = t.send_transaction(b).await;
    assert!(v["errors"]["fields"]["request_payload.modified_time"].is_array());
}

// Checklist 18: no currency field exists; the simulator refuses one.
#[tokio::test]
async fn transaction_with_a_currency_field_is_rejected() {
    let t = sim().await;
    let mut b = closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]);
    b["currency"] = json!("NOK");
    let (_, v) = t.send_transaction(b).await;
    assert!(v["errors"]["fields"]["request_payload.currency"].is_array(), "{v}");
    assert_eq!(t.probe.currency(), "NOK");
}

// Setting alternative: another store currency changes nothing on the wire.
#[tokio::test]
async fn store_currency_setting_is_reported_by_the_probe_only() {
    let mut s = SessionmSettings::default();
    s.store_currency = "SEK".into();
    let t = sim_with(s).await;
    ok(&t.send_transaction(closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![])).await.1);
    assert_eq!(t.probe.currency(), "SEK");
    assert!(!t.probe.transaction("T1").unwrap().to_string().contains("SEK"));
}

// Checklist 18: amounts are major-unit JSON numbers, not strings.
#[tokio::test]
async fn amounts_as_strings_are_rejected() {
    let t = sim().await;
    let mut b = closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]);
    b["items"][0]["unit_price"] = json!("129.00");
    let (_, v) = t.send_transaction(b).await;
    assert!(v["errors"]["fields"]["request_payload.items[0].unit_price"].is_array());
}

// Checklist 19: `receipt_code` is accepted and stored as `guest_receipt_code`.
#[tokio::test]
async fn receipt_code_is_accepted_and_stored_as_guest_receipt_code() {
    let t = sim().await;
    let mut b = closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]);
    b["receipt_code"] = json!("3b9c1e0a-qr");
    ok(&t.send_transaction(b).await.1);
    let mut g = closed(coffee_and_mug("T2"), "2026-01-15T12:00:00Z", vec![]);
    g["guest_receipt_code"] = json!("7f00aa11-qr");
    ok(&t.send_transaction(g).await.1);
    assert_eq!(t.probe.transaction("T1").unwrap()["guest_receipt_code"], "3b9c1e0a-qr");
    assert_eq!(t.probe.transaction("T2").unwrap()["guest_receipt_code"], "7f00aa11-qr");
}

// Checklist 19: the stored view (§4.5) over HTTP.
#[tokio::test]
async fn stored_view_reports_pos_transaction_id_taxtotal_and_lines() {
    let t = sim().await;
    let b = coffee_and_mug("T1");
    let d = locked(&t, demo::UO_FIXED_CHECK, &b).await;
    let mut c = paid_by(closed(b, "2026-01-15T12:00:00Z", vec![d]), demo::USER_ID);
    c["guest_receipt_code"] = json!("QR-1");
    ok(&t.send_transaction(c).await.1);
    let (s, v) = t.send(Method::GET, "/_sim/transactions?pos_transaction_id=T1", None, None).await;
    assert_eq!(s, 200);
    assert_eq!(v["payload"]["total_records"], 1);
    let r = &v["payload"]["results"][0];
    assert_eq!((&r["pos_transaction_id"], &r["store_id"]), (&json!("T1"), &json!(demo::STORE_ID)));
    assert_eq!(
        (&r["subtotal"], &r["taxtotal"], &r["check_amount"]),
        (&json!(328.0), &json!(56.63), &json!(278.0))
    );
    assert_eq!(
        (&r["guest_receipt_code"], &r["is_voided"], &r["is_closed"]),
        (&json!("QR-1"), &json!(false), &json!(true))
    );
    assert_eq!(r["modified_time"], "2026-01-15T12:00:00Z");
    assert!(r.get("tax_total").is_none());
    let item = &r["items"][0];
    assert_eq!(
        (&item["pos_item_key"], &item["line_id"], &item["unit_price"]),
        (&json!("COF-500"), &json!("1"), &json!(129.0))
    );
    assert!(item["master_item_id"].is_string());
    assert_eq!(r["payments"][0]["user_id"], demo::USER_ID);
    assert_eq!(r["discounts"][0]["reference_id"], demo::UO_FIXED_CHECK);
    assert_eq!(r["discounts"][0]["transaction_id"], r["id"]);
    // §4.5: the opaque members are there too (the simulator keeps no lineages: null).
    for k in ["business_def_collection", "catalog_lineages", "location_lineages", "location_lineages_core"] {
        assert!(r.as_object().unwrap().contains_key(k), "{k} in {r}");
    }
    assert_eq!(r["catalog_lineages"], Value::Null);
}

// §7.6 / §8.3 default: mismatched totals are a warning only.
#[tokio::test]
async fn mismatched_totals_are_accepted_with_a_warning() {
    let t = sim().await;
    let mut b = closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]);
    b["subtotal"] = json!(300.0);
    ok(&t.send_transaction(b).await.1);
    assert!(warnings_for(&t, "T1")[0].contains("subtotal"));
    let (_, v) = t.send(Method::GET, "/_sim/warnings", None, None).await;
    assert_eq!(v["payload"]["warnings"][0]["transaction_id"], "T1");
}

// §8.3 alternative: reject.
#[tokio::test]
async fn mismatched_totals_are_rejected_with_setting() {
    let mut s = SessionmSettings::default();
    s.mismatched_totals = TotalsMismatch::Reject;
    let t = sim_with(s).await;
    let mut b = closed(coffee_and_mug("T1"), "2026-01-15T12:00:00Z", vec![]);
    b["tax_total"] = json!(10.0);
    let (_, v) = t.send_transaction(b).await;
    assert_eq!(code(&v), "totals_mismatch");
}

// Checklist 26 (simulator side): timestamps with and without `Z`, up to 7 fractional digits.
#[tokio::test]
async fn timestamps_with_and_without_zone_and_seven_fraction_digits_are_accepted() {
    let t = sim().await;
    ok(&t.send_transaction(closed(coffee_and_mug("T1"), "2026-01-15T12:00:00.1234567", vec![])).await.1);
    ok(&t
        .send_transaction(closed(
            basket("T1", &[(demo::ITEM_MUG, 1)]),
            "2026-01-15T12:00:00.1234568Z",
            vec![],
        ))
        .await
        .1);
    assert_eq!(t.probe.transaction("T1").unwrap()["items"].as_array().unwrap().len(), 1, "the later one won");
    let stored = t.probe.transaction("T1").unwrap();
    assert_eq!(stored["create_date"], "2026-01-15T12:00:00.0000000", "written with 7 digits and no zone");
    let (_, v) = t.lock(demo::UO_FIXED_CHECK, coffee_and_mug("T9")).await;
    assert_eq!(ok(&v)["applied_time"], "2026-01-15T12:00:00.0000000Z");
}
