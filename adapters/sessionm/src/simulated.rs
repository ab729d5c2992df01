//! The SessionM simulator started in-process, with an adapter pointed at it: what `loyalty
//! demo`, `loyalty sim sessionm` and the conformance suite use. Needs the `simulator` feature.
//!
//! One simulator serves all three families, so the adapter's three base URLs are its URL.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use loyalty_core::{Clock, Error, ErrorKind, WriteEffect};
use loyalty_http::Secret;
use loyalty_sim::sessionm::{demo, SessionmProbe, SessionmSettings, SessionmSim};
use loyalty_sim::{SimClock, SimServer};

use crate::config::SessionmConfigBuilder;
use crate::{SessionmAdapter, SessionmConfig, PROVIDER};

/// The simulator's clock seen as a core [`Clock`], so lock expiry and `modified_time` follow
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
    /// The adapter (demo tenant, Oslo store).
    pub adapter: SessionmAdapter,
    /// The simulator; dropping it stops the server.
    pub server: SimServer,
    /// Read access to the simulator's state.
    pub probe: SessionmProbe,
}

/// Starts a simulator with default settings and returns a ready adapter and the server.
///
/// # Errors
/// `Unavailable` when the simulator cannot bind a loopback port.
pub async fn start() -> Result<(SessionmAdapter, SimServer), Error> {
    let s = start_with(SessionmSettings::default(), SimClock::default()).await?;
    Ok((s.adapter, s.server))
}

/// Starts a simulator with `settings` on `clock`. The adapter's `lock_ttl` is the simulator's
/// `lock_ttl_secs`, so its holds expire when the simulator's locks lapse.
///
/// # Errors
/// `Unavailable` when the simulator cannot bind a loopback port; `Invalid` for a
/// `lock_ttl_secs` the adapter refuses (zero).
pub async fn start_with(settings: SessionmSettings, clock: SimClock) -> Result<Simulated, Error> {
    let lock_ttl = Duration::from_secs(settings.lock_ttl_secs);
    let (server, probe) = SessionmSim::start_with_probe(settings, clock.clone()).await.map_err(|e| {
        Error::new(ErrorKind::Unavailable, PROVIDER, "simulator.start")
            .with_effect(WriteEffect::NotSent)
            .with_message(format!("cannot start the SessionM simulator: {e}"))
    })?;
    let config = builder_for(server.base_url()).with_lock_ttl(lock_ttl).build()?;
    let adapter = SessionmAdapter::with_clock(config, Arc::new(SimulatedClock(clock)))?;
    Ok(Simulated { adapter, server, probe })
}

/// The demo tenant's configuration, not yet built (see [`config_for`]).
fn builder_for(base_url: &str) -> SessionmConfigBuilder {
    SessionmConfig::builder()
        .with_pos(base_url, demo::POS_KEY, Secret::new(demo::POS_SECRET))
        .with_connect(base_url, demo::CONNECT_KEY, Secret::new(demo::CONNECT_SECRET))
        .with_core(base_url, Secret::new(demo::API_KEY), Secret::new(demo::S2S_SECRET))
        .with_tenant(demo::RETAILER_ID, demo::CLIENT_ID, demo::STORE_ID)
        .with_currency(demo::CURRENCY)
        .with_time_zone("Europe/Oslo")
        .with_external_id_type(demo::EXTERNAL_ID_TYPE)
}

/// The configuration of an adapter for a simulator at `base_url`: the demo tenant's three
/// credential sets, its retailer, client and Oslo store, in NOK, with the default lock
/// lifetime (the simulator's default too).
///
/// # Errors
/// `Invalid` for a bad URL.
pub fn config_for(base_url: &str) -> Result<SessionmConfig, Error> {
    builder_for(base_url).build()
}

/// An adapter for the simulator at `base_url` on the simulator's `clock`, with the default
/// lock lifetime ([`start_with`] takes the simulator's own).
///
/// # Errors
/// `Invalid` for a bad URL.
pub fn adapter_for(base_url: &str, clock: SimClock) -> Result<SessionmAdapter, Error> {
    SessionmAdapter::with_clock(config_for(base_url)?, Arc::new(SimulatedClock(clock)))
}

/// The conformance suite's view of the demo tenant: Kari and how to find her (phone, e-mail,
/// loyalty card), a basket her wallet prices (two coffees and a mug: the check offers and
/// several item offers apply, so a vendor-priced offer waits for confirmation), and the
/// simulator's clock.
pub fn environment(sim: &Simulated) -> loyalty_conformance::Environment {
    use loyalty_core::{Basket, Currency, Line, MemberLookup, Money, Phone};
    use rust_decimal::Decimal;
    let nok = |minor| Money::new(minor, Currency::NOK);
    let basket = Basket::new(Currency::NOK)
        .with_line(
            Line::new("l1", demo::ITEM_COFFEE, Decimal::from(2), nok(12_900))
                .with_name("Coffee 500 g")
                .with_tax_rate(Decimal::from(15)),
        )
        .with_line(
            Line::new("l2", demo::ITEM_MUG, Decimal::ONE, nok(19_900))
                .with_name("Mug")
                .with_tax_rate(Decimal::from(25)),
        );
    let clock = sim.server.handle().clock();
    let (now, advance) = (clock.clone(), clock);
    let handle = sim.server.handle();
    let phone =
        Phone::parse_e164(&format!("+{}", demo::USER_PHONE)).unwrap_or_else(|| Phone::new("+47", "41234567"));
    loyalty_conformance::Environment::new(demo::USER_ID, basket)
        .with_lookup(MemberLookup::Phone(phone))
        .with_lookup(MemberLookup::Email(demo::USER_EMAIL.into()))
        .with_lookup(MemberLookup::ExternalId(demo::USER_EXTERNAL_ID.into()))
        .with_now(move || now.now())
        .with_clock(move |d| advance.advance(d))
        .with_lost_replies(move |operation| {
            // Core's create-user call makes the user, then its reply is garbled on the way back.
            let lose = operation == "members.register";
            if lose {
                let path = format!("/priv/v1/apps/{}/users", demo::API_KEY);
                handle.inject_path("POST", &path, loyalty_sim::Fault::MalformedBody, Some(1));
            }
            lose
        })
}
