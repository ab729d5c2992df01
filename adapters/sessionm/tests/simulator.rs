//! The SessionM contract's Conformance checklist from the adapter's side, against the
//! simulator with its default settings. Each test names the checklist item it covers.

mod common;

use std::time::Duration;

use chrono::Datelike;
use common::*;
use loyalty_core::{
    Consents, Context, Currency, ErrorKind, HoldRequest, Line, MemberId, MemberLookup, MemberUpdate, Money,
    OfferKind, OfferRef, Phone, Provider, RedeemRequest, RegisterMember, SendOutcome, TransactionId,
    WriteEffect,
};
use loyalty_http::Secret;
use loyalty_sessionm::SessionmAdapter;
use loyalty_sim::sessionm::{demo, CodeCase, OfferState, SessionmSettings};
use loyalty_sim::Fault;
use serde_json::{json, Value};

fn ctx() -> Context {
    Context::new()
}

fn coffees_and_mug() -> loyalty_core::Basket {
    basket(&[(demo::ITEM_COFFEE, "2"), (demo::ITEM_MUG, "1")])
}

async fn wallet_ids(env: &Env) -> Vec<String> {
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.kari()), None).await.unwrap();
    offers.into_iter().map(|o| o.id.as_str().to_string()).collect()
}

// ---------------------------------------------------------------- transport (§2, §3.1, §3.2)

// Checklist 1.
#[tokio::test]
async fn every_pos_call_is_a_json_post_in_the_container_with_basic_auth() {
    let env = start().await;
    let b = coffees_and_mug();
    env.adapter.members().unwrap().find(&ctx(), &MemberLookup::Email(demo::USER_EMAIL.into())).await.unwrap();
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &b).await.unwrap();
    env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap();
    let req = RedeemRequest::new(env.kari(), wallet_offer(demo::UO_PERCENT_CHECK)).with_basket(b.clone());
    let red = env.adapter.redemptions().unwrap().redeem(&ctx(), &req).await.unwrap();
    env.adapter.redemptions().unwrap().reinstate(&ctx(), &red).await.unwrap();
    env.adapter.transactions().unwrap().send(&ctx(), &sale(&env, "T-2", &b, &[])).await.unwrap();
    for op in ["lookup", "lock", "unlock", "redeem", "reinstate", "send_transaction"] {
        let entries = env.pos(op);
        assert!(!entries.is_empty(), "{op} was called");
        for e in entries {
            assert_eq!(e.method, "POST", "{op}");
            assert_eq!(e.status, 200, "{op}: the simulator accepted the Basic credentials");
            let header = |name: &str| e.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
            assert_eq!(header("content-type"), Some("application/json"), "{op}");
            assert_eq!(header("authorization"), Some("[redacted]"), "{op} carries Basic credentials");
            let body: Value = serde_json::from_str(&e.body).unwrap();
            let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["client_id", "culture", "request_id", "request_payload", "store_id"], "{op}");
            assert_eq!(
                (body["store_id"].as_str(), body["client_id"].as_str()),
                (Some(demo::STORE_ID), Some(demo::CLIENT_ID))
            );
        }
    }
}

// Checklist 2.
#[tokio::test]
async fn wrong_pos_credentials_are_unauthorized_and_never_retried() {
    let env = start().await;
    let mut c = config(env.server.base_url(), Duration::from_secs(5));
    c.pos_secret = Secret::new("not-the-pos-secret");
    let adapter = SessionmAdapter::new(c).unwrap();
    let err = adapter
        .members()
        .unwrap()
        .find(&ctx(), &MemberLookup::Email(demo::USER_EMAIL.into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{err}");
    assert_eq!(env.pos("lookup").len(), 1, "a 401 is not retried");
}

// Checklist 3: "OK" (POS) and "ok" (Connect, Core) are success; a 200 whose status is not OK is
// a failure.
#[tokio::test]
async fn ok_in_either_case_is_success_and_a_200_error_is_not() {
    let env = start().await;
    let kari = env
        .adapter
        .members()
        .unwrap()
        .find(&ctx(), &MemberLookup::ExternalId(demo::USER_EXTERNAL_ID.into()))
        .await;
    assert_eq!(kari.unwrap().map(|m| m.id), Some(env.kari()));
    assert!(!wallet_ids(&env).await.is_empty());
    env.adapter.members().unwrap().get(&ctx(), &env.kari()).await.unwrap();
    let err = lock(&env, &wallet_offer(demo::UO_EXPIRED), "T-1", &coffees_and_mug()).await.unwrap_err();
    assert_eq!(env.pos("lock")[0].status, 200, "the refusal came inside a 200");
    assert_eq!(err.kind(), &ErrorKind::Expired, "{err}");
}

// ---------------------------------------------------------------- lookup (§3.3)

// §3.3 [I]: only SessionM's `user_not_found` means "no such member". A 404 from a wrong base
// path (the simulator's unknown route, code `not_found`) or a bare 404 without a code says
// nothing about the member and stays an error, for the lookup and for the balance `get` reads.
#[tokio::test]
async fn only_user_not_found_is_no_member_and_any_other_404_stays_an_error() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    let stranger = MemberLookup::Email("nobody@example.com".into());
    assert_eq!(members.find(&ctx(), &stranger).await.unwrap(), None, "user_not_found");
    let kari = MemberLookup::Email(demo::USER_EMAIL.into());

    let mut c = config(env.server.base_url(), Duration::from_secs(5));
    c.pos_base_url.set_path("/not-sessionm");
    c.connect_base_url.set_path("/not-sessionm");
    let lost = SessionmAdapter::new(c).unwrap();
    let err = lost.members().unwrap().find(&ctx(), &kari).await.unwrap_err();
    assert!(err.is_not_found() && err.vendor_code() == Some("not_found"), "{err}");
    let err = lost.members().unwrap().get(&ctx(), &env.kari()).await.unwrap_err();
    assert!(err.is_not_found() && err.vendor_code() == Some("not_found"), "{err}");

    env.handle().inject("POST", "/api/2.0/lookup", Fault::Status(404), Some(1));
    let err = members.find(&ctx(), &kari).await.unwrap_err();
    assert!(err.is_not_found() && err.vendor_code().is_none(), "{err}");
    env.handle().inject("POST", "/incentives/api/1.0/user_points/all_balances", Fault::Status(404), Some(1));
    let err = members.get(&ctx(), &env.kari()).await.unwrap_err();
    assert!(err.is_not_found() && err.vendor_code().is_none(), "{err}");
    // Unhindered, both find Kari.
    assert_eq!(members.find(&ctx(), &kari).await.unwrap().map(|m| m.id), Some(env.kari()));
    assert_eq!(members.get(&ctx(), &env.kari()).await.unwrap().points, Some(demo::USER_POINTS.into()));
}

// Checklist 4.
#[tokio::test]
async fn an_email_or_phone_two_accounts_share_is_ambiguous() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    let by_email = members.find(&ctx(), &MemberLookup::Email(demo::SHARED_EMAIL.into())).await.unwrap_err();
    assert_eq!(by_email.kind(), &ErrorKind::Ambiguous, "{by_email}");
    let phone = Phone::parse_e164(&format!("+{}", demo::SHARED_PHONE)).unwrap();
    let by_phone = members.find(&ctx(), &MemberLookup::Phone(phone)).await.unwrap_err();
    assert_eq!(by_phone.kind(), &ErrorKind::Ambiguous, "{by_phone}");
    // Another identifier of one of them works.
    let per =
        members.find(&ctx(), &MemberLookup::ProviderId(MemberId::new(demo::PER_USER_ID))).await.unwrap();
    assert_eq!(per.map(|m| m.id.as_str().to_string()).as_deref(), Some(demo::PER_USER_ID));
}

