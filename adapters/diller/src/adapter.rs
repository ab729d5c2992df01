//! [`DillerAdapter`]: the trait implementations and the one [`Capabilities`] declaration.

use std::sync::Arc;

use async_trait::async_trait;
use loyalty_core::{
    Basket, Capabilities, Carts, Clock, Context, Currency, EnrollMember, Error, ErrorKind, Fulfilment, Hold,
    HoldRequest, HoldStyle, Holds, LookupKind, Member, MemberId, MemberLookup, MemberUpdate, Members, Offer,
    OfferKind, OfferRef, Offers, Provider, Redemptions, RefKind, Refund, RegisterMember, Reinstatement,
    Resend, Result, ReturnStyle, Segment, SendOutcome, SystemClock, Transaction, TransactionId,
    TransactionReceipt, Transactions, UsageCounting, Validation, WriteEffect,
};
use tokio::sync::OnceCell;

use crate::client::{is_not_found, DillerClient, SearchKey};
use crate::config::DillerConfig;
use crate::decode;
use crate::error::{REFUND_OPERATION, SEND_OPERATION};
use crate::wire::{self, names};
use crate::PROVIDER;

/// The Diller provider: members, coupons and stamp cards, reservations and transactions over
/// the Retailer API v2.0.
///
/// Build it with [`DillerAdapter::new`]; hand it to callers as `&dyn Provider`.
#[derive(Debug)]
pub struct DillerAdapter {
    config: DillerConfig,
    client: DillerClient,
    clock: Arc<dyn Clock>,
    capabilities: Capabilities,
    currency: OnceCell<Currency>,
}

/// What Diller can do, declared once (the table in `docs/vendors/diller.md`, "Capabilities").
fn declare(identifier_kind: LookupKind) -> Capabilities {
    let mut c = Capabilities::none();
    let mut lookups =
        vec![LookupKind::Phone, LookupKind::Email, LookupKind::ProviderId, LookupKind::ActivationToken];
    // `identifierValue` searches the one extra identifier the store defines (§4.2).
    lookups.push(identifier_kind);
    lookups.sort();
    c.lookups = lookups;
    c.get_member = true;
    c.register = true;
    c.enroll = true;
    c.update_member = true;
    c.segments = true;
    c.list_offers = true;
    c.offers_with_basket = false;
    c.validate_offer = true;
    // Offers are per member and not priced by Diller (§4.3).
    c.guest_offers = false;
    c.vendor_pricing = false;
    // Reservations stay until released; no expiry is documented (§6.2 [I]).
    c.hold = Some(HoldStyle::Reserve { assumed_ttl_secs: names::RESERVATION_ASSUMED_TTL_SECS });
    // A reservation blocks other transactions at once (§4.3 C4).
    c.usage_counting = UsageCounting::AtHold;
    c.redeem = false;
    // T2 reverses coupons and stamps; T3 does not (§4.5).
    c.reinstate = vec![Reinstatement::OnCancel];
    c.stamp_cards = true;
    c.points = true;
    c.send_transaction = true;
    // A duplicate external_id is refused and reported as AlreadyRecorded (§7.3 [S]).
    c.resend = Resend::Deduplicated;
    // T1 adds the points at once (§4.7; the simulator's formula is [S]).
    c.points_at_send = true;
    c.cancel_transaction = true;
    // Cancelling twice is a 400 (§7.3 [S]).
    c.second_cancel_refused = true;
    c.return_styles =
        vec![ReturnStyle::CancelAndResend, ReturnStyle::NegativeTransaction, ReturnStyle::PartialRefund];
    c.carts = false;
    c.cart_upgrades = false;
    c.dropshipping = false;
    c
}

/// How an offer is addressed at Diller.
enum OfferTarget {
    Coupon(String),
    Stamp(i64),
}

