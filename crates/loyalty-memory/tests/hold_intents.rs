//! Hold calls whose outcome is unknown (the provider took the hold, the reply was lost): the
//! checkout record keeps each one as an intent until its hold is recorded (held again for the
//! same order, which gives the same hold) or the provider refuses it, and stays due meanwhile,
//! so the background work settles it and nothing stays held for an order nobody buys. At a
//! vendor whose reservations never lapse (Diller) a forgotten hold blocks the coupon for good.

use std::sync::Arc;
use std::time::Duration;

use loyalty_core::checkout::{Checkout, CheckoutRequest, CheckoutState, SimulatedPayment};
use loyalty_core::{Clock, Context, Error, ErrorKind, MemberLookup, Phone, TransactionId};
use loyalty_memory::{demo, MemoryProvider};

struct World {
    provider: MemoryProvider,
    clock: loyalty_core::ManualClock,
    payment: Arc<SimulatedPayment>,
    checkout: Checkout<'static>,
}

fn world() -> World {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(provider.clone()), payment.clone(), Arc::new(clock.clone()));
    World { provider, clock, payment, checkout }
}

/// Kari's demo basket with the basket coupon: three holds (stamp card, two coupons).
fn order(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        .confirm(demo::COUPON_SUMMER10)
}

fn ctx() -> Context {
    Context::new()
}

/// The first hold is taken but its reply is lost; the failed prepare's clean-up holds the
/// offer again (to learn the hold and release it) and that call fails too. The intent stays on
/// the aborted order, due at once, and the next tick settles and releases it.
#[tokio::test]
async fn a_lost_hold_reply_whose_cleanup_fails_is_released_by_the_next_tick() {
    let w = world();
    w.provider.lose_reply_next("holds.hold");
    let (first, second) = (w.provider.pause_next("holds.hold"), w.provider.pause_next("holds.hold"));
    let (c, req) = (ctx(), order("o-lost"));
    let (prepared, ()) = tokio::join!(w.checkout.prepare(&c, &req), async {
        first.reached().await;
        first.release();
        // The clean-up's call: the provider is down now.
        second.reached().await;
        w.provider.fail_next("holds.hold", Error::new(ErrorKind::Unavailable, "memory", "holds.hold"));
        second.release();
    });
    prepared.unwrap_err();
    assert_eq!(w.provider.open_holds().len(), 1, "the provider took the first hold");
    let rec = w.checkout.status(&TransactionId::new("o-lost")).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Aborted);
    assert_eq!(rec.hold_intents.len(), 1, "only the call whose outcome is unknown: {rec:?}");
    assert!(rec.due_at.is_some_and(|d| d <= w.clock.now()), "due at once: {:?}", rec.due_at);

    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert!(w.provider.open_holds().is_empty(), "the lost hold is released: {:?}", w.provider.open_holds());
    let rec = w.checkout.status(&TransactionId::new("o-lost")).await.unwrap().unwrap();
    assert!(rec.hold_intents.is_empty() && rec.holds.is_empty(), "{rec:?}");
    assert_eq!(rec.due_at, None);
}

/// A commit's check takes a lapsed hold again and loses the reply: nothing is charged, and the
/// order is prepared again with the hold call unsettled, due at once (not only when a recorded
/// hold lapses: it has none). The tick records the hold, and releases it when it lapses; the
/// customer who comes back later still pays what they were shown.
#[tokio::test]
async fn a_hold_retaken_at_commit_whose_reply_was_lost_keeps_the_prepared_order_due() {
    let w = world();
    let prepared = w.checkout.prepare(&ctx(), &order("o-commit")).await.unwrap();
    w.clock.advance(Duration::from_secs(16 * 60));
    w.checkout.tick(&ctx()).await.unwrap();
    assert!(w.provider.open_holds().is_empty(), "the lapsed holds are released");

    w.provider.lose_reply_next("holds.hold");
    w.checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert_eq!(w.payment.captures(), 0);
    assert_eq!(w.provider.open_holds().len(), 1, "the provider took the hold");
    let rec = w.checkout.status(&prepared.order).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Prepared);
    assert_eq!(rec.hold_intents.len(), 1, "{rec:?}");
    assert!(rec.due_at.is_some_and(|d| d <= w.clock.now()), "due at once: {:?}", rec.due_at);

    // The tick records the hold: a prepared order's hold, due when it lapses.
    w.checkout.tick(&ctx()).await.unwrap();
    let rec = w.checkout.status(&prepared.order).await.unwrap().unwrap();
    assert!(rec.hold_intents.is_empty(), "{rec:?}");
    assert_eq!(rec.holds.len(), 1);
    assert_eq!(rec.due_at, Some(rec.holds[0].expires_at));
    w.clock.advance(Duration::from_secs(16 * 60));
    w.checkout.tick(&ctx()).await.unwrap();
    let rec = w.checkout.status(&prepared.order).await.unwrap().unwrap();
    assert!(rec.holds.is_empty() && rec.due_at.is_none(), "{rec:?}");

    let out = w.checkout.commit(&ctx(), &prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, prepared.priced.total, "charged what was shown");
    assert!(w.provider.open_holds().is_empty());
}

/// A provider that refuses to hold the offer again for this order (used up, held by another
/// order) says it holds nothing for it: the intent is dropped, and the record is not due for it
/// any more, rather than asked again on every tick. (The refusal is injected here; the memory
/// provider itself would answer with the lock it took.)
#[tokio::test]
async fn an_intent_the_provider_refuses_to_hold_again_is_dropped() {
    let w = world();
    w.provider.lose_reply_next("holds.hold");
    let (first, second) = (w.provider.pause_next("holds.hold"), w.provider.pause_next("holds.hold"));
    let (c, req) = (ctx(), order("o-gone"));
    let (prepared, ()) = tokio::join!(w.checkout.prepare(&c, &req), async {
        first.reached().await;
        first.release();
        second.reached().await;
        w.provider.fail_next("holds.hold", Error::new(ErrorKind::Rejected, "memory", "holds.hold"));
        second.release();
    });
    prepared.unwrap_err();
    let rec = w.checkout.status(&TransactionId::new("o-gone")).await.unwrap().unwrap();
    assert!(rec.hold_intents.is_empty(), "refused: nothing to settle: {rec:?}");
    assert_eq!(rec.due_at, None);
}
