//! The `CheckoutStore` contract, run against every store: process memory, SQLite and
//! PostgreSQL. PostgreSQL is the database `LOYALTY_TEST_POSTGRES_URL` names (`.ci/run` starts
//! one and sets it); each test works in its own schema.

mod harness;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use loyalty_core::checkout::{
    CheckoutRecord, CheckoutState, CheckoutStore, Claim, IdUse, ReplyState, Stored, StoredReply,
};
use loyalty_core::returns::{ReturnLedger, ReturnWithoutReceipt};
use loyalty_core::{Basket, Currency, Transaction, TransactionId};
#[cfg(feature = "postgres")]
use loyalty_store::PostgresCheckoutStore;
use loyalty_store::SqliteCheckoutStore;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

/// A record in `state` due at `due`, written at [`t0`].
fn record(order: &str, state: CheckoutState, due: Option<DateTime<Utc>>) -> CheckoutRecord {
    harness::record(order, state, due, t0())
}

/// A scratch folder, removed when the test ends.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("loyalty-store-").tempdir().unwrap()
}

#[tokio::test]
async fn a_new_order_is_written_once() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let r = record("o-1", CheckoutState::Preparing, None);
        assert_eq!(store.save(&r, None).await.unwrap(), Some(1), "{name}");
        assert_eq!(store.save(&r, None).await.unwrap(), None, "{name}: a second creation loses");
        let loaded = store.load(&r.order).await.unwrap().expect("stored");
        assert_eq!(loaded.version, 1, "{name}");
        assert_eq!(loaded.value, r, "{name}: the record reads back as written");
    }
}

#[tokio::test]
async fn a_write_under_a_stale_version_changes_nothing() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let mut r = record("o-2", CheckoutState::Preparing, None);
        store.save(&r, None).await.unwrap();
        r.state = CheckoutState::Prepared;
        assert_eq!(store.save(&r, Some(1)).await.unwrap(), Some(2), "{name}");
        r.state = CheckoutState::Charging;
        assert_eq!(store.save(&r, Some(1)).await.unwrap(), None, "{name}: version 1 is stale");
        let loaded = store.load(&r.order).await.unwrap().unwrap();
        assert_eq!((loaded.version, loaded.value.state), (2, CheckoutState::Prepared), "{name}");
        assert!(store.load(&TransactionId::new("nope")).await.unwrap().is_none(), "{name}");
    }
}

#[tokio::test]
async fn racing_writers_of_one_version_leave_exactly_one_winner() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let r = record("o-race", CheckoutState::Prepared, None);
        store.save(&r, None).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = store.clone();
            let mut mine = r.clone();
            mine.notes = vec![format!("writer {i}")];
            mine.state = CheckoutState::Charging;
            tasks.push(tokio::spawn(async move { store.save(&mine, Some(1)).await.unwrap() }));
        }
        let mut wins = 0;
        for t in tasks {
            if t.await.unwrap().is_some() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "{name}: one charge per order needs one winner");
    }
}

#[tokio::test]
async fn claims_take_due_records_once_until_the_claim_lapses() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let now = t0();
        let due = record("o-due", CheckoutState::Pending, Some(now - Duration::seconds(5)));
        let later = record("o-later", CheckoutState::Pending, Some(now + Duration::minutes(5)));
        let sent = record("o-sent", CheckoutState::Sent, None);
        for r in [&due, &later, &sent] {
            store.save(r, None).await.unwrap();
        }
        let claim =
            Claim::new(vec![CheckoutState::Pending], "a", now + Duration::seconds(30), 10).due_by(now);
        let got: Vec<String> =
            store.claim(&claim, now).await.unwrap().into_iter().map(|s| s.value.order.to_string()).collect();
        assert_eq!(got, vec!["o-due".to_string()], "{name}");
        let again =
            Claim::new(vec![CheckoutState::Pending], "b", now + Duration::seconds(30), 10).due_by(now);
        assert!(store.claim(&again, now).await.unwrap().is_empty(), "{name}: claimed by a");
        // After the claim lapses another instance may take it.
        let lapse = now + Duration::seconds(31);
        let taken = store.claim(&again, lapse).await.unwrap();
        assert_eq!(taken.len(), 1, "{name}");
        // Saving ends the claim.
        store.save(&taken[0].value, Some(taken[0].version)).await.unwrap().expect("saved");
        let any = Claim::new(vec![CheckoutState::Pending], "c", lapse + Duration::seconds(30), 10);
        let all: BTreeSet<String> =
            store.claim(&any, lapse).await.unwrap().into_iter().map(|s| s.value.order.to_string()).collect();
        assert_eq!(all, ["o-due", "o-later"].map(String::from).into_iter().collect(), "{name}: any due time");
    }
}

