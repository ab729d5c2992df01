//! [`IdosellAdapter`]: the trait implementations and the one [`Capabilities`] declaration.
//!
//! IdoSell's CustomerAPI lets a retail shop order from a wholesaler (dropshipping) with what a
//! logged-in shop customer may do (§1). Mapped as:
//!
//! - **`Fulfilment`**: stock (G2), couriers (G5 all, G6 for a basket and destination), orders
//!   (G3 basket import then G4 placement, found again by the shop's reference through G7),
//!   status (G7), the recipient (G8/G9), shipment notices (§7.2).
//! - **`Transactions`**: `send` places the transaction's lines as a dropship order (G3 + G4)
//!   under the transaction id as the shop's reference, to the recipient address that is the
//!   transaction's member, with the configured courier and invoice data. A second send of the
//!   same id places nothing (G4 recognises the reference, or, when G3 or G4 refuses the repeat
//!   first, G7 finds the earlier order under it) and reports `AlreadyRecorded`.
//! - **`Members`**: the recipient addresses the wholesaler keeps for the shop (G8/G9): the
//!   address id is the member id; read by id, and names, e-mail and address changed.
//!
//! Not offered, because the CustomerAPI has no such gateway: registration (addresses come only
//! with orders), member search by phone or e-mail, offers, coupons, holds, redemptions, points,
//! cancelling or refunding an order (a customer cannot change order statuses, §1), carts.

use std::sync::Arc;

use async_trait::async_trait;
use loyalty_core::locks::{InProcessLocks, SharedLocks};
use loyalty_core::{
    Capabilities, Carts, Clock, Context, Courier, CourierQuery, DropshipOrder, EnrollMember, Error,
    ErrorKind, Fulfilment, Holds, LookupKind, Member, MemberId, MemberLookup, MemberUpdate, Members, OrderId,
    OrderLine, OrderStatus, PlacedOrder, Provider, PushedRequest, Recipient, Redemptions, Refund,
    RegisterMember, Resend, Result, Segment, SendOutcome, ShipmentNotice, StockLevel, SystemClock,
    Transaction, TransactionReceipt, Transactions, WriteEffect,
};
use rust_decimal::Decimal;

use crate::basket::Section;
use crate::client::IdosellClient;
use crate::config::IdosellConfig;
use crate::names::FaultClass;
use crate::webhook::NoticeParser;
use crate::wire::{self, convert, convert::Refused};
use crate::PROVIDER;

/// The IdoSell provider: dropship fulfilment, orders as transactions, recipient addresses as
/// members, over the CustomerAPI-ICDF SOAP gates of one wholesaler.
///
/// Build it with [`IdosellAdapter::new`]; hand it to callers as `&dyn Provider`.
#[derive(Debug)]
pub struct IdosellAdapter {
    config: IdosellConfig,
    client: IdosellClient,
    notices: NoticeParser,
    capabilities: Capabilities,
}

/// What IdoSell's CustomerAPI can do with `config`, declared once (§1, §5).
fn declare(config: &IdosellConfig) -> Capabilities {
    let mut c = Capabilities::none();
    // G8 reads an address by its id; there is no search by phone or e-mail (§5 G8).
    c.lookups = vec![LookupKind::ProviderId];
    c.get_member = true;
    // G9 changes an address (§5 G9); addresses are created only by orders (G4).
    c.update_member = true;
    c.register = false;
    c.enroll = false;
    c.segments = false;
    // No offers, coupons, holds or points anywhere in the CustomerAPI.
    c.list_offers = false;
    c.validate_offer = false;
    c.hold = None;
    c.redeem = false;
    c.points = false;
    c.stamp_cards = false;
    // An order is the transaction: G3 + G4 under the transaction id (§5 G4). It needs the
    // courier and the invoice data: without them every sale would be refused after the
    // customer paid, so a configuration lacking them declares no sends at all.
    c.send_transaction = config.default_courier_id.is_some() && config.billing.is_some();
    // The member is the order's recipient address: a guest sale cannot be placed.
    c.send_needs_member = c.send_transaction;
    // G4 answers the earlier order for a known shop reference, flagged duplicate (§5 G4 [S]).
    c.resend = Resend::Deduplicated;
    // A customer cannot cancel or change an order's status through the CustomerAPI (§1).
    c.cancel_transaction = false;
    c.return_styles = Vec::new();
    c.carts = false;
    c.dropshipping = true;
    c
}

