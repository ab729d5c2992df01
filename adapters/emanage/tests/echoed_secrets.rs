//! An eManage gateway that quotes the request it refused (its headers, the `X_CID` client id
//! among them) never puts the client id into the error.
#![cfg(feature = "simulator")]

mod common;

use std::time::Duration;

use loyalty_core::{CartId, Context, Provider};
use loyalty_emanage::{CapturePolicy, EmanageAdapter};
use loyalty_sim::emanage::demo;

/// What the stub answers: status, content type and body, from the request line, the header
/// block and the body.
type Answer = fn(&str, &str, &str) -> loyalty_sim::stub::Reply;

/// A vendor on loopback that answers every request with `answer`.
async fn stub(answer: Answer) -> String {
    loyalty_sim::stub::serve(answer).await.unwrap()
}

/// The `{ message }` envelope quoting the request's headers.
fn message(_line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    (
        404,
        "application/json",
        serde_json::json!({ "message": format!("no cart; you sent {headers}") }).to_string(),
    )
}

/// A `modelState` field error quoting the headers.
fn field_error(_line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    let reply =
        serde_json::json!({ "message": "invalid", "modelState": { "cart": [format!("bad {headers}")] } });
    (400, "application/json", reply.to_string())
}

#[tokio::test]
async fn a_client_id_the_vendor_echoes_never_reaches_the_error() {
    for (label, answer) in [("message", message as Answer), ("field error", field_error)] {
        let base = stub(answer).await;
        let config =
            common::config(base.trim_end_matches('/'), Duration::from_secs(5), CapturePolicy::Remainder);
        let adapter = EmanageAdapter::new(config).unwrap();
        let err = adapter.carts().unwrap().get(&Context::new(), &CartId::new("12345")).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("[redacted]"), "{label}: the vendor text is still quoted: {shown}");
        assert!(!shown.contains(demo::CID), "{label}: the client id in {shown}");
    }
}
