//! Hostile values over real HTTP on the memory provider that must be refused before anything is
//! priced, recorded or sent (docs/serve.md, Conventions):
//! - a line id, product id or SKU that is empty or holds a control character is refused naming
//!   it, as order and return ids are (they are written to the checkout store, sent to the
//!   vendor and shown in receipts and logs);
//! - a commit's payment reference that names no payment (blank) or holds a control character
//!   is refused naming `payment.reference`: the sale would be recorded as paid by it, and the
//!   order then tied to that non-payment;
//! - a write that takes no body (abort, resend) refuses one, as any body's unknown field is
//!   refused, so options a shop means to pass are never dropped in silence;
//! - a contact field holding a Unicode line or paragraph separator (or a bidi override) is a
//!   line break like `\n`, refused naming the field.

use std::sync::Arc;

use loyalty_config::Opened;
use loyalty_core::checkout::MemoryCheckoutStore;
use loyalty_memory::{demo, MemoryProvider};
use loyalty_serve::{router, ApiKey, ServeSettings};
use reqwest::{Client, Method};
use serde_json::{json, Value};

const KEY: &str = "hostile-key-0123456789abcdef";

struct Served {
    base: String,
    http: Client,
}

impl Served {
    /// Sends `body` (as JSON, when given) under `key`: the status and the answer's JSON.
    async fn send(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(KEY);
        if let Some(b) = body {
            request = request.json(&b);
        }
        if let Some(k) = key {
            request = request.header("Idempotency-Key", k);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(key), Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None, None).await
    }
}

