//! Where checkout state lives: the [`CheckoutStore`] trait and an in-memory store for tests
//! and single-process demos. The durable stores (embedded SQLite, PostgreSQL for several shop
//! instances) are in the `loyalty-store` crate.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::record::{CheckoutRecord, CheckoutState, Stored, StoredReply};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::TransactionId;
use crate::returns::{ReturnLedger, ReturnWithoutReceipt};

/// Where a lease or claim of `length` taken at `now` can no longer end: two lengths ahead. One
/// ending later was written before the clock was set back (instances' clocks a few seconds
/// apart stay well inside), and counts as lapsed.
pub(crate) fn beyond_two_leases(now: DateTime<Utc>, length: chrono::Duration) -> DateTime<Utc> {
    let length = length.max(chrono::Duration::zero());
    length.checked_mul(2).and_then(|twice| now.checked_add_signed(twice)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Which records to claim: those in `states` that are due by `due_by` and not claimed by
/// anyone else right now ([`Claim::is_due`], [`Claim::may_take`]).
///
/// # A clock set back
/// Due times, leases and claims are judged on the claimer's clock. When that clock was set
/// back (an NTP step, a restored VM), what was written before the jump lies ahead of it by as
/// much as the jump, and would otherwise wait it out. The bound is the one leases use,
/// [`Claim::implausible_after`] (two claim lengths ahead of now), so another instance's
/// clock a few seconds apart never makes a record due early:
/// - a claim ending after the bound counts as lapsed ([`Claim::may_take`]);
/// - a record with a due time, in any state, written (`updated_at`) after the bound was
///   written before the clock was set back and is due now, whatever its due time says: a
///   pending sale's resend backoff, a payment's action timeout, a prepared checkout's hold
///   expiry ([`Claim::written_before_set_back`]);
/// - an in-progress record whose lease ends after the bound is due now too
///   ([`Claim::lapsed_lease`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claim {
    /// States to look at.
    pub states: Vec<CheckoutState>,
    /// Only records whose `due_at` is at or before this instant; `None` takes any record in
    /// the states, due or not.
    pub due_by: Option<DateTime<Utc>>,
    /// Who claims (an instance id), for diagnostics.
    pub owner: String,
    /// The claim lapses at this instant, so a claimer that dies frees its records.
    pub until: DateTime<Utc>,
    /// At most this many records.
    pub limit: usize,
    /// Only records started at this provider ([`CheckoutRecord::provider`]) or naming none;
    /// `None` takes every provider's. A checkout claims for its own provider, so an instance
    /// running another one (a provider switch under way) never holds this one's records.
    pub provider: Option<String>,
}

impl Claim {
    /// Claims up to `limit` records in `states` for `owner` until `until`.
    pub fn new(
        states: Vec<CheckoutState>,
        owner: impl Into<String>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Claim {
        Claim { states, due_by: None, owner: owner.into(), until, limit, provider: None }
    }

    /// Only records of `provider` (or naming none).
    pub fn for_provider(mut self, provider: impl Into<String>) -> Claim {
        self.provider = Some(provider.into());
        self
    }

    /// Whether a record started at `provider` is one this claim takes.
    pub fn takes_provider(&self, provider: Option<&str>) -> bool {
        match (self.provider.as_deref(), provider) {
            (Some(wanted), Some(started)) => wanted == started,
            _ => true,
        }
    }

    /// Only records due by `at`.
    pub fn due_by(mut self, at: DateTime<Utc>) -> Claim {
        self.due_by = Some(at);
        self
    }

    /// A claim ending after this instant was not made on a clock like the one `now` comes
    /// from: it runs more than twice this claim's length ahead, so it was written before the
    /// clock was set back. It counts as lapsed, or the records would stay claimed for as long
    /// as the jump (a clock a few seconds apart on another instance stays well inside it).
    pub fn implausible_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        beyond_two_leases(now, self.until - now)
    }

    /// Whether a record in `state` due at `due_at` holds a lease written before the clock was
    /// set back (an in-progress state due after [`Claim::implausible_after`]): such a record is
    /// due now, whatever `due_by` says, or an interrupted charge would wait out the jump.
    pub fn lapsed_lease(&self, state: CheckoutState, due_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        state.is_in_progress() && due_at > self.implausible_after(now)
    }

    /// Whether a record last written at `updated_at` was written before the clock was set
    /// back: it was written after [`Claim::implausible_after`], more than two claim lengths
    /// ahead of `now`. Such a record's due time (a backoff, an action timeout, a hold expiry)
    /// is on the old clock, so it is due now, in every state, or it would wait out the jump.
    pub fn written_before_set_back(&self, updated_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        updated_at > self.implausible_after(now)
    }

    /// Whether `record` is due for this claim at `now` (its state and claim aside): any record
    /// when `due_by` is `None`; otherwise one with a due time that is at or before `due_by`,
    /// or that holds a lease written before the clock was set back ([`Claim::lapsed_lease`]),
    /// or that was itself written before the clock was set back
    /// ([`Claim::written_before_set_back`]). A record with no due time waits for nothing.
    pub fn is_due(&self, record: &CheckoutRecord, now: DateTime<Utc>) -> bool {
        let Some(by) = self.due_by else { return true };
        record.due_at.is_some_and(|d| {
            d <= by
                || self.lapsed_lease(record.state, d, now)
                || self.written_before_set_back(record.updated_at, now)
        })
    }

    /// Whether a record claimed until `claimed_until` (or never) may be claimed at `now`.
    pub fn may_take(&self, claimed_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        claimed_until.is_none_or(|until| until <= now || until > self.implausible_after(now))
    }
}

/// What an order or return id is reserved for in a store ([`CheckoutStore::reserve_id`]).
/// Order and return ids are one namespace per store: both are transaction ids at the
/// provider, so an id serves one order, or one return of one order, never both.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdUse {
    /// The id of an order (a sale).
    Order,
    /// The id of a return of `original`; `None` for a return without a receipt.
    Return {
        /// The order the goods came back from, if the return has a receipt.
        original: Option<TransactionId>,
    },
}

