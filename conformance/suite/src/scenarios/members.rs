//! Member scenarios: lookups, get, register, enroll, update, segments.

use loyalty_core::{
    Consents, EnrollMember, ErrorKind, LookupKind, Member, MemberId, MemberLookup, MemberUpdate, Provider,
    RegisterMember, SegmentKind,
};

use super::{check, ctx, fail, step};
use crate::{Environment, Outcome, Verdict};

/// A lookup of `kind` finds the seeded member.
pub async fn find_by(p: &dyn Provider, env: &Environment, kind: LookupKind) -> Outcome {
    let Some(lookup) = env.lookup(kind) else {
        return Err(Verdict::Skip(format!("the target names no member for a {kind:?} lookup")));
    };
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let found = step("members.find", m.find(&ctx(env), &lookup).await)?;
    let found = found.ok_or_else(|| fail(format!("{kind:?} lookup found nobody")))?;
    check!(&found.id == env.member_id(), "found {} instead of {}", found.id, env.member_id());
    Ok(())
}

/// An enrolment's activation token finds the enrolled member.
pub async fn find_by_activation_token(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    if let Some(lookup) = env.lookup(LookupKind::ActivationToken) {
        let found = step("members.find", m.find(&ctx(env), &lookup).await)?;
        let found = found.ok_or_else(|| fail("activation token lookup found nobody"))?;
        check!(&found.id == env.member_id(), "found {} instead of {}", found.id, env.member_id());
        return Ok(());
    }
    if !p.capabilities().enroll {
        return Err(Verdict::Skip("needs enroll or a seeded activation token".into()));
    }
    let mut req = EnrollMember::new(env.fresh_phone());
    if let Some(d) = env.department() {
        req = req.with_department(d.clone());
    }
    let enrolled = step("members.enroll", m.enroll(&ctx(env), &req).await)?;
    let Some(token) = env.activation_token(&enrolled.id) else {
        return Err(Verdict::Skip("the target does not reveal activation tokens".into()));
    };
    let found = step("members.find", m.find(&ctx(env), &MemberLookup::ActivationToken(token)).await)?;
    check!(
        found.map(|f| f.id) == Some(enrolled.id.clone()),
        "the activation token did not find the enrolled member"
    );
    Ok(())
}

/// A fresh phone or e-mail finds nobody (`Ok(None)`, not an error).
pub async fn find_no_match(p: &dyn Provider, env: &Environment) -> Outcome {
    let caps = p.capabilities();
    let lookup = if caps.supports_lookup(LookupKind::Phone) {
        MemberLookup::Phone(env.fresh_phone())
    } else if caps.supports_lookup(LookupKind::Email) {
        MemberLookup::Email(env.fresh_email())
    } else {
        return Err(Verdict::Skip("needs lookups.phone or lookups.email".into()));
    };
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let found = step("members.find", m.find(&ctx(env), &lookup).await)?;
    check!(found.is_none(), "a fresh key found member {:?}", found.map(|m| m.id));
    Ok(())
}

/// The seeded member reads by id; an unknown id is `NotFound`.
pub async fn get_member(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let got = step("members.get", m.get(&ctx(env), env.member_id()).await)?;
    check!(&got.id == env.member_id(), "get returned {}", got.id);
    let missing = m.get(&ctx(env), &MemberId::new("no-such-member-0")).await;
    check!(matches!(&missing, Err(e) if e.is_not_found()), "unknown id should be NotFound, got {missing:?}");
    Ok(())
}

/// The seeded member read by id carries a points balance.
pub async fn member_points(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let got = step("members.get", m.get(&ctx(env), env.member_id()).await)?;
    check!(got.points.is_some(), "a provider with points read member {} without a balance", got.id);
    Ok(())
}

pub(crate) fn both_consents() -> Consents {
    Consents { membership: true, order_history: true, marketing_sms: false, marketing_email: true }
}

pub(crate) async fn register_fresh(p: &dyn Provider, env: &Environment) -> Result<Member, Verdict> {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let req = fresh_registration(env, "Conformance", "Tester");
    step("members.register", m.register(&ctx(env), &req).await)
}

/// A registration nobody used yet: fresh phone and e-mail, both consents, the target's
/// department.
pub(crate) fn fresh_registration(env: &Environment, first: &str, last: &str) -> RegisterMember {
    let req = RegisterMember::new()
        .with_phone(env.fresh_phone())
        .with_email(env.fresh_email())
        .with_name(first, last)
        .with_consents(both_consents());
    match env.department() {
        Some(d) => req.with_department(d.clone()),
        None => req,
    }
}

