//! Carts with upsell upgrades and dropship fulfilment, in memory.
//!
//! Carts behave as the core's `Carts` contract says and as eManage does: a cart opens with its
//! first line, is priced with the campaign offers everyone gets (progressive discounts), is
//! paid by card (declined for [`demo::CARD_DECLINED`](crate::demo::CARD_DECLINED) or an
//! expired card), by a card on file, or by a processor that waits for the customer; a paid
//! cart is upgraded line by line, last minus first, charged at once on a card (up to
//! [`UPGRADE_CHARGE_ATTEMPTS`] tries) or paid in a new cart when the cart was paid through a
//! processor. A payment left waiting for [`PAYMENT_TIMEOUT_SECS`] is given up.

use std::collections::HashMap;

use async_trait::async_trait;
use loyalty_core::checkout::{ActionKind, PaymentAction};
use loyalty_core::{
    Basket, Cart, CartCheckout, CartId, CartLine, CartOrder, CartPayment, CartStatus, Carts, Context,
    Courier, CourierQuery, Customer, DropshipOrder, Error, ErrorKind, Fulfilment, Line, LineId, LineUpgrade,
    Money, NewCart, Offer, OfferKind, OrderId, OrderLine, OrderStatus, PlacedOrder, ProductId, PushedRequest,
    Recipient, Result, ShipmentNotice, Shortfall, StockLevel, UpgradeOutcome, UpgradeRequest, UpgradeStatus,
};
use rust_decimal::Decimal;

use crate::provider::{MemoryProvider, PROVIDER};
use crate::state::{CartRec, ChainRec, OrderRec, PaidWith, State};

/// How long a payment may wait for the customer before it is given up (as eManage's redirect
/// timeout).
pub const PAYMENT_TIMEOUT_SECS: i64 = 30 * 60;

/// Tries of one upgrade charge before the upgrade is discarded.
pub const UPGRADE_CHARGE_ATTEMPTS: u32 = 3;

impl MemoryProvider {
    /// Adds a product customers can put in carts, and the products it can be upgraded to.
    pub fn add_product(&self, product: impl Into<ProductId>, price: Money, upgrades: &[&str]) {
        let product = product.into();
        let mut st = self.lock();
        st.prices.insert(product.clone(), price);
        st.upgrades.insert(product, upgrades.iter().map(|p| ProductId::new(*p)).collect());
    }

    /// Makes the next upgrade charge fail on every attempt (the upgrade is then discarded).
    pub fn fail_next_upgrade_charge(&self) {
        self.lock().fail_upgrade_charge = true;
    }

    /// Upgrade charge attempts made so far.
    pub fn upgrade_charge_attempts(&self) -> u32 {
        self.lock().upgrade_charge_attempts
    }

    /// The customer completes the payment `cart` waits for (back from the redirect, or the
    /// offline payment arrived). False when nothing waits.
    pub fn complete_cart_payment(&self, cart: &CartId) -> bool {
        let now = self.now();
        let mut st = self.lock();
        sweep(&mut st, now);
        let Some(rec) = st.carts.get_mut(cart.as_str()) else { return false };
        let Some((_, _, with)) = rec.pending.take() else { return false };
        rec.cart.status = CartStatus::Paid;
        rec.paid_with = Some(with);
        rec.charged = Some(rec.cart.total);
        paid_upgrade(&mut st, cart.as_str());
        if let Some((parent, _, _)) = st.carts.get(cart.as_str()).and_then(|r| r.parent.clone()) {
            let _ = reprice(&mut st, &parent, now, "carts.checkout");
        }
        true
    }

    /// The customer gives up the payment `cart` waits for: the cart is open again (an upgrade
    /// cart is discarded and its parent keeps the product paid before). False when nothing
    /// waits.
    pub fn abandon_cart_payment(&self, cart: &CartId) -> bool {
        let now = self.now();
        let mut st = self.lock();
        sweep(&mut st, now);
        let waiting = st.carts.get(cart.as_str()).is_some_and(|r| r.pending.is_some());
        if waiting {
            give_up(&mut st, cart.as_str(), now);
        }
        waiting
    }

    /// Dropship stock of a product at the wholesaler.
    pub fn set_stock(&self, product: impl Into<ProductId>, units: Decimal) {
        self.lock().stock.insert(product.into(), units);
    }

    /// Adds a courier.
    pub fn add_courier(&self, courier: Courier) {
        self.lock().couriers.push(courier);
    }

