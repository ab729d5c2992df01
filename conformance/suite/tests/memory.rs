//! The memory provider is the oracle: every scenario passes against it.

use loyalty_conformance::{run, Environment, Status, Target};
use loyalty_core::{Capabilities, Provider};
use loyalty_memory::{demo, MemoryProvider};

fn memory_env(provider: &MemoryProvider, clock: loyalty_core::ManualClock) -> Environment {
    let now = clock.clone();
    let tokens = provider.clone();
    demo::member_lookups()
        .into_iter()
        .fold(Environment::new(demo::MEMBER_ID, demo::basket()), Environment::with_lookup)
        .with_cart_products(demo::PRODUCT_SOCKS, demo::PRODUCT_SOCKS_PREMIUM)
        .with_dropship(demo::PRODUCT_COFFEE, demo::COURIER)
        .with_now(move || loyalty_core::Clock::now(&now))
        .with_activation_tokens(move |id| tokens.activation_token(id))
        .with_clock(move |d| clock.advance(d))
}

/// The memory provider under another declaration: what a dishonest or partial adapter looks
/// like to the suite.
struct Redeclared {
    inner: MemoryProvider,
    caps: Capabilities,
    hide_holds: bool,
}

impl Provider for Redeclared {
    fn name(&self) -> &str {
        "memory-redeclared"
    }
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
    fn members(&self) -> Option<&dyn loyalty_core::Members> {
        self.inner.members()
    }
    fn offers(&self) -> Option<&dyn loyalty_core::Offers> {
        self.inner.offers()
    }
    fn holds(&self) -> Option<&dyn loyalty_core::Holds> {
        if self.hide_holds {
            None
        } else {
            self.inner.holds()
        }
    }
    fn redemptions(&self) -> Option<&dyn loyalty_core::Redemptions> {
        self.inner.redemptions()
    }
    fn transactions(&self) -> Option<&dyn loyalty_core::Transactions> {
        self.inner.transactions()
    }
    fn carts(&self) -> Option<&dyn loyalty_core::Carts> {
        self.inner.carts()
    }
    fn fulfilment(&self) -> Option<&dyn loyalty_core::Fulfilment> {
        self.inner.fulfilment()
    }
}

async fn run_redeclared(
    change: impl FnOnce(&mut Capabilities),
    hide_holds: bool,
) -> loyalty_conformance::AdapterReport {
    let (inner, clock) = MemoryProvider::demo_manual();
    let env = memory_env(&inner, clock);
    let mut caps = inner.capabilities().clone();
    change(&mut caps);
    run(&Redeclared { inner, caps, hide_holds }, &env, Target::Memory, |_| {}).await
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
    let report = run_redeclared(|c| c.hold = None, true).await;
    let hold = report.scenarios.iter().find(|s| s.name == "holds.hold_and_release").unwrap();
    assert_eq!(hold.status, Status::Skip);
    assert_eq!(hold.reason.as_deref(), Some("needs hold"));
    assert!(report.failures().is_empty(), "{:#?}", report.failures());
}

#[tokio::test]
async fn an_operation_that_works_but_is_not_declared_fails_honesty() {
    // Declares no register capability although register works: honesty must catch it.
    let report = run_redeclared(|c| c.register = false, false).await;
    let honesty = report.scenarios.iter().find(|s| s.name == "capabilities.honesty").unwrap();
    assert_eq!(honesty.status, Status::Fail);
    assert!(honesty.reason.as_deref().unwrap().contains("members.register"), "{:?}", honesty.reason);
}

#[tokio::test]
async fn a_declared_capability_without_a_passing_scenario_fails_the_claims_check() {
    // Declares holds but offers no `Holds`: no hold scenario can pass, so the claim is
    // unproven (and honesty reports the missing accessor too).
    let report =
        run_redeclared(|c| c.hold = Some(loyalty_core::HoldStyle::Lock { default_ttl_secs: 900 }), true)
            .await;
    let claims = report.scenarios.iter().find(|s| s.name == "capabilities.claims_proven").unwrap();
    assert_eq!(claims.status, Status::Fail, "{claims:?}");
    assert!(claims.reason.as_deref().unwrap().contains("hold"), "{:?}", claims.reason);
}
