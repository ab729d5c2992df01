//! Two shop instances sharing one checkout store: a prepare that outlived its lease during a
//! slow SessionM lock, and was taken over by the other instance, must not unlock the lock that
//! instance now counts on. A lock taken again under the same order id is the same lock at
//! SessionM, and `unlock` names no transaction, so the stale instance's release would free the
//! other's lock: the customer would be charged with the discount while the offer stayed
//! unused in the wallet.
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use loyalty_core::checkout::{
    Checkout, CheckoutRequest, CheckoutStore, Completion, MemoryCheckoutStore, SimulatedPayment,
};
use loyalty_core::{Basket, Context, MemberLookup, Phone};
use loyalty_sim::sessionm::{demo, OfferState};
use loyalty_sim::Fault;

fn coffees_and_mug() -> Basket {
    basket(&[(demo::ITEM_COFFEE, "2"), (demo::ITEM_MUG, "1")])
}

fn request(order: &str) -> CheckoutRequest {
    CheckoutRequest::new(order, coffees_and_mug())
        .identify(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .confirm(demo::UO_FIXED_CHECK)
}

#[tokio::test]
async fn a_prepare_that_lost_its_order_to_another_instance_leaves_that_instances_lock_alone() {
    let env = start().await;
    let payment = Arc::new(SimulatedPayment::new());
    let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
    let instance = || {
        Checkout::with_store(
            Arc::new(&env.adapter),
            payment.clone(),
            Arc::new(Bridge(env.clock.clone())),
            store.clone(),
        )
    };
    let (a, b) = (instance(), instance());
    let ctx = Context::new();
    // A's lock call is slow (SessionM takes the lock, then answers late).
    env.handle().inject("POST", "/api/2.0/lock", Fault::Latency(Duration::from_millis(1500)), Some(1));
    let req = request("order-slow-prepare");
    let slow = a.prepare(&ctx, &req);
    let other = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        // A outlives its lease; the customer's retry lands on B, which takes the order over.
        env.advance(61);
        b.prepare(&ctx, &req).await
    };
    let (ra, rb) = tokio::join!(slow, other);
    let prepared = rb.expect("B prepares the order");
    let err = ra.expect_err("A lost the order to B");
    assert_eq!(*err.kind(), loyalty_core::ErrorKind::Conflict, "{err}");
    assert_eq!(prepared.priced.total, nok("407.00"));
    // B's record holds the lock, so SessionM must still hold it for the order.
    let after_prepare = state(&env);
    let unlocks = env.pos("unlock").len();
    assert_eq!(unlocks, 0, "A released nothing: the lock is B's now");
    let out = b.commit(&ctx, &prepared).await.unwrap();
    let Completion::Completed(out) = out else { panic!("{out:?}") };
    assert_eq!(out.charged, nok("407.00"));
    assert_eq!(
        state(&env),
        Some(OfferState::Redeemed { transaction_id: "order-slow-prepare".into() }),
        "the customer got SessionM's 50.00 off, so the offer must be used; after B's prepare the \
         offer was {after_prepare:?} ({unlocks} unlock by A); warnings: {:?}",
        env.probe.warnings()
    );
}

fn state(env: &Env) -> Option<OfferState> {
    env.probe.offer_state(demo::UO_FIXED_CHECK)
}
