//! Properties of the pricing engine over random baskets (1-6 lines, NOK and JPY), random offers
//! of every kind and random confirmation orders.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use loyalty_core::offer::{ProgressiveCount, ProgressiveMode};
use loyalty_core::pricing::{price_with_units, UnitAssignment};
use loyalty_core::{
    Basket, Currency, Discount, Line, Money, Offer, OfferId, OfferKind, PricedBasket, ProductId, Scope,
    StampCard, Tier,
};

const PRODUCTS: [&str; 4] = ["P0", "P1", "P2", "P3"];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

/// An offer without its id: the id is given after, from a shuffled list, so that list order and
/// id order differ.
#[derive(Debug, Clone)]
enum Spec {
    Percent {
        hundredths: i64,
        on: Vec<usize>,
    },
    Fixed {
        minor: i64,
        on: Vec<usize>,
    },
    Stamp {
        required: u32,
        collected: u32,
        restartable: bool,
        on: Vec<usize>,
    },
    /// `lines`: count products; `marginal`: rank n at the tier reached at n.
    Progressive {
        tiers: Vec<(u32, i64)>,
        on: Vec<usize>,
        lines: bool,
        marginal: bool,
    },
    FreeShipping {
        on: Vec<usize>,
    },
    Reward {
        hundredths: Option<i64>,
    },
}

#[derive(Debug, Clone)]
struct Scenario {
    basket: Basket,
    offers: Vec<Offer>,
    confirmed: Vec<OfferId>,
    /// A permutation of `offers`, for the order-independence property.
    listing: Vec<usize>,
}

fn product_subset() -> impl Strategy<Value = Vec<usize>> {
    proptest::sample::subsequence((0..PRODUCTS.len()).collect::<Vec<_>>(), 0..=3)
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        3 => (0i64..=10_000, product_subset()).prop_map(|(hundredths, on)| Spec::Percent { hundredths, on }),
        3 => (0i64..=30_000, product_subset()).prop_map(|(minor, on)| Spec::Fixed { minor, on }),
        2 => (1u32..=4, 0u32..=4, any::<bool>(), product_subset()).prop_map(|(required, c, restartable, on)| {
            Spec::Stamp { required, collected: c.min(required), restartable, on }
        }),
        2 => (proptest::collection::vec((0u32..=4, 0i64..=10_000), 0..=3), product_subset(), any::<bool>(), any::<bool>())
            .prop_map(|(tiers, on, lines, marginal)| Spec::Progressive { tiers, on, lines, marginal }),
        1 => product_subset().prop_map(|on| Spec::FreeShipping { on }),
        1 => proptest::option::of(0i64..=10_000).prop_map(|hundredths| Spec::Reward { hundredths }),
    ]
}

fn quantity() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        3 => (0i64..=4).prop_map(Decimal::from),
        1 => (0i64..=3, 1i64..=999).prop_map(|(whole, thousandths)| Decimal::new(whole * 1000 + thousandths, 3)),
    ]
}

