//! The checkout flow and returns against the memory provider, with a failure injected at each
//! step.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use loyalty_core::checkout::{
    Authorization, Authorized, Checkout, CheckoutOutcome, CheckoutRequest, CheckoutStore, Completion,
    Delivery, MemoryCheckoutStore, NextAnswer, Payment, PaymentKey, Prepared, SimulatedPayment,
};
use loyalty_core::returns::{ReturnLedger, ReturnUnderWay};
use loyalty_core::{
    Clock, Consents, Context, Error, ErrorKind, LineId, MemberId, MemberLookup, Money, OfferId, Phone,
    Provider, RegisterMember, ReturnRequest, ReturnStyle, SendOutcome, TransactionId, TransactionLine,
};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

/// How the next captures fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaptureFault {
    /// Refused before acting (the authorization lapsed).
    Refused,
    /// Captured at the service, but the reply was lost (a timeout).
    ReplyLost,
}

/// The simulated payment service plus switches that make capture or authorize fail.
#[derive(Default)]
struct TestPayment {
    inner: SimulatedPayment,
    fail_capture: Mutex<Option<CaptureFault>>,
    /// Authorize at the service, then lose the reply.
    lose_authorize_reply: Mutex<bool>,
    /// The service does not answer authorizations (nothing authorized).
    authorize_down: Mutex<bool>,
    /// Asking about a waiting payment fails without an answer.
    resume_down: Mutex<bool>,
    /// A completed 3-D Secure step approves this many minor units less than asked.
    approve_short_by: Mutex<i64>,
    /// Voids fail (the service is down for them).
    void_down: Mutex<bool>,
    /// Refunds fail (the service is down for them).
    refund_down: Mutex<bool>,
    authorized: AtomicU32,
}

impl std::ops::Deref for TestPayment {
    type Target = SimulatedPayment;
    fn deref(&self) -> &SimulatedPayment {
        &self.inner
    }
}

#[async_trait]
impl Payment for TestPayment {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> loyalty_core::Result<Authorized> {
        if *self.authorize_down.lock().unwrap() {
            return Err(Error::new(ErrorKind::Unavailable, "payment", "payment.authorize"));
        }
        let r = self.inner.authorize(key, amount).await;
        if r.is_ok() {
            self.authorized.fetch_add(1, Ordering::SeqCst);
        }
        if r.is_ok() && *self.lose_authorize_reply.lock().unwrap() {
            return Err(Error::new(ErrorKind::Unavailable, "payment", "payment.authorize"));
        }
        // A real gateway is slow: let a concurrent duplicate catch up.
        tokio::task::yield_now().await;
        r
    }
    async fn resume(&self, a: &Authorization) -> loyalty_core::Result<Authorized> {
        if *self.resume_down.lock().unwrap() {
            return Err(Error::new(ErrorKind::Unavailable, "payment", "payment.resume"));
        }
        let short = *self.approve_short_by.lock().unwrap();
        match self.inner.resume(a).await? {
            Authorized::Approved(mut a) if short > 0 => {
                a.amount = Money::new(a.amount.minor - short, a.amount.currency);
                Ok(Authorized::Approved(a))
            }
            other => Ok(other),
        }
    }
    async fn capture(&self, a: &Authorization) -> loyalty_core::Result<()> {
        let fault = *self.fail_capture.lock().unwrap();
        match fault {
            Some(CaptureFault::Refused) => Err(Error::new(ErrorKind::Rejected, "payment", "payment.capture")
                .with_message("authorization lapsed")),
            Some(CaptureFault::ReplyLost) => {
                self.inner.capture(a).await?;
                Err(Error::new(ErrorKind::Unavailable, "payment", "payment.capture")
                    .with_message("timed out"))
            }
            None => self.inner.capture(a).await,
        }
    }
    async fn void(&self, a: &Authorization) -> loyalty_core::Result<()> {
        if *self.void_down.lock().unwrap() {
            return Err(Error::new(ErrorKind::Unavailable, "payment", "payment.void"));
        }
        self.inner.void(a).await
    }
    async fn refund(&self, a: &Authorization, id: &TransactionId, amount: Money) -> loyalty_core::Result<()> {
        if *self.refund_down.lock().unwrap() {
            return Err(Error::new(ErrorKind::Unavailable, "payment", "payment.refund"));
        }
        self.inner.refund(a, id, amount).await
    }
}

struct World {
    provider: MemoryProvider,
    clock: loyalty_core::ManualClock,
    payment: Arc<TestPayment>,
    checkout: Checkout<'static>,
}

fn world() -> World {
    world_on(Arc::new(MemoryCheckoutStore::new()))
}

/// A world keeping its checkout state in `store`.
fn world_on(store: Arc<dyn CheckoutStore>) -> World {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(TestPayment::default());
    let checkout =
        Checkout::with_store(Arc::new(provider.clone()), payment.clone(), Arc::new(clock.clone()), store);
    World { provider, clock, payment, checkout }
}

fn kari() -> MemberLookup {
    MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE))
}

fn member() -> MemberId {
    MemberId::new(demo::MEMBER_ID)
}

fn order(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket()).identify(kari()).confirm(demo::COUPON_SUMMER10)
}

fn ctx() -> Context {
    Context::new()
}

impl World {
    async fn complete(&self, req: &CheckoutRequest) -> CheckoutOutcome {
        self.checkout.complete(&ctx(), req).await.unwrap().into_outcome().unwrap()
    }
}

#[tokio::test]
async fn full_checkout_sends_transaction_with_offers_and_leaves_no_hold() {
    let w = world();
    let out = w.complete(&order("o-1")).await;
    assert!(matches!(out.delivery, Delivery::Sent(ref r) if r.outcome == SendOutcome::Recorded));
    // The stamp card (4 of 6) makes the second coffee free (129.00), the coffee coupon takes
    // 20 % of the first (25.80), and the basket coupon only finds the mug (10 % of 199.00).
    assert_eq!(out.priced.total_discount, Money::new(12_900 + 2_580 + 1_990, loyalty_core::Currency::NOK));
    assert_eq!(out.charged, out.priced.total);
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)), 1);
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_SUMMER10)), 1);
    assert!(w.provider.open_holds().is_empty());
    let (stored, cancelled) = w.provider.transaction(&TransactionId::new("o-1")).unwrap();
    assert!(!cancelled);
    assert_eq!(stored.total, out.charged);
    assert_eq!(w.payment.captures(), 1);
}

async fn assert_failure_leaves_nothing(op: &str) {
    let w = world();
    w.provider.fail_next(op, Error::new(ErrorKind::Unavailable, "memory", op));
    let err = w.checkout.complete(&ctx(), &order("o-fail")).await.unwrap_err();
    assert_eq!(err.operation(), op, "the injected failure surfaces");
    assert!(w.provider.open_holds().is_empty(), "no hold left after {op} failed");
    assert_eq!(w.provider.transaction_count(), 0);
    assert_eq!(w.payment.captures(), 0, "nothing charged after {op} failed");
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_SUMMER10)), 0);
}

#[tokio::test]
async fn failure_at_identify_leaves_nothing_behind() {
    assert_failure_leaves_nothing("members.find").await;
}

#[tokio::test]
async fn failure_at_offer_listing_leaves_nothing_behind() {
    assert_failure_leaves_nothing("offers.list").await;
}

#[tokio::test]
async fn failure_at_validation_leaves_nothing_behind() {
    assert_failure_leaves_nothing("offers.validate").await;
}

#[tokio::test]
async fn failure_at_second_hold_releases_the_first() {
    let w = world();
    // The first hold succeeds, the second fails: the first must be released.
    let first = Error::new(ErrorKind::Unavailable, "memory", "holds.hold");
    w.provider.fail_next("holds.hold", first.clone());
    let prepared_err = w.checkout.prepare(&ctx(), &order("o-x")).await.unwrap_err();
    assert_eq!(prepared_err.operation(), "holds.hold");
    assert!(w.provider.open_holds().is_empty());
}

#[tokio::test]
async fn hold_failure_after_one_hold_releases_every_hold() {
    let w = world();
    let p = w.checkout.prepare(&ctx(), &order("o-2")).await.unwrap();
    assert_eq!(p.holds.len(), 3, "stamp card, coffee coupon and basket coupon are held");
    w.checkout.abort(&ctx(), &p).await.unwrap();
    assert!(w.provider.open_holds().is_empty());
}

#[tokio::test]
async fn declined_payment_releases_every_hold() {
    let w = world();
    w.payment.answer_next(NextAnswer::Decline);
    let err = w.checkout.complete(&ctx(), &order("o-3")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Rejected);
    assert!(w.provider.open_holds().is_empty());
    assert_eq!(w.provider.transaction_count(), 0);
}

#[tokio::test]
async fn commit_after_a_declined_payment_takes_the_holds_back_first() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-3b")).await.unwrap();
    w.payment.answer_next(NextAnswer::Decline);
    w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert!(w.provider.open_holds().is_empty(), "the decline released the holds");
    // Another tab of the same customer takes the single-use coupon meanwhile.
    let other = CheckoutRequest::new("o-3c", demo::basket()).identify(kari()).confirm(demo::COUPON_SUMMER10);
    let p2 = w.checkout.prepare(&ctx(), &other).await.unwrap();
    assert!(p2.holds.iter().any(|h| h.offer_id.as_str() == demo::COUPON_SUMMER10));
    w.payment.answer_next(NextAnswer::Approve);
    // The retry cannot take the coupon back: it stops before charging the discounted price.
    let retry = w.checkout.commit(&ctx(), &prepared).await.unwrap();
    let Completion::PriceChanged(change) = retry else { panic!("{retry:?}") };
    assert!(change.new_total.minor > prepared.priced.total.minor);
    assert_eq!(w.payment.captures(), 0, "nothing charged at the old price");
    w.checkout.abort(&ctx(), &p2).await.unwrap();
    let out = w.checkout.commit(&ctx(), &change.prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, change.new_total);
    assert!(matches!(out.delivery, Delivery::Sent(_)), "{:?}", out.delivery);
}

#[tokio::test]
async fn refused_capture_voids_and_releases() {
    let w = world();
    *w.payment.fail_capture.lock().unwrap() = Some(CaptureFault::Refused);
    w.checkout.complete(&ctx(), &order("o-4")).await.unwrap_err();
    assert_eq!(w.payment.voided().len(), 1);
    assert!(w.provider.open_holds().is_empty());
    assert_eq!(w.provider.transaction_count(), 0);
}

#[tokio::test]
async fn a_capture_whose_reply_is_lost_keeps_the_order_charging_until_it_is_finished() {
    let w = world();
    *w.payment.fail_capture.lock().unwrap() = Some(CaptureFault::ReplyLost);
    let prepared = w.checkout.prepare(&ctx(), &order("o-4b")).await.unwrap();
    let err = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert!(err.is_temporary(), "the shop is told to try again: {err}");
    assert!(err.message().contains("stays charging"), "{err}");
    assert_eq!(w.payment.captures(), 1, "the money moved");
    assert!(w.payment.voided().is_empty(), "a capture that may have happened is never voided");
    assert_eq!(w.provider.open_holds().len(), prepared.holds.len(), "the holds are kept for the sale");
    assert_eq!(w.provider.transaction_count(), 0);
    // The service answers again: the background work finishes the sale, capturing once.
    *w.payment.fail_capture.lock().unwrap() = None;
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert_eq!(report.recovered, vec![TransactionId::new("o-4b")], "{report:?}");
    assert_eq!(w.payment.captures(), 1);
    assert_eq!(w.provider.transaction_count(), 1);
    let again = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(again.charged, prepared.priced.total);
    assert!(matches!(again.delivery, Delivery::Sent(_)), "{:?}", again.delivery);
    assert!(w.provider.open_holds().is_empty());
}

