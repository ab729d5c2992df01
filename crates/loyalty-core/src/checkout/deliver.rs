//! After the charge: send the sale, keep it in the outbox until the provider has it, and the
//! periodic work that settles what stopped half-way ([`Checkout::tick`]).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::charge::is_claim;
use super::{Checkout, CheckoutOutcome, CheckoutState, Claim, Delivery, TickReport, Work};
use crate::capabilities::{HoldStyle, Resend};
use crate::error::{Error, ErrorKind, Result, WriteEffect};
use crate::ids::{OfferId, TransactionId};
use crate::offer::{Offer, RefKind};
use crate::provider::{Context, Provider};
use crate::transaction::{StampAction, Transaction};

/// A refusal that names a claim (a coupon used up, a stamp card not full, a lapsed hold): the
/// vendor refused before acting, for good.
pub(crate) fn refuses_a_claim(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Rejected | ErrorKind::Expired) && refuses_the_sale(e)
}

/// A refusal of the sale itself, for good: the vendor read it and will never take it as it is
/// (a bad field, a business rule, a state conflict). Credentials refused or lacking rights, and
/// a vendor object not found (a wrong store or department in the configuration), say nothing
/// about the sale: an operator can mend them, so the sale stays in the outbox and is resent.
fn refuses_the_sale(e: &Error) -> bool {
    !e.is_temporary()
        && e.effect() != WriteEffect::Unknown
        && !matches!(e.kind(), ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::NotFound)
}

/// Why a sale waits for an operator: its last send may have arrived, and the provider would
/// take a repeat as another sale.
fn unsettled_reason(provider: &str, order: &TransactionId) -> String {
    format!(
        "the last send's outcome is unknown and {provider} may record a repeat as a second sale: \
         check whether {provider} has order {order}, then resend it (an operator's resend) if it does not"
    )
}

/// True when the vendor's refusal `message` names `offer`: its code, or its id, as a word of its
/// own (case aside), so `SUMMER10` is not named by `SUMMER100`.
fn names_offer(message: &str, offer: &Offer) -> bool {
    let code = (offer.reference.kind == RefKind::Code).then(|| offer.reference.as_str());
    let message = message.to_ascii_lowercase();
    [offer.code.as_deref(), code, Some(offer.id.as_str())]
        .into_iter()
        .flatten()
        .filter(|w| !w.trim().is_empty())
        .any(|w| contains_word(&message, &w.to_ascii_lowercase()))
}

/// `word` in `text`, not inside a longer word (letters, digits, `_`, `-`).
fn contains_word(text: &str, word: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(part)
            && !text[at + word.len()..].chars().next().is_some_and(part)
    })
}

/// The offers a transaction claims: coupons and rewards used, stamp rewards taken.
fn claims(tx: &Transaction) -> Vec<OfferId> {
    let mut out: Vec<OfferId> = tx.offers_used.iter().map(|u| u.offer_id.clone()).collect();
    for s in tx.stamps.iter().filter(|s| s.action == StampAction::Deducted) {
        if !out.contains(&s.offer_id) {
            out.push(s.offer_id.clone());
        }
    }
    out
}

/// The transaction without claiming `dropped`: line amounts stay as charged (the customer paid
/// them); only the claims on the offers go.
fn without_claims(tx: &Transaction, dropped: &[OfferId]) -> Transaction {
    let mut tx = tx.clone();
    tx.offers_used.retain(|u| !dropped.contains(&u.offer_id));
    tx.stamps.retain(|s| !(s.action == StampAction::Deducted && dropped.contains(&s.offer_id)));
    tx.holds.retain(|h| !dropped.contains(&h.offer_id));
    tx
}

/// The longest a vendor's `Retry-After` holds a pending sale back: a wait beyond a day is
/// taken as a day, so a mistaken header cannot park a sale for good.
const MAX_VENDOR_WAIT: Duration = Duration::from_secs(24 * 3600);

