//! The generic loopback server: binds 127.0.0.1:0 and wraps a vendor router in the journal and
//! fault middleware.

use std::sync::{Arc, Mutex};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderValue, Response, StatusCode},
    middleware::Next,
    RequestExt, Router,
};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    clock::SimClock,
    fault::{self, Fault, FaultRule},
    journal::{redact_form_secrets, redact_headers, redact_json_members, Journal, JournalEntry},
};

/// State shared by the server task, the middleware and every handle.
#[derive(Debug)]
struct Shared {
    base_url: String,
    clock: SimClock,
    journal: Journal,
    faults: Mutex<Vec<FaultRule>>,
    redact: Vec<String>,
    redact_body: Vec<String>,
    shutdown: watch::Sender<bool>,
}

/// A cheap, cloneable remote control for a running simulator.
#[derive(Clone, Debug)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

impl SimHandle {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The simulator's clock.
    pub fn clock(&self) -> SimClock {
        self.shared.clock.clone()
    }

    /// The simulator's request journal.
    pub fn journal(&self) -> Journal {
        self.shared.journal.clone()
    }

    /// Makes the next `times` requests (`None` = all, until cleared) whose method matches
    /// (`*` = any) and whose path starts with `path_prefix` fail with `fault`. Rules are tried in
    /// the order they were added.
    pub fn inject(&self, method: &str, path_prefix: &str, fault: Fault, times: Option<u32>) {
        if times == Some(0) {
            return;
        }
        self.faults().push(FaultRule {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            fault,
            remaining: times,
        });
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.faults().clear();
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.shared.faults.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running simulator. Dropping it stops the server; [`SimServer::shutdown`] does so gracefully.
#[derive(Debug)]
pub struct SimServer {
    handle: SimHandle,
    task: Option<JoinHandle<()>>,
}

impl SimServer {
    /// A handle for clock, journal and faults.
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        self.handle.base_url()
    }

    /// Stops accepting connections, releases hanging requests and waits (at most one second)
    /// for open connections to finish.
    pub async fn shutdown(mut self) {
        let _ = self.handle.shared.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(1), task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        let _ = self.handle.shared.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Starts `router` on 127.0.0.1 with an ephemeral port, behind the journal and fault middleware.
/// `redact_headers` names extra headers (besides `authorization` and `cookie`) whose values
/// never reach the journal.
pub async fn start(router: Router, clock: SimClock, redact_headers: &[&str]) -> std::io::Result<SimServer> {
    start_redacting(router, clock, redact_headers, &[]).await
}

/// Like [`start`], and also redacts the values of JSON body members whose key matches one of
/// `redact_body_keys` (ASCII case-insensitive, at any depth), e.g. card numbers.
pub async fn start_redacting(
    router: Router,
    clock: SimClock,
    redact_headers: &[&str],
    redact_body_keys: &[&str],
) -> std::io::Result<SimServer> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (tx, mut rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        base_url: format!("http://{addr}"),
        clock,
        journal: Journal::default(),
        faults: Mutex::new(Vec::new()),
        redact: redact_headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
        redact_body: redact_body_keys.iter().map(|k| k.to_string()).collect(),
        shutdown: tx,
    });
    let handle = SimHandle { shared };
    let app = router.layer(axum::middleware::from_fn_with_state(handle.clone(), sim_middleware));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
    });
    Ok(SimServer { handle, task: Some(task) })
}

/// Records the request, applies any matching fault, and records the status actually sent.
async fn sim_middleware(State(h): State<SimHandle>, req: Request, next: Next) -> Response<Body> {
    let (parts, body) = req.into_parts();
    // Simulator decision: bodies are small; anything unreadable is journaled as empty.
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024).await.unwrap_or_default();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let mut entry = JournalEntry {
        method: method.clone(),
        path: path.clone(),
        query: parts.uri.query().map(redact_form_secrets),
        headers: redact_headers(&parts.headers, &h.shared.redact),
        body: redact_json_members(
            &redact_form_secrets(&String::from_utf8_lossy(&bytes)),
            &h.shared.redact_body,
        ),
        status: 0,
        at: h.shared.clock.now(),
    };
    let fault = fault::take(&mut h.faults(), &method, &path);
    let req = Request::from_parts(parts, Body::from(bytes));

    let resp = match fault {
        None => next.run(req).await,
        Some(Fault::Latency(d)) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Some(Fault::Status(s)) => {
            problem(StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut r = problem(StatusCode::TOO_MANY_REQUESTS);
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            r
        }
        Some(Fault::MalformedBody) => {
            let r = next.run(req).await;
            let (mut parts, _) = r.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from("<<malformed>> {\"is_ok\": tru"))
        }
        Some(Fault::TruncatedBody) => {
            let r = next.run(req).await;
            let (mut parts, body) = r.into_parts();
            let full = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(full.slice(..full.len() / 2)))
        }
        Some(Fault::DropConnection) => {
            h.shared.journal.push(entry);
            return dropped_connection();
        }
        Some(Fault::Hang) => {
            h.shared.journal.push(entry);
            let mut rx = h.shared.shutdown.subscribe();
            let _ = rx.wait_for(|stop| *stop).await;
            return dropped_connection();
        }
    };
    entry.status = resp.status().as_u16();
    h.shared.journal.push(entry);
    resp
}

/// A small problem-details body for injected statuses.
fn problem(status: StatusCode) -> Response<Body> {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Injected fault"),
        "status": status.as_u16(),
        "detail": "fault injected by the simulator",
    });
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    r
}

/// A response whose body fails on the first read, so hyper aborts the connection before the
/// response head is flushed. Without a streams crate, the failing body is built from axum's own
/// request-body limit: a 2 MiB + 1 byte body read through the default limit errors at once.
fn dropped_connection() -> Response<Body> {
    let oversized = Bytes::from(vec![0u8; 2 * 1024 * 1024 + 1]);
    let failing = Request::new(Body::from(oversized)).into_limited_body();
    Response::new(Body::from_stream(failing.into_data_stream()))
}
