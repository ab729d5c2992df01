//! The control API drives a running simulator over HTTP as the Rust tests do through handles
//! and probes: clock, faults, journal and vendor events.

use loyalty_sim::diller::{DillerSettings, DillerSim};
use loyalty_sim::idosell::{demo, IdosellSettings, IdosellSim};
use loyalty_sim::SimClock;
use serde_json::{json, Value};

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn clock_faults_and_journal_over_http() {
    let clock = SimClock::at("2026-01-15T10:00:00Z".parse().unwrap());
    let (server, _probe) = DillerSim::start_on_port(DillerSettings::default(), clock, 0, true).await.unwrap();
    let base = server.base_url().to_string();

    let (status, v) = get(&format!("{base}/_sim")).await;
    assert_eq!(status, 200);
    assert_eq!(v["now"], "2026-01-15T10:00:00+00:00");

    let (_, v) = post(&format!("{base}/_sim/clock"), json!({"advance_secs": 3600})).await;
    assert_eq!(v["now"], "2026-01-15T11:00:00+00:00");
    assert_eq!(server.handle().clock().now().to_rfc3339(), "2026-01-15T11:00:00+00:00");
    let (status, _) = post(&format!("{base}/_sim/clock"), json!({"set": "yesterday"})).await;
    assert_eq!(status, 400);

    let (status, _) = post(
        &format!("{base}/_sim/faults"),
        json!({"fault": {"status": 503}, "path_prefix": "/connect/token", "times": 1}),
    )
    .await;
    assert_eq!(status, 204);
    let token = reqwest::Client::new().post(format!("{base}/connect/token")).send().await.unwrap();
    assert_eq!(token.status().as_u16(), 503, "the injected fault answered");
    let (status, _) = post(&format!("{base}/_sim/faults"), json!({"fault": "teleport"})).await;
    assert_eq!(status, 400);

    let (_, journal) = get(&format!("{base}/_sim/journal")).await;
    let entries = journal.as_array().unwrap();
    assert_eq!(entries.len(), 1, "control calls are not journaled: {journal}");
    assert_eq!(entries[0]["path"], "/connect/token");
    assert_eq!(entries[0]["status"], 503);
    let cleared = reqwest::Client::new().delete(format!("{base}/_sim/journal")).send().await.unwrap();
    assert_eq!(cleared.status().as_u16(), 204);
    assert_eq!(get(&format!("{base}/_sim/journal")).await.1, json!([]));
}

#[tokio::test]
async fn without_control_the_prefix_is_the_vendors() {
    let (server, _probe) =
        DillerSim::start_on_port(DillerSettings::default(), SimClock::default(), 0, false).await.unwrap();
    let (status, _) = get(&format!("{}/_sim", server.base_url())).await;
    assert_ne!(status, 200);
}

#[tokio::test]
async fn an_idosell_dispatch_is_a_vendor_event() {
    let (server, probe) =
        IdosellSim::start_on_port(IdosellSettings::default(), SimClock::default(), 0, true).await.unwrap();
    let base = server.base_url().to_string();
    let (_, v) = get(&format!("{base}/_sim")).await;
    assert_eq!(v["events"][0]["name"], "dispatch");
    let order = probe.seed_orders(demo::LOGIN, 1).remove(0);
    let (status, v) =
        post(&format!("{base}/_sim/events/dispatch"), json!({"order_id": order, "parcels": 2})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["tracking_numbers"].as_array().map(Vec::len), Some(2));
    assert_eq!(probe.shipment_numbers(&order).map(|n| n.len()), Some(2));
    let (status, _) = post(&format!("{base}/_sim/events/dispatch"), json!({"order_id": order})).await;
    assert_eq!(status, 400, "already dispatched");
    let (status, _) = post(&format!("{base}/_sim/events/earthquake"), json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn control_faults_aim_at_a_diller_route_or_one_whole_path() {
    let (server, _probe) =
        DillerSim::start_on_port(DillerSettings::default(), SimClock::default(), 0, true).await.unwrap();
    let base = server.base_url().to_string();
    let http = reqwest::Client::new();
    let token = || http.post(format!("{base}/connect/token"));
    let (status, _) =
        post(&format!("{base}/_sim/faults"), json!({"fault": {"status": 503}, "route": "token"})).await;
    assert_eq!(status, 204);
    assert_eq!(token().send().await.unwrap().status().as_u16(), 503, "route `token` hit");
    reqwest::Client::new().delete(format!("{base}/_sim/faults")).send().await.unwrap();
    // A whole-path rule on `/connect` leaves `/connect/token` alone.
    let (status, _) =
        post(&format!("{base}/_sim/faults"), json!({"fault": {"status": 503}, "path": "/connect"})).await;
    assert_eq!(status, 204);
    assert_ne!(token().send().await.unwrap().status().as_u16(), 503);
}
