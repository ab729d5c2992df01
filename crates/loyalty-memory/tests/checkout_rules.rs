//! The checkout's money rules on the memory provider, each one a shop has been bitten by:
//! a reply lost after the vendor recorded the sale, a claim refused after the charge, a send
//! refused for good, a changed body under a sent id, returns naming what came back, and an
//! offer that ends on a local date.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use loyalty_core::checkout::{Checkout, CheckoutRequest, Completion, Delivery, SimulatedPayment};
use loyalty_core::{
    Context, Discount, Error, ErrorKind, ManualClock, MemberId, MemberLookup, Offer, OfferId, OfferKind,
    Phone, Provider, ReturnRequest, ReturnStyle, Scope, SendOutcome, TransactionId,
};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

struct World {
    provider: MemoryProvider,
    clock: ManualClock,
    payment: Arc<SimulatedPayment>,
    checkout: Checkout<'static>,
}

fn world() -> World {
    let (provider, clock) = MemoryProvider::demo_manual();
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(provider.clone()), payment.clone(), Arc::new(clock.clone()));
    World { provider, clock, payment, checkout }
}

fn ctx() -> Context {
    Context::new()
}

fn kari(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
}

fn member() -> MemberId {
    MemberId::new(demo::MEMBER_ID)
}

#[tokio::test]
async fn a_sale_recorded_whose_reply_was_lost_is_resent_and_recognised_once() {
    let w = world();
    w.provider.lose_reply_next("transactions.send");
    let out = w.checkout.complete(&ctx(), &kari("o-lost")).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, Delivery::Pending { .. }), "{:?}", out.delivery);
    assert_eq!(w.provider.transaction_count(), 1, "the vendor did record it");
    let results = w.checkout.resend_pending(&ctx()).await;
    assert!(matches!(results[0].1, Ok(Delivery::Sent(ref r)) if r.outcome == SendOutcome::AlreadyRecorded));
    assert_eq!(w.provider.transaction_count(), 1);
    assert_eq!(w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20)), 1, "used once");
    assert!(w.checkout.pending().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_memory_provider_refuses_a_changed_body_under_a_sent_id() {
    let w = world();
    let out = w.checkout.complete(&ctx(), &kari("o-body")).await.unwrap().into_outcome().unwrap();
    let mut changed = out.transaction.clone();
    changed.lines.truncate(1);
    changed.total = changed.lines[0].net;
    changed.total_gross = changed.lines[0].gross;
    changed.total_discount = changed.lines[0].discount;
    let err = w.provider.transactions().unwrap().send(&ctx(), &changed).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict);
    assert!(err.message().contains("o-body"), "{err}");
    let same = w.provider.transactions().unwrap().send(&ctx(), &out.transaction).await.unwrap();
    assert_eq!(same.outcome, SendOutcome::AlreadyRecorded);
}

#[tokio::test]
async fn the_same_order_with_another_basket_is_a_conflict_naming_the_order() {
    let w = world();
    w.checkout.complete(&ctx(), &kari("o-same")).await.unwrap();
    let mut other = kari("o-same");
    other.basket.lines.pop();
    let err = w.checkout.complete(&ctx(), &other).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict);
    assert!(err.message().contains("o-same"), "{err}");
    assert_eq!(w.payment.captures(), 1);
}

#[tokio::test]
async fn a_hold_refused_because_another_order_holds_the_coupon_says_so() {
    let w = world();
    let a = w.checkout.prepare(&ctx(), &kari("o-a").confirm(demo::COUPON_SUMMER10)).await.unwrap();
    assert!(a.holds.iter().any(|h| h.offer_id.as_str() == demo::COUPON_SUMMER10));
    let b = w.checkout.prepare(&ctx(), &kari("o-b").confirm(demo::COUPON_SUMMER10)).await.unwrap();
    let note = format!("offer {}: held by another order", demo::COUPON_SUMMER10);
    assert!(b.notes.contains(&note), "{:?}", b.notes);
    w.checkout.commit(&ctx(), &a).await.unwrap().into_outcome().unwrap();
    let c = w.checkout.prepare(&ctx(), &kari("o-c").confirm(demo::COUPON_SUMMER10)).await.unwrap();
    let used_up = format!("offer {}: no uses left", demo::COUPON_SUMMER10);
    assert!(
        c.notes.contains(&used_up) || c.priced.not_applied.iter().any(|n| n.reason == "no uses left"),
        "{:?}",
        c.notes
    );
}

