//! The wholesaler's basket, one per customer account (§5 G3 `basketImport` replaces it, G4
//! `placeOrder` turns it into an order): worked by one shop instance at a time.
//!
//! Within one adapter an in-process mutex orders the sections; across adapters and processes a
//! [`SharedLocks`] lease named after the account does (the checkout store's, when the adapter is
//! built from a `loyalty.toml`: every instance on the same store takes turns). A section:
//!
//! 1. waits (bounded, with backoff) for the in-process mutex and then the lease, under a holder
//!    id unique to this adapter and this section; past the bound it fails `Unavailable`
//!    (temporary, effect `NotSent`): the basket is busy, nothing was sent;
//! 2. renews the lease right before each G3 and each G4 (`confirm`). Renewing succeeds only
//!    while the lease is still this section's; a lease that lapsed and was taken over (the store
//!    says another holder has it) means another instance may have replaced the basket, so the
//!    section stops there with `NotSent` instead of placing someone else's goods;
//! 3. releases the lease when it ends, on success, on error, and (from `Drop`, in a spawned
//!    task) when the future is dropped mid-way.
//!
//! The lease is [`lease_length`]: two calls' worst case (the transport ends a call, its retries,
//! waits and a re-login included, by `HttpConfig::max_elapsed`) plus [`LEASE_MARGIN`]. Between
//! two renewals a section makes at most two calls (G3 then a G7 lookup, G4 then a G7 lookup),
//! so a section that is still working never sees its lease lapse.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use loyalty_core::locks::SharedLocks;
use loyalty_core::{Clock, Context, Error, ErrorKind, WriteEffect};
use tokio::time::Instant;

use crate::PROVIDER;

/// Room in a lease for the skew between instances' clocks (each compares leases on its own
/// clock), the lease store's round trips and decoding a reply.
pub const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// First and largest pause between two tries at a busy lease.
const FIRST_PAUSE: Duration = Duration::from_millis(25);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// A lease long enough for the two calls a section makes between renewals, each bounded by
/// `call_bound` (the transport's `max_elapsed`), plus [`LEASE_MARGIN`].
pub fn lease_length(call_bound: Duration) -> Duration {
    call_bound.saturating_mul(2).saturating_add(LEASE_MARGIN)
}

/// The basket's guards: the in-process mutex and the shared lease.
pub(crate) struct Basket {
    local: tokio::sync::Mutex<()>,
    locks: Arc<dyn SharedLocks>,
    name: String,
    instance: String,
    sections: AtomicU64,
    lease: Duration,
    wait: Duration,
    clock: Arc<dyn Clock>,
}

impl Basket {
    /// The basket of the account `login` at `host`, leased for `lease` at a time through
    /// `locks`; a section waits at most `wait` for it.
    pub fn new(
        host: &str,
        login: &str,
        locks: Arc<dyn SharedLocks>,
        lease: Duration,
        clock: Arc<dyn Clock>,
    ) -> Basket {
        Basket {
            local: tokio::sync::Mutex::new(()),
            locks,
            name: format!("idosell:basket:{host}:{login}"),
            instance: instance_id(),
            sections: AtomicU64::new(0),
            lease,
            wait: lease,
            clock,
        }
    }

    pub fn set_locks(&mut self, locks: Arc<dyn SharedLocks>) {
        self.locks = locks;
    }

    pub fn set_wait(&mut self, wait: Duration) {
        self.wait = wait;
    }

