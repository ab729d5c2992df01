//! Shared set-up: an in-process SessionM simulator and an adapter pointed at it, on the
//! simulator's clock.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use loyalty_core::{
    Basket, Clock, Context, Currency, Hold, HoldRequest, Line, MemberId, Money, Offer, OfferKind, OfferRef,
    Provider, Transaction, TransactionId, VendorRule,
};
use loyalty_http::Secret;
use loyalty_sessionm::{SessionmAdapter, SessionmConfig};
use loyalty_sim::sessionm::{demo, SessionmProbe, SessionmSettings, SessionmSim};
use loyalty_sim::{Journal, JournalEntry, SimClock, SimHandle, SimServer};
use rust_decimal::Decimal;

/// The simulator clock as a core clock.
#[derive(Debug, Clone)]
pub struct Bridge(pub SimClock);

impl Clock for Bridge {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

pub struct Env {
    pub adapter: SessionmAdapter,
    pub server: SimServer,
    pub probe: SessionmProbe,
    pub clock: SimClock,
}

impl Env {
    pub fn handle(&self) -> SimHandle {
        self.server.handle()
    }

    pub fn journal(&self) -> Journal {
        self.server.handle().journal()
    }

    /// Journal entries of one POS operation (`lock`, `send_transaction`...).
    pub fn pos(&self, op: &str) -> Vec<JournalEntry> {
        let path = format!("/api/2.0/{op}");
        self.journal().entries().into_iter().filter(|e| e.path == path).collect()
    }

    /// The JSON bodies of one POS operation's requests.
    pub fn pos_bodies(&self, op: &str) -> Vec<serde_json::Value> {
        self.pos(op).iter().map(|e| serde_json::from_str(&e.body).expect("JSON body")).collect()
    }

    pub fn kari(&self) -> MemberId {
        MemberId::new(demo::USER_ID)
    }

    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }
}

pub fn config(base_url: &str, timeout: Duration) -> SessionmConfig {
    SessionmConfig::builder()
        .with_pos(base_url, demo::POS_KEY, Secret::new(demo::POS_SECRET))
        .with_connect(base_url, demo::CONNECT_KEY, Secret::new(demo::CONNECT_SECRET))
        .with_core(base_url, Secret::new(demo::API_KEY), Secret::new(demo::S2S_SECRET))
        .with_tenant(demo::RETAILER_ID, demo::CLIENT_ID, demo::STORE_ID)
        .with_currency(demo::CURRENCY)
        .with_time_zone("Europe/Oslo")
        .with_attempt_timeout(timeout)
        .build()
        .expect("valid config")
}

pub async fn start_with(settings: SessionmSettings, timeout: Duration) -> Env {
    let clock = SimClock::default();
    let (server, probe) =
        SessionmSim::start_with_probe(settings, clock.clone()).await.expect("simulator starts");
    let adapter =
        SessionmAdapter::with_clock(config(server.base_url(), timeout), Arc::new(Bridge(clock.clone())))
            .expect("adapter builds");
    Env { adapter, server, probe, clock }
}

pub async fn start() -> Env {
    start_with(SessionmSettings::default(), Duration::from_secs(5)).await
}

pub fn nok(text: &str) -> Money {
    Money::parse(text, Currency::NOK).expect("amount")
}

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal")
}

/// A basket of (product, quantity) from the demo catalogue, prices and tax from its docs.
pub fn basket(lines: &[(&str, &str)]) -> Basket {
    let mut b = Basket::new(Currency::NOK);
    for (i, (item, qty)) in lines.iter().enumerate() {
        let (price, rate) = match *item {
            demo::ITEM_COFFEE => ("129.00", 15),
            demo::ITEM_MUG => ("199.00", 25),
            demo::ITEM_TEA => ("59.00", 15),
            other => panic!("{other} is not in the demo catalogue"),
        };
        b = b.with_line(
            Line::new(format!("l{}", i + 1), *item, dec(qty), nok(price)).with_tax_rate(Decimal::from(rate)),
        );
    }
    b
}

/// A wallet offer known only by its user offer id.
pub fn wallet_offer(user_offer_id: &str) -> Offer {
    Offer::new(
        user_offer_id,
        user_offer_id,
        OfferKind::VendorPriced { rule: VendorRule::Check, discount: None },
    )
    .with_reference(OfferRef::id(user_offer_id))
}

pub async fn lock(env: &Env, offer: &Offer, tx: &str, basket: &Basket) -> loyalty_core::Result<Hold> {
    let req = HoldRequest::new(env.kari(), offer.clone(), TransactionId::new(tx)).with_basket(basket.clone());
    env.adapter.holds().unwrap().hold(&Context::new(), &req).await
}

/// `basket` sold by Kari with `holds` claimed and their vendor discounts confirmed.
pub fn sale(env: &Env, id: &str, basket: &Basket, holds: &[Hold]) -> Transaction {
    let offers: Vec<Offer> = holds
        .iter()
        .map(|h| {
            let mut o = wallet_offer(h.offer_id.as_str());
            o.kind = OfferKind::VendorPriced { rule: VendorRule::Check, discount: h.vendor_discount.clone() };
            o
        })
        .collect();
    let confirmed: Vec<_> = offers.iter().map(|o| o.id.clone()).collect();
    let now = env.clock.now();
    let priced = loyalty_core::pricing::price(basket, &offers, &confirmed, now).expect("prices");
    let mut tx =
        Transaction::from_priced(TransactionId::new(id), now, Some(env.kari()), basket, &priced, &offers)
            .expect("freezes")
            .with_payment("Card", priced.total);
    tx.holds = holds.to_vec();
    tx
}

/// The lock's Discount object a hold keeps (as lock answered it, sent back with the sale),
/// beside the store that took the lock and the user offer it locks.
pub fn lock_discount(hold: &Hold) -> serde_json::Value {
    hold.vendor_data.as_ref().expect("a SessionM hold keeps its lock")["discount"].clone()
}
