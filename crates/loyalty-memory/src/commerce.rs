//! Carts with upsell upgrades and dropship fulfilment, in memory.

use std::collections::HashMap;

use async_trait::async_trait;
use loyalty_core::{
    Basket, Cart, CartId, CartLine, CartOrder, CartStatus, Carts, Context, Courier, CourierQuery, Customer,
    DropshipOrder, Error, ErrorKind, Fulfilment, Line, LineId, Money, NewCart, OrderId, OrderLine,
    OrderStatus, PlacedOrder, ProductId, PushedRequest, Recipient, Result, ShipmentNotice, Shortfall,
    StockLevel, UpgradePreview, UpgradeRequest,
};
use rust_decimal::Decimal;

use crate::provider::{MemoryProvider, PROVIDER};
use crate::state::{CartRec, OrderRec, State};

impl MemoryProvider {
    /// Adds a product customers can put in carts, and the products it can be upgraded to.
    pub fn add_product(&self, product: impl Into<ProductId>, price: Money, upgrades: &[&str]) {
        let product = product.into();
        let mut st = self.lock();
        st.prices.insert(product.clone(), price);
        st.upgrades.insert(product, upgrades.iter().map(|p| ProductId::new(*p)).collect());
    }

    /// Adds a cart campaign offer (progressive discounts) applied to every cart.
    pub fn add_cart_campaign(&self, offer: loyalty_core::Offer) {
        self.lock().cart_campaign.push(offer);
    }

    /// Sets the wholesaler's stock of a product.
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

fn open_cart<'a>(st: &'a mut State, cart: &CartId, op: &str) -> Result<&'a mut CartRec> {
    let rec = cart_rec(st, cart, op)?;
    if rec.cart.status != CartStatus::Open {
        return Err(Error::new(ErrorKind::Conflict, PROVIDER, op).with_message("cart is no longer open"));
    }
    Ok(rec)
}

/// Re-prices a cart with the campaign offers through the pricing engine.
fn reprice(st: &mut State, cart: &CartId, now: chrono::DateTime<chrono::Utc>, op: &str) -> Result<()> {
    let campaign = st.cart_campaign.clone();
    let rec = cart_rec(st, cart, op)?;
    let currency = rec.cart.total.currency;
    let mut basket = Basket::new(currency);
    for l in &rec.cart.lines {
        basket =
            basket.with_line(Line::new(l.line_id.clone(), l.product_id.clone(), l.quantity, l.unit_price));
    }
    let priced = loyalty_core::pricing::price(&basket, &campaign, &[], now).map_err(|e| {
        Error::new(ErrorKind::Invalid { field: "cart".into(), reason: e.to_string() }, PROVIDER, op)
    })?;
    for (line, p) in rec.cart.lines.iter_mut().zip(&priced.lines) {
        line.discount = p.discount;
        line.net = p.net;
    }
    rec.cart.total = priced.total;
    Ok(())
}

#[async_trait]
impl Carts for MemoryProvider {
    async fn create(&self, _ctx: &Context, request: &NewCart) -> Result<Cart> {
        const OP: &str = "carts.create";
        self.injected(OP)?;
        let mut st = self.lock();
        let mut paid_lines = Vec::new();
        let mut first_product = HashMap::new();
        if let Some(parent) = &request.upgrade_parent {
            let p = cart_rec(&mut st, parent, OP)?;
            if p.cart.status != CartStatus::Paid {
                return Err(Error::new(ErrorKind::Rejected, PROVIDER, OP)
                    .with_message("only a paid cart can be upgraded"));
            }
            paid_lines = p.cart.lines.clone();
            first_product = p.first_product.clone();
        }
        let id = CartId::new(st.next_id("cart"));
        let total = Money::sum(request.currency, paid_lines.iter().map(|l| l.net))
            .map_err(|e| Error::from_money(PROVIDER, OP, "lines", e))?;
        let mut cart = Cart::new(id.clone(), CartStatus::Open, paid_lines, total);
        cart.upgrade_parent = request.upgrade_parent.clone();
        st.carts.insert(
            id.as_str().to_string(),
            CartRec {
                cart: cart.clone(),
                test: request.test,
                customer: false,
                first_product,
                order: None,
                charge_total: total,
            },
        );
        Ok(cart)
    }

    async fn get(&self, _ctx: &Context, cart: &CartId) -> Result<Cart> {
        self.injected("carts.get")?;
        Ok(cart_rec(&mut self.lock(), cart, "carts.get")?.cart.clone())
    }

    async fn add_line(
        &self,
        _ctx: &Context,
        cart: &CartId,
        product: &ProductId,
        quantity: Decimal,
    ) -> Result<Cart> {
        const OP: &str = "carts.add_line";
        self.injected(OP)?;
        if quantity <= Decimal::ZERO {
            return Err(Error::invalid(PROVIDER, OP, "quantity", "must be positive"));
        }
        let now = self.now();
        let mut st = self.lock();
        let price = *st
            .prices
            .get(product)
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no product {product}")))?;
        let line_id = LineId::new(st.next_id("line"));
        let rec = open_cart(&mut st, cart, OP)?;
        if price.currency != rec.cart.total.currency {
            return Err(Error::invalid(PROVIDER, OP, "product", "priced in another currency"));
        }
        rec.first_product.insert(line_id.as_str().to_string(), product.clone());
        rec.cart.lines.push(CartLine::new(line_id, product.clone(), quantity, price, price));
        reprice(&mut st, cart, now, OP)?;
        Ok(cart_rec(&mut st, cart, OP)?.cart.clone())
    }