/// Durable checkout state: one record per order, the outbox (records in
/// [`CheckoutState::Pending`]), one return ledger per committed order, one record per return
/// without a receipt, and the use each order and return id is reserved for.
///
/// # Behaviour every implementation keeps
/// - **Optimistic concurrency.** `save` writes only when the stored version is still
///   `expected` (`None`: only when the order is new) and returns the new version; otherwise it
///   returns `Ok(None)` and changes nothing. Two instances completing one order at once thus
///   make one charge: only one of them moves the record to `Charging`. This must hold across
///   processes (a unique key or a conditional update in the database, never a process mutex).
/// - **Claims.** `claim` marks the records it returns as claimed until `claim.until`, never
///   returns a record another live claim holds nor one started at a provider other than
///   `claim.provider` (when set), so each pending send or expired hold is worked
///   by exactly one instance at a time. Saving a record ends its claim. A claim ending after
///   [`Claim::implausible_after`] was made before the clock was set back and counts as lapsed
///   ([`Claim::may_take`]); a record written after it is due now ([`Claim::is_due`]).
/// - Ledgers, and the records of returns without a receipt, follow the same versioning as
///   records.
/// - **Id reservations.** `reserve_id` is insert-only: it reserves an id for a use when
///   nobody has it and otherwise changes nothing, and answers the use the id is reserved for
///   (the one asked, or the first). Two instances reserving one id at once get the same
///   answer: exactly one use wins, across processes (a unique key, never a process mutex),
///   and a reservation is never dropped or changed.
///
/// # Errors
/// `Unavailable` when the database cannot be reached (temporary); `Protocol` for a stored value
/// that no longer reads.
#[async_trait]
pub trait CheckoutStore: Send + Sync + std::fmt::Debug {
    /// The record of `order`, if any.
    async fn load(&self, order: &TransactionId) -> Result<Option<Stored<CheckoutRecord>>>;

