//! The 401 repeat with fresh credentials follows the call's retry class and the effect the
//! classifier gives the 401 (docs/architecture.md, loyalty-http: the retry layer reads the
//! temporary flag and the effect, and retries only idempotent calls or calls the vendor
//! rejected before acting).
//! A charge (`Retry::Unsent`) answered 401 goes to the caller and is sent once; a write whose
//! 401 may have come after the vendor acted (`Unknown`) is sent once; a write refused before
//! acting and a read are repeated once with a fresh token.
#![allow(clippy::result_large_err)] // loyalty_core::Error is large by design

mod common;

use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use common::{fast_config, serve, Counter};
use loyalty_core::{Context, ErrorKind, WriteEffect};
use loyalty_http::{
    default_classify, Call, Classifier, ClassifyInput, HttpClient, OAuth2ClientCredentials, Retry, Secret,
};
use serde_json::json;
use url::Url;

/// A token endpoint issuing `tok-<n>`, and `/api/charge` refusing `tok-1` with a 401 and
/// taking any later token.
fn vendor(tokens: Counter, charges: Counter) -> Router {
    Router::new()
        .route(
            "/oauth/token",
            post(move || {
                let tokens = tokens.clone();
                async move {
                    let n = tokens.hit();
                    Json(json!({ "access_token": format!("tok-{n}"), "expires_in": 3600 }))
                }
            }),
        )
        .route(
            "/api/charge",
            post(move |headers: HeaderMap| {
                let charges = charges.clone();
                async move {
                    charges.hit();
                    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
                    if auth == Some("Bearer tok-1") {
                        StatusCode::UNAUTHORIZED.into_response()
                    } else {
                        (StatusCode::OK, "charged").into_response()
                    }
                }
            }),
        )
}

fn http(base: Url, classify: Classifier) -> HttpClient {
    let auth = Arc::new(OAuth2ClientCredentials::new(
        "test",
        base.join("oauth/token").unwrap(),
        "client-1",
        Secret::new("s3cret"),
    ));
    HttpClient::new("test", fast_config(base), auth, classify).unwrap()
}

fn charge(retry: Retry) -> Call {
    Call::post("payments.charge", "/api/charge").json(json!({ "amount": 100 })).retry(retry)
}

/// A vendor whose 401 may come after it acted: its classifier says so with the effect.
fn unknown_401() -> Classifier {
    Arc::new(|input: &ClassifyInput<'_>| {
        default_classify(input)
            .map(|e| if input.status == 401 { e.with_effect(WriteEffect::Unknown) } else { e })
    })
}

#[tokio::test]
async fn an_unsent_only_write_answered_401_goes_to_the_caller_and_is_sent_once() {
    let (tokens, charges) = (Counter::default(), Counter::default());
    let base = serve(vendor(tokens.clone(), charges.clone())).await;
    let http = http(base, Arc::new(default_classify));
    // Rejected before acting by the default classifier, but a `Retry::Unsent` call (a charge
    // behind eManage's gate) is repeated only when it was never sent: the answer is the caller's.
    let err = http.send(&Context::new(), charge(Retry::Unsent)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized);
    assert_eq!(err.attempts(), 1);
    assert_eq!(charges.get(), 1, "a charge answered 401 was sent again by the transport");
    // The refused token was forgotten: the caller's own repeat carries a fresh one.
    http.send(&Context::new(), charge(Retry::Unsent)).await.unwrap();
    assert_eq!((tokens.get(), charges.get()), (2, 2));
}

#[tokio::test]
async fn a_write_whose_401_may_have_been_acted_on_is_sent_once() {
    let (tokens, charges) = (Counter::default(), Counter::default());
    let base = serve(vendor(tokens, charges.clone())).await;
    let http = http(base, unknown_401());
    let err = http.send(&Context::new(), charge(Retry::Write)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized);
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert_eq!(charges.get(), 1, "a write the classifier says may have been acted on was repeated");
}

#[tokio::test]
async fn a_write_refused_before_acting_is_repeated_once_with_a_fresh_token() {
    let (tokens, charges) = (Counter::default(), Counter::default());
    let base = serve(vendor(tokens.clone(), charges.clone())).await;
    let http = http(base, Arc::new(default_classify));
    let reply = http.send(&Context::new(), charge(Retry::Write)).await.unwrap();
    assert_eq!(reply.text(), "charged");
    assert_eq!((tokens.get(), charges.get()), (2, 2));
}

#[tokio::test]
async fn reads_and_idempotent_writes_are_repeated_whatever_the_401_effect() {
    for retry in [Retry::Read, Retry::IdempotentWrite] {
        let (tokens, charges) = (Counter::default(), Counter::default());
        let base = serve(vendor(tokens.clone(), charges.clone())).await;
        let http = http(base, unknown_401());
        let reply = http.send(&Context::new(), charge(retry)).await.unwrap();
        assert_eq!(reply.text(), "charged", "{retry:?}");
        assert_eq!((tokens.get(), charges.get()), (2, 2), "{retry:?}");
    }
}
