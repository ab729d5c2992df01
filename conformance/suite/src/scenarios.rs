//! The scenarios. Each is an async function over `&dyn Provider` and the [`Environment`];
//! [`all`] lists them with the capabilities they need.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use loyalty_core::checkout::{Authorization, Checkout, CheckoutRequest, Delivery, Payment};
use loyalty_core::returns::{self, ReturnLedger};
use loyalty_core::{
    Consents, Context, Customer, Discount, DropshipOrder, EnrollMember, Error, ErrorKind, Hold, HoldRequest,
    LookupKind, Member, MemberId, MemberLookup, MemberUpdate, Money, NewCart, Offer, OfferKind, Phone,
    Provider, Recipient, RedeemRequest, RegisterMember, ReturnRequest, ReturnStyle, SegmentKind, SendOutcome,
    Transaction, TransactionId, UpgradeRequest,
};
use rust_decimal::Decimal;

use crate::{Cap, Environment, Outcome, Scenario, Verdict};

fn fail(msg: impl Into<String>) -> Verdict {
    Verdict::Fail(msg.into())
}

macro_rules! check {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(fail(format!($($arg)+)));
        }
    };
}

/// Turns a provider error into a failure naming the step.
fn step<T>(what: &str, r: loyalty_core::Result<T>) -> Result<T, Verdict> {
    r.map_err(|e| fail(format!("{what}: {e}")))
}

fn ctx(env: &Environment) -> Context {
    match env.department() {
        Some(d) => Context::new().with_department(d.clone()),
        None => Context::new(),
    }
}

macro_rules! scenario {
    ($name:expr, [$($cap:expr),*], $f:path) => {
        Scenario { name: $name.to_string(), needs: vec![$($cap),*], run: |p, e| Box::pin($f(p, e)) }
    };
}

/// Every scenario, in the order they run.
pub fn all() -> Vec<Scenario> {
    let mut list = vec![scenario!("capabilities.honesty", [], capability_honesty)];
    for kind in LookupKind::ALL {
        let name = format!("members.find.{}", Cap::Lookup(kind).label().trim_start_matches("lookups."));
        list.push(Scenario { name, needs: vec![Cap::Lookup(kind)], run: find_by_kind(kind) });
    }
    list.extend([
        scenario!("members.find.no_match", [], find_no_match),
        scenario!("members.get", [Cap::GetMember], get_member),
        scenario!("members.register", [Cap::Register], register_member),
        scenario!("members.enroll", [Cap::Enroll], enroll_member),
        scenario!("members.update", [Cap::Register, Cap::UpdateMember], update_member),
        scenario!("members.segments", [Cap::Segments], segments),
        scenario!("offers.list", [Cap::ListOffers], list_offers),
        scenario!(
            "offers.list_with_basket",
            [Cap::ListOffers, Cap::OffersWithBasket],
            list_offers_with_basket
        ),
        scenario!("offers.stamp_cards", [Cap::ListOffers, Cap::StampCards], stamp_cards_listed),
        scenario!("offers.validate", [Cap::ListOffers, Cap::ValidateOffer], validate_offer),
        scenario!("holds.hold_and_release", [Cap::ListOffers, Cap::Hold], hold_and_release),
        scenario!(
            "holds.held_offer_blocks_other_transactions",
            [Cap::ListOffers, Cap::HoldCountsAtHold],
            hold_blocks_others
        ),
        scenario!("holds.lock_expires", [Cap::ListOffers, Cap::LockHold], lock_expires),
        scenario!(
            "redemptions.redeem_and_reinstate",
            [Cap::ListOffers, Cap::Redeem, Cap::ReinstateExplicit],
            redeem_and_reinstate
        ),
        scenario!("transactions.send", [Cap::SendTransaction], send_transaction),
        scenario!("transactions.send_same_id_twice", [Cap::SendTransaction, Cap::IdempotentSend], send_twice),
        scenario!(
            "transactions.points_earned",
            [Cap::SendTransaction, Cap::GetMember, Cap::Points],
            points_earned
        ),
        scenario!("transactions.cancel", [Cap::SendTransaction, Cap::CancelTransaction], cancel_transaction),
        scenario!(
            "transactions.cancel_gives_offers_back",
            [Cap::ListOffers, Cap::SendTransaction, Cap::CancelTransaction, Cap::ReinstateOnCancel],
            cancel_gives_offers_back
        ),
    ]);
    for style in [
        ReturnStyle::CancelAndResend,
        ReturnStyle::NegativeTransaction,
        ReturnStyle::PartialRefund,
        ReturnStyle::ResendWithoutLines,
    ] {
        let name = format!(
            "transactions.return.{}",
            Cap::Return(style).label().trim_start_matches("return_styles.")
        );
        list.push(Scenario {
            name,
            needs: vec![Cap::SendTransaction, Cap::Return(style)],
            run: return_in_style(style),
        });
    }
    list.extend([
        scenario!("checkout.full", [Cap::SendTransaction], checkout_full),
        scenario!(
            "checkout.fails_after_hold_leaves_no_hold",
            [Cap::ListOffers, Cap::Hold],
            checkout_fails_after_hold
        ),
        scenario!("carts.upgrade_charges_difference", [Cap::Carts, Cap::CartUpgrades], cart_upgrade),
        scenario!("fulfilment.dropship_order", [Cap::Dropshipping], dropship_order),
    ]);
    list
}