#[tokio::test]
async fn lookups_by_phone_user_id_and_external_id_find_kari_and_a_stranger_is_none() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    for lookup in [
        MemberLookup::Phone(Phone::new("+47", "41234567")),
        MemberLookup::ProviderId(env.kari()),
        MemberLookup::ExternalId(demo::USER_EXTERNAL_ID.into()),
    ] {
        let m = members.find(&ctx(), &lookup).await.unwrap().expect("found");
        assert_eq!(m.id, env.kari(), "{lookup:?}");
        assert_eq!(m.points, Some(demo::USER_POINTS.into()));
    }
    let none = members.find(&ctx(), &MemberLookup::Email("nobody@example.com".into())).await.unwrap();
    assert_eq!(none, None);
    // Without a basket the lookup sends no transaction (§3.3).
    assert!(env.pos_bodies("lookup").iter().all(|b| b["request_payload"].get("transaction").is_none()));
}

// Checklist 5.
#[tokio::test]
async fn a_basket_lists_only_applicable_offers_each_with_its_discount() {
    let env = start().await;
    let all = wallet_ids(&env).await;
    for id in [demo::UO_OTHER_STORE_ONLY, demo::UO_MANUAL, demo::UO_FIXED_CHECK] {
        assert!(all.contains(&id.to_string()), "{id} is in the wallet");
    }
    let priced = env
        .adapter
        .offers()
        .unwrap()
        .list(&ctx(), Some(&env.kari()), Some(&coffees_and_mug()))
        .await
        .unwrap();
    let ids: Vec<&str> = priced.iter().map(|o| o.id.as_str()).collect();
    assert!(!ids.contains(&demo::UO_OTHER_STORE_ONLY), "store restriction");
    assert!(!ids.contains(&demo::UO_MANUAL), "catalogue restriction");
    let discount = |id: &str| match &priced.iter().find(|o| o.id.as_str() == id).unwrap().kind {
        OfferKind::VendorPriced { discount, .. } => discount.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(discount(demo::UO_FIXED_CHECK).map(|d| d.amount), Some(nok("50.00")));
    assert_eq!(discount(demo::UO_PERCENT_CHECK).map(|d| d.amount), Some(nok("45.70")));
    // A second mug is needed for this one: listed, nothing to take off yet.
    assert_eq!(discount(demo::UO_BXGY_PERCENT), None);
    let sent = env.pos_bodies("lookup");
    assert_eq!(sent[0]["request_payload"]["user_id"], demo::USER_ID);
    assert_eq!(sent[0]["request_payload"]["transaction"]["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn offers_of_an_unknown_member_are_not_found() {
    let env = start().await;
    let stranger = MemberId::new("00000000-0000-4000-8000-000000000000");
    let err = env.adapter.offers().unwrap().list(&ctx(), Some(&stranger), None).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

// ---------------------------------------------------------------- lock, unlock (§3.5, §3.6)

// Checklist 6.
#[tokio::test]
async fn a_lock_by_user_offer_id_returns_the_discount_it_computed() {
    let env = start().await;
    let b = basket(&[(demo::ITEM_COFFEE, "1"), (demo::ITEM_TEA, "1")]);
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_LOWEST), "T-1", &b).await.unwrap();
    let data = lock_discount(&hold);
    assert_eq!(data["reference_id"], demo::UO_FIXED_LOWEST);
    let d = hold.vendor_discount.clone().unwrap();
    assert_eq!(d.amount, nok("20.00"));
    assert_eq!(d.lines.iter().map(|l| l.line_id.as_str()).collect::<Vec<_>>(), ["l2"], "the cheaper tea");
    assert_eq!(env.pos_bodies("lock")[0]["request_payload"]["offer_lookup_type"], "UserOfferId");
}

// Checklist 7.
#[tokio::test]
async fn lock_and_redeem_take_a_ttl_code() {
    let env = start().await;
    let mug = basket(&[(demo::ITEM_MUG, "1")]);
    let by_code = wallet_offer("ttl").with_reference(OfferRef::code(demo::TTL_CODE));
    let hold = lock(&env, &by_code, "T-1", &mug).await.unwrap();
    assert!(matches!(env.probe.offer_state(demo::UO_TTL), Some(OfferState::Locked { .. })));
    // Unlock needs the user offer id: the Discount named it (§3.6).
    env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_TTL), Some(OfferState::Issued));
    let req = RedeemRequest::new(env.kari(), by_code).with_basket(mug);
    let red = env.adapter.redemptions().unwrap().redeem(&ctx(), &req).await.unwrap();
    assert!(matches!(env.probe.offer_state(demo::UO_TTL), Some(OfferState::Redeemed { .. })));
    env.adapter.redemptions().unwrap().reinstate(&ctx(), &red).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_TTL), Some(OfferState::Issued));
    for op in ["lock", "redeem"] {
        assert_eq!(env.pos_bodies(op)[0]["request_payload"]["offer_lookup_type"], "TTLCode", "{op}");
    }
}

