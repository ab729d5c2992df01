//! One test per pricing rule (the rules and settled readings of
//! `docs/pricing.md`), through the Rust API.

// Amounts are written as kroner_øre (100_00 = 100.00 NOK), which reads better than 10_000.
#![allow(clippy::inconsistent_digit_grouping)]

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

use loyalty_core::offer::{ProgressiveCount, ProgressiveMode};
use loyalty_core::pricing::{price, price_with_units, PricingError};
use loyalty_core::{
    Basket, Currency, Discount, Line, LineId, Money, Offer, OfferId, OfferKind, PricedBasket, ProductId,
    Scope, StampCard, Tier,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

fn nok(minor: i64) -> Money {
    Money::new(minor, Currency::NOK)
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn products(ids: &[&str]) -> Vec<ProductId> {
    ids.iter().map(|p| ProductId::new(*p)).collect()
}

fn basket(lines: &[(&str, &str, &str, i64)]) -> Basket {
    lines.iter().fold(Basket::new(Currency::NOK), |b, (id, product, qty, price)| {
        b.with_line(Line::new(*id, *product, dec(qty), nok(*price)))
    })
}

fn percent_on(id: &str, percent: &str, on: &[&str]) -> Offer {
    let scope = if on.is_empty() { Scope::Basket } else { Scope::Products(products(on)) };
    Offer::new(id, id, OfferKind::Coupon { discount: Discount::Percent(dec(percent)), scope })
}

fn fixed_on(id: &str, minor: i64, on: &[&str]) -> Offer {
    let scope = if on.is_empty() { Scope::Basket } else { Scope::Products(products(on)) };
    Offer::new(id, id, OfferKind::Coupon { discount: Discount::Fixed(nok(minor)), scope })
}

fn stamp_card(id: &str, required: u32, collected: u32, restartable: bool, on: &[&str]) -> Offer {
    Offer::new(
        id,
        id,
        OfferKind::StampCard(StampCard { required, collected, restartable, products: products(on) }),
    )
}

fn progressive(id: &str, tiers: &[(u32, &str)], on: &[&str]) -> Offer {
    progressive_rule(id, tiers, on, ProgressiveCount::Units, ProgressiveMode::AllUnits)
}

fn progressive_rule(
    id: &str,
    tiers: &[(u32, &str)],
    on: &[&str],
    count: ProgressiveCount,
    mode: ProgressiveMode,
) -> Offer {
    let tiers = tiers.iter().map(|(min_units, p)| Tier { min_units: *min_units, percent: dec(p) }).collect();
    Offer::new(id, id, OfferKind::ProgressiveDiscount { tiers, products: products(on), count, mode })
}

fn ids(list: &[&str]) -> Vec<OfferId> {
    list.iter().map(|s| OfferId::new(*s)).collect()
}

fn line_discount(priced: &PricedBasket, line: &str) -> i64 {
    priced.line(&LineId::new(line)).unwrap().discount.minor
}

fn reason(priced: &PricedBasket, offer: &str) -> Option<String> {
    priced.not_applied.iter().find(|n| n.offer_id.as_str() == offer).map(|n| n.reason.clone())
}

// --- Coupons: product-bound apply automatically, whole-basket ones on confirmation -----------

#[test]
fn product_coupon_applies_without_confirmation() {
    let b = basket(&[("1", "A", "2", 100_00), ("2", "B", "1", 50_00)]);
    let priced = price(&b, &[percent_on("c1", "10", &["A"])], &[], now()).unwrap();
    assert_eq!(line_discount(&priced, "1"), 20_00);
    assert_eq!(line_discount(&priced, "2"), 0);
    assert!(priced.needs_confirmation.is_empty());
}

#[test]
fn unconfirmed_basket_coupon_needs_confirmation_and_waits() {
    let b = basket(&[("1", "A", "2", 100_00)]);
    let priced = price(&b, &[percent_on("c2", "10", &[])], &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(0));
    assert_eq!(priced.needs_confirmation, ids(&["c2"]));
    assert_eq!(reason(&priced, "c2").as_deref(), Some("waiting for the customer to confirm it"));
}

#[test]
fn confirmed_basket_percent_is_allocated_over_lines_by_amount() {
    let b = basket(&[("1", "A", "2", 100_00), ("2", "B", "1", 50_00)]);
    let priced = price(&b, &[percent_on("c2", "10", &[])], &ids(&["c2"]), now()).unwrap();
    assert_eq!((line_discount(&priced, "1"), line_discount(&priced, "2")), (20_00, 5_00));
    assert!(priced.not_applied.is_empty());
}

#[test]
fn confirmed_product_coupon_is_ignored_and_still_applies_automatically() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let priced = price(&b, &[percent_on("c1", "10", &["A"])], &ids(&["c1"]), now()).unwrap();
    assert_eq!(priced.total_discount, nok(10_00));
}

#[test]
fn free_shipping_is_carried_not_priced() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let ship = Offer::new(
        "f1",
        "free shipping",
        OfferKind::Coupon { discount: Discount::FreeShipping, scope: Scope::Basket },
    );
    let priced = price(&b, &[ship], &ids(&["f1"]), now()).unwrap();
    assert_eq!(priced.total_discount, nok(0));
    assert_eq!(reason(&priced, "f1").as_deref(), Some("free shipping is applied by the shop, not priced"));
}

