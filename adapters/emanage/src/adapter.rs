//! [`EmanageAdapter`]: the trait implementations and the one [`Capabilities`] declaration.

use std::sync::Arc;

use async_trait::async_trait;
use loyalty_core::checkout::{ActionKind, PaymentAction};
use loyalty_core::{
    Basket, Capabilities, Cart, CartCheckout, CartId, CartLine, CartOrder, CartPayment, CartStatus, Carts,
    Clock, Context, Customer, Error, ErrorKind, Fulfilment, Holds, LineId, MemberId, Members, Money, NewCart,
    Offer, Offers, ProductId, Provider, Redemptions, Result, SystemClock, Transactions, UpgradeOutcome,
    UpgradeRequest, UpgradeStatus, Validation, WriteEffect,
};
use rust_decimal::Decimal;

use crate::client::EmanageClient;
use crate::config::{CapturePolicy, EmanageConfig};
use crate::names;
use crate::wire::{self, convert};
use crate::PROVIDER;

/// The eManage provider: shopping-cart sessions with upsell upgrades and the campaign's
/// progressive discount, over the Web Sales (ECOMM) API.
///
/// Build it with [`EmanageAdapter::new`]; hand it to callers as `&dyn Provider`.
///
/// eManage takes no idempotency key. A card upgrade asked again after a lost answer is
/// answered from the earlier request, with no second charge, only where the cart GET lists
/// the upgrade chains (the simulator's extras, [`crate::names::cart::UPGRADES`]) and the step
/// is still a preview; on the contract's cart GET a repeat is sent and charged again, so a shop
/// reads the cart before repeating an upgrade whose answer it lost (docs/vendors/emanage.md,
/// "Upgrades").
#[derive(Debug)]
pub struct EmanageAdapter {
    config: EmanageConfig,
    client: EmanageClient,
    clock: Arc<dyn Clock>,
    capabilities: Capabilities,
}

/// What eManage can do, declared once (§6.4, §7, §8, §13).
fn declare() -> Capabilities {
    let mut c = Capabilities::none();
    // The Web Sales API keeps no members (§13): customers come with each cart.
    c.lookups = Vec::new();
    // The campaign's progressive discount applies to every customer, member or guest (§8).
    c.list_offers = true;
    c.guest_offers = true;
    // The offer is a core progressive discount priced by the engine, not by the vendor per
    // basket, and there is no validation call (§8).
    c.offers_with_basket = false;
    c.vendor_pricing = false;
    c.validate_offer = false;
    // No reservation or redemption of offers exists (§13).
    c.hold = None;
    c.redeem = false;
    // The paid cart *is* the order at eManage. `send` of an order completed elsewhere would
    // need `orders/{wk}`, which charges a card instead of recording a sale (§6.3), and no
    // cancel or refund call is shown (§13): no honest `Transactions` exists.
    c.send_transaction = false;
    c.cancel_transaction = false;
    c.return_styles = Vec::new();
    // Cart sessions (§6.4), upgrades of a paid session charged on the card on file (§7.1), and
    // upgrades of a session paid offline in a new session naming it (§7.2 rule 7).
    c.carts = true;
    c.cart_upgrades = true;
    c.offline_upgrades = true;
    c.dropshipping = false;
    c
}

/// A cart as read: the vendor's body and the core cart priced from it.
struct Read {
    wire: wire::CartResponse,
    cart: Cart,
    /// What each line of `cart` shows of its payment, in the same order.
    facts: Vec<convert::LineFacts>,
    catalogue: convert::Catalogue,
    /// What a checkout of the cart charges: the vendor's cart total when the reply carries
    /// one (`names::cart::TOTAL`), else the cart's total as read (lines' nets plus shipping).
    charged: Money,
}

impl EmanageAdapter {
    /// An adapter for `config`, on the system clock.
    ///
    /// # Errors
    /// `Invalid` when the transport refuses the configuration.
    pub fn new(config: EmanageConfig) -> Result<EmanageAdapter> {
        EmanageAdapter::with_clock(config, Arc::new(SystemClock))
    }

    /// An adapter whose pricing reads `clock` (offers' validity).
    ///
    /// # Errors
    /// `Invalid` when the transport refuses the configuration.
    pub fn with_clock(config: EmanageConfig, clock: Arc<dyn Clock>) -> Result<EmanageAdapter> {
        let client = EmanageClient::new(&config)?;
        Ok(EmanageAdapter { config, client, clock, capabilities: declare() })
    }

    /// The configuration.
    pub fn config(&self) -> &EmanageConfig {
        &self.config
    }

    async fn catalogue(&self, ctx: &Context, op: &str) -> Result<convert::Catalogue> {
        Ok(convert::Catalogue::from_reply(self.client.price_list(ctx, op).await?))
    }

    /// The campaign's progressive-discount rule (§8 `count`, `mode`), the contract's default
    /// without a discount.
    fn discount_rule(&self) -> convert::DiscountRule {
        self.config
            .progressive
            .as_ref()
            .map(|p| convert::DiscountRule { count: p.count, mode: p.mode })
            .unwrap_or_default()
    }

    fn offer(&self, catalogue: Option<&convert::Catalogue>) -> Option<Offer> {
        self.config
            .progressive
            .as_ref()
            .map(|p| convert::progressive_offer(&self.config.web_key, p, catalogue))
    }

    /// Reads a cart and prices it (the price list is read with it: the vendor's cart shows
    /// unit prices after discount only, §6.4 row 5).
    async fn read(&self, ctx: &Context, op: &str, cart: &CartId) -> Result<Read> {
        let w = self.client.cart(ctx, op, cart.as_str()).await?;
        let catalogue = self.catalogue(ctx, op).await?;
        self.priced(op, cart, w, catalogue)
    }

    /// Reads a cart after a change, pricing it with the price list the operation already read.
    async fn read_after(
        &self,
        ctx: &Context,
        op: &str,
        cart: &CartId,
        catalogue: convert::Catalogue,
    ) -> Result<Read> {
        let w = self.client.cart(ctx, op, cart.as_str()).await?;
        self.priced(op, cart, w, catalogue)
    }

    fn priced(
        &self,
        op: &str,
        cart: &CartId,
        w: wire::CartResponse,
        catalogue: convert::Catalogue,
    ) -> Result<Read> {
        let offer = self.offer(Some(&catalogue));
        let pricing = convert::Pricing {
            catalogue: &catalogue,
            offer: offer.as_ref(),
            rule: self.discount_rule(),
            currency: self.config.currency,
            now: self.clock.now(),
        };
        let priced = convert::priced_cart(cart, &w, &pricing).map_err(|e| e.protocol(op))?;
        let charged = convert::vendor_total(&w, self.config.currency).map_err(|e| e.protocol(op))?;
        let charged = charged.unwrap_or(priced.cart.total);
        Ok(Read { wire: w, cart: priced.cart, facts: priced.lines, catalogue, charged })
    }

    /// The line a client sends for `product`: catalogue price and shipping method (§6.4 notes:
    /// both copied from the price list).
    fn line(
        &self,
        op: &str,
        catalogue: &convert::Catalogue,
        product: i64,
        quantity: u32,
    ) -> Result<wire::LineRequest> {
        let p = catalogue.product(product).ok_or_else(|| match catalogue.unreadable(product) {
            // Listed, but its entry does not read (no selling price): the vendor's reply, not
            // the request, is at fault, and nothing was sent.
            Some(e) => e.protocol(op).with_effect(WriteEffect::NotSent),
            None => Error::not_found(PROVIDER, op, format!("product {product} is not in the campaign")),
        })?;
        let shipping_method_id = match self.config.shipping_method_id {
            Some(m) => m,
            // Clients take the product's first shipping method (§5.3).
            None => p.shippings.first().map(|s| s.shipping_method_id).ok_or_else(|| {
                Error::invalid(
                    PROVIDER,
                    op,
                    "shipping_method_id",
                    format!("product {product} lists no shipping method"),
                )
            })?,
        };
        Ok(wire::LineRequest { product_id: product, quantity, price: p.discounted_price, shipping_method_id })
    }

    /// Whether `read`'s cart is a test cart: by configuration, or by the cart GET's `test`
    /// field where the server shows it. Asked of the vendor, never remembered in the process
    /// (another instance may have opened the cart); the live GET may not show the flag (§11),
    /// so test runs against the live API set `test_mode`.
    fn test(&self, read: Option<&Read>) -> bool {
        self.config.test_mode || read.and_then(|r| r.wire.test).unwrap_or(false)
    }

    fn product(op: &str, p: &ProductId, field: &str) -> Result<i64> {
        convert::product_id(p, field).map_err(|e| e.invalid(op))
    }

    /// A cart line id is its product id (the vendor addresses lines by product, §6.4 rows 3-4).
    fn line_product(op: &str, line: &LineId) -> Result<i64> {
        convert::product_id(&ProductId::new(line.as_str()), "line_id").map_err(|e| e.invalid(op))
    }

