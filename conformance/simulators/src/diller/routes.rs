//! The Diller routes (diller.md §3) and their behaviour (§4, §7). Each endpoint is a plain
//! function over the locked state; `call` does what every `/api/v2.0` call shares (bearer check,
//! content type, store id).

// The `Err` side is the finished HTTP response, built once per request; boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::{
    collections::HashMap,
    future::{ready, Ready},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use axum::{
    body::{Body, Bytes},
    extract::{
        rejection::{PathRejection, QueryRejection},
        Extension, Path, Query, State,
    },
    http::{header, HeaderMap, HeaderValue, Response as HttpResponse, StatusCode},
    routing::{get, post},
    Router,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{
    demo,
    input::{join, Check, FieldErrors, Obj},
    settings::{
        DeductedCount, DillerSettings, DuplicateTransaction, EnrollExisting, RestartOn, SearchKeys, StampLock,
    },
    state::{
        Consent, Dependent, Inner, Invitation, Member, NonEligible, Profile, SegmentValue, StampCard,
        StampMove, Transaction,
    },
};
use crate::{clock::SimClock, server::Oversized};

pub(crate) type Response = HttpResponse<Body>;
type Res = Result<Response, Response>;
type Op = fn(&mut Inner, &Req) -> Res;
type Params = HashMap<String, String>;

/// Shared simulator state handed to every handler.
#[derive(Clone, Debug)]
pub(crate) struct Sim {
    pub inner: Arc<Mutex<Inner>>,
    pub clock: SimClock,
}

/// One request, already read.
pub(crate) struct Req {
    p: Params,
    q: Params,
    headers: HeaderMap,
    body: Bytes,
    now: DateTime<Utc>,
    s: DillerSettings,
}

impl Req {
    fn param(&self, name: &str) -> &str {
        self.p.get(name).map(String::as_str).unwrap_or("")
    }

    /// A query value; empty values count as absent (§7.1 item 5).
    fn query(&self, name: &str) -> Option<&str> {
        self.q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    fn check(&self) -> Check {
        Check::new(self.s.enum_any_casing)
    }
}

const GENDERS: &[&str] = &["Male", "Female", "NotShared", "NonBinary"];
const SUBSYSTEMS: &[&str] = &["All", "Loyalty", "Lipscore"];
const GTIN_TYPES: &[&str] = &["Isbn", "UpcGtin12", "EanGtin13"];
const STAMP_ACTIONS: &[&str] = &["collected", "deducted"];

// ---------------------------------------------------------------- responses

static TRACE: AtomicU64 = AtomicU64::new(1);

fn json_resp(status: StatusCode, v: &Value, content_type: &'static str) -> Response {
    let mut r = HttpResponse::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn ok(v: Value) -> Res {
    Ok(json_resp(StatusCode::OK, &v, "application/json; charset=utf-8"))
}

/// Problem details as ASP.NET Core writes them (§5.8), with a `traceId` extension.
pub(crate) fn problem(
    status: u16,
    title: &str,
    detail: Option<String>,
    errors: Option<FieldErrors>,
) -> Response {
    let section = match status {
        403 => "6.5.3",
        404 => "6.5.4",
        405 => "6.5.5",
        415 => "6.5.13",
        _ => "6.5.1",
    };
    let n = TRACE.fetch_add(1, Ordering::Relaxed);
    let mut v = json!({
        "type": format!("https://tools.ietf.org/html/rfc7231#section-{section}"),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": Value::Null,
        "traceId": format!("00-{n:032x}-{n:016x}-00"),
    });
    if let (Some(e), Some(o)) = (errors, v.as_object_mut()) {
        o.insert("errors".into(), json!(e));
    }
    json_resp(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &v,
        "application/problem+json; charset=utf-8",
    )
}

/// What an unknown path answers.
fn no_route() -> Response {
    problem(404, "Not Found", Some("No such route.".into()), None)
}

fn bad(detail: impl Into<String>) -> Response {
    problem(400, "Bad Request", Some(detail.into()), None)
}

fn invalid(errors: FieldErrors) -> Response {
    problem(400, "One or more validation errors occurred.", None, Some(errors))
}

fn field_error(path: &str, msg: &str) -> Response {
    let mut e = FieldErrors::new();
    e.insert(path.to_string(), vec![msg.to_string()]);
    invalid(e)
}

/// Unknown ids: 400 as declared, or 404 with the strict-404 setting (§7.2).
fn not_found(rq: &Req, what: &str) -> Response {
    let detail = format!("{what} not found.");
    if rq.s.strict_404 {
        problem(404, "Not Found", Some(detail), None)
    } else {
        bad(detail)
    }
}

fn action(is_ok: bool, details: impl Into<String>) -> Res {
    ok(json!({"is_ok": is_ok, "details": details.into()}))
}

fn finish(c: Check) -> Result<(), Response> {
    if c.ok() {
        Ok(())
    } else {
        Err(invalid(c.errors))
    }
}

fn body_value(rq: &Req) -> Result<Value, Response> {
    if rq.body.iter().all(u8::is_ascii_whitespace) {
        return Err(field_error("", "A non-empty request body is required."));
    }
    serde_json::from_slice(&rq.body).map_err(|e| field_error("$", &format!("{e}")))
}

fn body_obj(rq: &Req) -> Result<Obj, Response> {
    match body_value(rq)? {
        Value::Object(o) => Ok(o),
        _ => Err(field_error("$", "The JSON value could not be converted to an object.")),
    }
}

/// The body of an endpoint whose model has no required field (C4, C5, K3, K4, T2, T3: every
/// field is optional in the swagger, §1 "Body optionality", §5.4, §5.5, §5.6): no body at all reads as `{}`, so
/// each missing field behaves as it does when absent from a JSON object (T3 then answers the
/// 400 a missing `total` gets, a simulator choice shared with T1).
fn body_obj_or_empty(rq: &Req) -> Result<Obj, Response> {
    if rq.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Obj::new());
    }
    body_obj(rq)
}

fn body_arr(rq: &Req) -> Result<Vec<Value>, Response> {
    match body_value(rq)? {
        Value::Array(a) => Ok(a),
        _ => Err(field_error("$", "The JSON value could not be converted to an array.")),
    }
}

// ---------------------------------------------------------------- plumbing

fn unauthorized() -> Response {
    let mut r = HttpResponse::new(Body::empty());
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// `application/json`, `text/json`, `application/*+json`, with or without parameters (§7.1).
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json"
        || mime == "text/json"
        || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// What the kit and the extractors found wrong with a request before any endpoint logic.
#[derive(Debug, Default)]
pub(crate) struct Unreadable {
    /// The body passed the kit's limit ([`Oversized`]); the handler got none of it.
    pub oversized: Option<Oversized>,
    /// A path or query parameter that is not valid percent-encoded UTF-8.
    pub bad_uri: Option<String>,
}

impl Unreadable {
    /// Answers in Diller's shape, after the auth check: what Kestrel and ASP.NET would refuse
    /// before model binding (simulator decision: 413 and 400 problem details, §5.8).
    fn answer(&self) -> Option<Response> {
        if let Some(o) = self.oversized {
            return Some(problem(
                413,
                "Payload Too Large",
                Some(format!("The request body is larger than the {} bytes this server accepts.", o.limit)),
                None,
            ));
        }
        self.bad_uri.as_ref().map(|reason| bad(format!("The request URI is not valid: {reason}.")))
    }
}

/// One request as the extractors delivered it.
struct Incoming {
    headers: HeaderMap,
    p: Params,
    q: Params,
    body: Bytes,
    unreadable: Unreadable,
}

impl Sim {
    fn call(&self, op: Op, api: bool, incoming: Incoming) -> Response {
        let Incoming { headers, p, q, body, unreadable: u } = incoming;
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        if api {
            let token = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim())
                .unwrap_or("");
            // Missing, empty, unknown or expired bearer: 401, empty body (§2, checklist 4).
            if token.is_empty() || inner.tokens.get(token).is_none_or(|exp| *exp <= now) {
                return unauthorized();
            }
        }
        if let Some(r) = u.answer() {
            return r;
        }
        if api && !body.iter().all(u8::is_ascii_whitespace) && !json_content_type(&headers) {
            return problem(415, "Unsupported Media Type", None, None);
        }
        let rq = Req { p, q, headers, body, now, s: inner.settings.clone() };
        if let Some(store) = rq.p.get("storeId") {
            if *store != inner.store.id {
                return not_found(&rq, "Store");
            }
        }
        match op(&mut inner, &rq) {
            Ok(r) | Err(r) => r,
        }
    }
}

type Handler = fn(
    State<Sim>,
    HeaderMap,
    Option<Extension<Oversized>>,
    Result<Path<Params>, PathRejection>,
    Result<Query<Params>, QueryRejection>,
    Bytes,
) -> Ready<Response>;

macro_rules! handler {
    ($op:expr, $api:expr) => {{
        let f: Handler = |State(sim), headers, oversized, path, query, body| {
            let mut u = Unreadable { oversized: oversized.map(|Extension(o)| o), bad_uri: None };
            let p = match path {
                Ok(Path(p)) => p,
                // A route without parameters has nothing to decode.
                Err(PathRejection::MissingPathParams(_)) => Params::new(),
                Err(e) => {
                    u.bad_uri = Some(e.body_text());
                    Params::new()
                }
            };
            let q = match query {
                Ok(Query(q)) => q,
                Err(e) => {
                    u.bad_uri = Some(e.body_text());
                    Params::new()
                }
            };
            ready(sim.call($op, $api, Incoming { headers, p, q, body, unreadable: u }))
        };
        f
    }};
}

/// Builds the Diller router over `sim`.
pub(crate) fn router(sim: Sim) -> Router {
    const S: &str = "/api/v2.0/stores/{storeId}";
    const M: &str = "/api/v2.0/stores/{storeId}/members/{memberId}";
    Router::new()
        .route("/connect/token", post(handler!(token, false)))
        .route("/api/v2.0/stores", get(handler!(s1_stores, true)))
        .route(S, get(handler!(s2_store, true)))
        .route(
            &format!("{S}/departments"),
            get(handler!(s3_departments, true)).post(handler!(s4_create_department, true)),
        )
        .route(&format!("{S}/segments"), get(handler!(s5_segments, true)))
        .route(&format!("{S}/membership-level"), get(handler!(s6_levels, true)))
        .route(&format!("{S}/members/search"), get(handler!(m1_search, true)))
        .route(&format!("{S}/members"), post(handler!(m3_register, true)))
        .route(&format!("{S}/members/enroll"), post(handler!(m4_enroll, true)))
        .route(
            M,
            get(handler!(m2_get, true)).put(handler!(m5_update, true)).delete(handler!(m6_delete, true)),
        )
        .route(
            &format!("{M}/dependents"),
            get(handler!(m7_dependents, true)).post(handler!(m8_set_dependents, true)),
        )
        .route(&format!("{M}/login-otp"), post(handler!(m9_login_otp, true)))
        .route(&format!("{M}/login-otp-verification"), post(handler!(m10_verify_otp, true)))
        .route(&format!("{M}/reset-phone"), post(handler!(m11_reset_phone, true)))
        .route(&format!("{M}/reset-phone-verification"), post(handler!(m12_verify_phone, true)))
        .route(&format!("{M}/widgets/profile"), get(handler!(m13_widget, true)))
        .route(&format!("{M}/invited-friends"), get(handler!(m14_invited, true)))
        .route(&format!("{M}/invited-friend"), get(handler!(m15_invited_by_token, true)))
        .route(&format!("{S}/coupons"), get(handler!(c1_coupons, true)))
        .route(&format!("{M}/coupons"), get(handler!(c2_member_coupons, true)))
        .route(&format!("{M}/coupons/{{couponCode}}/validate"), get(handler!(c3_validate, true)))
        .route(&format!("{M}/coupons/{{couponCode}}/reserve"), post(handler!(c4_reserve, true)))
        .route(
            &format!("{M}/coupons/{{couponCode}}/cancel-reservation"),
            post(handler!(c5_cancel_reservation, true)),
        )
        .route(&format!("{S}/stamp-cards"), get(handler!(k1_stamp_cards, true)))
        .route(&format!("{M}/stamp-cards"), get(handler!(k2_member_stamp_cards, true)))
        .route(&format!("{M}/stamp-cards/{{stampId}}/reserve"), post(handler!(k3_reserve_stamp, true)))
        .route(
            &format!("{M}/stamp-cards/{{stampId}}/cancel-reservation"),
            post(handler!(k4_cancel_stamp, true)),
        )
        .route(&format!("{M}/transactions"), post(handler!(t1_transaction, true)))
        .route(&format!("{S}/transactions/{{externalTransactionId}}/cancel"), post(handler!(t2_cancel, true)))
        .route(&format!("{M}/transactions/{{transactionId}}/refund"), post(handler!(t3_refund, true)))
        .route(
            &format!("{S}/non-eligible-products"),
            get(handler!(n1_list, true)).post(handler!(n2_add, true)).put(handler!(n3_update, true)),
        )
        .route(
            &format!("{S}/non-eligible-products/{{nonEligibleProductId}}"),
            axum::routing::delete(handler!(n4_delete, true)),
        )
        .fallback(|| async { no_route() })
        .method_not_allowed_fallback(|| async { problem(405, "Method Not Allowed", None, None) })
        .with_state(sim)
}

// ---------------------------------------------------------------- auth (§2)

fn oauth_error(code: &str) -> Res {
    Err(json_resp(StatusCode::BAD_REQUEST, &json!({"error": code}), "application/json"))
}

fn token(inner: &mut Inner, rq: &Req) -> Res {
    inner.token_requests += 1;
    let form: HashMap<String, String> = url::form_urlencoded::parse(&rq.body).into_owned().collect();
    let basic = rq
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_string(), b.to_string())));
    // client_secret_post is standard IdentityServer behaviour but unconfirmed (§2, §7.5).
    let post = (rq.s.accept_client_secret_post)
        .then(|| Some((form.get("client_id")?.clone(), form.get("client_secret")?.clone())))
        .flatten();
    let Some((id, secret)) = basic.or(post) else {
        return oauth_error("invalid_client");
    };
    if id != demo::CLIENT_ID || secret != demo::CLIENT_SECRET {
        return oauth_error("invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error("unsupported_grant_type");
    }
    match form.get("scope").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None if rq.s.accept_client_secret_post => {}
        Some(s) if s.split_whitespace().all(|x| x == demo::SCOPE) => {}
        _ => return oauth_error("invalid_scope"),
    }
    let token = format!("sim.{}", inner.next_chars(40));
    let lifetime = rq.s.token_expires_in_secs;
    let expiry = crate::clock::plus_secs(rq.now, lifetime);
    // Expired tokens are dropped as new ones are issued, so a long-running `loyalty sim` keeps
    // only the live ones.
    inner.tokens.retain(|_, until| *until > rq.now);
    inner.tokens.insert(token.clone(), expiry);
    let mut r = json_resp(
        StatusCode::OK,
        &json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer", "scope": demo::SCOPE}),
        "application/json; charset=UTF-8",
    );
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache, max-age=0"));
    Ok(r)
}

