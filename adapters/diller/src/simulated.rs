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
