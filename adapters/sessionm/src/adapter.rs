//! [`SessionmAdapter`]: the trait implementations and the one [`Capabilities`] declaration.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loyalty_core::{
    Basket, Capabilities, Carts, Clock, Context, DepartmentId, EnrollMember, Error, ErrorKind, Fulfilment,
    Hold, HoldRequest, HoldStyle, Holds, LookupKind, Member, MemberId, MemberLookup, MemberUpdate, Members,
    Offer, Offers, Provider, RedeemRequest, Redemption, Redemptions, Refund, RegisterMember, Reinstatement,
    Resend, Result, ReturnStyle, Segment, SendOutcome, SystemClock, Transaction, TransactionReceipt,
    Transactions, UsageCounting, Validation, WriteEffect,
};

use crate::client::{RandomRequestIds, RequestIds, SessionmClient};
use crate::config::SessionmConfig;
use crate::names::{self, code};
use crate::wire::convert::{
    self, lookup_type, user_offer_id, BasketInput, Header, InContext, OfferContext, RegisterInput, SaleInput,
};
use crate::wire::core::{User, UserWrite};
use crate::wire::discounting::{DiscountReply, HeldLock, OfferLookup, Release};
use crate::wire::lookup::LookupRequest;
use crate::wire::transaction::Transaction as WireTransaction;
use crate::PROVIDER;

/// Default lock lifetime: 15 minutes (§7.2 \[G\]). No call asks for another (§9 q. 2), but a
/// tenant may keep locks longer or shorter (§8.3: "any duration"), so the lifetime in use is
/// the `lock_ttl` setting ([`SessionmConfig::lock_ttl`]), which defaults to this.
pub const LOCK_TTL_SECS: u64 = 15 * 60;

/// The SessionM provider: members (POS lookup, Core profiles), the offer wallet (Connect) and
/// offers priced against a basket (POS lookup), locks, immediate redemption and reinstatement,
/// and transactions sent as upserts.
///
/// Build it with [`SessionmAdapter::new`]; hand it to callers as `&dyn Provider`.
#[derive(Debug)]
pub struct SessionmAdapter {
    config: SessionmConfig,
    client: SessionmClient,
    clock: Arc<dyn Clock>,
    capabilities: Capabilities,
}

/// What SessionM can do, declared once (sessionm.md §3, §4, §6, §7), for a tenant whose locks
/// last `lock_ttl_secs`.
fn declare(lock_ttl_secs: u64) -> Capabilities {
    let mut c = Capabilities::none();
    // POS lookup takes e-mail, phone, user id and external id, exactly one match (§3.3).
    c.lookups = vec![LookupKind::Phone, LookupKind::Email, LookupKind::ExternalId, LookupKind::ProviderId];
    // Core GET /users/{id} (§6), with Connect balances (§4.2).
    c.get_member = true;
    // Core POST /users (§6); no phone-first enrolment exists.
    c.register = true;
    c.enroll = false;
    // Core PUT /users/{id} (§6).
    c.update_member = true;
    // Custom attributes live in `user_profile`; there is no segment list to build a form from.
    c.segments = false;
    // Connect get_user_offers (§4.3) and POS lookup with a basket (§3.3).
    c.list_offers = true;
    c.offers_with_basket = true;
    // No standalone validation call: lock and redeem evaluate the offer (§3.5, §7.9).
    c.validate_offer = false;
    // The wallet belongs to a user (§4.3).
    c.guest_offers = false;
    // SessionM computes each offer's discount for the basket (§3.3, §3.5, §7.1).
    c.vendor_pricing = true;
    // A lock lapses by itself after the tenant's lifetime: 15 minutes unless set (§7.2 [G],
    // §8.3).
    c.hold = Some(HoldStyle::Lock { default_ttl_secs: lock_ttl_secs });
    // A lock keeps every other transaction off the offer at once (§7.2 [I], checklist 8).
    c.usage_counting = UsageCounting::AtHold;
    // Immediate redeem (§3.7) and reinstate (§3.8); the returns flow reinstates (§7.7).
    c.redeem = true;
    c.reinstate = vec![Reinstatement::Explicit];
    c.stamp_cards = false;
    // Users have point balances (§4.2).
    c.points = true;
    c.send_transaction = true;
    // Same transaction_id again = an update, newest modified_time wins (§7.5).
    c.resend = Resend::Upsert;
    // Points are computed by the loyalty engine after the send (§3.9, §9 q. 9).
    c.points_at_send = false;
    // A void is the sale sent again with is_voided (§7.7 [I]); sending it twice is harmless.
    c.cancel_transaction = true;
    c.second_cancel_refused = false;
    // Returns resend the original transaction_id without the returned lines (§7.7 [D]).
    c.return_styles = vec![ReturnStyle::ResendWithoutLines];
    c.carts = false;
    c.cart_upgrades = false;
    c.dropshipping = false;
    c
}

