//! After the charge, Diller refuses the sale for one claim (a coupon that ended while the sale
//! waited in the outbox). The checkout asks which claims Diller refuses with C3 validate, which
//! names no transaction: it reads the order's own reservation of another coupon as "reserved by
//! another transaction". A coupon this order still holds is therefore not asked about (as before
//! the charge); only the claim the refusal names is dropped, and the customer's other discount
//! is still recorded at Diller.

mod common;

use std::time::Duration;

use chrono::TimeZone;
use loyalty_core::checkout::Delivery;
use loyalty_core::{Context, OfferId};
use loyalty_sim::diller::demo;
use loyalty_sim::Fault;
use rust_decimal::Decimal;

use common::{checkout_for, kari, transactions_path};

/// COFFEE20 (three uses, two used) and LASTDAY (ends today) on one order; the send fails for
/// now, and LASTDAY ends before the outbox gets through. The resend drops LASTDAY only.
#[tokio::test]
async fn only_the_claim_diller_refuses_is_dropped_not_a_coupon_the_order_itself_holds() {
    let env = common::start().await;
    let (checkout, _payment) = checkout_for(&env);
    let ctx = Context::new();
    // A basket coupon valid through today (store time), one use.
    let today = chrono_tz::Europe::Oslo.from_utc_datetime(&env.clock.now().naive_utc()).date_naive();
    env.probe.add_coupon_ending_on("LASTDAY", Decimal::from(10), 1, today);
    // COFFEE20 (3 uses) used twice already: this order's is its last use.
    for pre in ["pre-1", "pre-2"] {
        let out = checkout
            .complete(&ctx, &kari(pre, &[("l1", demo::PRODUCT_COFFEE, "49.00")]))
            .await
            .unwrap()
            .into_outcome()
            .unwrap();
        assert!(matches!(out.delivery, Delivery::Sent(_)), "{:?}", out.delivery);
    }
    assert_eq!(env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, demo::COUPON_COFFEE20), Some(2));

    // The order: COFFEE20 on the coffee, LASTDAY on the book. Diller is down at the send.
    env.handle().inject("POST", &transactions_path(), Fault::Status(503), Some(1));
    let req = kari("o-late", &[("l1", demo::PRODUCT_COFFEE, "49.00"), ("l2", "BOOK-1", "349.00")])
        .confirm("coupon:LASTDAY");
    let out = checkout.complete(&ctx, &req).await.unwrap().into_outcome().unwrap();
    let used: Vec<&str> = out.transaction.offers_used.iter().map(|u| u.offer_id.as_str()).collect();
    assert!(used.contains(&"coupon:COFFEE20") && used.contains(&"coupon:LASTDAY"), "{used:?}");
    assert!(matches!(out.delivery, Delivery::Pending { .. }), "{:?}", out.delivery);

    // LASTDAY ends before the outbox gets through.
    env.clock.advance(Duration::from_secs(2 * 24 * 3600));
    let results = checkout.resend_pending(&ctx).await;
    let Ok(Delivery::Sent(_)) = &results[0].1 else { panic!("{:?}", results[0].1) };
    let rec = checkout.status(&out.transaction.id).await.unwrap().unwrap();
    let dropped = rec.outcome.unwrap().dropped_claims;
    assert_eq!(
        dropped,
        vec![OfferId::new("coupon:LASTDAY")],
        "only the ended coupon is refused by Diller, not COFFEE20 (held by this very order): {:#?}",
        rec.notes
    );
    assert_eq!(
        env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, demo::COUPON_COFFEE20),
        Some(3),
        "the COFFEE20 discount the customer got is recorded at Diller"
    );
    assert!(env.probe.reservations(demo::COUPON_COFFEE20).is_empty(), "released after the send");
    assert!(env.probe.reservations("LASTDAY").is_empty(), "released after the send");
}