async fn start(provider: &MemoryProvider) -> Served {
    let opened = Opened::new(Arc::new(provider.clone()), Arc::new(MemoryCheckoutStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(opened, ServeSettings::new(ApiKey::new(KEY).unwrap()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Served { base: format!("http://{addr}"), http: Client::new() }
}

fn basket() -> Value {
    json!({"currency": "NOK", "lines": [
        {"line_id": "1", "product_id": demo::PRODUCT_COFFEE, "quantity": "2",
         "unit_price": {"minor": 12900, "currency": "NOK"}}]})
}

/// A basket of one line whose ids are `ids` (merged over a plain line).
fn basket_with(ids: &Value) -> Value {
    let mut line = json!({"line_id": "1", "product_id": demo::PRODUCT_COFFEE, "quantity": "1",
                          "unit_price": {"minor": 100, "currency": "NOK"}});
    line.as_object_mut().unwrap().extend(ids.as_object().unwrap().clone());
    json!({"currency": "NOK", "lines": [line]})
}

fn consents() -> Value {
    json!({"membership": true, "order_history": true, "marketing_sms": false, "marketing_email": false})
}

/// Each bad id is refused by a price, a prepare and an offers request naming the line's field;
/// the prepare records nothing (the order id is still unknown) and signs nobody up.
#[tokio::test]
async fn a_line_product_or_sku_id_empty_or_with_a_control_character_is_refused_naming_it() {
    let provider = MemoryProvider::demo();
    let s = start(&provider).await;
    let long = "x".repeat(256);
    let cases = [
        (json!({"line_id": "1\u{1b}[2J"}), "basket.lines[0].line_id"),
        (json!({"line_id": ""}), "basket.lines[0].line_id"),
        (json!({"product_id": "COF\u{0}500"}), "basket.lines[0].product_id"),
        (json!({"product_id": ""}), "basket.lines[0].product_id"),
        (json!({"product_id": long}), "basket.lines[0].product_id"),
        (json!({"sku": "SKU\n1"}), "basket.lines[0].sku"),
        (json!({"sku": ""}), "basket.lines[0].sku"),
    ];
    for (n, (ids, field)) in cases.into_iter().enumerate() {
        let order = format!("o-bad-id-{n}");
        let email = format!("bad-id-{n}@example.com");
        let sign_up = json!({"email": email, "consents": consents()});
        let (status, p) = s
            .post(
                &format!("/v1/checkouts/{order}/prepare"),
                &order,
                json!({"basket": basket_with(&ids), "sign_up": sign_up}),
            )
            .await;
        assert_eq!(status, 422, "{ids}: prepare: {p}");
        assert_eq!(p["field"], field, "{ids}: prepare: {p}");
        let (status, p) = s.get(&format!("/v1/checkouts/{order}")).await;
        assert_eq!(status, 404, "{ids}: nothing recorded: {p}");
        let (status, p) = s.get(&format!("/v1/members?email={email}")).await;
        assert_eq!(status, 404, "{ids}: nobody signed up: {p}");

        let (status, p) = s.post("/v1/price", "price", json!({"basket": basket_with(&ids)})).await;
        assert_eq!(status, 422, "{ids}: price: {p}");
        assert_eq!(p["field"], field, "{ids}: price: {p}");

        let request = json!({"member": demo::MEMBER_ID, "basket": basket_with(&ids)});
        let (status, p) = s.post("/v1/offers", "offers", request).await;
        assert_eq!(status, 422, "{ids}: offers: {p}");
        assert_eq!(p["field"], field, "{ids}: offers: {p}");
    }
    // The same ids written plainly are priced and prepared.
    let plain = json!({"line_id": "1", "product_id": demo::PRODUCT_COFFEE, "sku": "COF-500-SKU"});
    let (status, p) = s.post("/v1/price", "price", json!({"basket": basket_with(&plain)})).await;
    assert_eq!(status, 200, "{p}");
    let (status, p) =
        s.post("/v1/checkouts/o-plain/prepare", "o-plain", json!({"basket": basket_with(&plain)})).await;
    assert_eq!(status, 200, "{p}");
}

/// A blank reference, one over 255 characters or one with a control character is refused
/// before the payment is announced: the order stays prepared, and the real reference then
/// commits it.
#[tokio::test]
async fn a_commit_with_a_blank_or_control_character_payment_reference_is_refused_naming_it() {
    let provider = MemoryProvider::demo();
    let s = start(&provider).await;
    let (status, prepared) =
        s.post("/v1/checkouts/o-ref/prepare", "o-ref", json!({"basket": basket()})).await;
    assert_eq!(status, 200, "{prepared}");
    let total = prepared["priced"]["total"].clone();
    let long = "p".repeat(256);
    for reference in ["", "   ", "psp\u{1b}[2J", "psp\n123", long.as_str()] {
        let body = json!({"payment": {"reference": reference, "amount": total}});
        let (status, p) = s.post("/v1/checkouts/o-ref/commit", "o-ref", body).await;
        assert_eq!(status, 400, "reference {reference:?}: {p}");
        assert_eq!(p["field"], "payment.reference", "{p}");
        let (_, record) = s.get("/v1/checkouts/o-ref").await;
        assert_eq!(record["state"], "prepared", "nothing recorded: {record}");
    }
    let body = json!({"payment": {"reference": "psp-123", "amount": total}});
    let (status, done) = s.post("/v1/checkouts/o-ref/commit", "o-ref", body).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "completed", "{done}");
}

/// The resend and the abort take no body: one sent is refused naming `body` (and the resend's
/// key stores nothing, so it resends when sent again without one); an empty or whitespace
/// body is no body, nor is `null` (what a JSON client sends for "nothing").
#[tokio::test]
async fn a_body_sent_to_a_write_that_takes_none_is_refused_naming_body() {
    let provider = MemoryProvider::demo();
    let s = start(&provider).await;
    let (status, p) = s.post("/v1/pending/resend", "rs-x", json!({"order": "o-1"})).await;
    assert_eq!(status, 400, "resend with a body: {p}");
    assert_eq!(p["field"], "body", "{p}");
    let (status, p) = s.send(Method::POST, "/v1/pending/resend", Some("rs-x"), None).await;
    assert_eq!(status, 200, "the key stored nothing: {p}");
    let (status, p) = s.post("/v1/pending/resend", "rs-null", json!(null)).await;
    assert_eq!(status, 200, "null is no body: {p}");

    let (status, p) = s.post("/v1/checkouts/o-ab/prepare", "o-ab", json!({"basket": basket()})).await;
    assert_eq!(status, 200, "{p}");
    for body in [json!({"reason": "x"}), json!({}), json!([]), json!("")] {
        let (status, p) = s.post("/v1/checkouts/o-ab/abort", "o-ab", body.clone()).await;
        assert_eq!(status, 400, "abort with {body}: {p}");
        assert_eq!(p["field"], "body", "{p}");
    }
    let (_, record) = s.get("/v1/checkouts/o-ab").await;
    assert_eq!(record["state"], "prepared", "not aborted: {record}");
    let response = s
        .http
        .post(format!("{}/v1/checkouts/o-ab/abort", s.base))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "o-ab")
        .header("Content-Type", "application/json")
        .body(" \r\nnull\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204, "whitespace is no body");
}

/// U+2028 / U+2029 break lines as `\n` does, and the bidi overrides and isolates make a name
/// show as another: refused naming the field, in a registration and a profile update alike.
#[tokio::test]
async fn a_unicode_line_separator_or_bidi_control_in_a_contact_field_is_refused_naming_it() {
    let provider = MemoryProvider::demo();
    let s = start(&provider).await;
    let cases = [
        ("first_name", json!("Kari\u{2028}Nordmann")),
        ("first_name", json!("Kari\u{2029}Nordmann")),
        ("last_name", json!("Nord\u{202e}nnam")),
        ("email", json!("kari\u{2066}@example.com")),
    ];
    for (n, (field, value)) in cases.iter().enumerate() {
        let mut body = json!({"email": format!("ls-{n}@example.com"), "consents": consents()});
        body[*field] = value.clone();
        let (status, p) = s.post("/v1/members", &format!("ls-{n}"), body).await;
        assert_eq!(status, 400, "{field} {value}: {p}");
        assert_eq!(p["field"], *field, "{p}");
    }
    let update = json!({"first_name": "Kari\u{2028}Nordmann"});
    let (status, p) =
        s.send(Method::PATCH, &format!("/v1/members/{}", demo::MEMBER_ID), Some("up-1"), Some(update)).await;
    assert_eq!(status, 400, "{p}");
    assert_eq!(p["field"], "first_name", "{p}");
}
