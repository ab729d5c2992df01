//! The generic loopback server: binds 127.0.0.1:0 and wraps a vendor router in the journal and
//! fault middleware.
//!
//! [`start`] is the simple form (header redaction only). [`start_with`] takes [`SimOptions`]:
//! secret fields redacted in query strings and bodies, a `route_of` function naming the logical
//! route of a request (for journal entries and [`SimHandle::inject_route`]), and a body limit
//! the vendor answers in its own shape (the [`Oversized`] request extension).

use std::{
    fmt,
    pin::Pin,
    sync::{Arc, Mutex},
};

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::{DefaultBodyLimit, Request, State},
    http::{header, request::Parts, HeaderValue, Response, StatusCode},
    middleware::Next,
    RequestExt, Router,
};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    clock::SimClock,
    fault::{self, Fault, FaultRule},
    journal::{journal_body, redact_form, redact_form_secrets, redact_headers, Journal, JournalEntry},
};

/// Body limit of [`start`] and the default of [`SimOptions::max_body_bytes`]: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Names the logical route of a request from its head and (possibly partial) body, e.g. a SOAP
/// gateway from the `SOAPAction` header or the first element inside `Body`.
pub type RouteOf = Arc<dyn Fn(&Parts, &[u8]) -> Option<String> + Send + Sync>;

/// Options for [`start_with`]. Build with `SimOptions::default()` and the builder methods.
#[derive(Clone)]
#[non_exhaustive]
pub struct SimOptions {
    /// Extra headers (besides `authorization`, `cookie` and `proxy-authorization`) whose values
    /// never reach the journal.
    pub redact_headers: Vec<String>,
    /// Names of secret fields, compared case-insensitively, whose values are redacted in the
    /// journal wherever they appear: query strings and form bodies (percent-encoded keys such as
    /// `client%5Fsecret` included), JSON bodies at any depth, XML bodies as element text or
    /// attribute value whatever the namespace prefix and attributes.
    pub redact_fields: Vec<String>,
    /// Names the logical route of each request; `None` = no route names.
    pub route_of: Option<RouteOf>,
    /// Largest body handed to the router. A longer body is not read further: the handler gets
    /// an empty body and an [`Oversized`] request extension, and answers in the vendor's shape.
    pub max_body_bytes: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            redact_headers: Vec::new(),
            redact_fields: Vec::new(),
            route_of: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl fmt::Debug for SimOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimOptions")
            .field("redact_headers", &self.redact_headers)
            .field("redact_fields", &self.redact_fields)
            .field("route_of", &self.route_of.as_ref().map(|_| "<fn>"))
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

impl SimOptions {
    /// Adds headers whose values are redacted in the journal.
    pub fn redact_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.redact_headers.extend(names.into_iter().map(|n| n.into().to_ascii_lowercase()));
        self
    }

    /// Adds secret field names redacted in query strings and bodies.
    pub fn redact_fields<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.redact_fields.extend(names.into_iter().map(Into::into));
        self
    }

    /// Sets the function naming the logical route of a request.
    pub fn route_of<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts, &[u8]) -> Option<String> + Send + Sync + 'static,
    {
        self.route_of = Some(Arc::new(f));
        self
    }

    /// Sets the largest body handed to the router.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }
}

/// Request extension set by a server started with [`start_with`] when the body exceeded
/// [`SimOptions::max_body_bytes`]; the handler then receives an empty body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Oversized {
    /// The configured limit in bytes.
    pub limit: usize,
    /// Bytes read before the server stopped reading (more than `limit`; the client may have
    /// sent more).
    pub seen: usize,
}

/// How the middleware reads and journals bodies.
enum Mode {
    /// [`start`]: bodies up to 16 MiB, `client_secret` form values redacted, no route names.
    Simple,
    /// [`start_with`].
    With { fields: Vec<String>, route_of: Option<RouteOf>, limit: usize },
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Simple => f.write_str("Simple"),
            Mode::With { fields, limit, .. } => {
                f.debug_struct("With").field("fields", fields).field("limit", limit).finish()
            }
        }
    }
}

