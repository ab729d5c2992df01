//! The memory provider is the oracle: every scenario passes against it.

use loyalty_conformance::{run, Environment, Status, Target};
use loyalty_core::{MemberLookup, Phone};
use loyalty_memory::{demo, MemoryProvider};

fn memory_env(provider: &MemoryProvider, clock: loyalty_core::ManualClock) -> Environment {
    let now = clock.clone();
    let tokens = provider.clone();
    Environment::new(demo::MEMBER_ID, demo::basket())
        .with_lookup(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        .with_lookup(MemberLookup::Email(demo::MEMBER_EMAIL.into()))
        .with_lookup(MemberLookup::NationalId(demo::MEMBER_NATIONAL_ID.into()))
        .with_lookup(MemberLookup::DriversLicense(demo::MEMBER_LICENSE.into()))
        .with_lookup(MemberLookup::ExternalId(demo::MEMBER_CARD.into()))
        .with_cart_products(demo::PRODUCT_SOCKS, demo::PRODUCT_SOCKS_PREMIUM)
        .with_dropship(demo::PRODUCT_COFFEE, demo::COURIER)
        .with_now(move || loyalty_core::Clock::now(&now))
        .with_activation_tokens(move |id| tokens.activation_token(id))
        .with_clock(move |d| clock.advance(d))
}

#[tokio::test]
async fn every_scenario_passes_against_the_memory_provider() {
    let (provider, clock) = MemoryProvider::demo_manual();
    let report = run(&provider, &memory_env(&provider, clock), Target::Memory, |_| {}).await;
    let failures: Vec<_> = report.failures();
    assert!(failures.is_empty(), "failures: {failures:#?}");
    let skipped: Vec<_> = report.scenarios.iter().filter(|s| s.status == Status::Skip).collect();
    // Memory gives offers back by an explicit reinstate, so the on-cancel scenario is the one
    // it skips, for that reason.
    assert_eq!(skipped.len(), 1, "{skipped:#?}");
    assert_eq!(skipped[0].name, "transactions.cancel_gives_offers_back");
    assert_eq!(skipped[0].reason.as_deref(), Some("needs reinstate.on_cancel"));
    assert!(report.count(Status::Pass) >= 30, "{}", report.count(Status::Pass));
}

#[tokio::test]
async fn a_scenario_without_its_capability_is_skipped_with_the_reason() {
    struct NoHolds(MemoryProvider, loyalty_core::Capabilities);
    impl loyalty_core::Provider for NoHolds {
        fn name(&self) -> &str {
            "memory-no-holds"
        }
        fn capabilities(&self) -> &loyalty_core::Capabilities {
            &self.1
        }
        fn members(&self) -> Option<&dyn loyalty_core::Members> {
            self.0.members()
        }
        fn offers(&self) -> Option<&dyn loyalty_core::Offers> {
            self.0.offers()
        }
        fn holds(&self) -> Option<&dyn loyalty_core::Holds> {
            None
        }
        fn redemptions(&self) -> Option<&dyn loyalty_core::Redemptions> {
            self.0.redemptions()
        }
        fn transactions(&self) -> Option<&dyn loyalty_core::Transactions> {
            self.0.transactions()
        }
        fn carts(&self) -> Option<&dyn loyalty_core::Carts> {
            self.0.carts()
        }
        fn fulfilment(&self) -> Option<&dyn loyalty_core::Fulfilment> {
            self.0.fulfilment()
        }
    }
    use loyalty_core::Provider;
    let (inner, clock) = MemoryProvider::demo_manual();
    let mut caps = inner.capabilities().clone();
    caps.hold = None;
    let env = memory_env(&inner, clock);
    let report = run(&NoHolds(inner, caps), &env, Target::Memory, |_| {}).await;
    let hold = report.scenarios.iter().find(|s| s.name == "holds.hold_and_release").unwrap();
    assert_eq!(hold.status, Status::Skip);
    assert_eq!(hold.reason.as_deref(), Some("needs hold"));
    assert!(report.failures().is_empty(), "{:#?}", report.failures());
}

#[tokio::test]
async fn a_claimed_capability_without_implementation_fails_honesty() {
    struct Liar(MemoryProvider, loyalty_core::Capabilities);
    impl loyalty_core::Provider for Liar {
        fn name(&self) -> &str {
            "liar"
        }
        fn capabilities(&self) -> &loyalty_core::Capabilities {
            &self.1
        }
        fn members(&self) -> Option<&dyn loyalty_core::Members> {
            self.0.members()
        }
        fn offers(&self) -> Option<&dyn loyalty_core::Offers> {
            self.0.offers()
        }
        fn holds(&self) -> Option<&dyn loyalty_core::Holds> {
            self.0.holds()
        }
        fn redemptions(&self) -> Option<&dyn loyalty_core::Redemptions> {
            self.0.redemptions()
        }
        fn transactions(&self) -> Option<&dyn loyalty_core::Transactions> {
            self.0.transactions()
        }
        fn carts(&self) -> Option<&dyn loyalty_core::Carts> {
            self.0.carts()
        }
        fn fulfilment(&self) -> Option<&dyn loyalty_core::Fulfilment> {
            self.0.fulfilment()
        }
    }
    use loyalty_core::Provider;
    let (inner, clock) = MemoryProvider::demo_manual();
    // Declares no register capability although register works: honesty must catch it.
    let mut caps = inner.capabilities().clone();
    caps.register = false;
    let env = memory_env(&inner, clock);
    let report = run(&Liar(inner, caps), &env, Target::Memory, |_| {}).await;
    let honesty = report.scenarios.iter().find(|s| s.name == "capabilities.honesty").unwrap();
    assert_eq!(honesty.status, Status::Fail);
    assert!(honesty.reason.as_deref().unwrap().contains("members.register"), "{:?}", honesty.reason);
}