/// The error for an operation SessionM has no call for.
fn unsupported(op: &str, why: &str) -> Error {
    Error::unsupported(PROVIDER, op).with_message(why.to_string())
}

/// True for the vendor code `code` (any case).
fn has_code(e: &Error, code: &str) -> bool {
    e.vendor_code().is_some_and(|c| c.eq_ignore_ascii_case(code))
}

/// One SessionM timestamp step (seven fractional digits, §5).
fn tick() -> chrono::Duration {
    chrono::Duration::nanoseconds(100)
}

impl SessionmAdapter {
    /// An adapter for `config`, on the system clock.
    ///
    /// # Errors
    /// `Invalid` when the transport refuses the configuration.
    pub fn new(config: SessionmConfig) -> Result<SessionmAdapter> {
        SessionmAdapter::with_clock(config, Arc::new(SystemClock))
    }

    /// An adapter whose hold expiry and `modified_time` read `clock`.
    ///
    /// # Errors
    /// `Invalid` when the transport refuses the configuration.
    pub fn with_clock(config: SessionmConfig, clock: Arc<dyn Clock>) -> Result<SessionmAdapter> {
        SessionmAdapter::with_parts(config, clock, Arc::new(RandomRequestIds::default()))
    }

    /// An adapter with its own `request_id` source (deterministic ids in tests).
    ///
    /// # Errors
    /// `Invalid` when the transport refuses the configuration.
    pub fn with_parts(
        config: SessionmConfig,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn RequestIds>,
    ) -> Result<SessionmAdapter> {
        let client = SessionmClient::new(&config, ids)?;
        let capabilities = declare(config.lock_ttl.as_secs());
        Ok(SessionmAdapter { config, client, clock, capabilities })
    }

    /// The configuration.
    pub fn config(&self) -> &SessionmConfig {
        &self.config
    }

    /// Reads a member by external id through Core (`GET /external/users/{id}`, §6). Unlike
    /// [`Members::find`], which uses the POS lookup and refuses an id several users share
    /// (§3.3), Core answers one of them (§6 \[K\]).
    ///
    /// # Errors
    /// `NotFound` for an unknown id; transport errors.
    pub async fn member_by_external_id(&self, ctx: &Context, external_id: &str) -> Result<Member> {
        const OP: &str = "members.get";
        let u = self.client.get_external_user(ctx, OP, external_id).await?;
        member(OP, &u)
    }

    /// Changes a member's profile by external id through Core (`PUT /external/users/{id}`, §6).
    ///
    /// # Errors
    /// As [`Members::update`].
    pub async fn update_by_external_id(
        &self,
        ctx: &Context,
        external_id: &str,
        update: &MemberUpdate,
    ) -> Result<Member> {
        const OP: &str = "members.update";
        let body = UserWrite::try_from(update).map_err(|e| e.invalid(OP))?;
        let u = self.client.update_external_user(ctx, OP, external_id, &body).await?;
        member(OP, &u)
    }

    /// A member's points through Connect (`user_points/all_balances`, §4.2): the summary's
    /// total, else the sum of the accounts' available balances.
    ///
    /// # Errors
    /// `NotFound` for an unknown member; `Protocol` naming the account whose balance makes the
    /// sum overflow; transport errors.
    pub async fn points(&self, ctx: &Context, member: &MemberId) -> Result<Option<rust_decimal::Decimal>> {
        const OP: &str = "members.points";
        let b = self.client.all_balances(ctx, OP, member.as_str()).await?;
        convert::total_points(&b).map_err(|e| e.protocol(OP))
    }