    /// Writes `record` if the stored version is `expected`; the new version, or `None` when
    /// another writer got there first.
    async fn save(&self, record: &CheckoutRecord, expected: Option<u64>) -> Result<Option<u64>>;

    /// Claims records as [`Claim`] describes, oldest due first.
    async fn claim(&self, claim: &Claim, now: DateTime<Utc>) -> Result<Vec<Stored<CheckoutRecord>>>;

    /// Every record in one of `states` (the outbox: `[Pending]`), oldest first.
    async fn list(&self, states: &[CheckoutState]) -> Result<Vec<CheckoutRecord>>;

    /// The return ledger of a committed order, if returns were processed or started.
    async fn load_ledger(&self, original: &TransactionId) -> Result<Option<Stored<ReturnLedger>>>;

    /// Writes a ledger under the same rule as [`CheckoutStore::save`].
    async fn save_ledger(&self, ledger: &ReturnLedger, expected: Option<u64>) -> Result<Option<u64>>;

    /// The record of the return without a receipt under `return_id`, if one was started.
    async fn load_return_without_receipt(
        &self,
        return_id: &TransactionId,
    ) -> Result<Option<Stored<ReturnWithoutReceipt>>>;

    /// Writes the record of a return without a receipt under the same rule as
    /// [`CheckoutStore::save`], keyed by its return id.
    async fn save_return_without_receipt(
        &self,
        record: &ReturnWithoutReceipt,
        expected: Option<u64>,
    ) -> Result<Option<u64>>;

    /// The stored reply under `key` (an idempotent service request), if any.
    async fn load_reply(&self, key: &str) -> Result<Option<Stored<StoredReply>>>;

    /// Writes a reply under the same rule as [`CheckoutStore::save`]: `expected: None` only
    /// when the key is new, so two instances taking one key at once cannot both run it.
    async fn save_reply(&self, reply: &StoredReply, expected: Option<u64>) -> Result<Option<u64>>;

    /// Reserves `id` for `usage` when no use holds it yet; the use `id` is reserved for
    /// afterwards, which the caller compares with `usage` (equal: the id is this use's, now or
    /// from an earlier call; different: another order or return has it).
    async fn reserve_id(&self, id: &TransactionId, usage: &IdUse) -> Result<IdUse>;
}

#[derive(Debug, Default)]
struct Tables {
    records: HashMap<TransactionId, (CheckoutRecord, u64, Option<DateTime<Utc>>)>,
    ledgers: HashMap<TransactionId, (ReturnLedger, u64)>,
    without_receipt: HashMap<TransactionId, (ReturnWithoutReceipt, u64)>,
    replies: HashMap<String, (StoredReply, u64)>,
    reserved: HashMap<TransactionId, IdUse>,
}

/// A [`CheckoutStore`] in process memory: what [`Checkout::new`](super::Checkout::new) uses.
/// Share one between several `Checkout`s (clone the `Arc`) to model several instances in a
/// test; state is lost with the process, so production uses a durable store.
#[derive(Debug, Default)]
pub struct MemoryCheckoutStore {
    tables: Mutex<Tables>,
}

impl MemoryCheckoutStore {
    /// An empty store.
    pub fn new() -> MemoryCheckoutStore {
        MemoryCheckoutStore::default()
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The error a store reports for a value it cannot read back.
pub fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Protocol, "checkout-store", "store.load")
        .with_temporary(false)
        .with_message(format!("stored value does not read: {what}"))
}

#[async_trait]
impl CheckoutStore for MemoryCheckoutStore {
    async fn load(&self, order: &TransactionId) -> Result<Option<Stored<CheckoutRecord>>> {
        Ok(self.tables().records.get(order).map(|(r, v, _)| Stored { value: r.clone(), version: *v }))
    }

    async fn save(&self, record: &CheckoutRecord, expected: Option<u64>) -> Result<Option<u64>> {
        let mut t = self.tables();
        let current = t.records.get(&record.order).map(|(_, v, _)| *v);
        if current != expected {
            return Ok(None);
        }
        let version = expected.map_or(1, |v| v + 1);
        t.records.insert(record.order.clone(), (record.clone(), version, None));
        Ok(Some(version))
    }

