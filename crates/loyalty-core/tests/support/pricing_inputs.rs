//! Pricing inputs shared by the scaling bench (`benches/pricing.rs`) and the complexity tests
//! (`tests/pricing_complexity.rs`): baskets of a given size, and the slow inputs of issue 17
//! scaled by a size parameter, so that a run of `n` can be compared with a run of `4 n`.

// Each includer uses only some of the builders.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

use loyalty_core::{
    Basket, Currency, Discount, DiscountedLine, Line, Money, Offer, OfferId, OfferKind, ProductId, Scope,
    StampCard, Tier, VendorDiscount, VendorRule,
};

/// The arguments of one `price` call.
#[derive(Debug, Clone)]
pub struct Input {
    pub basket: Basket,
    pub offers: Vec<Offer>,
    pub confirmed: Vec<OfferId>,
}

impl Input {
    /// Units the engine tracks: whole units plus one per fractional line.
    pub fn units(&self) -> usize {
        self.basket
            .lines
            .iter()
            .map(|l| {
                let whole: usize = l.quantity.trunc().try_into().unwrap_or(0);
                whole + usize::from(!l.quantity.fract().is_zero())
            })
            .sum()
    }

    /// Product ids named by all offers together (the size of the offer list as input).
    pub fn listed_products(&self) -> usize {
        self.offers
            .iter()
            .map(|o| match &o.kind {
                OfferKind::Coupon { scope: Scope::Products(p), .. } => p.len(),
                OfferKind::StampCard(card) => card.products.len(),
                OfferKind::ProgressiveDiscount { products, .. } => products.len(),
                OfferKind::VendorPriced { discount: Some(d), .. } => d.lines.len(),
                _ => 0,
            })
            .sum()
    }
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

pub fn nok(minor: i64) -> Money {
    Money::new(minor, Currency::NOK)
}

fn percent(id: &str, p: Decimal, scope: Scope) -> Offer {
    Offer::new(id, id, OfferKind::Coupon { discount: Discount::Percent(p), scope })
}

fn on(product: &str) -> Scope {
    Scope::Products(vec![ProductId::new(product)])
}

/// `lines` lines of 1 to 4 units over products P0..P11, at varied prices.
pub fn basket(lines: usize) -> Basket {
    (0..lines).fold(Basket::new(Currency::NOK), |b, i| {
        b.with_line(Line::new(
            format!("{i}"),
            format!("P{}", i % 12),
            Decimal::from(1 + (i % 4) as i64),
            nok(1_990 + 137 * i as i64),
        ))
    })
}

/// A basket of exactly `units` units: lines of 1 to 4 units as in [`basket`], the last one cut.
pub fn basket_of_units(units: usize) -> Basket {
    let mut basket = Basket::new(Currency::NOK);
    let mut left = units;
    let mut i = 0usize;
    while left > 0 {
        let quantity = (1 + i % 4).min(left);
        basket = basket.with_line(Line::new(
            format!("{i}"),
            format!("P{}", i % 12),
            Decimal::from(quantity as i64),
            nok(1_990 + 137 * (i % 1_000) as i64),
        ));
        left -= quantity;
        i += 1;
    }
    basket
}

/// `n` offers of every kind over P0..P11: product coupons, stamp cards, progressive discounts
/// and fixed basket coupons, the basket coupons all confirmed.
pub fn mixed_offers(n: usize) -> (Vec<Offer>, Vec<OfferId>) {
    let mut offers = Vec::new();
    for i in 0..n {
        let product = format!("P{}", i % 12);
        offers.push(match i % 4 {
            0 => percent(&format!("c{i}"), Decimal::from(10 + (i % 3) as i64 * 5), on(&product)),
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
                    count: Default::default(),
                    mode: Default::default(),
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

/// `lines` lines of [`basket`] with `offers` offers of [`mixed_offers`].
pub fn mixed(lines: usize, offers: usize) -> Input {
    let (offers, confirmed) = mixed_offers(offers);
    Input { basket: basket(lines), offers, confirmed }
}

/// The scaling series: a basket of exactly `units` units with 20 mixed offers.
pub fn scaling(units: usize) -> Input {
    let (offers, confirmed) = mixed_offers(20);
    Input { basket: basket_of_units(units), offers, confirmed }
}

/// Slow input 1: one line of `units` units of 1.00 and `coupons` percent coupons on its product,
/// each too small to give a whole øre on the line (at most 0.0000001 %), in falling order of
/// worth, so every coupon in turn wins the line, rounds to zero and hands it to the next.
pub fn zero_rounding_coupons(units: usize, coupons: usize) -> Input {
    let basket =
        Basket::new(Currency::NOK).with_line(Line::new("1", "A", Decimal::from(units as i64), nok(100)));
    let offers = (0..coupons)
        .map(|i| percent(&format!("z{i:05}"), Decimal::new((coupons - i) as i64, 9), on("A")))
        .collect();
    Input { basket, offers, confirmed: Vec::new() }
}

/// Slow input 2: `cards` stamp cards over `cards / 50` lines of 3 units (at least one line),
/// each card on the product of one line, restartable or not, with varied stamps collected.
pub fn stamp_cards(cards: usize) -> Input {
    let lines = (cards / 50).max(1);
    let basket = (0..lines).fold(Basket::new(Currency::NOK), |b, i| {
        b.with_line(Line::new(format!("{i}"), format!("S{i}"), Decimal::from(3), nok(1_000 + i as i64)))
    });
    let offers = (0..cards)
        .map(|i| {
            Offer::new(
                format!("s{i:06}"),
                "stamps",
                OfferKind::StampCard(StampCard {
                    required: 2 + (i % 5) as u32,
                    collected: (i % 3) as u32,
                    restartable: i % 2 == 0,
                    products: vec![ProductId::new(format!("S{}", i % lines))],
                }),
            )
        })
        .collect();
    Input { basket, offers, confirmed: Vec::new() }
}

/// Slow input 3: `coupons` basket coupons, all confirmed, on a basket of `coupons / 20` lines (at
/// least one): the first confirmed takes every unit, and each later one has to say so.
pub fn confirmed_basket_coupons(coupons: usize) -> Input {
    let offers: Vec<Offer> = (0..coupons)
        .map(|i| {
            let id = format!("b{i:06}");
            match i % 2 {
                0 => percent(&id, Decimal::from(5), Scope::Basket),
                _ => Offer::new(
                    id.as_str(),
                    id.as_str(),
                    OfferKind::Coupon { discount: Discount::Fixed(nok(1_00)), scope: Scope::Basket },
                ),
            }
        })
        .collect();
    // Confirmed in reverse id order, so confirmation order and id order differ.
    let confirmed = offers.iter().rev().map(|o| o.id.clone()).collect();
    Input { basket: basket((coupons / 20).max(1)), offers, confirmed }
}

/// Slow input 4: one product coupon listing `products` products, on a basket of
/// `products / 10` one-unit lines (at least one) whose products are among them.
pub fn long_product_list(products: usize) -> Input {
    let lines = (products / 10).max(1);
    let basket = (0..lines).fold(Basket::new(Currency::NOK), |b, i| {
        b.with_line(Line::new(format!("{i}"), format!("X{}", i * 97 % products), Decimal::ONE, nok(5_00)))
    });
    let list = (0..products).map(|p| ProductId::new(format!("X{p}"))).collect();
    let offer = percent("c1", Decimal::from(10), Scope::Products(list));
    Input { basket, offers: vec![offer], confirmed: Vec::new() }
}

/// `offers` confirmed vendor-priced offers on one line of `2 * offers` units, each naming one
/// unit of it, so each takes the next unit left.
pub fn vendor_priced(offers: usize) -> Input {
    let basket = Basket::new(Currency::NOK)
        .with_line(Line::new("0", "V", Decimal::from(2 * offers as i64), nok(2_00)))
        .with_line(Line::new("1", "W", Decimal::ONE, nok(3_00)));
    let offers: Vec<Offer> = (0..offers)
        .map(|i| {
            let discount = VendorDiscount::new(nok(50), vec![DiscountedLine::new("0", Decimal::ONE)]);
            Offer::new(
                format!("v{i:06}"),
                "vendor",
                OfferKind::VendorPriced { rule: VendorRule::LowestItem, discount: Some(discount) },
            )
        })
        .collect();
    let confirmed = offers.iter().map(|o| o.id.clone()).collect();
    Input { basket, offers, confirmed }
}

/// `cards` stamp cards over two or three products each, on `cards / 10` lines (at least 4) of 2
/// units over 4 products: every card's products span many lines, the case where a card over
/// several products must not walk them all.
pub fn multi_product_stamp_cards(cards: usize) -> Input {
    let lines = (cards / 10).max(4);
    let basket = (0..lines).fold(Basket::new(Currency::NOK), |b, i| {
        b.with_line(Line::new(format!("{i}"), format!("M{}", i % 4), Decimal::from(2), nok(7_00)))
    });
    let offers = (0..cards)
        .map(|i| {
            let products = (0..2 + i % 2).map(|k| ProductId::new(format!("M{}", (i + k) % 4))).collect();
            Offer::new(
                format!("m{i:06}"),
                "stamps",
                OfferKind::StampCard(StampCard {
                    required: 3 + (i % 4) as u32,
                    collected: (i % 3) as u32,
                    restartable: i % 5 == 0,
                    products,
                }),
            )
        })
        .collect();
    Input { basket, offers, confirmed: Vec::new() }
}

/// `lines` lines of one unit at 100.00, each its own product with its own 10 % product coupon:
/// as many offers used as lines, each with its rule 9 reason in `applied`.
pub fn coupon_per_line(lines: usize) -> Input {
    let basket = (0..lines).fold(Basket::new(Currency::NOK), |b, i| {
        b.with_line(Line::new(format!("l{i}").as_str(), format!("P{i}").as_str(), Decimal::ONE, nok(10_000)))
    });
    let offers =
        (0..lines).map(|i| percent(&format!("c{i:06}"), Decimal::from(10), on(&format!("P{i}")))).collect();
    Input { basket, offers, confirmed: Vec::new() }
}
