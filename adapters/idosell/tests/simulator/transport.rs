//! Replies the transport and the decoders must survive (§6, §9.1).

use std::time::Duration;

use loyalty_core::{CourierQuery, ErrorKind, OrderId, Provider};
use loyalty_idosell::simulated::SimulatedClock;
use loyalty_sim::idosell::demo;
use loyalty_sim::Fault;

use crate::common::*;

#[tokio::test]
async fn a_large_status_reply_is_read_order_by_order() {
    // G7 answers `Results` (capital R) here, `results` elsewhere (§6.1, checklist 22).
    let env = start().await;
    let ids: Vec<OrderId> =
        env.sim.probe.seed_orders(demo::LOGIN, 2_000).into_iter().map(OrderId::new).collect();
    let statuses = env.adapter().poll_orders(&ctx(), &ids).await.unwrap();
    assert_eq!(statuses.len(), 2_000);
    assert!(statuses.iter().all(|s| s.status == "new" && !s.dispatched));
    assert_eq!(statuses[1_999].order_id, ids[1_999]);
    assert!(env.entries("G7")[0].status == 200);
}

#[tokio::test]
async fn a_malformed_reply_is_a_protocol_error_and_the_next_call_works() {
    let env = start().await;
    env.handle().inject_route("G5", Fault::MalformedBody, Some(1));
    let f = env.fulfilment();
    let err = f.couriers(&ctx(), &CourierQuery::all()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    assert!(!err.message().contains("is_ok"), "vendor garbage is quoted scrubbed at most: {err}");
    assert_eq!(f.couriers(&ctx(), &CourierQuery::all()).await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_hanging_read_times_out_per_attempt_and_is_retried() {
    let env = start().await;
    let mut config = env.config();
    config.attempt_timeout = Duration::from_millis(400);
    let adapter = env.other_adapter(config, std::sync::Arc::new(SimulatedClock(env.clock.clone())));
    env.handle().inject_route("G5", Fault::Hang, Some(1));
    let started = std::time::Instant::now();
    let couriers = adapter.fulfilment().unwrap().couriers(&ctx(), &CourierQuery::all()).await.unwrap();
    assert_eq!(couriers.len(), 3);
    assert_eq!(env.count("G5"), 2);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_temporary_outage_of_a_read_is_retried_but_a_write_is_reconciled() {
    let env = start().await;
    env.handle().inject_route("G2", Fault::Status(503), Some(1));
    env.fulfilment().stock(&ctx(), &[line(demo::COFFEE_INTERNAL, "1")]).await.unwrap();
    assert_eq!(env.count("G2"), 2);
    env.handle().inject_route("G4", Fault::Status(503), Some(1));
    env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-503")).await.unwrap();
    // 503 on a write leaves the effect unknown: G7 first, then the placement.
    let routes = env.routes();
    assert_eq!(&routes[routes.len() - 5..], ["G3", "G4", "G7", "G3", "G4"]);
}