    fn units(op: &str, q: Decimal) -> Result<u32> {
        convert::units(q, "quantity").map_err(|e| e.invalid(op))
    }

    fn paid_order(&self, op: &str, read: &Read) -> Result<CartOrder> {
        let order = read.cart.order.clone().ok_or_else(|| {
            Error::new(ErrorKind::Conflict, PROVIDER, op)
                .with_message("the cart is paid but the vendor gives no order number for it")
        })?;
        Ok(CartOrder::new(order, read.cart.id.clone(), read.checkout_charged()))
    }

    /// A paid checkout's order with what the vendor charged. The reply carries no amount
    /// (§6.4 row 7) and the vendor re-prices an open cart up to its charge (§6.4 notes), so
    /// the cart read before the checkout may be out of date: the cart read back after it
    /// says what was charged (the vendor's amount, never one worked out here), and an amount
    /// other than the one read before is reported in `repriced_from` and logged, never
    /// passed off as the amount shown. A read back that fails leaves the amount read before,
    /// with a warning: the payment went through and is never reported as failed.
    async fn charged(
        &self,
        ctx: &Context,
        op: &str,
        cart: &CartId,
        before: &Read,
        order: CartOrder,
    ) -> CartOrder {
        match self.read_after(ctx, op, cart, before.catalogue.clone()).await {
            Ok(after) => {
                if after.charged != before.charged {
                    tracing::warn!(
                        cart = %cart,
                        shown = %before.charged.amount_string(),
                        charged = %after.charged.amount_string(),
                        "eManage charged another amount than the cart read just before its checkout"
                    );
                }
                let mut order = order;
                order.charged = after.charged;
                order.with_repriced_from(before.charged)
            }
            Err(e) => {
                tracing::warn!(
                    cart = %cart,
                    error = %e,
                    "eManage cart paid but not read back: the amount charged is the one read before the checkout"
                );
                order
            }
        }
    }

    /// A payment the cart waits for, from what the cart read shows: a redirect's
    /// `callBackUrl`, else a 3-D Secure `paymentContinueResult.actionUrl` (both simulator
    /// extras of the cart GET, `names::cart`; without them the URL is not known).
    fn waiting(read: &Read) -> CartCheckout {
        let (kind, url) = match (&read.wire.call_back_url, &read.wire.action_url) {
            (Some(url), _) => (ActionKind::Redirect, Some(url.clone())),
            (None, url) => (ActionKind::ThreeDSecure, url.clone()),
        };
        CartCheckout::ActionRequired {
            cart: read.cart.id.clone(),
            action: PaymentAction::new(kind, url),
            order: read.cart.order.clone(),
        }
    }

    /// After a checkout whose outcome is unknown, the cart read back decides (§10, checklist
    /// 25): paid or waiting is the answer. A session the vendor shows `Open` was not charged
    /// *so far*, but the request may still be running at the vendor (a timeout or a gateway's
    /// 5xx does not say it stopped), so the effect stays `Unknown` and the message says what
    /// the read showed. A cart GET without a session status (the live API may send none, see
    /// `names::cart`) shows neither.
    async fn reconcile_checkout(
        &self,
        ctx: &Context,
        op: &str,
        cart: &CartId,
        err: Error,
    ) -> Result<CartCheckout> {
        let Ok(read) = self.read(ctx, op, cart).await else { return Err(err) };
        match checkout_read_back(read.status_shown(), &read.cart) {
            CheckoutReadBack::Paid => Ok(CartCheckout::Paid(self.paid_order(op, &read)?)),
            CheckoutReadBack::Waiting => Ok(Self::waiting(&read)),
            CheckoutReadBack::Open => {
                let message = format!(
                    "{}; the cart reads back open, so nothing was charged so far (the request may still \
                     be processed: read the cart again before paying again)",
                    err.message()
                );
                Err(err.with_message(message))
            }
            CheckoutReadBack::NotShown => {
                let message = format!(
                    "{}; the cart read back does not show whether it was paid (the vendor sent no session \
                     status): check the order in eManage before charging again",
                    err.message()
                );
                Err(err.with_message(message))
            }
            CheckoutReadBack::Unclear => Err(err),
        }
    }
}

impl Read {
    /// What the checkout of this paid cart charged: the vendor's amount for the cart
    /// (`charged`) less what its upgrade heads add over the units they replaced. An upgrade's
    /// difference is its own charge, answered by `Carts::upgrade` and captured after the
    /// vendor's funnel window (or on a cart of its own, paid offline), never the checkout's: a
    /// paid cart checked out again answers the same order (`Carts::checkout`), not the cart's
    /// total with a pending upgrade in it. A head the price list does not explain (a price
    /// changed since) leaves its difference in, with a warning; so does a cart GET without
    /// upgrade fields, where an upgraded line reads as a product bought (`names::cart`).
    fn checkout_charged(&self) -> Money {
        let mut charged = self.charged;
        for (line, facts) in self.cart.lines.iter().zip(&self.facts) {
            match facts.upgrade_surcharge.map(|s| charged.checked_sub(s)) {
                Some(Ok(less)) if less.minor >= 0 => charged = less,
                _ => tracing::warn!(
                    cart = %self.cart.id,
                    line = %line.product_id,
                    "eManage paid cart: the upgrade difference of this line is not shown, so the amount \
                     reported as charged at checkout includes it"
                ),
            }
        }
        charged
    }

    /// Whether the vendor's cart GET carried a session status at all (a simulator extra,
    /// `names::cart::STATUS`): without one the cart only *reads* as open.
    fn status_shown(&self) -> bool {
        self.wire.status.is_some()
    }

    /// See [`marks_upgrades`].
    fn marks_upgrades(&self) -> bool {
        marks_upgrades(&self.wire)
    }
}

/// Whether the cart GET is one that marks upgrade heads: it carries a session status, an
/// upgrade list or a line's upgrade fields (simulator extras, `names::cart`). Where it does, a
/// line without upgrade fields is a plain one; the contract's five fields cannot tell.
fn marks_upgrades(w: &wire::CartResponse) -> bool {
    w.status.is_some()
        || !w.upgrades.is_empty()
        || w.products.iter().any(|p| p.upgrade_status.is_some() || p.upgraded_from_product_id.is_some())
}

/// What a cart read back after a checkout of unknown outcome shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckoutReadBack {
    /// Paid, with its order number: the checkout's answer.
    Paid,
    /// A payment waits for the customer.
    Waiting,
    /// The vendor shows the session still open: nothing was charged so far.
    Open,
    /// The cart GET carries no session status: whether the checkout charged is not shown.
    NotShown,
    /// Anything else (paid without an order number, discarded): not decided here.
    Unclear,
}

/// Decides a checkout read-back from the cart and whether the vendor sent a session status.
/// Only a status the vendor actually sent can say that nothing was charged so far.
fn checkout_read_back(status_shown: bool, cart: &Cart) -> CheckoutReadBack {
    if !status_shown {
        return CheckoutReadBack::NotShown;
    }
    match cart.status {
        CartStatus::Paid if cart.order.is_some() => CheckoutReadBack::Paid,
        CartStatus::AwaitingPayment => CheckoutReadBack::Waiting,
        CartStatus::Open => CheckoutReadBack::Open,
        _ => CheckoutReadBack::Unclear,
    }
}

/// A checkout's 409 on a cart that reads back open (`status_shown`: the vendor said so, a
/// session status in its cart GET). Clients say the checkout needs `customers/new` first (§6.4
/// row 6), and the vendor refuses a checkout without it as a state conflict (§10: 409); the
/// cart was read open just before, so that is what it lacks: `Invalid` naming `customer`, as
/// `Carts::checkout` calls missing customer details (nothing was charged: the vendor refused
/// before acting). Where the cart GET shows no status, an open read is no proof (a paid cart
/// reads open there too), so the conflict stays, its message naming both causes.
fn open_cart_refused(e: Error, status_shown: bool) -> Error {
    if status_shown {
        let reason = "eManage takes the customer's details before checking a cart out (set_customer)";
        let message = format!("{reason}; it refused the checkout of this open cart: {}", e.message());
        return Error::invalid(PROVIDER, e.operation(), "customer", reason).with_message(message);
    }
    let message = format!(
        "{}; eManage refuses the checkout of a cart already paid, and of one without the customer's \
         details (set_customer first)",
        e.message()
    );
    e.with_message(message)
}

/// The error of a write eManage took (it answered success) whose cart read back failed with
/// `read`: `took` says what was done, `next` what the caller does. However the read failed (a
/// 429 is refused before acting), the operation is not: its effect is `Unknown`, never
/// `RejectedBeforeActing` or `NotSent`, so no caller repeats a write that took effect (an
/// upgrade charged twice, units added twice). `Unavailable` (the answer was lost, not the
/// request), not temporary (asking again is what must not happen), the read's reason in the
/// message.
fn written_unread(read: Error, took: &str, next: &str) -> Error {
    let why = if read.message().is_empty() {
        read.kind().label().replace('_', " ")
    } else {
        format!("{}: {}", read.kind().label().replace('_', " "), read.message())
    };
    Error::new(ErrorKind::Unavailable, PROVIDER, read.operation())
        .with_temporary(false)
        .with_effect(WriteEffect::Unknown)
        .with_message(format!("{took}, but the cart did not read back ({why}): {next}"))
}