#[tokio::test]
async fn a_commit_retried_after_a_lost_capture_reply_finishes_the_sale_once() {
    let w = world();
    *w.payment.fail_capture.lock().unwrap() = Some(CaptureFault::ReplyLost);
    let prepared = w.checkout.prepare(&ctx(), &order("o-4c")).await.unwrap();
    w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    *w.payment.fail_capture.lock().unwrap() = None;
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
    assert_eq!(w.payment.captured_total(&TransactionId::new("o-4c")), Some(prepared.priced.total));
    assert_eq!(w.payment.authorized.load(Ordering::SeqCst), 1, "authorized once");
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn an_authorization_whose_reply_is_lost_is_asked_again_not_declined() {
    let w = world();
    *w.payment.lose_authorize_reply.lock().unwrap() = true;
    let prepared = w.checkout.prepare(&ctx(), &order("o-4d")).await.unwrap();
    let err = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert!(err.is_temporary(), "{err}");
    assert!(w.payment.voided().is_empty());
    assert_eq!(w.provider.open_holds().len(), prepared.holds.len(), "nothing released");
    *w.payment.lose_authorize_reply.lock().unwrap() = false;
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
    assert_eq!(w.payment.captures(), 1);
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn send_failure_after_charge_keeps_sale_for_resend_with_same_id() {
    let w = world();
    w.provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    let out = w.complete(&order("o-5")).await;
    assert!(matches!(out.delivery, Delivery::Pending { .. }));
    assert_eq!(w.payment.captures(), 1, "the sale stands");
    assert_eq!(w.payment.voided().len(), 0, "never refunded because the vendor is down");
    assert_eq!(w.checkout.pending().await.unwrap(), vec![TransactionId::new("o-5")]);
    let results = w.checkout.resend_pending(&ctx()).await;
    assert_eq!(results.len(), 1);
    assert!(results[0].1.is_ok());
    assert!(w.checkout.pending().await.unwrap().is_empty());
    assert_eq!(w.provider.transaction_count(), 1);
    assert!(w.provider.open_holds().is_empty());
}

/// A second shop instance on the world's store, provider, payment and clock.
fn second_instance(w: &World, store: Arc<dyn CheckoutStore>) -> Checkout<'static> {
    Checkout::with_store(Arc::new(w.provider.clone()), w.payment.clone(), Arc::new(w.clock.clone()), store)
}

/// A sale left in the outbox by a failed send.
async fn pending_sale(w: &World, id: &str) {
    w.provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    let out = w.complete(&order(id)).await;
    assert!(matches!(out.delivery, Delivery::Pending { .. }));
}

#[tokio::test]
async fn an_operator_resend_leaves_a_sale_another_instance_is_sending_to_it() {
    let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
    let w = world_on(store.clone());
    let other = second_instance(&w, store);
    pending_sale(&w, "o-5r").await;
    // This instance's resend is inside the send call when the other instance's resend runs.
    let pause = w.provider.pause_next("transactions.send");
    let c = ctx();
    let (here, there) = tokio::join!(w.checkout.resend_pending(&c), async {
        pause.reached().await;
        let there = other.resend_pending(&c).await;
        pause.release();
        there
    });
    assert!(there.is_empty(), "the other instance sent a sale being sent: {there:?}");
    assert_eq!(here.len(), 1);
    assert!(matches!(here[0].1, Ok(Delivery::Sent(_))), "{here:?}");
    assert_eq!(w.provider.transaction_count(), 1);
    assert!(w.checkout.pending().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_operator_resend_leaves_a_sale_the_tick_is_sending_to_it() {
    let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
    let w = world_on(store.clone());
    let other = second_instance(&w, store);
    pending_sale(&w, "o-5t").await;
    w.clock.advance(Duration::from_secs(3600));
    let pause = w.provider.pause_next("transactions.send");
    let c = ctx();
    let (report, there) = tokio::join!(w.checkout.tick(&c), async {
        pause.reached().await;
        let there = other.resend_pending(&c).await;
        pause.release();
        there
    });
    let report = report.unwrap();
    assert!(there.is_empty(), "the operator's resend sent a sale the tick was sending: {there:?}");
    assert_eq!(report.sent, vec![TransactionId::new("o-5t")], "{report:?}");
    assert!(report.problems.is_empty(), "{report:?}");
}

#[tokio::test]
async fn a_send_whose_instance_stopped_is_resent_once_its_lease_ends() {
    let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
    let w = world_on(store.clone());
    let other = second_instance(&w, store);
    pending_sale(&w, "o-5d").await;
    // This instance stops inside the send (its future dropped, as a process dies).
    let pause = w.provider.pause_next("transactions.send");
    let c = ctx();
    tokio::select! {
        _ = w.checkout.resend_pending(&c) => panic!("the send was paused"),
        _ = pause.reached() => {}
    }
    assert!(other.resend_pending(&ctx()).await.is_empty(), "the lease still holds");
    assert_eq!(w.provider.transaction_count(), 0);
    w.clock.advance(Duration::from_secs(61));
    let results = other.resend_pending(&ctx()).await;
    assert_eq!(results.len(), 1);
    assert!(matches!(results[0].1, Ok(Delivery::Sent(_))), "{results:?}");
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn completing_twice_charges_once_and_returns_first_result() {
    let w = world();
    let a = w.complete(&order("o-6")).await;
    let b = w.complete(&order("o-6")).await;
    assert_eq!(a, b);
    assert_eq!(w.payment.captures(), 1);
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn concurrent_completes_charge_once() {
    let w = world();
    let (c0, req) = (ctx(), order("o-7"));
    let (a, b, c) = tokio::join!(
        w.checkout.complete(&c0, &req),
        w.checkout.complete(&c0, &req),
        w.checkout.complete(&c0, &req),
    );
    assert_eq!(a.unwrap(), b.unwrap());
    assert!(c.unwrap().completed().is_some());
    assert_eq!(w.payment.authorized.load(Ordering::SeqCst), 1);
    assert_eq!(w.payment.captures(), 1);
    assert_eq!(w.provider.transaction_count(), 1);
    assert!(w.provider.open_holds().is_empty());
}

#[tokio::test]
async fn expired_hold_whose_offer_is_still_free_is_taken_again_and_the_shown_price_charged() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-8")).await.unwrap();
    w.clock.advance(Duration::from_secs(16 * 60));
    assert!(w.provider.open_holds().is_empty(), "every hold lapsed");
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total, "the price shown is the price charged");
    assert_eq!(w.payment.captured_total(&TransactionId::new("o-8")), Some(prepared.priced.total));
    assert_eq!(out.transaction.offers_used.len(), 3, "every offer claimed under a fresh hold");
    assert!(out.transaction.holds.iter().all(|h| h.expires_at > w.clock.now()));
    assert!(w.provider.open_holds().is_empty());
}

#[tokio::test]
async fn expired_hold_whose_offer_is_gone_stops_before_the_charge_and_names_the_new_price() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-9")).await.unwrap();
    let before = prepared.priced.total;
    w.clock.advance(Duration::from_secs(16 * 60));
    // Meanwhile another order uses the single-use coupon.
    let other = CheckoutRequest::new("o-9b", demo::basket()).identify(kari()).confirm(demo::COUPON_SUMMER10);
    w.complete(&other).await;
    let charged_before = w.payment.captures();
    let Completion::PriceChanged(change) = w.checkout.commit(&ctx(), &prepared).await.unwrap() else {
        panic!("a lost coupon must stop the commit")
    };
    assert_eq!(w.payment.captures(), charged_before, "nothing charged");
    assert_eq!(change.old_total, before);
    assert!(change.new_total.minor > before.minor, "re-priced without the lost coupon");
    assert!(change.changes.iter().any(|c| c.contains(demo::COUPON_SUMMER10)), "{:?}", change.changes);
    assert!(
        change.changes.iter().any(|c| c.contains(demo::COUPON_SUMMER10) && c.contains("hold expired")),
        "the reason names the lapsed hold: {:?}",
        change.changes
    );
    // The stale confirmation cannot be committed; the new one charges the new price.
    let stale = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert_eq!(stale.kind(), &ErrorKind::Conflict);
    let out = w.checkout.commit(&ctx(), &change.prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, change.new_total);
    assert!(!out.transaction.offers_used.iter().any(|u| u.offer_id.as_str() == demo::COUPON_SUMMER10));
    assert_eq!(
        w.provider.uses(&member(), &OfferId::new(demo::COUPON_SUMMER10)),
        1,
        "one use, by the other order"
    );
    assert!(w.provider.open_holds().is_empty());
}

#[tokio::test]
async fn guest_with_both_consents_is_signed_up() {
    let w = world();
    let consents = Consents { membership: true, order_history: true, ..Consents::default() };
    let req = CheckoutRequest::new("o-10", demo::basket())
        .identify(MemberLookup::Email("new@example.com".into()))
        .sign_up(RegisterMember::new().with_email("new@example.com").with_consents(consents));
    let out = w.complete(&req).await;
    assert!(out.signed_up);
    let id = out.member.unwrap();
    assert_eq!(w.provider.transaction(&TransactionId::new("o-10")).unwrap().0.member, Some(id));
}

#[tokio::test]
async fn guest_with_one_consent_buys_as_guest() {
    let w = world();
    let consents = Consents { membership: true, order_history: false, ..Consents::default() };
    let req = CheckoutRequest::new("o-11", demo::basket())
        .sign_up(RegisterMember::new().with_email("half@example.com").with_consents(consents));
    let out = w.complete(&req).await;
    assert!(!out.signed_up);
    assert!(out.member.is_none());
    let found = w
        .provider
        .members()
        .unwrap()
        .find(&ctx(), &MemberLookup::Email("half@example.com".into()))
        .await
        .unwrap();
    assert!(found.is_none(), "no member created without both consents");
}

fn ret(original: &str, id: &str, line: &str, qty: i64) -> ReturnRequest {
    ReturnRequest::new(Some(TransactionId::new(original)), TransactionId::new(id), demo::start())
        .with_line(line, Decimal::from(qty))
}

#[tokio::test]
async fn a_return_under_an_order_id_is_refused_before_anything_is_cancelled() {
    let w = world();
    w.complete(&order("o-2a")).await;
    w.complete(&order("o-2b")).await;
    for id in ["o-2a", "o-2b"] {
        let err = w
            .checkout
            .process_return(&ctx(), &ret("o-2a", id, "2", 1), Some(ReturnStyle::CancelAndResend))
            .await
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "return_id"), "{err}");
    }
    assert!(w.payment.refunds().is_empty(), "nothing refunded");
    assert!(w.checkout.ledger(&TransactionId::new("o-2a")).await.unwrap().is_none(), "no return started");
    // The sale stands: a return under its own id still goes through.
    let r = w.checkout.process_return(&ctx(), &ret("o-2a", "o-2a-r1", "2", 1), None).await.unwrap();
    assert!(r.refunded.minor > 0);
}

#[tokio::test]
async fn cancel_and_resend_refunds_frozen_nets_and_sends_the_rest() {
    let w = world();
    let out = w.complete(&order("o-20")).await;
    let r = w
        .checkout
        .process_return(&ctx(), &ret("o-20", "o-20-r1", "2", 1), Some(ReturnStyle::CancelAndResend))
        .await
        .unwrap();
    let mug_net = out.transaction.lines.iter().find(|l| l.line_id == LineId::new("2")).unwrap().net;
    assert_eq!(r.refunded, mug_net);
    assert!(w.provider.transaction(&TransactionId::new("o-20")).unwrap().1, "original cancelled");
    let (rest, _) = w.provider.transaction(&TransactionId::new("o-20-r1")).unwrap();
    assert_eq!(rest.total.minor, out.charged.minor - mug_net.minor);
    assert_eq!(
        w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)),
        1,
        "coffee coupon re-claimed by the rest"
    );
}

