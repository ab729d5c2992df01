//! A checkout of a cart without the customer's details: eManage's clients say `customers/new`
//! comes first (§6.4 row 6) and the vendor refuses the checkout as a state conflict (409, §10).
//! `Carts::checkout` calls missing customer details `Invalid`, so the adapter answers
//! `Invalid` naming `customer` where the cart reads back open, and nothing is charged.

mod common;

use common::*;
use loyalty_core::{CartCheckout, Currency, ErrorKind, NewCart, ProductId, WriteEffect};
use loyalty_sim::emanage::{demo, EmanageSettings};
use rust_decimal::Decimal;

async fn open_cart_without_customer(env: &Env) -> loyalty_core::Cart {
    env.carts()
        .create(&ctx(), &NewCart::new(Currency::USD, P0, Decimal::ONE).test(true))
        .await
        .expect("cart opens")
}

#[tokio::test]
async fn a_checkout_without_customer_details_is_invalid_naming_the_customer() {
    let env = start().await;
    let cart = open_cart_without_customer(&env).await;
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "customer"), "{err}");
    assert_eq!(err.effect(), WriteEffect::RejectedBeforeActing, "the vendor refused before acting");
    assert!(!err.is_temporary(), "asking again without the details cannot help");
    assert_eq!(env.session(&cart.id).captured(), dec("0"));
    // With the details the same cart checks out.
    env.carts().set_customer(&ctx(), &cart.id, &customer()).await.expect("customer set");
    let answer = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap();
    assert!(matches!(answer, CartCheckout::Paid(_)), "{answer:?}");
}

#[tokio::test]
async fn without_a_session_status_the_refusal_stays_a_conflict_naming_both_causes() {
    // The contract's cart GET shows no status: a paid cart reads open there too, so a 409 on a
    // cart read open is no proof that the details are missing.
    let mut settings = EmanageSettings::default();
    settings.cart_extras = false;
    let env = start_with(settings).await;
    let cart = open_cart_without_customer(&env).await;
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.message().contains("set_customer"), "{err}");
    assert_eq!(env.session(&cart.id).captured(), dec("0"));
}

#[tokio::test]
async fn an_empty_cart_is_invalid_before_any_checkout_is_sent() {
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let line = loyalty_core::LineId::new(P0);
    let empty = env.carts().remove_line(&ctx(), &cart.id, &line).await.expect("line removed");
    assert!(empty.lines.is_empty());
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "lines"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 0);
    // The cart stays open for lines.
    let again = env.carts().add_line(&ctx(), &cart.id, &ProductId::new(P0), Decimal::ONE).await;
    assert!(again.is_ok(), "{again:?}");
}