#[tokio::test]
async fn concurrent_claimers_split_the_outbox_without_overlap() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let now = t0();
        for i in 0..40 {
            store.save(&record(&format!("p-{i:02}"), CheckoutState::Pending, Some(now)), None).await.unwrap();
        }
        let mut tasks = Vec::new();
        for w in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let c = Claim::new(
                        vec![CheckoutState::Pending],
                        format!("w{w}"),
                        now + Duration::minutes(1),
                        3,
                    )
                    .due_by(now);
                    let got = store.claim(&c, now).await.unwrap();
                    if got.is_empty() {
                        break mine;
                    }
                    mine.extend(got.into_iter().map(|s| s.value.order.to_string()));
                }
            }));
        }
        let mut seen = Vec::new();
        for t in tasks {
            seen.extend(t.await.unwrap());
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(seen.len(), 40, "{name}: every pending send claimed");
        assert_eq!(unique.len(), 40, "{name}: none claimed twice");
    }
}

#[tokio::test]
async fn lists_by_state_oldest_first() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let mut a = record("l-a", CheckoutState::Pending, None);
        a.updated_at = t0() + Duration::seconds(2);
        let mut b = record("l-b", CheckoutState::Pending, None);
        b.updated_at = t0() + Duration::seconds(1);
        let c = record("l-c", CheckoutState::Sent, None);
        for r in [&a, &b, &c] {
            store.save(r, None).await.unwrap();
        }
        let pending: Vec<String> = store
            .list(&[CheckoutState::Pending])
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.order.to_string())
            .collect();
        assert_eq!(pending, vec!["l-b".to_string(), "l-a".to_string()], "{name}");
    }
}

#[tokio::test]
async fn return_ledgers_follow_the_same_versioning() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let tx = Transaction::from_priced(
            TransactionId::new("r-1"),
            t0(),
            None,
            &Basket::new(Currency::NOK),
            &loyalty_core::pricing::price(&Basket::new(Currency::NOK), &[], &[], t0()).unwrap(),
            &[],
        )
        .unwrap();
        let mut ledger = ReturnLedger::new(tx);
        assert_eq!(store.save_ledger(&ledger, None).await.unwrap(), Some(1), "{name}");
        assert_eq!(store.save_ledger(&ledger, None).await.unwrap(), None, "{name}");
        ledger.in_progress = Some(TransactionId::new("r-1-a"));
        assert_eq!(store.save_ledger(&ledger, Some(1)).await.unwrap(), Some(2), "{name}");
        assert_eq!(store.save_ledger(&ledger, Some(1)).await.unwrap(), None, "{name}");
        let back = store.load_ledger(&TransactionId::new("r-1")).await.unwrap().unwrap();
        assert_eq!((back.version, back.value), (2, ledger), "{name}");
    }
}

