//! Credentials a vendor echoes in an escaped spelling (PHP's `\/`, `\u002f`, entities, percent
//! escapes) never reach the error, nor does the start of one an earlier cut split.
#![allow(clippy::result_large_err)]

mod common;

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use common::{fast_config, serve};
use loyalty_core::{Context, Error, ErrorKind};
use loyalty_http::{redact, redact_error, Call, ClassifyInput, HttpClient, NoAuth};

/// A base64 key: slashes and a plus, as API keys and Basic tokens have.
const KEY: &str = "ak/7Qx+9/Zr==";

/// A vendor that refuses every call quoting the `X-Api-Key` it got, spelled by `spell`.
fn echoing(spell: fn(&str) -> String) -> Router {
    Router::new().route(
        "/orders",
        post(move |headers: HeaderMap| async move {
            let key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let body = format!("{{\"detail\":\"refused key {}\",\"code\":\"{}\"}}", spell(&key), spell(&key));
            (StatusCode::BAD_REQUEST, [("content-type", "application/json")], body).into_response()
        }),
    )
}

/// Reads the `detail` and `code` the way a JSON decoder does (escapes undone) into the error.
fn decoding_classify(input: &ClassifyInput<'_>) -> Option<Error> {
    let value = serde_json::from_slice::<serde_json::Value>(input.body).ok()?;
    Some(
        Error::new(ErrorKind::Rejected, input.provider, input.operation)
            .with_vendor_code(value["code"].as_str()?)
            .with_message(loyalty_http::excerpt(value["detail"].as_str()?)),
    )
}

async fn refusal(spell: fn(&str) -> String, classify: loyalty_http::Classifier) -> Error {
    let base = serve(echoing(spell)).await;
    let http = HttpClient::new("test", fast_config(base), Arc::new(NoAuth), classify).unwrap();
    let call = Call::post("orders.place", "/orders").sensitive_header("X-Api-Key", KEY);
    http.send(&Context::new(), call).await.unwrap_err()
}

fn php_slashes(key: &str) -> String {
    key.replace('/', "\\/")
}

fn unicode_slashes(key: &str) -> String {
    key.replace('/', "\\u002F").replace('+', "\\u002b")
}

fn mixed(key: &str) -> String {
    // One encoder's escapes next to another's: `\/` for the first slash, `\u002f` after.
    key.replacen('/', "\\/", 1).replace('/', "\\u002f")
}

#[tokio::test]
async fn a_key_echoed_with_escaped_slashes_never_reaches_the_error() {
    for spell in [php_slashes as fn(&str) -> String, unicode_slashes, mixed] {
        let err = refusal(spell, Arc::new(decoding_classify)).await;
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(KEY), "{KEY} leaked into: {shown}");
        assert!(!shown.contains("7Qx"), "part of {KEY} leaked into: {shown}");
        assert!(shown.contains("refused key [redacted]"), "{shown}");
        assert_eq!(err.vendor_code(), Some("[redacted]"));
    }
}

#[test]
fn every_escaped_spelling_of_a_secret_is_found() {
    for body in [
        r#"{"d":"ak\/7Qx+9\/Zr=="}"#,
        r#"{"d":"ak\u002f7Qx\u002B9\u002FZr\u003d="}"#,
        "<d>ak&#47;7Qx&#x2B;9&#X2f;Zr==</d>",
        "key=ak%2F7Qx%2B9%2fZr%3D%3D",
        "AK/7QX+9/ZR==",
    ] {
        let out = redact(body, &[KEY]);
        assert!(
            out.contains("[redacted]") && !out.contains("7Qx") && !out.contains("7QX"),
            "{body} -> {out}"
        );
    }
    // A backslash in the secret: its escaped and unescaped spellings both match, the longer wins.
    assert_eq!(redact(r#"{"d":"a\\b\\\\c"}"#, &["a\\b\\\\c"]), r#"{"d":"[redacted]"}"#);
    assert_eq!(redact("x a\\b y", &["a\\b"]), "x [redacted] y");
}

#[test]
fn an_error_is_cleared_of_secrets_in_its_message_code_and_reason() {
    let err = Error::invalid("p", "o", "body", "refused ak/7Qx+9/Zr==")
        .with_vendor_code(KEY)
        .with_message(format!("key {KEY} refused"))
        .with_attempts(3);
    let clean = redact_error(err, &[KEY]);
    assert_eq!(
        clean.kind(),
        &ErrorKind::Invalid { field: "body".into(), reason: "refused [redacted]".into() }
    );
    assert_eq!(clean.vendor_code(), Some("[redacted]"));
    assert_eq!(clean.message(), "key [redacted] refused");
    assert_eq!(clean.attempts(), 3);
}

/// Refuses with a body whose envelope spells the key: once the key is cleared the classifier
/// finds no error, so the transport keeps its first verdict.
fn envelope_is_the_key() -> Router {
    Router::new().route(
        "/orders",
        post(|| async move {
            let body = format!("{}{KEY}{}", "x".repeat(195), "y".repeat(50));
            (StatusCode::BAD_REQUEST, body).into_response()
        }),
    )
}

/// An error only while the body holds the key; its message quotes the body cut at 200
/// characters, which splits the key.
fn cut_classify(input: &ClassifyInput<'_>) -> Option<Error> {
    let text = String::from_utf8_lossy(input.body);
    text.contains(KEY).then(|| {
        Error::new(ErrorKind::Rejected, input.provider, input.operation)
            .with_message(loyalty_http::excerpt(&text))
    })
}

#[tokio::test]
async fn a_secret_split_by_the_first_cut_shows_no_part_once_the_first_verdict_is_kept() {
    let base = serve(envelope_is_the_key()).await;
    let http = HttpClient::new("test", fast_config(base), Arc::new(NoAuth), Arc::new(cut_classify)).unwrap();
    let call = Call::post("orders.place", "/orders").sensitive_header("X-Api-Key", KEY);
    let err = http.send(&Context::new(), call).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Rejected);
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("ak/7Q"), "the start of the key shows: {shown}");
    assert!(shown.contains("xxxxx[reda"), "the cleared reply is quoted: {shown}");
}
