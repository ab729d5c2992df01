//! A member id of `.` or `..` (from `GET /v1/members/%2E%2E`) never walks up the vendor path:
//! the call is refused before sending, so the store's coupon catalogue is never read as one
//! member's offers.
#![cfg(feature = "simulator")]

mod common;

use common::*;
use loyalty_core::{Context, ErrorKind, MemberId, MemberUpdate, Provider, WriteEffect};

fn refused_unsent(what: &str, err: &loyalty_core::Error) {
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "path"), "{what}: {err:?}");
    assert_eq!(err.effect(), WriteEffect::NotSent, "{what}");
}

#[tokio::test]
async fn a_dot_member_id_is_refused_for_offers_get_and_update_and_nothing_is_sent() {
    let env = start().await;
    let ctx = Context::new();
    let members = env.adapter.members().unwrap();
    let offers = env.adapter.offers().unwrap();
    for id in ["..", "."] {
        let member = MemberId::new(id);
        match offers.list(&ctx, Some(&member), None).await {
            Ok(list) => panic!("member {id:?} got {} offers (the store's catalogue)", list.len()),
            Err(e) => refused_unsent(&format!("offers {id}"), &e),
        }
        refused_unsent(&format!("get {id}"), &members.get(&ctx, &member).await.unwrap_err());
        refused_unsent(
            &format!("update {id}"),
            &members.update(&ctx, &member, &MemberUpdate::default()).await.unwrap_err(),
        );
    }
    let sent: Vec<String> = env
        .journal()
        .entries()
        .iter()
        .filter(|e| !e.path.contains("token"))
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    assert!(sent.is_empty(), "sent: {sent:#?}");
}
