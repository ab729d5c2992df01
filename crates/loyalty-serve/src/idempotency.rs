//! `Idempotency-Key` on writes: a repeat gets the stored answer instead of acting twice.
//!
//! The answers live in the checkout store ([`CheckoutStore::save_reply`]), so they survive a
//! restart and are shared by every instance on one database. Within one process, requests
//! under one key queue behind each other; across instances the store's versioned write lets
//! one take the key, and the others answer `409` (temporary) until it is done.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use loyalty_core::checkout::{CheckoutStore, ReplyState, StoredReply};

use crate::problem::Problem;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The answer header set on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// Whether `key` is a usable `Idempotency-Key`: 1 to [`MAX_KEY_LEN`] visible ASCII characters.
/// Order and return ids travel as keys, so whatever names one (the command line too) holds to
/// this rule.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

/// How long a running request holds its key before another instance may take it over.
const LEASE: chrono::Duration = chrono::Duration::seconds(120);

/// An answer to store: status and JSON body.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// Not the key's final answer: a temporary failure, one whose effect is unknown (the
    /// vendor may have acted), or the vendor refusing the bridge's own credentials (about the
    /// configuration, not the request: once the operator fixes them the repeat must run). Not
    /// stored, so a repeat runs again, told it resumes.
    pub temporary: bool,
    /// Seconds for the `Retry-After` header a rate-limited problem carries.
    pub retry_after: Option<u64>,
}

impl Reply {
    pub(crate) fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Reply {
        Reply {
            status,
            body: serde_json::to_vec(value).unwrap_or_default(),
            content_type: "application/json",
            temporary: false,
            retry_after: None,
        }
    }

    pub(crate) fn problem(problem: &Problem) -> Reply {
        Reply {
            status: problem.status_code(),
            body: serde_json::to_vec(problem).unwrap_or_default(),
            content_type: crate::problem::PROBLEM_JSON,
            temporary: problem.temporary
                || problem.effect == "unknown"
                || matches!(problem.kind.as_str(), "unauthorized" | "forbidden"),
            retry_after: problem.retry_after,
        }
    }

    fn into_response(self, replayed: bool) -> Response {
        let mut response = (self.status, self.body).into_response();
        let no_content = response.status() == StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        if !no_content {
            headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        }
        if replayed {
            headers.insert(REPLAYED, HeaderValue::from_static("true"));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Per-key queues inside one process.
#[derive(Default)]
pub(crate) struct KeyLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyLocks {
    fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_string()).or_default().clone()
    }

    fn done(&self, key: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Only the map and this caller hold it: nobody queues behind, so forget the key.
        if Arc::strong_count(&lock) == 2 {
            map.remove(key);
        }
    }
}

/// The key a write carries, checked: present, visible ASCII, at most 255 characters, and equal
/// to `must_equal` where the resource has its own id (the order id, the return id).
///
/// # Errors
/// A problem answer (400 for a missing or malformed key, 422 for a key that is not the resource's id).
pub(crate) fn key_of(
    headers: &HeaderMap,
    operation: &str,
    must_equal: Option<&str>,
) -> Result<String, Response> {
    let Some(value) = headers.get(HEADER) else {
        return Err(Problem::invalid(
            StatusCode::BAD_REQUEST,
            operation,
            "Idempotency-Key",
            "missing: every write needs an Idempotency-Key header",
        )
        .into_response());
    };
    let key = value.to_str().ok().filter(|k| is_valid_key(k)).ok_or_else(|| {
        Problem::invalid(
            StatusCode::BAD_REQUEST,
            operation,
            "Idempotency-Key",
            format!("expected 1 to {MAX_KEY_LEN} visible ASCII characters"),
        )
        .into_response()
    })?;
    if let Some(id) = must_equal {
        if key != id {
            return Err(Problem::invalid(
                StatusCode::UNPROCESSABLE_ENTITY,
                operation,
                "Idempotency-Key",
                format!("must be the id this write is about ({id:?}); it is {key:?}"),
            )
            .into_response());
        }
    }
    Ok(key.to_string())
}

/// Runs `work` once per key: a repeat of the same request (`operation` and `fingerprint`) gets
/// the stored answer; another request under the key, on this endpoint or another, is refused
/// (422); a repeat while the first runs
/// in another instance is 409, temporary. `work` is told whether an earlier attempt under the
/// key ended without an answer (it failed temporarily, maybe after acting, or its instance
/// stopped), so it can look for what that attempt did before acting again.
pub(crate) async fn once<F, Fut>(
    store: &dyn CheckoutStore,
    locks: &KeyLocks,
    now: DateTime<Utc>,
    operation: &str,
    key: &str,
    fingerprint: String,
    work: F,
) -> Response
where
    F: FnOnce(bool) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    // One namespace for every endpoint (the key names one request, whatever it is), apart from
    // what the service keeps in the same table under its own prefixes.
    let scoped = format!("key:{key}");
    let fingerprint = format!("{operation}\n{fingerprint}");
    let lock = locks.get(&scoped);
    let response = {
        let _queued = lock.lock().await;
        run_once(store, now, operation, &scoped, fingerprint, work).await
    };
    locks.done(&scoped, lock);
    response
}