#[tokio::test]
async fn returns_without_a_receipt_follow_the_same_versioning() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let id = TransactionId::new("u-1");
        assert!(store.load_return_without_receipt(&id).await.unwrap().is_none(), "{name}");
        let mut record = ReturnWithoutReceipt::under_way(id.clone(), "goods-a".into(), t0());
        assert_eq!(store.save_return_without_receipt(&record, None).await.unwrap(), Some(1), "{name}");
        // A second instance starting the same return at once loses.
        assert_eq!(store.save_return_without_receipt(&record, None).await.unwrap(), None, "{name}");
        record.until = None;
        record.goods = None;
        assert_eq!(store.save_return_without_receipt(&record, Some(1)).await.unwrap(), Some(2), "{name}");
        assert_eq!(store.save_return_without_receipt(&record, Some(1)).await.unwrap(), None, "{name}");
        let back = store.load_return_without_receipt(&id).await.unwrap().unwrap();
        assert_eq!((back.version, back.value), (2, record), "{name}");
    }
}

/// A SQLite file written before returns without a receipt were kept (its schema one step
/// behind) opens: the step is applied and its records read as before.
#[tokio::test]
async fn a_store_from_before_returns_without_a_receipt_were_kept_opens_with_its_records() {
    let dir = scratch();
    let path = dir.path().join("older.db");
    let store = SqliteCheckoutStore::open(&path).await.unwrap();
    store.save(&record("o-old", CheckoutState::Pending, Some(t0())), None).await.unwrap().unwrap();
    drop(store);
    // Back to the schema of the build before: no such table, one step fewer.
    let raw = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    sqlx::query("DROP TABLE returns_without_receipt").execute(&raw).await.unwrap();
    sqlx::query(
        "DELETE FROM loyalty_store_schema WHERE version = (SELECT MAX(version) FROM loyalty_store_schema)",
    )
    .execute(&raw)
    .await
    .unwrap();
    raw.close().await;
    let store = SqliteCheckoutStore::open(&path).await.unwrap();
    let back = store.load(&TransactionId::new("o-old")).await.unwrap().unwrap();
    assert_eq!(back.value.order.as_str(), "o-old");
    let record = ReturnWithoutReceipt::under_way(TransactionId::new("u-1"), "goods".into(), t0());
    assert_eq!(store.save_return_without_receipt(&record, None).await.unwrap(), Some(1));
}

#[tokio::test]
async fn service_replies_are_taken_once_and_answered_for_every_repeat() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let key = "members.register:k-1";
        assert!(store.load_reply(key).await.unwrap().is_none(), "{name}");
        let running = StoredReply::running(key, "fp-a", t0() + Duration::seconds(30));
        assert_eq!(store.save_reply(&running, None).await.unwrap(), Some(1), "{name}");
        // A second instance taking the same key at once loses.
        assert_eq!(store.save_reply(&running, None).await.unwrap(), None, "{name}");
        let done = StoredReply::done(key, "fp-a", 201, "{\"id\":\"m-1\"}".into());
        assert_eq!(store.save_reply(&done, Some(1)).await.unwrap(), Some(2), "{name}");
        assert_eq!(store.save_reply(&done, Some(1)).await.unwrap(), None, "{name}");
        let back = store.load_reply(key).await.unwrap().unwrap();
        assert_eq!(back.version, 2, "{name}");
        assert_eq!(
            back.value.state,
            ReplyState::Done { status: 201, body: "{\"id\":\"m-1\"}".into() },
            "{name}"
        );
        assert_eq!(back.value.fingerprint, "fp-a", "{name}");
    }
}

#[tokio::test]
async fn sqlite_state_survives_reopening_the_file() {
    let dir = scratch();
    let path = dir.path().join("checkout.db");
    let r = record("o-keep", CheckoutState::Pending, Some(t0()));
    {
        let store = SqliteCheckoutStore::open(&path).await.unwrap();
        store.save(&r, None).await.unwrap();
    }
    let reopened = SqliteCheckoutStore::open(&path).await.unwrap();
    assert_eq!(reopened.load(&r.order).await.unwrap().unwrap().value, r);
}

