//! Shopping carts with upsell upgrades (eManage) and dropship fulfilment (IdoSell).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{CartId, LineId, OrderId, ProductId};
use crate::member::{Address, Phone};
use crate::money::{Currency, Money};

/// A request to open a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewCart {
    /// Currency of the cart.
    pub currency: Currency,
    /// A test cart the vendor will not fulfil.
    pub test: bool,
    /// The cart this one upgrades after an offline payment (eManage `upgradeParentSessionId`).
    pub upgrade_parent: Option<CartId>,
}

impl NewCart {
    /// A live cart in `currency`.
    pub fn new(currency: Currency) -> NewCart {
        NewCart { currency, test: false, upgrade_parent: None }
    }

    /// Marks the cart as a test cart.
    pub fn test(mut self, test: bool) -> NewCart {
        self.test = test;
        self
    }

    /// Opens the cart as an upgrade of an earlier, paid cart.
    pub fn upgrading(mut self, parent: CartId) -> NewCart {
        self.upgrade_parent = Some(parent);
        self
    }
}

/// A cart line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CartLine {
    /// Line id within the cart.
    pub line_id: LineId,
    /// Product.
    pub product_id: ProductId,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price, tax included.
    pub unit_price: Money,
    /// Discount on the line (progressive discounts, coupons).
    pub discount: Money,
    /// What the line costs after discount.
    pub net: Money,
    /// The product this line was upgraded from, when it is an upgrade.
    pub upgraded_from: Option<ProductId>,
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
            upgraded_from: None,
        }
    }
}

/// Where a cart stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    /// Open for changes.
    Open,
    /// Paid and turned into an order.
    Paid,
    /// Abandoned or discarded (an unpaid upgrade session).
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
    /// Sum of the lines' nets.
    pub total: Money,
    /// The paid cart this one upgrades, if any.
    pub upgrade_parent: Option<CartId>,
}

impl Cart {
    /// Makes a cart record.
    pub fn new(id: impl Into<CartId>, status: CartStatus, lines: Vec<CartLine>, total: Money) -> Cart {
        Cart { id: id.into(), status, lines, total, upgrade_parent: None }
    }
}

/// A request to swap a cart line for a better product (upsell upgrade).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpgradeRequest {
    /// The line upgraded.
    pub line_id: LineId,
    /// The product it becomes.
    pub product_id: ProductId,
    /// Quantity of the new product.
    pub quantity: Decimal,
}

impl UpgradeRequest {
    /// Upgrades `line_id` to `quantity` of `product_id`.
    pub fn new(line_id: impl Into<LineId>, product_id: impl Into<ProductId>, quantity: Decimal) -> Self {
        UpgradeRequest { line_id: line_id.into(), product_id: product_id.into(), quantity }
    }
}

/// The vendor's preview of an upgrade: what the customer pays now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpgradePreview {
    /// The cart after the upgrade.
    pub cart: Cart,
    /// Charge for the upgrade: new price minus what was already paid; never negative.
    pub charge: Money,
}

/// Customer details attached to a cart.
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
    /// Billing or shipping address.
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

impl UpgradePreview {
    /// Makes a preview.
    pub fn new(cart: Cart, charge: Money) -> UpgradePreview {
        UpgradePreview { cart, charge }
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
        CartOrder { order_id, cart, charged }
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
