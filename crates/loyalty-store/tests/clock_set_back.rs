//! A record written before the clock was set back (an NTP step, a restored VM) is due now in
//! every state, on every store, so the background work does not wait out the jump; a clock a
//! few seconds apart makes nothing due early. PostgreSQL is the database
//! `LOYALTY_TEST_POSTGRES_URL` names; each test works in its own schema.

mod harness;

use chrono::{DateTime, Duration, TimeZone, Utc};
use harness::record;
use loyalty_core::checkout::{CheckoutState, CheckoutStore, Claim};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

/// The background work's claim: every state, due by now, for a lease of a minute.
fn tick_claim(now: DateTime<Utc>) -> Claim {
    Claim::new(CheckoutState::ALL.to_vec(), "tick", now + Duration::minutes(1), 100).due_by(now)
}

async fn claimed(store: &dyn CheckoutStore, now: DateTime<Utc>) -> Vec<String> {
    let mut orders: Vec<String> = store
        .claim(&tick_claim(now), now)
        .await
        .unwrap()
        .iter()
        .map(|s| s.value.order.as_str().to_owned())
        .collect();
    orders.sort();
    orders
}

#[tokio::test]
async fn a_backoff_an_action_timeout_and_a_hold_expiry_written_before_a_set_back_are_due_now() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        // Written at t0 on the old clock: a resend in 10 minutes, a customer's 3-D Secure
        // timeout in 30, holds expiring in 15; a delivered sale waits for nothing.
        let waits = [
            ("o-backoff", CheckoutState::Pending, Duration::minutes(10)),
            ("o-action", CheckoutState::AwaitingAction, Duration::minutes(30)),
            ("o-holds", CheckoutState::Prepared, Duration::minutes(15)),
        ];
        for (order, state, after) in waits {
            store.save(&record(order, state, Some(t0() + after), t0()), None).await.unwrap().unwrap();
        }
        store.save(&record("o-sent", CheckoutState::Sent, None, t0()), None).await.unwrap().unwrap();
        // The clock is set back a day, then two hours pass.
        let now = t0() - Duration::days(1) + Duration::hours(2);
        assert_eq!(claimed(store.as_ref(), now).await, ["o-action", "o-backoff", "o-holds"], "{name}");
    }
}

#[tokio::test]
async fn a_record_written_on_a_clock_up_to_two_leases_ahead_is_not_due_early() {
    let (stores, _dir) = harness::every_store().await;
    for (name, store) in stores {
        store
            .save(
                &record("o-action", CheckoutState::AwaitingAction, Some(t0() + Duration::minutes(30)), t0()),
                None,
            )
            .await
            .unwrap()
            .unwrap();
        // Another instance's clock seconds behind, and up to two leases (two minutes) behind.
        for behind in [Duration::seconds(5), Duration::minutes(2)] {
            assert!(claimed(store.as_ref(), t0() - behind).await.is_empty(), "{name}: {behind} behind");
        }
        // A moment more than two leases behind: written before the clock was set back.
        let now = t0() - Duration::minutes(2) - Duration::milliseconds(1);
        assert_eq!(claimed(store.as_ref(), now).await, ["o-action"], "{name}");
    }
}
