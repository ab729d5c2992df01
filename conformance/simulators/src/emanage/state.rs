//! Everything behind the simulator's mutex: campaigns, sessions, orders, reporting tokens, id
//! counters, and the clock-driven transitions (redirect timeouts, upgrade charges, campaign
//! changes), applied lazily at the start of every request and probe call.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::{
    catalog::{self, Campaign},
    names::{EXPORTS, PAYMENTS},
    pricing::exponent,
    session::{
        self, Capture, CaptureKind, PaymentMethod, Pending, Priced, Session, SessionStatus, UpgradeStatus,
    },
    settings::{EmanageSettings, GiftCard},
    upgrade,
};

/// A single-offer or upsell order (§6.3).
#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub number: String,
    pub web_key: String,
    pub test: bool,
    pub product_id: i64,
    pub amount: Decimal,
    pub email: String,
    pub card_id: Option<u64>,
    pub customer_id: u64,
    pub shipping_address_id: u64,
    pub related_order: Option<String>,
    pub paid: bool,
    pub pending: Option<Pending>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// Where a tracking number leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tracked {
    Session(String),
    Order(String),
}

/// What confirming a payment awaiting confirmation did ([`Inner::confirm`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Confirmation {
    /// The payment was taken.
    Paid,
    /// Nothing awaits confirmation under this tracking number any more.
    NotAwaiting,
    /// The payment was refused (a gift card whose balance falls short), with the reason.
    Declined(&'static str),
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub settings: EmanageSettings,
    /// Path prefix of the simulator-only routes, fixed at start.
    pub sim_prefix: String,
    /// The server's base URL, known once it is bound (used in `callBackUrl` / `actionUrl`).
    pub base_url: String,
    pub campaigns: Vec<Campaign>,
    pub sessions: HashMap<String, Session>,
    /// Session ids in creation order (deterministic sweeps).
    pub order: Vec<String>,
    pub orders: Vec<Order>,
    pub tracking: HashMap<String, Tracked>,
    /// Cards on file: card id → (upgrade charges fail, customer email).
    pub cards: HashMap<u64, (bool, String)>,
    /// Reporting bearer tokens → expiry.
    pub tokens: HashMap<String, DateTime<Utc>>,
    /// Exports by id: (page CSV body).
    pub exports: HashMap<String, String>,
    /// Upgrade charge attempts the probe asked to fail.
    pub fail_next_upgrade_charges: u32,
    /// Gift cards and their balances (seeded from the settings at start).
    pub gift_cards: Vec<GiftCard>,
    seq: u64,
    next_number: u64,
}

/// splitmix64: deterministic, well-spread ids without a random source.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn secs(n: u64) -> Duration {
    Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 1000))
}

impl Inner {
    pub fn new(settings: EmanageSettings) -> Self {
        let gift_cards = settings.gift_cards.clone();
        Self {
            sim_prefix: settings.sim_prefix.trim_end_matches('/').to_string(),
            settings,
            base_url: String::new(),
            campaigns: catalog::seed(),
            sessions: HashMap::new(),
            order: Vec::new(),
            orders: Vec::new(),
            tracking: HashMap::new(),
            cards: HashMap::new(),
            tokens: HashMap::new(),
            exports: HashMap::new(),
            fail_next_upgrade_charges: 0,
            gift_cards,
            seq: 0,
            next_number: 0,
        }
    }

    /// The gift card of `code` (any letter case).
    pub fn gift_card(&self, code: &str) -> Option<&GiftCard> {
        self.gift_cards.iter().find(|g| g.code.eq_ignore_ascii_case(code.trim()))
    }