/// A registered member keeps its consents and name and is found by phone.
pub async fn register_member(p: &dyn Provider, env: &Environment) -> Outcome {
    let member = register_fresh(p, env).await?;
    check!(
        member.consents.membership && member.consents.order_history,
        "consents not kept: {:?}",
        member.consents
    );
    check!(member.first_name.as_deref() == Some("Conformance"), "name not kept: {:?}", member.first_name);
    if p.capabilities().supports_lookup(LookupKind::Phone) {
        let phone = member.phone.clone().ok_or_else(|| fail("registered member has no phone"))?;
        let m = p.members().ok_or_else(|| fail("members() is None"))?;
        let found = step("members.find", m.find(&ctx(env), &MemberLookup::Phone(phone)).await)?;
        check!(found.map(|f| f.id) == Some(member.id.clone()), "registered member not found by phone");
    }
    Ok(())
}

/// Enrolling twice by phone returns the same, not yet active, member.
pub async fn enroll_member(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let mut req = EnrollMember::new(env.fresh_phone());
    if let Some(d) = env.department() {
        req = req.with_department(d.clone());
    }
    let first = step("members.enroll", m.enroll(&ctx(env), &req).await)?;
    check!(!first.is_active(), "an enrolled member is active before activation");
    let again = step("members.enroll (again)", m.enroll(&ctx(env), &req).await)?;
    check!(again.id == first.id, "enrolling the same phone again created {} besides {}", again.id, first.id);
    Ok(())
}

/// An update changes what it names and keeps everything else.
pub async fn update_member(p: &dyn Provider, env: &Environment) -> Outcome {
    let member = register_fresh(p, env).await?;
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let updated = step(
        "members.update",
        m.update(&ctx(env), &member.id, &MemberUpdate::new().with_name("Updated", "Tester")).await,
    )?;
    check!(
        updated.first_name.as_deref() == Some("Updated"),
        "first name not updated: {:?}",
        updated.first_name
    );
    check!(updated.email == member.email, "an update of the name lost the e-mail: {:?}", updated.email);
    check!(
        updated.consents == member.consents,
        "an update of the name changed consents: {:?}",
        updated.consents
    );
    Ok(())
}

/// An update to an e-mail another member has is `Conflict` and changes nothing: an e-mail
/// identifies one member (Diller: unique per store when present; SessionM Core: one profile
/// per e-mail), as a registration with it is refused.
pub async fn update_email_taken(p: &dyn Provider, env: &Environment) -> Outcome {
    let holder = register_fresh(p, env).await?;
    let taken = holder.email.clone().ok_or_else(|| fail("a registered member has no e-mail"))?;
    let member = register_fresh(p, env).await?;
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let result = m.update(&ctx(env), &member.id, &MemberUpdate::new().with_email(taken.clone())).await;
    check!(
        matches!(&result, Err(e) if *e.kind() == ErrorKind::Conflict),
        "an update to another member's e-mail should be Conflict, got {:?}",
        result.map(|m| m.email)
    );
    if p.capabilities().get_member {
        let read = step("members.get (after the refused update)", m.get(&ctx(env), &member.id).await)?;
        check!(read.email == member.email, "the refused update changed the e-mail to {:?}", read.email);
    }
    Ok(())
}

/// The seeded member's name can be changed and read back; nothing else changes (restored
/// afterwards). For providers whose members come from elsewhere than a registration.
pub async fn update_seeded_member(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let before = step("members.get", m.get(&ctx(env), env.member_id()).await)?;
    let updated = step(
        "members.update",
        m.update(&ctx(env), env.member_id(), &MemberUpdate::new().with_name("Updated", "Conformance")).await,
    )?;
    check!(
        updated.first_name.as_deref() == Some("Updated")
            && updated.last_name.as_deref() == Some("Conformance"),
        "name not updated: {:?} {:?}",
        updated.first_name,
        updated.last_name
    );
    check!(updated.email == before.email, "an update of the name changed the e-mail: {:?}", updated.email);
    check!(updated.address == before.address, "an update of the name changed the address");
    let read = step("members.get (after update)", m.get(&ctx(env), env.member_id()).await)?;
    check!(read.first_name.as_deref() == Some("Updated"), "the update did not stick: {:?}", read.first_name);
    if let (Some(first), Some(last)) = (before.first_name, before.last_name) {
        step(
            "members.update (restore)",
            m.update(&ctx(env), env.member_id(), &MemberUpdate::new().with_name(first, last)).await,
        )?;
    }
    Ok(())
}

/// The store lists segments, every choice segment with options.
pub async fn segments(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let segs = step("members.segments", m.segments(&ctx(env)).await)?;
    check!(!segs.is_empty(), "no segments");
    for s in &segs {
        if let SegmentKind::SingleChoice { options } | SegmentKind::MultiChoice { options } = &s.kind {
            check!(!options.is_empty(), "choice segment {} has no options", s.id);
        }
    }
    Ok(())
}
