//! The IdoSell simulator started in-process, with an adapter pointed at it and the adapter's
//! shipment-notice receiver registered as the demo shop's callback: what `loyalty demo`,
//! `loyalty sim idosell` and the conformance suite use. Needs the `simulator` feature. With the
//! simulator's default settings every dispatch posts its notice to the receiver by itself.
//!
//! The adapter's names table is taken from the simulator's settings, so one table decides the
//! gate paths both sides use (§9.3, checklist 24).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use loyalty_core::{
    Address, Billing, Clock, Error, ErrorKind, OrderId, Recipient, ShipmentNotice, WriteEffect,
};
use loyalty_http::Secret;
use loyalty_sim::idosell::{demo, Gateway as SimGateway, IdosellProbe, IdosellSettings, IdosellSim};
use loyalty_sim::{Fault, SimClock, SimServer};
use tokio::sync::mpsc;

use crate::names::{Gate, Gateway, Names};
use crate::webhook::receiver::{MemoryNoticeLog, ShipmentReceiver};
use crate::{IdosellAdapter, IdosellConfig, PROVIDER};

/// Where the demo shop's notice receiver listens (below its loopback address).
pub const NOTICE_PATH: &str = "/idosell/shipments";

/// The simulator's clock seen as a core [`Clock`], so daily keys and session lifetimes follow
/// the simulated time.
#[derive(Debug, Clone)]
pub struct SimulatedClock(pub SimClock);

impl Clock for SimulatedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

/// The receiver's server task; stopped when dropped.
#[derive(Debug)]
struct ReceiverTask(tokio::task::JoinHandle<()>);

impl Drop for ReceiverTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running simulator with the adapter pointed at it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Simulated {
    /// The adapter (demo shop account).
    pub adapter: IdosellAdapter,
    /// The simulator; dropping it stops the server.
    pub server: SimServer,
    /// Read access to the simulator's state and the wholesaler's side (dispatch, webhooks).
    pub probe: IdosellProbe,
    /// A recipient address the simulator was seeded with (an order in `new`): the seeded
    /// member of the conformance suite.
    pub member_id: String,
    /// The URL of the adapter's notice receiver, registered as the demo shop's callback.
    pub receiver_url: String,
    /// Notices the receiver handed on (new ones only).
    pub notices: mpsc::Receiver<ShipmentNotice>,
    _receiver: ReceiverTask,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Unavailable, PROVIDER, "simulator.start")
        .with_effect(WriteEffect::NotSent)
        .with_message(format!("cannot start the {what}: {e}"))
}

/// What keeps a simulated setup running once its adapter is handed out: the simulator, the
/// notice receiver and its channel.
#[derive(Debug)]
pub struct Keep {
    /// The simulator.
    pub server: SimServer,
    /// Notices the receiver handed on.
    pub notices: mpsc::Receiver<ShipmentNotice>,
    _receiver: ReceiverTask,
}

impl Simulated {
    /// The adapter, and what must be kept alive for it to keep working.
    pub fn into_parts(self) -> (IdosellAdapter, Keep) {
        (self.adapter, Keep { server: self.server, notices: self.notices, _receiver: self._receiver })
    }
}

/// Starts a simulator with default settings and returns a ready adapter and the server.
///
/// # Errors
/// `Unavailable` when the simulator cannot bind a loopback port.
pub async fn start() -> Result<Simulated, Error> {
    start_with(IdosellSettings::default(), SimClock::default()).await
}

/// Starts a simulator with `settings` on `clock`.
///
/// # Errors
/// `Unavailable` when the simulator or the receiver cannot bind a loopback port.
pub async fn start_with(settings: IdosellSettings, clock: SimClock) -> Result<Simulated, Error> {
    let names = names_of(&settings);
    let (server, probe) = IdosellSim::start_with_probe(settings, clock.clone())
        .await
        .map_err(|e| unavailable("IdoSell simulator", e))?;
    let adapter = adapter_for(server.base_url(), names, clock)?;
    let (router, notices) = ShipmentReceiver::router(
        NOTICE_PATH,
        adapter.notice_parser().clone(),
        Arc::new(MemoryNoticeLog::default()),
        1024,
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| unavailable("notice receiver", e))?;
    let addr = listener.local_addr().map_err(|e| unavailable("notice receiver", e))?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let receiver_url = format!("http://{addr}{NOTICE_PATH}");
    probe.set_callback_url(demo::LOGIN, Some(&receiver_url));
    // The wholesaler already holds one order of the shop's, whose recipient address the suite
    // reads and edits as its seeded member.
    let seeded = probe.seed_orders(demo::LOGIN, 1);
    let member_id = seeded
        .first()
        .and_then(|o| probe.order_address_id(o))
        .map(|id| id.to_string())
        .ok_or_else(|| unavailable("seeded order", "the simulator did not create it"))?;
    Ok(Simulated { adapter, server, probe, member_id, receiver_url, notices, _receiver: ReceiverTask(task) })
}