impl IdosellAdapter {
    /// An adapter for `config`, on the system clock.
    ///
    /// # Errors
    /// `Invalid` when the transport refuses the configuration.
    pub fn new(config: IdosellConfig) -> Result<IdosellAdapter> {
        IdosellAdapter::with_clock(config, Arc::new(SystemClock))
    }

    /// An adapter whose daily key and session lifetimes read `clock`.
    ///
    /// # Errors
    /// `Invalid` when the transport refuses the configuration.
    pub fn with_clock(config: IdosellConfig, clock: Arc<dyn Clock>) -> Result<IdosellAdapter> {
        let client = IdosellClient::new(&config, clock, InProcessLocks::process())?;
        let notices = NoticeParser::new(
            config.dropshipping_key.clone(),
            config.webhook_signature,
            config.webhook_max_bytes,
            config.names.clone(),
            config.key_time_zone,
        );
        let capabilities = declare(&config);
        Ok(IdosellAdapter { config, client, notices, capabilities })
    }

    /// Leases the wholesaler's basket through `locks` instead of the process's own leases
    /// ([`InProcessLocks::process`], the default).
    ///
    /// The wholesaler keeps one basket per customer account (§5 G3, G4), so every shop
    /// instance ordering on the same account must take turns: give each the same lease source,
    /// the shared checkout store's ([`loyalty_core::locks::SharedLocks`] of `loyalty-store`'s
    /// SQLite or PostgreSQL store; `loyalty-config` does this for a `loyalty.toml`).
    pub fn with_shared_locks(mut self, locks: Arc<dyn SharedLocks>) -> IdosellAdapter {
        self.client.basket_mut().set_locks(locks);
        self
    }

    /// How long an order waits for the basket while another order holds it (default: one
    /// lease, [`IdosellAdapter::basket_lease`], by which time a holder that died has lapsed);
    /// never past the context's deadline. Past it the order fails `Unavailable` (temporary,
    /// effect `NotSent`).
    pub fn with_basket_wait(mut self, wait: std::time::Duration) -> IdosellAdapter {
        self.client.basket_mut().set_wait(wait);
        self
    }

    /// The name of the account's basket lease (the wholesaler's host and the login; no secret).
    pub fn basket_lease_name(&self) -> &str {
        self.client.basket().name()
    }

    /// How long a basket lease runs before it must be renewed: two calls' bound (the
    /// transport's `max_elapsed`, 30 s) plus [`crate::basket::LEASE_MARGIN`].
    pub fn basket_lease(&self) -> std::time::Duration {
        self.client.basket().lease()
    }

    /// The configuration.
    pub fn config(&self) -> &IdosellConfig {
        &self.config
    }

    /// The shipment notice parser (for a receiver outside the adapter).
    pub fn notice_parser(&self) -> &NoticeParser {
        &self.notices
    }

    /// `Authenticate` calls made so far (one per session; the transport renews ~12 minutes in).
    pub fn sessions_opened(&self) -> u64 {
        self.client.sessions_opened()
    }