    /// The store: the transaction's or the call's department, else the configured store.
    fn store<'a>(&'a self, ctx: &'a Context, explicit: Option<&'a DepartmentId>) -> &'a str {
        explicit.or(ctx.department.as_ref()).map(|d| d.as_str()).unwrap_or(&self.config.store_id)
    }

    /// The store a kept lock was taken at (see [`HeldLock`]), else the call's.
    fn lock_store(&self, ctx: &Context, vendor_data: Option<&serde_json::Value>) -> String {
        vendor_data
            .map(HeldLock::read)
            .and_then(|h| h.store_id)
            .unwrap_or_else(|| self.store(ctx, None).to_string())
    }

    /// Refuses, before sending, a version of a sale that goes to `store` while a lock it
    /// carries (a hold, or the one kept with an offer used) was taken at another store: a lock
    /// belongs to one store's transaction and only a sale of that store redeems it (§7.5,
    /// §8.3), so the customer would keep the discount and the offer would lapse unused.
    fn check_lock_stores(op: &str, transaction: &Transaction, store: &str) -> Result<()> {
        let kept = transaction
            .holds
            .iter()
            .enumerate()
            .map(|(i, h)| (format!("holds[{i}]"), h.vendor_data.as_ref()))
            .chain(
                transaction
                    .offers_used
                    .iter()
                    .enumerate()
                    .map(|(i, u)| (format!("offers_used[{i}]"), u.vendor_data.as_ref())),
            );
        for (field, data) in kept {
            let Some(taken) = data.map(HeldLock::read).and_then(|h| h.store_id) else { continue };
            if taken != store {
                return Err(Error::invalid(
                    PROVIDER,
                    op,
                    "department",
                    format!(
                        "the sale goes to store {store} but {field} was locked at store {taken}: SessionM \
                         redeems a lock only by a sale of the store that took it (§7.5, §8.3)"
                    ),
                )
                .with_effect(WriteEffect::NotSent));
            }
        }
        Ok(())
    }

    /// The user offer a lock taken by TTL code holds, when the lock's Discount names only the
    /// code (§5.5 \[I\]: `reference_id_type` likely mirrors the lookup type): unlock and
    /// reinstate take a `user_offer_id`, "the reference id from the prior lookup" (§3.6). A
    /// lookup of the member with the same basket and `transaction_id` at the same store lists
    /// the offers locked to that transaction (§3.3, §3.5: re-lock with the same transaction
    /// id) with their `user_offer_id`. The one locked offer, else the one whose discount is the
    /// lock's (amount and lines); `None` when that is not one offer or the lookup fails: the
    /// hold stands (its sale can still redeem it) and lapses by itself (§7.2).
    async fn locked_user_offer(
        &self,
        op: &str,
        ctx: &Context,
        request: &HoldRequest,
        discount: &serde_json::Value,
        store: &str,
    ) -> Option<String> {
        let basket = request.basket.as_ref()?;
        let lookup = LookupRequest {
            user_id: Some(request.member.as_str().to_string()),
            transaction: Some(self.basket_transaction(op, ctx, basket, request.transaction.as_str()).ok()?),
            ..LookupRequest::default()
        };
        let payload = self.client.lookup(ctx, op, store, &lookup).await.ok()?;
        if payload.user.id.as_deref() != Some(request.member.as_str()) {
            return None;
        }
        let locked: Vec<(&str, &serde_json::Value)> = payload
            .offers
            .iter()
            .filter_map(|e| {
                let d = e.discount.as_ref()?;
                let status = d.get("status").and_then(serde_json::Value::as_str)?;
                status.trim().eq_ignore_ascii_case(names::DISCOUNT_LOCKED).then_some((e.instance_id()?, d))
            })
            .collect();
        let same = |d: &serde_json::Value| {
            ["amount", "discounted_line_ids"].iter().all(|k| d.get(*k) == discount.get(*k))
        };
        match locked.as_slice() {
            [(id, _)] => Some((*id).to_string()),
            many => match many.iter().filter(|(_, d)| same(d)).collect::<Vec<_>>().as_slice() {
                [(id, _)] => Some((*id).to_string()),
                _ => None,
            },
        }
    }

    /// The store and employee a reinstate of an offer kept as `vendor_data` sends: those
    /// recorded when it was locked (the lock's store, §7.5) or redeemed, so that the request,
    /// and with it the derived `request_id`, depends on the redemption alone (§7.5, checklist
    /// 14; see [`Redemptions::reinstate`]). Data recorded before the adapter kept them (a bare
    /// Discount object, or a hold without its employee) falls back to the call's store and
    /// employee, as reinstate did then: a repeat of such a reinstate from another context is
    /// a new request.
    fn reinstate_as(&self, ctx: &Context, vendor_data: Option<&serde_json::Value>) -> (String, String) {
        let kept = vendor_data.map(HeldLock::read);
        let kept = kept.as_ref();
        let store = kept
            .and_then(|k| k.store_id.clone().or_else(|| k.redeem_store_id.clone()))
            .unwrap_or_else(|| self.store(ctx, None).to_string());
        let employee =
            kept.and_then(|k| k.employee_id.clone()).unwrap_or_else(|| self.employee(ctx).to_string());
        (store, employee)
    }

    fn employee<'a>(&'a self, ctx: &'a Context) -> &'a str {
        ctx.employee_id.as_deref().unwrap_or(&self.config.employee_id)
    }

    fn header<'a>(&'a self, ctx: &'a Context, transaction_id: &'a str) -> Header<'a> {
        Header { transaction_id, channel: &self.config.channel, employee: ctx.employee_id.as_deref() }
    }

    fn basket_transaction(
        &self,
        op: &str,
        ctx: &Context,
        basket: &Basket,
        transaction_id: &str,
    ) -> Result<WireTransaction> {
        let input =
            BasketInput { basket, header: self.header(ctx, transaction_id), currency: self.config.currency };
        WireTransaction::try_from(input).map_err(|e| e.invalid(op))
    }

    /// The lock or redeem request for `offer` (a `UserOfferId` or a `TTLCode`, §3.5, §7.1),
    /// with the `request_id` it was sent under (made once here; the transport's retries repeat
    /// it).
    async fn evaluate(
        &self,
        op: &str,
        ctx: &Context,
        offer: &Offer,
        basket: Option<&Basket>,
        transaction_id: &str,
        redeem: bool,
    ) -> Result<(DiscountReply, loyalty_core::VendorDiscount, String)> {
        // Lock and redeem evaluate the offer against the basket they are given (§3.5, §7.1).
        let basket = basket.ok_or_else(|| {
            Error::invalid(PROVIDER, op, "basket", "SessionM evaluates an offer against a basket (§3.5)")
                .with_effect(WriteEffect::NotSent)
        })?;
        let tx = self.basket_transaction(op, ctx, basket, transaction_id)?;
        let code = offer.reference.value.as_str();
        if code.trim().is_empty() {
            return Err(
                Error::invalid(PROVIDER, op, "offer.reference", "is empty").with_effect(WriteEffect::NotSent)
            );
        }
        let request = OfferLookup {
            offer_lookup_code: code,
            offer_lookup_type: lookup_type(offer.reference.kind),
            transaction: &tx,
        };
        let store = self.store(ctx, None);
        let request_id = self.client.fresh_id();
        let reply = if redeem {
            self.client.redeem(ctx, op, store, &request, request_id.clone()).await?
        } else {
            self.client.lock(ctx, op, store, &request, request_id.clone()).await?
        };
        let vd = convert::vendor_discount(&reply.discount, self.config.currency, Some(basket), "payload")
            .map_err(|e| e.protocol(op))?;
        Ok((reply, vd, request_id))
    }

    /// Sends `transaction` closed (and voided for a cancel) at `modified_time`.
    async fn send_version(
        &self,
        op: &str,
        ctx: &Context,
        transaction: &Transaction,
        modified_time: DateTime<Utc>,
        voided: bool,
    ) -> Result<Option<String>> {
        let input = SaleInput {
            transaction,
            header: self.header(ctx, transaction.id.as_str()),
            currency: self.config.currency,
            modified_time,
            voided,
        };
        let body = WireTransaction::try_from(input).map_err(|e| e.invalid(op))?;
        let store = self.store(ctx, transaction.department.as_ref());
        Self::check_lock_stores(op, transaction, store)?;
        let reply = self.client.send_transaction(ctx, op, store, &body).await?;
        Ok(reply.id.filter(|id| !id.is_empty()))
    }

    /// The `modified_time` of a later version of the sale: `steps` SessionM steps (100 ns,
    /// §5) after the sale's own time. SessionM keeps the version with the newest time and
    /// ignores an equal or older one while still answering OK (§7.5, §8.3, checklist 15), so
    /// every version must be strictly newer than the live one. The steps come from the
    /// transaction's `revision` (see the [`Transactions`] implementation), never from the
    /// clock: two returns in one instant, a clock stepped back or another instance's clock
    /// change nothing, and a retried version carries the same time.
    fn version_time(op: &str, transaction: &Transaction, steps: u64) -> Result<DateTime<Utc>> {
        let offset = i64::try_from(steps)
            .ok()
            .and_then(|n| n.checked_mul(tick().num_nanoseconds()?))
            .map(chrono::Duration::nanoseconds);
        offset.and_then(|d| transaction.at.checked_add_signed(d)).ok_or_else(|| {
            Error::invalid(PROVIDER, op, "revision", "puts the version's modified_time out of range")
                .with_effect(WriteEffect::NotSent)
        })
    }
}