#[tokio::test]
async fn a_remainder_whose_coupon_the_vendor_no_longer_takes_is_booked_without_it_and_refunded() {
    let w = world();
    let out = w.complete(&order("o-29")).await;
    // The coffee coupon expired since the sale: the vendor refuses a remainder claiming it.
    w.provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::Rejected, "memory", "transactions.send").with_message("coupon expired"),
    );
    let r = w
        .checkout
        .process_return(&ctx(), &ret("o-29", "o-29-r1", "2", 1), Some(ReturnStyle::CancelAndResend))
        .await
        .unwrap();
    let mug_net = out.transaction.lines.iter().find(|l| l.line_id == LineId::new("2")).unwrap().net;
    assert_eq!(r.refunded, mug_net, "the refund is paid");
    assert_eq!(w.payment.refunds().get("o-29-r1"), Some(&mug_net));
    // The kept goods are booked at the nets paid, without claiming the coupon again.
    let (rest, cancelled) = w.provider.transaction(&TransactionId::new("o-29-r1")).unwrap();
    assert!(!cancelled);
    assert_eq!(rest.total.minor, out.charged.minor - mug_net.minor);
    assert!(!rest.offers_used.iter().any(|u| u.offer_id.as_str() == demo::COUPON_COFFEE20));
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)), 0);
    assert!(r.reinstated.contains(&OfferId::new(demo::COUPON_COFFEE20)), "{r:?}");
}

#[tokio::test]
async fn full_return_in_steps_refunds_exactly_what_was_paid() {
    let w = world();
    let out = w.complete(&order("o-21")).await;
    let mut total = 0;
    for (i, (line, qty)) in [("1", 1), ("2", 1), ("1", 1)].iter().enumerate() {
        let r = w
            .checkout
            .process_return(
                &ctx(),
                &ret("o-21", &format!("o-21-r{i}"), line, *qty),
                Some(ReturnStyle::PartialRefund),
            )
            .await
            .unwrap();
        total += r.refunded.minor;
    }
    assert_eq!(total, out.charged.minor);
    let paid_back: i64 = w.payment.refunds().values().map(|m| m.minor).sum();
    assert_eq!(paid_back, out.charged.minor, "what the payment service paid back");
    let err = w.checkout.process_return(&ctx(), &ret("o-21", "o-21-r9", "1", 1), None).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "lines[0].quantity"));
}

#[tokio::test]
async fn repeated_return_id_is_one_return() {
    let w = world();
    w.complete(&order("o-22")).await;
    let a = w
        .checkout
        .process_return(&ctx(), &ret("o-22", "o-22-r1", "2", 1), Some(ReturnStyle::PartialRefund))
        .await
        .unwrap();
    let b = w
        .checkout
        .process_return(&ctx(), &ret("o-22", "o-22-r1", "2", 1), Some(ReturnStyle::PartialRefund))
        .await
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(w.checkout.ledger(&TransactionId::new("o-22")).await.unwrap().unwrap().refunded, a.refunded);
}

#[tokio::test]
async fn resend_without_lines_reinstates_fully_returned_offers() {
    let w = world();
    w.complete(&order("o-23")).await;
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)), 1);
    let r = w
        .checkout
        .process_return(&ctx(), &ret("o-23", "o-23-r1", "1", 2), Some(ReturnStyle::ResendWithoutLines))
        .await
        .unwrap();
    assert_eq!(r.reinstated, vec![OfferId::new(demo::COUPON_COFFEE20)]);
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)), 0);
    let (amended, _) = w.provider.transaction(&TransactionId::new("o-23")).unwrap();
    assert_eq!(amended.lines.len(), 1, "the coffee line is gone");
    // The amended sale is the sale, paid as it was (its tender, scaled to what is kept).
    let methods: Vec<&str> = amended.payments.iter().map(|p| p.method.as_str()).collect();
    assert_eq!(methods, ["Card"]);
    assert_eq!(amended.payments[0].amount, amended.total);
}

/// A partial return gives the coffee coupon back (the amended sale no longer claims it); a
/// later order uses it again; the last return voids the first sale. The void must not give the
/// coupon back a second time (eating the later order's use).
#[tokio::test]
async fn a_coupon_given_back_by_a_partial_return_is_not_given_back_again_by_the_final_void() {
    let w = world();
    let coffee20 = OfferId::new(demo::COUPON_COFFEE20);
    let style = Some(ReturnStyle::ResendWithoutLines);
    let nok = |m| Money::new(m, loyalty_core::Currency::NOK);
    let basket = loyalty_core::Basket::new(loyalty_core::Currency::NOK)
        .with_line(loyalty_core::Line::new("1", demo::PRODUCT_COFFEE, Decimal::ONE, nok(12_900)))
        .with_line(loyalty_core::Line::new("2", demo::PRODUCT_MUG, Decimal::ONE, nok(19_900)));
    let order = |id: &str| CheckoutRequest::new(id, basket.clone()).identify(kari());
    let a = w.complete(&order("o-rv-a")).await;
    assert!(
        a.transaction.offers_used.iter().any(|u| u.offer_id == coffee20),
        "{:?}",
        a.transaction.offers_used
    );
    assert_eq!(w.provider.uses(&member(), &coffee20), 1);

    let r1 = w.checkout.process_return(&ctx(), &ret("o-rv-a", "o-rv-r1", "1", 1), style).await.unwrap();
    assert_eq!(r1.reinstated, vec![coffee20.clone()]);
    assert_eq!(w.provider.uses(&member(), &coffee20), 0);

    let b = w.complete(&order("o-rv-b")).await;
    assert!(b.transaction.offers_used.iter().any(|u| u.offer_id == coffee20));
    assert_eq!(w.provider.uses(&member(), &coffee20), 1);

    let r2 = w.checkout.process_return(&ctx(), &ret("o-rv-a", "o-rv-r2", "2", 1), style).await.unwrap();
    assert!(r2.reinstated.is_empty(), "{:?}", r2.reinstated);
    assert_eq!(w.provider.uses(&member(), &coffee20), 1, "o-rv-b's use was given back by the void of o-rv-a");
}

#[tokio::test]
async fn a_resend_without_lines_whose_reinstate_failed_gives_the_coupon_back_on_its_retry() {
    let w = world();
    w.complete(&order("o-28")).await;
    let request = ret("o-28", "o-28-r1", "1", 2);
    w.provider.fail_next(
        "redemptions.reinstate",
        Error::new(ErrorKind::Unavailable, "memory", "redemptions.reinstate"),
    );
    w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::ResendWithoutLines)).await.unwrap_err();
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)), 1, "not given back yet");
    // The amend reached the vendor: the next version must be newer than it.
    let ledger = w.checkout.ledger(&TransactionId::new("o-28")).await.unwrap().unwrap();
    assert_eq!(ledger.current.revision, 1);
    // The retry still knows the coupon is owed (it computed nothing to give back before).
    let r = w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::ResendWithoutLines)).await.unwrap();
    assert_eq!(r.reinstated, vec![OfferId::new(demo::COUPON_COFFEE20)]);
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)), 0);
    let (amended, _) = w.provider.transaction(&TransactionId::new("o-28")).unwrap();
    assert_eq!(amended.lines.len(), 1, "the coffee line is gone");
}

#[tokio::test]
async fn return_takes_back_stamps_earned_by_returned_units() {
    let w = world();
    let out = w.complete(&order("o-24")).await;
    let coffee = out.transaction.lines.iter().find(|l| l.line_id == LineId::new("1")).unwrap();
    assert_eq!(coffee.stamps, vec![(OfferId::new(demo::STAMP_COFFEE), 2)]);
    let r = w
        .checkout
        .process_return(&ctx(), &ret("o-24", "o-24-r1", "1", 1), Some(ReturnStyle::NegativeTransaction))
        .await
        .unwrap();
    assert_eq!(r.stamps_taken_back, 1);
    let (neg, _) = w.provider.transaction(&TransactionId::new("o-24-r1")).unwrap();
    assert!(neg.total.is_negative());
}

#[tokio::test]
async fn return_without_receipt_is_a_negative_transaction() {
    let w = world();
    let price = Money::new(19_900, loyalty_core::Currency::NOK);
    let line = TransactionLine::new("x", demo::PRODUCT_MUG, Decimal::ONE, price, price);
    let req =
        ReturnRequest::new(None, TransactionId::new("neg-1"), demo::start()).with_unreceipted_line(line);
    let r = w.checkout.process_return(&ctx(), &req, None).await.unwrap();
    assert_eq!(r.style, Some(ReturnStyle::NegativeTransaction));
    assert_eq!(r.refunded, price);
    let (neg, _) = w.provider.transaction(&TransactionId::new("neg-1")).unwrap();
    assert_eq!(neg.total.minor, -19_900);
}

#[tokio::test]
async fn failure_at_pricing_leaves_nothing_behind() {
    let w = world();
    // A line priced in another currency than the basket: the engine refuses it.
    let basket = demo::basket().with_line(loyalty_core::Line::new(
        "3",
        demo::PRODUCT_MUG,
        Decimal::ONE,
        Money::new(1_000, loyalty_core::Currency::EUR),
    ));
    let req = CheckoutRequest::new("o-price", basket).identify(kari());
    let err = w.checkout.complete(&ctx(), &req).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
    assert!(w.provider.open_holds().is_empty());
    assert_eq!(w.payment.authorized.load(Ordering::SeqCst), 0);
    assert_eq!(w.provider.transaction_count(), 0);
}

#[tokio::test]
async fn used_up_coupon_is_not_applied_and_says_why() {
    let w = world();
    // The single-use coupon is used up by an earlier order.
    w.complete(&order("o-first")).await;
    let out = w.complete(&order("o-second")).await;
    let refused = out
        .priced
        .not_applied
        .iter()
        .find(|n| n.offer_id.as_str() == demo::COUPON_SUMMER10)
        .expect("listed as not applied");
    assert_eq!(refused.reason, "no uses left");
    assert!(!out.transaction.offers_used.iter().any(|u| u.offer_id.as_str() == demo::COUPON_SUMMER10));
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_SUMMER10)), 1);
}

#[tokio::test]
async fn abort_releases_every_hold_even_when_one_release_fails() {
    let w = world();
    let p = w.checkout.prepare(&ctx(), &order("o-abort")).await.unwrap();
    assert_eq!(p.holds.len(), 3);
    w.provider.fail_next("holds.release", Error::new(ErrorKind::Unavailable, "memory", "holds.release"));
    let err = w.checkout.abort(&ctx(), &p).await.unwrap_err();
    assert_eq!(err.operation(), "checkout.abort");
    // The two other holds were released; the failed one lapses on its own expiry.
    assert_eq!(w.provider.open_holds().len(), 1);
    w.clock.advance(Duration::from_secs(15 * 60));
    assert!(w.provider.open_holds().is_empty());
}

#[tokio::test]
async fn committing_the_same_prepared_checkout_twice_charges_once_and_holds_nothing_new() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-30")).await.unwrap();
    let a = w.checkout.commit(&ctx(), &prepared).await.unwrap();
    let b = w.checkout.commit(&ctx(), &prepared).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(w.payment.captures(), 1);
    assert!(w.provider.open_holds().is_empty());
    // Preparing a committed transaction again would hold offers nobody settles: refused.
    let err = w.checkout.prepare(&ctx(), &order("o-30")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict);
    assert!(w.provider.open_holds().is_empty());
}

