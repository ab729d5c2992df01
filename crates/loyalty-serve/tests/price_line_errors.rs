//! `POST /v1/price` refuses a basket too large to price naming the line and field at fault, as
//! it does for a negative quantity (docs/pricing.md: "a malformed amount names the line and
//! field"; docs/serve.md: "`invalid` adds `field` and `reason`"): the quantity when one line
//! alone holds more units than a basket may, the unit price when a line within that limit is
//! worth more than minor units hold. Only units spread over several lines are `basket.lines`.

use std::sync::Arc;

use loyalty_config::Opened;
use loyalty_core::checkout::MemoryCheckoutStore;
use loyalty_memory::demo;
use loyalty_serve::{router, ApiKey, ServeSettings};
use reqwest::Client;
use serde_json::{json, Value};

const KEY: &str = "test-key-0123456789abcdef";

async fn post_price(body: Value) -> (u16, Value) {
    let provider = Arc::new(loyalty_memory::MemoryProvider::demo());
    let opened = Opened::new(provider, Arc::new(MemoryCheckoutStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(opened, ServeSettings::new(ApiKey::new(KEY).unwrap()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let r = Client::new()
        .post(format!("http://{addr}/v1/price"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// A coffee at 129.00, then a mug line with the quantity and unit price (minor units) given.
fn basket(quantity: &str, minor: i64) -> Value {
    let line = |id: &str, product: &str, name: &str, quantity: &str, minor: i64| {
        json!({"line_id": id, "product_id": product, "sku": null, "name": name, "quantity": quantity,
               "unit_price": {"minor": minor, "currency": "NOK"}, "tax_rate": null})
    };
    json!({"currency": "NOK", "lines": [
        line("1", demo::PRODUCT_COFFEE, "Coffee", "1", 12900),
        line("2", demo::PRODUCT_MUG, "Mug", quantity, minor),
    ]})
}

#[tokio::test]
async fn a_negative_quantity_names_the_line_and_quantity() {
    // The refusal the others match.
    let (status, p) = post_price(json!({"basket": basket("-2", 9900)})).await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["field"], "basket.lines[1].quantity", "{p}");
}

#[tokio::test]
async fn a_quantity_too_large_to_price_names_the_line_and_quantity() {
    // 10^20 units of 99.00: no count of units the engine can hold.
    let (status, p) = post_price(json!({"basket": basket("100000000000000000000", 9900)})).await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["field"], "basket.lines[1].quantity", "{p}");
}

#[tokio::test]
async fn a_quantity_over_the_unit_limit_names_the_line_and_quantity() {
    // One line of a million units (a weight typed as grams): more than MAX_UNITS.
    let (status, p) = post_price(json!({"basket": basket("1000000", 100)})).await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["field"], "basket.lines[1].quantity", "{p}");
}

#[tokio::test]
async fn a_line_whose_gross_overflows_names_its_unit_price() {
    // Two units at i64::MAX minor units: within the unit limit, so the price is at fault.
    let (status, p) = post_price(json!({"basket": basket("2", i64::MAX)})).await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["field"], "basket.lines[1].unit_price", "{p}");
}