// ---------------------------------------------------------------- stores (§4.1)

fn s1_stores(inner: &mut Inner, _: &Req) -> Res {
    ok(json!([inner.store_json()]))
}

fn s2_store(inner: &mut Inner, _: &Req) -> Res {
    ok(inner.store_json())
}

fn departments_json(inner: &Inner) -> Value {
    // A department created without a name lists `name: null`.
    Value::Array(
        inner
            .departments
            .iter()
            .map(|(id, name)| json!({"id": id, "name": (!name.is_empty()).then_some(name)}))
            .collect(),
    )
}

fn s3_departments(inner: &mut Inner, _: &Req) -> Res {
    ok(departments_json(inner))
}

fn s4_create_department(inner: &mut Inner, rq: &Req) -> Res {
    let o = body_obj(rq)?;
    let mut c = rq.check();
    // Neither field is marked required (§5.3); requiring them is a setting.
    let (id, name) = if rq.s.departments_require_id_and_name {
        (c.req_str(&o, "id", ""), c.req_str(&o, "name", ""))
    } else {
        (c.str(&o, "id", ""), c.str(&o, "name", ""))
    };
    origin(&mut c, &o, "");
    finish(c)?;
    // Simulator decision: a department sent without an id gets one (`d_` + 8 characters).
    let id = match id.filter(|i| !i.trim().is_empty()) {
        Some(i) => i,
        None => format!("d_{}", inner.next_chars(8)),
    };
    let name = name.unwrap_or_default();
    if inner.departments.iter().any(|(d, _)| *d == id) {
        return Err(field_error("id", "A department with this id already exists."));
    }
    inner.departments.push((id, name));
    ok(departments_json(inner))
}

fn s5_segments(inner: &mut Inner, _: &Req) -> Res {
    ok(Value::Array(
        inner
            .segments
            .iter()
            .map(|s| {
                json!({
                    "id": s.id, "text": s.text, "type": s.kind,
                    "is_visible_to_follower": s.visible, "is_required": s.required,
                    "options": s.options.iter().map(|(id, t)| json!({"id": id, "text": t})).collect::<Vec<_>>(),
                })
            })
            .collect(),
    ))
}

fn s6_levels(inner: &mut Inner, _: &Req) -> Res {
    ok(Value::Array(
        inner.levels.iter().map(|l| json!({"id": l.id, "name": l.name, "points": l.points})).collect(),
    ))
}

// ---------------------------------------------------------------- members (§4.2)

/// The addressed member, unless unknown or deleted (deleted → 400, or 404 with strict-404).
fn member_id(inner: &Inner, rq: &Req) -> Result<String, Response> {
    let id = rq.param("memberId");
    match inner.members.get(id) {
        Some(m) if !m.deleted => Ok(id.to_string()),
        _ => Err(not_found(rq, "Member")),
    }
}

fn member<'a>(inner: &'a mut Inner, rq: &Req) -> Result<&'a mut Member, Response> {
    let id = member_id(inner, rq)?;
    inner.members.get_mut(&id).ok_or_else(|| not_found(rq, "Member"))
}

