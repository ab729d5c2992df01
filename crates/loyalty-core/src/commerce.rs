//! Shopping carts with upsell upgrades and progressive discounts (eManage) and dropship
//! fulfilment (IdoSell).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::checkout::PaymentAction;
use crate::ids::{CartId, LineId, OrderId, ProductId};
use crate::member::{Address, Phone};
use crate::money::{Currency, Money};

/// A request to open a cart with its first line.
///
/// eManage opens a cart session with one product and the customer's IP (§7.1 of its
/// contract); every provider opens carts the same way so a cart is never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewCart {
    /// Currency of the cart.
    pub currency: Currency,
    /// A test cart the vendor will not fulfil.
    pub test: bool,
    /// The first product.
    pub product_id: ProductId,
    /// Units of the first product (at least one).
    pub quantity: Decimal,
    /// The customer's IP address, when the shop knows it (fraud checks).
    pub customer_ip: Option<String>,
}

impl NewCart {
    /// A live cart in `currency` holding `quantity` of `product`.
    pub fn new(currency: Currency, product: impl Into<ProductId>, quantity: Decimal) -> NewCart {
        NewCart { currency, test: false, product_id: product.into(), quantity, customer_ip: None }
    }

    /// Marks the cart as a test cart.
    pub fn test(mut self, test: bool) -> NewCart {
        self.test = test;
        self
    }

    /// Sets the customer's IP address.
    pub fn from_ip(mut self, ip: impl Into<String>) -> NewCart {
        self.customer_ip = Some(ip.into());
        self
    }
}

/// Where an upgrade of a paid line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeStatus {
    /// Accepted; the difference is not captured yet (the vendor charges it later, or it waits
    /// for payment in its own cart). What ships is still the last paid product.
    Pending,
    /// The difference is captured (or there was nothing to capture); the upgrade ships.
    Charged,
}

/// The upgrade a cart line carries: the product originally paid for and where the upgrade
/// stands. An upgrade that was discarded leaves no trace on the line: the line is the
/// original product again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LineUpgrade {
    /// The product first paid for (the start of the upgrade chain).
    pub from: ProductId,
    /// Where it stands.
    pub status: UpgradeStatus,
}

impl LineUpgrade {
    /// An upgrade from `from` in `status`.
    pub fn new(from: impl Into<ProductId>, status: UpgradeStatus) -> LineUpgrade {
        LineUpgrade { from: from.into(), status }
    }
}

/// A cart line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CartLine {
    /// Line id within the cart. A provider that addresses lines by product (eManage) uses the
    /// product id, so an upgraded line gets the new product's id.
    pub line_id: LineId,
    /// Product.
    pub product_id: ProductId,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price before discount, tax included.
    pub unit_price: Money,
    /// Discount on the line (progressive discounts, coupons).
    pub discount: Money,
    /// What the line costs after discount.
    pub net: Money,
    /// The upgrade this line is the head of, when it is one.
    pub upgrade: Option<LineUpgrade>,
}

impl CartLine {
    /// A line without discount.
    pub fn new(
        line_id: impl Into<LineId>,
        product_id: impl Into<ProductId>,
        quantity: Decimal,
        unit_price: Money,
        net: Money,
    ) -> Self {
        CartLine {
            line_id: line_id.into(),
            product_id: product_id.into(),
            quantity,
            unit_price,
            discount: Money::zero(unit_price.currency),
            net,
            upgrade: None,
        }
    }

    /// Sets the discount.
    pub fn with_discount(mut self, discount: Money) -> Self {
        self.discount = discount;
        self
    }

    /// Marks the line as the head of an upgrade.
    pub fn with_upgrade(mut self, upgrade: LineUpgrade) -> Self {
        self.upgrade = Some(upgrade);
        self
    }
}

/// Where a cart stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    /// Open for changes.
    Open,
    /// A checkout waits for the customer (a redirect, 3-D Secure, an offline payment link).
    AwaitingPayment,
    /// Paid and turned into an order.
    Paid,
    /// Abandoned or discarded (an upgrade cart that was never paid).
    Discarded,
}