// Checklist 8.
#[tokio::test]
async fn an_offer_locked_for_one_transaction_is_refused_to_another_until_unlocked() {
    let env = start().await;
    let b = coffees_and_mug();
    let offer = wallet_offer(demo::UO_FIXED_CHECK);
    let held = lock(&env, &offer, "T-1", &b).await.unwrap();
    let other = lock(&env, &offer, "T-2", &b).await.unwrap_err();
    assert_eq!(other.kind(), &ErrorKind::Conflict, "{other}");
    assert_eq!(other.effect(), WriteEffect::RejectedBeforeActing);
    env.adapter.holds().unwrap().release(&ctx(), &held).await.unwrap();
    lock(&env, &offer, "T-2", &b).await.expect("free again after the unlock");
}

// Checklist 9.
#[tokio::test]
async fn relocking_for_the_same_transaction_after_a_basket_change_recomputes_the_discount() {
    let env = start().await;
    let offer = wallet_offer(demo::UO_PERCENT_CHECK);
    let first = lock(&env, &offer, "T-1", &basket(&[(demo::ITEM_COFFEE, "1")])).await.unwrap();
    let again = lock(&env, &offer, "T-1", &coffees_and_mug()).await.unwrap();
    assert_eq!(first.vendor_discount.map(|d| d.amount), Some(nok("12.90")));
    assert_eq!(again.vendor_discount.map(|d| d.amount), Some(nok("45.70")));
    let ids: Vec<Value> = env
        .pos_bodies("lock")
        .iter()
        .map(|b| b["request_payload"]["transaction"]["transaction_id"].clone())
        .collect();
    assert_eq!(ids, [json!("T-1"), json!("T-1")]);
}

// Checklist 10.
#[tokio::test]
async fn a_lock_lapses_after_fifteen_minutes_and_the_offer_is_back_in_the_wallet() {
    let env = start().await;
    let started = loyalty_core::Clock::now(&Bridge(env.clock.clone()));
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &coffees_and_mug()).await.unwrap();
    assert_eq!(hold.expires_at, started + chrono::Duration::minutes(15));
    assert!(
        !wallet_ids(&env).await.contains(&demo::UO_FIXED_CHECK.to_string()),
        "the wallet lists issued offers only"
    );
    env.advance(15 * 60);
    assert_eq!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
    assert!(wallet_ids(&env).await.contains(&demo::UO_FIXED_CHECK.to_string()));
}

#[tokio::test]
async fn releasing_an_expired_hold_calls_nothing_so_another_order_keeps_its_lock() {
    let env = start().await;
    let b = coffees_and_mug();
    let offer = wallet_offer(demo::UO_FIXED_CHECK);
    let old = lock(&env, &offer, "T-1", &b).await.unwrap();
    env.advance(15 * 60 + 1);
    lock(&env, &offer, "T-2", &b).await.unwrap();
    env.adapter.holds().unwrap().release(&ctx(), &old).await.unwrap();
    assert!(env.pos("unlock").is_empty(), "unlock names no transaction (§3.6)");
    assert!(
        matches!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Locked { transaction_id, .. }) if transaction_id == "T-2")
    );
}

// Checklist 11.
#[tokio::test]
async fn unlock_and_reinstate_name_the_user_offer_and_the_employee() {
    let env = start().await;
    let b = coffees_and_mug();
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &b).await.unwrap();
    env.adapter.holds().unwrap().release(&ctx().with_employee("cashier-12"), &hold).await.unwrap();
    let req = RedeemRequest::new(env.kari(), wallet_offer(demo::UO_FIXED_CHECK)).with_basket(b);
    let red = env.adapter.redemptions().unwrap().redeem(&ctx(), &req).await.unwrap();
    env.adapter.redemptions().unwrap().reinstate(&ctx(), &red).await.unwrap();
    let unlock = &env.pos_bodies("unlock")[0]["request_payload"];
    assert_eq!(unlock, &json!({"user_offer_id": demo::UO_FIXED_CHECK, "employee_id": "cashier-12"}));
    let reinstate = &env.pos_bodies("reinstate")[0]["request_payload"];
    assert_eq!(reinstate, &json!({"user_offer_id": demo::UO_FIXED_CHECK, "employee_id": "loyalty-bridge"}));
}

