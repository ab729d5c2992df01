//! Transaction scenarios: send, cancel, returns in each style.

use loyalty_core::returns::{self, ReturnLedger};
use loyalty_core::{OfferKind, Provider, ReturnRequest, ReturnStyle, SendOutcome};
use rust_decimal::Decimal;

use super::{automatic_offers, check, ctx, fail, plain_transaction, priced_transaction, step, uses_of};
use crate::{Environment, Outcome, Verdict};

/// A new transaction is recorded and the receipt names it.
pub async fn send_transaction(p: &dyn Provider, env: &Environment) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    let receipt =
        step("transactions.send", t.send(&ctx(env).with_idempotency_key(tx.id.as_str()), &tx).await)?;
    // An upsert vendor may not tell a new transaction from a replacement (`Stored`).
    let upsert = p.capabilities().resend == loyalty_core::Resend::Upsert;
    check!(
        receipt.outcome == SendOutcome::Recorded || (upsert && receipt.outcome == SendOutcome::Stored),
        "a new transaction reported {:?}",
        receipt.outcome
    );
    check!(receipt.id == tx.id, "receipt names {} instead of {}", receipt.id, tx.id);
    Ok(())
}

/// Sending the same id twice has one effect and says so.
pub async fn send_twice_deduplicated(p: &dyn Provider, env: &Environment) -> Outcome {
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
        step("cleanup: transactions.cancel", t.cancel(&c, &tx, Some("conformance cleanup")).await)?;
    }
    Ok(())
}

/// An upsert: the same id again replaces the stored transaction and says so.
pub async fn send_twice_replaces(p: &dyn Provider, env: &Environment) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    let c = ctx(env).with_idempotency_key(tx.id.as_str());
    let first = step("transactions.send", t.send(&c, &tx).await)?;
    check!(
        matches!(first.outcome, SendOutcome::Recorded | SendOutcome::Stored),
        "first send reported {:?}",
        first.outcome
    );
    let mut later = tx.clone();
    later.at += chrono::Duration::seconds(1);
    let second = step("transactions.send (same id, later)", t.send(&c, &later).await)?;
    check!(
        matches!(second.outcome, SendOutcome::Replaced | SendOutcome::Stored),
        "a resend of the same id reported {:?}",
        second.outcome
    );
    if p.capabilities().cancel_transaction {
        step("cleanup: transactions.cancel", t.cancel(&c, &later, Some("conformance cleanup")).await)?;
    }
    Ok(())
}

/// A purchase adds points at once; a cancel takes them back.
pub async fn points_earned(p: &dyn Provider, env: &Environment) -> Outcome {
    let m = p.members().ok_or_else(|| fail("members() is None"))?;
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let before = step("members.get", m.get(&ctx(env), env.member_id()).await)?.points.unwrap_or_default();
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    step("transactions.send", t.send(&ctx(env), &tx).await)?;
    let after = step("members.get", m.get(&ctx(env), env.member_id()).await)?.points.unwrap_or_default();
    check!(after > before, "points did not grow after a purchase of {} ({before} -> {after})", tx.total);
    if p.capabilities().cancel_transaction {
        step("transactions.cancel", t.cancel(&ctx(env), &tx, None).await)?;
        let back = step("members.get", m.get(&ctx(env), env.member_id()).await)?.points.unwrap_or_default();
        check!(back == before, "cancel did not take the points back ({before} -> {back})");
    }
    Ok(())
}

/// A sent transaction can be cancelled.
pub async fn cancel_transaction(p: &dyn Provider, env: &Environment) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    step("transactions.send", t.send(&ctx(env), &tx).await)?;
    step("transactions.cancel", t.cancel(&ctx(env), &tx, Some("conformance")).await)?;
    let again = t.cancel(&ctx(env), &tx, Some("conformance")).await;
    if !p.capabilities().second_cancel_refused {
        check!(again.is_ok(), "a second cancel should be a no-op here, got {again:?}");
    }
    Ok(())
}

/// A second cancel is refused, and so is a cancel of an unknown transaction.
pub async fn cancel_twice_refused(p: &dyn Provider, env: &Environment) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    step("transactions.send", t.send(&ctx(env), &tx).await)?;
    step("transactions.cancel", t.cancel(&ctx(env), &tx, Some("conformance")).await)?;
    let again = t.cancel(&ctx(env), &tx, Some("conformance")).await;
    check!(
        matches!(&again, Err(e) if !e.is_unsupported() && !e.is_temporary()),
        "cancelling twice should be refused, got {again:?}"
    );
    let unknown = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    let unknown = t.cancel(&ctx(env), &unknown, None).await;
    check!(unknown.is_err(), "cancelling an unknown transaction succeeded");
    Ok(())
}

