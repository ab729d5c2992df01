//! An instance that outlives its lease on an order (a payment or vendor call slower than the
//! checkout's `lease`) while another instance takes the order over and finishes it. The slow
//! call's answer must be the sale (or the return) the other instance made, or a temporary error
//! whose effect is `Unknown` while it is still being made: never a `Conflict` "rejected before
//! acting", which a shop shows as a failed purchase (and the customer pays again under a new
//! order id) although the customer was charged. `docs/architecture.md` ("How data flows
//! through a checkout"): completing the same order id twice, one after the other, at the same
//! time, or from two instances, charges once and sends once, and later calls get the first
//! call's outcome. The slow instance must not undo anything the other one uses
//! either: no void of the authorization it captures, no release of the holds its sale claims.
//!
//! Instance A and instance B hold two store handles on one database (SQLite file, and PostgreSQL
//! with `LOYALTY_TEST_POSTGRES_URL`), one provider and one payment service. A's slow call is
//! held at a gate while the clock moves past A's lease and B's `tick` (or B's retry) runs.

mod harness;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harness::{kari_order, World};
use loyalty_core::checkout::{
    Authorization, Authorized, Checkout, CheckoutState, Payment, PaymentKey, SimulatedPayment,
};
use loyalty_core::{
    Context, Currency, Error, ErrorKind, Money, ReturnRequest, ReturnStyle, TransactionId, TransactionLine,
    WriteEffect,
};
use loyalty_memory::demo;
use rust_decimal::Decimal;

/// Longer than the checkout's default lease (60 s): the slow instance's lease has lapsed.
const PAST_THE_LEASE: Duration = Duration::from_secs(120);

fn ctx() -> Context {
    Context::new()
}

/// Which payment call of instance A is slow, and what it answers once the gate opens.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slow {
    /// The authorization is made at once; its reply comes back late.
    Authorize,
    /// The capture waits at the gate, then is refused for good (a real service refuses a capture
    /// of an authorization another request is capturing or has captured).
    CaptureRefused,
    /// The refund waits at the gate, then is paid.
    Refund,
}

/// Instance A's payment service: the shared simulated one, with one call held at a gate.
struct Gated {
    inner: Arc<SimulatedPayment>,
    slow: Slow,
    reached: Arc<tokio::sync::Notify>,
    go: Arc<tokio::sync::Notify>,
    used: AtomicBool,
}

impl Gated {
    fn new(inner: Arc<SimulatedPayment>, slow: Slow) -> Gated {
        Gated {
            inner,
            slow,
            reached: Default::default(),
            go: Default::default(),
            used: AtomicBool::new(false),
        }
    }

    /// True (once) for the call that waits at the gate.
    fn first(&self, slow: Slow) -> bool {
        self.slow == slow && !self.used.swap(true, Ordering::SeqCst)
    }

    async fn wait_at_gate(&self) {
        self.reached.notify_one();
        self.go.notified().await;
    }
}

#[async_trait]
impl Payment for Gated {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> loyalty_core::Result<Authorized> {
        let answer = self.inner.authorize(key, amount).await;
        if self.first(Slow::Authorize) {
            self.wait_at_gate().await;
        }
        answer
    }
    async fn resume(&self, a: &Authorization) -> loyalty_core::Result<Authorized> {
        self.inner.resume(a).await
    }
    async fn capture(&self, a: &Authorization) -> loyalty_core::Result<()> {
        if self.first(Slow::CaptureRefused) {
            self.wait_at_gate().await;
            return Err(Error::new(ErrorKind::Conflict, "payment", "payment.capture")
                .with_message("the authorization is captured by another request"));
        }
        self.inner.capture(a).await
    }
    async fn void(&self, a: &Authorization) -> loyalty_core::Result<()> {
        self.inner.void(a).await
    }
    async fn refund(&self, a: &Authorization, id: &TransactionId, amount: Money) -> loyalty_core::Result<()> {
        if self.first(Slow::Refund) {
            self.wait_at_gate().await;
        }
        self.inner.refund(a, id, amount).await
    }
}

/// Instance B: a checkout of `w` on a store handle of its own (another process on the same
/// database).
async fn other_instance(w: &World, url: &str) -> Checkout<'static> {
    Checkout::with_store(
        Arc::new(w.provider.clone()),
        w.payment.clone(),
        Arc::new(w.clock.clone()),
        loyalty_store::open(url).await.expect("a second store handle"),
    )
}

/// Instance A with a gated payment service.
fn gated_instance(w: &World, payment: Arc<Gated>) -> Checkout<'static> {
    Checkout::with_store(Arc::new(w.provider.clone()), payment, Arc::new(w.clock.clone()), w.store.clone())
}

