//! Refunds owed by returns nobody asks for again are paid by the background work.
//! `docs/architecture.md` (Returns): a refund the payment service refused for now is owed, the
//! order is due again after a lease, and the background work pays it (once per return id) if
//! nobody asks for that return again. These pin that it is paid even when the tick first
//! finishes a later return of the same order left under way (the tick cleared the order's due
//! time after that return, and the earlier refund was never paid), that each owed refund is
//! paid on its own (one refused for good is noted and does not hold the others back), and that
//! it holds when the returns ran on one instance and the background work on another.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use loyalty_core::checkout::{
    Authorization, Authorized, Checkout, CheckoutOutcome, CheckoutRequest, CheckoutStore,
    MemoryCheckoutStore, Payment, PaymentKey, SimulatedPayment,
};
use loyalty_core::{
    Context, Error, ErrorKind, LineId, ManualClock, MemberLookup, Money, Phone, ReturnRequest, ReturnStyle,
    TransactionId,
};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

/// The simulated payment service, with refunds it refuses: all of them for now while `down`,
/// and those of the return ids in `refused_for_good` for good. Counts the refund calls per id.
#[derive(Default)]
struct RefundingPayment {
    inner: SimulatedPayment,
    down: Mutex<bool>,
    refused_for_good: Mutex<BTreeSet<String>>,
    calls: Mutex<BTreeMap<String, usize>>,
}

impl RefundingPayment {
    fn set_down(&self, down: bool) {
        *self.down.lock().unwrap() = down;
    }

    fn refuse_for_good(&self, return_id: &str) {
        self.refused_for_good.lock().unwrap().insert(return_id.to_string());
    }

    fn calls(&self, return_id: &str) -> usize {
        self.calls.lock().unwrap().get(return_id).copied().unwrap_or(0)
    }
}

#[async_trait]
impl Payment for RefundingPayment {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> loyalty_core::Result<Authorized> {
        self.inner.authorize(key, amount).await
    }
    async fn resume(&self, a: &Authorization) -> loyalty_core::Result<Authorized> {
        self.inner.resume(a).await
    }
    async fn capture(&self, a: &Authorization) -> loyalty_core::Result<()> {
        self.inner.capture(a).await
    }
    async fn void(&self, a: &Authorization) -> loyalty_core::Result<()> {
        self.inner.void(a).await
    }
    async fn refund(&self, a: &Authorization, id: &TransactionId, amount: Money) -> loyalty_core::Result<()> {
        *self.calls.lock().unwrap().entry(id.as_str().to_string()).or_default() += 1;
        if self.refused_for_good.lock().unwrap().contains(id.as_str()) {
            return Err(Error::new(ErrorKind::Rejected, "payment", "payment.refund")
                .with_message("the card account is closed"));
        }
        if *self.down.lock().unwrap() {
            return Err(Error::new(ErrorKind::Unavailable, "payment", "payment.refund").with_temporary(true));
        }
        self.inner.refund(a, id, amount).await
    }
}

struct World {
    provider: MemoryProvider,
    clock: ManualClock,
    payment: Arc<RefundingPayment>,
    store: Arc<dyn CheckoutStore>,
}

impl World {
    fn new() -> World {
        let (provider, clock) = MemoryProvider::demo_manual();
        World {
            provider,
            clock,
            payment: Arc::new(RefundingPayment::default()),
            store: Arc::new(MemoryCheckoutStore::new()),
        }
    }

    /// An instance of the checkout: each call is another one, all sharing the world's store.
    fn instance(&self) -> Checkout<'static> {
        Checkout::with_store(
            Arc::new(self.provider.clone()),
            self.payment.clone(),
            Arc::new(self.clock.clone()),
            self.store.clone(),
        )
    }

    fn refunds(&self) -> BTreeMap<String, Money> {
        self.payment.inner.refunds()
    }

    /// Runs the background work `n` times, ten minutes apart (past any lease); the problems
    /// it reported.
    async fn ticks(&self, checkout: &Checkout<'_>, n: usize) -> Vec<String> {
        let mut problems = Vec::new();
        for _ in 0..n {
            problems.extend(checkout.tick(&ctx()).await.unwrap().problems);
            self.clock.advance(Duration::from_secs(10 * 60));
        }
        problems
    }
}

