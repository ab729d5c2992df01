//! `loyalty_emanage::simulated` gives a ready adapter (feature `simulator`).
#![cfg(feature = "simulator")]

use loyalty_core::{Context, Currency, NewCart, Provider};
use rust_decimal::Decimal;

#[tokio::test]
async fn simulated_adapter_opens_a_cart_on_the_demo_campaign() {
    let (adapter, server) = loyalty_emanage::simulated::start().await.unwrap();
    let cart = adapter
        .carts()
        .unwrap()
        .create(&Context::new(), &NewCart::new(Currency::USD, "918501", Decimal::ONE))
        .await
        .unwrap();
    // The demo campaign's progressive discount: 25 % for one unit (§9.5).
    assert_eq!(cart.total.amount_string(), "75.00");
    assert_eq!(server.handle().journal().count("POST", "/api/shoppingcart/"), 1);
}
