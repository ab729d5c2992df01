//! The dispatch webhook (§7.2; checklist 20): delivery, signature, retries on the simulator
//! clock, encodings. With the default (automatic) delivery the simulator sends by itself; tests
//! that count attempts or decide when each one happens use `manual` delivery.

use std::{
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{extract::State, http::HeaderMap, routing::post, Router};
use hmac::{Hmac, Mac};
use loyalty_sim::idosell::{
    demo, IdosellSettings, IdosellSim, WebhookDelivery, WebhookEncoding, WebhookSignature,
};
use loyalty_sim::SimClock;
use sha1::Sha1;

use super::support::*;

/// A shop-side receiver on loopback that records deliveries and answers a settable status.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start(status: u16) -> (Receiver, String) {
        let r = Receiver::default();
        r.status.store(status, Ordering::SeqCst);
        let app = Router::new()
            .route(
                "/hook",
                post(|State(r): State<Receiver>, headers: HeaderMap, body: String| async move {
                    r.seen.lock().unwrap().push((headers, body));
                    axum::http::StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap()
                }),
            )
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, url)
    }

    fn seen(&self) -> Vec<(HeaderMap, String)> {
        self.seen.lock().unwrap().clone()
    }
}

fn hmac_hex(key: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Default settings with `manual` delivery, changed by `f`.
fn manual(f: impl FnOnce(&mut IdosellSettings)) -> IdosellSettings {
    settings(|s| {
        s.webhook_delivery = WebhookDelivery::Manual;
        f(s);
    })
}

/// A simulator whose webhooks are sent only by `deliver_due`.
async fn manual_sim() -> T {
    sim_with(manual(|_| {})).await
}

/// Waits (real time, at most 5 s) until `done` holds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(std::time::Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn dispatched(t: &T, url: &str) -> String {
    assert!(t.probe.set_callback_url(demo::LOGIN, Some(url)));
    let id = t.place_coffee_order("SHOP-8812").await.tag("orderId").unwrap();
    t.probe.dispatch_order(&id, 2).unwrap();
    id
}

#[tokio::test]
async fn dispatch_posts_a_signed_json_webhook_with_an_event_id() {
    // Checklist 20.
    let t = manual_sim().await;
    let (rx, url) = Receiver::start(200).await;
    let id = dispatched(&t, &url).await;
    assert_eq!(t.probe.deliver_due().await, 1);
    let seen = rx.seen();
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["eventid"], "evt-00000001");
    assert_eq!(
        headers["x-signature"].to_str().unwrap(),
        format!("sha1={}", hmac_hex(demo::CALLBACK_SECRET, body))
    );
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["event"], "orderDispatched");
    assert_eq!(v["orderId"], id.as_str());
    assert_eq!(v["orderSerialNumber"], 1);
    assert_eq!(v["shopOrderReference"], "SHOP-8812");
    assert_eq!(v["status"], "wait_for_receive");
    assert_eq!(v["courierId"], demo::COURIER_DOMESTIC);
    assert_eq!(v["courierName"], "Kurier DPD");
    assert_eq!(v["shipmentNumbers"].as_array().unwrap().len(), 2);
    assert_eq!(v["dispatchDate"], "2026-01-15 13:00:00");
    assert_eq!(v["sentAt"], "2026-01-15 13:00:00");
    assert_eq!(t.probe.pending_webhooks(), 0);
}

