//! `POST /api/2.0/send_transaction` (the SessionM contract §3.9, §7.1, §7.5-§7.8).
//!
//! Upsert by (store, `transaction_id`) (§7.5, §8.3: "store/retailer"; one retailer per
//! simulator, so the same `transaction_id` from another store is another transaction), newest
//! `modified_time` wins; an equal or older one arriving later is ignored with a warning and
//! answered OK (§7.5, §7.8 \[S\]). Locks and redemptions belong to a transaction of a store in
//! the same way.
//! Outcomes are recomputed from the difference between the stored and the new version:
//! * offers: a closed, non-voided version consumes the user offers its `discounts[]` reference
//!   that the previous version did not already consume, when this transaction locked them
//!   (§7.1, §8.1) or its lock on them expired and they are still available (§7.2, §8.3 \[S\]);
//!   a discount for an offer the transaction never locked, or unlocked, redeems nothing and is
//!   noted as a warning (§8.1 has no such transition); a discount dropped by a
//!   re-send leaves its offer redeemed with a warning, since the returns flow gives offers back
//!   with `reinstate` (§7.7); a version that turns `is_voided` on gives back every offer
//!   redeemed or locked under that transaction id (§7.5 \[I\]);
//! * points: see [`Inner::points_for`], credited `points_delay_secs` after receipt; a replacement
//!   or a void moves the balance to the new figure.
//!
//! The response payload is undocumented (§3.9); simulator decision: `{"id", "pos_transaction_id"}`.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde_json::json;

use super::pos::{finish, PosError, PosReq, PosResult};
use crate::sessionm::{
    input::{plus_secs, FieldErrors},
    model::{totals_findings, transaction, Txn, TxnUse, TOO_LARGE},
    names::{self, code},
    offers::UoState,
    settings::{ExpiredLockDiscount, TotalsMismatch},
    state::{Inner, PointsOutcome, StoredTxn},
};

/// A `validation` failure naming `field`: `what` passes the decimal range.
fn too_large(field: &str, what: &str) -> PosError {
    let mut fields = FieldErrors::new();
    fields.insert(field.to_string(), vec![format!("{what} {TOO_LARGE}")]);
    PosError {
        code: code::VALIDATION,
        message: "One or more fields are invalid.".into(),
        fields: Some(fields),
    }
}

/// User offers a version consumes: those its discounts reference, when closed and not voided.
fn consumed(inner: &Inner, t: &Txn) -> BTreeSet<usize> {
    if !t.is_closed || t.is_voided {
        return BTreeSet::new();
    }
    t.discounts
        .iter()
        .filter_map(|d| reference(inner, d.reference_id.as_deref()?, d.reference_id_type.as_deref()))
        .collect()
}

/// The user offer a discount's `reference_id` names: a TTL code when `reference_id_type` says
/// so, else a `user_offer_id` (§5.5 \[I\]).
fn reference(inner: &Inner, id: &str, kind: Option<&str>) -> Option<usize> {
    if kind == Some(names::LOOKUP_TTL_CODE) {
        return inner.user_offers.iter().position(|u| u.ttl_code.as_ref().is_some_and(|(c, _)| c == id));
    }
    inner.user_offers.iter().position(|u| u.user_offer_id == id)
}

