//! Shopping-cart sessions (the eManage contract §6.4, §14): lines, upgrade chains (§7.2),
//! payment state, captures, and how a session is priced and what it ships.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{
    catalog::Campaign,
    names::{session_status, upgrade_status},
    pricing::{half_up, progressive_discount, DiscountLine},
    settings::{CapturePolicy, ProgressiveDiscount},
};

/// State of a shopping-cart session (the contract's §14 state machine; names are simulator
/// decisions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStatus {
    /// Lines can be added, updated and removed; checkout is possible.
    Open,
    /// A redirect (or 3-D Secure) payment was started and awaits confirmation.
    AwaitingPayment,
    /// Paid; only upgrade lines are accepted.
    Paid,
    /// An offline-upgrade session that was never paid (terminal).
    Discarded,
}

impl SessionStatus {
    /// The simulator-extra `status` value of the cart GET.
    pub fn wire(self) -> &'static str {
        match self {
            Self::Open => session_status::OPEN,
            Self::AwaitingPayment => session_status::AWAITING_PAYMENT,
            Self::Paid => session_status::PAID,
            Self::Discarded => session_status::DISCARDED,
        }
    }
}

/// State of an upgrade chain (§7.2; the names `preview`, `charged`, `discarded` are simulator
/// decisions listed in §15.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpgradeStatus {
    /// Accepted, not charged yet (a later step may still supersede it).
    Preview,
    /// The chain's charge was captured (or there was nothing to capture).
    Charged,
    /// Every charge attempt failed or the offline session went unpaid; the original ships.
    Discarded,
}

impl UpgradeStatus {
    /// The wire spelling.
    pub fn wire(self) -> &'static str {
        match self {
            Self::Preview => upgrade_status::PREVIEW,
            Self::Charged => upgrade_status::CHARGED,
            Self::Discarded => upgrade_status::DISCARDED,
        }
    }
}

/// How a session was (or is being) paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PaymentMethod {
    /// A card: later upgrades charge it on file (online upgrade, §7.2 rules 1-6).
    Card { card_id: u64, upgrade_charges_fail: bool },
    /// A redirect processor (5, 31, 25, 33, 34): later upgrades need a new session (rule 7).
    Redirect { processor: i64 },
    /// Processor 62, a gift card: spent on the amount, so later upgrades need a new session
    /// too (simulator decision).
    GiftCard { code: String },
}

impl PaymentMethod {
    pub fn processor(&self) -> Option<i64> {
        match self {
            Self::Card { .. } => None,
            Self::Redirect { processor } => Some(*processor),
            Self::GiftCard { .. } => Some(super::names::GIFT_CARD_PROCESSOR),
        }
    }
}

/// A payment waiting for confirmation (redirect or 3-D Secure).
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub tracking: String,
    pub since: DateTime<Utc>,
    pub method: PaymentMethod,
    pub three_ds: bool,
}

/// The customer of `customers/new` (§6.4 row 6).
#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub email: String,
    pub shipping_address: Value,
    pub customer_id: u64,
    pub shipping_address_id: u64,
}

/// One cart line.
#[derive(Clone, Debug)]
pub(crate) struct Line {
    pub product_id: i64,
    pub quantity: u32,
    pub shipping_method_id: i64,
    /// The catalogue price when the line was added.
    pub unit_price: Decimal,
    /// The upgrade chain this line is the head of.
    pub chain: Option<usize>,
    /// Offline-upgrade sessions hold one delta line: its price per unit.
    pub delta: Option<Decimal>,
}

/// An upgrade chain (§7.2): origin line `p0` at `a0`, steps `p1..pk`, the head last.
#[derive(Clone, Debug)]
pub(crate) struct Chain {
    pub origin_product: i64,
    pub origin_unit: Decimal,
    pub origin_shipping: i64,
    /// Whether this chain's line reports the shipping paid for the origin line. The shipping
    /// is paid once per paid line (its `shippingPrice`): a partial upgrade leaves it with the
    /// rest of the split line, which stays as it was (§7.2 rule 2), so only a chain that took
    /// the whole line carries it.
    pub carries_shipping: bool,
    pub quantity: u32,
    /// (product, catalogue price) per step; the last one is the head.
    pub steps: Vec<(i64, Decimal)>,
    pub status: UpgradeStatus,
    /// Captured so far for one unit of the chain.
    pub captured_per_unit: Decimal,
    /// Index of the last step a capture covered.
    pub charged_step: Option<usize>,
    /// Steps dropped after their charge failed (they never ship).
    pub failed: Vec<i64>,
    pub attempts: u32,
    /// The amount each charge attempt of the current step tried, in order (major units, all
    /// the chain's units).
    pub tried: Vec<Decimal>,
    /// When the pending charge is attempted (online chains).
    pub due_at: Option<DateTime<Utc>>,
    /// The offline-upgrade session carrying the chain's delta, and whether it is still unpaid.
    pub child: Option<String>,
    pub child_pending: bool,
}

