//! Shipment notices and the polling fallback (§7; checklist 20, 21). The simulator posts a
//! notice by itself at dispatch (its default, automatic delivery); nothing here asks it to.

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

/// Waits (at most 5 s) for the simulator's `n`th webhook attempt and returns it.
async fn attempt(env: &Env, n: usize) -> loyalty_sim::idosell::WebhookAttempt {
    let end = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(a) = env.sim.probe.webhook_attempts().get(n - 1) {
            return a.clone();
        }
        assert!(std::time::Instant::now() < end, "no attempt {n}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The next notice the receiver hands on (at most 5 s).
async fn notice(env: &mut Env) -> loyalty_core::ShipmentNotice {
    tokio::time::timeout(Duration::from_secs(5), env.sim.notices.recv()).await.expect("a notice").unwrap()
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
    let notice = notice(&mut env).await;
    let attempt = attempt(&env, 1).await;
    assert!(attempt.delivered, "{attempt:?}");
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
async fn two_dispatched_orders_arrive_under_different_event_ids() {
    // Checklist 20: every delivery has its own `eventId` header; the receiver hands on both
    // notices, each with the id its delivery carried.
    let mut env = start().await;
    let first = placed_and_dispatched(&env, "SHOP-EVT-1", 1).await;
    let second = placed_and_dispatched(&env, "SHOP-EVT-2", 1).await;
    let (a1, a2) = (attempt(&env, 1).await, attempt(&env, 2).await);
    assert_ne!(a1.event_id, a2.event_id, "two events share an eventId");
    let (n1, n2) = (notice(&mut env).await, notice(&mut env).await);
    let mut got = [
        (n1.order_id.to_string(), n1.event_id.clone().unwrap()),
        (n2.order_id.to_string(), n2.event_id.clone().unwrap()),
    ];
    got.sort();
    let mut sent = [(a1.order_id.clone(), a1.event_id.clone()), (a2.order_id.clone(), a2.event_id.clone())];
    sent.sort();
    assert_eq!(got, sent);
    let mut orders = [first.to_string(), second.to_string()];
    orders.sort();
    assert_eq!([got[0].0.clone(), got[1].0.clone()], orders);
    assert_ne!(got[0].1, got[1].1);
}

#[tokio::test]
async fn an_unsigned_notice_is_accepted() {
    // Checklist 21: with or without a signature.
    let mut env = start_with(settings(serde_json::json!({"webhook_signature": "none"}))).await;
    let order = placed_and_dispatched(&env, "SHOP-UNSIGNED", 1).await;
    assert!(attempt(&env, 1).await.signature.is_none());
    let notice = notice(&mut env).await;
    assert_eq!(notice.order_id, order);
    assert!(!notice.verified);
}

#[tokio::test]
async fn the_xml_encoding_of_a_notice_is_received_too() {
    let mut env = start_with(settings(serde_json::json!({"webhook_encoding": "xml"}))).await;
    let order = placed_and_dispatched(&env, "SHOP-XML", 3).await;
    let notice = notice(&mut env).await;
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
    assert_eq!(notice(&mut env).await.tracking_numbers, ["X1"]);
    assert_eq!(repost(&env, &[], "not a notice").await, 400);
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70_000));
    assert_eq!(repost(&env, &[], &big).await, 413);

    // The receiver is down: the wholesaler tries again, by itself, once 60 s of its clock
    // have passed.
    env.sim.probe.set_callback_url(demo::LOGIN, Some("http://127.0.0.1:9/closed"));
    let order = placed_and_dispatched(&env, "SHOP-RETRY", 1).await;
    assert!(!attempt(&env, 1).await.delivered);
    env.sim.probe.set_callback_url(demo::LOGIN, Some(&env.sim.receiver_url));
    env.clock.advance(Duration::from_secs(60));
    assert_eq!(notice(&mut env).await.order_id, order);
    assert!(attempt(&env, 2).await.delivered);
}

#[tokio::test]
async fn without_a_webhook_polling_tells_the_same() {
    // Checklist 21: order state stays correct when no notice arrives (G7 polling).
    let env = start().await;
    env.sim.probe.set_callback_url(demo::LOGIN, None);
    let order = placed_and_dispatched(&env, "SHOP-POLL", 2).await;
    assert_eq!(env.sim.probe.pending_webhooks(), 0, "nothing to send");
    let polled = env.adapter().poll_orders(&ctx(), std::slice::from_ref(&order)).await.unwrap();
    assert_eq!(polled.len(), 1);
    assert!(polled[0].dispatched);
    assert_eq!(polled[0].shipments, env.sim.probe.shipment_numbers(order.as_str()).unwrap());
}

#[tokio::test]
async fn with_manual_delivery_a_notice_waits_for_deliver_due() {
    // The simulator's `webhook_delivery: manual`, for tests that decide when a notice goes.
    let mut env = start_with(settings(serde_json::json!({"webhook_delivery": "manual"}))).await;
    let order = placed_and_dispatched(&env, "SHOP-MANUAL", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(env.sim.notices.try_recv().is_err(), "sent without being asked");
    assert_eq!(env.sim.probe.deliver_due().await, 1);
    assert_eq!(notice(&mut env).await.order_id, order);
}
