//! Secrets never reach logs or errors.
#![allow(clippy::result_large_err)] // loyalty_core::Error is large by design

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use common::{client_with, fast_config, serve};
use loyalty_core::{Context, ErrorKind};
use loyalty_http::{Call, OAuth2ClientCredentials, Secret};
use serde_json::json;

const CLIENT_SECRET: &str = "cs-7f3a9e-top-secret";
const ACCESS_TOKEN: &str = "at-91b2c4-bearer-token";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn vendor() -> Router {
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("client-1:{CLIENT_SECRET}"))
    );
    Router::new()
        .route(
            "/oauth/token",
            post(move |headers: HeaderMap| {
                let ok =
                    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(good.as_str());
                async move {
                    if ok {
                        Json(json!({ "access_token": ACCESS_TOKEN, "expires_in": 3600 })).into_response()
                    } else {
                        (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_client" }))).into_response()
                    }
                }
            }),
        )
        .route(
            "/members/1",
            get(|headers: HeaderMap| async move {
                let expected = format!("Bearer {ACCESS_TOKEN}");
                if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str())
                {
                    Json(json!({ "id": "1" })).into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        )
        .route("/members/2", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
}

#[tokio::test]
async fn client_secret_appears_in_no_log_line_or_error() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let base = serve(vendor()).await;
    let token_url = base.join("oauth/token").unwrap();
    let secret = Secret::new(CLIENT_SECRET);
    let good = Arc::new(OAuth2ClientCredentials::new("test", token_url.clone(), "client-1", secret.clone()));
    let http = client_with(fast_config(base.clone()).with_max_attempts(2), good.clone());
    let ctx = Context::new();

    // Token fetch + a successful call, then a failing call (retried and logged at WARN).
    http.send(&ctx, Call::get("members.get", "/members/1")).await.unwrap();
    let unavailable = http.send(&ctx, Call::get("members.get", "/members/2")).await.unwrap_err();
    // A failing token request: wrong secret, 400 invalid_client.
    let bad =
        Arc::new(OAuth2ClientCredentials::new("test", token_url, "client-1", Secret::new("wrong-secret")));
    let refused = client_with(fast_config(base), bad.clone())
        .send(&ctx, Call::get("members.get", "/members/1"))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), &ErrorKind::Unauthorized);
    assert_eq!(refused.vendor_code(), Some("invalid_client"));
    assert!(!refused.is_temporary());

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("loyalty_http.call"), "the subscriber captured nothing:\n{logs}");
    assert!(logs.contains("retrying"), "the retry was not logged:\n{logs}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("client-1:{CLIENT_SECRET}"));
    let texts = [
        logs,
        format!("{unavailable} {unavailable:?}"),
        format!("{refused} {refused:?}"),
        format!("{http:?} {good:?} {bad:?}"),
    ];
    for text in &texts {
        for needle in [CLIENT_SECRET, ACCESS_TOKEN, "wrong-secret", basic.as_str()] {
            assert!(!text.contains(needle), "{needle:?} leaked into:\n{text}");
        }
    }
    assert_eq!(format!("{secret:?}"), "[redacted]");
}

#[test]
fn credentials_written_into_a_url_never_show_in_debug() {
    let url = url::Url::parse("https://shop:hunter2@api.example/v1/?api_key=k-123#frag").unwrap();
    let config = loyalty_http::HttpConfig::new(url.clone());
    let auth = std::sync::Arc::new(loyalty_http::OAuth2ClientCredentials::new(
        "acme",
        url.join("token").unwrap(),
        "client",
        loyalty_http::Secret::new("s3cret"),
    ));
    let client = loyalty_http::HttpClient::new(
        "acme",
        config.clone(),
        auth.clone(),
        std::sync::Arc::new(|_: &loyalty_http::ClassifyInput<'_>| None),
    )
    .expect("a valid client");
    for shown in [format!("{config:?}"), format!("{client:?}"), format!("{auth:?}")] {
        for secret in ["hunter2", "k-123", "frag", "s3cret"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("api.example"), "the host stays readable: {shown}");
    }
}

#[test]
fn a_base_path_holding_a_secret_is_never_printed() {
    let base = url::Url::parse("https://api.example.test/priv/v1/apps/k3y-in-path/").unwrap();
    let config = loyalty_http::HttpConfig::new(base).with_secret_base_path();
    let client = common::client(config.clone());
    for shown in [format!("{config:?}"), format!("{client:?}")] {
        assert!(!shown.contains("k3y-in-path"), "{shown}");
        assert!(shown.contains("api.example.test"), "{shown}");
    }
}

/// A vendor that refuses every call quoting the request's credentials back: the
/// `Authorization` header, the `X-Api-Key` header and the raw body.
fn echoing() -> Router {
    Router::new().fallback(|headers: HeaderMap, body: String| async move {
        let quoted = |name: header::HeaderName| {
            headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
        };
        let text = format!(
            "refused {} key {} body {body} (AUTH IN CAPITALS {})",
            quoted(header::AUTHORIZATION),
            quoted(header::HeaderName::from_static("x-api-key")),
            quoted(header::AUTHORIZATION).to_uppercase(),
        );
        (StatusCode::BAD_REQUEST, Json(json!({ "detail": text })))
    })
}

/// Quotes the `detail` of a 400 into the error, as adapter classifiers do.
fn quoting_classify(input: &loyalty_http::ClassifyInput<'_>) -> Option<loyalty_core::Error> {
    let detail = serde_json::from_slice::<serde_json::Value>(input.body).ok()?["detail"].as_str()?.to_owned();
    Some(
        loyalty_core::Error::new(ErrorKind::Rejected, input.provider, input.operation)
            .with_message(loyalty_http::excerpt(&detail)),
    )
}

#[tokio::test]
async fn credentials_a_vendor_echoes_in_its_refusal_never_reach_the_error() {
    let base = serve(echoing()).await;
    let ctx = Context::new();
    let basic = Arc::new(loyalty_http::BasicAuth::new("api-user", Secret::new("basic-pass-123")));
    let http =
        loyalty_http::HttpClient::new("test", fast_config(base), basic, Arc::new(quoting_classify)).unwrap();
    let body_key = Secret::new("0123456789abcdef0123456789abcdef01234567");
    let call = Call::post("orders.place", "/orders")
        .sensitive_header("X-Api-Key", "api-key-4711")
        .raw("text/xml", format!("<systemKey>{}</systemKey>", body_key.expose()))
        .secret(&body_key);
    let err = http.send(&ctx, call).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    let pair = base64::engine::general_purpose::STANDARD.encode("api-user:basic-pass-123");
    for needle in ["basic-pass-123", pair.as_str(), "api-key-4711", body_key.expose(), "0123456789abcdef"] {
        assert!(!shown.to_lowercase().contains(&needle.to_lowercase()), "{needle:?} leaked into:\n{shown}");
    }
    assert!(shown.contains("[redacted]"), "the vendor text is still quoted: {shown}");
    assert_eq!(err.kind(), &ErrorKind::Rejected);
}