/// A's send to the vendor outlives its lease; B's tick takes the charged sale over and sends it.
/// When A's send returns (the vendor dedupes the id), A answers B's sale.
async fn a_commit_whose_send_outlived_its_lease_answers_the_sale(url: &str) {
    let w = World::new(url).await;
    let (a, b) = (w.checkout(), other_instance(&w, url).await);
    let id = TransactionId::new("o-slow-send");
    let prepared = a.prepare(&ctx(), &kari_order("o-slow-send")).await.unwrap();
    let send = w.provider.pause_next("transactions.send");
    let c = ctx();
    let commit = a.commit(&c, &prepared);
    tokio::pin!(commit);
    tokio::select! {
        _ = &mut commit => panic!("the send was paused"),
        _ = send.reached() => {}
    }
    w.clock.advance(PAST_THE_LEASE);
    let report = b.tick(&ctx()).await.unwrap();
    assert_eq!(report.recovered, vec![id.clone()], "{report:?}");
    let finished = b.status(&id).await.unwrap().unwrap();
    assert_eq!(finished.state, CheckoutState::Sent);
    send.release();
    let answer = commit.await.expect("the sale B finished is A's answer, not an error");
    let outcome = answer.into_outcome().expect("charged");
    assert_eq!(Some(outcome), finished.outcome, "A answers the one sale");
    assert_eq!(w.payment.captures(), 1, "one charge");
    assert_eq!(w.provider.transaction_count(), 1, "one sale at the vendor");
    assert!(w.payment.voided().is_empty(), "{:?}", w.payment.voided());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_send_outlived_its_lease_answers_the_sale_on_sqlite() {
    let file = harness::sqlite_file();
    a_commit_whose_send_outlived_its_lease_answers_the_sale(file.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_send_outlived_its_lease_answers_the_sale_on_postgres() {
    a_commit_whose_send_outlived_its_lease_answers_the_sale(&harness::postgres_scoped_url().await).await;
}

/// A's authorization is made but its reply outlives A's lease; B's tick asks again under the
/// same payment key (the same authorization), captures and sends. A answers that sale.
async fn a_commit_whose_authorize_outlived_its_lease_answers_the_sale(url: &str) {
    let w = World::new(url).await;
    let pay = Arc::new(Gated::new(w.payment.clone(), Slow::Authorize));
    let (a, b) = (gated_instance(&w, pay.clone()), other_instance(&w, url).await);
    let id = TransactionId::new("o-slow-auth");
    let prepared = a.prepare(&ctx(), &kari_order("o-slow-auth")).await.unwrap();
    let c = ctx();
    let commit = a.commit(&c, &prepared);
    tokio::pin!(commit);
    tokio::select! {
        _ = &mut commit => panic!("the authorize was held"),
        _ = pay.reached.notified() => {}
    }
    w.clock.advance(PAST_THE_LEASE);
    let report = b.tick(&ctx()).await.unwrap();
    assert_eq!(report.recovered, vec![id.clone()], "{report:?}");
    let finished = b.status(&id).await.unwrap().unwrap();
    assert_eq!(finished.state, CheckoutState::Sent);
    pay.go.notify_one();
    let answer = commit.await.expect("the sale B finished is A's answer, not an error");
    assert_eq!(answer.into_outcome().ok(), finished.outcome, "A answers the one sale");
    assert_eq!(w.payment.captures(), 1, "one charge");
    assert_eq!(w.provider.transaction_count(), 1, "one sale at the vendor");
    assert!(w.payment.voided().is_empty(), "A voided the authorization B captured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_authorize_outlived_its_lease_answers_the_sale_on_sqlite() {
    let file = harness::sqlite_file();
    a_commit_whose_authorize_outlived_its_lease_answers_the_sale(file.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_authorize_outlived_its_lease_answers_the_sale_on_postgres() {
    a_commit_whose_authorize_outlived_its_lease_answers_the_sale(&harness::postgres_scoped_url().await).await;
}

/// A's capture outlives its lease; B's tick takes the order over, captures and is sending the
/// sale when A's capture comes back refused. A must not take that for a decline of its own: it
/// voids nothing (B captured that authorization) and releases no hold (B's sale claims the
/// coupon), and answers a temporary error with effect `Unknown`. Asked again, A answers B's sale.
async fn a_commit_whose_capture_outlived_its_lease_undoes_nothing_and_asks_again(url: &str) {
    let w = World::new(url).await;
    let pay = Arc::new(Gated::new(w.payment.clone(), Slow::CaptureRefused));
    let (a, b) = (gated_instance(&w, pay.clone()), other_instance(&w, url).await);
    let id = TransactionId::new("o-slow-capture");
    let prepared = a.prepare(&ctx(), &kari_order("o-slow-capture")).await.unwrap();
    let c = ctx();
    let commit = a.commit(&c, &prepared);
    tokio::pin!(commit);
    tokio::select! {
        _ = &mut commit => panic!("the capture was held"),
        _ = pay.reached.notified() => {}
    }
    w.clock.advance(PAST_THE_LEASE);
    // B's tick captures and stops inside the send.
    let send = w.provider.pause_next("transactions.send");
    let cb = ctx();
    let tick = b.tick(&cb);
    tokio::pin!(tick);
    tokio::select! {
        _ = &mut tick => panic!("B's send was paused"),
        _ = send.reached() => {}
    }
    assert_eq!(w.payment.captures(), 1, "B captured");
    pay.go.notify_one();
    let err = commit.await.expect_err("B still works on the order: no answer yet");
    assert!(err.is_temporary(), "{err}");
    assert_eq!(err.effect(), WriteEffect::Unknown, "the payment may have gone through: {err}");
    assert_ne!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert!(w.payment.voided().is_empty(), "A voided the authorization B captured");
    assert!(!w.provider.open_holds().is_empty(), "A released the holds B's sale claims");

    send.release();
    let report = tick.await.unwrap();
    assert_eq!(report.recovered, vec![id.clone()], "{report:?}");
    let finished = b.status(&id).await.unwrap().unwrap();
    assert_eq!(finished.state, CheckoutState::Sent);
    let sale = finished.outcome.clone().expect("an outcome");
    assert!(
        sale.dropped_claims.is_empty(),
        "the coupon's hold was released under B: {:?}",
        sale.dropped_claims
    );
    // The retry the error asks for gets the one sale.
    let again = a.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(again, sale);
    assert_eq!(w.payment.captures(), 1, "one charge");
    assert_eq!(w.provider.transaction_count(), 1, "one sale at the vendor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_capture_outlived_its_lease_undoes_nothing_and_asks_again_on_sqlite() {
    let file = harness::sqlite_file();
    a_commit_whose_capture_outlived_its_lease_undoes_nothing_and_asks_again(file.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_capture_outlived_its_lease_undoes_nothing_and_asks_again_on_postgres() {
    a_commit_whose_capture_outlived_its_lease_undoes_nothing_and_asks_again(
        &harness::postgres_scoped_url().await,
    )
    .await;
}

/// A's return call at the provider outlives the return's lease; B's tick finishes the return
/// under its id (the vendor dedupes it) and pays the refund. When A's call returns, A answers
/// that return, refunded once, not a `Conflict` on the ledger.
async fn a_return_that_outlived_its_lease_answers_the_return(url: &str) {
    let w = World::new(url).await;
    let (a, b) = (w.checkout(), other_instance(&w, url).await);
    let order = TransactionId::new("o-slow-ret");
    a.complete(&ctx(), &kari_order("o-slow-ret")).await.unwrap().into_outcome().unwrap();
    let ret = ReturnRequest::new(Some(order.clone()), TransactionId::new("o-slow-ret-r1"), demo::start())
        .with_line("2", Decimal::ONE);
    let refund = w.provider.pause_next("transactions.refund");
    let c = ctx();
    let call = a.process_return(&c, &ret, Some(ReturnStyle::PartialRefund));
    tokio::pin!(call);
    tokio::select! {
        _ = &mut call => panic!("the refund call was paused"),
        _ = refund.reached() => {}
    }
    w.clock.advance(PAST_THE_LEASE);
    let report = b.tick(&ctx()).await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    let ledger = b.ledger(&order).await.unwrap().expect("a ledger");
    let done = ledger.processed.get(&ret.return_id).cloned().expect("B finished the return");
    refund.release();
    let answer = call.await.expect("the return B finished is A's answer, not an error");
    assert_eq!(answer, done);
    assert_eq!(w.payment.refunds().len(), 1, "refunded once: {:?}", w.payment.refunds());
    let ledger = a.ledger(&order).await.unwrap().unwrap();
    assert!(ledger.in_progress.is_none());
    assert!(ledger.refunds_paid.contains(&ret.return_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_that_outlived_its_lease_answers_the_return_on_sqlite() {
    let file = harness::sqlite_file();
    a_return_that_outlived_its_lease_answers_the_return(file.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_that_outlived_its_lease_answers_the_return_on_postgres() {
    a_return_that_outlived_its_lease_answers_the_return(&harness::postgres_scoped_url().await).await;
}

/// A return without a receipt: A's send outlives the lease, the shop's retry on B sends the
/// return under the same id and records it; then A's send is refused (the vendor already has
/// that id). A answers the recorded return, not the refusal ("rejected before acting" would
/// tell the shop the return did not happen).
async fn a_return_without_receipt_that_outlived_its_lease_answers_the_return(url: &str) {
    let w = World::new(url).await;
    let (a, b) = (w.checkout(), other_instance(&w, url).await);
    let nok = |minor| Money::new(minor, Currency::NOK);
    let mut mug = TransactionLine::new("x", demo::PRODUCT_MUG, Decimal::ONE, nok(19_900), nok(19_900));
    mug.net = nok(19_900);
    let ret =
        ReturnRequest::new(None, TransactionId::new("u-slow"), demo::start()).with_unreceipted_line(mug);
    let send = w.provider.pause_next("transactions.send");
    let c = ctx();
    let call = a.process_return(&c, &ret, None);
    tokio::pin!(call);
    tokio::select! {
        _ = &mut call => panic!("the send was paused"),
        _ = send.reached() => {}
    }
    w.clock.advance(PAST_THE_LEASE);
    let done = b.process_return(&ctx(), &ret, None).await.expect("the retry on B makes the return");
    w.provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::Conflict, "memory", "transactions.send")
            .with_message("transaction u-slow exists"),
    );
    send.release();
    let answer = call.await.expect("the return B made is A's answer, not the refusal");
    assert_eq!(answer, done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_without_receipt_that_outlived_its_lease_answers_the_return_on_sqlite() {
    let file = harness::sqlite_file();
    a_return_without_receipt_that_outlived_its_lease_answers_the_return(file.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_without_receipt_that_outlived_its_lease_answers_the_return_on_postgres() {
    a_return_without_receipt_that_outlived_its_lease_answers_the_return(
        &harness::postgres_scoped_url().await,
    )
    .await;
}

/// Two returns of one order on two instances: B's refund of the first is paid while A's second
/// return is under way (A's lease written to the ledger meanwhile). Neither write may be lost:
/// B records its refund in the ledger as A left it (the money went back, so it is no refusal),
/// and A's return, finding only a refund recorded under its lease, records itself on top.
async fn two_returns_of_one_order_on_two_instances_are_each_recorded_and_refunded_once(url: &str) {
    let w = World::new(url).await;
    let pay = Arc::new(Gated::new(w.payment.clone(), Slow::Refund));
    let (a, b) = (w.checkout(), gated_instance(&w, pay.clone()));
    let order = TransactionId::new("o-two-ret");
    a.complete(&ctx(), &kari_order("o-two-ret")).await.unwrap().into_outcome().unwrap();
    let mug = ReturnRequest::new(Some(order.clone()), TransactionId::new("o-two-ret-r1"), demo::start())
        .with_line("2", Decimal::ONE);
    let coffee = ReturnRequest::new(Some(order.clone()), TransactionId::new("o-two-ret-r2"), demo::start())
        .with_line("1", Decimal::ONE);
    let cb = ctx();
    let first = b.process_return(&cb, &mug, Some(ReturnStyle::PartialRefund));
    tokio::pin!(first);
    tokio::select! {
        _ = &mut first => panic!("B's refund was held"),
        _ = pay.reached.notified() => {}
    }
    let at_vendor = w.provider.pause_next("transactions.refund");
    let ca = ctx();
    let second = a.process_return(&ca, &coffee, Some(ReturnStyle::PartialRefund));
    tokio::pin!(second);
    tokio::select! {
        _ = &mut second => panic!("A's refund call was paused"),
        _ = at_vendor.reached() => {}
    }
    pay.go.notify_one();
    let first = first.await.expect("B's refund was paid: its return is answered");
    at_vendor.release();
    let second = second.await.expect("A's return is answered");
    let ledger = a.ledger(&order).await.unwrap().unwrap();
    assert_eq!(ledger.processed.get(&mug.return_id), Some(&first));
    assert_eq!(ledger.processed.get(&coffee.return_id), Some(&second));
    assert!(ledger.in_progress.is_none());
    let paid: Vec<_> = ledger.refunds_paid.iter().cloned().collect();
    assert_eq!(paid, vec![mug.return_id.clone(), coffee.return_id.clone()]);
    assert_eq!(w.payment.refunds().len(), 2, "{:?}", w.payment.refunds());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_returns_of_one_order_on_two_instances_are_each_recorded_and_refunded_once_on_sqlite() {
    let file = harness::sqlite_file();
    two_returns_of_one_order_on_two_instances_are_each_recorded_and_refunded_once(file.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_returns_of_one_order_on_two_instances_are_each_recorded_and_refunded_once_on_postgres() {
    two_returns_of_one_order_on_two_instances_are_each_recorded_and_refunded_once(
        &harness::postgres_scoped_url().await,
    )
    .await;
}
