//! The notice log forgets only what a refused notice added: a notice answered 503 (the channel
//! full) never makes the receiver forget pairs an earlier notice recorded and handed on, so
//! that notice's retry stays a duplicate.
#![cfg(feature = "receiver")]

use std::sync::Arc;

use loyalty_core::{PushedRequest, ShipmentNotice};
use loyalty_http::Secret;
use loyalty_idosell::names::Names;
use loyalty_idosell::webhook::receiver::{MemoryNoticeLog, NoticeLog, ShipmentReceiver};
use loyalty_idosell::webhook::{NoticeParser, SignaturePolicy};

fn parser() -> NoticeParser {
    NoticeParser::new(
        Secret::new("ds-key"),
        SignaturePolicy::Off,
        1 << 16,
        Names::default(),
        chrono_tz::Europe::Warsaw,
    )
}

fn body(event: &str, shipments: &[&str]) -> String {
    serde_json::json!({
        "event": "orderDispatched",
        "orderId": "W-1",
        "shopOrderReference": "S-1",
        "status": "wait_for_receive",
        "shipmentNumbers": shipments,
        "dispatchDate": "2024-03-16 14:05:00",
        "sentAt": event,
    })
    .to_string()
}

fn notice(shipments: &[&str]) -> ShipmentNotice {
    let b = body("2024-03-16 14:05:03", shipments);
    let headers: Vec<(String, String)> = Vec::new();
    parser().parse(PushedRequest::new(&headers, b.as_bytes())).unwrap()
}

#[test]
fn forgetting_a_notice_removes_only_the_pairs_it_added() {
    let log = MemoryNoticeLog::default();
    let first = notice(&["A"]);
    assert!(log.record(&first).is_new());
    let second = log.record(&notice(&["A", "B"]));
    assert!(second.is_new());
    assert_eq!(second.added().len(), 1, "only parcel B is new: {second:?}");
    log.forget(&second);
    assert!(!log.record(&first).is_new(), "parcel A, handed on before, stays a duplicate");
    assert!(log.record(&notice(&["A", "B"])).is_new(), "parcel B, refused, is new again");
}

#[test]
fn a_duplicate_adds_nothing_to_forget() {
    let log = MemoryNoticeLog::default();
    let first = notice(&["A"]);
    assert!(log.record(&first).is_new());
    let again = log.record(&first);
    assert!(!again.is_new() && again.added().is_empty(), "{again:?}");
    log.forget(&again);
    assert!(!log.record(&first).is_new());
}

async fn post(url: &str, shipments: &[&str]) -> u16 {
    reqwest::Client::new()
        .post(url)
        .body(body("2024-03-16 14:05:03", shipments))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_notice_refused_with_503_leaves_an_earlier_notice_a_duplicate() {
    let log: Arc<dyn NoticeLog> = Arc::new(MemoryNoticeLog::default());
    // Room for one notice: the second finds the channel full.
    let (router, mut rx) = ShipmentReceiver::router("/n", parser(), log, 1);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/n", l.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(l, router).await.unwrap() });

    assert_eq!(post(&url, &["A"]).await, 200);
    assert_eq!(post(&url, &["A", "B"]).await, 503, "the channel is full");
    let handed = rx.try_recv().unwrap();
    assert_eq!(handed.tracking_numbers, ["A"]);
    // The wholesaler retries the first notice (its answer was lost): a duplicate, not handed on.
    assert_eq!(post(&url, &["A"]).await, 200);
    assert!(rx.try_recv().is_err(), "parcel A handed on twice");
    // The refused one comes back and is handed on.
    assert_eq!(post(&url, &["A", "B"]).await, 200);
    assert_eq!(rx.try_recv().unwrap().tracking_numbers, ["A", "B"]);
    server.abort();
}
