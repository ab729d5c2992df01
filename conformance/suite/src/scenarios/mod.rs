//! The scenarios. Each is an async function over `&dyn Provider` and the [`Environment`];
//! [`all`] lists them with the capability labels they need.

mod checkout;
mod commerce;
mod fulfilment;
mod members;
mod offers;
mod transactions;

use loyalty_core::{
    Context, Discount, EnrollMember, Hold, HoldRequest, LookupKind, MemberId, MemberLookup, MemberUpdate,
    NewCart, Offer, OfferKind, Phone, Provider, RedeemRequest, RegisterMember, ReturnStyle, Transaction,
    TransactionId,
};

use crate::{Environment, Outcome, Scenario, Verdict};

pub use checkout::{
    checkout_declined_then_retried, checkout_fails_after_hold, checkout_full,
    checkout_guest_refused_before_charge, checkout_guest_sign_up_reply_lost, checkout_guest_sign_up_retried,
    checkout_hold_expiry_retaken, checkout_prepare_taken_over_keeps_the_other_instance_holds,
    checkout_same_order_other_basket, checkout_three_d_secure,
};
pub use commerce::{
    cart_checkout_twice, cart_declined_payment, cart_failed_upgrade_charge, cart_lines_change_while_open,
    cart_offline_upgrade_paid, cart_offline_upgrade_unpaid, cart_partial_upgrade,
    cart_progressive_for_guests, cart_progressive_for_members, cart_redirect_payment,
    cart_upgrade_charges_difference, cart_upgrade_of_upgrade, cart_upgrade_unpaid_refused,
};
pub use fulfilment::{
    address_edit_before_and_after_dispatch, calls_across_warsaw_midnight, couriers_for_basket,
    dropship_order, order_placed_once_despite_lost_reply, session_expiry_mid_flow,
    status_through_to_shipment_notice, stock_with_quantities,
};
pub use members::{
    enroll_member, find_by, find_by_activation_token, find_no_match, get_member, member_points,
    register_member, segments, update_email_taken, update_member, update_seeded_member,
};
pub use offers::{
    hold_and_release, hold_blocks_others, list_offers, list_offers_for_guests, list_offers_with_basket,
    lock_expires, redeem_and_reinstate, reservation_stays_until_released, stamp_cards_listed, validate_offer,
    vendor_priced_offer,
};
pub use transactions::{
    cancel_gives_offers_back, cancel_transaction, cancel_twice_refused, points_earned, return_style,
    send_transaction, send_twice_deduplicated, send_twice_replaces,
};

pub(crate) fn fail(msg: impl Into<String>) -> Verdict {
    Verdict::Fail(msg.into())
}

macro_rules! check {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::scenarios::fail(format!($($arg)+)));
        }
    };
}
pub(crate) use check;

/// Turns a provider error into a failure naming the step.
pub(crate) fn step<T>(what: &str, r: loyalty_core::Result<T>) -> Result<T, Verdict> {
    r.map_err(|e| fail(format!("{what}: {e}")))
}

pub(crate) fn ctx(env: &Environment) -> Context {
    match env.department() {
        Some(d) => Context::new().with_department(d.clone()),
        None => Context::new(),
    }
}

macro_rules! scenario {
    ($name:expr, [$($cap:expr),*], $f:path) => {
        Scenario { name: $name.to_string(), needs: vec![$($cap.to_string()),*], run: |p, e| Box::pin($f(p, e)) }
    };
}