fn target(op: &str, offer: &Offer) -> Result<OfferTarget> {
    if matches!(offer.kind, OfferKind::StampCard(_)) {
        return stamp_target(op, &offer.reference);
    }
    if !matches!(offer.kind, OfferKind::Coupon { .. }) {
        return Err(invalid_here(op, "offer.kind", "Diller holds only coupons and stamp cards"));
    }
    // The coupon code is the key of C3-C5 (§4.3); a coupon's reference is its code. An offer
    // known only by its id (`coupon:<code>`, as this adapter names coupons) carries the code too.
    let code = match offer.reference.kind {
        RefKind::Code => offer.reference.value.clone(),
        RefKind::Id => offer.code.clone().unwrap_or_else(|| {
            offer
                .reference
                .value
                .strip_prefix(wire::COUPON_PREFIX)
                .unwrap_or(&offer.reference.value)
                .to_string()
        }),
    };
    if code.is_empty() {
        return Err(invalid_here(op, "offer.reference", "missing coupon code"));
    }
    Ok(OfferTarget::Coupon(code))
}

/// The coupon code behind a coupon offer known only by its id (`coupon:<code>`, §5.5).
fn coupon_code_of_id(reference: &OfferRef) -> Option<&str> {
    match reference.kind {
        RefKind::Id => reference.value.strip_prefix(wire::COUPON_PREFIX).filter(|c| !c.is_empty()),
        RefKind::Code => None,
    }
}

/// What a hold reserved: the code or card recorded at hold time, else read from its reference
/// (a coupon by code or by `coupon:<code>` id, a stamp card by numeric id).
fn hold_target(op: &str, hold: &Hold) -> Result<OfferTarget> {
    let data = hold.vendor_data.as_ref();
    if let Some(code) = data.and_then(|d| d.get("coupon")).and_then(|c| c.as_str()).filter(|c| !c.is_empty())
    {
        return Ok(OfferTarget::Coupon(code.to_string()));
    }
    if let Some(card) = data.and_then(|d| d.get("stamp_card")).and_then(serde_json::Value::as_i64) {
        return Ok(OfferTarget::Stamp(card));
    }
    match hold.offer_ref.kind {
        RefKind::Code => Ok(OfferTarget::Coupon(hold.offer_ref.value.clone())),
        RefKind::Id => match coupon_code_of_id(&hold.offer_ref) {
            Some(code) => Ok(OfferTarget::Coupon(code.to_string())),
            None => stamp_target(op, &hold.offer_ref),
        },
    }
}

/// Bad input refused here, before any request: nothing was sent.
fn invalid_here(op: &str, field: &str, reason: impl Into<String>) -> Error {
    Error::invalid(PROVIDER, op, field, reason).with_effect(WriteEffect::NotSent)
}

/// A stamp card's reference is its numeric id (§5.5).
fn stamp_target(op: &str, reference: &OfferRef) -> Result<OfferTarget> {
    let raw = reference.value.strip_prefix(wire::STAMP_PREFIX).unwrap_or(&reference.value);
    let stamp = raw
        .parse()
        .map_err(|_| invalid_here(op, "offer.reference", format!("{raw:?} is no Diller stamp card id")))?;
    Ok(OfferTarget::Stamp(stamp))
}