// Fn pointers cannot capture, so each lookup kind and return style gets its own small function.
fn find_by_kind(
    kind: LookupKind,
) -> for<'a> fn(&'a dyn Provider, &'a Environment) -> crate::ScenarioFuture<'a> {
    match kind {
        LookupKind::Phone => |p, e| Box::pin(find_by(p, e, LookupKind::Phone)),
        LookupKind::Email => |p, e| Box::pin(find_by(p, e, LookupKind::Email)),
        LookupKind::NationalId => |p, e| Box::pin(find_by(p, e, LookupKind::NationalId)),
        LookupKind::DriversLicense => |p, e| Box::pin(find_by(p, e, LookupKind::DriversLicense)),
        LookupKind::ExternalId => |p, e| Box::pin(find_by(p, e, LookupKind::ExternalId)),
        LookupKind::ProviderId => |p, e| Box::pin(find_by(p, e, LookupKind::ProviderId)),
        LookupKind::ActivationToken => |p, e| Box::pin(find_by_activation_token(p, e)),
    }
}

fn return_in_style(
    style: ReturnStyle,
) -> for<'a> fn(&'a dyn Provider, &'a Environment) -> crate::ScenarioFuture<'a> {
    match style {
        ReturnStyle::CancelAndResend => |p, e| Box::pin(return_style(p, e, ReturnStyle::CancelAndResend)),
        ReturnStyle::NegativeTransaction => {
            |p, e| Box::pin(return_style(p, e, ReturnStyle::NegativeTransaction))
        }
        ReturnStyle::PartialRefund => |p, e| Box::pin(return_style(p, e, ReturnStyle::PartialRefund)),
        ReturnStyle::ResendWithoutLines => {
            |p, e| Box::pin(return_style(p, e, ReturnStyle::ResendWithoutLines))
        }
    }
}

fn expect_unsupported<T: std::fmt::Debug>(
    what: &str,
    r: loyalty_core::Result<T>,
    problems: &mut Vec<String>,
) {
    match r {
        Err(e) if e.is_unsupported() => {}
        Err(e) => problems.push(format!("{what}: expected Unsupported, got {e}")),
        Ok(v) => problems.push(format!("{what}: undeclared but answered {v:?}")),
    }
}

