//! Checkout state in PostgreSQL, shared by several shop instances.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loyalty_core::checkout::{
    CheckoutRecord, CheckoutState, CheckoutStore, Claim, IdUse, Stored, StoredReply,
};
use loyalty_core::returns::{ReturnLedger, ReturnWithoutReceipt};
use loyalty_core::{Error, ErrorKind, Result, TransactionId, WriteEffect};
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::common::{
    check_schema, claimed_records, db_error, decode_id_use, decode_ledger, decode_record, decode_reply,
    decode_without_receipt, due_millis, encode_id_use, encode_ledger, encode_record, encode_reply,
    encode_without_receipt, in_progress_labels, listed_records, millis, state_labels, MIGRATIONS, PROVIDER,
};

/// Serialises schema migrations of instances starting at once (an advisory lock held for one
/// transaction); the number is arbitrary but fixed.
const MIGRATION_LOCK: i64 = 0x006c_6f79_616c_7479;

/// Checkout state in PostgreSQL. Versioned conditional updates give one charge per order across
/// instances; claims use `FOR UPDATE SKIP LOCKED` so each pending send is worked by one
/// instance. Cheap to clone; clones share the pool.
#[derive(Debug, Clone)]
pub struct PostgresCheckoutStore {
    pub(crate) pool: PgPool,
}

impl PostgresCheckoutStore {
    /// Connects to `url` (`postgres://user:password@host/db`) and migrates the schema.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached or migrated. The URL (which may hold
    /// a password) is never part of the message.
    pub async fn connect(url: &str) -> Result<PostgresCheckoutStore> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| {
                Error::new(ErrorKind::Unavailable, PROVIDER, "store.open")
                    .with_effect(WriteEffect::NotSent)
                    .with_message(format!(
                        "cannot open the PostgreSQL store: {}",
                        db_error("store.open", e).message()
                    ))
            })?;
        let store = PostgresCheckoutStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        const OP: &str = "store.migrate";
        let mut tx = self.pool.begin().await.map_err(|e| db_error(OP, e))?;
        let result = async {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx).await?;
            sqlx::raw_sql("CREATE TABLE IF NOT EXISTS loyalty_store_schema (version BIGINT NOT NULL)")
                .execute(&mut *tx)
                .await?;
            let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM loyalty_store_schema")
                .fetch_one(&mut *tx)
                .await?;
            let applied = usize::try_from(applied.unwrap_or(0)).unwrap_or(0);
            for (i, step) in MIGRATIONS.iter().enumerate().skip(applied) {
                sqlx::raw_sql(step).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO loyalty_store_schema (version) VALUES ($1)")
                    .bind(i as i64 + 1)
                    .execute(&mut *tx)
                    .await?;
            }
            Ok::<_, sqlx::Error>(applied)
        }
        .await;
        match result {
            Ok(applied) => {
                tx.commit().await.map_err(|e| db_error(OP, e))?;
                check_schema(applied)
            }
            Err(e) => Err(db_error(OP, e)),
        }
    }
}

#[async_trait]
impl CheckoutStore for PostgresCheckoutStore {
    async fn load(&self, order: &TransactionId) -> Result<Option<Stored<CheckoutRecord>>> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT version, record FROM checkouts WHERE order_id = $1")
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
            // The primary key decides between two instances creating one order.
            None => sqlx::query(
                "INSERT INTO checkouts (order_id, version, state, fingerprint, due_at, updated_at, record, provider)
                 VALUES ($1, 1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id) DO NOTHING",
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
            // The version decides between two instances moving one order on.
            Some(v) => sqlx::query(
                "UPDATE checkouts SET version = version + 1, state = $1, fingerprint = $2, due_at = $3,
                 updated_at = $4, record = $5, provider = $8, claimed_by = NULL, claimed_until = NULL
                 WHERE order_id = $6 AND version = $7",
            )
            .bind(record.state.label())
            .bind(&record.fingerprint)
            .bind(due)
            .bind(millis(record.updated_at))
            .bind(&json)
            .bind(record.order.as_str())
            .bind(v as i64)
            .bind(record.provider.as_deref())
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
        // Rows another instance is claiming right now are skipped, not waited for. $7 is the
        // bound past which a claim, a lease or the row's last write was made before the clock
        // was set back (Claim::is_due); whole milliseconds compared strictly never find a row
        // due that the checkout, at full precision, does not.
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "UPDATE checkouts SET claimed_by = $1, claimed_until = $2
             WHERE order_id IN (
                 SELECT order_id FROM checkouts
                 WHERE state = ANY($3) AND (claimed_until IS NULL OR claimed_until <= $4 OR claimed_until > $7)
                   AND ($5::BIGINT IS NULL OR (due_at IS NOT NULL AND (due_at <= $5
                        OR (state = ANY($8) AND due_at > $7) OR updated_at > $7)))
                   AND ($9::TEXT IS NULL OR provider IS NULL OR provider = $9)
                 ORDER BY COALESCE(due_at, updated_at), order_id
                 LIMIT $6
                 FOR UPDATE SKIP LOCKED)
             RETURNING version, record",
        )
        .bind(&claim.owner)
        .bind(millis(claim.until))
        .bind(state_labels(&claim.states))
        .bind(millis(now))
        .bind(claim.due_by.map(millis))
        .bind(claim.limit as i64)
        .bind(millis(claim.implausible_after(now)))
        .bind(in_progress_labels())
        .bind(claim.provider.as_deref())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error("store.claim", e))?;
        Ok(claimed_records(rows))
    }

    async fn list(&self, states: &[CheckoutState]) -> Result<Vec<CheckoutRecord>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT record FROM checkouts WHERE state = ANY($1) ORDER BY updated_at, order_id",
        )
        .bind(state_labels(states))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_error("store.list", e))?;
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
            "INSERT INTO reserved_ids (id, id_use, original_id) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(id_use)
        .bind(original)
        .execute(&self.pool)
        .await
        .map_err(|e| db_error(OP, e))?;
        let (id_use, original): (String, Option<String>) =
            sqlx::query_as("SELECT id_use, original_id FROM reserved_ids WHERE id = $1")
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
            select: concat!("SELECT version, ", $column, " FROM ", $table, " WHERE ", $key, " = $1"),
            insert: concat!(
                "INSERT INTO ",
                $table,
                " (",
                $key,
                ", version, ",
                $column,
                ") VALUES ($1, 1, $2) ON CONFLICT (",
                $key,
                ") DO NOTHING"
            ),
            update: concat!(
                "UPDATE ",
                $table,
                " SET version = version + 1, ",
                $column,
                " = $1 WHERE ",
                $key,
                " = $2 AND version = $3"
            ),
        }
    };
}

const LEDGERS: Documents = documents!("return_ledgers", "original_id", "ledger");
const WITHOUT_RECEIPT: Documents = documents!("returns_without_receipt", "return_id", "record");
const REPLIES: Documents = documents!("service_replies", "reply_key", "reply");

impl PostgresCheckoutStore {
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
