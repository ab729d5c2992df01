//! Shared leases (`SharedLocks`) kept by the SQL stores: each instance opens the store itself
//! (its own pool), as shop instances do, and they take turns on one name. Run on SQLite and on
//! PostgreSQL (`LOYALTY_TEST_POSTGRES_URL`, set by `.ci/run`).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use loyalty_store::{SharedLocks, SharedStore};

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::seconds(secs)
}

/// Two instances' handles on one store URL (two pools, as two processes would have).
async fn two_instances(url: &str) -> (Arc<dyn SharedLocks>, Arc<dyn SharedLocks>) {
    let a: SharedStore = loyalty_store::open_shared(url).await.expect("store opens");
    let b = loyalty_store::open_shared(url).await.expect("store opens again");
    (a.locks, b.locks)
}

async fn racing_instances_take_one_name_once(url: &str) {
    let (a, b) = two_instances(url).await;
    for round in 0..20 {
        let name = format!("idosell:basket:race-{round}");
        let (ha, hb) = (format!("a/{round}"), format!("b/{round}"));
        let (ta, tb) = tokio::join!(a.take(&name, &ha, at(60), at(0)), b.take(&name, &hb, at(60), at(0)));
        let (ta, tb) = (ta.expect("a answers"), tb.expect("b answers"));
        assert!(ta ^ tb, "round {round}: exactly one instance holds the lease (a: {ta}, b: {tb})");
        // Only the winner's release frees it.
        let (winner, loser) = if ta { (&ha, &hb) } else { (&hb, &ha) };
        assert!(!a.release(&name, loser).await.unwrap());
        assert!(!a.take(&name, "c", at(60), at(1)).await.unwrap(), "still held after a stranger's release");
        assert!(b.release(&name, winner).await.unwrap());
        assert!(a.take(&name, "c", at(60), at(1)).await.unwrap(), "free once its holder released it");
    }
}

async fn a_lapsed_lease_is_taken_over_and_lost_to_its_old_holder(url: &str) {
    let (a, b) = two_instances(url).await;
    let name = "idosell:basket:lapse";
    assert!(a.take(name, "a/1", at(30), at(0)).await.unwrap());
    assert!(!b.take(name, "b/1", at(40), at(29)).await.unwrap(), "running until 30");
    assert!(b.take(name, "b/1", at(90), at(30)).await.unwrap(), "lapsed at 30: taken over");
    // The old holder finds it gone: it can neither extend it nor free it.
    assert!(!a.renew(name, "a/1", at(120)).await.unwrap());
    assert!(!a.release(name, "a/1").await.unwrap());
    assert!(!a.take(name, "a/2", at(120), at(60)).await.unwrap(), "b's until 90");
    // The new holder still has it and renews it.
    assert!(b.renew(name, "b/1", at(150)).await.unwrap());
    assert!(!a.take(name, "a/2", at(200), at(120)).await.unwrap(), "renewed to 150");
    assert!(b.release(name, "b/1").await.unwrap());
    assert!(!b.renew(name, "b/1", at(300)).await.unwrap(), "released: nothing to renew");
}

async fn a_lapsed_lease_no_one_took_is_renewed_by_its_holder(url: &str) {
    let (a, b) = two_instances(url).await;
    let name = "idosell:basket:late";
    assert!(a.take(name, "a/1", at(10), at(0)).await.unwrap());
    assert!(a.renew(name, "a/1", at(50)).await.unwrap(), "lapsed but untouched: still a's");
    assert!(!b.take(name, "b/1", at(60), at(20)).await.unwrap());
    // Other names are other leases.
    assert!(b.take("idosell:basket:other", "b/1", at(60), at(20)).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_instances_take_one_name_once_on_sqlite() {
    let db = sqlite_file();
    racing_instances_take_one_name_once(&db.1).await;
}

#[tokio::test]
async fn a_lapsed_lease_is_taken_over_and_lost_to_its_old_holder_on_sqlite() {
    let db = sqlite_file();
    a_lapsed_lease_is_taken_over_and_lost_to_its_old_holder(&db.1).await;
}

#[tokio::test]
async fn a_lapsed_lease_no_one_took_is_renewed_by_its_holder_on_sqlite() {
    let db = sqlite_file();
    a_lapsed_lease_no_one_took_is_renewed_by_its_holder(&db.1).await;
}

#[tokio::test]
async fn leases_survive_reopening_the_sqlite_store() {
    let db = sqlite_file();
    let first = loyalty_store::open_shared(&db.1).await.unwrap();
    assert!(first.locks.take("n", "a/1", at(30), at(0)).await.unwrap());
    drop(first);
    let again = loyalty_store::open_shared(&db.1).await.unwrap();
    assert!(!again.locks.take("n", "b/1", at(30), at(1)).await.unwrap(), "a restarted instance sees it held");
}

#[tokio::test]
async fn the_memory_store_shares_the_process_leases() {
    let a = loyalty_store::open_shared("memory:").await.unwrap();
    let b = loyalty_store::open_shared("memory:").await.unwrap();
    let name = "shared-locks-test:memory";
    assert!(a.locks.take(name, "a/1", at(30), at(0)).await.unwrap());
    assert!(!b.locks.take(name, "b/1", at(30), at(0)).await.unwrap());
    assert!(a.locks.release(name, "a/1").await.unwrap());
}

fn sqlite_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::Builder::new().prefix("loyalty-locks-").tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("checkout.db").display());
    (dir, url)
}

/// A PostgreSQL store in a fresh schema.
#[cfg(feature = "postgres")]
async fn postgres_store_url() -> String {
    let url = std::env::var("LOYALTY_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("set LOYALTY_TEST_POSTGRES_URL to a PostgreSQL database; .ci/run installs and starts one")
    });
    let schema = format!(
        "locks_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    );
    let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL reachable");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("schema");
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_instances_take_one_name_once_on_postgres() {
    racing_instances_take_one_name_once(&postgres_store_url().await).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_lapsed_lease_is_taken_over_and_lost_to_its_old_holder_on_postgres() {
    a_lapsed_lease_is_taken_over_and_lost_to_its_old_holder(&postgres_store_url().await).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_lapsed_lease_no_one_took_is_renewed_by_its_holder_on_postgres() {
    a_lapsed_lease_no_one_took_is_renewed_by_its_holder(&postgres_store_url().await).await;
}
