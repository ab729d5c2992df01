//! Connect / domain services (the SessionM contract §4): the Offers wallet call (§4.3), the
//! reward-store purchase (§4.4, §7.10) and the Incentives balance calls (§4.2). No POS container: `retailer_id` travels in the body; Basic
//! auth with the Connect credentials.
//!
//! Simulator decisions (HTTP codes on errors are not public, §4.1): 401 for credentials, 400 for
//! a body that is not a JSON object, a validation failure or another retailer, 404 for an
//! unknown user; the error body is `{"status": "error", "errors": {"code", "type", "message"}}`
//! (the Transactions-service shape, §4.1 \[K\]), with `fields` on validation failures.
//! `Content-Type` is not checked (mandatory only on POS calls, §2).

use axum::{body::Bytes, extract::State, http::HeaderMap};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{basic_is, json_resp, unauthorized, Response, Sim};
use crate::sessionm::{
    demo,
    input::{num, Check, Obj},
    names::{self, code},
    offers::{UoState, UserOffer},
    state::{Inner, User},
};

/// A Connect failure: HTTP status, code, message and field errors.
struct ConnectError(u16, &'static str, String, Option<Value>);

type ConnectOp = fn(&Inner, &Obj, chrono::DateTime<chrono::Utc>) -> Result<Value, ConnectError>;

fn error_json(status: u16, code_: &str, message: &str, fields: Option<Value>) -> Response {
    let kind = match status {
        401 => "unauthorized",
        404 => "not_found",
        _ => "validation",
    };
    let mut errors = json!({"code": code_, "type": kind, "message": message});
    if let (Some(f), Some(o)) = (fields, errors.as_object_mut()) {
        o.insert("fields".into(), f);
    }
    let body = json!({"status": names::ERROR, "errors": errors});
    if status == 401 {
        unauthorized(&body)
    } else {
        json_resp(status, &body.to_string())
    }
}

fn handle(sim: &Sim, headers: &HeaderMap, body: &Bytes, op: ConnectOp) -> Response {
    handle_write(sim, headers, body, |g, o, now| op(g, o, now))
}

fn handle_write(
    sim: &Sim,
    headers: &HeaderMap,
    body: &Bytes,
    op: impl FnOnce(&mut Inner, &Obj, chrono::DateTime<chrono::Utc>) -> Result<Value, ConnectError>,
) -> Response {
    if !basic_is(headers, demo::CONNECT_KEY, demo::CONNECT_SECRET) {
        return error_json(401, code::UNAUTHORIZED, "Missing or invalid credentials.", None);
    }
    let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) else {
        return error_json(400, code::INVALID_JSON, "Body must be a JSON object.", None);
    };
    let mut g = sim.state();
    match op(&mut g, &o, sim.clock.now()) {
        Ok(payload) => json_resp(200, &json!({"status": names::OK_LOWER, "payload": payload}).to_string()),
        Err(ConnectError(s, c, m, f)) => error_json(s, c, &m, f),
    }
}

/// Reads the common `retailer_id` + `user_id` pair and finds the user.
fn user<'a>(inner: &'a Inner, c: &mut Check, o: &Obj) -> Result<&'a User, ConnectError> {
    let retailer = c.req_str(o, "retailer_id", "");
    let user_id = c.req_str(o, "user_id", "");
    let _ = c.str(o, "culture", "");
    if !c.ok() {
        let fields = json!(std::mem::take(&mut c.errors));
        return Err(ConnectError(
            400,
            code::VALIDATION,
            "One or more fields are invalid.".into(),
            Some(fields),
        ));
    }
    // GUIDs compared without regard to case (simulator decision; upper case in practice, §1.1).
    if !retailer.is_some_and(|r| r.eq_ignore_ascii_case(demo::RETAILER_ID)) {
        return Err(ConnectError(400, code::INVALID_RETAILER, "retailer_id is not known.".into(), None));
    }
    let id = user_id.unwrap_or_default();
    inner
        .user(&id)
        .ok_or_else(|| ConnectError(404, code::USER_NOT_FOUND, format!("User {id} not found."), None))
}

