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
    // not reservations, and a resent id is deduplicated, not an upsert.
    assert_eq!(
        skipped,
        vec![
            ("holds.reservation_stays_until_released", Some("needs hold.reserve")),
            ("transactions.send_same_id_again_replaces", Some("needs resend.upsert")),
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
