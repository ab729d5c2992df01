//! `loyalty_sessionm::simulated` gives a ready adapter (feature `simulator`).
#![cfg(feature = "simulator")]

use loyalty_core::{Context, MemberLookup, OfferKind, Phone, Provider};
use loyalty_sim::sessionm::demo;

#[tokio::test]
async fn simulated_adapter_finds_the_demo_member_on_all_three_families() {
    let (adapter, server) = loyalty_sessionm::simulated::start().await.unwrap();
    let ctx = Context::new();
    let m = adapter
        .members()
        .unwrap()
        .find(&ctx, &MemberLookup::Phone(Phone::new("+47", "41234567")))
        .await
        .unwrap()
        .expect("demo member");
    assert_eq!(m.id.as_str(), demo::USER_ID);
    adapter.members().unwrap().get(&ctx, &m.id).await.unwrap();
    let journal = server.handle().journal();
    assert_eq!(journal.count("POST", "/api/2.0/lookup"), 1);
    assert_eq!(journal.count("GET", "/priv/v1/apps/"), 1);
    assert_eq!(journal.count("POST", "/incentives/"), 1);
}

#[tokio::test]
async fn the_suite_environment_basket_has_a_vendor_priced_offer_waiting_for_confirmation() {
    let sim = loyalty_sessionm::simulated::start_with(Default::default(), Default::default()).await.unwrap();
    let env = loyalty_sessionm::simulated::environment(&sim);
    let offers = sim
        .adapter
        .offers()
        .unwrap()
        .list(&Context::new(), Some(env.member_id()), Some(env.basket()))
        .await
        .unwrap();
    let priced = loyalty_core::pricing::price(env.basket(), &offers, &[], env.now()).unwrap();
    let first = priced.needs_confirmation.first().expect("an offer waits for the customer");
    let offer = offers.iter().find(|o| &o.id == first).unwrap();
    assert!(matches!(offer.kind, OfferKind::VendorPriced { discount: Some(_), .. }), "{:?}", offer.kind);
}