/// The result of a read made before the operation writes anything: whatever failed (an
/// unreadable reply, a timeout), nothing that could take effect was sent, so the error's
/// effect is `NotSent` (a `Protocol` error's default is `Unknown`).
fn unsent<T>(r: Result<T>) -> Result<T> {
    r.map_err(|e| e.with_effect(WriteEffect::NotSent))
}

/// Units of `product` on the cart, on every line, with or without upgrade information (the
/// live cart GET may carry none, `names::cart`).
fn units_of(cart: &Cart, product: &ProductId) -> Decimal {
    cart.lines.iter().filter(|l| &l.product_id == product).map(|l| l.quantity).sum()
}

/// The answer to an upgrade paid in its own new session (§7.2 rule 7): the new cart as read,
/// naming the paid cart it upgrades even when the vendor's cart GET does not (that field is a
/// simulator extra). When the read fails, the cart is built from what the adapter sent, so
/// the new session's id is never lost: one line of `to`, `amount` in all. Without an amount
/// (the chain's first product is not known here) the read's error carries the new cart's id.
///
/// A session the server created itself comes with its own payment step, the `callBackUrl` of
/// the `add` reply (§7.2 rule 7, §9.4 step 2b, checklist 18): `call_back_url`. It is the
/// answer's `action`, as is a payment page the cart read shows (a simulator extra); the
/// contract's cart GET shows neither that URL nor the session's status, and a checkout of a
/// session waiting for its payment is refused, so without it the difference could never be
/// paid. A cart with an action waits for that payment (`AwaitingPayment`) where the read
/// shows no status of its own.
#[allow(clippy::too_many_arguments)]
fn payment_required(
    read: Result<Read>,
    child: &CartId,
    parent: &CartId,
    to: &ProductId,
    quantity: u32,
    amount: Option<Money>,
    status: CartStatus,
    call_back_url: Option<String>,
) -> Result<UpgradeOutcome> {
    let mut action = call_back_url.map(|url| PaymentAction::new(ActionKind::Redirect, Some(url)));
    let cart = match read {
        Ok(read) => {
            if action.is_none() && (read.wire.call_back_url.is_some() || read.wire.action_url.is_some()) {
                if let CartCheckout::ActionRequired { action: shown, .. } = EmanageAdapter::waiting(&read) {
                    action = Some(shown);
                }
            }
            let mut cart = read.cart;
            if action.is_some() && read.wire.status.is_none() {
                cart.status = CartStatus::AwaitingPayment;
            }
            cart
        }
        Err(e) => {
            tracing::warn!(cart = %child, error = %e, "eManage upgrade cart opened but not read back");
            let Some(amount) = amount else {
                let took = format!("the difference is to be paid in cart {child}, opened for this upgrade");
                return Err(written_unread(e, &took, "read that cart and check it out"));
            };
            // `amount` is `quantity` times the difference a unit (§7.2 rule 3): exact.
            let unit = Money::new(amount.minor / i64::from(quantity.max(1)), amount.currency);
            let line =
                loyalty_core::CartLine::new(to.as_str(), to.clone(), Decimal::from(quantity), unit, amount);
            Cart::new(child.clone(), status, vec![line], amount)
        }
    };
    let cart = match cart.upgrade_parent {
        Some(_) => cart,
        None => cart.with_upgrade_parent(parent.clone()),
    };
    let amount = cart.total;
    Ok(UpgradeOutcome::PaymentRequired { cart, amount, action })
}

/// Where an upgrade `add` whose reply was lost, and which the cart read back shows taken, is
/// to be paid.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LostAddTaken {
    /// In a session the vendor opened for the difference (§9.4 step 2b, a cart paid offline):
    /// one the cart lists for a chain headed by the new product, not listed before the `add`.
    NewSession(CartId),
    /// On the cart's own payment: the cart lists the chain of the new product from `origin`
    /// without a session, or lists no chains at all (the contract's cart GET, where the shop's
    /// `paid_offline` is all there is to go by).
    SameSession,
    /// The cart lists chains, but none for this upgrade on the cart's payment and no new
    /// session: an upgrade session may exist that the adapter cannot name.
    SessionNotShown,
}

/// Decides [`LostAddTaken`] from the chains the cart listed before the `add` and after it
/// (the simulator's `upgrades[]`, `names::cart::UPGRADES`).
fn lost_add_taken(
    before: &wire::CartResponse,
    after: &wire::CartResponse,
    to: i64,
    origin: &ProductId,
) -> LostAddTaken {
    if after.upgrades.is_empty() {
        return LostAddTaken::SameSession;
    }
    let known: Vec<&str> = before.upgrades.iter().filter_map(|c| c.session_id.as_deref()).collect();
    let live = |c: &&wire::UpgradeChain| c.head == to && c.status != Some(wire::UpgradeStatus::Discarded);
    let opened = after
        .upgrades
        .iter()
        .filter(live)
        .find_map(|c| c.session_id.as_deref().filter(|s| !known.contains(s)));
    if let Some(child) = opened {
        return LostAddTaken::NewSession(CartId::new(child));
    }
    let from_origin =
        |c: &&wire::UpgradeChain| c.first.map(|f| f.to_string()).as_deref() == Some(origin.as_str());
    if after.upgrades.iter().filter(live).filter(from_origin).any(|c| c.session_id.is_none()) {
        return LostAddTaken::SameSession;
    }
    LostAddTaken::SessionNotShown
}

/// What a cart read back after an upgrade `add` of unknown outcome shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UpgradeReadBack {
    /// More units of the new product than before: the vendor took the upgrade.
    Taken,
    /// The new product did not grow and the upgraded head is all still there: the upgrade has
    /// not happened so far (or was discarded after failed charges).
    NotTaken,
    /// Anything else: the cart does not show what the `add` did.
    Unclear,
}

/// Decides an upgrade read-back from facts the contract gives (§7.1 \[G\]: the upgraded line's
/// product becomes the new product; only the head is kept), never from the simulator's
/// per-line upgrade fields.
fn upgrade_read_back(before: &Cart, after: &Cart, head: &ProductId, to: &ProductId) -> UpgradeReadBack {
    if units_of(after, to) > units_of(before, to) {
        return UpgradeReadBack::Taken;
    }
    if head != to
        && units_of(after, to) == units_of(before, to)
        && units_of(after, head) >= units_of(before, head)
    {
        return UpgradeReadBack::NotTaken;
    }
    UpgradeReadBack::Unclear
}

/// The outcome of an upgrade the vendor accepted, from the cart before and after it. A line of
/// the new product upgraded from `origin` tells its status. Where the cart GET marks upgrades
/// (`marks`, see [`marks_upgrades`]) only such a line counts: a plain line of the new product
/// (bought at checkout) or another chain's head says nothing of this upgrade, and without a
/// line of its own the upgrade was discarded (§7.2 rule 6, §9.3: the line is back to the
/// product paid before). Where the cart GET carries no upgrade information (the live one may
/// carry none) the units of the new product tell: more than `before` shows the upgrade taken
/// but not whether it was charged (`Pending`); no more, it was discarded.
fn upgrade_outcome(
    before: &Cart,
    after: Cart,
    marks: bool,
    to: &ProductId,
    origin: &ProductId,
    amount: Money,
) -> UpgradeOutcome {
    let status = after
        .lines
        .iter()
        .filter(|l| &l.product_id == to)
        .find_map(|l| l.upgrade.as_ref().filter(|u| &u.from == origin))
        .map(|u| u.status);
    match status {
        Some(UpgradeStatus::Charged) => UpgradeOutcome::Charged { cart: after, amount },
        Some(UpgradeStatus::Pending) => UpgradeOutcome::Pending { cart: after, amount },
        None if !marks && units_of(&after, to) > units_of(before, to) => {
            UpgradeOutcome::Pending { cart: after, amount }
        }
        _ => UpgradeOutcome::Discarded { cart: after },
    }
}

#[async_trait]
impl Offers for EmanageAdapter {
    async fn list(
        &self,
        ctx: &Context,
        _member: Option<&MemberId>,
        _basket: Option<&Basket>,
    ) -> Result<Vec<Offer>> {
        const OP: &str = "offers.list";
        let Some(p) = &self.config.progressive else { return Ok(Vec::new()) };
        // Without configured products every product of the campaign qualifies (§8 `product_ids`).
        let catalogue =
            if p.product_ids.is_empty() { Some(unsent(self.catalogue(ctx, OP).await)?) } else { None };
        // A campaign offer: the same for every customer, member or guest (§8).
        Ok(self.offer(catalogue.as_ref()).into_iter().collect())
    }

    async fn validate(&self, _ctx: &Context, _member: &MemberId, _offer: &Offer) -> Result<Validation> {
        Err(Error::unsupported(PROVIDER, "offers.validate"))
    }
}