/// A shopping cart at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cart {
    /// The cart (session) id.
    pub id: CartId,
    /// Status.
    pub status: CartStatus,
    /// Lines.
    pub lines: Vec<CartLine>,
    /// Shipping charged on top of the lines.
    pub shipping: Money,
    /// What the cart costs: the lines' nets plus shipping.
    pub total: Money,
    /// The paid cart this one upgrades, if any (an upgrade paid in its own cart).
    pub upgrade_parent: Option<CartId>,
    /// The order the cart became, once paid (or while its payment waits for the customer).
    pub order: Option<OrderId>,
}

impl Cart {
    /// Makes a cart record without shipping.
    pub fn new(id: impl Into<CartId>, status: CartStatus, lines: Vec<CartLine>, total: Money) -> Cart {
        Cart {
            id: id.into(),
            status,
            lines,
            shipping: Money::zero(total.currency),
            total,
            upgrade_parent: None,
            order: None,
        }
    }

    /// Sets the shipping amount (the total is not changed).
    pub fn with_shipping(mut self, shipping: Money) -> Cart {
        self.shipping = shipping;
        self
    }

    /// Names the cart this one upgrades.
    pub fn with_upgrade_parent(mut self, parent: CartId) -> Cart {
        self.upgrade_parent = Some(parent);
        self
    }

    /// Sets the order.
    pub fn with_order(mut self, order: OrderId) -> Cart {
        self.order = Some(order);
        self
    }

    /// The first line of `product`, preferring an upgrade head (what an upgrade of that
    /// product names).
    pub fn line_of(&self, product: &ProductId) -> Option<&CartLine> {
        let of = || self.lines.iter().filter(move |l| &l.product_id == product);
        of().find(|l| l.upgrade.is_some()).or_else(|| of().next())
    }
}

/// A request to swap (some units of) a paid cart line for a better product: an upsell
/// upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpgradeRequest {
    /// The line upgraded (for an upgrade of an upgrade, the line of the previous upgrade).
    pub line_id: LineId,
    /// The product it becomes.
    pub product_id: ProductId,
    /// Units of the line upgraded; fewer than the line holds splits it.
    pub quantity: Decimal,
    /// The cart was paid through a redirect or an offline payment (PayPal, a payment link):
    /// the difference cannot be charged on that payment and is paid in a new cart instead.
    /// The shop knows how it paid; providers that track it themselves may ignore this.
    pub paid_offline: bool,
    /// The product the line was sold as before any upgrade: the start of its upgrade chain,
    /// from which a vendor that charges "last minus first" prices an upgrade of an upgrade.
    /// The shop knows what it sold; providers that track it themselves ignore this, and one
    /// that can neither read it nor be given it refuses an upgrade of an upgrade unsent.
    #[serde(default)]
    pub first_product: Option<ProductId>,
}

impl UpgradeRequest {
    /// Upgrades `quantity` units of `line_id` to `product_id`, charged on the cart's payment.
    pub fn new(line_id: impl Into<LineId>, product_id: impl Into<ProductId>, quantity: Decimal) -> Self {
        UpgradeRequest {
            line_id: line_id.into(),
            product_id: product_id.into(),
            quantity,
            paid_offline: false,
            first_product: None,
        }
    }

    /// Says the cart was paid through a redirect or offline payment.
    pub fn paid_offline(mut self, offline: bool) -> Self {
        self.paid_offline = offline;
        self
    }

    /// Names the product the line was sold as before any upgrade (see
    /// [`UpgradeRequest::first_product`]); for a first upgrade it is the line's own product.
    pub fn with_first_product(mut self, product: impl Into<ProductId>) -> Self {
        self.first_product = Some(product.into());
        self
    }
}

