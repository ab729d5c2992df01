//! The checkout flow (DESIGN §6), generic over any [`Provider`].
//!
//! identify → list offers → price → validate → hold → pay → send, with compensation: a
//! failure at any step before the charge releases every hold; after the charge the sale
//! stands and a failed send is kept for a resend under the same transaction id.
//!
//! ```
//! # use std::sync::Arc;
//! # use loyalty_core::checkout::{Checkout, CheckoutRequest};
//! # use loyalty_core::{Basket, Context, Currency, Line, Money, SystemClock};
//! # use rust_decimal::Decimal;
//! # async fn run(provider: Arc<dyn loyalty_core::Provider>, payment: Arc<dyn loyalty_core::checkout::Payment>) -> loyalty_core::Result<()> {
//! let checkout = Checkout::new(provider, payment, Arc::new(SystemClock));
//! let basket = Basket::new(Currency::NOK)
//!     .with_line(Line::new("1", "COF-500", Decimal::ONE, Money::new(12_900, Currency::NOK)));
//! let outcome = checkout.complete(&Context::new(), &CheckoutRequest::new("order-1", basket)).await?;
//! println!("paid {}: {:?}", outcome.charged, outcome.delivery);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::basket::{Basket, PricedBasket};
use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result, WriteEffect};
use crate::ids::{DepartmentId, OfferId, TransactionId};
use crate::member::{Member, MemberLookup, RegisterMember};
use crate::money::Money;
use crate::offer::{Offer, OfferKind};
use crate::pricing;
use crate::provider::{Context, Provider};
use crate::returns::{self, ReturnLedger, ReturnOutcome};
use crate::transaction::{Hold, HoldRequest, ReturnRequest, ReturnStyle, Transaction, TransactionReceipt};

const FLOW: &str = "checkout";

/// A payment authorization the integrator's payment service granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    /// The payment service's id.
    pub id: String,
    /// Amount authorized.
    pub amount: Money,
}

/// The integrator's payment service. The flow calls it between hold and send.
#[async_trait]
pub trait Payment: Send + Sync {
    /// Authorizes `amount` for the transaction.
    ///
    /// # Errors
    /// `Rejected` for a declined card; anything else aborts the checkout too.
    async fn authorize(&self, transaction: &TransactionId, amount: Money) -> Result<Authorization>;
    /// Captures an authorization.
    ///
    /// # Errors
    /// Any error; the flow voids the authorization and releases the holds.
    async fn capture(&self, authorization: &Authorization) -> Result<()>;
    /// Voids an authorization that will not be captured.
    ///
    /// # Errors
    /// Any error; the flow reports it in the outcome's notes.
    async fn void(&self, authorization: &Authorization) -> Result<()>;
}

/// One purchase to check out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Basket-wide coupons the customer confirmed, in order.
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

    /// Confirms a basket-wide coupon.
    pub fn confirm(mut self, offer: impl Into<OfferId>) -> CheckoutRequest {
        self.confirmed.push(offer.into());
        self
    }

    /// Sets the department.
    pub fn department(mut self, department: impl Into<DepartmentId>) -> CheckoutRequest {
        self.department = Some(department.into());
        self
    }
}

/// A checkout priced and held, waiting for [`Checkout::commit`] or [`Checkout::abort`].
#[derive(Debug, Clone)]
pub struct Prepared {
    request: CheckoutRequest,
    /// The member, when identified or signed up.
    pub member: Option<Member>,
    /// True when the flow registered the guest.
    pub signed_up: bool,
    /// Offers still in play.
    pub offers: Vec<Offer>,
    /// The priced basket.
    pub priced: PricedBasket,
    /// Holds taken, one per held offer.
    pub holds: Vec<Hold>,
    /// What changed on the way, readable by a cashier ("offer c1: no uses left").
    pub notes: Vec<String>,
}

/// What happened to the transaction at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Delivery {
    /// Sent; the provider's receipt.
    Sent(TransactionReceipt),
    /// The send failed or timed out after the charge; kept for [`Checkout::resend_pending`]
    /// under the same id. The sale stands.
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
#[non_exhaustive]
pub struct CheckoutOutcome {
    /// The transaction with its frozen allocation.
    pub transaction: Transaction,
    /// The member, when identified or signed up.
    pub member: Option<crate::ids::MemberId>,
    /// True when the flow registered the guest.
    pub signed_up: bool,
    /// The final priced basket.
    pub priced: PricedBasket,
    /// What happened at the provider.
    pub delivery: Delivery,
    /// Amount charged.
    pub charged: Money,
    /// What changed on the way.
    pub notes: Vec<String>,
}

