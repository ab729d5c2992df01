//! Shared set-up: an in-process Diller simulator and an adapter pointed at it.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use loyalty_core::checkout::{Checkout, CheckoutRequest, SimulatedPayment};
use loyalty_core::{
    pricing, Basket, Clock, Currency, Line, Member, MemberId, MemberLookup, Money, Offer, OfferId, Phone,
    Transaction, TransactionId,
};
use loyalty_diller::{DillerAdapter, DillerConfig};
use loyalty_http::Secret;
use loyalty_sim::diller::{demo, DillerProbe, DillerSettings, DillerSim};
use loyalty_sim::{Journal, SimClock, SimHandle, SimServer};
use rust_decimal::Decimal;

/// A checkout over the adapter, on the simulator's clock, with a payment that counts.
pub fn checkout_for(env: &Env) -> (Checkout<'_>, Arc<SimulatedPayment>) {
    let payment = Arc::new(SimulatedPayment::new());
    let checkout =
        Checkout::new(Arc::new(&env.adapter), payment.clone(), Arc::new(Bridge(env.clock.clone())));
    (checkout, payment)
}

/// The demo member (by phone, at the demo department) buying one of each `(id, product, unit
/// price)`.
pub fn kari(order: &str, lines: &[(&str, &str, &str)]) -> CheckoutRequest {
    let mut basket = Basket::new(Currency::NOK);
    for (id, product, price) in lines {
        basket = basket.with_line(Line::new(*id, *product, Decimal::ONE, nok(price)));
    }
    CheckoutRequest::new(order, basket)
        .identify(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .department(demo::DEPARTMENT_ID)
}

/// T1's path for the demo member.
pub fn transactions_path() -> String {
    format!("/api/v2.0/stores/{}/members/{}/transactions", demo::STORE_ID, demo::MEMBER_ID)
}

/// The simulator clock as a core clock.
#[derive(Debug, Clone)]
pub struct Bridge(pub SimClock);

impl Clock for Bridge {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

pub struct Env {
    pub adapter: DillerAdapter,
    pub server: SimServer,
    pub probe: DillerProbe,
    pub clock: SimClock,
}

impl Env {
    pub fn handle(&self) -> SimHandle {
        self.server.handle()
    }

    pub fn journal(&self) -> Journal {
        self.server.handle().journal()
    }

    pub fn member(&self) -> MemberId {
        MemberId::new(demo::MEMBER_ID)
    }
}

pub fn config(base_url: &str, timeout: Duration) -> DillerConfig {
    DillerConfig::builder()
        .with_base_url(base_url)
        .with_client_id(demo::CLIENT_ID)
        .with_client_secret(Secret::new(demo::CLIENT_SECRET))
        .with_store_id(demo::STORE_ID)
        .with_department_id(demo::DEPARTMENT_ID)
        .with_identifier_kind(loyalty_core::LookupKind::ExternalId)
        .with_attempt_timeout(timeout)
        .build()
        .expect("valid config")
}

pub async fn start_with(settings: DillerSettings, timeout: Duration) -> Env {
    let clock = SimClock::default();
    let (server, probe) =
        DillerSim::start_with_probe(settings, clock.clone()).await.expect("simulator starts");
    let adapter =
        DillerAdapter::with_clock(config(server.base_url(), timeout), Arc::new(Bridge(clock.clone())))
            .expect("adapter builds");
    Env { adapter, server, probe, clock }
}

pub async fn start() -> Env {
    start_with(DillerSettings::default(), Duration::from_secs(5)).await
}

pub fn nok(text: &str) -> Money {
    Money::parse(text, Currency::NOK).expect("amount")
}

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal")
}

pub fn offer<'a>(offers: &'a [Offer], id: &str) -> &'a Offer {
    offers.iter().find(|o| o.id.as_str() == id).unwrap_or_else(|| panic!("offer {id} listed"))
}

/// Prices `lines` (product, quantity, unit price) with `offers` (basket coupons confirmed) and
/// freezes the result into a transaction of the demo member.
pub fn transaction(env: &Env, id: &str, lines: &[(&str, &str, &str)], offers: &[Offer]) -> Transaction {
    let mut basket = Basket::new(Currency::NOK);
    for (i, (product, qty, price)) in lines.iter().enumerate() {
        basket = basket.with_line(Line::new(format!("l{i}"), *product, dec(qty), nok(price)));
    }
    let confirmed: Vec<OfferId> =
        offers.iter().filter(|o| o.is_basket_coupon()).map(|o| o.id.clone()).collect();
    let priced = pricing::price(&basket, offers, &confirmed, env.clock.now()).expect("basket prices");
    Transaction::from_priced(
        TransactionId::new(id),
        env.clock.now(),
        Some(env.member()),
        &basket,
        &priced,
        offers,
    )
    .expect("transaction freezes")
}

pub fn member_of(m: Option<Member>) -> Member {
    m.expect("member found")
}