    async fn claim(&self, claim: &Claim, now: DateTime<Utc>) -> Result<Vec<Stored<CheckoutRecord>>> {
        let mut t = self.tables();
        let mut due: Vec<(DateTime<Utc>, TransactionId)> = t
            .records
            .values()
            .filter(|(r, _, claimed)| {
                claim.states.contains(&r.state)
                    && claim.takes_provider(r.provider.as_deref())
                    && claim.may_take(*claimed, now)
                    && claim.is_due(r, now)
            })
            .map(|(r, _, _)| (r.due_at.unwrap_or(r.updated_at), r.order.clone()))
            .collect();
        due.sort();
        due.truncate(claim.limit);
        let mut out = Vec::with_capacity(due.len());
        for (_, order) in due {
            if let Some((r, v, claimed)) = t.records.get_mut(&order) {
                *claimed = Some(claim.until);
                out.push(Stored { value: r.clone(), version: *v });
            }
        }
        Ok(out)
    }

    async fn list(&self, states: &[CheckoutState]) -> Result<Vec<CheckoutRecord>> {
        let mut out: Vec<CheckoutRecord> = self
            .tables()
            .records
            .values()
            .filter(|(r, _, _)| states.contains(&r.state))
            .map(|(r, _, _)| r.clone())
            .collect();
        out.sort_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.order.cmp(&b.order)));
        Ok(out)
    }

    async fn load_ledger(&self, original: &TransactionId) -> Result<Option<Stored<ReturnLedger>>> {
        Ok(self.tables().ledgers.get(original).map(|(l, v)| Stored { value: l.clone(), version: *v }))
    }

    async fn save_ledger(&self, ledger: &ReturnLedger, expected: Option<u64>) -> Result<Option<u64>> {
        let mut t = self.tables();
        let key = ledger.original.id.clone();
        let current = t.ledgers.get(&key).map(|(_, v)| *v);
        if current != expected {
            return Ok(None);
        }
        let version = expected.map_or(1, |v| v + 1);
        t.ledgers.insert(key, (ledger.clone(), version));
        Ok(Some(version))
    }

    async fn load_return_without_receipt(
        &self,
        return_id: &TransactionId,
    ) -> Result<Option<Stored<ReturnWithoutReceipt>>> {
        Ok(self
            .tables()
            .without_receipt
            .get(return_id)
            .map(|(r, v)| Stored { value: r.clone(), version: *v }))
    }

    async fn save_return_without_receipt(
        &self,
        record: &ReturnWithoutReceipt,
        expected: Option<u64>,
    ) -> Result<Option<u64>> {
        let mut t = self.tables();
        let current = t.without_receipt.get(&record.return_id).map(|(_, v)| *v);
        if current != expected {
            return Ok(None);
        }
        let version = expected.map_or(1, |v| v + 1);
        t.without_receipt.insert(record.return_id.clone(), (record.clone(), version));
        Ok(Some(version))
    }

    async fn load_reply(&self, key: &str) -> Result<Option<Stored<StoredReply>>> {
        Ok(self.tables().replies.get(key).map(|(r, v)| Stored { value: r.clone(), version: *v }))
    }

    async fn save_reply(&self, reply: &StoredReply, expected: Option<u64>) -> Result<Option<u64>> {
        let mut t = self.tables();
        let current = t.replies.get(&reply.key).map(|(_, v)| *v);
        if current != expected {
            return Ok(None);
        }
        let version = expected.map_or(1, |v| v + 1);
        t.replies.insert(reply.key.clone(), (reply.clone(), version));
        Ok(Some(version))
    }

    async fn reserve_id(&self, id: &TransactionId, usage: &IdUse) -> Result<IdUse> {
        Ok(self.tables().reserved.entry(id.clone()).or_insert_with(|| usage.clone()).clone())
    }
}
