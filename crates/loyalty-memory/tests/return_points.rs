//! Points taken back by returns (the points the returned units earned go back with them): a
//! full return, in one step or several, leaves the member's balance
//! exactly as it was before the sale, whatever the amounts' öre.
//!
//! The memory provider earns one point per whole krone of a sale. A return must take back what
//! the sale earned, never a figure of its own rounded the other way: flooring -12.50 takes back
//! 13 points for a sale that earned 12, and flooring each refund of a sale refunded in steps
//! takes back a point less than it earned.

use loyalty_core::returns::{self, ReturnLedger};
use loyalty_core::{
    Basket, Context, Currency, Line, MemberId, Money, Provider, ReturnRequest, ReturnStyle, Transaction,
    TransactionId,
};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

fn member() -> MemberId {
    MemberId::new(demo::MEMBER_ID)
}

fn nok(minor: i64) -> Money {
    Money::new(minor, Currency::NOK)
}

async fn points(p: &MemoryProvider) -> Decimal {
    p.members().unwrap().get(&Context::new(), &member()).await.unwrap().points.unwrap()
}

/// Sends a sale of `basket` by the demo member, undiscounted, paid by card.
async fn sell(p: &MemoryProvider, id: &str, basket: &Basket) -> Transaction {
    let priced = loyalty_core::pricing::price(basket, &[], &[], demo::start()).unwrap();
    let tx =
        Transaction::from_priced(TransactionId::new(id), demo::start(), Some(member()), basket, &priced, &[])
            .unwrap()
            .with_payment("Card", priced.total);
    p.transactions().unwrap().send(&Context::new(), &tx).await.unwrap();
    tx
}

/// 2 mugs at 10.50 (line 1) and 1 at 9.50 (line 2): 30.50, which earns 30 points.
fn thirty_fifty() -> Basket {
    Basket::new(Currency::NOK)
        .with_line(Line::new("1", demo::PRODUCT_MUG, Decimal::from(2), nok(10_50)))
        .with_line(Line::new("2", demo::PRODUCT_MUG, Decimal::ONE, nok(9_50)))
}

/// Returns one unit of each of `steps` (line id, return id) in `style`; the points taken back
/// by each step.
async fn return_in_steps(
    p: &MemoryProvider,
    tx: &Transaction,
    style: ReturnStyle,
    steps: &[(&str, &str)],
) -> (ReturnLedger, Vec<Decimal>) {
    let mut ledger = ReturnLedger::new(tx.clone());
    let mut taken = Vec::new();
    for (line, id) in steps {
        let before = points(p).await;
        let req = ReturnRequest::new(Some(tx.id.clone()), TransactionId::new(*id), demo::start())
            .with_line(*line, Decimal::ONE);
        returns::process(p, &Context::new(), Some(&mut ledger), &req, Some(style)).await.unwrap();
        taken.push(before - points(p).await);
    }
    (ledger, taken)
}

/// A negative transaction of -12.50 takes back the 12 points the 12.50 sale earned (truncated
/// toward zero, as the sale was), not 13.
#[tokio::test]
async fn a_full_negative_return_takes_back_exactly_what_the_sale_earned() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let before = points(&p).await;
    let basket =
        Basket::new(Currency::NOK).with_line(Line::new("1", demo::PRODUCT_MUG, Decimal::ONE, nok(12_50)));
    let tx = sell(&p, "o-neg", &basket).await;
    assert_eq!(points(&p).await - before, Decimal::from(12), "12.50 earns 12 points");

    let (ledger, taken) = return_in_steps(&p, &tx, ReturnStyle::NegativeTransaction, &[("1", "r-neg")]).await;
    assert_eq!(ledger.refunded, nok(12_50));
    assert_eq!(taken, vec![Decimal::from(12)]);
    assert_eq!(points(&p).await, before, "a full return leaves the balance as it was");
}

/// A sale refunded in three steps (10.50 + 10.50 + 9.50 of 30.50, which earned 30) takes back
/// the running share of the 30 points at each step: 10 + 10 + 10, exactly what it earned.
#[tokio::test]
async fn refunds_in_steps_take_back_exactly_what_the_sale_earned() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let before = points(&p).await;
    let tx = sell(&p, "o-steps", &thirty_fifty()).await;
    assert_eq!(points(&p).await - before, Decimal::from(30));

    let steps = [("1", "r-a"), ("1", "r-b"), ("2", "r-c")];
    let (ledger, taken) = return_in_steps(&p, &tx, ReturnStyle::PartialRefund, &steps).await;
    assert_eq!(ledger.refunded, nok(30_50));
    assert_eq!(taken.iter().sum::<Decimal>(), Decimal::from(30), "steps {taken:?}");
    assert!(taken.iter().all(|t| *t >= Decimal::ZERO), "no step gives points: {taken:?}");
    assert_eq!(points(&p).await, before, "a sale fully refunded in steps leaves the balance as it was");
}

/// A partial refund never takes back more than the refunded units' share: the first 10.50 of
/// 30.50 takes back 10 of 30 points (not 11), leaving 20 for the 20.00 still kept.
#[tokio::test]
async fn a_partial_refund_takes_back_the_refunded_share() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let before = points(&p).await;
    let tx = sell(&p, "o-share", &thirty_fifty()).await;
    let (_, taken) = return_in_steps(&p, &tx, ReturnStyle::PartialRefund, &[("1", "r-share")]).await;
    assert_eq!(taken, vec![Decimal::from(10)]);
    assert_eq!(points(&p).await - before, Decimal::from(20));
}

/// The same sale returned in steps by amending it (ResendWithoutLines, the last step a void)
/// also gives back exactly the 30 points.
#[tokio::test]
async fn amends_in_steps_take_back_exactly_what_the_sale_earned() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let before = points(&p).await;
    let tx = sell(&p, "o-amend", &thirty_fifty()).await;
    let steps = [("1", "r-x"), ("1", "r-y"), ("2", "r-z")];
    let (_, taken) = return_in_steps(&p, &tx, ReturnStyle::ResendWithoutLines, &steps).await;
    assert_eq!(taken.iter().sum::<Decimal>(), Decimal::from(30), "steps {taken:?}");
    assert_eq!(points(&p).await, before);
}
