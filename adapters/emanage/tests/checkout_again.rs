//! A paid cart checked out again (a double click, an answer lost on the shop's side) answers
//! the same order and charges nothing (`Carts::checkout`), with what its checkout captured
//! (`CartOrder::charged`). An upgrade since is its own charge, answered by `Carts::upgrade`:
//! its difference, pending or captured, is never reported as the checkout's.

mod common;

use common::*;
use loyalty_core::{CartCheckout, CartId, CartOrder, UpgradeOutcome};
use loyalty_sim::emanage::demo;

async fn checkout(env: &Env, cart: &CartId) -> CartOrder {
    match env.carts().checkout(&ctx(), cart, &card(demo::PAN_APPROVE)).await.expect("checkout answers") {
        CartCheckout::Paid(order) => order,
        other => panic!("paid: {other:?}"),
    }
}

#[tokio::test]
async fn after_a_pending_upgrade_the_same_order_reports_what_the_checkout_captured() {
    // Default settings: the upgrade step stays a preview for the funnel window.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let first = checkout(&env, &cart.id).await;
    assert_eq!(first.charged, usd("100.00"));
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert!(matches!(outcome, UpgradeOutcome::Pending { .. }), "{outcome:?}");
    let again = checkout(&env, &cart.id).await;
    assert_eq!((again.order_id.clone(), again.charged), (first.order_id, usd("100.00")));
    assert_eq!(env.session(&cart.id).captured(), dec("100"), "nothing charged again, nor the upgrade yet");
}

#[tokio::test]
async fn after_a_charged_upgrade_the_same_order_reports_the_checkout_not_the_upgrade() {
    let env = start_with(immediate()).await;
    let cart = env.cart(&[(P0, 1)]).await;
    let first = checkout(&env, &cart.id).await;
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert!(matches!(outcome, UpgradeOutcome::Charged { .. }), "{outcome:?}");
    let again = checkout(&env, &cart.id).await;
    assert_eq!((again.order_id, again.charged), (first.order_id, first.charged));
    assert_eq!(env.session(&cart.id).captured(), dec("120"), "100 at checkout, 20 by the upgrade");
}

#[tokio::test]
async fn a_discounted_line_upgraded_in_part_reports_the_discounted_checkout() {
    // 918501 × 2 at 50 % (100 for both); one unit upgraded to 918446 keeps its discount.
    let env = start().await;
    let cart = env.cart(&[("918501", 2)]).await;
    let first = checkout(&env, &cart.id).await;
    assert_eq!(first.charged, usd("100.00"));
    env.upgrade(&cart.id, "918501", P1, 1).await.expect("upgrade answers");
    let again = checkout(&env, &cart.id).await;
    assert_eq!(again.charged, usd("100.00"));
}