/// Every operation the provider does not declare answers `Unsupported` (or has no accessor).
pub async fn capability_honesty(p: &dyn Provider, env: &Environment) -> Outcome {
    let caps = p.capabilities().clone();
    let c = ctx(env);
    let mut problems = Vec::new();
    let member = env.member_id().clone();
    if let Some(m) = p.members() {
        for kind in LookupKind::ALL.into_iter().filter(|k| !caps.supports_lookup(*k)) {
            let lookup = match kind {
                LookupKind::Phone => MemberLookup::Phone(Phone::new("+47", "40000000")),
                LookupKind::Email => MemberLookup::Email("nobody@example.com".into()),
                LookupKind::NationalId => MemberLookup::NationalId("00000000000".into()),
                LookupKind::DriversLicense => MemberLookup::DriversLicense("X".into()),
                LookupKind::ExternalId => MemberLookup::ExternalId("X".into()),
                LookupKind::ProviderId => MemberLookup::ProviderId(member.clone()),
                LookupKind::ActivationToken => MemberLookup::ActivationToken("X".into()),
            };
            expect_unsupported(&format!("members.find({kind:?})"), m.find(&c, &lookup).await, &mut problems);
        }
        if !caps.get_member {
            expect_unsupported("members.get", m.get(&c, &member).await, &mut problems);
        }
        if !caps.register {
            expect_unsupported(
                "members.register",
                m.register(&c, &RegisterMember::new().with_phone(env.fresh_phone())).await,
                &mut problems,
            );
        }
        if !caps.enroll {
            expect_unsupported(
                "members.enroll",
                m.enroll(&c, &EnrollMember::new(env.fresh_phone())).await,
                &mut problems,
            );
        }
        if !caps.update_member {
            expect_unsupported(
                "members.update",
                m.update(&c, &member, &MemberUpdate::new()).await,
                &mut problems,
            );
        }
        if !caps.segments {
            expect_unsupported("members.segments", m.segments(&c).await, &mut problems);
        }
    } else if caps.members() {
        problems.push("member capabilities declared but members() is None".into());
    }
    let probe = Offer::new(
        "conformance-probe",
        "probe",
        OfferKind::Coupon { discount: Discount::FreeShipping, scope: loyalty_core::Scope::Basket },
    );
    if let Some(o) = p.offers() {
        if !caps.list_offers {
            expect_unsupported("offers.list", o.list(&c, &member, None).await, &mut problems);
        }
        if !caps.validate_offer {
            expect_unsupported("offers.validate", o.validate(&c, &member, &probe).await, &mut problems);
        }
    } else if caps.offers() {
        problems.push("offer capabilities declared but offers() is None".into());
    }
    let tx_id = env.fresh_transaction_id();
    match (p.holds(), caps.hold) {
        (Some(h), None) => {
            let req = HoldRequest::new(member.clone(), probe.clone(), tx_id.clone());
            expect_unsupported("holds.hold", h.hold(&c, &req).await, &mut problems);
        }
        (None, Some(_)) => problems.push("hold declared but holds() is None".into()),
        _ => {}
    }
    match (p.redemptions(), caps.redeem) {
        (Some(r), false) => expect_unsupported(
            "redemptions.redeem",
            r.redeem(&c, &RedeemRequest::new(member.clone(), probe.clone())).await,
            &mut problems,
        ),
        (None, true) => problems.push("redeem declared but redemptions() is None".into()),
        _ => {}
    }
    if let Some(t) = p.transactions() {
        let tx = plain_transaction(env, None, tx_id.clone())?;
        if !caps.send_transaction {
            expect_unsupported("transactions.send", t.send(&c, &tx).await, &mut problems);
        }
        if !caps.supports_return(ReturnStyle::ResendWithoutLines) {
            expect_unsupported("transactions.amend", t.amend(&c, &tx).await, &mut problems);
        }
        if !caps.cancel_transaction {
            expect_unsupported("transactions.cancel", t.cancel(&c, &tx_id, None).await, &mut problems);
        }
        if !caps.supports_return(ReturnStyle::PartialRefund) {
            let refund = loyalty_core::Refund::new(
                tx_id.clone(),
                env.fresh_transaction_id(),
                None,
                Vec::new(),
                tx.total,
                env.now(),
            );
            expect_unsupported("transactions.refund", t.refund(&c, &refund).await, &mut problems);
        }
    } else if caps.transactions() {
        problems.push("transaction capabilities declared but transactions() is None".into());
    }
    match (p.carts(), caps.carts) {
        (Some(cart), false) => expect_unsupported(
            "carts.create",
            cart.create(&c, &NewCart::new(env.basket().currency)).await,
            &mut problems,
        ),
        (None, true) => problems.push("carts declared but carts() is None".into()),
        _ => {}
    }
    match (p.fulfilment(), caps.dropshipping) {
        (Some(f), false) => expect_unsupported("fulfilment.stock", f.stock(&c, &[]).await, &mut problems),
        (None, true) => problems.push("dropshipping declared but fulfilment() is None".into()),
        _ => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(problems.join("; ")))
    }
}

async fn find_by(p: &dyn Provider, env: &Environment, kind: LookupKind) -> Outcome {
    let Some(lookup) = env.lookup(kind) else {
        return Err(Verdict::Skip(format!("the target names no member for a {kind:?} lookup")));
    };
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let found = step("members.find", m.find(&ctx(env), &lookup).await)?;
    let found = found.ok_or_else(|| fail(format!("{kind:?} lookup found nobody")))?;
    check!(&found.id == env.member_id(), "found {} instead of {}", found.id, env.member_id());
    Ok(())
}