    /// Dispatches a dropship order in parcels with these tracking numbers (what the wholesaler
    /// does) and returns the shipment notice the memory wholesaler pushes for it: headers
    /// (`event-id`) and a JSON body that [`Fulfilment::parse_shipment_notice`] reads.
    pub fn dispatch(&self, order: &OrderId, tracking: &[&str]) -> Result<PushedNotice> {
        let mut st = self.lock();
        let event = st.next_id("event");
        let at = self.now();
        let rec = st
            .orders
            .get_mut(order.as_str())
            .ok_or_else(|| Error::not_found(PROVIDER, "fulfilment.dispatch", format!("no order {order}")))?;
        rec.status.dispatched = true;
        rec.status.status = "dispatched".into();
        rec.status.dispatched_at = Some(at);
        rec.status.shipments.extend(tracking.iter().map(|t| t.to_string()));
        let body = serde_json::json!({
            "order_id": order.as_str(),
            "reference": rec.status.reference,
            "tracking_numbers": tracking,
            "courier": rec.courier_id,
            "at": at,
        });
        Ok((vec![("event-id".to_string(), event)], body.to_string().into_bytes()))
    }
}

/// A shipment notice as pushed: headers and body.
pub type PushedNotice = (Vec<(String, String)>, Vec<u8>);

fn cart_rec<'a>(st: &'a mut State, cart: &CartId, op: &str) -> Result<&'a mut CartRec> {
    st.carts.get_mut(cart.as_str()).ok_or_else(|| Error::not_found(PROVIDER, op, format!("no cart {cart}")))
}

fn conflict(op: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Conflict, PROVIDER, op).with_message(message)
}

/// An open, ordinary cart (an upgrade cart holds only its difference and never changes).
fn open_cart<'a>(st: &'a mut State, cart: &CartId, op: &str) -> Result<&'a mut CartRec> {
    let rec = cart_rec(st, cart, op)?;
    if rec.cart.status != CartStatus::Open {
        return Err(conflict(op, "cart is no longer open"));
    }
    if rec.parent.is_some() {
        return Err(conflict(op, "an upgrade cart holds only its difference"));
    }
    Ok(rec)
}

fn whole_units(op: &str, quantity: Decimal) -> Result<i64> {
    if quantity < Decimal::ONE || quantity.fract() != Decimal::ZERO {
        return Err(Error::invalid(PROVIDER, op, "quantity", "must be a whole number of at least one"));
    }
    i64::try_from(quantity).map_err(|_| Error::invalid(PROVIDER, op, "quantity", "too large"))
}

fn money_err(op: &str, e: loyalty_core::MoneyError) -> Error {
    Error::from_money(PROVIDER, op, "lines", e)
}

/// Campaign offers every customer gets that price carts: the progressive discounts.
fn cart_offers(st: &State) -> Vec<Offer> {
    st.offers
        .iter()
        .filter(|d| d.guests && matches!(d.offer.kind, OfferKind::ProgressiveDiscount { .. }))
        .map(|d| d.offer.clone())
        .collect()
}

/// Prices a cart through the pricing engine. An upgrade line counts as the unit it replaced
/// (so an upgrade never moves a tier) and adds its difference undiscounted; an upgrade cart's
/// difference is never discounted.
fn reprice(st: &mut State, cart: &str, now: chrono::DateTime<chrono::Utc>, op: &str) -> Result<()> {
    let offers = cart_offers(st);
    let Some(rec) = st.carts.get_mut(cart) else { return Ok(()) };
    let currency = rec.cart.total.currency;
    let mut basket = Basket::new(currency);
    for l in &rec.cart.lines {
        let (product, price) = match rec.chains.get(l.line_id.as_str()) {
            Some(c) => (c.origin.clone(), c.origin_price),
            None => (l.product_id.clone(), l.unit_price),
        };
        basket = basket.with_line(Line::new(l.line_id.clone(), product, l.quantity, price));
    }
    let offers = if rec.parent.is_some() { Vec::new() } else { offers };
    let priced = loyalty_core::pricing::price(&basket, &offers, &[], now).map_err(|e| {
        Error::new(ErrorKind::Invalid { field: "cart".into(), reason: e.to_string() }, PROVIDER, op)
    })?;
    for (line, p) in rec.cart.lines.iter_mut().zip(&priced.lines) {
        let units = whole_units(op, line.quantity)?;
        let gross = line.unit_price.checked_mul(units).map_err(|e| money_err(op, e))?;
        line.discount = p.discount;
        line.net = gross.checked_sub(p.discount).map_err(|e| money_err(op, e))?;
    }
    rec.cart.total =
        Money::sum(currency, rec.cart.lines.iter().map(|l| l.net)).map_err(|e| money_err(op, e))?;
    Ok(())
}

