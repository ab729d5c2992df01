//! The IdoSell CustomerAPI-ICDF simulator (dropshipping over SOAP 1.1), written from the IdoSell
//! contract.
//!
//! What is simulated: the nine gateways G1–G9 (§5) as SOAP 1.1 rpc/encoded calls on gate paths
//! from one names table ([`names`], §9.3), each with a JSON twin (§2.1); the daily system key and
//! 15-minute session keys (§3); the `sessionKey` + `dropshippingKey` rule (§3.4); the ICDF
//! product model with three code families and sets (§4); errors as an `errors` block
//! (`faultCode`, `faultString`) inside HTTP 200 replies, with per-line faults where a gateway
//! handles lines, and a genuine `SOAP-ENV:Fault` only for unparsable XML or an unknown method
//! (§6); the 10 MiB body limit (§8); the order lifecycle and the dispatch webhook, sent by the
//! simulator at dispatch and retried on the simulator clock (§7.2, §9.2). Every \[S\] choice is an [`IdosellSettings`] field
//! (§9.4); the fault codes are the simulator's table of §6.3 ([`FaultCodes`]), renumbered per
//! class through the names table ([`Names::faults`], [`FaultNumbers`]).
//!
//! Where the simulator decisions live:
//!
//! | Decision | Place |
//! | --- | --- |
//! | gate paths, method names, `SOAPAction`, namespaces, results keys, element names | [`names`] ([`Names`], overridable via [`IdosellSettings::names`]) |
//! | key zone, grace after midnight, session lifetime and kind, re-authentication | [`IdosellSettings`]; checks in `auth.rs` |
//! | basket import replace/append, line checks | [`IdosellSettings::basket_import`]; `products.rs` |
//! | duplicate shop reference, order ids, shipment numbers | [`IdosellSettings::duplicate_order_reference`]; `orders.rs` |
//! | courier filter and cost rule | [`IdosellSettings::courier_cost`]; `couriers.rs` |
//! | G8 paging, G9 refusal after dispatch (top level or per address) | [`IdosellSettings::address_faults`]; `addresses.rs` |
//! | fault texts and language | [`IdosellSettings::fault_language`]; `messages.rs` |
//! | oversized bodies | [`IdosellSettings::max_body_bytes`], [`IdosellSettings::oversize_answer`] |
//! | webhook encoding, signature, retry schedule, automatic or manual sending | [`IdosellSettings`]; `webhook.rs` |
//! | test routes under `/_sim` | `admin.rs` (table below) |
//!
//! # Requests
//!
//! A SOAP call is `POST {gate path}` with an envelope whose `Body` holds `<ns1:{method}>` ›
//! `<request>` › `sessionKey`, `dropshippingKey` and `<params>` (§2.3); G1 has `login` and
//! `systemKey` inside `request`. The request is held to SOAP 1.1 as the contract has it (§2.1,
//! §2.2): `Content-Type: text/xml` (`charset`, when given, `utf-8`), the root `Envelope` and its
//! `Body` in the SOAP 1.1 envelope namespace, arrays and `encodingStyle` in the SOAP 1.1 encoding
//! namespace. A SOAP 1.2 envelope (or `application/soap+xml`) or any other envelope namespace is
//! answered with a `SOAP-ENV:VersionMismatch` fault, a wrong `Content-Type` with a
//! `SOAP-ENV:Client` fault (HTTP 500, as for unparsable XML; simulator decision). Element names
//! below the method element are matched with their exact case (only the method name is matched
//! without case, as PHP looks up functions); their namespace prefixes and `xsi:type` do not
//! matter, values are read without surrounding whitespace (the contract is silent there), and the
//! list notation (`SOAP-ENC:Array` of `item`, or repeated `product` children with ICDF
//! attributes) is free. The reply is `<ns1:{method}Response>` › `<response>` › `errors`
//! then the gateway's results element (`results`; `Results` for G7), `Content-Type: text/xml;
//! charset=utf-8`. The JSON twin (the gate path with `soap` → `json`) takes the fields of
//! `request` as a JSON object and answers the fields of `response` as one.
//!
//! Fault texts are Polish; English when the gate URL carries `lang=eng` (or `lang=en`) or the
//! request has an `Accept-Language` header starting with `en`.
//!
//! # Faults
//!
//! Kit faults work per gateway: `server.handle().inject_route("G4", Fault::…, times)` (route
//! names are the working ids `G1`…`G9`, [`Gateway::id`]). [`IdosellProbe::fail_call`] makes
//! the n-th next call of a gateway answer a vendor fault. With
//! [`IdosellSettings::magic_values`] on, a request text equal to one of these values answers its
//! fault (after the session and dropshipping-key checks; in G1 the login is checked), numbered by
//! [`Names::faults`] (defaults below):
//!
//! | Value | faultCode | Notes |
//! | --- | --- | --- |
//! | `FAIL-LOGIN` | 1 | G1 login |
//! | `FAIL-EMPTY` | 2 | |
//! | `FAIL-SESSION` | 3 | |
//! | `FAIL-DROPSHIPPING` | 4 | |
//! | `FAIL-INPUT` | 5 | per line as a product code in G2/G3 |
//! | `FAIL-UNKNOWN` | 6 | per line as a product code in G2/G3 |
//! | `FAIL-STOCK` | 7 | per line as a product code in G2/G3 |
//! | `FAIL-COURIER` | 8 | |
//! | `FAIL-BASKET` | 9 | |
//! | `FAIL-ADDRESS` | 10 | |
//! | `FAIL-SIZE` | 11 | |
//! | `FAIL-INTERNAL` | 99 | |
//!
//! # Test routes
//!
//! Under the reserved prefix `/_sim` (no authentication): `POST /_sim/orders/{orderId}/advance`
//! (`?parcels=N`), `POST /_sim/orders/{orderId}/dispatch` (`?parcels=N`), `PUT
//! /_sim/accounts/{login}/callback` with `{"url": …}`, `POST /_sim/webhooks/deliver`.
//!
//! # The dispatch webhook
//!
//! Every dispatch (the test routes above, [`IdosellProbe::dispatch_order`] and
//! [`IdosellProbe::advance_order`], the control API's `dispatch` event) queues the webhook of
//! an account with a callback URL. With [`IdosellSettings::webhook_delivery`] `automatic` (the
//! default, checklist 20) the simulator POSTs it at once from a task started with the server
//! and retries a non-2xx answer when the delay is due on the simulator clock (looked for about
//! every 100 ms of real time); the task stops with the server. With `manual` nothing is sent
//! until [`IdosellProbe::deliver_due`] or `POST /_sim/webhooks/deliver`, for tests that decide
//! when each attempt happens. Both kinds of sender may run at once; an attempt is never sent
//! twice.

