//! What every POS call shares (the SessionM contract §3.1, §3.2, §7.5): Basic auth with the POS
//! credentials, the request container, the `{status, payload, errors}` response container and
//! `request_id` idempotency.
//!
//! Order of checks: credentials (401), `Content-Type` (400), JSON object (400), container fields
//! (error envelope, not stored), `request_id` replay, then the operation. Every response produced
//! once a valid container was read is stored under its `request_id` (simulator decision: errors
//! too, so a replay always answers what the first request got).

use axum::{body::Bytes, extract::State, http::HeaderMap};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{basic_is, error_body, json_content_type, json_resp, unauthorized, Response, Sim};
use crate::sessionm::{
    demo,
    input::{Check, FieldErrors, Obj},
    model::exponent,
    names::{self, code},
    settings::{PosErrorStatus, SessionmSettings},
    state::{Inner, Replay},
};

/// Members of the request container (§3.1).
const ENVELOPE_FIELDS: &[&str] = &["store_id", "client_id", "request_id", "culture", "request_payload"];

/// One POS request, its container already checked.
pub(crate) struct PosReq<'a> {
    pub now: DateTime<Utc>,
    pub store_id: String,
    pub payload: &'a Obj,
    pub settings: SessionmSettings,
}

impl PosReq<'_> {
    pub fn check(&self) -> Check {
        Check::new(self.settings.unknown_fields)
    }

    /// Decimals of the store currency's minor unit: what computed amounts are rounded to.
    pub fn dp(&self) -> u32 {
        exponent(&self.settings.store_currency)
    }
}

/// A POS failure: `errors = {code, message, fields?}` (§5.8: shape \[I\], simulator decision).
#[derive(Debug)]
pub(crate) struct PosError {
    pub code: &'static str,
    pub message: String,
    pub fields: Option<FieldErrors>,
}

impl PosError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), fields: None }
    }
}

/// `Ok(None)` = success without payload (unlock, reinstate, §3.6, §3.8).
pub(crate) type PosResult = Result<Option<Value>, PosError>;
type PosOp = fn(&mut Inner, &PosReq<'_>) -> PosResult;

/// Turns collected field errors into a `validation` failure.
pub(crate) fn finish(c: Check) -> Result<(), PosError> {
    if c.ok() {
        return Ok(());
    }
    Err(PosError {
        code: code::VALIDATION,
        message: "One or more fields are invalid.".into(),
        fields: Some(c.errors),
    })
}

/// HTTP status and body of a POS result.
fn render(settings: &SessionmSettings, r: PosResult) -> (u16, String) {
    match r {
        Ok(Some(p)) => (200, json!({"status": names::POS_OK, "payload": p}).to_string()),
        Ok(None) => (200, json!({"status": names::POS_OK}).to_string()),
        Err(e) => {
            let mut errors = json!({"code": e.code, "message": e.message});
            if let (Some(f), Some(o)) = (e.fields, errors.as_object_mut()) {
                o.insert("fields".into(), json!(f));
            }
            // HTTP status of business errors is undocumented (§3, §8.3 setting).
            let status = match settings.pos_business_error_status {
                PosErrorStatus::Http200 => 200,
                PosErrorStatus::Http400 => 400,
            };
            (status, json!({"status": names::ERROR, "errors": errors}).to_string())
        }
    }
}

/// Removes a still-pending `request_id` when its request is abandoned (client gone), so the id
/// does not stay "pending processing" forever.
struct Pending {
    sim: Sim,
    request_id: String,
    done: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            let mut g = self.sim.inner.lock().unwrap_or_else(|e| e.into_inner());
            if g.replays.get(&self.request_id).is_some_and(|r| r.response.is_none()) {
                g.replays.remove(&self.request_id);
            }
        }
    }
}

/// Counts a request as held while it waits on the probe's switch.
struct Held<'a>(&'a Sim);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.hold.held.send_modify(|n| *n = n.saturating_sub(1));
    }
}

