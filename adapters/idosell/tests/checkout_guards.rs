//! A checkout on IdoSell never charges for a sale the wholesaler cannot take: a guest (no
//! recipient address) is refused at prepare, and a configuration without a courier or invoice
//! data declares no sends.
#![cfg(feature = "simulator")]

mod common;

use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutRequest, SimulatedPayment};
use loyalty_core::{
    Basket, Consents, Currency, ErrorKind, Line, MemberId, MemberLookup, Money, Provider, RegisterMember,
    WriteEffect,
};
use loyalty_idosell::simulated::SimulatedClock;
use loyalty_sim::idosell::demo;
use rust_decimal::Decimal;

use common::*;

fn mug() -> Basket {
    Basket::new(Currency::PLN).with_line(Line::new(
        "l1",
        demo::MUG_INTERNAL,
        Decimal::ONE,
        Money::new(2499, Currency::PLN),
    ))
}

/// Prepares `request` on a fresh checkout and returns the refusal, checking nothing was held,
/// charged or placed.
async fn refused(env: &Env, request: CheckoutRequest) -> loyalty_core::Error {
    let pay = Arc::new(SimulatedPayment::new());
    let co = Checkout::new(Arc::new(env.adapter()), pay.clone(), Arc::new(SimulatedClock(env.clock.clone())));
    let err = co.prepare(&ctx(), &request).await.expect_err("a sale IdoSell cannot take is refused");
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "identify"), "{err:?}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert_eq!(pay.captures(), 0);
    assert_eq!(env.count("G3") + env.count("G4"), 0, "nothing placed");
    err
}

#[tokio::test]
async fn a_guest_is_refused_at_prepare_before_any_charge() {
    let env = start().await;
    assert!(env.adapter().capabilities().send_needs_member);
    let err = refused(&env, CheckoutRequest::new("G-1", mug())).await;
    assert!(err.to_string().contains("only for a member"), "{err}");
}

#[tokio::test]
async fn an_unknown_member_id_is_refused_and_named_not_taken_for_a_guest() {
    let env = start().await;
    let request =
        CheckoutRequest::new("G-2", mug()).identify(MemberLookup::ProviderId(MemberId::new("999999")));
    let err = refused(&env, request).await;
    assert!(err.to_string().contains("no member found by provider_id"), "{err}");
}

#[tokio::test]
async fn a_sign_up_is_refused_saying_idosell_takes_none() {
    let env = start().await;
    let consents = Consents { membership: true, order_history: true, ..Default::default() };
    let sign_up =
        RegisterMember::new().with_email("guest@example.com").with_name("G", "Uest").with_consents(consents);
    let err = refused(&env, CheckoutRequest::new("G-3", mug()).sign_up(sign_up)).await;
    assert!(err.to_string().contains("does not take sign-ups"), "{err}");
    assert!(!err.to_string().contains("consents"), "both consents were given: {err}");
}

#[tokio::test]
async fn a_member_still_buys() {
    let env = start().await;
    let pay = Arc::new(SimulatedPayment::new());
    let co = Checkout::new(Arc::new(env.adapter()), pay.clone(), Arc::new(SimulatedClock(env.clock.clone())));
    let request = CheckoutRequest::new("G-4", mug())
        .identify(MemberLookup::ProviderId(MemberId::new(env.sim.member_id.clone())));
    let out = co.complete(&ctx(), &request).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, loyalty_core::checkout::Delivery::Sent(_)), "{:?}", out.delivery);
    assert_eq!(pay.captures(), 1);
}

#[tokio::test]
async fn without_a_courier_or_invoice_data_no_send_is_declared() {
    let env = start().await;
    let clock = || Arc::new(SimulatedClock(env.clock.clone()));
    assert!(env.adapter().capabilities().send_transaction);
    let mut no_courier = env.config();
    no_courier.default_courier_id = None;
    assert!(!env.other_adapter(no_courier, clock()).capabilities().send_transaction);
    let mut no_billing = env.config();
    no_billing.billing = None;
    assert!(!env.other_adapter(no_billing, clock()).capabilities().send_transaction);
}
