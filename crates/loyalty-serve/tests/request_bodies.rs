//! How `loyalty serve` reads request bodies (docs/serve.md, Conventions: "Request bodies are
//! read strictly", "400 for a body that is not JSON of the right shape", "`invalid` adds
//! `field` and `reason`"): a missing required field is named by its own path, and an array
//! is never read in place of an object.

use std::sync::Arc;

use loyalty_config::Opened;
use loyalty_core::checkout::MemoryCheckoutStore;
use loyalty_memory::demo;
use loyalty_serve::{router, ApiKey, ServeSettings};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const KEY: &str = "test-key-0123456789abcdef";

async fn start() -> String {
    let provider = Arc::new(loyalty_memory::MemoryProvider::demo());
    let opened = Opened::new(provider, Arc::new(MemoryCheckoutStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(opened, ServeSettings::new(ApiKey::new(KEY).unwrap()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Posts `body` as written (not re-serialised) and reads the answer.
async fn post(base: &str, path: &str, key: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut r = Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn line() -> Value {
    json!({"line_id": "1", "product_id": demo::PRODUCT_COFFEE, "name": "Coffee", "quantity": "1",
        "unit_price": {"minor": 12900, "currency": "NOK"}})
}

/// A required field left out is named as an unknown or mistyped one is (`basket.lines`), not
/// by the object lacking it (`basket`) or the whole `body`: the shop's form can point at it.
#[tokio::test]
async fn a_missing_required_field_is_named_by_its_own_path() {
    let base = start().await;
    let cases = [
        (
            "/v1/returns",
            Some("r-1"),
            json!({"order": "o-1", "lines": [{"line_id": "1", "quantity": "1"}]}),
            "return_id",
        ),
        (
            "/v1/returns",
            Some("r-2"),
            json!({"order": "o-1", "return_id": "r-2", "lines": [{"quantity": "1"}]}),
            "lines[0].line_id",
        ),
        ("/v1/checkouts/o-1/commit", Some("o-1"), json!({}), "payment"),
        (
            "/v1/checkouts/o-2/commit",
            Some("o-2"),
            json!({"payment": {"reference": "psp-1"}}),
            "payment.amount",
        ),
        ("/v1/price", None, json!({"basket": {"currency": "NOK"}}), "basket.lines"),
        (
            "/v1/price",
            None,
            json!({"basket": {"currency": "NOK", "lines": [{"line_id": "1"}]}}),
            "basket.lines[0].product_id",
        ),
        (
            "/v1/members",
            Some("m-1"),
            json!({"email": "missing.sms@example.com",
            "consents": {"membership": true, "order_history": true, "marketing_email": false}}),
            "consents.marketing_sms",
        ),
    ];
    for (path, key, body, field) in cases {
        let (status, p) = post(&base, path, key, &body.to_string()).await;
        assert_eq!(status, 400, "{path} {body}: {p}");
        assert_eq!(p["kind"], "invalid", "{p}");
        assert_eq!(p["field"], field, "{path} {body}: {p}");
    }
    // Text that ends before an object's next key names the object (serde's path has `?`
    // for the key it could not read): the document itself is `body`.
    for (text, field) in [("{", "body"), (r#"{"basket": {"#, "basket")] {
        let (status, p) = post(&base, "/v1/price", None, text).await;
        assert_eq!((status.as_u16(), p["field"].as_str()), (400, Some(field)), "{text}: {p}");
    }
}

/// serde's positional form of a struct (a JSON array of its fields in order) is not JSON of
/// the right shape, at the top or nested: read, it would put values into whichever field
/// stands at that position. An array where the document has one (`lines`) still reads.
#[tokio::test]
async fn an_array_in_place_of_an_object_is_refused_at_any_depth() {
    let base = start().await;
    let basket = json!({"currency": "NOK", "lines": [line()]});
    let cases = [
        ("/v1/price", None, json!([null, {"currency": "NOK", "lines": []}, []]), "body"),
        ("/v1/price", None, json!({"basket": ["NOK", [line()]]}), "basket"),
        (
            "/v1/price",
            None,
            json!({"basket": {"currency": "NOK", "lines": [["1", "p", null, "Coffee", "1"]]}}),
            "basket.lines[0]",
        ),
        (
            "/v1/price",
            None,
            json!({"basket": {"currency": "NOK", "lines": [{"line_id": "1", "product_id": demo::PRODUCT_COFFEE,
            "name": "Coffee", "quantity": "1", "unit_price": [12900, "NOK"]}]}}),
            "basket.lines[0].unit_price",
        ),
        (
            "/v1/checkouts/o-a/prepare",
            Some("o-a"),
            json!({"basket": basket, "member": ["provider_id", demo::MEMBER_ID]}),
            "member",
        ),
        (
            "/v1/checkouts/o-b/commit",
            Some("o-b"),
            json!({"payment": ["psp-1", {"minor": 100, "currency": "NOK"}]}),
            "payment",
        ),
        (
            "/v1/checkouts/o-c/commit",
            Some("o-c"),
            json!({"payment": {"reference": "psp-1", "amount": [100, "NOK"]}}),
            "payment.amount",
        ),
        ("/v1/returns", Some("r-a"), json!(["o-1", "r-a", [{"line_id": "1", "quantity": "1"}]]), "body"),
        (
            "/v1/returns",
            Some("r-b"),
            json!({"order": "o-1", "return_id": "r-b", "lines": [["1", "1"]]}),
            "lines[0]",
        ),
        (
            "/v1/members",
            Some("m-a"),
            json!({"email": "array@example.com", "consents": [true, true, false, false]}),
            "consents",
        ),
    ];
    for (path, key, body, field) in cases {
        let (status, p) = post(&base, path, key, &body.to_string()).await;
        assert_eq!(status, 400, "{path} {body}: {p}");
        assert_eq!(p["kind"], "invalid", "{p}");
        assert_eq!(p["field"], field, "{path} {body}: {p}");
    }
    let (status, p) = post(&base, "/v1/price", None, &json!({"basket": basket}).to_string()).await;
    assert_eq!(status, 200, "{p}");
}