    /// The polling fallback of shipment notices (§7.2): the status of several orders in one G7
    /// call. Orders the wholesaler does not know are left out.
    ///
    /// # Errors
    /// As [`Fulfilment::order_status`], `NotFound` aside.
    pub async fn poll_orders(&self, ctx: &Context, orders: &[OrderId]) -> Result<Vec<OrderStatus>> {
        const OP: &str = "fulfilment.poll_orders";
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let filter = wire::OrderFilter::Ids(orders.iter().map(|o| o.as_str().to_string()).collect());
        let (names, zone) = (&self.config.names, self.config.key_time_zone);
        self.client.get_order_status_with(ctx, OP, &filter, |o| convert::order_status(&o, names, zone)).await
    }

    fn statuses(&self, op: &str, orders: &[wire::Order]) -> Result<Vec<OrderStatus>> {
        orders
            .iter()
            .map(|o| {
                convert::order_status(o, &self.config.names, self.config.key_time_zone)
                    .map_err(|e| e.protocol(op))
            })
            .collect()
    }

    async fn address(
        &self,
        ctx: &Context,
        op: &str,
        filter: wire::AddressFilter,
    ) -> Result<Option<wire::AddressRecord>> {
        let page = self.client.get_client_addresses(ctx, op, &filter, 0, 1).await?;
        Ok(page.addresses.into_iter().next())
    }

    /// The address id a member id names; `None` when it cannot be one (not a number).
    fn address_id(id: &MemberId) -> Option<i64> {
        id.as_str().trim().parse::<i64>().ok().filter(|i| *i >= 0)
    }

    /// G3 then G4 holding the account's basket (the in-process mutex and the shared lease,
    /// renewed before each G3 and G4, for the whole call, the lookup and one more try
    /// included); after a reply that may have been lost (effect
    /// `Unknown`), G7 by the shop's reference before anything is sent again (§3.5, checklist
    /// 19); after a refusal, G7 for an earlier order under the reference (checklist 16).
    ///
    /// `recipient` replaces the order's recipient with an address record's own fields (a sale
    /// ships to an address the wholesaler keeps: its given and family names are sent as kept).
    async fn place(
        &self,
        ctx: &Context,
        op: &str,
        order: &DropshipOrder,
        recipient: Option<wire::addresses::AddressFields>,
    ) -> Result<PlacedOrder> {
        let lines = convert::icdf_lines(&order.lines, self.config.code_type).map_err(|r| r.invalid(op))?;
        let mut request = self.order_request(op, order)?;
        if let Some(r) = recipient {
            request.recipient = r;
        }
        // Text XML 1.0 cannot carry is refused before G3 replaces the basket, not by G4 after.
        wire::products::products_params(&lines).map_err(|r| r.invalid(op))?;
        request.params(&self.config.names).map_err(|r| r.invalid(op))?;
        let section = self.client.basket().enter(ctx, op).await?;
        let result = self.place_holding(ctx, op, &lines, &request, &section).await;
        section.release().await;
        result
    }

    /// [`IdosellAdapter::place`] once the basket is held.
    async fn place_holding(
        &self,
        ctx: &Context,
        op: &str,
        lines: &[wire::IcdfLine],
        request: &wire::PlaceOrderRequest,
        section: &Section<'_>,
    ) -> Result<PlacedOrder> {
        match self.import_and_place(ctx, op, lines, request, section).await {
            Ok(placed) => Ok(placed),
            Err(e) if e.effect() == WriteEffect::Unknown => {
                // The reference exactly as G4 carried it, so G7 looks up what was sent.
                tracing::warn!(reference = %request.reference, cause = %e, "placeOrder outcome unknown; looking the reference up");
                let found = match self.find(ctx, op, &request.reference).await {
                    Ok(found) => found,
                    // The lookup's own effect (a deadline passed before it was sent, a 429, a
                    // failed re-login: not sent, refused before acting) says nothing about G4,
                    // which may have placed the order: the outcome stays unknown.
                    Err(lookup) => return Err(unknown_after_failed_lookup(e, &request.reference, &lookup)),
                };
                if let Some(found) = found {
                    return Ok(PlacedOrder::new(OrderId::new(found.id)));
                }
                // Not found: one more try, as §3.5 asks (look up first, never replay blindly). A
                // placement still being processed when G7 answered would be recognised by its
                // reference only where the wholesaler rejects a duplicate reference (the
                // simulator does, §5 G4 [S]; unconfirmed live).
                self.import_and_place(ctx, op, lines, request, section).await
            }
            Err(e) => Err(e),
        }
    }

