//! Shared set-up: the IdoSell simulator in-process with the adapter pointed at it.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use loyalty_core::{Clock, Context, DropshipOrder, OrderLine, Provider};
use loyalty_idosell::simulated::{self, Simulated};
use loyalty_idosell::{IdosellAdapter, IdosellConfig};
use loyalty_sim::idosell::{demo, IdosellSettings};
use loyalty_sim::{Journal, JournalEntry, SimClock, SimHandle};
use rust_decimal::Decimal;

pub struct Env {
    pub sim: Simulated,
    pub clock: SimClock,
}

impl Env {
    pub fn adapter(&self) -> &IdosellAdapter {
        &self.sim.adapter
    }

    pub fn fulfilment(&self) -> &dyn loyalty_core::Fulfilment {
        self.sim.adapter.fulfilment().expect("IdoSell fulfils")
    }

    pub fn handle(&self) -> SimHandle {
        self.sim.server.handle()
    }

    pub fn journal(&self) -> Journal {
        self.sim.server.handle().journal()
    }

    /// Route names (G1 … G9) of the requests so far, in order.
    pub fn routes(&self) -> Vec<String> {
        self.journal().entries().into_iter().filter_map(|e| e.route).collect()
    }

    /// Requests to one gateway.
    pub fn entries(&self, gateway: &str) -> Vec<JournalEntry> {
        self.journal().entries().into_iter().filter(|e| e.route.as_deref() == Some(gateway)).collect()
    }

    pub fn count(&self, gateway: &str) -> usize {
        self.journal().count_route(gateway)
    }

    /// An adapter on the same simulator built from `config`, on `clock`.
    pub fn other_adapter(&self, config: IdosellConfig, clock: Arc<dyn Clock>) -> IdosellAdapter {
        IdosellAdapter::with_clock(config, clock).expect("adapter builds")
    }

    /// The demo configuration for this simulator, to change in a test.
    pub fn config(&self) -> IdosellConfig {
        simulated::config_for(self.sim.server.base_url(), self.sim.adapter.config().names.clone())
            .expect("config")
    }
}

pub async fn start() -> Env {
    start_with(IdosellSettings::default()).await
}

pub async fn start_with(settings: IdosellSettings) -> Env {
    start_at(settings, SimClock::default()).await
}

pub async fn start_at(settings: IdosellSettings, clock: SimClock) -> Env {
    let sim = simulated::start_with(settings, clock.clone()).await.expect("simulator starts");
    Env { sim, clock }
}

/// Settings changed by `f` (the simulator's settings are built through serde, as a file would).
pub fn settings(json: serde_json::Value) -> IdosellSettings {
    serde_json::from_value(json).expect("settings")
}

pub fn ctx() -> Context {
    Context::new()
}

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal")
}

pub fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

/// Two coffees to Anna Nowak in Warsaw with the domestic courier under `reference`.
pub fn coffee_order(reference: &str) -> DropshipOrder {
    DropshipOrder::new(reference, simulated::demo_recipient(), demo::COURIER_DOMESTIC.to_string())
        .with_line(demo::COFFEE_INTERNAL, Decimal::from(2))
}

pub fn line(product: &str, qty: &str) -> OrderLine {
    OrderLine::new(product, dec(qty))
}

/// A clock for an adapter that reads the time apart from the simulator's.
#[derive(Debug, Clone)]
pub struct Fixed(pub loyalty_core::ManualClock);

impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

/// A writer a log subscriber appends to, read back by the test.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
