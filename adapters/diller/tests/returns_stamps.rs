//! Returns on Diller next to stamp cards: a return never leaves the member with stamps the
//! returned goods did not earn, and never fails because a card has spent its stamps since.
mod common;

use loyalty_core::checkout::{Checkout, CheckoutRequest};
use loyalty_core::{Basket, Context, Currency, Line, MemberLookup, Phone, ReturnRequest, ReturnStyle};
use loyalty_sim::diller::demo;
use rust_decimal::Decimal;

use common::checkout_for;

const COFFEE: &str = demo::PRODUCT_COFFEE;

fn ctx() -> Context {
    Context::new()
}

/// The demo member buys `lines` (id, product, quantity, unit price) under `order`.
async fn buy(checkout: &Checkout<'_>, order: &str, lines: &[(&str, &str, i64, &str)]) {
    let mut basket = Basket::new(Currency::NOK);
    for (id, product, qty, price) in lines {
        basket = basket.with_line(Line::new(*id, *product, Decimal::from(*qty), common::nok(price)));
    }
    let request = CheckoutRequest::new(order, basket)
        .identify(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .department(demo::DEPARTMENT_ID);
    checkout.complete(&ctx(), &request).await.unwrap().into_outcome().unwrap();
}

fn stamps(env: &common::Env) -> Option<u32> {
    env.probe.stamps_collected(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE)
}

fn one_of(order: &str, id: &str, line: &str, env: &common::Env) -> ReturnRequest {
    ReturnRequest::new(Some(order.into()), id.into(), env.clock.now()).with_line(line, Decimal::ONE)
}

#[tokio::test]
async fn returning_a_book_bought_with_coffees_leaves_the_coffee_card_alone() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    buy(&checkout, "o-1", &[("l1", COFFEE, 2, "49.00"), ("l2", "BOOK-1", 1, "349.00")]).await;
    // A later purchase completes the card, which restarts at 0.
    buy(&checkout, "o-2", &[("l1", COFFEE, 4, "49.00")]).await;
    assert_eq!(stamps(&env), Some(0));
    // Cancel and resend would collect the kept coffees' stamps again, which the cancel could
    // not take back from the restarted card.
    let outcome = checkout.process_return(&ctx(), &one_of("o-1", "o-1-r1", "l2", &env), None).await.unwrap();
    assert_ne!(outcome.style, Some(ReturnStyle::CancelAndResend), "{outcome:?}");
    assert_eq!(outcome.refunded, common::nok("349.00"));
    assert_eq!(stamps(&env), Some(0), "returning a book gave the member stamps");
    assert_eq!(payment.refunds().len(), 1);
}

#[tokio::test]
async fn a_full_return_still_cancels() {
    let env = common::start().await;
    let (checkout, _) = checkout_for(&env);
    buy(&checkout, "o-3", &[("l1", COFFEE, 2, "49.00")]).await;
    let request = ReturnRequest::new(Some("o-3".into()), "o-3-r1".into(), env.clock.now())
        .with_line("l1", Decimal::from(2));
    let outcome = checkout.process_return(&ctx(), &request, None).await.unwrap();
    assert_eq!(outcome.style, Some(ReturnStyle::CancelAndResend));
    assert_eq!(stamps(&env), Some(0));
}

#[tokio::test]
async fn a_negative_return_of_coffees_a_completed_card_spent_is_refunded_without_the_stamps() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    buy(&checkout, "o-4", &[("l1", COFFEE, 6, "49.00")]).await;
    assert_eq!(stamps(&env), Some(0), "the card completed and restarted");
    let request = one_of("o-4", "o-4-r1", "l1", &env);
    let outcome =
        checkout.process_return(&ctx(), &request, Some(ReturnStyle::NegativeTransaction)).await.unwrap();
    assert_eq!(outcome.stamps_taken_back, 0);
    assert_eq!(payment.refunds().len(), 1);
    // Answered from the ledger, once.
    let again =
        checkout.process_return(&ctx(), &request, Some(ReturnStyle::NegativeTransaction)).await.unwrap();
    assert_eq!(again, outcome);
    assert_eq!(payment.refunds().len(), 1);
}

#[tokio::test]
async fn a_negative_return_of_a_card_in_progress_takes_its_stamps_back() {
    let env = common::start().await;
    let (checkout, _) = checkout_for(&env);
    buy(&checkout, "o-5", &[("l1", COFFEE, 2, "49.00")]).await;
    let request = one_of("o-5", "o-5-r1", "l1", &env);
    let outcome =
        checkout.process_return(&ctx(), &request, Some(ReturnStyle::NegativeTransaction)).await.unwrap();
    assert_eq!(outcome.stamps_taken_back, 1);
    assert_eq!(stamps(&env), Some(1));
}

#[tokio::test]
async fn while_the_card_still_holds_the_stamps_a_partial_return_cancels_and_resends() {
    let env = common::start().await;
    let (checkout, _) = checkout_for(&env);
    buy(&checkout, "o-6", &[("l1", COFFEE, 2, "49.00"), ("l2", "BOOK-1", 1, "349.00")]).await;
    let before = stamps(&env);
    let outcome = checkout.process_return(&ctx(), &one_of("o-6", "o-6-r1", "l2", &env), None).await.unwrap();
    assert_eq!(outcome.style, Some(ReturnStyle::CancelAndResend));
    assert_eq!(stamps(&env), before, "the kept coffees' stamps were taken back and collected again");
}
