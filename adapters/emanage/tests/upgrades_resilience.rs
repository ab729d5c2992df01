//! Upgrades that survive a lost reply (the offline upgrade's `new`, §7.2 rule 7, §10,
//! checklist 25) and a vendor whose cart GET carries the contract's five fields only (no
//! `upgradedFromProductId`, checklist 12): the chain's start comes from the cart or the shop
//! (`UpgradeRequest::with_first_product`), never from what one adapter instance remembers, so
//! a second instance (a restart) answers alike.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use loyalty_core::{CartCheckout, CartId, ErrorKind, Provider, UpgradeOutcome, UpgradeRequest, WriteEffect};
use loyalty_emanage::{CapturePolicy, EmanageAdapter};
use loyalty_sim::emanage::{demo, EmanageSettings};
use loyalty_sim::Fault;
use rust_decimal::Decimal;

fn bare(mut s: EmanageSettings) -> EmanageSettings {
    s.cart_extras = false;
    s
}

fn offline(from: &str, to: &str) -> UpgradeRequest {
    UpgradeRequest::new(from, to, Decimal::ONE).paid_offline(true)
}

/// Cuts the reply of the next `new` after the vendor acted on it.
fn lose_next_new_reply(env: &Env) {
    env.handle().inject("POST", &env.cart_path("/new"), Fault::TruncatedBody, Some(1));
}

/// A second adapter on the same simulator: another instance, or this one after a restart.
fn other_process(env: &Env) -> EmanageAdapter {
    let mut config = config(env.server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    config.test_mode = true;
    EmanageAdapter::with_clock(config, Arc::new(Bridge(env.clock.clone()))).expect("adapter builds")
}

fn payment_required(outcome: UpgradeOutcome) -> (CartId, loyalty_core::Money) {
    match outcome {
        UpgradeOutcome::PaymentRequired { cart, amount, .. } => (cart.id, amount),
        other => panic!("expected a cart to pay, got {other:?}"),
    }
}

#[tokio::test]
async fn an_offline_upgrade_whose_new_reply_is_lost_answers_the_cart_the_vendor_opened() {
    let env = start().await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    lose_next_new_reply(&env);
    let outcome =
        env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.expect("answered from the read");
    let (child, amount) = payment_required(outcome);
    assert_eq!(env.probe.upgrade_sessions(cart.id.as_str()), [child.as_str().to_string()]);
    assert_eq!(amount, usd("20.00"));
    // The customer can pay it: the upgrade ships.
    let answer = env.carts().checkout(&ctx(), &child, &paypal()).await.expect("checkout answers");
    assert!(matches!(answer, CartCheckout::ActionRequired { .. }), "{answer:?}");
    assert!(env.probe.confirm_payment(child.as_str()));
    assert_eq!(env.session(&cart.id).shipments, [(id(P1), 1)]);
}

#[tokio::test]
async fn an_offline_upgrade_asked_again_answers_its_cart_and_never_opens_a_second() {
    let env = start().await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    let (first, _) = payment_required(env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.unwrap());
    // The shop lost the answer and asks again: the parent's line is 918446 by now.
    let again = env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.expect("same answer");
    let (second, amount) = payment_required(again);
    assert_eq!((second, amount), (first.clone(), usd("20.00")));
    assert_eq!(env.probe.upgrade_sessions(cart.id.as_str()), [first.as_str().to_string()]);
}

#[tokio::test]
async fn a_partial_offline_upgrade_asked_again_answers_its_cart_for_the_same_units() {
    let env = start().await;
    let cart = env.paid_offline(&[(P0, 2)]).await;
    lose_next_new_reply(&env);
    let (first, _) = payment_required(env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.unwrap());
    // One 918325 is left on the line; asking again must not upgrade it too.
    let (second, amount) =
        payment_required(env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.unwrap());
    assert_eq!((second, amount), (first.clone(), usd("20.00")));
    assert_eq!(env.probe.upgrade_sessions(cart.id.as_str()), [first.as_str().to_string()]);
}

#[tokio::test]
async fn without_the_cart_extras_a_lost_offline_reply_says_an_upgrade_cart_may_exist_and_how_it_resolves() {
    let env = start_with(bare(EmanageSettings::default())).await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    lose_next_new_reply(&env);
    let e = env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.unwrap_err();
    assert_eq!(e.effect(), WriteEffect::Unknown, "{e:?}");
    assert!(e.message().contains("may exist") && e.message().contains("30 minutes"), "{e:?}");
    // Asked again: the same warning, never a second cart for the difference.
    let again = env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.unwrap_err();
    assert_eq!((again.kind(), again.effect()), (&ErrorKind::Conflict, WriteEffect::Unknown), "{again:?}");
    assert!(again.message().contains("may exist"), "{again:?}");
    assert_eq!(env.probe.upgrade_sessions(cart.id.as_str()).len(), 1);
    // Resolved as the message says: unpaid, the vendor discards it and the original ships;
    // then the upgrade can be asked again.
    env.advance(30 * 60 + 1);
    assert_eq!(env.session(&cart.id).shipments, [(id(P0), 1)]);
    let outcome = env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.expect("a fresh upgrade");
    assert_eq!(payment_required(outcome).1, usd("20.00"));
}

#[tokio::test]
async fn an_offline_new_refused_by_a_gateway_reads_back_that_no_cart_was_opened_so_far() {
    let env = start_with(bare(EmanageSettings::default())).await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    env.handle().inject("POST", &env.cart_path("/new"), Fault::Status(503), Some(1));
    let e = env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.unwrap_err();
    assert_eq!(e.effect(), WriteEffect::Unknown, "{e:?}");
    assert!(e.message().contains("no cart for the difference was opened so far"), "{e:?}");
    assert!(env.probe.upgrade_sessions(cart.id.as_str()).is_empty());
}

/// The `add` calls the simulator received so far.
fn adds(env: &Env) -> usize {
    env.journal().entries().iter().filter(|e| e.method == "POST" && e.path.ends_with("/add")).count()
}

#[tokio::test]
async fn without_the_cart_extras_an_upgrade_of_an_upgrade_sold_as_the_first_product_reports_last_minus_first()
{
    let env = start_with(bare(EmanageSettings::default())).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let step = env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.unwrap();
    assert!(matches!(step, UpgradeOutcome::Pending { amount, .. } if amount == usd("20.00")), "{step:?}");
    let chain = env.upgrade_sold_as(&cart.id, P0, P1, P2, 1).await.unwrap();
    // 140 − 100, as the vendor captures it (checklist 12), not 140 − 120.
    assert!(matches!(chain, UpgradeOutcome::Pending { amount, .. } if amount == usd("40.00")), "{chain:?}");
    env.probe.capture_upgrades_now();
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("40")]);
}