/// Gives up every payment that waited too long, and every upgrade cart never checked out.
fn sweep(st: &mut State, now: chrono::DateTime<chrono::Utc>) {
    let limit = chrono::Duration::seconds(PAYMENT_TIMEOUT_SECS);
    let due: Vec<String> = st
        .carts
        .iter()
        .filter(|(_, r)| match (&r.pending, r.cart.status) {
            (Some((since, _, _)), _) => *since + limit <= now,
            (None, CartStatus::Open) => r.parent.is_some() && r.created_at + limit <= now,
            _ => false,
        })
        .map(|(id, _)| id.clone())
        .collect();
    for id in due {
        give_up(st, &id, now);
    }
}

/// The payment of `cart` is given up: it is open again, or discarded for an upgrade cart,
/// whose parent line goes back to the product paid before.
fn give_up(st: &mut State, cart: &str, now: chrono::DateTime<chrono::Utc>) {
    let Some(rec) = st.carts.get_mut(cart) else { return };
    rec.pending = None;
    let Some((parent, line, _)) = rec.parent.clone() else {
        rec.cart.status = CartStatus::Open;
        return;
    };
    rec.cart.status = CartStatus::Discarded;
    discard_step(st, &parent, &line);
    // Repricing a cart that priced before cannot fail: its lines and offers are unchanged.
    let _ = reprice(st, &parent, now, "carts.upgrade");
}

/// An upgrade cart was paid: its parent's chain is charged and the upgrade ships.
fn paid_upgrade(st: &mut State, cart: &str) {
    let Some((parent, line, per_unit)) = st.carts.get(cart).and_then(|r| r.parent.clone()) else { return };
    let Some(p) = st.carts.get_mut(&parent) else { return };
    let Some(l) = p.cart.lines.iter_mut().find(|l| l.line_id.as_str() == line) else { return };
    if let Some(c) = p.chains.get_mut(&line) {
        c.captured_per_unit += per_unit.minor;
        c.paid_product = l.product_id.clone();
        c.paid_price = l.unit_price;
        c.child = None;
        l.upgrade = Some(LineUpgrade::new(c.origin.clone(), UpgradeStatus::Charged));
    }
}

/// The latest step of the chain on `line` was not paid: the line goes back to the last product
/// paid for; back at the original product, it merges with a plain line of that product.
fn discard_step(st: &mut State, cart: &str, line: &str) {
    let Some(rec) = st.carts.get_mut(cart) else { return };
    let Some(chain) = rec.chains.get_mut(line) else { return };
    chain.child = None;
    let (product, price, origin) = (chain.paid_product.clone(), chain.paid_price, chain.origin.clone());
    let Some(i) = rec.cart.lines.iter().position(|l| l.line_id.as_str() == line) else { return };
    if product != origin {
        let l = &mut rec.cart.lines[i];
        l.product_id = product;
        l.unit_price = price;
        l.upgrade = Some(LineUpgrade::new(origin, UpgradeStatus::Charged));
        return;
    }
    rec.chains.remove(line);
    let plain = rec
        .cart
        .lines
        .iter()
        .position(|l| l.product_id == origin && l.line_id.as_str() != line && l.upgrade.is_none());
    match plain {
        Some(j) => {
            let q = rec.cart.lines[i].quantity;
            rec.cart.lines[j].quantity += q;
            rec.cart.lines.remove(i);
        }
        None => {
            let l = &mut rec.cart.lines[i];
            l.product_id = origin;
            l.unit_price = price;
            l.upgrade = None;
        }
    }
}

fn order_for(st: &mut State, cart: &str) -> OrderId {
    if let Some(o) = st.carts.get(cart).and_then(|r| r.cart.order.clone()) {
        return o;
    }
    let seq = st.next_id("order");
    let test = st.carts.get(cart).is_some_and(|r| r.test);
    // Test carts get orders the vendor never fulfils; the id says so.
    let order = OrderId::new(if test { format!("test-{seq}") } else { seq });
    if let Some(r) = st.carts.get_mut(cart) {
        r.cart.order = Some(order.clone());
    }
    order
}

fn paid_order(rec: &CartRec) -> Option<CartOrder> {
    let order = rec.cart.order.clone()?;
    let o = CartOrder::new(order, rec.cart.id.clone(), rec.charged.unwrap_or(rec.cart.total));
    Some(match &rec.card_on_file {
        Some(card) => o.with_card_on_file(card.clone()),
        None => o,
    })
}