fn build_offer(id: String, spec: &Spec, expired: bool, currency: Currency) -> Offer {
    let products = |on: &Vec<usize>| on.iter().map(|p| ProductId::new(PRODUCTS[*p])).collect::<Vec<_>>();
    let scope = |on: &Vec<usize>| if on.is_empty() { Scope::Basket } else { Scope::Products(products(on)) };
    let pct = |h: i64| Decimal::new(h, 2);
    let kind = match spec {
        Spec::Percent { hundredths, on } => {
            OfferKind::Coupon { discount: Discount::Percent(pct(*hundredths)), scope: scope(on) }
        }
        Spec::Fixed { minor, on } => {
            // Keep fixed amounts in proportion to JPY's smaller prices.
            let minor = if currency == Currency::JPY { minor / 100 } else { *minor };
            OfferKind::Coupon { discount: Discount::Fixed(Money::new(minor, currency)), scope: scope(on) }
        }
        Spec::Stamp { required, collected, restartable, on } => OfferKind::StampCard(StampCard {
            required: *required,
            collected: *collected,
            restartable: *restartable,
            products: products(on),
        }),
        Spec::Progressive { tiers, on, lines, marginal } => OfferKind::ProgressiveDiscount {
            tiers: tiers
                .iter()
                .map(|(min_units, h)| Tier { min_units: *min_units, percent: pct(*h) })
                .collect(),
            products: products(on),
            count: if *lines { ProgressiveCount::Lines } else { ProgressiveCount::Units },
            mode: if *marginal { ProgressiveMode::MarginalUnit } else { ProgressiveMode::AllUnits },
        },
        Spec::FreeShipping { on } => OfferKind::Coupon { discount: Discount::FreeShipping, scope: scope(on) },
        Spec::Reward { hundredths } => OfferKind::Reward {
            points: Decimal::from(100),
            discount: hundredths.map(|h| Discount::Percent(pct(h))),
        },
    };
    let valid_to = expired.then(|| Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59).unwrap());
    Offer::new(id.as_str(), id.as_str(), kind).with_validity(None, valid_to)
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let lines = proptest::collection::vec((0..PRODUCTS.len(), quantity(), 0i64..=50_000), 1..=6);
    let offers = proptest::collection::vec((spec(), proptest::bool::weighted(0.1)), 0..=7);
    (any::<bool>(), lines, offers)
        .prop_flat_map(|(yen, lines, offers)| {
            let n = offers.len();
            let ids = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
            let confirm_order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
            let confirm_mask = proptest::collection::vec(any::<bool>(), n);
            let listing = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
            (Just(yen), Just(lines), Just(offers), ids, confirm_order, confirm_mask, listing)
        })
        .prop_map(|(yen, lines, specs, ids, confirm_order, confirm_mask, listing)| {
            let currency = if yen { Currency::JPY } else { Currency::NOK };
            let basket = lines.iter().enumerate().fold(Basket::new(currency), |b, (i, (p, qty, price))| {
                // JPY prices are whole yen of similar magnitude to NOK kroner.
                let price = if yen { price / 100 } else { *price };
                b.with_line(Line::new(format!("L{i}"), PRODUCTS[*p], *qty, Money::new(price, currency)))
            });
            let offers: Vec<Offer> = specs
                .iter()
                .zip(&ids)
                .map(|((spec, expired), id)| build_offer(format!("o{id}"), spec, *expired, currency))
                .collect();
            let confirmed =
                confirm_order.iter().filter(|i| confirm_mask[**i]).map(|i| offers[*i].id.clone()).collect();
            Scenario { basket, offers, confirmed, listing }
        })
}