#[tokio::test]
async fn a_claim_refused_after_the_charge_is_dropped_and_the_sale_sent_without_it() {
    let w = world();
    w.provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    let out = w
        .checkout
        .complete(&ctx(), &kari("o-wait").confirm(demo::COUPON_SUMMER10))
        .await
        .unwrap()
        .into_outcome()
        .unwrap();
    assert!(matches!(out.delivery, Delivery::Pending { .. }));
    // The lock lapses while the vendor is down, and another order uses the coupon.
    w.clock.advance(Duration::from_secs(16 * 60));
    let other = w
        .checkout
        .complete(&ctx(), &kari("o-took").confirm(demo::COUPON_SUMMER10))
        .await
        .unwrap()
        .into_outcome()
        .unwrap();
    assert!(other.transaction.offers_used.iter().any(|u| u.offer_id.as_str() == demo::COUPON_SUMMER10));
    let results = w.checkout.resend_pending(&ctx()).await;
    assert!(matches!(results[0].1, Ok(Delivery::Sent(_))), "{:?}", results[0].1);
    let outcome = w.checkout.status(&TransactionId::new("o-wait")).await.unwrap().unwrap().outcome.unwrap();
    assert_eq!(outcome.dropped_claims, vec![OfferId::new(demo::COUPON_SUMMER10)]);
    assert_eq!(outcome.charged, out.charged, "the customer paid what was shown");
    let (sent, _) = w.provider.transaction(&TransactionId::new("o-wait")).unwrap();
    assert!(!sent.offers_used.iter().any(|u| u.offer_id.as_str() == demo::COUPON_SUMMER10));
    assert_eq!(
        w.provider.uses(&member(), &OfferId::new(demo::COUPON_SUMMER10)),
        1,
        "one use, by the other order"
    );
}

#[tokio::test]
async fn a_pending_send_refused_for_good_is_reported_once_and_leaves_the_outbox() {
    let w = world();
    w.provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    w.checkout.complete(&ctx(), &kari("o-doomed")).await.unwrap();
    w.provider.fail_next(
        "transactions.send",
        Error::invalid("memory", "transactions.send", "lines[0].sku", "unknown"),
    );
    let first = w.checkout.resend_pending(&ctx()).await;
    assert!(matches!(first[0].1, Ok(Delivery::Refused { .. })), "{:?}", first[0].1);
    assert!(w.checkout.pending().await.unwrap().is_empty(), "not retried forever");
    assert!(w.checkout.resend_pending(&ctx()).await.is_empty(), "reported once");
    w.clock.advance(Duration::from_secs(7200));
    let report = w.checkout.tick(&ctx()).await.unwrap();
    assert!(report.refused.is_empty() && report.sent.is_empty());
}

#[tokio::test]
async fn every_return_style_names_the_coupons_that_came_back() {
    for (style, back) in [
        (ReturnStyle::CancelAndResend, vec![demo::COUPON_COFFEE20]),
        (ReturnStyle::ResendWithoutLines, vec![demo::COUPON_COFFEE20]),
        (ReturnStyle::PartialRefund, vec![]),
        (ReturnStyle::NegativeTransaction, vec![]),
    ] {
        let w = world();
        // Coffee (coupon + stamp card) and a mug (basket coupon): the coffee line goes back.
        w.checkout.complete(&ctx(), &kari("o-r").confirm(demo::COUPON_SUMMER10)).await.unwrap();
        let ret =
            ReturnRequest::new(Some(TransactionId::new("o-r")), TransactionId::new("o-r-1"), demo::start())
                .with_line("1", Decimal::from(2));
        let r = w.checkout.process_return(&ctx(), &ret, Some(style)).await.unwrap();
        let expected: Vec<OfferId> = back.iter().map(|s| OfferId::new(*s)).collect();
        assert_eq!(r.reinstated, expected, "{style:?}");
        let uses = w.provider.uses(&member(), &OfferId::new(demo::COUPON_COFFEE20));
        assert_eq!(
            uses,
            if back.is_empty() { 1 } else { 0 },
            "{style:?}: what was reported is what happened"
        );
        assert_eq!(w.payment.refunds().len(), 1, "{style:?}: the money went back once");
    }
}

