//! A charged upgrade chain that steps down and then up again. What the adapter announces is
//! what the vendor captures (docs/vendors/emanage.md, upgrades; §7.2 rule 5: "total captured
//! for the chain = last − first", so a step under the `remainder` policy takes what the chain still owes). After
//! a charged step down the head's price is below what the chain was paid up to, so the adapter
//! prices the next step from what the cart lists the chain captured (`upgrades[].captured`),
//! never from the head's price.

mod common;

use common::*;
use loyalty_core::{Money, UpgradeOutcome};
use loyalty_sim::emanage::demo;

/// A product at 60, below the chain's first price (100).
const CHEAP: &str = "918504";

fn amount(o: &UpgradeOutcome) -> Money {
    match o {
        UpgradeOutcome::Charged { amount, .. } | UpgradeOutcome::Pending { amount, .. } => *amount,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn back_up_after_a_charged_step_down_announces_what_the_vendor_captures() {
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    // 100 -> 140: 40 captured.
    assert_eq!(amount(&env.upgrade(&cart.id, P0, P2, 1).await.unwrap()), usd("40.00"));
    // 140 -> 120: the chain owes 20 and has 40: nothing (and nothing refunded).
    assert_eq!(amount(&env.upgrade(&cart.id, P2, P1, 1).await.unwrap()), usd("0.00"));
    // 120 -> 140: the chain owes 40 and has 40: nothing, not 140 - 120.
    let back = env.upgrade(&cart.id, P1, P2, 1).await.unwrap();
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("40")], "the vendor captured 40 in all");
    assert_eq!(amount(&back), usd("0.00"));
}

#[tokio::test]
async fn up_after_a_step_below_the_first_price_announces_what_the_vendor_captures() {
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    // 100 -> 120: 20 captured.
    assert_eq!(amount(&env.upgrade(&cart.id, P0, P1, 1).await.unwrap()), usd("20.00"));
    // 120 -> 60: nothing captured, nothing refunded.
    assert_eq!(amount(&env.upgrade(&cart.id, P1, CHEAP, 1).await.unwrap()), usd("0.00"));
    // 60 -> 140: the chain owes 40 and has 20: 20, not 40.
    let up = env.upgrade(&cart.id, CHEAP, P2, 1).await.unwrap();
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20"), dec("20")]);
    assert_eq!(amount(&up), usd("20.00"));
}

#[tokio::test]
async fn a_step_from_a_head_charged_after_the_funnel_window_announces_the_remainder() {
    // 100 -> 120 charged after the vendor's funnel window; 120 -> 140 then owes 20 (§9.2
    // `remainder` row), what the cart lists the chain captured telling it.
    let env = start().await; // funnel window: 600 s
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    env.advance(600);
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
    let step = env.upgrade(&cart.id, P1, P2, 1).await.unwrap();
    assert_eq!(amount(&step), usd("20.00"));
    env.advance(600);
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20"), dec("20")]);
}