// §7.2: SessionM locks for 15 minutes whatever the caller asks, so the hold says so, and a
// release after a shorter asked-for lifetime still unlocks the offer for other orders.
#[tokio::test]
async fn a_shorter_asked_for_lifetime_does_not_shorten_the_lock_or_skip_its_release() {
    let env = start().await;
    let req = HoldRequest::new(env.kari(), wallet_offer(demo::UO_FIXED_CHECK), TransactionId::new("T-1"))
        .with_basket(coffees_and_mug())
        .with_ttl_secs(60);
    let started = env.clock.now();
    let hold = env.adapter.holds().unwrap().hold(&ctx(), &req).await.unwrap();
    assert_eq!(hold.expires_at, started + chrono::Duration::seconds(15 * 60));
    env.advance(120);
    env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap();
    assert_eq!(env.pos("unlock").len(), 1, "unlocked at SessionM");
    assert!(matches!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued)));
}

// A second release is a no-op: the vendor's "not locked" means nothing is held.
#[tokio::test]
async fn releasing_twice_is_idempotent() {
    let env = start().await;
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &coffees_and_mug()).await.unwrap();
    env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap();
    env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap();
    assert_eq!(env.pos("unlock").len(), 2);
}

// §3.5, §5.5: an offer locked by its TTL code goes back with the sale as the Discount object the
// lock returned, exactly: `reference_id` is the user offer SessionM named, not the code.
#[tokio::test]
async fn a_sale_echoes_the_discount_of_a_lock_taken_by_ttl_code_exactly() {
    let env = start().await;
    let mug = basket(&[(demo::ITEM_MUG, "1")]);
    let by_code = wallet_offer("ttl").with_reference(OfferRef::code(demo::TTL_CODE));
    let hold = lock(&env, &by_code, "T-1", &mug).await.unwrap();
    let object = lock_discount(&hold);
    assert_eq!(object["reference_id"], demo::UO_TTL);
    env.adapter.transactions().unwrap().send(&ctx(), &sale(&env, "T-1", &mug, &[hold])).await.unwrap();
    let sent = &env.pos_bodies("send_transaction")[0]["request_payload"];
    assert_eq!(sent["discounts"], json!([object]), "the lock's Discount object, unchanged");
    assert_eq!(
        env.probe.offer_state(demo::UO_TTL),
        Some(OfferState::Redeemed { transaction_id: "T-1".into() })
    );
    assert!(env.probe.warnings().is_empty(), "{:?}", env.probe.warnings());
}

#[tokio::test]
async fn a_lock_without_a_basket_is_refused_before_sending() {
    let env = start().await;
    let req = HoldRequest::new(env.kari(), wallet_offer(demo::UO_FIXED_CHECK), TransactionId::new("T-1"));
    let err = env.adapter.holds().unwrap().hold(&ctx(), &req).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "basket"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert!(env.pos("lock").is_empty());
}

// ---------------------------------------------------------------- redeem, reinstate (§3.7, §3.8)

// Checklist 13.
#[tokio::test]
async fn redeem_takes_the_offer_and_reinstate_gives_it_back_once() {
    let env = start().await;
    let r = env.adapter.redemptions().unwrap();
    let req = RedeemRequest::new(env.kari(), wallet_offer(demo::UO_SET_PRICE)).with_basket(coffees_and_mug());
    let red = r.redeem(&ctx(), &req).await.unwrap();
    assert_eq!(red.vendor_discount.as_ref().map(|d| d.amount), Some(nok("30.00")));
    assert!(!wallet_ids(&env).await.contains(&demo::UO_SET_PRICE.to_string()));
    let again = r.redeem(&ctx(), &req).await.unwrap_err();
    assert_eq!(again.kind(), &ErrorKind::Conflict, "{again}");
    r.reinstate(&ctx(), &red).await.unwrap();
    assert!(wallet_ids(&env).await.contains(&demo::UO_SET_PRICE.to_string()));
    // The same redemption again repeats the first request (§7.5): SessionM answers the stored
    // OK and acts once.
    r.reinstate(&ctx(), &red).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_SET_PRICE), Some(OfferState::Issued));
    let bodies = env.pos_bodies("reinstate");
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], bodies[1], "the same request_id and body");
    // A later redemption of the same offer is another reinstate.
    let red2 = r.redeem(&ctx(), &req).await.unwrap();
    r.reinstate(&ctx(), &red2).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_SET_PRICE), Some(OfferState::Issued));
    let ids: Vec<Value> = env.pos_bodies("reinstate").iter().map(|b| b["request_id"].clone()).collect();
    assert_ne!(ids[1], ids[2]);
}

// §3.7: "if lines change after an immediate redeem, reinstate and re-apply". The re-applied
// redemption is a use of its own, even in the same transaction with the same basket at the same
// instant (the same Discount object): its reinstate is a new request that gives it back, and
// repeating that reinstate still gives one use back.
#[tokio::test]
async fn a_reapplied_redemption_in_the_same_transaction_is_reinstated_by_a_request_of_its_own() {
    let env = start().await;
    let r = env.adapter.redemptions().unwrap();
    let req = RedeemRequest::new(env.kari(), wallet_offer(demo::UO_PERCENT_CHECK))
        .with_basket(coffees_and_mug())
        .with_transaction(TransactionId::new("ORDER-7"));
    let first = r.redeem(&ctx(), &req).await.unwrap();
    r.reinstate(&ctx(), &first).await.unwrap();
    let second = r.redeem(&ctx(), &req).await.unwrap();
    assert_eq!(first.vendor_data, second.vendor_data, "the same Discount object both times");
    assert_ne!(first.id, second.id, "one id per use");
    assert!(matches!(env.probe.offer_state(demo::UO_PERCENT_CHECK), Some(OfferState::Redeemed { .. })));
    r.reinstate(&ctx(), &second).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_PERCENT_CHECK), Some(OfferState::Issued));
    // A retry of the second reinstate repeats its request: one use back, not two.
    r.reinstate(&ctx(), &second).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_PERCENT_CHECK), Some(OfferState::Issued));
    let ids: Vec<Value> = env.pos_bodies("reinstate").iter().map(|b| b["request_id"].clone()).collect();
    assert_eq!(ids.len(), 3);
    assert_ne!(ids[0], ids[1], "another use, another request");
    assert_eq!(ids[1], ids[2], "the same use, the same request");
}

