//! SessionM simulator behaviour, one rule per test, over real HTTP against a started simulator
//! (the SessionM contract §2-§8 and its conformance checklist; the checklist item a test covers
//! is named in a comment on it).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use loyalty_sim::{
    sessionm::{demo, SessionmProbe, SessionmSettings, SessionmSim},
    SimClock, SimServer,
};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

#[path = "sessionm/connect.rs"]
mod connect;
#[path = "sessionm/core.rs"]
mod core_api;
#[path = "sessionm/currency_digits.rs"]
mod currency_digits;
#[path = "sessionm/discounting.rs"]
mod discounting;
#[path = "sessionm/discounts.rs"]
mod discounts;
#[path = "sessionm/hostile.rs"]
mod hostile;
#[path = "sessionm/kit.rs"]
mod kit;
#[path = "sessionm/lookup.rs"]
mod lookup;
#[path = "sessionm/pos.rs"]
mod pos;
#[path = "sessionm/transactions.rs"]
mod transactions;

/// A started simulator with an HTTP client.
pub struct T {
    pub server: SimServer,
    pub probe: SessionmProbe,
    pub http: reqwest::Client,
    next: AtomicU64,
}

pub async fn sim_with(settings: SessionmSettings) -> T {
    let (server, probe) = SessionmSim::start_with_probe(settings, SimClock::default()).await.unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    T { server, probe, http, next: AtomicU64::new(1) }
}

pub async fn sim() -> T {
    sim_with(SessionmSettings::default()).await
}

pub const POS: (&str, &str) = (demo::POS_KEY, demo::POS_SECRET);
pub const CONNECT: (&str, &str) = (demo::CONNECT_KEY, demo::CONNECT_SECRET);
pub const CORE: (&str, &str) = (demo::API_KEY, demo::S2S_SECRET);

impl T {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    pub fn clock(&self) -> SimClock {
        self.server.handle().clock()
    }

    pub fn advance_secs(&self, secs: u64) {
        self.clock().advance(Duration::from_secs(secs));
    }

    /// The §3.1 request container around `payload`, with a fresh `request_id`.
    pub fn envelope_at(&self, store: &str, payload: Value) -> Value {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        json!({"store_id": store, "client_id": demo::CLIENT_ID, "request_id": format!("req-{n}"),
               "culture": "en_US", "request_payload": payload})
    }

    pub fn envelope(&self, payload: Value) -> Value {
        self.envelope_at(demo::STORE_ID, payload)
    }

    /// Sends a JSON body with Basic `auth`; answers status and parsed body (a string when not
    /// JSON).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        auth: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self.http.request(method, self.url(path));
        if let Some((k, s)) = auth {
            rb = rb.basic_auth(k, Some(s));
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// A POS call with a whole body (container included).
    pub async fn pos_body(&self, op: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, &format!("/api/2.0/{op}"), Some(POS), Some(body)).await
    }

    /// A POS call at the Oslo store with a fresh `request_id`.
    pub async fn pos(&self, op: &str, payload: Value) -> (u16, Value) {
        self.pos_body(op, self.envelope(payload)).await
    }

    pub async fn connect(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(CONNECT), Some(body)).await
    }

    /// A Core call under `/priv/v1/apps/{api_key}`.
    pub async fn core(&self, method: Method, rest: &str, body: Option<Value>) -> (u16, Value) {
        self.send(method, &format!("/priv/v1/apps/{}{rest}", demo::API_KEY), Some(CORE), body).await
    }

    pub async fn lock(&self, user_offer_id: &str, basket: Value) -> (u16, Value) {
        self.pos("lock", json!({"offer_lookup_code": user_offer_id, "offer_lookup_type": "UserOfferId", "transaction": basket}))
            .await
    }

    pub async fn redeem(&self, user_offer_id: &str, basket: Value) -> (u16, Value) {
        self.pos("redeem", json!({"offer_lookup_code": user_offer_id, "offer_lookup_type": "UserOfferId", "transaction": basket}))
            .await
    }

    pub async fn unlock(&self, user_offer_id: &str) -> (u16, Value) {
        self.pos("unlock", json!({"user_offer_id": user_offer_id, "employee_id": "E-17"})).await
    }

    pub async fn reinstate(&self, user_offer_id: &str) -> (u16, Value) {
        self.pos("reinstate", json!({"user_offer_id": user_offer_id, "employee_id": "E-17"})).await
    }

    pub async fn send_transaction(&self, txn: Value) -> (u16, Value) {
        self.pos("send_transaction", txn).await
    }

    /// `user_offer_id`s the Connect wallet call lists for Kari.
    pub async fn wallet(&self) -> Vec<String> {
        let (s, v) = self
            .connect(
                "/offers/api/2.0/offers/get_user_offers",
                json!({"retailer_id": demo::RETAILER_ID, "user_id": demo::USER_ID, "skip": 0, "take": 1000,
                       "include_pending_extended_data": false, "culture": "en-US"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["payload"]["user_offers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["user_offer_id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// The payload of a successful POS response (asserts `status: "OK"`).
pub fn ok(v: &Value) -> &Value {
    assert_eq!(v["status"], "OK", "{v}");
    &v["payload"]
}

/// `errors.code` of a failed response.
pub fn code(v: &Value) -> &str {
    v["errors"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {v}"))
}

/// A decimal as a JSON number.
pub fn n(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Catalogue price and tax rate (percent) of a demo item; other items cost 10.00 at 25 %.
fn catalogue(item: &str) -> (Decimal, Decimal) {
    match item {
        demo::ITEM_COFFEE => (demo::COFFEE_PRICE, dec("15")),
        demo::ITEM_MUG => (demo::MUG_PRICE, dec("25")),
        demo::ITEM_TEA => (demo::TEA_PRICE, dec("15")),
        _ => (dec("10.00"), dec("25")),
    }
}

/// An open basket: one line per (item, quantity), line ids "1", "2"..., catalogue prices, tax
/// included in the price and reported per line.
pub fn basket(transaction_id: &str, lines: &[(&str, i64)]) -> Value {
    let priced: Vec<(&str, i64, Decimal)> = lines.iter().map(|(i, q)| (*i, *q, catalogue(i).0)).collect();
    basket_priced(transaction_id, &priced)
}

/// An open basket with explicit unit prices.
pub fn basket_priced(transaction_id: &str, lines: &[(&str, i64, Decimal)]) -> Value {
    let mut items = Vec::new();
    let (mut subtotal, mut tax) = (Decimal::ZERO, Decimal::ZERO);
    for (k, (item, q, price)) in lines.iter().enumerate() {
        let line = price * Decimal::from(*q);
        let rate = catalogue(item).1;
        let t = (line * rate / (Decimal::ONE_HUNDRED + rate)).round_dp(2);
        subtotal += line;
        tax += t;
        items.push(json!({"line_id": (k + 1).to_string(), "item_id": item, "quantity": q,
                          "unit_price": n(*price), "subtotal": n(line), "tax_included": n(t)}));
    }
    json!({"transaction_id": transaction_id, "pos_employee_id": "E-17", "channel": "POS",
           "is_closed": false, "is_voided": false, "subtotal": n(subtotal), "tax_total": n(tax),
           "open_time": "2026-01-15T11:55:00Z", "modified_time": "2026-01-15T11:58:00Z", "items": items})
}

/// `basket` closed at `modified_time` with `discounts`.
pub fn closed(mut basket: Value, modified_time: &str, discounts: Vec<Value>) -> Value {
    basket["is_closed"] = json!(true);
    basket["modified_time"] = json!(modified_time);
    basket["discounts"] = Value::Array(discounts);
    basket
}
