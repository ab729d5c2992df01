//! A Basic user name that is a key (SessionM Core's API key: the Basic user and a segment of
//! the base path marked secret) never shows: not in trace logs, not in the error, not in the
//! client's `Debug` (which shows the auth strategy). Its own binary, like `redaction_logs`:
//! a thread-local subscriber races with other tests registering the same callsites.
#![allow(clippy::result_large_err)] // loyalty_core::Error is large by design

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use common::{capture_trace, fast_config, serve};
use loyalty_core::Context;
use loyalty_http::{default_classify, BasicAuth, Call, HttpClient, Secret};

const KEY: &str = "corekey9f8e7d6c";
const PASSWORD: &str = "s2s-pass-4b3a";

#[tokio::test(flavor = "current_thread")]
async fn a_basic_user_that_is_a_key_never_shows_in_debug_errors_or_trace_logs() {
    let trace = capture_trace();

    let router = Router::new()
        .route(&format!("/priv/v1/apps/{KEY}/users/1"), get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .route(&format!("/priv/v1/apps/{KEY}/users"), post(|| async { "{}" }));
    let base = serve(router).await;
    let core = base.join(&format!("priv/v1/apps/{KEY}")).unwrap();
    let http = HttpClient::new(
        "test",
        fast_config(core).with_secret_base_path().with_max_attempts(2),
        Arc::new(BasicAuth::new(KEY, Secret::new(PASSWORD))),
        Arc::new(default_classify),
    )
    .unwrap();
    let err = http.send(&Context::new(), Call::get("members.get", "/users/1")).await.unwrap_err();
    http.send(&Context::new(), Call::post("members.create", "/users").json(serde_json::json!({})))
        .await
        .unwrap();
    let logs = trace.text();
    assert!(logs.contains("loyalty_http.call"), "nothing captured:\n{logs}");
    for text in [logs, format!("{err} {err:?}"), format!("{http:?}")] {
        assert!(!text.contains(KEY), "the API key leaked:\n{text}");
        assert!(!text.contains(PASSWORD), "the password leaked:\n{text}");
    }
}