#[test]
fn reward_without_discount_is_listed_as_not_priced() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let reward = Offer::new("r1", "a mug", OfferKind::Reward { points: dec("500"), discount: None });
    let priced = price(&b, &[reward], &[], now()).unwrap();
    assert_eq!(reason(&priced, "r1").as_deref(), Some("a points reward without a discount is not priced"));
}

#[test]
fn reward_with_discount_is_priced_like_a_basket_coupon_once_confirmed() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let reward = Offer::new(
        "r1",
        "50 kr for 500 points",
        OfferKind::Reward { points: dec("500"), discount: Some(Discount::Fixed(nok(50_00))) },
    );
    let waiting = price(&b, std::slice::from_ref(&reward), &[], now()).unwrap();
    assert_eq!(waiting.needs_confirmation, ids(&["r1"]));
    let used = price(&b, &[reward], &ids(&["r1"]), now()).unwrap();
    assert_eq!(used.total_discount, nok(50_00));
}

// --- No double discount, per unit -------------------------------------------------------------

#[test]
fn stamp_free_unit_is_left_out_of_the_basket_percent() {
    let b = basket(&[("1", "A", "1", 100_00), ("2", "C", "3", 30_00)]);
    let offers = [stamp_card("s1", 6, 5, false, &["C"]), percent_on("c2", "10", &[])];
    let priced = price(&b, &offers, &ids(&["c2"]), now()).unwrap();
    assert_eq!((line_discount(&priced, "1"), line_discount(&priced, "2")), (10_00, 36_00));
}

#[test]
fn one_free_unit_on_a_line_of_three_leaves_two_eligible_units() {
    let b = basket(&[("1", "C", "3", 30_00)]);
    let offers = [stamp_card("s1", 6, 5, false, &["C"]), percent_on("c1", "10", &["C"])];
    let (priced, units) = price_with_units(&b, &offers, &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(36_00));
    let takers: Vec<Option<&str>> = units.iter().map(|u| u.offer_id.as_ref().map(|o| o.as_str())).collect();
    assert_eq!(takers, vec![Some("s1"), Some("c1"), Some("c1")]);
}

#[test]
fn product_coupon_and_basket_coupon_never_share_a_unit() {
    let b = basket(&[("1", "A", "1", 100_00), ("2", "B", "1", 50_00)]);
    let offers = [percent_on("c1", "20", &["A"]), fixed_on("c3", 30_00, &[])];
    let priced = price(&b, &offers, &ids(&["c3"]), now()).unwrap();
    assert_eq!((line_discount(&priced, "1"), line_discount(&priced, "2")), (20_00, 30_00));
}

#[test]
fn second_basket_coupon_finds_no_eligible_units() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let offers = [percent_on("c5", "10", &[]), fixed_on("c3", 20_00, &[])];
    let priced = price(&b, &offers, &ids(&["c5", "c3"]), now()).unwrap();
    assert_eq!(priced.total_discount, nok(10_00));
    assert!(reason(&priced, "c3").unwrap().starts_with("no eligible units left"));
}

#[test]
fn basket_coupons_apply_in_confirmation_order() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let offers = [percent_on("c5", "10", &[]), fixed_on("c3", 20_00, &[])];
    let priced = price(&b, &offers, &ids(&["c3", "c5"]), now()).unwrap();
    assert_eq!(priced.total_discount, nok(20_00));
    assert!(reason(&priced, "c5").is_some());
}

// --- Competing product coupons ------------------------------------------------------------------