#[tokio::test]
async fn two_dispatched_orders_post_two_events_with_different_event_ids() {
    // Checklist 20: each delivery carries a unique `eventId` header; two orders dispatched are
    // two events, so the shop can tell them apart (a retry keeps its id, tested below).
    let t = manual_sim().await;
    let (rx, url) = Receiver::start(200).await;
    assert!(t.probe.set_callback_url(demo::LOGIN, Some(&url)));
    let first = t.place_coffee_order("SHOP-EVT-1").await.tag("orderId").unwrap();
    let second = t.place_coffee_order("SHOP-EVT-2").await.tag("orderId").unwrap();
    assert_ne!(first, second);
    t.probe.dispatch_order(&first, 1).unwrap();
    t.probe.dispatch_order(&second, 1).unwrap();
    assert_eq!(t.probe.deliver_due().await, 2);
    let seen = rx.seen();
    assert_eq!(seen.len(), 2);
    let event = |i: usize| seen[i].0["eventid"].to_str().unwrap().to_string();
    let order = |i: usize| {
        let v: serde_json::Value = serde_json::from_str(&seen[i].1).unwrap();
        v["orderId"].as_str().unwrap().to_string()
    };
    let mut by_order = [(order(0), event(0)), (order(1), event(1))];
    by_order.sort();
    assert_eq!([by_order[0].0.as_str(), by_order[1].0.as_str()], [first.as_str(), second.as_str()]);
    assert!(!event(0).is_empty() && !event(1).is_empty());
    assert_ne!(event(0), event(1), "two events share an eventId");
    let attempts = t.probe.webhook_attempts();
    assert_eq!(attempts.len(), 2);
    assert_ne!(attempts[0].event_id, attempts[1].event_id);
    for a in &attempts {
        let header = if a.order_id == by_order[0].0 { &by_order[0].1 } else { &by_order[1].1 };
        assert_eq!(&a.event_id, header, "the attempt records the header it sent");
    }
}

#[tokio::test]
async fn with_manual_delivery_nothing_is_sent_before_deliver_due_is_called() {
    let t = manual_sim().await;
    let (rx, url) = Receiver::start(200).await;
    dispatched(&t, &url).await;
    assert!(rx.seen().is_empty());
    assert_eq!(t.probe.pending_webhooks(), 1);
}

#[tokio::test]
async fn a_non_2xx_answer_is_retried_after_one_minute_of_sim_time() {
    // Checklist 20.
    let t = manual_sim().await;
    let (rx, url) = Receiver::start(500).await;
    dispatched(&t, &url).await;
    assert_eq!(t.probe.deliver_due().await, 1);
    t.clock.advance(Duration::from_secs(59));
    assert_eq!(t.probe.deliver_due().await, 0);
    rx.status.store(204, Ordering::SeqCst);
    t.clock.advance(Duration::from_secs(1));
    assert_eq!(t.probe.deliver_due().await, 1);
    let seen = rx.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0["eventid"], seen[1].0["eventid"], "a retry keeps the event id");
    let attempts = t.probe.webhook_attempts();
    assert_eq!((attempts[0].status, attempts[0].delivered), (Some(500), false));
    assert_eq!((attempts[1].attempt, attempts[1].delivered), (2, true));
}

#[tokio::test]
async fn retries_follow_1m_5m_30m_2h_12h_then_give_up() {
    // §7.2 [S] schedule.
    let t = manual_sim().await;
    let (rx, url) = Receiver::start(503).await;
    dispatched(&t, &url).await;
    assert_eq!(t.probe.deliver_due().await, 1);
    for secs in [60, 300, 1800, 7200, 43200] {
        t.clock.advance(Duration::from_secs(secs - 1));
        assert_eq!(t.probe.deliver_due().await, 0, "early at {secs}");
        t.clock.advance(Duration::from_secs(1));
        assert_eq!(t.probe.deliver_due().await, 1, "due at {secs}");
    }
    assert_eq!(t.probe.pending_webhooks(), 0);
    t.clock.advance(Duration::from_secs(7 * 24 * 3600));
    assert_eq!(t.probe.deliver_due().await, 0);
    assert_eq!(rx.seen().len(), 6);
}

#[tokio::test]
async fn an_unreachable_receiver_counts_as_a_failed_attempt() {
    let t = manual_sim().await;
    dispatched(&t, "http://127.0.0.1:9/hook").await;
    assert_eq!(t.probe.deliver_due().await, 1);
    assert_eq!(t.probe.webhook_attempts()[0].status, None);
    assert_eq!(t.probe.pending_webhooks(), 1);
}

