//! A write eManage took whose cart read back then fails (the GET throttled, 429, after the
//! transport's own retries). A 429 is refused before acting, but the operation was not: the
//! error must say the write took effect (`Unknown`), never `RejectedBeforeActing` or
//! `NotSent`, or a caller repeats it: an upgrade charged twice, units added twice (§10: no
//! idempotency key, nothing charging is sent again blindly).
//!
//! Faults are taken in the order they were injected: a zero delay on the first cart GET lets
//! the read an operation makes before writing through, and every cart GET after it is
//! throttled.

mod common;

use std::time::Duration;

use common::*;
use loyalty_core::{CartId, Currency, Error, ErrorKind, LineId, NewCart, ProductId, WriteEffect};
use loyalty_sim::emanage::demo;
use loyalty_sim::Fault;
use rust_decimal::Decimal;

/// Lets the next cart GET through (when `skip_one`) and throttles every one after it.
fn throttle_cart_reads(env: &Env, skip_one: bool) {
    let cart = env.cart_path("");
    if skip_one {
        env.handle().inject_path("GET", &cart, Fault::Latency(Duration::ZERO), Some(1));
    }
    env.handle().inject_path("GET", &cart, Fault::TooManyRequests { retry_after_secs: 0 }, None);
}

/// The error of a write that took effect: effect unknown, nothing that invites a repeat.
fn assert_took_effect(err: &Error) {
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert_eq!(*err.kind(), ErrorKind::Unavailable, "never RateLimited, which invites a retry: {err}");
    assert!(!err.is_temporary(), "{err}");
    assert!(err.message().contains("did not read back"), "{err}");
}

#[tokio::test]
async fn an_upgrade_taken_whose_read_back_is_throttled_says_it_took_effect_and_is_charged_once() {
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    throttle_cart_reads(&env, true);
    let err = env.upgrade(&cart.id, P0, P1, 1).await.unwrap_err();
    env.handle().clear_faults();
    assert_took_effect(&err);
    assert!(err.message().contains("20.00"), "the amount the vendor takes: {err}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 1, "the add was sent once");
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")], "and charged once");
    // The cart read later shows the upgrade taken: one unit of each.
    let after = env.carts().get(&ctx(), &cart.id).await.expect("cart reads");
    let units = |p: &str| -> Decimal {
        after.lines.iter().filter(|l| l.product_id.as_str() == p).map(|l| l.quantity).sum()
    };
    assert_eq!((units(P0), units(P1)), (Decimal::ONE, Decimal::ONE));
}

#[tokio::test]
async fn a_line_added_whose_read_back_is_throttled_says_it_took_effect() {
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    throttle_cart_reads(&env, true);
    let product = ProductId::new("918504");
    let err = env.carts().add_line(&ctx(), &cart.id, &product, Decimal::ONE).await.unwrap_err();
    env.handle().clear_faults();
    assert_took_effect(&err);
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 1);
    let after = env.carts().get(&ctx(), &cart.id).await.expect("cart reads");
    assert_eq!(after.lines.iter().find(|l| l.product_id == product).map(|l| l.quantity), Some(Decimal::ONE));
}

#[tokio::test]
async fn a_line_changed_or_removed_whose_read_back_is_throttled_says_it_took_effect() {
    let env = start().await;
    let cart = env.cart(&[(P0, 1), ("918504", 1)]).await;
    let line = LineId::new(P0);
    throttle_cart_reads(&env, false);
    let err = env.carts().set_quantity(&ctx(), &cart.id, &line, Decimal::from(3)).await.unwrap_err();
    assert_took_effect(&err);
    let err = env.carts().remove_line(&ctx(), &cart.id, &LineId::new("918504")).await.unwrap_err();
    assert_took_effect(&err);
    let err = env.carts().set_customer(&ctx(), &cart.id, &customer()).await.unwrap_err();
    assert_took_effect(&err);
    env.handle().clear_faults();
    let after = env.carts().get(&ctx(), &cart.id).await.expect("cart reads");
    assert_eq!(after.lines.len(), 1);
    assert_eq!(after.lines[0].quantity, Decimal::from(3));
}

#[tokio::test]
async fn a_cart_opened_whose_read_back_is_throttled_names_the_cart_opened() {
    let env = start().await;
    throttle_cart_reads(&env, false);
    let request = NewCart::new(Currency::USD, P0, Decimal::ONE).test(true);
    let err = env.carts().create(&ctx(), &request).await.unwrap_err();
    env.handle().clear_faults();
    assert_took_effect(&err);
    assert_eq!(env.journal().count("POST", &env.cart_path("/new")), 1);
    // The session exists, and the error names it: the shop can read it instead of opening another.
    let ids = env.probe.session_ids();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(err.message().contains(ids[0].as_str()), "{err}");
    env.carts().get(&ctx(), &CartId::new(ids[0].clone())).await.expect("the cart opened reads");
}
