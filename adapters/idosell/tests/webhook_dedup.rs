//! The shipment receiver's de-duplication (contract checklist 21: by order id + shipment
//! number), its answer to a signature it cannot read, and the webhook's names shared with the
//! simulator (checklist 24).
#![cfg(feature = "receiver")]

use std::sync::Arc;

use loyalty_core::{PushedRequest, ShipmentNotice};
use loyalty_http::Secret;
use loyalty_idosell::names::Names;
use loyalty_idosell::webhook::receiver::{MemoryNoticeLog, NoticeLog, ShipmentReceiver};
use loyalty_idosell::webhook::{signature, NoticeParser, SignaturePolicy};

const KEY: &str = "ds-key";

fn parser() -> NoticeParser {
    NoticeParser::new(
        Secret::new(KEY),
        SignaturePolicy::IfPresent,
        1 << 16,
        Names::default(),
        chrono_tz::Europe::Warsaw,
    )
}

fn body(order: &str, shipments: &[&str]) -> String {
    serde_json::json!({
        "event": "orderDispatched",
        "orderId": order,
        "shopOrderReference": "S-1",
        "status": "wait_for_receive",
        "shipmentNumbers": shipments,
        "dispatchDate": "2024-03-16 14:05:00",
    })
    .to_string()
}

/// Parses `body` delivered with `event_id`, signed when `signed`.
fn notice(body: &str, event_id: Option<&str>, signed: bool) -> ShipmentNotice {
    let mut h = Vec::new();
    if let Some(e) = event_id {
        h.push(("eventId".to_string(), e.to_string()));
    }
    if signed {
        h.push(("X-Signature".to_string(), signature("sha1=", KEY.as_bytes(), body.as_bytes())));
    }
    let n = parser().parse(PushedRequest::new(&h, body.as_bytes())).unwrap();
    assert_eq!(n.verified, signed);
    n
}

#[test]
fn an_unsigned_notice_never_makes_the_signed_one_a_duplicate() {
    let log = MemoryNoticeLog::default();
    // A forged, unsigned notice under the genuine event's id and with the genuine pair.
    assert!(log.record(&notice(&body("W-1", &["FAKE"]), Some("evt-9"), false)).is_new());
    assert!(log.record(&notice(&body("W-1", &["REAL-1"]), Some("evt-7"), false)).is_new());
    let genuine = notice(&body("W-1", &["REAL-1"]), Some("evt-9"), true);
    assert!(log.record(&genuine).is_new(), "the signed notice is new");
    // Its retry is a duplicate, and so is an unsigned copy of it.
    assert!(!log.record(&genuine).is_new());
    assert!(!log.record(&notice(&body("W-1", &["REAL-1"]), Some("evt-10"), false)).is_new());
}

#[test]
fn a_new_tracking_number_under_a_seen_event_id_is_handed_on() {
    let log = MemoryNoticeLog::default();
    assert!(log.record(&notice(&body("W-2", &["A1"]), Some("evt-1"), true)).is_new());
    assert!(log.record(&notice(&body("W-2", &["A1", "A2"]), Some("evt-1"), true)).is_new());
    // Only pairs already seen: a duplicate, whatever the event id.
    assert!(!log.record(&notice(&body("W-2", &["A2"]), Some("evt-2"), true)).is_new());
    // The same tracking number on another order is another pair.
    assert!(log.record(&notice(&body("W-3", &["A1"]), Some("evt-1"), true)).is_new());
}

#[test]
fn without_tracking_numbers_the_event_id_decides_and_then_the_order_id() {
    let log = MemoryNoticeLog::default();
    assert!(log.record(&notice(&body("W-4", &[]), Some("evt-1"), true)).is_new());
    assert!(!log.record(&notice(&body("W-4", &[]), Some("evt-1"), true)).is_new());
    assert!(log.record(&notice(&body("W-4", &[]), Some("evt-2"), true)).is_new());
    // Neither: the order id (an unsigned notice first, which the signed one still gets past).
    assert!(log.record(&notice(&body("W-5", &[]), None, false)).is_new());
    assert!(log.record(&notice(&body("W-5", &[]), None, true)).is_new());
    assert!(!log.record(&notice(&body("W-5", &[]), None, true)).is_new());
}

