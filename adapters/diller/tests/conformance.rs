//! The shared conformance suite against the Diller simulator.

#![cfg(feature = "simulator")]

use loyalty_conformance::{run, Status, Target};
use loyalty_diller::simulated;
use loyalty_sim::diller::DillerSettings;
use loyalty_sim::SimClock;

#[tokio::test]
async fn diller_passes_the_conformance_suite_on_its_simulator() {
    let sim = simulated::start_with(DillerSettings::default(), SimClock::default())
        .await
        .expect("simulator starts");
    let report = run(&sim.adapter, &simulated::environment(&sim), Target::Simulator, |_| {}).await;
    let failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.status == Status::Fail)
        .map(|s| format!("{}: {}", s.name, s.reason.clone().unwrap_or_default()))
        .collect();
    assert!(failures.is_empty(), "failed scenarios:\n{}", failures.join("\n"));
    println!("{}", loyalty_conformance::Report { adapters: vec![report.clone()] }.to_text());
    // Every declared capability has a passing scenario (capabilities.claims_proven).
    assert!(report.count(Status::Pass) > 10);
}