#[tokio::test]
async fn open_picks_the_store_from_the_url_and_names_an_unknown_scheme() {
    let dir = scratch();
    let url = format!("sqlite:{}", dir.path().join("x.db").display());
    let store = loyalty_store::open(&url).await.unwrap();
    assert!(format!("{store:?}").contains("Sqlite"));
    assert!(format!("{:?}", loyalty_store::open("memory:").await.unwrap()).contains("Memory"));
    let err = loyalty_store::open("mysql://localhost/x").await.unwrap_err();
    assert!(
        matches!(err.kind(), loyalty_core::ErrorKind::Invalid { field, .. } if field == "store"),
        "{err}"
    );
    assert!(err.to_string().contains("mysql"), "{err}");
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_postgres_url_with_a_password_never_shows_it() {
    let err = PostgresCheckoutStore::connect("postgres://user:hunter2@127.0.0.1:1/db").await.unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"));
}

#[tokio::test]
async fn a_record_this_build_cannot_read_does_not_stop_the_others_and_a_newer_schema_is_refused() {
    let dir = scratch();
    let path = dir.path().join("mixed.db");
    let store = SqliteCheckoutStore::open(&path).await.unwrap();
    let due = Some(t0());
    for order in ["o-good", "o-new"] {
        store.save(&record(order, CheckoutState::Pending, due), None).await.unwrap().unwrap();
    }
    // A newer build wrote a record shape this one does not know.
    let raw = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    sqlx::query("UPDATE checkouts SET record = ? WHERE order_id = 'o-new'")
        .bind(r#"{"order": "o-new", "state": "a_state_from_the_future"}"#)
        .execute(&raw)
        .await
        .unwrap();
    let claim = Claim::new(vec![CheckoutState::Pending], "me", t0() + Duration::minutes(1), 10).due_by(t0());
    let claimed = store.claim(&claim, t0()).await.unwrap();
    assert_eq!(claimed.iter().map(|s| s.value.order.as_str()).collect::<Vec<_>>(), ["o-good"]);
    let listed = store.list(&[CheckoutState::Pending]).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.order.as_str()).collect::<Vec<_>>(), ["o-good"]);

    // A schema step this build does not have: refused, naming the store.
    sqlx::query("INSERT INTO loyalty_store_schema (version) VALUES (99)").execute(&raw).await.unwrap();
    raw.close().await;
    drop(store);
    let err = SqliteCheckoutStore::open(&path).await.unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");
}

#[tokio::test]
async fn a_due_time_inside_a_millisecond_is_not_claimed_before_it_is_due() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let due = t0() + Duration::microseconds(500);
        store.save(&record("o-sub", CheckoutState::Pending, Some(due)), None).await.unwrap().unwrap();
        let at =
            |now| Claim::new(vec![CheckoutState::Pending], "me", now + Duration::minutes(1), 10).due_by(now);
        assert!(store.claim(&at(t0()), t0()).await.unwrap().is_empty(), "{name}: not due at {}", t0());
        let later = t0() + Duration::milliseconds(1);
        assert_eq!(store.claim(&at(later), later).await.unwrap().len(), 1, "{name}");
    }
}

