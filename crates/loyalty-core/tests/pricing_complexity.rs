//! The inputs that were quadratic (issue 17) now cost work in proportion to their size. The
//! engine counts its steps (units, lines, products and offers visited, Fenwick tree nodes), so
//! these tests need no clock and cannot flake on a busy machine: each input is priced at size
//! n and 4n, and the work must grow about 4 times (a quadratic path grows 16 times) and stay
//! within a fixed number of steps per element of input. The timings are in the bench
//! (`cargo bench -p loyalty-core --bench pricing`).

#[path = "support/pricing_inputs.rs"]
mod inputs;

use inputs::Input;
use loyalty_core::pricing::price_work;

/// Elements of input: units, lines, offers, products listed by offers, confirmations.
fn size(input: &Input) -> u64 {
    (input.units()
        + input.basket.lines.len()
        + input.offers.len()
        + input.listed_products()
        + input.confirmed.len()) as u64
}

fn work(input: &Input) -> u64 {
    price_work(&input.basket, &input.offers, &input.confirmed, inputs::now()).expect("the input prices").1
}

/// Prices `make(n)` and `make(4 n)`: work grows at most 5 times (4 times, plus the log factor
/// of the Fenwick tree), and each takes at most `per_element` steps per element of input.
fn assert_linear(make: impl Fn(usize) -> Input, n: usize, per_element: u64) {
    let (small, large) = (make(n), make(4 * n));
    let (w_small, w_large) = (work(&small), work(&large));
    let growth = w_large as f64 / w_small as f64;
    assert!(
        growth <= 5.0,
        "work grows {growth:.2} times from n = {n} to 4n ({w_small} to {w_large} steps): not linear"
    );
    for (input, w) in [(&small, w_small), (&large, w_large)] {
        let size = size(input);
        assert!(
            w <= per_element * size,
            "{w} steps for {size} elements of input: over {per_element} per element"
        );
    }
}

#[test]
fn coupons_that_round_to_zero_one_after_another_cost_linear_work() {
    // 4n: one line of 100,000 units and 80 coupons, the input of issue 17.
    assert_linear(|n| inputs::zero_rounding_coupons(n, n / 1_250), 25_000, 4);
}

#[test]
fn many_stamp_cards_cost_linear_work() {
    // 4n: 50,000 stamp cards.
    assert_linear(inputs::stamp_cards, 12_500, 4);
}

#[test]
fn stamp_cards_over_several_products_cost_linear_work() {
    assert_linear(inputs::multi_product_stamp_cards, 5_000, 12);
}

#[test]
fn many_confirmed_basket_coupons_cost_linear_work() {
    // 4n: 20,000 confirmed basket coupons.
    assert_linear(inputs::confirmed_basket_coupons, 5_000, 4);
}

#[test]
fn a_coupon_listing_many_products_costs_linear_work() {
    // 4n: one coupon listing 100,000 products.
    assert_linear(inputs::long_product_list, 25_000, 4);
}

#[test]
fn many_vendor_priced_offers_cost_linear_work() {
    assert_linear(inputs::vendor_priced, 5_000, 16);
}

#[test]
fn applied_reasons_for_many_offers_used_cost_linear_work() {
    // 4n: 20,000 lines, each with its own product coupon, so 20,000 offers used, each with its
    // rule 9 reason in `applied`. Summing what each gave walked every line once per offer used
    // (lines x offers, about 1.6 s at 12,000 lines in a release build); the engine counts the
    // one pass that replaced it.
    assert_linear(inputs::coupon_per_line, 5_000, 8);
}

#[test]
fn basket_size_costs_linear_work() {
    // 4n: 100,000 units with 20 offers of every kind.
    assert_linear(inputs::scaling, 25_000, 16);
}

#[test]
fn a_marginal_progressive_discount_costs_linear_work() {
    use loyalty_core::offer::{ProgressiveCount, ProgressiveMode};
    use loyalty_core::{Basket, Line, Offer, OfferKind, Tier};
    use rust_decimal::Decimal;
    // 4n: lines of 99,000 and 1,000 units, a tier every 100 units, each unit at
    // the tier reached at it: summed tier range by tier range, never unit by unit.
    let make = |n: usize| {
        let basket = Basket::new(loyalty_core::Currency::NOK)
            .with_line(Line::new("1", "X", Decimal::from((n - n / 100) as u64), inputs::nok(1_99)))
            .with_line(Line::new("2", "Y", Decimal::from(n as u64 / 100), inputs::nok(5_00)));
        let tiers = (0..n / 100)
            .map(|k| Tier { min_units: (k * 100 + 1) as u32, percent: Decimal::new((k % 100) as i64, 0) })
            .collect();
        let offer = Offer::new(
            "p1",
            "marginal",
            OfferKind::ProgressiveDiscount {
                tiers,
                products: vec!["X".into(), "Y".into()],
                count: ProgressiveCount::Units,
                mode: ProgressiveMode::MarginalUnit,
            },
        );
        Input { basket, offers: vec![offer], confirmed: Vec::new() }
    };
    assert_linear(make, 25_000, 4);
}
