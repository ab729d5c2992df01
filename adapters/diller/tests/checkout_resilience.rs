//! The checkout flow over Diller when the vendor misbehaves after the charge: the sale stands,
//! the transaction is kept and resent under the same id, and Diller books it exactly once.

mod common;

use loyalty_core::checkout::{CheckoutRequest, Delivery};
use loyalty_core::{Basket, Context, Currency, Line, MemberLookup, Phone, SendOutcome, WriteEffect};
use loyalty_sim::diller::demo;
use loyalty_sim::Fault;

use common::{checkout_for, transactions_path};

fn request(order: &str) -> CheckoutRequest {
    let basket = Basket::new(Currency::NOK)
        .with_line(Line::new("l1", demo::PRODUCT_COFFEE, common::dec("2"), common::nok("49.00")))
        .with_line(Line::new("l2", "BOOK-1", common::dec("1"), common::nok("349.00")));
    CheckoutRequest::new(order, basket)
        .identify(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .confirm("coupon:SUMMER10")
        .department(demo::DEPARTMENT_ID)
}

/// A checkout over the adapter, on the simulator's clock, with a payment that counts.
#[tokio::test]
async fn garbled_reply_after_booking_is_resent_once_and_never_double_booked() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    // Diller books the transaction, then the reply is garbled on the way back.
    env.handle().inject("POST", &transactions_path(), Fault::MalformedBody, Some(1));
    let out =
        checkout.complete(&Context::new(), &request("order-garbled")).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, Delivery::Pending { .. }), "{:?}", out.delivery);
    assert_eq!(payment.captures(), 1, "the sale stands");
    assert!(payment.voided().is_empty(), "nothing is refunded because the vendor misbehaved");
    assert!(env.probe.transaction_exists("order-garbled"), "Diller did book it");

    let results = checkout.resend_pending(&Context::new()).await;
    assert_eq!(results.len(), 1);
    let Ok(Delivery::Sent(receipt)) = &results[0].1 else { panic!("resend succeeds: {:?}", results[0].1) };
    assert_eq!(receipt.outcome, SendOutcome::AlreadyRecorded, "Diller's duplicate refusal means it has it");
    assert!(checkout.pending().await.unwrap().is_empty());
    // The coupon was used once, and its reservation released after the send.
    assert_eq!(env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "SUMMER10"), Some(1));
    assert!(env.probe.reservations("SUMMER10").is_empty(), "reservation released after the resend");
    assert_eq!(
        env.journal().count("POST", &transactions_path()),
        2,
        "one booking, one resend answered as a duplicate"
    );
}

#[tokio::test]
async fn vendor_down_at_send_keeps_the_sale_and_its_reservation_until_resent() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    env.handle().inject("POST", &transactions_path(), Fault::Status(503), Some(1));
    let out =
        checkout.complete(&Context::new(), &request("order-503")).await.unwrap().into_outcome().unwrap();
    let Delivery::Pending { reason } = &out.delivery else { panic!("{:?}", out.delivery) };
    assert!(reason.contains("unavailable"), "{reason}");
    assert!(!env.probe.transaction_exists("order-503"));
    // The reservation guards the coupon until the transaction lands.
    assert_eq!(env.probe.reservations("SUMMER10"), vec!["order-503".to_string()]);
    let results = checkout.resend_pending(&Context::new()).await;
    let Ok(Delivery::Sent(receipt)) = &results[0].1 else { panic!("{:?}", results[0].1) };
    assert_eq!(receipt.outcome, SendOutcome::Recorded);
    assert!(env.probe.transaction_exists("order-503"));
    assert!(env.probe.reservations("SUMMER10").is_empty());
    assert_eq!(payment.captures(), 1);
}

#[tokio::test]
async fn timeout_on_send_is_an_unknown_write_never_retried_by_the_transport() {
    let env = common::start_with(Default::default(), std::time::Duration::from_millis(300)).await;
    env.handle().inject("POST", &transactions_path(), Fault::Hang, Some(1));
    let tx = common::transaction(&env, "order-hang", &[("COF-500", "1", "49.00")], &[]);
    let err = loyalty_core::Provider::transactions(&env.adapter)
        .unwrap()
        .send(&Context::new(), &tx)
        .await
        .unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown);
    assert_eq!(
        env.journal().count("POST", &transactions_path()),
        1,
        "a write with an unknown outcome is not resent by the transport"
    );
}

#[tokio::test]
async fn guest_sale_is_refused_by_a_members_only_vendor_and_not_queued() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    let basket = Basket::new(Currency::NOK).with_line(Line::new(
        "l1",
        "BOOK-1",
        common::dec("1"),
        common::nok("349.00"),
    ));
    let out = checkout
        .complete(&Context::new(), &CheckoutRequest::new("guest-1", basket))
        .await
        .unwrap()
        .into_outcome()
        .unwrap();
    assert!(
        matches!(out.delivery, Delivery::Refused { ref reason } if reason.contains("members only")),
        "{:?}",
        out.delivery
    );
    assert!(checkout.pending().await.unwrap().is_empty());
    assert_eq!(payment.captures(), 1);
    assert_eq!(env.journal().count("POST", "/api/v2.0/stores/demo-client/members/"), 0, "nothing was sent");
}