/// What an upgrade did.
///
/// Amounts follow "first to last": an upgrade chain `p0 → p1 → … → pk` costs `q × (ak − a0)`
/// in all, never negative, and a step captures only what the chain has not captured yet, so no
/// difference is charged twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UpgradeOutcome {
    /// The difference was captured on the cart's payment now (zero for a step to a cheaper
    /// product: nothing is refunded). The upgrade ships.
    Charged {
        /// The cart after the upgrade.
        cart: Cart,
        /// Captured now; never negative.
        amount: Money,
    },
    /// Accepted; the vendor captures `amount` later (eManage charges a funnel's last step after
    /// a while, so a further upgrade of the same line within that time is charged once, last
    /// minus first). [`Carts::get`](crate::Carts::get) shows the line's
    /// [`UpgradeStatus`] until then.
    Pending {
        /// The cart after the upgrade.
        cart: Cart,
        /// What the vendor will capture; never negative.
        amount: Money,
    },
    /// The vendor could not charge the difference after all its attempts: the upgrade is
    /// discarded and the product paid before ships.
    Discarded {
        /// The cart, its line back to the product paid before.
        cart: Cart,
    },
    /// The cart was paid offline: the difference is to be paid in `cart`, a new cart naming
    /// the paid one as its `upgrade_parent`. Without an `action`, check it out like any cart;
    /// with one, the provider has already started its payment: show the action to the
    /// customer. If it is never paid, the upgrade is discarded and the original product ships.
    PaymentRequired {
        /// The new cart holding only the difference.
        cart: Cart,
        /// What the new cart asks for.
        amount: Money,
        /// The payment the provider already started for the new cart (eManage's own upgrade
        /// session comes with its payment page), when it did: the cart waits for it
        /// ([`CartStatus::AwaitingPayment`]), and a checkout of the cart may not reach that page
        /// again, so this is the one place the shop learns it. `None`: the cart is open; check
        /// it out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<crate::checkout::PaymentAction>,
    },
}

impl UpgradeOutcome {
    /// The cart the outcome carries (the new cart for `PaymentRequired`).
    pub fn cart(&self) -> &Cart {
        match self {
            UpgradeOutcome::Charged { cart, .. }
            | UpgradeOutcome::Pending { cart, .. }
            | UpgradeOutcome::Discarded { cart }
            | UpgradeOutcome::PaymentRequired { cart, .. } => cart,
        }
    }
}

/// A piece of card data that never prints: `Debug` shows `[redacted]`, there is no
/// `Display`, and the value is read only through [`CardSecret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct CardSecret(String);

impl CardSecret {
    /// Wraps card data.
    pub fn new(value: impl Into<String>) -> CardSecret {
        CardSecret(value.into())
    }

    /// The value; call it only where it must go on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CardSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Card details the shop collected. Number and security code are [`CardSecret`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CardDetails {
    /// Name on the card.
    pub holder: String,
    /// Card number.
    pub number: CardSecret,
    /// Expiry month, 1-12.
    pub expiry_month: u32,
    /// Expiry year, four digits.
    pub expiry_year: i32,
    /// Security code (CVV).
    pub cvv: CardSecret,
    /// Brand as the shop names it (`visa`), when known.
    pub brand: Option<String>,
}

impl CardDetails {
    /// A card.
    pub fn new(
        holder: impl Into<String>,
        number: CardSecret,
        expiry_month: u32,
        expiry_year: i32,
        cvv: CardSecret,
    ) -> CardDetails {
        CardDetails { holder: holder.into(), number, expiry_month, expiry_year, cvv, brand: None }
    }

    /// Sets the brand.
    pub fn with_brand(mut self, brand: impl Into<String>) -> CardDetails {
        self.brand = Some(brand.into());
        self
    }
}

/// How a cart is paid at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CartPayment {
    /// A card, charged by the provider.
    Card(CardDetails),
    /// A payment processor that takes the customer elsewhere or pays later (PayPal, a bank
    /// redirect, a payment link), by the provider's id for it.
    Processor {
        /// The provider's processor id (eManage `paymentProcessorId`, e.g. `5` for PayPal).
        id: String,
    },
    /// A card the provider keeps from an earlier order ([`CartOrder::card_on_file`]).
    CardOnFile {
        /// The provider's card id.
        card_id: String,
    },
}

