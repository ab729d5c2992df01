//! Charges and sends an instance left half-way: an authorization taken by an instance that
//! died, a check that failed after a lost authorize reply, a capture whose reply was lost or
//! whose instance died, a 3-D Secure confirmation cut off, a leftover authorization on an order
//! prepared again, a send under way when the clock was set back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use loyalty_core::checkout::{
    Authorization, Authorized, Checkout, CheckoutRequest, Completion, Delivery, Payment, PaymentKey,
    SimulatedPayment,
};
use loyalty_core::{Context, MemberLookup, Money, Phone, TransactionId};
use loyalty_memory::{demo, MemoryProvider};

/// The simulated service; with `hang_after_authorize` an authorize takes effect and then never
/// answers (the instance dies while waiting for it).
#[derive(Default)]
struct HangPay {
    inner: SimulatedPayment,
    hang_after_authorize: AtomicBool,
    refuse_capture: AtomicBool,
    void_down: AtomicBool,
    lose_authorize_reply: AtomicBool,
    refund_down: AtomicBool,
    /// A capture takes effect and its reply is lost (a timeout).
    lose_capture_reply: AtomicBool,
    /// A capture takes effect and then never answers (the instance dies while waiting).
    hang_after_capture: AtomicBool,
    /// Asking about a waiting authorization never answers (the instance dies while waiting).
    hang_on_resume: AtomicBool,
}

#[async_trait]
impl Payment for HangPay {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> loyalty_core::Result<Authorized> {
        let r = self.inner.authorize(key, amount).await;
        if r.is_ok() && self.lose_authorize_reply.load(Ordering::SeqCst) {
            return Err(loyalty_core::Error::new(
                loyalty_core::ErrorKind::Unavailable,
                "payment",
                "payment.authorize",
            )
            .with_effect(loyalty_core::WriteEffect::Unknown));
        }
        if self.hang_after_authorize.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        r
    }
    async fn resume(&self, a: &Authorization) -> loyalty_core::Result<Authorized> {
        if self.hang_on_resume.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.inner.resume(a).await
    }
    async fn capture(&self, a: &Authorization) -> loyalty_core::Result<()> {
        if self.refuse_capture.load(Ordering::SeqCst) {
            return Err(loyalty_core::Error::new(
                loyalty_core::ErrorKind::Rejected,
                "payment",
                "payment.capture",
            )
            .with_message("authorization lapsed"));
        }
        let r = self.inner.capture(a).await;
        if r.is_ok() && self.lose_capture_reply.load(Ordering::SeqCst) {
            return Err(loyalty_core::Error::new(
                loyalty_core::ErrorKind::Unavailable,
                "payment",
                "payment.capture",
            )
            .with_effect(loyalty_core::WriteEffect::Unknown)
            .with_message("capture timed out"));
        }
        if r.is_ok() && self.hang_after_capture.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        r
    }
    async fn void(&self, a: &Authorization) -> loyalty_core::Result<()> {
        if self.void_down.load(Ordering::SeqCst) {
            return Err(loyalty_core::Error::new(
                loyalty_core::ErrorKind::Unavailable,
                "payment",
                "payment.void",
            ));
        }
        self.inner.void(a).await
    }
    async fn refund(&self, a: &Authorization, id: &TransactionId, amount: Money) -> loyalty_core::Result<()> {
        if self.refund_down.load(Ordering::SeqCst) {
            return Err(loyalty_core::Error::new(
                loyalty_core::ErrorKind::Unavailable,
                "payment",
                "payment.refund",
            ));
        }
        self.inner.refund(a, id, amount).await
    }
}

struct World {
    provider: MemoryProvider,
    clock: loyalty_core::ManualClock,
    payment: Arc<HangPay>,
    checkout: Checkout<'static>,
}

fn world() -> World {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(HangPay::default());
    let checkout = Checkout::new(Arc::new(provider.clone()), payment.clone(), Arc::new(clock.clone()));
    World { provider, clock, payment, checkout }
}

fn order(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        .confirm(demo::COUPON_SUMMER10)
}

fn ctx() -> Context {
    Context::new()
}