mod addresses;
mod admin;
mod auth;
mod couriers;
mod messages;
pub mod names;
mod orders;
mod products;
mod routes;
mod settings;
mod soap;
mod state;
mod webhook;

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

pub use auth::{sha1_hex, system_key};
pub use names::{FaultNumbers, Gate, Gates, Gateway, Names, WebhookNames};
pub use settings::{
    AddressFaults, BasketImport, CourierCost, DuplicateReference, FaultLanguage, IdosellSettings,
    OversizeAnswer, Reauthenticate, SessionExpiry, Transports, UnknownElements, WebhookDelivery,
    WebhookEncoding, WebhookSignature,
};

use crate::{
    clock::SimClock,
    server::{SimOptions, SimServer},
};

/// The simulator's default fault codes (the IdoSell contract §6.3, \[S\] except 1 and 2); the
/// numbers answered come from [`Names::faults`], whose defaults these are.
#[derive(Debug)]
#[non_exhaustive]
pub struct FaultCodes;

impl FaultCodes {
    /// Success.
    pub const OK: u32 = 0;
    /// Unknown login or wrong `systemKey`.
    pub const LOGIN: u32 = messages::LOGIN;
    /// Nothing matched the query.
    pub const EMPTY: u32 = messages::EMPTY;
    /// `sessionKey` missing, unknown, expired or revoked.
    pub const SESSION: u32 = messages::SESSION;
    /// `dropshippingKey` missing or wrong, or dropshipping off for the account.
    pub const DROPSHIPPING: u32 = messages::DROPSHIPPING;
    /// Malformed, missing or unknown parameter.
    pub const INPUT: u32 = messages::INPUT;
    /// Product unknown for (`code`, `codeType`).
    pub const UNKNOWN_PRODUCT: u32 = messages::UNKNOWN_PRODUCT;
    /// Insufficient stock.
    pub const STOCK: u32 = messages::STOCK;
    /// Courier not allowed for the order or address.
    pub const COURIER: u32 = messages::COURIER;
    /// Basket empty on `placeOrder`.
    pub const BASKET_EMPTY: u32 = messages::BASKET_EMPTY;
    /// Address not modifiable: its order was dispatched.
    pub const ADDRESS_LOCKED: u32 = messages::ADDRESS_LOCKED;
    /// Request body over the limit.
    pub const TOO_LARGE: u32 = messages::TOO_LARGE;
    /// Internal error (fault injection).
    pub const INTERNAL: u32 = messages::INTERNAL;
}