/// Cancelling a sale gives the coupons it used back.
pub async fn cancel_gives_offers_back(p: &dyn Provider, env: &Environment) -> Outcome {
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
    step("transactions.cancel", t.cancel(&ctx(env), &tx, None).await)?;
    let after = uses_of(&automatic_offers(p, env).await?, &used.offer_id);
    check!(after == before, "cancel did not give {} back: {before:?} -> {after:?}", used.offer_id);
    Ok(())
}

/// A return of one unit in `style` refunds the frozen net, and reaches the provider: where
/// points show at once, the balance gives back part of what the sale earned (never more); a
/// partial refund is recorded, so refunding the whole sale again is `Rejected`. The same return
/// id is processed once.
///
/// The frozen net alone is the core's own arithmetic on its ledger: a provider whose refund or
/// amend did nothing would pass it. The checks at the provider are what prove the declared
/// style.
pub async fn return_style(p: &dyn Provider, env: &Environment, style: ReturnStyle) -> Outcome {
    let t = p.transactions().ok_or_else(|| fail("transactions() is None"))?;
    let caps = p.capabilities();
    // The balance is read where points show on the member as soon as a sale is sent.
    let members = p.members().filter(|_| caps.points && caps.points_at_send && caps.get_member);
    let balance = |what: &'static str| async move {
        match members {
            Some(m) => step(what, m.get(&ctx(env), env.member_id()).await)
                .map(|m| Some(m.points.unwrap_or_default())),
            None => Ok(None),
        }
    };
    let before = balance("members.get (before the sale)").await?;
    let tx = plain_transaction(env, Some(env.member_id().clone()), env.fresh_transaction_id())?;
    step("transactions.send", t.send(&ctx(env), &tx).await)?;
    let sold = balance("members.get (after the sale)").await?;
    let line = tx.lines.first().ok_or_else(|| fail("the seeded basket is empty"))?.clone();
    let qty = if line.quantity > Decimal::ONE { Decimal::ONE } else { line.quantity };
    let mut ledger = ReturnLedger::new(tx.clone());
    let req = ReturnRequest::new(Some(tx.id.clone()), env.fresh_transaction_id(), env.now())
        .with_line(line.line_id.clone(), qty);
    let out = step("return", returns::process(p, &ctx(env), Some(&mut ledger), &req, Some(style)).await)?;
    check!(out.style == Some(style), "returned in {:?}", out.style);
    // An undiscounted line: one returned unit refunds one unit price.
    let expected = if qty == line.quantity { line.net } else { line.unit_price };
    check!(out.refunded == expected, "refunded {} instead of the frozen net {}", out.refunded, expected);
    let returned = balance("members.get (after the return)").await?;
    if let (Some(before), Some(sold), Some(returned)) = (before, sold, returned) {
        // A sale that earned nothing here has nothing to take back (the points scenario
        // checks earning).
        if sold > before {
            check!(
                returned < sold,
                "the return of {} took no points back: {before} before the sale, {sold} after it, \
                 {returned} after the return",
                out.refunded
            );
            check!(
                returned >= before,
                "the return of one unit took back more points than the whole sale earned: {before} \
                 before the sale, {sold} after it, {returned} after the return"
            );
        }
    }
    if style == ReturnStyle::PartialRefund && ledger.refunded.minor > 0 {
        // Only what is left of the sale can still be refunded: the whole sale again is more,
        // unless the provider never recorded the first refund.
        let whole = loyalty_core::Refund::new(
            tx.id.clone(),
            env.fresh_transaction_id(),
            tx.member.clone(),
            tx.lines.clone(),
            tx.total,
            env.now(),
        );
        let again = t.refund(&ctx(env), &whole).await;
        check!(
            matches!(&again, Err(e) if *e.kind() == loyalty_core::ErrorKind::Rejected),
            "refunding the whole sale of {} after {} was refunded should be Rejected (more than is \
             left), got {again:?}",
            tx.total,
            ledger.refunded
        );
    }
    let again =
        step("return (same id)", returns::process(p, &ctx(env), Some(&mut ledger), &req, Some(style)).await)?;
    check!(again == out, "the same return id processed twice");
    Ok(())
}
