//! The HTTP surface: one router serving the three SessionM families on one loopback server
//! (POS, Connect, Core), plus the simulator's own `/_sim/...` inspection routes. Each submodule
//! mirrors a section of the SessionM contract.

mod connect;
mod core;
mod discounting;
mod inspect;
mod lookup;
mod pos;
mod send_transaction;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, Response as HttpResponse, StatusCode},
    routing::{get, post},
    Router,
};
use base64::Engine as _;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::{names, state::Inner};
use crate::clock::SimClock;

pub(crate) type Response = HttpResponse<Body>;

/// The probe's switch that holds POS requests after their `request_id` is registered, so a
/// test can send a second request while the first is "still being processed" (§7.5).
#[derive(Debug)]
pub(crate) struct Hold {
    /// While true, POS requests wait before running.
    pub on: watch::Sender<bool>,
    /// Number of POS requests currently waiting.
    pub held: watch::Sender<usize>,
}

impl Default for Hold {
    fn default() -> Self {
        Self { on: watch::channel(false).0, held: watch::channel(0).0 }
    }
}

/// Shared simulator state handed to every handler.
#[derive(Clone, Debug)]
pub(crate) struct Sim {
    pub inner: Arc<Mutex<Inner>>,
    pub clock: SimClock,
    pub hold: Arc<Hold>,
}

impl Sim {
    /// Locks the state and applies every transition due on the simulator clock.
    fn state(&self) -> MutexGuard<'_, Inner> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.settle(self.clock.now());
        g
    }
}

/// A JSON response.
pub(crate) fn json_resp(status: u16, body: &str) -> Response {
    let mut r = HttpResponse::new(Body::from(body.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

/// A 401 with a Basic challenge and a JSON error body (§2: Basic everywhere; body shape is a
/// simulator decision).
pub(crate) fn unauthorized(body: &Value) -> Response {
    let mut r = json_resp(401, &body.to_string());
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"SessionM\""));
    r
}

/// The decoded `Authorization: Basic` pair, if any.
pub(crate) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let s = String::from_utf8(raw).ok()?;
    s.split_once(':').map(|(a, b)| (a.to_string(), b.to_string()))
}

/// Whether the Basic header carries exactly `key`/`secret`.
pub(crate) fn basic_is(headers: &HeaderMap, key: &str, secret: &str) -> bool {
    basic(headers).is_some_and(|(k, s)| k == key && s == secret)
}

/// `application/json`, with or without parameters (§2: mandatory on POS calls).
pub(crate) fn json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// `{"status": "error", "errors": {"code", "message"}}`.
pub(crate) fn error_body(code: &str, message: &str) -> Value {
    json!({"status": names::ERROR, "errors": {"code": code, "message": message}})
}

/// Builds the SessionM router over `sim`.
pub(crate) fn router(sim: Sim) -> Router {
    const CORE: &str = "/priv/v1/apps/{api_key}";
    Router::new()
        .route("/api/2.0/lookup", post(pos::lookup))
        .route("/api/2.0/lock", post(pos::lock))
        .route("/api/2.0/unlock", post(pos::unlock))
        .route("/api/2.0/redeem", post(pos::redeem))
        .route("/api/2.0/reinstate", post(pos::reinstate))
        .route("/api/2.0/send_transaction", post(pos::send_transaction))
        .route("/offers/api/2.0/offers/get_user_offers", post(connect::get_user_offers))
        .route("/incentives/api/1.0/user_points/all_balances", post(connect::all_balances))
        .route("/incentives/api/1.0/user_points/balance", post(connect::balance))
        .route("/offers/api/2.0/offers/rewardstores/purchase_offer", post(connect::purchase_offer))
        .route(&format!("{CORE}/users"), post(core::create))
        .route(&format!("{CORE}/users/{{user_id}}"), get(core::get_by_id).put(core::put_by_id))
        .route(
            &format!("{CORE}/external/users/{{external_id}}"),
            get(core::get_by_external).put(core::put_by_external),
        )
        .route("/_sim/transactions", get(inspect::transactions))
        .route("/_sim/warnings", get(inspect::warnings))
        .fallback(|| async {
            json_resp(404, &error_body(names::code::NOT_FOUND, "No such route.").to_string())
        })
        .method_not_allowed_fallback(|| async {
            json_resp(405, &error_body(names::code::METHOD_NOT_ALLOWED, "Method not allowed.").to_string())
        })
        .with_state(sim)
}
