//! What both SQL stores share: the schema, time and JSON encoding, error mapping.

use chrono::{DateTime, Utc};
use loyalty_core::checkout::{CheckoutRecord, CheckoutState, IdUse, Stored, StoredReply};
use loyalty_core::returns::{ReturnLedger, ReturnWithoutReceipt};
use loyalty_core::{Error, ErrorKind, TransactionId, WriteEffect};

/// The provider name in errors.
pub(crate) const PROVIDER: &str = "checkout-store";

/// The schema, one step per entry; a store applies the steps it has not applied yet, in one
/// transaction each. Written in the SQL both SQLite and PostgreSQL accept (times are Unix
/// milliseconds, records JSON text), so the two stores cannot drift apart.
pub(crate) const MIGRATIONS: &[&str] = &[
    "CREATE TABLE checkouts (
        order_id TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        state TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        due_at BIGINT,
        claimed_by TEXT,
        claimed_until BIGINT,
        updated_at BIGINT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX checkouts_due ON checkouts (state, due_at);
    CREATE TABLE return_ledgers (
        original_id TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        ledger TEXT NOT NULL
    );",
    "CREATE TABLE service_replies (
        reply_key TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        reply TEXT NOT NULL
    );",
    // What each order and return id is reserved for: `id_use` is `order` or `return`, and
    // `original_id` the order a return's goods came from (NULL: an order, or no receipt).
    "CREATE TABLE reserved_ids (
        id TEXT PRIMARY KEY,
        id_use TEXT NOT NULL,
        original_id TEXT
    );",
    // The provider each order was started at (the record's `provider`), so a claim leaves
    // another provider's records alone; NULL for rows written before records named one.
    "ALTER TABLE checkouts ADD COLUMN provider TEXT;",
    // Named leases several instances share (`loyalty_core::locks::SharedLocks`): one row per
    // lease taken and not released; `held_until` in Unix milliseconds.
    "CREATE TABLE shared_locks (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        held_until BIGINT NOT NULL
    );",
    // Returns without a receipt, by return id: the goods each id was used for and the outcome
    // (`loyalty_core::returns::ReturnWithoutReceipt`, JSON).
    "CREATE TABLE returns_without_receipt (
        return_id TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        record TEXT NOT NULL
    );",
];

/// An id use as its `reserved_ids` columns: (`id_use`, `original_id`).
pub(crate) fn encode_id_use(usage: &IdUse) -> Result<(&'static str, Option<&str>), Error> {
    match usage {
        IdUse::Order => Ok(("order", None)),
        IdUse::Return { original } => Ok(("return", original.as_ref().map(TransactionId::as_str))),
        other => {
            Err(Error::invalid(PROVIDER, "store.reserve_id", "usage", format!("{other:?} cannot be stored"))
                .with_effect(WriteEffect::NotSent))
        }
    }
}

/// The id use a `reserved_ids` row holds.
pub(crate) fn decode_id_use(id_use: &str, original: Option<String>) -> Result<IdUse, Error> {
    match (id_use, original) {
        ("order", None) => Ok(IdUse::Order),
        ("return", original) => Ok(IdUse::Return { original: original.map(TransactionId::new) }),
        (other, original) => Err(loyalty_core::checkout::corrupt(format!(
            "reserved id: use {other:?} with original {original:?}"
        ))),
    }
}