/// Two tabs of one order: the second changed the basket and paid. The first tab's "buy", with
/// the revision it showed, must not answer the other basket's sale as its own.
#[tokio::test]
async fn committing_a_stale_prepared_after_another_basket_was_charged_is_a_conflict() {
    let w = world();
    let tab1 = w
        .checkout
        .prepare(&ctx(), &CheckoutRequest::new("o-tabs", demo::basket()).identify(kari()))
        .await
        .unwrap();
    let mug_only = loyalty_core::Basket::new(loyalty_core::Currency::NOK).with_line(loyalty_core::Line::new(
        "2",
        demo::PRODUCT_MUG,
        Decimal::ONE,
        Money::new(19_900, loyalty_core::Currency::NOK),
    ));
    let tab2 =
        w.checkout.prepare(&ctx(), &CheckoutRequest::new("o-tabs", mug_only).identify(kari())).await.unwrap();
    assert!(tab2.revision > tab1.revision);
    let paid = w.checkout.commit(&ctx(), &tab2).await.unwrap().into_outcome().unwrap();
    assert_eq!(paid.charged, tab2.priced.total);
    let e = w.checkout.commit(&ctx(), &tab1).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Conflict, "{e}");
    assert!(e.message().contains(&format!("revision {}", tab2.revision)), "{e}");
    // The tab that paid still gets its result; one charge in all.
    assert_eq!(w.checkout.commit(&ctx(), &tab2).await.unwrap().into_outcome().unwrap(), paid);
    assert_eq!(w.payment.captures(), 1);
}

fn coffees(id: &str, quantity: Decimal) -> CheckoutRequest {
    let basket = loyalty_core::Basket::new(loyalty_core::Currency::NOK).with_line(loyalty_core::Line::new(
        "1",
        demo::PRODUCT_COFFEE,
        quantity,
        Money::new(12_900, loyalty_core::Currency::NOK),
    ));
    CheckoutRequest::new(id, basket).identify(kari())
}

/// The same purchase retried with its quantity written at another scale (`2.0` for `2`: a POS
/// rebuilding the request after a restart) is the same basket: the first result, one charge.
#[tokio::test]
async fn a_retry_with_the_same_quantity_at_another_scale_gets_the_first_result() {
    let w = world();
    let first = w.complete(&coffees("o-scale", Decimal::from(2))).await;
    let again = w.checkout.complete(&ctx(), &coffees("o-scale", Decimal::new(20, 1))).await.unwrap();
    assert_eq!(again.into_outcome().unwrap(), first);
    assert_eq!(w.payment.captures(), 1);
    // Another quantity is another basket.
    let other = w.checkout.complete(&ctx(), &coffees("o-scale", Decimal::new(25, 1))).await.unwrap_err();
    assert_eq!(other.kind(), &ErrorKind::Conflict, "{other}");
}

/// A record fingerprinted before quantities were taken by value (the request as written,
/// `2.0` and all) still matches its own retry.
#[test]
fn a_fingerprint_stored_from_the_request_as_written_still_matches_its_retry() {
    let request = coffees("o-old", Decimal::new(20, 1));
    let as_written =
        loyalty_core::checkout::fingerprint(&(&request.basket, &request.identify, &request.confirmed));
    assert_ne!(as_written, request.fingerprint());
    assert!(request.matches_fingerprint(&as_written));
    assert!(request.matches_fingerprint(&request.fingerprint()));
    assert!(!coffees("o-old", Decimal::from(3)).matches_fingerprint(&as_written));
}

#[tokio::test]
async fn pending_sale_survives_a_restart_in_the_checkout_store_with_its_holds() {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(TestPayment::default());
    let store = Arc::new(MemoryCheckoutStore::new());
    let first = Checkout::with_store(
        Arc::new(provider.clone()),
        payment.clone(),
        Arc::new(clock.clone()),
        store.clone(),
    );
    provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    let out = first.complete(&ctx(), &order("o-40")).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, Delivery::Pending { .. }));
    drop(first);
    // A new process on the same store: the outbox and the holds are still there.
    let restarted =
        Checkout::with_store(Arc::new(provider.clone()), payment.clone(), Arc::new(clock.clone()), store);
    let record = restarted.status(&TransactionId::new("o-40")).await.unwrap().unwrap();
    assert_eq!(record.holds.len(), 3, "the holds of the pending sale are remembered");
    let results = restarted.resend_pending(&ctx()).await;
    assert_eq!(results.len(), 1);
    assert!(matches!(results[0].1, Ok(Delivery::Sent(ref r)) if r.outcome == SendOutcome::Recorded));
    assert_eq!(provider.transaction_count(), 1);
    assert_eq!(payment.captures(), 1, "charged once, before the restart");
    // Completing the order again in the new process returns the delivered outcome.
    let again = restarted.complete(&ctx(), &order("o-40")).await.unwrap().into_outcome().unwrap();
    assert!(matches!(again.delivery, Delivery::Sent(_)));
    assert_eq!(payment.captures(), 1);
}

async fn coffee_stamps(w: &World) -> u32 {
    let offers = w.provider.offers().unwrap().list(&ctx(), Some(&member()), None).await.unwrap();
    offers
        .iter()
        .find_map(|o| match &o.kind {
            loyalty_core::OfferKind::StampCard(c) if o.id.as_str() == demo::STAMP_COFFEE => Some(c.collected),
            _ => None,
        })
        .unwrap()
}

#[tokio::test]
async fn every_return_style_takes_back_the_stamps_of_returned_units() {
    // A basket of coffees only, so no stamp reward is involved: 4 + 1 = 5 stamps after the sale.
    for style in [
        ReturnStyle::CancelAndResend,
        ReturnStyle::PartialRefund,
        ReturnStyle::ResendWithoutLines,
        ReturnStyle::NegativeTransaction,
    ] {
        let w = world();
        let basket =
            loyalty_core::Basket::new(loyalty_core::Currency::NOK).with_line(loyalty_core::Line::new(
                "1",
                demo::PRODUCT_COFFEE,
                Decimal::ONE,
                Money::new(12_900, loyalty_core::Currency::NOK),
            ));
        let id = format!("o-stamps-{style:?}");
        w.checkout
            .complete(&ctx(), &CheckoutRequest::new(id.as_str(), basket).identify(kari()))
            .await
            .unwrap();
        assert_eq!(coffee_stamps(&w).await, 5, "{style:?}: the sale earned a stamp");
        let r = w
            .checkout
            .process_return(&ctx(), &ret(&id, &format!("{id}-r"), "1", 1), Some(style))
            .await
            .unwrap();
        assert_eq!(r.stamps_taken_back, 1, "{style:?}");
        assert_eq!(coffee_stamps(&w).await, 4, "{style:?}: the stamp went back with the coffee");
    }
}

#[tokio::test]
async fn confirmed_coupon_the_guest_does_not_have_is_reported_not_dropped_silently() {
    let w = world();
    let req = CheckoutRequest::new("o-50", demo::basket()).confirm(demo::COUPON_SUMMER10);
    let out = w.complete(&req).await;
    assert!(
        out.notes
            .iter()
            .any(|n| n == &format!("offer {}: not offered to this customer", demo::COUPON_SUMMER10)),
        "{:?}",
        out.notes
    );
    assert_eq!(out.priced.total_discount.minor, 0);
}

#[tokio::test]
async fn permanent_refusal_after_charge_is_reported_not_kept_for_resend() {
    let w = world();
    w.provider.fail_next(
        "transactions.send",
        Error::invalid("memory", "transactions.send", "lines[0].net", "does not add up"),
    );
    let out = w.complete(&order("o-60")).await;
    assert!(
        matches!(out.delivery, Delivery::Refused { ref reason } if reason.contains("lines[0].net")),
        "{:?}",
        out.delivery
    );
    assert!(w.checkout.pending().await.unwrap().is_empty(), "a resend would be refused again");
    assert_eq!(w.payment.captures(), 1, "the sale stands");
    assert!(w.provider.open_holds().is_empty(), "holds are released");
}

#[tokio::test]
async fn a_send_refused_for_credentials_or_configuration_stays_in_the_outbox() {
    let w = world();
    for (i, kind) in
        [ErrorKind::Unauthorized, ErrorKind::Forbidden, ErrorKind::NotFound].into_iter().enumerate()
    {
        let id = format!("o-61-{i}");
        w.provider.fail_next("transactions.send", Error::new(kind.clone(), "memory", "transactions.send"));
        let out = w.complete(&order(&id)).await;
        assert!(matches!(out.delivery, Delivery::Pending { .. }), "{kind:?}: {:?}", out.delivery);
        assert!(w.checkout.pending().await.unwrap().contains(&TransactionId::new(id.as_str())), "{kind:?}");
    }
    // The credentials are mended: every sale reaches the vendor.
    let results = w.checkout.resend_pending(&ctx()).await;
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|(_, r)| matches!(r, Ok(Delivery::Sent(_)))), "{results:?}");
    assert_eq!(w.provider.transaction_count(), 3);
    assert!(w.checkout.pending().await.unwrap().is_empty());
}

/// Commits `id` with the payment asking for 3-D Secure, and the customer completing it.
async fn commit_through_3ds(w: &World, id: &str) -> Prepared {
    w.payment.answer_next(NextAnswer::ThreeDSecure);
    let prepared = w.checkout.prepare(&ctx(), &order(id)).await.unwrap();
    let waiting = w.checkout.commit(&ctx(), &prepared).await.unwrap();
    assert!(matches!(waiting, Completion::ActionRequired { .. }), "{waiting:?}");
    w.payment.complete_action(&TransactionId::new(id));
    prepared
}