fn member(op: &str, u: &User) -> Result<Member> {
    Member::try_from(u).map_err(|e| e.protocol(op))
}

impl Provider for SessionmAdapter {
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
        None
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        None
    }
}

#[async_trait]
impl Members for SessionmAdapter {
    async fn find(&self, ctx: &Context, lookup: &MemberLookup) -> Result<Option<Member>> {
        const OP: &str = "members.find";
        let mut request = LookupRequest::default();
        let blank = |field: &str| {
            Error::invalid(PROVIDER, OP, field, "must not be empty").with_effect(WriteEffect::NotSent)
        };
        match lookup {
            MemberLookup::Phone(p) => {
                if !p.is_well_formed() {
                    return Err(Error::invalid(PROVIDER, OP, "phone", "expected +country code and digits")
                        .with_effect(WriteEffect::NotSent));
                }
                // Digits only, country code included (§3.3).
                request.phone = Some(convert::phone_digits(p));
            }
            MemberLookup::Email(e) if !e.trim().is_empty() => request.email = Some(e.trim().to_string()),
            MemberLookup::ExternalId(x) if !x.trim().is_empty() => {
                request.external_customer_id = Some(x.clone())
            }
            MemberLookup::ProviderId(id) if !id.as_str().trim().is_empty() => {
                request.user_id = Some(id.as_str().to_string())
            }
            MemberLookup::Email(_) => return Err(blank("email")),
            MemberLookup::ExternalId(_) => return Err(blank("external_id")),
            MemberLookup::ProviderId(_) => return Err(blank("provider_id")),
            MemberLookup::NationalId(_)
            | MemberLookup::DriversLicense(_)
            | MemberLookup::ActivationToken(_) => {
                return Err(unsupported(
                    OP,
                    "SessionM looks members up by e-mail, phone, user id or external id (§3.3)",
                ))
            }
        }
        match self.client.lookup(ctx, OP, self.store(ctx, None), &request).await {
            Ok(p) => member(OP, &p.user).map(Some),
            // Only SessionM's own "no user matches" is no match (§3.3 [I]: Core's
            // `user_not_found`, any case). Any other not-found (a bare 404, an unknown route
            // behind a wrong base path) says nothing about the member: it stays an error, so a
            // checkout never goes on as a guest and signs the customer up a second time.
            Err(e) if has_code(&e, code::USER_NOT_FOUND) => Ok(None),
            // Several matches stay an error (checklist 4): the caller tries another identifier.
            Err(e) => Err(e),
        }
    }