async fn handle(sim: Sim, path: &'static str, headers: HeaderMap, body: Bytes, op: PosOp) -> Response {
    // §2, checklist 2: a missing or wrong Basic header answers 401.
    if !basic_is(&headers, demo::POS_KEY, demo::POS_SECRET) {
        return unauthorized(&error_body(code::UNAUTHORIZED, "Missing or invalid credentials."));
    }
    if !json_content_type(&headers) {
        let msg = "Content-Type must be application/json.";
        return json_resp(400, &error_body(code::CONTENT_TYPE, msg).to_string());
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return json_resp(400, &error_body(code::INVALID_JSON, "Body must be a JSON object.").to_string())
        }
    };
    let request_id = {
        let mut g = sim.state();
        let now = sim.clock.now();
        let settings = g.settings.clone();
        let request_id = match envelope(&g, &value) {
            Ok(id) => id,
            Err(e) => {
                let (s, b) = render(&settings, Err(e));
                return json_resp(s, &b);
            }
        };
        match g.replays.get(&request_id) {
            // §7.5: same id, different body (or other operation) → rejected.
            Some(r) if r.path != path || r.body != value => {
                let e =
                    PosError::new(code::REQUEST_ID_REUSED, "request_id was already used with another body.");
                let (s, b) = render(&settings, Err(e));
                return json_resp(s, &b);
            }
            Some(Replay { response: Some((s, b)), .. }) => return json_resp(*s, b),
            Some(_) => {
                let e = PosError::new(
                    code::PENDING_PROCESSING,
                    "A request with this request_id is being processed.",
                );
                let (s, b) = render(&settings, Err(e));
                return json_resp(s, &b);
            }
            None => {
                g.replays.insert(
                    request_id.clone(),
                    Replay { path: path.to_string(), body: value.clone(), at: now, response: None },
                );
            }
        }
        request_id
    };
    let mut pending = Pending { sim: sim.clone(), request_id: request_id.clone(), done: false };
    if *sim.hold.on.borrow() {
        sim.hold.held.send_modify(|n| *n += 1);
        let _held = Held(&sim);
        let mut rx = sim.hold.on.subscribe();
        let _ = rx.wait_for(|on| !*on).await;
    }
    let mut g = sim.state();
    let settings = g.settings.clone();
    let payload = value.get("request_payload").and_then(Value::as_object).cloned().unwrap_or_default();
    let rq = PosReq {
        now: sim.clock.now(),
        store_id: value.get("store_id").and_then(Value::as_str).unwrap_or_default().to_string(),
        payload: &payload,
        settings: settings.clone(),
    };
    let (status, text) = render(&settings, op(&mut g, &rq));
    if let Some(r) = g.replays.get_mut(&request_id) {
        r.response = Some((status, text.clone()));
    }
    pending.done = true;
    json_resp(status, &text)
}

/// Checks the request container (§3.1) and returns its `request_id`.
fn envelope(g: &Inner, v: &Value) -> Result<String, PosError> {
    let o = v.as_object().cloned().unwrap_or_default();
    let mut c = Check::new(g.settings.unknown_fields);
    c.known(&o, "", ENVELOPE_FIELDS);
    let store_id = c.req_str(&o, "store_id", "");
    let client_id = c.req_str(&o, "client_id", "");
    let request_id = c.req_str(&o, "request_id", "");
    let _ = c.str(&o, "culture", "");
    let _ = c.req_obj(&o, "request_payload", "");
    finish(c)?;
    if client_id.as_deref() != Some(demo::CLIENT_ID) {
        return Err(PosError::new(code::INVALID_CLIENT, "client_id is not known."));
    }
    if store_id.as_deref().and_then(|s| g.store(s)).is_none() {
        return Err(PosError::new(code::STORE_NOT_FOUND, "store_id is not known."));
    }
    Ok(request_id.unwrap_or_default())
}

/// `POST /api/2.0/lookup` (§3.3).
pub(crate) async fn lookup(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle(sim, "/api/2.0/lookup", headers, body, super::lookup::lookup).await
}

/// `POST /api/2.0/lock` (§3.5).
pub(crate) async fn lock(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle(sim, "/api/2.0/lock", headers, body, super::discounting::lock).await
}

/// `POST /api/2.0/unlock` (§3.6).
pub(crate) async fn unlock(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle(sim, "/api/2.0/unlock", headers, body, super::discounting::unlock).await
}

/// `POST /api/2.0/redeem` (§3.7).
pub(crate) async fn redeem(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle(sim, "/api/2.0/redeem", headers, body, super::discounting::redeem).await
}

/// `POST /api/2.0/reinstate` (§3.8).
pub(crate) async fn reinstate(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle(sim, "/api/2.0/reinstate", headers, body, super::discounting::reinstate).await
}

/// `POST /api/2.0/send_transaction` (§3.9).
pub(crate) async fn send_transaction(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    handle(sim, "/api/2.0/send_transaction", headers, body, super::send_transaction::send).await
}
