//! The eManage routes (the eManage contract §6) and what every call shares: `X_CID` and web-key
//! checks (§3), content type, the `{message}` / `modelState` error bodies (§10). Each endpoint is
//! a plain function over the locked state, in the file of its contract section.

// The `Err` side is the finished HTTP response, built once per request; boxing it buys nothing.
#![allow(clippy::result_large_err)]

mod campaign;
mod cart;
mod checkout;
mod customers;
mod orders;
mod reporting;
mod upgrades;

use std::{
    future::{ready, Ready},
    sync::{Arc, Mutex},
};

use axum::{
    body::{Body, Bytes},
    extract::{Extension, Path, Query, State},
    http::{header, HeaderMap, HeaderValue, Method, Response as HttpResponse, StatusCode, Uri},
    routing::{delete, get, post, put},
    Router,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{
    input::{guid, ModelState, Obj, Params},
    names::{self, EXPORTS, MESSAGE, MODEL_STATE, PAYMENTS},
    settings::ServerFaultBody,
    state::Inner,
};
use crate::{clock::SimClock, server::Oversized};

pub(crate) type Response = HttpResponse<Body>;
type Res = Result<Response, Response>;
type Op = fn(&mut Inner, &Req) -> Res;

/// Shared simulator state handed to every handler.
#[derive(Clone, Debug)]
pub(crate) struct Sim {
    pub inner: Arc<Mutex<Inner>>,
    pub clock: SimClock,
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    /// Web Sales API: a known `X_CID`, and the path's web key must belong to it (§3).
    Cid,
    /// Reporting API: a bearer token from `POST /auth` (§12).
    Bearer,
    /// Simulator extras (payment pages, `POST /auth` itself).
    Open,
}

/// One request, already read and authorised.
pub(crate) struct Req {
    p: Params,
    q: Params,
    headers: HeaderMap,
    body: Bytes,
    now: DateTime<Utc>,
    /// The path's campaign web key, lower case (Web Sales routes only).
    web_key: String,
}

impl Req {
    fn param(&self, name: &str) -> &str {
        self.p.get(name).map(String::as_str).unwrap_or("")
    }
}

// ---------------------------------------------------------------- responses

fn json_resp(status: StatusCode, v: &Value) -> Response {
    let mut r = HttpResponse::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

fn ok(v: Value) -> Res {
    Ok(json_resp(StatusCode::OK, &v))
}

/// `{ "message": "..." }` (§10; the key is a simulator decision, ASP.NET-like).
fn message(status: u16, text: impl Into<String>) -> Response {
    json_resp(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &json!({ MESSAGE: text.into() }),
    )
}

/// The answer to an injected fault (§10): a server fault (5xx) is plain text or empty, as
/// `body` says; any other status, a 429 throttle included, is `{ "message": … }`.
pub(crate) fn fault(status: StatusCode, body: ServerFaultBody) -> Response {
    if !status.is_server_error() {
        let text = match status {
            StatusCode::TOO_MANY_REQUESTS => "Too many requests; retry after the delay given.".to_string(),
            other => other.canonical_reason().unwrap_or("The request failed.").to_string(),
        };
        return message(status.as_u16(), text);
    }
    let mut r = match body {
        ServerFaultBody::Empty => HttpResponse::new(Body::empty()),
        ServerFaultBody::Text => {
            let mut r = HttpResponse::new(Body::from(status.canonical_reason().unwrap_or("Server error")));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            r
        }
    };
    *r.status_mut() = status;
    r
}

/// 400 `{ "message": "The request is invalid.", "modelState": { field: [reasons] } }` (§10).
fn invalid(errors: ModelState) -> Response {
    json_resp(StatusCode::BAD_REQUEST, &json!({ MESSAGE: "The request is invalid.", MODEL_STATE: errors }))
}

fn field_error(field: &str, reason: impl Into<String>) -> Response {
    let mut e = ModelState::new();
    e.insert(field.to_string(), vec![reason.into()]);
    invalid(e)
}

fn finish(c: super::input::Check) -> Result<(), Response> {
    if c.ok() {
        Ok(())
    } else {
        Err(invalid(c.errors))
    }
}

/// The body as a JSON object; empty or malformed JSON is a 400 (§10).
fn body_obj(rq: &Req) -> Result<Obj, Response> {
    if rq.body.iter().all(u8::is_ascii_whitespace) {
        return Err(field_error("", "A non-empty request body is required."));
    }
    match serde_json::from_slice::<Value>(&rq.body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(field_error("", "The request body must be a JSON object.")),
        Err(e) => Err(field_error("", format!("The request body is not valid JSON: {e}"))),
    }
}

/// A decimal as a JSON number in major units. Output only, never arithmetic.
pub(crate) fn num(d: Decimal) -> Value {
    serde_json::from_str::<Value>(&d.normalize().to_string()).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------- plumbing

/// `application/json`, `text/json`, `application/*+json`, with or without parameters.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json"
        || mime == "text/json"
        || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// A body over the kit's limit ([`Oversized`]: the handler got none of it): `413` with
/// `{ "message": … }`, the ASP.NET-like shape of every other refusal (§10). Simulator decision:
/// it comes after the checks of who is calling and before the content type (which says
/// nothing about a body never read).
fn too_large(o: Oversized) -> Response {
    let mut r = message(413, format!("The request body exceeds the limit of {} bytes.", o.limit));
    // The rest of the body was never read: the connection cannot carry another request.
    r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

impl Sim {
    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        op: Op,
        guard: Guard,
        headers: HeaderMap,
        p: Params,
        q: Params,
        oversized: Option<Oversized>,
        body: Bytes,
    ) -> Response {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        inner.sweep(now);
        let mut web_key = String::new();
        match guard {
            Guard::Cid => {
                // Header names arrive lower-cased, so `X_CID`, `x_cid` and `X_Cid` all match
                // here; `X-CID` (hyphen) is another header and counts as missing (§3).
                let cid = headers.get("x_cid").and_then(|v| v.to_str().ok()).and_then(guid);
                let Some(cid) = cid.filter(|c| inner.campaigns.iter().any(|k| k.cid == *c)) else {
                    // Missing or unknown client id: 401 (§3, simulator decision).
                    return message(401, "Authorization has been denied for this request.");
                };
                if let Some(wk) = p.get("wk") {
                    // A web key of another client is indistinguishable from an unknown one (§10).
                    match guid(wk).filter(|w| inner.campaign(w).is_some_and(|c| c.cid == cid)) {
                        Some(w) => web_key = w,
                        None => return message(404, format!("Campaign '{wk}' was not found.")),
                    }
                }
                if let Some(o) = oversized {
                    return too_large(o);
                }
                if !body.iter().all(u8::is_ascii_whitespace) && !json_content_type(&headers) {
                    return message(
                        415,
                        "The request entity's media type is not supported for this resource.",
                    );
                }
            }
            Guard::Bearer => {
                let token = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split_once(' '))
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, t)| t.trim().to_string())
                    .unwrap_or_default();
                if inner.tokens.get(&token).is_none_or(|exp| *exp <= now) {
                    return message(401, "Authorization has been denied for this request.");
                }
            }
            Guard::Open => {}
        }
        if let Some(o) = oversized {
            return too_large(o);
        }
        let rq = Req { p, q, headers, body, now, web_key };
        match op(&mut inner, &rq) {
            Ok(r) | Err(r) => r,
        }
    }
}