/// The adapter's names table from the simulator's settings: the same gate paths, methods,
/// actions, namespaces, results keys, element names, fault numbers, dispatched statuses and
/// webhook names (headers, signature prefix, event).
pub fn names_of(settings: &IdosellSettings) -> Names {
    let sim = &settings.names;
    let mut names = Names::default();
    for (ours, theirs) in [
        (Gateway::Authenticate, SimGateway::Authenticate),
        (Gateway::CheckAvailability, SimGateway::CheckAvailability),
        (Gateway::BasketImport, SimGateway::BasketImport),
        (Gateway::PlaceOrder, SimGateway::PlaceOrder),
        (Gateway::GetCouriers, SimGateway::GetCouriers),
        (Gateway::GetCouriersForOrder, SimGateway::GetCouriersForOrder),
        (Gateway::GetOrderStatus, SimGateway::GetOrderStatus),
        (Gateway::GetClientAddresses, SimGateway::GetClientAddresses),
        (Gateway::SetClientAddress, SimGateway::SetClientAddress),
    ] {
        let g = sim.gates.get(theirs);
        let mut gate = Gate::working(ours);
        gate.path = g.path.clone();
        gate.method = g.method.clone();
        gate.soap_action = g.soap_action.clone();
        gate.namespace = g.namespace.clone();
        gate.results_key = g.results_key.clone();
        *names.gates.get_mut(ours) = gate;
    }
    names.login = sim.login.clone();
    names.session_expiry = sim.session_expiry.clone();
    names.request = sim.request.clone();
    names.params = sim.params.clone();
    names.response = sim.response.clone();
    names.shop_order_reference = sim.shop_order_reference.clone();
    names.results_page = sim.results_page.clone();
    names.results_limit = sim.results_limit.clone();
    names.dispatched_statuses = sim.dispatched_statuses().into_iter().map(String::from).collect();
    let w = &sim.webhook;
    names.webhook.event_id_header = w.event_id_header.clone();
    names.webhook.signature_header = w.signature_header.clone();
    names.webhook.signature_prefix = w.signature_prefix.clone();
    names.webhook.dispatched_event = w.dispatched_event.clone();
    let f = &sim.faults;
    let faults = &mut names.faults;
    for (ours, theirs) in [
        (&mut faults.login, f.login),
        (&mut faults.empty, f.empty),
        (&mut faults.session, f.session),
        (&mut faults.dropshipping, f.dropshipping),
        (&mut faults.input, f.input),
        (&mut faults.unknown_product, f.unknown_product),
        (&mut faults.stock, f.stock),
        (&mut faults.courier, f.courier),
        (&mut faults.basket_empty, f.basket_empty),
        (&mut faults.address_locked, f.address_locked),
        (&mut faults.too_large, f.too_large),
        (&mut faults.internal, f.internal),
    ] {
        *ours = vec![i64::from(theirs)];
    }
    names
}

/// The demo shop's invoice data (a valid Polish NIP and postcode).
pub fn demo_billing() -> Billing {
    Billing::new(
        "Sklep Kawowy sp. z o.o.",
        "5260250274",
        Address {
            street: Some("ul. Kawowa 3".into()),
            city: Some("Kraków".into()),
            zip_code: Some("31-001".into()),
            state: None,
            country_code: Some("PL".into()),
        },
    )
}

/// The configuration of an adapter for a simulator at `base_url`: the demo shop's login,
/// password and dropshipping key, its invoice data, the domestic courier for sales, and
/// `names`.
///
/// # Errors
/// `Invalid` for a bad URL.
pub fn config_for(base_url: &str, names: Names) -> Result<IdosellConfig, Error> {
    IdosellConfig::builder()
        .with_base_url(base_url)
        .with_login(demo::LOGIN)
        .with_password(Secret::new(demo::PASSWORD))
        .with_dropshipping_key(Secret::new(demo::DROPSHIPPING_KEY))
        .with_default_courier(demo::COURIER_DOMESTIC.to_string())
        .with_billing(demo_billing())
        .with_names(names)
        .build()
}