/// Every scenario, in the order they run.
pub fn all() -> Vec<Scenario> {
    let mut list = vec![scenario!("capabilities.honesty", [], capability_honesty)];
    for kind in LookupKind::ALL {
        list.push(Scenario {
            name: format!("members.find.{}", kind.label()),
            needs: vec![format!("lookups.{}", kind.label())],
            run: find_by_kind(kind),
        });
    }
    list.extend([
        scenario!("members.find.no_match", [], find_no_match),
        scenario!("members.get", ["get_member"], get_member),
        scenario!("members.register", ["register"], register_member),
        scenario!("members.enroll", ["enroll"], enroll_member),
        scenario!("members.update", ["register", "update_member"], update_member),
        scenario!("members.update_email_taken", ["register", "update_member"], update_email_taken),
        scenario!("members.update_seeded_member", ["get_member", "update_member"], update_seeded_member),
        scenario!("members.segments", ["segments"], segments),
        scenario!("members.get_shows_points", ["get_member", "points"], member_points),
        scenario!("offers.list", ["list_offers"], list_offers),
        scenario!("offers.list_with_basket", ["list_offers", "offers_with_basket"], list_offers_with_basket),
        scenario!("offers.list_for_guests", ["list_offers", "guest_offers"], list_offers_for_guests),
        scenario!(
            "offers.vendor_priced_discount_taken_as_given",
            ["list_offers", "offers_with_basket", "vendor_pricing"],
            vendor_priced_offer
        ),
        scenario!("offers.stamp_cards", ["list_offers", "stamp_cards"], stamp_cards_listed),
        scenario!("offers.validate", ["list_offers", "validate_offer"], validate_offer),
        scenario!("holds.hold_and_release", ["list_offers", "hold"], hold_and_release),
        scenario!(
            "holds.held_offer_blocks_other_transactions",
            ["list_offers", "hold", "usage_counting.at_hold"],
            hold_blocks_others
        ),
        scenario!("holds.lock_expires", ["list_offers", "hold.lock"], lock_expires),
        scenario!(
            "holds.reservation_stays_until_released",
            ["list_offers", "hold.reserve", "usage_counting.at_hold"],
            reservation_stays_until_released
        ),
        scenario!(
            "redemptions.redeem_and_reinstate",
            ["list_offers", "redeem", "reinstate.explicit"],
            redeem_and_reinstate
        ),
        scenario!("transactions.send", ["send_transaction"], send_transaction),
        scenario!(
            "transactions.send_same_id_twice_is_one_effect",
            ["send_transaction", "resend.deduplicated"],
            send_twice_deduplicated
        ),
        scenario!(
            "transactions.send_same_id_again_replaces",
            ["send_transaction", "resend.upsert"],
            send_twice_replaces
        ),
        scenario!(
            "transactions.points_earned_at_send",
            ["send_transaction", "get_member", "points", "points_at_send"],
            points_earned
        ),
        scenario!("transactions.cancel", ["send_transaction", "cancel_transaction"], cancel_transaction),
        scenario!(
            "transactions.cancel_twice_refused",
            ["send_transaction", "cancel_transaction", "second_cancel_refused"],
            cancel_twice_refused
        ),
        scenario!(
            "transactions.cancel_gives_offers_back",
            ["list_offers", "send_transaction", "cancel_transaction", "reinstate.on_cancel"],
            cancel_gives_offers_back
        ),
    ]);
    for style in ReturnStyle::ALL {
        list.push(Scenario {
            name: format!("transactions.return.{}", style.label()),
            needs: vec!["send_transaction".into(), format!("return_styles.{}", style.label())],
            run: return_in_style(style),
        });
    }
    list.extend([
        scenario!("checkout.full", ["send_transaction"], checkout_full),
        scenario!(
            "checkout.guest_refused_before_charge",
            ["send_transaction", "send_needs_member"],
            checkout_guest_refused_before_charge
        ),
        scenario!(
            "checkout.same_order_other_basket_is_conflict",
            ["send_transaction"],
            checkout_same_order_other_basket
        ),
        scenario!(
            "checkout.fails_after_hold_leaves_no_hold",
            ["list_offers", "hold"],
            checkout_fails_after_hold
        ),
        scenario!(
            "checkout.declined_then_retried_charges_shown_price_once",
            ["list_offers", "hold", "send_transaction"],
            checkout_declined_then_retried
        ),
        scenario!(
            "checkout.expired_hold_taken_again_before_charge",
            ["list_offers", "hold", "send_transaction"],
            checkout_hold_expiry_retaken
        ),
        scenario!(
            "checkout.three_d_secure_keeps_holds",
            ["list_offers", "hold", "send_transaction"],
            checkout_three_d_secure
        ),
        scenario!(
            "checkout.guest_sign_up_retried_is_one_member",
            ["register"],
            checkout_guest_sign_up_retried
        ),
        scenario!(
            "checkout.guest_sign_up_reply_lost_is_still_a_sign_up",
            ["register"],
            checkout_guest_sign_up_reply_lost
        ),
        scenario!(
            "checkout.prepare_taken_over_keeps_the_other_instance_holds",
            ["list_offers", "hold"],
            checkout_prepare_taken_over_keeps_the_other_instance_holds
        ),
        scenario!("carts.checkout_twice_is_one_order", ["carts"], cart_checkout_twice),
        scenario!("carts.lines_change_while_open", ["carts"], cart_lines_change_while_open),
        scenario!("carts.declined_payment_leaves_the_cart_open", ["carts"], cart_declined_payment),
        scenario!("carts.redirect_payment_waits_for_the_customer", ["carts"], cart_redirect_payment),
        scenario!(
            "carts.upgrade_of_unpaid_cart_is_refused",
            ["carts", "cart_upgrades"],
            cart_upgrade_unpaid_refused
        ),
        scenario!(
            "carts.upgrade_charges_new_minus_paid",
            ["carts", "cart_upgrades"],
            cart_upgrade_charges_difference
        ),
        scenario!(
            "carts.upgrade_of_upgrade_charges_last_minus_first",
            ["carts", "cart_upgrades"],
            cart_upgrade_of_upgrade
        ),
        scenario!("carts.partial_upgrade_splits_the_line", ["carts", "cart_upgrades"], cart_partial_upgrade),
        scenario!(
            "carts.failed_upgrade_charge_ships_the_original",
            ["carts", "cart_upgrades"],
            cart_failed_upgrade_charge
        ),
        scenario!(
            "carts.offline_upgrade_paid_in_a_new_cart",
            ["carts", "cart_upgrades", "offline_upgrades"],
            cart_offline_upgrade_paid
        ),
        scenario!(
            "carts.unpaid_offline_upgrade_is_discarded",
            ["carts", "cart_upgrades", "offline_upgrades"],
            cart_offline_upgrade_unpaid
        ),
        scenario!(
            "carts.progressive_discount_for_guests",
            ["carts", "list_offers", "guest_offers"],
            cart_progressive_for_guests
        ),
        scenario!(
            "carts.progressive_discount_for_members",
            ["carts", "list_offers"],
            cart_progressive_for_members
        ),
        scenario!("fulfilment.dropship_order", ["dropshipping"], dropship_order),
        scenario!("fulfilment.stock_with_quantities", ["dropshipping"], stock_with_quantities),
        scenario!("fulfilment.couriers_for_basket", ["dropshipping"], couriers_for_basket),
        scenario!(
            "fulfilment.order_placed_once_despite_lost_reply",
            ["dropshipping"],
            order_placed_once_despite_lost_reply
        ),
        scenario!(
            "fulfilment.status_through_to_shipment_notice",
            ["dropshipping"],
            status_through_to_shipment_notice
        ),
        scenario!(
            "fulfilment.address_edit_before_and_after_dispatch",
            ["dropshipping"],
            address_edit_before_and_after_dispatch
        ),
        // The two that move the target's clock run last, so no other scenario sees the jump.
        scenario!("fulfilment.session_expiry_mid_flow", ["dropshipping"], session_expiry_mid_flow),
        scenario!("fulfilment.calls_across_warsaw_midnight", ["dropshipping"], calls_across_warsaw_midnight),
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

// ------------------------------------------------------------------------------------------
// Helpers shared by the scenario modules

pub(crate) async fn member_offers(p: &dyn Provider, env: &Environment) -> Result<Vec<Offer>, Verdict> {
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    step("offers.list", o.list(&ctx(env), Some(env.member_id()), None).await)
}

pub(crate) fn usable_coupon(offers: &[Offer], single_use: bool) -> Option<Offer> {
    offers
        .iter()
        .filter(|o| matches!(o.kind, OfferKind::Coupon { .. }) && o.uses_left != Some(0))
        .find(|o| !single_use || o.uses_left == Some(1))
        .cloned()
}

/// An offer to hold or redeem: a usable coupon of the seeded member, else, for a provider that
/// prices offers itself against a basket, one of its offers that applies to the seeded basket.
pub(crate) async fn holdable_offer(
    p: &dyn Provider,
    env: &Environment,
    single_use: bool,
) -> Result<Option<Offer>, Verdict> {
    let offers = member_offers(p, env).await?;
    if let Some(c) = usable_coupon(&offers, single_use) {
        return Ok(Some(c));
    }
    let caps = p.capabilities();
    if !(caps.vendor_pricing && caps.offers_with_basket) {
        return Ok(None);
    }
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    let priced =
        step("offers.list(basket)", o.list(&ctx(env), Some(env.member_id()), Some(env.basket())).await)?;
    Ok(priced.into_iter().find(|x| {
        matches!(x.kind, OfferKind::VendorPriced { discount: Some(_), .. })
            && x.uses_left != Some(0)
            && (!single_use || x.uses_left == Some(1))
    }))
}

/// Holds `offer` for `tx` with the seeded basket, as the checkout does (providers that price
/// the offer evaluate it against the basket).
pub(crate) async fn hold(
    p: &dyn Provider,
    env: &Environment,
    offer: &Offer,
    tx: &TransactionId,
) -> loyalty_core::Result<Hold> {
    let h = p.holds().ok_or_else(|| loyalty_core::Error::unsupported(p.name(), "holds.hold"))?;
    let req = HoldRequest::new(env.member_id().clone(), offer.clone(), tx.clone())
        .with_basket(env.basket().clone());
    h.hold(&ctx(env), &req).await
}

pub(crate) async fn release(p: &dyn Provider, env: &Environment, hold: &Hold) -> Outcome {
    let h = p.holds().ok_or_else(|| fail("holds() is None"))?;
    step("holds.release", h.release(&ctx(env), hold).await)
}

/// A transaction of the environment's basket, priced with `offers` (none: no discount).
pub(crate) fn priced_transaction(
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

pub(crate) fn plain_transaction(
    env: &Environment,
    member: Option<MemberId>,
    id: TransactionId,
) -> Result<Transaction, Verdict> {
    priced_transaction(env, member, id, &[])
}

/// Automatic offers of the seeded member (product coupons and stamp cards).
pub(crate) async fn automatic_offers(p: &dyn Provider, env: &Environment) -> Result<Vec<Offer>, Verdict> {
    if !p.capabilities().list_offers {
        return Ok(Vec::new());
    }
    Ok(member_offers(p, env)
        .await?
        .into_iter()
        .filter(|o| {
            matches!(o.kind, OfferKind::Coupon { .. } | OfferKind::StampCard(_)) && !o.is_basket_coupon()
        })
        .collect())
}

pub(crate) fn uses_of(offers: &[Offer], id: &loyalty_core::OfferId) -> Option<Option<u32>> {
    offers.iter().find(|o| &o.id == id).map(|o| o.uses_left)
}

/// A lookup of a kind the provider supports that finds the seeded member.
pub(crate) fn member_lookup(p: &dyn Provider, env: &Environment) -> Option<MemberLookup> {
    let caps = p.capabilities();
    LookupKind::ALL.into_iter().filter(|k| caps.supports_lookup(*k)).find_map(|k| env.lookup(k))
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
            expect_unsupported("offers.list", o.list(&c, Some(&member), None).await, &mut problems);
        }
        if !caps.guest_offers {
            expect_unsupported("offers.list(guest)", o.list(&c, None, None).await, &mut problems);
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
            expect_unsupported("transactions.cancel", t.cancel(&c, &tx, None).await, &mut problems);
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
    let probe_cart = loyalty_core::CartId::new("conformance-probe");
    let probe_upgrade = || {
        loyalty_core::UpgradeRequest::new(
            "conformance-probe",
            "conformance-probe",
            rust_decimal::Decimal::ONE,
        )
    };
    match (p.carts(), caps.carts) {
        (Some(cart), false) => expect_unsupported(
            "carts.create",
            cart.create(
                &c,
                &NewCart::new(env.basket().currency, "conformance-probe", rust_decimal::Decimal::ONE),
            )
            .await,
            &mut problems,
        ),
        (Some(cart), true) if !caps.cart_upgrades => expect_unsupported(
            "carts.upgrade",
            cart.upgrade(&c, &probe_cart, &probe_upgrade()).await,
            &mut problems,
        ),
        (Some(cart), true) if !caps.offline_upgrades => expect_unsupported(
            "carts.upgrade(paid offline)",
            cart.upgrade(&c, &probe_cart, &probe_upgrade().paid_offline(true)).await,
            &mut problems,
        ),
        (None, true) => problems.push("carts declared but carts() is None".into()),
        _ => {}
    }
    match (p.fulfilment(), caps.dropshipping) {
        (Some(f), false) => expect_unsupported(
            "fulfilment.stock",
            f.stock(&c, &[loyalty_core::OrderLine::new("conformance-probe", rust_decimal::Decimal::ONE)])
                .await,
            &mut problems,
        ),
        (None, true) => problems.push("dropshipping declared but fulfilment() is None".into()),
        _ => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(problems.join("; ")))
    }
}
