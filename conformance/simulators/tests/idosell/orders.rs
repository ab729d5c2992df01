//! G4 `placeOrder`, G7 `getOrderStatus` and the order lifecycle (§5, §9.2; checklist 15–17).

use loyalty_sim::idosell::{demo, DuplicateReference, Gateway};
use rust_decimal::Decimal;

use super::support::*;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[tokio::test]
async fn place_order_with_an_empty_basket_answers_9() {
    // Checklist 15.
    let t = sim().await;
    let r = t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_DOMESTIC, Some("SHOP-1"))).await;
    assert_eq!(r.fault_code(), 9);
}

#[tokio::test]
async fn a_courier_not_serving_the_address_answers_8() {
    // Checklist 15: the G6 rule (country).
    let t = sim().await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    let r = t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_INTERNATIONAL, None)).await;
    assert_eq!(r.fault_code(), 8);
    let r = t.call(Gateway::PlaceOrder, &order(RECIPIENT_DE, demo::COURIER_DOMESTIC, None)).await;
    assert_eq!(r.fault_code(), 8);
    assert_eq!(
        t.call(Gateway::PlaceOrder, &order(RECIPIENT_DE, demo::COURIER_INTERNATIONAL, None))
            .await
            .fault_code(),
        0
    );
}

#[tokio::test]
async fn a_courier_excluded_for_the_basket_answers_8() {
    // Checklist 15: the G6 rule (product exclusion).
    let t = sim().await;
    t.import(&[line(demo::MUG_INTERNAL, "internal", "1")]).await;
    let r = t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_PICKUP, None)).await;
    assert_eq!(r.fault_code(), 8);
    assert_eq!(t.probe.basket(demo::LOGIN).unwrap().len(), 1, "a refused order keeps the basket");
}

#[tokio::test]
async fn an_unknown_courier_answers_8() {
    let t = sim().await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    assert_eq!(t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, 999, None)).await.fault_code(), 8);
}

#[tokio::test]
async fn cash_on_delivery_with_a_courier_without_it_answers_8() {
    let t = sim().await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    let p = params(&format!(
        "{RECIPIENT_DE}<delivery><courierId>{}</courierId><cashOnDelivery>99.90</cashOnDelivery></delivery>{BILLING}",
        demo::COURIER_INTERNATIONAL
    ));
    assert_eq!(t.call(Gateway::PlaceOrder, &p).await.fault_code(), 8);
}

#[tokio::test]
async fn the_pickup_courier_needs_a_pickup_point() {
    let t = sim().await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    let p = params(&format!(
        "{RECIPIENT_PL}<delivery><courierId>{}</courierId></delivery>{BILLING}",
        demo::COURIER_PICKUP
    ));
    assert_eq!(t.call(Gateway::PlaceOrder, &p).await.fault_code(), 5);
    assert_eq!(
        t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_PICKUP, None)).await.fault_code(),
        0
    );
}

#[tokio::test]
async fn missing_billing_or_recipient_fields_answer_5() {
    let t = sim().await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    let no_city = RECIPIENT_PL.replace("<city>Warszawa</city>", "");
    assert_eq!(
        t.call(Gateway::PlaceOrder, &order(&no_city, demo::COURIER_DOMESTIC, None)).await.fault_code(),
        5
    );
    let no_billing = params(&format!("{RECIPIENT_PL}<delivery><courierId>10</courierId></delivery>"));
    assert_eq!(t.call(Gateway::PlaceOrder, &no_billing).await.fault_code(), 5);
}

#[tokio::test]
async fn a_preferred_delivery_date_must_be_a_future_date() {
    let t = sim().await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    let with_date = |d: &str| {
        params(&format!(
            "{RECIPIENT_PL}<delivery><courierId>10</courierId><preferredDeliveryDate>{d}</preferredDeliveryDate></delivery>{BILLING}"
        ))
    };
    assert_eq!(t.call(Gateway::PlaceOrder, &with_date("2026-01-14")).await.fault_code(), 5);
    assert_eq!(t.call(Gateway::PlaceOrder, &with_date("17.01.2026")).await.fault_code(), 5);
    assert_eq!(t.call(Gateway::PlaceOrder, &with_date("2026-01-17")).await.fault_code(), 0);
}

#[tokio::test]
async fn place_order_reserves_stock_empties_the_basket_and_starts_as_new() {
    // §5 G4 [S].
    let t = sim().await;
    let r = t.place_coffee_order("SHOP-8812").await;
    assert_eq!(r.tag("orderId").as_deref(), Some("W-2026-000001"));
    assert_eq!(r.tag("orderSerialNumber").as_deref(), Some("1"));
    assert_eq!(r.tag("status").as_deref(), Some("new"));
    assert_eq!(r.tag("duplicate").as_deref(), Some("false"));
    assert_eq!(r.tag("orderTotal").as_deref(), Some("85.53"), "2 × 34.99 + 15.55");
    assert_eq!(t.probe.stock(demo::COFFEE_INTERNAL), Some(dec("118")));
    assert_eq!(t.probe.reserved(demo::COFFEE_INTERNAL), Some(dec("2")));
    assert_eq!(t.probe.basket(demo::LOGIN), Some(vec![]));
}

#[tokio::test]
async fn a_set_order_reserves_its_components() {
    let t = sim().await;
    t.import(&[line(demo::SET_INTERNAL, "internal", "2")]).await;
    assert_eq!(
        t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_DOMESTIC, None)).await.fault_code(),
        0
    );
    assert_eq!(t.probe.stock(demo::COFFEE_INTERNAL), Some(dec("118")));
    assert_eq!(t.probe.stock(demo::MUG_INTERNAL), Some(dec("38")));
}

