//! Reinstating the same use of an offer again gives one use back, not two, whoever repeats it
//! (loyalty-core `Redemptions::reinstate`: "Reinstating twice gives one use back, not two").
//!
//! SessionM makes a repeat harmless only when it carries the same `request_id` **and** the same
//! body (§7.5, checklist 14); anything else is a new request, executed again. A reinstate is
//! repeated by a retried return, run by another cashier, by an outbox worker whose context names
//! no employee, or under another department. So the request must depend on the redemption
//! alone: the adapter sends the store and employee recorded when the offer was redeemed (or
//! locked), not the repeating call's. Otherwise the repeat either fails (the offer is back
//! already) or, worse, gives back a later use of the same offer: money given away.

mod common;

use common::*;
use loyalty_core::{Context, HoldRequest, Provider, RedeemRequest, Redemption, TransactionId};
use loyalty_sim::sessionm::{demo, OfferState};
use serde_json::Value;

fn coffees() -> loyalty_core::Basket {
    basket(&[(demo::ITEM_COFFEE, "2"), (demo::ITEM_MUG, "1")])
}

fn redeem_request(env: &Env, tx: &str) -> RedeemRequest {
    RedeemRequest::new(env.kari(), wallet_offer(demo::UO_FIXED_CHECK))
        .with_basket(coffees())
        .with_transaction(TransactionId::new(tx))
}

fn redeemed(env: &Env) -> bool {
    matches!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Redeemed { .. }))
}

fn request_ids(env: &Env) -> Vec<Value> {
    env.pos_bodies("reinstate").iter().map(|b| b["request_id"].clone()).collect()
}

/// R1 given back by one cashier, the offer used again by a later sale (R2), then R1's
/// reinstate retried by another cashier: the retry repeats the first request, so SessionM
/// answers it from its stored response and R2's use stays used.
#[tokio::test]
async fn a_retried_reinstate_by_another_employee_does_not_give_back_a_later_use() {
    let env = start().await;
    let r = env.adapter.redemptions().unwrap();
    let r1 = r.redeem(&Context::new(), &redeem_request(&env, "T-A")).await.unwrap();
    r.reinstate(&Context::new().with_employee("cashier-1"), &r1).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));

    // The member uses the offer again on another purchase.
    r.redeem(&Context::new(), &redeem_request(&env, "T-B")).await.unwrap();
    assert!(redeemed(&env));

    // The first return is retried (outbox worker, other till): the same redemption R1.
    r.reinstate(&Context::new().with_employee("cashier-2"), &r1).await.unwrap();
    assert!(
        redeemed(&env),
        "reinstating R1 again gave back T-B's use: state {:?}; reinstate request_ids {:?}",
        env.probe.offer_state(demo::UO_FIXED_CHECK),
        request_ids(&env)
    );
    let bodies = env.pos_bodies("reinstate");
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], bodies[1], "the same request_id and body, whoever repeats it");
}

/// The same redemption reinstated twice, the second time from a context with no employee and
/// another department (an outbox worker): one use back, and the repeat succeeds, as the
/// contract asks, instead of a new request that SessionM refuses with "not redeemed".
#[tokio::test]
async fn reinstating_the_same_redemption_again_from_another_context_succeeds() {
    let env = start().await;
    let r = env.adapter.redemptions().unwrap();
    let req = RedeemRequest::new(env.kari(), wallet_offer(demo::UO_FIXED_CHECK)).with_basket(coffees());
    let r1 = r.redeem(&Context::new(), &req).await.unwrap();
    r.reinstate(&Context::new().with_employee("cashier-1"), &r1).await.unwrap();
    let again = r.reinstate(&Context::new(), &r1).await;
    assert!(again.is_ok(), "second reinstate of the same redemption: {again:?}");
    let other_store = r.reinstate(&Context::new().with_department("OSL-999"), &r1).await;
    assert!(other_store.is_ok(), "third reinstate, under another department: {other_store:?}");
    assert_eq!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
    let ids = request_ids(&env);
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id == &ids[0]), "one request, repeated: {ids:?}");
}

