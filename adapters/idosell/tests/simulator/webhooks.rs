//! Shipment notices and the polling fallback (§7; checklist 20, 21).

use std::time::Duration;

use loyalty_core::OrderId;
use loyalty_idosell::webhook::signature;
use loyalty_sim::idosell::demo;

use crate::common::*;

async fn placed_and_dispatched(env: &Env, reference: &str, parcels: usize) -> OrderId {
    let placed = env.fulfilment().place_order(&ctx(), &coffee_order(reference)).await.unwrap();
    env.sim.probe.dispatch_order(placed.order_id.as_str(), parcels).unwrap();
    placed.order_id
}

async fn repost(env: &Env, headers: &[(&str, &str)], body: &str) -> u16 {
    let mut rb = reqwest::Client::new().post(&env.sim.receiver_url).body(body.to_string());
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_signed_dispatch_notice_is_received_once() {
    // Checklist 20 and 21: JSON, eventId, X-Signature; a repeat delivery is acknowledged, not
    // handed on twice.
    let mut env = start().await;
    let order = placed_and_dispatched(&env, "SHOP-8812", 2).await;
    assert_eq!(env.sim.probe.deliver_due().await, 1);
    let attempt = env.sim.probe.webhook_attempts().pop().unwrap();
    assert!(attempt.delivered, "{attempt:?}");
    let notice = env.sim.notices.recv().await.unwrap();
    assert_eq!(notice.order_id, order);
    assert_eq!(notice.reference.as_deref(), Some("SHOP-8812"));
    assert_eq!(notice.tracking_numbers, env.sim.probe.shipment_numbers(order.as_str()).unwrap());
    assert_eq!(notice.tracking_numbers.len(), 2);
    assert_eq!(notice.event_id.as_deref(), Some(attempt.event_id.as_str()));
    assert!(notice.verified);

    let sig = attempt.signature.clone().unwrap();
    let headers = [
        ("eventId", attempt.event_id.as_str()),
        ("X-Signature", sig.as_str()),
        ("content-type", "application/json"),
    ];
    assert_eq!(repost(&env, &headers, &attempt.body).await, 200);
    // The same shipments under a fresh event id are a duplicate too.
    let headers = [("eventId", "evt-other"), ("X-Signature", sig.as_str())];
    assert_eq!(repost(&env, &headers, &attempt.body).await, 200);
    assert!(env.sim.notices.try_recv().is_err(), "a duplicate was handed on");
}

#[tokio::test]
async fn an_unsigned_notice_is_accepted() {
    // Checklist 21: with or without a signature.
    let mut env = start_with(settings(serde_json::json!({"webhook_signature": "none"}))).await;
    let order = placed_and_dispatched(&env, "SHOP-UNSIGNED", 1).await;
    env.sim.probe.deliver_due().await;
    assert!(env.sim.probe.webhook_attempts()[0].signature.is_none());
    let notice = env.sim.notices.recv().await.unwrap();
    assert_eq!(notice.order_id, order);
    assert!(!notice.verified);
}

#[tokio::test]
async fn the_xml_encoding_of_a_notice_is_received_too() {
    let mut env = start_with(settings(serde_json::json!({"webhook_encoding": "xml"}))).await;
    let order = placed_and_dispatched(&env, "SHOP-XML", 3).await;
    env.sim.probe.deliver_due().await;
    let notice = env.sim.notices.recv().await.unwrap();
    assert_eq!((notice.order_id, notice.tracking_numbers.len()), (order, 3));
}

#[tokio::test]
async fn a_forged_notice_is_refused_and_the_wholesaler_retries_a_minute_later() {
    // Checklist 20: a non-2xx answer is retried after 1 min (the sender's side); the receiver
    // answers 401 to a signature made with another key.
    let mut env = start().await;
    let body = r#"{"event":"orderDispatched","orderId":"W-2026-000099","shipmentNumbers":["X1"]}"#;
    let forged = signature("sha1=", b"not-the-dropshipping-key", body.as_bytes());
    assert_eq!(repost(&env, &[("eventId", "evt-forged"), ("X-Signature", forged.as_str())], body).await, 401);
    let good = signature("sha1=", demo::DROPSHIPPING_KEY.as_bytes(), body.as_bytes());
    assert_eq!(repost(&env, &[("eventId", "evt-good"), ("X-Signature", good.as_str())], body).await, 200);
    assert_eq!(env.sim.notices.recv().await.unwrap().tracking_numbers, ["X1"]);
    assert_eq!(repost(&env, &[], "not a notice").await, 400);
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70_000));
    assert_eq!(repost(&env, &[], &big).await, 413);

    // The receiver is down: the wholesaler tries again after 60 s of its clock.
    env.sim.probe.set_callback_url(demo::LOGIN, Some("http://127.0.0.1:9/closed"));
    let order = placed_and_dispatched(&env, "SHOP-RETRY", 1).await;
    env.sim.probe.deliver_due().await;
    env.sim.probe.set_callback_url(demo::LOGIN, Some(&env.sim.receiver_url));
    env.clock.advance(Duration::from_secs(60));
    assert_eq!(env.sim.probe.deliver_due().await, 1);
    assert_eq!(env.sim.notices.recv().await.unwrap().order_id, order);
}

#[tokio::test]
async fn without_a_webhook_polling_tells_the_same() {
    // Checklist 21: order state stays correct when no notice arrives (G7 polling).
    let env = start().await;
    env.sim.probe.set_callback_url(demo::LOGIN, None);
    let order = placed_and_dispatched(&env, "SHOP-POLL", 2).await;
    assert_eq!(env.sim.probe.deliver_due().await, 0);
    let polled = env.adapter().poll_orders(&ctx(), std::slice::from_ref(&order)).await.unwrap();
    assert_eq!(polled.len(), 1);
    assert!(polled[0].dispatched);
    assert_eq!(polled[0].shipments, env.sim.probe.shipment_numbers(order.as_str()).unwrap());
}