    /// The lease's name (the wholesaler's host and the account's login; no secret).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn lease(&self) -> Duration {
        self.lease
    }

    fn until(&self) -> chrono::DateTime<chrono::Utc> {
        let now = self.clock.now();
        now + TimeDelta::from_std(self.lease).unwrap_or(TimeDelta::MAX)
    }

    /// Waits for the basket: the in-process mutex, then the shared lease, together at most the
    /// basket wait (and never past the context's deadline).
    ///
    /// # Errors
    /// `Unavailable` (temporary, `NotSent`) when the bound passes first; the lease store's
    /// error (effect `NotSent`) when it cannot be asked.
    pub async fn enter(&self, ctx: &Context, op: &str) -> Result<Section<'_>, Error> {
        let started = Instant::now();
        let mut bound = started + self.wait;
        if let Some(deadline) = ctx.deadline {
            bound = bound.min(deadline);
        }
        let local = tokio::time::timeout_at(bound, self.local.lock())
            .await
            .map_err(|_| self.busy(op, started.elapsed(), "another order of this shop instance"))?;
        let holder = format!("{}/{}", self.instance, self.sections.fetch_add(1, Ordering::Relaxed));
        let mut pause = FIRST_PAUSE;
        loop {
            let now = self.clock.now();
            let until = now + TimeDelta::from_std(self.lease).unwrap_or(TimeDelta::MAX);
            match self.locks.take(&self.name, &holder, until, now).await {
                Ok(true) => {
                    tracing::debug!(lease = %self.name, holder = %holder, "basket lease taken");
                    let lease = Lease { locks: self.locks.clone(), name: self.name.clone(), holder };
                    return Ok(Section { basket: self, lease: Some(lease), _local: local });
                }
                Ok(false) => {}
                Err(e) => {
                    // Whether the store took it is unknown: give it back, in case (it lapses
                    // by itself otherwise).
                    Lease { locks: self.locks.clone(), name: self.name.clone(), holder }.release_later();
                    return Err(store_error(
                        e,
                        op,
                        &self.name,
                        "could not take the wholesaler's basket lease",
                    ));
                }
            }
            if Instant::now() + pause > bound {
                return Err(self.busy(op, started.elapsed(), "another shop instance on this account"));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    fn busy(&self, op: &str, waited: Duration, by: &str) -> Error {
        Error::new(ErrorKind::Unavailable, PROVIDER, op)
            .with_temporary(true)
            .with_effect(WriteEffect::NotSent)
            .with_message(format!(
                "the wholesaler's basket is busy: {by} has held it (lease {:?}) for all of the {} ms waited; \
                 nothing was sent, try again",
                self.name,
                waited.as_millis()
            ))
    }
}

/// One section's hold on the basket; released by [`Section::release`] or, when dropped
/// before that, from a spawned task.
pub(crate) struct Section<'a> {
    basket: &'a Basket,
    lease: Option<Lease>,
    _local: tokio::sync::MutexGuard<'a, ()>,
}

impl Section<'_> {
    /// Renews the lease for another full length, right before a call that uses the basket.
    ///
    /// # Errors
    /// `Unavailable` (temporary, `NotSent`) when the lease is no longer this section's (it
    /// lapsed and another instance took it, which may have replaced the basket), or when the
    /// store cannot say.
    pub async fn confirm(&self, op: &str, before: &str) -> Result<(), Error> {
        let Some(lease) = &self.lease else { return Ok(()) };
        match lease.locks.renew(&lease.name, &lease.holder, self.basket.until()).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::warn!(lease = %lease.name, holder = %lease.holder, before, "basket lease lost mid-section; stopping");
                Err(Error::new(ErrorKind::Unavailable, PROVIDER, op)
                    .with_temporary(true)
                    .with_effect(WriteEffect::NotSent)
                    .with_message(format!(
                        "the wholesaler's basket lease {:?} lapsed and another shop instance took it before \
                         {before}, so the basket may hold its goods; {before} was not sent, try again",
                        lease.name
                    )))
            }
            Err(e) => Err(store_error(
                e,
                op,
                &lease.name,
                &format!("could not renew the basket lease before {before}"),
            )),
        }
    }

    /// Ends the section, giving the lease back.
    pub async fn release(mut self) {
        if let Some(lease) = self.lease.take() {
            lease.release().await;
        }
    }
}

impl Drop for Section<'_> {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.release_later();
        }
    }
}

struct Lease {
    locks: Arc<dyn SharedLocks>,
    name: String,
    holder: String,
}

impl Lease {
    async fn release(self) {
        match self.locks.release(&self.name, &self.holder).await {
            Ok(true) => tracing::debug!(lease = %self.name, holder = %self.holder, "basket lease released"),
            Ok(false) => {
                tracing::warn!(lease = %self.name, holder = %self.holder, "basket lease was no longer held at release")
            }
            Err(e) => {
                tracing::warn!(lease = %self.name, holder = %self.holder, error = %e, "basket lease not released; it lapses by itself")
            }
        }
    }

    /// Releases from a spawned task (a section dropped mid-way, a cancelled call); without a
    /// runtime the lease lapses by itself.
    fn release_later(self) {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(self.release());
            }
            Err(_) => {
                tracing::warn!(lease = %self.name, holder = %self.holder, "no runtime to release the basket lease; it lapses by itself")
            }
        }
    }
}

/// A lease store's error: nothing reached the wholesaler, so effect `NotSent`; its kind and
/// temporariness kept.
fn store_error(e: Error, op: &str, name: &str, what: &str) -> Error {
    Error::new(e.kind().clone(), PROVIDER, op)
        .with_temporary(e.is_temporary())
        .with_effect(WriteEffect::NotSent)
        .with_message(format!("{what} {name:?}: {}; nothing was sent", e))
}

/// This adapter's part of every holder id: random per adapter (the standard library's
/// per-process random hash keys, plus a counter and the process id), so two instances never
/// share one.
fn instance_id() -> String {
    static BUILT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(BUILT.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}-{}", hasher.finish(), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_covers_two_calls_and_the_margin() {
        assert_eq!(lease_length(Duration::from_secs(30)), Duration::from_secs(70));
    }

    #[test]
    fn instance_ids_differ() {
        assert_ne!(instance_id(), instance_id());
    }
}
