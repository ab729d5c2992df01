//! Secrets never reach log lines: the one test in its own binary, because a
//! thread-local subscriber (`set_default`) races with other tests' threads
//! registering the same callsites, and a lost race turns the call span off.
#![allow(clippy::result_large_err)] // loyalty_core::Error is large by design

mod common;

use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use common::{capture_trace, client_with, fast_config, serve};
use loyalty_core::{Context, ErrorKind};
use loyalty_http::{Call, OAuth2ClientCredentials, Secret};
use serde_json::json;

const CLIENT_SECRET: &str = "cs-7f3a9e-top-secret";
const ACCESS_TOKEN: &str = "at-91b2c4-bearer-token";

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
    let trace = capture_trace();

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

    let logs = trace.text();
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
