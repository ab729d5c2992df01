//! Weighed goods returned in decimal steps. The core gives each step's gross and net as
//! differences of rounded cumulative shares, so the steps add up exactly to what was paid;
//! a step can then be a minor unit off `quantity × unit_price` (0.100 kg × 129.90 = 12.99,
//! refunded 13.00). Diller's line rule is `total_price = quantity × unit_price − discount`
//! with fractional quantities allowed (diller.md §4.5, §5.6, checklist 21): the adapter sends
//! the refunded amount as `total_price` and rebuilds the line's discount so the line holds
//! exactly, instead of refusing the return (which left money the customer was owed unbooked).
//! Cancel-and-resend, which never sends a step, is kept as a guard.

mod common;

use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutRequest, SimulatedPayment};
use loyalty_core::{Basket, Context, Currency, Line, MemberLookup, Phone, ReturnRequest, ReturnStyle};
use loyalty_sim::diller::demo;

/// Buys 0.350 kg of cheese and a book, returns the cheese in three steps, and checks every
/// step goes through and the steps refund exactly what the cheese cost.
async fn cheese_returned_in_three_steps(style: ReturnStyle) {
    let env = common::start().await;
    let payment = Arc::new(SimulatedPayment::new());
    let checkout =
        Checkout::new(Arc::new(&env.adapter), payment.clone(), Arc::new(common::Bridge(env.clock.clone())));
    let basket = Basket::new(Currency::NOK)
        .with_line(Line::new("l1", "CHEESE-1", common::dec("0.350"), common::nok("129.90")))
        .with_line(Line::new("l2", "BOOK-1", common::dec("1"), common::nok("349.00")));
    let request = CheckoutRequest::new("o-w", basket)
        .identify(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .department(demo::DEPARTMENT_ID);
    let out = checkout.complete(&Context::new(), &request).await.unwrap().into_outcome().unwrap();
    let cheese = out.transaction.lines[0].net;
    let mut total = 0;
    for (i, q) in ["0.059", "0.100", "0.191"].iter().enumerate() {
        let r = ReturnRequest::new(Some("o-w".into()), format!("o-w-r{i}").into(), env.clock.now())
            .with_line("l1", common::dec(q));
        let o = checkout
            .process_return(&Context::new(), &r, Some(style))
            .await
            .unwrap_or_else(|e| panic!("{style:?}: returning {q} kg of the cheese (step {i}) failed: {e}"));
        total += o.refunded.minor;
    }
    assert_eq!(total, cheese.minor, "{style:?}: the steps refund what the cheese cost");
}

#[tokio::test]
async fn weighed_goods_returned_in_steps_as_negative_transactions() {
    cheese_returned_in_three_steps(ReturnStyle::NegativeTransaction).await;
}

#[tokio::test]
async fn weighed_goods_returned_in_steps_as_partial_refunds() {
    cheese_returned_in_three_steps(ReturnStyle::PartialRefund).await;
}

#[tokio::test]
async fn weighed_goods_returned_in_steps_by_cancel_and_resend() {
    cheese_returned_in_three_steps(ReturnStyle::CancelAndResend).await;
}
