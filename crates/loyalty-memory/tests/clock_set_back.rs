//! Records written before the clock was set back (an NTP step, a restored VM) are due now in
//! every state, so the background work does not wait out the jump; a clock a few seconds
//! apart makes nothing due early. Run on the in-memory store with records the checkout wrote.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use loyalty_core::checkout::{
    Checkout, CheckoutRecord, CheckoutRequest, CheckoutState, CheckoutStore, Claim, Completion, Delivery,
    MemoryCheckoutStore, NextAnswer, SimulatedPayment,
};
use loyalty_core::{Clock, Context, Error, ErrorKind, ManualClock, MemberLookup, Phone, TransactionId};
use loyalty_memory::{demo, MemoryProvider};

struct World {
    provider: MemoryProvider,
    clock: ManualClock,
    payment: Arc<SimulatedPayment>,
    store: Arc<MemoryCheckoutStore>,
    checkout: Checkout<'static>,
}

fn world() -> World {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(SimulatedPayment::new());
    let store = Arc::new(MemoryCheckoutStore::new());
    let checkout = Checkout::with_store(
        Arc::new(provider.clone()),
        payment.clone(),
        Arc::new(clock.clone()),
        store.clone() as Arc<dyn CheckoutStore>,
    );
    World { provider, clock, payment, store, checkout }
}

fn order(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        .confirm(demo::COUPON_SUMMER10)
}

/// The claim the background work makes: every state, due by now, for one lease (60 s, the
/// default).
fn tick_claim(now: DateTime<Utc>) -> Claim {
    Claim::new(CheckoutState::ALL.to_vec(), "tick", now + Duration::seconds(60), 100).due_by(now)
}

/// The orders a tick's claim takes at `now`.
async fn claimed_at(store: &MemoryCheckoutStore, now: DateTime<Utc>) -> Vec<String> {
    let claimed = store.claim(&tick_claim(now), now).await.unwrap();
    claimed.iter().map(|s| s.value.order.as_str().to_owned()).collect()
}

async fn record(store: &MemoryCheckoutStore, id: &str) -> CheckoutRecord {
    store.load(&TransactionId::new(id)).await.unwrap().expect("stored").value
}

#[tokio::test]
async fn a_resend_backoff_written_before_the_clock_was_set_back_is_due_now() {
    let w = world();
    w.provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    let out =
        w.checkout.complete(&Context::new(), &order("o-pending")).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, Delivery::Pending { .. }));
    let rec = record(&w.store, "o-pending").await;
    assert_eq!(rec.state, CheckoutState::Pending);
    // Set back a day, then two hours pass: the backoff (at most an hour) is long over.
    let now = w.clock.now() - Duration::days(1) + Duration::hours(2);
    assert!(rec.due_at.is_some_and(|d| d > now), "the backoff lies ahead on the new clock");
    assert_eq!(claimed_at(&w.store, now).await, ["o-pending"]);
}

#[tokio::test]
async fn an_action_timeout_written_before_the_clock_was_set_back_is_due_now() {
    let w = world();
    w.payment.answer_next(NextAnswer::ThreeDSecure);
    let c = w.checkout.complete(&Context::new(), &order("o-3ds")).await.unwrap();
    assert!(matches!(c, Completion::ActionRequired { .. }));
    assert_eq!(record(&w.store, "o-3ds").await.state, CheckoutState::AwaitingAction);
    let now = w.clock.now() - Duration::days(1) + Duration::hours(2);
    assert_eq!(claimed_at(&w.store, now).await, ["o-3ds"]);
}

#[tokio::test]
async fn a_hold_expiry_written_before_the_clock_was_set_back_is_due_now() {
    let w = world();
    let prepared = w.checkout.prepare(&Context::new(), &order("o-prepared")).await.unwrap();
    assert!(!prepared.holds.is_empty());
    assert_eq!(record(&w.store, "o-prepared").await.state, CheckoutState::Prepared);
    let now = w.clock.now() - Duration::days(1);
    assert_eq!(claimed_at(&w.store, now).await, ["o-prepared"]);
}

