//! A checkout killed at any step resumes in a new process from the store: nothing is lost and
//! the customer is charged once. "Killed" means the checkout's future is dropped while an
//! outside call (to the provider or the payment service) never returns, before or after that
//! call took effect; "a new process" is a new `Checkout` on the same store file.

mod harness;

use std::sync::Arc;
use std::time::Duration;

use harness::{kari_order, Hang, Hanging, HangingPayment, World};
use loyalty_core::checkout::{Checkout, CheckoutState, Delivery};
use loyalty_core::{Context, TransactionId};

/// Outside calls of the seeded member's checkout on the memory provider, in order: find,
/// list, validate (twice: the product coupon and the confirmed basket coupon), three holds,
/// authorize, capture, send.
const CALLS: usize = 10;

async fn kill_at(step: usize, hang: Hang, store_url: &str) {
    let w = World::new(store_url).await;
    let order = kari_order("o-kill");
    let doomed = Checkout::with_store(
        Arc::new(Hanging::new(w.provider.clone(), w.counter.clone(), step, hang)),
        Arc::new(HangingPayment::new(w.payment.clone(), w.counter.clone(), step, hang)),
        Arc::new(w.clock.clone()),
        w.store.clone(),
    );
    let first =
        tokio::time::timeout(Duration::from_millis(300), doomed.complete(&Context::new(), &order)).await;
    drop(doomed);
    assert_eq!(first.is_err(), step < CALLS, "step {step} {hang:?}: the kill happens at that step");

    // The new process starts after the dead one's lease ran out.
    w.clock.advance(Duration::from_secs(120));
    let fresh = w.checkout();
    let report = fresh.tick(&Context::new()).await.expect("tick");
    assert!(report.problems.is_empty(), "step {step} {hang:?}: {:?}", report.problems);
    let outcome = fresh.complete(&Context::new(), &order).await.expect("completes after the restart");
    let outcome = outcome.into_outcome().expect("charged");
    let id = TransactionId::new("o-kill");
    assert_eq!(w.payment.captures(), 1, "step {step} {hang:?}: charged once");
    assert_eq!(
        w.payment.captured_total(&id),
        Some(outcome.charged),
        "step {step} {hang:?}: the amount shown"
    );
    assert!(matches!(outcome.delivery, Delivery::Sent(_)), "step {step} {hang:?}: {:?}", outcome.delivery);
    assert_eq!(w.provider.transaction_count(), 1, "step {step} {hang:?}: the sale reached the vendor once");
    let record = fresh.status(&id).await.unwrap().unwrap();
    assert_eq!(record.state, CheckoutState::Sent);
    w.clock.advance(Duration::from_secs(1));
    assert!(w.provider.open_holds().is_empty(), "step {step} {hang:?}: no hold left");
}

#[tokio::test]
async fn the_checkout_makes_the_outside_calls_the_kill_tests_count() {
    let db = harness::sqlite_file();
    let w = World::new(db.url()).await;
    let counted = Checkout::with_store(
        Arc::new(Hanging::new(w.provider.clone(), w.counter.clone(), usize::MAX, Hang::Before)),
        Arc::new(HangingPayment::new(w.payment.clone(), w.counter.clone(), usize::MAX, Hang::Before)),
        Arc::new(w.clock.clone()),
        w.store.clone(),
    );
    counted.complete(&Context::new(), &kari_order("o-count")).await.unwrap().into_outcome().unwrap();
    assert_eq!(w.counter.load(std::sync::atomic::Ordering::SeqCst), CALLS);
}

#[tokio::test]
async fn a_checkout_killed_before_any_outside_call_takes_effect_resumes_and_charges_once() {
    for step in 0..=CALLS {
        kill_at(step, Hang::Before, harness::sqlite_file().url()).await;
    }
}

#[tokio::test]
async fn a_checkout_killed_after_an_outside_call_took_effect_resumes_and_charges_once() {
    for step in 0..CALLS {
        kill_at(step, Hang::After, harness::sqlite_file().url()).await;
    }
}

