//! The checkout's money rules on the Diller simulator: stamp reservations follow the basket and
//! go away with a declined payment, a purchase that completes a stamp card is accepted, a claim
//! Diller refuses after the charge is dropped and the sale still delivered, the price shown is
//! the price charged, returns name the coupons Diller gave back, and a date-only validity ends
//! with the store's local day.

mod common;

use std::time::Duration;

use loyalty_core::checkout::{Checkout, CheckoutRequest, Completion, Delivery, NextAnswer};
use loyalty_core::{
    Basket, Context, Currency, Line, MemberLookup, OfferId, Phone, ReturnRequest, ReturnStyle, TransactionId,
};
use loyalty_sim::diller::demo;
use loyalty_sim::Fault;
use rust_decimal::Decimal;

use common::checkout_for;

fn kari(order: &str, lines: &[(&str, &str, i64, &str)]) -> CheckoutRequest {
    let mut basket = Basket::new(Currency::NOK);
    for (id, product, qty, price) in lines {
        basket = basket.with_line(Line::new(*id, *product, Decimal::from(*qty), common::nok(price)));
    }
    CheckoutRequest::new(order, basket)
        .identify(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .department(demo::DEPARTMENT_ID)
}

const COFFEE: &str = demo::PRODUCT_COFFEE;
const TEA: &str = demo::PRODUCT_TEA;

fn ctx() -> Context {
    Context::new()
}

async fn completed(c: &Checkout<'_>, req: &CheckoutRequest) -> loyalty_core::checkout::CheckoutOutcome {
    c.complete(&ctx(), req).await.expect("checkout").into_outcome().expect("charged")
}

#[tokio::test]
async fn a_declined_payment_releases_the_stamp_reservations_too() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    // Six coffees complete the six-stamp card: the card is held (one stamp reserved per unit).
    let req = kari("o-decline", &[("l1", COFFEE, 6, "49.00")]);
    let prepared = checkout.prepare(&ctx(), &req).await.unwrap();
    assert!(prepared.holds.iter().any(|h| h.offer_id.as_str() == "stamp:17"), "{:?}", prepared.holds);
    assert_eq!(env.probe.stamp_reservations(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE).len(), 6);
    payment.answer_next(NextAnswer::Decline);
    checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert!(env.probe.stamp_reservations(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE).is_empty());
    assert!(env.probe.reservations(demo::COUPON_COFFEE20).is_empty());
}

#[tokio::test]
async fn a_line_removed_after_an_edit_loses_its_stamp_reservations() {
    let env = common::start().await;
    let (checkout, _) = checkout_for(&env);
    let before = kari("o-edit", &[("l1", COFFEE, 6, "49.00"), ("l2", COFFEE, 2, "49.00")]);
    checkout.prepare(&ctx(), &before).await.unwrap();
    assert_eq!(env.probe.stamp_reservations(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE).len(), 8);
    // The customer removes the second line and the shop prepares the same order again.
    let after = kari("o-edit", &[("l1", COFFEE, 6, "49.00")]);
    let prepared = checkout.prepare(&ctx(), &after).await.unwrap();
    assert_eq!(env.probe.stamp_reservations(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE).len(), 6);
    checkout.abort(&ctx(), &prepared).await.unwrap();
    assert!(env.probe.stamp_reservations(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE).is_empty());
}

#[tokio::test]
async fn a_purchase_that_completes_a_restartable_card_is_accepted() {
    let env = common::start().await;
    let (checkout, _) = checkout_for(&env);
    let five = completed(&checkout, &kari("o-five", &[("l1", COFFEE, 5, "49.00")])).await;
    assert!(matches!(five.delivery, Delivery::Sent(_)), "{:?}", five.delivery);
    assert_eq!(env.probe.stamps_collected(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE), Some(5));
    // The sixth coffee is free (collected 1, deducted 6); two more start the next card.
    let out = completed(&checkout, &kari("o-sixth", &[("l1", COFFEE, 3, "49.00")])).await;
    assert!(
        matches!(out.delivery, Delivery::Sent(_)),
        "Diller refused the completed card: {:?}",
        out.delivery
    );
    assert!(out.dropped_claims.is_empty(), "{:?}", out.dropped_claims);
    assert_eq!(env.probe.stamps_collected(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE), Some(2));
}