#[tokio::test]
async fn a_full_resend_without_lines_return_is_a_void_and_gives_every_coupon_back() {
    let w = world();
    w.checkout.complete(&ctx(), &kari("o-void").confirm(demo::COUPON_SUMMER10)).await.unwrap();
    let ret =
        ReturnRequest::new(Some(TransactionId::new("o-void")), TransactionId::new("o-void-r"), demo::start())
            .with_line("1", Decimal::from(2))
            .with_line("2", Decimal::ONE);
    let r = w.checkout.process_return(&ctx(), &ret, Some(ReturnStyle::ResendWithoutLines)).await.unwrap();
    let mut back = r.reinstated.clone();
    back.sort();
    assert_eq!(back, vec![OfferId::new(demo::COUPON_COFFEE20), OfferId::new(demo::COUPON_SUMMER10)]);
    assert!(w.provider.transaction(&TransactionId::new("o-void")).unwrap().1, "voided");
}

#[tokio::test]
async fn an_offer_ending_on_a_local_date_expires_with_that_day_and_the_refusal_names_it() {
    let w = world();
    // 15 January 2026 in Oslo ends at 23:00 UTC.
    let last_day = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let offer = Offer::new(
        "c-winter",
        "5 % until the 15th",
        OfferKind::Coupon { discount: Discount::Percent(Decimal::from(5)), scope: Scope::Basket },
    )
    .ending_on(last_day, chrono_tz::Europe::Oslo);
    w.provider.add_offer(offer, Some(1));
    w.clock.advance(Duration::from_secs(10 * 3600 + 30 * 60)); // 22:30 UTC, 23:30 in Oslo
    let prepared = w.checkout.prepare(&ctx(), &kari("o-winter").confirm("c-winter")).await.unwrap();
    assert!(prepared
        .priced
        .lines
        .iter()
        .any(|l| l.discounts.iter().any(|d| d.offer_id.as_str() == "c-winter")));
    w.clock.advance(Duration::from_secs(3600)); // 23:30 UTC: 00:30 on the 16th in Oslo
    let Completion::PriceChanged(change) = w.checkout.commit(&ctx(), &prepared).await.unwrap() else {
        panic!("an ended offer must stop the commit")
    };
    assert!(
        change.changes.contains(&"offer c-winter: expired on 2026-01-15".to_string()),
        "{:?}",
        change.changes
    );
    let later = w.checkout.prepare(&ctx(), &kari("o-winter-2").confirm("c-winter")).await.unwrap();
    assert!(later.notes.contains(&"offer c-winter: expired on 2026-01-15".to_string()), "{:?}", later.notes);
}

#[tokio::test]
async fn a_guest_sign_up_retried_without_a_lookup_is_the_member_created_the_first_time() {
    let w = world();
    let consents = loyalty_core::Consents { membership: true, order_history: true, ..Default::default() };
    let sign_up = loyalty_core::RegisterMember::new()
        .with_phone(Phone::new("+47", "90011122"))
        .with_email("guest@example.com")
        .with_consents(consents);
    let first = w
        .checkout
        .complete(&ctx(), &CheckoutRequest::new("g-1", demo::basket()).sign_up(sign_up.clone()))
        .await
        .unwrap()
        .into_outcome()
        .unwrap();
    let count = w.provider.member_count();
    let second = w
        .checkout
        .complete(&ctx(), &CheckoutRequest::new("g-2", demo::basket()).sign_up(sign_up))
        .await
        .unwrap()
        .into_outcome()
        .unwrap();
    assert_eq!(second.member, first.member);
    assert_eq!(w.provider.member_count(), count, "no second member");
}

