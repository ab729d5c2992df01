//! A path segment of `.` or `..` (an id a caller chose) is refused before sending: URL
//! resolution would remove it and send the call to another resource.
#![allow(clippy::result_large_err)] // loyalty_core::Error is large by design

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::Router;
use common::{client, fast_config, serve};
use loyalty_core::{Context, ErrorKind, WriteEffect};
use loyalty_http::{encode_segment, Call, Retry};

/// A server that records every path it is asked for and answers 200.
async fn recording() -> (url::Url, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let router = Router::new().fallback(move |req: Request| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(req.uri().path().to_owned());
            "{}"
        }
    });
    (serve(router).await, seen)
}

#[tokio::test]
async fn a_dot_segment_in_any_spelling_is_refused_and_nothing_is_sent() {
    let (base, seen) = recording().await;
    let http = client(fast_config(base.join("stores/S/").unwrap()));
    let ctx = Context::new();
    for id in ["..", ".", "%2E%2E", "%2e%2E", ".%2e", "%2E", "%2e."] {
        for call in [
            Call::get("offers.list", format!("/members/{id}/coupons")),
            Call::put("members.update", format!("/members/{id}")).json(serde_json::json!({})),
            Call::post("transactions.cancel", format!("/transactions/{id}/cancel")).retry(Retry::Write),
        ] {
            let path = call.path.clone();
            let err = http.send(&ctx, call).await.expect_err(&path);
            match err.kind() {
                ErrorKind::Invalid { field, reason } => {
                    assert_eq!(field, "path", "{path}");
                    assert!(reason.contains('.'), "the reason names the segment: {reason}");
                }
                other => panic!("{path}: {other:?}"),
            }
            assert_eq!(err.effect(), WriteEffect::NotSent, "{path}");
        }
    }
    // encode_segment keeps dots, so an adapter's encoded id is refused the same way.
    let encoded = Call::get("members.get", format!("/members/{}", encode_segment("..")));
    assert!(http.send(&ctx, encoded).await.is_err());
    assert!(seen.lock().unwrap().is_empty(), "sent: {:?}", seen.lock().unwrap());
}

#[tokio::test]
async fn ids_that_only_contain_dots_are_sent_within_their_resource() {
    let (base, seen) = recording().await;
    let http = client(fast_config(base.join("stores/S/").unwrap()));
    let ctx = Context::new();
    for id in ["...", "a..b", ".hidden", "1.0"] {
        let call = Call::get("members.get", format!("/members/{}", encode_segment(id)));
        http.send(&ctx, call).await.unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "/stores/S/members/...",
            "/stores/S/members/a..b",
            "/stores/S/members/.hidden",
            "/stores/S/members/1.0"
        ]
    );
}
