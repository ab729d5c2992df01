//! The lifetime a hold asks for (`HoldRequest::ttl_secs`, a `u64` from the caller, the HTTP
//! service included) becomes an expiry with checked arithmetic: a lifetime past what a
//! timestamp holds is `Invalid` naming `ttl_secs` and locks nothing. Before, `ttl as i64`
//! wrapped `u64::MAX` to -1 second (a hold born expired, which the checkout would then claim
//! as "hold expired") and `chrono::Duration::seconds` panicked inside the provider for
//! `i64::MAX`.

use loyalty_core::{Context, ErrorKind, HoldRequest, MemberId, Offer, OfferId, Provider, TransactionId};
use loyalty_memory::{demo, MemoryProvider};

async fn coupon(p: &MemoryProvider) -> Offer {
    let member = MemberId::new(demo::MEMBER_ID);
    let offers = p.offers().unwrap().list(&Context::new(), Some(&member), None).await.unwrap();
    offers.into_iter().find(|o| o.id.as_str() == demo::COUPON_SUMMER10).unwrap()
}

async fn hold_for(p: &MemoryProvider, order: &str, ttl: u64) -> loyalty_core::Result<loyalty_core::Hold> {
    let req = HoldRequest::new(MemberId::new(demo::MEMBER_ID), coupon(p).await, TransactionId::new(order))
        .with_ttl_secs(ttl);
    p.holds().unwrap().hold(&Context::new(), &req).await
}

#[tokio::test]
async fn a_lifetime_past_any_timestamp_is_invalid_and_locks_nothing() {
    let (p, _clock) = MemoryProvider::demo_manual();
    // u64::MAX does not fit an i64; i64::MAX seconds is past chrono's range; i64::MAX / 1000 is
    // the largest chrono duration, still past any date from now.
    for ttl in [u64::MAX, i64::MAX as u64, (i64::MAX / 1000) as u64] {
        let err = hold_for(&p, "o-ttl", ttl).await.expect_err("an out-of-range lifetime is refused");
        assert!(
            matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "ttl_secs"),
            "ttl {ttl}: {err}"
        );
        assert_eq!(p.open_holds_of(&OfferId::new(demo::COUPON_SUMMER10)), 0, "ttl {ttl} locked the coupon");
    }
}

#[tokio::test]
async fn a_long_lifetime_in_range_expires_when_asked() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let ten_years = 10 * 365 * 24 * 3600;
    let hold = hold_for(&p, "o-long", ten_years).await.unwrap();
    assert_eq!(hold.expires_at, demo::start() + chrono::Duration::seconds(ten_years as i64));
}