    async fn get(&self, ctx: &Context, id: &MemberId) -> Result<Member> {
        const OP: &str = "members.get";
        let (user, balances) = tokio::join!(
            self.client.get_user(ctx, OP, id.as_str()),
            self.client.all_balances(ctx, OP, id.as_str())
        );
        let mut m = member(OP, &user?)?;
        match balances {
            Ok(b) => m.points = convert::total_points(&b).map_err(|e| e.protocol(OP))?.or(m.points),
            // Core knows the user; a balance service that does not know them (its
            // `user_not_found`) is no reason to fail. Any other not-found (a bare 404, a wrong
            // Connect base path) is an error like any other.
            Err(e) if has_code(&e, code::USER_NOT_FOUND) => {}
            Err(e) => return Err(e),
        }
        Ok(m)
    }

    async fn register(&self, ctx: &Context, request: &RegisterMember) -> Result<Member> {
        const OP: &str = "members.register";
        let input = RegisterInput { request, external_id_type: self.config.external_id_type.as_deref() };
        let body = UserWrite::try_from(input).map_err(|e| e.invalid(OP))?;
        let u = self.client.create_user(ctx, OP, &body).await?;
        member(OP, &u)
    }

    async fn enroll(&self, _ctx: &Context, _request: &EnrollMember) -> Result<Member> {
        Err(unsupported("members.enroll", "SessionM has no phone-first enrolment"))
    }

    async fn update(&self, ctx: &Context, id: &MemberId, update: &MemberUpdate) -> Result<Member> {
        const OP: &str = "members.update";
        let body = UserWrite::try_from(update).map_err(|e| e.invalid(OP))?;
        let u = self.client.update_user(ctx, OP, id.as_str(), &body).await?;
        member(OP, &u)
    }

    async fn segments(&self, _ctx: &Context) -> Result<Vec<Segment>> {
        Err(unsupported("members.segments", "SessionM keeps custom attributes, not segments"))
    }
}

#[async_trait]
impl Offers for SessionmAdapter {
    async fn list(
        &self,
        ctx: &Context,
        member: Option<&MemberId>,
        basket: Option<&Basket>,
    ) -> Result<Vec<Offer>> {
        const OP: &str = "offers.list";
        let member = member.ok_or_else(|| unsupported(OP, "SessionM's wallet belongs to a user (§4.3)"))?;
        let oc = OfferContext { currency: self.config.currency, zone: self.config.time_zone, basket };
        let entries = match basket {
            // A known user's wallet without the heavy lookup (§3.4, §4.3).
            None => self.client.user_offers(ctx, OP, member.as_str()).await?,
            Some(b) => {
                // The basket travels as a transaction; the order's own id lets the lookup show
                // the offers locked to it (§3.5: re-lock with the same transaction id).
                let fresh;
                let tx_id = match ctx.idempotency_key.as_deref() {
                    Some(k) => k,
                    None => {
                        fresh = format!("lookup-{}", self.client.fresh_id());
                        &fresh
                    }
                };
                let request = LookupRequest {
                    user_id: Some(member.as_str().to_string()),
                    transaction: Some(self.basket_transaction(OP, ctx, b, tx_id)?),
                    ..LookupRequest::default()
                };
                let payload = self.client.lookup(ctx, OP, self.store(ctx, None), &request).await?;
                if payload.user.id.as_deref() != Some(member.as_str()) {
                    return Err(Error::new(ErrorKind::Protocol, PROVIDER, OP)
                        .with_message(format!("the lookup of user {member} answered another user")));
                }
                payload.offers
            }
        };
        let field = if basket.is_some() { "offers" } else { "user_offers" };
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                Offer::try_from(InContext(e, &oc))
                    .map_err(|x| x.within(&format!("{field}[{i}]")).protocol(OP))
            })
            .collect()
    }

    async fn validate(&self, _ctx: &Context, _member: &MemberId, _offer: &Offer) -> Result<Validation> {
        Err(unsupported(
            "offers.validate",
            "SessionM has no validation call; lock evaluates the offer (§3.5)",
        ))
    }
}

