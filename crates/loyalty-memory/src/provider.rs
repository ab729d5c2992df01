//! `MemoryProvider`: the trait implementations over [`State`].

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loyalty_core::{
    Basket, Capabilities, Carts, Clock, Context, EnrollMember, Error, ErrorKind, Fulfilment, Hold, HoldId,
    HoldRequest, HoldStyle, Holds, LookupKind, Member, MemberId, MemberLookup, MemberUpdate, Members, Money,
    Offer, OfferId, OfferKind, Offers, Provider, RedeemRequest, Redemption, Redemptions, Refund,
    RegisterMember, Reinstatement, Resend, Result, ReturnStyle, Segment, SendOutcome, StampAction,
    SystemClock, Transaction, TransactionId, TransactionReceipt, Transactions, UsageCounting, Validation,
};
use rust_decimal::Decimal;

use crate::state::{HoldRec, MemberRec, OfferDef, RedemptionRec, State, TxRec};

/// The provider name in errors and reports.
pub const PROVIDER: &str = "memory";

/// Lifetime of a lock when none is requested.
const DEFAULT_LOCK_TTL_SECS: u64 = 900;

const HELD_ELSEWHERE: &str = "held by another order";
const NO_USES_LEFT: &str = "no uses left";

/// The in-memory reference provider. Cheap to clone: clones share state.
#[derive(Clone)]
pub struct MemoryProvider {
    pub(crate) state: Arc<Mutex<State>>,
    pub(crate) clock: Arc<dyn Clock>,
    capabilities: Arc<Capabilities>,
}

impl std::fmt::Debug for MemoryProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryProvider").field("clock", &self.clock).finish_non_exhaustive()
    }
}

impl Default for MemoryProvider {
    fn default() -> Self {
        MemoryProvider::new(Arc::new(SystemClock))
    }
}

fn capabilities() -> Capabilities {
    let mut c = Capabilities::none();
    c.lookups = LookupKind::ALL.to_vec();
    c.get_member = true;
    c.register = true;
    c.enroll = true;
    c.update_member = true;
    c.segments = true;
    c.list_offers = true;
    c.offers_with_basket = true;
    c.validate_offer = true;
    c.guest_offers = true;
    c.vendor_pricing = true;
    c.hold = Some(HoldStyle::Lock { default_ttl_secs: DEFAULT_LOCK_TTL_SECS });
    c.usage_counting = UsageCounting::AtHold;
    c.redeem = true;
    // A cancel reverses coupon uses, and redemptions come back by an explicit reinstate.
    c.reinstate = vec![Reinstatement::OnCancel, Reinstatement::Explicit];
    c.stamp_cards = true;
    c.points = true;
    c.send_transaction = true;
    c.resend = Resend::Deduplicated;
    c.points_at_send = true;
    c.cancel_transaction = true;
    c.second_cancel_refused = true;
    c.return_styles = vec![
        ReturnStyle::CancelAndResend,
        ReturnStyle::PartialRefund,
        ReturnStyle::ResendWithoutLines,
        ReturnStyle::NegativeTransaction,
    ];
    c.carts = true;
    c.cart_upgrades = true;
    c.offline_upgrades = true;
    c.dropshipping = true;
    c
}

/// A call held by [`MemoryProvider::pause_next`]: wait until it has arrived, then let it go on.
#[derive(Debug, Clone, Default)]
pub struct Pause {
    reached: Arc<tokio::sync::Notify>,
    go: Arc<tokio::sync::Notify>,
}

impl Pause {
    /// Returns once the paused call has arrived (at once if it already has).
    pub async fn reached(&self) {
        self.reached.notified().await;
    }

    /// Lets the paused call go on (now, or as soon as it arrives).
    pub fn release(&self) {
        self.go.notify_one();
    }
}