    async fn import_and_place(
        &self,
        ctx: &Context,
        op: &str,
        lines: &[wire::IcdfLine],
        request: &wire::PlaceOrderRequest,
        section: &Section<'_>,
    ) -> Result<PlacedOrder> {
        section.confirm(op, "basketImport (G3)").await?;
        let imported = self.client.basket_import(ctx, op, lines).await?;
        // G3 leaves refused lines out of the basket with their own fault (§6.1): placing the
        // rest would ship a different order, so nothing is placed.
        if let Some((i, r)) = imported.lines.iter().enumerate().find(|(_, r)| r.fault_code != 0) {
            let faults = &self.config.names.faults;
            let err = match faults.class(r.fault_code) {
                // "Nothing found" for a line (§6.2): an empty result for it, so the line is not
                // in the basket, which refuses the order like an unknown product would.
                FaultClass::Empty => Error::new(ErrorKind::Rejected, PROVIDER, op)
                    .with_vendor_code(r.fault_code.to_string())
                    .with_message(format!(
                        "faultCode {}: nothing found for the line: {}",
                        r.fault_code,
                        crate::error::fault_text(&r.fault_string)
                    )),
                _ => crate::error::fault_error(faults, PROVIDER, op, r.fault_code, &r.fault_string),
            };
            let msg = format!("lines[{i}]: {}", err.message());
            let refusal = match err.kind() {
                ErrorKind::Invalid { reason, .. } => {
                    Error::invalid(PROVIDER, op, format!("lines[{i}]"), reason.clone())
                        .with_vendor_code(r.fault_code.to_string())
                }
                _ => err.with_message(msg),
            };
            // The same reference placed before: its order took the stock G3 now finds short (or
            // a product was withdrawn since), yet placing it again must answer that order
            // (checklist 16), which G4 would have done had it been reached.
            return self.earlier_or(ctx, op, &request.reference, refusal).await;
        }
        // G3 may append to the basket instead of replacing it (§5 G3, an open question): a
        // basket holding more lines than were sent (left from a placement that never happened)
        // would order more than asked, so nothing is placed.
        if let Some(n) = imported.basket_lines {
            if usize::try_from(n).ok() != Some(lines.len()) {
                return Err(Error::new(ErrorKind::Protocol, PROVIDER, op)
                    .with_effect(WriteEffect::NotSent)
                    .with_message(format!(
                        "results.{}: the basket holds {n} lines after importing {}, so the import did not \
                         replace it; no order was placed",
                        crate::names::el::BASKET_LINES,
                        lines.len()
                    )));
            }
        }
        // The basket holds these lines only while the lease stayed this section's: a lease
        // that lapsed and was taken over may have let another instance replace it.
        section.confirm(op, "placeOrder (G4)").await?;
        let placed = match self.client.place_order(ctx, op, request).await {
            Ok(placed) => placed,
            // A wholesaler that checks the order before the reference (or refuses a known
            // reference, the simulator's `reject` alternative of §9.4) refuses a repeat it
            // should have answered as a duplicate: the earlier order is looked up as after G3.
            Err(e) if refused_by_wholesaler(&e) => {
                return self.earlier_or(ctx, op, &request.reference, e).await;
            }
            Err(e) => return Err(e),
        };
        convert::placed(&placed, self.config.currency).map_err(|e| e.protocol(op))
    }