async fn run_once<F, Fut>(
    store: &dyn CheckoutStore,
    now: DateTime<Utc>,
    operation: &str,
    scoped: &str,
    fingerprint: String,
    work: F,
) -> Response
where
    F: FnOnce(bool) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let store_failed = |e: loyalty_core::Error| Problem::from(e.with_operation(operation)).into_response();
    let stored = match store.load_reply(scoped).await {
        Ok(s) => s,
        Err(e) => return store_failed(e),
    };
    let expected = match stored {
        None => None,
        Some(s) => {
            if s.value.fingerprint != fingerprint {
                return Problem::invalid(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    operation,
                    "Idempotency-Key",
                    "already used for a different request; use a new key for a new request",
                )
                .into_response();
            }
            match s.value.state {
                ReplyState::Done { status, body } => {
                    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                    let content_type =
                        if status.is_success() { "application/json" } else { crate::problem::PROBLEM_JSON };
                    let reply = Reply {
                        status,
                        body: body.into_bytes(),
                        content_type,
                        temporary: false,
                        retry_after: None,
                    };
                    return reply.into_response(true);
                }
                // A lease ending more than two leases ahead was written before the clock was
                // set back: lapsed, or the key would stay locked for as long as the jump.
                ReplyState::Running { until } if until > now && until <= now + LEASE * 2 => {
                    return in_progress(operation)
                }
                ReplyState::Running { .. } => Some(s.version),
            }
        }
    };
    let running = StoredReply::running(scoped, fingerprint.clone(), now + LEASE);
    let version = match store.save_reply(&running, expected).await {
        Ok(Some(v)) => v,
        Ok(None) => return in_progress(operation),
        Err(e) => return store_failed(e),
    };
    let resumed = expected.is_some();
    let reply = work(resumed).await;
    let outcome = if reply.temporary {
        // Free the key at once, whatever the clock does next: the same request may be
        // repeated and run again.
        StoredReply::running(scoped, fingerprint, DateTime::<Utc>::UNIX_EPOCH)
    } else {
        StoredReply::done(
            scoped,
            fingerprint,
            reply.status.as_u16(),
            String::from_utf8_lossy(&reply.body).into_owned(),
        )
    };
    if let Err(e) = store.save_reply(&outcome, Some(version)).await {
        // The work was done; say so, and that a repeat may not find the answer.
        tracing::warn!(operation, error = %e, "idempotent reply could not be stored");
    }
    reply.into_response(false)
}

fn in_progress(operation: &str) -> Response {
    let mut p = Problem::service(
        StatusCode::CONFLICT,
        "conflict",
        operation,
        "a request with this Idempotency-Key is still being processed; repeat it in a moment",
    );
    p.temporary = true;
    p.into_response()
}