// Checklist 13: reinstating an offer that was never redeemed is an error, SessionM's code kept.
#[tokio::test]
async fn reinstating_an_offer_that_was_never_redeemed_is_a_conflict() {
    let env = start().await;
    let never = loyalty_core::Redemption::new(
        "made-up",
        loyalty_core::OfferId::new(demo::UO_SET_PRICE),
        OfferRef::id(demo::UO_SET_PRICE),
        env.kari(),
        env.clock.now(),
    );
    let err = env.adapter.redemptions().unwrap().reinstate(&ctx(), &never).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert_eq!(err.vendor_code(), Some("offer_not_redeemed"));
    assert_eq!(env.probe.offer_state(demo::UO_SET_PRICE), Some(OfferState::Issued));
}

// §7.5 [I]: a void gives the sale's offers back, so a reinstate after it finds nothing redeemed.
#[tokio::test]
async fn reinstating_after_the_void_gave_the_offer_back_is_a_conflict() {
    let env = start().await;
    let b = coffees_and_mug();
    let r = env.adapter.redemptions().unwrap();
    let req = RedeemRequest::new(env.kari(), wallet_offer(demo::UO_SET_PRICE))
        .with_basket(b.clone())
        .with_transaction(TransactionId::new("T-1"));
    let red = r.redeem(&ctx(), &req).await.unwrap();
    // The void of T-1 gives back every offer redeemed under it.
    let tx = sale(&env, "T-1", &b, &[]);
    let t = env.adapter.transactions().unwrap();
    t.send(&ctx(), &tx).await.unwrap();
    t.cancel(&ctx(), &tx, None).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_SET_PRICE), Some(OfferState::Issued));
    let err = r.reinstate(&ctx(), &red).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
}

// ---------------------------------------------------------------- idempotency (§7.5)

// Checklist 14, adapter side: a retried POS write repeats its request_id, so SessionM applies
// it once; each logical call has its own.
#[tokio::test]
async fn a_retried_pos_write_repeats_its_request_id_and_a_new_call_gets_a_new_one() {
    let env = start().await;
    env.handle().inject("POST", "/api/2.0/lock", Fault::Status(503), Some(1));
    let b = coffees_and_mug();
    lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &b).await.unwrap();
    lock(&env, &wallet_offer(demo::UO_PERCENT_CHECK), "T-1", &b).await.unwrap();
    let locks = env.pos("lock");
    assert_eq!(locks.iter().map(|e| e.status).collect::<Vec<_>>(), [503, 200, 200]);
    let ids: Vec<String> =
        env.pos_bodies("lock").iter().map(|b| b["request_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids[0], ids[1], "the retry repeats the request_id");
    assert_eq!(locks[0].body, locks[1].body, "and the body");
    assert_ne!(ids[1], ids[2], "another logical call has its own");
    assert!(env.probe.request_ids().contains(&ids[0]));
}

// ---------------------------------------------------------------- send_transaction (§3.9, §5)

// Checklist 12.
#[tokio::test]
async fn a_closed_sale_carrying_the_lock_discount_redeems_the_offer() {
    let env = start().await;
    let b = coffees_and_mug();
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &b).await.unwrap();
    let receipt = env
        .adapter
        .transactions()
        .unwrap()
        .send(&ctx(), &sale(&env, "T-1", &b, std::slice::from_ref(&hold)))
        .await
        .unwrap();
    assert_eq!(receipt.outcome, SendOutcome::Stored);
    assert!(receipt.provider_ref.is_some());
    assert_eq!(
        env.probe.offer_state(demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "T-1".into() })
    );
    assert!(!wallet_ids(&env).await.contains(&demo::UO_FIXED_CHECK.to_string()));
    let sent = &env.pos_bodies("send_transaction")[0]["request_payload"];
    assert_eq!(sent["is_closed"], true);
    assert_eq!(sent["discounts"][0], lock_discount(&hold), "the exact Discount object (§3.5)");
    assert!(env.probe.warnings().is_empty(), "{:?}", env.probe.warnings());
}

// Checklist 15.
#[tokio::test]
async fn a_resend_without_lines_replaces_the_sale_and_an_older_version_does_not() {
    let env = start().await;
    let b = coffees_and_mug();
    let original = sale(&env, "T-1", &b, &[]);
    let t = env.adapter.transactions().unwrap();
    t.send(&ctx(), &original).await.unwrap();
    env.advance(60);
    let mut kept = original.clone();
    kept.lines.truncate(1);
    kept.at = loyalty_core::Clock::now(&Bridge(env.clock.clone()));
    kept.total = kept.lines[0].net;
    kept.payments[0].amount = kept.lines[0].net;
    kept.revision = 1;
    assert_eq!(t.amend(&ctx(), &kept).await.unwrap().outcome, SendOutcome::Replaced);
    let stored = env.probe.transaction("T-1").unwrap();
    assert_eq!(stored["items"].as_array().map(Vec::len), Some(1));
    // The original arriving late (a delayed resend) carries the older time and is ignored.
    t.send(&ctx(), &original).await.unwrap();
    assert_eq!(env.probe.transaction("T-1").unwrap()["items"].as_array().map(Vec::len), Some(1));
    assert!(env.probe.warnings().iter().any(|w| w.message.contains("not newer")));
}