#[async_trait]
impl Carts for MemoryProvider {
    async fn create(&self, ctx: &Context, request: &NewCart) -> Result<Cart> {
        const OP: &str = "carts.create";
        let result = self.create_cart(ctx, request).await;
        // The state changed; a reply due to be lost (`lose_reply_next`) is lost after it.
        self.reply(OP, result)
    }

    async fn get(&self, _ctx: &Context, cart: &CartId) -> Result<Cart> {
        self.injected("carts.get").await?;
        let now = self.now();
        let mut st = self.lock();
        sweep(&mut st, now);
        Ok(cart_rec(&mut st, cart, "carts.get")?.cart.clone())
    }

    async fn add_line(
        &self,
        ctx: &Context,
        cart: &CartId,
        product: &ProductId,
        quantity: Decimal,
    ) -> Result<Cart> {
        const OP: &str = "carts.add_line";
        let result = self.add_cart_line(ctx, cart, product, quantity).await;
        // The state changed; a reply due to be lost (`lose_reply_next`) is lost after it.
        self.reply(OP, result)
    }

    async fn set_quantity(
        &self,
        _ctx: &Context,
        cart: &CartId,
        line: &LineId,
        quantity: Decimal,
    ) -> Result<Cart> {
        const OP: &str = "carts.set_quantity";
        self.injected(OP).await?;
        whole_units(OP, quantity)?;
        let now = self.now();
        let mut st = self.lock();
        sweep(&mut st, now);
        let rec = open_cart(&mut st, cart, OP)?;
        let l = rec
            .cart
            .lines
            .iter_mut()
            .find(|l| &l.line_id == line)
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no line {line}")))?;
        l.quantity = quantity;
        reprice(&mut st, cart.as_str(), now, OP)?;
        Ok(cart_rec(&mut st, cart, OP)?.cart.clone())
    }

    async fn remove_line(&self, _ctx: &Context, cart: &CartId, line: &LineId) -> Result<Cart> {
        const OP: &str = "carts.remove_line";
        self.injected(OP).await?;
        let now = self.now();
        let mut st = self.lock();
        sweep(&mut st, now);
        let rec = open_cart(&mut st, cart, OP)?;
        let before = rec.cart.lines.len();
        rec.cart.lines.retain(|l| &l.line_id != line);
        if rec.cart.lines.len() == before {
            return Err(Error::not_found(PROVIDER, OP, format!("no line {line}")));
        }
        reprice(&mut st, cart.as_str(), now, OP)?;
        Ok(cart_rec(&mut st, cart, OP)?.cart.clone())
    }

    async fn set_customer(&self, _ctx: &Context, cart: &CartId, customer: &Customer) -> Result<Cart> {
        const OP: &str = "carts.set_customer";
        self.injected(OP).await?;
        if customer.email.is_none() && customer.phone.is_none() {
            return Err(Error::invalid(PROVIDER, OP, "email", "an e-mail or a phone is required"));
        }
        let now = self.now();
        let mut st = self.lock();
        sweep(&mut st, now);
        let rec = open_cart(&mut st, cart, OP)?;
        rec.customer = true;
        Ok(rec.cart.clone())
    }

    async fn checkout(&self, ctx: &Context, cart: &CartId, payment: &CartPayment) -> Result<CartCheckout> {
        const OP: &str = "carts.checkout";
        let result = self.checkout_cart(ctx, cart, payment).await;
        // The state changed; a reply due to be lost (`lose_reply_next`) is lost after it.
        self.reply(OP, result)
    }

    async fn upgrade(
        &self,
        ctx: &Context,
        cart: &CartId,
        request: &UpgradeRequest,
    ) -> Result<UpgradeOutcome> {
        const OP: &str = "carts.upgrade";
        let result = self.upgrade_cart(ctx, cart, request).await;
        // The state changed; a reply due to be lost (`lose_reply_next`) is lost after it.
        self.reply(OP, result)
    }
}

/// The cart operations themselves; the `Carts` methods pass their results through
/// `MemoryProvider::reply`, so a reply due to be lost is lost after the state changed.
impl MemoryProvider {
    async fn create_cart(&self, _ctx: &Context, request: &NewCart) -> Result<Cart> {
        const OP: &str = "carts.create";
        self.injected(OP).await?;
        whole_units(OP, request.quantity)?;
        let now = self.now();
        let mut st = self.lock();
        let price = *st
            .prices
            .get(&request.product_id)
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no product {}", request.product_id)))?;
        if price.currency != request.currency {
            return Err(Error::invalid(PROVIDER, OP, "product", "priced in another currency"));
        }
        let id = CartId::new(st.next_id("cart"));
        let line =
            CartLine::new(st.next_id("line"), request.product_id.clone(), request.quantity, price, price);
        let cart = Cart::new(id.clone(), CartStatus::Open, vec![line], Money::zero(request.currency));
        st.carts.insert(
            id.as_str().to_string(),
            CartRec {
                cart,
                test: request.test,
                customer: false,
                created_at: now,
                paid_with: None,
                pending: None,
                chains: HashMap::new(),
                parent: None,
                card_on_file: None,
                charged: None,
            },
        );
        reprice(&mut st, id.as_str(), now, OP)?;
        Ok(cart_rec(&mut st, &id, OP)?.cart.clone())
    }