#[tokio::test]
async fn a_3ds_payment_completed_by_the_customer_is_captured_once_and_sent() {
    let w = world();
    let prepared = commit_through_3ds(&w, "o-70").await;
    let out = w.checkout.confirm_payment(&ctx(), &TransactionId::new("o-70")).await.unwrap();
    let out = out.into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
    assert_eq!(w.payment.captures(), 1);
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn a_3ds_payment_the_service_cannot_answer_about_stays_waiting() {
    let w = world();
    let prepared = commit_through_3ds(&w, "o-71").await;
    *w.payment.resume_down.lock().unwrap() = true;
    let err = w.checkout.confirm_payment(&ctx(), &TransactionId::new("o-71")).await.unwrap_err();
    assert!(err.is_temporary(), "{err}");
    assert!(w.payment.voided().is_empty(), "an approved payment is not voided for a network fault");
    assert_eq!(w.provider.open_holds().len(), prepared.holds.len());
    *w.payment.resume_down.lock().unwrap() = false;
    let out = w.checkout.confirm_payment(&ctx(), &TransactionId::new("o-71")).await.unwrap();
    assert_eq!(out.into_outcome().unwrap().charged, prepared.priced.total);
    assert_eq!(w.payment.captures(), 1);
}

#[tokio::test]
async fn a_3ds_approval_for_less_than_the_total_is_not_captured() {
    let w = world();
    commit_through_3ds(&w, "o-72").await;
    *w.payment.approve_short_by.lock().unwrap() = 100;
    let err = w.checkout.confirm_payment(&ctx(), &TransactionId::new("o-72")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert_eq!(w.payment.captures(), 0, "a partial approval is never captured");
    assert_eq!(w.payment.voided().len(), 1);
    assert!(w.provider.open_holds().is_empty());
    assert_eq!(w.provider.transaction_count(), 0);
}

#[tokio::test]
async fn an_authorization_whose_void_failed_is_kept_and_voided_by_the_tick() {
    let w = world();
    commit_through_3ds(&w, "o-73").await;
    *w.payment.approve_short_by.lock().unwrap() = 100;
    *w.payment.void_down.lock().unwrap() = true;
    let order_id = TransactionId::new("o-73");
    w.checkout.confirm_payment(&ctx(), &order_id).await.unwrap_err();
    assert!(w.payment.voided().is_empty());
    // Still recorded (it was dropped, the customer's funds reserved until the bank let go).
    let rec = w.checkout.status(&order_id).await.unwrap().unwrap();
    assert!(rec.authorization.is_some(), "{rec:?}");
    *w.payment.void_down.lock().unwrap() = false;
    w.clock.advance(Duration::from_secs(60));
    w.checkout.tick(&ctx()).await.unwrap();
    assert_eq!(w.payment.voided().len(), 1);
    assert!(w.checkout.status(&order_id).await.unwrap().unwrap().authorization.is_none());
    assert_eq!(w.payment.captures(), 0);
}

#[tokio::test]
async fn an_authorization_left_by_a_price_change_at_the_3ds_return_is_voided_by_the_tick() {
    let w = world();
    commit_through_3ds(&w, "o-75").await;
    let order_id = TransactionId::new("o-75");
    // While the customer is at the bank, the hold lapses and another order uses the coupon.
    w.clock.advance(Duration::from_secs(16 * 60));
    let other = CheckoutRequest::new("o-75b", demo::basket()).identify(kari()).confirm(demo::COUPON_SUMMER10);
    w.payment.answer_next(NextAnswer::Approve);
    w.complete(&other).await;
    let voids_before = w.payment.voided().len();
    *w.payment.void_down.lock().unwrap() = true;
    let change = w.checkout.confirm_payment(&ctx(), &order_id).await.unwrap();
    assert!(matches!(change, Completion::PriceChanged(_)), "{change:?}");
    let rec = w.checkout.status(&order_id).await.unwrap().unwrap();
    assert!(rec.authorization.is_some(), "kept while its void fails");
    // The customer walks away; the tick voids it once the service answers.
    *w.payment.void_down.lock().unwrap() = false;
    w.checkout.tick(&ctx()).await.unwrap();
    assert_eq!(w.payment.voided().len(), voids_before + 1);
    assert!(w.checkout.status(&order_id).await.unwrap().unwrap().authorization.is_none());
    assert_eq!(w.payment.captures(), 1, "only the other order's");
}

#[tokio::test]
async fn a_new_attempt_after_a_decline_whose_void_failed_voids_the_old_authorization_first() {
    let w = world();
    let prepared = commit_through_3ds(&w, "o-74").await;
    *w.payment.approve_short_by.lock().unwrap() = 100;
    *w.payment.void_down.lock().unwrap() = true;
    let order_id = TransactionId::new("o-74");
    w.checkout.confirm_payment(&ctx(), &order_id).await.unwrap_err();
    *w.payment.approve_short_by.lock().unwrap() = 0;
    w.payment.answer_next(NextAnswer::Approve);
    // While the old authorization cannot be voided, a new attempt would forget it: refused,
    // nothing charged, the old one still recorded.
    let err = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert_eq!(err.effect(), loyalty_core::WriteEffect::NotSent, "{err}");
    assert!(w.checkout.status(&order_id).await.unwrap().unwrap().authorization.is_some());
    assert_eq!(w.payment.captures(), 0);
    *w.payment.void_down.lock().unwrap() = false;
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
    assert_eq!(w.payment.voided().len(), 1, "the declined attempt's authorization");
    assert_eq!(w.payment.captures(), 1);
}

#[tokio::test]
async fn a_cancel_and_resend_return_whose_resend_failed_is_finished_by_its_retry() {
    let w = world();
    let out = w.complete(&order("o-24")).await;
    let request = ret("o-24", "o-24-r1", "2", 1);
    w.provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::CancelAndResend)).await.unwrap_err();
    assert!(w.provider.transaction(&TransactionId::new("o-24")).unwrap().1, "the cancel went through");
    let ledger = w.checkout.ledger(&TransactionId::new("o-24")).await.unwrap().unwrap();
    assert!(ledger.current_cancelled, "the ledger knows");
    // The send's outcome is unknown: the return stays marked, its lease over, for a resumed retry.
    assert_eq!(ledger.in_progress, Some(TransactionId::new("o-24-r1")));
    assert!(ledger.under_way.as_ref().is_some_and(|u| u.until <= w.clock.now()));
    // The retry does not cancel again (the memory provider refuses a second cancel): it sends
    // what is kept and refunds once.
    let r = w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::CancelAndResend)).await.unwrap();
    let mug_net = out.transaction.lines.iter().find(|l| l.line_id == LineId::new("2")).unwrap().net;
    assert_eq!(r.refunded, mug_net);
    let (rest, cancelled) = w.provider.transaction(&TransactionId::new("o-24-r1")).unwrap();
    assert!(!cancelled);
    assert_eq!(rest.total.minor, out.charged.minor - mug_net.minor);
    assert_eq!(w.payment.refunds().get("o-24-r1"), Some(&mug_net));
    // A later return cancels the remainder, the live version now.
    w.checkout
        .process_return(&ctx(), &ret("o-24", "o-24-r2", "1", 1), Some(ReturnStyle::CancelAndResend))
        .await
        .unwrap();
    assert!(w.provider.transaction(&TransactionId::new("o-24-r1")).unwrap().1);
}

#[tokio::test]
async fn a_return_whose_cancel_reply_was_lost_is_finished_by_its_retry() {
    let w = world();
    let out = w.complete(&order("o-26")).await;
    let request = ret("o-26", "o-26-r1", "2", 1);
    // The vendor takes the cancel, but its reply is lost: the return sees a timeout.
    w.provider.transactions().unwrap().cancel(&ctx(), &out.transaction, None).await.unwrap();
    w.provider.fail_next(
        "transactions.cancel",
        Error::new(ErrorKind::Unavailable, "memory", "transactions.cancel"),
    );
    let err =
        w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::CancelAndResend)).await.unwrap_err();
    assert_eq!(err.effect(), loyalty_core::WriteEffect::Unknown);
    // The retry repeats the cancel, takes the vendor's refusal of a second one as done, sends
    // what is kept and pays the refund (it failed for ever with Conflict before).
    let r = w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::CancelAndResend)).await.unwrap();
    let mug_net = out.transaction.lines.iter().find(|l| l.line_id == LineId::new("2")).unwrap().net;
    assert_eq!(r.refunded, mug_net);
    assert_eq!(r.new_transaction, Some(TransactionId::new("o-26-r1")));
    assert_eq!(w.payment.refunds().get("o-26-r1"), Some(&mug_net));
    let ledger = w.checkout.ledger(&TransactionId::new("o-26")).await.unwrap().unwrap();
    assert!(ledger.in_progress.is_none() && ledger.under_way.is_none());
}

#[tokio::test]
async fn a_return_refused_for_good_is_not_left_under_way() {
    let w = world();
    w.complete(&order("o-27")).await;
    let request = ret("o-27", "o-27-r1", "2", 1);
    w.provider
        .fail_next("transactions.cancel", Error::new(ErrorKind::Rejected, "memory", "transactions.cancel"));
    let err =
        w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::CancelAndResend)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Rejected);
    let ledger = w.checkout.ledger(&TransactionId::new("o-27")).await.unwrap().unwrap();
    assert!(ledger.in_progress.is_none() && !ledger.current_cancelled);
}

#[tokio::test]
async fn a_return_resumed_after_its_instance_died_past_the_cancel_is_finished() {
    let store = Arc::new(MemoryCheckoutStore::new());
    let w = world_on(store.clone());
    let out = w.complete(&order("o-25")).await;
    let request = ret("o-25", "o-25-r1", "2", 1);
    // The dead instance marked the return, cancelled the original, and died before recording.
    let mut ledger = ReturnLedger::new(out.transaction.clone());
    ledger.in_progress = Some(TransactionId::new("o-25-r1"));
    assert!(store.save_ledger(&ledger, None).await.unwrap().is_some());
    w.provider.transactions().unwrap().cancel(&ctx(), &out.transaction, None).await.unwrap();
    let r = w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::CancelAndResend)).await.unwrap();
    assert_eq!(r.new_transaction, Some(TransactionId::new("o-25-r1")));
    assert!(
        w.provider.transaction(&TransactionId::new("o-25-r1")).is_some(),
        "what is kept reached the vendor"
    );
    // A return that was not under way still gets the vendor's refusal of a second cancel.
    let fresh = ret("o-25", "o-25-r2", "1", 1);
    let other = w.checkout.ledger(&TransactionId::new("o-25")).await.unwrap().unwrap();
    assert!(!other.current_cancelled);
    w.provider.transactions().unwrap().cancel(&ctx(), &other.current, None).await.unwrap();
    let err =
        w.checkout.process_return(&ctx(), &fresh, Some(ReturnStyle::CancelAndResend)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
}

/// The ledger and record an instance leaves when it stops in the middle of return `id` of
/// `out`'s order, its lease ending a minute from now.
async fn return_left_under_way(w: &World, store: &MemoryCheckoutStore, out: &CheckoutOutcome, id: &str) {
    let order_id = out.transaction.id.clone();
    let until = w.clock.now() + chrono::Duration::minutes(1);
    let mut ledger = ReturnLedger::new(out.transaction.clone());
    ledger.authorization = w.checkout.status(&order_id).await.unwrap().unwrap().authorization;
    ledger.in_progress = Some(TransactionId::new(id));
    ledger.under_way = Some(ReturnUnderWay::new(ret(order_id.as_str(), id, "2", 1), None, until));
    assert!(store.save_ledger(&ledger, None).await.unwrap().is_some());
    let stored = store.load(&order_id).await.unwrap().unwrap();
    let mut rec = stored.value;
    rec.due_at = Some(until);
    assert!(store.save(&rec, Some(stored.version)).await.unwrap().is_some());
}

#[tokio::test]
async fn a_return_whose_instance_stopped_is_finished_by_the_background_work() {
    let store = Arc::new(MemoryCheckoutStore::new());
    let w = world_on(store.clone());
    let out = w.complete(&order("o-87")).await;
    return_left_under_way(&w, &store, &out, "o-87-r1").await;
    // While its lease lasts, another return of the order waits (temporary), it does not
    // start beside it.
    let err = w.checkout.process_return(&ctx(), &ret("o-87", "o-87-r2", "1", 1), None).await.unwrap_err();
    assert_eq!((err.kind(), err.is_temporary()), (&ErrorKind::Unavailable, true), "{err}");
    w.clock.advance(Duration::from_secs(2 * 60));
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    let ledger = w.checkout.ledger(&TransactionId::new("o-87")).await.unwrap().unwrap();
    assert!(ledger.processed.contains_key(&TransactionId::new("o-87-r1")), "{ledger:?}");
    assert!(ledger.in_progress.is_none() && ledger.under_way.is_none());
    let mug_net = out.transaction.lines.iter().find(|l| l.line_id == LineId::new("2")).unwrap().net;
    assert_eq!(w.payment.refunds().get("o-87-r1"), Some(&mug_net), "the refund is paid");
    assert_eq!(w.checkout.status(&TransactionId::new("o-87")).await.unwrap().unwrap().due_at, None);
    // The next return goes through.
    w.checkout.process_return(&ctx(), &ret("o-87", "o-87-r2", "1", 1), None).await.unwrap();
}

