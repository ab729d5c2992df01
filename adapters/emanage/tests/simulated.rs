//! `loyalty_emanage::simulated` gives a ready adapter (feature `simulator`).
#![cfg(feature = "simulator")]

use loyalty_core::{Context, Currency, NewCart, Provider};
use rust_decimal::Decimal;

#[tokio::test]
async fn simulated_adapter_opens_a_cart_on_the_demo_campaign() {
    let (adapter, server) = loyalty_emanage::simulated::start().await.unwrap();
    let cart = adapter
        .carts()
        .unwrap()
        .create(&Context::new(), &NewCart::new(Currency::USD, "918501", Decimal::ONE))
        .await
        .unwrap();
    // The demo campaign's progressive discount: 25 % for one unit (§9.5).
    assert_eq!(cart.total.amount_string(), "75.00");
    assert_eq!(server.handle().journal().count("POST", "/api/shoppingcart/"), 1);
}

/// The checkout prices the campaign's progressive discount by its configured `count` and
/// `mode` (§8, §9.5): what it shows and charges is what eManage's own cart costs.
#[tokio::test]
async fn the_checkout_prices_two_units_as_the_campaign_s_rule_does() {
    use std::sync::Arc;

    use loyalty_core::checkout::{Checkout, CheckoutRequest, MemoryCheckoutStore, SimulatedPayment};
    use loyalty_core::{Basket, Line, Money};
    use loyalty_emanage::simulated::{self, SimulatedClock};
    use loyalty_emanage::{DiscountCount, DiscountMode};
    use loyalty_sim::emanage::{demo, EmanageSettings};
    use loyalty_sim::SimClock;

    let usd = |minor: i64| Money::new(minor, Currency::USD);
    // 2 x 100.00, tiers 25 % from one and 50 % from two.
    for (count, mode, expected) in [
        (DiscountCount::Units, DiscountMode::AllUnits, usd(10_000)),
        (DiscountCount::Units, DiscountMode::MarginalUnit, usd(12_500)),
        (DiscountCount::Lines, DiscountMode::AllUnits, usd(15_000)),
        (DiscountCount::Lines, DiscountMode::MarginalUnit, usd(15_000)),
    ] {
        let mut settings = EmanageSettings::default();
        settings.progressive_discount.count = match count {
            DiscountCount::Units => loyalty_sim::emanage::DiscountCount::Units,
            DiscountCount::Lines => loyalty_sim::emanage::DiscountCount::Lines,
        };
        settings.progressive_discount.mode = match mode {
            DiscountMode::AllUnits => loyalty_sim::emanage::DiscountMode::AllUnits,
            DiscountMode::MarginalUnit => loyalty_sim::emanage::DiscountMode::MarginalUnit,
        };
        let s = simulated::start_with(settings, SimClock::default()).await.unwrap();
        let clock = SimulatedClock(s.server.handle().clock());
        let mut cfg = simulated::config_for(s.server.base_url()).unwrap();
        let rule = cfg.progressive.as_mut().unwrap();
        (rule.count, rule.mode) = (count, mode);
        let adapter = loyalty_emanage::EmanageAdapter::with_clock(cfg, Arc::new(clock.clone())).unwrap();
        let ctx = Context::new();
        let cart = adapter
            .carts()
            .unwrap()
            .create(
                &ctx,
                &NewCart::new(Currency::USD, demo::PRODUCT_TIER_100.to_string(), Decimal::from(2)).test(true),
            )
            .await
            .unwrap();
        assert_eq!(cart.total, expected, "{count:?} {mode:?}: the vendor's cart");
        let checkout = Checkout::with_store(
            Arc::new(&adapter),
            Arc::new(SimulatedPayment::new()),
            Arc::new(clock),
            Arc::new(MemoryCheckoutStore::new()),
        );
        let basket = Basket::new(Currency::USD).with_line(Line::new(
            "l1",
            demo::PRODUCT_TIER_100.to_string(),
            Decimal::from(2),
            usd(10_000),
        ));
        let prepared = checkout.prepare(&ctx, &CheckoutRequest::new("RULE-1", basket)).await.unwrap();
        assert_eq!(prepared.priced.total, expected, "{count:?} {mode:?}: the checkout");
    }
}
