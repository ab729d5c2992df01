//! A sale the vendor rate-limits after the charge waits in the outbox until the vendor's
//! `Retry-After` has passed (docs/architecture.md, the outbox), not only the outbox's own
//! backoff (30 s, 60 s, …); a wait past any sane bound is held to a day, never a panic.

use std::sync::Arc;
use std::time::Duration;

use loyalty_core::checkout::{
    Checkout, CheckoutRequest, CheckoutState, CheckoutStore, Completion, Delivery, MemoryCheckoutStore,
    SimulatedPayment,
};
use loyalty_core::ManualClock;
use loyalty_core::{Clock, Context, Error, ErrorKind, MemberLookup, Phone, TransactionId};
use loyalty_memory::demo;
use loyalty_memory::MemoryProvider;

#[tokio::test]
async fn a_rate_limited_send_is_not_resent_before_the_vendors_retry_after() {
    let (provider, clock) = MemoryProvider::demo_manual();
    let store = Arc::new(MemoryCheckoutStore::new());
    let checkout = Checkout::with_store(
        Arc::new(provider.clone()),
        Arc::new(SimulatedPayment::new()),
        Arc::new(clock.clone()),
        store.clone() as Arc<dyn CheckoutStore>,
    );
    let hour = Duration::from_secs(3600);
    provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::RateLimited { retry_after: Some(hour) }, "memory", "transactions.send"),
    );
    let request = CheckoutRequest::new("o-rl-1", demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)));
    let done = checkout.complete(&Context::new(), &request).await.unwrap();
    let Completion::Completed(outcome) = done else { panic!("{done:?}") };
    assert!(matches!(outcome.delivery, Delivery::Pending { .. }), "{:?}", outcome.delivery);

    let rec = checkout.status(&TransactionId::new("o-rl-1")).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Pending);
    let due = rec.due_at.expect("a pending sale has its next resend");
    let asked = clock.now() + chrono::Duration::from_std(hour).unwrap();
    assert!(
        due >= asked,
        "next resend at {due}, but the vendor asked for none before {asked} (Retry-After: 3600)"
    );
}

/// Sells `order` with the vendor rate-limiting the send for `wait`; the sale's next resend.
async fn pending_due(order: &str, wait: Duration) -> (chrono::DateTime<chrono::Utc>, ManualClock) {
    let (provider, clock) = MemoryProvider::demo_manual();
    let checkout = Checkout::with_store(
        Arc::new(provider.clone()),
        Arc::new(SimulatedPayment::new()),
        Arc::new(clock.clone()),
        Arc::new(MemoryCheckoutStore::new()) as Arc<dyn CheckoutStore>,
    );
    provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::RateLimited { retry_after: Some(wait) }, "memory", "transactions.send"),
    );
    let request = CheckoutRequest::new(order, demo::basket());
    let done = checkout.complete(&Context::new(), &request).await.unwrap();
    assert!(matches!(done, Completion::Completed(_)), "{done:?}");
    let rec = checkout.status(&TransactionId::new(order)).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Pending);
    (rec.due_at.expect("a pending sale has its next resend"), clock)
}

#[tokio::test]
async fn a_short_retry_after_keeps_the_outbox_backoff() {
    let (due, clock) = pending_due("o-rl-2", Duration::from_secs(2)).await;
    assert_eq!(due, clock.now() + chrono::Duration::seconds(30), "the first backoff is 30 s");
}

#[tokio::test]
async fn an_absurd_retry_after_parks_the_sale_for_a_day_at_most() {
    let (due, clock) = pending_due("o-rl-3", Duration::from_secs(u64::MAX)).await;
    assert_eq!(due, clock.now() + chrono::Duration::hours(24));
}
