//! Pricing throughput: `cargo bench -p loyalty-core --bench pricing`.
//!
//! A plain timing loop (no extra crates): prices a till-sized basket and a large web basket
//! many times and prints the median time per basket over several rounds.

use std::hint::black_box;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use loyalty_core::pricing::price;
use loyalty_core::{
    Basket, Currency, Discount, Line, Money, Offer, OfferId, OfferKind, Scope, StampCard, Tier,
};
use rust_decimal::Decimal;

fn nok(minor: i64) -> Money {
    Money::new(minor, Currency::NOK)
}

fn percent(id: &str, p: i64, scope: Scope) -> Offer {
    Offer::new(id, id, OfferKind::Coupon { discount: Discount::Percent(Decimal::from(p)), scope })
}

fn basket(lines: usize) -> Basket {
    (0..lines).fold(Basket::new(Currency::NOK), |b, i| {
        b.with_line(Line::new(
            format!("{i}"),
            format!("P{}", i % 12),
            Decimal::from(1 + (i % 4) as i64),
            nok(1_990 + 137 * i as i64),
        ))
    })
}

fn offers(n: usize) -> (Vec<Offer>, Vec<OfferId>) {
    let mut offers = Vec::new();
    for i in 0..n {
        let product = format!("P{}", i % 12);
        offers.push(match i % 4 {
            0 => percent(&format!("c{i}"), 10 + (i % 3) as i64 * 5, Scope::Products(vec![product.into()])),
            1 => Offer::new(
                format!("s{i}"),
                "stamps",
                OfferKind::StampCard(StampCard {
                    required: 6,
                    collected: (i % 6) as u32,
                    restartable: true,
                    products: vec![product.into()],
                }),
            ),
            2 => Offer::new(
                format!("p{i}"),
                "progressive",
                OfferKind::ProgressiveDiscount {
                    tiers: vec![
                        Tier { min_units: 2, percent: Decimal::from(10) },
                        Tier { min_units: 4, percent: Decimal::from(20) },
                    ],
                    products: vec![product.into()],
                },
            ),
            _ => Offer::new(
                format!("f{i}"),
                "fixed",
                OfferKind::Coupon { discount: Discount::Fixed(nok(5_000)), scope: Scope::Basket },
            ),
        });
    }
    let confirmed = offers.iter().filter(|o| o.is_basket_coupon()).map(|o| o.id.clone()).collect();
    (offers, confirmed)
}

fn bench(name: &str, lines: usize, n_offers: usize, iterations: u32) {
    let b = basket(lines);
    let (o, confirmed) = offers(n_offers);
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
    let units: Decimal = b.lines.iter().map(|l| l.quantity).sum();
    let mut rounds = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..iterations {
            black_box(price(black_box(&b), black_box(&o), &confirmed, now).expect("prices"));
        }
        rounds.push(start.elapsed() / iterations);
    }
    rounds.sort();
    println!(
        "{name:<34} {lines:>3} lines {units:>4} units {n_offers:>3} offers   median {:>9.1?} per basket",
        rounds[3]
    );
}

fn main() {
    bench("till basket", 3, 4, 20_000);
    bench("web basket", 20, 12, 2_000);
    bench("large basket", 100, 40, 200);
}