#[test]
fn a_forgotten_signed_notice_is_new_again_and_leaves_others_alone() {
    let log = MemoryNoticeLog::default();
    let unsigned = notice(&body("W-6", &["B1"]), Some("evt-1"), false);
    let signed = notice(&body("W-6", &["B1"]), Some("evt-1"), true);
    assert!(log.record(&unsigned).is_new());
    let recorded = log.record(&signed);
    assert!(recorded.is_new());
    log.forget(&recorded);
    assert!(!log.record(&unsigned).is_new(), "the unsigned key stays");
    assert!(log.record(&signed).is_new());
}

async fn post_with_signature(value: &[u8]) -> (u16, Option<ShipmentNotice>) {
    let parser = parser();
    let (router, mut rx) = ShipmentReceiver::router("/n", parser, Arc::new(MemoryNoticeLog::default()), 8);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/n", l.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(l, router).await.unwrap() });
    let status = reqwest::Client::new()
        .post(url)
        .header("eventId", "evt-1")
        .header("X-Signature", reqwest::header::HeaderValue::from_bytes(value).unwrap())
        .body(body("W-9", &["Z9"]))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    server.abort();
    (status, rx.try_recv().ok())
}

#[tokio::test]
async fn a_signature_that_is_not_utf8_is_refused_not_taken_for_none() {
    let (status, handed_on) = post_with_signature(b"sha1=\xff\xfe").await;
    assert_eq!(status, 401);
    assert!(handed_on.is_none());
    // The same receiver still takes a valid signature.
    let good = signature("sha1=", KEY.as_bytes(), body("W-9", &["Z9"]).as_bytes());
    let (status, handed_on) = post_with_signature(good.as_bytes()).await;
    assert_eq!(status, 200);
    assert!(handed_on.is_some_and(|n| n.verified));
}

/// Renamed webhook headers, signature prefix and event in the simulator's settings reach the
/// adapter's parser through `names_of`: the notice still arrives, verified.
#[cfg(feature = "simulator")]
#[tokio::test]
async fn renamed_webhook_names_reach_both_sides() {
    use loyalty_idosell::simulated;
    use loyalty_sim::idosell::{demo, IdosellSettings, WebhookDelivery};

    let mut settings = IdosellSettings::default();
    settings.webhook_delivery = WebhookDelivery::Manual;
    let w = &mut settings.names.webhook;
    w.event_id_header = "X-Event".into();
    w.signature_header = "X-Hub-Signature".into();
    w.signature_prefix = "hmac-sha1=".into();
    w.dispatched_event = "parcelSent".into();
    let names = simulated::names_of(&settings);
    assert_eq!(names.webhook.signature_header, "X-Hub-Signature");
    assert_eq!(names.dispatched_statuses, ["wait_for_receive", "finished"]);

    let mut sim = simulated::start_with(settings, loyalty_sim::SimClock::default()).await.unwrap();
    let order = sim.probe.seed_orders(demo::LOGIN, 1).remove(0);
    let parcels = sim.probe.dispatch_order(&order, 2).unwrap();
    assert_eq!(sim.probe.deliver_due().await, 1);
    let attempt = sim.probe.webhook_attempts().remove(0);
    assert!(attempt.signature.as_deref().is_some_and(|s| s.starts_with("hmac-sha1=")));
    assert!(attempt.body.contains("\"parcelSent\""));
    assert_eq!(attempt.status, Some(200));
    let n = sim.notices.try_recv().unwrap();
    assert!(n.verified);
    assert_eq!(n.event_id.as_deref(), Some(attempt.event_id.as_str()));
    assert_eq!((n.order_id.as_str(), n.tracking_numbers), (order.as_str(), parcels));
}