#[tokio::test]
async fn a_return_asked_after_a_stopped_one_finishes_that_one_first() {
    let store = Arc::new(MemoryCheckoutStore::new());
    let w = world_on(store.clone());
    let out = w.complete(&order("o-88")).await;
    return_left_under_way(&w, &store, &out, "o-88-r1").await;
    w.clock.advance(Duration::from_secs(2 * 60));
    w.checkout.process_return(&ctx(), &ret("o-88", "o-88-r2", "1", 1), None).await.unwrap();
    let ledger = w.checkout.ledger(&TransactionId::new("o-88")).await.unwrap().unwrap();
    for id in ["o-88-r1", "o-88-r2"] {
        assert!(ledger.processed.contains_key(&TransactionId::new(id)), "{id}: {ledger:?}");
        assert!(ledger.refunds_paid.contains(&TransactionId::new(id)), "{id}");
    }
}

#[tokio::test]
async fn a_customer_whose_card_was_declined_can_pay_the_same_order_again() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-26")).await.unwrap();
    w.payment.answer_next(NextAnswer::Decline);
    let err = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Rejected);
    // Another card: the payment service keeps the first key's decline, so the retry is a new
    // attempt of the same order.
    w.payment.answer_next(NextAnswer::Approve);
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
    assert_eq!(w.payment.captured_total(&TransactionId::new("o-26")), Some(prepared.priced.total));
    assert_eq!(w.provider.transaction_count(), 1);
}

/// A store whose claims (and, once, a load) hand back copies read earlier: the records as they
/// stood before another instance changed them.
#[derive(Debug, Default)]
struct StaleClaims {
    inner: MemoryCheckoutStore,
    stale: Mutex<Vec<loyalty_core::checkout::Stored<loyalty_core::checkout::CheckoutRecord>>>,
    stale_load: Mutex<Option<loyalty_core::checkout::Stored<loyalty_core::checkout::CheckoutRecord>>>,
}

#[async_trait]
impl CheckoutStore for StaleClaims {
    async fn load(
        &self,
        order: &TransactionId,
    ) -> loyalty_core::Result<Option<loyalty_core::checkout::Stored<loyalty_core::checkout::CheckoutRecord>>>
    {
        if let Some(stale) = self.stale_load.lock().unwrap().take() {
            return Ok(Some(stale));
        }
        self.inner.load(order).await
    }
    async fn save(
        &self,
        record: &loyalty_core::checkout::CheckoutRecord,
        expected: Option<u64>,
    ) -> loyalty_core::Result<Option<u64>> {
        self.inner.save(record, expected).await
    }
    async fn claim(
        &self,
        claim: &loyalty_core::checkout::Claim,
        now: chrono::DateTime<chrono::Utc>,
    ) -> loyalty_core::Result<Vec<loyalty_core::checkout::Stored<loyalty_core::checkout::CheckoutRecord>>>
    {
        let mut out = self.inner.claim(claim, now).await?;
        out.extend(std::mem::take(&mut *self.stale.lock().unwrap()));
        Ok(out)
    }
    async fn list(
        &self,
        states: &[loyalty_core::checkout::CheckoutState],
    ) -> loyalty_core::Result<Vec<loyalty_core::checkout::CheckoutRecord>> {
        self.inner.list(states).await
    }
    async fn load_ledger(
        &self,
        original: &TransactionId,
    ) -> loyalty_core::Result<Option<loyalty_core::checkout::Stored<ReturnLedger>>> {
        self.inner.load_ledger(original).await
    }
    async fn load_return_without_receipt(
        &self,
        return_id: &TransactionId,
    ) -> loyalty_core::Result<
        Option<loyalty_core::checkout::Stored<loyalty_core::returns::ReturnWithoutReceipt>>,
    > {
        self.inner.load_return_without_receipt(return_id).await
    }
    async fn save_return_without_receipt(
        &self,
        record: &loyalty_core::returns::ReturnWithoutReceipt,
        expected: Option<u64>,
    ) -> loyalty_core::Result<Option<u64>> {
        self.inner.save_return_without_receipt(record, expected).await
    }
    async fn save_ledger(
        &self,
        ledger: &ReturnLedger,
        expected: Option<u64>,
    ) -> loyalty_core::Result<Option<u64>> {
        self.inner.save_ledger(ledger, expected).await
    }
    async fn load_reply(
        &self,
        key: &str,
    ) -> loyalty_core::Result<Option<loyalty_core::checkout::Stored<loyalty_core::checkout::StoredReply>>>
    {
        self.inner.load_reply(key).await
    }
    async fn save_reply(
        &self,
        reply: &loyalty_core::checkout::StoredReply,
        expected: Option<u64>,
    ) -> loyalty_core::Result<Option<u64>> {
        self.inner.save_reply(reply, expected).await
    }
    async fn reserve_id(
        &self,
        id: &TransactionId,
        usage: &loyalty_core::checkout::IdUse,
    ) -> loyalty_core::Result<loyalty_core::checkout::IdUse> {
        self.inner.reserve_id(id, usage).await
    }
}

#[tokio::test]
async fn a_tick_acts_on_the_order_as_it_stands_not_on_the_copy_it_claimed() {
    let store = Arc::new(StaleClaims::default());
    let w = world_on(store.clone());
    let order_id = TransactionId::new("o-80");
    commit_through_3ds(&w, "o-80").await;
    // The tick claims the waiting payment; before it gets to it, the customer's confirmation
    // finishes the sale.
    let claimed = store.load(&order_id).await.unwrap().unwrap();
    w.checkout.confirm_payment(&ctx(), &order_id).await.unwrap().into_outcome().unwrap();
    w.clock.advance(Duration::from_secs(3600));
    store.stale.lock().unwrap().push(claimed);
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert!(report.released.is_empty(), "{report:?}");
    assert!(w.payment.voided().is_empty(), "the paid order's authorization is left alone");
    assert_eq!(w.payment.captures(), 1);
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn a_second_confirmation_that_read_the_waiting_payment_returns_the_first_ones_result() {
    let store = Arc::new(StaleClaims::default());
    let w = world_on(store.clone());
    let order_id = TransactionId::new("o-89");
    commit_through_3ds(&w, "o-89").await;
    // Another instance read the order while it waited for the customer; the customer's first
    // confirmation (a double click, two tabs) then finished the sale here.
    let read_by_other = store.load(&order_id).await.unwrap().unwrap();
    let first = w.checkout.confirm_payment(&ctx(), &order_id).await.unwrap().into_outcome().unwrap();
    *store.stale_load.lock().unwrap() = Some(read_by_other);
    // Its write of "charging" loses; it answers the order as it stands (was Conflict).
    let second = w.checkout.confirm_payment(&ctx(), &order_id).await.unwrap().into_outcome().unwrap();
    assert_eq!(first, second);
    assert_eq!(w.payment.captures(), 1);
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn a_timed_out_payment_confirmed_meanwhile_is_not_voided_by_the_tick() {
    let store = Arc::new(StaleClaims::default());
    let w = world_on(store.clone());
    let order_id = TransactionId::new("o-84");
    commit_through_3ds(&w, "o-84").await;
    // The tick (another instance) reads the waiting payment after its timeout; before it
    // writes anything, the customer's confirmation finishes the sale.
    w.clock.advance(Duration::from_secs(31 * 60));
    let read_by_tick = store.load(&order_id).await.unwrap().unwrap();
    w.checkout.confirm_payment(&ctx(), &order_id).await.unwrap().into_outcome().unwrap();
    store.stale.lock().unwrap().push(read_by_tick.clone());
    *store.stale_load.lock().unwrap() = Some(read_by_tick);
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.problems.is_empty() && report.released.is_empty(), "{report:?}");
    assert!(w.payment.voided().is_empty(), "the captured authorization is not voided");
    assert_eq!(w.payment.captures(), 1);
    let rec = w.checkout.status(&order_id).await.unwrap().unwrap();
    assert_eq!(rec.state, loyalty_core::checkout::CheckoutState::Sent);
}

#[tokio::test]
async fn a_tick_releasing_lapsed_holds_loses_to_a_commit_that_took_them_again() {
    let store = Arc::new(StaleClaims::default());
    let w = world_on(store.clone());
    let order_id = TransactionId::new("o-85");
    let prepared = w.checkout.prepare(&ctx(), &order("o-85")).await.unwrap();
    assert!(!prepared.holds.is_empty());
    w.clock.advance(Duration::from_secs(16 * 60));
    // The tick reads the order with its lapsed holds; the customer's commit then takes them
    // again and sells.
    let read_by_tick = store.load(&order_id).await.unwrap().unwrap();
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert!(out.charged.minor > 0);
    store.stale.lock().unwrap().push(read_by_tick.clone());
    *store.stale_load.lock().unwrap() = Some(read_by_tick);
    let report = w.checkout.tick(&ctx()).await.unwrap();
    // Nothing released under the sale: the tick's first write lost, so it stopped there.
    assert!(report.problems.is_empty() && report.released.is_empty(), "{report:?}");
    let rec = w.checkout.status(&order_id).await.unwrap().unwrap();
    assert_eq!(rec.state, loyalty_core::checkout::CheckoutState::Sent);
}

#[tokio::test]
async fn a_pending_sale_another_instance_is_sending_is_not_sent_again() {
    let store = Arc::new(StaleClaims::default());
    let w = world_on(store.clone());
    w.provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    let out = w.complete(&order("o-86")).await;
    assert!(matches!(out.delivery, Delivery::Pending { .. }));
    let order_id = TransactionId::new("o-86");
    w.clock.advance(Duration::from_secs(3600));
    // This tick reads the due sale; another instance (its batch claim overlapping) took the
    // send first: it wrote its lease and is talking to the vendor.
    let read_by_tick = store.load(&order_id).await.unwrap().unwrap();
    let mut sending = read_by_tick.value.clone();
    sending.due_at = Some(w.clock.now() + chrono::Duration::minutes(1));
    store.save(&sending, Some(read_by_tick.version)).await.unwrap().expect("the other send's lease");
    store.stale.lock().unwrap().push(read_by_tick.clone());
    *store.stale_load.lock().unwrap() = Some(read_by_tick);
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.problems.is_empty() && report.sent.is_empty(), "{report:?}");
    assert_eq!(w.provider.transaction_count(), 0, "only the instance holding the lease sends");
}

#[tokio::test]
async fn an_abort_that_loses_to_a_commit_releases_nothing() {
    let store = Arc::new(StaleClaims::default());
    let w = world_on(store.clone());
    let prepared = w.checkout.prepare(&ctx(), &order("o-81")).await.unwrap();
    let order_id = TransactionId::new("o-81");
    // The abort reads the order as prepared; meanwhile another instance's commit wins the
    // write to charging and goes on with the holds.
    let read_by_abort = store.load(&order_id).await.unwrap().unwrap();
    let mut charging = read_by_abort.value.clone();
    charging.state = loyalty_core::checkout::CheckoutState::Charging;
    charging.due_at = Some(w.clock.now() + chrono::Duration::minutes(1));
    store.save(&charging, Some(read_by_abort.version)).await.unwrap().expect("the commit's write");
    *store.stale_load.lock().unwrap() = Some(read_by_abort);
    let err = w.checkout.abort(&ctx(), &prepared).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert_eq!(w.provider.open_holds().len(), prepared.holds.len(), "the commit's holds stay");
}

