//! G2 `checkAvailability` reply shapes the contract documents (idosell.md §5 G2,
//! "Response [I]: overall verdict (available / not); per line: echo of code+codeType, requested
//! quantity, available quantity **or** availability flag, reason when not available").
#![cfg(feature = "simulator")]

use loyalty_core::{Context, OrderLine, Provider, Shortfall};
use loyalty_idosell::simulated;
use loyalty_sim::idosell::IdosellSettings;
use rust_decimal::Decimal;

const ENV: &str = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>"#;
const END: &str = "</SOAP-ENV:Body></SOAP-ENV:Envelope>";

fn login() -> String {
    format!(
        "{ENV}<ns1:authenticateResponse xmlns:ns1=\"x\"><response><errors><faultCode>0</faultCode>\
         <faultString></faultString></errors><sessionKey>abc123</sessionKey></response>\
         </ns1:authenticateResponse>{END}"
    )
}

fn g2(products: &str) -> String {
    format!(
        "{ENV}<ns1:checkAvailabilityResponse xmlns:ns1=\"x\"><response><errors><faultCode>0</faultCode>\
         <faultString></faultString></errors><results><available>true</available><products>{products}</products>\
         </results></response></ns1:checkAvailabilityResponse>{END}"
    )
}

async fn stock_with(
    answer: fn(&str, &str, &str) -> (u16, &'static str, String),
    lines: &[OrderLine],
) -> loyalty_core::Result<Vec<loyalty_core::StockLevel>> {
    let base = loyalty_sim::stub::serve(answer).await.unwrap();
    let names = simulated::names_of(&IdosellSettings::default());
    let adapter = loyalty_idosell::IdosellAdapter::new(simulated::config_for(&base, names).unwrap()).unwrap();
    adapter.fulfilment().unwrap().stock(&Context::new(), lines).await
}

/// A wholesaler that answers each line with the availability flag only (no quantity): the goods
/// are available. Reading the missing quantity as 0 reported `Insufficient`, so a checkout
/// refused (or never placed) an order the wholesaler could supply.
#[tokio::test]
async fn a_line_answered_available_by_flag_only_is_available() {
    let levels = stock_with(
        |_, _, body| {
            let reply = if body.contains("systemKey") {
                login()
            } else {
                g2("<product><code>COF-1</code><codeType>internal</codeType><quantity>2</quantity>\
                    <available>true</available></product>")
            };
            (200, "text/xml; charset=utf-8", reply)
        },
        &[OrderLine::new("COF-1", Decimal::from(2))],
    )
    .await
    .expect("stock answers");
    assert_eq!(levels.len(), 1);
    assert!(
        levels[0].sufficient(),
        "the wholesaler said available=true for the line, yet the adapter reports {:?} (available {})",
        levels[0].shortfall,
        levels[0].available
    );
}

/// The lines are answered with their echoed code (contract: "per line: echo of code+codeType"),
/// but not in the order sent: each result goes to the line of its code. Paired by position, one
/// product's stock was reported for the other.
#[tokio::test]
async fn lines_are_matched_by_their_echoed_code_not_by_position() {
    let levels = stock_with(
        |_, _, body| {
            let reply = if body.contains("systemKey") {
                login()
            } else {
                g2("<product><code>TEA-1</code><codeType>internal</codeType><quantity>5</quantity>\
                      <availableQuantity>0</availableQuantity><available>false</available>\
                      <faultCode>7</faultCode><faultString>brak</faultString></product>\
                    <product><code>COF-1</code><codeType>internal</codeType><quantity>1</quantity>\
                      <availableQuantity>40</availableQuantity><available>true</available></product>")
            };
            (200, "text/xml; charset=utf-8", reply)
        },
        &[OrderLine::new("COF-1", Decimal::from(1)), OrderLine::new("TEA-1", Decimal::from(5))],
    )
    .await
    .expect("stock answers");
    assert_eq!(levels[0].product_id.as_str(), "COF-1");
    assert!(levels[0].sufficient(), "COF-1 (40 available) reported {:?}", levels[0]);
    assert_eq!(levels[1].shortfall, Some(Shortfall::Insufficient), "TEA-1 reported {:?}", levels[1]);
}

/// A result echoing a code no line was sent with is refused, naming it, rather than given to
/// the line at its position.
#[tokio::test]
async fn a_result_echoing_no_line_sent_is_a_protocol_error_naming_it() {
    let err = stock_with(
        |_, _, body| {
            let reply = if body.contains("systemKey") {
                login()
            } else {
                g2("<product><code>OTHER-9</code><codeType>internal</codeType><quantity>1</quantity>\
                      <availableQuantity>40</availableQuantity><available>true</available></product>")
            };
            (200, "text/xml; charset=utf-8", reply)
        },
        &[OrderLine::new("COF-1", Decimal::from(1))],
    )
    .await
    .expect_err("a reply about another product");
    assert_eq!(*err.kind(), loyalty_core::ErrorKind::Protocol, "{err}");
    assert!(err.message().contains("results.products[0].code"), "{err}");
}