    /// After the wholesaler refused a placement before acting (G3 refused a line, G4 refused
    /// the order): the order placed earlier under the same `reference`, answered as G4 answers
    /// a duplicate (flagged `duplicate`, nothing placed); `refusal` when there is none.
    ///
    /// When G7 fails, whether an earlier order holds the reference is unknown, and `refusal`
    /// might be wrong for a repeat: the lookup's error is returned (its kind, temporariness and
    /// retry delay, so a caller tries again), with effect `NotSent` since this call placed
    /// nothing, and both causes in its message.
    async fn earlier_or(
        &self,
        ctx: &Context,
        op: &str,
        reference: &str,
        refusal: Error,
    ) -> Result<PlacedOrder> {
        match self.find(ctx, op, reference).await {
            Ok(Some(mut earlier)) => {
                tracing::info!(reference = %reference, order = %earlier.id, refused = %refusal, "placement refused for a reference placed before; answering that order");
                earlier.duplicate = Some(true);
                convert::placed(&earlier, self.config.currency).map_err(|e| e.protocol(op))
            }
            Ok(None) => Err(refusal),
            Err(lookup) => {
                let message = format!(
                    "{}; whether an order placed earlier holds reference {reference:?} is unknown: {}",
                    summary(&refusal),
                    lookup.message()
                );
                Err(lookup.with_effect(WriteEffect::NotSent).with_message(message))
            }
        }
    }

    fn order_request(&self, op: &str, order: &DropshipOrder) -> Result<wire::PlaceOrderRequest> {
        let reference = shop_reference(&order.reference);
        if reference.is_empty() {
            return Err(Refused::new("reference", "the shop's reference is the idempotency key").invalid(op));
        }
        if order.courier_id.trim().is_empty() {
            return Err(Refused::new("courier_id", "required").invalid(op));
        }
        let recipient =
            wire::addresses::AddressFields::try_from(&order.recipient).map_err(|r| r.invalid(op))?;
        let billing = order.billing.as_ref().or(self.config.billing.as_ref()).ok_or_else(|| {
            Refused::new("billing", "no invoice data on the order or in the configuration").invalid(op)
        })?;
        let billing = wire::orders::BillingFields::try_from(billing).map_err(|r| r.invalid(op))?;
        let cash_on_delivery = order
            .cash_on_delivery
            .map(|m| convert::cash_on_delivery(m, self.config.currency))
            .transpose()
            .map_err(|r| r.invalid(op))?;
        Ok(wire::PlaceOrderRequest {
            recipient,
            courier_id: order.courier_id.trim().to_string(),
            pickup_point: order.pickup_point.clone().filter(|p| !p.trim().is_empty()),
            preferred_date: order.preferred_date,
            cash_on_delivery,
            billing,
            reference: reference.to_string(),
            note: order.note.clone().filter(|n| !n.trim().is_empty()),
        })
    }

    /// The order G7 finds under the shop's `reference`, normalised as G4 sends it.
    ///
    /// G7 need not repeat the reference it was asked for (§5 G7 answers status, shipments,
    /// courier and dispatch date; §9.1: optional elements may be missing). An order repeating
    /// it is the one; failing that, the one order answered without a reference is, since the
    /// lookup was by that reference. An order naming another reference is not it. Several
    /// orders without one cannot be told apart: a `Protocol` error (effect `Unknown`), so a
    /// placement whose outcome is unknown is never sent again on a guess. `None` only when no
    /// order (or only orders naming other references) came back.
    async fn find(&self, ctx: &Context, op: &str, reference: &str) -> Result<Option<wire::Order>> {
        let reference = shop_reference(reference);
        if reference.is_empty() {
            return Ok(None);
        }
        let filter = wire::OrderFilter::References(vec![reference.to_string()]);
        let found = self.client.get_order_status(ctx, op, &filter).await?;
        let mut unnamed = Vec::new();
        for order in found {
            match order.reference.as_deref().map(shop_reference) {
                Some(r) if r == reference => return Ok(Some(order)),
                Some(_) => {}
                None => unnamed.push(order),
            }
        }
        if unnamed.len() > 1 {
            let ids: Vec<&str> = unnamed.iter().map(|o| o.id.as_str()).collect();
            return Err(Error::new(ErrorKind::Protocol, PROVIDER, op)
                .with_effect(WriteEffect::Unknown)
                .with_message(format!(
                    "Results.orders: {} orders ({}) answered for reference {reference:?}, none repeating \
                     it; which one holds it is unknown",
                    ids.len(),
                    ids.join(", ")
                )));
        }
        Ok(unnamed.pop())
    }