#[tokio::test]
async fn a_purchase_that_completes_a_one_time_card_is_accepted_and_spends_it() {
    let env = common::start().await;
    let (checkout, _) = checkout_for(&env);
    completed(&checkout, &kari("o-tea3", &[("l1", TEA, 3, "39.00")])).await;
    let out = completed(&checkout, &kari("o-tea4", &[("l1", TEA, 1, "39.00")])).await;
    assert!(matches!(out.delivery, Delivery::Sent(_)), "{:?}", out.delivery);
    assert_eq!(out.priced.total.minor, 0, "the fourth tea is free");
    let offers = loyalty_core::Provider::offers(&env.adapter)
        .unwrap()
        .list(&ctx(), Some(&env.member()), None)
        .await
        .unwrap();
    assert!(!offers.iter().any(|o| o.id.as_str() == "stamp:18"), "the spent card leaves the member's list");
}

#[tokio::test]
async fn a_coupon_used_up_while_the_sale_waited_is_dropped_and_the_sale_delivered() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    let tx_path = format!("/api/v2.0/stores/{}/members/{}/transactions", demo::STORE_ID, demo::MEMBER_ID);
    env.handle().inject("POST", &tx_path, Fault::Status(503), Some(1));
    let a = kari("o-waits", &[("l1", "BOOK-1", 1, "349.00")]).confirm("coupon:FIXED50");
    let out = completed(&checkout, &a).await;
    assert!(matches!(out.delivery, Delivery::Pending { .. }));
    let shown = out.charged;
    // The reservation is lost at the vendor meanwhile, and another order uses the coupon.
    let record = checkout.status(&TransactionId::new("o-waits")).await.unwrap().unwrap();
    let hold = record.holds.iter().find(|h| h.offer_id.as_str() == "coupon:FIXED50").unwrap().clone();
    loyalty_core::Provider::holds(&env.adapter).unwrap().release(&ctx(), &hold).await.unwrap();
    let b =
        completed(&checkout, &kari("o-other", &[("l1", "BOOK-1", 1, "349.00")]).confirm("coupon:FIXED50"))
            .await;
    assert!(b.transaction.offers_used.iter().any(|u| u.offer_id.as_str() == "coupon:FIXED50"));
    // The resend: Diller refuses the claim; the sale goes without it.
    let results = checkout.resend_pending(&ctx()).await;
    assert!(matches!(results[0].1, Ok(Delivery::Sent(_))), "{:?}", results[0].1);
    let after = checkout.status(&TransactionId::new("o-waits")).await.unwrap().unwrap();
    let outcome = after.outcome.unwrap();
    assert_eq!(outcome.dropped_claims, vec![OfferId::new("coupon:FIXED50")]);
    assert!(outcome.notes.iter().any(|n| n.contains("sent without it")), "{:?}", outcome.notes);
    assert!(env.probe.transaction_exists("o-waits"), "the charged sale reached Diller");
    assert_eq!(payment.captured_total(&TransactionId::new("o-waits")), Some(shown), "charged what was shown");
    assert_eq!(env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, demo::COUPON_FIXED50), Some(1));
}

