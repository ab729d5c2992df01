//! Offer, hold and redemption scenarios.

use std::time::Duration;

use loyalty_core::{ErrorKind, OfferKind, Provider, RedeemRequest};

use super::{check, ctx, fail, hold, holdable_offer, member_offers, release, step, usable_coupon};
use crate::{Environment, Outcome, Verdict};

/// The seeded member has offers, each with a unique id and a title.
pub async fn list_offers(p: &dyn Provider, env: &Environment) -> Outcome {
    let offers = member_offers(p, env).await?;
    check!(!offers.is_empty(), "the seeded member has no offers");
    let mut ids: Vec<_> = offers.iter().map(|o| o.id.clone()).collect();
    ids.sort();
    ids.dedup();
    check!(ids.len() == offers.len(), "offer ids are not unique");
    check!(offers.iter().all(|o| !o.title.is_empty()), "an offer has no title");
    Ok(())
}

/// Offers listed against the seeded basket include one that applies to it.
pub async fn list_offers_with_basket(p: &dyn Provider, env: &Environment) -> Outcome {
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    let with =
        step("offers.list(basket)", o.list(&ctx(env), Some(env.member_id()), Some(env.basket())).await)?;
    check!(!with.is_empty(), "no offer applies to the seeded basket");
    Ok(())
}

