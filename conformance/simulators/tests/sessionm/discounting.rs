//! Lock, unlock, immediate redeem, reinstate (§3.5-§3.8, §7.1-§7.4, §8.1).

use loyalty_sim::sessionm::{OfferState, StateMismatch};

use super::*;

fn coffee(tid: &str) -> Value {
    basket(tid, &[(demo::ITEM_COFFEE, 1)])
}

// Checklist 6.
#[tokio::test]
async fn lock_by_user_offer_id_returns_discount_with_reference_amount_and_lines() {
    let t = sim().await;
    let (s, v) =
        t.lock(demo::UO_FIXED_CHECK, basket("T1", &[(demo::ITEM_COFFEE, 1), (demo::ITEM_MUG, 1)])).await;
    assert_eq!(s, 200);
    let d = ok(&v);
    assert_eq!(d["reference_id"], demo::UO_FIXED_CHECK);
    assert_eq!(d["reference_id_type"], "UserOfferId");
    assert_eq!(d["amount"], json!(50.0));
    assert_eq!(d["discounted_line_ids"], json!(["1", "2"]));
    assert_eq!(d["discounted_line_id_quantities"], json!([1, 1]));
    assert_eq!(
        (&d["status"], &d["user_id"], &d["stack_order"]),
        (&json!("locked"), &json!(demo::USER_ID), &json!(1))
    );
    assert!(matches!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Locked { .. })));
}

// Checklist 7.
#[tokio::test]
async fn lock_accepts_a_ttl_code() {
    let t = sim().await;
    let (_, v) = t
        .pos(
            "lock",
            json!({"offer_lookup_code": demo::TTL_CODE, "offer_lookup_type": "TTLCode",
                   "transaction": basket("T-TTL", &[(demo::ITEM_MUG, 1)])}),
        )
        .await;
    let d = ok(&v);
    assert_eq!((&d["reference_id"], &d["amount"]), (&json!(demo::UO_TTL), &json!(40.0)));
}

// Checklist 7.
#[tokio::test]
async fn redeem_accepts_a_ttl_code_and_consumes_the_offer() {
    let t = sim().await;
    let (_, v) = t
        .pos(
            "redeem",
            json!({"offer_lookup_code": demo::TTL_CODE, "offer_lookup_type": "TTLCode",
                   "transaction": basket("T-TTL2", &[(demo::ITEM_MUG, 1)])}),
        )
        .await;
    assert_eq!(ok(&v)["status"], "redeemed");
    assert_eq!(
        t.probe.offer_state(demo::UO_TTL),
        Some(OfferState::Redeemed { transaction_id: "T-TTL2".into() })
    );
}

#[tokio::test]
async fn ttl_code_stops_working_after_its_lifetime() {
    let t = sim().await;
    t.advance_secs(24 * 3600 + 1);
    let (_, v) = t
        .pos(
            "lock",
            json!({"offer_lookup_code": demo::TTL_CODE, "offer_lookup_type": "TTLCode",
                   "transaction": basket("T-TTL3", &[(demo::ITEM_MUG, 1)])}),
        )
        .await;
    assert_eq!(code(&v), "ttl_code_expired");
}

// §3.5: offer_lookup_type is exactly "TTLCode" or "UserOfferId".
#[tokio::test]
async fn lock_with_other_lookup_type_spelling_is_refused() {
    let t = sim().await;
    let (_, v) = t
        .pos("lock", json!({"offer_lookup_code": demo::UO_FIXED_CHECK, "offer_lookup_type": "userOfferId", "transaction": coffee("T")}))
        .await;
    assert_eq!(code(&v), "validation");
    assert!(v["errors"]["fields"]["request_payload.offer_lookup_type"].is_array());
}

#[tokio::test]
async fn lock_without_transaction_is_refused() {
    let t = sim().await;
    let (_, v) = t
        .pos("lock", json!({"offer_lookup_code": demo::UO_FIXED_CHECK, "offer_lookup_type": "UserOfferId"}))
        .await;
    assert!(v["errors"]["fields"]["request_payload.transaction"].is_array(), "{v}");
}

#[tokio::test]
async fn lock_of_unknown_offer_is_offer_not_found() {
    let t = sim().await;
    let (_, v) = t.lock("no-such-offer", coffee("T")).await;
    assert_eq!(code(&v), "offer_not_found");
}

// Checklist 8.
#[tokio::test]
async fn offer_locked_for_one_transaction_cannot_be_locked_for_another() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    let (s, v) = t.lock(demo::UO_FIXED_CHECK, coffee("T2")).await;
    assert_eq!((s, code(&v)), (200, "offer_locked"));
    let (_, v) = t.redeem(demo::UO_FIXED_CHECK, coffee("T2")).await;
    assert_eq!(code(&v), "offer_locked");
}

