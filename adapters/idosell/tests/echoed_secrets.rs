//! A gate that quotes the request it refused (its `authenticate` block, the session and
//! dropshipping keys) never puts a credential into the error or the log.
#![cfg(feature = "simulator")]

mod common;

use common::Captured;

use loyalty_core::{Context, CourierQuery, DropshipOrder, Provider};
use loyalty_idosell::simulated;
use loyalty_sim::idosell::{demo, system_key, IdosellSettings};

const SESSION_KEY: &str = "sess-Zq9-not-hex-session-key";

/// Runs this binary's tests one at a time: a thread-local subscriber (`set_default`) races
/// with another test's thread registering the same callsites, and a lost race leaves the
/// log empty, which would let the log check pass on nothing.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

const ENVELOPE: &str = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>"#;
const END: &str = "</SOAP-ENV:Body></SOAP-ENV:Envelope>";

/// A SOAP Fault quoting the request body from its credentials on.
fn fault(body: &str) -> (u16, String) {
    let at = body.find("systemKey").or_else(|| body.find("sessionKey")).unwrap_or(0);
    let quoted: String = body[at..].chars().take(300).collect();
    let fault = format!(
        "<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>cannot handle {}</faultstring></SOAP-ENV:Fault>",
        esc(&quoted)
    );
    (500, format!("{ENVELOPE}{fault}{END}"))
}

/// An `errors` block (login class) quoting the `authenticate` block it refused.
fn errors_block(body: &str) -> (u16, String) {
    let at = body.find("systemKey").unwrap_or(0);
    let quoted: String = body[at..].chars().take(150).collect();
    let errors = format!(
        "<ns1:authenticateResponse xmlns:ns1=\"x\"><return><errors><faultCode>1</faultCode><faultString>login refused for {}</faultString></errors></return></ns1:authenticateResponse>",
        esc(&quoted)
    );
    (200, format!("{ENVELOPE}{errors}{END}"))
}

/// Logs in (a session key that is no hex digest), then faults quoting the gate's request.
fn logs_in_then_faults(body: &str) -> (u16, String) {
    if body.contains("systemKey") {
        let ok = format!(
            "<ns1:authenticateResponse xmlns:ns1=\"x\"><response><errors><faultCode>0</faultCode><faultString></faultString></errors><sessionKey>{SESSION_KEY}</sessionKey></response></ns1:authenticateResponse>"
        );
        return (200, format!("{ENVELOPE}{ok}{END}"));
    }
    fault(body)
}

/// Answers every request with `make(request_body)`.
async fn stub(make: fn(&str) -> (u16, String)) -> String {
    let answer = move |_: &str, _: &str, body: &str| {
        let (status, reply) = make(body);
        (status, "text/xml; charset=utf-8", reply)
    };
    loyalty_sim::stub::serve(answer).await.unwrap().trim_end_matches('/').to_owned()
}

#[tokio::test]
async fn keys_a_gate_echoes_never_reach_the_error_or_the_log() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let cap = Captured::default();
    let writer = cap.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    );
    let names = simulated::names_of(&IdosellSettings::default());
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Warsaw).date_naive();
    let keys = [
        system_key(demo::PASSWORD_SHA1, today),
        system_key(demo::PASSWORD_SHA1, today.pred_opt().unwrap()),
        demo::PASSWORD_SHA1.to_string(),
        demo::DROPSHIPPING_KEY.to_string(),
        SESSION_KEY.to_string(),
    ];
    let gates = [
        ("login fault", fault as fn(&str) -> (u16, String)),
        ("login errors block", errors_block),
        ("gate fault after login", logs_in_then_faults),
    ];
    for (label, make) in gates {
        let base = stub(make).await;
        let adapter =
            loyalty_idosell::IdosellAdapter::new(simulated::config_for(&base, names.clone()).unwrap())
                .unwrap();
        let err =
            adapter.fulfilment().unwrap().couriers(&Context::new(), &CourierQuery::all()).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("[redacted]"), "{label}: the vendor text is still quoted: {shown}");
        let log = String::from_utf8_lossy(&cap.0.lock().unwrap()).to_string();
        assert!(log.contains("loyalty_http"), "{label}: the subscriber captured no call: {log}");
        for key in &keys {
            assert!(
                !shown.to_lowercase().contains(&key.to_lowercase()),
                "{label}: {key} in the error: {shown}"
            );
            assert!(!log.contains(key.as_str()), "{label}: {key} in the log");
        }
    }
}

/// The text between `<{name}` and its closing tag in a request body.
fn field<'a>(body: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}");
    let Some(at) = body.find(&open) else { return "" };
    let rest = &body[at..];
    let start = rest.find('>').map_or(rest.len(), |i| i + 1);
    let end = rest.find(&format!("</{name}>")).unwrap_or(start);
    &rest[start..end]
}

/// Logs in, then answers G3 with a success whose one line faults quoting the request's session
/// and dropshipping keys (§6.1: per-line faults while the top level says 0), and G7 with
/// nothing found.
fn line_fault_quoting_keys(body: &str) -> (u16, String) {
    if body.contains("systemKey") {
        return logs_in_then_faults(body);
    }
    if body.contains("getOrderStatus") {
        let empty = "<ns1:getOrderStatusResponse xmlns:ns1=\"x\"><response><errors><faultCode>2</faultCode><faultString>nothing found</faultString></errors></response></ns1:getOrderStatusResponse>";
        return (200, format!("{ENVELOPE}{empty}{END}"));
    }
    let quoted = format!(
        "product unknown to account with session {} and key {}",
        field(body, "sessionKey"),
        field(body, "dropshippingKey")
    );
    let reply = format!(
        "<ns1:basketImportResponse xmlns:ns1=\"x\"><response><errors><faultCode>0</faultCode><faultString></faultString></errors><results><products SOAP-ENC:arrayType=\"ns1:productResultType[1]\" xsi:type=\"SOAP-ENC:Array\"><item><code>COF-500</code><faultCode>6</faultCode><faultString>{}</faultString></item></products><basketLines>0</basketLines></results></response></ns1:basketImportResponse>",
        esc(&quoted)
    );
    (200, format!("{ENVELOPE}{reply}{END}"))
}

#[tokio::test]
async fn keys_a_basket_import_line_quotes_inside_a_success_never_reach_the_error() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let names = simulated::names_of(&IdosellSettings::default());
    let base = stub(line_fault_quoting_keys).await;
    let adapter = loyalty_idosell::IdosellAdapter::new(simulated::config_for(&base, names).unwrap()).unwrap();
    let order =
        DropshipOrder::new("SHOP-K1", simulated::demo_recipient(), demo::COURIER_DOMESTIC.to_string())
            .with_line(demo::COFFEE_INTERNAL, rust_decimal::Decimal::from(2));
    let err = adapter.fulfilment().unwrap().place_order(&Context::new(), &order).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("lines[0]"), "the line's refusal: {shown}");
    assert!(shown.contains("with session [redacted] and key [redacted]"), "{shown}");
    for key in [SESSION_KEY, demo::DROPSHIPPING_KEY] {
        assert!(!shown.contains(key), "{key} in the error: {shown}");
    }
}
