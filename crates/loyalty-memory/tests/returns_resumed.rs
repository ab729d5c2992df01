//! A return resumed after an unknown outcome runs as it started: in the style it chose (one
//! that passed over cancel-and-resend to spare a spent card), and with the body it sent (its
//! stamp reversal dropped after the vendor refused it).

use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutRequest, SimulatedPayment};
use loyalty_core::{
    Context, MemberId, MemberLookup, OfferId, Phone, ReturnRequest, ReturnStyle, TransactionId, WriteEffect,
};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

fn ctx() -> Context {
    Context::new()
}

#[tokio::test]
async fn resumed_return_keeps_the_style_it_started_with() {
    let (provider, clock) = MemoryProvider::demo_manual();
    let redeclared = provider.redeclared(|c| {
        c.return_styles = vec![ReturnStyle::CancelAndResend, ReturnStyle::NegativeTransaction]
    });
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(redeclared), payment.clone(), Arc::new(clock.clone()));
    let request = CheckoutRequest::new("o-a1", demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)));
    checkout.complete(&ctx(), &request).await.unwrap().into_outcome().unwrap();
    // The card completed and restarted since the sale: a cancel could not take its stamps back.
    provider.set_stamps(&MemberId::new(demo::MEMBER_ID), &OfferId::new(demo::STAMP_COFFEE), 0);
    // Return the mug; the coffee (which earned stamps) is kept.
    let ret =
        ReturnRequest::new(Some(TransactionId::new("o-a1")), TransactionId::new("o-a1-r1"), demo::start())
            .with_line("2", Decimal::ONE);
    // The negative transaction reaches the vendor, its reply is lost.
    provider.lose_reply_next("transactions.send");
    let err = checkout.process_return(&ctx(), &ret, None).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    let (first, _) = provider.transaction(&TransactionId::new("o-a1-r1")).expect("the negative transaction");
    assert!(first.total.is_negative(), "the first attempt sent a negative transaction: {first:?}");
    // The shop retries the same return, as the error asks.
    let second = checkout.process_return(&ctx(), &ret, None).await;
    let (_, cancelled) = provider.transaction(&TransactionId::new("o-a1")).unwrap();
    assert!(!cancelled, "the retry switched to CancelAndResend and cancelled the sale at the vendor");
    let outcome = second.expect("the retry finishes the return");
    assert_eq!(outcome.style, Some(ReturnStyle::NegativeTransaction));
}

#[tokio::test]
async fn negative_return_resent_without_stamps_then_resumed_is_finished() {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(provider.clone()), payment.clone(), Arc::new(clock.clone()));
    let request = CheckoutRequest::new("o-b1", demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)));
    checkout.complete(&ctx(), &request).await.unwrap().into_outcome().unwrap();
    // Return one coffee (it earned a stamp) as a negative transaction. The vendor refuses the
    // stamp reversal (the card completed since); the stamp-less resend arrives, its reply is lost.
    let ret =
        ReturnRequest::new(Some(TransactionId::new("o-b1")), TransactionId::new("o-b1-r1"), demo::start())
            .with_line("1", Decimal::ONE);
    provider.fail_next(
        "transactions.send",
        loyalty_core::Error::new(loyalty_core::ErrorKind::Rejected, "memory", "transactions.send")
            .with_message("not enough stamps on the card"),
    );
    provider.lose_reply_next("transactions.send");
    let err =
        checkout.process_return(&ctx(), &ret, Some(ReturnStyle::NegativeTransaction)).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    let (sent, _) = provider.transaction(&TransactionId::new("o-b1-r1")).expect("recorded");
    assert!(sent.stamps.is_empty(), "{:?}", sent.stamps);
    // The retry the error asks for: it must finish the return, not fail on its own first attempt.
    let again = checkout.process_return(&ctx(), &ret, Some(ReturnStyle::NegativeTransaction)).await;
    let again = again.expect("the resumed return finishes");
    assert_eq!(again.stamps_taken_back, 0);
    checkout.tick(&ctx()).await.unwrap();
    assert_eq!(payment.refunds().len(), 1, "refunded once");
}
