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

mod env;
mod report;
pub mod scenarios;

use std::future::Future;
use std::pin::Pin;

use loyalty_core::{
    Capabilities, HoldStyle, LookupKind, Provider, Reinstatement, ReturnStyle, UsageCounting,
};

pub use env::Environment;
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

/// A capability a scenario needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// `lookups` contains the kind.
    Lookup(LookupKind),
    /// `get_member`.
    GetMember,
    /// `register`.
    Register,
    /// `enroll`.
    Enroll,
    /// `update_member`.
    UpdateMember,
    /// `segments`.
    Segments,
    /// `list_offers`.
    ListOffers,
    /// `offers_with_basket`.
    OffersWithBasket,
    /// `validate_offer`.
    ValidateOffer,
    /// `hold` is set.
    Hold,
    /// `hold` is a lock that lapses by itself.
    LockHold,
    /// Holds count toward use limits at hold time.
    HoldCountsAtHold,
    /// `redeem`.
    Redeem,
    /// `reinstate == Explicit`.
    ReinstateExplicit,
    /// `reinstate == OnCancel`.
    ReinstateOnCancel,
    /// `stamp_cards`.
    StampCards,
    /// `points`.
    Points,
    /// `send_transaction`.
    SendTransaction,
    /// `idempotent_send`.
    IdempotentSend,
    /// `cancel_transaction`.
    CancelTransaction,
    /// `return_styles` contains the style.
    Return(ReturnStyle),
    /// `carts`.
    Carts,
    /// `cart_upgrades`.
    CartUpgrades,
    /// `dropshipping`.
    Dropshipping,
}

impl Cap {
    /// True when `caps` declares this capability.
    pub fn present(&self, caps: &Capabilities) -> bool {
        match self {
            Cap::Lookup(k) => caps.supports_lookup(*k),
            Cap::GetMember => caps.get_member,
            Cap::Register => caps.register,
            Cap::Enroll => caps.enroll,
            Cap::UpdateMember => caps.update_member,
            Cap::Segments => caps.segments,
            Cap::ListOffers => caps.list_offers,
            Cap::OffersWithBasket => caps.offers_with_basket,
            Cap::ValidateOffer => caps.validate_offer,
            Cap::Hold => caps.hold.is_some(),
            Cap::LockHold => matches!(caps.hold, Some(HoldStyle::Lock { .. })),
            Cap::HoldCountsAtHold => caps.hold.is_some() && caps.usage_counting == UsageCounting::AtHold,
            Cap::Redeem => caps.redeem,
            Cap::ReinstateExplicit => caps.reinstate == Reinstatement::Explicit,
            Cap::ReinstateOnCancel => caps.reinstate == Reinstatement::OnCancel,
            Cap::StampCards => caps.stamp_cards,
            Cap::Points => caps.points,
            Cap::SendTransaction => caps.send_transaction,
            Cap::IdempotentSend => caps.idempotent_send,
            Cap::CancelTransaction => caps.cancel_transaction,
            Cap::Return(s) => caps.supports_return(*s),
            Cap::Carts => caps.carts,
            Cap::CartUpgrades => caps.cart_upgrades,
            Cap::Dropshipping => caps.dropshipping,
        }
    }

