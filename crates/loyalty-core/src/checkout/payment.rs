//! The integrator's payment service, as the checkout sees it, and a simulated one for
//! development and tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::ids::TransactionId;
use crate::money::Money;

/// A payment authorization the integrator's payment service granted (or started, when the
/// customer still has to act).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Authorization {
    /// The payment service's id.
    pub id: String,
    /// Amount authorized.
    pub amount: Money,
}

/// What the customer must do before a payment can be authorized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Leave for the payment provider's page and come back (PayPal, Vipps).
    Redirect,
    /// A 3-D Secure challenge.
    ThreeDSecure,
    /// Pay later through a link (an offline payment).
    OfflinePayment,
}

/// A payment waiting for the customer: what the shop must show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct PaymentAction {
    /// What kind of action.
    pub kind: ActionKind,
    /// Where to send the customer, when there is a page.
    pub url: Option<String>,
}

impl PaymentAction {
    /// An action of `kind` at `url`.
    pub fn new(kind: ActionKind, url: Option<String>) -> PaymentAction {
        PaymentAction { kind, url }
    }
}

/// The payment service's answer to an authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Authorized {
    /// Authorized; capture may follow.
    Approved(Authorization),
    /// Started, but the customer must act first; [`Payment::resume`] finishes it.
    ActionRequired {
        /// The pending authorization (voided if the checkout is abandoned).
        authorization: Authorization,
        /// What the shop must show.
        action: PaymentAction,
    },
}

/// Which payment of an order an authorization is: the order id and the attempt, 1 for the
/// first. A new attempt starts after a decline, a void or a new total; a checkout resumed
/// after a crash or a timeout asks again under the same attempt.
///
/// ```
/// use loyalty_core::checkout::PaymentKey;
/// use loyalty_core::TransactionId;
///
/// let key = PaymentKey::new(TransactionId::new("order-1"), 2);
/// assert_eq!(key.to_string(), "order-1#2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct PaymentKey {
    /// The checkout's order id.
    pub order: TransactionId,
    /// The attempt, from 1.
    pub attempt: u32,
}

impl PaymentKey {
    /// The key of `order`'s payment attempt `attempt` (from 1).
    pub fn new(order: TransactionId, attempt: u32) -> PaymentKey {
        PaymentKey { order, attempt }
    }
}

impl std::fmt::Display for PaymentKey {
    /// `order#attempt`: an idempotency key for the payment service.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.order, self.attempt)
    }
}

/// The integrator's payment service. The flow calls it between hold and send.
///
/// # Idempotency (required)
/// The [`PaymentKey`] (order id and attempt) is the payment's idempotency key: authorizing
/// under the same key again (a checkout resumed after a crash or a timeout, a second instance
/// taking over) must return the first answer and never authorize twice; a new attempt (after
/// a decline, or for a new total) is a new key, so the customer can pay again. Capturing,
/// voiding and refunding an authorization twice must have one effect. Every real payment
/// service offers such a key.
#[async_trait]
pub trait Payment: Send + Sync {
    /// Authorizes `amount` for the payment `key` (the order and the attempt).
    ///
    /// # Errors
    /// `Rejected` for a declined card: the checkout releases its holds. An error whose effect
    /// is [`WriteEffect::Unknown`](crate::WriteEffect::Unknown) (a timeout: the service may
    /// have authorized) leaves the order charging, to be asked again under the same order id
    /// by the next commit or tick; any other error stops the checkout like a decline.
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> Result<Authorized>;

    /// Asks again about an authorization that waited for the customer (back from 3-D Secure or
    /// a redirect): approved, declined (`Rejected`), or still waiting.
    ///
    /// # Errors
    /// `Rejected` when the customer did not complete it (the holds are released). A temporary
    /// error, or one whose effect is unknown, leaves the payment waiting: confirm again.
    async fn resume(&self, authorization: &Authorization) -> Result<Authorized>;

    /// Captures an authorization.
    ///
    /// # Errors
    /// An error whose effect is [`WriteEffect::Unknown`](crate::WriteEffect::Unknown) (the
    /// money may have moved) leaves the order charging: nothing is voided or released, and the
    /// capture is asked again by the next commit or tick. Any other error (a refusal before
    /// acting) voids the authorization and releases the holds.
    async fn capture(&self, authorization: &Authorization) -> Result<()>;

