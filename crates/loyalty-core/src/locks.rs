//! Named leases that several shop instances share: a vendor resource that exists once per
//! account (IdoSell's wholesaler basket, say) is worked on by one instance at a time, whichever
//! process that instance runs in.
//!
//! A lease has a name (the resource, never a secret), a holder (an id unique to the instance
//! and to the one piece of work that takes it) and an end (`until`). It is taken when it is free
//! or has lapsed, renewed only while the same holder still has it, and released only by its
//! holder. An instance that dies holding a lease blocks the resource until the lease lapses, so
//! a lease is as long as the work's worst case and no longer.
//!
//! [`InProcessLocks`] keeps leases in process memory (the default, and what the in-memory
//! checkout store uses); the SQL checkout stores of `loyalty-store` keep them in their database,
//! which is what makes them shared by every instance on that store.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use chrono::{TimeDelta, Utc};
//! use loyalty_core::locks::{InProcessLocks, SharedLocks};
//!
//! let locks = InProcessLocks::new();
//! let now = Utc::now();
//! let until = now + TimeDelta::seconds(30);
//! assert!(locks.take("basket:acme", "instance-a/1", until, now).await?);
//! // Held: another holder waits (or gives up).
//! assert!(!locks.take("basket:acme", "instance-b/1", until, now).await?);
//! // Only the holder releases it; then it is free again.
//! assert!(!locks.release("basket:acme", "instance-b/1").await?);
//! assert!(locks.release("basket:acme", "instance-a/1").await?);
//! assert!(locks.take("basket:acme", "instance-b/1", until, now).await?);
//! // A lease that lapsed is taken over, and its old holder can no longer renew it.
//! let later = until + TimeDelta::seconds(1);
//! assert!(locks.take("basket:acme", "instance-a/2", later + TimeDelta::seconds(30), later).await?);
//! assert!(!locks.renew("basket:acme", "instance-b/1", later + TimeDelta::seconds(60)).await?);
//! # Ok::<(), loyalty_core::Error>(()) }).unwrap();
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// Named leases shared by every instance that reaches the same implementation (one process
/// for [`InProcessLocks`], one database for the SQL checkout stores).
///
/// Times are the caller's clock: instances comparing leases should keep their clocks close,
/// and a caller leaves a margin for the skew between them in the lease's length.
#[async_trait]
pub trait SharedLocks: Send + Sync + std::fmt::Debug {
    /// Takes lease `name` for `holder` until `until`, when no one holds it or its holder's
    /// lease ended at or before `now`. One call is one atomic step: of several holders racing
    /// for one name, exactly one gets it.
    ///
    /// `true` when `holder` now has it; `false` when another holder's lease is still running
    /// (a holder that already has it gets `false` too: holder ids are unique per piece of
    /// work, and [`SharedLocks::renew`] extends a lease).
    ///
    /// # Errors
    /// The store's own (`Unavailable` when it cannot be reached): whether the lease was taken
    /// is then unknown, so the caller does not touch the resource.
    async fn take(&self, name: &str, holder: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool>;

    /// Moves the end of `holder`'s lease on `name` to `until`, when `holder` still has it:
    /// nobody took it since (even if it lapsed meanwhile, no one else can have used the
    /// resource) and it was not released.
    ///
    /// `false` when the lease is gone: another holder took it over after it lapsed, or it was
    /// released. The resource may have been changed by someone else since.
    ///
    /// # Errors
    /// As [`SharedLocks::take`].
    async fn renew(&self, name: &str, holder: &str, until: DateTime<Utc>) -> Result<bool>;

    /// Ends `holder`'s lease on `name`. A holder that does not have it changes nothing (a lease
    /// taken over after it lapsed stays with its new holder): `false`.
    ///
    /// # Errors
    /// As [`SharedLocks::take`]; a lease not released lapses at its end all the same.
    async fn release(&self, name: &str, holder: &str) -> Result<bool>;
}

/// Leases in process memory: shared by everything in one process that holds the same value
/// (or [`InProcessLocks::process`]), by nothing outside it.
#[derive(Debug, Default)]
pub struct InProcessLocks {
    leases: Mutex<HashMap<String, Lease>>,
}

#[derive(Debug, Clone)]
struct Lease {
    holder: String,
    until: DateTime<Utc>,
}

impl InProcessLocks {
    /// Leases of their own (shared by whoever gets a clone of the `Arc` it is put in).
    pub fn new() -> InProcessLocks {
        InProcessLocks::default()
    }

    /// The one set of leases of this process: the default where no shared store is given, so
    /// two providers in one process on the same vendor account still take turns.
    pub fn process() -> Arc<InProcessLocks> {
        static PROCESS: OnceLock<Arc<InProcessLocks>> = OnceLock::new();
        PROCESS.get_or_init(|| Arc::new(InProcessLocks::new())).clone()
    }

    fn leases(&self) -> std::sync::MutexGuard<'_, HashMap<String, Lease>> {
        // A panic elsewhere while holding the map leaves it consistent (each step is one insert
        // or remove).
        self.leases.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SharedLocks for InProcessLocks {
    async fn take(&self, name: &str, holder: &str, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool> {
        let mut leases = self.leases();
        if leases.get(name).is_some_and(|l| l.until > now) {
            return Ok(false);
        }
        leases.insert(name.to_owned(), Lease { holder: holder.to_owned(), until });
        Ok(true)
    }

    async fn renew(&self, name: &str, holder: &str, until: DateTime<Utc>) -> Result<bool> {
        match self.leases().get_mut(name) {
            Some(lease) if lease.holder == holder => {
                lease.until = until;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release(&self, name: &str, holder: &str) -> Result<bool> {
        let mut leases = self.leases();
        if leases.get(name).is_some_and(|l| l.holder == holder) {
            leases.remove(name);
            return Ok(true);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[tokio::test]
    async fn a_lease_ends_exactly_at_its_until() {
        let locks = InProcessLocks::new();
        assert!(locks.take("n", "a", at(10), at(0)).await.unwrap());
        assert!(!locks.take("n", "b", at(20), at(9)).await.unwrap());
        assert!(locks.take("n", "b", at(20), at(10)).await.unwrap());
        assert!(!locks.renew("n", "a", at(30)).await.unwrap(), "taken over: the old holder lost it");
        assert!(!locks.release("n", "a").await.unwrap(), "the old holder cannot release it");
        assert!(!locks.take("n", "c", at(30), at(15)).await.unwrap(), "still b's");
    }

    #[tokio::test]
    async fn a_lapsed_lease_no_one_took_is_still_its_holders_to_renew() {
        let locks = InProcessLocks::new();
        assert!(locks.take("n", "a", at(10), at(0)).await.unwrap());
        assert!(locks.renew("n", "a", at(40)).await.unwrap());
        assert!(!locks.take("n", "b", at(50), at(20)).await.unwrap(), "renewed past 20");
        assert!(locks.release("n", "a").await.unwrap());
        assert!(!locks.renew("n", "a", at(60)).await.unwrap(), "released: gone");
        assert!(locks.take("n", "b", at(50), at(20)).await.unwrap());
    }

    #[tokio::test]
    async fn the_process_leases_are_one_set() {
        let name = "process-wide-test";
        assert!(InProcessLocks::process().take(name, "a", at(10), at(0)).await.unwrap());
        assert!(!InProcessLocks::process().take(name, "b", at(10), at(0)).await.unwrap());
        assert!(InProcessLocks::process().release(name, "a").await.unwrap());
    }
}
