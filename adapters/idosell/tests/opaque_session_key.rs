//! The session key is opaque (contract §3.5 \[I\]: the adapter "treats session keys as opaque
//! strings and never parses them") and travels as XML text in the SOAP body, never in a header.
//! A key outside the RFC 6750 `b64token` alphabet, such as a PHP session id in PHP's own
//! alphabet (`0-9a-zA-Z,-`, `session.sid_bits_per_character = 6`), was refused as "unusable"
//! and every call failed with `Protocol`. It is sent as issued now, escaped as any XML text.
#![cfg(feature = "simulator")]

use loyalty_core::{Context, CourierQuery, ErrorKind, Provider};
use loyalty_idosell::simulated;
use loyalty_sim::idosell::IdosellSettings;

const ENV: &str = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>"#;
const END: &str = "</SOAP-ENV:Body></SOAP-ENV:Envelope>";

fn login(key_xml: &str) -> String {
    format!(
        "{ENV}<ns1:authenticateResponse xmlns:ns1=\"x\"><response><errors><faultCode>0</faultCode>\
         <faultString></faultString></errors><sessionKey>{key_xml}</sessionKey></response>\
         </ns1:authenticateResponse>{END}"
    )
}

fn couriers(code: i64) -> String {
    format!(
        "{ENV}<ns1:getCouriersResponse xmlns:ns1=\"x\"><response><errors><faultCode>{code}</faultCode>\
         <faultString></faultString></errors><results><couriers></couriers></results></response>\
         </ns1:getCouriersResponse>{END}"
    )
}

/// Lists the couriers of a wholesaler that `answer`s (see [`reply_for`]).
async fn couriers_with_key(
    answer: fn(&str, &str, &str) -> (u16, &'static str, String),
) -> loyalty_core::Result<Vec<loyalty_core::Courier>> {
    let base = loyalty_sim::stub::serve(answer).await.unwrap();
    let names = simulated::names_of(&IdosellSettings::default());
    let adapter = loyalty_idosell::IdosellAdapter::new(simulated::config_for(&base, names).unwrap()).unwrap();
    adapter.fulfilment().unwrap().couriers(&Context::new(), &CourierQuery::all()).await
}

/// The wholesaler's reply to `body`: a login issuing `key_xml` (as its reply writes it), and G5
/// answered only when the body carries the key back as `sent` (as the request writes it), a
/// session fault (3) otherwise.
fn reply_for(body: &str, key_xml: &str, sent: &str) -> String {
    if body.contains("systemKey") {
        login(key_xml)
    } else if body.contains(&format!("<sessionKey xsi:type=\"xsd:string\">{sent}</sessionKey>")) {
        couriers(0)
    } else {
        couriers(3)
    }
}

#[tokio::test]
async fn a_php_session_id_outside_the_b64token_alphabet_is_used_as_issued() {
    let got = couriers_with_key(|_, _, body| {
        (200, "text/xml; charset=utf-8", reply_for(body, "Kq3,vZ-9a,Tm1xQ,7b-Lp2", "Kq3,vZ-9a,Tm1xQ,7b-Lp2"))
    })
    .await;
    assert!(got.is_ok(), "an opaque session key was refused: {got:?}");
}

#[tokio::test]
async fn a_key_with_xml_special_characters_goes_back_escaped() {
    // The key is `a&b<c>"d'`: read from the reply's XML, written into the request's escaped.
    let got = couriers_with_key(|_, _, body| {
        (
            200,
            "text/xml; charset=utf-8",
            reply_for(body, "a&amp;b&lt;c&gt;\"d'", "a&amp;b&lt;c&gt;&quot;d&apos;"),
        )
    })
    .await;
    assert!(got.is_ok(), "{got:?}");
}

#[tokio::test]
async fn a_key_no_body_can_carry_is_still_refused() {
    // A key with a line break (a text page where the key should be) or a control character
    // is no key: `Protocol`, sent nowhere.
    let got = couriers_with_key(|_, _, body| {
        (200, "text/xml; charset=utf-8", reply_for(body, "5f2b1c3d\n4e5f6071", "5f2b1c3d\n4e5f6071"))
    })
    .await;
    let err = got.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");
    assert!(err.message().contains("session key in the reply is unusable"), "{err}");
    assert!(!err.message().contains("5f2b1c3d"), "{err}");
}
