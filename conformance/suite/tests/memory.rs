//! The memory provider is the oracle: every scenario passes against it.

use loyalty_conformance::memory::environment;
use loyalty_conformance::{run, Status, Target};
use loyalty_core::{Capabilities, Provider};
use loyalty_memory::MemoryProvider;

async fn run_redeclared(
    change: impl FnOnce(&mut Capabilities),
    hide_holds: bool,
) -> loyalty_conformance::AdapterReport {
    let (inner, clock) = MemoryProvider::demo_manual();
    let env = environment(&inner, clock);
    let redeclared = inner.redeclared(change);
    let redeclared = if hide_holds { redeclared.hiding_holds() } else { redeclared };
    run(&redeclared, &env, Target::Memory, |_| {}).await
}

#[tokio::test]
async fn every_scenario_passes_against_the_memory_provider() {
    let (provider, clock) = MemoryProvider::demo_manual();
    let report = run(&provider, &environment(&provider, clock), Target::Memory, |_| {}).await;
    let failures: Vec<_> = report.failures();
    assert!(failures.is_empty(), "failures: {failures:#?}");
    let skipped: Vec<(&str, Option<&str>)> = report
        .scenarios
        .iter()
        .filter(|s| s.status == Status::Skip)
        .map(|s| (s.name.as_str(), s.reason.as_deref()))
        .collect();
    // Memory declares everything but the alternatives it does not take: its holds are locks,
    // not reservations, a resent id is deduplicated, not an upsert, and a guest's sale is
    // recorded like a member's.
    assert_eq!(
        skipped,
        vec![
            ("holds.reservation_stays_until_released", Some("needs hold.reserve")),
            ("transactions.send_same_id_again_replaces", Some("needs resend.upsert")),
            ("checkout.guest_refused_before_charge", Some("needs send_needs_member")),
        ]
    );
    assert!(report.count(Status::Pass) >= 44, "{}", report.count(Status::Pass));
}

#[tokio::test]
async fn a_scenario_without_its_capability_is_skipped_with_the_reason() {
    let report = run_redeclared(
        |c| {
            c.hold = None;
            c.usage_counting = loyalty_core::UsageCounting::AtCommit;
        },
        true,
    )
    .await;
    let hold = report.scenarios.iter().find(|s| s.name == "holds.hold_and_release").unwrap();
    assert_eq!(hold.status, Status::Skip);
    assert_eq!(hold.reason.as_deref(), Some("needs hold"));
    assert!(report.failures().is_empty(), "{:#?}", report.failures());
}

