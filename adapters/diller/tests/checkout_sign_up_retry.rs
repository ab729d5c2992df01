//! A guest's sign-up whose register reply was lost (Diller created the member, the answer never
//! arrived) is still this order's sign-up when the order is prepared again: the member the
//! sign-up's own phone finds is reported as signed up here, not as an existing member
//! ("guest is already member ..."). The record marks the register call as sent before making it.

mod common;

use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutRequest, SimulatedPayment};
use loyalty_core::{Basket, Consents, Context, Currency, Line, Phone, RegisterMember, TransactionId};
use loyalty_sim::Fault;
use rust_decimal::Decimal;

const MEMBERS_PATH: &str = "/api/v2.0/stores/demo-client/members";

fn guest_order(order: &str, phone: &str, email: &str) -> CheckoutRequest {
    let consents =
        Consents { membership: true, order_history: true, marketing_sms: false, marketing_email: false };
    let sign_up = RegisterMember::new()
        .with_phone(Phone::new("+47", phone))
        .with_email(email)
        .with_name("Gjest", "Kunde")
        .with_consents(consents);
    let basket =
        Basket::new(Currency::NOK).with_line(Line::new("l1", "BOOK-1", Decimal::ONE, common::nok("349.00")));
    CheckoutRequest::new(order, basket).sign_up(sign_up)
}

#[tokio::test]
async fn a_retried_sign_up_after_a_lost_register_reply_is_still_this_orders_sign_up() {
    let env = common::start().await;
    let payment = Arc::new(SimulatedPayment::new());
    let checkout =
        Checkout::new(Arc::new(&env.adapter), payment.clone(), Arc::new(common::Bridge(env.clock.clone())));
    let req = guest_order("o-guest", "90000077", "guest77@example.com");
    // Diller registers the member; the reply is garbled on the way back.
    env.handle().inject_path("POST", MEMBERS_PATH, Fault::MalformedBody, Some(1));
    checkout.prepare(&Context::new(), &req).await.unwrap_err();
    let rec = checkout.status(&TransactionId::new("o-guest")).await.unwrap().unwrap();
    assert!(rec.sign_up_sent, "the register call is marked before it goes: {rec:?}");

    let prepared = checkout.prepare(&Context::new(), &req).await.unwrap();
    assert!(prepared.member.is_some());
    assert!(prepared.signed_up, "this order registered the guest; notes: {:?}", prepared.notes);
    assert!(!prepared.notes.iter().any(|n| n.contains("already member")), "{:?}", prepared.notes);
    let out = checkout.commit(&Context::new(), &prepared).await.unwrap().into_outcome().unwrap();
    assert!(out.signed_up, "the sale reports the sign-up too");
}

/// A register Diller refuses (it answered: no member made) leaves no mark, so a member found
/// later is not taken for this order's sign-up.
#[tokio::test]
async fn a_refused_register_is_not_taken_for_a_sign_up_made() {
    let env = common::start().await;
    let payment = Arc::new(SimulatedPayment::new());
    let checkout =
        Checkout::new(Arc::new(&env.adapter), payment.clone(), Arc::new(common::Bridge(env.clock.clone())));
    let req = guest_order("o-refused", "90000078", "guest78@example.com");
    env.handle().inject_path("POST", MEMBERS_PATH, Fault::Status(400), Some(1));
    checkout.prepare(&Context::new(), &req).await.unwrap_err();
    let rec = checkout.status(&TransactionId::new("o-refused")).await.unwrap().unwrap();
    assert!(!rec.sign_up_sent, "Diller made no member: {rec:?}");
}
