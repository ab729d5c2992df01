//! Lock, unlock, immediate redeem and reinstate (the SessionM contract §3.5-§3.8, §7.1-§7.4,
//! state machine §8.1).

use super::pos::{finish, PosError, PosReq, PosResult};
use crate::sessionm::{
    input::{join, plus_secs},
    model::{transaction, Txn, TxnUse},
    names::{self, code},
    offers::UoState,
    settings::StateMismatch,
    state::Inner,
};

const P: &str = "request_payload";
const LOOKUP_FIELDS: &[&str] = &["offer_lookup_code", "offer_lookup_type", "transaction"];
const RELEASE_FIELDS: &[&str] = &["user_offer_id", "employee_id"];

/// Reads the Lock Offer object (§3.5, also Immediate Redeem §3.7).
fn read_lookup(rq: &PosReq<'_>) -> Result<(String, &'static str, Txn), PosError> {
    let p = rq.payload;
    let mut c = rq.check();
    c.known(p, P, LOOKUP_FIELDS);
    let code_ = c.req_str(p, "offer_lookup_code", P);
    let kind = c.req_str(p, "offer_lookup_type", P);
    // §3.5 [D]: exactly "TTLCode" or "UserOfferId".
    let kind = kind.and_then(|k| {
        let found = [names::LOOKUP_USER_OFFER_ID, names::LOOKUP_TTL_CODE].into_iter().find(|n| *n == k);
        if found.is_none() {
            c.err(&join(P, "offer_lookup_type"), "must be \"TTLCode\" or \"UserOfferId\"");
        }
        found
    });
    let txn = c
        .req_obj(p, "transaction", P)
        .and_then(|t| transaction(&mut c, t, &join(P, "transaction"), TxnUse::Basket));
    finish(c)?;
    match (code_, kind, txn) {
        (Some(a), Some(b), Some(t)) => Ok((a, b, t)),
        _ => Err(PosError::new(code::VALIDATION, "One or more fields are invalid.")),
    }
}