    async fn add_cart_line(
        &self,
        _ctx: &Context,
        cart: &CartId,
        product: &ProductId,
        quantity: Decimal,
    ) -> Result<Cart> {
        const OP: &str = "carts.add_line";
        self.injected(OP).await?;
        whole_units(OP, quantity)?;
        let now = self.now();
        let mut st = self.lock();
        sweep(&mut st, now);
        let price = *st
            .prices
            .get(product)
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no product {product}")))?;
        let line_id = LineId::new(st.next_id("line"));
        let rec = open_cart(&mut st, cart, OP)?;
        if price.currency != rec.cart.total.currency {
            return Err(Error::invalid(PROVIDER, OP, "product", "priced in another currency"));
        }
        // The same product again adds to its line.
        match rec.cart.lines.iter_mut().find(|l| &l.product_id == product) {
            Some(l) => l.quantity += quantity,
            None => rec.cart.lines.push(CartLine::new(line_id, product.clone(), quantity, price, price)),
        }
        reprice(&mut st, cart.as_str(), now, OP)?;
        Ok(cart_rec(&mut st, cart, OP)?.cart.clone())
    }

    async fn checkout_cart(
        &self,
        _ctx: &Context,
        cart: &CartId,
        payment: &CartPayment,
    ) -> Result<CartCheckout> {
        const OP: &str = "carts.checkout";
        self.injected(OP).await?;
        let now = self.now();
        let mut st = self.lock();
        sweep(&mut st, now);
        let known_card = match payment {
            CartPayment::CardOnFile { card_id } => st.cards.contains(card_id),
            _ => true,
        };
        let rec = cart_rec(&mut st, cart, OP)?;
        match rec.cart.status {
            CartStatus::Paid => {
                let order = paid_order(rec).ok_or_else(|| conflict(OP, "paid cart without an order"))?;
                return Ok(CartCheckout::Paid(order));
            }
            CartStatus::AwaitingPayment => {
                let action = rec
                    .pending
                    .as_ref()
                    .map(|p| p.1.clone())
                    .ok_or_else(|| conflict(OP, "no payment waits"))?;
                return Ok(CartCheckout::ActionRequired {
                    cart: cart.clone(),
                    action,
                    order: rec.cart.order.clone(),
                });
            }
            CartStatus::Discarded => return Err(conflict(OP, "the cart was discarded")),
            CartStatus::Open => {}
        }
        if rec.cart.lines.is_empty() {
            return Err(Error::invalid(PROVIDER, OP, "lines", "cart is empty"));
        }
        if !rec.customer && rec.parent.is_none() {
            return Err(Error::invalid(PROVIDER, OP, "customer", "customer details are missing"));
        }
        let with = match payment {
            CartPayment::Card(card) => {
                use chrono::Datelike;
                let expired = (card.expiry_year, card.expiry_month) < (now.year(), now.month());
                if card.number.expose() == crate::demo::CARD_DECLINED || expired {
                    let reason = if expired { "the card has expired" } else { "the card was declined" };
                    return Ok(CartCheckout::Declined { reason: reason.into() });
                }
                PaidWith::Card
            }
            CartPayment::CardOnFile { .. } if !known_card => {
                return Err(Error::invalid(PROVIDER, OP, "payment.card_id", "no such card on file"))
            }
            CartPayment::CardOnFile { .. } => PaidWith::Card,
            CartPayment::Processor { .. } => PaidWith::Processor,
            _ => return Err(Error::invalid(PROVIDER, OP, "payment", "unknown payment kind")),
        };
        let order = order_for(&mut st, cart.as_str());
        if with == PaidWith::Processor {
            let action = PaymentAction::new(
                ActionKind::Redirect,
                Some(format!("https://pay.memory.invalid/{}", cart.as_str())),
            );
            let rec = cart_rec(&mut st, cart, OP)?;
            rec.cart.status = CartStatus::AwaitingPayment;
            rec.pending = Some((now, action.clone(), with));
            return Ok(CartCheckout::ActionRequired { cart: cart.clone(), action, order: Some(order) });
        }
        let card = match payment {
            CartPayment::CardOnFile { card_id } => card_id.clone(),
            _ => st.next_id("card"),
        };
        if !st.cards.contains(&card) {
            st.cards.push(card.clone());
        }
        let rec = cart_rec(&mut st, cart, OP)?;
        rec.cart.status = CartStatus::Paid;
        rec.paid_with = Some(with);
        rec.charged = Some(rec.cart.total);
        rec.card_on_file = Some(card);
        paid_upgrade(&mut st, cart.as_str());
        if let Some((parent, _, _)) = st.carts.get(cart.as_str()).and_then(|r| r.parent.clone()) {
            reprice(&mut st, &parent, now, OP)?;
        }
        let rec = cart_rec(&mut st, cart, OP)?;
        paid_order(rec).map(CartCheckout::Paid).ok_or_else(|| conflict(OP, "paid cart without an order"))
    }