#[tokio::test]
async fn an_operation_that_works_but_is_not_declared_is_refused_before_the_adapter() {
    // Declares no register capability although register works: the core's check answers
    // Unsupported before the provider is called, so honesty holds and nothing is registered.
    let report = run_redeclared(|c| c.register = false, false).await;
    let honesty = report.scenarios.iter().find(|s| s.name == "capabilities.honesty").unwrap();
    assert_eq!(honesty.status, Status::Pass, "{:?}", honesty.reason);
    let register = report.scenarios.iter().find(|s| s.name == "members.register").unwrap();
    assert_eq!(register.status, Status::Skip);

    let (inner, _clock) = MemoryProvider::demo_manual();
    let before = inner.member_count();
    let checked = loyalty_core::Checked::new(inner.redeclared(|c| c.register = false));
    let err = checked
        .members()
        .unwrap()
        .register(
            &loyalty_core::Context::new(),
            &loyalty_core::RegisterMember::new().with_email("x@example.com"),
        )
        .await
        .unwrap_err();
    assert!(err.is_unsupported(), "{err}");
    assert_eq!(err.effect(), loyalty_core::WriteEffect::NotSent);
    assert!(err.message().contains("register"), "{err}");
    assert_eq!(inner.member_count(), before, "the provider was never called");
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

#[tokio::test]
async fn a_provider_without_offline_upgrades_refuses_them_before_the_adapter() {
    // Declares same-payment upgrades only: the offline scenarios are skipped, and honesty
    // checks that an offline upgrade answers Unsupported without reaching the provider.
    let report = run_redeclared(|c| c.offline_upgrades = false, false).await;
    let honesty = report.scenarios.iter().find(|s| s.name == "capabilities.honesty").unwrap();
    assert_eq!(honesty.status, Status::Pass, "{:?}", honesty.reason);
    let offline =
        report.scenarios.iter().find(|s| s.name == "carts.offline_upgrade_paid_in_a_new_cart").unwrap();
    assert_eq!((offline.status, offline.reason.as_deref()), (Status::Skip, Some("needs offline_upgrades")));
    assert!(report.failures().is_empty(), "{:#?}", report.failures());
}

/// The memory provider whose wholesaler panics whenever it is asked for.
struct PanickingWholesaler(MemoryProvider);

impl Provider for PanickingWholesaler {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn capabilities(&self) -> &Capabilities {
        self.0.capabilities()
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
        panic!("the wholesaler exploded")
    }
}

#[tokio::test]
async fn a_panicking_provider_fails_its_scenarios_and_the_run_goes_on() {
    let (inner, clock) = MemoryProvider::demo_manual();
    let env = environment(&inner, clock);
    let report = run(&PanickingWholesaler(inner), &env, Target::Memory, |_| {}).await;
    assert_eq!(report.scenarios.len(), loyalty_conformance::scenarios::all().len() + 1);
    let status = |name: &str| {
        let s = report.scenarios.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no {name}"));
        (s.status, s.reason.clone())
    };
    for name in
        ["capabilities.honesty", "fulfilment.dropship_order", "fulfilment.calls_across_warsaw_midnight"]
    {
        assert_eq!(
            status(name),
            (Status::Fail, Some("panicked: the wholesaler exploded".to_string())),
            "{name}"
        );
    }
    // Scenarios that never reach the wholesaler, before and after the panics, still pass.
    assert_eq!(status("members.get"), (Status::Pass, None));
    assert_eq!(status("transactions.send"), (Status::Pass, None));
    assert_eq!(status("carts.upgrade_charges_new_minus_paid"), (Status::Pass, None));
}

#[tokio::test]
async fn a_cart_setup_without_an_upgrade_fails_the_upgrade_scenarios_without_panicking() {
    use loyalty_memory::demo;
    let (provider, clock) = MemoryProvider::demo_manual();
    let setup = loyalty_conformance::CartSetup::new(
        loyalty_core::Currency::NOK,
        vec![demo::PRODUCT_SOCKS.into()],
        demo::PRODUCT_COFFEE,
        demo::card_approved(),
        demo::cart_customer(),
    );
    let env = environment(&provider, clock).with_carts(setup);
    let report = run(&provider, &env, Target::Memory, |_| {}).await;
    let upgrade = report.scenarios.iter().find(|s| s.name == "carts.upgrade_charges_new_minus_paid").unwrap();
    assert_eq!(upgrade.status, Status::Fail);
    let reason = upgrade.reason.as_deref().unwrap();
    assert!(reason.contains("names no upgrade") && reason.contains("1 product(s)"), "{reason}");
    assert!(!reason.contains("panicked"), "{reason}");
    // Carts without upgrades still run on the one product.
    let checkout = report.scenarios.iter().find(|s| s.name == "carts.checkout_twice_is_one_order").unwrap();
    assert_eq!(checkout.status, Status::Pass, "{:?}", checkout.reason);
}

/// The memory provider, except that reinstating a redemption a second time gives another use
/// back (what the contract forbids): a later redeem the memory provider refuses is answered as
/// a success.
struct TwoUsesBack {
    inner: MemoryProvider,
    reinstated: std::sync::Mutex<Vec<loyalty_core::Redemption>>,
    extra: std::sync::Mutex<Vec<loyalty_core::Redemption>>,
}

#[async_trait::async_trait]
impl loyalty_core::Redemptions for TwoUsesBack {
    async fn redeem(
        &self,
        ctx: &loyalty_core::Context,
        request: &loyalty_core::RedeemRequest,
    ) -> loyalty_core::Result<loyalty_core::Redemption> {
        let answer = self.inner.redemptions().unwrap().redeem(ctx, request).await;
        match answer {
            Err(e) if *e.kind() == loyalty_core::ErrorKind::Conflict => {
                self.extra.lock().unwrap().pop().ok_or(e)
            }
            other => other,
        }
    }

    async fn reinstate(
        &self,
        ctx: &loyalty_core::Context,
        redemption: &loyalty_core::Redemption,
    ) -> loyalty_core::Result<()> {
        let again = self.reinstated.lock().unwrap().contains(redemption);
        if again {
            self.extra.lock().unwrap().push(redemption.clone());
            return Ok(());
        }
        self.reinstated.lock().unwrap().push(redemption.clone());
        self.inner.redemptions().unwrap().reinstate(ctx, redemption).await
    }
}

impl Provider for TwoUsesBack {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    fn members(&self) -> Option<&dyn loyalty_core::Members> {
        self.inner.members()
    }
    fn offers(&self) -> Option<&dyn loyalty_core::Offers> {
        self.inner.offers()
    }
    fn holds(&self) -> Option<&dyn loyalty_core::Holds> {
        self.inner.holds()
    }
    fn redemptions(&self) -> Option<&dyn loyalty_core::Redemptions> {
        Some(self)
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

#[tokio::test]
async fn reinstating_twice_must_give_one_use_back_not_two() {
    let (inner, clock) = MemoryProvider::demo_manual();
    let env = environment(&inner, clock);
    let honest = loyalty_conformance::scenarios::redeem_and_reinstate(&inner, &env).await;
    assert_eq!(honest, Ok(()));
    let generous = TwoUsesBack { inner, reinstated: Default::default(), extra: Default::default() };
    let outcome = loyalty_conformance::scenarios::redeem_and_reinstate(&generous, &env).await;
    match outcome {
        Err(loyalty_conformance::Verdict::Fail(reason)) => {
            assert!(reason.contains("one use back, not two"), "{reason}")
        }
        other => panic!("a provider giving two uses back passed: {other:?}"),
    }
}
