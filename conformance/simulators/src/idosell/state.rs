//! The simulator's state (the IdoSell contract §9.2 item 2): seeded wholesaler data (accounts,
//! products, couriers) plus everything clients change (sessions, baskets, orders, addresses,
//! webhook deliveries).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tokio::sync::Notify;

use super::{demo, names::Gateway, settings::IdosellSettings};

/// A customer account of the wholesale store (a retail shop).
#[derive(Clone, Debug)]
pub(crate) struct Account {
    pub login: String,
    /// `sha1(password)` as 40 lowercase hex: the store keeps only the inner digest (§3.2).
    pub inner_sha1: String,
    pub dropshipping_key: String,
    /// Dropshipping switched on for this customer (§3.4: off → fault 4).
    pub dropshipping_enabled: bool,
    pub callback_url: Option<String>,
    pub basket: Vec<Line>,
}

/// ICDF code family (§4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeType {
    Internal,
    Producer,
    External,
}

impl CodeType {
    pub fn parse(s: &str) -> Option<CodeType> {
        match s {
            "internal" => Some(CodeType::Internal),
            "producer" => Some(CodeType::Producer),
            "external" => Some(CodeType::External),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CodeType::Internal => "internal",
            CodeType::Producer => "producer",
            CodeType::External => "external",
        }
    }
}

/// A catalogue product with its three codes (§4, simulator consequences).
#[derive(Clone, Debug)]
pub(crate) struct Product {
    pub name: String,
    pub internal: String,
    pub producer: String,
    pub external: String,
    /// Available stock (reservations already taken off). Unused for sets.
    pub stock: Decimal,
    /// Reserved by placed orders.
    pub reserved: Decimal,
    pub weight_kg: Decimal,
    pub price_net: Decimal,
    pub price_gross: Decimal,
    /// For a set: (component index, quantity per set).
    pub components: Vec<(usize, Decimal)>,
}

impl Product {
    pub fn code(&self, t: CodeType) -> &str {
        match t {
            CodeType::Internal => &self.internal,
            CodeType::Producer => &self.producer,
            CodeType::External => &self.external,
        }
    }
}

/// Courier kinds of G5 (§5 G5: courier, pickup point).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CourierKind {
    Courier,
    PickupPoint,
}

impl CourierKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CourierKind::Courier => "courier",
            CourierKind::PickupPoint => "pickup_point",
        }
    }
}

/// A delivery method (§5 G5/G6).
#[derive(Clone, Debug)]
pub(crate) struct Courier {
    pub id: i64,
    pub name: String,
    pub kind: CourierKind,
    /// ISO 3166 alpha-2 destinations.
    pub countries: Vec<String>,
    pub max_weight_kg: Decimal,
    pub base_cost: Decimal,
    pub cost_per_kg: Decimal,
    pub cash_on_delivery: bool,
    /// Internal codes this courier does not carry (sets are expanded first).
    pub excluded: Vec<String>,
    pub delivery_days: i64,
}

/// A resolved basket line.
#[derive(Clone, Debug)]
pub(crate) struct Line {
    pub product: usize,
    pub code_type: CodeType,
    pub code: String,
    pub quantity: Decimal,
    pub comment: Option<String>,
    /// (file name, decoded size in bytes).
    pub attachments: Vec<(String, usize)>,
    /// Set components as (product index, quantity per set).
    pub components: Vec<(usize, Decimal)>,
}

/// Order statuses the simulator walks through (§4 vocabulary, §9.2 item 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    New,
    OnOrder,
    Packed,
    PackedReady,
    WaitForReceive,
    Finished,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::OnOrder => "on_order",
            Status::Packed => "packed",
            Status::PackedReady => "packed_ready",
            Status::WaitForReceive => "wait_for_receive",
            Status::Finished => "finished",
        }
    }

    pub fn next(self) -> Option<Status> {
        match self {
            Status::New => Some(Status::OnOrder),
            Status::OnOrder => Some(Status::Packed),
            Status::Packed => Some(Status::PackedReady),
            Status::PackedReady => Some(Status::WaitForReceive),
            Status::WaitForReceive => Some(Status::Finished),
            Status::Finished => None,
        }
    }

    /// Dispatched or later: the address can no longer change (§5 G9).
    pub fn dispatched(self) -> bool {
        matches!(self, Status::WaitForReceive | Status::Finished)
    }
}

