//! The control API: what the Rust tests do through [`crate::SimHandle`] and a vendor's probe,
//! over HTTP under the reserved prefix [`PREFIX`], so a test harness in any language (a PHP
//! plugin's suite, say) can drive a running `loyalty sim --control`.
//!
//! | Method and path | Body | Does |
//! | --- | --- | --- |
//! | `GET /_sim` | – | `{"now", "events": [names], "journal_entries", "journal_dropped"}` |
//! | `GET /_sim/clock` | – | `{"now": RFC 3339}` |
//! | `POST /_sim/clock` | `{"set": RFC 3339}` or `{"advance_secs": n}` | moves the simulator's clock; answers the new `now` |
//! | `POST /_sim/faults` | `{"fault": …, "method"?, "path_prefix"? or "path"? (whole path), "route"?, "times"?}` | the next `times` matching requests fail (all of them without `times`) |
//! | `DELETE /_sim/faults` | – | removes every fault |
//! | `GET /_sim/journal` | – | the requests received (secrets redacted), oldest first |
//! | `DELETE /_sim/journal` | – | forgets them |
//! | `POST /_sim/events/{name}` | the event's arguments | a vendor-side event (an IdoSell dispatch, an eManage payment confirmation); answers what it did |
//!
//! A fault is `{"status": 503}`, `{"too_many_requests": {"retry_after_secs": 5}}`,
//! `{"latency_ms": 2000}`, or one of `"malformed_body"`, `"truncated_body"`,
//! `"drop_connection"`, `"hang"`. Requests under `/_sim` (the control API, a simulator's own views) are
//! neither journaled nor subject to faults.
//! Errors are `{"error": "…"}` with status 400 (bad input) or 404 (unknown event).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::fault::Fault;
use crate::server::SimHandle;

/// The reserved path prefix of the control API.
pub const PREFIX: &str = "/_sim";

/// What a vendor event answers: a JSON result, or why it could not happen.
pub type EventFuture = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// The vendor-side events a simulator offers its control API.
pub trait VendorEvents: Send + Sync {
    /// Event names with a one-line description each.
    fn names(&self) -> Vec<(&'static str, &'static str)>;
    /// Fires `name` with its JSON arguments; `None` for an unknown event.
    fn fire(&self, name: &str, args: Value) -> Option<EventFuture>;
}

#[derive(Clone)]
struct Control {
    handle: SimHandle,
    events: Arc<dyn VendorEvents>,
}

fn bad(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message.into()}))).into_response()
}

/// The control router, nested under [`PREFIX`] by the server.
pub(crate) fn router(handle: SimHandle, events: Arc<dyn VendorEvents>) -> Router {
    Router::new()
        .route(PREFIX, get(overview))
        .route(&format!("{PREFIX}/clock"), get(clock_now).post(clock_move))
        .route(&format!("{PREFIX}/faults"), post(fault_add).delete(faults_clear))
        .route(&format!("{PREFIX}/journal"), get(journal).delete(journal_clear))
        .route(&format!("{PREFIX}/events/{{name}}"), post(event))
        .with_state(Control { handle, events })
}

async fn overview(State(c): State<Control>) -> Json<Value> {
    let events: Vec<Value> =
        c.events.names().into_iter().map(|(n, d)| json!({"name": n, "description": d})).collect();
    let journal = c.handle.journal();
    Json(json!({
        "now": c.handle.clock().now().to_rfc3339(),
        "events": events,
        "journal_entries": journal.entries().len(),
        "journal_dropped": journal.dropped(),
    }))
}

async fn clock_now(State(c): State<Control>) -> Json<Value> {
    Json(json!({"now": c.handle.clock().now().to_rfc3339()}))
}

