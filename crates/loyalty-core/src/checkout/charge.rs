//! The charge: check again, authorize, capture, freeze the transaction.

use std::collections::BTreeMap;

use super::prepare::held_offers;
use super::Checkout;
use super::{
    Authorization, Authorized, CheckoutState, Completion, PaymentKey, Prepared, PriceChange,
    UnconfirmedChange, Work, FLOW,
};
use crate::basket::PricedBasket;
use crate::error::{Error, ErrorKind, Result, WriteEffect};
use crate::ids::{OfferId, TransactionId};
use crate::offer::OfferKind;
use crate::provider::Context;
use crate::transaction::Transaction;

/// Per offer, the discount it gives: two priced baskets that agree on this and on the total
/// charge the same for the same offers.
fn discounts_by_offer(p: &PricedBasket) -> BTreeMap<OfferId, i64> {
    let mut out = BTreeMap::new();
    for d in p.lines.iter().flat_map(|l| &l.discounts) {
        *out.entry(d.offer_id.clone()).or_default() += d.amount.minor;
    }
    out
}

/// Whether the price the customer would pay moved from `shown`: the total, or what each offer
/// gives (what is only listed, such as offers not applied, does not count).
fn price_moved(shown: &PricedBasket, now: &PricedBasket) -> bool {
    now.total != shown.total || discounts_by_offer(now) != discounts_by_offer(shown)
}