#[tokio::test]
async fn stock_taken_since_import_answers_7_on_place_order() {
    let t = sim().await;
    t.import(&[line(demo::MUG_INTERNAL, "internal", "5")]).await;
    t.probe.set_stock(demo::MUG_INTERNAL, dec("4"));
    assert_eq!(
        t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_DOMESTIC, None)).await.fault_code(),
        7
    );
}

#[tokio::test]
async fn the_same_shop_reference_twice_returns_the_same_order_flagged_duplicate_reserving_once() {
    // Checklist 16.
    let t = sim().await;
    let first = t.place_coffee_order("SHOP-8812").await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "2")]).await;
    let again =
        t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_DOMESTIC, Some("SHOP-8812"))).await;
    assert_eq!(again.fault_code(), 0);
    assert_eq!(again.tag("orderId"), first.tag("orderId"));
    assert_eq!(again.tag("duplicate").as_deref(), Some("true"));
    assert_eq!(t.probe.reserved(demo::COFFEE_INTERNAL), Some(dec("2")));
    assert_eq!(t.probe.orders(demo::LOGIN).len(), 1);
}

#[tokio::test]
async fn reject_setting_refuses_a_duplicate_reference_with_5() {
    // §9.4 [S] alternative.
    let t = sim_with(settings(|s| s.duplicate_order_reference = DuplicateReference::Reject)).await;
    t.place_coffee_order("SHOP-1").await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "2")]).await;
    let r = t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_DOMESTIC, Some("SHOP-1"))).await;
    assert_eq!(r.fault_code(), 5);
}

fn by(list: &str, item: &str) -> String {
    params(&format!("<{list} SOAP-ENC:arrayType=\"xsd:string[1]\" xsi:type=\"SOAP-ENC:Array\"><item xsi:type=\"xsd:string\">{item}</item></{list}>"))
}

#[tokio::test]
async fn a_new_order_reports_new_and_after_dispatch_wait_for_receive_with_shipments() {
    // Checklist 17.
    let t = sim().await;
    let id = t.place_coffee_order("SHOP-1").await.tag("orderId").unwrap();
    let r = t.call(Gateway::GetOrderStatus, &by("orderIds", &id)).await;
    assert_eq!((r.fault_code(), r.tag("status")), (0, Some("new".to_string())));
    assert_eq!(r.tag("dispatchDate").as_deref(), Some(""));
    let shipments = t.probe.dispatch_order(&id, 2).unwrap();
    let r = t.call(Gateway::GetOrderStatus, &by("orderIds", &id)).await;
    assert_eq!(r.tag("status").as_deref(), Some("wait_for_receive"));
    assert_eq!(tags(&r.tag("shipmentNumbers").unwrap(), "item"), shipments);
    assert_eq!(shipments, vec!["00340434160000010001", "00340434160000010002"]);
    assert_eq!(r.tag("courierId").as_deref(), Some("10"));
    assert_eq!(r.tag("dispatchDate").as_deref(), Some("2026-01-15 13:00:00"));
}

#[tokio::test]
async fn order_status_is_found_by_serial_number_or_shop_reference() {
    // §5 G7.
    let t = sim().await;
    t.place_coffee_order("SHOP-1").await;
    t.place_coffee_order("SHOP-2").await;
    assert_eq!(
        t.call(Gateway::GetOrderStatus, &by("orderSerialNumbers", "2")).await.tags("orderId"),
        vec!["W-2026-000002"]
    );
    assert_eq!(
        t.call(Gateway::GetOrderStatus, &by("shopOrderReferences", "SHOP-1")).await.tags("orderId"),
        vec!["W-2026-000001"]
    );
    assert_eq!(t.call(Gateway::GetOrderStatus, &by("orderIds", "W-2026-999999")).await.fault_code(), 2);
}

#[tokio::test]
async fn order_status_answers_a_large_reply_of_every_order() {
    // §5 G7: many orders in one reply (parsing benchmark).
    let t = sim().await;
    let ids = t.probe.seed_orders(demo::LOGIN, 2000);
    let r = t.call(Gateway::GetOrderStatus, "").await;
    assert_eq!(r.fault_code(), 0);
    let found = r.tags("orderId");
    assert_eq!(found.len(), 2000);
    assert_eq!(found, ids);
}

#[tokio::test]
async fn the_lifecycle_walks_new_to_finished() {
    // §9.2 item 3.
    let t = sim().await;
    let id = t.place_coffee_order("SHOP-1").await.tag("orderId").unwrap();
    let mut seen = Vec::new();
    while let Some(s) = t.probe.advance_order(&id) {
        seen.push(s);
    }
    assert_eq!(seen, ["on_order", "packed", "packed_ready", "wait_for_receive", "finished"]);
    assert_eq!(t.probe.shipment_numbers(&id).unwrap().len(), 1);
}

#[tokio::test]
async fn the_advance_test_route_drives_the_lifecycle_over_http() {
    // §9.2 item 3: admin/test endpoint.
    let t = sim().await;
    let id = t.place_coffee_order("SHOP-1").await.tag("orderId").unwrap();
    let url = t.url(&format!("/_sim/orders/{id}/advance?parcels=3"));
    let mut last = serde_json::Value::Null;
    for _ in 0..4 {
        let r = t.http.post(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        last = r.json().await.unwrap();
    }
    assert_eq!(last["status"], "wait_for_receive");
    assert_eq!(last["shipmentNumbers"].as_array().unwrap().len(), 3);
    assert_eq!(t.http.post(&url).send().await.unwrap().status(), 200);
    assert_eq!(t.http.post(&url).send().await.unwrap().status(), 409);
    let missing = t.http.post(t.url("/_sim/orders/W-0/advance")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}
