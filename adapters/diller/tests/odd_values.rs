//! Values a real Diller store can hold that the happy path never meets: an identifier shared
//! by two members, a date segment answered in free text, a line too large to total.
#![cfg(feature = "simulator")]

mod common;

use std::time::Duration;

use common::*;
use loyalty_core::{
    Consents, Context, Currency, ErrorKind, MemberLookup, Money, Phone, Provider, RegisterMember,
    SegmentValue, TransactionLine,
};
use loyalty_sim::diller::{demo, DillerSettings};
use rust_decimal::Decimal;

fn ctx() -> Context {
    Context::default()
}

#[tokio::test]
async fn an_identifier_two_members_share_is_ambiguous_not_the_first_match() {
    let mut settings = DillerSettings::default();
    settings.unique_identifiers = false;
    let env = start_with(settings, Duration::from_secs(5)).await;
    let members = env.adapter.members().unwrap();
    let mut second = RegisterMember::new();
    second.phone = Some(Phone::new("+47", "49900123"));
    second.identifiers = vec![demo::MEMBER_IDENTIFIER.into()];
    second.consents = Consents { membership: true, order_history: true, ..Consents::default() };
    members.register(&ctx(), &second).await.unwrap();
    let err =
        members.find(&ctx(), &MemberLookup::ExternalId(demo::MEMBER_IDENTIFIER.into())).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Ambiguous, "{err}");
    // The phone still tells them apart.
    let kari = members.find(&ctx(), &MemberLookup::Phone(Phone::new("+47", "41234567"))).await.unwrap();
    assert_eq!(kari.map(|m| m.id.as_str().to_string()).as_deref(), Some(demo::MEMBER_ID));
}

#[tokio::test]
async fn a_date_segment_answered_in_free_text_keeps_the_member_readable() {
    let env = start().await;
    let req = loyalty_diller::wire::UpdateMemberRequest {
        first_name: Some("Kari".into()),
        segments: vec![loyalty_diller::wire::SegmentValue {
            segment_id: 2,
            value: Some("17.05.2024".into()),
            selected_options: None,
        }],
        ..Default::default()
    };
    env.adapter.client().update_member(&ctx(), "members.update", demo::MEMBER_ID, &req).await.unwrap();
    let kari = env
        .adapter
        .members()
        .unwrap()
        .find(&ctx(), &MemberLookup::Phone(Phone::new("+47", "41234567")))
        .await
        .unwrap()
        .expect("found");
    let answer = kari.segments.iter().find(|a| a.segment_id.as_str() == "2").expect("the answer is kept");
    assert_eq!(answer.value, SegmentValue::Text("17.05.2024".into()));
}

#[tokio::test]
async fn a_line_too_large_to_total_is_refused_before_sending_not_a_panic() {
    let env = start().await;
    let mut tx = transaction(&env, "Order-OV", &[("BOOK-1", "1", "349.00")], &[]);
    tx.lines[0] = TransactionLine::new(
        "l0",
        "BOOK-1",
        Decimal::MAX,
        Money::new(1_000, Currency::NOK),
        Money::new(1_000, Currency::NOK),
    );
    let err = env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "lines[0].quantity"), "{err}");
    assert_eq!(err.effect(), loyalty_core::WriteEffect::NotSent);
    assert!(env.journal().entries().iter().all(|e| !e.path.ends_with("/transactions")), "nothing sent");
}
