//! What the checkout store keeps for each order: its state, what was shown, what is held, what
//! was charged and sent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::payment::{Authorization, PaymentAction};
use super::{CheckoutOutcome, CheckoutRequest};
use crate::basket::PricedBasket;
use crate::ids::TransactionId;
use crate::member::Member;
use crate::offer::Offer;
use crate::transaction::{Hold, Transaction};

/// Where one order's checkout stands. See `docs/architecture.md` for the diagram.
///
/// | State | Meaning | Holds |
/// | --- | --- | --- |
/// | `Preparing` | an instance is identifying, pricing and holding, or (`releasing`) the background work releases a prepared order's lapsed holds (its lease in `due_at`) | being taken, or released |
/// | `Prepared` | priced and held; waiting for commit or abort | held (the sweeper releases expired ones) |
/// | `AwaitingAction` | the payment waits for the customer (3-D Secure, redirect) | held |
/// | `Declined` | the payment was declined; commit again re-takes the holds | none |
/// | `Charging` | the payment is under way (its lease in `due_at`) | held |
/// | `Charged` | captured; the transaction is frozen and about to be sent | held |
/// | `Pending` | charged, the send failed for now: in the outbox | held until sent |
/// | `Sent` | the provider has the sale (final) | released |
/// | `Refused` | charged, the provider refused the sale for good (final, reported once) | released |
/// | `Aborted` | given up before any charge (final until prepared again) | released |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckoutState {
    /// Identifying, pricing and holding.
    Preparing,
    /// Priced and held.
    Prepared,
    /// The payment waits for the customer.
    AwaitingAction,
    /// The payment was declined; nothing is held.
    Declined,
    /// The payment is under way.
    Charging,
    /// Captured; about to be sent.
    Charged,
    /// Charged; waiting in the outbox for a resend.
    Pending,
    /// Delivered to the provider.
    Sent,
    /// Charged, and refused by the provider for good.
    Refused,
    /// Given up before any charge.
    Aborted,
}

impl CheckoutState {
    /// The state's name as stored (`"pending"`).
    pub fn label(&self) -> &'static str {
        match self {
            CheckoutState::Preparing => "preparing",
            CheckoutState::Prepared => "prepared",
            CheckoutState::AwaitingAction => "awaiting_action",
            CheckoutState::Declined => "declined",
            CheckoutState::Charging => "charging",
            CheckoutState::Charged => "charged",
            CheckoutState::Pending => "pending",
            CheckoutState::Sent => "sent",
            CheckoutState::Refused => "refused",
            CheckoutState::Aborted => "aborted",
        }
    }

    /// The state named `label`.
    pub fn from_label(label: &str) -> Option<CheckoutState> {
        CheckoutState::ALL.into_iter().find(|s| s.label() == label)
    }

    /// Every state.
    pub const ALL: [CheckoutState; 10] = [
        CheckoutState::Preparing,
        CheckoutState::Prepared,
        CheckoutState::AwaitingAction,
        CheckoutState::Declined,
        CheckoutState::Charging,
        CheckoutState::Charged,
        CheckoutState::Pending,
        CheckoutState::Sent,
        CheckoutState::Refused,
        CheckoutState::Aborted,
    ];

    /// True once money moved or is moving: the order can no longer change.
    pub fn is_committed(&self) -> bool {
        matches!(
            self,
            CheckoutState::Charging
                | CheckoutState::Charged
                | CheckoutState::Pending
                | CheckoutState::Sent
                | CheckoutState::Refused
        )
    }

    /// True when an instance is working on the order under a lease.
    pub fn is_in_progress(&self) -> bool {
        matches!(self, CheckoutState::Preparing | CheckoutState::Charging | CheckoutState::Charged)
    }
}