impl Chain {
    pub fn head(&self) -> (i64, Decimal) {
        self.steps.last().copied().unwrap_or((self.origin_product, self.origin_unit))
    }

    /// What fulfilment ships for this chain now: the head once charged, the last charged step
    /// (or the origin) while a step is a preview, the origin once discarded.
    pub fn ships(&self) -> i64 {
        match self.status {
            UpgradeStatus::Charged => self.head().0,
            UpgradeStatus::Preview => {
                self.charged_step.map(|i| self.steps[i].0).unwrap_or(self.origin_product)
            }
            UpgradeStatus::Discarded => self.origin_product,
        }
    }

    /// Steps that never ship: superseded previews and failed steps.
    pub fn discarded_products(&self) -> Vec<i64> {
        let ships = self.ships();
        let mut out: Vec<i64> = Vec::new();
        for p in self.steps.iter().map(|s| s.0).chain(self.failed.iter().copied()) {
            if p != ships && !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// The chain's price per unit: `ak − a0`, never negative (§7.2 rule 3).
    pub fn charge_per_unit(&self) -> Decimal {
        (self.head().1 - self.origin_unit).max(Decimal::ZERO)
    }

    /// What the next capture takes per unit (§7.2 rule 5): the remainder that keeps "captured =
    /// last − first", or last − first again under the literal policy.
    pub fn next_capture_per_unit(&self, policy: CapturePolicy) -> Decimal {
        match policy {
            CapturePolicy::Remainder => (self.charge_per_unit() - self.captured_per_unit).max(Decimal::ZERO),
            CapturePolicy::Literal => self.charge_per_unit(),
        }
    }
}

/// Why money was captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaptureKind {
    /// The checkout (or redirect confirmation) of the session.
    Checkout,
    /// An online upgrade charge on the card on file.
    Upgrade,
}

/// One capture on a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    /// Amount in major units of the campaign currency.
    pub amount: Decimal,
    /// What it paid for.
    pub kind: CaptureKind,
    /// Simulated time of the capture.
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub id: String,
    pub web_key: String,
    pub created_at: DateTime<Utc>,
    pub test: bool,
    pub status: SessionStatus,
    pub lines: Vec<Line>,
    pub chains: Vec<Chain>,
    pub customer: Option<Customer>,
    pub customer_ip: Option<String>,
    pub paid_with: Option<PaymentMethod>,
    pub pending: Option<Pending>,
    pub shopping_cart_number: Option<u64>,
    pub order_number: Option<String>,
    pub captures: Vec<Capture>,
    /// Offline-upgrade sessions: the parent session and the parent's chain index.
    pub parent: Option<(String, usize)>,
    pub declines: u32,
}

impl Session {
    pub fn new(id: String, web_key: String, now: DateTime<Utc>, test: bool) -> Self {
        Self {
            id,
            web_key,
            created_at: now,
            test,
            status: SessionStatus::Open,
            lines: Vec::new(),
            chains: Vec::new(),
            customer: None,
            customer_ip: None,
            paid_with: None,
            pending: None,
            shopping_cart_number: None,
            order_number: None,
            captures: Vec::new(),
            parent: None,
            declines: 0,
        }
    }

    /// A plain (not upgraded, not delta) line of this product.
    pub fn plain_line(&self, product_id: i64) -> Option<usize> {
        self.lines.iter().position(|l| l.product_id == product_id && l.chain.is_none() && l.delta.is_none())
    }

    /// Whether later upgrades need a new session (paid with a redirect processor, §7.2 rule 7,
    /// or a gift card).
    pub fn paid_offline(&self) -> bool {
        matches!(self.paid_with, Some(PaymentMethod::Redirect { .. } | PaymentMethod::GiftCard { .. }))
    }

    pub fn captured(&self) -> Decimal {
        self.captures.iter().map(|c| c.amount).sum()
    }

    /// What fulfilment ships for a paid session (nothing otherwise; an offline-upgrade session
    /// ships nothing itself, its parent does).
    pub fn shipments(&self) -> Vec<(i64, u32)> {
        if self.status != SessionStatus::Paid || self.parent.is_some() {
            return Vec::new();
        }
        let mut out: Vec<(i64, u32)> = Vec::new();
        for l in &self.lines {
            let p = l.chain.map(|c| self.chains[c].ships()).unwrap_or(l.product_id);
            match out.iter_mut().find(|(q, _)| *q == p) {
                Some(e) => e.1 = e.1.saturating_add(l.quantity),
                None => out.push((p, l.quantity)),
            }
        }
        out
    }
}

