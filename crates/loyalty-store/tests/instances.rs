//! Several shop instances on one store: one charge per order when two complete it at once, and
//! each pending send delivered by one instance. Run on SQLite and on PostgreSQL
//! (`LOYALTY_TEST_POSTGRES_URL`, set by `.ci/run`).

mod harness;

use std::collections::BTreeSet;
use std::sync::Arc;

use harness::{kari_order, World};
use loyalty_core::checkout::{Checkout, Delivery};
use loyalty_core::{Context, Error, ErrorKind, TransactionId};

#[cfg(feature = "postgres")]
fn postgres_url() -> String {
    std::env::var("LOYALTY_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("set LOYALTY_TEST_POSTGRES_URL to a PostgreSQL database; .ci/run installs and starts one")
    })
}

/// A PostgreSQL store in a fresh schema.
#[cfg(feature = "postgres")]
async fn postgres_store_url() -> String {
    let url = postgres_url();
    let schema = format!(
        "inst_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    );
    let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL reachable");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("schema");
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

async fn two_instances_complete_one_order(store_url: &str) {
    let w = World::new(store_url).await;
    let (a, b) = (w.checkout(), w.checkout());
    let order = kari_order("o-twice");
    let ctx = Context::new();
    let (ra, rb) = tokio::join!(a.complete(&ctx, &order), b.complete(&ctx, &order));
    let ra = ra.expect("instance a").into_outcome().expect("charged");
    let rb = rb.expect("instance b").into_outcome().expect("charged");
    assert_eq!(ra, rb, "both instances report the one sale");
    assert_eq!(w.payment.captures(), 1, "one charge");
    assert_eq!(w.provider.transaction_count(), 1, "one sale at the vendor");
    assert!(w.provider.open_holds().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_completing_one_order_at_once_charge_once_on_sqlite() {
    two_instances_complete_one_order(harness::sqlite_file().url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_completing_one_order_at_once_charge_once_on_postgres() {
    two_instances_complete_one_order(&postgres_store_url().await).await;
}

async fn outbox_drained_once(store_url: &str) {
    let w = World::new(store_url).await;
    let first = w.checkout();
    let orders: Vec<String> = (0..12).map(|i| format!("o-out-{i:02}")).collect();
    for id in &orders {
        w.provider.fail_next(
            "transactions.send",
            Error::new(ErrorKind::Unavailable, "memory", "transactions.send"),
        );
        // Each order its own basket, so the single-use coupon is not fought over.
        let req = loyalty_core::checkout::CheckoutRequest::new(id.as_str(), loyalty_memory::demo::basket());
        let out = first.complete(&Context::new(), &req).await.unwrap().into_outcome().unwrap();
        assert!(matches!(out.delivery, Delivery::Pending { .. }));
    }
    let (a, b): (Checkout<'static>, Checkout<'static>) = (w.checkout(), w.checkout());
    let ctx = Context::new();
    let (ra, rb) = tokio::join!(a.resend_pending(&ctx), b.resend_pending(&ctx));
    let sent_a: BTreeSet<TransactionId> = ra
        .into_iter()
        .map(|(id, r)| {
            r.expect("delivered");
            id
        })
        .collect();
    let sent_b: BTreeSet<TransactionId> = rb
        .into_iter()
        .map(|(id, r)| {
            r.expect("delivered");
            id
        })
        .collect();
    assert!(sent_a.is_disjoint(&sent_b), "a pending send was worked by both instances");
    assert_eq!(sent_a.len() + sent_b.len(), orders.len(), "every pending send delivered");
    assert_eq!(w.provider.transaction_count(), orders.len());
    assert!(first.pending().await.unwrap().is_empty());
    let _ = Arc::strong_count(&w.payment);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_instance_drains_the_outbox_and_each_send_goes_once_on_sqlite() {
    outbox_drained_once(harness::sqlite_file().url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_instance_drains_the_outbox_and_each_send_goes_once_on_postgres() {
    outbox_drained_once(&postgres_store_url().await).await;
}
