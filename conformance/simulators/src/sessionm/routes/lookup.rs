//! `POST /api/2.0/lookup`: User Lookup, with or without a basket (the SessionM contract §3.3,
//! §7.9).
//!
//! The response payload is not public (§3.3 \[I\]). Simulator decision, close to the contract's
//! inference: `{"user": {...}, "user_id", "offers": [wallet entry (§5.6) + "discount"]}`, where
//! `discount` (a Discount object, §5.5, `status` `"available"`, or `"locked"` for an offer
//! locked to the basket's transaction) is present only when a `transaction` was sent.

use serde_json::{json, Value};

use super::pos::{finish, PosError, PosReq, PosResult};
use crate::sessionm::{
    input::join,
    model::{transaction, TxnUse},
    names::{self, code},
    offers::UoState,
    state::{Inner, User},
};

const FIELDS: &[&str] = &["email", "phone", "user_id", "external_customer_id", "transaction"];
const P: &str = "request_payload";

/// The matched user as the lookup payload carries it (simulator decision: the Core user's
/// identity fields plus the point balance, §3.3 \[I\]).
fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "external_id": u.external_id,
        "external_id_type": u.external_id_type,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "phone_numbers": u.phones_json(),
        "opted_in": u.opted_in,
        "available_points": crate::sessionm::input::num(u.points),
        "life_time_points": crate::sessionm::input::num(u.life_time_points),
    })
}

pub(crate) fn lookup(inner: &mut Inner, rq: &PosReq<'_>) -> PosResult {
    let p = rq.payload;
    let mut c = rq.check();
    c.known(p, P, FIELDS);
    let email = c.str(p, "email", P);
    let phone = c.str(p, "phone", P);
    let user_id = c.str(p, "user_id", P);
    let external = c.str(p, "external_customer_id", P);
    // §3.3: phone is digits only.
    if phone.as_ref().is_some_and(|ph| ph.is_empty() || !ph.chars().all(|ch| ch.is_ascii_digit())) {
        c.err(&join(P, "phone"), "must be digits only");
    }
    let given = [&email, &phone, &user_id, &external].iter().filter(|v| v.is_some()).count();
    // Simulator decision: exactly one criterion per lookup (§3.3: "the criterion").
    if given != 1 {
        c.err(P, "exactly one of email, phone, user_id, external_customer_id is required");
    }
    let basket = c
        .obj(p, "transaction", P)
        .and_then(|t| transaction(&mut c, t, &join(P, "transaction"), TxnUse::Basket));
    finish(c)?;

    let matches: Vec<&User> = inner
        .users
        .iter()
        .filter(|u| {
            // E-mail compared without regard to case (simulator decision).
            email.as_ref().is_some_and(|e| u.email.as_ref().is_some_and(|m| m.eq_ignore_ascii_case(e)))
                || phone.as_ref().is_some_and(|ph| u.has_phone(ph))
                || user_id.as_ref().is_some_and(|id| u.id == *id)
                || external.as_ref().is_some_and(|x| u.has_external_id(x))
        })
        .collect();
    // §3.3 rule: the criterion must identify exactly one account (checklist 4).
    let user = match matches.as_slice() {
        [] => return Err(PosError::new(code::USER_NOT_FOUND, "No user matches the criterion.")),
        [u] => *u,
        _ => {
            return Err(PosError::new(
                code::AMBIGUOUS_USER,
                "Several users match the criterion; try a different identifier.",
            ))
        }
    };

    let now = rq.now;
    let mut offers = Vec::new();
    for uo in inner.user_offers.iter().filter(|uo| uo.user_id == user.id && !uo.expired(now)) {
        let offer = &inner.offers[uo.offer];
        let locked_here =
            basket.as_ref().is_some_and(|b| uo.state.locked_by(&rq.store_id, &b.transaction_id));
        if uo.state != UoState::Issued && !locked_here {
            continue;
        }
        let mut entry = uo.json(offer, now);
        if let Some(b) = &basket {
            // §3.3 / §7.9: with a basket only catalog and store restrictions decide the list.
            if !offer.store_ok(&rq.store_id) || !offer.catalog_ok(&b.items) {
                continue;
            }
            let status = if locked_here { names::DISCOUNT_LOCKED } else { names::DISCOUNT_AVAILABLE };
            let stack = match &uo.state {
                UoState::Locked { stack_order, .. } => Some(*stack_order),
                _ => None,
            };
            let d = uo.discount_json(offer, &offer.compute(&b.items, rq.dp()), status, stack, now);
            if let Some(o) = entry.as_object_mut() {
                o.insert("discount".into(), d);
            }
        }
        offers.push(entry);
    }
    Ok(Some(json!({"user": user_json(user), "user_id": user.id, names::LOOKUP_OFFERS: offers})))
}
