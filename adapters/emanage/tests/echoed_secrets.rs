//! An eManage gateway that quotes the request it refused (its headers, the `X_CID` client id
//! among them) never puts the client id into the error; a checkout reply quoting the request
//! (a decline naming the card, a refusal) never passes on the card number, CVV or client id.
#![cfg(feature = "simulator")]

mod common;

use std::time::Duration;

use loyalty_core::{CartCheckout, CartId, Context, Provider};
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

const PRICES: &str = r#"{"prices":[{"productId":918325,"productPrices":{"DiscountedPrice":{"Value":100}},"shippings":[{"shippingMethodId":145,"price":0}]}]}"#;
const CART: &str = r#"{"products":[{"productId":918325,"productName":"Glow Serum","price":100,"quantity":1,"shippingPrice":0}]}"#;

/// A vendor whose checkout answers `status` with a `message` quoting the whole request, its
/// headers (the client id) and body (the card); the reads before it answer as usual.
fn echoing_checkout(line: &str, headers: &str, body: &str, status: u16) -> loyalty_sim::stub::Reply {
    let reply = if line.starts_with("GET") && line.contains("/products/prices") {
        (200, PRICES.to_string())
    } else if line.starts_with("GET") {
        (200, CART.to_string())
    } else {
        let message = format!("Card declined. You sent {body} with {headers}");
        (status, serde_json::json!({ "success": false, "message": message, "orderNumber": null }).to_string())
    };
    (reply.0, "application/json", reply.1)
}

/// A checkout of a card on an adapter pointed at the stub `answer`.
async fn checkout_against(answer: Answer) -> loyalty_core::Result<CartCheckout> {
    let base = stub(answer).await;
    let mut config =
        common::config(base.trim_end_matches('/'), Duration::from_secs(5), CapturePolicy::Remainder);
    config.test_mode = true;
    let adapter = EmanageAdapter::new(config).unwrap();
    let cart = CartId::new("3f6c1b2e-8a4d-4c7f-9e2b-5d1a0c8e7f63");
    adapter.carts().unwrap().checkout(&Context::new(), &cart, &common::card(demo::PAN_DECLINE)).await
}

/// `shown` quotes the vendor (redacted) and none of the checkout's secrets.
fn assert_clean(label: &str, shown: &str) {
    assert!(shown.contains("[redacted]"), "{label}: the vendor text is not quoted: {shown}");
    assert!(shown.contains("Card declined"), "{label}: the vendor text is not quoted: {shown}");
    for (what, secret) in [("card number", demo::PAN_DECLINE), ("client id", demo::CID)] {
        assert!(!shown.contains(secret), "{label}: the {what} in {shown}");
    }
    // The CVV is three digits: only its place in the echoed body can show it is gone.
    assert!(!shown.contains(&format!("\"cvv\":\"{}\"", demo::CARD_CVV)), "{label}: the CVV in {shown}");
}

#[tokio::test]
async fn a_decline_quoting_the_card_and_the_client_id_reaches_the_caller_redacted() {
    let answer = checkout_against(|l, h, b| echoing_checkout(l, h, b, 200)).await.unwrap();
    let CartCheckout::Declined { reason } = &answer else { panic!("expected a decline, got {answer:?}") };
    assert_clean("decline", reason);
}

#[tokio::test]
async fn a_checkout_refusal_quoting_the_card_never_carries_it_into_the_error() {
    let err = checkout_against(|l, h, b| echoing_checkout(l, h, b, 400)).await.unwrap_err();
    assert_clean("refusal", &format!("{err} {err:?}"));
}

/// A 200 whose fields quote the request where a value belongs (`success` and `orderNumber`
/// carrying the card number and the client id): the decoder's message, which quotes the value
/// it refused, reaches the caller redacted.
#[tokio::test]
async fn an_unreadable_checkout_reply_quoting_the_card_never_carries_it_into_the_error() {
    fn quoting(line: &str, headers: &str, body: &str) -> loyalty_sim::stub::Reply {
        if line.starts_with("GET") {
            return echoing_checkout(line, headers, body, 200);
        }
        let reply = serde_json::json!({ "success": demo::PAN_DECLINE, "orderNumber": { "cid": demo::CID } });
        (200, "application/json", reply.to_string())
    }
    let err = checkout_against(quoting).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("success") && shown.contains("[redacted]"),
        "the refused value is not named: {shown}"
    );
    for (what, secret) in [("card number", demo::PAN_DECLINE), ("client id", demo::CID)] {
        assert!(!shown.contains(secret), "the {what} in {shown}");
    }
}
