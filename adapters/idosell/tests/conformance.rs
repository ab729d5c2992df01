//! The shared conformance suite against the IdoSell simulator.

#![cfg(feature = "simulator")]

use loyalty_conformance::{run, Status, Target};
use loyalty_idosell::simulated;

#[tokio::test]
async fn idosell_passes_the_conformance_suite_on_its_simulator() {
    let sim = simulated::start().await.expect("simulator starts");
    let report = run(&sim.adapter, &simulated::environment(&sim), Target::Simulator, |_| {}).await;
    println!("{}", loyalty_conformance::Report { adapters: vec![report.clone()] }.to_text());
    let failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.status == Status::Fail)
        .map(|s| format!("{}: {}", s.name, s.reason.clone().unwrap_or_default()))
        .collect();
    assert!(failures.is_empty(), "failed scenarios:\n{}", failures.join("\n"));
    // The bar: no failure and at least twelve passing scenarios.
    assert!(report.count(Status::Pass) >= 12, "{} passed", report.count(Status::Pass));
}
