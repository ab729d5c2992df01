//! What a shop is charged and shown around a paid cart: shipping stays paid through an
//! upgrade, an add whose reply was lost is not added twice by the retry, and a test cart is
//! never checked out live.
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use loyalty_core::{ErrorKind, NewCart, ProductId, UpgradeOutcome};
use loyalty_emanage::{CapturePolicy, EmanageAdapter};
use loyalty_sim::emanage::{demo, EmanageSim};
use loyalty_sim::SimClock;
use rust_decimal::Decimal;

/// The adapter on a simulator charging upgrades at once, its lines sent with the express
/// shipping (9.95 a line).
async fn express() -> Env {
    let clock = SimClock::default();
    let (server, probe) = EmanageSim::start_with_probe(immediate(), clock.clone()).await.unwrap();
    let base = config(server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    let cfg = loyalty_emanage::EmanageConfig::builder()
        .with_base_url(base.base_url.to_string())
        .with_cid(loyalty_http::Secret::new(demo::CID))
        .with_web_key(demo::WEB_KEY)
        .with_currency("USD")
        .with_shipping_method_id(demo::SHIPPING_METHOD_EXPRESS)
        .build()
        .unwrap();
    let adapter = EmanageAdapter::with_clock(cfg, Arc::new(Bridge(clock.clone()))).unwrap();
    Env { adapter, server, probe, clock }
}

#[tokio::test]
async fn an_upgrade_keeps_the_shipping_paid_at_checkout_in_the_cart_total() {
    let env = express().await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    assert_eq!((cart.shipping, cart.total), (usd("9.95"), usd("109.95")));
    let UpgradeOutcome::Charged { cart: after, amount } = env.upgrade(&cart.id, P0, P1, 1).await.unwrap()
    else {
        panic!("charged")
    };
    // 109.95 paid, then the 20.00 difference: the shipping is not dropped.
    assert_eq!(amount, usd("20"));
    assert_eq!((after.shipping, after.total), (usd("9.95"), usd("129.95")));
}

#[tokio::test]
async fn a_partial_upgrade_keeps_the_line_s_shipping_once_in_the_cart_total() {
    // §7.2 rule 2: upgrading one of two units splits the line. The shipping was paid once for
    // the line, and the cart's lines report it once (each line's `shippingPrice`, summed):
    // 2 × 100 + 9.95 paid, then the 20.00 difference, 229.95 in all.
    let env = express().await;
    let cart = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    assert_eq!((cart.shipping, cart.total), (usd("9.95"), usd("209.95")));
    let UpgradeOutcome::Charged { cart: after, amount } = env.upgrade(&cart.id, P0, P1, 1).await.unwrap()
    else {
        panic!("charged")
    };
    assert_eq!(amount, usd("20"));
    assert_eq!((after.shipping, after.total), (usd("9.95"), usd("229.95")));
    assert_eq!(env.session(&cart.id).captured(), dec("229.95"), "the cart shows what was charged");
}

#[tokio::test]
async fn an_add_whose_reply_was_unreadable_but_took_effect_is_not_added_twice() {
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    env.handle().inject("POST", &env.cart_path("/add"), loyalty_sim::Fault::MalformedBody, Some(1));
    // eManage added the line; the reply was garbled. The cart read back says it is there.
    let read = env.carts().add_line(&ctx(), &cart.id, &ProductId::new(P1), Decimal::ONE).await.unwrap();
    assert_eq!(read.lines.iter().filter(|l| l.product_id.as_str() == P1).count(), 1);
    assert_eq!(env.session(&cart.id).lines, vec![(id(P0), 1), (id(P1), 1)]);
}

#[tokio::test]
async fn a_test_cart_the_vendor_does_not_show_as_one_is_refused_unless_test_mode_is_set() {
    let mut settings = loyalty_sim::emanage::EmanageSettings::default();
    settings.cart_extras = false;
    let clock = SimClock::default();
    let (server, probe) = EmanageSim::start_with_probe(settings, clock.clone()).await.unwrap();
    // Test mode off: only the cart request asks for a test cart.
    let config = config(server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    assert!(!config.test_mode);
    let adapter = EmanageAdapter::with_clock(config, Arc::new(Bridge(clock.clone()))).unwrap();
    let env = Env { adapter, server, probe, clock };
    let err = env
        .carts()
        .create(&ctx(), &NewCart::new(loyalty_core::Currency::USD, P0, Decimal::ONE).test(true))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("test_mode"), "{err}");
    assert!(env.journal().entries().iter().all(|e| !e.path.ends_with("/checkout")));
}