/// Customer details attached to a cart: who pays and where it ships.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<Phone>,
    /// Shipping address (billing too, unless the provider is told otherwise).
    pub address: Option<Address>,
}

/// A paid cart turned into an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CartOrder {
    /// The vendor's order number.
    pub order_id: OrderId,
    /// The cart.
    pub cart: CartId,
    /// Amount charged: what the provider actually captured.
    pub charged: Money,
    /// The card the provider keeps for later charges, when it says so.
    pub card_on_file: Option<String>,
    /// What the cart cost when the provider read it just before charging, set only when it
    /// charged a different amount (the vendor re-priced the open cart between that read and
    /// its charge, as eManage does after a campaign price change). The price shown is not the
    /// price charged: the shop tells the customer, and refunds or charges the difference as
    /// its own policy says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repriced_from: Option<Money>,
}

/// What a cart checkout answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CartCheckout {
    /// Paid: the cart is an order.
    Paid(CartOrder),
    /// The payment was declined (a business answer, not an error); the cart stays open and can
    /// be checked out again.
    Declined {
        /// Why, as the provider says it.
        reason: String,
    },
    /// The customer must act first (a redirect, 3-D Secure, an offline payment link); the
    /// cart waits ([`CartStatus::AwaitingPayment`]) until the payment is confirmed or given up.
    ActionRequired {
        /// The cart.
        cart: CartId,
        /// What the shop must show.
        action: PaymentAction,
        /// The order number the vendor already gave, if any.
        order: Option<OrderId>,
    },
}

/// One product and quantity of a dropship basket, a stock check or a courier query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderLine {
    /// Product, as the wholesaler codes it.
    pub product_id: ProductId,
    /// Quantity; must be positive.
    pub quantity: Decimal,
    /// The end customer's note for the line.
    pub comment: Option<String>,
}

impl OrderLine {
    /// `quantity` of `product`.
    pub fn new(product: impl Into<ProductId>, quantity: Decimal) -> OrderLine {
        OrderLine { product_id: product.into(), quantity, comment: None }
    }

    /// Adds the end customer's note.
    pub fn with_comment(mut self, comment: impl Into<String>) -> OrderLine {
        self.comment = Some(comment.into());
        self
    }
}

/// Why the wholesaler cannot supply a line of a stock check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Shortfall {
    /// Less stock than requested.
    Insufficient,
    /// The wholesaler does not know the product.
    UnknownProduct,
    /// The line was refused for another reason (a malformed quantity, a product not sold to
    /// this customer); the vendor's code says which.
    Refused,
}

/// Stock of one requested line at the wholesaler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StockLevel {
    /// Product.
    pub product_id: ProductId,
    /// Units asked for.
    pub requested: Decimal,
    /// Units available now (zero for an unknown product).
    pub available: Decimal,
    /// Why the line cannot be supplied; `None` when it can.
    pub shortfall: Option<Shortfall>,
    /// The vendor's code for the shortfall, when it gives one.
    pub vendor_code: Option<String>,
}

impl StockLevel {
    /// A stock level; the shortfall is `Insufficient` when fewer than `requested` are available.
    pub fn new(product_id: ProductId, requested: Decimal, available: Decimal) -> StockLevel {
        let shortfall = (available < requested).then_some(Shortfall::Insufficient);
        StockLevel { product_id, requested, available, shortfall, vendor_code: None }
    }

    /// Sets the shortfall (and clears it with `None`).
    pub fn with_shortfall(mut self, shortfall: Option<Shortfall>) -> StockLevel {
        self.shortfall = shortfall;
        self
    }

    /// Sets the vendor's code.
    pub fn with_vendor_code(mut self, code: impl Into<String>) -> StockLevel {
        self.vendor_code = Some(code.into());
        self
    }

    /// True when the line can be supplied as requested.
    pub fn sufficient(&self) -> bool {
        self.shortfall.is_none()
    }
}