#[tokio::test]
async fn xml_encoding_setting_sends_the_same_fields_as_xml() {
    // §7.2 [S] alternative.
    let t = sim_with(manual(|s| s.webhook_encoding = WebhookEncoding::Xml)).await;
    let (rx, url) = Receiver::start(200).await;
    let id = dispatched(&t, &url).await;
    t.probe.deliver_due().await;
    let (headers, body) = rx.seen().pop().unwrap();
    assert_eq!(headers["content-type"], "text/xml; charset=utf-8");
    assert_eq!(tags(&body, "orderId"), vec![id]);
    assert_eq!(tags(&body, "shipmentNumber").len(), 2);
    assert_eq!(
        headers["x-signature"].to_str().unwrap(),
        format!("sha1={}", hmac_hex(demo::DROPSHIPPING_KEY, &body))
    );
}

#[tokio::test]
async fn signature_none_setting_sends_no_signature() {
    let t = sim_with(manual(|s| s.webhook_signature = WebhookSignature::None)).await;
    let (rx, url) = Receiver::start(200).await;
    dispatched(&t, &url).await;
    t.probe.deliver_due().await;
    assert!(rx.seen()[0].0.get("x-signature").is_none());
}

#[tokio::test]
async fn without_a_callback_url_no_webhook_is_queued() {
    let t = sim().await;
    let id = t.place_coffee_order("SHOP-1").await.tag("orderId").unwrap();
    t.probe.dispatch_order(&id, 1).unwrap();
    assert_eq!(t.probe.pending_webhooks(), 0);
}

