//! The checkout flow (identify → offers → price → validate → hold → pay → send), generic over
//! any [`Provider`], with its state in a [`CheckoutStore`].
//!
//! Rules the flow keeps, each one tested on the memory provider and the Diller simulator:
//! - **The price shown is the price charged.** [`Checkout::commit`] charges exactly the total
//!   [`Checkout::prepare`] showed. Just before the charge it checks every offer again and takes
//!   expired holds again; when an offer is lost or the price moves it stops before any charge
//!   with [`Completion::PriceChanged`] (old and new total) and waits for a new confirmation.
//! - **One charge per order id**, across double clicks, retries, restarts and instances sharing
//!   a store: the record moves to `Charging` by a versioned write that only one caller wins,
//!   and the payment service is asked with the order id as its idempotency key.
//! - **No hold is leaked**: a failure before the charge releases every hold, a declined payment
//!   too; holds are written to the store before they are taken, so a crash leaves a record the
//!   next [`Checkout::tick`] settles, and abandoned checkouts have their expired holds released.
//! - **A charged sale always reaches the vendor**: a failed send waits in the outbox and is
//!   resent under the same id; a claim the vendor refuses after the charge (a coupon used up
//!   meanwhile) is dropped and the sale sent without it; a send refused for good is reported
//!   once and leaves the outbox.
//! - **The same order id with another basket** after the charge is a `Conflict` naming the order.
//!
//! ```
//! # use std::sync::Arc;
//! # use loyalty_core::checkout::{Checkout, CheckoutRequest, Completion, SimulatedPayment};
//! # use loyalty_core::{Basket, Context, Currency, Line, Money, SystemClock};
//! # use rust_decimal::Decimal;
//! # async fn run(provider: Arc<dyn loyalty_core::Provider>) -> loyalty_core::Result<()> {
//! let checkout = Checkout::new(provider, Arc::new(SimulatedPayment::new()), Arc::new(SystemClock));
//! let basket = Basket::new(Currency::NOK)
//!     .with_line(Line::new("1", "COF-500", Decimal::ONE, Money::new(12_900, Currency::NOK)));
//! let request = CheckoutRequest::new("order-1", basket);
//! let prepared = checkout.prepare(&Context::new(), &request).await?;
//! println!("to pay: {}", prepared.priced.total);
//! match checkout.commit(&Context::new(), &prepared).await? {
//!     Completion::Completed(outcome) => println!("paid {}: {:?}", outcome.charged, outcome.delivery),
//!     Completion::PriceChanged(change) => println!("now {}, was {}: ask again", change.new_total, change.old_total),
//!     Completion::ActionRequired { action, .. } => println!("send the customer to {:?}", action.url),
//! }
//! # Ok(()) }
//! ```

mod charge;
mod deliver;
pub(crate) use deliver::refuses_a_claim;
mod payment;
mod prepare;
mod record;
mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use payment::{
    ActionKind, Authorization, Authorized, NextAnswer, Payment, PaymentAction, PaymentKey, SimulatedPayment,
};
pub use record::{CheckoutRecord, CheckoutState, ReplyState, Stored, StoredReply, UnconfirmedChange};
pub use store::{corrupt, CheckoutStore, Claim, IdUse, MemoryCheckoutStore};

use crate::basket::{Basket, PricedBasket};
use crate::checked::Checked;
use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result, WriteEffect};
use crate::ids::{DepartmentId, MemberId, OfferId, TransactionId};
use crate::member::{Member, MemberLookup, RegisterMember};
use crate::money::Money;
use crate::offer::Offer;
use crate::provider::{Context, Provider};
use crate::returns::{self, ReturnLedger, ReturnOutcome, ReturnUnderWay, ReturnWithoutReceipt};
use crate::transaction::{Hold, ReturnRequest, ReturnStyle, Transaction, TransactionReceipt};

const FLOW: &str = "checkout";

/// One purchase to check out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct CheckoutRequest {
    /// The order id: the idempotency key of the whole checkout.
    pub transaction_id: TransactionId,
    /// The basket.
    pub basket: Basket,
    /// How to identify the member, when the customer gave something.
    pub identify: Option<MemberLookup>,
    /// A guest's sign-up, used when no member is found and both consents are ticked.
    pub sign_up: Option<RegisterMember>,
    /// Offers the customer confirmed (basket coupons, vendor-priced offers), in order.
    pub confirmed: Vec<OfferId>,
    /// Department or store.
    pub department: Option<DepartmentId>,
    /// Tender name sent with the transaction.
    pub payment_method: String,
}

impl CheckoutRequest {
    /// A guest checkout of `basket` under the order id `transaction_id`.
    pub fn new(transaction_id: impl Into<TransactionId>, basket: Basket) -> CheckoutRequest {
        CheckoutRequest {
            transaction_id: transaction_id.into(),
            basket,
            identify: None,
            sign_up: None,
            confirmed: Vec::new(),
            department: None,
            payment_method: "Card".into(),
        }
    }

    /// Identifies the member.
    pub fn identify(mut self, lookup: MemberLookup) -> CheckoutRequest {
        self.identify = Some(lookup);
        self
    }

    /// Signs a guest up when no member is found (only with both consents).
    pub fn sign_up(mut self, request: RegisterMember) -> CheckoutRequest {
        self.sign_up = Some(request);
        self
    }

    /// Confirms an offer that waits for the customer (a basket coupon, a vendor-priced offer).
    pub fn confirm(mut self, offer: impl Into<OfferId>) -> CheckoutRequest {
        self.confirmed.push(offer.into());
        self
    }

    /// Sets the department.
    pub fn department(mut self, department: impl Into<DepartmentId>) -> CheckoutRequest {
        self.department = Some(department.into());
        self
    }

    /// A fingerprint of what the customer buys: the basket, who, and the confirmed offers.
    /// Two requests with the same fingerprint are the same purchase. Decimals are taken by
    /// value, whatever their scale: a quantity of `2.0` is the purchase of `2`.
    pub fn fingerprint(&self) -> String {
        let mut basket = self.basket.clone();
        for l in &mut basket.lines {
            l.quantity = l.quantity.normalize();
            l.tax_rate = l.tax_rate.map(|r| r.normalize());
        }
        fingerprint(&(&basket, &self.identify, &self.confirmed))
    }

    /// Whether `stored` (a record's [`CheckoutRecord::fingerprint`]) is this purchase's: its
    /// fingerprint, or the one written before decimals were taken by value (the request as
    /// written, scale and all), so a record stored then still matches its own retry.
    pub fn matches_fingerprint(&self, stored: &str) -> bool {
        stored == self.fingerprint()
            || stored == fingerprint(&(&self.basket, &self.identify, &self.confirmed))
    }
}

/// The longest order or return id the checkout takes, in bytes: ids are keys in the checkout
/// store and transaction ids at the provider, and PostgreSQL's index refuses much longer ones.
pub const MAX_ID_LEN: usize = 255;

/// An order or return id the checkout can keep and send: 1 to [`MAX_ID_LEN`] bytes, no control
/// characters (PostgreSQL refuses NUL; the others break vendors' ids and logs). Checked before
/// anything is written, so every store answers the same.
///
/// # Errors
/// `Invalid` naming `field` (the caller's name for the id) and what is wrong.
pub fn check_id(id: &TransactionId, operation: &str, field: &str) -> Result<()> {
    match id_fault(id.as_str()) {
        Some(reason) => Err(Error::invalid(FLOW, operation, field, reason)),
        None => Ok(()),
    }
}

/// Why `text` cannot be an id the checkout keeps and sends ([`check_id`]'s rule), if it
/// cannot. A basket line's ids follow it too ([`crate::basket::Line::id_fault`]): they are
/// written to the checkout store, sent to vendors as the sale's lines and shown in receipts
/// and logs, where a NUL or a terminal escape does harm and an empty id names nothing.
pub(crate) fn id_fault(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        Some("must not be empty")
    } else if text.len() > MAX_ID_LEN {
        Some("longer than 255 bytes")
    } else if text.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