/// One order's checkout as the store keeps it. Written before every step with an outside
/// effect (a hold, a charge, a send), so another process can pick it up where this one stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct CheckoutRecord {
    /// The order id.
    pub order: TransactionId,
    /// The provider the order was started at ([`Provider::name`](crate::Provider::name)): its
    /// holds, payment and sale belong there, so a checkout running another provider (the
    /// configuration was switched meanwhile) refuses to act on it. `None` in records written
    /// before records named their provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Where it stands.
    pub state: CheckoutState,
    /// Fingerprint of what the customer buys (basket, member lookup, confirmed offers): the
    /// same order id with another fingerprint after the charge is a `Conflict`.
    pub fingerprint: String,
    /// Bumped each time the checkout is priced again; a `Prepared` of an older revision is stale.
    pub revision: u32,
    /// The request as last prepared.
    pub request: CheckoutRequest,
    /// The member, when identified or signed up.
    pub member: Option<Member>,
    /// True when the flow registered the guest.
    pub signed_up: bool,
    /// This order's sign-up was sent to the provider (written before the register call, and
    /// cleared when the provider answered that it made no member): a retry of the order that
    /// finds a member by the sign-up's phone or e-mail takes it as the member this order
    /// registered, though the register reply was lost. `false` in records written before
    /// records kept it.
    #[serde(default)]
    pub sign_up_sent: bool,
    /// Offers in play.
    pub offers: Vec<Offer>,
    /// The priced basket shown to the customer: the amount commit may charge.
    pub priced: Option<PricedBasket>,
    /// Holds taken and not yet released.
    pub holds: Vec<Hold>,
    /// Offers whose hold call was started and whose hold is not recorded yet (the process may
    /// have died during the call, or its reply was lost): the vendor may hold them for this
    /// order. Each stays here until its hold is recorded (held again for the same order, which
    /// gives the same hold) or the vendor refuses to hold it; the record is due meanwhile, and
    /// the background work settles them: a prepared order records the hold (released when it
    /// lapses), an aborted or declined one releases it.
    pub hold_intents: Vec<Offer>,
    /// Fingerprint of the basket the holds were taken for; another basket takes them again.
    pub held_basket: Option<String>,
    /// What changed on the way, readable by a cashier.
    pub notes: Vec<String>,
    /// The payment authorization, once granted or started.
    pub authorization: Option<Authorization>,
    /// What the customer must do to finish the payment, while `AwaitingAction`.
    pub action: Option<PaymentAction>,
    /// The frozen transaction, once charged.
    pub transaction: Option<Transaction>,
    /// The result, once charged and sent (or pending, or refused).
    pub outcome: Option<CheckoutOutcome>,
    /// Offers the vendor refused after the charge; the sale goes without claiming them.
    pub dropped_claims: Vec<crate::ids::OfferId>,
    /// Sends tried so far.
    pub send_attempts: u32,
    /// A send to a provider that does not recognise a repeated id
    /// ([`Resend::Unrecognised`](crate::Resend::Unrecognised)) was started and its outcome is not
    /// known (a timeout, or this instance stopped during it): the sale is not sent again until
    /// an operator has checked the vendor and resends it ([`Checkout::resend_pending`](super::Checkout::resend_pending)).
    #[serde(default)]
    pub send_unsettled: bool,
    /// An instance is sending the sale under a lease ending at `due_at` (a `Pending` record's
    /// `due_at` is otherwise the next resend after a backoff): an operator's resend on another
    /// instance leaves it alone until the lease ends, so the sale goes once.
    #[serde(default)]
    pub sending: bool,
    /// An instance is releasing this order's holds (or voiding its waiting payment) under the
    /// lease `due_at`: the lapsed holds of a prepared order (in `Preparing`), or every hold of an
    /// aborted or declined one. A prepare, commit or abort elsewhere waits for it instead of
    /// keeping a hold it is about to release. A lease that lapses with this set was that release
    /// interrupted: a prepared order is still prepared (not aborted), and an aborted or declined
    /// one has its release finished before anything else is done with it.
    #[serde(default)]
    pub releasing: bool,
    /// The price moved at the last check before a charge (a hold lapsed and its offer was
    /// taken, an offer expired) and nobody has confirmed the new total yet: a commit that names
    /// no revision (a repeated [`Checkout::complete`](super::Checkout::complete), a
    /// [`Checkout::commit_order`](super::Checkout::commit_order)) answers the price change
    /// again instead of charging it. Cleared by a commit of this revision or a new prepare.
    #[serde(default)]
    pub unconfirmed_change: Option<UnconfirmedChange>,
    /// The current attempt may have an authorization this record does not show yet (written
    /// ahead of the authorize call: the reply may be lost, the instance may stop during it;
    /// cleared once the service's answer is recorded), and its capture waits for the offers to
    /// be checked again. A resumed charge asks under the same key first, checks, and then
    /// captures, or voids on a price change instead of leaving the money reserved.
    #[serde(default)]
    pub authorize_unknown: bool,
    /// The capture of the recorded authorization was started (written ahead of the capture
    /// call): the money may have moved, the reply lost or the instance stopped during it. A
    /// resumed charge only captures again (the payment service dedupes a capture) and sends
    /// the sale: it never prices the order again nor voids a payment that may be captured.
    #[serde(default)]
    pub capture_started: bool,
    /// Payment attempts started: the attempt in the payment key (order id and attempt) in use.
    /// A new charge after a decline or for a new total starts the next one.
    #[serde(default)]
    pub payment_attempts: u32,
    /// When this record needs attention: a lease running out, holds expiring, the next resend.
    pub due_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl CheckoutRecord {
    /// An instance is working on the order under the lease `due_at`: a step in progress, or a
    /// release of its holds.
    pub(crate) fn is_worked_on(&self) -> bool {
        self.state.is_in_progress() || self.releasing
    }

    /// An aborted or declined order whose release was interrupted (its lease lapsed).
    pub(crate) fn release_unfinished(&self) -> bool {
        self.releasing && matches!(self.state, CheckoutState::Aborted | CheckoutState::Declined)
    }

    /// Something is left to undo: holds not released yet, hold calls whose outcome is unknown
    /// (the vendor may hold them), or the authorization of an aborted (or timed-out, declined)
    /// order's waiting payment not voided yet (a sold order's authorization stays, for refunds).
    /// Such a record is due at once, for the next tick to retry.
    pub(crate) fn has_leftovers(&self) -> bool {
        !self.holds.is_empty()
            || !self.hold_intents.is_empty()
            || (matches!(self.state, CheckoutState::Aborted | CheckoutState::Declined)
                && self.authorization.is_some())
    }

    pub(crate) fn new(request: &CheckoutRequest, now: DateTime<Utc>) -> CheckoutRecord {
        CheckoutRecord {
            order: request.transaction_id.clone(),
            provider: None,
            state: CheckoutState::Preparing,
            fingerprint: request.fingerprint(),
            revision: 0,
            request: request.clone(),
            member: None,
            signed_up: false,
            sign_up_sent: false,
            offers: Vec::new(),
            priced: None,
            holds: Vec::new(),
            hold_intents: Vec::new(),
            held_basket: None,
            notes: Vec::new(),
            authorization: None,
            action: None,
            transaction: None,
            outcome: None,
            dropped_claims: Vec::new(),
            send_attempts: 0,
            send_unsettled: false,
            sending: false,
            releasing: false,
            unconfirmed_change: None,
            authorize_unknown: false,
            capture_started: false,
            payment_attempts: 0,
            due_at: None,
            updated_at: now,
        }
    }
}