#[test]
fn competing_product_coupons_the_one_worth_most_wins() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let offers = [percent_on("c1", "10", &["A"]), fixed_on("c4", 15_00, &["A"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(15_00));
    assert_eq!(reason(&priced, "c1").as_deref(), Some("outranked by c4 on every unit"));
}

#[test]
fn equally_worth_product_coupons_go_to_the_smaller_offer_id() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let offers = [fixed_on("c9", 10_00, &["A"]), percent_on("c10", "10", &["A"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    // "c10" < "c9" in plain string order.
    assert_eq!(priced.lines[0].discounts[0].offer_id.as_str(), "c10");
    assert_eq!(reason(&priced, "c9").as_deref(), Some("outranked by c10 on every unit"));
}

#[test]
fn fixed_product_coupon_competes_with_its_share_over_every_unit_it_could_cover() {
    // f1 (30.00 over A and B, 200.00 in all) is worth 15 % of each unit: it beats 10 % on A but
    // loses to 20 % on B, then gives its whole amount on A, capped at A.
    let b = basket(&[("1", "A", "1", 100_00), ("2", "B", "1", 100_00)]);
    let offers =
        [fixed_on("f1", 30_00, &["A", "B"]), percent_on("pa", "10", &["A"]), percent_on("pb", "20", &["B"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    assert_eq!((line_discount(&priced, "1"), line_discount(&priced, "2")), (30_00, 20_00));
    assert_eq!(reason(&priced, "pa").as_deref(), Some("outranked by f1 on every unit"));
}

#[test]
fn each_unit_takes_its_own_best_coupon() {
    let b = basket(&[("1", "A", "1", 100_00), ("2", "B", "1", 100_00)]);
    let offers = [percent_on("c1", "10", &["A", "B"]), percent_on("c2", "20", &["B"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    assert_eq!((line_discount(&priced, "1"), line_discount(&priced, "2")), (10_00, 20_00));
}

#[test]
fn coupon_whose_discount_rounds_to_zero_takes_no_unit() {
    // 0.4 % of 1.00 rounds to 0: the unit stays eligible for the basket coupon.
    let b = basket(&[("1", "A", "1", 1_00)]);
    let offers = [percent_on("c1", "0.4", &["A"]), percent_on("c2", "50", &[])];
    let priced = price(&b, &offers, &ids(&["c2"]), now()).unwrap();
    assert_eq!(priced.total_discount, nok(50));
    assert_eq!(reason(&priced, "c1").as_deref(), Some("its discount rounds to zero"));
}

#[test]
fn units_of_a_winner_that_rounds_to_zero_go_to_the_next_best_coupon() {
    // c1 (0.4 %) beats c2 (0.3 %) on A but gives 0.4 øre -> 0, so it drops out and c2 takes A
    // as well as B: 0.3 % of 3.00 = 0.9 øre -> 1.
    let b = basket(&[("1", "A", "1", 1_00), ("2", "B", "1", 2_00)]);
    let offers = [percent_on("c1", "0.4", &["A"]), percent_on("c2", "0.3", &["A", "B"])];
    let (priced, units) = price_with_units(&b, &offers, &[], now()).unwrap();
    let takers: Vec<Option<&str>> = units.iter().map(|u| u.offer_id.as_ref().map(|o| o.as_str())).collect();
    assert_eq!(takers, vec![Some("c2"), Some("c2")]);
    assert_eq!(priced.total_discount, nok(1));
    assert_eq!(reason(&priced, "c1").as_deref(), Some("its discount rounds to zero"));
}

// --- Stamp cards -----------------------------------------------------------------------------

#[test]
fn completing_unit_of_a_stamp_card_is_free() {
    let b = basket(&[("1", "C", "1", 30_00), ("2", "D", "1", 40_00)]);
    let priced = price(&b, &[stamp_card("s1", 2, 0, false, &["C", "D"])], &[], now()).unwrap();
    assert_eq!((line_discount(&priced, "1"), line_discount(&priced, "2")), (0, 40_00));
    let s = &priced.stamps[0];
    assert_eq!((s.earned, s.free_units, s.remaining), (2, 1, 0));
}

#[test]
fn restartable_stamp_card_completes_twice_in_one_basket() {
    let b = basket(&[("1", "C", "5", 20_00)]);
    let priced = price(&b, &[stamp_card("s1", 3, 2, true, &["C"])], &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(40_00));
    let s = &priced.stamps[0];
    assert_eq!((s.earned, s.free_units, s.remaining), (5, 2, 2));
}

#[test]
fn non_restartable_card_earns_nothing_after_completion() {
    let b = basket(&[("1", "C", "5", 20_00)]);
    let priced = price(&b, &[stamp_card("s1", 3, 2, false, &["C"])], &[], now()).unwrap();
    let s = &priced.stamps[0];
    assert_eq!((s.earned, s.free_units, s.remaining), (1, 1, 0));
    assert_eq!(priced.total_discount, nok(20_00));
}

#[test]
fn full_non_restartable_card_is_spent_and_listed() {
    let b = basket(&[("1", "C", "1", 20_00)]);
    let priced = price(&b, &[stamp_card("s1", 3, 3, false, &["C"])], &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(0));
    assert_eq!((priced.stamps[0].earned, priced.stamps[0].remaining), (0, 0));
    assert_eq!(reason(&priced, "s1").as_deref(), Some("stamp card is spent: all 3 stamps collected"));
}

#[test]
fn full_restartable_card_has_already_restarted() {
    let b = basket(&[("1", "C", "1", 20_00)]);
    let priced = price(&b, &[stamp_card("s1", 3, 3, true, &["C"])], &[], now()).unwrap();
    let s = &priced.stamps[0];
    assert_eq!((s.earned, s.free_units, s.remaining), (1, 0, 2));
}

#[test]
fn card_that_earned_stamps_without_a_free_unit_is_not_listed() {
    let b = basket(&[("1", "C", "1", 20_00)]);
    let priced = price(&b, &[stamp_card("s1", 6, 1, false, &["C"])], &[], now()).unwrap();
    assert!(priced.not_applied.is_empty());
    assert_eq!(priced.stamps[0].remaining, 4);
}

#[test]
fn stamps_have_one_entry_per_card_in_offer_id_order() {
    let b = basket(&[("1", "C", "1", 20_00)]);
    let offers = [stamp_card("s2", 3, 0, false, &["X"]), stamp_card("s1", 3, 3, false, &["C"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    let order: Vec<&str> = priced.stamps.iter().map(|s| s.offer_id.as_str()).collect();
    assert_eq!(order, vec!["s1", "s2"]);
    assert_eq!(reason(&priced, "s2").as_deref(), Some("no matching products in the basket"));
}

#[test]
fn unit_earns_a_stamp_on_every_matching_card() {
    let b = basket(&[("1", "C", "1", 20_00)]);
    let offers = [stamp_card("s1", 5, 0, false, &["C"]), stamp_card("s2", 5, 0, false, &["C"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    assert!(priced.stamps.iter().all(|s| s.earned == 1));
}

#[test]
fn unit_made_free_by_one_card_earns_nothing_on_later_cards() {
    let b = basket(&[("1", "C", "1", 20_00)]);
    let offers = [stamp_card("s1", 2, 1, false, &["C"]), stamp_card("s2", 5, 0, false, &["C"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    assert_eq!(priced.stamps[1].earned, 0);
    assert!(reason(&priced, "s2").unwrap().starts_with("no eligible units left"));
}

#[test]
fn stamp_card_with_collected_above_required_is_bad_input() {
    let b = basket(&[("1", "C", "1", 20_00)]);
    let err = price(&b, &[stamp_card("s1", 3, 4, false, &["C"])], &[], now()).unwrap_err();
    assert!(matches!(err, PricingError::InvalidOffer { field: "collected", .. }), "{err}");
}

#[test]
fn partial_unit_counts_as_one_unit_for_stamps() {
    let b = basket(&[("1", "C", "1.5", 20_00)]);
    let priced = price(&b, &[stamp_card("s1", 2, 0, false, &["C"])], &[], now()).unwrap();
    // Units: 20.00 then the partial 10.00; the second stamp completes the card on the partial one.
    assert_eq!(priced.stamps[0].earned, 2);
    assert_eq!(priced.total_discount, nok(10_00));
}

// --- Progressive discounts ---------------------------------------------------------------------

#[test]
fn progressive_tier_is_reached_by_the_count_of_qualifying_units() {
    let b = basket(&[("1", "X1", "1", 200_00), ("2", "X2", "1", 100_00)]);
    let offer = progressive("p1", &[(1, "25"), (2, "50")], &["X1", "X2"]);
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(150_00));
}

#[test]
fn progressive_counts_only_units_no_product_coupon_took() {
    let b = basket(&[("1", "X1", "1", 200_00), ("2", "X2", "1", 100_00)]);
    let offers = [progressive("p1", &[(1, "25"), (2, "50")], &["X1", "X2"]), percent_on("c1", "10", &["X1"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    assert_eq!((line_discount(&priced, "1"), line_discount(&priced, "2")), (20_00, 25_00));
}

#[test]
fn progressive_below_its_lowest_tier_says_how_many_units_it_needs() {
    let b = basket(&[("1", "X1", "1", 200_00)]);
    let priced = price(&b, &[progressive("p1", &[(2, "50")], &["X1"])], &[], now()).unwrap();
    assert_eq!(
        reason(&priced, "p1").as_deref(),
        Some("needs 2 units of its products for a tier, the basket has 1")
    );
}

// eManage's §9.5 rows for the campaign rule (`progressive_count`, `progressive_mode`).
const TIERS_25_50: &[(u32, &str)] = &[(1, "25"), (2, "50")];

#[test]
fn progressive_marginal_unit_gives_each_unit_the_tier_reached_at_it() {
    // Unit 1 at 25 %, unit 2 at 50 %: 75.00 off 200.00.
    let b = basket(&[("1", "X", "2", 100_00)]);
    let offer =
        progressive_rule("p1", TIERS_25_50, &["X"], ProgressiveCount::Units, ProgressiveMode::MarginalUnit);
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!((priced.total_discount, priced.total), (nok(75_00), nok(125_00)));
}

#[test]
fn progressive_counting_lines_reaches_the_tier_by_qualifying_products() {
    // Two units of one product are one line: the 25 % tier, on both units.
    let b = basket(&[("1", "X", "2", 100_00)]);
    let offer =
        progressive_rule("p1", TIERS_25_50, &["X"], ProgressiveCount::Lines, ProgressiveMode::AllUnits);
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!((priced.total_discount, priced.total), (nok(50_00), nok(150_00)));
    // A second product reaches 50 % on every unit.
    let b = basket(&[("1", "X", "2", 100_00), ("2", "Y", "1", 60_00)]);
    let offer =
        progressive_rule("p1", TIERS_25_50, &["X", "Y"], ProgressiveCount::Lines, ProgressiveMode::AllUnits);
    assert_eq!(price(&b, &[offer], &[], now()).unwrap().total_discount, nok(130_00));
}

#[test]
fn progressive_marginal_ranks_follow_each_products_first_line() {
    // B appears first, so its units (lines 1 and 3) are ranks 1 and 2, then A's are 3 and 4:
    // 10 % of 60, 20 % of 60, 30 % of 2 x 100 = 6 + 12 + 60.
    let b = basket(&[("1", "B", "1", 60_00), ("2", "A", "2", 100_00), ("3", "B", "1", 60_00)]);
    let tiers = &[(1, "10"), (2, "20"), (3, "30")];
    let offer =
        progressive_rule("p1", tiers, &["A", "B"], ProgressiveCount::Units, ProgressiveMode::MarginalUnit);
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(78_00));
    // Each line carries its own units' part, not a share by worth.
    let lines: Vec<i64> = ["1", "2", "3"].iter().map(|l| line_discount(&priced, l)).collect();
    assert_eq!(lines, vec![6_00, 60_00, 12_00]);
    // Counting lines, product n is rank n: B at 10 % (12.00), A at 20 % (40.00).
    let offer =
        progressive_rule("p1", tiers, &["A", "B"], ProgressiveCount::Lines, ProgressiveMode::MarginalUnit);
    let priced = price(&b, &[offer], &[], now()).unwrap();
    let lines: Vec<i64> = ["1", "2", "3"].iter().map(|l| line_discount(&priced, l)).collect();
    assert_eq!((priced.total_discount, lines), (nok(52_00), vec![6_00, 40_00, 6_00]));
}

#[test]
fn progressive_marginal_gives_ranks_below_the_lowest_tier_nothing() {
    // Tier from unit 2 only; the partial unit (0.5 kg, worth 5.00) is rank 3.
    let b = basket(&[("1", "X", "2.5", 10_00)]);
    let offer = progressive_rule(
        "p1",
        &[(2, "50"), (3, "100")],
        &["X"],
        ProgressiveCount::Units,
        ProgressiveMode::MarginalUnit,
    );
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(10_00), "0 + 5.00 + 5.00");
}

#[test]
fn progressive_marginal_rounds_the_offers_exact_discount_once() {
    // 3 x 33.33 at 25 %, 50 %, 50 %: 8.3325 + 16.665 + 16.665 = 41.6625, one rounding: 41.66
    // (rounding each unit would give 8.33 + 16.67 + 16.67 = 41.67).
    let b = basket(&[("1", "X", "3", 33_33)]);
    let offer =
        progressive_rule("p1", TIERS_25_50, &["X"], ProgressiveCount::Units, ProgressiveMode::MarginalUnit);
    assert_eq!(price(&b, &[offer], &[], now()).unwrap().total_discount, nok(41_66));
}

#[test]
fn progressive_counting_lines_below_its_lowest_tier_says_how_many_products_it_needs() {
    let b = basket(&[("1", "X", "5", 100_00)]);
    let offer =
        progressive_rule("p1", &[(2, "50")], &["X"], ProgressiveCount::Lines, ProgressiveMode::AllUnits);
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!(
        reason(&priced, "p1").as_deref(),
        Some("needs 2 of its products for a tier, the basket has 1")
    );
}

// --- Rounding and allocation ---------------------------------------------------------------------

#[test]
fn percent_over_several_lines_is_rounded_once_on_their_total() {
    // Per line, 10 % of 3.33 would round to 0.33 three times (0.99); on the total it is 1.00.
    let b = basket(&[("1", "P1", "1", 3_33), ("2", "P2", "1", 3_33), ("3", "P3", "1", 3_33)]);
    let priced = price(&b, &[percent_on("c2", "10", &[])], &ids(&["c2"]), now()).unwrap();
    assert_eq!(priced.total_discount, nok(1_00));
}

#[test]
fn equal_remainders_go_to_the_earlier_line() {
    let b = basket(&[("1", "P1", "1", 10_00), ("2", "P2", "1", 10_00), ("3", "P3", "1", 10_00)]);
    let priced = price(&b, &[percent_on("c2", "33.33", &[])], &ids(&["c2"]), now()).unwrap();
    let lines: Vec<i64> = priced.lines.iter().map(|l| l.discount.minor).collect();
    assert_eq!(lines, vec![3_34, 3_33, 3_33]);
}

#[test]
fn fixed_amount_goes_to_the_largest_remainder() {
    let b = basket(&[("1", "P1", "1", 10_00), ("2", "P2", "1", 20_00), ("3", "P3", "1", 30_00)]);
    let priced = price(&b, &[fixed_on("c3", 10_00, &[])], &ids(&["c3"]), now()).unwrap();
    let lines: Vec<i64> = priced.lines.iter().map(|l| l.discount.minor).collect();
    assert_eq!(lines, vec![1_67, 3_33, 5_00]);
}

#[test]
fn fixed_coupon_is_capped_at_the_eligible_amount() {
    let b = basket(&[("1", "A", "1", 40_00)]);
    let priced = price(&b, &[fixed_on("c3", 50_00, &[])], &ids(&["c3"]), now()).unwrap();
    assert_eq!((priced.total_discount, priced.total), (nok(40_00), nok(0)));
}

#[test]
fn fractional_quantity_gross_is_rounded_half_up() {
    let b = basket(&[("1", "W", "0.333", 10_05)]);
    // 0.333 x 10.05 = 3.34665 -> 3.35
    let priced = price(&b, &[], &[], now()).unwrap();
    assert_eq!(priced.total_gross, nok(3_35));
}

#[test]
fn fractional_quantity_is_whole_units_plus_one_partial_unit() {
    let b = basket(&[("1", "W", "2.25", 100_00)]);
    let (_, units) = price_with_units(&b, &[], &[], now()).unwrap();
    let worth: Vec<i64> = units.iter().map(|u| u.worth.minor).collect();
    assert_eq!(worth, vec![100_00, 100_00, 25_00]);
}

#[test]
fn zero_decimal_currency_is_priced_in_whole_yen() {
    let yen = |m| Money::new(m, Currency::JPY);
    let b = (1..=3).fold(Basket::new(Currency::JPY), |b, i| {
        b.with_line(Line::new(i.to_string().as_str(), "P", Decimal::ONE, yen(333)))
    });
    let priced = price(&b, &[percent_on("c2", "10", &[])], &ids(&["c2"]), now()).unwrap();
    let lines: Vec<i64> = priced.lines.iter().map(|l| l.discount.minor).collect();
    assert_eq!((lines, priced.total), (vec![34, 33, 33], yen(899)));
}

#[test]
fn line_discounts_name_each_offer_and_sum_to_the_line_discount() {
    let b = basket(&[("1", "C", "3", 30_00)]);
    let offers = [stamp_card("s1", 2, 1, false, &["C"]), percent_on("c2", "10", &[])];
    let priced = price(&b, &offers, &ids(&["c2"]), now()).unwrap();
    let line = &priced.lines[0];
    let parts: Vec<(&str, i64)> =
        line.discounts.iter().map(|d| (d.offer_id.as_str(), d.amount.minor)).collect();
    assert_eq!(parts, vec![("s1", 30_00), ("c2", 6_00)]);
    assert_eq!(line.discount, nok(36_00));
    assert_eq!(line.net, nok(54_00));
}

// --- Validity, order independence ----------------------------------------------------------------

#[test]
fn expired_offer_reason_gives_the_utc_date() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let to = Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59).unwrap();
    let offer = percent_on("c1", "10", &["A"]).with_validity(None, Some(to));
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(0));
    assert_eq!(reason(&priced, "c1").as_deref(), Some("expired on 2025-12-31"));
}

#[test]
fn not_yet_valid_offer_reason_gives_its_start_date() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let from = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
    let offer = percent_on("c1", "10", &["A"]).with_validity(Some(from), None);
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!(reason(&priced, "c1").as_deref(), Some("not valid yet: starts on 2026-02-01"));
}

#[test]
fn validity_window_is_inclusive_at_both_ends() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let offer = percent_on("c1", "10", &["A"]).with_validity(Some(now()), Some(now()));
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!(priced.total_discount, nok(10_00));
}

#[test]
fn expired_basket_coupon_never_needs_confirmation() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let to = Utc.with_ymd_and_hms(2025, 12, 31, 0, 0, 0).unwrap();
    let offer = percent_on("c2", "10", &[]).with_validity(None, Some(to));
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert!(priced.needs_confirmation.is_empty());
    assert_eq!(reason(&priced, "c2").as_deref(), Some("expired on 2025-12-31"));
}

#[test]
fn offer_with_no_uses_left_is_refused() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let offer = percent_on("c1", "10", &["A"]).with_uses_left(Some(0));
    let priced = price(&b, &[offer], &[], now()).unwrap();
    assert_eq!(reason(&priced, "c1").as_deref(), Some("no uses left"));
}

#[test]
fn result_does_not_depend_on_the_order_offers_are_listed_in() {
    let b = basket(&[("1", "C", "3", 30_00), ("2", "A", "2", 45_50), ("3", "X", "1", 99_90)]);
    let offers = vec![
        stamp_card("s1", 2, 1, true, &["C"]),
        percent_on("c1", "15", &["A", "C"]),
        fixed_on("c4", 20_00, &["A"]),
        progressive("p1", &[(1, "5")], &["X", "C"]),
        percent_on("b1", "10", &[]),
        fixed_on("b2", 5_00, &[]),
    ];
    let confirmed = ids(&["b2", "b1"]);
    let forward = price(&b, &offers, &confirmed, now()).unwrap();
    let mut reversed = offers.clone();
    reversed.reverse();
    assert_eq!(forward, price(&b, &reversed, &confirmed, now()).unwrap());
}

// --- Bad input -----------------------------------------------------------------------------------

#[test]
fn confirmed_id_that_names_no_offer_is_bad_input() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let err = price(&b, &[], &ids(&["nope"]), now()).unwrap_err();
    assert_eq!(err, PricingError::UnknownConfirmed { offer_id: OfferId::new("nope") });
}

#[test]
fn duplicate_line_id_is_bad_input() {
    let b = basket(&[("1", "A", "1", 100_00), ("1", "B", "1", 10_00)]);
    assert!(matches!(price(&b, &[], &[], now()), Err(PricingError::DuplicateLine { .. })));
}

#[test]
fn duplicate_offer_id_is_bad_input() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let offers = [percent_on("c1", "10", &["A"]), percent_on("c1", "20", &["A"])];
    assert!(matches!(price(&b, &offers, &[], now()), Err(PricingError::DuplicateOffer { .. })));
}

#[test]
fn negative_quantity_is_bad_input() {
    let b = basket(&[("1", "A", "-1", 100_00)]);
    let err = price(&b, &[], &[], now()).unwrap_err();
    assert!(matches!(err, PricingError::InvalidLine { field: "quantity", .. }), "{err}");
}

#[test]
fn negative_unit_price_is_bad_input() {
    let b = basket(&[("1", "A", "1", -1)]);
    let err = price(&b, &[], &[], now()).unwrap_err();
    assert!(matches!(err, PricingError::InvalidLine { field: "unit_price", .. }), "{err}");
}

#[test]
fn line_in_another_currency_is_bad_input() {
    let b = Basket::new(Currency::NOK).with_line(Line::new(
        "1",
        "A",
        Decimal::ONE,
        Money::new(100, Currency::EUR),
    ));
    let err = price(&b, &[], &[], now()).unwrap_err();
    assert_eq!(err.to_string(), "line \"1\": unit_price: priced in EUR but the basket is in NOK");
}

#[test]
fn fixed_coupon_in_another_currency_is_bad_input() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let offer = Offer::new(
        "c3",
        "c3",
        OfferKind::Coupon { discount: Discount::Fixed(Money::new(5, Currency::JPY)), scope: Scope::Basket },
    );
    let err = price(&b, &[offer], &[], now()).unwrap_err();
    assert!(matches!(err, PricingError::InvalidOffer { field: "fixed", .. }), "{err}");
}

#[test]
fn coupon_percent_outside_0_to_100_is_bad_input() {
    let b = basket(&[("1", "A", "1", 100_00)]);
    let err = price(&b, &[percent_on("c1", "100.5", &["A"])], &[], now()).unwrap_err();
    assert_eq!(err.to_string(), "offer \"c1\": percent: must be between 0 and 100, got 100.5");
    assert!(price(&b, &[percent_on("c1", "-1", &["A"])], &[], now()).is_err());
}

// A basket too large to price is refused naming the line and field at fault, as a negative
// quantity is (docs/pricing.md: "a malformed amount names the line and field"), so a cashier
// or an integration knows what to correct: the quantity when one line alone holds more units
// than a basket may, the unit price when a line within that limit is worth more than minor
// units hold. Only units spread over several lines are the basket's fault.

/// Where [`PricingError::field_in`] puts the fault of pricing `b`, as a request would report it.
fn refused_at(b: &Basket) -> String {
    let err = price(b, &[], &[], now()).unwrap_err();
    err.field_in(b, &[])
}

#[test]
fn amount_overflow_is_an_error_not_a_wrap() {
    let b = basket(&[("1", "A", "3", i64::MAX / 2)]);
    let err = price(&b, &[], &[], now()).unwrap_err();
    assert!(matches!(err, PricingError::InvalidLine { field: "unit_price", .. }), "{err}");
    assert!(err.to_string().ends_with("is too large to price (amount overflow)"), "{err}");
}

#[test]
fn a_line_whose_gross_overflows_names_its_unit_price() {
    let b = basket(&[("1", "A", "1", 129_00), ("2", "B", "2", i64::MAX)]);
    assert_eq!(refused_at(&b), "basket.lines[1].unit_price");
}

#[test]
fn a_quantity_too_large_to_count_names_the_line_and_quantity() {
    // 10^20 units of 99.00: not a count of units the engine can hold, whatever the price.
    let b = basket(&[("1", "A", "1", 129_00), ("2", "B", "100000000000000000000", 99_00)]);
    assert_eq!(refused_at(&b), "basket.lines[1].quantity");
    let err = price(&b, &[], &[], now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line \"2\": quantity: more than 100000 units on one line, got 100000000000000000000"
    );
}

#[test]
fn one_line_over_the_unit_limit_names_the_line_and_quantity() {
    // A million units on one line (a weight typed as grams), at 0.01 so no amount overflows.
    let b = basket(&[("1", "A", "1", 129_00), ("2", "B", "1000000", 1)]);
    assert_eq!(refused_at(&b), "basket.lines[1].quantity");
    // The limit itself is one line's worth; a partial unit counts as one.
    assert!(price(&basket(&[("1", "A", "100000", 1)]), &[], &[], now()).is_ok());
    assert_eq!(refused_at(&basket(&[("1", "A", "100000.5", 1)])), "basket.lines[0].quantity");
}

#[test]
fn too_many_units_over_several_lines_is_the_basket_lines_fault() {
    let b = basket(&[("1", "A", "60000", 1), ("2", "B", "40001", 1)]);
    let err = price(&b, &[], &[], now()).unwrap_err();
    assert!(matches!(err, PricingError::TooManyUnits { limit: 100_000 }), "{err}");
    assert_eq!(err.field_in(&b, &[]), "basket.lines");
}

#[test]
fn coupon_over_units_that_cost_nothing_says_so() {
    let b = basket(&[("1", "A", "1", 0)]);
    let offers = [percent_on("c1", "10", &["A"]), percent_on("c2", "10", &[])];
    let priced = price(&b, &offers, &ids(&["c2"]), now()).unwrap();
    let expected = Some("nothing to discount: the units it covers cost nothing");
    assert_eq!(reason(&priced, "c1").as_deref(), expected);
    assert_eq!(reason(&priced, "c2").as_deref(), expected);
}

// Rule 9: a refused offer's reason must be true. When the units left without a discount all
// cost nothing, saying "every unit already carries a discount" is false: some carry none.

#[test]
fn basket_coupon_over_untaken_units_that_cost_nothing_does_not_claim_they_are_discounted() {
    // Line 1 costs nothing and carries no discount; line 2 is taken by a 100 % product coupon.
    let b = basket(&[("1", "A", "1", 0), ("2", "B", "1", 10_00)]);
    let offers = [percent_on("c1", "100", &["B"]), percent_on("b1", "10", &[])];
    let priced = price(&b, &offers, &ids(&["b1"]), now()).unwrap();
    let expected = "nothing left to discount: the units without a discount cost nothing";
    assert_eq!(reason(&priced, "b1").as_deref(), Some(expected));
}

#[test]
fn product_coupon_over_untaken_units_that_cost_nothing_does_not_claim_they_are_discounted() {
    // Product A: the unit at 10.00 is made free by the stamp card, two units at 0.00 are left.
    let b = basket(&[("1", "A", "1", 10_00), ("2", "A", "2", 0)]);
    let offers = [stamp_card("s1", 1, 0, false, &["A"]), percent_on("c1", "50", &["A"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    let expected = "nothing left to discount: the units without a discount cost nothing";
    assert_eq!(reason(&priced, "c1").as_deref(), Some(expected));
}

#[test]
fn coupons_finding_every_unit_discounted_still_say_so() {
    // Every unit taken (the stamp card frees A, c1 takes B): the reason stays as it was.
    let b = basket(&[("1", "A", "1", 10_00), ("2", "B", "1", 0)]);
    let offers = [
        stamp_card("s1", 1, 0, false, &["A"]),
        stamp_card("s2", 1, 0, false, &["B"]),
        percent_on("c1", "50", &["A"]),
        percent_on("b1", "10", &[]),
    ];
    let priced = price(&b, &offers, &ids(&["b1"]), now()).unwrap();
    assert_eq!(
        reason(&priced, "c1").as_deref(),
        Some("no eligible units left: every matching unit already carries a discount")
    );
    assert_eq!(
        reason(&priced, "b1").as_deref(),
        Some("no eligible units left: every unit already carries a discount")
    );
}

#[test]
fn a_transaction_credits_a_later_cards_stamp_to_the_unit_that_earned_it() {
    // Two lines of C. Card s1 needs one more stamp: line 1's unit completes it and is free, so
    // it earns nothing on s2; s2's one stamp comes from line 2's unit.
    let b = basket(&[("1", "C", "1", 2000), ("2", "C", "1", 2000)]);
    let offers = [stamp_card("s1", 2, 1, false, &["C"]), stamp_card("s2", 5, 0, false, &["C"])];
    let priced = price(&b, &offers, &[], now()).unwrap();
    let s2 = priced.stamps.iter().find(|s| s.offer_id.as_str() == "s2").unwrap();
    assert_eq!(s2.earned, 1);
    let tx = loyalty_core::Transaction::from_priced(
        loyalty_core::TransactionId::new("o-1"),
        now(),
        None,
        &b,
        &priced,
        &offers,
    )
    .unwrap();
    let stamps = |line: &str| tx.lines.iter().find(|l| l.line_id.as_str() == line).unwrap().stamps.clone();
    assert_eq!(stamps("1"), vec![(OfferId::new("s1"), 1)]);
    assert_eq!(stamps("2"), vec![(OfferId::new("s2"), 1)]);
}

#[test]
fn every_applied_offer_carries_a_reason_a_cashier_can_read() {
    // Rule 9, for the offers that gave something: what each gave, in words and amounts.
    let b = basket(&[("1", "A", "2", 10000), ("2", "C", "1", 4900), ("3", "B", "1", 5000)]);
    let offers =
        [percent_on("c1", "10", &["A"]), fixed_on("c2", 100000, &[]), stamp_card("s1", 2, 1, false, &["C"])];
    let priced = price(&b, &offers, &ids(&["c2"]), now()).unwrap();
    let reason = |id: &str| {
        priced
            .applied
            .iter()
            .find(|a| a.offer_id.as_str() == id)
            .map(|a| a.reason.clone())
            .unwrap_or_default()
    };
    assert_eq!(reason("s1"), "stamp card: 1 stamp earned, 1 unit free: 49.00 NOK on 1 line");
    assert_eq!(reason("c1"), "10 % off on the products it covers: 20.00 NOK on 1 line");
    assert_eq!(
        reason("c2"),
        "confirmed by the customer: 1000.00 NOK off (capped at what it covers) on the basket: 50.00 NOK on 1 line"
    );
    // Used and explained are the same offers; nothing is both applied and not applied.
    let applied: Vec<&str> = priced.applied.iter().map(|a| a.offer_id.as_str()).collect();
    let used = priced.offers_used();
    assert_eq!(applied, used.iter().map(|o| o.as_str()).collect::<Vec<_>>());
    assert!(priced.not_applied.iter().all(|n| !applied.contains(&n.offer_id.as_str())));
}