fn ctx() -> Context {
    Context::new()
}

fn order(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        .confirm(demo::COUPON_SUMMER10)
}

fn ret(original: &str, id: &str, line: &str, qty: i64) -> ReturnRequest {
    ReturnRequest::new(Some(TransactionId::new(original)), TransactionId::new(id), demo::start())
        .with_line(line, Decimal::from(qty))
}

fn net_of(out: &CheckoutOutcome, line: &str) -> Money {
    out.transaction.lines.iter().find(|l| l.line_id == LineId::new(line)).unwrap().net
}

/// What return `id` of `order` refunds, as processed (above zero).
async fn refund_of(checkout: &Checkout<'_>, order: &str, id: &str) -> Money {
    let ledger = checkout.ledger(&TransactionId::new(order)).await.unwrap().unwrap();
    let refunded = ledger.processed[&TransactionId::new(id)].refunded;
    assert!(refunded.minor > 0, "{id} refunds {refunded}");
    refunded
}

/// Return 1's refund is refused for now (owed); return 2 of another line cancels the sale but
/// its remainder's send is rate limited, so it stays under way. The caller of neither asks
/// again. Returns the sale.
async fn owed_refund_then_return_left_under_way(
    w: &World,
    returns: &Checkout<'_>,
    id: &str,
) -> CheckoutOutcome {
    let out = returns.complete(&ctx(), &order(id)).await.unwrap().into_outcome().unwrap();
    w.payment.set_down(true);
    returns.process_return(&ctx(), &ret(id, &format!("{id}-r1"), "2", 1), None).await.unwrap_err();
    w.payment.set_down(false);
    assert!(w.refunds().is_empty());
    w.provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::RateLimited { retry_after: None }, "memory", "transactions.send"),
    );
    returns
        .process_return(&ctx(), &ret(id, &format!("{id}-r2"), "1", 1), Some(ReturnStyle::CancelAndResend))
        .await
        .unwrap_err();
    out
}

/// The tick that finishes return 2 (left under way) must not forget the refund return 1 owes:
/// it cleared the order's due time once return 2 was done, and 179.10 NOK was never paid.
#[tokio::test]
async fn an_owed_refund_is_paid_even_when_the_tick_finishes_a_later_return_first() {
    let w = World::new();
    let checkout = w.instance();
    let out = owed_refund_then_return_left_under_way(&w, &checkout, "o-ow1").await;

    let problems = w.ticks(&checkout, 5).await;
    assert!(problems.is_empty(), "{problems:?}");
    let refunds = w.refunds();
    assert!(refunds.contains_key("o-ow1-r2"), "{refunds:?}");
    assert_eq!(refunds.get("o-ow1-r1"), Some(&net_of(&out, "2")), "return 1's refund was never paid");
    // Once each, and the ledger says so.
    assert_eq!(w.payment.calls("o-ow1-r1"), 2, "the failed call and the one that paid");
    let ledger = checkout.ledger(&TransactionId::new("o-ow1")).await.unwrap().unwrap();
    assert!(ledger.refunds_paid.contains(&TransactionId::new("o-ow1-r1")));
    assert!(ledger.refunds_paid.contains(&TransactionId::new("o-ow1-r2")));
    let rec = checkout.status(&TransactionId::new("o-ow1")).await.unwrap().unwrap();
    assert_eq!(rec.due_at, None, "nothing is owed any more");
}

/// The same over one store shared by two instances: the returns ran on one, which then
/// stopped; the background work runs on the other.
#[tokio::test]
async fn an_owed_refund_is_paid_by_another_instance_finishing_the_later_return() {
    let w = World::new();
    let out = {
        let stopped = w.instance();
        owed_refund_then_return_left_under_way(&w, &stopped, "o-ow2").await
    };
    let other = w.instance();
    let problems = w.ticks(&other, 5).await;
    assert!(problems.is_empty(), "{problems:?}");
    let refunds = w.refunds();
    assert!(refunds.contains_key("o-ow2-r2"), "{refunds:?}");
    assert_eq!(refunds.get("o-ow2-r1"), Some(&net_of(&out, "2")), "return 1's refund was never paid");
}