struct PendingSend {
    transaction: Transaction,
    holds: Vec<Hold>,
}

/// Drives purchases and returns through one provider. Keep one per provider for the life of
/// the process: it remembers committed checkouts (for idempotency and returns) and pending
/// sends.
pub struct Checkout<'a> {
    provider: Arc<dyn Provider + 'a>,
    payment: Arc<dyn Payment + 'a>,
    clock: Arc<dyn Clock + 'a>,
    commits: Mutex<HashMap<TransactionId, Arc<OnceCell<CheckoutOutcome>>>>,
    pending: Mutex<BTreeMap<TransactionId, PendingSend>>,
    ledgers: tokio::sync::Mutex<HashMap<TransactionId, ReturnLedger>>,
}

impl std::fmt::Debug for Checkout<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkout").field("provider", &self.provider.name()).finish_non_exhaustive()
    }
}

fn holdable(offer: &Offer) -> bool {
    matches!(offer.kind, OfferKind::Coupon { .. } | OfferKind::StampCard(_) | OfferKind::Reward { .. })
}

/// Offers a priced basket really uses and that a provider can hold: coupons that discounted a
/// line and stamp cards that made a unit free.
fn held_offers(priced: &PricedBasket, offers: &[Offer]) -> Vec<Offer> {
    let discounting: Vec<&OfferId> =
        priced.lines.iter().flat_map(|l| l.discounts.iter().map(|d| &d.offer_id)).collect();
    offers.iter().filter(|o| holdable(o) && discounting.contains(&&o.id)).cloned().collect()
}