#[tokio::test]
async fn a_claim_refused_as_expired_after_the_charge_is_dropped_too() {
    let w = world();
    // The vendor refuses the lapsed lock's discount (SessionM's `lock_expired`).
    w.provider.fail_next(
        "transactions.send",
        Error::new(ErrorKind::Expired, "memory", "transactions.send").with_message("lock expired"),
    );
    let out = w
        .checkout
        .complete(&ctx(), &kari("o-lapsed").confirm(demo::COUPON_SUMMER10))
        .await
        .unwrap()
        .into_outcome()
        .unwrap();
    assert!(matches!(out.delivery, Delivery::Sent(_)), "{:?}", out.delivery);
    assert!(!out.dropped_claims.is_empty(), "the refused claim is named");
    assert_eq!(w.provider.transaction_count(), 1);
    // The sale did not consume the dropped claim's lock: it is released, not left to lapse
    // while the coupon stays locked away from the member.
    let coupon = OfferId::new(demo::COUPON_SUMMER10);
    assert_eq!(w.provider.open_holds_of(&coupon), 0, "{:?}", w.provider.open_holds());
    let record = w.checkout.status(&TransactionId::new("o-lapsed")).await.unwrap().unwrap();
    assert!(record.holds.is_empty(), "{:?}", record.holds);
    let again = w
        .checkout
        .complete(&ctx(), &kari("o-next").confirm(demo::COUPON_SUMMER10))
        .await
        .unwrap()
        .into_outcome()
        .unwrap();
    assert!(again.transaction.offers_used.iter().any(|u| u.offer_id == coupon), "{:?}", again.notes);
}

#[tokio::test]
async fn a_sign_up_note_names_the_real_reason_a_guest_stays_a_guest() {
    let w = world();
    let both = loyalty_core::Consents { membership: true, order_history: true, ..Default::default() };
    let sign_up = |consents| {
        loyalty_core::RegisterMember::new().with_email("guest@example.com").with_consents(consents)
    };
    // A provider that takes no sign-ups: the consents are not to blame.
    let closed = w.provider.redeclared(|c| c.register = false).named("closed");
    let checkout = Checkout::new(Arc::new(closed), w.payment.clone(), Arc::new(w.clock.clone()));
    let p = checkout
        .prepare(&ctx(), &CheckoutRequest::new("g-3", demo::basket()).sign_up(sign_up(both)))
        .await
        .unwrap();
    assert_eq!(p.notes, vec!["guest purchase: closed does not take sign-ups".to_string()]);
    // A provider that does, without the order-history consent.
    let one = loyalty_core::Consents { membership: true, ..Default::default() };
    let p = w
        .checkout
        .prepare(&ctx(), &CheckoutRequest::new("g-4", demo::basket()).sign_up(sign_up(one)))
        .await
        .unwrap();
    assert!(
        p.notes.iter().any(|n| n.contains("needs both the membership and order-history consents")),
        "{:?}",
        p.notes
    );
}

#[tokio::test]
async fn an_identify_that_finds_nobody_says_so() {
    let w = world();
    let request = CheckoutRequest::new("g-5", demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", "99999999")));
    let p = w.checkout.prepare(&ctx(), &request).await.unwrap();
    assert_eq!(p.member, None);
    assert!(p.notes.contains(&"no member found by phone".to_string()), "{:?}", p.notes);
}

#[tokio::test]
async fn a_basket_line_with_a_bad_id_is_refused_before_any_sign_up_or_lookup() {
    let w = world();
    let mut basket = demo::basket();
    basket.lines[0].product_id = loyalty_core::ProductId::new("COF\u{0}500");
    let sign_up = loyalty_core::RegisterMember::new().with_email("guest-bad-id@example.com").with_consents(
        loyalty_core::Consents { membership: true, order_history: true, ..Default::default() },
    );
    let members = w.provider.member_count();
    for request in [
        CheckoutRequest::new("o-bad-id", basket.clone()).sign_up(sign_up.clone()),
        kari("o-bad-id-2").confirm(demo::COUPON_SUMMER10),
    ] {
        let mut request = request;
        request.basket = basket.clone();
        for err in [
            w.checkout.prepare(&ctx(), &request).await.expect_err("a bad product id"),
            w.checkout.complete(&ctx(), &request).await.expect_err("a bad product id"),
        ] {
            match err.kind() {
                ErrorKind::Invalid { field, .. } => assert_eq!(field, "basket.lines[0].product_id", "{err}"),
                other => panic!("expected Invalid, got {other:?}: {err}"),
            }
        }
        assert!(w.checkout.status(&request.transaction_id).await.unwrap().is_none(), "nothing recorded");
    }
    assert_eq!(w.provider.member_count(), members, "nobody signed up");
    assert!(w.provider.open_holds().is_empty());
}