    async fn order_address(&self, ctx: &Context, op: &str, order: &OrderId) -> Result<wire::AddressRecord> {
        self.address(ctx, op, wire::AddressFilter::Order(order.as_str().to_string()))
            .await?
            .ok_or_else(|| Error::not_found(PROVIDER, op, format!("no recipient for order {order}")))
    }
}

/// A refusal the wholesaler answered with a fault of its own before acting (a business or
/// input class: unknown product, stock, courier, empty basket, malformed request), as opposed
/// to a failed session, a refused key or a transport error.
fn refused_by_wholesaler(e: &Error) -> bool {
    e.effect() == WriteEffect::RejectedBeforeActing
        && e.vendor_code().is_some()
        && matches!(e.kind(), ErrorKind::Rejected | ErrorKind::Invalid { .. })
}

/// An error's kind, vendor code and message, without provider and operation (for quoting one
/// error inside another's message).
fn summary(e: &Error) -> String {
    let mut s = match e.kind() {
        ErrorKind::Invalid { field, reason } => format!("invalid {field}: {reason}"),
        kind => kind.label().replace('_', " "),
    };
    if let Some(code) = e.vendor_code() {
        s.push_str(&format!(" [{code}]"));
    }
    if !e.message().is_empty() {
        s.push_str(": ");
        s.push_str(e.message());
    }
    s
}

/// The error of a placement whose outcome was unknown (`cause`) and whose reconciliation
/// lookup failed too: `cause` (kind, code, temporariness) with effect `Unknown` whatever the
/// lookup's own effect, and both causes in the message, so the caller looks the order up
/// ([`Fulfilment::find_order`]) before placing it again.
fn unknown_after_failed_lookup(cause: Error, reference: &str, lookup: &Error) -> Error {
    let message = format!(
        "{}; the order may have been placed, and looking reference {:?} up failed: {}",
        cause.message(),
        shop_reference(reference),
        summary(lookup)
    );
    cause.with_effect(WriteEffect::Unknown).with_message(message)
}

/// The shop's order reference as G4 sends it and G7 looks it up (trimmed): computed here only,
/// so a reference with surrounding spaces is found again after a lost `placeOrder` reply.
fn shop_reference(raw: &str) -> &str {
    raw.trim()
}

impl Provider for IdosellAdapter {
    fn name(&self) -> &str {
        PROVIDER
    }
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }
    fn members(&self) -> Option<&dyn Members> {
        Some(self)
    }
    fn offers(&self) -> Option<&dyn loyalty_core::Offers> {
        None
    }
    fn holds(&self) -> Option<&dyn Holds> {
        None
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        None
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        Some(self)
    }
    fn carts(&self) -> Option<&dyn Carts> {
        None
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        Some(self)
    }
}

#[async_trait]
impl Members for IdosellAdapter {
    async fn find(&self, ctx: &Context, lookup: &MemberLookup) -> Result<Option<Member>> {
        const OP: &str = "members.find";
        let MemberLookup::ProviderId(id) = lookup else {
            return Err(Error::unsupported(PROVIDER, OP));
        };
        let Some(address_id) = Self::address_id(id) else { return Ok(None) };
        Ok(self.address(ctx, OP, wire::AddressFilter::Id(address_id)).await?.as_ref().map(convert::member))
    }