#[async_trait]
impl Holds for SessionmAdapter {
    async fn hold(&self, ctx: &Context, request: &HoldRequest) -> Result<Hold> {
        const OP: &str = "holds.hold";
        // Taken before the call, so our expiry is never later than SessionM's own (§7.2).
        let started = self.clock.now();
        // SessionM's lock lasts the tenant's lifetime whatever the caller asks (§7.2: no way
        // to request another; `lock_ttl`, 15 minutes unless set); a shorter local expiry would
        // make `release` skip the unlock while SessionM still blocks the offer for other orders.
        let expires_at = i64::try_from(self.config.lock_ttl.as_secs())
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .and_then(|ttl| started.checked_add_signed(ttl))
            .ok_or_else(|| {
                Error::invalid(PROVIDER, OP, "lock_ttl", "puts the lock's expiry out of range")
                    .with_effect(WriteEffect::NotSent)
            })?;
        let tx = request.transaction.as_str();
        // Holding again for the same transaction re-locks and recomputes (§3.5, checklist 9).
        let (reply, discount, _) =
            self.evaluate(OP, ctx, &request.offer, request.basket.as_ref(), tx, false).await?;
        let store = self.store(ctx, None).to_string();
        let user_offer = match user_offer_id(Some(&reply.raw), &request.offer.reference) {
            Some(id) => Some(id),
            None => self.locked_user_offer(OP, ctx, request, &reply.raw, &store).await,
        };
        let instance = user_offer.clone().unwrap_or_else(|| request.offer.reference.value.clone());
        // The exact Discount object goes back with the sale (§3.5); the store and user offer
        // are where and what unlock releases (§3.6) and where the sale must go (§7.5).
        // The employee is what a reinstate of this offer after its sale sends (see
        // `reinstate_as`).
        let kept = HeldLock {
            store_id: Some(store),
            user_offer_id: user_offer,
            employee_id: Some(self.employee(ctx).to_string()),
            ..HeldLock::bare(reply.raw)
        };
        Ok(Hold::new(
            format!("{tx}/{instance}"),
            request.offer.id.clone(),
            request.offer.reference.clone(),
            request.member.clone(),
            request.transaction.clone(),
            expires_at,
        )
        .with_vendor_data(kept.to_value())
        .with_vendor_discount(discount))
    }