fn fields_error(c: Check) -> Result<(), ConnectError> {
    if c.ok() {
        return Ok(());
    }
    Err(ConnectError(400, code::VALIDATION, "One or more fields are invalid.".into(), Some(json!(c.errors))))
}

fn list(items: &[(String, String)]) -> Value {
    Value::Array(
        items
            .iter()
            .enumerate()
            .map(|(n, (id, name))| json!({"id": id, "name": name, "sort_order": n + 1}))
            .collect(),
    )
}

/// `POST /offers/api/2.0/offers/get_user_offers` (§4.3, checklist 20): only ISSUED offers,
/// paged by `skip`/`take` (default 0 / 1000, simulator decision).
fn user_offers_op(inner: &Inner, o: &Obj, now: chrono::DateTime<chrono::Utc>) -> Result<Value, ConnectError> {
    let mut c = Check::new(inner.settings.unknown_fields);
    c.known(o, "", &["retailer_id", "user_id", "skip", "take", "include_pending_extended_data", "culture"]);
    let skip = c.int(o, "skip", "");
    let take = c.int(o, "take", "");
    let _ = c.bool(o, "include_pending_extended_data", "");
    if skip.is_some_and(|s| s < 0) {
        c.err("skip", "must not be negative");
    }
    if take.is_some_and(|t| t < 1) {
        c.err("take", "must be at least 1");
    }
    let u = user(inner, &mut c, o)?;
    fields_error(c)?;
    let issued: Vec<Value> = inner
        .user_offers
        .iter()
        .filter(|uo| uo.user_id == u.id && uo.state == UoState::Issued && !uo.expired(now))
        .map(|uo| uo.json(&inner.offers[uo.offer], now))
        .collect();
    let total = issued.len();
    let skip = usize::try_from(skip.unwrap_or(0)).unwrap_or(0);
    let take = usize::try_from(take.unwrap_or(1000)).unwrap_or(1000);
    let page: Vec<Value> = issued.into_iter().skip(skip).take(take).collect();
    Ok(json!({
        "user": {
            "id": u.id,
            "external_id": u.external_id,
            "email": u.email,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "opted_in": u.opted_in,
            "activated": true,
            "available_points": num(u.points),
        },
        "user_id": u.id,
        "user_offers": page,
        "total_records": total,
        "offer_groups": list(&inner.offer_groups),
        "offer_categories": list(&inner.offer_categories),
        "total_points": num(u.points),
        "available_points": num(u.points),
    }))
}

/// `POST /incentives/api/1.0/user_points/all_balances` (§4.2, checklist 21).
fn all_balances_op(inner: &Inner, o: &Obj, _: chrono::DateTime<chrono::Utc>) -> Result<Value, ConnectError> {
    let mut c = Check::new(inner.settings.unknown_fields);
    c.known(o, "", &["retailer_id", "user_id", "culture"]);
    let u = user(inner, &mut c, o)?;
    fields_error(c)?;
    Ok(json!({
        "retailer_id": demo::RETAILER_ID,
        "user_id": u.id,
        "summary": {"total_points": num(u.points), "life_time_points": num(u.life_time_points)},
        "details": [u.point_detail()],
    }))
}

/// `POST /incentives/api/1.0/user_points/balance` (§4.2): `point_account_ids` required; an
/// empty list means every account (simulator decision).
fn balance_op(inner: &Inner, o: &Obj, _: chrono::DateTime<chrono::Utc>) -> Result<Value, ConnectError> {
    let mut c = Check::new(inner.settings.unknown_fields);
    c.known(o, "", &["retailer_id", "user_id", "point_account_ids", "culture"]);
    let ids = c.str_list(o, "point_account_ids", "");
    if o.get("point_account_ids").is_none_or(Value::is_null) {
        c.err("point_account_ids", "is required");
    }
    let u = user(inner, &mut c, o)?;
    fields_error(c)?;
    if let Some(bad) = ids.iter().flatten().find(|id| *id != demo::POINT_ACCOUNT_ID) {
        return Err(ConnectError(
            400,
            code::POINT_ACCOUNT_NOT_FOUND,
            format!("Point account {bad} not found."),
            None,
        ));
    }
    Ok(json!({"retailer_id": demo::RETAILER_ID, "user_id": u.id, "details": [u.point_detail()]}))
}