// Checklist 8: until it is unlocked.
#[tokio::test]
async fn offer_can_be_locked_for_another_transaction_after_unlock() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    ok(&t.unlock(demo::UO_FIXED_CHECK).await.1);
    let (_, v) = t.lock(demo::UO_FIXED_CHECK, coffee("T2")).await;
    assert_eq!(ok(&v)["status"], "locked");
}

// Checklist 8: until the lock expires.
#[tokio::test]
async fn offer_can_be_locked_for_another_transaction_after_the_lock_expires() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    t.advance_secs(15 * 60);
    let (_, v) = t.lock(demo::UO_FIXED_CHECK, coffee("T2")).await;
    assert_eq!(ok(&v)["status"], "locked");
}

// Checklist 9.
#[tokio::test]
async fn relock_with_same_transaction_after_basket_change_returns_recomputed_discount() {
    let t = sim().await;
    let (_, v) = t.lock(demo::UO_PERCENT_CHECK, coffee("T1")).await;
    assert_eq!(ok(&v)["amount"], json!(12.9));
    t.advance_secs(10 * 60);
    let (_, v) =
        t.lock(demo::UO_PERCENT_CHECK, basket("T1", &[(demo::ITEM_COFFEE, 1), (demo::ITEM_MUG, 1)])).await;
    assert_eq!(ok(&v)["amount"], json!(32.8));
    // The refreshed lock runs 15 minutes from the re-lock.
    t.advance_secs(10 * 60);
    assert!(matches!(t.probe.offer_state(demo::UO_PERCENT_CHECK), Some(OfferState::Locked { .. })));
}

// Checklist 10.
#[tokio::test]
async fn lock_expires_after_fifteen_minutes_and_offer_is_back_in_wallet() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    assert!(!t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
    t.advance_secs(15 * 60 - 1);
    assert!(!t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
    t.advance_secs(1);
    assert!(t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
    assert_eq!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
}

// §8.3: the lock TTL is a setting.
#[tokio::test]
async fn lock_ttl_setting_changes_the_expiry() {
    let mut s = SessionmSettings::default();
    s.lock_ttl_secs = 60;
    let t = sim_with(s).await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    match t.probe.offer_state(demo::UO_FIXED_CHECK) {
        Some(OfferState::Locked { expires_at, .. }) => {
            assert_eq!(expires_at, t.clock().now() + chrono::Duration::seconds(60))
        }
        other => panic!("{other:?}"),
    }
    t.advance_secs(60);
    assert_eq!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
}

// §8.1: expired offers cannot be locked.
#[tokio::test]
async fn lock_of_expired_offer_is_refused() {
    let t = sim().await;
    let (_, v) = t.lock(demo::UO_EXPIRED, coffee("T1")).await;
    assert_eq!(code(&v), "offer_expired");
}

#[tokio::test]
async fn lock_of_offer_giving_nothing_on_the_basket_is_refused() {
    let t = sim().await;
    let (_, v) = t.lock(demo::UO_FIXED_LOWEST, basket("T1", &[(demo::ITEM_MUG, 1)])).await;
    assert_eq!(code(&v), "offer_not_applicable");
    let (_, v) = t.lock(demo::UO_MANUAL, coffee("T1")).await;
    assert_eq!(code(&v), "offer_not_applicable");
}

#[tokio::test]
async fn lock_outside_the_offers_stores_is_refused() {
    let t = sim().await;
    let (_, v) = t.lock(demo::UO_OTHER_STORE_ONLY, coffee("T1")).await;
    assert_eq!(code(&v), "offer_not_applicable");
    let payload = json!({"offer_lookup_code": demo::UO_OTHER_STORE_ONLY, "offer_lookup_type": "UserOfferId",
                         "transaction": coffee("T1")});
    let (_, v) = t.pos_body("lock", t.envelope_at(demo::OTHER_STORE_ID, payload)).await;
    assert_eq!(ok(&v)["amount"], json!(19.35));
}

#[tokio::test]
async fn second_offer_locked_to_same_transaction_gets_next_stack_order() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    let (_, v) = t.lock(demo::UO_SET_PRICE, coffee("T1")).await;
    assert_eq!(ok(&v)["stack_order"], 2);
}

// Checklist 11: unlock needs both fields; success has no payload.
#[tokio::test]
async fn unlock_without_employee_id_is_refused() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    let (_, v) = t.pos("unlock", json!({"user_offer_id": demo::UO_FIXED_CHECK})).await;
    assert_eq!(code(&v), "validation");
    assert!(v["errors"]["fields"]["request_payload.employee_id"].is_array());
}

// Checklist 11.
#[tokio::test]
async fn unlock_success_has_no_payload_and_returns_offer_to_wallet() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    let (s, v) = t.unlock(demo::UO_FIXED_CHECK).await;
    assert_eq!((s, v), (200, json!({"status": "OK"})));
    assert!(t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
}