/// An adapter for the simulator at `base_url` on the simulator's `clock`.
///
/// # Errors
/// `Invalid` for a bad URL.
pub fn adapter_for(base_url: &str, names: Names, clock: SimClock) -> Result<IdosellAdapter, Error> {
    IdosellAdapter::with_clock(config_for(base_url, names)?, Arc::new(SimulatedClock(clock)))
}

/// A recipient in Warsaw the domestic courier serves.
pub fn demo_recipient() -> Recipient {
    Recipient::new(
        "Anna Nowak",
        Address {
            street: Some("ul. Prosta 5".into()),
            city: Some("Warszawa".into()),
            zip_code: Some("00-838".into()),
            state: None,
            country_code: Some("PL".into()),
        },
    )
    .with_email("anna@example.pl")
}

/// The conformance suite's view of the simulator: the seeded recipient address as member, a
/// basket of the demo catalogue in PLN, coffee and the domestic courier for dropship orders,
/// a Warsaw recipient, the simulator's clock, dispatch through the wholesaler's side (the
/// notice is the one the simulator posted to the receiver) and lost `placeOrder` replies.
pub fn environment(sim: &Simulated) -> loyalty_conformance::Environment {
    use loyalty_core::{Basket, Currency, Line, Money};
    let pln = |minor| Money::new(minor, Currency::PLN);
    let basket = Basket::new(Currency::PLN)
        .with_line(
            Line::new("l1", demo::COFFEE_INTERNAL, rust_decimal::Decimal::from(2), pln(3_499))
                .with_name(demo::COFFEE_NAME),
        )
        .with_line(
            Line::new("l2", demo::MUG_INTERNAL, rust_decimal::Decimal::ONE, pln(2_499))
                .with_name(demo::MUG_NAME),
        );
    let clock = sim.server.handle().clock();
    let (now, advance) = (clock.clone(), clock);
    let probe = sim.probe.clone();
    let handle = sim.server.handle();
    loyalty_conformance::Environment::new(sim.member_id.clone(), basket)
        .with_country_code("+48")
        .with_dropship(demo::COFFEE_INTERNAL, demo::COURIER_DOMESTIC.to_string())
        .with_recipient(demo_recipient())
        .with_now(move || now.now())
        .with_clock(move |d| advance.advance(d))
        .with_dispatch(move |order: OrderId| {
            let probe = probe.clone();
            Box::pin(async move {
                // The wholesaler ships in two parcels and posts its notice (§7.2).
                probe
                    .dispatch_order(order.as_str(), 2)
                    .ok_or_else(|| format!("the simulator cannot dispatch {order}"))?;
                // The simulator posts the notice itself at dispatch (automatic delivery, its
                // default) or when asked (manual): ask, and wait for the attempt either way.
                let attempt = posted(&probe, &order).await?;
                let mut headers = vec![
                    ("eventId".to_string(), attempt.event_id.clone()),
                    ("content-type".to_string(), attempt.content_type.clone()),
                ];
                if let Some(sig) = &attempt.signature {
                    headers.push(("X-Signature".to_string(), sig.clone()));
                }
                Ok(Some(loyalty_conformance::PushedNotice { headers, body: attempt.body.into_bytes() }))
            })
        })
        .with_lost_replies(move |operation| {
            // The reply of G4 is cut in half after the order was placed.
            let lose = matches!(operation, "fulfilment.place_order" | "transactions.send");
            if lose {
                handle.inject_route(SimGateway::PlaceOrder.id(), Fault::TruncatedBody, Some(1));
            }
            lose
        })
}

/// The first webhook attempt for `order`, waiting (at most 10 s of real time) for the simulator
/// to make it: sent by itself with automatic delivery, by `deliver_due` with manual delivery.
async fn posted(
    probe: &IdosellProbe,
    order: &OrderId,
) -> Result<loyalty_sim::idosell::WebhookAttempt, String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        probe.deliver_due().await;
        if let Some(a) = probe.webhook_attempts().into_iter().find(|a| a.order_id == order.as_str()) {
            return Ok(a);
        }
        if std::time::Instant::now() >= deadline {
            return Err(format!("no notice was posted for {order}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