/// Refuses a store whose schema is newer than this build's: an older binary would misread or
/// skip the records a newer one writes (a rolled-back deploy sharing the database).
pub(crate) fn check_schema(applied: usize) -> Result<(), Error> {
    if applied > MIGRATIONS.len() {
        return Err(Error::invalid(
            PROVIDER,
            "store.migrate",
            "store",
            format!(
                "the store's schema is at step {applied}, newer than this build knows ({}): run the newer build",
                MIGRATIONS.len()
            ),
        ));
    }
    Ok(())
}

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A due time as stored: rounded up to the millisecond, so a record the SQL finds due (at
/// millisecond precision) is due to the checkout too (at full precision); rounded down, the
/// claim would take a record the checkout then finds not yet due, and hold it a whole lease.
pub(crate) fn due_millis(at: DateTime<Utc>) -> i64 {
    let floor = at.timestamp_millis();
    if at.timestamp_subsec_nanos() % 1_000_000 == 0 {
        floor
    } else {
        floor.saturating_add(1)
    }
}

/// Claimed rows as records, oldest due first. A row this build cannot read (written by a newer
/// one, or damaged) is left out with a warning instead of failing the batch: one bad record must
/// not stop the outbox and the hold sweeper for every other order. Its claim lapses with the
/// lease, so it is looked at again.
pub(crate) fn claimed_records(rows: Vec<(i64, String)>) -> Vec<Stored<CheckoutRecord>> {
    let mut out: Vec<Stored<CheckoutRecord>> = rows
        .into_iter()
        .filter_map(|(v, r)| readable("store.claim", &r).map(|value| Stored { value, version: v as u64 }))
        .collect();
    out.sort_by(|a, b| {
        let key = |s: &Stored<CheckoutRecord>| {
            (s.value.due_at.unwrap_or(s.value.updated_at), s.value.order.clone())
        };
        key(a).cmp(&key(b))
    });
    out
}

/// Listed rows as records; an unreadable one is left out with a warning, as in [`claimed_records`].
pub(crate) fn listed_records(rows: &[String]) -> Vec<CheckoutRecord> {
    rows.iter().filter_map(|r| readable("store.list", r)).collect()
}

fn readable(op: &str, text: &str) -> Option<CheckoutRecord> {
    match decode_record(text) {
        Ok(record) => Some(record),
        Err(e) => {
            // The order id, when the JSON has one, says which record to look at.
            let order = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("order").and_then(|o| o.as_str()).map(str::to_owned))
                .unwrap_or_default();
            tracing::warn!(operation = op, order, error = %e, "a checkout record this build cannot read was skipped");
            None
        }
    }
}

pub(crate) fn encode_record(record: &CheckoutRecord) -> Result<String, Error> {
    serde_json::to_string(record).map_err(|e| {
        Error::invalid(PROVIDER, "store.save", "record", e.to_string()).with_effect(WriteEffect::NotSent)
    })
}

pub(crate) fn decode_record(text: &str) -> Result<CheckoutRecord, Error> {
    serde_json::from_str(text).map_err(|e| loyalty_core::checkout::corrupt(format!("checkout record: {e}")))
}

pub(crate) fn encode_ledger(ledger: &ReturnLedger) -> Result<String, Error> {
    serde_json::to_string(ledger).map_err(|e| {
        Error::invalid(PROVIDER, "store.save_ledger", "ledger", e.to_string())
            .with_effect(WriteEffect::NotSent)
    })
}

pub(crate) fn decode_ledger(text: &str) -> Result<ReturnLedger, Error> {
    serde_json::from_str(text).map_err(|e| loyalty_core::checkout::corrupt(format!("return ledger: {e}")))
}

pub(crate) fn encode_without_receipt(record: &ReturnWithoutReceipt) -> Result<String, Error> {
    serde_json::to_string(record).map_err(|e| {
        Error::invalid(PROVIDER, "store.save_return_without_receipt", "record", e.to_string())
            .with_effect(WriteEffect::NotSent)
    })
}

pub(crate) fn decode_without_receipt(text: &str) -> Result<ReturnWithoutReceipt, Error> {
    serde_json::from_str(text)
        .map_err(|e| loyalty_core::checkout::corrupt(format!("return without a receipt: {e}")))
}

pub(crate) fn encode_reply(reply: &StoredReply) -> Result<String, Error> {
    serde_json::to_string(reply).map_err(|e| {
        Error::invalid(PROVIDER, "store.save_reply", "reply", e.to_string()).with_effect(WriteEffect::NotSent)
    })
}

pub(crate) fn decode_reply(text: &str) -> Result<StoredReply, Error> {
    serde_json::from_str(text).map_err(|e| loyalty_core::checkout::corrupt(format!("service reply: {e}")))
}