impl MemoryProvider {
    /// An empty provider on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> MemoryProvider {
        MemoryProvider {
            state: Arc::new(Mutex::new(State::default())),
            clock,
            capabilities: Arc::new(capabilities()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Makes the next call of `operation` (`"holds.hold"`) fail with `error`; calls queue up.
    /// Tests use it to inject a failure at any step of a flow.
    pub fn fail_next(&self, operation: &str, error: Error) {
        self.lock().failures.entry(operation.to_string()).or_default().push(error);
    }

    /// Makes the next call of `operation` stop before it acts, until the returned [`Pause`] is
    /// released; calls queue up. Tests use it to hold one instance inside a call (a send under
    /// way) while another acts, so a race plays out the same way every run.
    pub fn pause_next(&self, operation: &str) -> Pause {
        let pause = Pause::default();
        self.lock().pauses.entry(operation.to_string()).or_default().push(pause.clone());
        pause
    }

    /// Waits out a pause set on `operation`, then fails if a failure was injected for it.
    pub(crate) async fn injected(&self, operation: &str) -> Result<()> {
        let pause = {
            let mut st = self.lock();
            st.pauses.get_mut(operation).filter(|q| !q.is_empty()).map(|q| q.remove(0))
        };
        if let Some(pause) = pause {
            pause.reached.notify_one();
            pause.go.notified().await;
        }
        let mut st = self.lock();
        match st.failures.get_mut(operation) {
            Some(queue) if !queue.is_empty() => Err(queue.remove(0)),
            _ => Ok(()),
        }
    }

    /// Forgets every failure injected with [`MemoryProvider::fail_next`] and not used yet.
    pub fn clear_failures(&self) {
        let mut st = self.lock();
        st.failures.clear();
        st.lost_replies.clear();
        for pause in st.pauses.drain().flat_map(|(_, q)| q) {
            pause.release();
        }
    }

    /// Makes the next call of `operation` take effect and then fail as if its reply was lost
    /// (`Unavailable`, effect `Unknown`): the case of a vendor that recorded a sale whose
    /// answer never arrived.
    pub fn lose_reply_next(&self, operation: &str) {
        *self.lock().lost_replies.entry(operation.to_string()).or_default() += 1;
    }

    /// The reply of `operation`, unless it is due to be lost.
    pub(crate) fn reply<T>(&self, operation: &str, result: Result<T>) -> Result<T> {
        let mut st = self.lock();
        match st.lost_replies.get_mut(operation) {
            Some(n) if *n > 0 && result.is_ok() => {
                *n -= 1;
                Err(Error::new(ErrorKind::Unavailable, PROVIDER, operation)
                    .with_effect(loyalty_core::WriteEffect::Unknown)
                    .with_message("the reply was lost after the provider acted"))
            }
            _ => result,
        }
    }

    /// Number of members.
    pub fn member_count(&self) -> usize {
        self.lock().members.len()
    }

    /// Refunds recorded against `original`: (refund id, amount).
    pub fn refunds(&self, original: &TransactionId) -> Vec<(TransactionId, Money)> {
        let st = self.lock();
        let mut out: Vec<(TransactionId, Money)> = st
            .refunds
            .iter()
            .filter(|(_, (o, _))| o == original)
            .map(|(id, (_, amount))| (id.clone(), *amount))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Members' uses of `offer` held by open, unexpired holds.
    pub fn open_holds_of(&self, offer: &OfferId) -> usize {
        self.open_holds().iter().filter(|h| &h.offer_id == offer).count()
    }

    /// Adds a member (with their lookup keys) to the store.
    pub fn add_member(
        &self,
        member: Member,
        national_id: Option<&str>,
        drivers_license: Option<&str>,
        external_id: Option<&str>,
    ) {
        self.lock().members.insert(
            member.id.clone(),
            MemberRec {
                member,
                activation_token: None,
                national_id: national_id.map(str::to_string),
                drivers_license: drivers_license.map(str::to_string),
                external_id: external_id.map(str::to_string),
            },
        );
    }

    /// Adds a store segment.
    pub fn add_segment(&self, segment: Segment) {
        self.lock().segments.push(segment);
    }

    /// Adds an offer every member gets, usable `max_uses` times per member (`None`: unlimited).
    pub fn add_offer(&self, offer: Offer, max_uses: Option<u32>) {
        self.lock().offers.push(OfferDef { offer, max_uses, guests: false, lowest_item: None });
    }

    /// Adds a campaign offer listed to guests as well as members.
    pub fn add_offer_for_everyone(&self, offer: Offer) {
        self.lock().offers.push(OfferDef { offer, max_uses: None, guests: true, lowest_item: None });
    }

    /// Adds an offer the provider prices itself (a vendor-priced offer): `percent` off the
    /// cheapest unit of `products` in the basket, usable `max_uses` times per member.
    pub fn add_lowest_item_offer(
        &self,
        id: impl Into<OfferId>,
        title: &str,
        products: Vec<loyalty_core::ProductId>,
        percent: Decimal,
        max_uses: Option<u32>,
    ) {
        let offer = Offer::new(
            id,
            title,
            OfferKind::VendorPriced { rule: loyalty_core::VendorRule::LowestItem, discount: None },
        );
        self.lock().offers.push(OfferDef {
            offer,
            max_uses,
            guests: false,
            lowest_item: Some((products, percent)),
        });
    }

    /// Sets a member's stamp progress on a card.
    pub fn set_stamps(&self, member: &MemberId, card: &OfferId, collected: u32) {
        self.lock().stamps.insert((member.clone(), card.clone()), collected);
    }

    /// Uses of `offer` the member has consumed (committed transactions and redemptions).
    pub fn uses(&self, member: &MemberId, offer: &OfferId) -> u32 {
        self.lock().uses.get(&(member.clone(), offer.clone())).copied().unwrap_or(0)
    }

    /// Holds still open and not expired.
    pub fn open_holds(&self) -> Vec<Hold> {
        let now = self.now();
        self.lock()
            .holds
            .values()
            .filter(|h| h.open && !h.hold.is_expired_at(now))
            .map(|h| h.hold.clone())
            .collect()
    }

    /// The transaction stored under `id`, if any, and whether it was cancelled.
    pub fn transaction(&self, id: &TransactionId) -> Option<(Transaction, bool)> {
        self.lock().transactions.get(id).map(|r| (r.tx.clone(), r.cancelled))
    }

    /// Number of transactions stored.
    pub fn transaction_count(&self) -> usize {
        self.lock().transactions.len()
    }

    /// The activation token of an enrolled member who has not activated yet.
    pub fn activation_token(&self, member: &MemberId) -> Option<String> {
        self.lock().members.get(member).and_then(|m| m.activation_token.clone())
    }

    fn err(kind: ErrorKind, op: &str, msg: impl Into<String>) -> Error {
        Error::new(kind, PROVIDER, op).with_message(msg)
    }
}

fn offer_for(st: &State, id: &OfferId) -> Option<OfferDef> {
    st.offers.iter().find(|d| &d.offer.id == id).cloned()
}

/// The catalogue entry of an offer the member may use now: the member exists, the offer
/// exists and it is inside its validity window.
fn usable_offer(
    st: &State,
    member: &MemberId,
    offer: &OfferId,
    now: DateTime<Utc>,
    op: &str,
) -> Result<OfferDef> {
    check_member(st, member, op)?;
    let def =
        offer_for(st, offer).ok_or_else(|| Error::not_found(PROVIDER, op, format!("no offer {offer}")))?;
    if !def.offer.is_valid_at(now) {
        return Err(MemoryProvider::err(ErrorKind::Expired, op, "offer is outside its validity window"));
    }
    Ok(def)
}

fn open_holds_by_others(
    st: &State,
    member: &MemberId,
    offer: &OfferId,
    tx: Option<&TransactionId>,
    now: DateTime<Utc>,
) -> u32 {
    st.holds
        .values()
        .filter(|h| {
            h.open
                && !h.hold.is_expired_at(now)
                && &h.hold.member == member
                && &h.hold.offer_id == offer
                && Some(&h.hold.transaction) != tx
        })
        .count() as u32
}

/// Uses left for `member`, counting open holds of other transactions (usage counts at hold).
fn uses_left(
    st: &State,
    def: &OfferDef,
    member: &MemberId,
    tx: Option<&TransactionId>,
    now: DateTime<Utc>,
) -> Option<u32> {
    def.max_uses.map(|max| {
        let used = st.uses.get(&(member.clone(), def.offer.id.clone())).copied().unwrap_or(0);
        max.saturating_sub(used).saturating_sub(open_holds_by_others(st, member, &def.offer.id, tx, now))
    })
}

/// The offer as `member` sees it; `tx`: the transaction asking (the context's idempotency key),
/// whose own holds are not another order's.
fn member_view(
    st: &State,
    def: &OfferDef,
    member: Option<&MemberId>,
    tx: Option<&TransactionId>,
    basket: Option<&Basket>,
    now: DateTime<Utc>,
) -> Offer {
    let mut offer = def.offer.clone();
    if let Some(member) = member {
        offer.uses_left = uses_left(st, def, member, tx, now);
        if let OfferKind::StampCard(card) = &mut offer.kind {
            card.collected = st.stamps.get(&(member.clone(), def.offer.id.clone())).copied().unwrap_or(0);
        }
    }
    if let (OfferKind::VendorPriced { discount, .. }, Some(basket)) = (&mut offer.kind, basket) {
        *discount = vendor_discount(def, basket);
    }
    offer
}

/// What the memory provider's own rule gives on `basket`: the percentage off the cheapest unit
/// of the offer's products, rounded half-up.
fn vendor_discount(def: &OfferDef, basket: &Basket) -> Option<loyalty_core::VendorDiscount> {
    let (products, percent) = def.lowest_item.as_ref()?;
    let line = basket
        .lines
        .iter()
        .filter(|l| products.contains(&l.product_id) && l.quantity >= Decimal::ONE)
        .min_by_key(|l| l.unit_price.minor)?;
    let amount = (Decimal::from(line.unit_price.minor) * percent / Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let amount = Money::new(i64::try_from(amount).ok()?, line.unit_price.currency);
    Some(loyalty_core::VendorDiscount::new(
        amount,
        vec![loyalty_core::DiscountedLine::new(line.line_id.clone(), Decimal::ONE)],
    ))
}

fn check_member(st: &State, id: &MemberId, op: &str) -> Result<()> {
    if st.members.contains_key(id) {
        Ok(())
    } else {
        Err(Error::not_found(PROVIDER, op, format!("no member {id}")))
    }
}

#[async_trait]
impl Members for MemoryProvider {
    async fn find(&self, _ctx: &Context, lookup: &MemberLookup) -> Result<Option<Member>> {
        self.injected("members.find").await?;
        if let MemberLookup::Phone(p) = lookup {
            if !p.is_well_formed() {
                return Err(Error::invalid(
                    PROVIDER,
                    "members.find",
                    "phone",
                    "digits only, with a country code",
                ));
            }
        }
        let st = self.lock();
        let hit = st.members.values().find(|r| match lookup {
            MemberLookup::Phone(p) => r.member.phone.as_ref().map(|x| x.e164()) == Some(p.e164()),
            MemberLookup::Email(e) => r.member.email.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(e)),
            MemberLookup::NationalId(v) => r.national_id.as_deref() == Some(v.as_str()),
            MemberLookup::DriversLicense(v) => r.drivers_license.as_deref() == Some(v.as_str()),
            MemberLookup::ExternalId(v) => r.external_id.as_deref() == Some(v.as_str()),
            MemberLookup::ProviderId(id) => &r.member.id == id,
            MemberLookup::ActivationToken(t) => r.activation_token.as_deref() == Some(t.as_str()),
        });
        Ok(hit.map(|r| r.member.clone()))
    }

    async fn get(&self, _ctx: &Context, id: &MemberId) -> Result<Member> {
        self.injected("members.get").await?;
        let st = self.lock();
        st.members
            .get(id)
            .map(|r| r.member.clone())
            .ok_or_else(|| Error::not_found(PROVIDER, "members.get", format!("no member {id}")))
    }

    async fn register(&self, _ctx: &Context, request: &RegisterMember) -> Result<Member> {
        const OP: &str = "members.register";
        self.injected(OP).await?;
        refuse_blank_email(OP, request.email.as_deref())?;
        if request.phone.is_none() && request.email.is_none() {
            return Err(Error::invalid(PROVIDER, OP, "phone", "a phone or an e-mail is required"));
        }
        if let Some(p) = &request.phone {
            if !p.is_well_formed() {
                return Err(Error::invalid(PROVIDER, OP, "phone", "digits only, with a country code"));
            }
        }
        let mut st = self.lock();
        let taken = (request.phone.is_some() && st.members.values().any(|r| r.member.phone == request.phone))
            || request.email.as_deref().is_some_and(|e| holds_email(&st, e, None));
        if taken {
            return Err(Self::err(ErrorKind::Conflict, OP, "phone or e-mail already belongs to a member"));
        }
        for answer in &request.segments {
            if !st.segments.iter().any(|s| s.id == answer.segment_id) {
                return Err(Error::invalid(
                    PROVIDER,
                    OP,
                    format!("segments.{}", answer.segment_id),
                    "unknown segment",
                ));
            }
        }
        let id = MemberId::new(st.next_id("m"));
        let mut m = Member::new(id.clone());
        m.phone = request.phone.clone();
        m.email = request.email.clone();
        m.first_name = request.first_name.clone();
        m.last_name = request.last_name.clone();
        m.birth_date = request.birth_date;
        m.gender = request.gender;
        m.address = request.address.clone();
        m.consents = request.consents;
        m.segments = request.segments.clone();
        m.identifiers = request.identifiers.clone();
        m.departments = request.department.iter().cloned().collect();
        m.points = Some(Decimal::ZERO);
        st.members.insert(
            id,
            MemberRec {
                member: m.clone(),
                activation_token: None,
                national_id: None,
                drivers_license: None,
                external_id: request.external_id.clone(),
            },
        );
        drop(st);
        self.reply(OP, Ok(m))
    }

    async fn enroll(&self, _ctx: &Context, request: &EnrollMember) -> Result<Member> {
        const OP: &str = "members.enroll";
        self.injected(OP).await?;
        if !request.phone.is_well_formed() {
            return Err(Error::invalid(PROVIDER, OP, "phone", "digits only, with a country code"));
        }
        let mut st = self.lock();
        let token = st.next_id("act");
        if let Some(rec) = st.members.values_mut().find(|r| r.member.phone.as_ref() == Some(&request.phone)) {
            // An existing member who has not activated gets a new activation link.
            if !rec.member.consents.membership {
                rec.activation_token = Some(token);
            }
            return Ok(rec.member.clone());
        }
        let id = MemberId::new(st.next_id("m"));
        let mut m = Member::new(id.clone());
        m.phone = Some(request.phone.clone());
        m.first_name = request.first_name.clone();
        m.last_name = request.last_name.clone();
        m.email = request.email.clone();
        m.departments = request.department.iter().cloned().collect();
        st.members.insert(
            id,
            MemberRec {
                member: m.clone(),
                activation_token: Some(token),
                national_id: None,
                drivers_license: None,
                external_id: None,
            },
        );
        Ok(m)
    }

    async fn update(&self, _ctx: &Context, id: &MemberId, update: &MemberUpdate) -> Result<Member> {
        const OP: &str = "members.update";
        self.injected(OP).await?;
        // Changed, never blanked: leaving the field out keeps the member's.
        refuse_blank_email(OP, update.email.as_deref())?;
        let mut st = self.lock();
        for answer in &update.segments {
            if !st.segments.iter().any(|s| s.id == answer.segment_id) {
                return Err(Error::invalid(
                    PROVIDER,
                    OP,
                    format!("segments.{}", answer.segment_id),
                    "unknown segment",
                ));
            }
        }
        if !st.members.contains_key(id) {
            return Err(Error::not_found(PROVIDER, OP, format!("no member {id}")));
        }
        if update.email.as_deref().is_some_and(|e| holds_email(&st, e, Some(id))) {
            return Err(Self::err(ErrorKind::Conflict, OP, "the e-mail already belongs to another member"));
        }
        let rec = st.members.get_mut(id).expect("checked above");
        update.apply_to(&mut rec.member);
        if rec.member.consents.membership {
            rec.activation_token = None;
        }
        Ok(rec.member.clone())
    }

    async fn segments(&self, _ctx: &Context) -> Result<Vec<Segment>> {
        self.injected("members.segments").await?;
        Ok(self.lock().segments.clone())
    }
}

#[async_trait]
impl Offers for MemoryProvider {
    async fn list(
        &self,
        ctx: &Context,
        member: Option<&MemberId>,
        basket: Option<&Basket>,
    ) -> Result<Vec<Offer>> {
        const OP: &str = "offers.list";
        self.injected(OP).await?;
        let now = self.now();
        let st = self.lock();
        if let Some(member) = member {
            check_member(&st, member, OP)?;
        }
        let spent = |id: &OfferId| member.is_some_and(|m| st.spent_cards.contains(&(m.clone(), id.clone())));
        // The order asking: its own holds are its uses, not another order's.
        let tx = ctx.idempotency_key.as_deref().map(TransactionId::new);
        let mut offers: Vec<Offer> = st
            .offers
            .iter()
            .filter(|d| d.offer.is_valid_at(now) && !spent(&d.offer.id) && (member.is_some() || d.guests))
            .map(|d| member_view(&st, d, member, tx.as_ref(), basket, now))
            .collect();
        if let Some(basket) = basket {
            // Evaluated against a basket: keep offers that can apply to it.
            offers.retain(|o| offer_touches(o, basket));
        }
        Ok(offers)
    }

    async fn validate(&self, ctx: &Context, member: &MemberId, offer: &Offer) -> Result<Validation> {
        const OP: &str = "offers.validate";
        self.injected(OP).await?;
        let now = self.now();
        let st = self.lock();
        check_member(&st, member, OP)?;
        let Some(def) = offer_for(&st, &offer.id) else {
            return Ok(Validation::invalid(offer.id.clone(), "unknown offer"));
        };
        if def.offer.valid_to.is_some_and(|to| now > to) {
            let reason = def.offer.expiry_text().unwrap_or_else(|| "expired".into());
            return Ok(Validation::invalid(offer.id.clone(), reason));
        }
        if let Some(from) = def.offer.valid_from.filter(|from| now < *from) {
            return Ok(Validation::invalid(
                offer.id.clone(),
                format!("not valid before {}", from.format("%Y-%m-%d")),
            ));
        }
        let tx = ctx.idempotency_key.as_deref().map(TransactionId::new);
        if uses_left(&st, &def, member, tx.as_ref(), now) == Some(0) {
            let reason = if open_holds_by_others(&st, member, &offer.id, tx.as_ref(), now) > 0 {
                HELD_ELSEWHERE
            } else {
                NO_USES_LEFT
            };
            return Ok(Validation::invalid(offer.id.clone(), reason));
        }
        Ok(Validation::valid(offer.id.clone()))
    }
}

fn offer_touches(offer: &Offer, basket: &Basket) -> bool {
    let has =
        |products: &[loyalty_core::ProductId]| basket.lines.iter().any(|l| products.contains(&l.product_id));
    match &offer.kind {
        OfferKind::Coupon { scope: loyalty_core::Scope::Products(p), .. } => has(p),
        OfferKind::StampCard(card) => has(&card.products),
        OfferKind::ProgressiveDiscount { products, .. } => has(products),
        _ => true,
    }
}

#[async_trait]
impl Holds for MemoryProvider {
    async fn hold(&self, _ctx: &Context, request: &HoldRequest) -> Result<Hold> {
        const OP: &str = "holds.hold";
        self.injected(OP).await?;
        let now = self.now();
        let mut st = self.lock();
        let def = usable_offer(&st, &request.member, &request.offer.id, now, OP)?;
        let priced = request.basket.as_ref().and_then(|b| vendor_discount(&def, b));
        let ttl = request.ttl_secs.unwrap_or(DEFAULT_LOCK_TTL_SECS);
        // A lifetime past what a timestamp holds is refused before anything is locked: a cast
        // would wrap a huge one to an expiry in the past, an unchecked addition would panic.
        let expires_at = i64::try_from(ttl)
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .and_then(|ttl| now.checked_add_signed(ttl))
            .ok_or_else(|| {
                Error::invalid(
                    PROVIDER,
                    OP,
                    "ttl_secs",
                    format!("{ttl} seconds put the hold's expiry out of range"),
                )
            })?;
        if let Some(existing) = st.holds.values_mut().find(|h| {
            h.open
                && !h.hold.is_expired_at(now)
                && h.hold.offer_id == request.offer.id
                && h.hold.member == request.member
                && h.hold.transaction == request.transaction
        }) {
            // Holding again for the same order prices the (possibly changed) basket again and
            // renews the lock, as a lock taken again does at SessionM.
            existing.hold.vendor_discount = priced;
            existing.hold.expires_at = expires_at;
            let renewed = existing.hold.clone();
            drop(st);
            return self.reply(OP, Ok(renewed));
        }
        if uses_left(&st, &def, &request.member, Some(&request.transaction), now) == Some(0) {
            return Err(
                if open_holds_by_others(
                    &st,
                    &request.member,
                    &request.offer.id,
                    Some(&request.transaction),
                    now,
                ) > 0
                {
                    Self::err(ErrorKind::Conflict, OP, HELD_ELSEWHERE)
                } else {
                    Self::err(ErrorKind::Rejected, OP, NO_USES_LEFT)
                },
            );
        }
        let id = HoldId::new(st.next_id("lock"));
        let mut hold = Hold::new(
            id.clone(),
            def.offer.id.clone(),
            def.offer.reference.clone(),
            request.member.clone(),
            request.transaction.clone(),
            expires_at,
        )
        // The lock's own record, sent back with the transaction that claims it.
        .with_vendor_data(serde_json::json!({ "lock": id.as_str() }));
        hold.vendor_discount = priced;
        st.holds.insert(id, HoldRec { hold: hold.clone(), open: true });
        drop(st);
        self.reply(OP, Ok(hold))
    }

    async fn release(&self, _ctx: &Context, hold: &Hold) -> Result<()> {
        self.injected("holds.release").await?;
        if let Some(rec) = self.lock().holds.get_mut(&hold.id) {
            rec.open = false;
        }
        Ok(())
    }
}

#[async_trait]
impl Redemptions for MemoryProvider {
    async fn redeem(&self, _ctx: &Context, request: &RedeemRequest) -> Result<Redemption> {
        const OP: &str = "redemptions.redeem";
        self.injected(OP).await?;
        let now = self.now();
        let mut st = self.lock();
        let def = usable_offer(&st, &request.member, &request.offer.id, now, OP)?;
        if uses_left(&st, &def, &request.member, request.transaction.as_ref(), now) == Some(0) {
            return Err(Self::err(ErrorKind::Conflict, OP, "already redeemed: no uses left"));
        }
        *st.uses.entry((request.member.clone(), def.offer.id.clone())).or_default() += 1;
        let id = st.next_id("r");
        let mut r = Redemption::new(
            id.clone(),
            def.offer.id.clone(),
            def.offer.reference.clone(),
            request.member.clone(),
            now,
        );
        r.vendor_discount = request.basket.as_ref().and_then(|b| vendor_discount(&def, b));
        st.redemptions.insert(id, RedemptionRec { redemption: r.clone(), reinstated: false });
        Ok(r)
    }

    async fn reinstate(&self, _ctx: &Context, redemption: &Redemption) -> Result<()> {
        const OP: &str = "redemptions.reinstate";
        self.injected(OP).await?;
        let mut st = self.lock();
        let mut key = (redemption.member.clone(), redemption.offer_id.clone());
        match st.redemptions.get_mut(&redemption.id) {
            Some(rec) if rec.reinstated => return Ok(()),
            Some(rec) => {
                // Our own record decides whose use comes back, not the caller's copy.
                rec.reinstated = true;
                key = (rec.redemption.member.clone(), rec.redemption.offer_id.clone());
            }
            None => {
                // A use consumed by a sent transaction: the id names transaction and offer.
                if st.reinstated_uses.contains(&redemption.id) {
                    return Ok(());
                }
                let holds_use = |t: &TxRec| {
                    t.tx.member.as_ref() == Some(&redemption.member) && t.uses.contains(&redemption.offer_id)
                };
                // The transaction the id names first (`order:offer`), else any that holds one.
                let tx = st
                    .transactions
                    .iter()
                    .find(|(id, t)| holds_use(t) && format!("{id}:{}", redemption.offer_id) == redemption.id)
                    .or_else(|| st.transactions.iter().find(|(_, t)| holds_use(t)))
                    .map(|(id, _)| id.clone());
                let Some(tx) = tx else {
                    return Err(Error::not_found(PROVIDER, OP, format!("no redemption {}", redemption.id)));
                };
                st.reinstated_uses.insert(redemption.id.clone());
                // The transaction no longer holds this use: a later cancel does not give it back
                // a second time.
                if let Some(t) = st.transactions.get_mut(&tx) {
                    if let Some(i) = t.uses.iter().position(|o| o == &redemption.offer_id) {
                        t.uses.remove(i);
                    }
                }
            }
        }
        if let Some(n) = st.uses.get_mut(&key) {
            *n = n.saturating_sub(1);
        }
        Ok(())
    }
}

impl MemoryProvider {
    /// Applies a transaction's coupon uses, stamps and points; returns its record.
    fn apply(&self, st: &mut State, tx: &Transaction, op: &str) -> Result<TxRec> {
        let now = self.now();
        let mut uses = Vec::new();
        let mut stamps = Vec::new();
        if let Some(member) = &tx.member {
            check_member(st, member, op)?;
            // Check every coupon before changing anything, so a refusal leaves no partial effect.
            for used in &tx.offers_used {
                let def = offer_for(st, &used.offer_id)
                    .ok_or_else(|| Error::not_found(PROVIDER, op, format!("no offer {}", used.offer_id)))?;
                if counts_uses(&def.offer.kind) && uses_left(st, &def, member, Some(&tx.id), now) == Some(0) {
                    let why = if open_holds_by_others(st, member, &used.offer_id, Some(&tx.id), now) > 0 {
                        HELD_ELSEWHERE
                    } else {
                        NO_USES_LEFT
                    };
                    return Err(Self::err(
                        ErrorKind::Rejected,
                        op,
                        format!("offer {}: {why}", used.offer_id),
                    ));
                }
                // A vendor-priced offer is claimed with the lock it was priced under.
                if matches!(def.offer.kind, OfferKind::VendorPriced { .. })
                    && !tx.holds.iter().any(|h| h.offer_id == used.offer_id && h.vendor_data.is_some())
                {
                    return Err(Self::err(
                        ErrorKind::Rejected,
                        op,
                        format!("offer {} is claimed without the lock it was priced under", used.offer_id),
                    ));
                }
            }
            for used in &tx.offers_used {
                if let Some(def) = offer_for(st, &used.offer_id) {
                    if counts_uses(&def.offer.kind) {
                        *st.uses.entry((member.clone(), used.offer_id.clone())).or_default() += 1;
                        uses.push(used.offer_id.clone());
                    }
                }
            }
            for movement in &tx.stamps {
                let delta = match movement.action {
                    StampAction::Collected => i64::from(movement.count),
                    StampAction::Deducted => -i64::from(movement.count),
                };
                let entry = st.stamps.entry((member.clone(), movement.offer_id.clone())).or_default();
                *entry = (i64::from(*entry) + delta).max(0) as u32;
                stamps.push((movement.offer_id.clone(), delta));
            }
            // A non-restartable card that paid out its reward is spent.
            for movement in tx.stamps.iter().filter(|m| m.action == StampAction::Deducted) {
                if let Some(def) = offer_for(st, &movement.offer_id) {
                    if matches!(&def.offer.kind, OfferKind::StampCard(c) if !c.restartable) {
                        st.spent_cards.push((member.clone(), movement.offer_id.clone()));
                    }
                }
            }
            // The transaction consumes the locks of the offers it claims, as SessionM's finalize
            // consumes the locks whose discount it carries; a lock it does not claim stays until
            // it is released or lapses.
            let claimed = |offer: &OfferId| {
                tx.offers_used.iter().any(|u| &u.offer_id == offer)
                    || tx.stamps.iter().any(|s| s.action == StampAction::Deducted && &s.offer_id == offer)
            };
            for h in
                st.holds.values_mut().filter(|h| h.hold.transaction == tx.id && claimed(&h.hold.offer_id))
            {
                h.open = false;
            }
        }
        let points = points_for(tx.total);
        if let Some(rec) = tx.member.as_ref().and_then(|m| st.members.get_mut(m)) {
            rec.member.points = Some(rec.member.points.unwrap_or_default() + points);
        }
        Ok(TxRec {
            tx: tx.clone(),
            cancelled: false,
            refunded: Money::zero(tx.currency),
            uses,
            stamps,
            points,
            earned: points,
        })
    }

    /// Takes back what `apply` did.
    fn reverse(st: &mut State, rec: &TxRec) {
        let Some(member) = &rec.tx.member else { return };
        for offer in &rec.uses {
            if let Some(n) = st.uses.get_mut(&(member.clone(), offer.clone())) {
                *n = n.saturating_sub(1);
            }
        }
        for (card, delta) in &rec.stamps {
            let entry = st.stamps.entry((member.clone(), card.clone())).or_default();
            *entry = (i64::from(*entry) - delta).max(0) as u32;
            if *delta < 0 {
                st.spent_cards.retain(|(m, c)| !(m == member && c == card));
            }
        }
        if let Some(m) = st.members.get_mut(member) {
            m.member.points = Some(m.member.points.unwrap_or_default() - rec.points);
        }
    }
}

/// Points a transaction of `total` earns: one per whole currency unit, truncated toward zero,
/// so a negative transaction (a return booked as a negative sale) takes back exactly what the
/// same amount sold earns (-12.50 takes back 12, as 12.50 earned 12; a floor would take 13).
fn points_for(total: Money) -> Decimal {
    total.to_decimal().trunc()
}

/// The points refunds of `refunded` in all take back of the `earned` points of a transaction of
/// `total`: the same share, truncated toward zero. Taking back each refund as the step between
/// the running shares makes the steps of a full refund add up to exactly `earned` (a sale of
/// 30.50 that earned 30 refunded as 10.50 + 10.50 + 9.50 takes back 10 + 10 + 10, where
/// points of each refund's own amount would take back 10 + 10 + 9).
fn points_share(earned: Decimal, refunded: Money, total: Money) -> Decimal {
    use rust_decimal::prelude::ToPrimitive;
    if total.minor == 0 {
        return Decimal::ZERO;
    }
    // |earned| <= |total| in whole units <= 2^63 and |refunded.minor| <= 2^63: the product fits
    // an i128, and i128 division truncates toward zero.
    earned
        .to_i128()
        .and_then(|e| e.checked_mul(i128::from(refunded.minor)))
        .map(|p| p / i128::from(total.minor))
        .and_then(|share| Decimal::try_from_i128_with_scale(share, 0).ok())
        .unwrap_or(earned)
}

/// A blank e-mail is refused naming `email`: stored, it would stand for an address the member
/// does not have and match every other blank one.
fn refuse_blank_email(op: &str, email: Option<&str>) -> Result<()> {
    if email.is_some_and(|e| e.trim().is_empty()) {
        return Err(Error::invalid(PROVIDER, op, "email", "an e-mail cannot be blank; leave it out"));
    }
    Ok(())
}

/// Whether a member other than `except` holds `email`, ignoring case: an e-mail identifies one
/// member, or a lookup by it would answer either of two.
fn holds_email(st: &State, email: &str, except: Option<&MemberId>) -> bool {
    let email = email.to_lowercase();
    st.members.iter().any(|(id, r)| {
        Some(id) != except && r.member.email.as_deref().is_some_and(|m| m.to_lowercase() == email)
    })
}

/// Offers whose uses are counted per member.
fn counts_uses(kind: &OfferKind) -> bool {
    matches!(kind, OfferKind::Coupon { .. } | OfferKind::VendorPriced { .. })
}

fn check_transaction(tx: &Transaction, op: &str) -> Result<()> {
    if tx.id.as_str().is_empty() {
        return Err(Error::invalid(PROVIDER, op, "id", "must not be empty"));
    }
    for (i, line) in tx.lines.iter().enumerate() {
        for (field, m) in [
            ("unit_price", line.unit_price),
            ("gross", line.gross),
            ("discount", line.discount),
            ("net", line.net),
        ] {
            if m.currency != tx.currency {
                return Err(Error::invalid(
                    PROVIDER,
                    op,
                    format!("lines[{i}].{field}"),
                    "currency differs from the transaction's",
                ));
            }
        }
        if line.gross.checked_sub(line.discount).ok() != Some(line.net) {
            return Err(Error::invalid(
                PROVIDER,
                op,
                format!("lines[{i}].net"),
                "net must equal gross minus discount",
            ));
        }
    }
    let total = Money::sum(tx.currency, tx.lines.iter().map(|l| l.net))
        .map_err(|e| Error::from_money(PROVIDER, op, "lines", e))?;
    if total != tx.total {
        return Err(Error::invalid(
            PROVIDER,
            op,
            "total",
            format!("is {} but the lines sum to {}", tx.total, total),
        ));
    }
    Ok(())
}

#[async_trait]
impl Transactions for MemoryProvider {
    async fn send(&self, _ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt> {
        const OP: &str = "transactions.send";
        self.injected(OP).await?;
        check_transaction(transaction, OP)?;
        let result = {
            let mut st = self.lock();
            match st.transactions.get(&transaction.id) {
                // The memory provider can tell a changed body from a repeat.
                Some(stored) if stored.tx != *transaction => Err(Self::err(
                    ErrorKind::Conflict,
                    OP,
                    format!("transaction {} was already recorded with another body", transaction.id),
                )),
                Some(_) => Ok(TransactionReceipt::new(transaction.id.clone(), SendOutcome::AlreadyRecorded)),
                None => self.apply(&mut st, transaction, OP).map(|rec| {
                    let mut receipt = TransactionReceipt::new(transaction.id.clone(), SendOutcome::Recorded);
                    receipt.points_earned = Some(rec.points);
                    st.transactions.insert(transaction.id.clone(), rec);
                    receipt
                }),
            }
        };
        self.reply(OP, result)
    }

    async fn amend(&self, _ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt> {
        const OP: &str = "transactions.amend";
        self.injected(OP).await?;
        check_transaction(transaction, OP)?;
        let mut st = self.lock();
        let old =
            st.transactions.get(&transaction.id).cloned().ok_or_else(|| {
                Error::not_found(PROVIDER, OP, format!("no transaction {}", transaction.id))
            })?;
        if old.cancelled {
            return Err(Self::err(ErrorKind::Conflict, OP, "transaction is cancelled"));
        }
        // Points follow the new total; coupon uses stay (reinstating is explicit).
        let points = points_for(transaction.total);
        if let Some(m) = transaction.member.as_ref().and_then(|m| st.members.get_mut(m)) {
            m.member.points = Some(m.member.points.unwrap_or_default() - old.points + points);
        }
        // Stamps follow the new lines: what the removed lines earned is taken back.
        if let Some(member) = &transaction.member {
            let earned = |tx: &Transaction, card: &OfferId| -> u32 {
                tx.lines.iter().flat_map(|l| &l.stamps).filter(|(c, _)| c == card).map(|(_, n)| *n).sum()
            };
            let cards: Vec<OfferId> =
                old.tx.lines.iter().flat_map(|l| l.stamps.iter().map(|(c, _)| c.clone())).collect();
            for card in cards {
                let gone = earned(&old.tx, &card).saturating_sub(earned(transaction, &card));
                let entry = st.stamps.entry((member.clone(), card)).or_default();
                *entry = entry.saturating_sub(gone);
            }
        }
        let rec = st.transactions.get_mut(&transaction.id).expect("checked above");
        rec.tx = transaction.clone();
        rec.points = points;
        rec.earned = points;
        Ok(TransactionReceipt::new(transaction.id.clone(), SendOutcome::Recorded))
    }

    async fn cancel(&self, _ctx: &Context, transaction: &Transaction, _reason: Option<&str>) -> Result<()> {
        const OP: &str = "transactions.cancel";
        self.injected(OP).await?;
        let id = &transaction.id;
        let mut st = self.lock();
        let rec = st
            .transactions
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no transaction {id}")))?;
        if rec.cancelled {
            return Err(Self::err(ErrorKind::Conflict, OP, "already cancelled"));
        }
        Self::reverse(&mut st, &rec);
        st.transactions.get_mut(id).expect("present").cancelled = true;
        Ok(())
    }

    async fn refund(&self, _ctx: &Context, refund: &Refund) -> Result<TransactionReceipt> {
        const OP: &str = "transactions.refund";
        self.injected(OP).await?;
        let mut st = self.lock();
        if st.refunds.contains_key(&refund.refund_id) {
            return Ok(TransactionReceipt::new(refund.refund_id.clone(), SendOutcome::AlreadyRecorded));
        }
        let rec =
            st.transactions.get(&refund.original).cloned().ok_or_else(|| {
                Error::not_found(PROVIDER, OP, format!("no transaction {}", refund.original))
            })?;
        if rec.cancelled {
            return Err(Self::err(ErrorKind::Conflict, OP, "original is cancelled"));
        }
        let after = rec
            .refunded
            .checked_add(refund.total)
            .map_err(|e| Error::from_money(PROVIDER, OP, "total", e))?;
        if after.minor > rec.tx.total.minor || refund.total.is_negative() {
            return Err(Self::err(
                ErrorKind::Rejected,
                OP,
                format!("refunds would exceed the original total {}", rec.tx.total),
            ));
        }
        // The refunded units' share of what the sale earned, never a figure of the refund's own.
        let points = points_share(rec.earned, after, rec.tx.total)
            - points_share(rec.earned, rec.refunded, rec.tx.total);
        if let Some(m) = rec.tx.member.as_ref().and_then(|m| st.members.get_mut(m)) {
            m.member.points = Some(m.member.points.unwrap_or_default() - points);
        }
        if let Some(member) = &rec.tx.member {
            for (card, n) in refund.lines.iter().flat_map(|l| &l.stamps) {
                let entry = st.stamps.entry((member.clone(), card.clone())).or_default();
                *entry = entry.saturating_sub(*n);
            }
        }
        let stored = st.transactions.get_mut(&refund.original).expect("present");
        stored.refunded = after;
        stored.points -= points;
        st.refunds.insert(refund.refund_id.clone(), (refund.original.clone(), refund.total));
        Ok(TransactionReceipt::new(refund.refund_id.clone(), SendOutcome::Recorded))
    }
}

impl Provider for MemoryProvider {
    fn name(&self) -> &str {
        PROVIDER
    }
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }
    fn members(&self) -> Option<&dyn Members> {
        Some(self)
    }
    fn offers(&self) -> Option<&dyn Offers> {
        Some(self)
    }
    fn holds(&self) -> Option<&dyn Holds> {
        Some(self)
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        Some(self)
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        Some(self)
    }
    fn carts(&self) -> Option<&dyn Carts> {
        Some(self)
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        Some(self)
    }
}
