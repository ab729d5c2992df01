//! [`SharedLocks`] on the SQL stores: the `shared_locks` table, one row per lease taken and not
//! released. Every instance on one database sees the same leases.
//!
//! Taking is one statement (`INSERT … ON CONFLICT (name) DO UPDATE … WHERE held_until <= now`):
//! a free name is inserted, a lapsed lease overwritten, a running one left alone, and of
//! several instances racing for one name exactly one row change is counted. Renewing and
//! releasing are conditional on the holder, so a lease taken over after it lapsed is never
//! extended or removed by its old holder.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loyalty_core::locks::SharedLocks;
use loyalty_core::Result;

use crate::common::{db_error, millis};

#[cfg(feature = "sqlite")]
#[async_trait]
impl SharedLocks for crate::SqliteCheckoutStore {
    async fn take(&self, name: &str, holder: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO shared_locks (name, holder, held_until) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until
             WHERE shared_locks.held_until <= ?",
        )
        .bind(name)
        .bind(holder)
        .bind(millis(until))
        .bind(millis(now))
        .execute(&self.pool)
        .await
        .map_err(|e| db_error("locks.take", e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn renew(&self, name: &str, holder: &str, until: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query("UPDATE shared_locks SET held_until = ? WHERE name = ? AND holder = ?")
            .bind(millis(until))
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(|e| db_error("locks.renew", e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn release(&self, name: &str, holder: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM shared_locks WHERE name = ? AND holder = ?")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(|e| db_error("locks.release", e))?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(feature = "postgres")]
#[async_trait]
impl SharedLocks for crate::PostgresCheckoutStore {
    async fn take(&self, name: &str, holder: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool> {
        // Under READ COMMITTED a racer blocked on the same row re-checks the WHERE against the
        // winner's row, so it finds the lease running and changes nothing.
        let done = sqlx::query(
            "INSERT INTO shared_locks (name, holder, held_until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, held_until = EXCLUDED.held_until
             WHERE shared_locks.held_until <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(millis(until))
        .bind(millis(now))
        .execute(&self.pool)
        .await
        .map_err(|e| db_error("locks.take", e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn renew(&self, name: &str, holder: &str, until: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query("UPDATE shared_locks SET held_until = $1 WHERE name = $2 AND holder = $3")
            .bind(millis(until))
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(|e| db_error("locks.renew", e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn release(&self, name: &str, holder: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM shared_locks WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(|e| db_error("locks.release", e))?;
        Ok(done.rows_affected() == 1)
    }
}