async fn find_by_activation_token(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    if let Some(lookup) = env.lookup(LookupKind::ActivationToken) {
        let found = step("members.find", m.find(&ctx(env), &lookup).await)?;
        check!(found.is_some(), "activation token lookup found nobody");
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

async fn find_no_match(p: &dyn Provider, env: &Environment) -> Outcome {
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

async fn get_member(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let got = step("members.get", m.get(&ctx(env), env.member_id()).await)?;
    check!(&got.id == env.member_id(), "get returned {}", got.id);
    let missing = m.get(&ctx(env), &MemberId::new("no-such-member-0")).await;
    check!(matches!(&missing, Err(e) if e.is_not_found()), "unknown id should be NotFound, got {missing:?}");
    Ok(())
}

fn both_consents() -> Consents {
    Consents { membership: true, order_history: true, marketing_sms: false, marketing_email: true }
}

async fn register_fresh(p: &dyn Provider, env: &Environment) -> Result<Member, Verdict> {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let req = RegisterMember::new()
        .with_phone(env.fresh_phone())
        .with_email(env.fresh_email())
        .with_name("Conformance", "Tester")
        .with_consents(both_consents());
    let req = match env.department() {
        Some(d) => req.with_department(d.clone()),
        None => req,
    };
    step("members.register", m.register(&ctx(env), &req).await)
}

async fn register_member(p: &dyn Provider, env: &Environment) -> Outcome {
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

async fn enroll_member(p: &dyn Provider, env: &Environment) -> Outcome {
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

async fn update_member(p: &dyn Provider, env: &Environment) -> Outcome {
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

async fn segments(p: &dyn Provider, env: &Environment) -> Outcome {
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

async fn member_offers(p: &dyn Provider, env: &Environment) -> Result<Vec<Offer>, Verdict> {
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    step("offers.list", o.list(&ctx(env), env.member_id(), None).await)
}

fn usable_coupon(offers: &[Offer], single_use: bool) -> Option<Offer> {
    offers
        .iter()
        .filter(|o| matches!(o.kind, OfferKind::Coupon { .. }) && o.uses_left != Some(0))
        .find(|o| !single_use || o.uses_left == Some(1))
        .cloned()
}

async fn list_offers(p: &dyn Provider, env: &Environment) -> Outcome {
    let offers = member_offers(p, env).await?;
    check!(!offers.is_empty(), "the seeded member has no offers");
    let mut ids: Vec<_> = offers.iter().map(|o| o.id.clone()).collect();
    ids.sort();
    ids.dedup();
    check!(ids.len() == offers.len(), "offer ids are not unique");
    check!(offers.iter().all(|o| !o.title.is_empty()), "an offer has no title");
    Ok(())
}

async fn list_offers_with_basket(p: &dyn Provider, env: &Environment) -> Outcome {
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    let with = step("offers.list(basket)", o.list(&ctx(env), env.member_id(), Some(env.basket())).await)?;
    check!(!with.is_empty(), "no offer applies to the seeded basket");
    Ok(())
}

async fn stamp_cards_listed(p: &dyn Provider, env: &Environment) -> Outcome {
    let offers = member_offers(p, env).await?;
    let card = offers.iter().find_map(|o| match &o.kind {
        OfferKind::StampCard(c) => Some(c.clone()),
        _ => None,
    });
    let card = card.ok_or_else(|| fail("no stamp card listed"))?;
    check!(
        card.required > 0 && card.collected <= card.required,
        "stamp card progress out of range: {card:?}"
    );
    Ok(())
}

async fn validate_offer(p: &dyn Provider, env: &Environment) -> Outcome {
    let offers = member_offers(p, env).await?;
    let coupon =
        usable_coupon(&offers, false).ok_or_else(|| Verdict::Skip("no usable coupon seeded".into()))?;
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    let v = step("offers.validate", o.validate(&ctx(env), env.member_id(), &coupon).await)?;
    check!(v.valid, "a listed usable coupon does not validate: {:?}", v.reason);
    Ok(())
}

async fn hold(
    p: &dyn Provider,
    env: &Environment,
    offer: &Offer,
    tx: &TransactionId,
) -> loyalty_core::Result<Hold> {
    let h = p.holds().ok_or_else(|| Error::unsupported(p.name(), "holds.hold"))?;
    h.hold(&ctx(env), &HoldRequest::new(env.member_id().clone(), offer.clone(), tx.clone())).await
}

async fn release(p: &dyn Provider, env: &Environment, hold: &Hold) -> Outcome {
    let h = p.holds().ok_or_else(|| fail("holds() is None"))?;
    step("holds.release", h.release(&ctx(env), hold).await)
}

async fn hold_and_release(p: &dyn Provider, env: &Environment) -> Outcome {
    let offers = member_offers(p, env).await?;
    let coupon =
        usable_coupon(&offers, false).ok_or_else(|| Verdict::Skip("no usable coupon seeded".into()))?;
    let tx = env.fresh_transaction_id();
    let first = step("holds.hold", hold(p, env, &coupon, &tx).await)?;
    check!(first.expires_at > env.now(), "hold expires at {} which is not in the future", first.expires_at);
    let again = step("holds.hold (same transaction)", hold(p, env, &coupon, &tx).await)?;
    check!(
        again.offer_id == first.offer_id && again.transaction == tx,
        "second hold for the same transaction differs"
    );
    release(p, env, &first).await?;
    release(p, env, &first).await.map_err(|_| fail("releasing twice is not idempotent"))?;
    Ok(())
}

async fn hold_blocks_others(p: &dyn Provider, env: &Environment) -> Outcome {
    let offers = member_offers(p, env).await?;
    let coupon =
        usable_coupon(&offers, true).ok_or_else(|| Verdict::Skip("no single-use coupon seeded".into()))?;
    let (a, b) = (env.fresh_transaction_id(), env.fresh_transaction_id());
    let held = step("holds.hold(A)", hold(p, env, &coupon, &a).await)?;
    let other = hold(p, env, &coupon, &b).await;
    let blocked = matches!(&other, Err(e) if matches!(e.kind(), ErrorKind::Conflict | ErrorKind::Rejected));
    if let Ok(h) = &other {
        release(p, env, h).await?;
    }
    release(p, env, &held).await?;
    check!(blocked, "a single-use coupon held for A was held again for B: {other:?}");
    let after = step("holds.hold(B) after release", hold(p, env, &coupon, &b).await)?;
    release(p, env, &after).await
}

async fn lock_expires(p: &dyn Provider, env: &Environment) -> Outcome {
    let offers = member_offers(p, env).await?;
    let coupon =
        usable_coupon(&offers, true).ok_or_else(|| Verdict::Skip("no single-use coupon seeded".into()))?;
    let (a, b) = (env.fresh_transaction_id(), env.fresh_transaction_id());
    let held = step("holds.hold(A)", hold(p, env, &coupon, &a).await)?;
    let ttl = (held.expires_at - env.now()).to_std().unwrap_or_default();
    if !env.advance_clock(ttl + Duration::from_secs(1)) {
        release(p, env, &held).await?;
        return Err(Verdict::Skip("the target's clock cannot be moved".into()));
    }
    let after = hold(p, env, &coupon, &b).await;
    check!(after.is_ok(), "the lock did not lapse after its expiry: {after:?}");
    if let Ok(h) = after {
        release(p, env, &h).await?;
    }
    Ok(())
}

async fn redeem_and_reinstate(p: &dyn Provider, env: &Environment) -> Outcome {
    let offers = member_offers(p, env).await?;
    let coupon =
        usable_coupon(&offers, true).ok_or_else(|| Verdict::Skip("no single-use coupon seeded".into()))?;
    let r = p.redemptions().ok_or_else(|| fail("redemptions() is None"))?;
    let c = ctx(env);
    let req = RedeemRequest::new(env.member_id().clone(), coupon.clone());
    let first = step("redemptions.redeem", r.redeem(&c, &req).await)?;
    let second = r.redeem(&c, &req).await;
    check!(
        matches!(&second, Err(e) if e.kind() == &ErrorKind::Conflict),
        "second redeem of a single-use coupon: {second:?}"
    );
    step("redemptions.reinstate", r.reinstate(&c, &first).await)?;
    step("redemptions.reinstate (again)", r.reinstate(&c, &first).await)?;
    let third = step("redemptions.redeem after reinstate", r.redeem(&c, &req).await)?;
    step("redemptions.reinstate", r.reinstate(&c, &third).await)
}

/// A transaction of the environment's basket, priced with `offers` (none: no discount).
fn priced_transaction(
    env: &Environment,
    member: Option<MemberId>,
    id: TransactionId,
    offers: &[Offer],
) -> Result<Transaction, Verdict> {
    let priced = loyalty_core::pricing::price(env.basket(), offers, &[], env.now())
        .map_err(|e| fail(format!("pricing: {e}")))?;
    let tx = Transaction::from_priced(id, env.now(), member, env.basket(), &priced, offers)
        .map_err(|e| fail(e.to_string()))?;
    let tx = tx.with_payment("Card", priced.total);
    Ok(match env.department() {
        Some(d) => tx.with_department(d.clone()),
        None => tx,
    })
}

fn plain_transaction(
    env: &Environment,
    member: Option<MemberId>,
    id: TransactionId,
) -> Result<Transaction, Verdict> {
    priced_transaction(env, member, id, &[])
}

async fn send_transaction(p: &dyn Provider, env: &Environment) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    let receipt =
        step("transactions.send", t.send(&ctx(env).with_idempotency_key(tx.id.as_str()), &tx).await)?;
    check!(receipt.outcome == SendOutcome::Recorded, "a new transaction reported {:?}", receipt.outcome);
    check!(receipt.id == tx.id, "receipt names {} instead of {}", receipt.id, tx.id);
    Ok(())
}

/// Automatic offers of the seeded member (product coupons and stamp cards).
async fn automatic_offers(p: &dyn Provider, env: &Environment) -> Result<Vec<Offer>, Verdict> {
    if !p.capabilities().list_offers {
        return Ok(Vec::new());
    }
    Ok(member_offers(p, env).await?.into_iter().filter(|o| !o.is_basket_coupon()).collect())
}

fn uses_of(offers: &[Offer], id: &loyalty_core::OfferId) -> Option<Option<u32>> {
    offers.iter().find(|o| &o.id == id).map(|o| o.uses_left)
}

async fn send_twice(p: &dyn Provider, env: &Environment) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let offers = automatic_offers(p, env).await?;
    let tx = priced_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id(), &offers)?;
    let c = ctx(env).with_idempotency_key(tx.id.as_str());
    let first = step("transactions.send", t.send(&c, &tx).await)?;
    check!(first.outcome == SendOutcome::Recorded, "first send reported {:?}", first.outcome);
    let after_first = automatic_offers(p, env).await?;
    let second = step("transactions.send (same id)", t.send(&c, &tx).await)?;
    check!(
        second.outcome == SendOutcome::AlreadyRecorded,
        "second send of the same id reported {:?}",
        second.outcome
    );
    let after_second = automatic_offers(p, env).await?;
    for used in &tx.offers_used {
        check!(
            uses_of(&after_first, &used.offer_id) == uses_of(&after_second, &used.offer_id),
            "the second send of the same id consumed {} again",
            used.offer_id
        );
    }
    if p.capabilities().cancel_transaction {
        step("cleanup: transactions.cancel", t.cancel(&c, &tx.id, Some("conformance cleanup")).await)?;
    }
    Ok(())
}

async fn points_earned(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let before = step("members.get", m.get(&ctx(env), env.member_id()).await)?.points.unwrap_or_default();
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    step("transactions.send", t.send(&ctx(env), &tx).await)?;
    let after = step("members.get", m.get(&ctx(env), env.member_id()).await)?.points.unwrap_or_default();
    check!(after > before, "points did not grow after a purchase of {} ({before} -> {after})", tx.total);
    if p.capabilities().cancel_transaction {
        step("transactions.cancel", t.cancel(&ctx(env), &tx.id, None).await)?;
        let back = step("members.get", m.get(&ctx(env), env.member_id()).await)?.points.unwrap_or_default();
        check!(back == before, "cancel did not take the points back ({before} -> {back})");
    }
    Ok(())
}

async fn cancel_transaction(p: &dyn Provider, env: &Environment) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    step("transactions.send", t.send(&ctx(env), &tx).await)?;
    step("transactions.cancel", t.cancel(&ctx(env), &tx.id, Some("conformance")).await)?;
    let again = t.cancel(&ctx(env), &tx.id, Some("conformance")).await;
    check!(
        matches!(&again, Err(e) if !e.is_unsupported() && !e.is_temporary()),
        "cancelling twice should be refused, got {again:?}"
    );
    let unknown = t.cancel(&ctx(env), &env.fresh_transaction_id(), None).await;
    check!(unknown.is_err(), "cancelling an unknown transaction succeeded");
    Ok(())
}

async fn cancel_gives_offers_back(p: &dyn Provider, env: &Environment) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let offers = automatic_offers(p, env).await?;
    let tx = priced_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id(), &offers)?;
    let Some(used) = tx
        .offers_used
        .iter()
        .find(|u| offers.iter().any(|o| o.id == u.offer_id && matches!(o.kind, OfferKind::Coupon { .. })))
        .cloned()
    else {
        return Err(Verdict::Skip("no automatic coupon applies to the seeded basket".into()));
    };
    let before = uses_of(&offers, &used.offer_id);
    step("transactions.send", t.send(&ctx(env), &tx).await)?;
    let during = uses_of(&automatic_offers(p, env).await?, &used.offer_id);
    check!(during != before, "sending did not consume {} ({before:?})", used.offer_id);
    step("transactions.cancel", t.cancel(&ctx(env), &tx.id, None).await)?;
    let after = uses_of(&automatic_offers(p, env).await?, &used.offer_id);
    check!(after == before, "cancel did not give {} back: {before:?} -> {after:?}", used.offer_id);
    Ok(())
}

async fn return_style(p: &dyn Provider, env: &Environment, style: ReturnStyle) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    step("transactions.send", t.send(&ctx(env), &tx).await)?;
    let line = tx.lines.first().ok_or_else(|| fail("the seeded basket is empty"))?.clone();
    let qty = if line.quantity > Decimal::ONE { Decimal::ONE } else { line.quantity };
    let mut ledger = ReturnLedger::new(tx.clone());
    let req = ReturnRequest::new(Some(tx.id.clone()), env.fresh_transaction_id(), env.now())
        .with_line(line.line_id.clone(), qty);
    let out = step("return", returns::process(p, &ctx(env), Some(&mut ledger), &req, Some(style)).await)?;
    check!(out.style == style, "returned in {:?}", out.style);
    // An undiscounted line: one returned unit refunds one unit price.
    let expected = if qty == line.quantity { line.net } else { line.unit_price };
    check!(out.refunded == expected, "refunded {} instead of the frozen net {}", out.refunded, expected);
    let again =
        step("return (same id)", returns::process(p, &ctx(env), Some(&mut ledger), &req, Some(style)).await)?;
    check!(again == out, "the same return id processed twice");
    Ok(())
}