/// The order id and the basket's lines of `request`, checked before anything reaches a
/// provider (a lookup, a sign-up): an empty id or one holding a control character is refused
/// here, naming it (`transaction_id`, `basket.lines[i].product_id`), not after the vendor was
/// asked about the member.
fn check_request(request: &CheckoutRequest, operation: &str) -> Result<()> {
    check_id(&request.transaction_id, operation, "transaction_id")?;
    request
        .basket
        .check_lines()
        .map_err(|e| e.invalid_in(FLOW, operation, &request.basket, &request.confirmed))
}

/// A stable fingerprint of a value's JSON form (FNV-1a, 128 bits, hex): what the checkout and
/// the HTTP service compare to tell a repeated request from a different one under one key.
pub fn fingerprint<T: Serialize>(value: &T) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let hash = bytes.iter().fold(OFFSET, |h, b| (h ^ u128::from(*b)).wrapping_mul(PRIME));
    format!("{hash:032x}")
}

/// A checkout priced and held, waiting for [`Checkout::commit`] or [`Checkout::abort`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Prepared {
    /// The order id.
    pub order: TransactionId,
    /// Which pricing of the order this is; committing an older one is a `Conflict`.
    pub revision: u32,
    /// The member, when identified or signed up.
    pub member: Option<Member>,
    /// True when the flow registered the guest.
    pub signed_up: bool,
    /// Offers still in play.
    pub offers: Vec<Offer>,
    /// The priced basket: `priced.total` is what commit charges.
    pub priced: PricedBasket,
    /// Holds taken, one per held offer.
    pub holds: Vec<Hold>,
    /// What changed on the way, readable by a cashier ("offer c1: no uses left").
    pub notes: Vec<String>,
}

impl Prepared {
    /// The prepared checkout a stored record holds (what a service returns for a repeated
    /// prepare of the same basket).
    ///
    /// # Errors
    /// `Conflict` when the record was never priced.
    pub fn from_record(record: &CheckoutRecord) -> Result<Prepared> {
        let priced = record.priced.clone().ok_or_else(|| {
            Error::new(ErrorKind::Conflict, FLOW, "checkout.prepare")
                .with_message(format!("order {} has not been priced", record.order))
        })?;
        Ok(Prepared {
            order: record.order.clone(),
            revision: record.revision,
            member: record.member.clone(),
            signed_up: record.signed_up,
            offers: record.offers.clone(),
            priced,
            holds: record.holds.clone(),
            notes: record.notes.clone(),
        })
    }
}

/// What happened to the transaction at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Delivery {
    /// Sent; the provider's receipt.
    Sent(TransactionReceipt),
    /// The send failed or timed out after the charge; kept in the outbox and resent under the
    /// same id by [`Checkout::tick`] or [`Checkout::resend_pending`]. The sale stands.
    Pending {
        /// Why.
        reason: String,
    },
    /// The provider refused the transaction for good (an anonymous sale at a members-only
    /// vendor, a malformed line): resending cannot help, so it is not kept. The sale stands.
    Refused {
        /// The provider's reason.
        reason: String,
    },
    /// The provider takes no transactions.
    NotSupported,
}

/// The result of a completed checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct CheckoutOutcome {
    /// The transaction with its frozen allocation, as last sent.
    pub transaction: Transaction,
    /// The member, when identified or signed up.
    pub member: Option<MemberId>,
    /// True when the flow registered the guest.
    pub signed_up: bool,
    /// The priced basket charged.
    pub priced: PricedBasket,
    /// What happened at the provider.
    pub delivery: Delivery,
    /// Amount charged: always the total the customer was shown.
    pub charged: Money,
    /// Offers the vendor refused after the charge; the sale was sent without claiming them.
    pub dropped_claims: Vec<OfferId>,
    /// What changed on the way.
    pub notes: Vec<String>,
    /// The offers that gave a discount or stamps, in the order first applied: their titles
    /// are what a receipt prints.
    #[serde(default)]
    pub applied_offers: Vec<Offer>,
}

/// The price or the offers changed between prepare and commit: nothing was charged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct PriceChange {
    /// The total the customer was shown.
    pub old_total: Money,
    /// The total now.
    pub new_total: Money,
    /// What changed, readable by a cashier ("offer c1: hold expired and the offer was taken").
    pub changes: Vec<String>,
    /// The checkout priced again, for the customer to confirm with [`Checkout::commit`].
    pub prepared: Prepared,
}

/// What [`Checkout::commit`] (and [`Checkout::complete`]) did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum Completion {
    /// Charged; the sale was sent, or waits in the outbox, or was refused by the provider.
    Completed(CheckoutOutcome),
    /// Nothing charged: confirm the new price.
    PriceChanged(PriceChange),
    /// Nothing captured yet: the payment waits for the customer; call
    /// [`Checkout::confirm_payment`] when they are back.
    ActionRequired {
        /// The order.
        order: TransactionId,
        /// What to show.
        action: PaymentAction,
    },
}

impl Completion {
    /// The outcome, when charged.
    pub fn completed(self) -> Option<CheckoutOutcome> {
        match self {
            Completion::Completed(o) => Some(o),
            _ => None,
        }
    }

    /// The outcome, or a `Conflict` describing why there is none (for callers that treat a
    /// price change or a pending payment as an error).
    pub fn into_outcome(self) -> Result<CheckoutOutcome> {
        match self {
            Completion::Completed(o) => Ok(o),
            Completion::PriceChanged(c) => Err(Error::new(ErrorKind::Conflict, FLOW, "checkout.commit")
                .with_message(format!(
                    "order {}: price changed from {} to {}; confirm again",
                    c.prepared.order, c.old_total, c.new_total
                ))),
            Completion::ActionRequired { order, .. } => {
                Err(Error::new(ErrorKind::Conflict, FLOW, "checkout.commit")
                    .with_message(format!("order {order}: the payment waits for the customer")))
            }
        }
    }
}

/// Timing of the flow. Durations are judged on the checkout's clock.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckoutOptions {
    /// How long an instance owns an order while it prepares, charges or sends; another
    /// instance takes over after that (the first one died).
    pub lease: Duration,
    /// How long a call waits for another instance working on the same order before answering
    /// `Unavailable` (temporary).
    pub wait: Duration,
    /// First delay before resending a pending transaction; doubles per attempt.
    pub resend_backoff: Duration,
    /// Longest delay between resends. A vendor that rate-limits a send with a longer
    /// `Retry-After` is left alone for as long as it asks, up to a day.
    pub resend_backoff_max: Duration,
    /// How long a payment may wait for the customer before the checkout voids it and releases
    /// the holds.
    pub action_timeout: Duration,
    /// A hold that expires within this margin is taken again before the charge: authorize,
    /// capture and send take time, and the vendor's clock may run ahead of this one.
    pub hold_margin: Duration,
    /// This instance's name in claims.
    pub owner: String,
}

impl Default for CheckoutOptions {
    fn default() -> Self {
        CheckoutOptions {
            lease: Duration::from_secs(60),
            wait: Duration::from_secs(30),
            resend_backoff: Duration::from_secs(30),
            resend_backoff_max: Duration::from_secs(3600),
            action_timeout: Duration::from_secs(30 * 60),
            hold_margin: Duration::from_secs(60),
            owner: format!("checkout-{}", std::process::id()),
        }
    }
}

/// What one [`Checkout::tick`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TickReport {
    /// Pending transactions delivered.
    pub sent: Vec<TransactionId>,
    /// Pending transactions still pending.
    pub still_pending: Vec<TransactionId>,
    /// Pending transactions refused for good (reported here once).
    pub refused: Vec<TransactionId>,
    /// Checkouts whose expired holds were released.
    pub released: Vec<TransactionId>,
    /// Checkouts taken over from an instance that stopped mid-way.
    pub recovered: Vec<TransactionId>,
    /// Problems, readable.
    pub problems: Vec<String>,
}