impl Checkout<'_> {
    /// Commit dispatch by the record's state. Loops when another instance changed the record
    /// under us, so every path acts on the latest state.
    pub(super) async fn commit_locked(
        &self,
        ctx: &Context,
        order: &TransactionId,
        revision: Option<u32>,
    ) -> Result<Completion> {
        self.commit_answer_locked(ctx, order, revision).await.map(|(done, _)| done)
    }

    /// `commit_locked`, and whether its answer is a sale the order already had
    /// (`true`: made before this call, here or on another instance) rather than one this call
    /// made or an answer it produced.
    pub(super) async fn commit_answer_locked(
        &self,
        ctx: &Context,
        order: &TransactionId,
        revision: Option<u32>,
    ) -> Result<(Completion, bool)> {
        const OP: &str = "checkout.commit";
        for _ in 0..8 {
            let mut work = self
                .load(order)
                .await?
                .ok_or_else(|| Error::not_found(FLOW, OP, format!("order {order} was never prepared")))?;
            if work.rec.is_worked_on() && self.lease_holds(work.rec.due_at) {
                work = self.wait_for_other(order, OP).await?;
            }
            if work.rec.release_unfinished() {
                // The release of a declined or aborted order stopped half way: finished first,
                // so the charge takes the holds again rather than counting on released ones.
                self.release_under_lease(ctx, &mut work).await?;
                continue;
            }
            if work.rec.state == CheckoutState::Preparing && work.rec.releasing {
                // The background release of lapsed holds stopped half way (its lease lapsed,
                // waited for above): the order is still prepared, and the charge's check
                // takes every lapsed hold again.
                work.rec.state = CheckoutState::Prepared;
                work.rec.releasing = false;
            }
            // A sale already made answers with its outcome wherever it was made; anything
            // still to do (a charge, a send) belongs to the provider the order started at.
            if !matches!(
                work.rec.state,
                CheckoutState::Sent | CheckoutState::Refused | CheckoutState::Pending
            ) {
                self.check_provider(&work.rec, OP)?;
            }
            let order_ctx = super::order_context(ctx, &work.rec.request);
            let ctx = &order_ctx;
            // A prepared checkout of another revision than the one charged (or being charged,
            // or waiting for the customer) is stale: the customer was shown another basket or
            // price there, so that sale's outcome is not its answer.
            if work.rec.state.is_committed() || work.rec.state == CheckoutState::AwaitingAction {
                if let Some(r) = revision.filter(|r| *r != work.rec.revision) {
                    return Err(Error::new(ErrorKind::Conflict, FLOW, OP).with_message(format!(
                        "order {order} was committed at revision {}, not {r}: this prepared checkout is stale",
                        work.rec.revision
                    )));
                }
            }
            match work.rec.state {
                CheckoutState::Sent | CheckoutState::Refused | CheckoutState::Pending => {
                    let outcome = work.rec.outcome.clone().ok_or_else(|| {
                        super::corrupt(format!(
                            "order {order} is {} without an outcome",
                            work.rec.state.label()
                        ))
                    })?;
                    return Ok((Completion::Completed(outcome), true));
                }
                CheckoutState::Charging | CheckoutState::Charged => match self.take_over(&mut work).await? {
                    true => {
                        let charged = Some(work.rec.revision);
                        return match self.resume_charge(ctx, work).await {
                            Ok(done) => Ok((done, false)),
                            Err(e) => {
                                self.finished_elsewhere(order, charged, e).await.map(|done| (done, false))
                            }
                        };
                    }
                    false => continue,
                },
                CheckoutState::AwaitingAction => {
                    let action = work.rec.action.clone().ok_or_else(|| {
                        super::corrupt(format!("order {order} awaits an action it does not name"))
                    })?;
                    return Ok((Completion::ActionRequired { order: order.clone(), action }, false));
                }
                CheckoutState::Preparing => {
                    return Err(Error::new(ErrorKind::Conflict, FLOW, OP).with_message(format!(
                        "order {order} was not prepared completely; prepare it again"
                    )));
                }
                CheckoutState::Aborted => {
                    return Err(Error::new(ErrorKind::Conflict, FLOW, OP)
                        .with_message(format!("order {order} was aborted; prepare it again")));
                }
                CheckoutState::Prepared | CheckoutState::Declined => {
                    if let Some(r) = revision.filter(|r| *r != work.rec.revision) {
                        return Err(Error::new(ErrorKind::Conflict, FLOW, OP).with_message(format!(
                            "order {order} was priced again (revision {} is not {r}): show the new price",
                            work.rec.revision
                        )));
                    }
                    // A repeat that names no revision (a double click on "buy") does not
                    // charge a new price the customer has not confirmed: it is told again.
                    if revision.is_none() {
                        if let Some(change) = self.unconfirmed(&work.rec)? {
                            return Ok((Completion::PriceChanged(change), false));
                        }
                    }
                    let charged = Some(work.rec.revision);
                    match self.charge(ctx, work).await {
                        Ok(Some(done)) => return Ok((done, false)),
                        Ok(None) => continue,
                        // This call's charge, finished by another instance that took the order
                        // over while this one outlived its lease: its sale is the answer.
                        Err(e) => {
                            return self.finished_elsewhere(order, charged, e).await.map(|done| (done, false))
                        }
                    }
                }
            }
        }
        Err(Error::new(ErrorKind::Unavailable, FLOW, OP)
            .with_message(format!("order {order} keeps changing under this instance")))
    }

    /// Renews the lease on an in-progress record whose owner stopped; false when another
    /// instance did so first.
    async fn take_over(&self, work: &mut Work) -> Result<bool> {
        work.rec.due_at = Some(self.after(self.options.lease));
        self.try_save(work).await
    }

    /// Checks again, then charges. `None` when another instance changed the record first.
    async fn charge(&self, ctx: &Context, mut work: Work) -> Result<Option<Completion>> {
        // An authorization left by a declined attempt whose void failed: voided before the
        // new attempt takes its place (a second try now; if it fails again it is noted).
        let leftover = self.void_leftover(&mut work).await;
        if !leftover.is_empty() {
            // Still reserved: replacing it now would forget it for good. It stays recorded
            // (the tick voids it) and the customer is asked to try again.
            work.rec.notes.extend(leftover);
            let _ = self.try_save(&mut work).await;
            return Err(Error::new(ErrorKind::Unavailable, FLOW, "payment.void")
                .with_effect(WriteEffect::NotSent)
                .with_message(format!(
                    "an earlier authorization of order {} could not be voided yet; nothing was charged, try again",
                    work.rec.order
                )));
        }
        // The order is this charge's from here (a lease, written before the check below takes
        // any hold again): another instance's commit waits for its result, an abort loses
        // instead of releasing holds this check is taking.
        let before = work.rec.state;
        work.rec.state = CheckoutState::Charging;
        work.rec.due_at = Some(self.after(self.options.lease));
        work.rec.authorization = None;
        work.rec.action = None;
        // This revision is being committed: the caller confirmed its price.
        work.rec.unconfirmed_change = None;
        // A new payment key: after a decline or for a new total, the service must not answer
        // with the earlier attempt's result. Written with the state, so a resumed charge asks
        // again under the same key.
        work.rec.payment_attempts += 1;
        // Written ahead of the authorize call: an instance that dies during it (or loses its
        // reply) leaves a resumed charge that asks under the same key first.
        work.rec.authorize_unknown = true;
        work.rec.capture_started = false;
        if !self.try_save(&mut work).await? {
            return Ok(None);
        }
        match self.recheck(ctx, &mut work).await {
            Ok(Some(change)) => return Ok(Some(Completion::PriceChanged(change))),
            Ok(None) => {}
            Err(e) => {
                // Nothing was authorized: the order goes back to where it was (unless the
                // check already moved it back to Prepared at a new price).
                if work.rec.state == CheckoutState::Charging {
                    work.rec.state = before;
                    work.rec.due_at = match before {
                        CheckoutState::Prepared => self.holds_due(&work.rec),
                        _ => work.rec.has_leftovers().then(|| self.now()),
                    };
                    let _ = self.try_save(&mut work).await;
                }
                return Err(e);
            }
        }
        self.authorize_and_finish(ctx, work).await.map(Some)
    }

    /// The price change a commit that names no revision answers again, while nobody has
    /// confirmed it.
    pub(super) fn unconfirmed(&self, rec: &super::CheckoutRecord) -> Result<Option<PriceChange>> {
        let Some(change) = rec.unconfirmed_change.clone() else { return Ok(None) };
        let prepared = Prepared::from_record(rec)?;
        Ok(Some(PriceChange {
            old_total: change.old_total,
            new_total: prepared.priced.total,
            changes: change.changes,
            prepared,
        }))
    }

    /// Everything the customer was shown, checked again just before the charge: offers still
    /// valid, coupons still usable, holds alive (an expired one is taken again). When an offer
    /// is lost or the price moves, the checkout is priced again and nothing is charged.
    pub(super) async fn recheck(&self, ctx: &Context, work: &mut Work) -> Result<Option<PriceChange>> {
        let shown = work.rec.priced.clone().ok_or_else(|| {
            Error::new(ErrorKind::Conflict, FLOW, "checkout.commit")
                .with_message(format!("order {} has not been priced", work.rec.order))
        })?;
        let notes_before = work.rec.notes.len();
        match self.check_shown(ctx, work, &shown, notes_before).await {
            Ok(change) => Ok(change),
            Err(e) => {
                // Failed after the price moved (an offer dropped and the basket priced again,
                // written with the holds taken so far): the order goes back to Prepared at a
                // new revision, or a later commit would compare against the moved price and
                // charge it as if the customer had been shown it.
                if work.rec.priced.as_ref().is_some_and(|now| price_moved(&shown, now)) {
                    let changes = work.rec.notes[notes_before..].to_vec();
                    self.back_to_prepared(work, &shown, changes);
                    let _ = self.try_save(work).await;
                }
                Err(e)
            }
        }
    }

    async fn check_shown(
        &self,
        ctx: &Context,
        work: &mut Work,
        shown: &PricedBasket,
        notes_before: usize,
    ) -> Result<Option<PriceChange>> {
        let shown = shown.clone();
        let now = self.now();
        let used: Vec<OfferId> = held_offers(&shown, &work.rec.offers).into_iter().map(|o| o.id).collect();
        let expired: Vec<(OfferId, String)> = work
            .rec
            .offers
            .iter()
            .filter(|o| used.contains(&o.id) && !o.is_valid_at(now))
            .map(|o| (o.id.clone(), o.expiry_text().unwrap_or_else(|| "no longer valid".into())))
            .collect();
        for (id, why) in &expired {
            work.rec.notes.push(format!("offer {id}: {why}"));
            work.rec.offers.retain(|o| &o.id != id);
        }
        self.reprice(&mut work.rec)?;
        self.validate_used(ctx, work).await?;
        self.ensure_holds(ctx, work).await?;
        let now_priced = work.rec.priced.clone().unwrap_or_else(|| shown.clone());
        if !price_moved(&shown, &now_priced) {
            work.rec.notes.truncate(notes_before);
            return Ok(None);
        }
        let changes = work.rec.notes[notes_before..].to_vec();
        self.back_to_prepared(work, &shown, changes.clone());
        self.save(work, "checkout.commit").await?;
        Ok(Some(PriceChange {
            old_total: shown.total,
            new_total: now_priced.total,
            changes,
            prepared: Prepared::from_record(&work.rec)?,
        }))
    }

    /// The order back to `Prepared` at a new revision after the price moved from `shown`, the
    /// change unconfirmed. An authorization still recorded (a 3-D Secure payment, or one learnt
    /// after a lost reply) must not wait for the holds: due now, so the tick voids it if
    /// nothing else does first.
    fn back_to_prepared(&self, work: &mut Work, shown: &PricedBasket, changes: Vec<String>) {
        work.rec.state = CheckoutState::Prepared;
        work.rec.revision += 1;
        work.rec.unconfirmed_change = Some(UnconfirmedChange::new(shown.total, changes));
        work.rec.action = None;
        work.rec.due_at =
            if work.rec.authorization.is_some() { Some(self.now()) } else { self.holds_due(&work.rec) };
    }

    /// Authorizes (unless an authorization is recorded), then captures and sends.
    async fn authorize_and_finish(&self, ctx: &Context, work: Work) -> Result<Completion> {
        match self.authorized(ctx, work).await? {
            Ok(work) => self.capture_and_send(ctx, work).await,
            Err(stopped) => Ok(stopped),
        }
    }

    /// The order with its approved authorization recorded (asked for unless one is), or what
    /// the payment answered instead (the customer must act); failures as the payment ended.
    async fn authorized(
        &self,
        ctx: &Context,
        mut work: Work,
    ) -> Result<std::result::Result<Work, Completion>> {
        let Some(priced) = work.rec.priced.clone() else {
            return Err(super::corrupt(format!("order {} is charging without a price", work.rec.order)));
        };
        let answer = match work.rec.authorization.clone() {
            Some(a) => Authorized::Approved(a),
            None => match self.payment.authorize(&self.payment_key(&work), priced.total).await {
                Ok(a) => a,
                Err(e) if outcome_unknown(&e) => return Err(self.still_charging(work, e, "authorize").await),
                Err(e) => return Err(self.declined(ctx, work, e, None).await),
            },
        };
        match answer {
            Authorized::ActionRequired { authorization, action } => {
                work.rec.state = CheckoutState::AwaitingAction;
                work.rec.authorization = Some(authorization);
                work.rec.action = Some(action.clone());
                // The attempt's authorization is known now (waiting for the customer).
                work.rec.authorize_unknown = false;
                work.rec.due_at = Some(self.after(self.options.action_timeout));
                self.save(&mut work, "payment.authorize").await?;
                Ok(Err(Completion::ActionRequired { order: work.rec.order.clone(), action }))
            }
            Authorized::Approved(a) => {
                if a.amount != priced.total {
                    let e = Error::new(ErrorKind::Conflict, "payment", "payment.authorize").with_message(
                        format!("authorized {} but the order's total is {}", a.amount, priced.total),
                    );
                    return Err(self.declined(ctx, work, e, Some(a)).await);
                }
                work.rec.authorization = Some(a);
                // Known and recorded: a resumed charge no longer asks for it (it still checks
                // the offers before the capture, while the capture has not started).
                work.rec.authorize_unknown = false;
                work.rec.due_at = Some(self.after(self.options.lease));
                self.save(&mut work, "payment.authorize").await?;
                Ok(Ok(work))
            }
        }
    }

    /// After a price change, the authorization of the old total must not be captured: voided,
    /// or kept recorded (due at once) for the tick to void when the payment service fails.
    async fn void_for_new_price(&self, work: &mut Work, auth: Authorization) {
        work.rec.authorization = match self.payment.void(&auth).await {
            Ok(()) => None,
            Err(e) => {
                work.rec.notes.push(format!("void failed: {e}"));
                work.rec.due_at = Some(self.now());
                Some(auth)
            }
        };
        work.rec.action = None;
    }

    /// Captures, freezes the transaction (written before the send), sends. The capture is
    /// marked in the store before it is asked for: from there on the money may have moved, so
    /// a resumed charge only captures again and sends (`resume_charge`).
    async fn capture_and_send(&self, ctx: &Context, mut work: Work) -> Result<Completion> {
        let Some(auth) = work.rec.authorization.clone() else {
            return Err(super::corrupt(format!(
                "order {} is charging without an authorization",
                work.rec.order
            )));
        };
        if !work.rec.capture_started {
            work.rec.capture_started = true;
            work.rec.action = None;
            self.save(&mut work, "payment.capture").await?;
        }
        match self.payment.capture(&auth).await {
            Ok(()) => {}
            Err(e) if outcome_unknown(&e) => return Err(self.still_charging(work, e, "capture").await),
            Err(e) => return Err(self.declined(ctx, work, e, Some(auth)).await),
        }
        let tx = self.freeze(ctx, &work)?;
        work.rec.transaction = Some(tx);
        work.rec.state = CheckoutState::Charged;
        work.rec.due_at = Some(self.after(self.options.lease));
        self.save(&mut work, "payment.capture").await?;
        self.deliver(ctx, &mut work, false).await.map(Completion::Completed)
    }

    fn freeze(&self, ctx: &Context, work: &Work) -> Result<Transaction> {
        let rec = &work.rec;
        let priced = rec.priced.as_ref().ok_or_else(|| super::corrupt("charged without a price"))?;
        let now = self.now();
        let mut tx = Transaction::from_priced(
            rec.order.clone(),
            now,
            rec.member.as_ref().map(|m| m.id.clone()),
            &rec.request.basket,
            priced,
            &rec.offers,
        )
        .map_err(|e| Error::from_money(FLOW, "checkout.commit", "basket", e))?
        .with_payment(rec.request.payment_method.clone(), priced.total);
        // The order's department first, as `order_context` (the holds were taken there).
        if let Some(d) = rec.request.department.clone().or_else(|| ctx.department.clone()) {
            tx = tx.with_department(d);
        }
        let used: Vec<OfferId> = held_offers(priced, &rec.offers).into_iter().map(|o| o.id).collect();
        tx.holds = rec.holds.iter().filter(|h| used.contains(&h.offer_id)).cloned().collect();
        // Each claimed offer keeps what its hold returned, for later versions of the sale
        // (a return resends it without the holds).
        for u in &mut tx.offers_used {
            if let Some(h) = tx.holds.iter().find(|h| h.offer_id == u.offer_id) {
                u.vendor_data = h.vendor_data.clone();
            }
        }
        Ok(tx)
    }

    /// The payment key of the charge under way.
    fn payment_key(&self, work: &Work) -> PaymentKey {
        PaymentKey::new(work.rec.order.clone(), work.rec.payment_attempts.max(1))
    }

    /// A payment call whose outcome is unknown (a timeout, a dropped connection): the money may
    /// have moved, so nothing is voided or released. The order stays charging and due now, so
    /// the next commit or tick finishes it with the same calls (the payment service dedupes them
    /// by order id and authorization); the caller gets a temporary error saying so.
    async fn still_charging(&self, mut work: Work, err: Error, step: &str) -> Error {
        work.rec.notes.push(format!("payment {step} outcome unknown: {}; retried", err.message()));
        work.rec.authorize_unknown |= step == "authorize";
        work.rec.due_at = Some(self.now());
        let saved = self.save(&mut work, &format!("payment.{step}")).await;
        let mut message = format!(
            "{}; the payment {step} may have gone through, so order {} stays charging and is finished by the next commit or tick",
            err.message(),
            work.rec.order
        );
        if let Err(e) = saved {
            message.push_str(&format!("; {e}"));
        }
        err.with_temporary(true).with_message(message)
    }

    /// A payment that failed before capture: every hold released, the authorization voided,
    /// the record back to `Declined` so a new commit takes the holds again first.
    ///
    /// `Declined` is written first, as a release under a lease (a versioned write): when another
    /// instance took the charge over meanwhile (this one outlived its lease during the payment
    /// call), that write is lost and nothing is released or voided here (the other instance
    /// holds those holds and may capture that authorization); the caller gets [`taken_over`]
    /// instead of the refusal.
    async fn declined(
        &self,
        ctx: &Context,
        mut work: Work,
        err: Error,
        void: Option<Authorization>,
    ) -> Error {
        work.rec.state = CheckoutState::Declined;
        // Voided by the release below; one whose void fails stays recorded: a leftover the
        // tick voids again, or the customer's funds would stay reserved until the bank drops
        // them.
        work.rec.authorization = void;
        work.rec.action = None;
        work.rec.capture_started = false;
        work.rec.notes.push(format!("payment failed: {}", err.message()));
        let notes_before = work.rec.notes.len();
        let mut problems = Vec::new();
        match self.release_under_lease(ctx, &mut work).await {
            Ok(true) => problems.extend(work.rec.notes[notes_before..].iter().cloned()),
            Ok(false) => {
                let taken = super::taken_over(&work.rec.order, err.operation());
                let message = format!("{}; {}", err.message(), taken.message());
                return taken.with_message(message);
            }
            Err(e) => {
                problems.extend(work.rec.notes.get(notes_before..).unwrap_or_default().iter().cloned());
                problems.push(e.to_string());
            }
        }
        if problems.is_empty() {
            err
        } else {
            let message = format!("{}; {}", err.message(), problems.join("; "));
            err.with_message(message)
        }
    }

    /// Continues a charge another instance (or this one, before a crash) started.
    pub(super) async fn resume_charge(&self, ctx: &Context, mut work: Work) -> Result<Completion> {
        match work.rec.state {
            // The capture was started: the money may be taken (its reply lost, or the instance
            // stopped during it or before writing `Charged`). Only the capture is asked again
            // (the payment service dedupes it) and the sale sent: the price is not checked
            // again and nothing is voided, since the customer paid the price shown. A claim
            // the vendor refuses by now (its hold lapsed and another order took the coupon) is
            // dropped from the sale as any claim refused after the charge.
            CheckoutState::Charging if work.rec.capture_started => self.capture_and_send(ctx, work).await,
            // A confirmation after 3-D Secure (or a redirect) stopped while asking the payment
            // service: the authorization may still wait for the customer, so it is asked about
            // again (after the check a confirmation makes), never taken as approved.
            CheckoutState::Charging if work.rec.action.is_some() && work.rec.authorization.is_some() => {
                let auth = work.rec.authorization.clone().ok_or_else(|| {
                    super::corrupt(format!(
                        "order {} awaits a payment without an authorization",
                        work.rec.order
                    ))
                })?;
                if let Some(change) = self.recheck(ctx, &mut work).await? {
                    self.void_for_new_price(&mut work, auth).await;
                    self.save(&mut work, "checkout.confirm_payment").await?;
                    return Ok(Completion::PriceChanged(change));
                }
                let waits_until = Some(self.after(self.options.action_timeout));
                self.settle_waiting(ctx, work, auth, waits_until).await
            }
            // Nothing captured yet, maybe long ago: everything is checked again as a commit
            // does, so an expired hold is taken again and a lost offer stops the charge with a
            // new price. An authorize whose reply was lost may have reserved the money: its
            // answer is learnt first (asked again under the same key, the service answers the
            // same authorization), then everything is checked again, and a changed price voids
            // the authorization (not captured: the capture has not started) instead of leaving
            // it reserved. The capture never goes without that check: one that fails leaves
            // the order due at once (a retry does not wait for the lease) and checks again next
            // time.
            CheckoutState::Charging if work.rec.authorize_unknown || work.rec.authorization.is_some() => {
                let mut work = match self.authorized(ctx, work).await? {
                    Ok(work) => work,
                    Err(stopped) => return Ok(stopped),
                };
                match self.recheck(ctx, &mut work).await {
                    Ok(None) => self.capture_and_send(ctx, work).await,
                    Ok(Some(change)) => {
                        if let Some(auth) = work.rec.authorization.clone() {
                            self.void_for_new_price(&mut work, auth).await;
                            self.save(&mut work, "checkout.commit").await?;
                        }
                        Ok(Completion::PriceChanged(change))
                    }
                    Err(e) => {
                        if work.rec.state == CheckoutState::Charging {
                            work.rec.due_at = Some(self.now());
                            let _ = self.try_save(&mut work).await;
                        }
                        Err(e)
                    }
                }
            }
            CheckoutState::Charging => {
                if let Some(change) = self.recheck(ctx, &mut work).await? {
                    return Ok(Completion::PriceChanged(change));
                }
                self.authorize_and_finish(ctx, work).await
            }
            CheckoutState::Charged => self.deliver(ctx, &mut work, false).await.map(Completion::Completed),
            other => Err(Error::new(ErrorKind::Conflict, FLOW, "checkout.commit").with_message(format!(
                "order {} is {}, not charging",
                work.rec.order,
                other.label()
            ))),
        }
    }

    pub(super) async fn confirm_locked(&self, ctx: &Context, order: &TransactionId) -> Result<Completion> {
        match self.confirm_once(ctx, order).await {
            Ok(done) => Ok(done),
            // A sale another instance finished meanwhile (it took the order over while this
            // one outlived its lease) is this confirmation's answer.
            Err(e) => self.finished_elsewhere(order, None, e).await,
        }
    }

    async fn confirm_once(&self, ctx: &Context, order: &TransactionId) -> Result<Completion> {
        const OP: &str = "checkout.confirm_payment";
        let mut work = self
            .load(order)
            .await?
            .ok_or_else(|| Error::not_found(FLOW, OP, format!("order {order} was never prepared")))?;
        let order_ctx = super::order_context(ctx, &work.rec.request);
        let ctx = &order_ctx;
        if work.rec.state == CheckoutState::AwaitingAction {
            self.check_provider(&work.rec, OP)?;
        }
        if work.rec.state != CheckoutState::AwaitingAction {
            return match work.rec.state {
                // Confirmed already (here, or on another instance): that confirmation's result,
                // waiting for it while it runs.
                s if s.is_committed() => self.commit_locked(ctx, order, None).await,
                s => Err(Error::new(ErrorKind::Conflict, FLOW, OP)
                    .with_message(format!("order {order} has no payment waiting ({})", s.label()))),
            };
        }
        let auth = work.rec.authorization.clone().ok_or_else(|| {
            super::corrupt(format!("order {order} awaits a payment without an authorization"))
        })?;
        if let Some(change) = self.recheck(ctx, &mut work).await? {
            // The customer agreed to another amount: that authorization must not be captured.
            // One whose void failed stays recorded, and the tick voids it.
            self.void_for_new_price(&mut work, auth).await;
            self.save(&mut work, OP).await?;
            return Ok(Completion::PriceChanged(change));
        }
        let waits_until = work.rec.due_at;
        work.rec.state = CheckoutState::Charging;
        work.rec.due_at = Some(self.after(self.options.lease));
        if !self.try_save(&mut work).await? {
            // Another instance confirmed (or the tick acted) first: the order as it now
            // stands answers, so a second confirmation returns the first one's result.
            return Box::pin(self.confirm_once(ctx, order)).await;
        }
        self.settle_waiting(ctx, work, auth, waits_until).await
    }

    /// Asks the payment service about an authorization that waited for the customer (the
    /// order is `Charging`, its action still recorded): approved, it is captured and the sale
    /// sent; still waiting, or no answer, the order waits for the customer again until
    /// `waits_until`; refused, the order is declined.
    async fn settle_waiting(
        &self,
        ctx: &Context,
        mut work: Work,
        auth: Authorization,
        waits_until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Completion> {
        const OP: &str = "checkout.confirm_payment";
        let order = work.rec.order.clone();
        match self.payment.resume(&auth).await {
            // Asking again failed without an answer: the payment still waits for the customer.
            Err(e) if e.is_temporary() || e.effect() == WriteEffect::Unknown => {
                work.rec.state = CheckoutState::AwaitingAction;
                work.rec.due_at = waits_until;
                self.save(&mut work, OP).await?;
                Err(e.with_temporary(true))
            }
            Err(e) => Err(self.declined(ctx, work, e, Some(auth)).await),
            Ok(Authorized::ActionRequired { authorization, action }) => {
                work.rec.state = CheckoutState::AwaitingAction;
                work.rec.authorization = Some(authorization);
                work.rec.action = Some(action.clone());
                work.rec.due_at = Some(self.after(self.options.action_timeout));
                self.save(&mut work, OP).await?;
                Ok(Completion::ActionRequired { order, action })
            }
            Ok(Authorized::Approved(a)) => {
                let total = work.rec.priced.as_ref().map(|p| p.total);
                if total != Some(a.amount) {
                    let e =
                        Error::new(ErrorKind::Conflict, "payment", "payment.resume").with_message(format!(
                            "authorized {} but the order's total is {}",
                            a.amount,
                            total.map_or_else(|| "unknown".to_string(), |t| t.to_string())
                        ));
                    return Err(self.declined(ctx, work, e, Some(a)).await);
                }
                work.rec.authorization = Some(a);
                work.rec.action = None;
                self.save(&mut work, OP).await?;
                self.capture_and_send(ctx, work).await
            }
        }
    }

    pub(super) async fn abort_locked(&self, ctx: &Context, order: &TransactionId) -> Result<()> {
        const OP: &str = "checkout.abort";
        let mut work = self
            .load(order)
            .await?
            .ok_or_else(|| Error::not_found(FLOW, OP, format!("order {order} was never prepared")))?;
        if work.rec.is_worked_on() && self.lease_holds(work.rec.due_at) {
            work = self.wait_for_other(order, OP).await?;
        }
        let order_ctx = super::order_context(ctx, &work.rec.request);
        let ctx = &order_ctx;
        if work.rec.state.is_committed() {
            return Err(Error::new(ErrorKind::Conflict, FLOW, OP)
                .with_message(format!("order {order} is already committed")));
        }
        self.check_provider(&work.rec, OP)?;
        // Aborted is written first, by a versioned write: a commit that took the order
        // meanwhile wins, and this abort then voids and releases nothing.
        // A waiting payment's authorization stays recorded until voided, so a tick voids it
        // if this instance stops first.
        // So does one a declined attempt could not void: the void below tries it again.
        // Released under a lease: a prepare or a new payment on another instance waits for it
        // instead of keeping a hold this is about to release. Holds that would not release, or
        // an authorization that would not void, are retried by the next tick.
        work.rec.action = None;
        work.rec.state = CheckoutState::Aborted;
        let notes_before = work.rec.notes.len();
        if !self.release_under_lease(ctx, &mut work).await? {
            return Err(Error::new(ErrorKind::Conflict, FLOW, OP)
                .with_message(format!("order {order} changed meanwhile; nothing was released")));
        }
        match work.rec.notes.get(notes_before) {
            Some(p) => Err(Error::new(ErrorKind::Unavailable, FLOW, OP).with_message(p.clone())),
            None => Ok(()),
        }
    }
}

impl Checkout<'_> {
    /// Voids the authorization an aborted order still records (a payment that waited for the
    /// customer); kept when the void fails, for the next tick.
    pub(super) async fn void_leftover(&self, work: &mut Work) -> Vec<String> {
        let Some(a) = work.rec.authorization.clone() else { return Vec::new() };
        match self.payment.void(&a).await {
            Ok(()) => {
                work.rec.authorization = None;
                Vec::new()
            }
            Err(e) => vec![format!("void failed: {e}")],
        }
    }
}

/// Whether a payment call may have taken effect although it failed: the flow must not void or
/// release on it, only ask again.
fn outcome_unknown(e: &Error) -> bool {
    e.effect() == WriteEffect::Unknown
}

/// Whether an offer is a claim the vendor can refuse after the charge.
pub(super) fn is_claim(kind: &OfferKind) -> bool {
    matches!(
        kind,
        OfferKind::Coupon { .. }
            | OfferKind::StampCard(_)
            | OfferKind::Reward { .. }
            | OfferKind::VendorPriced { .. }
    )
}