/// `POST /offers/api/2.0/offers/rewardstores/purchase_offer` (§4.4 \[K\], §7.10): points buy a
/// reward-store offer, which lands in the wallet as a new issued user offer. All or nothing:
/// the points are spent only when every user offer is issued.
fn purchase_op(
    inner: &mut Inner,
    o: &Obj,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, ConnectError> {
    let mut c = Check::new(inner.settings.unknown_fields);
    c.known(
        o,
        "",
        &["retailer_id", "user_id", "reward_store_id", "reward_store_offer_id", "quantity", "culture"],
    );
    let store = c.req_str(o, "reward_store_id", "");
    let store_offer = c.req_str(o, "reward_store_offer_id", "");
    let quantity = c.int(o, "quantity", "").unwrap_or(1);
    if !(1..=MAX_PURCHASE).contains(&quantity) {
        c.err("quantity", format!("must be between 1 and {MAX_PURCHASE}"));
    }
    let user_id = user(inner, &mut c, o)?.id.clone();
    fields_error(c)?;
    let (store, store_offer) = (store.unwrap_or_default(), store_offer.unwrap_or_default());
    let Some(so) = inner
        .store_offers
        .iter()
        .find(|s| {
            s.reward_store_id.eq_ignore_ascii_case(&store)
                && s.reward_store_offer_id.eq_ignore_ascii_case(&store_offer)
        })
        .cloned()
    else {
        return Err(ConnectError(
            404,
            code::STORE_OFFER_NOT_FOUND,
            format!("Reward store {store} sells no offer {store_offer}."),
            None,
        ));
    };
    let cost = so.price.checked_mul(Decimal::from(quantity)).ok_or_else(|| {
        ConnectError(400, code::VALIDATION, "The purchase's price is out of range.".into(), None)
    })?;
    let available = inner.user(&user_id).map_or(Decimal::ZERO, |u| u.points);
    if cost > available {
        return Err(ConnectError(
            400,
            code::INSUFFICIENT_POINTS,
            format!("The purchase costs {cost} points; {available} are available."),
            None,
        ));
    }
    if let Some(u) = inner.user_mut(&user_id) {
        u.points -= cost;
    }
    let expires = now.checked_add_signed(chrono::Duration::days(so.valid_days)).unwrap_or(now);
    let issue = |inner: &mut Inner| {
        let id = inner.next_uuid();
        inner.user_offers.push(UserOffer {
            user_offer_id: id,
            user_id: user_id.clone(),
            offer: so.offer,
            issued_at: now,
            expiration_date: expires,
            ttl_code: None,
            state: UoState::Issued,
            lapsed_locks: Vec::new(),
        });
        inner.user_offers.len() - 1
    };
    // The reply is the (first) purchased user offer (§4.4 [K]); the others are in the wallet.
    let first = issue(inner);
    for _ in 1..quantity {
        issue(inner);
    }
    let uo = &inner.user_offers[first];
    Ok(uo.json(&inner.offers[uo.offer], now))
}

/// Most units one purchase buys (simulator decision).
const MAX_PURCHASE: i64 = 100;

/// Route handler for purchase_offer.
pub(crate) async fn purchase_offer(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle_write(&sim, &headers, &body, purchase_op)
}

/// Route handler for get_user_offers.
pub(crate) async fn get_user_offers(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&sim, &headers, &body, user_offers_op)
}

/// Route handler for all_balances.
pub(crate) async fn all_balances(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&sim, &headers, &body, all_balances_op)
}

/// Route handler for balance.
pub(crate) async fn balance(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&sim, &headers, &body, balance_op)
}