/// A courier the wholesaler ships with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Courier {
    /// Courier id at the wholesaler.
    pub id: String,
    /// Name.
    pub name: String,
    /// Shipping cost, when priced for a basket and destination.
    pub cost: Option<Money>,
    /// The order must name a pickup point (parcel lockers, pickup shops).
    pub pickup_point: bool,
    /// Cash on delivery is possible.
    pub cash_on_delivery: bool,
    /// Days to delivery, when the wholesaler says.
    pub delivery_days: Option<u32>,
    /// ISO 3166-1 alpha-2 countries served; empty when not said.
    pub countries: Vec<String>,
}

/// Which couriers to list: all the wholesaler offers, or those that can carry a basket to a
/// destination before any order exists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CourierQuery {
    /// The basket; empty for every courier.
    pub lines: Vec<OrderLine>,
    /// Where the basket goes (at least country and postal code).
    pub destination: Option<Address>,
}

impl CourierQuery {
    /// Every courier the wholesaler offers.
    pub fn all() -> CourierQuery {
        CourierQuery::default()
    }

    /// Couriers that can carry `lines` to `destination`, priced for them.
    pub fn for_basket(lines: Vec<OrderLine>, destination: Address) -> CourierQuery {
        CourierQuery { lines, destination: Some(destination) }
    }

    /// True when the query asks for every courier.
    pub fn is_all(&self) -> bool {
        self.lines.is_empty() && self.destination.is_none()
    }
}

/// A recipient of a dropship order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recipient {
    /// Full name of the person (given names, then family name).
    pub name: String,
    /// Company, when the parcel goes to one.
    pub company: Option<String>,
    /// Address.
    pub address: Address,
    /// Phone.
    pub phone: Option<Phone>,
    /// E-mail.
    pub email: Option<String>,
}

/// The ordering shop's invoice data (the payer of a dropship order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Billing {
    /// Company name.
    pub company: String,
    /// Tax id (NIP in Poland, VAT number elsewhere).
    pub tax_id: String,
    /// Invoice address.
    pub address: Address,
}

impl Billing {
    /// Invoice data of `company` with `tax_id` at `address`.
    pub fn new(company: impl Into<String>, tax_id: impl Into<String>, address: Address) -> Billing {
        Billing { company: company.into(), tax_id: tax_id.into(), address }
    }
}

/// A dropship order placed with a wholesaler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DropshipOrder {
    /// The shop's own order reference (the idempotency key).
    pub reference: String,
    /// Lines (product, quantity, note).
    pub lines: Vec<OrderLine>,
    /// Who receives the parcel.
    pub recipient: Recipient,
    /// Chosen courier.
    pub courier_id: String,
    /// Pickup point, for couriers that deliver to one.
    pub pickup_point: Option<String>,
    /// Amount the courier collects from the recipient (cash on delivery).
    pub cash_on_delivery: Option<Money>,
    /// Preferred delivery date.
    pub preferred_date: Option<NaiveDate>,
    /// The shop's invoice data; providers may default it from their configuration.
    pub billing: Option<Billing>,
    /// A note for the wholesaler.
    pub note: Option<String>,
}

/// What placing a dropship order answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlacedOrder {
    /// The wholesaler's order id.
    pub order_id: OrderId,
    /// The shop's reference was known: this is the order placed earlier, nothing new was
    /// placed.
    pub duplicate: bool,
    /// Order total with delivery, when the wholesaler says.
    pub total: Option<Money>,
}

impl PlacedOrder {
    /// A newly placed order.
    pub fn new(order_id: OrderId) -> PlacedOrder {
        PlacedOrder { order_id, duplicate: false, total: None }
    }

    /// Marks the answer as the earlier order of the same reference.
    pub fn duplicate(mut self, duplicate: bool) -> PlacedOrder {
        self.duplicate = duplicate;
        self
    }

    /// Sets the total.
    pub fn with_total(mut self, total: Money) -> PlacedOrder {
        self.total = Some(total);
        self
    }
}