/// Units of the card's products in the basket: one stamp reservation each, as Diller's own
/// module reserves (§4.4 K3 [MAG]); at least one.
fn stamp_units(offer: &Offer, basket: Option<&Basket>) -> Vec<(String, u32)> {
    let (OfferKind::StampCard(card), Some(basket)) = (&offer.kind, basket) else { return Vec::new() };
    basket
        .lines
        .iter()
        .filter(|l| card.products.contains(&l.product_id))
        .map(|l| (l.product_id.as_str().to_string(), l.quantity.ceil().try_into().unwrap_or(0u32)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

impl DillerAdapter {
    /// An adapter for `config`, on the system clock.
    ///
    /// # Errors
    /// `Invalid` when the transport refuses the configuration.
    pub fn new(config: DillerConfig) -> Result<DillerAdapter> {
        DillerAdapter::with_clock(config, Arc::new(SystemClock))
    }

    /// An adapter whose hold expiry and token cache read `clock`.
    ///
    /// # Errors
    /// `Invalid` when the transport refuses the configuration.
    pub fn with_clock(config: DillerConfig, clock: Arc<dyn Clock>) -> Result<DillerAdapter> {
        let client = DillerClient::with_clock(&config, clock.clone())?;
        let capabilities = declare(config.identifier_kind);
        Ok(DillerAdapter { config, client, clock, capabilities, currency: OnceCell::new() })
    }

    /// The configuration.
    pub fn config(&self) -> &DillerConfig {
        &self.config
    }

    /// The vendor client, for calls outside the traits.
    pub fn client(&self) -> &DillerClient {
        &self.client
    }

    fn department<'a>(
        &'a self,
        ctx: &'a Context,
        explicit: Option<&'a loyalty_core::DepartmentId>,
    ) -> Option<&'a str> {
        explicit.or(ctx.department.as_ref()).map(|d| d.as_str()).or(self.config.department_id.as_deref())
    }

    fn origin(&self, ctx: &Context, department: Option<&str>) -> Option<wire::Origin> {
        let o = wire::Origin {
            system_id: ctx.register_id.clone(),
            employee_id: ctx.employee_id.clone(),
            department_id: department.map(str::to_string),
            channel: None,
        };
        (o != wire::Origin::default()).then_some(o)
    }

    /// The store currency (S2), read once; fixed-amount coupons are in it (§5.4).
    async fn currency(&self, ctx: &Context, op: &str) -> Result<Currency> {
        self.currency
            .get_or_try_init(|| async {
                let store = self.client.store(ctx, op).await?;
                decode::currency_of(op, &store)
            })
            .await
            .copied()
    }

    /// "expired on DATE" (the store's local date when Diller gives a bare date) for a coupon
    /// past its end, read from the store's coupon list (C1, inactive ones too): Diller's
    /// refusal text does not say when (§4.3, §6.3).
    async fn expired_on(&self, ctx: &Context, op: &str, code: &str) -> Result<Option<String>> {
        let coupons = self.client.store_coupons(ctx, op, true).await?;
        let Some(w) = coupons.into_iter().find(|c| c.code.as_deref() == Some(code)) else { return Ok(None) };
        let currency = self.currency(ctx, op).await?;
        let octx = wire::OfferContext { time_zone: self.config.time_zone, currency };
        let Some(offer) = decode::coupon_offers(op, vec![w], &octx)?.pop() else {
            return Ok(None);
        };
        Ok(offer.valid_to.filter(|to| self.clock.now() > *to).and_then(|_| offer.expiry_text()))
    }

    fn member(op: &str, w: wire::MemberResponse) -> Result<Member> {
        decode::member_of(op, w)
    }

    fn hold_id(tx: &TransactionId, offer: &Offer) -> String {
        format!("{}/{}", tx.as_str(), offer.id.as_str())
    }
}

impl Provider for DillerAdapter {
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
        // No redeem endpoint: a coupon is used by naming it in T1 (§4.3).
        None
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        Some(self)
    }
    fn carts(&self) -> Option<&dyn Carts> {
        None
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        None
    }
}

