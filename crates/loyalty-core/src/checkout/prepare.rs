//! Up to the charge: identify the member, list and price offers, validate them, hold them.

use super::{fingerprint, Checkout, CheckoutRecord, CheckoutRequest, CheckoutState, Work, FLOW};
use crate::basket::{Basket, PricedBasket};
use crate::error::{Error, ErrorKind, Result, WriteEffect};
use crate::ids::OfferId;
use crate::member::Member;
use crate::offer::{Discount, Offer, OfferKind, Scope};
use crate::pricing;
use crate::provider::{Context, Provider};
use crate::transaction::{Hold, HoldRequest};

/// Offers a provider can hold for a transaction.
fn holdable(offer: &Offer) -> bool {
    matches!(
        offer.kind,
        OfferKind::Coupon { .. }
            | OfferKind::StampCard(_)
            | OfferKind::Reward { .. }
            | OfferKind::VendorPriced { .. }
    )
}

/// Offers a priced basket really uses and that a provider can hold: coupons and vendor-priced
/// offers that discounted a line, stamp cards that made a unit free.
pub(super) fn held_offers(priced: &PricedBasket, offers: &[Offer]) -> Vec<Offer> {
    let discounting: Vec<&OfferId> =
        priced.lines.iter().flat_map(|l| l.discounts.iter().map(|d| &d.offer_id)).collect();
    offers.iter().filter(|o| holdable(o) && discounting.contains(&&o.id)).cloned().collect()
}

/// The vendor refused to hold the offer for this order (used up, held by another order,
/// expired): it holds nothing for the order, so no hold is left to release.
fn refuses_the_hold(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Rejected | ErrorKind::Conflict | ErrorKind::Expired)
}

/// A stand-in for an offer the checkout knows only by id, so the provider can say why it is
/// not offered (expired on a date, used up).
fn offer_by_id(id: &OfferId) -> Offer {
    Offer::new(
        id.clone(),
        id.as_str(),
        OfferKind::Coupon { discount: Discount::Percent(Default::default()), scope: Scope::Basket },
    )
}