    /// Pays `amount` with gift card `code` (processor 62 covers the whole amount, §6.3): the
    /// reason of a decline when it is unknown or its balance falls short.
    pub fn spend_gift_card(&mut self, code: &str, amount: Decimal) -> Result<(), &'static str> {
        let card = self
            .gift_cards
            .iter_mut()
            .find(|g| g.code.eq_ignore_ascii_case(code.trim()))
            .ok_or("The gift card is not valid.")?;
        if card.balance < amount {
            return Err("The gift card balance does not cover the amount.");
        }
        card.balance -= amount;
        Ok(())
    }

    /// A GUID-shaped id (version 4 and variant bits set), deterministic from a counter.
    pub fn new_guid(&mut self) -> String {
        self.seq += 1;
        let a = mix(self.seq ^ 0x5EED_E3A1);
        let b = mix(a);
        let hi = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
        let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }

    /// The next number of the shared counter (cart, order, customer, address, card ids).
    pub fn next_number(&mut self) -> u64 {
        self.next_number += 1;
        self.next_number
    }

    pub fn new_tracking(&mut self, target: Tracked) -> String {
        let t = format!("SIMTRK{:08}", self.next_number());
        self.tracking.insert(t.clone(), target);
        t
    }

    /// The URL a redirect or 3-D Secure payment continues at (a simulator extra route).
    pub fn payment_url(&self, tracking: &str) -> String {
        format!("{}{}/{PAYMENTS}/{tracking}", self.base_url, self.sim_prefix)
    }

    /// The URL of a reporting CSV (a simulator extra route).
    pub fn export_url(&self, id: &str) -> String {
        format!("{}{}/{EXPORTS}/{id}", self.base_url, self.sim_prefix)
    }

    pub fn campaign(&self, web_key: &str) -> Option<&Campaign> {
        self.campaigns.iter().find(|c| c.web_key == web_key)
    }

    pub fn exp(&self) -> u32 {
        exponent(&self.settings.currency)
    }

    pub fn priced(&self, s: &Session) -> Option<Priced> {
        let campaign = self.campaign(&s.web_key)?;
        let reprice = self.settings.reprice_open_carts;
        Some(session::price(s, campaign, Some(&self.settings.progressive_discount), self.exp(), reprice))
    }

    /// Fixes the prices of a session's plain lines at the campaign's current ones: its checkout
    /// is starting, so what is charged no longer moves with the campaign.
    pub fn freeze_prices(&mut self, sid: &str) {
        if !self.settings.reprice_open_carts {
            return;
        }
        let Some(s) = self.sessions.get_mut(sid) else { return };
        let Some(campaign) = self.campaigns.iter().find(|c| c.web_key == s.web_key) else { return };
        for l in s.lines.iter_mut().filter(|l| l.chain.is_none() && l.delta.is_none()) {
            if let Some(p) = campaign.product(l.product_id) {
                l.unit_price = p.price;
            }
        }
    }

    pub fn add_session(&mut self, s: Session) {
        self.order.push(s.id.clone());
        self.sessions.insert(s.id.clone(), s);
    }

    /// Applies every clock-driven transition due at `now` (§14).
    pub fn sweep(&mut self, now: DateTime<Utc>) {
        for c in &mut self.campaigns {
            c.apply_due_changes(now);
        }
        let timeout = secs(self.settings.redirect_timeout_secs);
        for sid in self.order.clone() {
            let Some(s) = self.sessions.get(&sid) else { continue };
            let child = s.parent.is_some();
            let expired = match (s.status, &s.pending) {
                (SessionStatus::AwaitingPayment, Some(p)) => p.since + timeout <= now,
                // An offline-upgrade session nobody checked out is unpaid too (§9.4 step 5).
                (SessionStatus::Open, _) => child && s.created_at + timeout <= now,
                _ => false,
            };
            let due: Vec<usize> = (0..s.chains.len())
                .filter(|ci| {
                    let c = &s.chains[*ci];
                    s.status == SessionStatus::Paid
                        && c.status == UpgradeStatus::Preview
                        && !c.child_pending
                        && c.due_at.is_some_and(|d| d <= now)
                })
                .collect();
            if expired && child {
                self.discard_child(&sid);
            } else if expired {
                if let Some(s) = self.sessions.get_mut(&sid) {
                    // The redirect timed out: back to Open, checkout may be retried (§14).
                    s.status = SessionStatus::Open;
                    s.pending = None;
                }
            }
            for ci in due {
                self.settle_chain(&sid, ci, now);
            }
        }
        for o in &mut self.orders {
            if o.pending.as_ref().is_some_and(|p| p.since + timeout <= now) {
                o.pending = None;
            }
        }
        self.tokens.retain(|_, exp| *exp > now);
    }

    /// Charges every online preview chain at once, whatever its due time (the probe's "funnel
    /// ended" hook).
    pub fn settle_all(&mut self, now: DateTime<Utc>) {
        for sid in self.order.clone() {
            let Some(s) = self.sessions.get(&sid) else { continue };
            if s.status != SessionStatus::Paid {
                continue;
            }
            let due: Vec<usize> = (0..s.chains.len())
                .filter(|ci| s.chains[*ci].status == UpgradeStatus::Preview && !s.chains[*ci].child_pending)
                .collect();
            for ci in due {
                self.settle_chain(&sid, ci, now);
            }
        }
    }

    /// Tries to capture a chain's pending charge on the card on file, up to
    /// `max_upgrade_charge_attempts` times (§7.2 rules 5-6). Each try fails when the probe asked
    /// for it, when the session's card is the upgrade-charge-failure test card, or when the
    /// `upgrade_charges_fail` setting is on.
    pub fn settle_chain(&mut self, sid: &str, ci: usize, now: DateTime<Utc>) {
        let policy = self.settings.upgrade_capture_policy;
        let tries = self.settings.max_upgrade_charge_attempts.max(1);
        let always_fail = self.settings.upgrade_charges_fail;
        let Some(s) = self.sessions.get_mut(sid) else { return };
        let per_unit = s.chains[ci].next_capture_per_unit(policy);
        let amount = per_unit * Decimal::from(s.chains[ci].quantity);
        if amount.is_zero() {
            // A downgrade (or nothing left to take) captures 0 and refunds nothing (§7.2 rule 3).
            upgrade::charged(s, ci, Decimal::ZERO);
            return;
        }
        let card_fails = matches!(s.paid_with, Some(PaymentMethod::Card { upgrade_charges_fail: true, .. }));
        for _ in 0..tries {
            s.chains[ci].attempts += 1;
            s.chains[ci].tried.push(amount.normalize());
            let forced = self.fail_next_upgrade_charges > 0;
            if forced {
                self.fail_next_upgrade_charges -= 1;
            }
            if forced || card_fails || always_fail {
                continue;
            }
            s.captures.push(Capture { amount: amount.normalize(), kind: CaptureKind::Upgrade, at: now });
            upgrade::charged(s, ci, per_unit);
            return;
        }
        upgrade::fail(s, ci);
    }

    /// Gives a session its cart and order numbers once.
    pub fn number_session(&mut self, sid: &str) {
        let needs = self.sessions.get(sid).is_some_and(|s| s.shopping_cart_number.is_none());
        if needs {
            let cart = 20_000_000 + self.next_number();
            let order = 10_000_000 + self.next_number();
            if let Some(s) = self.sessions.get_mut(sid) {
                s.shopping_cart_number = Some(cart);
                s.order_number = Some(order.to_string());
            }
        }
    }

    /// The session is paid: the priced total is captured; an offline-upgrade session pays its
    /// parent's chain step (§9.4 step 4).
    pub fn mark_paid(&mut self, sid: &str, method: PaymentMethod, now: DateTime<Utc>) {
        self.number_session(sid);
        let Some(total) = self.sessions.get(sid).and_then(|s| self.priced(s)).map(|p| p.total) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(sid) else { return };
        s.status = SessionStatus::Paid;
        s.paid_with = Some(method);
        s.pending = None;
        s.captures.push(Capture { amount: total, kind: CaptureKind::Checkout, at: now });
        let per_unit = s.lines.first().and_then(|l| l.delta).unwrap_or_default();
        if let Some((pid, ci)) = s.parent.clone() {
            if let Some(parent) = self.sessions.get_mut(&pid) {
                upgrade::charged(parent, ci, per_unit);
            }
        }
    }

    /// An offline-upgrade session went unpaid: it is discarded and its parent's original ships
    /// (§9.4 step 5).
    pub fn discard_child(&mut self, sid: &str) {
        let Some(s) = self.sessions.get_mut(sid) else { return };
        s.status = SessionStatus::Discarded;
        s.pending = None;
        if let Some((pid, ci)) = s.parent.clone() {
            if let Some(parent) = self.sessions.get_mut(&pid) {
                upgrade::fail(parent, ci);
            }
        }
    }

    /// Confirms the payment behind a tracking number (the simulator's stand-in for the
    /// vendor's redirect confirmation, §15.1). A session awaiting a gift-card payment (the
    /// server-created upgrade session of a cart paid with processor 62) is paid by spending
    /// the card on its amount, and declined when the card's balance falls short (§6.3: 62 is
    /// "a gift card covering the whole amount"); a declined payment still awaits confirmation
    /// until it is abandoned or times out. `Err(())`: unknown tracking number.
    pub fn confirm(&mut self, tracking: &str, now: DateTime<Utc>) -> Result<Confirmation, ()> {
        match self.tracking.get(tracking).cloned().ok_or(())? {
            Tracked::Session(sid) => {
                let Some(s) = self.sessions.get(&sid) else { return Err(()) };
                match &s.pending {
                    Some(p) if p.tracking == tracking => {
                        let method = p.method.clone();
                        if let PaymentMethod::GiftCard { code } = &method {
                            let total = self.priced(s).map(|p| p.total).unwrap_or_default();
                            if let Err(why) = self.spend_gift_card(code, total) {
                                if let Some(s) = self.sessions.get_mut(&sid) {
                                    s.declines += 1;
                                }
                                return Ok(Confirmation::Declined(why));
                            }
                        }
                        self.mark_paid(&sid, method, now);
                        Ok(Confirmation::Paid)
                    }
                    _ => Ok(Confirmation::NotAwaiting),
                }
            }
            Tracked::Order(number) => {
                let Some(o) = self.orders.iter_mut().find(|o| o.number == number) else { return Err(()) };
                match &o.pending {
                    Some(p) if p.tracking == tracking => {
                        o.pending = None;
                        o.paid = true;
                        o.paid_at = Some(now);
                        Ok(Confirmation::Paid)
                    }
                    _ => Ok(Confirmation::NotAwaiting),
                }
            }
        }
    }

    /// The customer abandoned the redirect: the session goes back to Open (an offline-upgrade
    /// session is discarded). `Ok(false)`: not awaiting any more.
    pub fn cancel(&mut self, tracking: &str) -> Result<bool, ()> {
        match self.tracking.get(tracking).cloned().ok_or(())? {
            Tracked::Session(sid) => {
                let Some(s) = self.sessions.get_mut(&sid) else { return Err(()) };
                if s.pending.as_ref().is_none_or(|p| p.tracking != tracking) {
                    return Ok(false);
                }
                if s.parent.is_some() {
                    self.discard_child(&sid);
                } else {
                    s.status = SessionStatus::Open;
                    s.pending = None;
                }
                Ok(true)
            }
            Tracked::Order(number) => {
                let Some(o) = self.orders.iter_mut().find(|o| o.number == number) else { return Err(()) };
                let was = o.pending.take().is_some_and(|p| p.tracking == tracking);
                Ok(was)
            }
        }
    }
}