/// Normalises a search phone to E.164: `+` or `00` = international, anything else national in
/// the store's country (§4.2).
fn normalise_phone(raw: &str, store_dial: &str) -> Option<String> {
    let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let e164 = if let Some(rest) = compact.strip_prefix('+') {
        format!("+{rest}")
    } else if let Some(rest) = compact.strip_prefix("00") {
        format!("+{rest}")
    } else {
        format!("{store_dial}{compact}")
    };
    (e164.len() > 3 && e164[1..].chars().all(|c| c.is_ascii_digit())).then_some(e164)
}

fn m1_search(inner: &mut Inner, rq: &Req) -> Res {
    let keys = ["email", "phone", "identifierValue", "activationToken"];
    let given: Vec<(&str, &str)> = keys.iter().filter_map(|k| Some((*k, rq.query(k)?))).collect();
    // How keys combine is a setting (open question 2); no key at all is always a 400.
    let combine_ok = match rq.s.search_keys {
        SearchKeys::ExactlyOne => given.len() == 1,
        SearchKeys::AllMustMatch => !given.is_empty(),
    };
    if !combine_ok {
        return Err(bad(match rq.s.search_keys {
            SearchKeys::ExactlyOne => {
                "Exactly one of email, phone, identifierValue or activationToken is required."
            }
            SearchKeys::AllMustMatch => {
                "One of email, phone, identifierValue or activationToken is required."
            }
        }));
    }
    let mut phone = None;
    if let Some((_, value)) = given.iter().find(|(k, _)| *k == "phone") {
        phone = Some(
            normalise_phone(value, &inner.store.country_dial)
                .ok_or_else(|| field_error("phone", "Not a phone number."))?,
        );
    }
    let matches = |m: &Member, key: &str, value: &str| match key {
        "email" => m.profile.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(value)),
        "phone" => phone.as_deref() == Some(m.e164().as_str()),
        "identifierValue" => m.profile.additional_identifiers.iter().any(|i| i == value),
        _ => m.activation_token.as_deref() == Some(value),
    };
    let found: Vec<Value> = inner
        .members
        .values()
        .filter(|m| !m.deleted)
        .filter(|m| given.iter().all(|(k, v)| matches(m, k, v)))
        .map(|m| inner.member_json(m))
        .collect();
    if found.is_empty() && rq.s.search_no_match_is_error {
        return Err(bad("No member matches the search."));
    }
    ok(Value::Array(found))
}

fn m2_get(inner: &mut Inner, rq: &Req) -> Res {
    let id = member_id(inner, rq)?;
    ok(inner.member_json(&inner.members[&id]))
}

fn origin(c: &mut Check, o: &Obj, path: &str) {
    if let Some(org) = c.obj(o, "origin", path) {
        let p = join(path, "origin");
        for k in ["system_id", "employee_id", "department_id", "channel"] {
            c.str(org, k, &p);
        }
    }
}

fn address(c: &mut Check, o: &Obj, key: &str, path: &str) -> Option<Value> {
    let a = c.obj(o, key, path)?;
    let p = join(path, key);
    let mut out = serde_json::Map::new();
    for k in ["street", "city", "zip_code", "state", "country_code"] {
        out.insert(k.into(), c.str(a, k, &p).map(Value::String).unwrap_or(Value::Null));
    }
    Some(Value::Object(out))
}

fn email(c: &mut Check, o: &Obj, path: &str, s: &DillerSettings) -> Option<String> {
    let e = c.str(o, "email", path)?;
    if e.is_empty() {
        return None;
    }
    // Simulator decision (setting `email_requires_at`): the contract names no e-mail rule.
    if s.email_requires_at && !e.contains('@') {
        c.err(&join(path, "email"), "The email field is not a valid e-mail address.");
    }
    Some(e)
}

/// Reads the profile fields shared by register (M3) and update (M5).
fn profile(c: &mut Check, o: &Obj, inner: &Inner, s: &DillerSettings) -> Profile {
    let mut p = Profile {
        first_name: c.str(o, "first_name", ""),
        last_name: c.str(o, "last_name", ""),
        email: email(c, o, "", s),
        additional_identifiers: c.str_list(o, "additional_identifiers", "").unwrap_or_default(),
        birth_date: c.date_time(o, "birth_date", ""),
        address: address(c, o, "address", ""),
        gender: c.enumeration(o, "gender", "", GENDERS),
        ..Profile::default()
    };
    if let Some(k) = c.obj(o, "consent", "") {
        p.consent = Consent {
            gdpr_accepted: c.bool(k, "gdpr_accepted", "consent").unwrap_or(false),
            save_order_history: c.bool(k, "save_order_history", "consent").unwrap_or(false),
            receive_sms: c.bool(k, "receive_sms", "consent").unwrap_or(false),
            receive_email: c.bool(k, "receive_email", "consent").unwrap_or(false),
        };
    }
    let deps = c.str_list(o, "department_ids", "").unwrap_or_default();
    for (i, d) in deps.iter().enumerate() {
        if s.reject_unknown_departments && !inner.known_department(d) {
            c.err(&format!("department_ids[{i}]"), format!("Unknown department '{d}'."));
        }
    }
    p.department_ids = deps;
    origin(c, o, "");
    if let Some(segs) = c.arr(o, "segments", "") {
        for (i, v) in segs.iter().enumerate() {
            let path = format!("segments[{i}]");
            let Some(so) = v.as_object() else {
                c.err(&path, "The JSON value could not be converted to an object.");
                continue;
            };
            let id = c.int(so, "segment_id", &path);
            let value = c.str(so, "value", &path).filter(|s| !s.is_empty());
            let selected = c.int_list(so, "selected_options", &path).unwrap_or_default();
            let Some(id) = id else {
                if so.get("segment_id").is_none_or(Value::is_null) {
                    c.required(&join(&path, "segment_id"));
                }
                continue;
            };
            let Some(seg) = inner.segments.iter().find(|s| s.id == id) else {
                c.err(&join(&path, "segment_id"), format!("Unknown segment {id}."));
                continue;
            };
            for opt in &selected {
                if !seg.options.iter().any(|(o, _)| o == opt) {
                    c.err(
                        &join(&path, "selected_options"),
                        format!("Option {opt} does not belong to segment {id}."),
                    );
                }
            }
            if matches!(seg.kind, "Radio" | "Dropdown") && selected.len() > 1 {
                c.err(&join(&path, "selected_options"), "At most one option may be selected.");
            }
            p.segments.push(SegmentValue { id, value, selected });
        }
    }
    p
}

/// Uniqueness per store: phone, e-mail, and identifiers (`is_unique_per_country`, §7.3).
fn conflict(inner: &Inner, except: Option<&str>, phone: Option<&str>, p: &Profile) -> Option<Response> {
    for m in inner.members.values().filter(|m| !m.deleted && Some(m.id.as_str()) != except) {
        if phone == Some(m.e164().as_str()) {
            return Some(field_error("phone", "A member with this phone number already exists."));
        }
        if let (Some(a), Some(b)) = (&p.email, &m.profile.email) {
            if a.eq_ignore_ascii_case(b) {
                return Some(field_error("email", "A member with this e-mail address already exists."));
            }
        }
        if inner.settings.unique_identifiers
            && p.additional_identifiers.iter().any(|i| m.profile.additional_identifiers.contains(i))
        {
            return Some(field_error(
                "additional_identifiers",
                "A member with this identifier already exists.",
            ));
        }
    }
    None
}

fn new_member(inner: &mut Inner, phone: (String, String), profile: Profile) -> String {
    let id = inner.new_member_id();
    let m = Member {
        id: id.clone(),
        phone,
        profile,
        remarks: None,
        points: Decimal::ZERO,
        deleted: false,
        activation_token: None,
        dependents: Vec::new(),
        redeemed: HashMap::new(),
        coupon_reservations: Vec::new(),
        stamps: HashMap::new(),
        finished_cards: Default::default(),
        stamp_reservations: Vec::new(),
        login_otp: None,
        pending_phone: None,
        invitations: Vec::<Invitation>::new(),
    };
    inner.members.insert(id.clone(), m);
    id
}

fn m3_register(inner: &mut Inner, rq: &Req) -> Res {
    let o = body_obj(rq)?;
    let mut c = rq.check();
    let phone = c.phone(&o, "phone", "");
    let p = profile(&mut c, &o, inner, &rq.s);
    finish(c)?;
    let phone = phone.ok_or_else(|| field_error("phone", "The phone field is required."))?;
    let e164 = format!("{}{}", phone.0, phone.1);
    if let Some(r) = conflict(inner, None, Some(&e164), &p) {
        return Err(r);
    }
    let id = new_member(inner, phone, p);
    ok(inner.member_json(&inner.members[&id]))
}

