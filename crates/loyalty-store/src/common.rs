//! What both SQL stores share: the schema, time and JSON encoding, error mapping.

use chrono::{DateTime, Utc};
use loyalty_core::checkout::{CheckoutRecord, CheckoutState, StoredReply};
use loyalty_core::returns::ReturnLedger;
use loyalty_core::{Error, ErrorKind, WriteEffect};

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
];

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
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

pub(crate) fn encode_reply(reply: &StoredReply) -> Result<String, Error> {
    serde_json::to_string(reply).map_err(|e| {
        Error::invalid(PROVIDER, "store.save_reply", "reply", e.to_string()).with_effect(WriteEffect::NotSent)
    })
}

pub(crate) fn decode_reply(text: &str) -> Result<StoredReply, Error> {
    serde_json::from_str(text).map_err(|e| loyalty_core::checkout::corrupt(format!("service reply: {e}")))
}

pub(crate) fn state_labels(states: &[CheckoutState]) -> Vec<String> {
    states.iter().map(|s| s.label().to_string()).collect()
}

/// A database error as the one `Error`: a connection that failed or timed out is temporary
/// (`Unavailable`); anything else says the store is not what this code expects.
pub(crate) fn db_error(op: &str, err: sqlx::Error) -> Error {
    let temporary = matches!(
        err,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed
    ) || matches!(&err, sqlx::Error::Database(d) if d.message().contains("locked") || d.message().contains("busy"));
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
