//! A card (same-payment) upgrade asked again, as a shop does when it lost the answer: where the
//! cart GET lists the chain (the simulator's `upgrades[]`), the chain still a preview for the
//! same head, first product and units is the earlier request's, and its answer is given again
//! without a second `add`, so the card is charged once (§7.1, §10).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use loyalty_core::{Provider, UpgradeOutcome, UpgradeRequest};
use loyalty_emanage::{CapturePolicy, EmanageAdapter};
use loyalty_sim::emanage::demo;
use loyalty_sim::Fault;
use rust_decimal::Decimal;

/// The `add` calls the simulator received so far.
fn adds(env: &Env) -> usize {
    env.journal().entries().iter().filter(|e| e.method == "POST" && e.path.ends_with("/add")).count()
}

fn pending_amount(outcome: &UpgradeOutcome) -> loyalty_core::Money {
    match outcome {
        UpgradeOutcome::Pending { amount, .. } => *amount,
        other => panic!("expected a pending upgrade, got {other:?}"),
    }
}

/// The simulator's lines as (product, units), sorted.
fn lines(env: &Env, cart: &loyalty_core::CartId) -> Vec<(i64, u32)> {
    let mut lines = env.session(cart).lines;
    lines.sort_unstable();
    lines
}

#[tokio::test]
async fn a_partial_card_upgrade_asked_again_answers_the_pending_step_and_charges_once() {
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    let first = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let sent = adds(&env);
    let again = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert_eq!(adds(&env), sent, "the repeat reached the vendor");
    assert_eq!(pending_amount(&again), pending_amount(&first));
    assert_eq!(pending_amount(&again), usd("20.00"));
    assert_eq!(lines(&env, &cart.id), [(id(P0), 1), (id(P1), 1)]);
    env.probe.capture_upgrades_now();
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
}

#[tokio::test]
async fn a_repeat_is_told_by_its_units_so_an_upgrade_of_other_units_is_still_sent() {
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 3)], demo::PAN_APPROVE).await;
    env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let sent = adds(&env);
    env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert_eq!(adds(&env), sent, "the repeat reached the vendor");
    // Two units is not the pending one-unit step: a new upgrade, sent and charged.
    let more = env.upgrade(&cart.id, P0, P1, 2).await.unwrap();
    assert_eq!(adds(&env), sent + 1);
    assert_eq!(pending_amount(&more), usd("40.00"));
    env.probe.capture_upgrades_now();
    let mut captures = upgrade_captures(&env.session(&cart.id));
    captures.sort_unstable();
    assert_eq!(captures, [dec("20"), dec("40")]);
}

#[tokio::test]
async fn a_card_upgrade_whose_reply_was_lost_asked_again_by_another_instance_charges_once() {
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    // The vendor takes the add; its reply is cut off.
    env.handle().inject("POST", &env.cart_path("/add"), Fault::TruncatedBody, Some(1));
    let _lost = env.upgrade(&cart.id, P0, P1, 1).await;
    let mut config = config(env.server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    config.test_mode = true;
    let restarted = EmanageAdapter::with_clock(config, Arc::new(Bridge(env.clock.clone()))).unwrap();
    let request = UpgradeRequest::new(P0, P1, Decimal::ONE);
    let again = restarted.carts().unwrap().upgrade(&ctx(), &cart.id, &request).await.unwrap();
    assert_eq!(pending_amount(&again), usd("20.00"));
    env.probe.capture_upgrades_now();
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
    assert_eq!(lines(&env, &cart.id), [(id(P0), 1), (id(P1), 1)]);
}

#[tokio::test]
async fn a_partial_upgrade_of_an_upgrade_asked_again_charges_once() {
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    env.upgrade(&cart.id, P0, P1, 2).await.unwrap();
    let step = env.upgrade(&cart.id, P1, P2, 1).await.unwrap();
    let sent = adds(&env);
    let again = env.upgrade(&cart.id, P1, P2, 1).await.unwrap();
    assert_eq!(adds(&env), sent, "the repeat reached the vendor");
    // 140 − 100 a unit, from the chain's first product.
    assert_eq!(pending_amount(&again), pending_amount(&step));
    assert_eq!(pending_amount(&again), usd("40.00"));
    assert_eq!(lines(&env, &cart.id), [(id(P1), 1), (id(P2), 1)]);
}