    /// Voids an authorization that will not be captured (also one still waiting for the
    /// customer).
    ///
    /// # Errors
    /// Any error; the flow reports it in the outcome's notes.
    async fn void(&self, authorization: &Authorization) -> Result<()>;

    /// Pays `amount` of a captured authorization back, once per `refund_id`.
    ///
    /// # Errors
    /// Any error; the return is kept and the refund can be retried under the same id.
    async fn refund(
        &self,
        authorization: &Authorization,
        refund_id: &TransactionId,
        amount: Money,
    ) -> Result<()>;
}

/// What a [`SimulatedPayment`] does with the next authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NextAnswer {
    /// Approve it.
    #[default]
    Approve,
    /// Decline it (`Rejected`).
    Decline,
    /// Ask for 3-D Secure; [`SimulatedPayment::complete_action`] approves it later.
    ThreeDSecure,
}

#[derive(Debug, Default)]
struct Ledger {
    authorized: BTreeMap<String, Authorization>,
    /// Keys whose authorization was declined: asked again, they are declined again.
    declined: Vec<String>,
    waiting: BTreeMap<String, bool>,
    captured: BTreeMap<String, Money>,
    voided: Vec<String>,
    /// (authorization id, refund id) → amount.
    refunds: BTreeMap<(String, String), Money>,
    next: NextAnswer,
}

/// A payment service for development, demos and tests: idempotent by [`PaymentKey`] like a
/// real one (a declined key stays declined, a voided one voided), it records every
/// authorization, capture, void and refund so a test can check that a customer was charged
/// once and exactly the amount shown.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use loyalty_core::checkout::{Authorized, Payment, PaymentKey, SimulatedPayment};
/// use loyalty_core::{Currency, Money, TransactionId};
///
/// let pay = SimulatedPayment::new();
/// let order = TransactionId::new("order-1");
/// let key = PaymentKey::new(order.clone(), 1);
/// let Authorized::Approved(a) = pay.authorize(&key, Money::new(100, Currency::NOK)).await.unwrap() else {
///     unreachable!()
/// };
/// pay.capture(&a).await.unwrap();
/// pay.capture(&a).await.unwrap(); // a second capture has no effect
/// assert_eq!(pay.captured_total(&order), Some(Money::new(100, Currency::NOK)));
/// # });
/// ```
#[derive(Debug, Default)]
pub struct SimulatedPayment {
    ledger: Mutex<Ledger>,
}

const PAYMENT: &str = "payment";

impl SimulatedPayment {
    /// A payment service that approves everything.
    pub fn new() -> SimulatedPayment {
        SimulatedPayment::default()
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets what the next new authorization gets (declines and 3-D Secure stay until changed).
    pub fn answer_next(&self, answer: NextAnswer) {
        self.ledger().next = answer;
    }

    /// The customer completes the 3-D Secure step of `order`'s pending authorization.
    pub fn complete_action(&self, order: &TransactionId) {
        for (_, done) in self.ledger().waiting.iter_mut().filter(|(id, _)| is_of(id, order)) {
            *done = true;
        }
    }

    /// What was captured for `order` (over all its attempts), if anything.
    pub fn captured_total(&self, order: &TransactionId) -> Option<Money> {
        let l = self.ledger();
        let mut captured = l.captured.iter().filter(|(id, _)| is_of(id, order)).map(|(_, m)| *m);
        let first = captured.next()?;
        Some(captured.fold(first, |sum, m| Money::new(sum.minor + m.minor, sum.currency)))
    }

    /// How many authorizations were captured.
    pub fn captures(&self) -> usize {
        self.ledger().captured.len()
    }

    /// The order an authorization id of this service belongs to.
    pub fn order_of(authorization_id: &str) -> Option<TransactionId> {
        let (order, _) = authorization_id.strip_prefix("auth-")?.rsplit_once('#')?;
        Some(TransactionId::new(order))
    }

    /// Authorizations voided, by id.
    pub fn voided(&self) -> Vec<String> {
        self.ledger().voided.clone()
    }

    /// Refunds paid, by refund id.
    pub fn refunds(&self) -> BTreeMap<String, Money> {
        self.ledger().refunds.iter().map(|((_, r), m)| (r.clone(), *m)).collect()
    }
}

fn auth_id(key: &PaymentKey) -> String {
    format!("auth-{key}")
}

fn is_of(id: &str, order: &TransactionId) -> bool {
    SimulatedPayment::order_of(id).is_some_and(|o| &o == order)
}

fn refused(op: &str, message: &str) -> Error {
    Error::new(ErrorKind::Rejected, PAYMENT, op).with_message(message)
}

#[async_trait]
impl Payment for SimulatedPayment {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> Result<Authorized> {
        let mut l = self.ledger();
        let id = auth_id(key);
        if l.declined.contains(&id) {
            return Err(refused("payment.authorize", "card declined"));
        }
        if let Some(existing) = l.authorized.get(&id).cloned() {
            if existing.amount != amount {
                return Err(Error::new(ErrorKind::Conflict, PAYMENT, "payment.authorize").with_message(
                    format!("payment {key} was authorized for {}, not {amount}", existing.amount),
                ));
            }
            return Ok(match l.waiting.get(&id) {
                Some(false) => Authorized::ActionRequired {
                    authorization: existing,
                    action: PaymentAction::new(
                        ActionKind::ThreeDSecure,
                        Some(format!("https://3ds.example/{id}")),
                    ),
                },
                _ => Authorized::Approved(existing),
            });
        }
        match l.next {
            NextAnswer::Decline => {
                l.declined.push(id);
                Err(refused("payment.authorize", "card declined"))
            }
            NextAnswer::Approve => {
                let a = Authorization { id: id.clone(), amount };
                l.authorized.insert(id, a.clone());
                Ok(Authorized::Approved(a))
            }
            NextAnswer::ThreeDSecure => {
                let a = Authorization { id: id.clone(), amount };
                l.authorized.insert(id.clone(), a.clone());
                l.waiting.insert(id.clone(), false);
                Ok(Authorized::ActionRequired {
                    authorization: a,
                    action: PaymentAction::new(
                        ActionKind::ThreeDSecure,
                        Some(format!("https://3ds.example/{id}")),
                    ),
                })
            }
        }
    }