    async fn get(&self, ctx: &Context, id: &MemberId) -> Result<Member> {
        const OP: &str = "members.get";
        let not_found = || Error::not_found(PROVIDER, OP, format!("no recipient address {id}"));
        let address_id = Self::address_id(id).ok_or_else(not_found)?;
        let found = self.address(ctx, OP, wire::AddressFilter::Id(address_id)).await?;
        found.as_ref().map(convert::member).ok_or_else(not_found)
    }

    async fn register(&self, _ctx: &Context, _request: &RegisterMember) -> Result<Member> {
        Err(Error::unsupported(PROVIDER, "members.register"))
    }

    async fn enroll(&self, _ctx: &Context, _request: &EnrollMember) -> Result<Member> {
        Err(Error::unsupported(PROVIDER, "members.enroll"))
    }

    async fn update(&self, ctx: &Context, id: &MemberId, update: &MemberUpdate) -> Result<Member> {
        const OP: &str = "members.update";
        let change = wire::AddressChange::try_from(update).map_err(|r| r.invalid(OP))?;
        let address_id = Self::address_id(id)
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no recipient address {id}")))?;
        if change.is_empty() {
            return self.get(ctx, id).await.map_err(|e| e.with_operation(OP));
        }
        let updated = self.client.set_client_address(ctx, OP, address_id, &change).await?;
        Ok(convert::member(&updated))
    }

    async fn segments(&self, _ctx: &Context) -> Result<Vec<Segment>> {
        Err(Error::unsupported(PROVIDER, "members.segments"))
    }
}

#[async_trait]
impl Transactions for IdosellAdapter {
    async fn send(&self, ctx: &Context, tx: &Transaction) -> Result<TransactionReceipt> {
        const OP: &str = "transactions.send";
        let member = tx.member.as_ref().ok_or_else(|| {
            Refused::new("member", "the recipient address id: a wholesaler order needs a recipient")
                .invalid(OP)
        })?;
        let courier = self
            .config
            .default_courier_id
            .clone()
            .ok_or_else(|| Refused::new("courier", "no default_courier_id configured").invalid(OP))?;
        let mut lines = Vec::new();
        for (i, l) in tx.lines.iter().enumerate() {
            if l.quantity <= Decimal::ZERO {
                return Err(Refused::new(
                    format!("lines[{i}].quantity"),
                    "a wholesaler order has no returns",
                )
                .invalid(OP));
            }
            lines.push(OrderLine::new(l.product_id.clone(), l.quantity));
        }
        let address_id = Self::address_id(member)
            .ok_or_else(|| Refused::new("member", "not an IdoSell address id").invalid(OP))?;
        let address = self
            .address(ctx, OP, wire::AddressFilter::Id(address_id))
            .await?
            .ok_or_else(|| Refused::new("member", format!("no recipient address {member}")).invalid(OP))?;
        let mut order = DropshipOrder::new(tx.id.as_str(), convert::recipient(&address), courier);
        for line in lines {
            order = order.with_order_line(line);
        }
        let placed = self.place(ctx, OP, &order, Some(address.fields.clone())).await?;
        let outcome = if placed.duplicate { SendOutcome::AlreadyRecorded } else { SendOutcome::Recorded };
        let mut receipt = TransactionReceipt::new(tx.id.clone(), outcome);
        receipt.provider_ref = Some(placed.order_id.to_string());
        Ok(receipt)
    }

    async fn amend(&self, _ctx: &Context, _tx: &Transaction) -> Result<TransactionReceipt> {
        Err(Error::unsupported(PROVIDER, "transactions.amend"))
    }

    async fn cancel(&self, _ctx: &Context, _tx: &Transaction, _reason: Option<&str>) -> Result<()> {
        Err(Error::unsupported(PROVIDER, "transactions.cancel"))
    }

    async fn refund(&self, _ctx: &Context, _refund: &Refund) -> Result<TransactionReceipt> {
        Err(Error::unsupported(PROVIDER, "transactions.refund"))
    }
}

