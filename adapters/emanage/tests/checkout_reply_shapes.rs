//! §6.3 lists `paymentContinueResult: { actionUrl }` "(3-D Secure or other
//! continuation; empty string when none)". A successful card checkout whose reply carries no
//! continuation as an empty string must read as paid, not as an unreadable reply.
#![cfg(feature = "simulator")]

mod common;

use std::time::Duration;

use loyalty_core::{CartCheckout, CartId, Context, Provider};
use loyalty_emanage::{CapturePolicy, EmanageAdapter};
use loyalty_sim::emanage::demo;

const PRICES: &str = r#"{"prices":[{"productId":918325,"productPrices":{"DiscountedPrice":{"Value":100}},"shippings":[{"shippingMethodId":145,"price":0}]}]}"#;
const CART: &str = r#"{"products":[{"productId":918325,"productName":"Glow Serum","price":100,"quantity":1,"shippingPrice":0}]}"#;

fn vendor(line: &str, _headers: &str, _body: &str) -> loyalty_sim::stub::Reply {
    let body = if line.starts_with("GET") && line.contains("/products/prices") {
        PRICES.to_string()
    } else if line.starts_with("GET") {
        CART.to_string()
    } else {
        // A paid card checkout: no redirect, no continuation (the empty string of §6.3).
        r#"{"success":true,"orderNumber":"10000002","shoppingCartNumber":20000001,"cardId":3,
            "callBackUrl":null,"paymentContinueResult":"","descriptor":"DEMO"}"#
            .to_string()
    };
    (200, "application/json", body)
}

#[tokio::test]
async fn a_paid_checkout_whose_continuation_is_an_empty_string_is_paid() {
    let base = loyalty_sim::stub::serve(vendor).await.unwrap();
    let mut config =
        common::config(base.trim_end_matches('/'), Duration::from_secs(5), CapturePolicy::Remainder);
    config.test_mode = true;
    let adapter = EmanageAdapter::new(config).unwrap();
    let cart = CartId::new("3f6c1b2e-8a4d-4c7f-9e2b-5d1a0c8e7f63");
    let answer =
        adapter.carts().unwrap().checkout(&Context::new(), &cart, &common::card(demo::PAN_APPROVE)).await;
    match answer {
        Ok(CartCheckout::Paid(order)) => assert_eq!(order.order_id.as_str(), "20000001"),
        other => panic!("a charged checkout must read as paid, got {other:?}"),
    }
}