fn m4_enroll(inner: &mut Inner, rq: &Req) -> Res {
    let o = body_obj(rq)?;
    let mut c = rq.check();
    let phone = c.phone(&o, "phone", "");
    let dept = c.req_str(&o, "department_id", "");
    origin(&mut c, &o, "");
    let mut p = Profile::default();
    if let Some(info) = c.obj(&o, "additional_info", "") {
        let path = "additional_info";
        p.first_name = c.str(info, "first_name", path);
        p.last_name = c.str(info, "last_name", path);
        p.email = email(&mut c, info, path, &rq.s);
        p.address = address(&mut c, info, "address", path);
        p.additional_identifiers = c.str_list(info, "additional_identifiers", path).unwrap_or_default();
    }
    if let Some(d) = &dept {
        if rq.s.reject_unknown_departments && !inner.known_department(d) {
            c.err("department_id", format!("Unknown department '{d}'."));
        }
    }
    finish(c)?;
    let (Some(phone), Some(dept)) = (phone, dept) else {
        return Err(bad("phone and department_id are required."));
    };
    let e164 = format!("{}{}", phone.0, phone.1);
    let token = format!("act_{}", inner.next_chars(16));
    if let Some(existing) = inner.member_by_phone(&e164).map(|m| m.id.clone()) {
        let m = inner.members.get_mut(&existing).ok_or_else(|| bad("member vanished"))?;
        if !m.profile.consent.gdpr_accepted {
            // Existing, not yet activated: a new activation link is "sent" (§4.2 M4).
            m.activation_token = Some(token);
        } else if rq.s.enroll_existing_activated == EnrollExisting::Reject {
            return Err(field_error("phone", "A member with this phone number already exists."));
        }
        return ok(inner.member_json(&inner.members[&existing]));
    }
    if let Some(r) = conflict(inner, None, None, &p) {
        return Err(r);
    }
    p.department_ids = vec![dept];
    let id = new_member(inner, phone, p);
    if let Some(m) = inner.members.get_mut(&id) {
        m.activation_token = Some(token);
    }
    ok(inner.member_json(&inner.members[&id]))
}

fn m5_update(inner: &mut Inner, rq: &Req) -> Res {
    let id = member_id(inner, rq)?;
    let o = body_obj(rq)?;
    let mut c = rq.check();
    // A `phone` member is not part of UpdateMemberRequest and is ignored (§4.2 M5).
    let p = profile(&mut c, &o, inner, &rq.s);
    finish(c)?;
    if let Some(r) = conflict(inner, Some(&id), None, &p) {
        return Err(r);
    }
    let m = inner.members.get_mut(&id).ok_or_else(|| not_found(rq, "Member"))?;
    // Full replacement: whatever is absent is cleared, consent included (§4.2 M5).
    m.profile = p;
    ok(inner.member_json(&inner.members[&id]))
}

fn m6_delete(inner: &mut Inner, rq: &Req) -> Res {
    let m = member(inner, rq)?;
    m.deleted = true;
    action(true, "Member is flagged for deletion and will be removed after 10 days.")
}

fn dependents_json(m: &Member) -> Value {
    Value::Array(
        m.dependents
            .iter()
            .map(|d| json!({"id": d.id, "name": d.name, "birthdate": d.birthdate.format("%Y-%m-%d").to_string(), "gender": d.gender}))
            .collect(),
    )
}

fn m7_dependents(inner: &mut Inner, rq: &Req) -> Res {
    let m = member(inner, rq)?;
    ok(dependents_json(m))
}

fn m8_set_dependents(inner: &mut Inner, rq: &Req) -> Res {
    let id = member_id(inner, rq)?;
    let list = body_arr(rq)?;
    let mut c = rq.check();
    let known: Vec<i64> = inner.members[&id].dependents.iter().map(|d| d.id).collect();
    let mut parsed = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let path = format!("[{i}]");
        let Some(o) = v.as_object() else {
            c.err(&path, "The JSON value could not be converted to an object.");
            continue;
        };
        let did = c.int(o, "id", &path).unwrap_or(0);
        let name = c.req_str(o, "name", &path);
        if name.as_ref().is_some_and(|n| n.chars().count() > 50) {
            c.err(&join(&path, "name"), "The name may be at most 50 characters.");
        }
        let birthdate = c.date(o, "birthdate", &path);
        if o.get("birthdate").is_none_or(Value::is_null) {
            c.required(&join(&path, "birthdate"));
        }
        let gender = c.enumeration(o, "gender", &path, GENDERS).unwrap_or("NotShared");
        if did != 0 && !known.contains(&did) {
            c.err(&join(&path, "id"), format!("Unknown dependent {did}."));
        }
        if let (Some(name), Some(birthdate)) = (name, birthdate) {
            parsed.push(Dependent { id: did, name, birthdate, gender });
        }
    }
    finish(c)?;
    // The posted list is the new truth: id 0 = create, known id = replace, missing = delete.
    let mut next = inner.next_dependent_id;
    for d in &mut parsed {
        if d.id == 0 {
            d.id = next;
            next += 1;
        }
    }
    inner.next_dependent_id = next;
    if let Some(m) = inner.members.get_mut(&id) {
        m.dependents = parsed;
    }
    // Simulator decision: 200 with no body (the spec declares a 2xx without a model, §6.5).
    Ok(HttpResponse::new(Body::empty()))
}

fn m9_login_otp(inner: &mut Inner, rq: &Req) -> Res {
    let m = member(inner, rq)?;
    // Simulator decision: the "sent" code is always demo::OTP_CODE, so tests can verify it.
    m.login_otp = Some(demo::OTP_CODE);
    action(true, "One-time code sent.")
}

/// `otp_code` of M10/M12: not marked required (§5.2), so a missing one matches nothing unless
/// the `otp_verification_fields_required` setting asks for a 400.
fn otp_code(c: &mut Check, o: &Obj, rq: &Req) -> Option<i64> {
    let code = c.int(o, "otp_code", "");
    if rq.s.otp_verification_fields_required && o.get("otp_code").is_none_or(Value::is_null) {
        c.required("otp_code");
    }
    code
}

fn m10_verify_otp(inner: &mut Inner, rq: &Req) -> Res {
    let o = body_obj(rq)?;
    let mut c = rq.check();
    let code = otp_code(&mut c, &o, rq);
    finish(c)?;
    let m = member(inner, rq)?;
    if m.login_otp.is_some() && m.login_otp == code {
        m.login_otp = None;
        action(true, "Code verified.")
    } else {
        action(false, "Invalid or expired code.")
    }
}

fn m11_reset_phone(inner: &mut Inner, rq: &Req) -> Res {
    let o = body_obj(rq)?;
    let mut c = rq.check();
    let phone = c.phone_obj(&o, "");
    finish(c)?;
    let phone = phone.ok_or_else(|| bad("Invalid phone."))?;
    let id = member_id(inner, rq)?;
    if let Some(other) = inner.member_by_phone(&format!("{}{}", phone.0, phone.1)) {
        if other.id != id {
            return Err(field_error("number", "The phone number belongs to another member."));
        }
    }
    let m = member(inner, rq)?;
    m.pending_phone = Some((phone, demo::OTP_CODE));
    action(true, "Verification code sent to the new number.")
}

fn m12_verify_phone(inner: &mut Inner, rq: &Req) -> Res {
    let o = body_obj(rq)?;
    let mut c = rq.check();
    // ResetPhoneVerificationRequest marks neither member required (§5.2): a missing phone
    // matches nothing unless the setting asks for a 400. A Phone sent needs both its parts.
    let phone = if rq.s.otp_verification_fields_required {
        c.phone(&o, "phone", "")
    } else {
        c.obj(&o, "phone", "").and_then(|p| c.phone_obj(p, "phone"))
    };
    let code = otp_code(&mut c, &o, rq);
    finish(c)?;
    let m = member(inner, rq)?;
    match (&m.pending_phone, phone, code) {
        (Some((want, otp)), Some(p), Some(code)) if *want == p && *otp == code => {
            m.phone = p;
            m.pending_phone = None;
            action(true, "Phone number changed.")
        }
        _ => action(false, "Invalid code or phone number."),
    }
}

fn m13_widget(inner: &mut Inner, rq: &Req) -> Res {
    let id = member_id(inner, rq)?;
    ok(json!({"details_url": format!("https://profile.diller.invalid/{}/{id}", inner.store.id)}))
}

fn invitations_json<'a>(it: impl Iterator<Item = &'a Invitation>) -> Value {
    Value::Array(
        it.map(|i| {
            json!({"first_name": i.first_name, "last_name": i.last_name, "email": i.email,
                   "created_at": i.created_at, "is_accepted": i.accepted, "points": i.points})
        })
        .collect(),
    )
}

fn m14_invited(inner: &mut Inner, rq: &Req) -> Res {
    let m = member(inner, rq)?;
    ok(invitations_json(m.invitations.iter()))
}

fn m15_invited_by_token(inner: &mut Inner, rq: &Req) -> Res {
    let Some(token) = rq.query("invitationToken").map(str::to_string) else {
        return Err(field_error("invitationToken", "The invitationToken field is required."));
    };
    let m = member(inner, rq)?;
    ok(invitations_json(m.invitations.iter().filter(|i| i.token == token)))
}

// ---------------------------------------------------------------- coupons (§4.3)