/// The seeded demo wholesaler: accounts, products, couriers. Decimal values are strings in
/// `rust_decimal` notation; weights in kg, prices in PLN.
pub mod demo {
    /// Path below which every default gate lives (`/api/?gate=customerapi/{method}/1/soap`).
    pub const BASE_PATH: &str = "/api/";
    /// The wholesaler's name.
    pub const WHOLESALER: &str = "Hurtownia Demo sp. z o.o.";
    /// Currency of every price.
    pub const CURRENCY: &str = "PLN";

    /// Login of the demo retail shop's customer account (dropshipping on).
    pub const LOGIN: &str = "sklep-demo";
    /// Its password (the §3.2 worked example). A test credential: never in a journal.
    pub const PASSWORD: &str = "Hurt0wnia!2024";
    /// `sha1(PASSWORD)`, the inner digest the store keeps (§3.2).
    pub const PASSWORD_SHA1: &str = "cd82db52defea4e7b81f4bbea799dbd0243dd5fb";
    /// Its `dropshippingKey`. A test credential: never in a journal.
    pub const DROPSHIPPING_KEY: &str = "ds-7c1e9a4b2f6d8e03";
    /// The webhook signing secret: the account's `dropshippingKey` is the HMAC key (§7.2).
    pub const CALLBACK_SECRET: &str = DROPSHIPPING_KEY;

    /// A second shop (dropshipping on), for isolation between customers.
    pub const OTHER_LOGIN: &str = "sklep-drugi";
    /// Password of [`OTHER_LOGIN`].
    pub const OTHER_PASSWORD: &str = "Drugi!Sklep7";
    /// `dropshippingKey` of [`OTHER_LOGIN`].
    pub const OTHER_DROPSHIPPING_KEY: &str = "ds-2b9f0e1d3c5a7b64";

    /// A customer whose dropshipping is switched off: G1 works, G2–G9 answer 4.
    pub const DISABLED_LOGIN: &str = "sklep-bez-ds";
    /// Password of [`DISABLED_LOGIN`].
    pub const DISABLED_PASSWORD: &str = "BezDs!2024";
    /// `dropshippingKey` on file for [`DISABLED_LOGIN`] (refused anyway).
    pub const DISABLED_DROPSHIPPING_KEY: &str = "ds-0000000000000000";

    /// Coffee 500 g (the shared demo catalogue `COF-500`): internal code.
    pub const COFFEE_INTERNAL: &str = "COF-500";
    /// Coffee: producer code (EAN-like).
    pub const COFFEE_PRODUCER: &str = "5907000000017";
    /// Coffee: external code.
    pub const COFFEE_EXTERNAL: &str = "HX-COF-500";
    /// Coffee: name.
    pub const COFFEE_NAME: &str = "Kawa ziarnista 500 g";
    /// Coffee: stock.
    pub const COFFEE_STOCK: u32 = 120;
    /// Coffee: weight.
    pub const COFFEE_WEIGHT_KG: &str = "0.55";
    /// Coffee: net price.
    pub const COFFEE_PRICE_NET: &str = "28.45";
    /// Coffee: gross price.
    pub const COFFEE_PRICE_GROSS: &str = "34.99";