// §7.5, §8.3: SessionM upserts by (store/retailer, transaction id). A sale sent under another
// store's department is another transaction, and its amend goes out under that store again, so
// it replaces that store's sale only.
#[tokio::test]
async fn the_same_id_at_another_store_is_another_sale_and_its_amend_stays_at_that_store() {
    let env = start().await;
    let t = env.adapter.transactions().unwrap();
    let oslo = sale(&env, "T-1", &basket(&[(demo::ITEM_TEA, "1")]), &[]);
    t.send(&ctx(), &oslo).await.unwrap();
    let bergen = sale(&env, "T-1", &coffees_and_mug(), &[]).with_department(demo::OTHER_STORE_ID);
    t.send(&ctx(), &bergen).await.unwrap();
    assert_eq!(env.probe.transactions().len(), 2);
    env.advance(60);
    let mut kept = bergen.clone();
    kept.lines.truncate(1);
    kept.total = kept.lines[0].net;
    kept.payments[0].amount = kept.lines[0].net;
    kept.revision = 1;
    assert_eq!(t.amend(&ctx(), &kept).await.unwrap().outcome, SendOutcome::Replaced);
    let stores: Vec<Value> =
        env.pos_bodies("send_transaction").iter().map(|b| b["store_id"].clone()).collect();
    assert_eq!(stores, [json!(demo::STORE_ID), json!(demo::OTHER_STORE_ID), json!(demo::OTHER_STORE_ID)]);
    let at_bergen = env.probe.transaction_at(demo::OTHER_STORE_ID, "T-1").unwrap();
    assert_eq!(at_bergen["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(at_bergen["items"][0]["pos_item_key"], demo::ITEM_COFFEE);
    let at_oslo = env.probe.transaction_at(demo::STORE_ID, "T-1").unwrap();
    assert_eq!(at_oslo["items"][0]["pos_item_key"], demo::ITEM_TEA, "Oslo's sale untouched");
    assert_eq!(env.probe.transactions().len(), 2);
    assert!(env.probe.warnings().is_empty(), "{:?}", env.probe.warnings());
}

// Checklist 15, adapter side: an amend that does not count its version could carry the same
// modified_time as another and be dropped while reported Replaced; it is refused unsent.
#[tokio::test]
async fn an_amend_without_a_revision_is_refused_before_sending() {
    let env = start().await;
    let b = coffees_and_mug();
    let original = sale(&env, "T-1", &b, &[]);
    let t = env.adapter.transactions().unwrap();
    t.send(&ctx(), &original).await.unwrap();
    let mut first = original.clone();
    first.lines.truncate(1);
    first.total = first.lines[0].net;
    first.payments[0].amount = first.lines[0].net;
    let mut second = first.clone();
    second.lines[0].quantity = dec("1");
    for amend in [&first, &second] {
        let err = t.amend(&ctx(), amend).await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "revision"), "{err}");
        assert_eq!(err.effect(), WriteEffect::NotSent);
    }
    assert_eq!(env.pos("send_transaction").len(), 1, "only the sale went out");
    // Counted, each version replaces the one before; a retried version changes nothing.
    first.revision = 1;
    second.revision = 2;
    t.amend(&ctx(), &first).await.unwrap();
    t.amend(&ctx(), &second).await.unwrap();
    t.amend(&ctx(), &second).await.unwrap();
    let stored = env.probe.transaction("T-1").unwrap();
    assert_eq!(stored["items"][0]["quantity"].as_f64(), Some(1.0), "the second amend is the one kept");
    let dropped: Vec<String> =
        env.probe.warnings().into_iter().map(|w| w.message).filter(|m| m.contains("not newer")).collect();
    assert_eq!(dropped.len(), 1, "only the retry: {dropped:?}");
}

// A void replaces the live version whether the caller passes the version it sent last or the
// void counted as the next one.
#[tokio::test]
async fn a_cancel_of_the_amended_version_voids_it() {
    for void_revision in [1, 2] {
        let env = start().await;
        let b = coffees_and_mug();
        let original = sale(&env, "T-1", &b, &[]);
        let t = env.adapter.transactions().unwrap();
        t.send(&ctx(), &original).await.unwrap();
        let mut kept = original.clone();
        kept.lines.truncate(1);
        kept.total = kept.lines[0].net;
        kept.payments[0].amount = kept.lines[0].net;
        kept.revision = 1;
        t.amend(&ctx(), &kept).await.unwrap();
        let mut void = kept.clone();
        void.revision = void_revision;
        t.cancel(&ctx(), &void, None).await.unwrap();
        assert_eq!(env.probe.transaction("T-1").unwrap()["is_voided"], true, "void revision {void_revision}");
        assert!(env.probe.warnings().iter().all(|w| !w.message.contains("not newer")));
    }
}

// A cancel is the sale sent again voided; a second cancel changes nothing.
#[tokio::test]
async fn cancel_voids_the_sale_and_gives_its_offers_back_and_a_second_cancel_is_harmless() {
    let env = start().await;
    let b = coffees_and_mug();
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &b).await.unwrap();
    let tx = sale(&env, "T-1", &b, &[hold]);
    let t = env.adapter.transactions().unwrap();
    t.send(&ctx(), &tx).await.unwrap();
    t.cancel(&ctx(), &tx, None).await.unwrap();
    assert_eq!(env.probe.transaction("T-1").unwrap()["is_voided"], true);
    assert_eq!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
    t.cancel(&ctx(), &tx, None).await.unwrap();
    assert_eq!(env.pos("send_transaction").len(), 3);
}

// Checklist 16 (and 17: never a negative line).
#[tokio::test]
async fn a_negative_or_empty_line_is_refused_before_sending_naming_the_line() {
    let env = start().await;
    let mut tx = sale(&env, "T-1", &coffees_and_mug(), &[]);
    tx.lines[1].quantity = rust_decimal::Decimal::ZERO;
    let err = env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "lines[1].quantity"), "{err}");
    let mut tx = sale(&env, "T-2", &coffees_and_mug(), &[]);
    tx.lines[0].net = Money::new(-100, Currency::NOK);
    let err = env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "lines[0].net"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert!(env.pos("send_transaction").is_empty());
}

