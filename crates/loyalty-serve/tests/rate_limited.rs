//! docs/serve.md, Errors: "`rate_limited` sets `Retry-After`", on every endpoint: reads and
//! checkout writes answer through `Problem`, the keyed writes (`POST /v1/members`,
//! registration, profile updates, resends) through their stored-answer path, which must keep
//! the header too. The wait is rounded up, so a client never comes back early.

use std::sync::Arc;
use std::time::Duration;

use loyalty_config::Opened;
use loyalty_core::checkout::MemoryCheckoutStore;
use loyalty_core::{Error, ErrorKind};
use loyalty_serve::{router, ApiKey, ServeSettings};
use reqwest::Client;
use serde_json::{json, Value};

const KEY: &str = "test-key-0123456789abcdef";

fn limited(op: &str) -> Error {
    Error::new(ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) }, "memory", op)
}

/// The service over the memory demo, on loopback: the provider (to inject failures) and the
/// base URL.
async fn serve_demo() -> (loyalty_memory::MemoryProvider, String) {
    let provider = loyalty_memory::MemoryProvider::demo();
    let opened = Opened::new(Arc::new(provider.clone()), Arc::new(MemoryCheckoutStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(opened, ServeSettings::new(ApiKey::new(KEY).unwrap()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (provider, base)
}

#[tokio::test]
async fn a_rate_limited_write_answers_the_retry_after_header() {
    let (provider, base) = serve_demo().await;
    let http = Client::new();

    // A read answers the header (Problem::into_response).
    provider.fail_next("members.get", limited("members.get"));
    let r = http
        .get(format!("{base}/v1/members/{}", loyalty_memory::demo::MEMBER_ID))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()).as_deref(), Some("7"));

    // A registration answers through the stored-answer path.
    provider.fail_next("members.register", limited("members.register"));
    let reg = json!({"email": "limited@example.com", "phone": {"country_code": "+47", "number": "49955501"},
        "consents": {"membership": true, "order_history": true, "marketing_sms": false, "marketing_email": false}});
    let r = http
        .post(format!("{base}/v1/members"))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "reg-limited-1")
        .json(&reg)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let header = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["retry_after"], 7, "{body}");
    assert_eq!(header.as_deref(), Some("7"), "429 problem {body} came without a Retry-After header");
}

#[tokio::test]
async fn a_wait_with_a_fraction_of_a_second_is_announced_rounded_up() {
    let (provider, base) = serve_demo().await;
    let wait = Duration::from_millis(29_600);
    provider.fail_next(
        "members.get",
        Error::new(ErrorKind::RateLimited { retry_after: Some(wait) }, "memory", "members.get"),
    );
    let r = Client::new()
        .get(format!("{base}/v1/members/{}", loyalty_memory::demo::MEMBER_ID))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers().get("retry-after").unwrap(), "30");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["retry_after"], 30, "{body}");
}