pub(crate) fn send(inner: &mut Inner, rq: &PosReq<'_>) -> PosResult {
    let mut c = rq.check();
    let txn = transaction(&mut c, rq.payload, "request_payload", TxnUse::Send);
    finish(c)?;
    let Some(txn) = txn else { return Err(PosError::new(code::VALIDATION, "Invalid transaction.")) };
    let tid = txn.transaction_id.clone();
    let key = (rq.store_id.clone(), tid.clone());
    let store = rq.store_id.as_str();
    let Some((_, modified)) = txn.modified_time.clone() else {
        return Err(PosError::new(code::VALIDATION, "modified_time is required."));
    };

    let findings = totals_findings(&txn, rq.dp());
    // §7.6 [I], §8.3: mismatched totals warn, or refuse with the setting.
    if !findings.is_empty() && rq.settings.mismatched_totals == TotalsMismatch::Reject {
        return Err(PosError::new(code::TOTALS_MISMATCH, findings.join("; ")));
    }

    // Points are computed before anything changes, so an amount past the decimal range refuses
    // the whole transaction instead of failing half way.
    let Some(points) = inner.points_for(&txn) else {
        return Err(too_large("request_payload.items", "the points the transaction earns"));
    };

    let existing = inner.transactions.get(&key);
    if let Some(e) = existing {
        if modified <= e.modified {
            // §7.8 [S]: out-of-order delivery is accepted and resolved by modified_time.
            let id = e.id.clone();
            inner.warn(&tid, "modified_time is not newer than the stored version; ignored");
            return Ok(Some(json!({"id": id, "pos_transaction_id": tid})));
        }
    }
    // The member's balances once this version's points replace what the stored one credited
    // (points still pending from other transactions saturate when they arrive, see settle).
    let user = inner.attributed_user(&txn);
    if let Some(u) = user.as_deref().and_then(|u| inner.user(u)) {
        let replaced = existing
            .and_then(|e| e.points.credited.as_ref())
            .filter(|(credited_to, _)| *credited_to == u.id)
            .map_or(Decimal::ZERO, |(_, p)| *p);
        let fits = |b: Decimal| b.checked_sub(replaced).and_then(|b| b.checked_add(points)).is_some();
        if !fits(u.points) || !fits(u.life_time_points) {
            return Err(too_large("request_payload.items", "the member's balance plus the points earned"));
        }
    }
    let before = existing.map(|e| consumed(inner, &e.txn)).unwrap_or_default();
    let was_voided = existing.is_some_and(|e| e.txn.is_voided);
    let after = consumed(inner, &txn);

    let live_lock = |inner: &Inner, i: usize| inner.user_offers[i].state.held_by(store, &tid);
    // §8.3 alternative: a discount whose lock is gone refuses the whole transaction.
    if rq.settings.expired_lock_discount == ExpiredLockDiscount::Reject {
        if let Some(&i) = after.difference(&before).find(|&&i| !live_lock(inner, i)) {
            let id = inner.user_offers[i].user_offer_id.clone();
            return Err(PosError::new(
                code::LOCK_EXPIRED,
                format!("No live lock on {id} for this transaction."),
            ));
        }
    }

    let mut notes = Vec::new();
    for &i in after.difference(&before) {
        let uo = &mut inner.user_offers[i];
        match &uo.state {
            // §8.1: a closed transaction carrying the lock's discount redeems the offer.
            s if s.locked_by(store, &tid) => {
                uo.state = UoState::Redeemed { transaction_id: tid.clone(), store_id: store.to_string() };
            }
            // Redeemed at once for this transaction (§3.7): its sale carries the Discount.
            s if s.held_by(store, &tid) => {}
            // §7.2, §8.3 [S]: a lock of this transaction that expired: redeem if the offer is
            // still available.
            UoState::Issued if !uo.expired(rq.now) && uo.lapsed_locks.contains(&key) => {
                notes.push(format!("lock on {} had expired; redeemed as still available", uo.user_offer_id));
                uo.lapsed_locks.retain(|k| *k != key);
                uo.state = UoState::Redeemed { transaction_id: tid.clone(), store_id: store.to_string() };
            }
            // §8.1: a sale redeems only what its transaction locked (or redeemed); an offer it
            // never locked, or whose lock was released with unlock, has no transition and
            // stays in the wallet. The transaction is still accepted, the discount noted like
            // any other that cannot redeem (§8.3: "else record a warning").
            UoState::Issued if !uo.expired(rq.now) => {
                notes.push(format!(
                    "offer {} is not locked by this transaction (never locked, or unlocked); discount not redeemed",
                    uo.user_offer_id
                ));
            }
            other => {
                let why = match other {
                    UoState::Locked { transaction_id, store_id, .. } => {
                        format!("locked by {transaction_id} at {store_id}")
                    }
                    UoState::Redeemed { transaction_id, store_id } => {
                        format!("redeemed by {transaction_id} at {store_id}")
                    }
                    UoState::Issued => "expired".to_string(),
                };
                notes.push(format!(
                    "offer {} is not available ({why}); discount not redeemed",
                    uo.user_offer_id
                ));
            }
        }
    }
    let closing = txn.is_closed && !txn.is_voided;
    for d in txn.discounts.iter().filter(|_| closing) {
        if let Some(r) = &d.reference_id {
            if reference(inner, r, d.reference_id_type.as_deref()).is_none() {
                notes.push(format!("discount reference {r} names no user offer"));
            }
        }
    }
    if !txn.is_voided {
        for &i in before.difference(&after) {
            notes.push(format!(
                "discount for {} dropped; the offer stays redeemed until reinstated",
                inner.user_offers[i].user_offer_id
            ));
        }
    }
    if txn.is_voided && !was_voided {
        for uo in &mut inner.user_offers {
            if uo.state.held_by(store, &tid) {
                uo.state = UoState::Issued;
            }
        }
    }
    notes.extend(findings);
    for n in notes {
        inner.warn(&tid, n);
    }

    let (id, created, credited) = match inner.transactions.get(&key) {
        Some(e) => (e.id.clone(), e.created, e.points.credited.clone()),
        None => (inner.next_uuid(), rq.now, None),
    };
    let stored = StoredTxn {
        id: id.clone(),
        store_id: rq.store_id.clone(),
        txn,
        modified,
        created,
        updated: rq.now,
        points: PointsOutcome {
            target: user.map(|u| (u, points)),
            credited,
            due_at: Some(plus_secs(rq.now, rq.settings.points_delay_secs)),
        },
    };
    inner.transactions.insert(key, stored);
    inner.settle(rq.now);
    Ok(Some(json!({"id": id, "pos_transaction_id": tid})))
}
