//! The conformance suite: named scenarios every provider runs, each gated by the capabilities
//! it needs.
//!
//! A scenario whose capability is missing is reported as skipped with the reason, never as
//! passed. Two scenarios check the declaration itself: `capabilities.honesty` (every
//! undeclared operation answers `Unsupported`) and `capabilities.claims_proven` (every declared
//! capability has a passing scenario).
//!
//! ```
//! use loyalty_conformance::{run, Environment, Target};
//! use loyalty_memory::{demo, MemoryProvider};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let (provider, clock) = MemoryProvider::demo_manual();
//! let env = demo_env(clock);
//! let report = run(&provider, &env, Target::Memory, |_| {}).await;
//! let phone = report.scenarios.iter().find(|s| s.name == "members.find.phone").unwrap();
//! assert_eq!(phone.status, loyalty_conformance::Status::Pass);
//! println!("{}", report_text(&report));
//! # fn report_text(r: &loyalty_conformance::AdapterReport) -> String {
//! #     loyalty_conformance::Report { adapters: vec![r.clone()] }.to_text()
//! # }
//! # });
//! # fn demo_env(clock: loyalty_core::ManualClock) -> Environment {
//! #     Environment::new(demo::MEMBER_ID, demo::basket())
//! #         .with_lookup(loyalty_core::MemberLookup::Phone(loyalty_core::Phone::new("+47", demo::MEMBER_PHONE)))
//! #         .with_clock(move |d| clock.advance(d))
//! # }
//! ```
//!
//! The scenario functions are public for adapters' own tests but are not a stable API.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod docs;
mod env;
pub mod memory;
mod report;
pub mod scenarios;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::Poll;

use loyalty_core::{Checked, Provider};

pub use env::{CartSetup, DispatchFuture, Environment, PushedNotice};
pub use report::{AdapterReport, Report, ScenarioResult, Status, Target};

/// Why a scenario did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A check failed.
    Fail(String),
    /// The scenario cannot run here (for a reason other than a missing capability).
    Skip(String),
}

/// A scenario's result before it is put in the report.
pub type Outcome = Result<(), Verdict>;

/// A boxed scenario future.
pub type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// One named conformance check.
#[derive(Clone)]
pub struct Scenario {
    /// Name, `<area>.<behaviour>`.
    pub name: String,
    /// Capability labels it needs ([`loyalty_core::Capabilities::labels`]: `"hold.lock"`,
    /// `"lookups.phone"`); all must be declared for it to run.
    pub needs: Vec<String>,
    /// The check.
    pub run: for<'a> fn(&'a dyn Provider, &'a Environment) -> ScenarioFuture<'a>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario").field("name", &self.name).field("needs", &self.needs).finish()
    }
}

/// Runs a scenario so that a panic in it (or in the provider under it) is its failure, not
/// the end of the run: every poll is wrapped in `catch_unwind`, and a panic answers a
/// [`Verdict::Fail`] with the panic's message. The future is not polled again after it.
async fn isolated<'a>(start: impl FnOnce() -> ScenarioFuture<'a>) -> Outcome {
    let mut future = match catch_unwind(AssertUnwindSafe(start)) {
        Ok(f) => f,
        Err(payload) => return Err(panicked(payload.as_ref())),
    };
    std::future::poll_fn(move |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
        Ok(poll) => poll,
        Err(payload) => Poll::Ready(Err(panicked(payload.as_ref()))),
    })
    .await
}

/// The failure a panic makes, with its message when it has one.
fn panicked(payload: &(dyn std::any::Any + Send)) -> Verdict {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    Verdict::Fail(format!("panicked: {message}"))
}

/// Runs every scenario against `provider` (checked against its own declaration first, as
/// callers of a registry get it) and returns the adapter's report. `progress` is called after
/// each scenario (the CLI draws its progress bar with it).
///
/// A scenario runs only when every label it needs is among the provider's
/// [`labels`](loyalty_core::Capabilities::labels); otherwise it is skipped naming what is
/// missing. A scenario that panics fails with the panic's message and the run goes on. After
/// the scenarios, `capabilities.claims_proven` requires a passing scenario for
/// every [claim](loyalty_core::Capabilities::claims).
pub async fn run(
    provider: &dyn Provider,
    env: &Environment,
    target: Target,
    mut progress: impl FnMut(&ScenarioResult),
) -> AdapterReport {
    let checked = Checked::new(provider);
    let provider: &dyn Provider = &checked;
    let caps = provider.capabilities().clone();
    let labels = caps.labels();
    let mut results = Vec::new();
    let mut proven: Vec<String> = Vec::new();
    // Claims a scenario could not exercise because the target lacks the data (a live store
    // reveals no activation tokens): not provable here, which is not a failure.
    let mut unprovable: Vec<String> = Vec::new();
    for scenario in scenarios::all() {
        let missing: Vec<&str> =
            scenario.needs.iter().filter(|l| !labels.contains(*l)).map(String::as_str).collect();
        let result = if !missing.is_empty() {
            ScenarioResult {
                name: scenario.name.clone(),
                status: Status::Skip,
                reason: Some(format!("needs {}", missing.join(", "))),
            }
        } else {
            match isolated(|| (scenario.run)(provider, env)).await {
                Ok(()) => {
                    proven.extend(scenario.needs.iter().cloned());
                    ScenarioResult { name: scenario.name.clone(), status: Status::Pass, reason: None }
                }
                Err(Verdict::Fail(r)) => {
                    ScenarioResult { name: scenario.name.clone(), status: Status::Fail, reason: Some(r) }
                }
                Err(Verdict::Skip(r)) => {
                    unprovable.extend(scenario.needs.iter().cloned());
                    ScenarioResult { name: scenario.name.clone(), status: Status::Skip, reason: Some(r) }
                }
            }
        };
        progress(&result);
        results.push(result);
    }
    let declared: Vec<String> = caps.claims().into_iter().filter(|c| !proven.contains(c)).collect();
    // On memory and simulators the target's data is ours, so every claim must be proven; a live
    // store may lack the data a scenario needs, and such a claim is reported, not failed.
    let (untestable, unproven): (Vec<String>, Vec<String>) =
        declared.into_iter().partition(|c| target == Target::Live && unprovable.contains(c));
    let claims = if unproven.is_empty() {
        ScenarioResult {
            name: "capabilities.claims_proven".into(),
            status: Status::Pass,
            reason: (!untestable.is_empty()).then(|| {
                format!("not exercised on this target (its data is missing): {}", untestable.join(", "))
            }),
        }
    } else {
        ScenarioResult {
            name: "capabilities.claims_proven".into(),
            status: Status::Fail,
            reason: Some(format!("declared without a passing scenario: {}", unproven.join(", "))),
        }
    };
    progress(&claims);
    results.push(claims);
    AdapterReport { name: provider.name().to_string(), target, scenarios: results }
}
