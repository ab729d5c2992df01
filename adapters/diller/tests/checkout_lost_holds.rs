//! Coupon reservations whose reply was lost (Diller reserved, the answer never arrived) are
//! released once the order is given up. Diller's reservations never lapse (vendor contract
//! §6.2: no expiry documented), so a reservation the checkout forgets blocks the member's coupon
//! for good: the record keeps the hold call as unsettled until its hold is recorded (reserved
//! again under the same order id, which Diller answers as the same reservation) or released,
//! and stays due meanwhile.

mod common;

use std::time::Duration;

use loyalty_core::checkout::{CheckoutRequest, CheckoutState};
use loyalty_core::{Basket, Context, Currency, Line, MemberLookup, Phone, TransactionId};
use loyalty_sim::diller::demo;
use loyalty_sim::Fault;
use rust_decimal::Decimal;

use common::checkout_for;

/// A book with the fixed 50 kr coupon: one reservation (C4) per prepare.
fn request(order: &str) -> CheckoutRequest {
    let basket =
        Basket::new(Currency::NOK).with_line(Line::new("l1", "BOOK-1", Decimal::ONE, common::nok("349.00")));
    CheckoutRequest::new(order, basket)
        .identify(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .confirm("coupon:FIXED50")
        .department(demo::DEPARTMENT_ID)
}

fn reserve_path() -> String {
    format!(
        "/api/v2.0/stores/{}/members/{}/coupons/{}/reserve",
        demo::STORE_ID,
        demo::MEMBER_ID,
        demo::COUPON_FIXED50
    )
}

/// The customer leaves a prepared order until its reservation is assumed lapsed, and the tick
/// releases it. They click "buy": the commit's check reserves again, and Diller's reply is
/// garbled (it did reserve). Nothing is charged, and the customer walks away. The order is
/// prepared again with an unsettled hold call, due at once: the tick reserves again (the same
/// reservation) and records it, and releases it when it lapses like any prepared hold.
#[tokio::test]
async fn a_reservation_retaken_at_commit_whose_reply_was_lost_is_released_once_the_order_is_abandoned() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    let ctx = Context::new();
    let prepared = checkout.prepare(&ctx, &request("o-lost")).await.unwrap();
    assert_eq!(prepared.priced.total, common::nok("299.00"));
    env.clock.advance(Duration::from_secs(901));
    checkout.tick(&ctx).await.unwrap();
    assert!(env.probe.reservations(demo::COUPON_FIXED50).is_empty(), "the lapsed hold is released");

    env.handle().inject("POST", &reserve_path(), Fault::MalformedBody, None);
    checkout.commit(&ctx, &prepared).await.unwrap_err();
    env.handle().clear_faults();
    assert_eq!(payment.captures(), 0, "nothing charged");
    assert_eq!(
        env.probe.reservations(demo::COUPON_FIXED50),
        vec!["o-lost".to_string()],
        "Diller did reserve"
    );
    let rec = checkout.status(&prepared.order).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Prepared);
    assert_eq!(rec.hold_intents.len(), 1, "the unsettled reserve is kept: {rec:?}");
    assert!(rec.due_at.is_some_and(|d| d <= env.clock.now()), "due at once: {:?}", rec.due_at);

    // The background work runs on while the customer is gone.
    for _ in 0..5 {
        env.clock.advance(Duration::from_secs(3600));
        let report = checkout.tick(&ctx).await.unwrap();
        assert!(report.problems.is_empty(), "{report:?}");
    }
    assert!(
        env.probe.reservations(demo::COUPON_FIXED50).is_empty(),
        "the abandoned order's reservation stays at Diller: {:?}",
        env.probe.reservations(demo::COUPON_FIXED50)
    );
    let rec = checkout.status(&prepared.order).await.unwrap().unwrap();
    assert!(rec.hold_intents.is_empty() && rec.holds.is_empty(), "{rec:?}");
    assert_eq!(rec.due_at, None, "nothing is left to settle");
}

/// The first reserve's reply is garbled (Diller reserved), and the failed prepare's clean-up
/// (reserve again, then release) meets an outage: the hold call stays unsettled on the aborted
/// order, which stays due, and the tick reserves again and releases once Diller answers.
#[tokio::test]
async fn a_lost_reserve_reply_is_released_though_the_failed_prepares_cleanup_meets_an_outage() {
    let env = common::start().await;
    let (checkout, _payment) = checkout_for(&env);
    let ctx = Context::new();
    env.handle().inject("POST", &reserve_path(), Fault::MalformedBody, Some(1));
    env.handle().inject("POST", &reserve_path(), Fault::Status(503), None);
    checkout.prepare(&ctx, &request("o-prep")).await.unwrap_err();
    assert_eq!(
        env.probe.reservations(demo::COUPON_FIXED50),
        vec!["o-prep".to_string()],
        "Diller did reserve"
    );
    let rec = checkout.status(&TransactionId::new("o-prep")).await.unwrap().unwrap();
    assert_eq!(rec.state, CheckoutState::Aborted);
    assert_eq!(rec.hold_intents.len(), 1, "the unsettled reserve is kept: {rec:?}");
    assert!(rec.due_at.is_some(), "the aborted order stays due");

    // Still down: the tick tries, and keeps the order due.
    env.clock.advance(Duration::from_secs(60));
    let report = checkout.tick(&ctx).await.unwrap();
    assert_eq!(report.released.len(), 1, "{report:?}");
    let rec = checkout.status(&TransactionId::new("o-prep")).await.unwrap().unwrap();
    assert_eq!(rec.hold_intents.len(), 1, "kept while Diller is down: {rec:?}");
    assert!(rec.due_at.is_some());

    env.handle().clear_faults();
    env.clock.advance(Duration::from_secs(60));
    checkout.tick(&ctx).await.unwrap();
    assert!(
        env.probe.reservations(demo::COUPON_FIXED50).is_empty(),
        "the failed prepare's reservation stays at Diller: {:?}",
        env.probe.reservations(demo::COUPON_FIXED50)
    );
    let rec = checkout.status(&TransactionId::new("o-prep")).await.unwrap().unwrap();
    assert!(rec.hold_intents.is_empty() && rec.holds.is_empty(), "{rec:?}");
    assert_eq!(rec.due_at, None);
}
