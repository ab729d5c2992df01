//! The return-style scenarios prove a declared style by an effect at the provider, not only by
//! the core's own ledger arithmetic (the frozen net refunded), which a provider whose refund or
//! amend does nothing passes just the same: where points show at once the balance must give
//! back part of what the sale earned, and a partial refund must be recorded, so refunding the
//! whole sale again is `Rejected`.

use async_trait::async_trait;
use loyalty_conformance::memory::environment;
use loyalty_conformance::{run, AdapterReport, Status, Target};
use loyalty_core::{
    Capabilities, Carts, Context, Fulfilment, Holds, Members, Offers, Provider, Redemptions, Refund, Result,
    SendOutcome, Transaction, TransactionReceipt, Transactions,
};
use loyalty_memory::MemoryProvider;

/// The memory provider, except that its refund and amend answer success and do nothing, under
/// the capabilities given.
struct SilentReturns {
    inner: MemoryProvider,
    caps: Capabilities,
}

#[async_trait]
impl Transactions for SilentReturns {
    async fn send(&self, ctx: &Context, t: &Transaction) -> Result<TransactionReceipt> {
        self.inner.transactions().unwrap().send(ctx, t).await
    }
    async fn amend(&self, _: &Context, t: &Transaction) -> Result<TransactionReceipt> {
        Ok(TransactionReceipt::new(t.id.clone(), SendOutcome::Recorded))
    }
    async fn cancel(&self, ctx: &Context, t: &Transaction, reason: Option<&str>) -> Result<()> {
        self.inner.transactions().unwrap().cancel(ctx, t, reason).await
    }
    async fn refund(&self, _: &Context, r: &Refund) -> Result<TransactionReceipt> {
        Ok(TransactionReceipt::new(r.refund_id.clone(), SendOutcome::Recorded))
    }
}

impl Provider for SilentReturns {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
    fn members(&self) -> Option<&dyn Members> {
        self.inner.members()
    }
    fn offers(&self) -> Option<&dyn Offers> {
        self.inner.offers()
    }
    fn holds(&self) -> Option<&dyn Holds> {
        self.inner.holds()
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        self.inner.redemptions()
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        Some(self)
    }
    fn carts(&self) -> Option<&dyn Carts> {
        self.inner.carts()
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        self.inner.fulfilment()
    }
}

async fn report(change: impl FnOnce(&mut Capabilities)) -> AdapterReport {
    let (inner, clock) = MemoryProvider::demo_manual();
    let env = environment(&inner, clock);
    let mut caps = inner.capabilities().clone();
    change(&mut caps);
    run(&SilentReturns { inner, caps }, &env, Target::Memory, |_| {}).await
}

fn status(report: &AdapterReport, name: &str) -> Option<Status> {
    report.scenarios.iter().find(|s| s.name == name).map(|s| s.status)
}

/// Points show at send (memory declares `points_at_send`): a refund or an amend that reached
/// the provider takes back the returned unit's points. Neither did here.
#[tokio::test]
async fn a_provider_whose_refund_and_amend_do_nothing_fails_its_return_scenarios() {
    let report = report(|_| {}).await;
    assert_eq!(
        status(&report, "transactions.return.partial_refund"),
        Some(Status::Fail),
        "the partial_refund scenario passed although the provider recorded no refund"
    );
    assert_eq!(
        status(&report, "transactions.return.resend_without_lines"),
        Some(Status::Fail),
        "the resend_without_lines scenario passed although the provider amended nothing"
    );
    // The styles whose provider side works still pass.
    assert_eq!(status(&report, "transactions.return.cancel_and_resend"), Some(Status::Pass));
    assert_eq!(status(&report, "transactions.return.negative_transaction"), Some(Status::Pass));
}

/// Without points to read, a refund the provider never recorded still shows: it accepts a
/// refund of the whole sale again, which is more than is left.
#[tokio::test]
async fn an_unrecorded_refund_fails_without_points_too() {
    let report = report(|c| c.points_at_send = false).await;
    assert_eq!(status(&report, "transactions.return.partial_refund"), Some(Status::Fail));
    let reason = report
        .scenarios
        .iter()
        .find(|s| s.name == "transactions.return.partial_refund")
        .and_then(|s| s.reason.clone())
        .unwrap_or_default();
    assert!(reason.contains("Rejected"), "{reason}");
}