#[async_trait]
impl Fulfilment for IdosellAdapter {
    async fn stock(&self, ctx: &Context, lines: &[OrderLine]) -> Result<Vec<StockLevel>> {
        const OP: &str = "fulfilment.stock";
        let icdf = convert::icdf_lines(lines, self.config.code_type).map_err(|r| r.invalid(OP))?;
        let results = self.client.check_availability(ctx, OP, &icdf).await?;
        let results = crate::wire::products::in_sent_order(&icdf, results).map_err(|e| e.protocol(OP))?;
        Ok(lines
            .iter()
            .zip(&results)
            .map(|(l, r)| convert::stock_level(l, r, &self.config.names.faults))
            .collect())
    }

    async fn couriers(&self, ctx: &Context, query: &CourierQuery) -> Result<Vec<Courier>> {
        const OP: &str = "fulfilment.couriers";
        let items = if query.is_all() {
            self.client.get_couriers(ctx, OP).await?
        } else {
            let icdf = convert::icdf_lines(&query.lines, self.config.code_type).map_err(|r| r.invalid(OP))?;
            let to = query
                .destination
                .as_ref()
                .ok_or_else(|| Refused::new("destination", "a basket needs a destination").invalid(OP))?;
            let country =
                to.country_code.as_deref().map(str::trim).filter(|c| c.len() == 2).ok_or_else(|| {
                    Refused::new("destination.country_code", "an ISO 3166 alpha-2 code is needed").invalid(OP)
                })?;
            let postcode = to
                .zip_code
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| Refused::new("destination.zip_code", "required").invalid(OP))?;
            self.client
                .get_couriers_for_order(ctx, OP, &icdf, &country.to_ascii_uppercase(), postcode)
                .await?
        };
        items
            .iter()
            .enumerate()
            .map(|(i, c)| {
                convert::courier(c, self.config.currency, &format!("results.couriers[{i}]"))
                    .map_err(|e| e.protocol(OP))
            })
            .collect()
    }

    async fn place_order(&self, ctx: &Context, order: &DropshipOrder) -> Result<PlacedOrder> {
        self.place(ctx, "fulfilment.place_order", order, None).await
    }

    async fn find_order(&self, ctx: &Context, reference: &str) -> Result<Option<OrderStatus>> {
        const OP: &str = "fulfilment.find_order";
        let found = self.find(ctx, OP, reference).await?;
        Ok(self.statuses(OP, found.as_slice())?.into_iter().next())
    }

    async fn order_status(&self, ctx: &Context, order: &OrderId) -> Result<OrderStatus> {
        const OP: &str = "fulfilment.order_status";
        let filter = wire::OrderFilter::Ids(vec![order.as_str().to_string()]);
        let found = self.client.get_order_status(ctx, OP, &filter).await?;
        let found: Vec<wire::Order> = found.into_iter().filter(|o| o.id == order.as_str()).collect();
        self.statuses(OP, &found)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no order {order}")))
    }

    async fn recipient(&self, ctx: &Context, order: &OrderId) -> Result<Recipient> {
        const OP: &str = "fulfilment.recipient";
        Ok(convert::recipient(&self.order_address(ctx, OP, order).await?))
    }

    async fn update_recipient(&self, ctx: &Context, order: &OrderId, recipient: &Recipient) -> Result<()> {
        const OP: &str = "fulfilment.update_recipient";
        let change = wire::addresses::AddressFields::try_from(recipient).map_err(|r| r.invalid(OP))?;
        let address = self.order_address(ctx, OP, order).await?;
        // G9 refuses an address whose order left (faultCode 10 → Conflict, §5 G9).
        self.client.set_client_address(ctx, OP, address.id, &change).await?;
        Ok(())
    }

    fn parse_shipment_notice(&self, request: PushedRequest<'_>) -> Result<ShipmentNotice> {
        self.notices.parse(request)
    }
}
