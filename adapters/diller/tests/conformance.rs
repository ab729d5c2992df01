//! The shared conformance suite against the Diller simulator.

mod common;

use std::time::Duration;

use common::*;
use loyalty_conformance::{run, Environment, Status, Target};
use loyalty_core::{Basket, Currency, Line, MemberLookup, Phone};
use loyalty_sim::diller::{demo, DillerSettings};

fn environment(env: &Env) -> Environment {
    // Two coffees (coupon COFFEE20 and stamp card 17 cover them) and a book.
    let basket = Basket::new(Currency::NOK)
        .with_line(Line::new("l1", demo::PRODUCT_COFFEE, dec("2"), nok("49.00")))
        .with_line(Line::new("l2", "BOOK-1", dec("1"), nok("349.00")));
    let advance = env.clock.clone();
    let now = env.clock.clone();
    let probe = env.probe.clone();
    Environment::new(demo::MEMBER_ID, basket)
        .with_lookup(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .with_lookup(MemberLookup::Email(demo::MEMBER_EMAIL.into()))
        .with_lookup(MemberLookup::ExternalId(demo::MEMBER_IDENTIFIER.into()))
        .with_department(demo::DEPARTMENT_ID)
        .with_clock(move |d| advance.advance(d))
        .with_now(move || now.now())
        .with_activation_tokens(move |m| probe.activation_token(m.as_str()))
}

#[tokio::test]
async fn diller_passes_the_conformance_suite_on_its_simulator() {
    let env = start_with(DillerSettings::default(), Duration::from_secs(5)).await;
    let report = run(&env.adapter, &environment(&env), Target::Simulator, |_| {}).await;
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
