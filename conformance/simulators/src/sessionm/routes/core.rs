//! Core customer profiles (the SessionM contract §5.7, §6) under `/priv/v1/apps/{api_key}`:
//! create, get and update by SessionM id or by external id. Basic auth with the API key and the
//! S2S secret.
//!
//! Status handling (§6 \[D\]): business errors are HTTP 200 with `status: "error"` and
//! `errors.code` (lower case on the wire, §5.8; the `core_error_code_case` setting upper-cases
//! them), 401 for credentials, 404 for an unknown id. Simulator decisions: a body that is not
//! JSON answers 400 `argument_error`; validation details sit under `errors.user` (§5.8 shows a
//! `user` member there); `Content-Type` is not checked on Core.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::HeaderMap,
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::{json, Value};

use super::{basic_is, json_resp, unauthorized, Response, Sim};
use crate::sessionm::{
    demo,
    input::{fmt_z, num, Check, FieldErrors, Obj},
    names::{self, core_code},
    settings::CodeCase,
    state::{Inner, Phone, User},
};

/// Members a Core user body may carry (§5.7).
const USER_FIELDS: &[&str] = &[
    "external_id",
    "external_id_type",
    "identifiers",
    "clear_identifiers",
    "opted_in",
    "email",
    "locale",
    "ip",
    "first_name",
    "last_name",
    "gender",
    "dob",
    "address",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "phone_numbers",
    "referral",
    "user_profile",
];
/// Plain string members kept as sent.
const PLAIN: &[&str] = &["locale", "ip", "address", "address2", "city", "state", "zip", "country"];
const PHONE_FIELDS: &[&str] = &["phone_number", "phone_type", "preference_flags", "verified_ownership"];

/// A Core failure.
struct CoreError {
    status: u16,
    code: &'static str,
    message: String,
    fields: Option<FieldErrors>,
}

impl CoreError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), fields: None }
    }
}

fn render(case: CodeCase, e: CoreError) -> Response {
    let code = match case {
        CodeCase::Upper => e.code.to_ascii_uppercase(),
        _ => e.code.to_string(),
    };
    let mut errors = json!({"code": code, "message": e.message});
    if let (Some(f), Some(o)) = (e.fields, errors.as_object_mut()) {
        o.insert("user".into(), json!(f));
    }
    let body = json!({"status": names::ERROR, "errors": errors});
    if e.status == 401 {
        unauthorized(&body)
    } else {
        json_resp(e.status, &body.to_string())
    }
}

/// Which user a path names.
enum Key {
    Id(String),
    External(String),
}

/// Query flags of a GET (§6 \[K\]).
#[derive(Default)]
struct Show {
    identifiers: bool,
    profile: bool,
    incentives: bool,
}

impl Show {
    fn from(q: &HashMap<String, String>) -> Self {
        let on = |k: &str| q.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Self {
            identifiers: on("show_identifiers"),
            profile: on("user[user_profile]"),
            incentives: on("expand_incentives"),
        }
    }
}

/// The Core user object (§5.7).
fn user_json(u: &User, show: &Show) -> Value {
    let mut v = json!({
        "id": u.id,
        "external_id": u.external_id,
        "external_id_type": u.external_id_type,
        "proxy_ids": [],
        "opted_in": u.opted_in,
        "activated": true,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "gender": u.gender,
        "dob": u.dob.map(|d| d.format("%Y-%m-%d").to_string()),
        "phone_numbers": u.phones_json(),
        "available_points": num(u.points),
        "test_points": 0,
        "unclaimed_achievement_count": 0,
        "created_at": fmt_z(u.created_at),
        "updated_at": fmt_z(u.updated_at),
        "registered_at": fmt_z(u.created_at),
        "dma": Value::Null,
        "suspended": false,
        "profile_photo_url": Value::Null,
        "test_account": false,
        "account_status": "good",
        "referrer_code": Value::Null,
        // §5.7 [K]: a client-to-server token (§2); the simulator issues none.
        "auth_token": Value::Null,
    });
    let Some(o) = v.as_object_mut() else { return v };
    for (k, val) in &u.attrs {
        o.insert(k.clone(), val.clone());
    }
    if show.identifiers {
        let ids: Vec<Value> =
            u.identifiers.iter().map(|(e, t)| json!({"external_id": e, "external_id_type": t})).collect();
        o.insert("identifiers".into(), Value::Array(ids));
    }
    if show.profile {
        o.insert("user_profile".into(), u.user_profile.clone().map(Value::Object).unwrap_or(json!({})));
    }
    if show.incentives {
        // §5.7 [K]: the tier fields, and `tier_details` holding the tier levels and the point
        // balances in the §4.2 shape. The simulator runs no tier system: the tier fields are
        // null and `tier_levels` is empty.
        for k in ["tier", "tier_system", "tier_points", "tier_entered_at", "tier_resets_at"] {
            o.insert(k.into(), Value::Null);
        }
        o.insert(
            "tier_details".into(),
            json!({
                "tier_levels": [],
                "point_account_balances": {
                    "summary": {"total_points": num(u.points), "life_time_points": num(u.life_time_points)},
                    "details": [u.point_detail()],
                },
            }),
        );
    }
    v
}