/// Where a dropship order stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderStatus {
    /// The wholesaler's order id.
    pub order_id: OrderId,
    /// The wholesaler's status label.
    pub status: String,
    /// Shipment tracking numbers, once dispatched (one per parcel).
    pub shipments: Vec<String>,
    /// Dispatched (recipient can no longer be changed).
    pub dispatched: bool,
    /// The shop's reference the order was placed under.
    pub reference: Option<String>,
    /// The courier.
    pub courier_id: Option<String>,
    /// When it was dispatched.
    pub dispatched_at: Option<DateTime<Utc>>,
}

/// A shipment notice pushed by the wholesaler (webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShipmentNotice {
    /// The order.
    pub order_id: OrderId,
    /// The shop's reference of the order, when the notice carries it.
    pub reference: Option<String>,
    /// Tracking numbers, one per parcel.
    pub tracking_numbers: Vec<String>,
    /// Courier.
    pub courier: Option<String>,
    /// When it shipped.
    pub at: Option<DateTime<Utc>>,
    /// The wholesaler's status label after the event.
    pub status: Option<String>,
    /// The delivery's event id (the same for every retry of one event), for de-duplicating a
    /// notice without tracking numbers.
    pub event_id: Option<String>,
    /// True when the notice carried a signature and it checked out; false for an unsigned
    /// notice the receiver's policy accepts.
    pub verified: bool,
}

/// A webhook request as a receiver got it: headers (any case) and the raw body.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PushedRequest<'a> {
    /// Header names and values.
    pub headers: &'a [(String, String)],
    /// The raw body.
    pub body: &'a [u8],
}

impl<'a> PushedRequest<'a> {
    /// A request of `headers` and `body`.
    pub fn new(headers: &'a [(String, String)], body: &'a [u8]) -> PushedRequest<'a> {
        PushedRequest { headers, body }
    }

    /// The first value of header `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Customer {
    /// Customer details with an e-mail address.
    pub fn with_email(email: impl Into<String>) -> Customer {
        Customer { email: Some(email.into()), ..Customer::default() }
    }

    /// Sets given and family name.
    pub fn named(mut self, first: impl Into<String>, last: impl Into<String>) -> Customer {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// Sets the address.
    pub fn at(mut self, address: Address) -> Customer {
        self.address = Some(address);
        self
    }
}

impl CartOrder {
    /// Makes an order record.
    pub fn new(order_id: OrderId, cart: CartId, charged: Money) -> CartOrder {
        CartOrder { order_id, cart, charged, card_on_file: None, repriced_from: None }
    }

    /// Records that the cart read `shown` just before the charge, when `charged` differs from
    /// it (see [`CartOrder::repriced_from`]); the same amount records nothing.
    pub fn with_repriced_from(mut self, shown: Money) -> CartOrder {
        self.repriced_from = (shown != self.charged).then_some(shown);
        self
    }

    /// Names the card the provider keeps.
    pub fn with_card_on_file(mut self, card_id: impl Into<String>) -> CartOrder {
        self.card_on_file = Some(card_id.into());
        self
    }
}

impl Courier {
    /// Makes a courier.
    pub fn new(id: impl Into<String>, name: impl Into<String>, cost: Option<Money>) -> Courier {
        Courier {
            id: id.into(),
            name: name.into(),
            cost,
            pickup_point: false,
            cash_on_delivery: false,
            delivery_days: None,
            countries: Vec::new(),
        }
    }

    /// Says whether an order must name a pickup point.
    pub fn needs_pickup_point(mut self, yes: bool) -> Courier {
        self.pickup_point = yes;
        self
    }

    /// Says whether cash on delivery is possible.
    pub fn with_cash_on_delivery(mut self, yes: bool) -> Courier {
        self.cash_on_delivery = yes;
        self
    }

    /// Sets the days to delivery.
    pub fn with_delivery_days(mut self, days: u32) -> Courier {
        self.delivery_days = Some(days);
        self
    }

    /// Sets the countries served.
    pub fn serving(mut self, countries: Vec<String>) -> Courier {
        self.countries = countries;
        self
    }
}

impl Recipient {
    /// A recipient at `address`.
    pub fn new(name: impl Into<String>, address: Address) -> Recipient {
        Recipient { name: name.into(), company: None, address, phone: None, email: None }
    }