    /// Mug (the shared demo catalogue `MUG-1`): internal code. Fragile: the pickup-point
    /// courier does not carry it.
    pub const MUG_INTERNAL: &str = "MUG-1";
    /// Mug: producer code.
    pub const MUG_PRODUCER: &str = "5907000000024";
    /// Mug: external code.
    pub const MUG_EXTERNAL: &str = "HX-MUG-1";
    /// Mug: name.
    pub const MUG_NAME: &str = "Kubek ceramiczny";
    /// Mug: stock.
    pub const MUG_STOCK: u32 = 40;
    /// Mug: weight.
    pub const MUG_WEIGHT_KG: &str = "0.40";
    /// Mug: net price.
    pub const MUG_PRICE_NET: &str = "20.32";
    /// Mug: gross price.
    pub const MUG_PRICE_GROSS: &str = "24.99";

    /// Gift set = 1 × `COF-500` + 1 × `MUG-1`; no stock of its own (components count).
    pub const SET_INTERNAL: &str = "SET-COF-MUG";
    /// Set: producer code.
    pub const SET_PRODUCER: &str = "5907000000031";
    /// Set: external code.
    pub const SET_EXTERNAL: &str = "HX-SET-1";
    /// Set: name.
    pub const SET_NAME: &str = "Zestaw prezentowy kawa + kubek";
    /// Set: net price.
    pub const SET_PRICE_NET: &str = "44.71";
    /// Set: gross price.
    pub const SET_PRICE_GROSS: &str = "54.99";

    /// Tea 100 g, out of stock (stock 0).
    pub const TEA_INTERNAL: &str = "TEA-100";
    /// Tea: producer code.
    pub const TEA_PRODUCER: &str = "5907000000048";
    /// Tea: external code.
    pub const TEA_EXTERNAL: &str = "HX-TEA-100";
    /// Tea: name.
    pub const TEA_NAME: &str = "Herbata liściasta 100 g";
    /// Tea: weight.
    pub const TEA_WEIGHT_KG: &str = "0.12";
    /// Tea: net price.
    pub const TEA_PRICE_NET: &str = "12.19";
    /// Tea: gross price.
    pub const TEA_PRICE_GROSS: &str = "14.99";

    /// Green coffee 25 kg sack: heavy, for the parcel-weight filter.
    pub const GREEN_INTERNAL: &str = "GRN-25K";
    /// Green coffee: producer code.
    pub const GREEN_PRODUCER: &str = "5907000000055";
    /// Green coffee: external code.
    pub const GREEN_EXTERNAL: &str = "HX-GRN-25K";
    /// Green coffee: name.
    pub const GREEN_NAME: &str = "Kawa zielona 25 kg";
    /// Green coffee: stock.
    pub const GREEN_STOCK: u32 = 10;
    /// Green coffee: weight.
    pub const GREEN_WEIGHT_KG: &str = "25.00";
    /// Green coffee: net price.
    pub const GREEN_PRICE_NET: &str = "406.50";
    /// Green coffee: gross price.
    pub const GREEN_PRICE_GROSS: &str = "499.99";

    /// Domestic courier "Kurier DPD": PL only, up to 31.5 kg, 15.00 + 0.50/kg, cash on
    /// delivery, 1 day.
    pub const COURIER_DOMESTIC: i64 = 10;
    /// Pickup-point courier "InPost Paczkomat": PL only, up to 25 kg, 12.50 flat, cash on
    /// delivery, needs `pickupPointId`, excludes `MUG-1` (and so the set), 2 days.
    pub const COURIER_PICKUP: i64 = 11;
    /// International courier "DHL Express International": DE, CZ, SK, AT, LT, FR (not PL), up
    /// to 30 kg, 59.00 + 4.00/kg, no cash on delivery, 3 days.
    pub const COURIER_INTERNATIONAL: i64 = 12;
    /// A pickup point id the tests may use (any non-empty id is accepted).
    pub const PICKUP_POINT: &str = "WAW01M";
}