    /// Unlocks the offer (§3.6) at the store that locked it.
    ///
    /// Idempotent, as [`Holds::release`] requires: a hold that lapsed is not unlocked (it is
    /// released already, §7.2, and unlocking names no transaction, so it could free another
    /// order's lock), and SessionM's "not locked" answer (§7.3 \[S\]: an offer unlocked already,
    /// or consumed by its sale) means nothing is held, so it is success. The checkout releases
    /// its holds on every abort, lapsed or not. Other refusals stay errors.
    async fn release(&self, ctx: &Context, hold: &Hold) -> Result<()> {
        const OP: &str = "holds.release";
        // A lapsed lock is released already (§7.2). Unlocking names no transaction (§3.6), so
        // unlocking now could free another order's lock on the same offer.
        if hold.is_expired_at(self.clock.now()) {
            return Ok(());
        }
        let id = user_offer_id(hold.vendor_data.as_ref(), &hold.offer_ref).ok_or_else(|| {
            Error::invalid(PROVIDER, OP, "hold.offer_ref", "unlock needs a user_offer_id (§3.6)")
                .with_effect(WriteEffect::NotSent)
        })?;
        let release = Release { user_offer_id: &id, employee_id: self.employee(ctx) };
        let store = self.lock_store(ctx, hold.vendor_data.as_ref());
        match self.client.unlock(ctx, OP, &store, &release).await {
            Ok(()) => Ok(()),
            // Released already, or consumed by the sale: nothing is held (idempotent release).
            Err(e) if has_code(&e, code::OFFER_NOT_LOCKED) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Redemptions for SessionmAdapter {
    /// Uses the offer now (§3.7).
    ///
    /// The redemption's id is the transaction, the user offer and this redeem's `request_id`
    /// (`{transaction}/{user_offer_id}/{request_id}`): one id per use, so a reinstate gives back
    /// this use and no other (see [`Redemptions::reinstate`] below).
    async fn redeem(&self, ctx: &Context, request: &RedeemRequest) -> Result<Redemption> {
        const OP: &str = "redemptions.redeem";
        let fresh;
        let tx = match (&request.transaction, ctx.idempotency_key.as_deref()) {
            (Some(t), _) => t.as_str(),
            (None, Some(k)) => k,
            (None, None) => {
                fresh = format!("redeem-{}", self.client.fresh_id());
                &fresh
            }
        };
        let (reply, discount, request_id) =
            self.evaluate(OP, ctx, &request.offer, request.basket.as_ref(), tx, true).await?;
        let instance = user_offer_id(Some(&reply.raw), &request.offer.reference)
            .unwrap_or_else(|| request.offer.reference.value.clone());
        // One id per use (§3.7: reinstate and re-apply redeems the same offer again in the same
        // transaction): the redeem's own request_id, the same on a transport retry of that
        // redeem, tells the uses apart, so each one's reinstate is a request of its own.
        // The Discount object goes back with the sale (§3.7); the store and employee are what
        // this use's reinstate sends, whoever runs it (see `reinstate_as`).
        let kept = HeldLock {
            employee_id: Some(self.employee(ctx).to_string()),
            redeem_store_id: Some(self.store(ctx, None).to_string()),
            ..HeldLock::bare(reply.raw)
        };
        Ok(Redemption::new(
            format!("{tx}/{instance}/{request_id}"),
            request.offer.id.clone(),
            request.offer.reference.clone(),
            request.member.clone(),
            self.clock.now(),
        )
        .with_vendor_data(kept.to_value())
        .with_vendor_discount(discount))
    }

    /// Gives the offer back (§3.8).
    ///
    /// Reinstating the same redemption again gives one use back, not two, and succeeds: the
    /// call repeats the first one's request exactly, the same `request_id` (derived from the
    /// redemption's id and user offer, and the request) and the same body, which SessionM
    /// answers from its stored response without acting again (§7.5 \[D\], checklist 14; the
    /// simulator keeps them 24 hours by default, §8.3). So the request depends on the
    /// redemption only: it sends the store and employee recorded when the offer was redeemed
    /// (or locked), not the call's, and a retried return run by another cashier, by a worker
    /// whose context names no employee, or under another department repeats the first request
    /// rather than giving back a later use of the offer. Another redemption of the same offer
    /// in the same transaction (reinstate and re-apply, §3.7) has another id (a redemption's id
    /// ends with its redeem's `request_id`), so its reinstate is a new request that gives that
    /// use back.
    ///
    /// # Errors
    /// `Conflict` with SessionM's code kept (`offer_not_redeemed` in the simulator) when the
    /// offer is not redeemed: never redeemed, or given back already by another reinstate or by
    /// a void of its sale (§7.4 \[S\], checklist 13). `NotFound` for an unknown user offer;
    /// `Invalid` with effect `NotSent` when the redemption names no user offer.
    async fn reinstate(&self, ctx: &Context, redemption: &Redemption) -> Result<()> {
        const OP: &str = "redemptions.reinstate";
        let id = user_offer_id(redemption.vendor_data.as_ref(), &redemption.offer_ref).ok_or_else(|| {
            Error::invalid(PROVIDER, OP, "redemption.offer_ref", "reinstate needs a user_offer_id (§3.8)")
                .with_effect(WriteEffect::NotSent)
        })?;
        let (store, employee) = self.reinstate_as(ctx, redemption.vendor_data.as_ref());
        let release = Release { user_offer_id: &id, employee_id: &employee };
        // What names this one redemption: a later redemption of the same user offer, even in
        // the same transaction, has another id (see `redeem`), so it is another reinstate.
        // Not its time: a retried return builds the redemption again with a new one.
        let key = format!("{}\u{0}{id}", redemption.id);
        self.client.reinstate(ctx, OP, &store, &release, &key).await
    }
}

/// Steps after the sale's time of an amend of `revision` (≥ 1): two per revision.
fn amend_steps(revision: u32) -> u64 {
    2 * u64::from(revision)
}

/// Steps after the sale's time of a void of `revision`: one after an amend of the same
/// revision.
fn void_steps(revision: u32) -> u64 {
    2 * u64::from(revision) + 1
}

fn receipt(transaction: &Transaction, outcome: SendOutcome, reference: Option<String>) -> TransactionReceipt {
    let mut r = TransactionReceipt::new(transaction.id.clone(), outcome);
    r.provider_ref = reference;
    r
}

/// Sales, returns and voids as versions of one SessionM transaction (§7.5, §7.7).
///
/// SessionM keeps one copy per `transaction_id` and replaces it only with a version whose
/// `modified_time` is newer; an equal or older one is ignored and still answered OK (§7.5,
/// §8.3, checklist 15). Nothing in the reply tells the two apart, so the adapter orders the
/// versions itself from [`Transaction::revision`] (the number of versions of the id sent
/// before this one) and refuses, before sending, what it cannot order:
///
/// | Call | `revision` | `modified_time` |
/// | --- | --- | --- |
/// | `send` | any | the transaction's own `at` (a resend of the same sale is the same version) |
/// | `amend` | `r` ≥ 1 | `at` + 2r steps of 100 ns |
/// | `amend` | 0 | refused: `Invalid { field: "revision" }`, effect `NotSent` |
/// | `cancel` | `r` ≥ 0 | `at` + 2r + 1 steps (0: the void of the sale itself) |
///
/// An amend is never the sale (revision 0 is the sale), and an amend counted as 0 would carry
/// the same time as every other uncounted amend: the second would be dropped while reported
/// `Replaced`. So `amend` needs the count, as the core returns flow gives it (the live
/// version's revision plus one). A void lies one step after an amend of its revision, so it
/// replaces the live version whether the caller passes the version it sent last (revision `r`:
/// "the transaction is the one sent") or the void counted as the next version (`r + 1`, as the
/// returns flow does). What the adapter cannot see is a revision lower than the live one (a
/// cancel of the sale, revision 0, after an amend): SessionM would ignore it, so pass the
/// version sent last.
#[async_trait]
impl Transactions for SessionmAdapter {
    async fn send(&self, ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt> {
        const OP: &str = "transactions.send";
        // The sale's own time orders its versions (§7.5): a resend of the same sale carries the
        // same time and leaves SessionM's copy as it is, so a resend after a lost reply has one
        // effect. The reply is the same whether SessionM had the id or not (§3.9).
        let reference = self.send_version(OP, ctx, transaction, transaction.at, false).await?;
        Ok(receipt(transaction, SendOutcome::Stored, reference))
    }

    /// Resends the sale as version `transaction.revision` (see above).
    ///
    /// # Errors
    /// `Invalid { field: "revision" }` with effect `NotSent` for revision 0: an amend must say
    /// which version it is, or SessionM may silently keep the one before. Otherwise as
    /// [`Transactions::send`].
    async fn amend(&self, ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt> {
        const OP: &str = "transactions.amend";
        if transaction.revision == 0 {
            return Err(Error::invalid(
                PROVIDER,
                OP,
                "revision",
                "an amend must count the versions sent before it (1 for the first amend of a sale): \
                 SessionM ignores a version that is not newer than the one it has (§7.5)",
            )
            .with_effect(WriteEffect::NotSent));
        }
        // A return resends the original id with the returned lines removed and a newer
        // modified_time (§7.7 [D]); the offers it no longer uses are reinstated by the caller.
        let at = Self::version_time(OP, transaction, amend_steps(transaction.revision))?;
        let reference = self.send_version(OP, ctx, transaction, at, false).await?;
        Ok(receipt(transaction, SendOutcome::Replaced, reference))
    }

    /// Resends the sale voided, one step after an amend of `transaction.revision` (see above).
    async fn cancel(&self, ctx: &Context, transaction: &Transaction, _reason: Option<&str>) -> Result<()> {
        const OP: &str = "transactions.cancel";
        // No cancel call exists: the sale is sent again voided (§7.7 [I]) as its next version.
        // A second void of the same version carries the same time and changes nothing.
        let at = Self::version_time(OP, transaction, void_steps(transaction.revision))?;
        self.send_version(OP, ctx, transaction, at, true).await.map(|_| ())
    }

    async fn refund(&self, _ctx: &Context, _refund: &Refund) -> Result<TransactionReceipt> {
        Err(unsupported(
            "transactions.refund",
            "SessionM takes no negative lines; returns resend the sale without them (§7.7)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_is_a_fifteen_minute_lock_with_upserts_and_explicit_reinstatement() {
        let c = declare(LOCK_TTL_SECS);
        assert_eq!(c.hold, Some(HoldStyle::Lock { default_ttl_secs: 900 }));
        assert_eq!(declare(60).hold, Some(HoldStyle::Lock { default_ttl_secs: 60 }));
        assert_eq!(c.resend, Resend::Upsert);
        assert_eq!(c.reinstate, vec![Reinstatement::Explicit]);
        assert_eq!(c.return_styles, vec![ReturnStyle::ResendWithoutLines]);
        assert!(c.vendor_pricing && c.offers_with_basket && c.redeem && !c.points_at_send);
        assert!(!c.enroll && !c.segments && !c.validate_offer && !c.guest_offers && !c.stamp_cards);
    }
}