/// Drives purchases and returns through one provider, keeping every order's state in a
/// [`CheckoutStore`]. Several `Checkout`s (in one process or many) may share a store.
pub struct Checkout<'a> {
    provider: Checked<Arc<dyn Provider + 'a>>,
    payment: Arc<dyn Payment + 'a>,
    clock: Arc<dyn Clock + 'a>,
    store: Arc<dyn CheckoutStore + 'a>,
    options: CheckoutOptions,
    locks: Mutex<HashMap<TransactionId, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for Checkout<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkout")
            .field("provider", &self.provider.name())
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// A record being worked on, with the version it was read at.
struct Work {
    rec: CheckoutRecord,
    version: u64,
    /// The state the store holds at `version` (as read, or as this instance last wrote it):
    /// whether a charge was under way when a write was lost.
    stored: CheckoutState,
}

impl Work {
    fn new(rec: CheckoutRecord, version: u64) -> Work {
        let stored = rec.state;
        Work { rec, version, stored }
    }
}

impl<'a> Checkout<'a> {
    /// A checkout service over `provider`, charging through `payment`, with its state in
    /// process memory (tests, demos). A borrowed provider works too: `Arc::new(&provider)`.
    pub fn new(
        provider: Arc<dyn Provider + 'a>,
        payment: Arc<dyn Payment + 'a>,
        clock: Arc<dyn Clock + 'a>,
    ) -> Checkout<'a> {
        Checkout::with_store(provider, payment, clock, Arc::new(MemoryCheckoutStore::new()))
    }

    /// A checkout service keeping its state in `store` (SQLite or PostgreSQL from
    /// `loyalty-store`, or a shared [`MemoryCheckoutStore`]).
    pub fn with_store(
        provider: Arc<dyn Provider + 'a>,
        payment: Arc<dyn Payment + 'a>,
        clock: Arc<dyn Clock + 'a>,
        store: Arc<dyn CheckoutStore + 'a>,
    ) -> Checkout<'a> {
        Checkout {
            provider: Checked::new(provider),
            payment,
            clock,
            store,
            options: CheckoutOptions::default(),
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// Replaces the timing options.
    pub fn with_options(mut self, options: CheckoutOptions) -> Checkout<'a> {
        self.options = options;
        self
    }

    /// The provider (every operation checked against its capabilities).
    pub fn provider(&self) -> &dyn Provider {
        &self.provider
    }

    /// The store.
    pub fn store(&self) -> &dyn CheckoutStore {
        self.store.as_ref()
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn after(&self, d: Duration) -> DateTime<Utc> {
        let now = self.now();
        // Saturates: a wait past the last representable instant (a vendor's absurd
        // `Retry-After`) is "never", not a panic.
        chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Whether a lease ending at `until` still holds the order: it ends in the future, but not
    /// more than two leases ahead. One further ahead was written before this clock was set back
    /// and counts as lapsed, or the order would wait for as long as the jump; another
    /// instance's clock a few seconds ahead stays well inside the bound.
    fn lease_holds(&self, until: Option<DateTime<Utc>>) -> bool {
        let now = self.now();
        let lease = chrono::Duration::from_std(self.options.lease).unwrap_or(chrono::Duration::MAX);
        until.is_some_and(|u| u > now && u <= store::beyond_two_leases(now, lease))
    }

    /// Serialises this process's calls on one order; other processes are kept out by the
    /// store's versioned writes.
    async fn lock_order(&self, order: &TransactionId) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks.entry(order.clone()).or_default().clone()
        };
        lock.lock_owned().await
    }

    async fn load(&self, order: &TransactionId) -> Result<Option<Work>> {
        // An id the checkout never takes has no record; a database may refuse it outright
        // (PostgreSQL and a NUL), which must not read as a store failure.
        if check_id(order, "checkout.load", "order").is_err() {
            return Ok(None);
        }
        Ok(self.store.load(order).await?.map(|s| Work::new(s.value, s.version)))
    }

    /// Whether this checkout may act on `record`: it was started at this checkout's provider,
    /// or names none (written before records named their provider). A checkout refuses every
    /// other record with `Conflict`; a caller answering from a record it read itself (a
    /// service replaying a prepared order) asks this first.
    pub fn owns(&self, record: &CheckoutRecord) -> bool {
        record.provider.as_deref().is_none_or(|started| started == self.provider.name())
    }

    /// Refuses to act on an order started at another provider (the configuration was switched
    /// since, the store kept): its holds, payment and sale belong there, and releasing,
    /// charging or sending them here would go to the wrong vendor. A record that names no
    /// provider predates the field and is taken as this one's.
    fn check_provider(&self, rec: &CheckoutRecord, op: &str) -> Result<()> {
        match rec.provider.as_deref() {
            Some(started) if !self.owns(rec) => {
                Err(Error::new(ErrorKind::Conflict, FLOW, op).with_message(format!(
                    "order {} was started at provider {started}, and this checkout runs {}: finish it \
                     with {started}, or use a new order id",
                    rec.order,
                    self.provider.name()
                )))
            }
            _ => Ok(()),
        }
    }

    /// Saves the work under its version; `false` when another instance changed it first.
    async fn try_save(&self, work: &mut Work) -> Result<bool> {
        work.rec.updated_at = self.now();
        // A record written before records named their provider is this checkout's from its
        // first write here on (it was taken as this one's to get here), so a switched
        // checkout later leaves it alone.
        if work.rec.provider.is_none() {
            work.rec.provider = Some(self.provider.name().to_owned());
        }
        match self.store.save(&work.rec, Some(work.version)).await? {
            Some(v) => {
                work.version = v;
                work.stored = work.rec.state;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Saves the work; losing the write means another instance took the order over.
    ///
    /// Before a charge that is a `Conflict`: nothing was done for the order here that the
    /// other instance does not see. Once the store holds the order as charging (or later, or
    /// waiting for the customer's payment) the other instance took the charge over because
    /// this one outlived its lease (a slow payment or vendor call): it finishes the charge
    /// under the same payment key and order id, and the money may have moved by now. That is
    /// never a refusal before acting: [`taken_over`], temporary with effect `Unknown`.
    async fn save(&self, work: &mut Work, op: &str) -> Result<()> {
        if self.try_save(work).await? {
            Ok(())
        } else if work.stored.is_committed() || work.stored == CheckoutState::AwaitingAction {
            Err(taken_over(&work.rec.order, op))
        } else {
            Err(Error::new(ErrorKind::Conflict, FLOW, op)
                .with_message(format!("order {} was changed by another instance meanwhile", work.rec.order)))
        }
    }

    /// The answer of a charge that failed on this instance (`err`) when another instance
    /// finished the sale meanwhile: it took the order over after this one outlived its lease,
    /// and charged and sent it under the same payment key and order id. That sale (of
    /// `revision`, the one this call charged, when given) is the answer, as a repeated commit
    /// gets it; otherwise `err`. Only a finished sale answers here: this instance never voids,
    /// releases or sends anything on this path, and an order the other instance still works on
    /// (or left declined or priced again) is asked again.
    async fn finished_elsewhere(
        &self,
        order: &TransactionId,
        revision: Option<u32>,
        err: Error,
    ) -> Result<Completion> {
        match self.load(order).await {
            Ok(Some(w))
                if matches!(
                    w.rec.state,
                    CheckoutState::Sent | CheckoutState::Refused | CheckoutState::Pending
                ) && revision.is_none_or(|r| r == w.rec.revision) =>
            {
                match w.rec.outcome {
                    Some(outcome) => Ok(Completion::Completed(outcome)),
                    None => Err(err),
                }
            }
            _ => Err(err),
        }
    }

    /// Waits until another instance's lease on `order` ends or the record leaves its
    /// in-progress state; returns the record as it then stands.
    async fn wait_for_other(&self, order: &TransactionId, op: &str) -> Result<Work> {
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let work = self.load(order).await?.ok_or_else(|| {
                Error::not_found(FLOW, op, format!("order {order} disappeared from the checkout store"))
            })?;
            let busy = work.rec.is_worked_on() && self.lease_holds(work.rec.due_at);
            if !busy {
                return Ok(work);
            }
            if started.elapsed() >= self.options.wait {
                return Err(Error::new(ErrorKind::Unavailable, FLOW, op).with_message(format!(
                    "order {order} is being processed by another instance ({})",
                    work.rec.state.label()
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// Prices, validates and holds: everything up to the charge. Preparing an order again
    /// before it is committed (the customer changed the basket) keeps the holds still needed,
    /// takes them again for the new basket, and releases the others.
    ///
    /// # Errors
    /// `Conflict` when the order is already committed, or its payment waits for the customer;
    /// `Invalid` (field `transaction_id`) for the id of a return (ids are one namespace per
    /// store: an order needs an id of its own), and `Invalid` naming the line and field for a
    /// basket line whose ids break the id rule ([`Basket::check_lines`]), both before any
    /// provider call; any provider error.
    /// No hold is left behind when this fails.
    pub async fn prepare(&self, ctx: &Context, request: &CheckoutRequest) -> Result<Prepared> {
        check_request(request, "checkout.prepare")?;
        let _guard = self.lock_order(&request.transaction_id).await;
        let ctx = order_context(ctx, request);
        let (work, _) = self.prepare_locked(&ctx, request, false).await?;
        Prepared::from_record(&work.rec)
    }

    /// [`Checkout::prepare`] for a caller that answers a repeated request (a service keyed by
    /// the order id): an order already prepared for this very request (same basket, customer,
    /// sign-up, confirmed offers and department) whose holds outlast the hold margin is
    /// answered as it stands, holds kept and nothing asked of the provider, with `true` (a
    /// replay). The check is made under the order's lock, after any prepare of the order under
    /// way (here or on another instance) finished, so a double-clicked prepare answers one
    /// revision twice instead of pricing the order twice. Anything else prepares the order
    /// (again), with `false`.
    ///
    /// # Errors
    /// As [`Checkout::prepare`].
    pub async fn prepare_reporting_replay(
        &self,
        ctx: &Context,
        request: &CheckoutRequest,
    ) -> Result<(Prepared, bool)> {
        check_request(request, "checkout.prepare")?;
        let _guard = self.lock_order(&request.transaction_id).await;
        let ctx = order_context(ctx, request);
        let (work, replayed) = self.prepare_locked(&ctx, request, true).await?;
        Ok((Prepared::from_record(&work.rec)?, replayed))
    }

    /// Pays and sends a prepared checkout. Idempotent by order id: a second commit (double
    /// click, retry, another instance) gets the first result, and one charge is made.
    ///
    /// # Behaviour
    /// - Charges exactly `prepared.priced.total`. Before the charge every offer is checked
    ///   again and expired holds are taken again; if an offer is lost or the total moves, it
    ///   answers [`Completion::PriceChanged`] without charging.
    /// - A declined payment releases every hold; committing again takes them back first.
    /// - A payment that needs the customer answers [`Completion::ActionRequired`].
    /// - After the charge, a failed send keeps the transaction in the outbox.
    ///
    /// # Errors
    /// `Conflict` for a stale `prepared` (the order was prepared again) or an aborted order;
    /// errors before the charge (no hold is left); payment refusals. `Unavailable` (temporary,
    /// effect `Unknown`) when another instance took the order over while this call outlived its
    /// lease (a slow payment or vendor call) and is still finishing it: commit again with the
    /// same order id for its result. A sale that instance finished is this call's answer.
    pub async fn commit(&self, ctx: &Context, prepared: &Prepared) -> Result<Completion> {
        let _guard = self.lock_order(&prepared.order).await;
        self.commit_locked(ctx, &prepared.order, Some(prepared.revision)).await
    }

    /// Commits the order as last prepared, read from the store (for a caller that kept only
    /// the order id, such as a service answering a "pay" request).
    ///
    /// # Errors
    /// As [`Checkout::commit`]; `NotFound` for an order never prepared.
    pub async fn commit_order(&self, ctx: &Context, order: &TransactionId) -> Result<Completion> {
        let _guard = self.lock_order(order).await;
        self.commit_locked(ctx, order, None).await
    }

    /// [`Checkout::commit_order`] of the revision the customer was shown (a caller that kept
    /// the order id and the revision its prepare answered, such as a service's "pay" request):
    /// an order priced again since is a `Conflict`, as with [`Checkout::commit`].
    ///
    /// # Errors
    /// As [`Checkout::commit_order`].
    pub async fn commit_order_at(
        &self,
        ctx: &Context,
        order: &TransactionId,
        revision: u32,
    ) -> Result<Completion> {
        let _guard = self.lock_order(order).await;
        self.commit_locked(ctx, order, Some(revision)).await
    }

    /// [`Checkout::commit_order_at`] (with `Some(revision)`) or [`Checkout::commit_order`]
    /// (with `None`) for a caller that answers a repeated request: `true` with a result the
    /// order already had (its sale was made before, by an earlier call here or on another
    /// instance, including one this call waited for), `false` with one this call produced.
    ///
    /// # Errors
    /// As [`Checkout::commit_order_at`].
    pub async fn commit_order_reporting_replay(
        &self,
        ctx: &Context,
        order: &TransactionId,
        revision: Option<u32>,
    ) -> Result<(Completion, bool)> {
        let _guard = self.lock_order(order).await;
        self.commit_answer_locked(ctx, order, revision).await
    }

    /// Finishes a payment that waited for the customer (back from 3-D Secure or a redirect):
    /// the holds are checked (and taken again if they lapsed), then the payment is captured and
    /// the sale sent, as in [`Checkout::commit`].
    ///
    /// # Errors
    /// `NotFound` for an unknown order; `Rejected` when the customer did not complete the
    /// payment (the holds are released); as [`Checkout::commit`].
    pub async fn confirm_payment(&self, ctx: &Context, order: &TransactionId) -> Result<Completion> {
        let _guard = self.lock_order(order).await;
        self.confirm_locked(ctx, order).await
    }

    /// Releases every hold of a prepared checkout and marks it aborted (a pending payment
    /// authorization is voided).
    ///
    /// # Errors
    /// `Conflict` when the order is already committed; the first release that failed (the
    /// others are still attempted, and the failed ones stay recorded for the next
    /// [`Checkout::tick`]).
    pub async fn abort(&self, ctx: &Context, prepared: &Prepared) -> Result<()> {
        self.abort_order(ctx, &prepared.order).await
    }

    /// [`Checkout::abort`] by order id.
    ///
    /// # Errors
    /// As [`Checkout::abort`].
    pub async fn abort_order(&self, ctx: &Context, order: &TransactionId) -> Result<()> {
        let _guard = self.lock_order(order).await;
        self.abort_locked(ctx, order).await
    }

    /// Runs the whole checkout. Completing the same order id twice, one after the other or
    /// at the same time, charges once and sends once; later calls get the first result. The
    /// same order id with a different basket after the charge is a `Conflict`.
    ///
    /// # Errors
    /// Errors before the charge (no hold is left behind) and payment refusals.
    pub async fn complete(&self, ctx: &Context, request: &CheckoutRequest) -> Result<Completion> {
        check_request(request, "checkout.complete")?;
        let order = request.transaction_id.clone();
        let _guard = self.lock_order(&order).await;
        let ctx = &order_context(ctx, request);
        let mut existing = self.load(&order).await?;
        if let Some(w) = &existing {
            if w.rec.is_worked_on() && self.lease_holds(w.rec.due_at) {
                existing = Some(self.wait_for_other(&order, "checkout.complete").await?);
            }
        }
        if let Some(w) = &existing {
            if let Some(done) = self.complete_existing(ctx, w, request).await {
                return done;
            }
        }
        match self.prepare_locked(ctx, request, false).await {
            Ok(_) => self.commit_locked(ctx, &order, None).await,
            Err(e) => {
                // Another instance may have committed the order while this one waited to
                // prepare it: then its result is the answer.
                match self.load(&order).await? {
                    Some(w) => self.complete_existing(ctx, &w, request).await.unwrap_or(Err(e)),
                    None => Err(e),
                }
            }
        }
    }

    /// `complete` of an order the store already has: its committed result (or the conflict of
    /// another basket), the commit of a matching prepared checkout, or `None` to prepare anew.
    async fn complete_existing(
        &self,
        ctx: &Context,
        w: &Work,
        request: &CheckoutRequest,
    ) -> Option<Result<Completion>> {
        let order = &request.transaction_id;
        let same = request.matches_fingerprint(&w.rec.fingerprint);
        if w.rec.state.is_committed() || w.rec.state == CheckoutState::AwaitingAction {
            if !same {
                return Some(Err(different_basket(order, "checkout.complete")));
            }
            return Some(self.commit_locked(ctx, order, None).await);
        }
        if w.rec.state == CheckoutState::Prepared && same {
            return Some(self.commit_locked(ctx, order, None).await);
        }
        None
    }

    /// The stored record of `order`.
    ///
    /// # Errors
    /// Store errors.
    pub async fn status(&self, order: &TransactionId) -> Result<Option<CheckoutRecord>> {
        Ok(self.load(order).await?.map(|w| w.rec))
    }

    /// Orders charged but not yet accepted by the provider (the outbox).
    ///
    /// # Errors
    /// Store errors.
    pub async fn pending(&self) -> Result<Vec<TransactionId>> {
        Ok(self.store.list(&[CheckoutState::Pending]).await?.into_iter().map(|r| r.order).collect())
    }

    /// The pending transactions themselves.
    ///
    /// # Errors
    /// Store errors.
    pub async fn pending_transactions(&self) -> Result<Vec<Transaction>> {
        Ok(self
            .store
            .list(&[CheckoutState::Pending])
            .await?
            .into_iter()
            .filter_map(|r| r.transaction)
            .collect())
    }

    /// Processes a return of an order this store committed, or of goods without a receipt
    /// (`request.original == None`). Refunds are the stored nets of the returned units, paid
    /// back through the payment service once per return id; the style comes from the
    /// provider's capabilities unless `style` forces one. The outcome names exactly the offers
    /// the provider gave back.
    ///
    /// # Errors
    /// `NotFound` for an original this store did not commit; `Unavailable` (temporary) while
    /// another return of the same order (or this return without a receipt) is under way;
    /// `Conflict` for a sale still in the outbox (temporary: resend it first), a used return id
    /// asked for other goods (with a receipt or without: a retry of the same goods gets the
    /// first outcome, and nothing is sent twice), or a return id already used for a return of another
    /// order (or with a receipt for one without, or the other way round: ids are one
    /// namespace per store, a return id serves one return of one order); `Invalid` (field
    /// `return_id`) for the id of an order, and for a line not in the original, a quantity
    /// beyond what is left, or an unreceipted line that is not a positive quantity with
    /// `0 <= net <= gross` in one currency; `Unsupported` when the provider has no usable
    /// return style (a sale the provider never got is only refunded); provider errors, with
    /// effect `Unknown` once the return changed the vendor's side (it stays under way under its
    /// id); a refund error (the return is kept, retrying the same return id retries the refund);
    /// `Unavailable` (temporary, effect `Unknown`) when another instance took the return over
    /// while this call outlived its lease and has not finished it yet (a return it finished is
    /// this call's answer): ask again with the same return id.
    pub async fn process_return(
        &self,
        ctx: &Context,
        request: &ReturnRequest,
        style: Option<ReturnStyle>,
    ) -> Result<ReturnOutcome> {
        self.process_return_reporting_replay(ctx, request, style).await.map(|(outcome, _)| outcome)
    }

    /// [`Checkout::process_return`] for a caller that answers a repeated request: `true` with
    /// the outcome of a return already finished under this id (the order's ledger, or the
    /// record of a return without a receipt, had it: an earlier call here or on another
    /// instance, including one this call waited for), returned and refunded once; `false` with
    /// an outcome this call produced (a return it ran, or finished after an interrupted one).
    ///
    /// # Errors
    /// As [`Checkout::process_return`].
    pub async fn process_return_reporting_replay(
        &self,
        ctx: &Context,
        request: &ReturnRequest,
        style: Option<ReturnStyle>,
    ) -> Result<(ReturnOutcome, bool)> {
        check_id(&request.return_id, "checkout.return", "return_id")?;
        if let Some(original) = &request.original {
            check_id(original, "checkout.return", "original")?;
        }
        let id = &request.return_id;
        // A return is sent to the provider under its own id (a remainder, a negative sale): the
        // id of an order would be taken as that sale again, after the original was cancelled.
        // The load finds orders stored before ids were reserved.
        if request.original.as_ref() == Some(id) || self.load(id).await?.is_some() {
            return Err(return_under_order_id(id));
        }
        let Some(original) = &request.original else {
            returns::check_request(&self.provider, None, request, style)?;
            self.reserve_return_id(request).await?;
            let _guard = self.lock_order(id).await;
            return self.return_without_receipt(ctx, request, style).await;
        };
        let _guard = self.lock_order(original).await;
        self.return_locked(ctx, original, request, style).await
    }

    /// A return without a receipt, kept under its return id: a retry of the same goods gets the
    /// first outcome (nothing is sent twice), the id asked for other goods is a `Conflict`,
    /// and an attempt under way on another instance is waited for (`Unavailable`, temporary).
    /// An attempt whose outcome at the provider is unknown is sent again by its retry (under
    /// the same id, which the provider takes as the same transaction where it recognises
    /// repeats); one refused before acting leaves the id free.
    async fn return_without_receipt(
        &self,
        ctx: &Context,
        request: &ReturnRequest,
        style: Option<ReturnStyle>,
    ) -> Result<(ReturnOutcome, bool)> {
        const OP: &str = "checkout.return";
        let id = &request.return_id;
        let goods = returns::unreceipted_fingerprint(request);
        let stored = self.store.load_return_without_receipt(id).await?;
        let version = stored.as_ref().map(|s| s.version);
        if let Some(known) = stored.map(|s| s.value) {
            if known.goods.as_ref().is_some_and(|g| g != &goods) {
                return Err(Error::new(ErrorKind::Conflict, FLOW, OP).with_message(format!(
                    "return id {id} was used for a return of other goods without a receipt; other goods \
                     need a return id of their own"
                )));
            }
            if let Some(done) = known.outcome {
                return Ok((done, true));
            }
            if known.goods.is_some() && self.lease_holds(known.until) {
                return Err(Error::new(ErrorKind::Unavailable, FLOW, OP)
                    .with_temporary(true)
                    .with_message(format!("return {id} is under way; try again shortly")));
            }
        }
        let mut record = ReturnWithoutReceipt::under_way(id.clone(), goods, self.after(self.options.lease));
        let Some(version) = self.store.save_return_without_receipt(&record, version).await? else {
            return Err(Error::new(ErrorKind::Unavailable, FLOW, OP)
                .with_temporary(true)
                .with_effect(WriteEffect::NotSent)
                .with_message(format!("return {id} is under way; try again shortly")));
        };
        let outcome = returns::process(&self.provider, ctx, None, request, style).await;
        match &outcome {
            Ok(done) => {
                record.outcome = Some(done.clone());
                record.until = None;
            }
            // It may have reached the provider: the goods stay bound to the id, and the retry
            // sends it again at once.
            Err(e) if e.effect() == WriteEffect::Unknown => record.until = Some(self.now()),
            // Refused before acting: the id is free again.
            Err(_) => {
                record.goods = None;
                record.until = None;
            }
        }
        // Best effort: the provider's answer is this call's answer. A record left under way
        // (the write failed) is sent again by a retry once its lease ends, under the same id.
        if let Ok(None) = self.store.save_return_without_receipt(&record, Some(version)).await {
            // Lost: a retry on another instance took the return over (this one outlived its
            // lease) and sends it under the same id. The outcome it recorded answers; a failure
            // here is no refusal before acting, since that attempt may act: asked again under
            // the same id, it gets the outcome.
            if let Ok(Some(now)) = self.store.load_return_without_receipt(id).await {
                if let Some(done) = now.value.outcome {
                    return Ok((done, true));
                }
            }
            if outcome.is_err() {
                return Err(return_taken_over(id, None));
            }
        }
        outcome.map(|done| (done, false))
    }

    /// Reserves a return's id for this return before anything reaches the provider or the
    /// payment service, once its original is known to be a committed order of this store and
    /// the request passed every check made before acting (a mistyped order id, or a request
    /// refused as invalid, must not take the return id with it). Ids are one namespace per
    /// store: one id for two returns would reach the vendor as one transaction.
    async fn reserve_return_id(&self, request: &ReturnRequest) -> Result<()> {
        let id = &request.return_id;
        let usage = IdUse::Return { original: request.original.clone() };
        match self.store.reserve_id(id, &usage).await? {
            // This return's own id (a retry answers as the first attempt did).
            reserved if reserved == usage => Ok(()),
            IdUse::Order => Err(return_under_order_id(id)),
            IdUse::Return { original } => {
                let of = original.map_or_else(|| "without a receipt".to_owned(), |o| format!("of order {o}"));
                Err(Error::new(ErrorKind::Conflict, FLOW, "checkout.return")
                    .with_message(format!("return id {id} was used for a return {of}; use a new return id")))
            }
        }
    }

    /// The return ledger of a committed order.
    ///
    /// # Errors
    /// Store errors.
    pub async fn ledger(&self, id: &TransactionId) -> Result<Option<ReturnLedger>> {
        if check_id(id, "checkout.ledger", "order").is_err() {
            return Ok(None);
        }
        Ok(self.store.load_ledger(id).await?.map(|s| s.value))
    }

    async fn return_locked(
        &self,
        ctx: &Context,
        original: &TransactionId,
        request: &ReturnRequest,
        style: Option<ReturnStyle>,
    ) -> Result<(ReturnOutcome, bool)> {
        const OP: &str = "checkout.return";
        let order = self.load(original).await?.map(|w| w.rec);
        // The sale is at the provider the order started at: a return is made there.
        if let Some(rec) = &order {
            self.check_provider(rec, OP)?;
        }
        let (mut ledger, mut version) = match self.store.load_ledger(original).await? {
            Some(s) => (s.value, Some(s.version)),
            None => {
                let rec = order.filter(|r| r.state.is_committed()).ok_or_else(|| {
                    Error::not_found(FLOW, OP, format!("no committed transaction {original}"))
                })?;
                let tx = rec.transaction.clone().ok_or_else(|| {
                    Error::not_found(FLOW, OP, format!("order {original} has no transaction yet"))
                })?;
                match rec.state {
                    CheckoutState::Sent | CheckoutState::Refused => {}
                    _ => {
                        // Temporary: the same return passes once the sale is resent.
                        return Err(Error::new(ErrorKind::Conflict, FLOW, OP)
                            .with_temporary(true)
                            .with_message(format!(
                                "order {original} has not reached the provider yet ({}); resend it first",
                                rec.state.label()
                            )));
                    }
                }
                let mut ledger = ReturnLedger::new(tx);
                ledger.authorization = rec.authorization.clone();
                // Only a sale the provider took has anything there to return; one it refused or
                // never got (it takes no transactions, still recorded Sent) is only refunded.
                ledger.delivered = rec
                    .outcome
                    .as_ref()
                    .map_or(rec.state == CheckoutState::Sent, |o| matches!(o.delivery, Delivery::Sent(_)));
                (ledger, None)
            }
        };
        // A used return id with other goods (the first outcome is not this request's), or a
        // request refused before acting: nothing reserved, nothing changed.
        returns::check_request(&self.provider, Some(&ledger), request, style)?;
        self.reserve_return_id(request).await?;
        if let Some(done) = ledger.processed.get(&request.return_id).cloned() {
            self.refund_once(&mut ledger, &mut version, request, &done).await?;
            return Ok((done, true));
        }
        if let Some(under_way) = ledger.in_progress.clone() {
            if self.lease_holds(ledger.under_way.as_ref().map(|u| u.until)) {
                // Another instance is working on it now: running it here as well would act at
                // the provider twice.
                return Err(Error::new(ErrorKind::Unavailable, FLOW, OP).with_temporary(true).with_message(
                    format!("return {under_way} of order {original} is under way; try again shortly"),
                ));
            }
            if under_way != request.return_id {
                // Its instance stopped: finish it as it was asked, then this one.
                let Some(earlier) = ledger.under_way.clone() else {
                    return Err(Error::new(ErrorKind::Conflict, FLOW, OP)
                        .with_message(format!("return {under_way} of order {original} is under way")));
                };
                self.run_return(ctx, &mut ledger, &mut version, &earlier.request, earlier.style, true)
                    .await?;
            }
        }
        // An earlier attempt of this return stopped without clearing its mark (its instance
        // died): it may have acted at the provider.
        let resumed = ledger.in_progress.as_ref() == Some(&request.return_id);
        // Resumed in the style it started in, whatever this request asks.
        let style = match ledger.under_way.as_ref().filter(|_| resumed) {
            Some(u) if u.style.is_some() => u.style,
            _ => style,
        };
        self.run_return(ctx, &mut ledger, &mut version, request, style, resumed)
            .await
            .map(|done| (done, false))
    }

    /// Runs one return at the provider under a lease written first (so no other instance starts
    /// one meanwhile, and the background work finishes it if this instance stops), records it
    /// and pays the refund.
    async fn run_return(
        &self,
        ctx: &Context,
        ledger: &mut ReturnLedger,
        version: &mut Option<u64>,
        request: &ReturnRequest,
        style: Option<ReturnStyle>,
        resumed: bool,
    ) -> Result<ReturnOutcome> {
        const OP: &str = "checkout.return";
        // The style is settled before anything acts and kept with the return under way, so a
        // resumed attempt (a retry, the background work) runs in the style that acted.
        let style = if resumed {
            style
        } else {
            returns::chosen_style(&self.provider, ctx, ledger, request, style, false).await?.or(style)
        };
        let until = self.after(self.options.lease);
        ledger.in_progress = Some(request.return_id.clone());
        ledger.under_way = Some(ReturnUnderWay::new(request.clone(), style, until));
        // Losing this first write means another instance took the order's returns meanwhile:
        // nothing was done here, and asking again shortly is the answer.
        *version = Some(self.save_ledger(ledger, *version, OP).await.map_err(|e| {
            if *e.kind() == ErrorKind::Conflict {
                Error::new(ErrorKind::Unavailable, FLOW, OP)
                    .with_temporary(true)
                    .with_effect(WriteEffect::NotSent)
                    .with_message(format!(
                        "another return of order {} is under way; try again shortly",
                        ledger.original.id
                    ))
            } else {
                e
            }
        })?);
        self.due_for_return(&ledger.original.id, until).await;
        let live = (ledger.current.id.clone(), ledger.current.revision);
        let outcome =
            returns::process_resumed(&self.provider, ctx, Some(ledger), request, style, resumed).await;
        let outcome = match outcome {
            Ok(o) => o,
            Err(e)
                if e.effect() == WriteEffect::Unknown
                    || ledger.left_half_way()
                    || ledger.current.id != live.0
                    || ledger.current.revision != live.1 =>
            {
                // The step that failed may have acted at the provider (a cancel whose reply was
                // lost), or an earlier step did (the original cancelled, a new version
                // recorded) and the vendor is left half way: the return stays marked, its lease
                // ended now, so the next attempt (a retry, or the background work) runs as a
                // resumed one, finishes it and takes a refusal of a repeated step as done
                // instead of failing for ever.
                let now = self.now();
                if let Some(u) = ledger.under_way.as_mut() {
                    u.until = now;
                }
                let message = format!(
                    "{}; return {} stays under way and is finished under its id (by asking again \
                     with the same id, or by the background work); do not start it again under \
                     a new id",
                    e.message(),
                    request.return_id
                );
                // The return as a whole acted at the vendor: the error must not say otherwise.
                let e = e.with_message(message).with_effect(WriteEffect::Unknown);
                if !self.save_ledger_acted(ledger, version, request, until).await? {
                    return self.answer_taken_over_return(ledger, version, request, e).await;
                }
                self.due_for_return(&ledger.original.id, now).await;
                return Err(e);
            }
            Err(e) => {
                // Refused before anything changed at the vendor: the ledger says what did, and
                // the next attempt starts afresh.
                ledger.in_progress = None;
                ledger.under_way = None;
                if !self.save_ledger_acted(ledger, version, request, until).await? {
                    // Another instance resumed this return meanwhile and may act at the vendor.
                    let taken = return_taken_over(&request.return_id, Some(&ledger.original.id));
                    return self.answer_taken_over_return(ledger, version, request, taken).await;
                }
                return Err(e);
            }
        };
        ledger.in_progress = None;
        ledger.under_way = None;
        if !self.save_ledger_acted(ledger, version, request, until).await? {
            let taken = return_taken_over(&request.return_id, Some(&ledger.original.id));
            return self.answer_taken_over_return(ledger, version, request, taken).await;
        }
        self.refund_once(ledger, version, request, &outcome).await?;
        Ok(outcome)
    }

    /// Writes the ledger after this instance acted at the provider for `request` under its
    /// lease ending `until`. A write lost to refunds recorded meanwhile (their writers take no
    /// lease, and the ledger still shows this return under this lease) is merged and written
    /// again; `false` when another instance took the return over (this one outlived its lease).
    async fn save_ledger_acted(
        &self,
        ledger: &mut ReturnLedger,
        version: &mut Option<u64>,
        request: &ReturnRequest,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        for _ in 0..8 {
            if let Some(v) = self.store.save_ledger(ledger, *version).await? {
                *version = Some(v);
                return Ok(true);
            }
            let Some(now) = self.store.load_ledger(&ledger.original.id).await? else { return Ok(false) };
            let still_ours = now.value.in_progress.as_ref() == Some(&request.return_id)
                && now.value.under_way.as_ref().is_some_and(|u| u.until == until);
            if !still_ours {
                return Ok(false);
            }
            ledger.refunds_paid.extend(now.value.refunds_paid);
            // Refusals the background work noted meanwhile, but for refunds paid since.
            ledger.refunds_refused.extend(now.value.refunds_refused);
            let paid = &ledger.refunds_paid;
            ledger.refunds_refused.retain(|id, _| !paid.contains(id));
            *version = Some(now.version);
        }
        Ok(false)
    }

    /// A ledger write lost after this instance acted at the provider for `request`: another
    /// instance took the order's returns over (this one outlived its lease during a slow
    /// vendor call) and resumes the return under its id. The outcome it recorded for this
    /// return id answers, refunded once as a repeated request is; otherwise `err`, which never
    /// says the return was refused before acting (it is asked again under the same id). Nothing
    /// is sent to the provider on this path.
    async fn answer_taken_over_return(
        &self,
        ledger: &mut ReturnLedger,
        version: &mut Option<u64>,
        request: &ReturnRequest,
        err: Error,
    ) -> Result<ReturnOutcome> {
        let Ok(Some(stored)) = self.store.load_ledger(&ledger.original.id).await else { return Err(err) };
        *ledger = stored.value;
        *version = Some(stored.version);
        let Some(done) = ledger.processed.get(&request.return_id).cloned() else { return Err(err) };
        self.refund_once(ledger, version, request, &done).await?;
        Ok(done)
    }

    /// Makes the order due when a return's lease ends, so the background work looks at it if
    /// the return is not finished by then. Best effort: a lost write leaves the return to be
    /// finished by the next return request of the order.
    async fn due_for_return(&self, order: &TransactionId, until: chrono::DateTime<chrono::Utc>) {
        if let Ok(Some(mut w)) = self.load(order).await {
            if w.rec.due_at.is_none_or(|d| d > until) {
                w.rec.due_at = Some(until);
                let _ = self.try_save(&mut w).await;
            }
        }
    }

    /// Finishes a return whose instance stopped (its lease lapsed), as it was asked, then pays
    /// the refunds its order still owes (a refund refused for now, of this return or of an
    /// earlier one nobody asked for again). Returns when the order should be looked at again (a
    /// return still under way under its lease; a refund refused for now, after a lease) and what
    /// went wrong with the refunds, readable. `None` only when no refund is owed any more, bar
    /// those the payment service refused for good (noted in the ledger).
    pub(super) async fn finish_lapsed_return(
        &self,
        ctx: &Context,
        order: &TransactionId,
    ) -> Result<(Option<chrono::DateTime<chrono::Utc>>, Vec<String>)> {
        let Some(stored) = self.store.load_ledger(order).await? else { return Ok((None, Vec::new())) };
        let (mut ledger, mut version) = (stored.value, Some(stored.version));
        if let Some(id) = ledger.in_progress.clone() {
            // A ledger written before returns kept their request: only a retry can finish it;
            // the refunds owed by earlier returns are paid meanwhile.
            if let Some(under_way) = ledger.under_way.clone().filter(|u| u.request.return_id == id) {
                if self.lease_holds(Some(under_way.until)) {
                    // Its instance still works on it; the owed refunds are paid when it lapses.
                    return Ok((Some(under_way.until), Vec::new()));
                }
                self.run_return(ctx, &mut ledger, &mut version, &under_way.request, under_way.style, true)
                    .await?;
                // The return may have been answered from what another instance wrote: pay from
                // the ledger as it now stands.
                let Some(stored) = self.store.load_ledger(order).await? else {
                    return Ok((None, Vec::new()));
                };
                (ledger, version) = (stored.value, Some(stored.version));
            }
        }
        let (mut problems, for_now) = self.pay_unpaid_refunds(&mut ledger, &mut version).await?;
        let due = for_now.map(|e| {
            problems.push(format!("a refund is owed still: {e}"));
            self.after(self.options.lease)
        });
        Ok((due, problems))
    }

    async fn save_ledger(&self, ledger: &ReturnLedger, expected: Option<u64>, op: &str) -> Result<u64> {
        self.store.save_ledger(ledger, expected).await?.ok_or_else(|| {
            Error::new(ErrorKind::Conflict, FLOW, op)
                .with_message(format!("the return ledger of {} changed meanwhile", ledger.original.id))
        })
    }

    /// Pays the refunds of processed returns that are still owed (a refund that failed, its
    /// return asked by nobody again: the request died with its instance, or the caller gave
    /// up), each once per return id (the refund key) and each on its own: one the payment
    /// service refuses for good is noted in the ledger (`refunds_refused`: the background work
    /// pays it no more) and said in the first value, and the others are still paid. The second
    /// value is the first refusal for now: those refunds stay owed and the order stays due.
    async fn pay_unpaid_refunds(
        &self,
        ledger: &mut ReturnLedger,
        version: &mut Option<u64>,
    ) -> Result<(Vec<String>, Option<Error>)> {
        let Some(auth) = ledger.authorization.clone() else { return Ok((Vec::new(), None)) };
        let owed: Vec<(TransactionId, Money)> = ledger
            .processed
            .iter()
            .filter(|(id, o)| {
                o.refunded.minor > 0
                    && !ledger.refunds_paid.contains(*id)
                    && !ledger.refunds_refused.contains_key(*id)
            })
            .map(|(id, o)| (id.clone(), o.refunded))
            .collect();
        let (mut refused, mut for_now) = (Vec::new(), None);
        for (id, amount) in owed {
            // Paid or noted meanwhile by another instance (the ledger was read again below).
            if ledger.refunds_paid.contains(&id) || ledger.refunds_refused.contains_key(&id) {
                continue;
            }
            match self.payment.refund(&auth, &id, amount).await {
                Ok(()) => self.record_refund(ledger, version, &id).await?,
                Err(e) if e.is_temporary() => {
                    for_now.get_or_insert(e);
                }
                Err(e) => {
                    if self.record_refund_refused(ledger, version, &id, &e).await? {
                        refused.push(format!(
                            "the refund of return {id} ({amount}) was refused for good, it is owed until \
                             settled by hand: {e}"
                        ));
                    }
                }
            }
        }
        Ok((refused, for_now))
    }

    /// Notes in the ledger that the payment service refused the refund of return `id` for
    /// good; `false` when it was paid meanwhile (another instance, or the caller asking again).
    async fn record_refund_refused(
        &self,
        ledger: &mut ReturnLedger,
        version: &mut Option<u64>,
        id: &TransactionId,
        refusal: &Error,
    ) -> Result<bool> {
        let noted = self
            .change_ledger(ledger, version, |l| {
                if l.refunds_paid.contains(id) {
                    return false;
                }
                l.refunds_refused.insert(id.clone(), refusal.to_string());
                true
            })
            .await?;
        noted.ok_or_else(|| {
            Error::new(ErrorKind::Conflict, FLOW, "checkout.tick").with_message(format!(
                "the return ledger of order {} kept changing while the refused refund of return {id} was noted",
                ledger.original.id
            ))
        })
    }

    /// Applies `change` to the ledger and writes it (a versioned write). When another writer
    /// got there first, the ledger is read again and `change` applied to it anew, a few times.
    /// `Some(true)` once written, `Some(false)` when `change` finds nothing to write, `None`
    /// when the ledger kept changing (or is gone).
    async fn change_ledger(
        &self,
        ledger: &mut ReturnLedger,
        version: &mut Option<u64>,
        mut change: impl FnMut(&mut ReturnLedger) -> bool,
    ) -> Result<Option<bool>> {
        for _ in 0..8 {
            if !change(ledger) {
                return Ok(Some(false));
            }
            if let Some(v) = self.store.save_ledger(ledger, *version).await? {
                *version = Some(v);
                return Ok(Some(true));
            }
            let Some(stored) = self.store.load_ledger(&ledger.original.id).await? else { break };
            *ledger = stored.value;
            *version = Some(stored.version);
        }
        Ok(None)
    }

    /// Records the refund of return `id` as paid. The money went back already, so a ledger
    /// another instance wrote meanwhile (another return of the order started, or the instance
    /// that took this return over recorded it) is read again and the refund recorded in it,
    /// never answered as a refusal. Paying a return's refund twice has one effect at the
    /// payment service, so a refund recorded here once is enough.
    async fn record_refund(
        &self,
        ledger: &mut ReturnLedger,
        version: &mut Option<u64>,
        id: &TransactionId,
    ) -> Result<()> {
        let recorded = self
            .change_ledger(ledger, version, |l| {
                l.refunds_paid.insert(id.clone());
                l.refunds_refused.remove(id);
                true
            })
            .await?;
        if recorded.is_some() {
            return Ok(());
        }
        Err(Error::new(ErrorKind::Unavailable, FLOW, "checkout.return")
            .with_effect(WriteEffect::Unknown)
            .with_message(format!(
                "the refund of return {id} was paid, but the return ledger of order {} kept changing \
                 under this instance: ask again with the same return id",
                ledger.original.id
            )))
    }

    /// Pays a processed return back through the payment service, once per return id.
    async fn refund_once(
        &self,
        ledger: &mut ReturnLedger,
        version: &mut Option<u64>,
        request: &ReturnRequest,
        outcome: &ReturnOutcome,
    ) -> Result<()> {
        if ledger.refunds_paid.contains(&request.return_id) || outcome.refunded.minor <= 0 {
            return Ok(());
        }
        let Some(auth) = ledger.authorization.clone() else { return Ok(()) };
        if let Err(e) = self.payment.refund(&auth, &request.return_id, outcome.refunded).await {
            // Owed still: the background work pays it if nobody asks for this return again.
            self.due_for_return(&ledger.original.id, self.after(self.options.lease)).await;
            return Err(e);
        }
        self.record_refund(ledger, version, &request.return_id).await
    }
}

/// The context an order's provider calls run under: the order's department when it names one
/// (else the caller's context's), the same precedence as the sale's own department (`freeze`),
/// so its holds, validations and sale all go to the store the sale is recorded at (SessionM
/// redeems a lock only by a sale of the store that took it).
pub(crate) fn order_context(ctx: &Context, request: &CheckoutRequest) -> Context {
    let mut c = ctx.clone();
    if let Some(d) = &request.department {
        c.department = Some(d.clone());
    }
    c
}

/// A return asked under the id of an order (stored, or reserved as one).
fn return_under_order_id(id: &TransactionId) -> Error {
    Error::invalid(
        FLOW,
        "checkout.return",
        "return_id",
        format!("{id} is the id of an order; a return needs an id of its own"),
    )
}

/// A write lost after the order's charge started here: another instance took the order over
/// (this one outlived its lease during a slow payment or vendor call) and finishes the charge
/// under the same payment key and order id. The money may have moved, so this is never a
/// refusal before acting: temporary, with effect `Unknown`, and asking again with the same
/// order id gets the other instance's result (one charge, one sale).
fn taken_over(order: &TransactionId, op: &str) -> Error {
    Error::new(ErrorKind::Unavailable, FLOW, op)
        .with_temporary(true)
        .with_effect(WriteEffect::Unknown)
        .with_message(format!(
            "order {order} was taken over by another instance while this one was at {op} (it outlived \
             its lease); the payment may have gone through there: ask again with the same order id \
             for the result, do not pay again under a new order id"
        ))
}

/// A write lost after this instance acted at the provider for return `return_id` (of order
/// `original`, when it has a receipt), the return not finished by the instance that took it
/// over (yet): temporary, with effect `Unknown`, and asking again with the same return id gets
/// the outcome (returned and refunded once).
fn return_taken_over(return_id: &TransactionId, original: Option<&TransactionId>) -> Error {
    let of_order = original.map(|o| format!(" of order {o}")).unwrap_or_default();
    Error::new(ErrorKind::Unavailable, FLOW, "checkout.return")
        .with_temporary(true)
        .with_effect(WriteEffect::Unknown)
        .with_message(format!(
            "return {return_id}{of_order} was taken over by another instance while this one was \
             at the provider (it outlived its lease); it is finished there under its id: ask again \
             with the same return id for its outcome, do not start it again under a new id"
        ))
}

fn different_basket(order: &TransactionId, op: &str) -> Error {
    Error::new(ErrorKind::Conflict, FLOW, op)
        .with_message(format!("order {order} was already charged for a different basket; use a new order id"))
}

/// Allocates `amount` over `part` of `whole` units, rounded half-up. Used so that returning
/// all units in any number of steps gives back exactly `amount`.
pub(crate) fn share(amount: i64, part: Decimal, whole: Decimal) -> i64 {
    if whole.is_zero() {
        return 0;
    }
    let v = Decimal::from(amount) * part / whole;
    v.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .try_into()
        .unwrap_or(amount)
}