#[tokio::test]
async fn a_claim_made_before_the_clock_was_set_back_does_not_hold_the_record() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        store.save(&record("o-back", CheckoutState::Pending, Some(t0())), None).await.unwrap().unwrap();
        let claim_at = |now: DateTime<Utc>| {
            Claim::new(vec![CheckoutState::Pending], "me", now + Duration::minutes(1), 10).due_by(now)
        };
        // Claimed an hour ahead, then the clock is set back by that hour.
        let ahead = t0() + Duration::hours(1);
        assert_eq!(store.claim(&claim_at(ahead), ahead).await.unwrap().len(), 1, "{name}");
        assert_eq!(
            store.claim(&claim_at(t0()), t0()).await.unwrap().len(),
            1,
            "{name}: the old claim lapsed"
        );
        // A live claim on a clock a few seconds ahead still holds.
        let behind = t0() - Duration::seconds(5);
        assert!(
            store.claim(&claim_at(behind), t0() + Duration::seconds(1)).await.unwrap().is_empty(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_lease_written_before_the_clock_was_set_back_is_due_now() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let far = t0() + Duration::hours(1);
        store.save(&record("o-lease", CheckoutState::Charging, Some(far)), None).await.unwrap().unwrap();
        // A backoff or hold expiry that far ahead is not a lease: it is not due.
        store.save(&record("o-backoff", CheckoutState::Pending, Some(far)), None).await.unwrap().unwrap();
        let claim =
            Claim::new(CheckoutState::ALL.to_vec(), "me", t0() + Duration::minutes(1), 10).due_by(t0());
        let claimed = store.claim(&claim, t0()).await.unwrap();
        assert_eq!(claimed.iter().map(|s| s.value.order.as_str()).collect::<Vec<_>>(), ["o-lease"], "{name}");
        // A lease within bounds (another instance working now) is not due.
        store
            .save(&record("o-live", CheckoutState::Charging, Some(t0() + Duration::seconds(50))), None)
            .await
            .unwrap()
            .unwrap();
        let later =
            Claim::new(CheckoutState::ALL.to_vec(), "me", t0() + Duration::minutes(1), 10).due_by(t0());
        assert!(store.claim(&later, t0()).await.unwrap().is_empty(), "{name}");
    }
}

fn return_of(original: Option<&str>) -> IdUse {
    IdUse::Return { original: original.map(TransactionId::new) }
}

#[tokio::test]
async fn an_id_is_reserved_for_its_first_use_and_keeps_it() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let reserve = |id: &str, usage: IdUse| {
            let store = store.clone();
            let id = TransactionId::new(id);
            async move { store.reserve_id(&id, &usage).await.unwrap() }
        };
        // A free id takes the use asked; the same use again is answered the same.
        assert_eq!(reserve("o-1", IdUse::Order).await, IdUse::Order, "{name}");
        assert_eq!(reserve("o-1", IdUse::Order).await, IdUse::Order, "{name}");
        assert_eq!(reserve("r-1", return_of(Some("o-1"))).await, return_of(Some("o-1")), "{name}");
        assert_eq!(reserve("r-1", return_of(Some("o-1"))).await, return_of(Some("o-1")), "{name}");
        assert_eq!(reserve("u-1", return_of(None)).await, return_of(None), "{name}");
        // Another use gets the first one's answer, and changes nothing.
        for other in [return_of(Some("o-2")), return_of(None)] {
            assert_eq!(reserve("o-1", other.clone()).await, IdUse::Order, "{name}: {other:?}");
        }
        for other in [IdUse::Order, return_of(Some("o-2")), return_of(None)] {
            assert_eq!(reserve("r-1", other.clone()).await, return_of(Some("o-1")), "{name}: {other:?}");
        }
        for other in [IdUse::Order, return_of(Some("o-1"))] {
            assert_eq!(reserve("u-1", other.clone()).await, return_of(None), "{name}: {other:?}");
        }
        assert_eq!(reserve("o-1", IdUse::Order).await, IdUse::Order, "{name}: still the order's");
        // Reservations are apart from records: reserving writes no checkout record.
        assert!(store.load(&TransactionId::new("o-1")).await.unwrap().is_none(), "{name}");
    }
}

#[tokio::test]
async fn two_instances_reserving_one_id_at_once_agree_on_exactly_one_use() {
    let (pairs, _dir) = harness::every_store_twice().await;
    for (name, [a, b]) in pairs {
        for i in 0..24 {
            let id = TransactionId::new(format!("race-{i}"));
            let (order, ret) = (IdUse::Order, return_of(Some("o-race")));
            // Alternate who asks first, so either may win.
            let (x, y) = if i % 2 == 0 {
                tokio::join!(a.reserve_id(&id, &order), b.reserve_id(&id, &ret))
            } else {
                let (y, x) = tokio::join!(b.reserve_id(&id, &ret), a.reserve_id(&id, &order));
                (x, y)
            };
            let (x, y) = (x.unwrap(), y.unwrap());
            assert_eq!(x, y, "{name}: both instances are told the one use of {id}");
            assert!(x == order || x == ret, "{name}: {x:?}");
            // What both were told is what stands.
            assert_eq!(a.reserve_id(&id, &return_of(None)).await.unwrap(), x, "{name}");
            assert_eq!(b.reserve_id(&id, &return_of(None)).await.unwrap(), x, "{name}");
        }
    }
}

