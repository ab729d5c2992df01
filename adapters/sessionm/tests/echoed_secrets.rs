//! A SessionM gateway that quotes the request it refused (its headers, the Basic credentials
//! and API key among them) never puts a credential into the error.
#![cfg(feature = "simulator")]

mod common;

use std::time::Duration;

use loyalty_core::{Context, MemberId, Provider};
use loyalty_sessionm::SessionmAdapter;
use loyalty_sim::sessionm::demo;

/// What the stub answers: status, content type and body, from the request line, the header
/// block and the body.
type Answer = fn(&str, &str, &str) -> loyalty_sim::stub::Reply;

/// A vendor on loopback that answers every request with `answer`.
async fn stub(answer: Answer) -> String {
    loyalty_sim::stub::serve(answer).await.unwrap()
}

/// A 404 whose message quotes the request's headers.
fn not_found(line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    let reply = serde_json::json!({ "status": "error", "errors": { "code": "not_found", "message": format!("no user for {line} {headers}") } });
    (404, "application/json", reply.to_string())
}

/// A validation error whose field message quotes the headers.
fn field_error(_line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    let reply =
        serde_json::json!({ "status": "error", "errors": { "user": { "id": [format!("bad {headers}")] } } });
    (422, "application/json", reply.to_string())
}

/// A body that is no JSON, quoting the headers.
fn garbage(_line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    (400, "text/plain", format!("<html>refused {headers}</html>"))
}

#[tokio::test]
async fn credentials_the_vendor_echoes_never_reach_the_error() {
    let secrets = [demo::POS_SECRET, demo::CONNECT_SECRET, demo::API_KEY, demo::S2S_SECRET, "Basic "];
    for (label, answer) in
        [("not found", not_found as Answer), ("field error", field_error), ("garbage", garbage)]
    {
        let base = stub(answer).await;
        let adapter = SessionmAdapter::new(common::config(&base, Duration::from_secs(5))).unwrap();
        let err =
            adapter.members().unwrap().get(&Context::new(), &MemberId::new("user-1")).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("[redacted]"), "{label}: the vendor text is still quoted: {shown}");
        for secret in secrets {
            assert!(!shown.contains(secret), "{label}: {secret:?} in {shown}");
        }
    }
}