/// `alsoInactive`: true/false in any casing, and 1/0 unless strict (§7.1 item 5).
fn also_inactive(rq: &Req) -> Result<bool, Response> {
    let Some(v) = rq.query("alsoInactive") else {
        return Ok(false);
    };
    let lenient = rq.s.lenient_also_inactive;
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        "1" if lenient => Ok(true),
        "0" if lenient => Ok(false),
        _ if lenient && v.eq_ignore_ascii_case("true") => Ok(true),
        _ if lenient && v.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(field_error("alsoInactive", &format!("The value '{v}' is not valid."))),
    }
}

fn c1_coupons(inner: &mut Inner, rq: &Req) -> Res {
    let all = also_inactive(rq)?;
    let now = rq.now;
    ok(Value::Array(
        inner
            .coupons
            .iter()
            .filter(|c| all || (c.valid_from <= now && now <= c.valid_to))
            .map(|c| inner.coupon_json(c, None))
            .collect(),
    ))
}

fn eligible(c: &super::state::Coupon, m: &Member) -> bool {
    c.required_points.is_none_or(|p| m.points >= Decimal::from(p))
}

fn c2_member_coupons(inner: &mut Inner, rq: &Req) -> Res {
    let id = member_id(inner, rq)?;
    let m = &inner.members[&id];
    let now = rq.now;
    ok(Value::Array(
        inner
            .coupons
            .iter()
            .filter(|c| eligible(c, m) && c.valid_from <= now && now <= c.valid_to)
            .map(|c| inner.coupon_json(c, Some(m.redeemed.get(&c.code).copied().unwrap_or(0))))
            .collect(),
    ))
}

/// Why this member cannot use the coupon now, if they cannot. Reservations under
/// `own_transaction` do not count against it (§7.3).
fn coupon_refusal(
    inner: &Inner,
    m: &Member,
    code: &str,
    own_transaction: Option<&str>,
    now: DateTime<Utc>,
) -> Option<String> {
    let c = inner.coupon(code)?;
    if !eligible(c, m) {
        return Some("The coupon is not available to this member.".into());
    }
    if now < c.valid_from {
        return Some("The coupon is not valid yet.".into());
    }
    if now > c.valid_to {
        return Some("The coupon has expired.".into());
    }
    let used = m.redeemed.get(code).copied().unwrap_or(0);
    if used >= c.max_redemptions {
        return Some("The coupon has been used the maximum number of times.".into());
    }
    let held = m
        .coupon_reservations
        .iter()
        .filter(|(cc, tx)| cc == code && Some(tx.as_str()) != own_transaction)
        .count();
    if used as usize + held >= c.max_redemptions as usize {
        return Some("The coupon is reserved by another transaction.".into());
    }
    None
}

fn refuse(rq: &Req, reason: String) -> Res {
    if rq.s.coupon_refusal_is_error {
        Err(bad(reason))
    } else {
        action(false, reason)
    }
}

fn coupon_target(inner: &Inner, rq: &Req) -> Result<(String, String), Response> {
    let id = member_id(inner, rq)?;
    let code = rq.param("couponCode").to_string();
    if inner.coupon(&code).is_none() {
        return Err(not_found(rq, "Coupon"));
    }
    Ok((id, code))
}

fn c3_validate(inner: &mut Inner, rq: &Req) -> Res {
    let (id, code) = coupon_target(inner, rq)?;
    match coupon_refusal(inner, &inner.members[&id], &code, None, rq.now) {
        Some(reason) => refuse(rq, reason),
        None => action(true, "The coupon is valid."),
    }
}

/// The key of a reservation (C4, C5, K3, K4): `external_transaction_id`, optional in every one
/// of these bodies (§5.4, §5.5). Missing or empty, the reservation is kept under "no id" (the
/// empty key), which only a release without an id frees; the `reservations_require_transaction_id`
/// setting answers a 400 instead.
fn reservation_key(c: &mut Check, o: &Obj, rq: &Req) -> String {
    let tx = if rq.s.reservations_require_transaction_id {
        c.req_str(o, "external_transaction_id", "")
    } else {
        c.str(o, "external_transaction_id", "")
    };
    tx.filter(|t| !t.trim().is_empty()).unwrap_or_default()
}

fn c4_reserve(inner: &mut Inner, rq: &Req) -> Res {
    let (id, code) = coupon_target(inner, rq)?;
    let o = body_obj_or_empty(rq)?;
    let mut c = rq.check();
    c.str(&o, "channel", "");
    c.str(&o, "external_product_id", "");
    let tx = reservation_key(&mut c, &o, rq);
    finish(c)?;
    let m = &inner.members[&id];
    if m.coupon_reservations.iter().any(|(cc, t)| *cc == code && *t == tx) {
        return action(true, "The coupon is already reserved for this transaction.");
    }
    if let Some(reason) = coupon_refusal(inner, m, &code, Some(&tx), rq.now) {
        return refuse(rq, reason);
    }
    if let Some(m) = inner.members.get_mut(&id) {
        m.coupon_reservations.push((code, tx));
    }
    action(true, "The coupon is reserved.")
}

fn c5_cancel_reservation(inner: &mut Inner, rq: &Req) -> Res {
    let (id, code) = coupon_target(inner, rq)?;
    let o = body_obj_or_empty(rq)?;
    let mut c = rq.check();
    let tx = reservation_key(&mut c, &o, rq);
    finish(c)?;
    if let Some(m) = inner.members.get_mut(&id) {
        m.coupon_reservations.retain(|(cc, t)| !(*cc == code && *t == tx));
    }
    // Simulator decision: success even when nothing was reserved (§7.5).
    action(true, "The reservation is cancelled.")
}

// ---------------------------------------------------------------- stamp cards (§4.4)

fn k1_stamp_cards(inner: &mut Inner, rq: &Req) -> Res {
    let all = also_inactive(rq)?;
    let now = rq.now;
    ok(Value::Array(
        inner.cards.iter().filter(|c| all || card_active(c, now)).map(|c| inner.card_json(c, None)).collect(),
    ))
}

fn k2_member_stamp_cards(inner: &mut Inner, rq: &Req) -> Res {
    let id = member_id(inner, rq)?;
    let m = &inner.members[&id];
    let now = rq.now;
    ok(Value::Array(
        inner
            .cards
            .iter()
            .filter(|c| card_active(c, now) && !m.finished_cards.contains(&c.id))
            .map(|c| inner.card_json(c, Some(m.stamps.get(&c.id).copied().unwrap_or(0))))
            .collect(),
    ))
}

/// Whether a stamp card is inside its validity window at `now` (both ends, on the injected
/// clock): K1/K2 list only these, and K3 and T1 use only these (§4.4, §6.1 rule 9).
fn card_active(card: &StampCard, now: DateTime<Utc>) -> bool {
    card.valid_from <= now && now <= card.valid_to
}

fn stamp_target(inner: &Inner, rq: &Req) -> Result<(String, i64), Response> {
    let id = member_id(inner, rq)?;
    let card: i64 =
        rq.param("stampId").parse().map_err(|_| field_error("stampId", "The value is not a valid Int32."))?;
    if inner.card(card).is_none() {
        return Err(not_found(rq, "Stamp card"));
    }
    Ok((id, card))
}

fn k3_reserve_stamp(inner: &mut Inner, rq: &Req) -> Res {
    let (id, card) = stamp_target(inner, rq)?;
    let o = body_obj_or_empty(rq)?;
    let mut c = rq.check();
    c.str(&o, "channel", "");
    c.str(&o, "external_product_id", "");
    let tx = reservation_key(&mut c, &o, rq);
    finish(c)?;
    if !inner.card(card).is_some_and(|k| card_active(k, rq.now)) {
        return action(false, "The stamp card is not active.");
    }
    let lock_card = rq.s.stamp_reservation_locks == StampLock::Card;
    let m = inner.members.get_mut(&id).ok_or_else(|| not_found(rq, "Member"))?;
    if m.finished_cards.contains(&card) {
        return action(false, "The stamp card is completed.");
    }
    // A reserved stamp cannot be used by another transaction (§4.4 K3 [SDK]); the same
    // transaction may reserve more. Whether the whole card is locked is a setting.
    if lock_card && m.stamp_reservations.iter().any(|(c, t)| *c == card && *t != tx) {
        return action(false, "The stamp is reserved by another transaction.");
    }
    // One reservation per call: the Magento module reserves once per unit (§4.4 K3).
    m.stamp_reservations.push((card, tx));
    action(true, "The stamp is reserved.")
}

fn k4_cancel_stamp(inner: &mut Inner, rq: &Req) -> Res {
    // "to be removed soon" (§4.4): once removed, the route answers like any unknown path.
    if rq.s.k4_removed {
        return Err(no_route());
    }
    let (id, card) = stamp_target(inner, rq)?;
    let o = body_obj_or_empty(rq)?;
    let mut c = rq.check();
    let tx = reservation_key(&mut c, &o, rq);
    finish(c)?;
    if let Some(m) = inner.members.get_mut(&id) {
        // Every stamp of this card reserved under the id is released (2024-02-27 text, §4.4).
        m.stamp_reservations.retain(|(cc, t)| !(*cc == card && *t == tx));
    }
    action(true, "The reservation is cancelled. This endpoint is deprecated.")
}