impl<'a> Checkout<'a> {
    /// A checkout service over `provider`, charging through `payment`. A borrowed provider
    /// works too: `Arc::new(&provider)`.
    pub fn new(
        provider: Arc<dyn Provider + 'a>,
        payment: Arc<dyn Payment + 'a>,
        clock: Arc<dyn Clock + 'a>,
    ) -> Checkout<'a> {
        Checkout {
            provider,
            payment,
            clock,
            commits: Mutex::new(HashMap::new()),
            pending: Mutex::new(BTreeMap::new()),
            ledgers: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The provider.
    pub fn provider(&self) -> &dyn Provider {
        self.provider.as_ref()
    }

    fn price(&self, basket: &Basket, offers: &[Offer], confirmed: &[OfferId]) -> Result<PricedBasket> {
        // A confirmed coupon the provider no longer offers is dropped, not an error.
        let confirmed: Vec<OfferId> =
            confirmed.iter().filter(|c| offers.iter().any(|o| &o.id == *c)).cloned().collect();
        pricing::price(basket, offers, &confirmed, self.clock.now())
            .map_err(|e| Error::invalid(FLOW, "checkout.price", "basket", e.to_string()))
    }

    /// Identifies the member, signing a guest up when both consents are given.
    async fn identify(
        &self,
        ctx: &Context,
        request: &CheckoutRequest,
        notes: &mut Vec<String>,
    ) -> Result<(Option<Member>, bool)> {
        let caps = self.provider.capabilities();
        let members = self.provider.members();
        let mut found = None;
        if let Some(lookup) = &request.identify {
            let members = members.ok_or_else(|| Error::unsupported(self.provider.name(), "members.find"))?;
            if !caps.supports_lookup(lookup.kind()) {
                return Err(Error::unsupported(self.provider.name(), "members.find")
                    .with_message(format!("lookup by {:?} is not supported", lookup.kind())));
            }
            found = members.find(ctx, lookup).await?;
        }
        if found.is_some() {
            return Ok((found, false));
        }
        match (&request.sign_up, members) {
            (Some(sign_up), Some(members)) if sign_up.consents.allow_sign_up() && caps.register => {
                let member = members.register(ctx, sign_up).await?;
                notes.push(format!("signed up member {}", member.id));
                Ok((Some(member), true))
            }
            (Some(_), _) => {
                notes.push(
                    "guest purchase: sign-up needs both the membership and order-history consents".into(),
                );
                Ok((None, false))
            }
            _ => Ok((None, false)),
        }
    }

    /// Prices, validates and holds: everything up to the charge.
    ///
    /// # Errors
    /// `Conflict` when this transaction id is already committed (holding its offers again
    /// would leave holds nobody settles); any provider error. No hold is left behind when
    /// this fails.
    pub async fn prepare(&self, ctx: &Context, request: &CheckoutRequest) -> Result<Prepared> {
        if self.cell(&request.transaction_id).initialized() {
            return Err(Error::new(ErrorKind::Conflict, FLOW, "checkout.prepare")
                .with_message(format!("transaction {} is already committed", request.transaction_id)));
        }
        self.prepare_fresh(ctx, request).await
    }

    async fn prepare_fresh(&self, ctx: &Context, request: &CheckoutRequest) -> Result<Prepared> {
        let mut notes = Vec::new();
        let (member, signed_up) = self.identify(ctx, request, &mut notes).await?;
        let caps = self.provider.capabilities().clone();
        let mut offers = Vec::new();
        if let (Some(m), Some(o)) = (&member, self.provider.offers()) {
            if caps.list_offers {
                let basket = caps.offers_with_basket.then_some(&request.basket);
                offers = o.list(ctx, &m.id, basket).await?;
            }
        }
        for c in request.confirmed.iter().filter(|c| !offers.iter().any(|o| &o.id == *c)) {
            notes.push(format!("offer {c}: not offered to this customer"));
        }
        let mut priced = self.price(&request.basket, &offers, &request.confirmed)?;
        if let (Some(m), Some(o)) = (&member, self.provider.offers()) {
            if caps.validate_offer {
                for offer in held_offers(&priced, &offers)
                    .into_iter()
                    .filter(|o| matches!(o.kind, OfferKind::Coupon { .. }))
                {
                    let v = o.validate(ctx, &m.id, &offer).await?;
                    if !v.valid {
                        notes.push(format!(
                            "offer {}: {}",
                            offer.id,
                            v.reason.unwrap_or_else(|| "not valid".into())
                        ));
                        offers.retain(|x| x.id != offer.id);
                    }
                }
                priced = self.price(&request.basket, &offers, &request.confirmed)?;
            }
        }
        let mut prepared = Prepared {
            request: request.clone(),
            member,
            signed_up,
            offers,
            priced,
            holds: Vec::new(),
            notes,
        };
        if let Err(e) = self.ensure_holds(ctx, &mut prepared).await {
            self.release_all(ctx, &mut prepared.holds).await;
            return Err(e);
        }
        Ok(prepared)
    }

    /// Holds every used offer that has no live hold; an offer the provider refuses is dropped
    /// and the basket re-priced. Holds of offers no longer used are released.
    async fn ensure_holds(&self, ctx: &Context, p: &mut Prepared) -> Result<()> {
        let (Some(member), Some(holds)) = (p.member.clone(), self.provider.holds()) else { return Ok(()) };
        let Some(style) = self.provider.capabilities().hold else { return Ok(()) };
        // Each pass either holds everything or drops an offer, so this ends.
        for _ in 0..=p.offers.len() {
            let now = self.clock.now();
            let wanted = held_offers(&p.priced, &p.offers);
            let mut dropped = false;
            for offer in &wanted {
                if p.holds.iter().any(|h| h.offer_id == offer.id && !h.is_expired_at(now)) {
                    continue;
                }
                let req =
                    HoldRequest::new(member.id.clone(), offer.clone(), p.request.transaction_id.clone())
                        .with_basket(p.request.basket.clone())
                        .with_ttl_secs(style.ttl_secs());
                match holds.hold(ctx, &req).await {
                    Ok(h) => p.holds.push(h),
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::Rejected | ErrorKind::Conflict | ErrorKind::Expired
                        ) =>
                    {
                        p.notes.push(format!("offer {}: {}", offer.id, e.message()));
                        p.offers.retain(|x| x.id != offer.id);
                        dropped = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !dropped {
                let stale: Vec<Hold> =
                    p.holds.iter().filter(|h| !wanted.iter().any(|o| o.id == h.offer_id)).cloned().collect();
                for h in stale {
                    holds.release(ctx, &h).await?;
                    p.holds.retain(|x| x.id != h.id);
                }
                return Ok(());
            }
            p.priced = self.price(&p.request.basket, &p.offers, &p.request.confirmed)?;
        }
        Ok(())
    }

    async fn release_all(&self, ctx: &Context, holds: &mut Vec<Hold>) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(h) = self.provider.holds() {
            for hold in holds.drain(..) {
                if let Err(e) = h.release(ctx, &hold).await {
                    problems.push(format!("release of {} failed: {e}", hold.offer_id));
                }
            }
        }
        problems
    }

    /// Releases every hold of a prepared checkout.
    ///
    /// # Errors
    /// The first release that failed (the others are still attempted).
    pub async fn abort(&self, ctx: &Context, mut prepared: Prepared) -> Result<()> {
        let problems = self.release_all(ctx, &mut prepared.holds).await;
        match problems.first() {
            Some(p) => {
                Err(Error::new(ErrorKind::Unavailable, FLOW, "checkout.abort").with_message(p.clone()))
            }
            None => Ok(()),
        }
    }

    /// Runs the whole checkout. Completing the same transaction id twice, one after the other
    /// or at the same time, charges once and sends once; later calls get the first result.
    ///
    /// # Errors
    /// Errors before the charge (no hold is left behind) and payment refusals.
    pub async fn complete(&self, ctx: &Context, request: &CheckoutRequest) -> Result<CheckoutOutcome> {
        let cell = self.cell(&request.transaction_id);
        cell.get_or_try_init(|| async {
            let prepared = self.prepare_fresh(ctx, request).await?;
            self.commit_inner(ctx, prepared).await
        })
        .await
        .cloned()
    }

    /// Pays and sends a prepared checkout (idempotent by transaction id, like `complete`).
    ///
    /// # Behaviour
    /// - A hold that expired since `prepare` is never claimed: its offer is dropped, the basket
    ///   re-priced and the note says "hold expired", before any charge.
    /// - A declined payment releases every hold.
    /// - After the charge, a failed send keeps the transaction for [`Checkout::resend_pending`].
    ///
    /// # Errors
    /// Errors before the charge and payment refusals.
    pub async fn commit(&self, ctx: &Context, prepared: Prepared) -> Result<CheckoutOutcome> {
        // A second commit (double click) gets the first result; its holds are the first
        // commit's, already settled, so they are left alone.
        self.cell(&prepared.request.transaction_id)
            .get_or_try_init(|| self.commit_inner(ctx, prepared))
            .await
            .cloned()
    }

    fn cell(&self, id: &TransactionId) -> Arc<OnceCell<CheckoutOutcome>> {
        self.commits.lock().unwrap_or_else(|p| p.into_inner()).entry(id.clone()).or_default().clone()
    }

    async fn commit_inner(&self, ctx: &Context, mut p: Prepared) -> Result<CheckoutOutcome> {
        let now = self.clock.now();
        let expired: Vec<Hold> = p.holds.iter().filter(|h| h.is_expired_at(now)).cloned().collect();
        if !expired.is_empty() {
            for h in &expired {
                p.notes.push(format!("offer {}: hold expired", h.offer_id));
                p.offers.retain(|o| o.id != h.offer_id);
                p.holds.retain(|x| x.id != h.id);
            }
            let mut expired = expired;
            self.release_all(ctx, &mut expired).await;
            p.priced = self.price(&p.request.basket, &p.offers, &p.request.confirmed)?;
            if let Err(e) = self.ensure_holds(ctx, &mut p).await {
                self.release_all(ctx, &mut p.holds).await;
                return Err(e);
            }
        }
        let tx_id = p.request.transaction_id.clone();
        let auth = match self.payment.authorize(&tx_id, p.priced.total).await {
            Ok(a) => a,
            Err(e) => {
                self.release_all(ctx, &mut p.holds).await;
                return Err(e);
            }
        };
        if let Err(e) = self.payment.capture(&auth).await {
            let mut problems = self.release_all(ctx, &mut p.holds).await;
            if let Err(v) = self.payment.void(&auth).await {
                problems.push(format!("void failed: {v}"));
            }
            return Err(if problems.is_empty() {
                e
            } else {
                e.clone().with_message(format!("{}; {}", e.message(), problems.join("; ")))
            });
        }
        let member_id = p.member.as_ref().map(|m| m.id.clone());
        let mut tx = Transaction::from_priced(
            tx_id.clone(),
            now,
            member_id.clone(),
            &p.request.basket,
            &p.priced,
            &p.offers,
        )
        .map_err(|e| Error::from_money(FLOW, "checkout.commit", "basket", e))?
        .with_payment(p.request.payment_method.clone(), p.priced.total);
        if let Some(d) = p.request.department.clone().or_else(|| ctx.department.clone()) {
            tx = tx.with_department(d);
        }
        let delivery = self.send(ctx, &tx, std::mem::take(&mut p.holds)).await;
        self.ledgers.lock().await.insert(tx_id.clone(), ReturnLedger::new(tx.clone()));
        Ok(CheckoutOutcome {
            transaction: tx,
            member: member_id,
            signed_up: p.signed_up,
            priced: p.priced.clone(),
            delivery,
            charged: p.priced.total,
            notes: p.notes,
        })
    }

    async fn send(&self, ctx: &Context, tx: &Transaction, mut holds: Vec<Hold>) -> Delivery {
        let caps = self.provider.capabilities();
        let Some(t) = self.provider.transactions().filter(|_| caps.send_transaction) else {
            self.release_all(ctx, &mut holds).await;
            return Delivery::NotSupported;
        };
        let ctx = ctx.clone().with_idempotency_key(tx.id.as_str());
        match t.send(&ctx, tx).await {
            Ok(receipt) => {
                if caps.release_after_commit {
                    self.release_all(&ctx, &mut holds).await;
                }
                Delivery::Sent(receipt)
            }
            Err(e) if !e.is_temporary() && e.effect() != WriteEffect::Unknown => {
                // Refused before acting and not temporary: a resend would be refused again.
                self.release_all(&ctx, &mut holds).await;
                Delivery::Refused { reason: e.to_string() }
            }
            Err(e) => {
                // The sale stands: keep it (and its holds) for a resend under the same id.
                self.pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(tx.id.clone(), PendingSend { transaction: tx.clone(), holds });
                Delivery::Pending { reason: e.to_string() }
            }
        }
    }

    /// Transactions charged but not yet accepted by the provider.
    pub fn pending(&self) -> Vec<TransactionId> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect()
    }

    /// The pending transactions themselves, for the integrator to persist: a sale charged but
    /// not yet accepted must survive a restart.
    pub fn pending_transactions(&self) -> Vec<Transaction> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|p| p.transaction.clone())
            .collect()
    }

    /// Puts a persisted pending transaction back after a restart; the next
    /// [`Checkout::resend_pending`] sends it under its own id.
    pub fn restore_pending(&self, transaction: Transaction) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(transaction.id.clone(), PendingSend { transaction, holds: Vec::new() });
    }

    /// Re-sends every pending transaction under its own id; returns each one's result.
    pub async fn resend_pending(&self, ctx: &Context) -> Vec<(TransactionId, Result<TransactionReceipt>)> {
        let items: Vec<(TransactionId, Transaction)> = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(id, p)| (id.clone(), p.transaction.clone()))
            .collect();
        let mut results = Vec::new();
        let Some(t) = self.provider.transactions() else { return results };
        for (id, tx) in items {
            let ctx = ctx.clone().with_idempotency_key(id.as_str());
            let r = t.send(&ctx, &tx).await;
            if r.is_ok() {
                let done = self.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                if let (Some(mut done), true) = (done, self.provider.capabilities().release_after_commit) {
                    self.release_all(&ctx, &mut done.holds).await;
                }
            }
            results.push((id, r));
        }
        results
    }

    /// Processes a return of a transaction this service committed, or of goods without a
    /// receipt (`request.original == None`). Refunds are the stored nets of the returned
    /// units; the style comes from the provider's capabilities unless `style` forces one.
    ///
    /// # Errors
    /// `NotFound` for an original this service did not commit; `Invalid` for a line not in
    /// the original or a quantity beyond what is left; `Unsupported` when the provider has no
    /// usable return style; provider errors.
    pub async fn process_return(
        &self,
        ctx: &Context,
        request: &ReturnRequest,
        style: Option<ReturnStyle>,
    ) -> Result<ReturnOutcome> {
        match &request.original {
            None => returns::process(self.provider.as_ref(), ctx, None, request, style).await,
            Some(original) => {
                let mut ledgers = self.ledgers.lock().await;
                let ledger = ledgers.get_mut(original).ok_or_else(|| {
                    Error::not_found(FLOW, "checkout.return", format!("no committed transaction {original}"))
                })?;
                returns::process(self.provider.as_ref(), ctx, Some(ledger), request, style).await
            }
        }
    }

    /// The return ledger of a committed transaction (for persisting it).
    pub async fn ledger(&self, id: &TransactionId) -> Option<ReturnLedger> {
        self.ledgers.lock().await.get(id).cloned()
    }
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