/// One webhook delivery attempt, as the probe reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookAttempt {
    /// The event's id (the `eventId` header); the same for every attempt of one event.
    pub event_id: String,
    /// The dispatched order.
    pub order_id: String,
    /// Callback URL used (empty when none was registered at the time).
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: usize,
    /// Simulator time of the attempt.
    pub at: DateTime<Utc>,
    /// HTTP status answered; `None` on a transport error or without a URL.
    pub status: Option<u16>,
    /// Whether the receiver answered 2xx.
    pub delivered: bool,
    /// `Content-Type` sent.
    pub content_type: String,
    /// `X-Signature` sent, if any.
    pub signature: Option<String>,
    /// The raw body sent.
    pub body: String,
}

/// Starts IdoSell simulators.
#[derive(Debug)]
pub struct IdosellSim;

impl IdosellSim {
    /// Starts a seeded simulator on 127.0.0.1 (ephemeral port).
    pub async fn start(settings: IdosellSettings, clock: SimClock) -> std::io::Result<SimServer> {
        Ok(Self::start_with_probe(settings, clock).await?.0)
    }

    /// Starts a seeded simulator and returns a probe for its state. Fails with `InvalidInput`
    /// when the settings name an unknown time zone.
    pub async fn start_with_probe(
        settings: IdosellSettings,
        clock: SimClock,
    ) -> std::io::Result<(SimServer, IdosellProbe)> {
        Self::start_on_port(settings, clock, 0, false).await
    }

    /// [`Self::start_with_probe`] on `port` of 127.0.0.1 (0 takes a free one), with the
    /// control API ([`crate::control`]) when `control` is set: `loyalty sim --port --control`.
    pub async fn start_on_port(
        settings: IdosellSettings,
        clock: SimClock,
        port: u16,
        control: bool,
    ) -> std::io::Result<(SimServer, IdosellProbe)> {
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
        if settings.zone().is_none() {
            return Err(invalid(format!("unknown time zone {}", settings.system_key_time_zone)));
        }
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        let limit = settings.max_body_bytes;
        let inner = Arc::new(Mutex::new(state::seed(settings)));
        let sim = routes::Sim { inner: inner.clone(), clock: clock.clone(), http };
        let names_source = inner.clone();
        let options = SimOptions::default()
            .redact_fields([names::SYSTEM_KEY, names::SESSION_KEY, names::DROPSHIPPING_KEY, "password"])
            .max_body_bytes(limit)
            .route_of(move |parts, body| routes::route_of(&names_source, parts, body))
            .port(port);
        let options = if control {
            options.control(Arc::new(Events(IdosellProbe { sim: sim.clone() })))
        } else {
            options
        };
        // The webhook sender (§7.2, setting `webhook_delivery`) runs as long as the server: the
        // router holds the only sender of `stop`, so the task ends once the server has dropped
        // its router (the server dropped or shut down).
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
        let router = routes::router(sim.clone()).layer(axum::Extension(Arc::new(stop_tx)));
        let server = crate::server::start_with(router, clock, options).await?;
        tokio::spawn(webhook::run(sim.clone(), stop_rx));
        Ok((server, IdosellProbe { sim }))
    }
}

/// Read access into a running simulator's state, and the vendor-side events tests drive.
#[derive(Clone, Debug)]
pub struct IdosellProbe {
    sim: routes::Sim,
}