/// One line as the cart GET reports it.
#[derive(Clone, Debug)]
pub(crate) struct PricedLine {
    pub product_id: i64,
    pub product_name: String,
    pub quantity: u32,
    pub shipping_method_id: i64,
    pub shipping_price: Decimal,
    /// Unit price after discount, rounded half-up to the minor unit.
    pub price: Decimal,
    pub list_price: Decimal,
    pub discount_percent: Decimal,
    /// Exact line amount after discount (upgrade charge included).
    pub line_total: Decimal,
    pub line_discount: Decimal,
    /// (status, origin product) for an upgrade head.
    pub upgrade: Option<(UpgradeStatus, i64)>,
}

/// A priced session: lines and exact totals.
#[derive(Clone, Debug)]
pub(crate) struct Priced {
    pub lines: Vec<PricedLine>,
    pub subtotal: Decimal,
    pub shipping_total: Decimal,
    pub discount_total: Decimal,
    pub total: Decimal,
}

/// Prices a session from its campaign's catalogue (§8 "applied by the server when it prices
/// the session"). An upgrade head is priced as the units it replaced plus the chain charge, so
/// it keeps their discount and the tier never moves (§8); an offline-upgrade session holds only
/// its delta line, undiscounted. With `reprice`, an open cart's plain lines take the campaign's
/// current price (§6.4 notes: the server re-prices from the campaign).
pub(crate) fn price(
    s: &Session,
    campaign: &Campaign,
    cfg: Option<&ProgressiveDiscount>,
    exp: u32,
    reprice: bool,
) -> Priced {
    let cfg = if s.parent.is_none() && campaign.progressive { cfg } else { None };
    let current = |l: &Line| match campaign.product(l.product_id) {
        Some(p) if reprice && s.status == SessionStatus::Open => p.price,
        _ => l.unit_price,
    };
    let base: Vec<DiscountLine> = s
        .lines
        .iter()
        .map(|l| match (l.chain, l.delta) {
            (Some(c), _) => {
                let c = &s.chains[c];
                DiscountLine { base_product: c.origin_product, base_unit: c.origin_unit, units: l.quantity }
            }
            (None, Some(d)) => DiscountLine { base_product: l.product_id, base_unit: d, units: 0 },
            (None, None) => {
                DiscountLine { base_product: l.product_id, base_unit: current(l), units: l.quantity }
            }
        })
        .collect();
    let discounts = progressive_discount(&base, cfg, exp);
    let mut lines = Vec::with_capacity(s.lines.len());
    for ((l, b), d) in s.lines.iter().zip(&base).zip(discounts) {
        let q = Decimal::from(l.quantity);
        let product = campaign.product(l.product_id);
        let (base_unit, list_price, shipping_price, upgrade) = match (l.chain, l.delta) {
            (Some(ci), _) => {
                let c = &s.chains[ci];
                // A discarded chain's line is the original product again, at the price paid.
                let list = match c.status {
                    UpgradeStatus::Discarded => c.origin_unit,
                    _ => c.head().1.max(c.origin_unit),
                };
                // The shipping paid for the original line stays paid: an upgrade charges only
                // the price difference (§9.1). It was paid once for the line, so it shows once:
                // on the head that took the whole line, else on the split line's rest.
                let ship = campaign
                    .product(c.origin_product)
                    .and_then(|p| p.shipping(c.origin_shipping))
                    .map(|s| s.price)
                    .filter(|_| c.carries_shipping)
                    .unwrap_or_default();
                (c.origin_unit, list, ship, Some((c.status, c.origin_product)))
            }
            (None, Some(delta)) => (delta, delta, Decimal::ZERO, None),
            (None, None) => {
                let ship = product.and_then(|p| p.shipping(l.shipping_method_id)).map(|s| s.price);
                (b.base_unit, b.base_unit, ship.unwrap_or_default(), None)
            }
        };
        let surcharge = (list_price - base_unit) * q;
        let line_total = base_unit * q - d.amount + surcharge;
        let price = if l.quantity == 0 { Decimal::ZERO } else { half_up(line_total / q, exp) };
        lines.push(PricedLine {
            product_id: l.product_id,
            product_name: product.map(|p| p.name.clone()).unwrap_or_default(),
            quantity: l.quantity,
            shipping_method_id: l.shipping_method_id,
            shipping_price,
            price: price.normalize(),
            list_price: list_price.normalize(),
            discount_percent: d.percent,
            line_total: line_total.normalize(),
            line_discount: d.amount,
            upgrade,
        });
    }
    let subtotal: Decimal = lines.iter().map(|l| l.list_price * Decimal::from(l.quantity)).sum();
    let shipping_total: Decimal = lines.iter().map(|l| l.shipping_price).sum();
    let discount_total: Decimal = lines.iter().map(|l| l.line_discount).sum();
    Priced {
        lines,
        subtotal: subtotal.normalize(),
        shipping_total: shipping_total.normalize(),
        discount_total: discount_total.normalize(),
        total: (subtotal - discount_total + shipping_total).normalize(),
    }
}