/// Finds the user offer a lookup code names (§7.1: a `UserOfferId` or a `TTLCode`).
fn resolve(
    inner: &Inner,
    lookup: &str,
    kind: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, PosError> {
    let not_found = || PosError::new(code::OFFER_NOT_FOUND, "No offer matches the lookup code.");
    if kind == names::LOOKUP_TTL_CODE {
        let i = inner
            .user_offers
            .iter()
            .position(|u| u.ttl_code.as_ref().is_some_and(|(c, _)| c == lookup))
            .ok_or_else(not_found)?;
        if inner.user_offers[i].ttl_code.as_ref().is_some_and(|(_, until)| now > *until) {
            return Err(PosError::new(code::TTL_CODE_EXPIRED, "The TTL code has expired."));
        }
        return Ok(i);
    }
    inner.user_offers.iter().position(|u| u.user_offer_id == lookup).ok_or_else(not_found)
}

/// Shared part of lock and redeem: resolve, check state, store and basket, compute.
fn evaluate(
    inner: &Inner,
    rq: &PosReq<'_>,
) -> Result<(usize, Txn, crate::sessionm::offers::Computed), PosError> {
    let (lookup, kind, txn) = read_lookup(rq)?;
    let i = resolve(inner, &lookup, kind, rq.now)?;
    let uo = &inner.user_offers[i];
    // §8.1: expired offers cannot be locked.
    if uo.expired(rq.now) {
        return Err(PosError::new(code::OFFER_EXPIRED, "The offer has expired."));
    }
    match &uo.state {
        UoState::Redeemed { .. } => {
            return Err(PosError::new(code::OFFER_NOT_AVAILABLE, "The offer was already redeemed."));
        }
        // §7.2 [I]: a lock held by another transaction refuses (checklist 8); the same
        // `transaction_id` at another store is another transaction (§7.5, §8.3).
        UoState::Locked { .. } if !uo.state.locked_by(&rq.store_id, &txn.transaction_id) => {
            return Err(PosError::new(code::OFFER_LOCKED, "The offer is locked by another transaction."));
        }
        _ => {}
    }
    let offer = &inner.offers[uo.offer];
    if !offer.store_ok(&rq.store_id) {
        return Err(PosError::new(code::OFFER_NOT_APPLICABLE, "The offer is not valid at this store."));
    }
    let computed = offer.compute(&txn.items, rq.dp());
    if computed.amount.is_zero() {
        return Err(PosError::new(code::OFFER_NOT_APPLICABLE, "The offer gives no discount on this basket."));
    }
    Ok((i, txn, computed))
}

/// Position of a new discount among those locked to the same transaction (of the same store).
fn stack_order(inner: &Inner, i: usize, store: &str, transaction: &str) -> i64 {
    if let UoState::Locked { stack_order, .. } = &inner.user_offers[i].state {
        if inner.user_offers[i].state.locked_by(store, transaction) {
            return *stack_order;
        }
    }
    let held = inner.user_offers.iter().filter(|u| u.state.locked_by(store, transaction)).count();
    i64::try_from(held).unwrap_or(0) + 1
}

/// `POST /api/2.0/lock` (§3.5): locks for `lock_ttl_secs`; the same transaction re-locking
/// refreshes the lock and recomputes the discount (§3.5 rules, checklist 9).
pub(crate) fn lock(inner: &mut Inner, rq: &PosReq<'_>) -> PosResult {
    let (i, txn, computed) = evaluate(inner, rq)?;
    let stack = stack_order(inner, i, &rq.store_id, &txn.transaction_id);
    let uo = &mut inner.user_offers[i];
    uo.state = UoState::Locked {
        transaction_id: txn.transaction_id.clone(),
        store_id: rq.store_id.clone(),
        expires_at: plus_secs(rq.now, rq.settings.lock_ttl_secs),
        stack_order: stack,
    };
    // This transaction's lock is live again; another transaction's lapsed lock stays lapsed.
    uo.lapsed_locks.retain(|(s, t)| *s != rq.store_id || *t != txn.transaction_id);
    let uo = &inner.user_offers[i];
    Ok(Some(uo.discount_json(
        &inner.offers[uo.offer],
        &computed,
        names::DISCOUNT_LOCKED,
        Some(stack),
        rq.now,
    )))
}

/// `POST /api/2.0/redeem` (§3.7): consumes at once; a lock by the same transaction is taken over.
pub(crate) fn redeem(inner: &mut Inner, rq: &PosReq<'_>) -> PosResult {
    let (i, txn, computed) = evaluate(inner, rq)?;
    let stack = stack_order(inner, i, &rq.store_id, &txn.transaction_id);
    inner.user_offers[i].state =
        UoState::Redeemed { transaction_id: txn.transaction_id.clone(), store_id: rq.store_id.clone() };
    let uo = &inner.user_offers[i];
    Ok(Some(uo.discount_json(
        &inner.offers[uo.offer],
        &computed,
        names::DISCOUNT_REDEEMED,
        Some(stack),
        rq.now,
    )))
}

/// Reads `{user_offer_id, employee_id}`, both required (§3.6, §3.8, checklist 11).
fn read_release(rq: &PosReq<'_>) -> Result<String, PosError> {
    let p = rq.payload;
    let mut c = rq.check();
    c.known(p, P, RELEASE_FIELDS);
    let id = c.req_str(p, "user_offer_id", P);
    let _ = c.req_str(p, "employee_id", P);
    finish(c)?;
    id.ok_or_else(|| PosError::new(code::VALIDATION, "user_offer_id is required."))
}

/// `POST /api/2.0/unlock` (§3.6, §7.3): back to issued; no payload.
pub(crate) fn unlock(inner: &mut Inner, rq: &PosReq<'_>) -> PosResult {
    let id = read_release(rq)?;
    let uo = inner
        .user_offer_mut(&id)
        .ok_or_else(|| PosError::new(code::OFFER_NOT_FOUND, "No such user offer."))?;
    if matches!(uo.state, UoState::Locked { .. }) {
        uo.state = UoState::Issued;
        return Ok(None);
    }
    // §7.3 [S]: unlocking a non-locked or redeemed offer.
    match rq.settings.unlock_not_locked {
        StateMismatch::NoOp => Ok(None),
        _ => Err(PosError::new(code::OFFER_NOT_LOCKED, "The offer is not locked.")),
    }
}

/// `POST /api/2.0/reinstate` (§3.8, §7.4): a redeemed offer back to issued; no payload.
pub(crate) fn reinstate(inner: &mut Inner, rq: &PosReq<'_>) -> PosResult {
    let id = read_release(rq)?;
    let uo = inner
        .user_offer_mut(&id)
        .ok_or_else(|| PosError::new(code::OFFER_NOT_FOUND, "No such user offer."))?;
    if matches!(uo.state, UoState::Redeemed { .. }) {
        uo.state = UoState::Issued;
        uo.lapsed_locks.clear();
        return Ok(None);
    }
    // §7.4 [S]: reinstating an offer that was never redeemed (checklist 13).
    match rq.settings.reinstate_not_redeemed {
        StateMismatch::NoOp => Ok(None),
        _ => Err(PosError::new(code::OFFER_NOT_REDEEMED, "The offer is not redeemed.")),
    }
}