    async fn remove_line(&self, _ctx: &Context, cart: &CartId, line: &LineId) -> Result<Cart> {
        const OP: &str = "carts.remove_line";
        self.injected(OP)?;
        let now = self.now();
        let mut st = self.lock();
        let rec = open_cart(&mut st, cart, OP)?;
        let before = rec.cart.lines.len();
        rec.cart.lines.retain(|l| &l.line_id != line);
        if rec.cart.lines.len() == before {
            return Err(Error::not_found(PROVIDER, OP, format!("no line {line}")));
        }
        reprice(&mut st, cart, now, OP)?;
        Ok(cart_rec(&mut st, cart, OP)?.cart.clone())
    }

    async fn set_customer(&self, _ctx: &Context, cart: &CartId, customer: &Customer) -> Result<Cart> {
        const OP: &str = "carts.set_customer";
        self.injected(OP)?;
        if customer.email.is_none() && customer.phone.is_none() {
            return Err(Error::invalid(PROVIDER, OP, "email", "an e-mail or a phone is required"));
        }
        let mut st = self.lock();
        let rec = open_cart(&mut st, cart, OP)?;
        rec.customer = true;
        Ok(rec.cart.clone())
    }

    async fn upgrade(
        &self,
        _ctx: &Context,
        cart: &CartId,
        request: &UpgradeRequest,
    ) -> Result<UpgradePreview> {
        const OP: &str = "carts.upgrade";
        self.injected(OP)?;
        let now = self.now();
        let mut st = self.lock();
        let new_price = *st
            .prices
            .get(&request.product_id)
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no product {}", request.product_id)))?;
        let upgrades = st.upgrades.clone();
        let prices = st.prices.clone();
        let rec = open_cart(&mut st, cart, OP)?;
        let first = rec
            .first_product
            .get(request.line_id.as_str())
            .cloned()
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no line {}", request.line_id)))?;
        let line = rec.cart.lines.iter_mut().find(|l| l.line_id == request.line_id).expect("line known");
        let allowed = upgrades.get(&line.product_id).is_some_and(|u| u.contains(&request.product_id))
            || upgrades.get(&first).is_some_and(|u| u.contains(&request.product_id));
        if !allowed {
            return Err(Error::new(ErrorKind::Rejected, PROVIDER, OP)
                .with_message(format!("{} is no upgrade of {}", request.product_id, line.product_id)));
        }
        // The charge is last minus first: intermediate previews are discarded (DESIGN §5 rule 7).
        let first_price = prices.get(&first).copied().unwrap_or(line.unit_price);
        line.product_id = request.product_id.clone();
        line.quantity = request.quantity;
        line.unit_price = new_price;
        line.upgraded_from = Some(first.clone());
        let qty = request.quantity.trunc().try_into().unwrap_or(1i64);
        let charge_minor = (new_price.minor * qty - first_price.minor * qty).max(0);
        let charge = Money::new(charge_minor, new_price.currency);
        reprice(&mut st, cart, now, OP)?;
        let rec = cart_rec(&mut st, cart, OP)?;
        rec.charge_total = charge;
        Ok(UpgradePreview::new(rec.cart.clone(), charge))
    }

    async fn checkout(&self, _ctx: &Context, cart: &CartId) -> Result<CartOrder> {
        const OP: &str = "carts.checkout";
        self.injected(OP)?;
        let mut st = self.lock();
        let seq = st.next_id("order");
        let rec = cart_rec(&mut st, cart, OP)?;
        // Test carts get orders the vendor never fulfils; the id says so.
        let order_id = OrderId::new(if rec.test { format!("test-{seq}") } else { seq });
        if let Some(order) = &rec.order {
            return Ok(CartOrder::new(order.clone(), cart.clone(), rec.charge_total));
        }
        if rec.cart.lines.is_empty() {
            return Err(Error::invalid(PROVIDER, OP, "lines", "cart is empty"));
        }
        if !rec.customer && rec.cart.upgrade_parent.is_none() {
            return Err(Error::invalid(PROVIDER, OP, "customer", "customer details are missing"));
        }
        let charged = if rec.cart.upgrade_parent.is_some() { rec.charge_total } else { rec.cart.total };
        rec.cart.status = CartStatus::Paid;
        rec.order = Some(order_id.clone());
        rec.charge_total = charged;
        Ok(CartOrder::new(order_id, cart.clone(), charged))
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
        self.injected(OP)?;
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
        self.injected(OP)?;
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
        self.injected(OP)?;
        let placed = self.place(order);
        self.reply(OP, placed)
    }

    async fn find_order(&self, _ctx: &Context, reference: &str) -> Result<Option<OrderStatus>> {
        self.injected("fulfilment.find_order")?;
        let st = self.lock();
        Ok(st.order_refs.get(reference).and_then(|id| st.orders.get(id.as_str())).map(|r| r.status.clone()))
    }

    async fn order_status(&self, _ctx: &Context, order: &OrderId) -> Result<OrderStatus> {
        const OP: &str = "fulfilment.order_status";
        self.injected(OP)?;
        let st = self.lock();
        st.orders
            .get(order.as_str())
            .map(|r| r.status.clone())
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no order {order}")))
    }

    async fn recipient(&self, _ctx: &Context, order: &OrderId) -> Result<Recipient> {
        const OP: &str = "fulfilment.recipient";
        self.injected(OP)?;
        let st = self.lock();
        st.orders
            .get(order.as_str())
            .map(|r| r.recipient.clone())
            .ok_or_else(|| Error::not_found(PROVIDER, OP, format!("no order {order}")))
    }

    async fn update_recipient(&self, _ctx: &Context, order: &OrderId, recipient: &Recipient) -> Result<()> {
        const OP: &str = "fulfilment.update_recipient";
        self.injected(OP)?;
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