// ---------------------------------------------------------------- transactions (§4.5)

struct Line {
    product_id: Option<String>,
    total: Decimal,
}

/// Reads a T1/T3 line; `with_usage` adds the coupon and stamp members of T1 lines.
fn line(
    c: &mut Check,
    o: &Obj,
    path: &str,
    codes: &mut Vec<String>,
    stamps: &mut Vec<(i64, &'static str, i64, String)>,
    with_usage: bool,
) -> Line {
    let mut product_id = None;
    if let Some(p) = c.obj(o, "product", path) {
        let pp = join(path, "product");
        product_id = c.str(p, "external_id", &pp);
        for k in ["sku", "name", "brand"] {
            c.str(p, k, &pp);
        }
        if let Some(cat) = c.obj(p, "category", &pp) {
            c.str(cat, "name", &join(&pp, "category"));
            c.str(cat, "external_id", &join(&pp, "category"));
        }
        if let Some(g) = c.obj(p, "gtin", &pp) {
            c.enumeration(g, "type", &join(&pp, "gtin"), GTIN_TYPES);
            c.str(g, "code", &join(&pp, "gtin"));
        }
    }
    let qty = c.dec(o, "quantity", path);
    let unit = c.dec(o, "unit_price", path);
    c.str(o, "unit_measure", path);
    if let Some(t) = c.dec(o, "tax_percentage", path) {
        if t < Decimal::ZERO || t > Decimal::from(100) {
            c.err(&join(path, "tax_percentage"), "The tax_percentage must be between 0 and 100.");
        }
    }
    let discount = c.dec(o, "discount", path).unwrap_or(Decimal::ZERO);
    let total = c.dec(o, "total_price", path);
    // A line total must equal quantity × unit_price − discount (§5.6, checklist 21); amounts
    // whose arithmetic leaves the decimal range are a validation error, never a panic.
    if let (Some(q), Some(u), Some(t)) = (qty, unit, total) {
        match q.checked_mul(u).and_then(|v| v.checked_sub(discount)).and_then(|v| v.checked_sub(t)) {
            Some(diff) if diff.abs() > Decimal::new(1, 2) => {
                c.err(&join(path, "total_price"), "total_price must equal quantity × unit_price − discount.")
            }
            Some(_) => {}
            None => c.err(&join(path, "quantity"), OUT_OF_RANGE),
        }
    }
    if with_usage {
        usage(c, o, path, codes, stamps);
    }
    Line { product_id, total: total.unwrap_or(Decimal::ZERO) }
}

/// `coupon_codes`, `stamp_cards` and the obsolete `stamp_card_ids` of a T1 or one of its lines.
fn usage(
    c: &mut Check,
    o: &Obj,
    path: &str,
    codes: &mut Vec<String>,
    stamps: &mut Vec<(i64, &'static str, i64, String)>,
) {
    codes.extend(c.str_list(o, "coupon_codes", path).unwrap_or_default());
    if let Some(list) = c.arr(o, "stamp_cards", path) {
        for (i, v) in list.iter().enumerate() {
            let p = format!("{}[{i}]", join(path, "stamp_cards"));
            let Some(so) = v.as_object() else {
                c.err(&p, "The JSON value could not be converted to an object.");
                continue;
            };
            let id = c.int(so, "stamp_card_id", &p);
            let act = c.enumeration(so, "action", &p, STAMP_ACTIONS);
            let count = c.int(so, "count", &p);
            if so.get("action").is_none_or(Value::is_null) {
                c.required(&join(&p, "action"));
            }
            match count {
                Some(n) if n > 0 => {}
                Some(_) => c.err(&join(&p, "count"), "The count must be positive."),
                None if so.get("count").is_none_or(Value::is_null) => c.required(&join(&p, "count")),
                None => {}
            }
            if so.get("stamp_card_id").is_none_or(Value::is_null) {
                c.required(&join(&p, "stamp_card_id"));
            }
            if let (Some(id), Some(act), Some(n)) = (id, act, count) {
                stamps.push((id, act, n, join(&p, "stamp_card_id")));
            }
        }
    }
    // Obsolete: each entry is one collected stamp (§4.4).
    let p = join(path, "stamp_card_ids");
    for (i, id) in c.int_list(o, "stamp_card_ids", path).unwrap_or_default().into_iter().enumerate() {
        stamps.push((id, "collected", 1, format!("{p}[{i}]")));
    }
}

/// Reads the fields T1 and T3 share; returns total and lines.
fn money_fields(c: &mut Check, o: &Obj, inner: &Inner, s: &DillerSettings) -> Option<Decimal> {
    c.str(o, "external_receipt_id", "");
    c.date_time(o, "created_at", "");
    c.str(o, "eft_pos", "");
    if let Some(pd) = c.arr(o, "payment_details", "") {
        for (i, v) in pd.iter().enumerate() {
            let p = format!("payment_details[{i}]");
            match v.as_object() {
                Some(po) => {
                    c.str(po, "payment_method", &p);
                    c.dec(po, "sub_total", &p);
                }
                None => c.err(&p, "The JSON value could not be converted to an object."),
            }
        }
    }
    let total = c.dec(o, "total", "");
    if o.get("total").is_none_or(Value::is_null) {
        c.required("total");
    }
    for k in ["total_tax", "total_discount", "round_off_amount"] {
        c.dec(o, k, "");
    }
    if let Some(cur) = c.str(o, "currency", "") {
        // Simulator decision (setting `reject_foreign_currency`): another currency is refused.
        if s.reject_foreign_currency && !cur.eq_ignore_ascii_case(&inner.store.currency) {
            c.err("currency", format!("The store's currency is {}.", inner.store.currency));
        }
    }
    if let Some(d) = c.str(o, "department_id", "") {
        if s.reject_unknown_departments && !d.is_empty() && !inner.known_department(&d) {
            c.err("department_id", format!("Unknown department '{d}'."));
        }
    }
    origin(c, o, "");
    total
}

/// What a field error says when an amount's arithmetic leaves the decimal range (about
/// ±7.9 × 10^28).
const OUT_OF_RANGE: &str = "The value is outside the supported range.";

/// Points for a sale: `floor((total − non-eligible lines) × ratio)` (§7.3, \[S\]). A negative
/// net (a return booked as a negative sale) gives the same figure negated, `−floor(|net| ×
/// ratio)`, so a sale and its negative copy cancel out; zero with the
/// `negative_totals_take_points_back` setting off. A validation error naming `total` when a sum
/// or the product leaves the decimal range.
fn points_for(inner: &Inner, rq: &Req, total: Decimal, lines: &[Line]) -> Result<Decimal, Response> {
    if !rq.s.points_formula || !inner.store.points_enabled {
        return Ok(Decimal::ZERO);
    }
    let today = rq.now.date_naive();
    lines
        .iter()
        .filter(|l| l.product_id.as_deref().is_some_and(|p| !inner.product_earns(p, today)))
        .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.total))
        .and_then(|excluded| total.checked_sub(excluded))
        .and_then(|net| net.checked_mul(inner.store.ratio))
        .map(|p| {
            if p >= Decimal::ZERO {
                p.floor()
            } else if rq.s.negative_totals_take_points_back {
                -p.abs().floor()
            } else {
                Decimal::ZERO
            }
        })
        .ok_or_else(|| field_error("total", OUT_OF_RANGE))
}

/// Where a restartable card stands once a sale (or its reversal) is done: full at most until
/// its reward is redeemed, or started over with the overflow carried (§7.3, setting
/// `restartable_card_restarts_on`).
fn settle_restartable(required: u32, count: u32, restart: RestartOn) -> u32 {
    if required == 0 {
        return count;
    }
    match restart {
        RestartOn::Redemption => count.min(required),
        RestartOn::Fill => count % required,
    }
}

