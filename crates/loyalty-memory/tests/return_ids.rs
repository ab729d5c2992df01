//! Order and return ids are one namespace per store: a return id serves one return of one
//! order, never an order. Two orders' returns under one id would reach the vendor as one
//! transaction, and an order under a return's id would be sent as that return.

use std::sync::Arc;

use loyalty_core::checkout::{
    Checkout, CheckoutOutcome, CheckoutRequest, CheckoutStore, IdUse, MemoryCheckoutStore, SimulatedPayment,
};
use loyalty_core::{
    Context, Currency, Error, ErrorKind, LineId, MemberLookup, Money, Phone, Provider, ReturnRequest,
    Transaction, TransactionId, TransactionLine,
};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

struct World {
    provider: MemoryProvider,
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
        Checkout::with_store(Arc::new(provider.clone()), payment.clone(), Arc::new(clock), dyn_store);
    World { provider, payment, store, checkout }
}

/// What the vendor and the payment service hold for the orders and return ids asked about.
#[derive(Debug, PartialEq)]
struct Seen {
    transactions: usize,
    stored: Vec<Option<(Transaction, bool)>>,
    vendor_refunds: Vec<Vec<(TransactionId, Money)>>,
    refunds: Vec<(String, Money)>,
}

impl World {
    async fn complete(&self, id: &str) -> CheckoutOutcome {
        self.checkout.complete(&ctx(), &order(id)).await.unwrap().into_outcome().unwrap()
    }

    fn seen(&self, ids: &[&str]) -> Seen {
        let ids: Vec<TransactionId> = ids.iter().map(|i| TransactionId::new(*i)).collect();
        Seen {
            transactions: self.provider.transaction_count(),
            stored: ids.iter().map(|i| self.provider.transaction(i)).collect(),
            vendor_refunds: ids.iter().map(|i| self.provider.refunds(i)).collect(),
            refunds: self.payment.refunds().into_iter().collect(),
        }
    }

    async fn processed(&self, order: &str, return_id: &str) -> bool {
        self.checkout
            .ledger(&TransactionId::new(order))
            .await
            .unwrap()
            .is_some_and(|l| l.processed.contains_key(&TransactionId::new(return_id)))
    }
}

fn kari() -> MemberLookup {
    MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE))
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

fn nok(minor: i64) -> Money {
    Money::new(minor, Currency::NOK)
}

/// A return of one mug without a receipt under `id`.
fn unreceipted(id: &str) -> ReturnRequest {
    let mut mug = TransactionLine::new("x", demo::PRODUCT_MUG, Decimal::ONE, nok(19_900), nok(19_900));
    mug.net = nok(19_900);
    ReturnRequest::new(None, TransactionId::new(id), demo::start()).with_unreceipted_line(mug)
}

fn net_of(out: &CheckoutOutcome, line: &str) -> Money {
    out.transaction.lines.iter().find(|l| l.line_id == LineId::new(line)).unwrap().net
}

fn assert_conflict(err: &Error, words: &[&str]) {
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    for w in words {
        assert!(err.message().contains(w), "{w:?} missing: {err}");
    }
}

fn assert_invalid(err: &Error, field: &str, words: &[&str]) {
    assert!(matches!(err.kind(), ErrorKind::Invalid { field: f, .. } if f == field), "{err}");
    for w in words {
        assert!(err.to_string().contains(w), "{w:?} missing: {err}");
    }
}

#[tokio::test]
async fn a_return_id_another_orders_return_used_is_a_conflict_and_reaches_neither_vendor_nor_payment() {
    let w = world();
    let a = w.complete("o-a").await;
    w.complete("o-b").await;
    let first = w.checkout.process_return(&ctx(), &ret("o-a", "RET-1", "2", 1), None).await.unwrap();
    assert_eq!(first.refunded, net_of(&a, "2"));
    let before = w.seen(&["o-a", "o-b", "RET-1"]);

    // Per-order numbering: order o-b's first return is RET-1 as well.
    let err = w.checkout.process_return(&ctx(), &ret("o-b", "RET-1", "2", 1), None).await.unwrap_err();
    assert_conflict(&err, &["return id RET-1 was used for a return of order o-a", "new return id"]);
    assert_eq!(w.seen(&["o-a", "o-b", "RET-1"]), before, "nothing reached the vendor or the payment");
    assert!(!w.processed("o-b", "RET-1").await, "o-b's ledger records no return");
    assert_eq!(w.payment.refunds().len(), 1, "one refund, o-a's");

    // Under an id of its own, o-b's return goes through.
    w.checkout.process_return(&ctx(), &ret("o-b", "RET-1-b", "2", 1), None).await.unwrap();
    assert!(w.processed("o-b", "RET-1-b").await);
}