/// The payment service is still down when the tick finishes return 2: both refunds stay owed
/// and the order stays due until it is back; each is then paid once.
#[tokio::test]
async fn the_order_stays_due_while_the_owed_refunds_are_refused_for_now() {
    let w = World::new();
    let checkout = w.instance();
    let out = owed_refund_then_return_left_under_way(&w, &checkout, "o-ow3").await;
    w.payment.set_down(true);
    let problems = w.ticks(&checkout, 3).await;
    assert!(!problems.is_empty(), "the owed refunds are said");
    assert!(w.refunds().is_empty());
    let rec = checkout.status(&TransactionId::new("o-ow3")).await.unwrap().unwrap();
    assert!(rec.due_at.is_some(), "refunds are owed: the order stays due");

    w.payment.set_down(false);
    let problems = w.ticks(&checkout, 3).await;
    assert!(problems.is_empty(), "{problems:?}");
    let refunds = w.refunds();
    assert_eq!(refunds.get("o-ow3-r1"), Some(&net_of(&out, "2")));
    assert_eq!(refunds.get("o-ow3-r2"), Some(&refund_of(&checkout, "o-ow3", "o-ow3-r2").await));
    let rec = checkout.status(&TransactionId::new("o-ow3")).await.unwrap().unwrap();
    assert_eq!(rec.due_at, None);
}

/// Each owed refund is paid on its own: return 1's refund, refused for good, is noted in the
/// ledger and said once, and neither holds back return 2's refund (owed too) nor keeps the
/// background work asking the payment service again for it every lease.
#[tokio::test]
async fn a_refund_refused_for_good_is_noted_and_the_others_owed_are_paid() {
    let w = World::new();
    let checkout = w.instance();
    let out = checkout.complete(&ctx(), &order("o-ow4")).await.unwrap().into_outcome().unwrap();
    w.payment.refuse_for_good("o-ow4-r1");
    w.payment.set_down(true);
    checkout.process_return(&ctx(), &ret("o-ow4", "o-ow4-r1", "2", 1), None).await.unwrap_err();
    checkout.process_return(&ctx(), &ret("o-ow4", "o-ow4-r2", "1", 1), None).await.unwrap_err();
    w.payment.set_down(false);

    let problems = w.ticks(&checkout, 4).await;
    let refunds = w.refunds();
    assert_eq!(
        refunds.get("o-ow4-r2"),
        Some(&refund_of(&checkout, "o-ow4", "o-ow4-r2").await),
        "return 2's refund was held back"
    );
    assert!(!refunds.contains_key("o-ow4-r1"));
    assert_eq!(problems.iter().filter(|p| p.contains("o-ow4-r1")).count(), 1, "{problems:?}");
    let ledger = checkout.ledger(&TransactionId::new("o-ow4")).await.unwrap().unwrap();
    let noted = ledger.refunds_refused.get(&TransactionId::new("o-ow4-r1")).expect("the refusal is noted");
    assert!(noted.contains("card account is closed"), "{noted}");
    assert_eq!(w.payment.calls("o-ow4-r1"), 2, "the return's own call and the tick's, no more");
    let rec = checkout.status(&TransactionId::new("o-ow4")).await.unwrap().unwrap();
    assert_eq!(rec.due_at, None, "only a refund refused for good is left: nothing to try again");

    // Settled by hand at the payment service; the shop asks for the return again: it is paid
    // then, and no longer noted as refused.
    w.payment.refused_for_good.lock().unwrap().clear();
    checkout.process_return(&ctx(), &ret("o-ow4", "o-ow4-r1", "2", 1), None).await.unwrap();
    assert_eq!(w.refunds().get("o-ow4-r1"), Some(&net_of(&out, "2")));
    let ledger = checkout.ledger(&TransactionId::new("o-ow4")).await.unwrap().unwrap();
    assert!(ledger.refunds_refused.is_empty(), "{:?}", ledger.refunds_refused);
    assert!(ledger.refunds_paid.contains(&TransactionId::new("o-ow4-r1")));
}
