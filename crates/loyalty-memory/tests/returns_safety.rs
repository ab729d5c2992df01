//! Returns that must not lose goods or money: a sale the provider never had is refunded, a
//! cancel-and-resend left half way is finished, unreceipted lines are checked before anything
//! is sent, and a used return id is never answered for other goods.

use std::sync::Arc;
use std::time::Duration;

use loyalty_core::checkout::{
    Checkout, CheckoutOutcome, CheckoutRequest, CheckoutStore, Delivery, MemoryCheckoutStore,
    SimulatedPayment,
};
use loyalty_core::returns::{ReturnLedger, ReturnUnderWay};
use loyalty_core::{
    Capabilities, Carts, Clock, Context, Currency, Error, ErrorKind, Fulfilment, Holds, LineId, MemberId,
    MemberLookup, Members, Money, OfferId, Offers, Phone, Provider, Redemptions, ReturnRequest, ReturnStyle,
    TransactionId, TransactionLine, Transactions, WriteEffect,
};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

struct World {
    provider: MemoryProvider,
    clock: loyalty_core::ManualClock,
    payment: Arc<SimulatedPayment>,
    store: Arc<MemoryCheckoutStore>,
    checkout: Checkout<'static>,
}

fn world() -> World {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(SimulatedPayment::new());
    let store = Arc::new(MemoryCheckoutStore::new());
    let dyn_store: Arc<dyn CheckoutStore> = store.clone();
    let checkout =
        Checkout::with_store(Arc::new(provider.clone()), payment.clone(), Arc::new(clock.clone()), dyn_store);
    World { provider, clock, payment, store, checkout }
}

impl World {
    async fn complete(&self, id: &str) -> CheckoutOutcome {
        self.checkout.complete(&ctx(), &order(id)).await.unwrap().into_outcome().unwrap()
    }

    async fn ledger(&self, order: &str) -> ReturnLedger {
        self.checkout.ledger(&TransactionId::new(order)).await.unwrap().unwrap()
    }
}

fn kari() -> MemberLookup {
    MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE))
}

fn member() -> MemberId {
    MemberId::new(demo::MEMBER_ID)
}

fn order(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket()).identify(kari()).confirm(demo::COUPON_SUMMER10)
}

fn ctx() -> Context {
    Context::new()
}

fn ret(original: &str, id: &str, line: &str, qty: i64) -> ReturnRequest {
    ReturnRequest::new(Some(TransactionId::new(original)), TransactionId::new(id), demo::start())
        .with_line(line, Decimal::from(qty))
}

fn net_of(out: &CheckoutOutcome, line: &str) -> Money {
    out.transaction.lines.iter().find(|l| l.line_id == LineId::new(line)).unwrap().net
}

fn nok(minor: i64) -> Money {
    Money::new(minor, Currency::NOK)
}

// --- A sale the provider never had ----------------------------------------------------------

/// The memory provider, except that it takes no transactions (and redeems nothing).
struct NoTransactions {
    inner: MemoryProvider,
    caps: Capabilities,
}

impl NoTransactions {
    fn new(inner: MemoryProvider) -> NoTransactions {
        let mut caps = inner.capabilities().clone();
        caps.send_transaction = false;
        caps.cancel_transaction = false;
        caps.second_cancel_refused = false;
        caps.return_styles = Vec::new();
        caps.redeem = false;
        caps.reinstate = Vec::new();
        caps.points_at_send = false;
        caps.carts = false;
        caps.cart_upgrades = false;
        caps.offline_upgrades = false;
        caps.dropshipping = false;
        NoTransactions { inner, caps }
    }
}

impl Provider for NoTransactions {
    fn name(&self) -> &str {
        "no-transactions"
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
        None
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        None
    }
    fn carts(&self) -> Option<&dyn Carts> {
        None
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        None
    }
}

