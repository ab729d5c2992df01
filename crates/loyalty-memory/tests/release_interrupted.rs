//! An aborted order's release interrupted (its instance died) is finished by the background
//! work, also after the clock was set back.

use std::sync::Arc;
use std::time::Duration;

use loyalty_core::checkout::{
    Checkout, CheckoutRequest, CheckoutState, CheckoutStore, MemoryCheckoutStore, SimulatedPayment,
};
use loyalty_core::{Clock, Context, MemberLookup, Phone, TransactionId};
use loyalty_memory::{demo, MemoryProvider};

fn order(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        .confirm(demo::COUPON_SUMMER10)
}

async fn run(set_back: bool) {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(SimulatedPayment::new());
    let store = Arc::new(MemoryCheckoutStore::new());
    let a = Arc::new(Checkout::with_store(
        Arc::new(provider.clone()),
        payment.clone(),
        Arc::new(clock.clone()),
        store.clone() as Arc<dyn CheckoutStore>,
    ));
    let id = TransactionId::new("o-rel");
    let prepared = a.prepare(&Context::new(), &order("o-rel")).await.unwrap();
    assert!(!prepared.holds.is_empty());
    let pause = provider.pause_next("holds.release");
    let (ta, ida) = (a.clone(), id.clone());
    let task = tokio::spawn(async move { ta.abort_order(&Context::new(), &ida).await });
    pause.reached().await;
    task.abort(); // the instance dies mid-release
    let _ = task.await;
    pause.release();
    let rec = a.status(&id).await.unwrap().unwrap();
    assert_eq!((rec.state, rec.releasing), (CheckoutState::Aborted, true));
    if set_back {
        // NTP steps the clock back by an hour.
        clock.set(clock.now() - chrono::Duration::hours(1));
    } else {
        clock.advance(Duration::from_secs(10 * 60));
    }
    let report = a.tick(&Context::new()).await.unwrap();
    let rec = a.status(&id).await.unwrap().unwrap();
    assert!(
        !rec.releasing && rec.holds.is_empty(),
        "set_back={set_back}: release not finished by the tick ({report:?}): releasing={} holds={} due_at={:?} now={}",
        rec.releasing,
        rec.holds.len(),
        rec.due_at,
        clock.now()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_release_is_finished_by_the_tick() {
    run(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_release_is_finished_by_the_tick_after_clock_set_back() {
    run(true).await;
}