#[tokio::test]
async fn an_abandoned_prepared_checkout_has_its_holds_released_by_the_sweeper() {
    let db = harness::sqlite_file();
    let w = World::new(db.url()).await;
    let checkout = w.checkout();
    let prepared = checkout.prepare(&Context::new(), &kari_order("o-abandon")).await.unwrap();
    assert_eq!(prepared.holds.len(), 3);
    drop(checkout);
    // Locks lapse on their own at the memory provider; the sweeper still releases them, which
    // is what a reservation-style vendor needs.
    w.clock.advance(Duration::from_secs(901));
    let fresh = w.checkout();
    let report = fresh.tick(&Context::new()).await.unwrap();
    assert_eq!(report.released, vec![TransactionId::new("o-abandon")]);
    let record = fresh.status(&TransactionId::new("o-abandon")).await.unwrap().unwrap();
    assert!(record.holds.is_empty(), "{:?}", record.holds);
    assert_eq!(record.due_at, None, "nothing more to do until someone commits");
    // A late commit takes the offers again when they are free and charges what was shown.
    let out = fresh.commit(&Context::new(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
}

/// At a provider that may take a repeated id as a second sale, a checkout killed during the
/// send (before or after it took effect) is not sent again by the new process: it waits in the
/// outbox for an operator, who resends it once after checking the vendor.
#[tokio::test]
async fn a_send_cut_by_a_crash_is_parked_where_a_repeat_could_be_a_second_sale() {
    for hang in [Hang::Before, Hang::After] {
        let db = harness::sqlite_file();
        let w = World::new(db.url()).await;
        let order = kari_order("o-cut");
        let doomed = Checkout::with_store(
            Arc::new(
                Hanging::new(w.provider.clone(), w.counter.clone(), CALLS - 1, hang)
                    .with_resend(loyalty_core::Resend::Unrecognised),
            ),
            Arc::new(HangingPayment::new(w.payment.clone(), w.counter.clone(), usize::MAX, hang)),
            Arc::new(w.clock.clone()),
            w.store.clone(),
        );
        let first =
            tokio::time::timeout(Duration::from_millis(300), doomed.complete(&Context::new(), &order)).await;
        drop(doomed);
        assert!(first.is_err(), "{hang:?}: killed during the send");
        let sent_before = w.provider.transaction_count();
        assert_eq!(sent_before, usize::from(hang == Hang::After), "{hang:?}");

        w.clock.advance(Duration::from_secs(120));
        let fresh = Checkout::with_store(
            Arc::new(
                Hanging::new(w.provider.clone(), w.counter.clone(), usize::MAX, hang)
                    .with_resend(loyalty_core::Resend::Unrecognised),
            ),
            w.payment.clone(),
            Arc::new(w.clock.clone()),
            w.store.clone(),
        );
        let report = fresh.tick(&Context::new()).await.expect("tick");
        assert!(report.problems.is_empty(), "{hang:?}: {:?}", report.problems);
        let outcome = fresh.complete(&Context::new(), &order).await.unwrap().into_outcome().unwrap();
        assert!(matches!(outcome.delivery, Delivery::Pending { .. }), "{hang:?}: {:?}", outcome.delivery);
        for _ in 0..3 {
            w.clock.advance(Duration::from_secs(3600));
            fresh.tick(&Context::new()).await.expect("tick");
        }
        assert_eq!(w.provider.transaction_count(), sent_before, "{hang:?}: never repeated on its own");
        assert_eq!(w.payment.captures(), 1, "{hang:?}: charged once");
        // The operator checked the vendor and resends: one sale at the vendor either way.
        let results = fresh.resend_pending(&Context::new()).await;
        assert!(matches!(results[..], [(_, Ok(Delivery::Sent(_)))]), "{hang:?}: {results:?}");
        assert_eq!(w.provider.transaction_count(), 1, "{hang:?}");
    }
}