#[tokio::test]
async fn a_record_is_due_early_only_when_written_more_than_two_leases_ahead() {
    let w = world();
    w.payment.answer_next(NextAnswer::ThreeDSecure);
    w.checkout.complete(&Context::new(), &order("o-3ds")).await.unwrap();
    let written = record(&w.store, "o-3ds").await.updated_at;
    // Another instance's clock a few seconds behind, and up to two leases (120 s) behind: the
    // action timeout (30 min) is still to come.
    for behind in [5, 120] {
        let now = written - Duration::seconds(behind);
        assert!(claimed_at(&w.store, now).await.is_empty(), "{behind} s behind");
        assert!(!tick_claim(now).written_before_set_back(written, now));
    }
    // Just past two leases: written before the clock was set back.
    let now = written - Duration::seconds(121);
    assert!(tick_claim(now).written_before_set_back(written, now));
    assert_eq!(claimed_at(&w.store, now).await, ["o-3ds"]);
}

#[tokio::test]
async fn only_records_waiting_for_something_are_due_after_a_set_back() {
    let w = world();
    // A sale delivered: nothing waits. A payment waiting for the customer: its timeout does.
    w.checkout.complete(&Context::new(), &order("o-done")).await.unwrap().into_outcome().unwrap();
    let done = record(&w.store, "o-done").await;
    assert_eq!((done.state, done.due_at), (CheckoutState::Sent, None));
    w.payment.answer_next(NextAnswer::ThreeDSecure);
    w.checkout.complete(&Context::new(), &order("o-3ds")).await.unwrap();
    let now = w.clock.now() - Duration::days(1);
    let claim = tick_claim(now);
    assert!(!claim.is_due(&done, now), "a record with no due time waits for nothing");
    assert!(claim.is_due(&record(&w.store, "o-3ds").await, now));
    assert_eq!(claimed_at(&w.store, now).await, ["o-3ds"]);
    // Claimed once: a second tick's claim leaves it to the first.
    assert!(claimed_at(&w.store, now).await.is_empty());
}

#[tokio::test]
async fn after_the_clock_is_set_back_a_pending_sale_is_resent_at_the_next_tick() {
    let w = world();
    w.provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    w.checkout.complete(&Context::new(), &order("o-pending")).await.unwrap().into_outcome().unwrap();
    w.clock.set(w.clock.now() - Duration::days(1));
    let report = w.checkout.tick(&Context::new()).await.unwrap();
    assert_eq!(report.sent, vec![TransactionId::new("o-pending")], "{report:?}");
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn after_the_clock_is_set_back_a_payment_waiting_for_the_customer_gets_its_time_again_not_a_day() {
    let w = world();
    w.payment.answer_next(NextAnswer::ThreeDSecure);
    w.checkout.complete(&Context::new(), &order("o-3ds")).await.unwrap();
    w.clock.set(w.clock.now() - Duration::days(1));
    // The customer may be in the middle of 3-D Secure: not timed out at once.
    let report = w.checkout.tick(&Context::new()).await.unwrap();
    assert!(report.released.is_empty() && report.problems.is_empty(), "{report:?}");
    assert_eq!(record(&w.store, "o-3ds").await.state, CheckoutState::AwaitingAction);
    assert!(w.payment.voided().is_empty());
    // The action timeout (30 minutes) counted again from the set-back, not the whole day.
    w.clock.advance(std::time::Duration::from_secs(31 * 60));
    let report = w.checkout.tick(&Context::new()).await.unwrap();
    assert_eq!(report.released, vec![TransactionId::new("o-3ds")], "{report:?}");
    assert_eq!(w.payment.voided().len(), 1);
    assert!(w.provider.open_holds().is_empty());
}

#[tokio::test]
async fn after_the_clock_is_set_back_the_holds_of_an_abandoned_checkout_are_released_in_their_time() {
    let w = world();
    w.checkout.prepare(&Context::new(), &order("o-prepared")).await.unwrap();
    assert!(!w.provider.open_holds().is_empty());
    w.clock.set(w.clock.now() - Duration::days(1));
    let report = w.checkout.tick(&Context::new()).await.unwrap();
    assert!(report.released.is_empty(), "{report:?}");
    // The holds' 15 minutes counted again from the set-back, not the whole day.
    w.clock.advance(std::time::Duration::from_secs(16 * 60));
    let report = w.checkout.tick(&Context::new()).await.unwrap();
    assert_eq!(report.released, vec![TransactionId::new("o-prepared")], "{report:?}");
    assert!(w.provider.open_holds().is_empty(), "{:?}", w.provider.open_holds());
    assert!(record(&w.store, "o-prepared").await.holds.is_empty());
}