#[tokio::test]
async fn an_offer_the_engine_cannot_price_is_set_aside_and_the_sale_goes_on() {
    let w = world();
    let euro = loyalty_core::Offer::new(
        "c-eur",
        "5 EUR off",
        loyalty_core::OfferKind::Coupon {
            discount: loyalty_core::Discount::Fixed(Money::new(500, loyalty_core::Currency::EUR)),
            scope: loyalty_core::Scope::Basket,
        },
    );
    w.provider.add_offer(euro, None);
    let request = order("o-90").confirm("c-eur");
    let prepared = w.checkout.prepare(&ctx(), &request).await.unwrap();
    assert!(
        prepared.notes.iter().any(|n| n.starts_with("offer c-eur: cannot be applied") && n.contains("EUR")),
        "{:?}",
        prepared.notes
    );
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
    assert!(out.applied_offers.iter().all(|o| o.id.as_str() != "c-eur"));
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn a_charge_resumed_long_after_checks_its_offers_again_before_charging() {
    let w = world();
    *w.payment.authorize_down.lock().unwrap() = true;
    let prepared = w.checkout.prepare(&ctx(), &order("o-91")).await.unwrap();
    w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    // The holds lapse; the same member's other order takes the single-use coupon meanwhile.
    w.clock.advance(Duration::from_secs(16 * 60));
    *w.payment.authorize_down.lock().unwrap() = false;
    w.complete(&order("o-91b")).await;
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert_eq!(report.recovered, vec![TransactionId::new("o-91")], "{report:?}");
    assert_eq!(w.payment.captured_total(&TransactionId::new("o-91")), None, "not charged at the old price");
    let retry = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert_eq!(retry.kind(), &ErrorKind::Conflict, "priced again: {retry}");
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn a_hold_about_to_lapse_is_taken_again_before_the_charge() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-92")).await.unwrap();
    let first: Vec<_> = w.provider.open_holds().into_iter().map(|h| h.expires_at).collect();
    // 30 s of the 15 minutes left: the charge and the send could outlast it.
    w.clock.advance(Duration::from_secs(15 * 60 - 30));
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
    let claimed: Vec<_> = out.transaction.holds.iter().map(|h| h.expires_at).collect();
    assert!(!claimed.is_empty());
    assert!(claimed.iter().all(|e| !first.contains(e)), "fresh holds: {claimed:?} vs {first:?}");
}

fn unrecognising_world() -> World {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(TestPayment::default());
    let checkout = Checkout::new(
        Arc::new(provider.redeclared(|c| c.resend = loyalty_core::Resend::Unrecognised)),
        payment.clone(),
        Arc::new(clock.clone()),
    );
    World { provider, clock, payment, checkout }
}

#[tokio::test]
async fn a_send_of_unknown_outcome_is_not_repeated_where_a_repeat_would_be_a_second_sale() {
    let w = unrecognising_world();
    w.provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    let out = w.complete(&order("o-93")).await;
    let Delivery::Pending { reason } = &out.delivery else { panic!("{:?}", out.delivery) };
    assert!(reason.contains("check whether"), "{reason}");
    // Hours of background work: never sent again on its own.
    for _ in 0..5 {
        w.clock.advance(Duration::from_secs(3600));
        let report = w.checkout.tick(&ctx()).await.unwrap();
        assert!(report.sent.is_empty() && report.still_pending.is_empty(), "{report:?}");
    }
    assert_eq!(
        w.checkout.pending().await.unwrap(),
        vec![TransactionId::new("o-93")],
        "listed for the operator"
    );
    // The operator checked the vendor and resends: sent once.
    let results = w.checkout.resend_pending(&ctx()).await;
    assert!(matches!(results[..], [(_, Ok(Delivery::Sent(_)))]), "{results:?}");
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn a_send_that_surely_never_left_is_repeated_by_the_background_work_even_there() {
    let w = unrecognising_world();
    w.provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::Unavailable, "memory", "transactions.send")
            .with_effect(loyalty_core::WriteEffect::NotSent),
    );
    let out = w.complete(&order("o-94")).await;
    assert!(matches!(out.delivery, Delivery::Pending { .. }), "{:?}", out.delivery);
    w.clock.advance(Duration::from_secs(3600));
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert_eq!(report.sent, vec![TransactionId::new("o-94")], "{report:?}");
    assert_eq!(w.provider.transaction_count(), 1);
}

#[tokio::test]
async fn a_refused_sale_whose_hold_release_failed_is_due_until_released_then_not_again() {
    let w = world();
    w.provider.fail_next(
        "transactions.send",
        Error::invalid("memory", "transactions.send", "lines[0].net", "does not add up"),
    );
    w.provider.fail_next("holds.release", Error::new(ErrorKind::Unavailable, "memory", "holds.release"));
    let out = w.complete(&order("o-95")).await;
    assert!(matches!(out.delivery, Delivery::Refused { .. }), "{:?}", out.delivery);
    // The next tick releases the hold left over; the order (which keeps its captured
    // authorization for refunds) is then due no more.
    let first = w.checkout.tick(&ctx()).await.unwrap();
    assert_eq!(first.released, vec![TransactionId::new("o-95")], "{first:?}");
    let second = w.checkout.tick(&ctx()).await.unwrap();
    assert!(second.released.is_empty(), "{second:?}");
    assert!(w.checkout.status(&TransactionId::new("o-95")).await.unwrap().unwrap().due_at.is_none());
}

#[tokio::test]
async fn order_and_return_ids_a_store_or_vendor_cannot_keep_are_refused_before_anything_happens() {
    let w = world();
    for (id, why) in [("", "empty"), ("o-\u{0}1", "control"), (&"o".repeat(256) as &str, "255 bytes")] {
        let err = w.checkout.prepare(&ctx(), &order(id)).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "transaction_id"),
            "{id:?}: {err}"
        );
        assert!(err.to_string().contains(why), "{err}");
        let err = w.checkout.complete(&ctx(), &order(id)).await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
    }
    assert!(w.provider.open_holds().is_empty(), "nothing was held");
    w.complete(&order("o-89")).await;
    let err = w.checkout.process_return(&ctx(), &ret("o-89", "r\n1", "2", 1), None).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "return_id"), "{err}");
    // 255 bytes is still an id.
    w.checkout.prepare(&ctx(), &order(&"o".repeat(255))).await.unwrap();
}

/// The record an instance leaves when it dies charging `order`, its lease written an hour ahead
/// of the clock as it now stands (the clock was set back meanwhile).
async fn charging_with_a_lease_an_hour_ahead(w: &World, store: &MemoryCheckoutStore, order: &str) {
    let stored = store.load(&TransactionId::new(order)).await.unwrap().unwrap();
    let mut rec = stored.value;
    rec.state = loyalty_core::checkout::CheckoutState::Charging;
    rec.due_at = Some(w.clock.now() + chrono::Duration::hours(1));
    assert!(store.save(&rec, Some(stored.version)).await.unwrap().is_some());
}

#[tokio::test]
async fn a_lease_written_before_the_clock_was_set_back_does_not_hold_the_order() {
    let store = Arc::new(MemoryCheckoutStore::new());
    let w = world_on(store.clone());
    let prepared = w.checkout.prepare(&ctx(), &order("o-90")).await.unwrap();
    charging_with_a_lease_an_hour_ahead(&w, &store, "o-90").await;
    // The customer's retry takes the order over at once instead of waiting out the jump.
    let started = std::time::Instant::now();
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "it did not wait for the stale lease");
    assert_eq!(out.charged, prepared.priced.total);
    assert_eq!(w.payment.captures(), 1);
}

#[tokio::test]
async fn a_charge_interrupted_before_the_clock_was_set_back_is_finished_by_the_tick() {
    let store = Arc::new(MemoryCheckoutStore::new());
    let w = world_on(store.clone());
    let prepared = w.checkout.prepare(&ctx(), &order("o-91b")).await.unwrap();
    charging_with_a_lease_an_hour_ahead(&w, &store, "o-91b").await;
    let order_id = TransactionId::new("o-91b");
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(report.recovered, vec![order_id.clone()]);
    let rec = w.checkout.status(&order_id).await.unwrap().unwrap();
    assert_eq!(rec.state, loyalty_core::checkout::CheckoutState::Sent);
    assert_eq!(w.payment.captured_total(&order_id), Some(prepared.priced.total));
}

#[tokio::test]
async fn a_complete_repeated_after_a_price_change_does_not_charge_the_new_total() {
    let w = world();
    let req = order("o-pc1");
    let shown = w.checkout.prepare(&ctx(), &req).await.unwrap();
    // The holds lapse and the coupon goes to another order.
    w.clock.advance(Duration::from_secs(16 * 60));
    let other = w.checkout.prepare(&ctx(), &order("o-pc1-other")).await.unwrap();
    assert!(other.holds.iter().any(|h| h.offer_id.as_str() == demo::COUPON_SUMMER10));
    let Completion::PriceChanged(first) = w.checkout.complete(&ctx(), &req).await.unwrap() else {
        panic!("the price moved")
    };
    assert_eq!(first.old_total, shown.priced.total);
    // A double click on "buy": told the same again, nothing charged.
    let Completion::PriceChanged(again) = w.checkout.complete(&ctx(), &req).await.unwrap() else {
        panic!("a repeat charged a total nobody confirmed")
    };
    assert_eq!((again.old_total, again.new_total), (first.old_total, first.new_total));
    let by_id = w.checkout.commit_order(&ctx(), &TransactionId::new("o-pc1")).await.unwrap();
    assert!(matches!(by_id, Completion::PriceChanged(_)), "{by_id:?}");
    assert_eq!(w.payment.captures(), 0);
    // The customer confirms the new price: charged that.
    let out = w.checkout.commit(&ctx(), &first.prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, first.new_total);
    assert_eq!(w.payment.captures(), 1);
}

/// A provider whose next hold call waits, for two instances on one store.
fn two_instances() -> (World, Checkout<'static>) {
    let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
    let w = world_on(store.clone());
    let other = second_instance(&w, store);
    (w, other)
}

/// Runs `first` until it is inside a hold call, then starts `second` and lets the hold call
/// go on shortly after (`second` may wait for `first`).
async fn inside_a_hold_call<A, B>(w: &World, first: A, second: B) -> (A::Output, B::Output)
where
    A: std::future::Future,
    B: std::future::Future,
{
    let pause = w.provider.pause_next("holds.hold");
    tokio::join!(first, async {
        pause.reached().await;
        let (second, ()) = tokio::join!(second, async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            pause.release();
        });
        second
    })
}

#[tokio::test]
async fn a_second_commit_while_the_first_takes_lapsed_holds_again_gets_its_result() {
    let (w, other) = two_instances();
    let prepared = w.checkout.prepare(&ctx(), &order("o-pc2")).await.unwrap();
    w.clock.advance(Duration::from_secs(16 * 60));
    let c = ctx();
    // The second commit finds the order being charged and waits for it.
    let (first, second) =
        inside_a_hold_call(&w, w.checkout.commit(&c, &prepared), other.commit(&c, &prepared)).await;
    let first = first.unwrap().into_outcome().unwrap();
    let second = second.expect("charged once, and the second commit says so").into_outcome().unwrap();
    assert_eq!(first, second);
    assert_eq!(w.payment.captures(), 1);
    assert!(w.provider.open_holds().is_empty(), "{:?}", w.provider.open_holds());
}

