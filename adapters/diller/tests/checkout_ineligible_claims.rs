//! A coupon the member may no longer use when the sale reaches Diller. GOLD100 needs 1000
//! points (`CouponTarget.required_points`, §5.4); an earlier sale cancelled while this one
//! waited in the outbox takes her below that, and Diller refuses the T1 with a field error on
//! `coupon_codes` ("not available to this member", §7.3: "using a code the member cannot use
//! → 400"). That is a refusal of the claim, as an expired or used-up coupon is (`Rejected`,
//! vendor code `not_eligible`), never `Invalid` input: the checkout drops only that claim and
//! delivers the sale the customer paid for, instead of refusing the whole sale for good.

mod common;

use loyalty_core::checkout::Delivery;
use loyalty_core::{Context, ErrorKind, OfferId, Transactions};
use loyalty_sim::diller::demo;
use loyalty_sim::Fault;
use rust_decimal::Decimal;

use common::{checkout_for, kari, transactions_path};

fn transactions(env: &common::Env) -> &dyn Transactions {
    loyalty_core::Provider::transactions(&env.adapter).unwrap()
}

#[tokio::test]
async fn a_coupon_the_member_lost_while_the_sale_waited_is_dropped_not_the_whole_sale() {
    let env = common::start().await;
    let (checkout, payment) = checkout_for(&env);
    let ctx = Context::new();
    // 250 points + an 800 NOK sale (1 point per NOK) = 1050: GOLD100 (1000 points) is hers.
    let big = checkout
        .complete(&ctx, &kari("big", &[("l1", "BOOK-1", "800.00")]))
        .await
        .unwrap()
        .into_outcome()
        .unwrap();
    assert!(matches!(big.delivery, Delivery::Sent(_)), "{:?}", big.delivery);
    assert!(env.probe.member_points(demo::MEMBER_ID).unwrap() >= Decimal::from(1000));

    // The order with GOLD100; Diller is down at the send, so the sale waits in the outbox.
    env.handle().inject("POST", &transactions_path(), Fault::Status(503), Some(1));
    let req = kari("o-gold", &[("l1", "BOOK-2", "349.00")]).confirm("coupon:GOLD100");
    let out = checkout.complete(&ctx, &req).await.unwrap().into_outcome().unwrap();
    let used: Vec<&str> = out.transaction.offers_used.iter().map(|u| u.offer_id.as_str()).collect();
    assert!(used.contains(&"coupon:GOLD100"), "{used:?}");
    assert!(matches!(out.delivery, Delivery::Pending { .. }), "{:?}", out.delivery);

    // Meanwhile the big sale is cancelled at the till: her points fall back below 1000.
    transactions(&env).cancel(&ctx, &big.transaction, Some("returned")).await.unwrap();
    assert!(env.probe.member_points(demo::MEMBER_ID).unwrap() < Decimal::from(1000));

    // The outbox gets through: the customer paid, so the sale reaches Diller without the claim
    // Diller refuses, and that claim alone is reported dropped.
    let results = checkout.resend_pending(&ctx).await;
    assert_eq!(results.len(), 1);
    assert!(
        matches!(&results[0].1, Ok(Delivery::Sent(_))),
        "the paid sale must be delivered without GOLD100, got {:?}",
        results[0].1
    );
    let rec = checkout.status(&out.transaction.id).await.unwrap().unwrap();
    assert_eq!(rec.outcome.unwrap().dropped_claims, vec![OfferId::new("coupon:GOLD100")]);
    assert!(env.probe.transaction_exists("o-gold"));
    assert!(checkout.pending().await.unwrap().is_empty());
    assert_eq!(payment.captures(), 2, "both sales stand");
    assert_eq!(
        env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "GOLD100").unwrap_or(0),
        0,
        "Diller never booked the coupon it refused"
    );
}

/// The same refusal at adapter level: a T1 naming a coupon the member may no longer use is a
/// refused claim (`Rejected`, code `not_eligible`, the coupon named in the message so the
/// checkout can find the claim), never `Invalid`: the checkout drops claims only on `Rejected`
/// or `Expired`.
#[tokio::test]
async fn t1_naming_a_coupon_the_member_may_no_longer_use_is_a_refused_claim_not_invalid_input() {
    let env = common::start().await;
    let ctx = Context::new();
    let txs = transactions(&env);
    let big = common::transaction(&env, "big", &[("BOOK-1", "1", "800.00")], &[]);
    txs.send(&ctx, &big).await.unwrap();
    let offers = loyalty_core::Provider::offers(&env.adapter)
        .unwrap()
        .list(&ctx, Some(&env.member()), None)
        .await
        .unwrap();
    let gold = common::offer(&offers, "coupon:GOLD100").clone();
    txs.cancel(&ctx, &big, None).await.unwrap();
    let tx = common::transaction(&env, "o-gold", &[("BOOK-2", "1", "349.00")], std::slice::from_ref(&gold));
    let err = txs.send(&ctx, &tx).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Rejected), "{:?}: {err}", err.kind());
    assert_eq!(err.vendor_code(), Some("not_eligible"), "{err}");
    assert!(err.message().contains("GOLD100"), "{err}");
    assert!(!env.probe.transaction_exists("o-gold"), "a refused T1 books nothing");
}