async fn clock_move(State(c): State<Control>, Json(body): Json<Value>) -> Response {
    let clock = c.handle.clock();
    if let Some(at) = body.get("set").and_then(Value::as_str) {
        match chrono::DateTime::parse_from_rfc3339(at) {
            Ok(t) => clock.set(t.with_timezone(&chrono::Utc)),
            Err(e) => return bad(format!("set: {e}")),
        }
    } else if let Some(secs) = body.get("advance_secs").and_then(Value::as_u64) {
        clock.advance(Duration::from_secs(secs));
    } else {
        return bad("expected {\"set\": RFC 3339} or {\"advance_secs\": n}");
    }
    Json(json!({"now": clock.now().to_rfc3339()})).into_response()
}

/// A fault from its JSON form (see the module docs).
pub fn parse_fault(v: &Value) -> Result<Fault, String> {
    if let Some(name) = v.as_str() {
        return match name {
            "malformed_body" => Ok(Fault::MalformedBody),
            "truncated_body" => Ok(Fault::TruncatedBody),
            "drop_connection" => Ok(Fault::DropConnection),
            "hang" => Ok(Fault::Hang),
            other => Err(format!("unknown fault {other:?}")),
        };
    }
    if let Some(status) = v.get("status").and_then(Value::as_u64) {
        return u16::try_from(status)
            .ok()
            .filter(|s| (100..600).contains(s))
            .map(Fault::Status)
            .ok_or_else(|| format!("status {status} is no HTTP status"));
    }
    if let Some(ms) = v.get("latency_ms").and_then(Value::as_u64) {
        return Ok(Fault::Latency(Duration::from_millis(ms)));
    }
    if let Some(t) = v.get("too_many_requests") {
        let secs = t.get("retry_after_secs").and_then(Value::as_u64).unwrap_or(1);
        return Ok(Fault::TooManyRequests { retry_after_secs: secs });
    }
    Err("expected {\"status\": n}, {\"latency_ms\": n}, {\"too_many_requests\": {...}} or a fault name"
        .into())
}

async fn fault_add(State(c): State<Control>, Json(body): Json<Value>) -> Response {
    let fault = match body.get("fault").map(parse_fault) {
        Some(Ok(f)) => f,
        Some(Err(e)) => return bad(e),
        None => return bad("missing \"fault\""),
    };
    let times = match body.get("times") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => return bad("times: expected a count"),
        },
    };
    match body.get("route").and_then(Value::as_str) {
        Some(route) => c.handle.inject_route(route, fault, times),
        None => {
            let method = body.get("method").and_then(Value::as_str).unwrap_or("*");
            match body.get("path").and_then(Value::as_str) {
                Some(path) => c.handle.inject_path(method, path, fault, times),
                None => {
                    let prefix = body.get("path_prefix").and_then(Value::as_str).unwrap_or("/");
                    c.handle.inject(method, prefix, fault, times);
                }
            }
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn faults_clear(State(c): State<Control>) -> StatusCode {
    c.handle.clear_faults();
    StatusCode::NO_CONTENT
}

async fn journal(State(c): State<Control>) -> Json<Value> {
    let entries: Vec<Value> = c
        .handle
        .journal()
        .entries()
        .into_iter()
        .map(|e| {
            json!({
                "method": e.method, "path": e.path, "query": e.query, "headers": e.headers,
                "body": e.body, "route": e.route, "status": e.status, "at": e.at.to_rfc3339(),
            })
        })
        .collect();
    Json(Value::Array(entries))
}

async fn journal_clear(State(c): State<Control>) -> StatusCode {
    c.handle.journal().clear();
    StatusCode::NO_CONTENT
}

async fn event(State(c): State<Control>, Path(name): Path<String>, body: Option<Json<Value>>) -> Response {
    let args = body.map(|Json(v)| v).unwrap_or(Value::Null);
    match c.events.fire(&name, args) {
        None => (StatusCode::NOT_FOUND, Json(json!({"error": format!("no event {name:?}")}))).into_response(),
        Some(fut) => match fut.await {
            Ok(v) => Json(v).into_response(),
            Err(e) => bad(e),
        },
    }
}

/// A simulator without vendor events.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl VendorEvents for NoEvents {
    fn names(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
    fn fire(&self, _name: &str, _args: Value) -> Option<EventFuture> {
        None
    }
}