#[tokio::test]
async fn an_abort_while_a_commit_takes_lapsed_holds_again_loses_and_leaks_no_hold() {
    let (w, other) = two_instances();
    let prepared = w.checkout.prepare(&ctx(), &order("o-pc3")).await.unwrap();
    w.clock.advance(Duration::from_secs(16 * 60));
    let c = ctx();
    // The abort finds the order being charged, waits for it, and then cannot abort a sale.
    let (commit, abort) =
        inside_a_hold_call(&w, w.checkout.commit(&c, &prepared), other.abort(&c, &prepared)).await;
    let err = abort.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    commit.unwrap().into_outcome().unwrap();
    assert_eq!(w.payment.captures(), 1);
    assert!(w.provider.open_holds().is_empty(), "{:?}", w.provider.open_holds());
}

#[tokio::test]
async fn a_check_that_fails_after_the_price_moved_leaves_the_new_price_to_be_confirmed() {
    let w = world();
    let req = CheckoutRequest::new("o-pc4", demo::basket())
        .identify(kari())
        .confirm(demo::COUPON_SUMMER10)
        .confirm(demo::COUPON_COFFEE20);
    let shown = w.checkout.prepare(&ctx(), &req).await.unwrap();
    assert!(shown.holds.len() >= 2, "{:?}", shown.holds);
    w.clock.advance(Duration::from_secs(16 * 60));
    // Taking the lapsed holds again: the first coupon is refused (used up meanwhile), the
    // other's hold then fails for now.
    w.provider.fail_next("holds.hold", Error::new(ErrorKind::Rejected, "memory", "holds.hold"));
    w.provider.fail_next("holds.hold", Error::new(ErrorKind::Unavailable, "memory", "holds.hold"));
    let err = w.checkout.commit(&ctx(), &shown).await.unwrap_err();
    assert!(err.is_temporary(), "{err}");
    assert_eq!(w.payment.captures(), 0);
    // The customer's retry of what they were shown does not charge the moved price.
    match w.checkout.commit(&ctx(), &shown).await {
        Err(e) => assert_eq!(e.kind(), &ErrorKind::Conflict, "{e}"),
        Ok(c) => assert!(matches!(c, Completion::PriceChanged(_)), "{c:?}"),
    }
    assert_eq!(w.payment.captures(), 0, "a price nobody was shown was charged");
}

#[tokio::test]
async fn an_authorization_whose_reply_was_lost_is_voided_when_the_price_then_changes() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-pc5")).await.unwrap();
    // The service authorizes, but its reply is lost: the order stays charging.
    *w.payment.lose_authorize_reply.lock().unwrap() = true;
    let err = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert!(err.is_temporary(), "{err}");
    *w.payment.lose_authorize_reply.lock().unwrap() = false;
    // Before the retry, the holds lapse and the coupon goes to another order.
    w.clock.advance(Duration::from_secs(16 * 60));
    w.checkout.prepare(&ctx(), &order("o-pc5-other")).await.unwrap();
    let Completion::PriceChanged(change) = w.checkout.commit(&ctx(), &prepared).await.unwrap() else {
        panic!("the price moved")
    };
    assert_eq!(w.payment.voided().len(), 1, "the first attempt's authorization is voided, not left reserved");
    let out = w.checkout.commit(&ctx(), &change.prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, change.new_total);
    assert_eq!(w.payment.captures(), 1);
}

#[tokio::test]
async fn a_3ds_return_whose_check_fails_after_the_price_moved_leaves_the_authorization_for_the_tick() {
    let w = world();
    commit_through_3ds(&w, "o-pc6").await;
    let order_id = TransactionId::new("o-pc6");
    // While the customer is at the bank, the holds lapse and another order uses the coupon.
    w.clock.advance(Duration::from_secs(16 * 60));
    let other =
        CheckoutRequest::new("o-pc6b", demo::basket()).identify(kari()).confirm(demo::COUPON_SUMMER10);
    w.payment.answer_next(NextAnswer::Approve);
    w.complete(&other).await;
    let voids_before = w.payment.voided().len();
    // Taking the lapsed holds again: the coupon is refused (the price moves), the next hold
    // then fails for now.
    w.provider.fail_next("holds.hold", Error::new(ErrorKind::Rejected, "memory", "holds.hold"));
    w.provider.fail_next("holds.hold", Error::new(ErrorKind::Unavailable, "memory", "holds.hold"));
    w.checkout.confirm_payment(&ctx(), &order_id).await.unwrap_err();
    let rec = w.checkout.status(&order_id).await.unwrap().unwrap();
    assert_eq!(rec.state, loyalty_core::checkout::CheckoutState::Prepared, "{rec:?}");
    assert!(rec.authorization.is_some() && rec.due_at.is_some_and(|d| d <= w.clock.now()), "{rec:?}");
    assert!(rec.action.is_none(), "no payment waits for the customer any more: {rec:?}");
    // The customer walks away: the tick voids the authorization of the old total.
    w.checkout.tick(&ctx()).await.unwrap();
    assert_eq!(w.payment.voided().len(), voids_before + 1);
    assert_eq!(w.payment.captures(), 1, "only the other order's");
}

#[tokio::test]
async fn a_refund_that_failed_is_paid_by_the_background_work_when_nobody_asks_again() {
    let w = world();
    let out = w.complete(&order("o-rf")).await;
    *w.payment.refund_down.lock().unwrap() = true;
    let err = w.checkout.process_return(&ctx(), &ret("o-rf", "o-rf-r1", "2", 1), None).await.unwrap_err();
    assert!(err.is_temporary(), "{err}");
    assert!(w.payment.refunds().is_empty());
    // The caller gives up; the payment service comes back; the background work pays what is owed.
    *w.payment.refund_down.lock().unwrap() = false;
    w.clock.advance(Duration::from_secs(61));
    w.checkout.tick(&ctx()).await.unwrap();
    let mug = out.transaction.lines.iter().find(|l| l.line_id == LineId::new("2")).unwrap().net;
    assert_eq!(w.payment.refunds().get("o-rf-r1"), Some(&mug));
    // Once: a later tick and the same return asked again pay nothing more.
    w.clock.advance(Duration::from_secs(61));
    w.checkout.tick(&ctx()).await.unwrap();
    w.checkout.process_return(&ctx(), &ret("o-rf", "o-rf-r1", "2", 1), None).await.unwrap();
    assert_eq!(w.payment.refunds().len(), 1);
}

/// A payment confirmation checks the offers again and takes a lapsed hold back; an abort on
/// another instance wins the order while that hold call is under way, and releases what the
/// record listed before the call lands. The confirmation loses its write: it must release
/// the hold it took, or the coupon stays held for nobody until the hold lapses.
#[tokio::test]
async fn a_hold_taken_back_by_a_confirmation_that_an_abort_overtook_is_released() {
    let (w, other) = two_instances();
    commit_through_3ds(&w, "o-cfa").await;
    let order_id = TransactionId::new("o-cfa");
    // The customer is slow at the bank: the hold lapses.
    w.clock.advance(Duration::from_secs(16 * 60));
    let c = ctx();
    let pause = w.provider.pause_next("holds.hold");
    let (confirmed, ()) = tokio::join!(w.checkout.confirm_payment(&c, &order_id), async {
        pause.reached().await;
        other.abort_order(&c, &order_id).await.unwrap();
        pause.release();
    });
    assert!(confirmed.is_err(), "{confirmed:?}");
    assert_eq!(w.payment.captures(), 0);
    assert!(w.provider.open_holds().is_empty(), "leaked: {:?}", w.provider.open_holds());
    let rec = w.checkout.status(&order_id).await.unwrap().unwrap();
    assert_eq!(rec.state, loyalty_core::checkout::CheckoutState::Aborted);
}

// --- Preparing an order again -----------------------------------------------------------------

/// The demo basket with `mugs` extra mugs, confirming the single-use summer coupon.
fn edited(id: &str, mugs: i64) -> CheckoutRequest {
    let basket = demo::basket().with_line(loyalty_core::Line::new(
        "3",
        demo::PRODUCT_MUG,
        Decimal::from(mugs),
        Money::new(19_900, loyalty_core::Currency::NOK),
    ));
    CheckoutRequest::new(id, basket).identify(kari()).confirm(demo::COUPON_SUMMER10)
}

async fn assert_keeps_its_coupon(checkout: &Checkout<'_>) {
    let summer = OfferId::new(demo::COUPON_SUMMER10);
    let first = checkout.prepare(&ctx(), &edited("o-edit", 1)).await.unwrap();
    assert!(first.holds.iter().any(|h| h.offer_id == summer), "held: {:?}", first.holds);
    // The customer adds a mug and goes to pay again.
    let second = checkout.prepare(&ctx(), &edited("o-edit", 2)).await.unwrap();
    assert!(
        second.priced.offers_used().contains(&summer),
        "the coupon this order holds was dropped on the edit: notes {:?}, holds {:?}",
        second.notes,
        second.holds
    );
    let out = checkout.commit(&ctx(), &second).await.unwrap().into_outcome().unwrap();
    assert!(out.transaction.offers_used.iter().any(|u| u.offer_id == summer));
}

/// An order prepared again keeps the single-use coupon it holds: the memory provider lists it
/// for that order (the context's idempotency key) with its use, not as held by another order.
#[tokio::test]
async fn an_order_prepared_again_keeps_the_single_use_coupon_it_holds() {
    let w = world();
    assert_keeps_its_coupon(&w.checkout).await;
    // Another order of the member still sees it held elsewhere.
    let other = w.checkout.prepare(&ctx(), &edited("o-edit-2", 1)).await.unwrap();
    assert!(!other.priced.offers_used().contains(&OfferId::new(demo::COUPON_SUMMER10)));
}

/// The memory provider listing offers without the asking order (as a vendor that counts the
/// order's own lock as a use does): a coupon the order holds comes back with no uses left.
struct CountsOwnLock(MemoryProvider);

impl Provider for CountsOwnLock {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn capabilities(&self) -> &loyalty_core::Capabilities {
        self.0.capabilities()
    }
    fn members(&self) -> Option<&dyn loyalty_core::Members> {
        self.0.members()
    }
    fn offers(&self) -> Option<&dyn loyalty_core::Offers> {
        Some(self)
    }
    fn holds(&self) -> Option<&dyn loyalty_core::Holds> {
        self.0.holds()
    }
    fn redemptions(&self) -> Option<&dyn loyalty_core::Redemptions> {
        self.0.redemptions()
    }
    fn transactions(&self) -> Option<&dyn loyalty_core::Transactions> {
        self.0.transactions()
    }
    fn carts(&self) -> Option<&dyn loyalty_core::Carts> {
        self.0.carts()
    }
    fn fulfilment(&self) -> Option<&dyn loyalty_core::Fulfilment> {
        self.0.fulfilment()
    }
}

#[async_trait]
impl loyalty_core::Offers for CountsOwnLock {
    async fn list(
        &self,
        _ctx: &Context,
        member: Option<&MemberId>,
        basket: Option<&loyalty_core::Basket>,
    ) -> loyalty_core::Result<Vec<loyalty_core::Offer>> {
        self.0.offers().unwrap().list(&Context::new(), member, basket).await
    }
    async fn validate(
        &self,
        ctx: &Context,
        member: &MemberId,
        offer: &loyalty_core::Offer,
    ) -> loyalty_core::Result<loyalty_core::Validation> {
        self.0.offers().unwrap().validate(ctx, member, offer).await
    }
}

/// The checkout itself takes an offer its order holds live as usable, whatever uses the
/// provider lists for it.
#[tokio::test]
async fn an_order_prepared_again_keeps_its_held_coupon_where_the_provider_counts_the_lock_as_a_use() {
    let (provider, clock) = MemoryProvider::demo_manual();
    let checkout =
        Checkout::new(Arc::new(CountsOwnLock(provider)), Arc::new(SimulatedPayment::new()), Arc::new(clock));
    assert_keeps_its_coupon(&checkout).await;
}