/// The capture goes through but its reply is lost (the customer's money is taken); nobody
/// retries until the lease and the 15-minute hold lapse and another order of the member uses the
/// single-use coupon. The retry must finish the sale at the price paid (the refused claim
/// dropped), never answer a price change for money already taken nor try to void it.
#[tokio::test]
async fn a_sale_whose_capture_reply_was_lost_is_sent_at_the_price_paid_even_after_the_price_moved() {
    let w = world();
    let id = TransactionId::new("o-cap");
    let prepared = w.checkout.prepare(&ctx(), &order("o-cap")).await.unwrap();
    w.payment.lose_capture_reply.store(true, Ordering::SeqCst);
    let e = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert!(e.is_temporary(), "{e}");
    w.payment.lose_capture_reply.store(false, Ordering::SeqCst);
    assert_eq!(w.payment.inner.captured_total(&id), Some(prepared.priced.total));
    w.clock.advance(Duration::from_secs(16 * 60));
    w.checkout.complete(&ctx(), &order("o-cap-other")).await.unwrap().into_outcome().unwrap();

    let out = match w.checkout.commit(&ctx(), &prepared).await.unwrap() {
        Completion::Completed(out) => out,
        other => panic!("money captured, but the retry answered {other:?}"),
    };
    assert_eq!(out.charged, prepared.priced.total);
    assert!(matches!(out.delivery, Delivery::Sent(_)), "{:?}", out.delivery);
    assert!(w.provider.transaction(&id).is_some(), "the captured sale never reaches the vendor");
    assert_eq!(w.payment.inner.captured_total(&id), Some(prepared.priced.total));
    assert_eq!(w.payment.inner.captures(), 2, "one capture per order");
    assert!(w.payment.inner.voided().is_empty(), "{:?}", w.payment.inner.voided());
    let rec = w.checkout.status(&id).await.unwrap().unwrap();
    assert_eq!(rec.state, loyalty_core::checkout::CheckoutState::Sent);
    assert_eq!(rec.revision, prepared.revision, "the order was priced again after the capture");
}

/// The capture goes through and the instance dies before writing `Charged`; the price moves
/// meanwhile. The tick takes the charge over and sends the sale the customer paid for.
#[tokio::test]
async fn a_capture_whose_instance_died_is_sent_by_the_tick_even_after_the_price_moved() {
    let w = world();
    let id = TransactionId::new("o-capdie");
    let prepared = w.checkout.prepare(&ctx(), &order("o-capdie")).await.unwrap();
    w.payment.hang_after_capture.store(true, Ordering::SeqCst);
    let r = tokio::time::timeout(Duration::from_millis(200), w.checkout.commit(&ctx(), &prepared)).await;
    assert!(r.is_err(), "the commit was dropped mid-capture");
    w.payment.hang_after_capture.store(false, Ordering::SeqCst);
    w.clock.advance(Duration::from_secs(16 * 60));
    w.checkout.complete(&ctx(), &order("o-capdie-other")).await.unwrap().into_outcome().unwrap();
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.recovered.contains(&id), "{report:?}");
    let rec = w.checkout.status(&id).await.unwrap().unwrap();
    assert_eq!(rec.state, loyalty_core::checkout::CheckoutState::Sent, "{:?}", rec.notes);
    assert!(w.provider.transaction(&id).is_some(), "the captured sale never reaches the vendor");
    assert!(w.payment.inner.voided().is_empty(), "{:?}", w.payment.inner.voided());
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
}

/// A payment waits for 3-D Secure; the customer's confirmation is cut off while the payment
/// service is asked (the instance dies). The tick must ask again, find the payment still
/// waiting and leave it waiting, not take it as approved (a capture refused, the order
/// declined); the customer then completes it and the sale goes.
#[tokio::test]
async fn a_three_d_secure_confirmation_cut_off_leaves_the_payment_waiting_for_the_customer() {
    use loyalty_core::checkout::{CheckoutState, NextAnswer};
    let w = world();
    let id = TransactionId::new("o-3ds");
    w.payment.inner.answer_next(NextAnswer::ThreeDSecure);
    let prepared = w.checkout.prepare(&ctx(), &order("o-3ds")).await.unwrap();
    let c = w.checkout.commit(&ctx(), &prepared).await.unwrap();
    assert!(matches!(c, Completion::ActionRequired { .. }), "{c:?}");
    w.payment.hang_on_resume.store(true, Ordering::SeqCst);
    let r = tokio::time::timeout(Duration::from_millis(200), w.checkout.confirm_payment(&ctx(), &id)).await;
    assert!(r.is_err(), "the confirmation was dropped mid-resume");
    w.payment.hang_on_resume.store(false, Ordering::SeqCst);
    w.clock.advance(Duration::from_secs(61));
    w.checkout.tick(&ctx()).await.unwrap();
    let rec = w.checkout.status(&id).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::AwaitingAction, "{:?}", rec.notes);
    assert_eq!(w.payment.inner.captures(), 0);
    assert!(w.payment.inner.voided().is_empty(), "{:?}", w.payment.inner.voided());
    w.payment.inner.complete_action(&id);
    let out = w.checkout.confirm_payment(&ctx(), &id).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
    assert!(w.provider.transaction(&id).is_some());
}