impl IdosellProbe {
    fn lock(&self) -> std::sync::MutexGuard<'_, state::Inner> {
        self.sim.lock()
    }

    /// The current settings.
    pub fn settings(&self) -> IdosellSettings {
        self.lock().settings.clone()
    }

    /// Replaces the settings; later requests see them (the body limit stays as started).
    pub fn set_settings(&self, settings: IdosellSettings) {
        self.lock().settings = settings;
    }

    /// Calls a gateway received (parsed far enough to know the gateway).
    pub fn calls(&self, gateway: Gateway) -> u64 {
        self.lock().calls.get(&gateway).copied().unwrap_or(0)
    }

    /// Makes the `nth` next call of `gateway` (1 = the next one) answer `fault_code` as given,
    /// not renumbered by [`Names::faults`] (HTTP 200, `errors` block) before any check; the call
    /// changes nothing.
    pub fn fail_call(&self, gateway: Gateway, nth: u64, fault_code: u32) {
        let mut g = self.lock();
        let at = g.calls.get(&gateway).copied().unwrap_or(0) + nth.max(1);
        g.call_faults.push((gateway, at, fault_code));
    }

    /// Adds a customer account (dropshipping on) with this password (the store keeps only its
    /// inner digest); false when the login exists.
    pub fn add_account(&self, login: &str, password: &str, dropshipping_key: &str) -> bool {
        let mut g = self.lock();
        if g.account_by_login(login).is_some() {
            return false;
        }
        g.accounts.push(state::account(login, password, dropshipping_key, true));
        true
    }

    /// Session keys issued to the account (expired and revoked ones included).
    pub fn sessions_issued(&self, login: &str) -> usize {
        let g = self.lock();
        let Some(a) = g.account_by_login(login) else { return 0 };
        g.sessions.values().filter(|s| s.account == a).count()
    }

    /// The account's basket as (internal code, quantity); `None` for an unknown login.
    pub fn basket(&self, login: &str) -> Option<Vec<(String, Decimal)>> {
        let g = self.lock();
        let a = g.account_by_login(login)?;
        Some(
            g.accounts[a]
                .basket
                .iter()
                .map(|l| (g.products[l.product].internal.clone(), l.quantity))
                .collect(),
        )
    }

    /// Available stock of a product by internal code.
    pub fn stock(&self, internal_code: &str) -> Option<Decimal> {
        let g = self.lock();
        g.product_by_internal(internal_code).map(|p| g.products[p].stock)
    }

    /// Stock reserved by placed orders, by internal code.
    pub fn reserved(&self, internal_code: &str) -> Option<Decimal> {
        let g = self.lock();
        g.product_by_internal(internal_code).map(|p| g.products[p].reserved)
    }

    /// Sets the available stock of a product; false for an unknown code.
    pub fn set_stock(&self, internal_code: &str, quantity: Decimal) -> bool {
        let mut g = self.lock();
        match g.product_by_internal(internal_code) {
            Some(p) => {
                g.products[p].stock = quantity;
                true
            }
            None => false,
        }
    }

    /// Order ids of an account, oldest first.
    pub fn orders(&self, login: &str) -> Vec<String> {
        let g = self.lock();
        let Some(a) = g.account_by_login(login) else { return Vec::new() };
        g.orders.iter().filter(|o| o.account == a).map(|o| o.id.clone()).collect()
    }

    /// An order's status symbol.
    pub fn order_status(&self, order_id: &str) -> Option<String> {
        let g = self.lock();
        g.order_index(order_id).map(|i| g.orders[i].status.as_str().to_string())
    }

    /// An order's shipment numbers (empty until dispatch).
    pub fn shipment_numbers(&self, order_id: &str) -> Option<Vec<String>> {
        let g = self.lock();
        g.order_index(order_id).map(|i| g.orders[i].shipments.clone())
    }

    /// An order's recipient address id.
    pub fn order_address_id(&self, order_id: &str) -> Option<i64> {
        let g = self.lock();
        g.order_index(order_id).map(|i| g.orders[i].address_id)
    }

    /// An address as element name → value.
    pub fn address(&self, address_id: i64) -> Option<BTreeMap<String, String>> {
        let g = self.lock();
        let a = g.addresses.iter().find(|a| a.id == address_id)?;
        let d = &a.data;
        let pairs = [
            (names::el::FIRST_NAME, &d.first_name),
            (names::el::LAST_NAME, &d.last_name),
            (names::el::COMPANY, &d.company),
            (names::el::STREET, &d.street),
            (names::el::POSTCODE, &d.postcode),
            (names::el::CITY, &d.city),
            (names::el::COUNTRY, &d.country),
            (names::el::PHONE, &d.phone),
            (names::el::EMAIL, &d.email),
        ];
        Some(pairs.into_iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    /// Moves an order one lifecycle step (`new → on_order → packed → packed_ready →
    /// wait_for_receive → finished`); the dispatch step assigns one shipment number and queues
    /// the webhook (sent at once with automatic delivery). Returns the new status; `None` for
    /// an unknown or finished order.
    pub fn advance_order(&self, order_id: &str) -> Option<String> {
        let now = self.sim.clock.now();
        orders::advance(&mut self.lock(), order_id, now, 1).map(|s| s.as_str().to_string())
    }

    /// Dispatches an order at once with `parcels` shipment numbers (at least one) and queues the
    /// webhook (sent at once with automatic delivery); `None` for an unknown or already
    /// dispatched order.
    pub fn dispatch_order(&self, order_id: &str, parcels: usize) -> Option<Vec<String>> {
        let now = self.sim.clock.now();
        orders::dispatch(&mut self.lock(), order_id, now, parcels)
    }

    /// Registers (or with `None` removes) the account's callback URL; false for an unknown login.
    pub fn set_callback_url(&self, login: &str, url: Option<&str>) -> bool {
        let mut g = self.lock();
        match g.account_by_login(login) {
            Some(a) => {
                g.accounts[a].callback_url = url.map(str::to_string);
                true
            }
            None => false,
        }
    }

    /// Sends every webhook delivery due at the current simulator time (first attempts and
    /// retries) that the automatic sender is not sending right now; returns how many attempts
    /// it made. With automatic delivery the count depends on which sender took an attempt
    /// first, so tests that count set `webhook_delivery` to `manual`.
    pub async fn deliver_due(&self) -> usize {
        webhook::deliver_due(&self.sim).await
    }

    /// Every webhook attempt so far, oldest first.
    pub fn webhook_attempts(&self) -> Vec<WebhookAttempt> {
        self.lock().attempts.clone()
    }

    /// Deliveries neither delivered nor given up (an attempt due, in flight, or a retry
    /// scheduled).
    pub fn pending_webhooks(&self) -> usize {
        self.lock().deliveries.iter().filter(|d| d.due.is_some()).count()
    }

    /// Creates `n` orders for the account directly (status `new`, courier
    /// [`demo::COURIER_DOMESTIC`], no stock reserved) for large G7 replies; returns their ids.
    pub fn seed_orders(&self, login: &str, n: usize) -> Vec<String> {
        let now = self.sim.clock.now();
        let mut g = self.lock();
        let Some(a) = g.account_by_login(login) else { return Vec::new() };
        let zone = g.settings.zone().unwrap_or(chrono_tz::Europe::Warsaw);
        let today = now.with_timezone(&zone).date_naive();
        (0..n)
            .map(|i| {
                let to = state::AddressData {
                    first_name: "Jan".into(),
                    last_name: format!("Kowalski {i}"),
                    street: "ul. Długa 1".into(),
                    postcode: "00-950".into(),
                    city: "Warszawa".into(),
                    country: "PL".into(),
                    ..Default::default()
                };
                let idx = orders::new_order(
                    &mut g,
                    now,
                    today,
                    a,
                    to,
                    Some(format!("BENCH-{i}")),
                    demo::COURIER_DOMESTIC,
                );
                g.orders[idx].id.clone()
            })
            .collect()
    }
}

/// IdoSell's vendor-side events for the control API: the wholesaler dispatches an order (and
/// sends its shipment notice to the account's callback URL).
struct Events(IdosellProbe);

impl crate::control::VendorEvents for Events {
    fn names(&self) -> Vec<(&'static str, &'static str)> {
        vec![(
            "dispatch",
            "{\"order_id\": id, \"parcels\": n}: the wholesaler ships the order with n tracking numbers and pushes its notice",
        )]
    }

    fn fire(&self, name: &str, args: serde_json::Value) -> Option<crate::control::EventFuture> {
        if name != "dispatch" {
            return None;
        }
        let order = args.get("order_id").and_then(serde_json::Value::as_str).map(str::to_string);
        let parcels = args.get("parcels").and_then(serde_json::Value::as_u64).unwrap_or(1).clamp(1, 20);
        let done = match order {
            None => Err("missing \"order_id\"".to_string()),
            Some(o) => self
                .0
                .dispatch_order(&o, parcels as usize)
                .map(|numbers| serde_json::json!({"order_id": o, "tracking_numbers": numbers}))
                .ok_or_else(|| format!("order {o:?} is unknown or already dispatched")),
        };
        Some(Box::pin(async move { done }))
    }
}
