//! Contact details built in code (not read from JSON) are checked as JSON input is: a control
//! character is refused naming the field before the provider is asked.

use loyalty_core::{Checked, Context, ErrorKind, MemberUpdate, Provider, RegisterMember, WriteEffect};
use loyalty_memory::MemoryProvider;

#[tokio::test]
async fn a_registration_built_in_code_with_a_control_character_is_refused_naming_the_field() {
    let provider = Checked::new(MemoryProvider::demo());
    let members = provider.members().expect("members");
    let ctx = Context::new();
    let request = RegisterMember::new().with_email("a\u{0}@x.no");
    let err = members.register(&ctx, &request).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "email"), "{err:?}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    // Nothing reached the provider: the e-mail is still free to register.
    let member = members.register(&ctx, &RegisterMember::new().with_email("a@x.no")).await.expect("register");
    let update = MemberUpdate::new().with_email("b\u{7}@x.no");
    let err = members.update(&ctx, &member.id, &update).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "email"), "{err:?}");
}