fn ok_user(u: &User, show: &Show) -> Response {
    json_resp(200, &json!({"status": names::OK_LOWER, "user": user_json(u, show)}).to_string())
}

/// Credentials (§2, §6) and the path's API key.
fn authorize(headers: &HeaderMap, api_key: &str) -> Result<(), CoreError> {
    if !basic_is(headers, demo::API_KEY, demo::S2S_SECRET) {
        return Err(CoreError::new(401, core_code::ACCESS_DENIED, "Missing or invalid credentials."));
    }
    if api_key != demo::API_KEY {
        return Err(CoreError::new(401, core_code::INVALID_API_KEY, "Unknown API key."));
    }
    Ok(())
}

/// The `user` object of a `{"user": {...}}` body.
fn user_body(body: &Bytes) -> Result<Obj, CoreError> {
    let Ok(Value::Object(mut o)) = serde_json::from_slice::<Value>(body) else {
        return Err(CoreError::new(400, core_code::ARGUMENT_ERROR, "Body must be a JSON object."));
    };
    match o.remove("user") {
        Some(Value::Object(u)) => Ok(u),
        _ => Err(CoreError::new(200, core_code::MISSING_DATA, "The body needs a \"user\" object.")),
    }
}

fn find(inner: &Inner, key: &Key) -> Result<usize, CoreError> {
    // One external id can map to several users (§6 [K]); the oldest wins (simulator decision).
    let i = match key {
        Key::Id(id) => inner.users.iter().position(|u| u.id == *id),
        Key::External(x) => inner.users.iter().position(|u| u.has_external_id(x)),
    };
    i.ok_or_else(|| CoreError::new(404, core_code::USER_NOT_FOUND, "User not found."))
}

/// Everything a create or update body may set, read and validated.
#[derive(Default)]
struct Changes {
    external_id: Option<String>,
    external_id_type: Option<String>,
    identifiers: Vec<(String, Option<String>)>,
    clear_identifiers: bool,
    opted_in: Option<bool>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    gender: Option<String>,
    dob: Option<NaiveDate>,
    phone_numbers: Option<Vec<Phone>>,
    plain: Vec<(String, Value)>,
    user_profile: Option<Obj>,
}

