//! The shared conformance suite against the SessionM simulator.

#![cfg(feature = "simulator")]

use loyalty_conformance::{run, Status, Target};
use loyalty_sessionm::simulated;
use loyalty_sim::sessionm::SessionmSettings;
use loyalty_sim::SimClock;

#[tokio::test]
async fn sessionm_passes_the_conformance_suite_on_its_simulator() {
    let sim = simulated::start_with(SessionmSettings::default(), SimClock::default())
        .await
        .expect("simulator starts");
    let report = run(&sim.adapter, &simulated::environment(&sim), Target::Simulator, |_| {}).await;
    println!("{}", loyalty_conformance::Report { adapters: vec![report.clone()] }.to_text());
    let failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.status == Status::Fail)
        .map(|s| format!("{}: {}", s.name, s.reason.clone().unwrap_or_default()))
        .collect();
    assert!(failures.is_empty(), "failed scenarios:\n{}", failures.join("\n"));
    // Skips only for capabilities SessionM does not declare.
    for s in report.scenarios.iter().filter(|s| s.status == Status::Skip) {
        assert!(s.reason.as_deref().is_some_and(|r| r.starts_with("needs ")), "{}: {:?}", s.name, s.reason);
    }
    // The bar: at least 25 passing scenarios, every claim proven.
    assert!(report.count(Status::Pass) >= 25, "{} pass", report.count(Status::Pass));
    for name in [
        "holds.lock_expires",
        "offers.list_with_basket",
        "offers.vendor_priced_discount_taken_as_given",
        "redemptions.redeem_and_reinstate",
        "transactions.return.resend_without_lines",
        "transactions.cancel",
        "transactions.send_same_id_again_replaces",
        "capabilities.claims_proven",
    ] {
        let s = report.scenarios.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("{name} ran"));
        assert_eq!(s.status, Status::Pass, "{name}: {:?}", s.reason);
    }
}