#[tokio::test]
async fn sqlite_reservations_survive_reopening_the_file() {
    let dir = scratch();
    let path = dir.path().join("checkout.db");
    {
        let store = SqliteCheckoutStore::open(&path).await.unwrap();
        assert_eq!(store.reserve_id(&TransactionId::new("o-k"), &IdUse::Order).await.unwrap(), IdUse::Order);
        let r = return_of(Some("o-k"));
        assert_eq!(store.reserve_id(&TransactionId::new("r-k"), &r).await.unwrap(), r);
        let u = return_of(None);
        assert_eq!(store.reserve_id(&TransactionId::new("u-k"), &u).await.unwrap(), u);
    }
    let reopened = SqliteCheckoutStore::open(&path).await.unwrap();
    let other = return_of(Some("o-other"));
    assert_eq!(reopened.reserve_id(&TransactionId::new("o-k"), &other).await.unwrap(), IdUse::Order);
    assert_eq!(
        reopened.reserve_id(&TransactionId::new("r-k"), &other).await.unwrap(),
        return_of(Some("o-k"))
    );
    assert_eq!(reopened.reserve_id(&TransactionId::new("u-k"), &other).await.unwrap(), return_of(None));
}

/// A checkout claims for its own provider: a record started at another provider (a provider
/// switch under way, two instances on one store) is neither claimed nor held from the
/// instance that runs its provider; a record naming none (written before records named their
/// provider) is anyone's, and an update keeps the claim filter in step with the record.
#[tokio::test]
async fn a_claim_for_one_provider_leaves_another_providers_records_alone() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        let now = t0();
        let due = Some(now - Duration::seconds(5));
        let mut first = record("o-first", CheckoutState::Pending, due);
        first.provider = Some("diller".into());
        let mut second = record("o-second", CheckoutState::Pending, due);
        second.provider = Some("sessionm".into());
        let old = record("o-old", CheckoutState::Pending, due);
        for r in [&first, &second, &old] {
            store.save(r, None).await.unwrap();
        }
        let until = now + Duration::seconds(30);
        let claim = |owner: &str, provider: &str| {
            Claim::new(vec![CheckoutState::Pending], owner, until, 10).due_by(now).for_provider(provider)
        };
        let orders = |got: Vec<Stored<CheckoutRecord>>| -> BTreeSet<String> {
            got.into_iter().map(|s| s.value.order.to_string()).collect()
        };
        let by_sessionm = orders(store.claim(&claim("b", "sessionm"), now).await.unwrap());
        assert_eq!(by_sessionm, ["o-old", "o-second"].map(String::from).into_iter().collect(), "{name}");
        // The Diller instance still gets its own record at once.
        let by_diller = orders(store.claim(&claim("a", "diller"), now).await.unwrap());
        assert_eq!(by_diller, ["o-first"].map(String::from).into_iter().collect(), "{name}");
        // The old record, now written by the SessionM instance, is SessionM's.
        let stored = store.load(&TransactionId::new("o-old")).await.unwrap().unwrap();
        let mut old = stored.value;
        old.provider = Some("sessionm".into());
        store.save(&old, Some(stored.version)).await.unwrap().expect("saved");
        let later = now + Duration::seconds(31);
        let again = Claim::new(vec![CheckoutState::Pending], "a", later + Duration::seconds(30), 10)
            .due_by(later)
            .for_provider("diller");
        assert_eq!(
            orders(store.claim(&again, later).await.unwrap()),
            ["o-first"].map(String::from).into_iter().collect(),
            "{name}"
        );
    }
}
