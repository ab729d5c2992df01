//! A member update keeps the rules a registration holds for the e-mail: it identifies one
//! member (ignoring case), so taking another member's is `Conflict`; and it is changed, never
//! blanked (leaving the field out keeps it).

use loyalty_core::{Checked, Consents, Context, ErrorKind, MemberUpdate, Provider, RegisterMember};
use loyalty_memory::MemoryProvider;

fn registration(email: &str) -> RegisterMember {
    RegisterMember::new().with_email(email.to_string()).with_consents(Consents {
        membership: true,
        order_history: true,
        marketing_sms: false,
        marketing_email: false,
    })
}

/// Two members with one e-mail would make a lookup by it answer either of them (a login
/// reaching the other's profile); the refused update changes nothing.
#[tokio::test]
async fn an_update_to_another_members_email_is_a_conflict_ignoring_case() {
    let provider = Checked::new(MemoryProvider::demo());
    let members = provider.members().expect("members");
    let ctx = Context::new();
    members.register(&ctx, &registration("holder@example.com")).await.expect("register");
    let member = members.register(&ctx, &registration("other@example.com")).await.expect("register");

    for taken in ["holder@example.com", "Holder@EXAMPLE.com"] {
        let err = members.update(&ctx, &member.id, &MemberUpdate::new().with_email(taken)).await.unwrap_err();
        assert_eq!(*err.kind(), ErrorKind::Conflict, "{taken}: {err:?}");
    }
    let read = members.get(&ctx, &member.id).await.expect("get");
    assert_eq!(read.email.as_deref(), Some("other@example.com"));

    // The member's own e-mail, in another case, is no clash: it is still theirs.
    let kept =
        members.update(&ctx, &member.id, &MemberUpdate::new().with_email("OTHER@example.com")).await.unwrap();
    assert_eq!(kept.email.as_deref(), Some("OTHER@example.com"));
    // A free one is taken as given.
    let moved =
        members.update(&ctx, &member.id, &MemberUpdate::new().with_email("new@example.com")).await.unwrap();
    assert_eq!(moved.email.as_deref(), Some("new@example.com"));
}

/// A blank e-mail is refused naming `email`: stored, it would stand for an address the
/// member does not have.
#[tokio::test]
async fn a_blank_email_in_an_update_is_invalid_naming_the_field() {
    let provider = Checked::new(MemoryProvider::demo());
    let members = provider.members().expect("members");
    let ctx = Context::new();
    let member = members.register(&ctx, &registration("kept@example.com")).await.expect("register");
    for blank in ["", "  "] {
        let err = members.update(&ctx, &member.id, &MemberUpdate::new().with_email(blank)).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "email"),
            "{blank:?}: {err:?}"
        );
    }
    let read = members.get(&ctx, &member.id).await.expect("get");
    assert_eq!(read.email.as_deref(), Some("kept@example.com"));
}

/// A registration holds the same rule: a blank e-mail is refused naming `email`, not stored
/// (it would clash with every later blank one).
#[tokio::test]
async fn a_blank_email_in_a_registration_is_invalid_naming_the_field() {
    let provider = Checked::new(MemoryProvider::demo());
    let members = provider.members().expect("members");
    for blank in ["", " "] {
        let err = members.register(&Context::new(), &registration(blank)).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "email"),
            "{blank:?}: {err:?}"
        );
    }
}
