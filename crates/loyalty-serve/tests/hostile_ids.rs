//! Hostile values over real HTTP on the memory provider that must be refused before anything is
//! priced, recorded or sent (docs/serve.md, Conventions):
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
}

async fn start(provider: &MemoryProvider) -> Served {
    let opened = Opened::new(Arc::new(provider.clone()), Arc::new(MemoryCheckoutStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(opened, ServeSettings::new(ApiKey::new(KEY).unwrap()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Served { base: format!("http://{addr}"), http: Client::new() }
}

fn consents() -> Value {
    json!({"membership": true, "order_history": true, "marketing_sms": false, "marketing_email": false})
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