#[tokio::test]
async fn an_order_under_an_earlier_returns_id_is_invalid_before_any_provider_call() {
    let w = world();
    w.complete("o-c").await;
    w.checkout.process_return(&ctx(), &ret("o-c", "o-c-r1", "2", 1), None).await.unwrap();
    let before = w.seen(&["o-c", "o-c-r1"]);
    let holds = w.provider.open_holds().len();
    // Armed, but only used if the prepare asks the provider anything.
    w.provider.fail_next("members.find", Error::new(ErrorKind::Unavailable, "memory", "members.find"));

    let err = w.checkout.prepare(&ctx(), &order("o-c-r1")).await.unwrap_err();
    assert_invalid(&err, "transaction_id", &["o-c-r1 is the id of a return of order o-c", "id of its own"]);
    let err = w.checkout.complete(&ctx(), &order("o-c-r1")).await.unwrap_err();
    assert_invalid(&err, "transaction_id", &["o-c-r1"]);

    assert!(w.checkout.status(&TransactionId::new("o-c-r1")).await.unwrap().is_none(), "no record");
    assert_eq!(w.provider.open_holds().len(), holds, "no hold taken");
    assert_eq!(w.seen(&["o-c", "o-c-r1"]), before, "nothing sent, charged or refunded");
    assert_eq!(w.payment.captures(), 1, "only o-c was charged");
    let find = w.provider.members().unwrap().find(&ctx(), &kari()).await;
    assert!(find.is_err(), "the armed failure is still there: the provider was not asked");
}

#[tokio::test]
async fn the_same_return_asked_again_answers_as_the_first_and_acts_once() {
    let w = world();
    w.complete("o-d").await;
    w.complete("o-e").await;
    let request = ret("o-d", "RET-1", "2", 1);
    let first = w.checkout.process_return(&ctx(), &request, None).await.unwrap();
    let after_first = w.seen(&["o-d", "o-e", "RET-1"]);
    // Another order's attempt at the id between the two changes nothing for it.
    let err = w.checkout.process_return(&ctx(), &ret("o-e", "RET-1", "2", 1), None).await.unwrap_err();
    assert_conflict(&err, &["RET-1", "o-d"]);

    let again = w.checkout.process_return(&ctx(), &request, None).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(w.seen(&["o-d", "o-e", "RET-1"]), after_first, "no second vendor effect, no second refund");
    assert_eq!(w.payment.refunds().get("RET-1"), Some(&first.refunded));
}

#[tokio::test]
async fn an_unreceipted_return_id_is_not_taken_for_a_receipted_return_nor_the_other_way_round() {
    let w = world();
    w.complete("o-f").await;
    w.checkout.process_return(&ctx(), &unreceipted("U-1"), None).await.unwrap();
    let before = w.seen(&["o-f", "U-1"]);
    let err = w.checkout.process_return(&ctx(), &ret("o-f", "U-1", "2", 1), None).await.unwrap_err();
    assert_conflict(&err, &["return id U-1 was used for a return without a receipt"]);
    assert_eq!(w.seen(&["o-f", "U-1"]), before, "the unreceipted return stays as it was sent");
    assert!(!w.processed("o-f", "U-1").await);

    w.checkout.process_return(&ctx(), &ret("o-f", "R-f1", "2", 1), None).await.unwrap();
    let before = w.seen(&["o-f", "R-f1"]);
    let err = w.checkout.process_return(&ctx(), &unreceipted("R-f1"), None).await.unwrap_err();
    assert_conflict(&err, &["return id R-f1 was used for a return of order o-f"]);
    assert_eq!(w.seen(&["o-f", "R-f1"]), before);
}

#[tokio::test]
async fn a_return_id_that_is_an_order_id_is_still_invalid_reserved_or_stored() {
    let w = world();
    w.complete("o-g").await;
    w.complete("o-h").await;
    let before = w.seen(&["o-g", "o-h"]);
    for request in [ret("o-g", "o-g", "2", 1), ret("o-g", "o-h", "2", 1), unreceipted("o-h")] {
        let err = w.checkout.process_return(&ctx(), &request, None).await.unwrap_err();
        assert_invalid(&err, "return_id", &["is the id of an order"]);
    }
    // An order whose instance reserved its id and stopped before writing the record.
    let taken = TransactionId::new("o-i");
    assert_eq!(w.store.reserve_id(&taken, &IdUse::Order).await.unwrap(), IdUse::Order);
    let err = w.checkout.process_return(&ctx(), &ret("o-g", "o-i", "2", 1), None).await.unwrap_err();
    assert_invalid(&err, "return_id", &["o-i is the id of an order"]);
    assert_eq!(w.seen(&["o-g", "o-h", "o-i"]).transactions, before.transactions);
    assert_eq!(w.seen(&["o-g", "o-h"]), before, "nothing sent or refunded");
    // The order itself may still be prepared under the id it reserved.
    w.complete("o-i").await;
}