    async fn upgrade_cart(
        &self,
        _ctx: &Context,
        cart: &CartId,
        request: &UpgradeRequest,
    ) -> Result<UpgradeOutcome> {
        const OP: &str = "carts.upgrade";
        self.injected(OP).await?;
        let units = whole_units(OP, request.quantity)?;
        let now = self.now();
        let mut st = self.lock();
        sweep(&mut st, now);
        let new_price = *st
            .prices
            .get(&request.product_id)
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no product {}", request.product_id)))?;
        let upgrades = st.upgrades.clone();
        let new_line_id = st.next_id("line");
        let rec = cart_rec(&mut st, cart, OP)?;
        if rec.cart.status != CartStatus::Paid || rec.parent.is_some() {
            return Err(conflict(OP, "only a paid cart can be upgraded"));
        }
        let i = rec
            .cart
            .lines
            .iter()
            .position(|l| l.line_id == request.line_id)
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no line {}", request.line_id)))?;
        let line = rec.cart.lines[i].clone();
        let chain = rec.chains.get(line.line_id.as_str()).cloned().unwrap_or(ChainRec {
            origin: line.product_id.clone(),
            origin_price: line.unit_price,
            paid_product: line.product_id.clone(),
            paid_price: line.unit_price,
            captured_per_unit: 0,
            child: None,
        });
        if chain.child.is_some() {
            return Err(conflict(OP, "the previous upgrade of this line waits for its own payment"));
        }
        let allowed = [&line.product_id, &chain.origin]
            .iter()
            .any(|p| upgrades.get(*p).is_some_and(|u| u.contains(&request.product_id)));
        if !allowed {
            return Err(Error::new(ErrorKind::Rejected, PROVIDER, OP)
                .with_message(format!("{} is no upgrade of {}", request.product_id, line.product_id)));
        }
        if Decimal::from(units) > line.quantity {
            return Err(Error::invalid(PROVIDER, OP, "quantity", "more units than the line holds"));
        }
        // Last minus first in all: what the chain still owes per unit, never negative (docs/vendors/emanage.md, upgrades).
        let owed = (new_price.minor - chain.origin_price.minor).max(0);
        let per_unit = Money::new((owed - chain.captured_per_unit).max(0), new_price.currency);
        let amount = per_unit.checked_mul(units).map_err(|e| money_err(OP, e))?;
        // A partial upgrade splits the line; the upgraded units get their own line.
        let target = if Decimal::from(units) < line.quantity {
            rec.cart.lines[i].quantity -= Decimal::from(units);
            let mut head = line.clone();
            head.line_id = LineId::new(new_line_id.clone());
            head.quantity = Decimal::from(units);
            rec.cart.lines.insert(i + 1, head);
            if let Some(c) = rec.chains.get(line.line_id.as_str()).cloned() {
                rec.chains.insert(new_line_id.clone(), c);
            }
            i + 1
        } else {
            i
        };
        let target_id = rec.cart.lines[target].line_id.as_str().to_string();
        // A step to a cheaper product refunds nothing: the line keeps the price first paid.
        let head_price =
            if new_price.minor >= chain.origin_price.minor { new_price } else { chain.origin_price };
        {
            let head = &mut rec.cart.lines[target];
            head.product_id = request.product_id.clone();
            head.unit_price = head_price;
            head.upgrade = Some(LineUpgrade::new(chain.origin.clone(), UpgradeStatus::Pending));
        }
        rec.chains.insert(target_id.clone(), chain);
        if rec.paid_with == Some(PaidWith::Processor) {
            // The processor cannot be charged again: the difference is paid in a new cart.
            let currency = rec.cart.total.currency;
            let parent = cart.as_str().to_string();
            let child_id = CartId::new(st.next_id("cart"));
            let line = CartLine::new(
                st.next_id("line"),
                request.product_id.clone(),
                Decimal::from(units),
                per_unit,
                amount,
            );
            let child = Cart::new(child_id.clone(), CartStatus::Open, vec![line], amount)
                .with_upgrade_parent(cart.clone());
            let test = st.carts.get(&parent).is_some_and(|r| r.test);
            if let Some(c) = st.carts.get_mut(&parent).and_then(|p| p.chains.get_mut(&target_id)) {
                c.child = Some(child_id.as_str().to_string());
            }
            st.carts.insert(
                child_id.as_str().to_string(),
                CartRec {
                    cart: child.clone(),
                    test,
                    customer: true,
                    created_at: now,
                    paid_with: None,
                    pending: None,
                    chains: HashMap::new(),
                    parent: Some((parent.clone(), target_id, per_unit)),
                    card_on_file: None,
                    charged: None,
                },
            );
            reprice(&mut st, &parent, now, OP)?;
            debug_assert_eq!(child.total.currency, currency);
            // The new cart is open: its payment starts with its checkout.
            return Ok(UpgradeOutcome::PaymentRequired { cart: child, amount, action: None });
        }
        let fails = std::mem::take(&mut st.fail_upgrade_charge);
        st.upgrade_charge_attempts += if fails { UPGRADE_CHARGE_ATTEMPTS } else { 1 };
        if fails {
            discard_step(&mut st, cart.as_str(), &target_id);
            reprice(&mut st, cart.as_str(), now, OP)?;
            let cart = cart_rec(&mut st, cart, OP)?.cart.clone();
            return Ok(UpgradeOutcome::Discarded { cart });
        }
        let rec = cart_rec(&mut st, cart, OP)?;
        if let Some(c) = rec.chains.get_mut(&target_id) {
            c.captured_per_unit += per_unit.minor;
            c.paid_product = request.product_id.clone();
            c.paid_price = head_price;
            let origin = c.origin.clone();
            if let Some(l) = rec.cart.lines.iter_mut().find(|l| l.line_id.as_str() == target_id) {
                l.upgrade = Some(LineUpgrade::new(origin, UpgradeStatus::Charged));
            }
        }
        reprice(&mut st, cart.as_str(), now, OP)?;
        let cart = cart_rec(&mut st, cart, OP)?.cart.clone();
        Ok(UpgradeOutcome::Charged { cart, amount })
    }
}