    /// The capability as `Capabilities` names it.
    pub fn label(&self) -> String {
        match self {
            Cap::Lookup(k) => format!(
                "lookups.{}",
                serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
            ),
            Cap::Return(s) => format!(
                "return_styles.{}",
                serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
            ),
            Cap::Hold => "hold".into(),
            Cap::LockHold => "hold.lock".into(),
            Cap::HoldCountsAtHold => "usage_counting.at_hold".into(),
            Cap::ReinstateExplicit => "reinstate.explicit".into(),
            Cap::ReinstateOnCancel => "reinstate.on_cancel".into(),
            other => {
                let name = format!("{other:?}");
                let mut out = String::new();
                for (i, c) in name.chars().enumerate() {
                    if c.is_uppercase() && i > 0 {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                out
            }
        }
    }

    /// Every capability a provider can declare, for the claims check.
    pub fn all() -> Vec<Cap> {
        let mut all: Vec<Cap> = LookupKind::ALL.iter().map(|k| Cap::Lookup(*k)).collect();
        all.extend([
            Cap::GetMember,
            Cap::Register,
            Cap::Enroll,
            Cap::UpdateMember,
            Cap::Segments,
            Cap::ListOffers,
            Cap::OffersWithBasket,
            Cap::ValidateOffer,
            Cap::Hold,
            Cap::LockHold,
            Cap::HoldCountsAtHold,
            Cap::Redeem,
            Cap::ReinstateExplicit,
            Cap::ReinstateOnCancel,
            Cap::StampCards,
            Cap::Points,
            Cap::SendTransaction,
            Cap::IdempotentSend,
            Cap::CancelTransaction,
            Cap::Carts,
            Cap::CartUpgrades,
            Cap::Dropshipping,
        ]);
        all.extend(
            [
                ReturnStyle::CancelAndResend,
                ReturnStyle::NegativeTransaction,
                ReturnStyle::PartialRefund,
                ReturnStyle::ResendWithoutLines,
            ]
            .map(Cap::Return),
        );
        all
    }
}

/// A boxed scenario future.
pub type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// One named conformance check.
#[derive(Clone)]
pub struct Scenario {
    /// Name, `<area>.<behaviour>`.
    pub name: String,
    /// Capabilities it needs; all must be declared for it to run.
    pub needs: Vec<Cap>,
    /// The check.
    pub run: for<'a> fn(&'a dyn Provider, &'a Environment) -> ScenarioFuture<'a>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario").field("name", &self.name).field("needs", &self.needs).finish()
    }
}

/// Runs every scenario against `provider` and returns the adapter's report. `progress` is
/// called after each scenario (the CLI draws its progress bar with it).
pub async fn run(
    provider: &dyn Provider,
    env: &Environment,
    target: Target,
    mut progress: impl FnMut(&ScenarioResult),
) -> AdapterReport {
    let caps = provider.capabilities().clone();
    let mut results = Vec::new();
    let mut proven: Vec<Cap> = Vec::new();
    // Capabilities a scenario could not exercise because the target lacks the data (a live
    // store reveals no activation tokens): not provable here, which is not a failure.
    let mut unprovable: Vec<Cap> = Vec::new();
    for scenario in scenarios::all() {
        let missing: Vec<String> =
            scenario.needs.iter().filter(|c| !c.present(&caps)).map(Cap::label).collect();
        let result = if !missing.is_empty() {
            ScenarioResult {
                name: scenario.name.clone(),
                status: Status::Skip,
                reason: Some(format!("needs {}", missing.join(", "))),
            }
        } else {
            match (scenario.run)(provider, env).await {
                Ok(()) => {
                    proven.extend(scenario.needs.iter().copied());
                    ScenarioResult { name: scenario.name.clone(), status: Status::Pass, reason: None }
                }
                Err(Verdict::Fail(r)) => {
                    ScenarioResult { name: scenario.name.clone(), status: Status::Fail, reason: Some(r) }
                }
                Err(Verdict::Skip(r)) => {
                    unprovable.extend(scenario.needs.iter().copied());
                    ScenarioResult { name: scenario.name.clone(), status: Status::Skip, reason: Some(r) }
                }
            }
        };
        progress(&result);
        results.push(result);
    }
    let declared: Vec<Cap> =
        Cap::all().into_iter().filter(|c| c.present(&caps) && !proven.contains(c)).collect();
    // On memory and simulators the target's data is ours, so every claim must be proven; a live
    // store may lack the data a scenario needs, and such a claim is reported, not failed.
    let (untestable, unproven): (Vec<Cap>, Vec<Cap>) =
        declared.into_iter().partition(|c| target == Target::Live && unprovable.contains(c));
    let labels = |cs: &[Cap]| cs.iter().map(Cap::label).collect::<Vec<_>>().join(", ");
    let claims = if unproven.is_empty() {
        ScenarioResult {
            name: "capabilities.claims_proven".into(),
            status: Status::Pass,
            reason: (!untestable.is_empty()).then(|| {
                format!("not exercised on this target (its data is missing): {}", labels(&untestable))
            }),
        }
    } else {
        ScenarioResult {
            name: "capabilities.claims_proven".into(),
            status: Status::Fail,
            reason: Some(format!("declared without a passing scenario: {}", labels(&unproven))),
        }
    };
    progress(&claims);
    results.push(claims);
    AdapterReport { name: provider.name().to_string(), target, scenarios: results }
}