fn t1_transaction(inner: &mut Inner, rq: &Req) -> Res {
    let id = member_id(inner, rq)?;
    let o = body_obj(rq)?;
    let mut c = rq.check();
    let ext = c.req_str(&o, "external_id", "");
    c.bool(&o, "send_email_receipt", "");
    let total = money_fields(&mut c, &o, inner, &rq.s);
    let mut codes = Vec::new();
    let mut stamp_ops = Vec::new();
    usage(&mut c, &o, "", &mut codes, &mut stamp_ops);
    let mut lines = Vec::new();
    if let Some(list) = c.arr(&o, "details", "") {
        for (i, v) in list.iter().enumerate() {
            let p = format!("details[{i}]");
            match v.as_object() {
                Some(lo) => lines.push(line(&mut c, lo, &p, &mut codes, &mut stamp_ops, true)),
                None => c.err(&p, "The JSON value could not be converted to an object."),
            }
        }
    }
    for (card, _, _, path) in &stamp_ops {
        match inner.card(*card) {
            None => c.err(path, format!("Unknown stamp card {card}.")),
            Some(k) if !card_active(k, rq.now) => c.err(path, "The stamp card is not active."),
            Some(_) => {}
        }
    }
    finish(c)?;
    let (Some(ext), Some(total)) = (ext, total) else {
        return Err(bad("external_id and total are required."));
    };
    if inner.transactions.get(&ext).is_some_and(|b| !b.is_empty()) {
        match rq.s.duplicate_transaction {
            DuplicateTransaction::Reject => {
                return Err(field_error(
                    "external_id",
                    "duplicate: a transaction with this external_id already exists.",
                ))
            }
            DuplicateTransaction::Ignore => return action(true, "Transaction already registered."),
            DuplicateTransaction::Accept => {}
        }
    }
    let m = &inner.members[&id];
    // Plan every movement first, so a refused transaction changes nothing.
    let mut redeemed = m.redeemed.clone();
    for code in &codes {
        if inner.coupon(code).is_none() {
            return Err(field_error("coupon_codes", &format!("Unknown coupon '{code}'.")));
        }
        let mut probe = m.clone();
        probe.redeemed = redeemed.clone();
        if let Some(reason) = coupon_refusal(inner, &probe, code, Some(&ext), rq.now) {
            return Err(field_error("coupon_codes", &format!("Coupon '{code}': {reason}")));
        }
        *redeemed.entry(code.clone()).or_insert(0) += 1;
    }
    let mut stamps = m.stamps.clone();
    let mut finished = m.finished_cards.clone();
    let mut moves = Vec::new();
    for (card_id, act, n, path) in &stamp_ops {
        let Some(card) = inner.card(*card_id) else { continue };
        let req = card.required_stamps;
        let before = stamps.get(card_id).copied().unwrap_or(0);
        let n = u32::try_from(*n).unwrap_or(u32::MAX);
        if finished.contains(card_id) {
            return Err(field_error(path, "The stamp card is completed."));
        }
        // Stamps reserved by another transaction cannot be spent by this one (§4.4 K3 [SDK]):
        // the whole card, or only the held stamps (setting `stamp_reservation_locks`).
        let held_by_others = m.stamp_reservations.iter().filter(|(c, t)| c == card_id && *t != ext).count();
        let held_by_others = u32::try_from(held_by_others).unwrap_or(u32::MAX);
        let mut done = false;
        let after = if *act == "collected" {
            let sum = before.saturating_add(n);
            match (sum >= req, card.restartable) {
                // A restartable card may pass full within a sale: the reward it earns may be
                // taken by a `deducted` move of the same sale, the rest carrying over (§7.3: the
                // card is reset when the full card is redeemed). See the end of the sale.
                (_, true) => sum,
                // A one-time card stays full until its reward is taken.
                (true, false) => req,
                _ => sum,
            }
        } else {
            let take = match rq.s.deducted_count_means {
                DeductedCount::Stamps => n,
                DeductedCount::Rewards => n.saturating_mul(req),
            };
            let blocked = match rq.s.stamp_reservation_locks {
                StampLock::Card => held_by_others > 0,
                StampLock::Stamps => take > before.saturating_sub(held_by_others),
            };
            if blocked {
                return Err(field_error(path, "The stamp card is reserved by another transaction."));
            }
            if take > before {
                return Err(field_error(path, "Not enough stamps to deduct."));
            }
            // Redeeming a full card: a one-time card drops out of K2; a restartable one starts
            // over from 0 (plus any stamps of this sale past full) (§7.3).
            if !card.restartable && before == req && before - take == 0 {
                done = true;
                finished.insert(*card_id);
            }
            before - take
        };
        stamps.insert(*card_id, after);
        moves.push(StampMove { card: *card_id, before, after, finished: done });
    }
    // A restartable card left past full at the end of the sale: by default it stays full until
    // its reward is redeemed (§7.3); with `RestartOn::Fill` it starts over, the overflow carrying.
    for (card_id, count) in stamps.iter_mut() {
        if let Some(card) = inner.card(*card_id).filter(|c| c.restartable) {
            let end = settle_restartable(card.required_stamps, *count, rq.s.restartable_card_restarts_on);
            if end != *count {
                *count = end;
                if let Some(m) = moves.iter_mut().rev().find(|m| m.card == *card_id) {
                    m.after = end;
                }
            }
        }
    }
    let points = points_for(inner, rq, total, &lines)?;
    let release = rq.s.transactions_release_stamp_reservations;
    let m = inner.members.get_mut(&id).ok_or_else(|| not_found(rq, "Member"))?;
    // Checked before anything changes: a balance past the decimal range refuses the sale. A
    // negative sale never takes the balance below zero; the booking records what it took.
    let balance = m.points.checked_add(points).ok_or_else(|| field_error("total", OUT_OF_RANGE))?;
    let balance = balance.max(Decimal::ZERO);
    let points = balance - m.points;
    m.redeemed = redeemed;
    m.stamps = stamps;
    m.finished_cards = finished;
    m.points = balance;
    if release {
        m.stamp_reservations.retain(|(_, t)| *t != ext);
    }
    // Every booking under the id is kept (a double booking with `duplicate_transaction =
    // accept`), so T2 and T3 reach all of them.
    inner.transactions.entry(ext.clone()).or_default().push(Transaction {
        member_id: id,
        total,
        coupons: codes,
        stamps: moves,
        points,
        cancelled: false,
        refunded: Decimal::ZERO,
        refund_points: Decimal::ZERO,
        refund_ids: Vec::new(),
    });
    action(true, format!("Transaction {ext} registered. Points earned: {points}."))
}

fn t2_cancel(inner: &mut Inner, rq: &Req) -> Res {
    let ext = rq.param("externalTransactionId").to_string();
    let o = body_obj_or_empty(rq)?;
    let mut c = rq.check();
    c.str(&o, "reason", "");
    origin(&mut c, &o, "");
    finish(c)?;
    let Some(bookings) = inner.transactions.get_mut(&ext).filter(|b| !b.is_empty()) else {
        return Err(not_found(rq, "Transaction"));
    };
    // Every live booking under the id is reversed (more than one only after a double booking).
    let live: Vec<Transaction> = bookings
        .iter_mut()
        .filter(|t| !t.cancelled)
        .map(|t| {
            t.cancelled = true;
            t.clone()
        })
        .collect();
    if live.is_empty() {
        return Err(bad(format!("Transaction {ext} is already cancelled.")));
    }
    let release = rq.s.transactions_release_stamp_reservations;
    let restart = rq.s.restartable_card_restarts_on;
    for tx in live.iter().rev() {
        let cards: Vec<(i64, u32, bool)> = tx
            .stamps
            .iter()
            .filter_map(|mv| inner.card(mv.card).map(|c| (c.id, c.required_stamps, c.restartable)))
            .collect();
        let Some(m) = inner.members.get_mut(&tx.member_id) else { continue };
        // A cancel reverses coupons, stamps and points (§4.5 T2).
        for code in &tx.coupons {
            if let Some(n) = m.redeemed.get_mut(code) {
                *n = n.saturating_sub(1);
            }
        }
        for mv in tx.stamps.iter().rev() {
            let cur = i64::from(m.stamps.get(&mv.card).copied().unwrap_or(0));
            let back =
                u32::try_from((cur - (i64::from(mv.after) - i64::from(mv.before))).max(0)).unwrap_or(0);
            // Giving back a redeemed reward after later sales may pass full: the card then
            // stands as a sale would leave it (full until redeemed, or started over; §7.3), never
            // above `required_stamps`.
            let back = match cards.iter().find(|(id, _, _)| *id == mv.card) {
                Some((_, req, true)) => settle_restartable(*req, back, restart),
                Some((_, req, false)) => back.min(*req),
                None => back,
            };
            m.stamps.insert(mv.card, back);
            if mv.finished {
                m.finished_cards.remove(&mv.card);
            }
        }
        m.points = (m.points - (tx.points - tx.refund_points)).max(Decimal::ZERO);
        if release {
            m.stamp_reservations.retain(|(_, t)| *t != ext);
        }
    }
    action(true, format!("Transaction {ext} cancelled."))
}

