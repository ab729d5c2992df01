//! The embedded default: checkout state in one SQLite file.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loyalty_core::checkout::{
    CheckoutRecord, CheckoutState, CheckoutStore, Claim, IdUse, Stored, StoredReply,
};
use loyalty_core::returns::{ReturnLedger, ReturnWithoutReceipt};
use loyalty_core::{Error, ErrorKind, Result, TransactionId, WriteEffect};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::Connection;

use crate::common::{
    check_schema, claimed_records, db_error, decode_id_use, decode_ledger, decode_record, decode_reply,
    decode_without_receipt, due_millis, encode_id_use, encode_ledger, encode_record, encode_reply,
    encode_without_receipt, in_progress_labels, listed_records, millis, state_labels, MIGRATIONS, PROVIDER,
};

/// Checkout state in a SQLite file (WAL journal, so readers never wait for the writer).
/// Cheap to clone; clones share the pool.
#[derive(Debug, Clone)]
pub struct SqliteCheckoutStore {
    pub(crate) pool: SqlitePool,
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl SqliteCheckoutStore {
    /// Opens (creating it when missing) and migrates the store at `path`.
    ///
    /// # Errors
    /// `Unavailable` when the file cannot be opened or migrated.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteCheckoutStore> {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| db_error("store.open", e))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| unavailable("store.open", e))?;
        let store = SqliteCheckoutStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the schema steps not applied yet, one writer at a time.
    async fn migrate(&self) -> Result<()> {
        const OP: &str = "store.migrate";
        let mut conn = self.pool.acquire().await.map_err(|e| unavailable(OP, e))?;
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await.map_err(|e| db_error(OP, e))?;
        let result = async {
            sqlx::raw_sql("CREATE TABLE IF NOT EXISTS loyalty_store_schema (version BIGINT NOT NULL)")
                .execute(&mut *conn)
                .await?;
            let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM loyalty_store_schema")
                .fetch_one(&mut *conn)
                .await?;
            let applied = usize::try_from(applied.unwrap_or(0)).unwrap_or(0);
            for (i, step) in MIGRATIONS.iter().enumerate().skip(applied) {
                sqlx::raw_sql(step).execute(&mut *conn).await?;
                sqlx::query("INSERT INTO loyalty_store_schema (version) VALUES (?)")
                    .bind(i as i64 + 1)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok::<_, sqlx::Error>(applied)
        }
        .await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        sqlx::raw_sql(end).execute(&mut *conn).await.map_err(|e| db_error(OP, e))?;
        check_schema(result.map_err(|e| db_error(OP, e))?)?;
        conn.ping().await.map_err(|e| db_error(OP, e))
    }
}

fn unavailable(op: &str, e: sqlx::Error) -> Error {
    Error::new(ErrorKind::Unavailable, PROVIDER, op)
        .with_effect(WriteEffect::NotSent)
        .with_message(format!("cannot open the SQLite store: {}", db_error(op, e).message()))
}

#[async_trait]
impl CheckoutStore for SqliteCheckoutStore {
    async fn load(&self, order: &TransactionId) -> Result<Option<Stored<CheckoutRecord>>> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT version, record FROM checkouts WHERE order_id = ?")
                .bind(order.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_error("store.load", e))?;
        row.map(|(v, r)| Ok(Stored { value: decode_record(&r)?, version: v as u64 })).transpose()
    }

    async fn save(&self, record: &CheckoutRecord, expected: Option<u64>) -> Result<Option<u64>> {
        const OP: &str = "store.save";
        let json = encode_record(record)?;
        let due = record.due_at.map(due_millis);
        let affected = match expected {
            None => sqlx::query(
                "INSERT INTO checkouts (order_id, version, state, fingerprint, due_at, updated_at, record, provider)
                 VALUES (?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
            )
            .bind(record.order.as_str())
            .bind(record.state.label())
            .bind(&record.fingerprint)
            .bind(due)
            .bind(millis(record.updated_at))
            .bind(&json)
            .bind(record.provider.as_deref())
            .execute(&self.pool)
            .await
            .map_err(|e| db_error(OP, e))?
            .rows_affected(),
            Some(v) => sqlx::query(
                "UPDATE checkouts SET version = version + 1, state = ?, fingerprint = ?, due_at = ?,
                 updated_at = ?, record = ?, provider = ?, claimed_by = NULL, claimed_until = NULL
                 WHERE order_id = ? AND version = ?",
            )
            .bind(record.state.label())
            .bind(&record.fingerprint)
            .bind(due)
            .bind(millis(record.updated_at))
            .bind(&json)
            .bind(record.provider.as_deref())
            .bind(record.order.as_str())
            .bind(v as i64)
            .execute(&self.pool)
            .await
            .map_err(|e| db_error(OP, e))?
            .rows_affected(),
        };
        Ok((affected == 1).then(|| expected.map_or(1, |v| v + 1)))
    }

    async fn claim(&self, claim: &Claim, now: DateTime<Utc>) -> Result<Vec<Stored<CheckoutRecord>>> {
        if claim.states.is_empty() || claim.limit == 0 {
            return Ok(Vec::new());
        }
        // One statement: SQLite runs one writer at a time, so two instances cannot both claim.
        let sql = format!(
            "UPDATE checkouts SET claimed_by = ?, claimed_until = ?
             WHERE order_id IN (
                 SELECT order_id FROM checkouts
                 WHERE state IN ({}) AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_until > ?)
                   AND (? IS NULL OR (due_at IS NOT NULL AND (due_at <= ?
                        OR (state IN ({}) AND due_at > ?) OR updated_at > ?)))
                   AND (? IS NULL OR provider IS NULL OR provider = ?)
                 ORDER BY COALESCE(due_at, updated_at), order_id
                 LIMIT ?)
             RETURNING version, record",
            placeholders(claim.states.len()),
            placeholders(in_progress_labels().len())
        );
        let mut q = sqlx::query_as::<_, (i64, String)>(&sql).bind(&claim.owner).bind(millis(claim.until));
        for s in state_labels(&claim.states) {
            q = q.bind(s);
        }
        let due = claim.due_by.map(millis);
        q = q.bind(millis(now)).bind(millis(claim.implausible_after(now))).bind(due).bind(due);
        for s in in_progress_labels() {
            q = q.bind(s);
        }
        // Leases, and any row last written before the clock was set back (Claim::is_due);
        // whole milliseconds compared strictly never find a row due the checkout does not.
        let implausible = millis(claim.implausible_after(now));
        let rows = q
            .bind(implausible)
            .bind(implausible)
            .bind(claim.provider.as_deref())
            .bind(claim.provider.as_deref())
            .bind(claim.limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error("store.claim", e))?;
        Ok(claimed_records(rows))
    }

    async fn list(&self, states: &[CheckoutState]) -> Result<Vec<CheckoutRecord>> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT record FROM checkouts WHERE state IN ({}) ORDER BY updated_at, order_id",
            placeholders(states.len())
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for s in state_labels(states) {
            q = q.bind(s);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(|e| db_error("store.list", e))?;
        Ok(listed_records(&rows))
    }

    async fn load_ledger(&self, original: &TransactionId) -> Result<Option<Stored<ReturnLedger>>> {
        let row = self.load_document(&LEDGERS, "store.load_ledger", original.as_str()).await?;
        row.map(|(version, l)| Ok(Stored { value: decode_ledger(&l)?, version })).transpose()
    }

    async fn save_ledger(&self, ledger: &ReturnLedger, expected: Option<u64>) -> Result<Option<u64>> {
        let json = encode_ledger(ledger)?;
        self.save_document(&LEDGERS, "store.save_ledger", ledger.original.id.as_str(), &json, expected).await
    }

    async fn load_return_without_receipt(
        &self,
        return_id: &TransactionId,
    ) -> Result<Option<Stored<ReturnWithoutReceipt>>> {
        let row = self
            .load_document(&WITHOUT_RECEIPT, "store.load_return_without_receipt", return_id.as_str())
            .await?;
        row.map(|(version, r)| Ok(Stored { value: decode_without_receipt(&r)?, version })).transpose()
    }

    async fn save_return_without_receipt(
        &self,
        record: &ReturnWithoutReceipt,
        expected: Option<u64>,
    ) -> Result<Option<u64>> {
        let json = encode_without_receipt(record)?;
        let op = "store.save_return_without_receipt";
        self.save_document(&WITHOUT_RECEIPT, op, record.return_id.as_str(), &json, expected).await
    }

    async fn load_reply(&self, key: &str) -> Result<Option<Stored<StoredReply>>> {
        let row = self.load_document(&REPLIES, "store.load_reply", key).await?;
        row.map(|(version, r)| Ok(Stored { value: decode_reply(&r)?, version })).transpose()
    }

    async fn save_reply(&self, reply: &StoredReply, expected: Option<u64>) -> Result<Option<u64>> {
        let json = encode_reply(reply)?;
        self.save_document(&REPLIES, "store.save_reply", &reply.key, &json, expected).await
    }

    async fn reserve_id(&self, id: &TransactionId, usage: &IdUse) -> Result<IdUse> {
        const OP: &str = "store.reserve_id";
        let (id_use, original) = encode_id_use(usage)?;
        // The primary key decides between two instances reserving one id at once; the
        // reservation that stands is then read back, whichever it is.
        sqlx::query(
            "INSERT INTO reserved_ids (id, id_use, original_id) VALUES (?, ?, ?)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(id_use)
        .bind(original)
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(OP, e))?;
        let (id_use, original): (String, Option<String>) =
            sqlx::query_as("SELECT id_use, original_id FROM reserved_ids WHERE id = ?")
                .bind(id.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| db_error(OP, e))?;
        decode_id_use(&id_use, original)
    }
}

/// A table of versioned JSON documents (return ledgers, returns without a receipt, stored
/// replies): one row per key, written only at the version it was read at.
struct Documents {
    select: &'static str,
    insert: &'static str,
    update: &'static str,
}

macro_rules! documents {
    ($table:literal, $key:literal, $column:literal) => {
        Documents {
            select: concat!("SELECT version, ", $column, " FROM ", $table, " WHERE ", $key, " = ?"),
            insert: concat!(
                "INSERT INTO ",
                $table,
                " (",
                $key,
                ", version, ",
                $column,
                ") VALUES (?, 1, ?) ON CONFLICT (",
                $key,
                ") DO NOTHING"
            ),
            update: concat!(
                "UPDATE ",
                $table,
                " SET version = version + 1, ",
                $column,
                " = ? WHERE ",
                $key,
                " = ? AND version = ?"
            ),
        }
    };
}

const LEDGERS: Documents = documents!("return_ledgers", "original_id", "ledger");
const WITHOUT_RECEIPT: Documents = documents!("returns_without_receipt", "return_id", "record");
const REPLIES: Documents = documents!("service_replies", "reply_key", "reply");

impl SqliteCheckoutStore {
    /// The document under `key` with its version.
    async fn load_document(&self, table: &Documents, op: &str, key: &str) -> Result<Option<(u64, String)>> {
        let row: Option<(i64, String)> = sqlx::query_as(table.select)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error(op, e))?;
        Ok(row.map(|(version, json)| (version as u64, json)))
    }

    /// Writes the document under `key`: new when `expected` is `None`, else only over that
    /// version. The new version, or `None` when another writer got there first.
    async fn save_document(
        &self,
        table: &Documents,
        op: &str,
        key: &str,
        json: &str,
        expected: Option<u64>,
    ) -> Result<Option<u64>> {
        let affected = match expected {
            None => sqlx::query(table.insert).bind(key).bind(json),
            Some(v) => sqlx::query(table.update).bind(json).bind(key).bind(v as i64),
        }
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(op, e))?
        .rows_affected();
        Ok((affected == 1).then(|| expected.map_or(1, |v| v + 1)))
    }
}