#[tokio::test]
async fn test_routes_register_the_callback_and_deliver_over_http() {
    // §7.2: the shop registers its URL with the simulator's admin endpoint.
    let t = manual_sim().await;
    let (rx, url) = Receiver::start(200).await;
    let r = t
        .http
        .put(t.url(&format!("/_sim/accounts/{}/callback", demo::LOGIN)))
        .json(&serde_json::json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let id = t.place_coffee_order("SHOP-1").await.tag("orderId").unwrap();
    let r = t.http.post(t.url(&format!("/_sim/orders/{id}/dispatch"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value =
        t.http.post(t.url("/_sim/webhooks/deliver")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["attempted"], 1);
    assert_eq!(rx.seen().len(), 1);
    let unknown = t
        .http
        .put(t.url("/_sim/accounts/nobody/callback"))
        .json(&serde_json::json!({"url": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_retry_resends_the_same_event_after_the_order_moved_on() {
    // §7.2: the `eventId` names one event; a redelivery carries that event, byte for byte, with
    // its signature, even after the order changed (and the clock moved) in between.
    let t = manual_sim().await;
    let (rx, url) = Receiver::start(500).await;
    let id = dispatched(&t, &url).await;
    assert_eq!(t.probe.deliver_due().await, 1);
    assert_eq!(t.probe.advance_order(&id).as_deref(), Some("finished"));
    t.clock.advance(Duration::from_secs(60));
    rx.status.store(200, Ordering::SeqCst);
    assert_eq!(t.probe.deliver_due().await, 1);
    let seen = rx.seen();
    assert_eq!(seen.len(), 2);
    let ((h1, b1), (h2, b2)) = (&seen[0], &seen[1]);
    assert_eq!(h1["eventid"], h2["eventid"]);
    assert_eq!(b1, b2, "a retry resends the first attempt's body");
    assert_eq!(h1["x-signature"], h2["x-signature"]);
    let v: serde_json::Value = serde_json::from_str(b2).unwrap();
    assert_eq!(v["status"], "wait_for_receive", "the event is the dispatch");
    assert_eq!(v["sentAt"], "2026-01-15 13:00:00", "sent first at dispatch");
    let attempts = t.probe.webhook_attempts();
    assert_eq!((attempts[1].attempt, attempts[1].delivered), (2, true));
    assert_eq!(attempts[0].body, attempts[1].body);
}

#[tokio::test]
async fn an_event_carries_the_order_as_dispatched_even_when_first_sent_later() {
    let t = manual_sim().await;
    let (rx, url) = Receiver::start(200).await;
    let id = dispatched(&t, &url).await;
    assert_eq!(t.probe.advance_order(&id).as_deref(), Some("finished"));
    t.clock.advance(Duration::from_secs(5));
    assert_eq!(t.probe.deliver_due().await, 1);
    let (headers, body) = rx.seen().pop().unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["event"], "orderDispatched");
    assert_eq!(v["status"], "wait_for_receive");
    assert_eq!(v["dispatchDate"], "2026-01-15 13:00:00");
    assert_eq!(v["sentAt"], "2026-01-15 13:00:05", "sentAt is when it was first sent");
    assert_eq!(
        headers["x-signature"].to_str().unwrap(),
        format!("sha1={}", hmac_hex(demo::CALLBACK_SECRET, &body))
    );
}

#[tokio::test]
async fn by_default_dispatch_sends_the_signed_webhook_without_any_deliver_call() {
    // Checklist 20 with default settings: dispatching posts the webhook; nobody calls
    // `deliver_due` or the deliver route.
    let t = sim().await;
    assert_eq!(t.probe.settings().webhook_delivery, WebhookDelivery::Automatic);
    let (rx, url) = Receiver::start(200).await;
    let id = dispatched(&t, &url).await;
    eventually("the webhook", || rx.seen().len() == 1).await;
    let (headers, body) = rx.seen().remove(0);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["eventid"], "evt-00000001");
    assert_eq!(
        headers["x-signature"].to_str().unwrap(),
        format!("sha1={}", hmac_hex(demo::CALLBACK_SECRET, &body))
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((v["event"].as_str(), v["orderId"].as_str()), (Some("orderDispatched"), Some(id.as_str())));
    assert_eq!(v["shipmentNumbers"].as_array().unwrap().len(), 2);
    assert_eq!(v["sentAt"], v["dispatchDate"], "sent at dispatch");
    eventually("the attempt to be recorded", || t.probe.webhook_attempts().len() == 1).await;
    assert!(t.probe.webhook_attempts()[0].delivered);
    assert_eq!(t.probe.pending_webhooks(), 0);
    // Sent once: nothing more goes out, and nothing is left for an explicit call.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.seen().len(), 1);
    assert_eq!(t.probe.deliver_due().await, 0);
}

#[tokio::test]
async fn by_default_a_500_is_retried_once_the_clock_passes_one_minute() {
    // Checklist 20: a non-2xx answer is retried after 1 min of simulator time, by the
    // simulator itself.
    let t = sim().await;
    let (rx, url) = Receiver::start(500).await;
    dispatched(&t, &url).await;
    eventually("the first attempt", || t.probe.webhook_attempts().len() == 1).await;
    assert_eq!(t.probe.webhook_attempts()[0].status, Some(500));
    // Not due before the minute is over (several ticks of the sender pass meanwhile).
    t.clock.advance(Duration::from_secs(59));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(rx.seen().len(), 1);
    rx.status.store(200, Ordering::SeqCst);
    t.clock.advance(Duration::from_secs(1));
    eventually("the retry", || t.probe.webhook_attempts().len() == 2).await;
    let attempts = t.probe.webhook_attempts();
    assert_eq!((attempts[1].attempt, attempts[1].delivered), (2, true));
    assert_eq!(attempts[0].event_id, attempts[1].event_id);
    assert_eq!(attempts[0].body, attempts[1].body);
    assert_eq!(rx.seen().len(), 2);
    assert_eq!(t.probe.pending_webhooks(), 0);
}

#[tokio::test]
async fn every_dispatch_path_fires_the_webhook() {
    // §9.2 item 3: the HTTP test routes (dispatch, and advance into `wait_for_receive`), the
    // probe's `advance_order` and `dispatch_order`, and the control API's `dispatch` event.
    let clock = SimClock::default();
    let (server, probe) =
        IdosellSim::start_on_port(IdosellSettings::default(), clock.clone(), 0, true).await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let t = T { server, probe, http, clock };
    let (rx, url) = Receiver::start(200).await;
    assert!(t.probe.set_callback_url(demo::LOGIN, Some(&url)));
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(t.place_coffee_order(&format!("SHOP-PATH-{n}")).await.tag("orderId").unwrap());
    }
    let post = |path: String| {
        let (http, url) = (t.http.clone(), t.url(&path));
        async move { http.post(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(format!("/_sim/orders/{}/dispatch", ids[0])).await, 200);
    for _ in 0..4 {
        assert_eq!(post(format!("/_sim/orders/{}/advance", ids[1])).await, 200);
    }
    for _ in 0..4 {
        t.probe.advance_order(&ids[2]).unwrap();
    }
    t.probe.dispatch_order(&ids[3], 1).unwrap();
    let r = t
        .http
        .post(t.url("/_sim/events/dispatch"))
        .json(&serde_json::json!({"order_id": ids[4]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually("five webhooks", || rx.seen().len() == 5).await;
    let mut sent: Vec<String> = rx
        .seen()
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<serde_json::Value>(b).unwrap()["orderId"].as_str().unwrap().into()
        })
        .collect();
    sent.sort();
    assert_eq!(sent, ids);
}

/// A receiver that takes its time before answering 200.
async fn slow_receiver(delay: Duration) -> (Arc<Mutex<usize>>, String) {
    let seen = Arc::new(Mutex::new(0usize));
    let app = Router::new()
        .route(
            "/hook",
            post(move |State(seen): State<Arc<Mutex<usize>>>| async move {
                *seen.lock().unwrap() += 1;
                tokio::time::sleep(delay).await;
                axum::http::StatusCode::OK
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (seen, url)
}

#[tokio::test]
async fn the_automatic_sender_and_explicit_calls_never_send_an_attempt_twice() {
    // An attempt is marked in flight when a sender takes it: explicit `deliver_due` calls (and
    // the HTTP deliver route) made while the automatic sender is posting find nothing to send.
    let t = sim().await;
    let (seen, url) = slow_receiver(Duration::from_millis(400)).await;
    dispatched(&t, &url).await;
    let mut explicit = 0;
    for _ in 0..5 {
        explicit += t.probe.deliver_due().await;
        let v: serde_json::Value =
            t.http.post(t.url("/_sim/webhooks/deliver")).send().await.unwrap().json().await.unwrap();
        explicit += usize::try_from(v["attempted"].as_u64().unwrap()).unwrap();
    }
    eventually("the attempt to be recorded", || t.probe.webhook_attempts().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(*seen.lock().unwrap(), 1, "one POST in all");
    assert_eq!(t.probe.webhook_attempts().len(), 1);
    assert!(explicit <= 1, "{explicit}");
    assert_eq!(t.probe.pending_webhooks(), 0);
}

#[tokio::test]
async fn a_dropped_deliver_due_leaves_its_attempt_to_the_next_sender() {
    // A `deliver_due` cancelled mid-POST releases the attempt it held.
    let t = manual_sim().await;
    let (seen, url) = slow_receiver(Duration::from_secs(2)).await;
    dispatched(&t, &url).await;
    let cut = tokio::time::timeout(Duration::from_millis(200), t.probe.deliver_due()).await;
    assert!(cut.is_err(), "the first call was cut");
    assert_eq!(t.probe.pending_webhooks(), 1);
    assert!(t.probe.webhook_attempts().is_empty());
    assert_eq!(t.probe.deliver_due().await, 1, "taken again, not stuck in flight");
    assert_eq!(*seen.lock().unwrap(), 2);
}

#[tokio::test]
async fn the_sender_stops_with_the_simulator() {
    // Dropped or shut down, the server takes its webhook sender with it: a dispatch through a
    // probe that outlives it is never sent.
    for graceful in [false, true] {
        let t = sim().await;
        let (rx, url) = Receiver::start(200).await;
        assert!(t.probe.set_callback_url(demo::LOGIN, Some(&url)));
        let id = t.place_coffee_order("SHOP-STOP").await.tag("orderId").unwrap();
        let T { server, probe, .. } = t;
        if graceful {
            server.shutdown().await;
        } else {
            drop(server);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        probe.dispatch_order(&id, 1).unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(rx.seen().is_empty(), "graceful {graceful}: sent after the server stopped");
        assert_eq!(probe.pending_webhooks(), 1);
        assert!(probe.webhook_attempts().is_empty());
    }
}