/// A return asked under a mistyped order id is `NotFound`, and must not take its return id
/// with it: the same return id then serves the return of the right order.
#[tokio::test]
async fn a_return_of_an_unknown_order_does_not_keep_its_return_id() {
    let w = world();
    let a = w.complete("o-right").await;
    let e = w.checkout.process_return(&ctx(), &ret("o-wrong", "RET-9", "2", 1), None).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{e}");
    let out = w.checkout.process_return(&ctx(), &ret("o-right", "RET-9", "2", 1), None).await.unwrap();
    assert_eq!(out.refunded, net_of(&a, "2"));
    assert!(w.processed("o-right", "RET-9").await);
}

/// The shop picked the wrong (but existing) order: the line is not in it, so the return is
/// `Invalid` and nothing is done. The same return id then serves the right order.
#[tokio::test]
async fn a_return_refused_as_invalid_does_not_keep_its_return_id() {
    let w = world();
    w.complete("o-a").await;
    let b = w.complete("o-b").await;
    let e =
        w.checkout.process_return(&ctx(), &ret("o-a", "RET-X", "no-such-line", 1), None).await.unwrap_err();
    assert_invalid(&e, "lines[0].line_id", &["no-such-line"]);
    let out = w.checkout.process_return(&ctx(), &ret("o-b", "RET-X", "2", 1), None).await.unwrap();
    assert_eq!(out.refunded, net_of(&b, "2"));
}

/// An unreceipted return refused for a bad line (net above gross) does not take its id: an
/// order may still be placed under it.
#[tokio::test]
async fn a_refused_unreceipted_return_does_not_keep_its_id() {
    let w = world();
    let mut bad = unreceipted("ID-U");
    bad.lines_without_receipt[0].net = nok(99_900);
    let e = w.checkout.process_return(&ctx(), &bad, None).await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Invalid { .. }), "{e}");
    w.checkout.prepare(&ctx(), &order("ID-U")).await.unwrap();
}

/// A return of coffee without a receipt under `id`.
fn unreceipted_coffee(id: &str) -> ReturnRequest {
    let mut coffee = TransactionLine::new("x", demo::PRODUCT_COFFEE, Decimal::ONE, nok(12_900), nok(12_900));
    coffee.net = nok(12_900);
    ReturnRequest::new(None, TransactionId::new(id), demo::start()).with_unreceipted_line(coffee)
}

/// A return id without a receipt used again: for the same goods (the quantity written at
/// another scale) it answers as the first return and sends nothing again; for other goods (the
/// cashier reused the id for another customer's coffee) it is a `Conflict`, not a success the
/// vendor never records.
#[tokio::test]
async fn an_unreceipted_return_id_reused_for_other_goods_is_a_conflict_and_its_retry_acts_once() {
    let w = world();
    let first = w.checkout.process_return(&ctx(), &unreceipted("U-2"), None).await.unwrap();
    assert_eq!(first.refunded, nok(19_900));
    let after_first = w.seen(&["U-2"]);
    let mut same = unreceipted("U-2");
    same.lines_without_receipt[0].quantity = Decimal::new(10, 1);
    assert_eq!(w.checkout.process_return(&ctx(), &same, None).await.unwrap(), first);
    let err = w.checkout.process_return(&ctx(), &unreceipted_coffee("U-2"), None).await.unwrap_err();
    assert_conflict(&err, &["return id U-2", "other goods"]);
    assert_eq!(w.seen(&["U-2"]), after_first, "nothing sent again");
    let at_vendor = w.provider.transaction(&TransactionId::new("U-2")).unwrap().0;
    assert_eq!(at_vendor.lines[0].product_id.as_str(), demo::PRODUCT_MUG);
}

/// An unreceipted return the vendor refused (nothing recorded there) leaves its id free for
/// other goods.
#[tokio::test]
async fn an_unreceipted_return_the_vendor_refused_leaves_its_id_free_for_other_goods() {
    let w = world();
    w.provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::Rejected, "memory", "transactions.send").with_message("not today"),
    );
    let e = w.checkout.process_return(&ctx(), &unreceipted("U-3"), None).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Rejected, "{e}");
    let out = w.checkout.process_return(&ctx(), &unreceipted_coffee("U-3"), None).await.unwrap();
    assert_eq!(out.refunded, nok(12_900));
}