/// Full years between `dob` and `today`.
fn age(dob: NaiveDate, today: NaiveDate) -> i32 {
    let mut years = today.year() - dob.year();
    if (today.month(), today.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    years
}

fn read(inner: &Inner, u: &Obj, now: DateTime<Utc>) -> Result<Changes, CoreError> {
    let mut c = Check::new(inner.settings.unknown_fields);
    c.known(u, "", USER_FIELDS);
    let mut ch = Changes {
        external_id: c.str(u, "external_id", ""),
        external_id_type: c.str(u, "external_id_type", ""),
        clear_identifiers: c.loose_bool(u, "clear_identifiers", "").unwrap_or(false),
        opted_in: c.loose_bool(u, "opted_in", ""),
        email: c.str(u, "email", ""),
        first_name: c.str(u, "first_name", ""),
        last_name: c.str(u, "last_name", ""),
        gender: c.str(u, "gender", ""),
        dob: c.date(u, "dob", ""),
        user_profile: c.obj(u, "user_profile", "").cloned(),
        ..Changes::default()
    };
    for (p, io) in c.objects(u, "identifiers", "") {
        c.known(io, &p, &["external_id", "external_id_type"]);
        let id = c.req_str(io, "external_id", &p);
        let kind = c.str(io, "external_id_type", &p);
        ch.identifiers.extend(id.map(|id| (id, kind)));
    }
    if u.get("phone_numbers").is_some_and(|v| !v.is_null()) {
        let mut list = Vec::new();
        for (p, po) in c.objects(u, "phone_numbers", "") {
            c.known(po, &p, PHONE_FIELDS);
            let number = c.req_str(po, "phone_number", &p);
            let phone_type = c.str(po, "phone_type", &p);
            let flags = c.str_list(po, "preference_flags", &p).unwrap_or_default();
            let verified = c.loose_bool(po, "verified_ownership", &p);
            list.extend(number.map(|phone_number| Phone {
                phone_number,
                phone_type,
                preference_flags: flags,
                verified_ownership: verified,
            }));
        }
        ch.phone_numbers = Some(list);
    }
    for k in PLAIN {
        if let Some(s) = c.str(u, k, "") {
            ch.plain.push((k.to_string(), Value::String(s)));
        }
    }
    if let Some(r) = c.obj(u, "referral", "") {
        ch.plain.push(("referral".into(), Value::Object(r.clone())));
    }
    if ch.email.as_ref().is_some_and(|e| !e.contains('@')) {
        c.err("email", "is not an e-mail address");
    }
    // §6 [D]: the DOB must make the user older than 13 (checklist 22).
    if ch.dob.is_some_and(|d| age(d, now.date_naive()) <= 13) {
        c.err("dob", "must make the user older than 13");
    }
    if c.ok() {
        return Ok(ch);
    }
    Err(CoreError {
        status: 200,
        code: core_code::VALIDATION,
        message: "Validation failed.".into(),
        fields: Some(c.errors),
    })
}

/// An e-mail another user already has (§6 \[D\]: an e-mail identifies at most one profile;
/// §8.3: enforced, on create and on update; checklist 25), compared without regard to case.
/// `me` is the user a PUT changes: keeping the e-mail it has is no clash, so re-sending
/// identical data stays a harmless 200 (§6 \[K\]) even for the seeded profiles that share one.
fn email_clash(inner: &Inner, me: Option<usize>, ch: &Changes) -> Result<(), CoreError> {
    let Some(e) = &ch.email else { return Ok(()) };
    let same = |m: &Option<String>| m.as_ref().is_some_and(|m| m.eq_ignore_ascii_case(e));
    if me.is_some_and(|i| same(&inner.users[i].email)) {
        return Ok(());
    }
    if inner.users.iter().enumerate().any(|(j, u)| Some(j) != me && same(&u.email)) {
        return Err(CoreError::new(200, core_code::EMAIL_TAKEN, "The e-mail address is already in use."));
    }
    Ok(())
}

/// Phone numbers another user already has, when `core_phone_unique` is on (§8.3).
fn phone_clash(inner: &Inner, me: Option<&str>, ch: &Changes) -> Result<(), CoreError> {
    if !inner.settings.core_phone_unique {
        return Ok(());
    }
    for p in ch.phone_numbers.iter().flatten() {
        let digits = p.digits();
        if inner.users.iter().any(|u| Some(u.id.as_str()) != me && u.has_phone(&digits)) {
            return Err(CoreError::new(
                200,
                core_code::PHONE_TAKEN,
                "The phone number belongs to another user.",
            ));
        }
    }
    Ok(())
}

fn apply(u: &mut User, ch: Changes) {
    if ch.clear_identifiers {
        u.identifiers.clear();
        u.external_id = None;
        u.external_id_type = None;
    }
    let top = ch.external_id.map(|e| (e, ch.external_id_type.clone()));
    // The top-level external id is the most recently written mapping (§1.1 [K]).
    for (id, kind) in ch.identifiers.into_iter().chain(top) {
        u.identifiers.retain(|(e, _)| *e != id);
        u.identifiers.push((id.clone(), kind.clone()));
        u.external_id = Some(id);
        u.external_id_type = kind;
    }
    if let Some(v) = ch.opted_in {
        u.opted_in = v;
    }
    for (field, value) in [
        (&mut u.email, ch.email),
        (&mut u.first_name, ch.first_name),
        (&mut u.last_name, ch.last_name),
        (&mut u.gender, ch.gender),
    ] {
        if value.is_some() {
            *field = value;
        }
    }
    if ch.dob.is_some() {
        u.dob = ch.dob;
    }
    // §6 [K]: phone_numbers is replaced wholesale; an empty list reads back as null.
    if let Some(list) = ch.phone_numbers {
        u.phone_numbers = if list.is_empty() { None } else { Some(list) };
    }
    for (k, v) in ch.plain {
        u.attrs.insert(k, v);
    }
    if let Some(p) = ch.user_profile {
        u.user_profile.get_or_insert_with(Obj::new).extend(p);
    }
}

fn create_op(inner: &mut Inner, body: &Bytes, now: DateTime<Utc>) -> Result<Response, CoreError> {
    let u = user_body(body)?;
    let ch = read(inner, &u, now)?;
    if ch.email.is_none() && ch.external_id.is_none() && ch.identifiers.is_empty() {
        return Err(CoreError::new(200, core_code::MISSING_DATA, "An email or an external_id is required."));
    }
    email_clash(inner, None, &ch)?;
    phone_clash(inner, None, &ch)?;
    let mut user = User {
        id: inner.next_uuid(),
        external_id: None,
        external_id_type: None,
        identifiers: Vec::new(),
        email: None,
        first_name: None,
        last_name: None,
        gender: None,
        dob: None,
        opted_in: false,
        phone_numbers: None,
        attrs: Default::default(),
        user_profile: None,
        created_at: now,
        updated_at: now,
        points: Default::default(),
        life_time_points: Default::default(),
    };
    apply(&mut user, ch);
    let resp = ok_user(&user, &Show::default());
    inner.users.push(user);
    Ok(resp)
}

fn get_op(inner: &Inner, key: &Key, q: &HashMap<String, String>) -> Result<Response, CoreError> {
    let i = find(inner, key)?;
    Ok(ok_user(&inner.users[i], &Show::from(q)))
}

/// PUT: members present are written, others kept; identical data is a harmless 200 (§6 \[K\]).
fn put_op(inner: &mut Inner, key: &Key, body: &Bytes, now: DateTime<Utc>) -> Result<Response, CoreError> {
    let i = find(inner, key)?;
    let u = user_body(body)?;
    let ch = read(inner, &u, now)?;
    email_clash(inner, Some(i), &ch)?;
    let me = inner.users[i].id.clone();
    phone_clash(inner, Some(&me), &ch)?;
    let before = user_json(&inner.users[i], &Show { identifiers: true, profile: true, incentives: false });
    let user = &mut inner.users[i];
    apply(user, ch);
    if user_json(user, &Show { identifiers: true, profile: true, incentives: false }) != before {
        user.updated_at = now;
    }
    Ok(ok_user(user, &Show::default()))
}

fn respond(
    sim: &Sim,
    headers: &HeaderMap,
    api_key: &str,
    f: impl FnOnce(&mut Inner) -> Result<Response, CoreError>,
) -> Response {
    let mut g = sim.state();
    let case = g.settings.core_error_code_case;
    match authorize(headers, api_key).and_then(|()| f(&mut g)) {
        Ok(r) => r,
        Err(e) => render(case, e),
    }
}

/// `POST /priv/v1/apps/{api_key}/users` (§6, checklist 22).
pub(crate) async fn create(
    State(sim): State<Sim>,
    Path(api_key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sim.clock.now();
    respond(&sim, &headers, &api_key, |g| create_op(g, &body, now))
}

/// `GET /priv/v1/apps/{api_key}/users/{user_id}` (§6).
pub(crate) async fn get_by_id(
    State(sim): State<Sim>,
    Path((api_key, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    respond(&sim, &headers, &api_key, |g| get_op(g, &Key::Id(id), &q))
}

/// `GET /priv/v1/apps/{api_key}/external/users/{external_id}` (§6).
pub(crate) async fn get_by_external(
    State(sim): State<Sim>,
    Path((api_key, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    respond(&sim, &headers, &api_key, |g| get_op(g, &Key::External(id), &q))
}

/// `PUT /priv/v1/apps/{api_key}/users/{user_id}` (§6, checklist 24).
pub(crate) async fn put_by_id(
    State(sim): State<Sim>,
    Path((api_key, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sim.clock.now();
    respond(&sim, &headers, &api_key, |g| put_op(g, &Key::Id(id), &body, now))
}

/// `PUT /priv/v1/apps/{api_key}/external/users/{external_id}` (§6).
pub(crate) async fn put_by_external(
    State(sim): State<Sim>,
    Path((api_key, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sim.clock.now();
    respond(&sim, &headers, &api_key, |g| put_op(g, &Key::External(id), &body, now))
}