#[tokio::test]
async fn without_the_cart_extras_a_card_upgrade_not_saying_what_was_sold_is_refused_unsent_naming_first_product(
) {
    let env = start_with(bare(EmanageSettings::default())).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.unwrap();
    let sent = adds(&env);
    // The line reads 918446, like one sold so: only the shop can say it was sold as 918325.
    let e = env.upgrade(&cart.id, P1, P2, 1).await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Invalid { field, .. } if field == "first_product"), "{e:?}");
    assert_eq!(e.effect(), WriteEffect::NotSent, "{e:?}");
    assert!(e.message().contains("with_first_product"), "{e:?}");
    assert_eq!(adds(&env), sent, "nothing reached the vendor");
    env.probe.capture_upgrades_now();
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
}

#[tokio::test]
async fn with_the_cart_extras_the_vendor_shows_the_chain_start_and_first_product_is_not_needed() {
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let chain =
        other_process(&env).carts().unwrap().upgrade(&ctx(), &cart.id, &card_step(P1, P2)).await.unwrap();
    assert!(matches!(chain, UpgradeOutcome::Pending { amount, .. } if amount == usd("40.00")), "{chain:?}");
}

#[tokio::test]
async fn a_second_instance_after_a_restart_answers_upgrades_as_the_first_would() {
    let env = start_with(bare(EmanageSettings::default())).await;
    let restarted = other_process(&env);
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.unwrap();
    // The same unsaid request: refused the same way by both, nothing sent.
    let here = env.upgrade(&cart.id, P1, P2, 1).await.unwrap_err();
    let there = restarted.carts().unwrap().upgrade(&ctx(), &cart.id, &card_step(P1, P2)).await.unwrap_err();
    assert_eq!((here.kind(), here.effect()), (there.kind(), there.effect()));
    // Both read the cart alike, and the restarted one prices the next step as the first would.
    let read_here = env.carts().get(&ctx(), &cart.id).await.unwrap();
    let read_there = restarted.carts().unwrap().get(&ctx(), &cart.id).await.unwrap();
    assert_eq!(read_here, read_there);
    let request = card_step(P1, P2).with_first_product(P0);
    let chain = restarted.carts().unwrap().upgrade(&ctx(), &cart.id, &request).await.unwrap();
    assert!(matches!(chain, UpgradeOutcome::Pending { amount, .. } if amount == usd("40.00")), "{chain:?}");
    env.probe.capture_upgrades_now();
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("40")]);
}

#[tokio::test]
async fn a_second_instance_answers_a_lost_offline_reply_as_the_first_would_without_the_cart_extras() {
    let env = start_with(bare(EmanageSettings::default())).await;
    let restarted = other_process(&env);
    let cart = env.paid_offline(&[(P0, 1)]).await;
    lose_next_new_reply(&env);
    let here = env.carts().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.unwrap_err();
    let there = restarted.carts().unwrap().upgrade(&ctx(), &cart.id, &offline(P0, P1)).await.unwrap_err();
    assert_eq!((there.kind(), there.effect()), (&ErrorKind::Conflict, WriteEffect::Unknown), "{there:?}");
    assert_eq!(here.effect(), there.effect());
    assert!(here.message().contains("may exist") && there.message().contains("may exist"));
    assert_eq!(env.probe.upgrade_sessions(cart.id.as_str()).len(), 1, "never a second cart");
}

#[tokio::test]
async fn without_the_cart_extras_an_upgraded_discounted_unit_reports_the_vendors_amounts() {
    // Checklist 23: 918501 × 2 at 50 % off, one unit upgraded to 918446 (120): the tier stays
    // and the vendor's amounts hold (20 now, 120 in all). Which unit carries which discount
    // the cart GET does not show (docs/vendors/emanage.md, the `upgradeStatus` row).
    let env = start_with(bare(immediate())).await;
    let cart = env.paid_cart(&[("918501", 2)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade_sold_as(&cart.id, "918501", "918501", P1, 1).await.unwrap();
    assert_eq!(outcome_amount(&outcome), usd("20.00"));
    let read = env.carts().get(&ctx(), &cart.id).await.unwrap();
    for after in [outcome.cart(), &read] {
        assert_eq!(after.total, usd("120.00"), "{after:#?}");
    }
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
}

fn card_step(from: &str, to: &str) -> UpgradeRequest {
    UpgradeRequest::new(from, to, Decimal::ONE)
}

fn outcome_amount(o: &UpgradeOutcome) -> loyalty_core::Money {
    match o {
        UpgradeOutcome::Charged { amount, .. } | UpgradeOutcome::Pending { amount, .. } => *amount,
        other => panic!("{other:?}"),
    }
}