#[tokio::test]
async fn a_reservation_swept_and_taken_by_another_order_stops_the_commit_before_any_charge() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    let a = kari("o-slow", &[("l1", "BOOK-1", 1, "349.00")]).confirm("coupon:FIXED50");
    let prepared = checkout.prepare(&ctx(), &a).await.unwrap();
    assert_eq!(prepared.priced.total, common::nok("299.00"));
    // The customer walks away; the sweeper releases the reservation at its assumed expiry.
    env.clock.advance(Duration::from_secs(901));
    let report = checkout.tick(&ctx()).await.unwrap();
    assert_eq!(report.released, vec![TransactionId::new("o-slow")]);
    assert!(env.probe.reservations(demo::COUPON_FIXED50).is_empty());
    completed(&checkout, &kari("o-fast", &[("l1", "BOOK-1", 1, "349.00")]).confirm("coupon:FIXED50")).await;
    // The customer comes back and pays: the price moved, nothing is charged.
    let Completion::PriceChanged(change) = checkout.commit(&ctx(), &prepared).await.unwrap() else {
        panic!("the lost coupon must stop the commit")
    };
    assert_eq!((change.old_total, change.new_total), (common::nok("299.00"), common::nok("349.00")));
    assert_eq!(payment.captured_total(&TransactionId::new("o-slow")), None);
    let out = checkout.commit(&ctx(), &change.prepared).await.unwrap().into_outcome().unwrap();
    assert_eq!(out.charged, common::nok("349.00"));
}

#[tokio::test]
async fn a_cancel_and_resend_return_names_the_coupons_diller_gave_back() {
    let env = common::start().await;
    let (checkout, _) = checkout_for(&env);
    let req = kari("o-ret", &[("l1", COFFEE, 2, "49.00"), ("l2", "BOOK-1", 1, "349.00")])
        .confirm("coupon:SUMMER10");
    let out = completed(&checkout, &req).await;
    let used: Vec<&str> = out.transaction.offers_used.iter().map(|u| u.offer_id.as_str()).collect();
    assert!(used.contains(&"coupon:COFFEE20") && used.contains(&"coupon:SUMMER10"), "{used:?}");
    let ret = ReturnRequest::new(
        Some(TransactionId::new("o-ret")),
        TransactionId::new("o-ret-r1"),
        env.clock.now(),
    )
    .with_line("l1", Decimal::from(2));
    let r = checkout.process_return(&ctx(), &ret, Some(ReturnStyle::CancelAndResend)).await.unwrap();
    // The cancel gave both back; the kept book claimed the basket coupon again.
    assert_eq!(r.reinstated, vec![OfferId::new("coupon:COFFEE20")]);
    assert_eq!(env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, demo::COUPON_COFFEE20), Some(0));
    assert_eq!(env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, demo::COUPON_SUMMER10), Some(1));
}

#[tokio::test]
async fn a_date_only_validity_ends_with_the_stores_local_day_and_the_refusal_names_it() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    let last_day = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    env.probe.add_coupon_ending_on("SPRING5", Decimal::from(5), 1, last_day);
    // 22:00 UTC is 23:00 in Oslo: still the coupon's last day.
    env.clock.advance(Duration::from_secs(10 * 3600));
    let req = kari("o-late", &[("l1", "BOOK-1", 1, "349.00")]).confirm("coupon:SPRING5");
    let prepared = checkout.prepare(&ctx(), &req).await.unwrap();
    let coupon = prepared.offers.iter().find(|o| o.id.as_str() == "coupon:SPRING5").expect("listed");
    assert_eq!(coupon.ends_on.as_ref().map(|d| (d.date, d.zone.as_str())), Some((last_day, "Europe/Oslo")));
    assert_eq!(prepared.priced.total_discount, common::nok("17.45"));
    // Past midnight in Oslo (23:30 UTC) the coupon has ended, although it is still the 15th in UTC.
    env.clock.advance(Duration::from_secs(90 * 60));
    let Completion::PriceChanged(change) = checkout.commit(&ctx(), &prepared).await.unwrap() else {
        panic!("an ended coupon must stop the commit")
    };
    assert!(
        change.changes.contains(&"offer coupon:SPRING5: expired on 2026-01-15".to_string()),
        "{:?}",
        change.changes
    );
    assert_eq!(payment.captures(), 0);
    // A new checkout that confirms it hears the same from Diller.
    let again = checkout
        .prepare(&ctx(), &kari("o-later", &[("l1", "BOOK-1", 1, "349.00")]).confirm("coupon:SPRING5"))
        .await
        .unwrap();
    assert!(
        again.notes.contains(&"offer coupon:SPRING5: expired on 2026-01-15".to_string()),
        "{:?}",
        again.notes
    );
}