/// The memory wholesaler's shipment notice (its own format, JSON).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeBody {
    order_id: String,
    reference: Option<String>,
    tracking_numbers: Vec<String>,
    courier: Option<String>,
    at: Option<chrono::DateTime<chrono::Utc>>,
}

fn check_lines(op: &str, lines: &[OrderLine]) -> Result<()> {
    if lines.is_empty() {
        return Err(Error::invalid(PROVIDER, op, "lines", "at least one line is needed"));
    }
    if let Some(i) = lines.iter().position(|l| l.quantity <= Decimal::ZERO) {
        return Err(Error::invalid(PROVIDER, op, format!("lines[{i}].quantity"), "must be positive"));
    }
    Ok(())
}

#[async_trait]
impl Fulfilment for MemoryProvider {
    async fn stock(&self, _ctx: &Context, lines: &[OrderLine]) -> Result<Vec<StockLevel>> {
        const OP: &str = "fulfilment.stock";
        self.injected(OP).await?;
        check_lines(OP, lines)?;
        let st = self.lock();
        Ok(lines
            .iter()
            .map(|l| match st.stock.get(&l.product_id) {
                Some(have) => StockLevel::new(l.product_id.clone(), l.quantity, *have),
                None => StockLevel::new(l.product_id.clone(), l.quantity, Decimal::ZERO)
                    .with_shortfall(Some(Shortfall::UnknownProduct)),
            })
            .collect())
    }

    async fn couriers(&self, _ctx: &Context, query: &CourierQuery) -> Result<Vec<Courier>> {
        const OP: &str = "fulfilment.couriers";
        self.injected(OP).await?;
        if query.is_all() {
            return Ok(self.lock().couriers.clone());
        }
        check_lines(OP, &query.lines)?;
        let to = query
            .destination
            .as_ref()
            .ok_or_else(|| Error::invalid(PROVIDER, OP, "destination", "a basket needs a destination"))?;
        if to.country_code.is_none() {
            return Err(Error::invalid(PROVIDER, OP, "destination.country_code", "required"));
        }
        let st = self.lock();
        if let Some(l) = query.lines.iter().find(|l| !st.stock.contains_key(&l.product_id)) {
            return Err(Error::new(ErrorKind::Rejected, PROVIDER, OP)
                .with_message(format!("unknown product {}", l.product_id)));
        }
        // The memory wholesaler ships anything anywhere at each courier's flat price.
        Ok(st.couriers.clone())
    }