/// Recipient address fields (§5 G4/G8); empty string = not given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AddressData {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
    pub phone: String,
    pub email: String,
}

/// The shop's invoice data on G4 (§5 G4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Billing {
    pub company: String,
    pub tax_id: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
}

/// A recipient address the shop passed with an order (§5 G8/G9).
#[derive(Clone, Debug)]
pub(crate) struct Address {
    pub id: i64,
    pub account: usize,
    pub order_id: String,
    pub data: AddressData,
}

/// A dropshipping order.
#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub id: String,
    pub serial: i64,
    pub account: usize,
    pub shop_ref: Option<String>,
    pub status: Status,
    pub lines: Vec<Line>,
    pub courier_id: i64,
    pub pickup_point: Option<String>,
    pub preferred_date: Option<NaiveDate>,
    pub cash_on_delivery: Option<Decimal>,
    pub billing: Billing,
    pub note: Option<String>,
    pub address_id: i64,
    pub products_gross: Decimal,
    pub delivery_cost: Decimal,
    pub placed_at: DateTime<Utc>,
    pub shipments: Vec<String>,
    pub dispatched_at: Option<DateTime<Utc>>,
    /// Stock taken off at placement: (product index, quantity).
    pub reserved: Vec<(usize, Decimal)>,
}

/// An issued session key (§3.5).
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub account: usize,
    pub issued: DateTime<Utc>,
    pub last_used: DateTime<Utc>,
    pub revoked: bool,
}

/// One dispatch notification and its delivery attempts (§7.2).
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    pub event_id: String,
    pub account: usize,
    pub order_id: String,
    /// The event's fields as of the dispatch (all but `sentAt`): a later change of the order
    /// does not rewrite an event already queued.
    pub event: Vec<(&'static str, super::soap::Out)>,
    /// What the first attempt sent; every retry of the event resends it unchanged.
    pub sent: Option<Sent>,
    /// Attempts made so far.
    pub attempts: usize,
    /// When the next attempt is due; `None` once delivered or given up.
    pub due: Option<DateTime<Utc>>,
    pub delivered: bool,
    /// An attempt is being sent (by the simulator's own sender or a `deliver_due`): no other
    /// sender takes the delivery until its outcome is recorded.
    pub in_flight: bool,
}

/// A webhook body as sent: the retries of one `eventId` carry the same bytes and signature.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub body: String,
    pub content_type: &'static str,
    pub signature: Option<String>,
}

/// Everything behind the simulator's mutex.
#[derive(Debug)]
pub(crate) struct Inner {
    pub settings: IdosellSettings,
    pub accounts: Vec<Account>,
    pub products: Vec<Product>,
    pub couriers: Vec<Courier>,
    pub sessions: HashMap<String, Session>,
    pub orders: Vec<Order>,
    pub addresses: Vec<Address>,
    pub deliveries: Vec<Delivery>,
    pub attempts: Vec<super::WebhookAttempt>,
    pub next_session: u64,
    pub next_serial: i64,
    pub next_address: i64,
    pub next_event: u64,
    /// Calls per gateway (after parsing, before any check).
    pub calls: BTreeMap<Gateway, u64>,
    /// Vendor-shaped faults for a future call: (gateway, call number, faultCode).
    pub call_faults: Vec<(Gateway, u64, u32)>,
    /// Wakes the simulator's webhook sender (a dispatch queued a delivery).
    pub webhook_wake: Arc<Notify>,
}

impl Inner {
    pub fn account_by_login(&self, login: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.login == login)
    }

    pub fn courier(&self, id: i64) -> Option<&Courier> {
        self.couriers.iter().find(|c| c.id == id)
    }

    pub fn order_index(&self, id: &str) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }

    pub fn product_by_internal(&self, code: &str) -> Option<usize> {
        self.products.iter().position(|p| p.internal == code)
    }
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

fn product(name: &str, codes: [&str; 3], stock: u32, weight: &str, net: &str, gross: &str) -> Product {
    Product {
        name: name.into(),
        internal: codes[0].into(),
        producer: codes[1].into(),
        external: codes[2].into(),
        stock: Decimal::from(stock),
        reserved: Decimal::ZERO,
        weight_kg: d(weight),
        price_net: d(net),
        price_gross: d(gross),
        components: Vec::new(),
    }
}