/// What the reinstate sends is what the redeem ran under: its employee and its store, kept
/// with the redemption, whatever the reinstating call's context says.
#[tokio::test]
async fn a_reinstate_sends_the_employee_and_store_the_redeem_ran_under() {
    let env = start().await;
    let r = env.adapter.redemptions().unwrap();
    let redeem_ctx = Context::new().with_employee("cashier-1");
    let r1 = r.redeem(&redeem_ctx, &redeem_request(&env, "T-A")).await.unwrap();
    let kept = r1.vendor_data.as_ref().expect("a SessionM redemption keeps its Discount");
    assert_eq!(kept["employee_id"], "cashier-1");
    assert_eq!(kept["redeem_store_id"], demo::STORE_ID);
    assert!(kept.get("store_id").is_none(), "not a lock: a sale of another store is not refused");
    assert_eq!(kept["discount"]["reference_id"], demo::UO_FIXED_CHECK);

    r.reinstate(&Context::new().with_employee("cashier-2").with_department("OSL-999"), &r1).await.unwrap();
    let body = &env.pos_bodies("reinstate")[0];
    assert_eq!(body["store_id"], demo::STORE_ID);
    assert_eq!(body["request_payload"]["employee_id"], "cashier-1");
    assert_eq!(body["request_payload"]["user_offer_id"], demo::UO_FIXED_CHECK);
}

/// The returns flow reinstates an offer its sale consumed through a lock with a redemption it
/// builds from the hold's data (`{sale}:{offer}`). A resumed return run by another cashier
/// repeats the first reinstate too, so a later use of the offer stays used.
#[tokio::test]
async fn a_resumed_return_of_a_locked_offer_does_not_give_back_a_later_use() {
    let env = start().await;
    let b = coffees();
    let offer = wallet_offer(demo::UO_FIXED_CHECK);
    let held_by = Context::new().with_employee("cashier-1");
    let req = HoldRequest::new(env.kari(), offer.clone(), TransactionId::new("T-A")).with_basket(b.clone());
    let hold = env.adapter.holds().unwrap().hold(&held_by, &req).await.unwrap();
    let tx = sale(&env, "T-A", &b, std::slice::from_ref(&hold));
    env.adapter.transactions().unwrap().send(&held_by, &tx).await.unwrap();
    assert!(redeemed(&env));

    // As `returns::process` builds it.
    let returned = Redemption::new(
        format!("T-A:{}", hold.offer_id),
        hold.offer_id.clone(),
        hold.offer_ref.clone(),
        env.kari(),
        env.clock.now(),
    )
    .with_vendor_data(hold.vendor_data.clone().expect("a SessionM hold keeps its lock"));
    let r = env.adapter.redemptions().unwrap();
    r.reinstate(&Context::new().with_employee("cashier-2"), &returned).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));

    r.redeem(&Context::new(), &redeem_request(&env, "T-B")).await.unwrap();
    r.reinstate(&Context::new(), &returned).await.unwrap();
    assert!(redeemed(&env), "the resumed return gave back T-B's use");
    let bodies = env.pos_bodies("reinstate");
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0]["request_payload"]["employee_id"], "cashier-1", "the lock's employee");
}

/// A redemption recorded before the adapter kept its store and employee (its data the bare
/// Discount object) is still given back, as before: under the call's employee and store.
#[tokio::test]
async fn a_redemption_recorded_as_a_bare_discount_is_still_reinstated_under_the_calls_employee() {
    let env = start().await;
    let r = env.adapter.redemptions().unwrap();
    let r1 = r.redeem(&Context::new(), &redeem_request(&env, "T-A")).await.unwrap();
    let bare = r1.vendor_data.as_ref().unwrap()["discount"].clone();
    let old =
        Redemption::new(r1.id.clone(), r1.offer_id.clone(), r1.offer_ref.clone(), r1.member.clone(), r1.at)
            .with_vendor_data(bare);
    r.reinstate(&Context::new().with_employee("cashier-9"), &old).await.unwrap();
    assert_eq!(env.probe.offer_state(demo::UO_FIXED_CHECK), Some(OfferState::Issued));
    let body = &env.pos_bodies("reinstate")[0];
    assert_eq!(body["request_payload"]["employee_id"], "cashier-9");
    assert_eq!(body["store_id"], demo::STORE_ID);
}