#[derive(Default)]
struct SuitePayment {
    decline: bool,
    captured: AtomicU32,
}

#[async_trait]
impl Payment for SuitePayment {
    async fn authorize(&self, tx: &TransactionId, amount: Money) -> loyalty_core::Result<Authorization> {
        if self.decline {
            return Err(Error::new(ErrorKind::Rejected, "payment", "payment.authorize")
                .with_message("declined by the suite"));
        }
        Ok(Authorization { id: format!("suite-{tx}"), amount })
    }
    async fn capture(&self, _a: &Authorization) -> loyalty_core::Result<()> {
        self.captured.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn void(&self, _a: &Authorization) -> loyalty_core::Result<()> {
        Ok(())
    }
}

async fn checkout_full(p: &dyn Provider, env: &Environment) -> Outcome {
    let caps = p.capabilities().clone();
    let lookup = LookupKind::ALL.into_iter().filter(|k| caps.supports_lookup(*k)).find_map(|k| env.lookup(k));
    let payment = Arc::new(SuitePayment::default());
    let checkout = Checkout::new(Arc::new(p), payment.clone(), Arc::new(env));
    let mut req = CheckoutRequest::new(env.fresh_transaction_id(), env.basket().clone());
    if let Some(l) = lookup {
        req = req.identify(l);
    }
    if let Some(d) = env.department() {
        req = req.department(d.clone());
    }
    let out = step("checkout.complete", checkout.complete(&ctx(env), &req).await)?;
    check!(matches!(out.delivery, Delivery::Sent(_)), "transaction not sent: {:?}", out.delivery);
    check!(out.charged == out.priced.total, "charged {} for a total of {}", out.charged, out.priced.total);
    check!(
        payment.captured.load(Ordering::SeqCst) == 1,
        "payment captured {} times",
        payment.captured.load(Ordering::SeqCst)
    );
    let again = step("checkout.complete (again)", checkout.complete(&ctx(env), &req).await)?;
    check!(again == out && payment.captured.load(Ordering::SeqCst) == 1, "completing twice charged twice");
    if caps.cancel_transaction {
        if let Some(t) = p.transactions() {
            step(
                "cleanup: transactions.cancel",
                t.cancel(&ctx(env), &out.transaction.id, Some("conformance cleanup")).await,
            )?;
        }
    }
    Ok(())
}

async fn checkout_fails_after_hold(p: &dyn Provider, env: &Environment) -> Outcome {
    let caps = p.capabilities().clone();
    let lookup = LookupKind::ALL
        .into_iter()
        .filter(|k| caps.supports_lookup(*k))
        .find_map(|k| env.lookup(k))
        .ok_or_else(|| Verdict::Skip("no lookup finds the seeded member".into()))?;
    let offers = member_offers(p, env).await?;
    let confirm =
        offers.iter().find(|o| o.is_basket_coupon() && o.uses_left != Some(0)).map(|o| o.id.clone());
    let payment = Arc::new(SuitePayment { decline: true, ..SuitePayment::default() });
    let checkout = Checkout::new(Arc::new(p), payment, Arc::new(env));
    let mut req = CheckoutRequest::new(env.fresh_transaction_id(), env.basket().clone()).identify(lookup);
    if let Some(c) = confirm {
        req = req.confirm(c);
    }
    let prepared = step("checkout.prepare", checkout.prepare(&ctx(env), &req).await)?;
    let held: Vec<Offer> =
        prepared.holds.iter().filter_map(|h| offers.iter().find(|o| o.id == h.offer_id).cloned()).collect();
    if held.is_empty() {
        return Err(Verdict::Skip("no seeded offer applies to the basket, so nothing is held".into()));
    }
    let err = checkout.commit(&ctx(env), prepared).await;
    check!(
        matches!(&err, Err(e) if e.kind() == &ErrorKind::Rejected),
        "a declined payment should fail the checkout: {err:?}"
    );
    // Nothing may stay held: every offer can be held again by another transaction.
    let other = env.fresh_transaction_id();
    for offer in &held {
        let h = hold(p, env, offer, &other).await;
        check!(h.is_ok(), "offer {} is still held after the failed checkout: {h:?}", offer.id);
        if let Ok(h) = h {
            release(p, env, &h).await?;
        }
    }
    Ok(())
}

async fn cart_upgrade(p: &dyn Provider, env: &Environment) -> Outcome {
    let Some((base, upgrade)) = env.cart_products().cloned() else {
        return Err(Verdict::Skip("the target names no cart products".into()));
    };
    let carts = p.carts().ok_or_else(|| fail("carts() is None"))?;
    let c = ctx(env);
    let cart = step("carts.create", carts.create(&c, &NewCart::new(env.basket().currency).test(true)).await)?;
    let cart = step("carts.add_line", carts.add_line(&c, &cart.id, &base, Decimal::ONE).await)?;
    let line = cart.lines.first().ok_or_else(|| fail("added line missing"))?.clone();
    let preview = step(
        "carts.upgrade",
        carts
            .upgrade(&c, &cart.id, &UpgradeRequest::new(line.line_id.clone(), upgrade.clone(), Decimal::ONE))
            .await,
    )?;
    let new_line = preview
        .cart
        .lines
        .iter()
        .find(|l| l.line_id == line.line_id)
        .ok_or_else(|| fail("upgraded line missing"))?;
    let expected = (new_line.unit_price.minor - line.unit_price.minor).max(0);
    check!(
        preview.charge.minor == expected,
        "upgrade charges {} instead of new minus previous price",
        preview.charge
    );
    step(
        "carts.set_customer",
        carts.set_customer(&c, &cart.id, &Customer::with_email(env.fresh_email())).await,
    )?;
    let order = step("carts.checkout", carts.checkout(&c, &cart.id).await)?;
    let again = step("carts.checkout (again)", carts.checkout(&c, &cart.id).await)?;
    check!(again.order_id == order.order_id, "checking out a paid cart again made a second order");
    Ok(())
}

async fn dropship_order(p: &dyn Provider, env: &Environment) -> Outcome {
    let Some((product, courier)) = env.dropship().cloned() else {
        return Err(Verdict::Skip("the target names no dropship product".into()));
    };
    let f = p.fulfilment().ok_or_else(|| fail("fulfilment() is None"))?;
    let c = ctx(env);
    let stock = step("fulfilment.stock", f.stock(&c, std::slice::from_ref(&product)).await)?;
    check!(
        stock.first().is_some_and(|s| s.available >= Decimal::ONE),
        "the dropship product is not in stock"
    );
    let couriers = step("fulfilment.couriers", f.couriers(&c, None).await)?;
    check!(couriers.iter().any(|x| x.id == courier), "courier {courier} not listed");
    let address = loyalty_core::Address {
        street: Some("Storgata 1".into()),
        city: Some("Oslo".into()),
        zip_code: Some("0155".into()),
        state: None,
        country_code: Some("NO".into()),
    };
    let reference = env.fresh_transaction_id().to_string();
    let order = DropshipOrder::new(reference, Recipient::new("Kari Nordmann", address), courier.clone())
        .with_line(product.clone(), Decimal::ONE);
    let id = step("fulfilment.place_order", f.place_order(&c, &order).await)?;
    let again = step("fulfilment.place_order (same reference)", f.place_order(&c, &order).await)?;
    check!(again == id, "the same shop reference placed a second order");
    let status = step("fulfilment.order_status", f.order_status(&c, &id).await)?;
    check!(status.order_id == id, "status of another order");
    Ok(())
}