/// An instance dies while its authorize is under way (the service did authorize). The price
/// then moves before anyone resumes the order: the authorization of the old total must be
/// voided, as it is after a lost authorize reply.
#[tokio::test]
async fn an_authorization_taken_by_an_instance_that_died_is_voided_when_the_price_then_changes() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-die")).await.unwrap();
    w.payment.hang_after_authorize.store(true, Ordering::SeqCst);
    let r = tokio::time::timeout(Duration::from_millis(200), w.checkout.commit(&ctx(), &prepared)).await;
    assert!(r.is_err(), "the commit was dropped mid-authorize");
    w.payment.hang_after_authorize.store(false, Ordering::SeqCst);
    // The lease and the holds lapse; another order takes the single-use coupon.
    w.clock.advance(Duration::from_secs(16 * 60));
    w.checkout.complete(&ctx(), &order("o-die-other")).await.unwrap().into_outcome().unwrap();
    let Completion::PriceChanged(change) = w.checkout.commit(&ctx(), &prepared).await.unwrap() else {
        panic!("the price moved")
    };
    let out = w.checkout.commit(&ctx(), &change.prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, change.new_total);
    // Three authorizations were made: o-die#1 (old total), o-die-other#1, o-die#2.
    let voided = w.payment.inner.voided();
    assert!(
        voided.iter().any(|v| v == "auth-o-die#1"),
        "the old total's authorization stays reserved for ever: voided = {voided:?}"
    );
}

/// The tick's send of a pending sale is under way when its instance dies (the send lease is
/// written); the clock is then set back a day. The sale must go once the lease is judged
/// lapsed, as a charge's lease is, not a day later.
#[tokio::test]
async fn a_pending_send_whose_instance_died_before_a_clock_set_back_is_resent_without_waiting_the_jump() {
    use loyalty_core::{Clock, Error, ErrorKind};
    let w = world();
    w.provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::Unavailable, "memory", "transactions.send").with_temporary(true),
    );
    let out = w.checkout.complete(&ctx(), &order("o-sb")).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, Delivery::Pending { .. }));
    // The backoff passes; the tick takes the send, then dies inside it.
    w.clock.advance(Duration::from_secs(120));
    let _pause = w.provider.pause_next("transactions.send");
    let r = tokio::time::timeout(Duration::from_millis(200), w.checkout.tick(&ctx())).await;
    assert!(r.is_err(), "the tick was dropped mid-send");
    let rec = w.checkout.status(&TransactionId::new("o-sb")).await.unwrap().unwrap();
    assert!(rec.sending, "{rec:?}");
    w.provider.clear_failures();
    // The clock is set back a day (NTP step), then ten minutes pass.
    let back = w.clock.now() - chrono::Duration::days(1);
    w.clock.set(back);
    w.clock.advance(Duration::from_secs(600));
    for _ in 0..3 {
        w.checkout.tick(&ctx()).await.unwrap();
    }
    let rec = w.checkout.status(&TransactionId::new("o-sb")).await.unwrap().unwrap();
    assert_eq!(
        rec.state,
        loyalty_core::checkout::CheckoutState::Sent,
        "the sale waits out the day-long jump: {:?} due {:?} now {}",
        rec.state,
        rec.due_at,
        w.clock.now()
    );
}

/// A guest's capture is refused and the void fails: the authorization is a leftover, due at
/// once. The customer prepares the order again before the tick runs, then walks away: the tick
/// must still void it (a guest order has no holds to make the prepared record due).
#[tokio::test]
async fn a_leftover_authorization_is_voided_after_the_order_is_prepared_again_and_abandoned() {
    let w = world();
    let guest = CheckoutRequest::new("o-left", demo::basket());
    w.payment.refuse_capture.store(true, Ordering::SeqCst);
    w.payment.void_down.store(true, Ordering::SeqCst);
    let prepared = w.checkout.prepare(&ctx(), &guest).await.unwrap();
    w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    w.payment.refuse_capture.store(false, Ordering::SeqCst);
    w.payment.void_down.store(false, Ordering::SeqCst);
    let rec = w.checkout.status(&TransactionId::new("o-left")).await.unwrap().unwrap();
    assert!(rec.authorization.is_some(), "{rec:?}");
    // The customer goes back to the basket page (prepare again), then leaves.
    w.checkout.prepare(&ctx(), &guest).await.unwrap();
    for _ in 0..3 {
        w.clock.advance(Duration::from_secs(3600));
        w.checkout.tick(&ctx()).await.unwrap();
    }
    let rec = w.checkout.status(&TransactionId::new("o-left")).await.unwrap().unwrap();
    assert!(
        w.payment.inner.voided().iter().any(|v| v == "auth-o-left#1"),
        "the declined attempt's authorization stays reserved: {:?} due {:?} auth {:?}",
        rec.state,
        rec.due_at,
        rec.authorization
    );
}

