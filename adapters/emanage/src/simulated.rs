//! The eManage simulator started in-process, with an adapter pointed at it: what `loyalty demo`,
//! `loyalty sim emanage` and the conformance suite use. Needs the `simulator` feature.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use loyalty_core::{
    Address, Basket, CardDetails, CardSecret, CartPayment, Clock, Currency, Customer, Error, ErrorKind, Line,
    Money, WriteEffect,
};
use loyalty_http::Secret;
use loyalty_sim::emanage::{demo, EmanageProbe, EmanageSettings, EmanageSim};
use loyalty_sim::{SimClock, SimServer};
use rust_decimal::Decimal;

use crate::{EmanageAdapter, EmanageConfig, PROVIDER};

/// The simulator's clock seen as a core [`Clock`], so offer validity follows simulated time.
#[derive(Debug, Clone)]
pub struct SimulatedClock(pub SimClock);

impl Clock for SimulatedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

/// A running simulator with the adapter pointed at it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Simulated {
    /// The adapter (demo shopping-cart campaign).
    pub adapter: EmanageAdapter,
    /// The simulator; dropping it stops the server.
    pub server: SimServer,
    /// Read access to the simulator's state and vendor-side events.
    pub probe: EmanageProbe,
}

/// Starts a simulator with default settings and returns a ready adapter and the server.
///
/// # Errors
/// `Unavailable` when the simulator cannot bind a loopback port.
pub async fn start() -> Result<(EmanageAdapter, SimServer), Error> {
    let s = start_with(EmanageSettings::default(), SimClock::default()).await?;
    Ok((s.adapter, s.server))
}

/// Starts a simulator with `settings` on `clock`.
///
/// # Errors
/// `Unavailable` when the simulator cannot bind a loopback port.
pub async fn start_with(settings: EmanageSettings, clock: SimClock) -> Result<Simulated, Error> {
    let (server, probe) = EmanageSim::start_with_probe(settings, clock.clone()).await.map_err(|e| {
        Error::new(ErrorKind::Unavailable, PROVIDER, "simulator.start")
            .with_effect(WriteEffect::NotSent)
            .with_message(format!("cannot start the eManage simulator: {e}"))
    })?;
    let adapter = adapter_for(server.base_url(), clock)?;
    Ok(Simulated { adapter, server, probe })
}

/// The configuration of an adapter for a simulator at `base_url` (the server root): the demo
/// client id and cart campaign, USD, and the campaign's progressive discount as the simulator
/// seeds it (25 % for one unit, 50 % for two, on the three `PRODUCT_TIER_*` products, §9.5).
///
/// # Errors
/// `Invalid` for a bad URL.
pub fn config_for(base_url: &str) -> Result<EmanageConfig, Error> {
    EmanageConfig::builder()
        .with_base_url(format!("{}/api", base_url.trim_end_matches('/')))
        .with_cid(Secret::new(demo::CID))
        .with_web_key(demo::WEB_KEY)
        .with_currency("USD")
        .with_progressive_tier(1, Decimal::from(25))
        .with_progressive_tier(2, Decimal::from(50))
        .with_progressive_products(
            [demo::PRODUCT_TIER_100, demo::PRODUCT_TIER_60, demo::PRODUCT_TIER_33_33].map(|p| p.to_string()),
        )
        .build()
}

/// An adapter for the simulator at `base_url` on the simulator's `clock`.
///
/// # Errors
/// `Invalid` for a bad URL.
pub fn adapter_for(base_url: &str, clock: SimClock) -> Result<EmanageAdapter, Error> {
    EmanageAdapter::with_clock(config_for(base_url)?, Arc::new(SimulatedClock(clock)))
}

/// A demo card by number (§11 test table).
pub fn card(pan: &str) -> CartPayment {
    CartPayment::Card(
        CardDetails::new("Ada Lovelace", CardSecret::new(pan), 12, 2030, CardSecret::new(demo::CARD_CVV))
            .with_brand("visa"),
    )
}

/// The demo customer.
pub fn customer() -> Customer {
    Customer::with_email("ada@example.com").named("Ada", "Lovelace").at(Address {
        street: Some("1 Main St".into()),
        city: Some("Springfield".into()),
        zip_code: Some("90210".into()),
        state: Some("CA".into()),
        country_code: Some("US".into()),
    })
}

/// The conformance suite's view of the simulator's demo campaign: the addendum's upgrade chain
/// `918325 → 918446 → 918447`, a product outside the progressive discount, the test cards
/// (approve, decline), PayPal as the redirect payment, and the probe's hooks for the customer's
/// redirect, failing upgrade charges and the end of a funnel. eManage has no members; the
/// seeded "member" is any customer id.
pub fn environment(sim: &Simulated) -> loyalty_conformance::Environment {
    use loyalty_conformance::{CartSetup, Environment};
    let usd = |minor| Money::new(minor, Currency::USD);
    let basket = Basket::new(Currency::USD).with_line(
        Line::new("l1", demo::PRODUCT_TIER_100.to_string(), Decimal::from(2), usd(10_000))
            .with_name("Bamboo Towel Set"),
    );
    let setup = CartSetup::new(
        Currency::USD,
        [demo::PRODUCT_BASIC, demo::PRODUCT_UPGRADE, demo::PRODUCT_PREMIUM]
            .iter()
            .map(|p| p.to_string().into())
            .collect(),
        demo::PRODUCT_NOT_QUALIFYING.to_string(),
        card(demo::PAN_APPROVE),
        customer(),
    )
    .with_declined_card(card(demo::PAN_DECLINE))
    .with_redirect(CartPayment::Processor { id: demo::PROCESSOR_PAYPAL.to_string() })
    .with_customer_ip("203.0.113.7");
    let clock = sim.server.handle().clock();
    let (now, advance) = (clock.clone(), clock);
    let (complete, abandon, fail, settle) =
        (sim.probe.clone(), sim.probe.clone(), sim.probe.clone(), sim.probe.clone());
    Environment::new("guest", basket)
        .with_carts(setup)
        .with_payment_completion(
            move |c| complete.confirm_payment(c.as_str()),
            move |c| abandon.cancel_payment(c.as_str()),
        )
        .with_failing_upgrade_charge(move || {
            let attempts = fail.settings().max_upgrade_charge_attempts.max(1);
            fail.fail_next_upgrade_charges(attempts);
        })
        .with_upgrade_settlement(move || settle.capture_upgrades_now())
        .with_now(move || now.now())
        .with_clock(move |d| advance.advance(d))
}