// Checklist 18.
#[tokio::test]
async fn amounts_are_major_unit_numbers_without_a_currency() {
    let env = start().await;
    env.adapter
        .transactions()
        .unwrap()
        .send(&ctx(), &sale(&env, "T-1", &coffees_and_mug(), &[]))
        .await
        .unwrap();
    let body = &env.pos("send_transaction")[0].body;
    assert!(!body.contains("currency") && !body.contains("NOK"), "{body}");
    let sent = &env.pos_bodies("send_transaction")[0]["request_payload"];
    assert_eq!(
        (sent["subtotal"].clone(), sent["items"][0]["unit_price"].clone()),
        (json!(457.0), json!(129.0))
    );
    // A sale in another currency than the store's is refused.
    let eur = loyalty_core::Basket::new(Currency::EUR).with_line(Line::new(
        "l1",
        "X",
        dec("1"),
        Money::new(100, Currency::EUR),
    ));
    let priced = loyalty_core::pricing::price(&eur, &[], &[], env.clock.now()).unwrap();
    let tx = loyalty_core::Transaction::from_priced(
        TransactionId::new("T-2"),
        env.clock.now(),
        None,
        &eur,
        &priced,
        &[],
    )
    .unwrap();
    let err = env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "currency"), "{err}");
}

// Checklist 19 and the tax rule: per-item tax_included on what was paid, header tax_total the sum.
#[tokio::test]
async fn the_stored_sale_reports_the_pos_id_and_the_tax_total_sent() {
    let env = start().await;
    let b = coffees_and_mug();
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &b).await.unwrap();
    env.adapter.transactions().unwrap().send(&ctx(), &sale(&env, "T-1", &b, &[hold])).await.unwrap();
    let stored = env.probe.transaction("T-1").unwrap();
    assert_eq!(stored["pos_transaction_id"], "T-1");
    let sent = &env.pos_bodies("send_transaction")[0]["request_payload"];
    assert_eq!(stored["taxtotal"], sent["tax_total"]);
    // 50.00 off 457.00, spread by the engine: coffee nets 229.77 (tax 29.97), mug 177.23 (35.45).
    assert_eq!(sent["tax_total"], json!(65.42));
    assert!(stored["guest_receipt_code"].is_null());
    assert!(env.probe.warnings().is_empty(), "totals agree: {:?}", env.probe.warnings());
}

// ---------------------------------------------------------------- Connect (§4)

// Checklist 20.
#[tokio::test]
async fn the_wallet_call_is_not_enveloped_and_lists_only_issued_offers() {
    let env = start().await;
    lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &coffees_and_mug()).await.unwrap();
    let ids = wallet_ids(&env).await;
    assert!(!ids.contains(&demo::UO_FIXED_CHECK.to_string()), "locked");
    assert!(!ids.contains(&demo::UO_EXPIRED.to_string()), "expired");
    let e = env
        .journal()
        .entries()
        .into_iter()
        .find(|e| e.path == "/offers/api/2.0/offers/get_user_offers")
        .unwrap();
    let body: Value = serde_json::from_str(&e.body).unwrap();
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["culture", "include_pending_extended_data", "retailer_id", "skip", "take", "user_id"]);
}

// Checklist 21.
#[tokio::test]
async fn points_come_from_the_balance_summary() {
    let env = start().await;
    let m = env.adapter.members().unwrap().get(&ctx(), &env.kari()).await.unwrap();
    assert_eq!(m.points, Some(demo::USER_POINTS.into()));
    assert_eq!(env.adapter.points(&ctx(), &env.kari()).await.unwrap(), Some(demo::USER_POINTS.into()));
    assert_eq!(env.journal().count("POST", "/incentives/api/1.0/user_points/all_balances"), 2);
}

// Points are computed after the send (points_at_send is false): read the balance afterwards.
#[tokio::test]
async fn points_of_a_sale_show_on_the_balance_after_the_engine_ran() {
    let mut settings = SessionmSettings::default();
    settings.points_delay_secs = 60;
    let env = start_with(settings, Duration::from_secs(5)).await;
    let receipt = env
        .adapter
        .transactions()
        .unwrap()
        .send(&ctx(), &sale(&env, "T-1", &coffees_and_mug(), &[]))
        .await
        .unwrap();
    assert_eq!(receipt.points_earned, None);
    assert_eq!(env.adapter.points(&ctx(), &env.kari()).await.unwrap(), Some(250.into()));
    env.advance(60);
    assert_eq!(env.adapter.points(&ctx(), &env.kari()).await.unwrap(), Some((250 + 457).into()));
}

// ---------------------------------------------------------------- Core (§6)

fn consents() -> Consents {
    Consents { membership: true, order_history: true, marketing_sms: false, marketing_email: true }
}

// Checklist 22.
#[tokio::test]
async fn core_create_makes_a_profile_and_refuses_a_child() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    let req =
        RegisterMember::new().with_email("ny@example.com").with_name("Ny", "Kunde").with_consents(consents());
    let m = members.register(&ctx(), &req).await.unwrap();
    assert_eq!(m.email.as_deref(), Some("ny@example.com"));
    assert!(m.consents.marketing_email);
    let mut child = RegisterMember::new().with_email("barn@example.com").with_consents(consents());
    let today = env.clock.now().date_naive();
    child.birth_date = today.with_year(today.year() - 10);
    let err = members.register(&ctx(), &child).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "dob"), "{err}");
}