    async fn resume(&self, authorization: &Authorization) -> Result<Authorized> {
        let l = self.ledger();
        if l.voided.contains(&authorization.id) {
            return Err(refused("payment.resume", "authorization was voided"));
        }
        match l.waiting.get(&authorization.id) {
            Some(false) => Ok(Authorized::ActionRequired {
                authorization: authorization.clone(),
                action: PaymentAction::new(
                    ActionKind::ThreeDSecure,
                    Some(format!("https://3ds.example/{}", authorization.id)),
                ),
            }),
            _ if l.authorized.contains_key(&authorization.id) => {
                Ok(Authorized::Approved(authorization.clone()))
            }
            _ => Err(Error::not_found(
                PAYMENT,
                "payment.resume",
                format!("no authorization {}", authorization.id),
            )),
        }
    }

    async fn capture(&self, authorization: &Authorization) -> Result<()> {
        let mut l = self.ledger();
        if l.voided.contains(&authorization.id) {
            return Err(refused("payment.capture", "authorization was voided"));
        }
        if l.waiting.get(&authorization.id) == Some(&false) {
            return Err(refused("payment.capture", "the customer has not completed 3-D Secure"));
        }
        l.captured.entry(authorization.id.clone()).or_insert(authorization.amount);
        Ok(())
    }

    async fn void(&self, authorization: &Authorization) -> Result<()> {
        let mut l = self.ledger();
        if l.captured.contains_key(&authorization.id) {
            return Err(
                Error::new(ErrorKind::Conflict, PAYMENT, "payment.void").with_message("already captured")
            );
        }
        if !l.voided.contains(&authorization.id) {
            l.voided.push(authorization.id.clone());
        }
        // Kept: the same key asked again gets this (voided) authorization back, as from a real
        // service; a new total is a new attempt.
        l.waiting.remove(&authorization.id);
        Ok(())
    }

    async fn refund(
        &self,
        authorization: &Authorization,
        refund_id: &TransactionId,
        amount: Money,
    ) -> Result<()> {
        let mut l = self.ledger();
        let Some(captured) = l.captured.get(&authorization.id).copied() else {
            return Err(refused("payment.refund", "nothing captured"));
        };
        let key = (authorization.id.clone(), refund_id.as_str().to_string());
        if l.refunds.contains_key(&key) {
            return Ok(());
        }
        let already: i64 =
            l.refunds.iter().filter(|((a, _), _)| *a == authorization.id).map(|(_, m)| m.minor).sum();
        if already.saturating_add(amount.minor) > captured.minor {
            return Err(refused("payment.refund", "refunds would exceed the captured amount"));
        }
        l.refunds.insert(key, amount);
        Ok(())
    }
}