#[async_trait]
impl Carts for EmanageAdapter {
    async fn create(&self, ctx: &Context, request: &NewCart) -> Result<Cart> {
        const OP: &str = "carts.create";
        if request.currency != self.config.currency {
            return Err(Error::invalid(
                PROVIDER,
                OP,
                "currency",
                format!("the campaign sells in {}", self.config.currency),
            ));
        }
        let product = Self::product(OP, &request.product_id, "product_id")?;
        let quantity = Self::units(OP, request.quantity)?;
        let catalogue = unsent(self.catalogue(ctx, OP).await)?;
        let test = request.test || self.config.test_mode;
        let body = wire::NewSessionRequest {
            product: self.line(OP, &catalogue, product, quantity)?,
            customer_ip: request.customer_ip.clone(),
            // `behaviorId=2` in body and query for a test cart, as the addendum does (§7.1).
            behavior_id: test.then_some(names::BEHAVIOR_TEST),
            upgrade: None,
        };
        let session = CartId::new(self.client.new_session(ctx, OP, &body, test).await?);
        let read = self.read_after(ctx, OP, &session, catalogue).await.map_err(|e| {
            written_unread(
                e,
                &format!("eManage opened cart {session}"),
                "read that cart before opening another",
            )
        })?;
        // A test cart's later calls know it only from the configuration or the cart's own
        // `test` flag (never remembered here): where eManage does not show the flag, its lines
        // and checkout would go out live, a test card charged on the live API. Refused, with
        // the fix named; the test session just opened holds nothing and is left to lapse.
        if test && !self.test(Some(&read)) {
            return Err(Error::new(ErrorKind::Unsupported, PROVIDER, OP)
                .with_effect(WriteEffect::NotSent)
                .with_message(
                    "eManage does not show this cart as a test cart, so its checkout would go out live: \
                     set test_mode = true for test carts",
                ));
        }
        Ok(read.cart)
    }

    async fn get(&self, ctx: &Context, cart: &CartId) -> Result<Cart> {
        Ok(unsent(self.read(ctx, "carts.get", cart).await)?.cart)
    }