#[async_trait]
impl Members for DillerAdapter {
    async fn find(&self, ctx: &Context, lookup: &MemberLookup) -> Result<Option<Member>> {
        const OP: &str = "members.find";
        let key = match lookup {
            MemberLookup::ProviderId(id) => {
                // A GET of an unknown id answers 400 or 404 (§6.5 [I]): that is "no match".
                return match self.client.get_member(ctx, OP, id.as_str()).await {
                    Ok(w) => Self::member(OP, w).map(Some),
                    Err(e) if is_not_found(&e) => Ok(None),
                    Err(e) => Err(e),
                };
            }
            MemberLookup::Phone(p) => {
                if !p.is_well_formed() {
                    return Err(invalid_here(OP, "phone", "expected +country code and digits"));
                }
                // International form with `+` (§4.2); the transport encodes it as %2B.
                SearchKey::Phone(p.e164())
            }
            MemberLookup::Email(e) => SearchKey::Email(e.trim().to_string()),
            MemberLookup::ActivationToken(t) => SearchKey::ActivationToken(t.clone()),
            MemberLookup::NationalId(v) | MemberLookup::DriversLicense(v) | MemberLookup::ExternalId(v) => {
                SearchKey::IdentifierValue(v.clone())
            }
        };
        // "No match" is 200 [] or an error, depending on the server (§4.2, [I]).
        match self.client.search_members(ctx, OP, &key).await {
            // An identifier Diller does not keep unique per country (§5.3) can match several
            // members: which one buys is not ours to guess.
            Ok(list) if list.len() > 1 => Err(Error::new(ErrorKind::Ambiguous, PROVIDER, OP)
                .with_effect(WriteEffect::NotSent)
                .with_message(format!(
                    "{} members match; look the member up by another identifier",
                    list.len()
                ))),
            Ok(list) => list.into_iter().next().map(|w| Self::member(OP, w)).transpose(),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn get(&self, ctx: &Context, id: &MemberId) -> Result<Member> {
        const OP: &str = "members.get";
        let w = self.client.get_member(ctx, OP, id.as_str()).await?;
        Self::member(OP, w)
    }

    async fn register(&self, ctx: &Context, request: &RegisterMember) -> Result<Member> {
        const OP: &str = "members.register";
        let department = self.department(ctx, request.department.as_ref());
        let body = wire::RegisterMemberRequest::try_from(wire::RegisterInput {
            request,
            department,
            origin: self.origin(ctx, department),
        })
        .map_err(|e| e.invalid(OP))?;
        let w = self.client.register_member(ctx, OP, &body).await?;
        Self::member(OP, w)
    }

    async fn enroll(&self, ctx: &Context, request: &EnrollMember) -> Result<Member> {
        const OP: &str = "members.enroll";
        let department = self.department(ctx, request.department.as_ref());
        let body = wire::EnrollMemberRequest::try_from(wire::EnrollInput {
            request,
            department,
            origin: self.origin(ctx, department),
        })
        .map_err(|e| e.invalid(OP))?;
        let w = self.client.enroll_member(ctx, OP, &body).await?;
        Self::member(OP, w)
    }

    async fn update(&self, ctx: &Context, id: &MemberId, update: &MemberUpdate) -> Result<Member> {
        const OP: &str = "members.update";
        // M5 replaces the whole profile (§4.2): read, merge, send everything back.
        let current = self.client.get_member(ctx, OP, id.as_str()).await?;
        let mut member = Self::member(OP, current)?;
        update.apply_to(&mut member);
        let mut body = wire::UpdateMemberRequest::try_from(&member).map_err(|e| e.invalid(OP))?;
        body.origin = self.origin(ctx, self.department(ctx, None));
        let w = self.client.update_member(ctx, OP, id.as_str(), &body).await?;
        Self::member(OP, w)
    }

    async fn segments(&self, ctx: &Context) -> Result<Vec<Segment>> {
        const OP: &str = "members.segments";
        let list = self.client.segments(ctx, OP).await?;
        decode::segments_of(OP, &list)
    }
}

#[async_trait]
impl Offers for DillerAdapter {
    async fn list(
        &self,
        ctx: &Context,
        member: Option<&MemberId>,
        _basket: Option<&Basket>,
    ) -> Result<Vec<Offer>> {
        const OP: &str = "offers.list";
        // Coupons and stamp cards belong to a member (C2, K2); there is no guest list.
        let member =
            member.ok_or_else(|| Error::unsupported(PROVIDER, OP).with_message("offers need a member"))?;
        // The basket is ignored: Diller does not evaluate offers against one.
        let coupons = self.client.member_coupons(ctx, OP, member.as_str()).await?;
        let cards = self.client.member_stamp_cards(ctx, OP, member.as_str()).await?;
        let needs_currency = coupons.iter().any(|c| c.discount_type == Some(wire::CouponDiscountType::Fixed));
        let currency = if needs_currency { self.currency(ctx, OP).await? } else { Currency::NOK };
        let octx = wire::OfferContext { time_zone: self.config.time_zone, currency };
        let mut offers = decode::coupon_offers(OP, coupons, &octx)?;
        offers.extend(decode::stamp_card_offers(OP, cards, &octx)?);
        Ok(offers)
    }

    async fn validate(&self, ctx: &Context, member: &MemberId, offer: &Offer) -> Result<Validation> {
        const OP: &str = "offers.validate";
        match target(OP, offer)? {
            OfferTarget::Coupon(code) => match self
                .client
                .validate_coupon(ctx, OP, member.as_str(), &code)
                .await
            {
                // `is_ok` is the answer (§4.3; Diller's module accepts only is_ok == true).
                Ok(r) if r.is_ok == Some(true) => Ok(Validation::valid(offer.id.clone())),
                Ok(r) => {
                    let reason = match self.expired_on(ctx, OP, &code).await? {
                        Some(expired) => expired,
                        None => r.details.unwrap_or_else(|| "the coupon cannot be used".into()),
                    };
                    Ok(Validation::invalid(offer.id.clone(), reason))
                }
                // The refusal may come as a 400 problem instead (§4.3, [I]).
                Err(e)
                    if matches!(e.kind(), ErrorKind::Rejected | ErrorKind::Conflict | ErrorKind::Expired) =>
                {
                    let reason = match self.expired_on(ctx, OP, &code).await? {
                        Some(expired) => expired,
                        None => e.message().to_string(),
                    };
                    Ok(Validation::invalid(offer.id.clone(), reason))
                }
                Err(e) => Err(e),
            },
            // No validate endpoint for stamp cards: an active card of the member is usable.
            OfferTarget::Stamp(id) => {
                let cards = self.client.member_stamp_cards(ctx, OP, member.as_str()).await?;
                Ok(if cards.iter().any(|c| c.id == Some(id)) {
                    Validation::valid(offer.id.clone())
                } else {
                    Validation::invalid(offer.id.clone(), "the stamp card is not active for this member")
                })
            }
        }
    }
}

#[async_trait]
impl Holds for DillerAdapter {
    async fn hold(&self, ctx: &Context, request: &HoldRequest) -> Result<Hold> {
        const OP: &str = "holds.hold";
        let Some(style) = self.capabilities.hold else {
            return Err(Error::unsupported(PROVIDER, OP));
        };
        let member = request.member.as_str();
        let tx = request.transaction.as_str();
        // Reservations are keyed by external_transaction_id = our transaction id (§6.2).
        let data = match target(OP, &request.offer)? {
            OfferTarget::Coupon(code) => {
                let body = wire::CouponReservationRequest {
                    channel: None,
                    external_product_id: None,
                    external_transaction_id: tx.to_string(),
                };
                // A refusal (`is_ok: false` or 400) is classified: Conflict when another
                // transaction holds it, Rejected otherwise. Reserving again under the same id
                // is a no-op (§7.3 [S]).
                self.client.reserve_coupon(ctx, OP, member, &code, &body).await?;
                serde_json::json!({ "coupon": code })
            }
            OfferTarget::Stamp(id) => {
                // Holding again (the basket changed) first drops the old reservations, so a
                // line removed from the basket keeps none (K4 releases every stamp of the card
                // reserved under the id, §4.4). Asked of Diller, not remembered here: another
                // instance, or this one before a restart, may have made the first hold. Once K4
                // is gone this drops nothing (see release_stamps).
                self.release_stamps(ctx, OP, member, id, tx).await?;
                let units = stamp_units(&request.offer, request.basket.as_ref());
                let reserve = |product: Option<String>| wire::StampReservationRequest {
                    channel: None,
                    external_product_id: product,
                    external_transaction_id: tx.to_string(),
                };
                let mut requests: Vec<Option<String>> = units
                    .iter()
                    .flat_map(|(product, n)| std::iter::repeat_n(Some(product.clone()), *n as usize))
                    .collect();
                if requests.is_empty() {
                    requests.push(None);
                }
                for product in requests {
                    if let Err(e) = self.client.reserve_stamp(ctx, OP, member, id, &reserve(product)).await {
                        // No Hold comes back, so nobody would release what was reserved: drop
                        // it now (best effort), keeping the reserve error.
                        return Err(match self.release_stamps(ctx, OP, member, id, tx).await {
                            Ok(()) => e,
                            Err(r) => {
                                let message = format!(
                                    "{}; releasing the stamps already reserved failed too: {}",
                                    e.message(),
                                    r.message()
                                );
                                e.with_message(message)
                            }
                        });
                    }
                }
                serde_json::json!({ "stamp_card": id, "units": units.iter().map(|(_, n)| n).sum::<u32>().max(1) })
            }
        };
        let ttl = chrono::Duration::seconds(i64::try_from(style.ttl_secs()).unwrap_or(i64::MAX / 1000));
        Ok(Hold::new(
            Self::hold_id(&request.transaction, &request.offer),
            request.offer.id.clone(),
            request.offer.reference.clone(),
            request.member.clone(),
            request.transaction.clone(),
            self.clock.now() + ttl,
        )
        .with_vendor_data(data))
    }

    async fn release(&self, ctx: &Context, hold: &Hold) -> Result<()> {
        const OP: &str = "holds.release";
        let tx = hold.transaction.as_str();
        // A coupon held by code or by its `coupon:<code>` id is released with C5, a stamp card
        // with K4: the same target hold() reserved.
        match hold_target(OP, hold)? {
            OfferTarget::Stamp(id) => self.release_stamps(ctx, OP, hold.member.as_str(), id, tx).await,
            OfferTarget::Coupon(code) => {
                let body = wire::CouponCancelReservationRequest { external_transaction_id: tx.to_string() };
                self.client
                    .cancel_coupon_reservation(ctx, OP, hold.member.as_str(), &code, &body)
                    .await
                    .map(|_| ())
            }
        }
    }
}

impl DillerAdapter {
    /// K4: drops every stamp of `card` reserved under `tx`. The endpoint is deprecated since
    /// 2024-02-29 ("to be removed soon") and is the only way to release stamps of an order that
    /// is never sent (a declined payment, an abandoned basket); T1 and T2 release them too
    /// (§4.4, §7.3 \[S\]). A 404 or 405 (K4 removed, or an unknown member or card) means
    /// nothing is left to release here: the reservation then lives until the sale's T1/T2
    /// (§4.4 \[I\]).
    async fn release_stamps(&self, ctx: &Context, op: &str, member: &str, card: i64, tx: &str) -> Result<()> {
        let body = wire::CouponCancelReservationRequest { external_transaction_id: tx.to_string() };
        match self.client.cancel_stamp_reservation(ctx, op, member, card, &body).await {
            Ok(_) => Ok(()),
            Err(e) if endpoint_gone(&e) => {
                tracing::debug!(
                    operation = op,
                    card,
                    "K4 unavailable; the stamp reservation stays until T1/T2"
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// A K4 answer meaning there is no reservation endpoint (or nothing it could address): 404
/// or 400 "not found" (`NotFound`), or 405.
fn endpoint_gone(e: &Error) -> bool {
    is_not_found(e) || e.vendor_code() == Some(names::CODE_METHOD_NOT_ALLOWED)
}

fn receipt(id: &TransactionId, outcome: SendOutcome, details: Option<String>) -> TransactionReceipt {
    let mut r = TransactionReceipt::new(id.clone(), outcome);
    r.provider_ref = details.filter(|d| !d.is_empty());
    r
}

fn is_duplicate(e: &Error) -> bool {
    *e.kind() == ErrorKind::Conflict && e.vendor_code() == Some(names::CODE_DUPLICATE)
}

#[async_trait]
impl Transactions for DillerAdapter {
    async fn send(&self, ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt> {
        const OP: &str = SEND_OPERATION;
        // T1 is posted under the member (§4.5): an anonymous sale has nowhere to go.
        let member = transaction
            .member
            .as_ref()
            .ok_or_else(|| invalid_here(OP, "member", "Diller records transactions of members only"))?;
        let department = self.department(ctx, transaction.department.as_ref());
        let body = wire::CreateTransactionRequest::try_from(wire::TransactionInput {
            transaction,
            department,
            origin: self.origin(ctx, department),
            time_zone: self.config.time_zone,
        })
        .map_err(|e| e.invalid(OP))?;
        match self.client.create_transaction(ctx, OP, member.as_str(), &body).await {
            Ok(r) => Ok(receipt(&transaction.id, SendOutcome::Recorded, r.details)),
            // The external_id is the store's unique id (§4.5); a second send is refused as a
            // duplicate (§7.3 [S]), which means Diller already has it: resending is safe.
            Err(e) if is_duplicate(&e) => Ok(receipt(&transaction.id, SendOutcome::AlreadyRecorded, None)),
            Err(e) => Err(e),
        }
    }

    async fn amend(&self, _ctx: &Context, _transaction: &Transaction) -> Result<TransactionReceipt> {
        // No ResendWithoutLines at Diller: there is no replace endpoint (§4.5).
        Err(Error::unsupported(PROVIDER, "transactions.amend"))
    }

    async fn cancel(&self, ctx: &Context, transaction: &Transaction, reason: Option<&str>) -> Result<()> {
        const OP: &str = "transactions.cancel";
        // T2 finds the sale by its external id alone (§4.5).
        let id = &transaction.id;
        let body = wire::CancelationReason {
            reason: reason.map(str::to_string),
            origin: self.origin(ctx, self.department(ctx, None)),
        };
        self.client.cancel_transaction(ctx, OP, id.as_str(), &body).await.map(|_| ())
    }

    async fn refund(&self, ctx: &Context, refund: &Refund) -> Result<TransactionReceipt> {
        const OP: &str = REFUND_OPERATION;
        let member = refund
            .member
            .as_ref()
            .ok_or_else(|| invalid_here(OP, "member", "Diller refunds are posted under the member"))?;
        let department = self.department(ctx, None);
        let body = wire::CreateRefundTransactionRequest::try_from(wire::RefundInput {
            refund,
            department,
            origin: self.origin(ctx, department),
            time_zone: self.config.time_zone,
        })
        .map_err(|e| e.invalid(OP))?;
        match self.client.refund_transaction(ctx, OP, member.as_str(), refund.original.as_str(), &body).await
        {
            Ok(r) => Ok(receipt(&refund.refund_id, SendOutcome::Recorded, r.details)),
            // The refund's own external_id was seen before (§7.3 [S]).
            Err(e) if is_duplicate(&e) => Ok(receipt(&refund.refund_id, SendOutcome::AlreadyRecorded, None)),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_declare_the_configured_identifier() {
        let c = declare(LookupKind::DriversLicense);
        assert!(c.supports_lookup(LookupKind::DriversLicense));
        assert!(!c.supports_lookup(LookupKind::NationalId));
        assert!(c.supports_lookup(LookupKind::Phone));
        assert_eq!(c.hold, Some(HoldStyle::Reserve { assumed_ttl_secs: 900 }));
        assert!(!c.redeem && !c.carts && !c.dropshipping);
    }
}
