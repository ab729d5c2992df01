//! The shared conformance suite against the eManage simulator.

#![cfg(feature = "simulator")]

use loyalty_conformance::{run, Status, Target};
use loyalty_emanage::simulated;
use loyalty_sim::emanage::EmanageSettings;
use loyalty_sim::SimClock;

#[tokio::test]
async fn emanage_passes_the_conformance_suite_on_its_simulator() {
    let sim = simulated::start_with(EmanageSettings::default(), SimClock::default())
        .await
        .expect("simulator starts");
    let report = run(&sim.adapter, &simulated::environment(&sim), Target::Simulator, |_| {}).await;
    let failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.status == Status::Fail)
        .map(|s| format!("{}: {}", s.name, s.reason.clone().unwrap_or_default()))
        .collect();
    println!("{}", loyalty_conformance::Report { adapters: vec![report.clone()] }.to_text());
    assert!(failures.is_empty(), "failed scenarios:\n{}", failures.join("\n"));
    // The bar: at least 15 scenarios pass for eManage.
    assert!(report.count(Status::Pass) >= 15, "{} passing", report.count(Status::Pass));
}
