//! Shopping carts with upsell upgrades and progressive discounts (eManage) and dropship
//! fulfilment (IdoSell).

use chrono::{DateTime, Utc};
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
}

impl UpgradeRequest {
    /// Upgrades `quantity` units of `line_id` to `product_id`, charged on the cart's payment.
    pub fn new(line_id: impl Into<LineId>, product_id: impl Into<ProductId>, quantity: Decimal) -> Self {
        UpgradeRequest {
            line_id: line_id.into(),
            product_id: product_id.into(),
            quantity,
            paid_offline: false,
        }
    }

    /// Says the cart was paid through a redirect or offline payment.
    pub fn paid_offline(mut self, offline: bool) -> Self {
        self.paid_offline = offline;
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
    /// the paid one as its `upgrade_parent`. Check it out like any cart; if it is never paid,
    /// the upgrade is discarded and the original product ships.
    PaymentRequired {
        /// The new cart holding only the difference.
        cart: Cart,
        /// What the new cart asks for.
        amount: Money,
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
    /// Amount charged.
    pub charged: Money,
    /// The card the provider keeps for later charges, when it says so.
    pub card_on_file: Option<String>,
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

/// Stock of one product at the wholesaler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StockLevel {
    /// Product.
    pub product_id: ProductId,
    /// Units available now.
    pub available: Decimal,
}

/// A courier the wholesaler ships with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Courier {
    /// Courier id at the wholesaler.
    pub id: String,
    /// Name.
    pub name: String,
    /// Shipping cost, when priced per order.
    pub cost: Option<Money>,
}

/// A recipient of a dropship order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recipient {
    /// Full name or company.
    pub name: String,
    /// Address.
    pub address: Address,
    /// Phone.
    pub phone: Option<Phone>,
    /// E-mail.
    pub email: Option<String>,
}

/// A dropship order placed with a wholesaler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DropshipOrder {
    /// The shop's own order reference (the idempotency key).
    pub reference: String,
    /// Lines (product and quantity).
    pub lines: Vec<(ProductId, Decimal)>,
    /// Who receives the parcel.
    pub recipient: Recipient,
    /// Chosen courier.
    pub courier_id: String,
}

/// Where a dropship order stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderStatus {
    /// The wholesaler's order id.
    pub order_id: OrderId,
    /// The wholesaler's status label.
    pub status: String,
    /// Shipment tracking numbers, once dispatched.
    pub shipments: Vec<String>,
    /// Dispatched (recipient can no longer be changed).
    pub dispatched: bool,
}

/// A shipment notice pushed by the wholesaler (webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShipmentNotice {
    /// The order.
    pub order_id: OrderId,
    /// Tracking number.
    pub tracking_number: String,
    /// Courier.
    pub courier: Option<String>,
    /// When it shipped.
    pub at: Option<DateTime<Utc>>,
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
        CartOrder { order_id, cart, charged, card_on_file: None }
    }

    /// Names the card the provider keeps.
    pub fn with_card_on_file(mut self, card_id: impl Into<String>) -> CartOrder {
        self.card_on_file = Some(card_id.into());
        self
    }
}

impl StockLevel {
    /// Makes a stock level.
    pub fn new(product_id: ProductId, available: Decimal) -> StockLevel {
        StockLevel { product_id, available }
    }
}

impl Courier {
    /// Makes a courier.
    pub fn new(id: impl Into<String>, name: impl Into<String>, cost: Option<Money>) -> Courier {
        Courier { id: id.into(), name: name.into(), cost }
    }
}

impl Recipient {
    /// A recipient at `address`.
    pub fn new(name: impl Into<String>, address: Address) -> Recipient {
        Recipient { name: name.into(), address, phone: None, email: None }
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
        }
    }

    /// Adds a line.
    pub fn with_line(mut self, product: impl Into<ProductId>, quantity: Decimal) -> DropshipOrder {
        self.lines.push((product.into(), quantity));
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
        OrderStatus { order_id, status: status.into(), shipments, dispatched }
    }
}

impl ShipmentNotice {
    /// Makes a notice.
    pub fn new(order_id: OrderId, tracking_number: impl Into<String>) -> ShipmentNotice {
        ShipmentNotice { order_id, tracking_number: tracking_number.into(), courier: None, at: None }
    }
}
