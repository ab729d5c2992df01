//! A shop switches provider in its configuration and keeps its checkout store: orders started
//! at the first provider must not be charged, released, sent or returned at the second.

use std::sync::Arc;
use std::time::Duration;

use loyalty_core::checkout::{
    Checkout, CheckoutRequest, CheckoutState, CheckoutStore, Delivery, MemoryCheckoutStore, SimulatedPayment,
};
use loyalty_core::{Context, ErrorKind, MemberLookup, Phone, ReturnRequest, TransactionId};
use loyalty_memory::{demo, MemoryProvider};

struct World {
    first: MemoryProvider,
    second: MemoryProvider,
    clock: loyalty_core::ManualClock,
    before: Checkout<'static>,
    after: Checkout<'static>,
}

/// One store and one payment service; the checkout before the switch runs `first`, the one
/// after it `second` (a fresh vendor account that knows nothing of the first's orders).
fn world() -> World {
    let (first, clock) = MemoryProvider::demo_manual();
    let (second, _) = MemoryProvider::demo_manual();
    let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
    let payment = Arc::new(SimulatedPayment::new());
    let before = Checkout::with_store(
        Arc::new(first.clone()),
        payment.clone(),
        Arc::new(clock.clone()),
        store.clone(),
    );
    let after = Checkout::with_store(
        Arc::new(second.redeclared(|_| {}).named("other")),
        payment,
        Arc::new(clock.clone()),
        store,
    );
    World { first, second, clock, before, after }
}

fn order(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        .confirm(demo::COUPON_SUMMER10)
}

fn ctx() -> Context {
    Context::new()
}

#[tokio::test]
async fn a_prepared_order_of_the_first_provider_is_neither_charged_nor_aborted_by_the_second() {
    let w = world();
    let prepared = w.before.prepare(&ctx(), &order("o-sw")).await.unwrap();
    let e = w.after.commit(&ctx(), &prepared).await.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.message().contains("memory") && e.message().contains("new order id"), "{e}");
    let e = w.after.abort(&ctx(), &prepared).await.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Conflict, "{e}");
    let e = w.after.prepare(&ctx(), &order("o-sw")).await.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Conflict, "{e}");
    // Untouched: still prepared at the first provider, which can still sell it.
    let rec = w.before.status(&TransactionId::new("o-sw")).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Prepared);
    assert_eq!(rec.provider.as_deref(), Some("memory"));
    let out = w.before.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, Delivery::Sent(_)), "{out:?}");
    assert_eq!(w.second.transaction_count(), 0);
}

#[tokio::test]
async fn a_pending_sale_of_the_first_provider_is_not_sent_to_the_second() {
    let w = world();
    w.first.fail_next(
        "transactions.send",
        loyalty_core::Error::new(ErrorKind::Unavailable, "memory", "transactions.send").with_temporary(true),
    );
    let out = w.before.complete(&ctx(), &order("o-out")).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, Delivery::Pending { .. }), "{out:?}");
    // Switched: the new instance's background work and an operator's resend leave it alone.
    w.clock.advance(Duration::from_secs(600));
    let report = w.after.tick(&ctx()).await.unwrap();
    assert!(report.sent.is_empty() && report.problems.is_empty(), "{report:?}");
    let resent = w.after.resend_pending(&ctx()).await;
    assert!(
        resent.iter().all(|(_, r)| r.as_ref().is_err_and(|e| *e.kind() == ErrorKind::Conflict)),
        "{resent:?}"
    );
    assert_eq!(w.second.transaction_count(), 0, "the sale went to the wrong vendor");
    // The first provider's instance still sends it.
    w.clock.advance(Duration::from_secs(600));
    w.before.tick(&ctx()).await.unwrap();
    let rec = w.before.status(&TransactionId::new("o-out")).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Sent);
    // A repeated complete after the switch still answers the sale made (nothing to do).
    let again = w.after.complete(&ctx(), &order("o-out")).await.unwrap().into_outcome().unwrap();
    assert_eq!(again.charged, out.charged);
}

#[tokio::test]
async fn a_return_of_an_order_sold_at_the_first_provider_is_refused_by_the_second() {
    let w = world();
    let out = w.before.complete(&ctx(), &order("o-ret")).await.unwrap().into_outcome().unwrap();
    let line = out.transaction.lines[0].line_id.clone();
    let request =
        ReturnRequest::new(Some(TransactionId::new("o-ret")), TransactionId::new("r-ret"), demo::start())
            .with_line(line.as_str(), rust_decimal::Decimal::ONE);
    let e = w.after.process_return(&ctx(), &request, None).await.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Conflict, "{e}");
    assert!(w.after.ledger(&TransactionId::new("o-ret")).await.unwrap().is_none());
}

/// Two instances on one store while the switch rolls out: the second provider's tick must not
/// claim the first provider's due orders (a claim it then skips would keep the first
/// provider's own tick from releasing the lapsed holds for a whole lease, tick after tick).
#[tokio::test]
async fn the_first_providers_tick_releases_its_lapsed_holds_while_the_second_ticks_too() {
    let w = world();
    w.before.prepare(&ctx(), &order("o-lapse")).await.unwrap();
    w.clock.advance(Duration::from_secs(3600));
    let r = w.after.tick(&ctx()).await.unwrap();
    assert!(r.released.is_empty() && r.problems.is_empty(), "{r:?}");
    w.clock.advance(Duration::from_secs(5));
    let r = w.before.tick(&ctx()).await.unwrap();
    let rec = w.before.status(&TransactionId::new("o-lapse")).await.unwrap().unwrap();
    assert!(r.released.iter().any(|o| o.as_str() == "o-lapse"), "{r:?}");
    assert!(rec.holds.is_empty(), "{:?}", rec.holds);
    assert!(w.first.open_holds().is_empty());
}

/// A record written before records named their provider is taken as this checkout's, and
/// named so from its first write here: a switched checkout later leaves it alone.
#[tokio::test]
async fn a_record_that_names_no_provider_is_named_by_its_first_write() {
    let w = world();
    w.before.prepare(&ctx(), &order("o-old")).await.unwrap();
    let id = TransactionId::new("o-old");
    let store = w.before.store();
    let s = store.load(&id).await.unwrap().unwrap();
    let mut rec = s.value;
    rec.provider = None;
    store.save(&rec, Some(s.version)).await.unwrap().unwrap();
    // The first provider's instance prepares it again (the basket changed).
    w.before.prepare(&ctx(), &order("o-old")).await.unwrap();
    let rec = w.before.status(&id).await.unwrap().unwrap();
    assert_eq!(rec.provider.as_deref(), Some("memory"));
    let e = w.after.commit_order(&ctx(), &id).await.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(w.second.transaction_count(), 0);
}