    async fn place_order(&self, _ctx: &Context, order: &DropshipOrder) -> Result<PlacedOrder> {
        const OP: &str = "fulfilment.place_order";
        self.injected(OP).await?;
        let placed = self.place(order);
        self.reply(OP, placed)
    }

    async fn find_order(&self, _ctx: &Context, reference: &str) -> Result<Option<OrderStatus>> {
        self.injected("fulfilment.find_order").await?;
        let st = self.lock();
        Ok(st.order_refs.get(reference).and_then(|id| st.orders.get(id.as_str())).map(|r| r.status.clone()))
    }

    async fn order_status(&self, _ctx: &Context, order: &OrderId) -> Result<OrderStatus> {
        const OP: &str = "fulfilment.order_status";
        self.injected(OP).await?;
        let st = self.lock();
        st.orders
            .get(order.as_str())
            .map(|r| r.status.clone())
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no order {order}")))
    }

    async fn recipient(&self, _ctx: &Context, order: &OrderId) -> Result<Recipient> {
        const OP: &str = "fulfilment.recipient";
        self.injected(OP).await?;
        let st = self.lock();
        st.orders
            .get(order.as_str())
            .map(|r| r.recipient.clone())
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no order {order}")))
    }

    async fn update_recipient(&self, _ctx: &Context, order: &OrderId, recipient: &Recipient) -> Result<()> {
        const OP: &str = "fulfilment.update_recipient";
        self.injected(OP).await?;
        let mut st = self.lock();
        let rec = st
            .orders
            .get_mut(order.as_str())
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no order {order}")))?;
        if rec.status.dispatched {
            return Err(
                Error::new(ErrorKind::Conflict, PROVIDER, OP).with_message("order already dispatched")
            );
        }
        rec.recipient = recipient.clone();
        Ok(())
    }

    fn parse_shipment_notice(&self, request: PushedRequest<'_>) -> Result<ShipmentNotice> {
        let n: NoticeBody = serde_json::from_slice(request.body).map_err(|e| {
            Error::new(ErrorKind::Protocol, PROVIDER, "fulfilment.parse_shipment_notice")
                .with_message(e.to_string())
        })?;
        let mut notice = ShipmentNotice::new(OrderId::new(n.order_id), n.tracking_numbers);
        notice.reference = n.reference;
        notice.courier = n.courier;
        notice.at = n.at;
        notice.status = Some("dispatched".into());
        notice.event_id = request.header("event-id").map(str::to_string);
        Ok(notice)
    }
}

impl MemoryProvider {
    fn place(&self, order: &DropshipOrder) -> Result<PlacedOrder> {
        const OP: &str = "fulfilment.place_order";
        let mut st = self.lock();
        if let Some(existing) = st.order_refs.get(&order.reference) {
            return Ok(PlacedOrder::new(existing.clone()).duplicate(true));
        }
        check_lines(OP, &order.lines)?;
        if !st.couriers.iter().any(|c| c.id == order.courier_id) {
            return Err(Error::new(ErrorKind::Rejected, PROVIDER, OP)
                .with_message(format!("courier {} is not offered", order.courier_id)));
        }
        for (i, line) in order.lines.iter().enumerate() {
            let have = st.stock.get(&line.product_id).copied().unwrap_or_default();
            if line.quantity > have {
                return Err(Error::new(ErrorKind::Rejected, PROVIDER, OP).with_message(format!(
                    "lines[{i}]: {} has {have} in stock, {} ordered",
                    line.product_id, line.quantity
                )));
            }
        }
        for line in &order.lines {
            if let Some(s) = st.stock.get_mut(&line.product_id) {
                *s -= line.quantity;
            }
        }
        let id = OrderId::new(st.next_id("ds"));
        st.order_refs.insert(order.reference.clone(), id.clone());
        st.orders.insert(
            id.as_str().to_string(),
            OrderRec {
                status: OrderStatus::new(id.clone(), "new", Vec::new(), false)
                    .with_reference(order.reference.clone())
                    .with_courier(order.courier_id.clone()),
                recipient: order.recipient.clone(),
                courier_id: order.courier_id.clone(),
            },
        );
        Ok(PlacedOrder::new(id))
    }
}