    async fn add_line(
        &self,
        ctx: &Context,
        cart: &CartId,
        product: &ProductId,
        quantity: Decimal,
    ) -> Result<Cart> {
        const OP: &str = "carts.add_line";
        let id = Self::product(OP, product, "product_id")?;
        let quantity = Self::units(OP, quantity)?;
        let before = unsent(self.read(ctx, OP, cart).await)?;
        // The vendor's clients add a product again by updating its line to the summed quantity
        // (§6.4 notes); `add` of a product already there is a 409 (checklist 6).
        let existing = before.cart.lines.iter().find(|l| &l.product_id == product && l.upgrade.is_none());
        let held = match existing {
            Some(l) => convert::units(l.quantity, "quantity").map_err(|e| e.protocol(OP))?,
            None => 0,
        };
        let sum = held
            .checked_add(quantity)
            .ok_or_else(|| Error::invalid(PROVIDER, OP, "quantity", "too many units"))?;
        let sent = match existing {
            Some(_) => self.client.update(ctx, OP, cart.as_str(), id, sum).await,
            None => {
                let body =
                    wire::AddRequest { line: self.line(OP, &before.catalogue, id, quantity)?, upgrade: None };
                // A test cart's lines are test lines too (§11: `behaviorId=2` on `new` and `add`).
                let test = self.test(Some(&before));
                self.client.add(ctx, OP, cart.as_str(), &body, test).await.map(|_| ())
            }
        };
        match sent {
            Ok(()) => {
                let read = self.read_after(ctx, OP, cart, before.catalogue).await;
                let took = format!("eManage took {quantity} more of product {product} (cart {cart})");
                Ok(read.map_err(|e| written_unread(e, &took, "read the cart before adding again"))?.cart)
            }
            // It may have reached eManage (a timeout, an unreadable reply; clients never read
            // the add reply, §6.4): the cart read back says (§10), so a caller's retry does
            // not add the units twice.
            Err(e) if e.effect() == WriteEffect::Unknown => {
                let after = match self.read_after(ctx, OP, cart, before.catalogue).await {
                    Ok(after) => after,
                    Err(_) => return Err(e),
                };
                let units: Decimal = after
                    .cart
                    .lines
                    .iter()
                    .filter(|l| &l.product_id == product && l.upgrade.is_none())
                    .map(|l| l.quantity)
                    .sum();
                if units == Decimal::from(sum) {
                    Ok(after.cart)
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn set_quantity(
        &self,
        ctx: &Context,
        cart: &CartId,
        line: &LineId,
        quantity: Decimal,
    ) -> Result<Cart> {
        const OP: &str = "carts.set_quantity";
        let product = Self::line_product(OP, line)?;
        let quantity = Self::units(OP, quantity)?;
        self.client.update(ctx, OP, cart.as_str(), product, quantity).await?;
        let took = format!("eManage set line {line} of cart {cart} to {quantity}");
        Ok(self.read(ctx, OP, cart).await.map_err(|e| written_unread(e, &took, "read the cart"))?.cart)
    }

    async fn remove_line(&self, ctx: &Context, cart: &CartId, line: &LineId) -> Result<Cart> {
        const OP: &str = "carts.remove_line";
        let product = Self::line_product(OP, line)?;
        self.client.remove(ctx, OP, cart.as_str(), product).await?;
        let took = format!("eManage removed line {line} of cart {cart}");
        Ok(self.read(ctx, OP, cart).await.map_err(|e| written_unread(e, &took, "read the cart"))?.cart)
    }

    async fn set_customer(&self, ctx: &Context, cart: &CartId, customer: &Customer) -> Result<Cart> {
        const OP: &str = "carts.set_customer";
        let body = convert::customer(customer).map_err(|e| e.invalid(OP))?;
        self.client.customer(ctx, OP, cart.as_str(), &body).await?;
        let took = format!("eManage took the customer of cart {cart}");
        Ok(self.read(ctx, OP, cart).await.map_err(|e| written_unread(e, &took, "read the cart"))?.cart)
    }

    async fn checkout(&self, ctx: &Context, cart: &CartId, payment: &CartPayment) -> Result<CartCheckout> {
        const OP: &str = "carts.checkout";
        let payment = convert::payment(payment).map_err(|e| e.invalid(OP))?;
        // Read first: a paid cart answers its order without a second charge, a waiting one
        // what it waits for.
        let before = unsent(self.read(ctx, OP, cart).await)?;
        match before.cart.status {
            CartStatus::Paid => return Ok(CartCheckout::Paid(self.paid_order(OP, &before)?)),
            CartStatus::AwaitingPayment => return Ok(Self::waiting(&before)),
            CartStatus::Discarded => {
                return Err(
                    Error::new(ErrorKind::Conflict, PROVIDER, OP).with_message("the cart was discarded")
                )
            }
            CartStatus::Open => {}
        }
        // The vendor refuses to check out an empty cart (409); the core calls that `Invalid`.
        if before.cart.lines.is_empty() {
            return Err(Error::invalid(PROVIDER, OP, "lines", "the cart is empty: add a line first")
                .with_effect(WriteEffect::NotSent));
        }
        let body = wire::CheckoutRequest {
            behavior_id: if self.test(Some(&before)) { names::BEHAVIOR_TEST } else { names::BEHAVIOR_LIVE },
            session_id: cart.as_str().to_string(),
            payment,
        };
        let reply = match self.client.checkout(ctx, OP, &body).await {
            Ok(r) => r,
            Err(e) if e.effect() == WriteEffect::Unknown => {
                return self.reconcile_checkout(ctx, OP, cart, e).await
            }
            // A 409 after the read above: another checkout of this cart (a double click, a
            // 3-D Secure return) got there first. Its result is this call's answer. A cart the
            // vendor still shows open was refused for what it lacks: the customer's details.
            Err(e) if *e.kind() == ErrorKind::Conflict => {
                let Ok(read) = self.read(ctx, OP, cart).await else { return Err(e) };
                return match read.cart.status {
                    CartStatus::Paid if read.cart.order.is_some() => {
                        Ok(CartCheckout::Paid(self.paid_order(OP, &read)?))
                    }
                    CartStatus::AwaitingPayment => Ok(Self::waiting(&read)),
                    CartStatus::Open => Err(open_cart_refused(e, read.status_shown())),
                    _ => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let outcome =
            crate::decode::outcome(OP, cart, before.charged, reply, &self.client.checkout_secrets(&body))?;
        let CartCheckout::Paid(order) = outcome else { return Ok(outcome) };
        Ok(CartCheckout::Paid(self.charged(ctx, OP, cart, &before, order).await))
    }

    async fn upgrade(
        &self,
        ctx: &Context,
        cart: &CartId,
        request: &UpgradeRequest,
    ) -> Result<UpgradeOutcome> {
        // The units upgraded travel as `upgradePreviewQuantity` (§7.1); a refusal names that
        // field, as the vendor's 400 does (checklist 15).
        let quantity = convert::units(request.quantity, names::UPGRADE_PREVIEW_QUANTITY)
            .map_err(|e| e.invalid(UPGRADE))?;
        let to = Self::product(UPGRADE, &request.product_id, "product_id")?;
        let before = unsent(self.read(ctx, UPGRADE, cart).await)?;
        let Some(line) = before.cart.line_of(&ProductId::new(request.line_id.as_str())).cloned() else {
            // The line may be the new product already: this offline upgrade was asked before
            // and its reply lost. Its session is the answer; a second one is never opened.
            if request.paid_offline && units_of(&before.cart, &request.product_id) > Decimal::ZERO {
                return self.offline_again(ctx, cart, before, request, to, quantity).await;
            }
            return Err(Error::not_found(
                PROVIDER,
                UPGRADE,
                format!("cart {cart} has no line {}", request.line_id),
            ));
        };
        // Several upgraded lines of this product that the vendor would charge differently: it
        // upgrades one of them (which one, the contract does not say), so the charge cannot be
        // told (`Cart::line_of` takes the first such line; the simulator upgrades the last).
        if let Some(shown) = line.upgrade.as_ref() {
            let differs = before.cart.lines.iter().any(|l| {
                l.product_id == line.product_id
                    && l.upgrade.as_ref().is_some_and(|u| u.status != shown.status || u.from != shown.from)
            });
            if differs {
                return Err(several_heads(cart, &line.product_id));
            }
        }
        let head = Self::product(UPGRADE, &line.product_id, "line_id")?;
        let first = Self::chain_start(&before, &line, head, request)?;
        let amount =
            first.map(|f| self.upgrade_amount(UPGRADE, &before, &line, f, to, quantity)).transpose()?;
        let origin = ProductId::new(first.unwrap_or(head).to_string());
        let upgrade = wire::UpgradeFields {
            // The chain's current head (§7.2 rule 1): for an upgrade of an upgrade, the previous step.
            preview_product_id: head,
            preview_quantity: quantity,
            parent_session_id: request.paid_offline.then(|| cart.as_str().to_string()),
        };
        let line_request = self.line(UPGRADE, &before.catalogue, to, quantity)?;
        let test = self.test(Some(&before));
        // A partial upgrade asked again after a lost reply leaves the rest of the line, so the
        // chain the cart lists for these very units, still a preview, is the earlier request's
        // (the simulator's `upgrades[]`; the contract's cart GET shows none, so there a repeat
        // is sent again: see `names::cart::UPGRADES`).
        let pending = |c: &wire::UpgradeChain| {
            c.head == to
                && c.status == Some(wire::UpgradeStatus::Preview)
                && c.first == first
                && c.quantity == Some(quantity)
        };
        if request.paid_offline {
            // The session an earlier request opened for these units, else a new one: an offline
            // payment cannot take a delta, so the difference is paid in a new session naming
            // the paid one, created by the client (§7.2 rule 7, §9.4 step 2a).
            let child = match upgrade_session(&before.wire, pending) {
                Some(child) => child,
                None => {
                    let body = wire::NewSessionRequest {
                        product: line_request,
                        customer_ip: None,
                        behavior_id: test.then_some(names::BEHAVIOR_TEST),
                        upgrade: Some(upgrade),
                    };
                    match self.client.new_session(ctx, UPGRADE, &body, test).await {
                        Ok(id) => CartId::new(id),
                        // The vendor may have opened the session: only the cart read back can
                        // say (§10, checklist 25).
                        Err(e) if e.effect() == WriteEffect::Unknown => {
                            let sent = Sent { line: &line.product_id, to, quantity, amount };
                            return self.reconcile_offline(ctx, cart, before, request, sent, e).await;
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            // The session exists from here on: its id reaches the caller whatever the read back
            // does, or the customer could never pay the difference.
            let read = self.read_after(ctx, UPGRADE, &child, before.catalogue).await;
            return payment_required(
                read,
                &child,
                cart,
                &request.product_id,
                quantity,
                amount,
                CartStatus::Open,
                None,
            );
        }
        // The vendor charges the chain from its first product (§7.1, §9.2); where neither the
        // cart nor the shop says which that is, the charge cannot be told: not sent.
        let Some(amount) = amount else { return Err(unknown_start(cart, &line.product_id)) };
        // The same card upgrade asked again: its chain is the answer, and a second `add` would
        // upgrade more units and charge the card again.
        if let Some(chain) = before.wire.upgrades.iter().find(|c| pending(c)) {
            return match chain.session_id.clone().map(CartId::new) {
                // The vendor opened the session for the difference itself (§9.4 step 2b).
                Some(child) => {
                    let read = self.read(ctx, UPGRADE, &child).await;
                    let waiting = CartStatus::AwaitingPayment;
                    payment_required(
                        read,
                        &child,
                        cart,
                        &request.product_id,
                        quantity,
                        Some(amount),
                        waiting,
                        None,
                    )
                }
                None => Ok(UpgradeOutcome::Pending { cart: before.cart, amount }),
            };
        }
        let target = ProductId::new(to.to_string());
        let body = wire::AddRequest { line: line_request, upgrade: Some(upgrade) };
        let reply = self.client.add(ctx, UPGRADE, cart.as_str(), &body, test).await;
        let after = match reply {
            // Taken: a read back that fails never says otherwise, or a retry would charge again.
            Ok(wire::AddReply::SameSession) => {
                let read = self.read_after(ctx, UPGRADE, cart, before.catalogue.clone()).await;
                read.map_err(|e| {
                    let took = format!(
                        "eManage took the upgrade of line {} of cart {cart} to {to} ({} to capture on the \
                         card on file, now or after its funnel window)",
                        request.line_id,
                        amount.amount_string()
                    );
                    written_unread(
                        e,
                        &took,
                        "read the cart (Carts::get) for its status; do not upgrade again",
                    )
                })?
            }
            // The session was paid offline and the server opened the new session itself
            // (§9.4 step 2b).
            // Its payment step is the reply's `callBackUrl`, which no cart read may show again.
            Ok(wire::AddReply::NewSession { session_id, call_back_url }) => {
                let child = CartId::new(session_id);
                let read = self.read(ctx, UPGRADE, &child).await;
                let waiting = CartStatus::AwaitingPayment;
                return payment_required(
                    read,
                    &child,
                    cart,
                    &request.product_id,
                    quantity,
                    Some(amount),
                    waiting,
                    call_back_url,
                );
            }
            // The add may have charged: read the cart back before deciding (§10, checklist 25).
            Err(e) if e.effect() == WriteEffect::Unknown => {
                let Ok(read) = self.read(ctx, UPGRADE, cart).await else { return Err(e) };
                match upgrade_read_back(&before.cart, &read.cart, &line.product_id, &target) {
                    UpgradeReadBack::Taken => match lost_add_taken(&before.wire, &read.wire, to, &origin) {
                        // The vendor opened the session for the difference itself (§9.4 step
                        // 2b): that session is the answer, as the lost reply would have been.
                        // Told `Pending`, the shop would wait for a capture that never comes
                        // (the session is discarded unpaid and the original ships).
                        LostAddTaken::NewSession(child) => {
                            let child_read = self.read_after(ctx, UPGRADE, &child, read.catalogue).await;
                            return payment_required(
                                child_read,
                                &child,
                                cart,
                                &request.product_id,
                                quantity,
                                Some(amount),
                                CartStatus::AwaitingPayment,
                                None,
                            );
                        }
                        LostAddTaken::SameSession => read,
                        LostAddTaken::SessionNotShown => {
                            let shown = format!(
                                "the cart reads back with {} where line {} was: eManage took the upgrade, \
                                 but lists no chain for it charged on the cart's payment",
                                request.product_id, request.line_id
                            );
                            return Err(session_may_exist(e, cart, &shown));
                        }
                    },
                    UpgradeReadBack::NotTaken => {
                        // Not taken so far; the request may still run at the vendor (see
                        // `reconcile_checkout`), so the effect stays unknown.
                        let message = format!(
                            "{}; the cart reads back without the upgrade, so nothing was charged so far (the \
                             request may still be processed: read the cart again before upgrading again)",
                            e.message()
                        );
                        return Err(e.with_message(message));
                    }
                    UpgradeReadBack::Unclear => {
                        let message = format!(
                            "{}; the cart read back does not show whether the upgrade was taken: check the \
                             order in eManage before upgrading again",
                            e.message()
                        );
                        return Err(e.with_message(message));
                    }
                }
            }
            Err(e) => return Err(e),
        };
        let marks = after.marks_upgrades();
        Ok(upgrade_outcome(&before.cart, after.cart, marks, &target, &origin, amount))
    }
}

impl EmanageAdapter {
    /// Where the chain through `line` (product `head`) starts (§7.2 rule 1), from what the
    /// vendor shows and the shop gives, never from memory (another instance, or this one after
    /// a restart, must answer the same): the line's own upgrade fields when the cart shows
    /// them; else the line itself when the cart GET is one that marks upgrade heads (it
    /// carries a session status or upgrade fields, as the simulator's extras do), since an
    /// unmarked line there is a plain one; else the request's `first_product`. `None`: the
    /// cart GET cannot tell a head from a plain line (the contract's five fields, §6.4 row 5)
    /// and the shop did not say what it sold.
    fn chain_start(read: &Read, line: &CartLine, head: i64, request: &UpgradeRequest) -> Result<Option<i64>> {
        if let Some(u) = &line.upgrade {
            return Self::product(UPGRADE, &u.from, "line_id").map(Some);
        }
        if read.marks_upgrades() {
            return Ok(Some(head));
        }
        request.first_product.as_ref().map(|p| Self::product(UPGRADE, p, "first_product")).transpose()
    }

    /// An offline upgrade asked again whose line is the new product already (see
    /// `upgrade_cart`): the session the cart lists for the chain headed by `to` when it shows
    /// one, else the error that such a session may exist.
    async fn offline_again(
        &self,
        ctx: &Context,
        cart: &CartId,
        before: Read,
        request: &UpgradeRequest,
        to: i64,
        quantity: u32,
    ) -> Result<UpgradeOutcome> {
        let taken = |c: &wire::UpgradeChain| c.head == to && c.status != Some(wire::UpgradeStatus::Discarded);
        match upgrade_session(&before.wire, taken) {
            Some(child) => {
                let read = self.read_after(ctx, UPGRADE, &child, before.catalogue).await;
                payment_required(
                    read,
                    &child,
                    cart,
                    &request.product_id,
                    quantity,
                    None,
                    CartStatus::Open,
                    None,
                )
            }
            None => {
                let shown = format!(
                    "cart {cart} shows {} where line {} was: an upgrade to it was taken already",
                    request.product_id, request.line_id
                );
                Err(session_may_exist(Error::new(ErrorKind::Conflict, PROVIDER, UPGRADE), cart, &shown))
            }
        }
    }

    /// After an offline upgrade's `new` of unknown outcome: the parent read back decides
    /// (§10, checklist 25). Taken, the session the cart lists for it (new since `before`) is
    /// the answer, as the lost reply would have been; without one the error says such a
    /// session may exist. Not taken, nothing was opened so far (the effect stays `Unknown`:
    /// the request may still run).
    async fn reconcile_offline(
        &self,
        ctx: &Context,
        cart: &CartId,
        before: Read,
        request: &UpgradeRequest,
        sent: Sent<'_>,
        e: Error,
    ) -> Result<UpgradeOutcome> {
        let Ok(after) = self.read(ctx, UPGRADE, cart).await else {
            return Err(session_may_exist(e, cart, "the cart did not read back"));
        };
        match upgrade_read_back(&before.cart, &after.cart, sent.line, &request.product_id) {
            UpgradeReadBack::Taken => {
                let known: Vec<&str> =
                    before.wire.upgrades.iter().filter_map(|c| c.session_id.as_deref()).collect();
                let new = |c: &wire::UpgradeChain| {
                    c.head == sent.to
                        && c.status != Some(wire::UpgradeStatus::Discarded)
                        && c.session_id.as_deref().is_some_and(|s| !known.contains(&s))
                };
                let Some(child) = upgrade_session(&after.wire, new) else {
                    let shown = format!(
                        "the cart reads back with {} where line {} was: eManage took the upgrade",
                        request.product_id, request.line_id
                    );
                    return Err(session_may_exist(e, cart, &shown));
                };
                let read = self.read_after(ctx, UPGRADE, &child, after.catalogue).await;
                let status = CartStatus::Open;
                payment_required(
                    read,
                    &child,
                    cart,
                    &request.product_id,
                    sent.quantity,
                    sent.amount,
                    status,
                    None,
                )
            }
            UpgradeReadBack::NotTaken => {
                let message = format!(
                    "{}; the cart reads back without the upgrade, so no cart for the difference was opened \
                     so far (the request may still be processed: read the cart again before upgrading again)",
                    e.message()
                );
                Err(e.with_message(message))
            }
            UpgradeReadBack::Unclear => Err(session_may_exist(
                e,
                cart,
                "the cart read back does not show whether the upgrade was taken",
            )),
        }
    }
}

/// The operation name of `Carts::upgrade`.
const UPGRADE: &str = "carts.upgrade";

/// What an offline upgrade's `new` asked for, for its read-back.
struct Sent<'a> {
    /// The line upgraded (its product).
    line: &'a ProductId,
    to: i64,
    quantity: u32,
    amount: Option<Money>,
}

/// The offline-upgrade session the cart GET lists for the first chain `pick` accepts (the
/// simulator's `upgrades[]`, `names::cart::UPGRADES`; the contract shows no such list).
fn upgrade_session(w: &wire::CartResponse, pick: impl Fn(&wire::UpgradeChain) -> bool) -> Option<CartId> {
    w.upgrades.iter().filter(|c| pick(c)).find_map(|c| c.session_id.clone()).map(CartId::new)
}

/// `e`, saying that eManage may hold a cart for the difference of an offline upgrade whose id
/// only a lost reply carried, and how that resolves. Effect `Unknown`.
fn session_may_exist(e: Error, cart: &CartId, shown: &str) -> Error {
    let lead = if e.message().is_empty() { String::new() } else { format!("{}; ", e.message()) };
    let message = format!(
        "{lead}{shown}. An upgrade cart for the difference may exist at eManage, but its id was only in \
         the lost reply and the cart does not list it, so it cannot be paid through this adapter. Unpaid, \
         eManage discards it after its payment timeout (30 minutes) and the original product ships; \
         upgrade cart {cart} again after that, or find the upgrade cart in eManage"
    );
    e.with_effect(WriteEffect::Unknown).with_message(message)
}

/// The refusal of a same-session upgrade whose chain start neither the cart nor the request
/// shows (see `EmanageAdapter::chain_start`): `Invalid` naming `first_product`, nothing sent.
fn unknown_start(cart: &CartId, line: &ProductId) -> Error {
    let reason = format!(
        "eManage charges an upgrade of an upgrade from the chain's first product, and cart {cart} does not \
         show whether line {line} is itself an upgrade (its cart GET carries no upgrade fields), so the \
         charge cannot be told: give the product the line was sold as before any upgrade \
         (UpgradeRequest::with_first_product; for a first upgrade, {line} itself). Nothing was sent"
    );
    Error::invalid(PROVIDER, UPGRADE, "first_product", reason.clone())
        .with_effect(WriteEffect::NotSent)
        .with_message(reason)
}

/// The refusal of a same-session upgrade whose `a0` the cart does not show (see
/// `EmanageAdapter::upgrade_amount`): `Unsupported`, nothing sent. The vendor charges from the
/// price before discount (§7.2 rule 3; §8: an upgrade counts as the unit it replaces, keeping
/// its discount), and the cart GET shows prices after discount only (§6.4 row 5).
fn unknown_paid_price(cart: &CartId, line: &ProductId) -> Error {
    let message = format!(
        "eManage charges an upgrade from the price line {line} was paid at before its discount, and cart \
         {cart} does not show it: the campaign's price list no longer explains the line (a price changed \
         since the checkout) and the cart GET carries no listPrice, so the charge cannot be told. Nothing \
         was sent"
    );
    Error::new(ErrorKind::Unsupported, PROVIDER, UPGRADE)
        .with_effect(WriteEffect::NotSent)
        .with_message(message)
}

/// What the chain through head `line` is paid up to a unit (§7.2 rule 5: "total captured for
/// the chain = last − first", so `a0` plus what it captured a unit), from the chains the cart
/// lists (the simulator's `upgrades[]` with [`names::cart::UPGRADE_CAPTURED`]): those headed
/// by the line's product from `origin`, not discarded. `None` when the cart lists none of them
/// with what it captured. Several that were paid up to different prices: the vendor upgrades
/// one of them, and which one the contract does not say (the simulator takes the last), so
/// the charge cannot be told: `Conflict`, nothing sent.
fn chain_paid_up_to(before: &Read, line: &CartLine, origin: i64, a0: Money) -> Result<Option<Money>> {
    let Ok(head) = convert::product_id(&line.product_id, "line_id") else { return Ok(None) };
    let mut paid: Option<Money> = None;
    for c in before.wire.upgrades.iter().filter(|c| {
        c.head == head && c.first == Some(origin) && c.status != Some(wire::UpgradeStatus::Discarded)
    }) {
        let (Some(captured), Some(q)) = (c.captured, c.quantity.filter(|q| *q > 0)) else { return Ok(None) };
        let Ok(per_unit) =
            convert::money(captured / Decimal::from(q), a0.currency, names::cart::UPGRADE_CAPTURED)
        else {
            return Ok(None);
        };
        let up_to = a0.checked_add(per_unit).map_err(|e| Error::from_money(PROVIDER, UPGRADE, "price", e))?;
        match paid {
            Some(p) if p != up_to => return Err(several_heads(&before.cart.id, &line.product_id)),
            _ => paid = Some(up_to),
        }
    }
    Ok(paid)
}

/// The refusal of an upgrade of a line of a product that several upgraded lines (chains) of
/// the cart hold, in different states, from different first products or paid up to different
/// prices: the vendor upgrades one of them (the contract does not say which; the simulator
/// takes the last), so what it charges cannot be told. `Conflict` naming the product, nothing
/// sent.
fn several_heads(cart: &CartId, product: &ProductId) -> Error {
    Error::new(ErrorKind::Conflict, PROVIDER, UPGRADE).with_effect(WriteEffect::NotSent).with_message(
        format!(
            "cart {cart} holds several upgraded lines of product {product} that eManage charges differently \
         (other states, first products or amounts captured), and it upgrades one of them without saying \
         which, so the charge cannot be told: upgrade these lines in one request or after the step is \
         charged. Nothing was sent"
        ),
    )
}

/// The refusal of a step from a charged head whose chain's captures the cart does not show
/// (see [`chain_paid_up_to`]): `Unsupported`, nothing sent. The head's price now is not what
/// the chain was paid up to after a charged step down (100 → 140 → 120 was paid up to 140), so
/// the charge of a next step cannot be told.
fn unknown_captured(cart: &CartId, line: &ProductId) -> Error {
    let message = format!(
        "eManage charges a further upgrade of line {line} from what its upgrade chain was paid up to, and \
         cart {cart} shows its step charged but not what the chain captured (a step down leaves the line \
         priced below it), so the charge cannot be told. Nothing was sent"
    );
    Error::new(ErrorKind::Unsupported, PROVIDER, UPGRADE)
        .with_effect(WriteEffect::NotSent)
        .with_message(message)
}

impl EmanageAdapter {
    /// What the vendor captures for this step (§7.2 rules 3 and 5): the chain costs
    /// `q × (ak − a0)`, never negative; under the remainder policy a step takes only what the
    /// chain still owes: from what the chain is paid up to, `a0` plus what the cart lists it
    /// captured a unit ([`chain_paid_up_to`]). Where the cart does not list that, a head still
    /// a preview is counted as owing the whole chain, and a charged head is refused unsent
    /// ([`unknown_captured`]): after a charged step down its price is below what the chain was
    /// paid up to, so the amount cannot be told.
    ///
    /// `a0` is the unit price the chain's first product was *paid* at before discount, as the
    /// cart shows it ([`convert::LineFacts::list_unit`]): of the upgraded line itself on a
    /// first upgrade, else of a plain line of that product the cart still holds (the rest of a
    /// split line). A discounted line the price list no longer explains (its price moved since
    /// the checkout, §1) on a cart GET without `listPrice` shows only its price after discount:
    /// refused unsent ([`unknown_paid_price`]), as the vendor would charge from another `a0`.
    /// Only when the cart shows no such line is it today's list price, which a campaign change
    /// since the checkout may have moved. `ak` is today's price of the new product: the
    /// price the `add` sends. Computed before any write: an error is `NotSent`.
    fn upgrade_amount(
        &self,
        op: &str,
        before: &Read,
        line: &loyalty_core::CartLine,
        origin: i64,
        to: i64,
        quantity: u32,
    ) -> Result<Money> {
        let currency = self.config.currency;
        let listed = |id: i64| before.catalogue.price(id, currency, "product_id").map_err(|e| e.protocol(op));
        let origin_id = ProductId::new(origin.to_string());
        // A plain line of the first product: the upgraded line itself on a first upgrade (a
        // line that is no head is the first of its product, `Cart::line_of`), else the rest of
        // a split line. Its price before discount, as paid; a line whose discount the cart
        // does not show cannot give it.
        let plain = before.cart.lines.iter().position(|l| l.product_id == origin_id && l.upgrade.is_none());
        let a0 = match plain {
            Some(i) => before
                .facts
                .get(i)
                .and_then(|f| f.list_unit)
                .ok_or_else(|| unknown_paid_price(&before.cart.id, &origin_id)),
            None => listed(origin),
        };
        let amount = a0.and_then(|a0| {
            let a_new = listed(to)?;
            // What the chain is paid up to a unit: `a0` plus what it captured a unit, as the
            // cart lists it; a preview head whose chain's captures are not shown owes the
            // whole chain; a charged head's, not shown, cannot be told (its price now is not
            // it: after a charged step down, the chain was paid up to more).
            let paid_up_to = match (self.config.upgrade_capture_policy, &line.upgrade) {
                (CapturePolicy::Remainder, Some(u)) => match chain_paid_up_to(before, line, origin, a0)? {
                    Some(paid) => paid,
                    None if u.status == UpgradeStatus::Charged => {
                        return Err(unknown_captured(&before.cart.id, &line.product_id))
                    }
                    None => a0,
                },
                _ => a0,
            };
            let per_unit = a_new
                .checked_sub(paid_up_to)
                .map(|d| d.minor.max(0))
                .map_err(|e| Error::from_money(PROVIDER, op, "price", e))?;
            Money::new(per_unit, currency)
                .checked_mul(i64::from(quantity))
                .map_err(|e| Error::from_money(PROVIDER, op, "quantity", e))
        });
        amount.map_err(|e| e.with_effect(WriteEffect::NotSent))
    }
}

impl Provider for EmanageAdapter {
    fn name(&self) -> &str {
        PROVIDER
    }
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }
    fn members(&self) -> Option<&dyn Members> {
        None
    }
    fn offers(&self) -> Option<&dyn Offers> {
        Some(self)
    }
    fn holds(&self) -> Option<&dyn Holds> {
        None
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        None
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        None
    }
    fn carts(&self) -> Option<&dyn Carts> {
        Some(self)
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        None
    }
}

#[cfg(test)]
mod tests {
    //! The read-back decisions on cart GET bodies as the live API may send them: `products[]`
    //! only, none of the simulator's extras (`names::cart`).

    use chrono::Utc;
    use loyalty_core::Currency;

    use super::*;

    const P0: &str = "918325";
    const P1: &str = "918446";

    fn catalogue() -> convert::Catalogue {
        let p = |id: i64, price: i64| wire::ProductPrice {
            product_id: id,
            product_name: None,
            sku: None,
            quantity: Some(1),
            discounted_price: Decimal::from(price),
            full_retail_price: None,
            shippings: Vec::new(),
        };
        convert::Catalogue::new(vec![p(918_325, 100), p(918_446, 120), p(918_447, 140)])
    }

    /// The cart GET `body` decoded and priced as the adapter does: the wire reply and the cart.
    fn read(body: &str) -> (wire::CartResponse, Cart) {
        let w = wire::decode_cart(body.as_bytes()).expect("cart decodes");
        let catalogue = catalogue();
        let pricing = convert::Pricing {
            catalogue: &catalogue,
            offer: None,
            rule: convert::DiscountRule::default(),
            currency: Currency::USD,
            now: Utc::now(),
        };
        let cart = convert::cart(&CartId::new("s"), &w, &pricing).expect("cart prices");
        (w, cart)
    }

    fn live(lines: &[(&str, u32)]) -> (wire::CartResponse, Cart) {
        let prices = catalogue();
        let products: Vec<String> = lines
            .iter()
            .map(|(p, q)| {
                let price = prices.product(p.parse().unwrap()).unwrap().discounted_price;
                format!(r#"{{"productId":"{p}","productName":"x","price":"{price}","quantity":"{q}","shippingPrice":0}}"#)
            })
            .collect();
        read(&format!(r#"{{"products":[{}]}}"#, products.join(",")))
    }

    fn id(p: &str) -> ProductId {
        ProductId::new(p)
    }

    #[test]
    fn a_live_cart_without_status_reads_open_but_never_says_nothing_was_charged() {
        let (w, cart) = live(&[(P0, 1)]);
        assert_eq!((w.status.clone(), cart.status), (None, CartStatus::Open));
        assert_eq!(checkout_read_back(w.status.is_some(), &cart), CheckoutReadBack::NotShown);
    }

    #[test]
    fn only_a_status_the_vendor_sent_decides_a_checkout_read_back() {
        let body = |status: &str, extra: &str| {
            format!(
                r#"{{"products":[{{"productId":918325,"price":100,"quantity":1}}],"status":"{status}"{extra}}}"#
            )
        };
        let decide = |b: String| {
            let (w, cart) = read(&b);
            checkout_read_back(w.status.is_some(), &cart)
        };
        assert_eq!(decide(body("Open", "")), CheckoutReadBack::Open);
        assert_eq!(decide(body("Paid", r#","shoppingCartNumber":20000017"#)), CheckoutReadBack::Paid);
        assert_eq!(decide(body("Paid", "")), CheckoutReadBack::Unclear);
        assert_eq!(decide(body("AwaitingPayment", "")), CheckoutReadBack::Waiting);
        assert_eq!(decide(body("Discarded", "")), CheckoutReadBack::Unclear);
    }

    #[test]
    fn a_live_cart_whose_line_became_the_new_product_shows_the_upgrade_taken() {
        // §7.1 [G]: the upgraded line's product becomes the new product; no upgrade fields.
        let (_, before) = live(&[(P0, 1)]);
        let (_, after) = live(&[(P1, 1)]);
        assert!(after.lines[0].upgrade.is_none());
        assert_eq!(upgrade_read_back(&before, &after, &id(P0), &id(P1)), UpgradeReadBack::Taken);
        // A partial upgrade splits the line (§7.2 rule 2).
        let (_, before) = live(&[(P0, 2)]);
        let (_, after) = live(&[(P0, 1), (P1, 1)]);
        assert_eq!(upgrade_read_back(&before, &after, &id(P0), &id(P1)), UpgradeReadBack::Taken);
    }

    #[test]
    fn only_a_cart_unchanged_for_head_and_new_product_says_nothing_was_charged() {
        let (_, before) = live(&[(P0, 1)]);
        let (_, same) = live(&[(P0, 1)]);
        assert_eq!(upgrade_read_back(&before, &same, &id(P0), &id(P1)), UpgradeReadBack::NotTaken);
        // The head shrank without the new product growing: not shown what happened.
        let (_, before) = live(&[(P1, 1), (P0, 1)]);
        let (_, after) = live(&[(P0, 1)]);
        assert_eq!(upgrade_read_back(&before, &after, &id(P1), &id("918447")), UpgradeReadBack::Unclear);
        // An upgrade to the head's own product can never be told apart.
        assert_eq!(upgrade_read_back(&before, &before, &id(P1), &id(P1)), UpgradeReadBack::Unclear);
    }

    #[test]
    fn what_a_chain_was_paid_up_to_comes_from_what_the_cart_lists_it_captured() {
        let read_of = |chains: &str| {
            let body = format!(
                r#"{{"products":[{{"productId":918446,"price":120,"quantity":1,"upgradeStatus":"charged","upgradedFromProductId":918325}}],"status":"Paid","upgrades":[{chains}]}}"#
            );
            let (w, cart) = read(&body);
            Read { wire: w, charged: cart.total, cart, facts: Vec::new(), catalogue: catalogue() }
        };
        let chain = |captured: &str| {
            format!(
                r#"{{"upgradedFromProductId":918325,"productId":918446,"quantity":1,"status":"charged"{captured}}}"#
            )
        };
        let a0 = Money::new(10_000, Currency::USD);
        let paid = |r: &Read| chain_paid_up_to(r, &r.cart.lines[0].clone(), 918_325, a0);
        // 100 -> 140 -> 120, 40 captured: paid up to 140, not the head's 120.
        let r = read_of(&chain(r#","captured":40"#));
        assert_eq!(paid(&r).unwrap(), Some(Money::new(14_000, Currency::USD)));
        // Not listed: not shown (a charged head is then refused unsent).
        assert_eq!(paid(&read_of(&chain(""))).unwrap(), None);
        assert_eq!(paid(&read_of("")).unwrap(), None);
        // Two chains of the product paid up to different prices: which one the vendor takes
        // is not said, so nothing is sent.
        let both = read_of(&[chain(r#","captured":40"#), chain(r#","captured":20"#)].join(","));
        let e = paid(&both).unwrap_err();
        assert_eq!((e.kind(), e.effect()), (&ErrorKind::Conflict, WriteEffect::NotSent));
        let e = unknown_captured(&CartId::new("s"), &id(P1));
        assert_eq!((e.kind(), e.effect()), (&ErrorKind::Unsupported, WriteEffect::NotSent));
    }

    #[test]
    fn a_lost_add_read_back_names_only_a_session_new_since_the_add() {
        let cart = |chains: &str| {
            wire::decode_cart(format!(r#"{{"products":[],"upgrades":[{chains}]}}"#).as_bytes()).unwrap()
        };
        let chain = |session: &str| {
            format!(
                r#"{{"upgradedFromProductId":918325,"productId":918446,"quantity":1,"status":"preview","upgradeSessionId":{session}}}"#
            )
        };
        let (empty, old) = (cart(""), cart(&chain(r#""a""#)));
        let decide = |before: &wire::CartResponse, after: &wire::CartResponse| {
            lost_add_taken(before, after, 918_446, &id(P0))
        };
        // A session the vendor opened for this `add` (§9.4 step 2b).
        assert_eq!(decide(&empty, &old), LostAddTaken::NewSession(CartId::new("a")));
        let both = cart(&[chain(r#""a""#), chain(r#""b""#)].join(","));
        assert_eq!(decide(&old, &both), LostAddTaken::NewSession(CartId::new("b")));
        // The chain on the cart's own payment: its status answers.
        assert_eq!(decide(&empty, &cart(&chain("null"))), LostAddTaken::SameSession);
        // The contract's cart GET lists no chains: the shop's `paid_offline` decides.
        assert_eq!(decide(&empty, &empty), LostAddTaken::SameSession);
        // Chains listed, but only a session known before: one may exist that cannot be named.
        assert_eq!(decide(&old, &old), LostAddTaken::SessionNotShown);
    }

    #[test]
    fn an_accepted_upgrade_on_a_live_cart_is_pending_and_discarded_when_its_product_did_not_grow() {
        let amount = Money::new(2000, Currency::USD);
        let (_, before) = live(&[(P0, 1)]);
        let (_, taken) = live(&[(P1, 1)]);
        assert!(matches!(
            upgrade_outcome(&before, taken, false, &id(P1), &id(P0), amount),
            UpgradeOutcome::Pending { amount: a, .. } if a == amount
        ));
        let (_, gone) = live(&[(P0, 1)]);
        assert!(matches!(
            upgrade_outcome(&before, gone, false, &id(P1), &id(P0), amount),
            UpgradeOutcome::Discarded { .. }
        ));
        // A plain line of the new product bought at checkout is no sign of the upgrade (§9.3).
        let (_, beside) = live(&[(P0, 1), (P1, 1)]);
        assert!(matches!(
            upgrade_outcome(&beside.clone(), beside, false, &id(P1), &id(P0), amount),
            UpgradeOutcome::Discarded { .. }
        ));
    }

    #[test]
    fn on_a_cart_that_marks_upgrades_only_the_upgrades_own_line_counts() {
        let amount = Money::new(2000, Currency::USD);
        let body = r#"{"products":[{"productId":918325,"price":100,"quantity":1},{"productId":918446,"price":120,"quantity":1}],"status":"Paid"}"#;
        let (_, after) = read(body);
        let (_, before) = live(&[(P0, 1), (P1, 1)]);
        assert!(matches!(
            upgrade_outcome(&before, after, true, &id(P1), &id(P0), amount),
            UpgradeOutcome::Discarded { .. }
        ));
    }

    #[test]
    fn an_upgrade_cart_that_cannot_be_read_back_is_still_answered_with_its_id() {
        // §7.2 rule 7: the new session exists once `new` answered; a failed read keeps its id.
        let failed = Err(Error::new(ErrorKind::Unavailable, PROVIDER, "carts.upgrade"));
        let (child, parent) = (CartId::new("b"), CartId::new("a"));
        let amount = Money::new(4000, Currency::USD);
        let outcome =
            payment_required(failed, &child, &parent, &id(P1), 2, Some(amount), CartStatus::Open, None)
                .unwrap();
        let UpgradeOutcome::PaymentRequired { cart, amount: due, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!((cart.id.clone(), cart.upgrade_parent.clone(), due), (child, Some(parent), amount));
        let line = &cart.lines[0];
        assert_eq!(
            (line.product_id.clone(), line.quantity, line.unit_price),
            (id(P1), 2.into(), Money::new(2000, Currency::USD))
        );
    }

    #[test]
    fn an_upgrade_cart_read_without_its_parent_field_is_named_after_the_paid_cart() {
        let (w, cart) = live(&[(P1, 1)]);
        let catalogue = catalogue();
        let charged = cart.total;
        let facts = Vec::new();
        let read = Read { wire: w, cart, facts, catalogue, charged };
        let outcome = payment_required(
            Ok(read),
            &CartId::new("s"),
            &CartId::new("a"),
            &id(P1),
            1,
            Some(Money::new(2000, Currency::USD)),
            CartStatus::Open,
            None,
        )
        .unwrap();
        assert_eq!(outcome.cart().upgrade_parent, Some(CartId::new("a")));
    }

    #[test]
    fn the_simulators_upgrade_status_still_decides_when_it_is_shown() {
        let amount = Money::new(2000, Currency::USD);
        let body = |status: &str| {
            format!(
                r#"{{"products":[{{"productId":918446,"price":120,"quantity":1,"upgradeStatus":"{status}","upgradedFromProductId":918325}}],"status":"Paid"}}"#
            )
        };
        let (_, charged) = read(&body("charged"));
        let (_, before) = live(&[(P0, 1)]);
        let outcome = |after| upgrade_outcome(&before, after, true, &id(P1), &id(P0), amount);
        assert!(matches!(outcome(charged), UpgradeOutcome::Charged { .. }));
        let (_, preview) = read(&body("preview"));
        assert!(matches!(outcome(preview), UpgradeOutcome::Pending { .. }));
    }
}
