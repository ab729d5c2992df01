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

// §7.2, §8.3: the lock lifetime is the tenant's; started against a simulator whose locks last
// 60 s, the adapter's holds expire after 60 s and it declares that lifetime.
#[tokio::test]
async fn holds_expire_when_the_simulator_s_shorter_locks_lapse() {
    use loyalty_core::{HoldRequest, HoldStyle, MemberId, Offer, OfferRef, TransactionId, VendorRule};
    let mut settings = loyalty_sim::sessionm::SessionmSettings::default();
    settings.lock_ttl_secs = 60;
    let clock = loyalty_sim::SimClock::default();
    let sim = loyalty_sessionm::simulated::start_with(settings, clock.clone()).await.unwrap();
    assert_eq!(sim.adapter.config().lock_ttl, std::time::Duration::from_secs(60));
    assert_eq!(sim.adapter.capabilities().hold, Some(HoldStyle::Lock { default_ttl_secs: 60 }));
    let env = loyalty_sessionm::simulated::environment(&sim);
    let offer = Offer::new(
        demo::UO_FIXED_CHECK,
        "50 kr off",
        OfferKind::VendorPriced { rule: VendorRule::Check, discount: None },
    )
    .with_reference(OfferRef::id(demo::UO_FIXED_CHECK));
    let req = HoldRequest::new(MemberId::new(demo::USER_ID), offer, TransactionId::new("T-60"))
        .with_basket(env.basket().clone());
    let before = clock.now();
    let hold = sim.adapter.holds().unwrap().hold(&Context::new(), &req).await.unwrap();
    assert_eq!(hold.expires_at - before, chrono::Duration::seconds(60));
    // At the hold's expiry the simulator's lock has lapsed too: another order may lock it.
    clock.advance(std::time::Duration::from_secs(60));
    let other = HoldRequest::new(req.member.clone(), req.offer.clone(), TransactionId::new("T-61"))
        .with_basket(env.basket().clone());
    sim.adapter.holds().unwrap().hold(&Context::new(), &other).await.expect("the lock lapsed with the hold");
}