#[tokio::test]
async fn a_sale_at_a_provider_that_takes_no_transactions_is_refunded_without_sending_anything() {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(SimulatedPayment::new());
    let co = Checkout::new(
        Arc::new(NoTransactions::new(provider.clone())),
        payment.clone(),
        Arc::new(clock.clone()),
    );
    let out = co.complete(&ctx(), &order("o-s1")).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.delivery, Delivery::NotSupported);
    let r = co.process_return(&ctx(), &ret("o-s1", "o-s1-r1", "2", 1), None).await.unwrap();
    assert_eq!(r.style, None, "nothing went to the provider");
    assert_eq!(r.refunded, net_of(&out, "2"));
    assert_eq!(payment.refunds().get("o-s1-r1"), Some(&r.refunded), "the money went back");
    let ledger = co.ledger(&TransactionId::new("o-s1")).await.unwrap().unwrap();
    assert!(!ledger.delivered);
    assert!(ledger.processed.contains_key(&TransactionId::new("o-s1-r1")));
    assert_eq!(provider.transaction_count(), 0);
}

// --- A cancel-and-resend left half way --------------------------------------------------------

fn rate_limited(op: &str) -> Error {
    Error::new(ErrorKind::RateLimited { retry_after: None }, "memory", op)
}

#[tokio::test]
async fn a_cancelled_original_whose_remainder_was_rate_limited_is_finished_by_the_background_work() {
    let w = world();
    let out = w.complete("o-s2").await;
    w.provider.fail_next("transactions.send", rate_limited("transactions.send"));
    let err = w
        .checkout
        .process_return(&ctx(), &ret("o-s2", "o-s2-r1", "2", 1), Some(ReturnStyle::CancelAndResend))
        .await
        .unwrap_err();
    // The original is cancelled: the error must not say nothing happened.
    assert!(w.provider.transaction(&TransactionId::new("o-s2")).unwrap().1);
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert!(err.message().contains("o-s2-r1") && err.message().contains("under way"), "{err}");
    let ledger = w.ledger("o-s2").await;
    assert_eq!(ledger.in_progress, Some(TransactionId::new("o-s2-r1")), "still under way");
    assert!(ledger.under_way.as_ref().is_some_and(|u| u.until <= w.clock.now()), "its lease ended");
    // Nobody retries: the background work sends what is kept and pays the refund.
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    let (rest, cancelled) = w.provider.transaction(&TransactionId::new("o-s2-r1")).expect("the kept goods");
    assert!(!cancelled);
    assert_eq!(rest.total.minor, out.charged.minor - net_of(&out, "2").minor);
    assert_eq!(w.payment.refunds().get("o-s2-r1"), Some(&net_of(&out, "2")));
    let ledger = w.ledger("o-s2").await;
    assert!(ledger.in_progress.is_none() && ledger.under_way.is_none() && !ledger.current_cancelled);
}

#[tokio::test]
async fn a_half_way_return_refused_again_when_resumed_stays_under_way_until_finished() {
    let w = world();
    let out = w.complete("o-s3").await;
    let request = ret("o-s3", "o-s3-r1", "2", 1);
    w.provider.fail_next("transactions.send", rate_limited("transactions.send"));
    w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::CancelAndResend)).await.unwrap_err();
    // The retry under the same id is refused as well (a refusal, not a lost reply).
    w.provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::Forbidden, "memory", "transactions.send").with_message("store closed"),
    );
    let err =
        w.checkout.process_return(&ctx(), &request, Some(ReturnStyle::CancelAndResend)).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert_eq!(w.ledger("o-s3").await.in_progress, Some(TransactionId::new("o-s3-r1")));
    // Another return of the order finishes this one first.
    w.clock.advance(Duration::from_secs(60));
    w.checkout
        .process_return(&ctx(), &ret("o-s3", "o-s3-r2", "1", 1), Some(ReturnStyle::CancelAndResend))
        .await
        .unwrap();
    let ledger = w.ledger("o-s3").await;
    for id in ["o-s3-r1", "o-s3-r2"] {
        assert!(ledger.processed.contains_key(&TransactionId::new(id)), "{id}");
    }
    assert_eq!(w.payment.refunds().get("o-s3-r1"), Some(&net_of(&out, "2")));
    assert!(w.provider.transaction(&TransactionId::new("o-s3-r1")).unwrap().1, "replaced by r2's remainder");
    assert!(!w.provider.transaction(&TransactionId::new("o-s3-r2")).unwrap().1, "the live version");
}