// Checklist 11: reinstate needs both fields.
#[tokio::test]
async fn reinstate_without_user_offer_id_is_refused() {
    let t = sim().await;
    let (_, v) = t.pos("reinstate", json!({"employee_id": "E-17"})).await;
    assert!(v["errors"]["fields"]["request_payload.user_offer_id"].is_array(), "{v}");
}

// Checklist 11: unlock with only `employee_id` names the missing `user_offer_id`; the lock stays.
#[tokio::test]
async fn unlock_with_only_employee_id_names_user_offer_id() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    let (s, v) = t.pos("unlock", json!({"employee_id": "E-17"})).await;
    assert_eq!((s, code(&v)), (200, "validation"), "{v}");
    assert_eq!(v["status"], "error");
    let fields = v["errors"]["fields"].as_object().unwrap();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["request_payload.user_offer_id"], "{v}");
    assert!(v.get("payload").is_none());
    assert!(
        matches!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Locked { transaction_id, .. }) if transaction_id == "T1")
    );
}

// Checklist 11: reinstate with only `user_offer_id` names the missing `employee_id`; the offer
// stays redeemed.
#[tokio::test]
async fn reinstate_with_only_user_offer_id_names_employee_id() {
    let t = sim().await;
    ok(&t.redeem(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    let (s, v) = t.pos("reinstate", json!({"user_offer_id": demo::UO_FIXED_CHECK})).await;
    assert_eq!((s, code(&v)), (200, "validation"), "{v}");
    let fields = v["errors"]["fields"].as_object().unwrap();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["request_payload.employee_id"], "{v}");
    assert!(v.get("payload").is_none());
    assert_eq!(
        t.probe.offer_state(demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "T1".into() })
    );
    assert!(!t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
}

// §7.3 / §8.3: unlocking a non-locked offer is an error by default.
#[tokio::test]
async fn unlock_of_offer_that_is_not_locked_is_an_error() {
    let t = sim().await;
    let (_, v) = t.unlock(demo::UO_FIXED_CHECK).await;
    assert_eq!(code(&v), "offer_not_locked");
}

// §8.3 alternative: no-op success.
#[tokio::test]
async fn unlock_of_offer_that_is_not_locked_succeeds_with_noop_setting() {
    let mut s = SessionmSettings::default();
    s.unlock_not_locked = StateMismatch::NoOp;
    let t = sim_with(s).await;
    let (_, v) = t.unlock(demo::UO_FIXED_CHECK).await;
    assert_eq!(v, json!({"status": "OK"}));
}

// Checklist 13.
#[tokio::test]
async fn immediate_redeem_removes_offer_and_reinstate_puts_it_back_as_issued() {
    let t = sim().await;
    let (_, v) = t.redeem(demo::UO_FIXED_CHECK, coffee("T1")).await;
    assert_eq!((&ok(&v)["status"], &ok(&v)["amount"]), (&json!("redeemed"), &json!(50.0)));
    assert!(!t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
    let (_, v) = t.reinstate(demo::UO_FIXED_CHECK).await;
    assert_eq!(v, json!({"status": "OK"}));
    assert!(t.wallet().await.contains(&demo::UO_FIXED_CHECK.to_string()));
    assert_eq!(t.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
}

// Checklist 13.
#[tokio::test]
async fn reinstate_of_never_redeemed_offer_is_an_error() {
    let t = sim().await;
    let (_, v) = t.reinstate(demo::UO_FIXED_CHECK).await;
    assert_eq!(code(&v), "offer_not_redeemed");
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    let (_, v) = t.reinstate(demo::UO_FIXED_CHECK).await;
    assert_eq!(code(&v), "offer_not_redeemed", "a lock is not a redemption");
}

// §8.3 alternative.
#[tokio::test]
async fn reinstate_of_never_redeemed_offer_succeeds_with_noop_setting() {
    let mut s = SessionmSettings::default();
    s.reinstate_not_redeemed = StateMismatch::NoOp;
    let t = sim_with(s).await;
    let (_, v) = t.reinstate(demo::UO_FIXED_CHECK).await;
    assert_eq!(v, json!({"status": "OK"}));
}

#[tokio::test]
async fn redeemed_offer_cannot_be_locked_or_redeemed_again() {
    let t = sim().await;
    ok(&t.redeem(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    assert_eq!(code(&t.lock(demo::UO_FIXED_CHECK, coffee("T2")).await.1), "offer_not_available");
    assert_eq!(code(&t.redeem(demo::UO_FIXED_CHECK, coffee("T1")).await.1), "offer_not_available");
}

// §3.7: redeem by the transaction holding the lock takes the lock over.
#[tokio::test]
async fn redeem_by_the_locking_transaction_consumes_the_lock() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    ok(&t.redeem(demo::UO_FIXED_CHECK, coffee("T1")).await.1);
    assert_eq!(
        t.probe.offer_state(demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "T1".into() })
    );
}