    /// Sets the company.
    pub fn with_company(mut self, company: impl Into<String>) -> Recipient {
        self.company = Some(company.into());
        self
    }

    /// Sets the phone.
    pub fn with_phone(mut self, phone: Phone) -> Recipient {
        self.phone = Some(phone);
        self
    }

    /// Sets the e-mail.
    pub fn with_email(mut self, email: impl Into<String>) -> Recipient {
        self.email = Some(email.into());
        self
    }
}

impl DropshipOrder {
    /// An order under the shop's `reference` for `recipient`, shipped by `courier_id`.
    pub fn new(
        reference: impl Into<String>,
        recipient: Recipient,
        courier_id: impl Into<String>,
    ) -> DropshipOrder {
        DropshipOrder {
            reference: reference.into(),
            lines: Vec::new(),
            recipient,
            courier_id: courier_id.into(),
            pickup_point: None,
            cash_on_delivery: None,
            preferred_date: None,
            billing: None,
            note: None,
        }
    }

    /// Adds a line.
    pub fn with_line(mut self, product: impl Into<ProductId>, quantity: Decimal) -> DropshipOrder {
        self.lines.push(OrderLine::new(product, quantity));
        self
    }

    /// Adds a line with its note.
    pub fn with_order_line(mut self, line: OrderLine) -> DropshipOrder {
        self.lines.push(line);
        self
    }

    /// Delivers to a pickup point.
    pub fn with_pickup_point(mut self, point: impl Into<String>) -> DropshipOrder {
        self.pickup_point = Some(point.into());
        self
    }

    /// Asks the courier to collect `amount` from the recipient.
    pub fn with_cash_on_delivery(mut self, amount: Money) -> DropshipOrder {
        self.cash_on_delivery = Some(amount);
        self
    }

    /// Asks for delivery on `date`.
    pub fn with_preferred_date(mut self, date: NaiveDate) -> DropshipOrder {
        self.preferred_date = Some(date);
        self
    }

    /// Sets the shop's invoice data.
    pub fn with_billing(mut self, billing: Billing) -> DropshipOrder {
        self.billing = Some(billing);
        self
    }

    /// Adds a note for the wholesaler.
    pub fn with_note(mut self, note: impl Into<String>) -> DropshipOrder {
        self.note = Some(note.into());
        self
    }
}

impl OrderStatus {
    /// Makes a status record.
    pub fn new(
        order_id: OrderId,
        status: impl Into<String>,
        shipments: Vec<String>,
        dispatched: bool,
    ) -> OrderStatus {
        OrderStatus {
            order_id,
            status: status.into(),
            shipments,
            dispatched,
            reference: None,
            courier_id: None,
            dispatched_at: None,
        }
    }

    /// Sets the shop's reference.
    pub fn with_reference(mut self, reference: impl Into<String>) -> OrderStatus {
        self.reference = Some(reference.into());
        self
    }

    /// Sets the courier.
    pub fn with_courier(mut self, courier_id: impl Into<String>) -> OrderStatus {
        self.courier_id = Some(courier_id.into());
        self
    }

    /// Sets the dispatch time.
    pub fn dispatched_at(mut self, at: DateTime<Utc>) -> OrderStatus {
        self.dispatched_at = Some(at);
        self
    }
}

impl ShipmentNotice {
    /// A notice for `order_id` with its tracking numbers.
    pub fn new(order_id: OrderId, tracking_numbers: Vec<String>) -> ShipmentNotice {
        ShipmentNotice {
            order_id,
            reference: None,
            tracking_numbers,
            courier: None,
            at: None,
            status: None,
            event_id: None,
            verified: false,
        }
    }

    /// The (order, tracking number) pairs this notice reports: what a receiver de-duplicates
    /// on (a new pair under an event id already seen is new news; the event id decides only
    /// for a notice without tracking numbers).
    pub fn shipment_keys(&self) -> Vec<(OrderId, String)> {
        self.tracking_numbers.iter().map(|t| (self.order_id.clone(), t.clone())).collect()
    }
}