#[tokio::test]
async fn an_amended_sale_whose_reinstate_was_refused_is_finished_by_the_background_work() {
    let w = world();
    w.complete("o-s4").await;
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)), 1);
    w.provider.fail_next("redemptions.reinstate", rate_limited("redemptions.reinstate"));
    let err = w
        .checkout
        .process_return(&ctx(), &ret("o-s4", "o-s4-r1", "1", 2), Some(ReturnStyle::ResendWithoutLines))
        .await
        .unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "the amend reached the vendor: {err}");
    assert_eq!(w.provider.transaction(&TransactionId::new("o-s4")).unwrap().0.lines.len(), 1);
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)), 0, "coupon given back");
    let ledger = w.ledger("o-s4").await;
    assert!(ledger.processed.contains_key(&TransactionId::new("o-s4-r1")));
    assert!(ledger.in_progress.is_none());
}

// --- Returns without a receipt ----------------------------------------------------------------

fn unreceipted(id: &str, lines: Vec<TransactionLine>) -> ReturnRequest {
    lines.into_iter().fold(ReturnRequest::new(None, TransactionId::new(id), demo::start()), |r, l| {
        r.with_unreceipted_line(l)
    })
}

fn mug(qty: i64, gross: Money, net: Money) -> TransactionLine {
    let mut l = TransactionLine::new("x", demo::PRODUCT_MUG, Decimal::from(qty), nok(19_900), gross);
    l.net = net;
    l.discount = Money::new(gross.minor - net.minor, gross.currency);
    l
}

async fn assert_refused(w: &World, req: &ReturnRequest, field: &str) {
    let err = w.checkout.process_return(&ctx(), req, None).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Invalid { field: f, .. } if f == field),
        "expected Invalid {field}: {err}"
    );
    assert!(w.provider.transaction(&req.return_id).is_none(), "nothing sent for {field}");
}

#[tokio::test]
async fn an_unreceipted_line_with_a_negative_quantity_is_invalid_and_nothing_is_sent() {
    let w = world();
    let req = unreceipted("neg-s1", vec![mug(-1, nok(-19_900), nok(-19_900))]);
    assert_refused(&w, &req, "lines_without_receipt[0].quantity").await;
    let req = unreceipted("neg-s1", vec![mug(1, nok(19_900), nok(19_900)), mug(0, nok(0), nok(0))]);
    assert_refused(&w, &req, "lines_without_receipt[1].quantity").await;
}

#[tokio::test]
async fn an_unreceipted_net_below_zero_or_above_its_gross_is_invalid_and_nothing_is_sent() {
    let w = world();
    let req = unreceipted("neg-s2", vec![mug(1, nok(19_900), nok(-100))]);
    assert_refused(&w, &req, "lines_without_receipt[0].net").await;
    let req = unreceipted("neg-s2", vec![mug(1, nok(19_900), nok(19_900)), mug(1, nok(19_900), nok(29_900))]);
    assert_refused(&w, &req, "lines_without_receipt[1].net").await;
}

#[tokio::test]
async fn unreceipted_lines_in_two_currencies_are_invalid_and_nothing_is_sent() {
    let w = world();
    let eur = Money::new(1_990, Currency::EUR);
    let mut other = TransactionLine::new("y", demo::PRODUCT_MUG, Decimal::ONE, eur, eur);
    other.net = eur;
    let req = unreceipted("neg-s3", vec![mug(1, nok(19_900), nok(19_900)), other]);
    assert_refused(&w, &req, "lines_without_receipt[1].net").await;
    // A sound return still goes through.
    let ok = unreceipted("neg-s3", vec![mug(2, nok(39_800), nok(30_000))]);
    let r = w.checkout.process_return(&ctx(), &ok, None).await.unwrap();
    assert_eq!(r.refunded, nok(30_000));
}

// --- A return id used again -------------------------------------------------------------------