/// State shared by the server task, the middleware and every handle.
#[derive(Debug)]
struct Shared {
    base_url: String,
    clock: SimClock,
    journal: Journal,
    faults: Mutex<Vec<FaultRule>>,
    redact: Vec<String>,
    mode: Mode,
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
            route: None,
            fault,
            remaining: times,
        });
    }

    /// Makes the next `times` requests (`None` = all, until cleared) whose logical route (named
    /// by [`SimOptions::route_of`]) is `route` fail with `fault`. Path and route rules share one
    /// list, tried in the order they were added.
    pub fn inject_route(&self, route: &str, fault: Fault, times: Option<u32>) {
        if times == Some(0) {
            return;
        }
        self.faults().push(FaultRule {
            method: "*".to_string(),
            path_prefix: String::new(),
            route: Some(route.to_string()),
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
    let redact = redact_headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    launch(router, clock, redact, Mode::Simple).await
}

/// Starts `router` like [`start`], with [`SimOptions`]: field redaction, route names, and a body
/// limit answered by the router itself. axum's own default body limit is switched off for this
/// router, so only `max_body_bytes` applies; the journal keeps at most the first
/// [`crate::journal::BODY_KEPT_BYTES`] of each body.
pub async fn start_with(router: Router, clock: SimClock, options: SimOptions) -> std::io::Result<SimServer> {
    let SimOptions { redact_headers, redact_fields, route_of, max_body_bytes } = options;
    let mode = Mode::With { fields: redact_fields, route_of, limit: max_body_bytes };
    launch(router.layer(DefaultBodyLimit::disable()), clock, redact_headers, mode).await
}

async fn launch(
    router: Router,
    clock: SimClock,
    redact: Vec<String>,
    mode: Mode,
) -> std::io::Result<SimServer> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (tx, mut rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        base_url: format!("http://{addr}"),
        clock,
        journal: Journal::default(),
        faults: Mutex::new(Vec::new()),
        redact,
        mode,
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
    let (mut parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let headers = redact_headers(&parts.headers, &h.shared.redact);
    let (query, body_text, route, body) = match &h.shared.mode {
        Mode::Simple => {
            // Simulator decision: bodies are small; anything unreadable is journaled as empty.
            let bytes = axum::body::to_bytes(body, DEFAULT_MAX_BODY_BYTES).await.unwrap_or_default();
            let text = redact_form_secrets(&String::from_utf8_lossy(&bytes));
            (parts.uri.query().map(redact_form_secrets), text, None, Body::from(bytes))
        }
        Mode::With { fields, route_of, limit } => {
            let (bytes, oversized) = read_capped(body, *limit).await;
            let route = route_of.as_ref().and_then(|f| f(&parts, &bytes));
            let seen = oversized.map_or(bytes.len(), |o| o.seen);
            let text = journal_body(&bytes, seen, oversized.is_none(), fields);
            let query = parts.uri.query().map(|q| redact_form(q, fields));
            let body = match oversized {
                Some(o) => {
                    parts.extensions.insert(o);
                    Body::empty()
                }
                None => Body::from(bytes),
            };
            (query, text, route, body)
        }
    };
    let mut entry = JournalEntry {
        method: method.clone(),
        path: path.clone(),
        query,
        headers,
        body: body_text,
        route: route.clone(),
        status: 0,
        at: h.shared.clock.now(),
    };
    let fault = fault::take(&mut h.faults(), &method, &path, route.as_deref());
    let req = Request::from_parts(parts, body);

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

/// Reads at most `limit + 1` bytes of `body`. Past the limit it stops reading and reports
/// [`Oversized`]; an unreadable body counts as empty.
async fn read_capped(mut body: Body, limit: usize) -> (Bytes, Option<Oversized>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(frame) = frame else {
            return (Bytes::new(), None);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        let room = limit.saturating_add(1).saturating_sub(buf.len());
        buf.extend_from_slice(&data[..data.len().min(room)]);
        if seen > limit {
            return (Bytes::from(buf), Some(Oversized { limit, seen }));
        }
    }
    (Bytes::from(buf), None)
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
