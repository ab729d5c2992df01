//! `loyalty_diller::simulated` gives a ready adapter (feature `simulator`).
#![cfg(feature = "simulator")]

use loyalty_core::{Context, MemberLookup, Phone, Provider};
use loyalty_sim::diller::demo;

#[tokio::test]
async fn simulated_adapter_finds_the_demo_member() {
    let (adapter, server) = loyalty_diller::simulated::start().await.unwrap();
    let m = adapter
        .members()
        .unwrap()
        .find(&Context::new(), &MemberLookup::Phone(Phone::new("+47", "41234567")))
        .await
        .unwrap()
        .expect("demo member");
    assert_eq!(m.id.as_str(), demo::MEMBER_ID);
    assert_eq!(server.handle().journal().count("POST", "/connect/token"), 1);
}