/// A lost authorize reply; the retry learns the authorization, then its check fails for now
/// (a lapsed hold cannot be taken again: the vendor is down). The next retry must check
/// again before capturing: here the coupon went to another order meanwhile.
#[tokio::test]
async fn a_charge_whose_check_failed_after_learning_a_lost_authorization_checks_again_before_the_capture() {
    use loyalty_core::{Error, ErrorKind};
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-lc")).await.unwrap();
    w.payment.lose_authorize_reply.store(true, Ordering::SeqCst);
    let e = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert!(e.is_temporary(), "{e}");
    w.payment.lose_authorize_reply.store(false, Ordering::SeqCst);
    w.clock.advance(Duration::from_secs(16 * 60));
    w.provider.fail_next(
        "holds.hold",
        Error::new(ErrorKind::Unavailable, "memory", "holds.hold").with_temporary(true),
    );
    let e = w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    println!("second: {e}");
    // Meanwhile another order uses the single-use coupon.
    w.checkout.complete(&ctx(), &order("o-lc-other")).await.unwrap().into_outcome().unwrap();
    w.clock.advance(Duration::from_secs(61));
    let c = w.checkout.commit(&ctx(), &prepared).await.unwrap();
    match c {
        Completion::PriceChanged(_) => {}
        Completion::Completed(out) => panic!(
            "charged {} (the shown price with a coupon nobody holds); dropped claims {:?}",
            out.charged, out.dropped_claims
        ),
        other => panic!("{other:?}"),
    }
}

/// Drops a tick while it releases the lapsed hold of prepared order `id` (the instance dies
/// mid-release), and checks it left the order marked as a release under way.
async fn tick_dies_releasing(w: &World, id: &str) {
    w.clock.advance(Duration::from_secs(16 * 60));
    let _pause = w.provider.pause_next("holds.release");
    let r = tokio::time::timeout(Duration::from_millis(200), w.checkout.tick(&ctx())).await;
    assert!(r.is_err(), "the tick was dropped mid-release");
    let rec = w.checkout.status(&TransactionId::new(id)).await.unwrap().unwrap();
    assert!(rec.releasing, "{rec:?}");
}

/// The tick releasing an abandoned order's lapsed holds dies half way. The next tick must
/// finish the release and leave the order prepared, not abort it as an interrupted prepare:
/// the customer's later commit then charges the order as shown.
#[tokio::test]
async fn a_tick_that_dies_releasing_lapsed_holds_leaves_the_order_prepared() {
    use loyalty_core::checkout::CheckoutState;
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-rel")).await.unwrap();
    tick_dies_releasing(&w, "o-rel").await;
    // The lease of the dead tick lapses; the next tick takes the order over.
    w.clock.advance(Duration::from_secs(120));
    let report = w.checkout.tick(&ctx()).await.unwrap();
    let rec = w.checkout.status(&TransactionId::new("o-rel")).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Prepared, "{report:?} {:?}", rec.notes);
    assert!(!rec.releasing);
    assert!(rec.holds.is_empty(), "the lapsed hold is released: {:?}", rec.holds);
    // The customer comes back and buys: charged what was shown, the coupon taken back.
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
}

/// As above, but the customer commits before any tick takes the order over: the commit waits
/// out the dead tick's lease and charges, rather than telling the customer to start again.
#[tokio::test]
async fn a_commit_after_a_tick_died_releasing_lapsed_holds_charges_the_order() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-rel2")).await.unwrap();
    tick_dies_releasing(&w, "o-rel2").await;
    w.clock.advance(Duration::from_secs(120));
    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total);
    assert_eq!(w.payment.inner.captured_total(&TransactionId::new("o-rel2")), Some(prepared.priced.total));
}

/// The tick releasing lapsed holds dies half way, then the clock is set back a day. The next
/// tick must still release the holds that lapsed (their expiries were written on the old
/// clock), not keep them as if alive for a day.
#[tokio::test]
async fn a_release_interrupted_before_a_clock_set_back_still_releases_the_lapsed_holds() {
    use loyalty_core::checkout::CheckoutState;
    use loyalty_core::Clock;
    let w = world();
    w.checkout.prepare(&ctx(), &order("o-relsb")).await.unwrap();
    tick_dies_releasing(&w, "o-relsb").await;
    let back = w.clock.now() - chrono::Duration::days(1);
    w.clock.set(back);
    w.clock.advance(Duration::from_secs(120));
    w.checkout.tick(&ctx()).await.unwrap();
    let rec = w.checkout.status(&TransactionId::new("o-relsb")).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Prepared, "{:?}", rec.notes);
    assert!(rec.holds.is_empty(), "lapsed holds kept as alive: {:?}", rec.holds);
}
