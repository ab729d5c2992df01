//! What reading Diller's replies costs: the three replies a checkout reads per customer (M1
//! member search, C2 coupons, K2 stamp cards, as the simulator answers them for the demo
//! member), each decoded into the wire model, and into the domain values, against the floor
//! of serde_json only checking the JSON (`IgnoredAny`). Prints nanoseconds per reply.
//!
//! `cargo bench -p loyalty-diller --bench decode` (`LOYALTY_BENCH_ITERS`, default 100,000
//! decodes of each reply per round; the best of three rounds is kept).

use std::hint::black_box;
use std::time::{Duration, Instant};

use loyalty_core::Currency;
use loyalty_diller::{decode, wire};

const M1: &str = include_str!("data/m1_search.json");
const C2: &str = include_str!("data/c2_member_coupons.json");
const K2: &str = include_str!("data/k2_member_stamp_cards.json");

fn best_of_three(iterations: u32, mut f: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..iterations {
                f();
            }
            started.elapsed() / iterations
        })
        .min()
        .expect("three rounds")
}

fn main() {
    let iterations: u32 =
        std::env::var("LOYALTY_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let octx = wire::OfferContext { time_zone: chrono_tz::Europe::Oslo, currency: Currency::NOK };
    println!("{:<24} {:>7} {:>12} {:>12} {:>12}", "reply", "bytes", "json check", "wire model", "domain");
    let row = |name: &str, body: &str, wire: Duration, domain: Duration| {
        let floor = best_of_three(iterations, || {
            black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(body)).expect("json"));
        });
        println!(
            "{name:<24} {:>7} {:>10}ns {:>10}ns {:>10}ns",
            body.len(),
            floor.as_nanos(),
            wire.as_nanos(),
            domain.as_nanos()
        );
    };
    let op = "bench";
    row(
        "M1 member search",
        M1,
        best_of_three(iterations, || {
            black_box(decode::json::<Vec<wire::MemberResponse>>(op, black_box(M1.as_bytes())).expect("m1"));
        }),
        best_of_three(iterations, || {
            let found = decode::json::<Vec<wire::MemberResponse>>(op, black_box(M1.as_bytes())).expect("m1");
            for m in found {
                black_box(decode::member_of(op, m).expect("member"));
            }
        }),
    );
    row(
        "C2 member coupons",
        C2,
        best_of_three(iterations, || {
            black_box(
                decode::json::<Vec<wire::MemberCouponResponse>>(op, black_box(C2.as_bytes())).expect("c2"),
            );
        }),
        best_of_three(iterations, || {
            let coupons =
                decode::json::<Vec<wire::MemberCouponResponse>>(op, black_box(C2.as_bytes())).expect("c2");
            black_box(decode::coupon_offers(op, coupons, &octx).expect("offers"));
        }),
    );
    row(
        "K2 member stamp cards",
        K2,
        best_of_three(iterations, || {
            black_box(decode::json::<Vec<wire::MemberStampCard>>(op, black_box(K2.as_bytes())).expect("k2"));
        }),
        best_of_three(iterations, || {
            let cards = decode::json::<Vec<wire::MemberStampCard>>(op, black_box(K2.as_bytes())).expect("k2");
            black_box(decode::stamp_card_offers(op, cards, &octx).expect("offers"));
        }),
    );
}