/// A price change the customer has not confirmed: what they were shown, and why it moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct UnconfirmedChange {
    /// The total the customer confirmed before the price moved.
    pub old_total: crate::money::Money,
    /// What changed, readable by a cashier.
    pub changes: Vec<String>,
}

impl UnconfirmedChange {
    /// A change from `old_total`, for the reasons in `changes`.
    pub fn new(old_total: crate::money::Money, changes: Vec<String>) -> UnconfirmedChange {
        UnconfirmedChange { old_total, changes }
    }
}

/// A value and the version it was stored under (optimistic concurrency: a write names the
/// version it read, and loses when another writer got there first).
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<T> {
    /// The value.
    pub value: T,
    /// Its version.
    pub version: u64,
}

/// The stored answer of an idempotent request to a service over the checkout store (the HTTP
/// face, `loyalty serve`): a repeat with the same key gets this answer instead of acting twice.
/// Kept in the checkout store so it survives restarts and is shared by every instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredReply {
    /// The scope and the caller's key (`members.register:3f9c…`).
    pub key: String,
    /// A fingerprint of the request the key was first used with; another request under the
    /// same key is refused.
    pub fingerprint: String,
    /// Running, or done with its answer.
    pub state: ReplyState,
}

impl StoredReply {
    /// A request under way until `until` (a lease: an instance that dies frees the key).
    pub fn running(
        key: impl Into<String>,
        fingerprint: impl Into<String>,
        until: DateTime<Utc>,
    ) -> StoredReply {
        StoredReply { key: key.into(), fingerprint: fingerprint.into(), state: ReplyState::Running { until } }
    }

    /// A finished request and what it answered.
    pub fn done(
        key: impl Into<String>,
        fingerprint: impl Into<String>,
        status: u16,
        body: String,
    ) -> StoredReply {
        StoredReply {
            key: key.into(),
            fingerprint: fingerprint.into(),
            state: ReplyState::Done { status, body },
        }
    }
}

/// Where an idempotent request is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReplyState {
    /// Being processed until `until`; after that the key is free to take again (the request
    /// failed temporarily, or its instance died).
    Running {
        /// End of the lease.
        until: DateTime<Utc>,
    },
    /// Answered: the status and body to give every repeat.
    Done {
        /// The answer's status code.
        status: u16,
        /// The answer's body.
        body: String,
    },
}