// Checklist 23.
#[tokio::test]
async fn core_codes_in_upper_case_are_read_the_same() {
    let mut settings = SessionmSettings::default();
    settings.core_error_code_case = CodeCase::Upper;
    let env = start_with(settings, Duration::from_secs(5)).await;
    let err = env.adapter.members().unwrap().get(&ctx(), &MemberId::new("no-such-user")).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.vendor_code(), Some("USER_NOT_FOUND"));
    let taken = RegisterMember::new().with_email(demo::USER_EMAIL).with_consents(consents());
    let err = env.adapter.members().unwrap().register(&ctx(), &taken).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
}

// Checklist 24, adapter side: an update sends only what changes, so sending it again is
// harmless, and the rest of the profile stays.
#[tokio::test]
async fn an_update_changes_what_it_names_and_repeating_it_is_harmless() {
    let env = start().await;
    let mut update = MemberUpdate::new().with_name("Kari", "Nordmann-Hansen");
    update.birth_date = chrono::NaiveDate::from_ymd_opt(1985, 4, 12);
    let members = env.adapter.members().unwrap();
    let once = members.update(&ctx(), &env.kari(), &update).await.unwrap();
    let twice = members.update(&ctx(), &env.kari(), &update).await.unwrap();
    assert_eq!(once, twice);
    assert_eq!(twice.last_name.as_deref(), Some("Nordmann-Hansen"));
    assert_eq!(twice.email.as_deref(), Some(demo::USER_EMAIL));
    assert_eq!(twice.phone, Some(Phone::new("+47", "41234567")));
    let by_card = env
        .adapter
        .update_by_external_id(
            &ctx(),
            demo::USER_EXTERNAL_ID,
            &MemberUpdate::new().with_email("kari@example.org"),
        )
        .await
        .unwrap();
    assert_eq!(by_card.id, env.kari());
    assert_eq!(
        env.adapter.member_by_external_id(&ctx(), demo::USER_EXTERNAL_ID).await.unwrap().email.as_deref(),
        Some("kari@example.org")
    );
}

// Checklist 25 on update (§6 [D]: an e-mail identifies at most one profile): taking another
// member's e-mail is a Conflict and changes nothing.
#[tokio::test]
async fn an_update_to_an_email_another_member_has_is_a_conflict() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    let ola = MemberId::new(demo::OLA_USER_ID);
    let err =
        members.update(&ctx(), &ola, &MemberUpdate::new().with_email(demo::USER_EMAIL)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert_eq!(err.vendor_code(), Some("email_taken"));
    assert_eq!(members.get(&ctx(), &ola).await.unwrap().email.as_deref(), Some("ola.nordmann@example.com"));
}

// Checklist 25.
#[tokio::test]
async fn a_phone_may_be_shared_but_an_email_may_not() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    let same_email = RegisterMember::new().with_email(demo::USER_EMAIL).with_consents(consents());
    let err = members.register(&ctx(), &same_email).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    let kari_phone = Phone::new("+47", "41234567");
    let same_phone = RegisterMember::new()
        .with_email("twin@example.com")
        .with_phone(kari_phone.clone())
        .with_consents(consents());
    members.register(&ctx(), &same_phone).await.expect("phone uniqueness is not enforced");
    let err = members.find(&ctx(), &MemberLookup::Phone(kari_phone)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Ambiguous);
}

// Checklist 26: the wallet's `Z` timestamps read (the offset-less and seven-digit forms are
// pinned by the wire unit tests and the replay fixtures).
#[tokio::test]
async fn wallet_dates_become_the_validity_window() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.kari()), None).await.unwrap();
    let o = offers.iter().find(|o| o.id.as_str() == demo::UO_FIXED_CHECK).unwrap();
    assert_eq!(o.valid_to.map(|t| t.to_rfc3339()), Some("2026-12-31T23:59:59+00:00".to_string()));
    assert!(o.is_valid_at(env.clock.now()));
}

#[tokio::test]
async fn sign_up_without_both_consents_is_refused_before_sending() {
    let env = start().await;
    let req = RegisterMember::new().with_email("x@example.com");
    let err = env.adapter.members().unwrap().register(&ctx(), &req).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "consents.membership"),
        "{err}"
    );
    assert_eq!(env.journal().count("POST", "/priv/"), 0);
}

// §7.5, §8.3: a lock belongs to one store's transaction. Its release goes to the store that
// took it, whatever store the releasing call names.
#[tokio::test]
async fn a_lock_is_released_at_the_store_that_took_it() {
    let env = start().await;
    let bergen = Context::new().with_department(demo::OTHER_STORE_ID);
    let req = HoldRequest::new(env.kari(), wallet_offer(demo::UO_FIXED_CHECK), TransactionId::new("T-1"))
        .with_basket(coffees_and_mug());
    let holds = env.adapter.holds().unwrap();
    let hold = holds.hold(&bergen, &req).await.unwrap();
    assert_eq!(env.pos_bodies("lock")[0]["store_id"], demo::OTHER_STORE_ID);
    holds.release(&ctx(), &hold).await.unwrap();
    assert_eq!(env.pos_bodies("unlock")[0]["store_id"], demo::OTHER_STORE_ID, "not the configured store");
    assert_eq!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
}

// §7.5, §8.3: only a sale of the store that took a lock redeems it. A sale whose department
// names another store would leave the discount given and the offer unused: refused before
// anything is sent, naming the department.
#[tokio::test]
async fn a_sale_for_another_store_than_its_locks_is_refused_before_sending() {
    let env = start().await;
    let b = coffees_and_mug();
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &b).await.unwrap();
    let elsewhere = sale(&env, "T-1", &b, &[hold]).with_department(demo::OTHER_STORE_ID);
    let err = env.adapter.transactions().unwrap().send(&ctx(), &elsewhere).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "department"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert!(env.pos("send_transaction").is_empty());
    assert!(matches!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Locked { .. })));
}
