//! The wholesaler keeps one basket per customer account (§5 G3 replaces it, G4 turns it into
//! an order), and several shop instances may share one checkout (docs/architecture.md, checkout). Orders of two
//! instances on one account take turns on that basket through a lease both reach (the checkout
//! store's), so an order never ships another order's goods; a basket busy past the wait, or a
//! lease lost mid-way, sends nothing.
#![cfg(feature = "simulator")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use loyalty_core::locks::{InProcessLocks, SharedLocks};
use loyalty_core::{DropshipOrder, ErrorKind, Provider, WriteEffect};
use loyalty_idosell::simulated::{self, SimulatedClock};
use loyalty_idosell::IdosellAdapter;
use loyalty_sim::idosell::demo;
use loyalty_sim::Fault;

fn mug_order(reference: &str) -> DropshipOrder {
    DropshipOrder::new(reference, simulated::demo_recipient(), demo::COURIER_DOMESTIC.to_string())
        .with_line(demo::MUG_INTERNAL, dec("1"))
}

/// An adapter on the environment's simulator and account, leasing the basket through `locks`.
fn instance(env: &Env, locks: Arc<dyn SharedLocks>) -> IdosellAdapter {
    env.other_adapter(env.config(), Arc::new(SimulatedClock(env.clock.clone()))).with_shared_locks(locks)
}

