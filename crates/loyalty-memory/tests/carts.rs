//! The memory provider's carts, beyond the suite's scenarios: what the clock and the switches
//! do.

use std::time::Duration;

use loyalty_core::{
    CartCheckout, CartStatus, Carts, Context, Currency, LineId, NewCart, Provider, UpgradeOutcome,
    UpgradeRequest,
};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

fn carts(p: &MemoryProvider) -> &dyn Carts {
    p.carts().expect("memory has carts")
}

async fn paid(p: &MemoryProvider, payment: loyalty_core::CartPayment) -> loyalty_core::Cart {
    let c = carts(p);
    let cart = c
        .create(&Context::new(), &NewCart::new(Currency::NOK, demo::PRODUCT_SOCKS, Decimal::ONE))
        .await
        .unwrap();
    c.set_customer(&Context::new(), &cart.id, &demo::cart_customer()).await.unwrap();
    c.checkout(&Context::new(), &cart.id, &payment).await.unwrap();
    cart
}

#[tokio::test]
async fn a_redirect_payment_left_waiting_past_the_timeout_reopens_the_cart() {
    let (p, clock) = MemoryProvider::demo_manual();
    let cart = paid(&p, demo::redirect_payment()).await;
    assert_eq!(carts(&p).get(&Context::new(), &cart.id).await.unwrap().status, CartStatus::AwaitingPayment);
    clock.advance(Duration::from_secs(30 * 60 + 1));
    assert_eq!(carts(&p).get(&Context::new(), &cart.id).await.unwrap().status, CartStatus::Open);
    assert!(!p.complete_cart_payment(&cart.id), "nothing waits any more");
}

#[tokio::test]
async fn an_upgrade_cart_never_checked_out_is_discarded_after_the_timeout() {
    let (p, clock) = MemoryProvider::demo_manual();
    let cart = paid(&p, demo::redirect_payment()).await;
    assert!(p.complete_cart_payment(&cart.id));
    let line = carts(&p).get(&Context::new(), &cart.id).await.unwrap().lines[0].line_id.clone();
    let req = UpgradeRequest::new(line, demo::PRODUCT_SOCKS_PREMIUM, Decimal::ONE).paid_offline(true);
    let UpgradeOutcome::PaymentRequired { cart: child, .. } =
        carts(&p).upgrade(&Context::new(), &cart.id, &req).await.unwrap()
    else {
        panic!("an upgrade cart")
    };
    clock.advance(Duration::from_secs(30 * 60 + 1));
    assert_eq!(carts(&p).get(&Context::new(), &child.id).await.unwrap().status, CartStatus::Discarded);
    let parent = carts(&p).get(&Context::new(), &cart.id).await.unwrap();
    assert_eq!(parent.lines[0].product_id.as_str(), demo::PRODUCT_SOCKS);
    assert!(parent.lines[0].upgrade.is_none());
}

#[tokio::test]
async fn a_failing_upgrade_charge_is_tried_three_times_then_discarded() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let cart = paid(&p, demo::card_approved()).await;
    p.fail_next_upgrade_charge();
    let line: LineId = carts(&p).get(&Context::new(), &cart.id).await.unwrap().lines[0].line_id.clone();
    let req = UpgradeRequest::new(line, demo::PRODUCT_SOCKS_PREMIUM, Decimal::ONE);
    assert!(matches!(
        carts(&p).upgrade(&Context::new(), &cart.id, &req).await.unwrap(),
        UpgradeOutcome::Discarded { .. }
    ));
    assert_eq!(p.upgrade_charge_attempts(), 3);
}

#[tokio::test]
async fn a_card_on_file_pays_a_later_cart() {
    let (p, _clock) = MemoryProvider::demo_manual();
    let c = carts(&p);
    let first = c
        .create(&Context::new(), &NewCart::new(Currency::NOK, demo::PRODUCT_MUG, Decimal::ONE))
        .await
        .unwrap();
    c.set_customer(&Context::new(), &first.id, &demo::cart_customer()).await.unwrap();
    let CartCheckout::Paid(order) =
        c.checkout(&Context::new(), &first.id, &demo::card_approved()).await.unwrap()
    else {
        panic!("paid")
    };
    let card = order.card_on_file.expect("a card on file");
    let second = c
        .create(&Context::new(), &NewCart::new(Currency::NOK, demo::PRODUCT_MUG, Decimal::ONE))
        .await
        .unwrap();
    c.set_customer(&Context::new(), &second.id, &demo::cart_customer()).await.unwrap();
    let on_file = loyalty_core::CartPayment::CardOnFile { card_id: card };
    assert!(matches!(
        c.checkout(&Context::new(), &second.id, &on_file).await.unwrap(),
        CartCheckout::Paid(_)
    ));
}
