//! The Diller simulator started in-process, with an adapter pointed at it: what `loyalty demo`,
//! `loyalty sim diller` and the conformance suite use. Needs the `simulator` feature.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use loyalty_core::{Clock, Error, ErrorKind, WriteEffect};
use loyalty_http::Secret;
use loyalty_sim::diller::{demo, DillerProbe, DillerSettings, DillerSim};
use loyalty_sim::{SimClock, SimServer};

use crate::{DillerAdapter, DillerConfig, PROVIDER};

/// The simulator's clock seen as a core [`Clock`], so hold expiry and token lifetimes follow
/// the simulated time.
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
    /// The adapter (demo store, web department).
    pub adapter: DillerAdapter,
    /// The simulator; dropping it stops the server.
    pub server: SimServer,
    /// Read access to the simulator's state.
    pub probe: DillerProbe,
}

/// Starts a simulator with default settings and returns a ready adapter and the server.
///
/// # Errors
/// `Unavailable` when the simulator cannot bind a loopback port.
pub async fn start() -> Result<(DillerAdapter, SimServer), Error> {
    let s = start_with(DillerSettings::default(), SimClock::default()).await?;
    Ok((s.adapter, s.server))
}

/// Starts a simulator with `settings` on `clock`.
///
/// # Errors
/// `Unavailable` when the simulator cannot bind a loopback port.
pub async fn start_with(settings: DillerSettings, clock: SimClock) -> Result<Simulated, Error> {
    let (server, probe) = DillerSim::start_with_probe(settings, clock.clone()).await.map_err(|e| {
        Error::new(ErrorKind::Unavailable, PROVIDER, "simulator.start")
            .with_effect(WriteEffect::NotSent)
            .with_message(format!("cannot start the Diller simulator: {e}"))
    })?;
    let adapter = adapter_for(server.base_url(), clock)?;
    Ok(Simulated { adapter, server, probe })
}

/// The configuration of an adapter for a simulator at `base_url`: the demo credentials, store
/// and web department.
///
/// # Errors
/// `Invalid` for a bad URL.
pub fn config_for(base_url: &str) -> Result<DillerConfig, Error> {
    DillerConfig::builder()
        .with_base_url(base_url)
        .with_client_id(demo::CLIENT_ID)
        .with_client_secret(Secret::new(demo::CLIENT_SECRET))
        .with_store_id(demo::STORE_ID)
        .with_department_id(demo::DEPARTMENT_ID)
        // The demo store's identifier is a licence plate (`LicensePlate`), searched as an
        // external id.
        .with_identifier_kind(loyalty_core::LookupKind::ExternalId)
        .build()
}

/// An adapter for the simulator at `base_url` on the simulator's `clock`.
///
/// # Errors
/// `Invalid` for a bad URL.
pub fn adapter_for(base_url: &str, clock: SimClock) -> Result<DillerAdapter, Error> {
    DillerAdapter::with_clock(config_for(base_url)?, Arc::new(SimulatedClock(clock)))
}

/// The conformance suite's view of the simulator's demo store: the seeded member and how to
/// find them, a basket the seeded coupon and stamp card cover, the web department, and the
/// simulator's clock and activation tokens.
pub fn environment(sim: &Simulated) -> loyalty_conformance::Environment {
    use loyalty_core::{Basket, Currency, Line, MemberLookup, Money, Phone};
    let nok = |minor| Money::new(minor, Currency::NOK);
    // Two coffees (COFFEE20 and stamp card 17 cover them) and a book nothing covers.
    let basket = Basket::new(Currency::NOK)
        .with_line(
            Line::new("l1", demo::PRODUCT_COFFEE, rust_decimal::Decimal::from(2), nok(4_900))
                .with_name("Coffee 500 g"),
        )
        .with_line(Line::new("l2", "BOOK-1", rust_decimal::Decimal::ONE, nok(34_900)).with_name("Book"));
    let clock = sim.server.handle().clock();
    let (now, advance, probe) = (clock.clone(), clock, sim.probe.clone());
    let handle = sim.server.handle();
    let phone = Phone::parse_e164(demo::MEMBER_PHONE).unwrap_or_else(|| Phone::new("+47", "41234567"));
    loyalty_conformance::Environment::new(demo::MEMBER_ID, basket)
        .with_lookup(MemberLookup::Phone(phone))
        .with_lookup(MemberLookup::Email(demo::MEMBER_EMAIL.into()))
        .with_lookup(MemberLookup::ExternalId(demo::MEMBER_IDENTIFIER.into()))
        .with_department(demo::DEPARTMENT_ID)
        .with_now(move || now.now())
        .with_clock(move |d| advance.advance(d))
        .with_activation_tokens(move |m| probe.activation_token(m.as_str()))
        .with_lost_replies(move |operation| {
            // M3 registers the member, then its reply is garbled on the way back.
            let lose = operation == "members.register";
            if lose {
                handle.inject_route("M3", loyalty_sim::Fault::MalformedBody, Some(1));
            }
            lose
        })
}