/// A stamp card is listed with its progress in range.
pub async fn stamp_cards_listed(p: &dyn Provider, env: &Environment) -> Outcome {
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

/// A listed usable coupon validates.
pub async fn validate_offer(p: &dyn Provider, env: &Environment) -> Outcome {
    let offers = member_offers(p, env).await?;
    let coupon =
        usable_coupon(&offers, false).ok_or_else(|| Verdict::Skip("no usable coupon seeded".into()))?;
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    let v = step("offers.validate", o.validate(&ctx(env), env.member_id(), &coupon).await)?;
    check!(v.valid, "a listed usable coupon does not validate: {:?}", v.reason);
    Ok(())
}

/// A hold has a future expiry; holding again for the same order gives the same hold; releasing twice is fine.
pub async fn hold_and_release(p: &dyn Provider, env: &Environment) -> Outcome {
    let coupon = holdable_offer(p, env, false)
        .await?
        .ok_or_else(|| Verdict::Skip("no usable coupon or vendor-priced offer seeded".into()))?;
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

/// A single-use coupon held for one order cannot be held for another until released.
pub async fn hold_blocks_others(p: &dyn Provider, env: &Environment) -> Outcome {
    let coupon = holdable_offer(p, env, true)
        .await?
        .ok_or_else(|| Verdict::Skip("no single-use coupon or vendor-priced offer seeded".into()))?;
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

/// A lock lapses by itself after its lifetime.
pub async fn lock_expires(p: &dyn Provider, env: &Environment) -> Outcome {
    let coupon = holdable_offer(p, env, true)
        .await?
        .ok_or_else(|| Verdict::Skip("no single-use coupon or vendor-priced offer seeded".into()))?;
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

/// A single-use coupon redeemed once cannot be redeemed again until reinstated; reinstating twice gives one use back.
pub async fn redeem_and_reinstate(p: &dyn Provider, env: &Environment) -> Outcome {
    let coupon = holdable_offer(p, env, true)
        .await?
        .ok_or_else(|| Verdict::Skip("no single-use coupon or vendor-priced offer seeded".into()))?;
    let r = p.redemptions().ok_or_else(|| fail("redemptions() is None"))?;
    let c = ctx(env);
    let req = RedeemRequest::new(env.member_id().clone(), coupon.clone()).with_basket(env.basket().clone());
    let first = step("redemptions.redeem", r.redeem(&c, &req).await)?;
    let second = r.redeem(&c, &req).await;
    check!(
        matches!(&second, Err(e) if e.kind() == &ErrorKind::Conflict),
        "second redeem of a single-use coupon: {second:?}"
    );
    step("redemptions.reinstate", r.reinstate(&c, &first).await)?;
    step("redemptions.reinstate (again)", r.reinstate(&c, &first).await)?;
    let third = step("redemptions.redeem after reinstate", r.redeem(&c, &req).await)?;
    // Reinstating twice gave one use back, not two: that use is taken now.
    let fourth = r.redeem(&c, &req).await;
    if let Ok(extra) = &fourth {
        step("cleanup: redemptions.reinstate", r.reinstate(&c, extra).await)?;
    }
    step("redemptions.reinstate", r.reinstate(&c, &third).await)?;
    check!(
        matches!(&fourth, Err(e) if e.kind() == &ErrorKind::Conflict),
        "a redeem after reinstating twice and redeeming once should be Conflict (one use back, not two): {fourth:?}"
    );
    Ok(())
}

/// Offers for guests: listed without a member.
pub async fn list_offers_for_guests(p: &dyn Provider, env: &Environment) -> Outcome {
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    let offers = step("offers.list(guest)", o.list(&ctx(env), None, None).await)?;
    check!(!offers.is_empty(), "no offer for guests");
    check!(
        offers.iter().all(|o| o.uses_left != Some(0)),
        "a guest offer has no uses left: {:?}",
        offers.iter().find(|o| o.uses_left == Some(0)).map(|o| &o.id)
    );
    Ok(())
}

/// An offer the vendor prices: listed with the basket it carries the vendor's discount, and
/// the engine applies exactly that amount (capped at what the named units are worth) to the
/// units the vendor named, once the customer confirms it; a hold prices it again.
pub async fn vendor_priced_offer(p: &dyn Provider, env: &Environment) -> Outcome {
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    let offers =
        step("offers.list(basket)", o.list(&ctx(env), Some(env.member_id()), Some(env.basket())).await)?;
    let Some((offer, discount)) = offers.iter().find_map(|x| match &x.kind {
        OfferKind::VendorPriced { discount: Some(d), .. } => Some((x.clone(), d.clone())),
        _ => None,
    }) else {
        return Err(Verdict::Skip("no vendor-priced offer applies to the seeded basket".into()));
    };
    check!(discount.amount.minor > 0, "the vendor priced {} at {}", offer.id, discount.amount);
    check!(!discount.lines.is_empty(), "the vendor's discount of {} names no line", offer.id);
    let unconfirmed =
        loyalty_core::pricing::price(env.basket(), std::slice::from_ref(&offer), &[], env.now())
            .map_err(|e| fail(format!("pricing: {e}")))?;
    check!(
        unconfirmed.needs_confirmation.contains(&offer.id) && unconfirmed.total_discount.is_zero(),
        "a vendor-priced offer applied without the customer's confirmation"
    );
    let priced = loyalty_core::pricing::price(
        env.basket(),
        std::slice::from_ref(&offer),
        std::slice::from_ref(&offer.id),
        env.now(),
    )
    .map_err(|e| fail(format!("pricing: {e}")))?;
    let worth = named_units_worth(env.basket(), &discount);
    check!(
        priced.total_discount.minor == discount.amount.minor.min(worth),
        "the engine took {} off instead of the vendor's {} (the units it names are worth {} minor units)",
        priced.total_discount,
        discount.amount,
        worth
    );
    for line in priced.lines.iter().filter(|l| !l.discount.is_zero()) {
        check!(
            discount.lines.iter().any(|d| d.line_id == line.line_id),
            "line {} got a discount the vendor did not give it",
            line.line_id
        );
    }
    if p.holds().is_some() && p.capabilities().hold.is_some() {
        let tx = env.fresh_transaction_id();
        let h = p.holds().ok_or_else(|| fail("holds() is None"))?;
        let req = loyalty_core::HoldRequest::new(env.member_id().clone(), offer.clone(), tx)
            .with_basket(env.basket().clone());
        let held = step("holds.hold", h.hold(&ctx(env), &req).await)?;
        check!(
            held.vendor_discount.is_some(),
            "the hold of a vendor-priced offer carries no vendor discount"
        );
        release(p, env, &held).await?;
    }
    Ok(())
}

/// What the units a vendor discount names are worth, as the pricing engine counts them: of
/// each named line the units it names (a partial unit counts as one), no more than the line
/// has, after those an earlier mention of the line took; a line's units are its whole units at
/// the unit price, then a partial unit worth the rest of the line.
fn named_units_worth(basket: &loyalty_core::Basket, discount: &loyalty_core::VendorDiscount) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    let mut taken: Vec<(&loyalty_core::LineId, u64)> = Vec::new();
    let mut worth = 0i64;
    for named in &discount.lines {
        let Some(line) = basket.lines.iter().find(|l| l.line_id == named.line_id) else { continue };
        let price = line.unit_price.minor;
        let whole = line.quantity.trunc().to_u64().unwrap_or(0);
        let gross = (line.quantity * rust_decimal::Decimal::from(price))
            .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            .to_i64()
            .unwrap_or(0);
        let unit_worth = |k: u64| if k < whole { price } else { gross - price * whole as i64 };
        let count = whole + u64::from(!line.quantity.fract().is_zero());
        let wanted = named.units.ceil().to_u64().unwrap_or(0);
        let skip = match taken.iter_mut().find(|(id, _)| *id == &named.line_id) {
            Some((_, n)) => n,
            None => {
                taken.push((&named.line_id, 0));
                &mut taken.last_mut().expect("pushed above").1
            }
        };
        let mut k = 0;
        // The engine stops at a unit worth nothing (a line priced 0, or an empty partial unit).
        while k < wanted && *skip + k < count && unit_worth(*skip + k) > 0 {
            worth += unit_worth(*skip + k);
            k += 1;
        }
        *skip += k;
    }
    worth
}

/// A reservation (no expiry of its own) still blocks another order after its assumed lifetime,
/// until it is released.
pub async fn reservation_stays_until_released(p: &dyn Provider, env: &Environment) -> Outcome {
    let coupon = holdable_offer(p, env, true)
        .await?
        .ok_or_else(|| Verdict::Skip("no single-use coupon or vendor-priced offer seeded".into()))?;
    let (a, b) = (env.fresh_transaction_id(), env.fresh_transaction_id());
    let held = step("holds.hold(A)", hold(p, env, &coupon, &a).await)?;
    let ttl = (held.expires_at - env.now()).to_std().unwrap_or_default();
    if !env.advance_clock(ttl + Duration::from_secs(1)) {
        release(p, env, &held).await?;
        return Err(Verdict::Skip("the target's clock cannot be moved".into()));
    }
    let other = hold(p, env, &coupon, &b).await;
    if let Ok(h) = &other {
        release(p, env, h).await?;
    }
    release(p, env, &held).await?;
    check!(
        matches!(&other, Err(e) if matches!(e.kind(), ErrorKind::Conflict | ErrorKind::Rejected)),
        "a reservation lapsed by itself: {other:?}"
    );
    let after = step("holds.hold(B) after release", hold(p, env, &coupon, &b).await)?;
    release(p, env, &after).await
}

#[cfg(test)]
mod tests {
    use super::named_units_worth;
    use loyalty_core::{
        Basket, Currency, DiscountedLine, Line, Money, Offer, OfferKind, VendorDiscount, VendorRule,
    };
    use rust_decimal::Decimal;

    fn basket() -> Basket {
        let nok = |m| Money::new(m, Currency::NOK);
        Basket::new(Currency::NOK)
            .with_line(Line::new("a", "A", Decimal::from(3), nok(10_000)))
            .with_line(Line::new("b", "B", Decimal::new(15, 1), nok(2_000)))
            .with_line(Line::new("c", "C", Decimal::from(2), nok(0)))
    }

    /// What the engine takes off for a vendor discount far above what its units are worth.
    fn engine_cap(lines: &[(&str, Decimal)]) -> i64 {
        let discount = VendorDiscount::new(
            Money::new(10_000_000, Currency::NOK),
            lines.iter().map(|(l, u)| DiscountedLine::new(*l, *u)).collect(),
        );
        let offer = Offer::new(
            "v",
            "vendor",
            OfferKind::VendorPriced { rule: VendorRule::LowestItem, discount: Some(discount) },
        );
        let now = chrono::Utc::now();
        let priced = loyalty_core::pricing::price(
            &basket(),
            std::slice::from_ref(&offer),
            std::slice::from_ref(&offer.id),
            now,
        )
        .expect("prices");
        priced.total_discount.minor
    }

    fn worth(lines: &[(&str, Decimal)]) -> i64 {
        let discount = VendorDiscount::new(
            Money::new(1, Currency::NOK),
            lines.iter().map(|(l, u)| DiscountedLine::new(*l, *u)).collect(),
        );
        named_units_worth(&basket(), &discount)
    }

    #[test]
    fn the_cap_is_the_named_units_not_the_whole_line_as_the_engine_counts() {
        let one = Decimal::ONE;
        let cases: Vec<(Vec<(&str, Decimal)>, i64)> = vec![
            // One unit of three: one unit's price (the whole line would be 30 000).
            (vec![("a", one)], 10_000),
            // More units than the line has: the line.
            (vec![("a", Decimal::from(5))], 30_000),
            // A partial unit named counts as one; the line's partial unit is worth the rest.
            (vec![("b", Decimal::new(5, 1))], 2_000),
            (vec![("b", Decimal::from(2))], 3_000),
            // A line named twice: the second mention takes the units after the first's.
            (vec![("a", Decimal::from(2)), ("a", Decimal::from(2))], 30_000),
            (vec![("a", one), ("b", one)], 12_000),
            // Units worth nothing add nothing.
            (vec![("c", one)], 0),
        ];
        for (lines, expected) in cases {
            assert_eq!(worth(&lines), expected, "{lines:?}");
            if expected > 0 {
                assert_eq!(engine_cap(&lines), expected, "the engine disagrees on {lines:?}");
            }
        }
    }
}