#[tokio::test]
async fn the_same_return_id_for_other_goods_is_a_conflict_and_returns_nothing() {
    let w = world();
    let out = w.complete("o-s5").await;
    let first = ret("o-s5", "o-s5-r1", "2", 1);
    let r1 = w.checkout.process_return(&ctx(), &first, Some(ReturnStyle::CancelAndResend)).await.unwrap();
    let err = w
        .checkout
        .process_return(&ctx(), &ret("o-s5", "o-s5-r1", "1", 1), Some(ReturnStyle::CancelAndResend))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert!(err.message().contains("o-s5-r1"), "{err}");
    let ledger = w.ledger("o-s5").await;
    assert_eq!(ledger.returned.get(&LineId::new("1")), None, "the coffee was not returned");
    assert_eq!(ledger.refunded, net_of(&out, "2"));
    // The same goods under that id, however listed, still get the first outcome.
    let again =
        ReturnRequest::new(Some(TransactionId::new("o-s5")), TransactionId::new("o-s5-r1"), demo::start())
            .with_line("2", Decimal::new(10, 1));
    let r2 = w.checkout.process_return(&ctx(), &again, None).await.unwrap();
    assert_eq!(r1, r2);
    assert_eq!(w.payment.refunds().len(), 1);
}

#[tokio::test]
async fn a_return_id_under_way_asked_for_other_goods_is_a_conflict() {
    let w = world();
    let out = w.complete("o-s6").await;
    // An instance stopped in the middle of return r1 of the mug; its lease has ended.
    let mut ledger = ReturnLedger::new(out.transaction.clone());
    ledger.authorization =
        w.checkout.status(&TransactionId::new("o-s6")).await.unwrap().unwrap().authorization;
    ledger.in_progress = Some(TransactionId::new("o-s6-r1"));
    ledger.under_way = Some(ReturnUnderWay::new(ret("o-s6", "o-s6-r1", "2", 1), None, w.clock.now()));
    assert!(w.store.save_ledger(&ledger, None).await.unwrap().is_some());
    w.clock.advance(Duration::from_secs(60));
    let err = w.checkout.process_return(&ctx(), &ret("o-s6", "o-s6-r1", "1", 1), None).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert!(w.ledger("o-s6").await.processed.is_empty(), "nothing returned under the other goods");
    // The return as it was asked is finished under its id.
    let r = w.checkout.process_return(&ctx(), &ret("o-s6", "o-s6-r1", "2", 1), None).await.unwrap();
    assert_eq!(r.refunded, net_of(&out, "2"));
}

#[tokio::test]
async fn a_ledger_stored_before_requests_were_fingerprinted_still_loads() {
    let w = world();
    let out = w.complete("o-s7").await;
    w.checkout.process_return(&ctx(), &ret("o-s7", "o-s7-r1", "2", 1), None).await.unwrap();
    let ledger = w.ledger("o-s7").await;
    assert_eq!(ledger.requests.len(), 1);
    let mut json = serde_json::to_value(&ledger).unwrap();
    json.as_object_mut().unwrap().remove("requests");
    let old: ReturnLedger = serde_json::from_value(json).unwrap();
    assert!(old.requests.is_empty());
    assert_eq!(old.original, out.transaction);
}

// --- Quantities too large for a decimal -------------------------------------------------------

/// A return whose quantities would overflow a decimal when added (a line listed twice with a
/// huge quantity, a huge quantity after a partial return) is `Invalid` naming the quantity,
/// never a panic, and nothing is sent.
#[tokio::test]
async fn a_huge_return_quantity_is_invalid_not_a_panic() {
    let w = world();
    w.complete("o-big").await;
    w.checkout.process_return(&ctx(), &ret("o-big", "R-big0", "1", 1), None).await.unwrap();
    let base =
        || ReturnRequest::new(Some(TransactionId::new("o-big")), TransactionId::new("R-big1"), demo::start());
    let twice = base().with_line("2", Decimal::MAX).with_line("2", Decimal::MAX);
    assert_refused(&w, &twice, "lines[1].quantity").await;
    let after_partial = base().with_line("1", Decimal::MAX);
    assert_refused(&w, &after_partial, "lines[0].quantity").await;
    let split = base().with_line("2", Decimal::ONE).with_line("2", Decimal::MAX);
    assert_refused(&w, &split, "lines[1].quantity").await;
    // The return id stays free for a sound return.
    w.checkout.process_return(&ctx(), &base().with_line("2", Decimal::ONE), None).await.unwrap();
}