fn run(s: &Scenario) -> (PricedBasket, Vec<UnitAssignment>) {
    price_with_units(&s.basket, &s.offers, &s.confirmed, now()).expect("generated input is valid")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn line_discounts_sum_exactly_to_the_total_discount(s in scenario()) {
        let (priced, _) = run(&s);
        let lines: i64 = priced.lines.iter().map(|l| l.discount.minor).sum();
        prop_assert_eq!(lines, priced.total_discount.minor);
        for line in &priced.lines {
            let parts: i64 = line.discounts.iter().map(|d| d.amount.minor).sum();
            prop_assert_eq!(parts, line.discount.minor, "line {}", line.line_id);
        }
    }

    #[test]
    fn no_line_or_total_goes_negative_and_net_is_gross_minus_discount(s in scenario()) {
        let (priced, _) = run(&s);
        for line in &priced.lines {
            prop_assert!(!line.net.is_negative() && !line.discount.is_negative(), "line {:?}", line);
            prop_assert_eq!(line.net.minor, line.gross.minor - line.discount.minor);
            prop_assert!(line.discounts.iter().all(|d| d.amount.minor > 0));
        }
        prop_assert!(!priced.total.is_negative());
        prop_assert_eq!(priced.total.minor, priced.total_gross.minor - priced.total_discount.minor);
    }

    #[test]
    fn no_unit_carries_two_discounts(s in scenario()) {
        let (priced, units) = run(&s);
        for (i, line) in s.basket.lines.iter().enumerate() {
            let expected_units = line.quantity.trunc().try_into().unwrap_or(0usize)
                + usize::from(!line.quantity.fract().is_zero());
            let line_units: Vec<&UnitAssignment> = units.iter().filter(|u| u.line_id == line.line_id).collect();
            prop_assert_eq!(line_units.len(), expected_units, "line {}", line.line_id);
            let worth: i64 = line_units.iter().map(|u| u.worth.minor).sum();
            prop_assert_eq!(worth, priced.lines[i].gross.minor, "units make up the line gross");
            // Each offer's part of the line is within the worth of the units it took there, so
            // no discount can rest on a unit another offer took.
            let mut taken: BTreeMap<&OfferId, i64> = BTreeMap::new();
            for u in &line_units {
                if let Some(o) = &u.offer_id {
                    *taken.entry(o).or_default() += u.worth.minor;
                }
            }
            for d in &priced.lines[i].discounts {
                let covered = taken.get(&d.offer_id).copied().unwrap_or(0);
                prop_assert!(d.amount.minor <= covered, "{} gives {} on units worth {}", d.offer_id, d.amount, covered);
            }
        }
    }

    #[test]
    fn fixed_coupon_never_gives_more_than_its_amount_or_what_it_covers(s in scenario()) {
        let (priced, units) = run(&s);
        for offer in &s.offers {
            let fixed = match &offer.kind {
                OfferKind::Coupon { discount: Discount::Fixed(m), .. } => m.minor,
                OfferKind::Reward { discount: Some(Discount::Fixed(m)), .. } => m.minor,
                _ => continue,
            };
            let given: i64 = priced.lines.iter().flat_map(|l| &l.discounts)
                .filter(|d| d.offer_id == offer.id).map(|d| d.amount.minor).sum();
            let covered: i64 = units.iter().filter(|u| u.offer_id.as_ref() == Some(&offer.id))
                .map(|u| u.worth.minor).sum();
            prop_assert!(given <= fixed, "{} gives {} over its amount {}", offer.id, given, fixed);
            prop_assert!(given <= covered, "{} gives {} over what it covers {}", offer.id, given, covered);
        }
    }

    #[test]
    fn result_does_not_depend_on_the_order_offers_are_listed_in(s in scenario()) {
        let (priced, units) = run(&s);
        let shuffled: Vec<Offer> = s.listing.iter().map(|i| s.offers[*i].clone()).collect();
        let (again, units_again) =
            price_with_units(&s.basket, &shuffled, &s.confirmed, now()).expect("valid input");
        prop_assert_eq!(priced, again);
        prop_assert_eq!(units, units_again);
    }

    #[test]
    fn every_offer_is_either_used_or_explained_never_both(s in scenario()) {
        let (priced, _) = run(&s);
        let used: HashSet<OfferId> = priced.offers_used().into_iter().collect();
        let explained: HashSet<OfferId> = priced.not_applied.iter().map(|n| n.offer_id.clone()).collect();
        for offer in &s.offers {
            prop_assert!(
                used.contains(&offer.id) != explained.contains(&offer.id),
                "{} used: {}, explained: {}", offer.id, used.contains(&offer.id), explained.contains(&offer.id)
            );
        }
        prop_assert!(priced.not_applied.iter().all(|n| !n.reason.is_empty()));
    }

    #[test]
    fn percent_coupon_gives_its_percentage_of_its_units_rounded_once(s in scenario()) {
        let (priced, units) = run(&s);
        for offer in &s.offers {
            let OfferKind::Coupon { discount: Discount::Percent(p), .. } = &offer.kind else { continue };
            let covered: i64 = units.iter().filter(|u| u.offer_id.as_ref() == Some(&offer.id))
                .map(|u| u.worth.minor).sum();
            let given: i64 = priced.lines.iter().flat_map(|l| &l.discounts)
                .filter(|d| d.offer_id == offer.id).map(|d| d.amount.minor).sum();
            let expected = (Decimal::from(covered) * p / Decimal::ONE_HUNDRED)
                .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            prop_assert_eq!(Decimal::from(given), expected, "{}", offer.id);
        }
    }
}
