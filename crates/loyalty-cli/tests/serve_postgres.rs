//! `loyalty serve` on the PostgreSQL store (`LOYALTY_TEST_POSTGRES_URL`, which `.ci/run` sets):
//! ids the checkout never takes are answered as such, never as a database failure (PostgreSQL
//! refuses a NUL in text outright).
#![cfg(feature = "postgres")]

use serde_json::{json, Value};

const KEY: &str = "test-key-0123456789abcdef";

#[tokio::test]
async fn an_order_id_with_a_nul_is_not_found_or_invalid_never_a_bad_gateway() {
    let url =
        std::env::var("LOYALTY_TEST_POSTGRES_URL").expect("LOYALTY_TEST_POSTGRES_URL (`.ci/run` sets it)");
    let text = format!("[provider]\nkind = \"memory\"\n\n[store]\nurl = \"{url}\"\n");
    let opened = loyalty_config::parse(&text, "test.toml").unwrap().open().await.unwrap();
    let settings = loyalty_serve::ServeSettings::new(loyalty_serve::ApiKey::new(KEY).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        async move { loyalty_serve::serve(listener, opened, settings, std::future::pending()).await },
    );
    let http = reqwest::Client::new();
    let r = http.get(format!("{base}/v1/checkouts/o%00x")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(r.status(), 404, "{}", r.text().await.unwrap());
    let ret =
        json!({"order": "o\u{0}x", "return_id": "pg-r-1", "lines": [{"line_id": "1", "quantity": "1"}]});
    let r = http
        .post(format!("{base}/v1/returns"))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "pg-r-1")
        .json(&ret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["field"], "order", "{p}");
}
