//! An upgrade whose every charge attempt fails, on a cart that also holds the new product as
//! a plain line (bought at checkout). The vendor discards the upgrade (§7.2 rule 6, §9.3): the
//! line is back to the product paid before and that product ships. The answer is `Discarded`,
//! never `Pending`: the plain line of the new product says nothing of the upgrade, and a shop
//! told `Pending` would tell the customer the upgrade is coming.

mod common;

use common::*;
use loyalty_core::UpgradeOutcome;
use loyalty_sim::emanage::{demo, EmanageSettings};

fn discarded_beside_plain(outcome: &UpgradeOutcome, env: &Env, cart: &loyalty_core::CartId) {
    let view = env.session(cart);
    assert!(upgrade_captures(&view).is_empty(), "nothing was captured");
    let mut ships = view.shipments.clone();
    ships.sort_unstable();
    assert_eq!(ships, [(id(P0), 1), (id(P1), 1)], "the vendor discarded the upgrade");
    assert!(matches!(outcome, UpgradeOutcome::Discarded { .. }), "answered {outcome:?}");
}

#[tokio::test]
async fn a_discarded_upgrade_beside_a_plain_line_of_the_new_product_reads_discarded() {
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1), (P1, 1)], demo::PAN_UPGRADE_CHARGE_FAILS).await;
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.expect("upgrade answers");
    discarded_beside_plain(&outcome, &env, &cart.id);
}

#[tokio::test]
async fn without_the_cart_extras_the_units_of_the_new_product_decide() {
    // The contract's cart GET (five fields a line): the new product did not grow, so the
    // upgrade was discarded.
    let mut settings: EmanageSettings = immediate();
    settings.cart_extras = false;
    let env = start_with(settings).await;
    let cart = env.paid_cart(&[(P0, 1), (P1, 1)], demo::PAN_UPGRADE_CHARGE_FAILS).await;
    let outcome = env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.expect("upgrade answers");
    discarded_beside_plain(&outcome, &env, &cart.id);
}
