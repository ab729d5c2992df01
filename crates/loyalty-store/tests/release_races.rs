//! Two instances on one store: a release of an aborted or declined order's holds runs under a
//! lease, so a new payment or a new prepare of that order on another instance waits for it and
//! then takes the holds again, never keeping holds that are being released under it.

mod harness;

use std::sync::Arc;
use std::time::Duration;

use harness::{kari_order, World};
use loyalty_core::checkout::{CheckoutState, NextAnswer};
use loyalty_core::{Context, Error, ErrorKind, MemberId, OfferId, TransactionId};
use loyalty_memory::demo;

/// Holds the record lists that the provider no longer has open.
fn released_under(w: &World, holds: &[loyalty_core::Hold]) -> Vec<loyalty_core::HoldId> {
    let open: Vec<_> = w.provider.open_holds().into_iter().map(|h| h.id).collect();
    holds.iter().map(|h| h.id.clone()).filter(|h| !open.contains(h)).collect()
}

/// A declined payment whose hold release failed leaves the order declined with its hold. The
/// tick of instance A releases it; meanwhile the customer pays again on instance B.
async fn a_new_payment_waits_for_the_release_of_a_declined_order(store_url: &str) {
    let w = World::new(store_url).await;
    let (a, b) = (Arc::new(w.checkout()), Arc::new(w.checkout()));
    let ctx = Context::new();
    let id = TransactionId::new("o-dec");
    let prepared = a.prepare(&ctx, &kari_order("o-dec")).await.unwrap();
    assert!(!prepared.holds.is_empty());
    w.payment.answer_next(NextAnswer::Decline);
    w.provider.fail_next("holds.release", Error::new(ErrorKind::Unavailable, "memory", "holds.release"));
    a.commit(&ctx, &prepared).await.unwrap_err();
    w.payment.answer_next(NextAnswer::Approve);
    let rec = a.status(&id).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Declined);
    assert!(!rec.holds.is_empty(), "a release failed: a hold stays recorded");

    let release = w.provider.pause_next("holds.release");
    let ta = a.clone();
    let tick = tokio::spawn(async move { ta.tick(&Context::new()).await });
    release.reached().await;
    let (tb, idb) = (b.clone(), id.clone());
    let commit = tokio::spawn(async move { tb.commit_order(&Context::new(), &idb).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(w.payment.captures(), 0, "B charged while A was releasing the order's holds");
    release.release();
    tick.await.unwrap().unwrap();
    let out = commit.await.unwrap().unwrap().into_outcome().unwrap();
    assert!(out.dropped_claims.is_empty(), "{:?}", out.dropped_claims);
    let rec = b.status(&id).await.unwrap().unwrap();
    assert!(rec.state.is_committed());
    assert_eq!(w.payment.captures(), 1);
    let uses = w.provider.uses(&MemberId::new(demo::MEMBER_ID), &OfferId::new(demo::COUPON_SUMMER10));
    assert_eq!(uses, 1, "the single-use coupon was used once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_payment_waits_for_the_release_of_a_declined_order_on_sqlite() {
    let file = harness::sqlite_file();
    a_new_payment_waits_for_the_release_of_a_declined_order(file.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_payment_waits_for_the_release_of_a_declined_order_on_postgres() {
    a_new_payment_waits_for_the_release_of_a_declined_order(&harness::postgres_scoped_url().await).await;
}

/// An abort on instance A releases slowly; the customer prepares the order again on B.
async fn a_new_prepare_waits_for_an_abort_s_release(store_url: &str) {
    let w = World::new(store_url).await;
    let (a, b) = (Arc::new(w.checkout()), Arc::new(w.checkout()));
    let ctx = Context::new();
    let id = TransactionId::new("o-ab");
    a.prepare(&ctx, &kari_order("o-ab")).await.unwrap();
    let release = w.provider.pause_next("holds.release");
    let (ta, ida) = (a.clone(), id.clone());
    let abort = tokio::spawn(async move { ta.abort_order(&Context::new(), &ida).await });
    release.reached().await;
    let tb = b.clone();
    let prepare = tokio::spawn(async move { tb.prepare(&Context::new(), &kari_order("o-ab")).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!prepare.is_finished(), "B prepared while A was releasing the order's holds");
    release.release();
    abort.await.unwrap().unwrap();
    let prepared = prepare.await.unwrap().unwrap();
    assert!(!prepared.holds.is_empty());
    let rec = b.status(&id).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Prepared);
    assert_eq!(
        released_under(&w, &rec.holds),
        Vec::<loyalty_core::HoldId>::new(),
        "B keeps holds A released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_prepare_waits_for_an_abort_s_release_on_sqlite() {
    let file = harness::sqlite_file();
    a_new_prepare_waits_for_an_abort_s_release(file.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_prepare_waits_for_an_abort_s_release_on_postgres() {
    a_new_prepare_waits_for_an_abort_s_release(&harness::postgres_scoped_url().await).await;
}

/// An instance that stops half way through an abort's release leaves the order releasing;
/// once its lease lapses, a prepare elsewhere finishes that release first and takes the
/// holds again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prepare_after_an_interrupted_release_finishes_it_and_holds_again() {
    let file = harness::sqlite_file();
    let w = World::new(file.url()).await;
    let (a, b) = (Arc::new(w.checkout()), w.checkout());
    let ctx = Context::new();
    let id = TransactionId::new("o-dead");
    a.prepare(&ctx, &kari_order("o-dead")).await.unwrap();
    let release = w.provider.pause_next("holds.release");
    let (ta, ida) = (a.clone(), id.clone());
    let abort = tokio::spawn(async move { ta.abort_order(&Context::new(), &ida).await });
    release.reached().await;
    // Instance A dies here.
    abort.abort();
    let rec = b.status(&id).await.unwrap().unwrap();
    assert_eq!((rec.state, rec.releasing), (CheckoutState::Aborted, true));
    w.clock.advance(Duration::from_secs(10 * 60));
    release.release();
    let prepared = b.prepare(&ctx, &kari_order("o-dead")).await.unwrap();
    let rec = b.status(&id).await.unwrap().unwrap();
    assert!(!rec.releasing);
    assert_eq!(released_under(&w, &prepared.holds), Vec::<loyalty_core::HoldId>::new());
}
