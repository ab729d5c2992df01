//! The amount announced for an upgrade of a line the campaign's progressive discount reached,
//! after the campaign's price moved since the checkout. The vendor charges the chain
//! `q × (ak − a0)` with `a0` the price paid *before* discount (§7.2 rule 3; §8: the upgrade
//! keeps the discount of the unit it replaces), and the cart GET shows prices after discount
//! only (§6.4 row 5). So `a0` comes from the vendor's `listPrice` where the cart shows it, or
//! from a line the price list explains; where neither, the upgrade is refused unsent rather
//! than announced wrong.

mod common;

use common::*;
use loyalty_core::{ErrorKind, UpgradeOutcome, WriteEffect};
use loyalty_sim::emanage::{demo, EmanageSettings};

/// 918501 lists at 100 and qualifies for 25 % off one unit: the paid cart holds it at 75.
const DISCOUNTED: &str = "918501";

fn live_shape(mut s: EmanageSettings) -> EmanageSettings {
    s.cart_extras = false;
    s
}

fn amount_of(outcome: &UpgradeOutcome) -> loyalty_core::Money {
    match outcome {
        UpgradeOutcome::Charged { amount, .. } | UpgradeOutcome::Pending { amount, .. } => *amount,
        other => panic!("charged or pending: {other:?}"),
    }
}

#[tokio::test]
async fn a_discounted_line_whose_price_moved_is_upgraded_from_the_list_price_paid() {
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(DISCOUNTED, 1)], demo::PAN_APPROVE).await;
    assert_eq!(env.session(&cart.id).captured(), dec("75"));
    // The merchant moves the price after the checkout (§1: campaign changes go live).
    assert!(env.probe.set_product_price(demo::WEB_KEY, id(DISCOUNTED), dec("110")));
    let outcome = env.upgrade(&cart.id, DISCOUNTED, P1, 1).await.expect("upgrade answers");
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")], "the vendor captures 120 - 100");
    let UpgradeOutcome::Charged { amount, .. } = outcome else { panic!("charged: {outcome:?}") };
    assert_eq!(amount, usd("20.00"), "not 120 - 75");
}

#[tokio::test]
async fn without_list_price_a_discounted_line_the_price_list_explains_is_upgraded_from_its_price() {
    let env = start_with(live_shape(immediate())).await;
    let cart = env.paid_cart(&[(DISCOUNTED, 1)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade_sold_as(&cart.id, DISCOUNTED, DISCOUNTED, P1, 1).await.expect("answers");
    assert_eq!(amount_of(&outcome), usd("20.00"));
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
}

#[tokio::test]
async fn without_list_price_a_discounted_line_whose_price_moved_is_refused_unsent() {
    let env = start_with(live_shape(immediate())).await;
    let cart = env.paid_cart(&[(DISCOUNTED, 1)], demo::PAN_APPROVE).await;
    assert!(env.probe.set_product_price(demo::WEB_KEY, id(DISCOUNTED), dec("110")));
    let err = env.upgrade_sold_as(&cart.id, DISCOUNTED, DISCOUNTED, P1, 1).await.unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::Unsupported, "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent, "{err}");
    assert!(err.message().contains("listPrice"), "{err}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 0);
    assert!(upgrade_captures(&env.session(&cart.id)).is_empty());
}

#[tokio::test]
async fn without_list_price_a_line_no_discount_reaches_is_upgraded_from_the_price_paid() {
    // 918325 does not qualify for the discount: its price in the cart is its price paid, even
    // after the merchant moved it from 100 to 110.
    let env = start_with(live_shape(immediate())).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    assert!(env.probe.set_product_price(demo::WEB_KEY, id(P0), dec("110")));
    let outcome = env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.expect("answers");
    assert_eq!(amount_of(&outcome), usd("20.00"));
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
}