/// The states whose due time is an instance's lease: one due further ahead than a claim
/// could be was written before the clock was set back, and is due now
/// ([`loyalty_core::checkout::Claim::lapsed_lease`]).
pub(crate) fn in_progress_labels() -> Vec<String> {
    state_labels(&CheckoutState::ALL.iter().copied().filter(|s| s.is_in_progress()).collect::<Vec<_>>())
}

pub(crate) fn state_labels(states: &[CheckoutState]) -> Vec<String> {
    states.iter().map(|s| s.label().to_string()).collect()
}

/// A database error as the one `Error`: a connection that failed or timed out, and a
/// statement the database refused for the moment (busy, locked, a serialization failure or
/// deadlock, a server shutting down or out of connections) is temporary (`Unavailable`);
/// anything else says the store is not what this code expects.
pub(crate) fn db_error(op: &str, err: sqlx::Error) -> Error {
    let temporary = matches!(
        err,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed
    ) || matches!(&err, sqlx::Error::Database(d) if d.code().is_some_and(|c| transient_code(&c))
        || d.message().contains("locked") || d.message().contains("busy"));
    let kind = if temporary { ErrorKind::Unavailable } else { ErrorKind::Protocol };
    // Database messages may quote values; keep the kind of failure, not the data.
    let message = match &err {
        sqlx::Error::Database(d) => {
            format!("database refused the statement: {}", d.code().unwrap_or_default())
        }
        other => format!("{}", ErrorSummary(other)),
    };
    Error::new(kind, PROVIDER, op)
        .with_temporary(temporary)
        .with_effect(WriteEffect::Unknown)
        .with_message(message)
}

/// Whether a database error code says "try again": SQLite's result codes (extended codes
/// carry the primary one in their low byte) BUSY (5) and LOCKED (6); PostgreSQL's SQLSTATE
/// classes 08 (connection), 40 (serialization failure, deadlock), 53 (out of resources) and
/// 57P01-57P03 (shutting down, cannot connect now), and 55P03 (lock not available).
pub(crate) fn transient_code(code: &str) -> bool {
    // A SQLSTATE is five characters; SQLite's codes have at most four digits.
    if code.len() < 5 {
        return code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 6));
    }
    ["08", "40", "53"].iter().any(|class| code.starts_with(class))
        || matches!(code, "57P01" | "57P02" | "57P03" | "55P03")
}

struct ErrorSummary<'a>(&'a sqlx::Error);

impl std::fmt::Display for ErrorSummary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            sqlx::Error::Io(e) => write!(f, "database connection failed: {e}"),
            sqlx::Error::PoolTimedOut => f.write_str("no database connection free in time"),
            sqlx::Error::PoolClosed => f.write_str("the database pool is closed"),
            sqlx::Error::Configuration(_) => f.write_str("the database URL is not usable"),
            sqlx::Error::Tls(_) => f.write_str("TLS to the database failed"),
            other => write!(f, "database error: {}", other.to_string().chars().take(200).collect::<String>()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_database_codes_are_told_from_the_rest() {
        for code in ["5", "6", "517", "261", "262", "40001", "40P01", "08006", "53300", "57P01", "55P03"] {
            assert!(transient_code(code), "{code}");
        }
        for code in ["19", "2067", "1", "23505", "22021", "42P01", "54000", ""] {
            assert!(!transient_code(code), "{code}");
        }
    }

    #[test]
    fn due_times_round_up_to_the_millisecond() {
        let at = DateTime::from_timestamp(10, 500_001).unwrap();
        assert_eq!(due_millis(at), 10_001);
        let exact = DateTime::from_timestamp(10, 1_000_000).unwrap();
        assert_eq!(due_millis(exact), 10_001);
        assert_eq!(due_millis(DateTime::from_timestamp(10, 0).unwrap()), 10_000);
    }

    #[test]
    fn an_unreadable_row_is_left_out_and_the_rest_kept() {
        let rows = vec![
            (3, "{\"order\": \"o-new\", \"state\": \"from_the_future\"}".to_owned()),
            (1, "not json".into()),
        ];
        assert!(claimed_records(rows).is_empty());
        assert!(listed_records(&["{}".to_owned()]).is_empty());
    }
}
