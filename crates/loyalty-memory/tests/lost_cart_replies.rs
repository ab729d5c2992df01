//! The reference provider's "lost reply" fault (`MemoryProvider::lose_reply_next`, the suite's
//! `Environment::with_lost_replies`) on carts: the call takes effect, then fails with effect
//! `Unknown`, as a vendor whose answer is cut off does. Without it the oracle never exercises
//! "a charge is never sent twice by a retry" (core `Carts::checkout`, `Carts::upgrade`) and an
//! armed fault would linger for a later call.

use loyalty_core::{
    CartCheckout, CartStatus, Carts, Context, Currency, NewCart, Provider, UpgradeRequest, WriteEffect,
};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

fn carts(p: &MemoryProvider) -> &dyn Carts {
    p.carts().expect("memory has carts")
}

async fn open_cart(p: &MemoryProvider) -> loyalty_core::Cart {
    let c = carts(p);
    let cart = c
        .create(&Context::new(), &NewCart::new(Currency::NOK, demo::PRODUCT_SOCKS, Decimal::ONE))
        .await
        .unwrap();
    c.set_customer(&Context::new(), &cart.id, &demo::cart_customer()).await.unwrap();
    cart
}

#[tokio::test]
async fn a_lost_checkout_reply_is_unknown_and_the_retry_answers_the_one_order() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let c = carts(&p);
    let cart = open_cart(&p).await;
    p.lose_reply_next("carts.checkout");
    let e = c.checkout(&Context::new(), &cart.id, &demo::card_approved()).await.expect_err("reply lost");
    assert_eq!(e.effect(), WriteEffect::Unknown);
    // The checkout took effect: the cart reads paid, and checking out again answers its order.
    assert_eq!(c.get(&Context::new(), &cart.id).await.unwrap().status, CartStatus::Paid);
    let CartCheckout::Paid(order) =
        c.checkout(&Context::new(), &cart.id, &demo::card_approved()).await.unwrap()
    else {
        panic!("paid")
    };
    assert_eq!(order.charged, cart.total);
}

#[tokio::test]
async fn a_lost_upgrade_reply_is_unknown_after_the_upgrade_took_effect() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let c = carts(&p);
    let cart = open_cart(&p).await;
    c.checkout(&Context::new(), &cart.id, &demo::card_approved()).await.unwrap();
    let line = cart.lines[0].line_id.clone();
    p.lose_reply_next("carts.upgrade");
    let req = UpgradeRequest::new(line, demo::PRODUCT_SOCKS_PREMIUM, Decimal::ONE);
    let r = c.upgrade(&Context::new(), &cart.id, &req).await;
    assert!(r.as_ref().is_err_and(|e| e.effect() == WriteEffect::Unknown), "answered {r:?}");
    let after = c.get(&Context::new(), &cart.id).await.unwrap();
    assert!(
        after.lines.iter().any(|l| l.product_id.as_str() == demo::PRODUCT_SOCKS_PREMIUM),
        "the upgrade took effect: {after:?}"
    );
}

#[tokio::test]
async fn lost_create_and_add_line_replies_are_unknown_and_the_fault_is_spent() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let c = carts(&p);
    p.lose_reply_next("carts.create");
    let request = NewCart::new(Currency::NOK, demo::PRODUCT_SOCKS, Decimal::ONE);
    let e = c.create(&Context::new(), &request).await.expect_err("reply lost");
    assert_eq!(e.effect(), WriteEffect::Unknown);
    let cart = c.create(&Context::new(), &request).await.expect("the fault was used up");
    p.lose_reply_next("carts.add_line");
    let add = c.add_line(&Context::new(), &cart.id, &demo::PRODUCT_SOCKS_PREMIUM.into(), Decimal::ONE).await;
    assert!(add.is_err_and(|e| e.effect() == WriteEffect::Unknown));
    assert_eq!(c.get(&Context::new(), &cart.id).await.unwrap().lines.len(), 2, "the line was added");
}
