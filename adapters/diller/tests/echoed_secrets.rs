//! A Diller gateway that quotes the request it refused (its headers, the bearer token among
//! them) never puts a credential into the error.
#![cfg(feature = "simulator")]

mod common;

use std::time::Duration;

use loyalty_core::{Context, MemberId, Provider};
use loyalty_diller::DillerAdapter;
use loyalty_sim::diller::demo;

const ACCESS_TOKEN: &str = "at-Diller-echoed-bearer-0042";

/// What the stub answers: status, content type and body, from the request line, the header
/// block and the body.
type Answer = fn(&str, &str, &str) -> loyalty_sim::stub::Reply;

/// A vendor on loopback that answers every request with `answer`.
async fn stub(answer: Answer) -> String {
    loyalty_sim::stub::serve(answer).await.unwrap()
}

fn token_or(line: &str, refusal: (u16, &'static str, String)) -> (u16, &'static str, String) {
    if line.contains("/connect/token") {
        let token =
            serde_json::json!({ "access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600 });
        return (200, "application/json", token.to_string());
    }
    refusal
}

/// A problem-details 400 whose `detail` quotes the request's headers.
fn problem(line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    let detail = format!("request refused: {line} {headers}");
    let problem = serde_json::json!({ "title": "Bad Request", "status": 400, "detail": detail });
    token_or(line, (400, "application/problem+json", problem.to_string()))
}

/// A field error quoting the headers (the `errors` map of a problem).
fn field_error(line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    let problem = serde_json::json!({ "title": "Bad Request", "status": 400, "errors": { "member": [format!("bad {headers}")] } });
    token_or(line, (400, "application/problem+json", problem.to_string()))
}

/// A body that is no JSON, quoting the headers.
fn garbage(line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    token_or(line, (400, "text/plain", format!("<html>refused {headers}</html>")))
}

#[tokio::test]
async fn a_bearer_token_the_vendor_echoes_never_reaches_the_error() {
    for (label, answer) in
        [("problem", problem as Answer), ("field error", field_error), ("garbage", garbage)]
    {
        let base = stub(answer).await;
        let adapter = DillerAdapter::new(common::config(&base, Duration::from_secs(5))).unwrap();
        let err = adapter
            .members()
            .unwrap()
            .get(&Context::new(), &MemberId::new(demo::MEMBER_ID))
            .await
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("[redacted]"), "{label}: the vendor text is still quoted: {shown}");
        for secret in [ACCESS_TOKEN, demo::CLIENT_SECRET, "Bearer "] {
            assert!(!shown.contains(secret), "{label}: {secret:?} in {shown}");
        }
    }
}