pub(crate) fn account(login: &str, password: &str, key: &str, enabled: bool) -> Account {
    Account {
        login: login.into(),
        inner_sha1: super::auth::sha1_hex(password.as_bytes()),
        dropshipping_key: key.into(),
        dropshipping_enabled: enabled,
        callback_url: None,
        basket: Vec::new(),
    }
}

/// The demo wholesaler of [`demo`].
pub(crate) fn seed(settings: IdosellSettings) -> Inner {
    use demo::*;
    let mut products = vec![
        product(
            COFFEE_NAME,
            [COFFEE_INTERNAL, COFFEE_PRODUCER, COFFEE_EXTERNAL],
            COFFEE_STOCK,
            COFFEE_WEIGHT_KG,
            COFFEE_PRICE_NET,
            COFFEE_PRICE_GROSS,
        ),
        product(
            MUG_NAME,
            [MUG_INTERNAL, MUG_PRODUCER, MUG_EXTERNAL],
            MUG_STOCK,
            MUG_WEIGHT_KG,
            MUG_PRICE_NET,
            MUG_PRICE_GROSS,
        ),
        product(SET_NAME, [SET_INTERNAL, SET_PRODUCER, SET_EXTERNAL], 0, "0", SET_PRICE_NET, SET_PRICE_GROSS),
        product(
            TEA_NAME,
            [TEA_INTERNAL, TEA_PRODUCER, TEA_EXTERNAL],
            0,
            TEA_WEIGHT_KG,
            TEA_PRICE_NET,
            TEA_PRICE_GROSS,
        ),
        product(
            GREEN_NAME,
            [GREEN_INTERNAL, GREEN_PRODUCER, GREEN_EXTERNAL],
            GREEN_STOCK,
            GREEN_WEIGHT_KG,
            GREEN_PRICE_NET,
            GREEN_PRICE_GROSS,
        ),
    ];
    products[2].components = vec![(0, Decimal::ONE), (1, Decimal::ONE)];
    let courier = |id,
                   name: &str,
                   kind,
                   countries: &[&str],
                   max: &str,
                   base: &str,
                   per_kg: &str,
                   cod,
                   excluded: &[&str],
                   days| {
        Courier {
            id,
            name: name.into(),
            kind,
            countries: countries.iter().map(|c| c.to_string()).collect(),
            max_weight_kg: d(max),
            base_cost: d(base),
            cost_per_kg: d(per_kg),
            cash_on_delivery: cod,
            excluded: excluded.iter().map(|c| c.to_string()).collect(),
            delivery_days: days,
        }
    };
    let couriers = vec![
        courier(
            COURIER_DOMESTIC,
            "Kurier DPD",
            CourierKind::Courier,
            &["PL"],
            "31.5",
            "15.00",
            "0.50",
            true,
            &[],
            1,
        ),
        courier(
            COURIER_PICKUP,
            "InPost Paczkomat",
            CourierKind::PickupPoint,
            &["PL"],
            "25",
            "12.50",
            "0",
            true,
            &[MUG_INTERNAL],
            2,
        ),
        courier(
            COURIER_INTERNATIONAL,
            "DHL Express International",
            CourierKind::Courier,
            &["DE", "CZ", "SK", "AT", "LT", "FR"],
            "30",
            "59.00",
            "4.00",
            false,
            &[],
            3,
        ),
    ];
    Inner {
        settings,
        accounts: vec![
            account(LOGIN, PASSWORD, DROPSHIPPING_KEY, true),
            account(OTHER_LOGIN, OTHER_PASSWORD, OTHER_DROPSHIPPING_KEY, true),
            account(DISABLED_LOGIN, DISABLED_PASSWORD, DISABLED_DROPSHIPPING_KEY, false),
        ],
        products,
        couriers,
        sessions: HashMap::new(),
        orders: Vec::new(),
        addresses: Vec::new(),
        deliveries: Vec::new(),
        attempts: Vec::new(),
        next_session: 1,
        next_serial: 1,
        next_address: 1,
        next_event: 1,
        calls: BTreeMap::new(),
        call_faults: Vec::new(),
        webhook_wake: Arc::new(Notify::new()),
    }
}