/// G3 and G4 requests in the order the wholesaler saw them.
fn basket_routes(env: &Env) -> Vec<String> {
    env.routes().into_iter().filter(|r| r == "G3" || r == "G4").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_account_never_ship_each_others_goods() {
    let env = start().await;
    // Two shop instances, each with its own handle on one checkout store (as two processes
    // on one database): the store's leases are what they share, nothing in memory.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("checkout.db").display());
    let store_a = loyalty_store::open_shared(&url).await.unwrap();
    let store_b = loyalty_store::open_shared(&url).await.unwrap();
    let a = Arc::new(instance(&env, store_a.locks));
    let b = Arc::new(instance(&env, store_b.locks));
    assert_eq!(a.basket_lease_name(), b.basket_lease_name(), "one account, one lease");
    // Log both in first, so what follows is the basket alone.
    let all = loyalty_core::CourierQuery::all();
    a.fulfilment().unwrap().couriers(&ctx(), &all).await.unwrap();
    b.fulfilment().unwrap().couriers(&ctx(), &all).await.unwrap();
    let coffee_before = env.sim.probe.reserved(demo::COFFEE_INTERNAL).unwrap();
    let mug_before = env.sim.probe.reserved(demo::MUG_INTERNAL).unwrap();
    // The wholesaler takes 600 ms to answer each placeOrder: B's order arrives while A's
    // import is in the basket and A's placement is on its way.
    env.handle().inject_route("G4", Fault::Latency(Duration::from_millis(600)), Some(2));

    let first = tokio::spawn({
        let a = a.clone();
        async move { a.fulfilment().unwrap().place_order(&ctx(), &coffee_order("INST-A")).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let second = b.fulfilment().unwrap().place_order(&ctx(), &mug_order("INST-B")).await;
    let first = first.await.unwrap();

    let first = first.expect("A's order is placed");
    let second = second.expect("B's order is placed once A's placement emptied the basket");
    assert_ne!(first.order_id, second.order_id);
    let coffee = env.sim.probe.reserved(demo::COFFEE_INTERNAL).unwrap() - coffee_before;
    let mug = env.sim.probe.reserved(demo::MUG_INTERNAL).unwrap() - mug_before;
    assert_eq!((coffee, mug), (dec("2"), dec("1")), "each order reserved its own goods");
    assert_eq!(basket_routes(&env), ["G3", "G4", "G3", "G4"], "imports and placements never interleave");
}

#[tokio::test]
async fn a_basket_busy_past_the_wait_sends_nothing_and_may_be_tried_again() {
    let env = start().await;
    let locks = Arc::new(InProcessLocks::new());
    let adapter = instance(&env, locks.clone()).with_basket_wait(Duration::from_millis(300));
    // Another instance holds the account's basket (its lease running well past the wait).
    let now = env.clock.now();
    assert!(locks
        .take(adapter.basket_lease_name(), "another-instance/7", now + TimeDelta::hours(1), now)
        .await
        .unwrap());

    let err = adapter.fulfilment().unwrap().place_order(&ctx(), &coffee_order("BUSY-1")).await.unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_temporary(), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent, "{err}");
    assert!(err.message().contains("basket is busy"), "{err}");
    assert_eq!(env.count("G3") + env.count("G4"), 0, "nothing reached the basket");

    // Once the other instance is done, the same order goes through.
    assert!(locks.release(adapter.basket_lease_name(), "another-instance/7").await.unwrap());
    adapter.fulfilment().unwrap().place_order(&ctx(), &coffee_order("BUSY-1")).await.expect("placed");
    assert_eq!(basket_routes(&env), ["G3", "G4"]);
}

/// Leases kept in process memory whose renewals after the first `keep` say the lease was taken
/// over (it lapsed and another instance took it).
#[derive(Debug)]
struct TakenOverAfter {
    inner: InProcessLocks,
    keep: usize,
    renewals: AtomicUsize,
    releases: AtomicUsize,
}

#[async_trait]
impl SharedLocks for TakenOverAfter {
    async fn take(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> loyalty_core::Result<bool> {
        self.inner.take(name, holder, until, now).await
    }
    async fn renew(&self, name: &str, holder: &str, until: DateTime<Utc>) -> loyalty_core::Result<bool> {
        if self.renewals.fetch_add(1, Ordering::SeqCst) >= self.keep {
            return Ok(false);
        }
        self.inner.renew(name, holder, until).await
    }
    async fn release(&self, name: &str, holder: &str) -> loyalty_core::Result<bool> {
        self.releases.fetch_add(1, Ordering::SeqCst);
        self.inner.release(name, holder).await
    }
}

#[tokio::test]
async fn a_lease_taken_over_before_placement_places_nothing() {
    let env = start().await;
    // The renewal before G3 holds; the one before G4 finds the lease another instance's.
    let locks = Arc::new(TakenOverAfter {
        inner: InProcessLocks::new(),
        keep: 1,
        renewals: AtomicUsize::new(0),
        releases: AtomicUsize::new(0),
    });
    let adapter = instance(&env, locks.clone());
    let err = adapter.fulfilment().unwrap().place_order(&ctx(), &coffee_order("LOST-1")).await.unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_temporary(), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent, "{err}");
    assert!(err.message().contains("another shop instance took it"), "{err}");
    assert_eq!(
        basket_routes(&env),
        ["G3"],
        "imported, never placed: the basket may hold another order's goods"
    );
    assert_eq!(locks.releases.load(Ordering::SeqCst), 1, "the section ended by giving the lease back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_dropped_mid_way_gives_the_basket_back() {
    let env = start().await;
    let locks = Arc::new(InProcessLocks::new());
    let adapter = Arc::new(instance(&env, locks.clone()));
    let name = adapter.basket_lease_name().to_string();
    adapter.fulfilment().unwrap().couriers(&ctx(), &loyalty_core::CourierQuery::all()).await.unwrap();
    env.handle().inject_route("G3", Fault::Latency(Duration::from_secs(5)), Some(1));
    let order = tokio::spawn({
        let adapter = adapter.clone();
        async move { adapter.fulfilment().unwrap().place_order(&ctx(), &coffee_order("DROPPED-1")).await }
    });
    // Wait (bounded) until the order holds the basket, then drop it mid-G3.
    let now = env.clock.now();
    let mut held = false;
    for _ in 0..200 {
        if !locks.take(&name, "probe/1", now + TimeDelta::hours(1), now).await.unwrap() {
            held = true;
            break;
        }
        assert!(locks.release(&name, "probe/1").await.unwrap());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(held, "the order took the basket lease");
    order.abort();
    assert!(order.await.unwrap_err().is_cancelled());
    // The lease is given back from a spawned task: free again without waiting for it to lapse.
    let mut free = false;
    for _ in 0..200 {
        if locks.take(&name, "probe/2", now + TimeDelta::hours(1), now).await.unwrap() {
            free = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(free, "the dropped order's lease was released");
}