impl Checkout<'_> {
    /// Prices `basket`: confirmed offers the provider no longer offers are left out (the
    /// caller noted why).
    pub(super) fn price(
        &self,
        basket: &Basket,
        offers: &[Offer],
        confirmed: &[OfferId],
    ) -> Result<PricedBasket> {
        let listed: Vec<OfferId> = pricing::listed_confirmations(offers, confirmed);
        pricing::price(basket, offers, &listed, self.now())
            .map_err(|e| e.invalid_in(FLOW, "checkout.price", basket, confirmed))
    }

    pub(super) fn reprice(&self, rec: &mut CheckoutRecord) -> Result<()> {
        // An offer the vendor prices takes the discount its hold computed for this basket.
        for hold in &rec.holds {
            let Some(vd) = &hold.vendor_discount else { continue };
            if let Some(OfferKind::VendorPriced { discount, .. }) =
                rec.offers.iter_mut().find(|o| o.id == hold.offer_id).map(|o| &mut o.kind)
            {
                *discount = Some(vd.clone());
            }
        }
        rec.priced = Some(self.price(&rec.request.basket, &rec.offers, &rec.request.confirmed)?);
        Ok(())
    }

    /// Claims the order's record in `Preparing` and prepares it; on failure every hold taken is
    /// released and the record marked aborted. With `replay`, an order already prepared for
    /// this very request whose holds outlast the margin is answered as it stands instead
    /// (`true` with it: a replay, nothing done), decided here under the order's lock and after
    /// any other instance's prepare finished, so two identical prepares at once price the
    /// order once.
    pub(super) async fn prepare_locked(
        &self,
        ctx: &Context,
        request: &CheckoutRequest,
        replay: bool,
    ) -> Result<(Work, bool)> {
        const OP: &str = "checkout.prepare";
        let order = &request.transaction_id;
        let mut work = loop {
            let loaded = self.load(order).await?;
            if let Some(w) = loaded.as_ref().filter(|w| !w.rec.state.is_committed()) {
                self.check_provider(&w.rec, OP)?;
            }
            match loaded {
                None => {
                    // Ids are one namespace per store: an order under a return's id would
                    // reach the vendor as that return's transaction. Reserved before the
                    // record is written, so before any provider call.
                    match self.store.reserve_id(order, &super::IdUse::Order).await? {
                        super::IdUse::Order => {}
                        super::IdUse::Return { original } => {
                            let of = original
                                .map_or_else(|| "without a receipt".to_owned(), |o| format!("of order {o}"));
                            return Err(Error::invalid(
                                FLOW,
                                OP,
                                "transaction_id",
                                format!(
                                    "{order} is the id of a return {of}; an order needs an id of its own"
                                ),
                            ));
                        }
                    }
                    let mut rec = CheckoutRecord::new(request, self.now());
                    rec.provider = Some(self.provider.name().to_owned());
                    rec.due_at = Some(self.after(self.options.lease));
                    if let Some(version) = self.store.save(&rec, None).await? {
                        break Work::new(rec, version);
                    }
                }
                Some(w) if w.rec.state.is_committed() => {
                    return Err(Error::new(ErrorKind::Conflict, FLOW, OP)
                        .with_message(format!("order {order} is already committed")));
                }
                Some(w) if w.rec.state == CheckoutState::AwaitingAction => {
                    return Err(Error::new(ErrorKind::Conflict, FLOW, OP).with_message(format!(
                        "order {order}: the payment waits for the customer; confirm or abort it first"
                    )));
                }
                Some(w) if w.rec.is_worked_on() && self.lease_holds(w.rec.due_at) => {
                    self.wait_for_other(order, OP).await?;
                }
                Some(w)
                    if replay
                        && w.rec.state == CheckoutState::Prepared
                        && w.rec.request == *request
                        && self.holds_outlast_margin(&w.rec.holds) =>
                {
                    return Ok((w, true));
                }
                Some(mut w) if w.rec.release_unfinished() => {
                    // Its holds were being released when that instance stopped: finished
                    // first, so this prepare takes them again rather than keeping dead ones.
                    self.release_under_lease(ctx, &mut w).await?;
                }
                Some(mut w) => {
                    w.rec.state = CheckoutState::Preparing;
                    w.rec.releasing = false;
                    w.rec.due_at = Some(self.after(self.options.lease));
                    // What this prepare answers is the price shown from now on.
                    w.rec.unconfirmed_change = None;
                    w.rec.request = request.clone();
                    w.rec.fingerprint = request.fingerprint();
                    if self.try_save(&mut w).await? {
                        break w;
                    }
                }
            }
        };
        match self.prepare_work(ctx, &mut work).await {
            Ok(()) => {
                // An authorization left by an earlier attempt whose void failed is still
                // reserved: due at once, so the tick voids it even when no hold is due.
                if work.rec.authorization.is_some() && work.rec.due_at.is_none_or(|d| d > self.now()) {
                    work.rec.due_at = Some(self.now());
                    self.save(&mut work, "checkout.prepare").await?;
                }
                Ok((work, false))
            }
            Err(e) => {
                // `Aborted` is written first, as a release under a lease (a versioned write):
                // when another instance took the order over meanwhile (this prepare outlived
                // its lease), the write is lost and nothing is released here. The holds this
                // copy shows may be that instance's now: a lock taken again under the same
                // order id is the same lock at the vendor, and unlocking names no order.
                work.rec.state = CheckoutState::Aborted;
                work.rec.notes.push(format!("prepare failed: {e}"));
                // The failure is what the caller needs; the release's own outcome (done, left
                // to the tick, or not this instance's to do) changes nothing for them.
                let _ = self.release_under_lease(ctx, &mut work).await;
                Err(e)
            }
        }
    }

    async fn prepare_work(&self, ctx: &Context, work: &mut Work) -> Result<()> {
        // Hold calls an earlier attempt left unsettled are recorded first (the holds no longer
        // wanted are released below); one that cannot be settled yet stays, and keeps the
        // record due.
        self.settle_intents(ctx, work).await?;
        work.rec.notes.clear();
        let (member, signed_up) = self.identify(ctx, work).await?;
        work.rec.member = member;
        work.rec.signed_up = signed_up;
        let caps = self.provider.capabilities().clone();
        if caps.send_transaction && caps.send_needs_member && work.rec.member.is_none() {
            // Refused before any hold or charge: a paid sale the provider refuses is a lost one.
            let mut why = format!("{} records a sale only for a member", self.provider.name());
            if let Some(note) = work.rec.notes.last() {
                why = format!("{why} ({note})");
            }
            return Err(
                Error::invalid(FLOW, "checkout.prepare", "identify", why).with_effect(WriteEffect::NotSent)
            );
        }
        let request = work.rec.request.clone();
        let mut offers = Vec::new();
        if let Some(o) = self.provider.offers() {
            let basket = caps.offers_with_basket.then_some(&request.basket);
            // The order id tells a provider that evaluates the basket as a transaction which of
            // its holds are this order's own, so a basket changed after a hold still lists them.
            let ctx = &ctx.clone().with_idempotency_key(work.rec.order.as_str());
            let member = work.rec.member.as_ref().map(|m| &m.id);
            if caps.lists_offers_for(member.is_some()) {
                offers = o.list(ctx, member, basket).await?;
            }
        }
        // An offer this order holds (a live hold) has its use: the hold. A provider that counts
        // the order's own lock as a use lists it with none left, and the order would lose the
        // coupon it holds by being prepared again (a basket changed before paying).
        let now = self.now();
        for offer in offers.iter_mut().filter(|o| o.uses_left == Some(0)) {
            if work.rec.holds.iter().any(|h| h.offer_id == offer.id && !h.is_expired_at(now)) {
                offer.uses_left = Some(1);
            }
        }
        for c in request.confirmed.iter().filter(|c| !offers.iter().any(|o| &o.id == *c)) {
            let reason = match (&work.rec.member, self.provider.offers()) {
                (Some(m), Some(o)) if caps.validate_offer => {
                    let v = o.validate(ctx, &m.id, &offer_by_id(c)).await?;
                    v.reason.filter(|_| !v.valid).unwrap_or_else(|| "not offered to this customer".into())
                }
                _ => "not offered to this customer".into(),
            };
            work.rec.notes.push(format!("offer {c}: {reason}"));
        }
        // An offer the engine cannot price (a fixed coupon in another currency, a stamp card
        // past its count) is set aside with the reason; the rest of the basket is still sold.
        let (offers, set_aside) = pricing::set_aside_unpriceable(offers, request.basket.currency);
        work.rec.notes.extend(set_aside.iter().map(|n| format!("offer {}: {}", n.offer_id, n.reason)));
        work.rec.offers = offers;
        self.reprice(&mut work.rec)?;
        // A confirmed offer listed with no uses left: the provider can tell "held by another
        // order" from "used up", and the customer asked for it by name.
        let exhausted: Vec<Offer> = work
            .rec
            .offers
            .iter()
            .filter(|o| o.uses_left == Some(0) && request.confirmed.contains(&o.id))
            .cloned()
            .collect();
        if let (Some(m), Some(o), true) = (&work.rec.member, self.provider.offers(), caps.validate_offer) {
            for offer in exhausted {
                let v = o.validate(ctx, &m.id, &offer).await?;
                if let Some(reason) = v.reason.filter(|_| !v.valid) {
                    work.rec.notes.push(format!("offer {}: {reason}", offer.id));
                }
            }
        }
        self.validate_used(ctx, work).await?;
        self.ensure_holds(ctx, work).await?;
        work.rec.state = CheckoutState::Prepared;
        work.rec.revision += 1;
        work.rec.due_at = self.holds_due(&work.rec);
        self.save(work, "checkout.prepare").await
    }

    /// How far ahead holds are judged: a hold about to lapse is as good as lapsed. At most a
    /// quarter of a hold's life, so a fresh hold always passes.
    fn hold_margin(&self, style: crate::capabilities::HoldStyle) -> std::time::Duration {
        self.options.hold_margin.min(std::time::Duration::from_secs(style.ttl_secs() / 4))
    }

    /// True when every hold of a prepared checkout outlives the hold margin, so a commit now
    /// would not have to take any again (a caller answering a repeated prepare from the record
    /// checks this first; otherwise it prepares again).
    pub fn holds_outlast_margin(&self, holds: &[Hold]) -> bool {
        let margin =
            self.provider.capabilities().hold.map_or(std::time::Duration::ZERO, |s| self.hold_margin(s));
        let judged_at = self.after(margin);
        holds.iter().all(|h| !h.is_expired_at(judged_at))
    }

    /// When the sweeper should look at a prepared checkout: when its first hold expires, or at
    /// once while a hold call's outcome is unknown (the vendor may hold the offer for this
    /// order, and a reservation that never lapses would otherwise stay held for good).
    pub(super) fn holds_due(&self, rec: &CheckoutRecord) -> Option<chrono::DateTime<chrono::Utc>> {
        if !rec.hold_intents.is_empty() {
            return Some(self.now());
        }
        rec.holds.iter().map(|h| h.expires_at).min()
    }

    /// Identifies the member; a guest with both consents is looked up by the sign-up's phone
    /// and e-mail first (a retried sign-up is the member created the first time), then
    /// registered.
    async fn identify(&self, ctx: &Context, work: &mut Work) -> Result<(Option<Member>, bool)> {
        let caps = self.provider.capabilities();
        let request = work.rec.request.clone();
        let members = self.provider.members();
        if let Some(lookup) = &request.identify {
            let members = members.ok_or_else(|| Error::unsupported(self.provider.name(), "members.find"))?;
            if let Some(m) = members.find(ctx, lookup).await? {
                return Ok((Some(m), false));
            }
            // Said, so a mistyped id is not taken silently for a guest purchase.
            work.rec.notes.push(format!("no member found by {}", lookup.kind().label()));
        }
        let Some(sign_up) = &request.sign_up else { return Ok((None, false)) };
        let Some(members) = members.filter(|_| caps.register) else {
            let name = self.provider.name();
            work.rec.notes.push(format!("guest purchase: {name} does not take sign-ups"));
            return Ok((None, false));
        };
        if !sign_up.consents.allow_sign_up() {
            work.rec
                .notes
                .push("guest purchase: sign-up needs both the membership and order-history consents".into());
            return Ok((None, false));
        }
        for lookup in sign_up.lookups(caps) {
            // A lookup several members answer (a phone two of them share) says nothing about
            // this guest: the next one (the e-mail) may.
            let found = match members.find(ctx, &lookup).await {
                Err(e) if *e.kind() == ErrorKind::Ambiguous => continue,
                other => other?,
            };
            if let Some(m) = found {
                // The same order signed this guest up before (a retry): still a sign-up. Also
                // when only the register call is known to have been sent (its reply was lost,
                // or the instance stopped during it): the member the sign-up's own phone or
                // e-mail finds is the one it made.
                let again = work.rec.sign_up_sent
                    || (work.rec.signed_up && work.rec.member.as_ref().is_some_and(|x| x.id == m.id));
                if !again {
                    work.rec.notes.push(format!("guest is already member {}", m.id));
                }
                return Ok((Some(m), again));
            }
        }
        // Written before the call, so a retry after a lost reply knows this order sent it.
        work.rec.sign_up_sent = true;
        self.save(work, "members.register").await?;
        let member = match members.register(ctx, sign_up).await {
            Ok(m) => m,
            Err(e) => {
                // The provider answered (or the call never left): it made no member.
                if e.effect() != WriteEffect::Unknown {
                    work.rec.sign_up_sent = false;
                }
                return Err(e);
            }
        };
        work.rec.notes.push(format!("signed up member {}", member.id));
        // Written now, so a retry after a crash knows this order made the member.
        work.rec.member = Some(member.clone());
        work.rec.signed_up = true;
        self.save(work, "checkout.prepare").await?;
        Ok((Some(member), true))
    }

    /// Asks the provider about each coupon the basket uses; a refused one is dropped. A coupon
    /// this order holds needs no asking: the hold is the stronger promise, and an expired one is
    /// taken again (which asks the provider for this order); a validation would see our own
    /// hold as someone else's.
    pub(super) async fn validate_used(&self, ctx: &Context, work: &mut Work) -> Result<()> {
        let caps = self.provider.capabilities();
        let (Some(member), Some(o)) = (work.rec.member.clone(), self.provider.offers()) else {
            return Ok(());
        };
        if !caps.validate_offer {
            return Ok(());
        }
        let Some(priced) = work.rec.priced.clone() else { return Ok(()) };
        let held = |o: &Offer| work.rec.holds.iter().any(|h| h.offer_id == o.id);
        let to_check: Vec<Offer> = held_offers(&priced, &work.rec.offers)
            .into_iter()
            .filter(|o| matches!(o.kind, OfferKind::Coupon { .. }) && !held(o))
            .collect();
        let mut dropped = false;
        for offer in to_check {
            let v = o.validate(ctx, &member.id, &offer).await?;
            if !v.valid {
                work.rec.notes.push(format!(
                    "offer {}: {}",
                    offer.id,
                    v.reason.unwrap_or_else(|| "not valid".into())
                ));
                work.rec.offers.retain(|x| x.id != offer.id);
                dropped = true;
            }
        }
        if dropped {
            self.reprice(&mut work.rec)?;
        }
        Ok(())
    }

    /// Holds every offer the basket uses that has no live hold (or whose hold was taken for
    /// another basket); an offer the provider refuses is dropped and the basket priced again.
    /// Holds of offers no longer used are released. Each hold call is written to the store
    /// first, so a crash mid-way leaves a record recovery can settle.
    pub(super) async fn ensure_holds(&self, ctx: &Context, work: &mut Work) -> Result<()> {
        let holds_api = self.provider.holds();
        let style = self.provider.capabilities().hold;
        let (Some(member), Some(holds_api), Some(style)) = (work.rec.member.clone(), holds_api, style) else {
            return Ok(());
        };
        let basket = fingerprint(&work.rec.request.basket);
        let mut refresh = work.rec.held_basket.as_ref() != Some(&basket);
        // Holds taken again here for being close to lapsing: a provider that does not renew a
        // hold on a repeat returns the same expiry, which is then accepted while it lasts.
        let mut renewed: Vec<OfferId> = Vec::new();
        let margin = self.hold_margin(style);
        // Each pass either holds everything, or drops an offer, or settles the vendor's prices.
        for _ in 0..=(2 * work.rec.offers.len() + 1) {
            let judged_at = self.after(margin);
            let Some(priced) = work.rec.priced.clone() else { break };
            let wanted = held_offers(&priced, &work.rec.offers);
            let to_take: Vec<Offer> = wanted
                .iter()
                .filter(|o| {
                    let live_at =
                        |at| work.rec.holds.iter().any(|h| h.offer_id == o.id && !h.is_expired_at(at));
                    refresh || !(live_at(judged_at) || (renewed.contains(&o.id) && live_at(self.now())))
                })
                .cloned()
                .collect();
            refresh = false;
            renewed.extend(to_take.iter().map(|o| o.id.clone()));
            let mut dropped = false;
            if !to_take.is_empty() {
                // Intents left by earlier calls whose outcome is unknown stay until settled:
                // a hold taken here records them, nothing else may forget them.
                let earlier: Vec<OfferId> = work.rec.hold_intents.iter().map(|o| o.id.clone()).collect();
                for offer in &to_take {
                    if !earlier.contains(&offer.id) {
                        work.rec.hold_intents.push(offer.clone());
                    }
                }
                self.save(work, "holds.hold").await?;
                for offer in &to_take {
                    // A hold of this offer that lapsed since it was shown: said so in what the
                    // customer is told when the offer cannot be held again.
                    let now = self.now();
                    let lapsed =
                        work.rec.holds.iter().any(|h| h.offer_id == offer.id && h.is_expired_at(now));
                    let req = HoldRequest::new(member.id.clone(), offer.clone(), work.rec.order.clone())
                        .with_basket(work.rec.request.basket.clone())
                        .with_ttl_secs(style.ttl_secs());
                    match holds_api.hold(ctx, &req).await {
                        Ok(h) => {
                            if lapsed {
                                work.rec.notes.push(format!("offer {}: hold expired; held again", offer.id));
                            }
                            work.rec.hold_intents.retain(|x| x.id != offer.id);
                            work.rec.holds.retain(|x| x.offer_id != h.offer_id);
                            work.rec.holds.push(h);
                        }
                        Err(e) if refuses_the_hold(&e) => {
                            // Refused for this order: the vendor holds nothing for it.
                            work.rec.hold_intents.retain(|x| x.id != offer.id);
                            let why = if lapsed {
                                format!("offer {}: hold expired; {}", offer.id, e.message())
                            } else {
                                format!("offer {}: {}", offer.id, e.message())
                            };
                            work.rec.notes.push(why);
                            work.rec.offers.retain(|x| x.id != offer.id);
                            dropped = true;
                            break;
                        }
                        Err(e) => {
                            // A call whose outcome is unknown may have taken the hold: its
                            // intent stays recorded (the caller writes it), and the record is
                            // due until it is settled. Offers not asked for yet are intents
                            // only if they were before.
                            let unknown = e.effect() == WriteEffect::Unknown;
                            work.rec
                                .hold_intents
                                .retain(|o| earlier.contains(&o.id) || (unknown && o.id == offer.id));
                            return Err(e);
                        }
                    }
                }
                // Offers not asked for after a refusal are intents only if they were before.
                work.rec.hold_intents.retain(|o| earlier.contains(&o.id));
                if let Err(e) = self.save(work, "holds.hold").await {
                    self.release_if_given_up(ctx, work, &to_take).await;
                    return Err(e);
                }
            }
            self.reprice(&mut work.rec)?;
            let settled =
                work.rec.priced.as_ref().map(|p| {
                    held_offers(p, &work.rec.offers).iter().map(|o| o.id.clone()).collect::<Vec<_>>()
                }) == Some(wanted.iter().map(|o| o.id.clone()).collect());
            if dropped || !settled {
                continue;
            }
            let stale: Vec<Hold> = work
                .rec
                .holds
                .iter()
                .filter(|h| !wanted.iter().any(|o| o.id == h.offer_id))
                .cloned()
                .collect();
            for h in stale {
                holds_api.release(ctx, &h).await?;
                work.rec.holds.retain(|x| x.id != h.id);
            }
            work.rec.held_basket = Some(basket);
            return Ok(());
        }
        Err(Error::new(ErrorKind::Conflict, FLOW, "checkout.prepare")
            .with_message(format!("order {}: the offers would not settle", work.rec.order)))
    }

    /// Holds an interrupted hold call may have taken: holding again for the same order gives
    /// the same hold, which is then recorded (and released later when not wanted).
    /// After this instance took holds of `taken` and lost the write recording them: when the
    /// order was given up meanwhile (an abort or a payment timeout on another instance, during
    /// a payment confirmation's check, which runs without a lease), that instance released what
    /// the record listed, maybe before these hold calls landed. Released here, so they do not
    /// stay held until they lapse; releasing is idempotent, so a hold already released is fine.
    async fn release_if_given_up(&self, ctx: &Context, work: &Work, taken: &[Offer]) {
        let Some(api) = self.provider.holds() else { return };
        let Ok(Some(now)) = self.load(&work.rec.order).await else { return };
        if !matches!(now.rec.state, CheckoutState::Aborted | CheckoutState::Declined) {
            return;
        }
        for hold in work.rec.holds.iter().filter(|h| taken.iter().any(|o| o.id == h.offer_id)) {
            // Best effort: one that fails lapses on its own, as before.
            let _ = api.release(ctx, hold).await;
        }
    }

    /// Settles hold calls whose outcome is unknown (`hold_intents`): each offer is held again
    /// for the same order, which gives the hold the first call may have taken, and the hold is
    /// recorded (to be released, or kept while the order is prepared). An intent leaves only
    /// once its hold is recorded or the vendor refuses to hold the offer for this order (then it
    /// holds nothing for it); one whose call fails otherwise stays, and the record stays due, so
    /// a reservation that never lapses is not forgotten. Returns what could not be settled.
    ///
    /// # Errors
    /// The store's, writing the record.
    pub(super) async fn settle_intents(&self, ctx: &Context, work: &mut Work) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        if work.rec.hold_intents.is_empty() {
            return Ok(problems);
        }
        let (Some(member), Some(api)) = (work.rec.member.clone(), self.provider.holds()) else {
            // No member or no holds here: nothing can have been held.
            work.rec.hold_intents.clear();
            return Ok(problems);
        };
        let style = self.provider.capabilities().hold;
        for offer in work.rec.hold_intents.clone() {
            let mut req = HoldRequest::new(member.id.clone(), offer.clone(), work.rec.order.clone())
                .with_basket(work.rec.request.basket.clone());
            // Taken again as the interrupted call asked: for the configured lifetime.
            if let Some(style) = style {
                req = req.with_ttl_secs(style.ttl_secs());
            }
            match api.hold(ctx, &req).await {
                Ok(h) => {
                    work.rec.holds.retain(|x| x.offer_id != h.offer_id);
                    work.rec.holds.push(h);
                }
                Err(e) if refuses_the_hold(&e) => {}
                Err(e) => {
                    problems.push(format!("hold of {} could not be settled: {e}", offer.id));
                    continue;
                }
            }
            work.rec.hold_intents.retain(|x| x.id != offer.id);
        }
        self.save(work, "holds.hold").await?;
        Ok(problems)
    }

    /// Releases every recorded hold (and any interrupted hold call); returns what failed. The
    /// holds that could not be released stay recorded, and so do hold calls that could not be
    /// settled.
    pub(super) async fn release_recorded(&self, ctx: &Context, work: &mut Work) -> Vec<String> {
        let mut problems = Vec::new();
        match self.settle_intents(ctx, work).await {
            Ok(unsettled) => problems.extend(unsettled),
            Err(e) => problems.push(format!("recording holds failed: {e}")),
        }
        let Some(api) = self.provider.holds() else {
            work.rec.holds.clear();
            return problems;
        };
        for hold in std::mem::take(&mut work.rec.holds) {
            if let Err(e) = api.release(ctx, &hold).await {
                problems.push(format!("release of {} failed: {e}", hold.offer_id));
                work.rec.holds.push(hold);
            }
        }
        problems
    }

    /// Releases the holds of `offers` only.
    pub(super) async fn release_offers(
        &self,
        ctx: &Context,
        work: &mut Work,
        offers: &[OfferId],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let Some(api) = self.provider.holds() else { return problems };
        let (gone, keep): (Vec<Hold>, Vec<Hold>) =
            std::mem::take(&mut work.rec.holds).into_iter().partition(|h| offers.contains(&h.offer_id));
        work.rec.holds = keep;
        for hold in gone {
            if let Err(e) = api.release(ctx, &hold).await {
                problems.push(format!("release of {} failed: {e}", hold.offer_id));
                work.rec.holds.push(hold);
            }
        }
        problems
    }
}