fn t3_refund(inner: &mut Inner, rq: &Req) -> Res {
    let id = member_id(inner, rq)?;
    let original = rq.param("transactionId").to_string();
    let o = body_obj_or_empty(rq)?;
    let mut c = rq.check();
    c.str(&o, "reason", "");
    let refund_id = c.str(&o, "external_id", "");
    let total = money_fields(&mut c, &o, inner, &rq.s);
    let mut lines = Vec::new();
    if let Some(list) = c.arr(&o, "details", "") {
        for (i, v) in list.iter().enumerate() {
            let p = format!("details[{i}]");
            match v.as_object() {
                Some(lo) => lines.push(line(&mut c, lo, &p, &mut Vec::new(), &mut Vec::new(), false)),
                None => c.err(&p, "The JSON value could not be converted to an object."),
            }
        }
    }
    // Simulator decision (setting `refund_total_must_be_positive`; §5.6 reads refunds as
    // positive [I]).
    if rq.s.refund_total_must_be_positive && total.is_some_and(|t| t <= Decimal::ZERO) {
        c.err("total", "Refund amounts are positive.");
    }
    finish(c)?;
    let total = total.unwrap_or_default();
    // A refund only ever takes points back.
    let points = points_for(inner, rq, total, &lines)?.max(Decimal::ZERO);
    // {transactionId} is the T1 external_id (§4.5, [I]); after a double booking every booking
    // of the member under it counts as one sale.
    let Some(bookings) = inner.transactions.get_mut(&original) else {
        return Err(not_found(rq, "Transaction"));
    };
    let mut mine: Vec<&mut Transaction> = bookings.iter_mut().filter(|t| t.member_id == id).collect();
    if mine.is_empty() {
        return Err(not_found(rq, "Transaction"));
    }
    if mine.iter().all(|t| t.cancelled) {
        return Err(bad(format!("Transaction {original} is cancelled.")));
    }
    mine.retain(|t| !t.cancelled);
    if let Some(r) = &refund_id {
        if mine.iter().any(|t| t.refund_ids.contains(r)) {
            return Err(field_error(
                "external_id",
                "duplicate: a refund with this external_id already exists.",
            ));
        }
    }
    let original_total = mine.iter().try_fold(Decimal::ZERO, |sum, t| sum.checked_add(t.total));
    let open = mine
        .iter()
        .try_fold(Decimal::ZERO, |sum, t| sum.checked_add((t.total - t.refunded).max(Decimal::ZERO)));
    if total < Decimal::ZERO {
        return Err(field_error("total", "Refund amounts may not be negative."));
    }
    // A sum past the decimal range exceeds the original total all the more.
    if open.is_none_or(|open| total > open) {
        let shown = original_total.map(|t| t.to_string()).unwrap_or_else(|| "out of range".into());
        return Err(bad(format!("Refunds would exceed the original total of {shown}.")));
    }
    // Coupons and stamps are not given back by a partial refund (§4.5 T3); points are, never
    // more than the sale earned. The refund is spread over the bookings in order.
    let (mut amount_left, mut points_left, mut taken) = (total, points, Decimal::ZERO);
    for (i, tx) in mine.iter_mut().enumerate() {
        let amount = amount_left.min((tx.total - tx.refunded).max(Decimal::ZERO));
        let pts = points_left.min((tx.points - tx.refund_points).max(Decimal::ZERO));
        tx.refunded += amount;
        tx.refund_points += pts;
        if i == 0 {
            tx.refund_ids.extend(refund_id.clone());
        }
        amount_left -= amount;
        points_left -= pts;
        taken += pts;
    }
    if let Some(m) = inner.members.get_mut(&id) {
        m.points = (m.points - taken).max(Decimal::ZERO);
    }
    action(true, format!("Refund of {total} registered against {original}."))
}

// ---------------------------------------------------------------- non-eligible products (§4.6)

fn n1_list(inner: &mut Inner, rq: &Req) -> Res {
    let parse = |k: &str, default: i64| rq.query(k).map_or(Ok(default), |v| v.parse::<i64>().map_err(|_| ()));
    let (Ok(offset), Ok(limit)) = (parse("offset", 0), parse("limit", 100)) else {
        return Err(action_err("offset and limit must be integers."));
    };
    if offset < 0 || !(1..=100).contains(&limit) {
        return Err(action_err("offset must be >= 0 and limit between 1 and 100."));
    }
    let data: Vec<Value> = inner
        .non_eligible
        .values()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(100))
        .map(Inner::non_eligible_json)
        .collect();
    ok(json!({"data": data, "total_records": inner.non_eligible.len(), "offset": offset, "limit": limit}))
}

/// N1/N4 declare their 400 as an ActionResponse (§4.6).
fn action_err(details: &str) -> Response {
    json_resp(
        StatusCode::BAD_REQUEST,
        &json!({"is_ok": false, "details": details}),
        "application/json; charset=utf-8",
    )
}

/// Validates one non-eligible item; returns it (id 0) and its error texts.
fn non_eligible_item(v: &Value, rq: &Req) -> (NonEligible, Vec<String>, Option<i64>) {
    let mut c = rq.check();
    let empty = Obj::new();
    let o = v.as_object().unwrap_or(&empty);
    if v.as_object().is_none() {
        c.err("$", "The item must be an object.");
    }
    let id = c.int(o, "id", "");
    let item = NonEligible {
        id: 0,
        description: c.str(o, "description", ""),
        product_id: c.str(o, "product_id", "").filter(|s| !s.is_empty()),
        product_id_prefix: c.str(o, "product_id_prefix", "").filter(|s| !s.is_empty()),
        product_category_id: c.int(o, "product_category_id", ""),
        subsystem: c.enumeration(o, "subsystem", "", SUBSYSTEMS).unwrap_or("All"),
        expires_at: c.date(o, "expires_at", ""),
    };
    if item.product_id.is_none() && item.product_id_prefix.is_none() && item.product_category_id.is_none() {
        c.err("product_id", "One of product_id, product_id_prefix or product_category_id is required.");
    }
    if item.expires_at.is_some_and(|d| d <= rq.now.date_naive()) {
        c.err("expires_at", "expires_at must be after today.");
    }
    let errors =
        c.errors.into_iter().flat_map(|(k, v)| v.into_iter().map(move |m| format!("{k}: {m}"))).collect();
    (item, errors, id)
}

fn n2_add(inner: &mut Inner, rq: &Req) -> Res {
    let list = body_arr(rq)?;
    let json400 = |v: Value| json_resp(StatusCode::BAD_REQUEST, &v, "application/json; charset=utf-8");
    if list.len() > 100 || list.is_empty() {
        return Err(json400(
            json!([{"product_id": null, "product_id_prefix": null, "errors": ["Between 1 and 100 items are accepted per call."]}]),
        ));
    }
    let items: Vec<_> = list.iter().map(|v| non_eligible_item(v, rq)).collect();
    if items.iter().any(|(_, e, _)| !e.is_empty()) {
        let errs: Vec<Value> = items
            .iter()
            .filter(|(_, e, _)| !e.is_empty())
            .map(|(i, e, _)| json!({"product_id": i.product_id, "product_id_prefix": i.product_id_prefix, "errors": e}))
            .collect();
        return Err(json400(Value::Array(errs)));
    }
    let mut created = Vec::new();
    for (mut item, _, _) in items {
        item.id = inner.next_non_eligible_id;
        inner.next_non_eligible_id += 1;
        created.push(Inner::non_eligible_json(&item));
        inner.non_eligible.insert(item.id, item);
    }
    ok(Value::Array(created))
}

fn n3_update(inner: &mut Inner, rq: &Req) -> Res {
    let list = body_arr(rq)?;
    let json_with = |s: StatusCode, v: Value| json_resp(s, &v, "application/json; charset=utf-8");
    if list.len() > 100 || list.is_empty() {
        return Err(json_with(
            StatusCode::BAD_REQUEST,
            json!([{"id": 0, "status": false, "errors": ["Between 1 and 100 items are accepted per call."]}]),
        ));
    }
    let mut statuses = Vec::new();
    let mut good = 0;
    for v in &list {
        let (mut item, mut errors, id) = non_eligible_item(v, rq);
        match id {
            Some(id) if inner.non_eligible.contains_key(&id) => item.id = id,
            Some(id) => errors.push(format!("id: unknown non-eligible product {id}.")),
            None => errors.push("id: The id field is required.".to_string()),
        }
        let ok_item = errors.is_empty();
        if ok_item {
            good += 1;
            inner.non_eligible.insert(item.id, item.clone());
        }
        statuses.push(json!({"id": item.id.max(id.unwrap_or(0)), "status": ok_item, "errors": errors}));
    }
    if good == list.len() {
        action(true, "All items updated.")
    } else if good == 0 {
        Err(json_with(StatusCode::BAD_REQUEST, Value::Array(statuses)))
    } else {
        Ok(json_with(StatusCode::MULTI_STATUS, Value::Array(statuses)))
    }
}

fn n4_delete(inner: &mut Inner, rq: &Req) -> Res {
    let Ok(id) = rq.param("nonEligibleProductId").parse::<i64>() else {
        return Err(action_err("nonEligibleProductId must be an integer."));
    };
    if inner.non_eligible.remove(&id).is_none() {
        return Err(action_err("Non-eligible product not found."));
    }
    action(true, "Deleted.")
}

#[cfg(test)]
mod tests {
    use super::super::state::num;
    use super::*;

    #[test]
    fn national_phone_takes_store_country() {
        assert_eq!(normalise_phone("41234567", "+47").as_deref(), Some("+4741234567"));
        assert_eq!(normalise_phone("004741234567", "+47").as_deref(), Some("+4741234567"));
        assert_eq!(normalise_phone("+47 412 34 567", "+47").as_deref(), Some("+4741234567"));
        assert_eq!(normalise_phone(" 4741234567", "+47").as_deref(), Some("+474741234567"));
        assert!(normalise_phone("abc", "+47").is_none());
    }

    #[test]
    fn decimal_output_keeps_a_fraction() {
        assert_eq!(num(Decimal::new(349, 0)).to_string(), "349.0");
        assert_eq!(num(Decimal::new(1995, 1)).to_string(), "199.5");
    }
}