type Handler = fn(
    State<Sim>,
    HeaderMap,
    Option<Path<Params>>,
    Query<Params>,
    Option<Extension<Oversized>>,
    Bytes,
) -> Ready<Response>;

macro_rules! handler {
    ($op:expr, $guard:expr) => {{
        let f: Handler = |State(sim), headers, path, Query(q), oversized, body| {
            let p = path.map(|Path(p)| p).unwrap_or_default();
            let oversized = oversized.map(|Extension(o)| o);
            ready(sim.call($op, $guard, headers, p, q, oversized, body))
        };
        f
    }};
}

/// Builds the eManage router over `sim`. Simulator-only routes live under `sim_prefix`.
pub(crate) fn router(sim: Sim, sim_prefix: &str) -> Router {
    use Guard::{Bearer, Cid, Open};
    const C: &str = "/api/campaigns/{wk}";
    const S: &str = "/api/shoppingcart/{wk}";
    Router::new()
        .route(&format!("{C}/customers/location"), get(handler!(campaign::location, Cid)))
        .route(&format!("{C}/products/prices"), get(handler!(campaign::prices, Cid)))
        .route(
            &format!("{C}/products/prices/{{countryCode}}"),
            get(handler!(campaign::prices_for_country, Cid)),
        )
        .route(&format!("{C}/upsells"), get(handler!(campaign::upsells, Cid)))
        .route(&format!("{C}/taxes/{{countryCode}}/{{stateCode}}"), get(handler!(campaign::taxes, Cid)))
        .route(&format!("{C}/coupons/{{couponCode}}"), get(handler!(campaign::coupon_info, Cid)))
        .route("/api/customers/{wk}", post(handler!(customers::lead, Cid)))
        // Clients call it with the trailing slash (§6.2); without one it answers the same.
        .route("/api/validation/verify-email/", get(handler!(customers::verify_email, Cid)))
        .route("/api/validation/verify-email", get(handler!(customers::verify_email, Cid)))
        .route("/api/giftcards/balance/{code}", get(handler!(customers::gift_card_balance, Cid)))
        .route(S, get(handler!(cart::get_cart, Cid)))
        .route(&format!("{S}/new"), post(handler!(cart::new_session, Cid)))
        .route(&format!("{S}/add"), post(handler!(cart::add, Cid)))
        .route(&format!("{S}/update"), put(handler!(cart::update, Cid)))
        .route(&format!("{S}/remove"), delete(handler!(cart::remove, Cid)))
        .route(&format!("{S}/customers/new"), post(handler!(checkout::customer, Cid)))
        .route(&format!("{S}/checkout"), post(handler!(checkout::checkout, Cid)))
        .route(names::ORDERS_PATH, post(handler!(orders::place, Cid)))
        .route("/auth", post(handler!(reporting::auth, Open)))
        .route("/order/export/{page}/{pageSize}", get(handler!(reporting::export, Bearer)))
        .route("/api/orders/export/{page}/{pageSize}", get(handler!(reporting::export, Bearer)))
        .route(&format!("{sim_prefix}/{PAYMENTS}/{{tracking}}"), get(handler!(checkout::payment_page, Open)))
        .route(
            &format!("{sim_prefix}/{PAYMENTS}/{{tracking}}/approve"),
            post(handler!(checkout::approve, Open)),
        )
        .route(
            &format!("{sim_prefix}/{PAYMENTS}/{{tracking}}/cancel"),
            post(handler!(checkout::cancel, Open)),
        )
        .route(&format!("{sim_prefix}/{EXPORTS}/{{id}}"), get(handler!(reporting::csv, Open)))
        .fallback(|uri: Uri| async move {
            message(404, format!("No HTTP resource was found that matches the request URI '{uri}'."))
        })
        .method_not_allowed_fallback(|method: Method| async move {
            message(405, format!("The requested resource does not support http method '{method}'."))
        })
        .with_state(sim)
}
