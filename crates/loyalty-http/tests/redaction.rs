//! Secrets never reach `Debug` output or errors (log lines: `redaction_logs.rs`).
#![allow(clippy::result_large_err)] // loyalty_core::Error is large by design

mod common;

use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::{Json, Router};
use base64::Engine as _;
use common::{fast_config, serve};
use loyalty_core::{Context, ErrorKind};
use loyalty_http::{Call, Secret};
use serde_json::json;

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