impl Checkout<'_> {
    /// Sends the frozen transaction and records what happened; the sale stands whatever the
    /// provider says.
    ///
    /// `operator`: an operator asked for the resend (after checking the vendor), so a sale whose
    /// last send has an unknown outcome at a provider that does not recognise repeats is sent
    /// again; the background work never does that.
    pub(super) async fn deliver(
        &self,
        ctx: &Context,
        work: &mut Work,
        operator: bool,
    ) -> Result<CheckoutOutcome> {
        let caps = self.provider.capabilities().clone();
        let ctx = ctx.clone().with_idempotency_key(work.rec.order.as_str());
        // A repeat may be a second sale at such a provider: each send is marked in the store
        // before it goes, and one that may have arrived is not repeated automatically.
        let guarded = caps.resend == Resend::Unrecognised;
        // The vendor's own wait from a rate-limited send (`Retry-After`): the outbox resends no
        // earlier, as the transport honours it (docs/architecture.md).
        let mut vendor_wait = None;
        let delivery = loop {
            let Some(tx) = work.rec.transaction.clone() else {
                return Err(super::corrupt(format!(
                    "order {} is charged without a transaction",
                    work.rec.order
                )));
            };
            let Some(api) = self.provider.transactions().filter(|_| caps.send_transaction) else {
                break Delivery::NotSupported;
            };
            if guarded && work.rec.send_unsettled && !operator {
                break Delivery::Pending { reason: unsettled_reason(self.provider.name(), &work.rec.order) };
            }
            work.rec.send_attempts += 1;
            if guarded {
                work.rec.send_unsettled = true;
                self.save(work, "transactions.send").await?;
            }
            let sent = api.send(&ctx, &tx).await;
            // Settled unless the vendor may have the sale without us knowing.
            work.rec.send_unsettled =
                guarded && sent.as_ref().is_err_and(|e| e.effect() == WriteEffect::Unknown);
            match sent {
                Ok(receipt) => break Delivery::Sent(receipt),
                Err(e) if refuses_a_claim(&e) && !claims(&tx).is_empty() => {
                    let dropped = self.refused_claims(&ctx, work, &tx, &e).await;
                    for id in &dropped {
                        work.rec.notes.push(format!(
                            "offer {id}: refused by the provider after the charge ({}); the sale was sent without it",
                            e.message()
                        ));
                    }
                    work.rec.dropped_claims.extend(dropped.iter().cloned());
                    work.rec.transaction = Some(without_claims(&tx, &dropped));
                    // Written before the next send, so a crash resends the same body.
                    self.save(work, "transactions.send").await?;
                }
                Err(e) if refuses_the_sale(&e) => break Delivery::Refused { reason: e.to_string() },
                Err(e) if work.rec.send_unsettled => {
                    break Delivery::Pending {
                        reason: format!("{e}; {}", unsettled_reason(self.provider.name(), &work.rec.order)),
                    }
                }
                Err(e) => {
                    vendor_wait = e.retry_after();
                    break Delivery::Pending { reason: e.to_string() };
                }
            }
        };
        match &delivery {
            // Parked: only an operator's resend sends it again.
            Delivery::Pending { .. } if work.rec.send_unsettled => {
                work.rec.state = CheckoutState::Pending;
                work.rec.due_at = None;
            }
            Delivery::Pending { .. } => {
                work.rec.state = CheckoutState::Pending;
                let wait = vendor_wait.map_or(Duration::ZERO, |w| w.min(MAX_VENDOR_WAIT));
                work.rec.due_at = Some(self.after(self.backoff(work.rec.send_attempts).max(wait)));
            }
            Delivery::Sent(_) | Delivery::Refused { .. } | Delivery::NotSupported => {
                work.rec.state = if matches!(delivery, Delivery::Refused { .. }) {
                    CheckoutState::Refused
                } else {
                    CheckoutState::Sent
                };
                // A sent sale consumed its holds; some vendors still want them released.
                let release = caps.hold.is_some_and(|h| h.release_after_commit())
                    || !matches!(delivery, Delivery::Sent(_));
                let problems = if release {
                    self.release_recorded(&ctx, work).await
                } else {
                    // The sale did not claim a dropped offer, so it did not consume that hold:
                    // left alone, the lock would keep the offer from the member until it lapses.
                    let dropped = work.rec.dropped_claims.clone();
                    let problems = self.release_offers(&ctx, work, &dropped).await;
                    // What stays is only a dropped hold that would not release (the tick retries).
                    work.rec.holds.retain(|h| dropped.contains(&h.offer_id));
                    problems
                };
                work.rec.notes.extend(problems);
                // Holds that would not release are retried by the next tick.
                work.rec.due_at = work.rec.has_leftovers().then(|| self.now());
            }
        }
        let outcome = self.outcome_of(work, delivery)?;
        work.rec.outcome = Some(outcome.clone());
        work.rec.sending = false;
        self.save(work, "transactions.send").await?;
        Ok(outcome)
    }

    fn outcome_of(&self, work: &Work, delivery: Delivery) -> Result<CheckoutOutcome> {
        let rec = &work.rec;
        let transaction =
            rec.transaction.clone().ok_or_else(|| super::corrupt("sent without a transaction"))?;
        let priced = rec.priced.clone().ok_or_else(|| super::corrupt("sent without a price"))?;
        let applied_offers = priced
            .offers_used()
            .iter()
            .filter_map(|id| rec.offers.iter().find(|o| &o.id == id).cloned())
            .collect();
        Ok(CheckoutOutcome {
            applied_offers,
            charged: priced.total,
            transaction,
            member: rec.member.as_ref().map(|m| m.id.clone()),
            signed_up: rec.signed_up,
            priced,
            delivery,
            dropped_claims: rec.dropped_claims.clone(),
            notes: rec.notes.clone(),
        })
    }

    /// Makes the send of a pending sale this instance's: a lease, written before the send.
    /// False when another instance wrote the record first (it sends, or already has).
    async fn take_send(&self, work: &mut Work) -> Result<bool> {
        work.rec.sending = true;
        work.rec.due_at = Some(self.after(self.options.lease));
        self.try_save(work).await
    }

    fn backoff(&self, attempts: u32) -> Duration {
        let base = self.options.resend_backoff;
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
        base.saturating_mul(factor).min(self.options.resend_backoff_max)
    }

    /// Which claims the vendor refused (`refusal`): those it no longer validates, or every
    /// claim when it cannot say.
    ///
    /// A claim this order still holds at the vendor is not asked about: a validation knows no
    /// order, so it reads the order's own hold as another order's ("reserved by another
    /// transaction") and the claim would be dropped though the sale may use it (as
    /// `validate_used` skips held coupons before the charge). Such a claim is refused only when
    /// the refusal names it. When nothing tells which claims were refused, the claims the
    /// refusal names go, or else every claim.
    async fn refused_claims(
        &self,
        ctx: &Context,
        work: &Work,
        tx: &Transaction,
        refusal: &Error,
    ) -> Vec<OfferId> {
        let all = claims(tx);
        let caps = self.provider.capabilities();
        let (Some(member), Some(api)) = (tx.member.clone(), self.provider.offers()) else { return all };
        if !caps.validate_offer {
            return all;
        }
        let now = self.now();
        // A reservation stays until released; a lock lapses at its expiry.
        let lasting = matches!(caps.hold, Some(HoldStyle::Reserve { .. }));
        let held = |id: &OfferId| {
            work.rec.holds.iter().any(|h| &h.offer_id == id && (lasting || !h.is_expired_at(now)))
        };
        let mut refused = Vec::new();
        let mut named = Vec::new();
        for id in &all {
            let offer: Option<&Offer> = work.rec.offers.iter().find(|o| &o.id == id && is_claim(&o.kind));
            let Some(offer) = offer else { continue };
            if names_offer(refusal.message(), offer) {
                named.push(id.clone());
            }
            if held(id) {
                if named.contains(id) {
                    refused.push(id.clone());
                }
                continue;
            }
            if let Ok(v) = api.validate(ctx, &member, offer).await {
                if !v.valid {
                    refused.push(id.clone());
                }
            }
        }
        if !refused.is_empty() {
            refused
        } else if !named.is_empty() {
            named
        } else {
            all
        }
    }

    /// The periodic work of a shop instance; run it every few seconds (any number of
    /// instances may, each record is worked by one at a time):
    /// - resends pending transactions that are due (backoff doubling per attempt);
    /// - releases the expired holds of prepared checkouts nobody committed, and of payments
    ///   the customer never finished (the authorization is voided);
    /// - takes over checkouts an instance left half-way (its lease ran out): a charge is
    ///   finished (the payment service dedupes by order id), a charged sale is sent, an
    ///   interrupted prepare has its holds released.
    ///
    /// # Errors
    /// Store errors; problems with single orders are listed in the report instead.
    pub async fn tick(&self, ctx: &Context) -> Result<TickReport> {
        let now = self.now();
        // Every state: a record is due only when something waits (a lease, a hold, a resend).
        let claim = Claim::new(
            CheckoutState::ALL.to_vec(),
            self.options.owner.clone(),
            self.after(self.options.lease),
            100,
        )
        .due_by(now)
        .for_provider(self.provider.name());
        let mut report = TickReport::default();
        for stored in self.store.claim(&claim, now).await? {
            let order = stored.value.order.clone();
            let _guard = self.lock_order(&order).await;
            // The claimed copy may be stale by now (a request changed the order while earlier
            // ones were worked on): act on the record as it stands, and only if still due.
            let loaded = match self.load(&order).await {
                Ok(Some(w)) if claim.written_before_set_back(w.rec.updated_at, now) => {
                    self.after_set_back(w, now).await
                }
                other => other,
            };
            let work = match loaded {
                Ok(Some(w))
                    if w.rec.due_at.is_some_and(|d| d <= now)
                        || ((w.rec.is_worked_on()
                            || (w.rec.state == CheckoutState::Pending && w.rec.sending))
                            && w.rec.due_at.is_some()
                            && !self.lease_holds(w.rec.due_at)) =>
                {
                    w
                }
                Ok(_) => continue,
                Err(e) => {
                    report.problems.push(format!("order {order}: {e}"));
                    continue;
                }
            };
            // An order another provider has (the configuration was switched): the claim above
            // leaves those out; this guards a store that does not filter, as the trait asks.
            if let Err(e) = self.check_provider(&work.rec, "checkout.tick") {
                report.problems.push(format!("order {order}: {}", e.message()));
                continue;
            }
            if let Err(e) = self.tick_one(ctx, work, &mut report).await {
                report.problems.push(format!("order {order}: {e}"));
            }
        }
        Ok(report)
    }

    /// A record written before this clock was set back: its due time is on the old clock, as
    /// far ahead as the jump. A pending sale is resent now (early rather than a day late: the
    /// send is the same sale under the same id). A wait that must not end early (a customer
    /// in 3-D Secure, the holds of a checkout about to be paid) is counted again from now, at
    /// most as long as it was meant to last. Leases keep their own rule (`lease_holds`).
    async fn after_set_back(&self, mut work: Work, now: DateTime<Utc>) -> Result<Option<Work>> {
        let Some(due) = work.rec.due_at.filter(|d| *d > now) else { return Ok(Some(work)) };
        match work.rec.state {
            // A send under way keeps its lease's rule (`lease_holds`), as charges do.
            CheckoutState::Pending if work.rec.sending => return Ok(Some(work)),
            CheckoutState::Pending => work.rec.due_at = Some(now),
            // An interrupted release of lapsed holds keeps its lease's rule too, but the holds'
            // expiries are on the old clock: moved back, or the release would keep the holds
            // it was there to let go (and a commit would trust holds already released).
            CheckoutState::Preparing if work.rec.releasing => {
                let shift = work.rec.updated_at - now;
                for h in &mut work.rec.holds {
                    h.expires_at = h.expires_at.checked_sub_signed(shift).unwrap_or(h.expires_at);
                }
            }
            s if s.is_in_progress() => return Ok(Some(work)),
            // A release of an aborted or declined order's holds: its lease's rule, as above.
            _ if work.rec.releasing => return Ok(Some(work)),
            _ => {
                // Moved back by as much as the record lies ahead; the holds' expiries too, on
                // the same old clock, or their release would wait out the jump after all.
                let shift = work.rec.updated_at - now;
                let back = |at: DateTime<Utc>| at.checked_sub_signed(shift).unwrap_or(at);
                work.rec.due_at = Some(back(due).max(now));
                for h in &mut work.rec.holds {
                    h.expires_at = back(h.expires_at);
                }
            }
        }
        // Written on this clock from now on; another instance that wrote first wins.
        Ok(self.try_save(&mut work).await?.then_some(work))
    }

    async fn tick_one(&self, ctx: &Context, mut work: Work, report: &mut TickReport) -> Result<()> {
        let order = work.rec.order.clone();
        let now = self.now();
        match work.rec.state {
            CheckoutState::Pending => {
                // The send is this instance's (a lease, written first): another instance whose
                // claim overlaps this batch finds the order not due, and an operator's resend
                // finds it being sent, and leaves it alone.
                if !self.take_send(&mut work).await? {
                    return Ok(());
                }
                let outcome = self.deliver(ctx, &mut work, false).await?;
                match outcome.delivery {
                    Delivery::Pending { .. } => report.still_pending.push(order),
                    Delivery::Refused { .. } => report.refused.push(order),
                    Delivery::Sent(_) | Delivery::NotSupported => report.sent.push(order),
                }
            }
            CheckoutState::Charging | CheckoutState::Charged => {
                work.rec.due_at = Some(self.after(self.options.lease));
                self.save(&mut work, "checkout.tick").await?;
                report.recovered.push(order);
                self.resume_charge(ctx, work).await?;
            }
            // Each transition below is written (a versioned write) before the holds are
            // released or the payment voided: a request that changed the order meanwhile, on
            // this instance or another, wins, and then nothing is undone under it.
            CheckoutState::Preparing if work.rec.releasing => {
                // The instance releasing this order's lapsed holds stopped half way (its lease
                // lapsed): the order is still prepared; finish the release under this lease.
                work.rec.due_at = Some(self.after(self.options.lease));
                if !self.try_save(&mut work).await? {
                    return Ok(());
                }
                self.release_lapsed(ctx, &mut work).await?;
                report.recovered.push(order.clone());
                report.released.push(order);
            }
            CheckoutState::Preparing => {
                work.rec.state = CheckoutState::Aborted;
                work.rec.notes.push("abandoned while preparing: holds released".into());
                if self.release_under_lease(ctx, &mut work).await? {
                    report.recovered.push(order);
                }
            }
            CheckoutState::AwaitingAction => {
                // The authorization stays recorded until voided (a leftover of a declined order).
                work.rec.state = CheckoutState::Declined;
                work.rec.action = None;
                work.rec.notes.push("the payment was not completed in time: holds released".into());
                if self.release_under_lease(ctx, &mut work).await? {
                    report.released.push(order);
                }
            }
            CheckoutState::Prepared => {
                // Abandoned: release the holds that expired; commit takes them again if it comes.
                // A hold call whose outcome is unknown (a commit's check lost the reply) is
                // settled first: the vendor may hold the offer for this order, and a
                // reservation that never lapses would stay held for good.
                if work.rec.holds.iter().any(|h| h.is_expired_at(now)) || !work.rec.hold_intents.is_empty() {
                    // The order is this tick's while it releases (a lease, as a prepare takes):
                    // a commit arriving now waits for it instead of taking a hold again that
                    // this is about to release. Marked as a release, so an instance that stops
                    // half way leaves the order prepared, not an interrupted prepare to abort.
                    work.rec.state = CheckoutState::Preparing;
                    work.rec.releasing = true;
                    work.rec.due_at = Some(self.after(self.options.lease));
                    if !self.try_save(&mut work).await? {
                        return Ok(());
                    }
                }
                self.release_lapsed(ctx, &mut work).await?;
                report.released.push(order);
            }
            CheckoutState::Declined
            | CheckoutState::Aborted
            | CheckoutState::Sent
            | CheckoutState::Refused => {
                // Due when a release (or an aborted payment's void) failed earlier, or when a
                // return's lease ends: a return whose instance stopped is finished here.
                let mut return_due = None;
                if matches!(work.rec.state, CheckoutState::Sent | CheckoutState::Refused) {
                    match self.finish_lapsed_return(ctx, &order).await {
                        Ok((due, problems)) => {
                            // Never `None` while a refund is owed, bar those refused for good.
                            return_due = due;
                            for p in problems {
                                report.problems.push(format!("order {order}: return: {p}"));
                            }
                        }
                        Err(e) => {
                            report.problems.push(format!("order {order}: return: {e}"));
                            return_due = Some(self.after(self.options.lease));
                        }
                    }
                    // The return marks the order; act on the record as it now stands.
                    work = match self.load(&order).await? {
                        Some(w) => w,
                        None => return Ok(()),
                    };
                }
                if matches!(work.rec.state, CheckoutState::Aborted | CheckoutState::Declined) {
                    // A prepare or a new payment elsewhere may take the order over: the
                    // release runs under a lease they wait for, never under their sale.
                    if self.release_under_lease(ctx, &mut work).await? {
                        report.released.push(order);
                    }
                    return Ok(());
                }
                let problems = self.release_recorded(ctx, &mut work).await;
                work.rec.notes.extend(problems);
                work.rec.due_at = if work.rec.has_leftovers() { Some(self.now()) } else { return_due };
                self.save(&mut work, "checkout.tick").await?;
                report.released.push(order);
            }
        }
        Ok(())
    }

    /// Writes `work` (an aborted or declined order, or one becoming so) as releasing under a
    /// lease, then voids its waiting payment's authorization and releases its holds, and writes
    /// it back, due again only for what would not undo. The versioned write comes first: a
    /// prepare or commit that took the order meanwhile wins, and nothing is released under it
    /// (false); one arriving after it waits for the lease. Releasing is idempotent, so finishing
    /// a release an instance stopped half way is harmless.
    pub(super) async fn release_under_lease(&self, ctx: &Context, work: &mut Work) -> Result<bool> {
        work.rec.releasing = true;
        work.rec.due_at = Some(self.after(self.options.lease));
        if !self.try_save(work).await? {
            return Ok(false);
        }
        let ctx = &super::order_context(ctx, &work.rec.request);
        let mut problems = self.void_leftover(work).await;
        problems.extend(self.release_recorded(ctx, work).await);
        work.rec.notes.extend(problems);
        work.rec.releasing = false;
        work.rec.due_at = work.rec.has_leftovers().then(|| self.now());
        self.save(work, "checkout.release").await?;
        Ok(true)
    }

    /// Records the holds of a prepared order's unsettled hold calls (held again for the same
    /// order: they then lapse and are released as any other), releases its lapsed holds
    /// (releasing is idempotent, so a release an interrupted tick already made is harmless),
    /// voids a leftover authorization, and writes the order back as `Prepared`, due when its
    /// next hold lapses (at once while a hold call is still unsettled).
    async fn release_lapsed(&self, ctx: &Context, work: &mut Work) -> Result<()> {
        // Held again where the order's holds were taken (its department).
        let ctx = &super::order_context(ctx, &work.rec.request);
        // Said once, however many ticks an outage lasts.
        for problem in self.settle_intents(ctx, work).await? {
            if !work.rec.notes.contains(&problem) {
                work.rec.notes.push(problem);
            }
        }
        let now = self.now();
        let expired: Vec<OfferId> =
            work.rec.holds.iter().filter(|h| h.is_expired_at(now)).map(|h| h.offer_id.clone()).collect();
        if !expired.is_empty() {
            let problems = self.release_offers(ctx, work, &expired).await;
            work.rec.notes.extend(problems);
        }
        work.rec.state = CheckoutState::Prepared;
        work.rec.releasing = false;
        // An authorization left by a price change at the customer's return whose void
        // failed: voided here (the order's next attempt authorizes anew), or tried again.
        let problems = self.void_leftover(work).await;
        work.rec.notes.extend(problems);
        work.rec.due_at = self.holds_due(&work.rec).map(|d| d.max(now));
        if work.rec.holds.iter().any(|h| h.is_expired_at(now)) || work.rec.authorization.is_some() {
            work.rec.due_at = Some(now);
        }
        self.save(work, "checkout.tick").await
    }

    /// Resends every pending transaction now, due or not; returns each one's delivery. A send
    /// refused for good is reported here once and leaves the outbox.
    pub async fn resend_pending(&self, ctx: &Context) -> Vec<(TransactionId, Result<Delivery>)> {
        let now = self.now();
        let claim = Claim::new(
            vec![CheckoutState::Pending],
            self.options.owner.clone(),
            self.after(self.options.lease),
            1000,
        )
        .for_provider(self.provider.name());
        let claimed = match self.store.claim(&claim, now).await {
            Ok(c) => c,
            Err(e) => return vec![(TransactionId::new("*"), Err(e))],
        };
        let mut results = Vec::new();
        for stored in claimed {
            let order = stored.value.order.clone();
            let _guard = self.lock_order(&order).await;
            // As in `tick`: the record as it stands, if it still waits in the outbox and no
            // instance is sending it right now (its send is that instance's to report).
            let mut work = match self.load(&order).await {
                Ok(Some(w))
                    if w.rec.state == CheckoutState::Pending
                        && !(w.rec.sending && self.lease_holds(w.rec.due_at)) =>
                {
                    w
                }
                Ok(_) => continue,
                Err(e) => {
                    results.push((order, Err(e)));
                    continue;
                }
            };
            if let Err(e) = self.check_provider(&work.rec, "checkout.resend") {
                results.push((order, Err(e)));
                continue;
            }
            match self.take_send(&mut work).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    results.push((order, Err(e)));
                    continue;
                }
            }
            let r = self.deliver(ctx, &mut work, true).await.map(|o| o.delivery);
            results.push((order, r));
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offer::{Discount, OfferKind, OfferRef, Scope};

    fn coupon(code: &str) -> Offer {
        Offer::new(
            format!("coupon:{code}"),
            code,
            OfferKind::Coupon { discount: Discount::Percent(Default::default()), scope: Scope::Basket },
        )
        .with_code(code)
        .with_reference(OfferRef::code(code))
    }

    /// A refusal names a claim by its code or id as a word of its own, whatever the case: a
    /// held coupon is dropped only when named, so a longer code must not name a shorter one.
    #[test]
    fn a_refusal_names_a_claim_by_its_code_as_a_whole_word() {
        let msg = "coupon_codes: Coupon 'LASTDAY': The coupon has expired.";
        assert!(names_offer(msg, &coupon("LASTDAY")));
        assert!(names_offer(&msg.to_lowercase(), &coupon("LASTDAY")));
        assert!(!names_offer(msg, &coupon("LAST")));
        assert!(!names_offer(msg, &coupon("COFFEE20")));
        assert!(!names_offer("coupon SUMMER100 is used up", &coupon("SUMMER10")));
        assert!(names_offer("offer coupon:SUMMER10 refused", &coupon("SUMMER10")));
    }
}
