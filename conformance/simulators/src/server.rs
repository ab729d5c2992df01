//! The generic loopback server: binds 127.0.0.1:0 and wraps a vendor router in the journal and
//! fault middleware.
//!
//! [`start`] is the simple form (header redaction and `client_secret` fields only). [`start_with`]
//! takes [`SimOptions`]: secret fields redacted in query strings and bodies, a `route_of`
//! function naming the logical route of a request (for journal entries and
//! [`SimHandle::inject_route`]), and a body limit the vendor answers in its own shape (the
//! [`Oversized`] request extension).
//!
//! # Bounds (both forms)
//! A simulator must survive hostile clients (garbage, half-sent requests, huge bodies,
//! slowloris) without growing: the journal is a ring with a fixed capacity
//! ([`SimOptions::journal_entries`], [`SimOptions::journal_bytes`]; dropped entries are
//! counted), bodies are read up to [`SimOptions::max_body_bytes`] and never buffered past it
//! (a `Content-Length` above it is not buffered at all), request heads must arrive within
//! [`SimOptions::header_read_timeout`] (idle keep-alive connections are closed after it too) and
//! bodies within [`SimOptions::body_read_timeout`] (else `408`), and at most
//! [`SimOptions::max_connections`] connections are served at once (further ones wait in the
//! listen backlog). The serve loop is hyper's HTTP/1 connection builder, written once here,
//! because `axum::serve` has no header read timeout.
//!
//! # Requests outlive their callers (both forms)
//! Once a request has fully arrived it is carried out to the end in a task of its own, even when
//! the client hangs up first (its timeout fired, it was cancelled): the handler's state changes
//! stick and the journal records the answer that was never read, as a real server does. A
//! [`Fault::Latency`] longer than the client's timeout is therefore the ambiguous case every
//! write must survive: the vendor acted, the client did not hear. A request whose body never
//! finishes arriving is not carried out (`408`, or nothing when the connection is gone).
//!
//! # Panics (both forms)
//! A handler that panics answers `500` with the plain-text body `internal error` instead of a
//! dropped connection (tower-http's `CatchPanicLayer`), and the journal records that `500`. The
//! simulators answer hostile input in the vendor's shape; this is the net under them.

use std::{
    fmt,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::{DefaultBodyLimit, Request, State},
    http::{header, request::Parts, HeaderValue, Response, StatusCode},
    middleware::Next,
    RequestExt, Router,
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    sync::{watch, Semaphore},
    task::{JoinHandle, JoinSet},
};
use tower_http::catch_panic::CatchPanicLayer;

use crate::{
    clock::SimClock,
    fault::{self, Fault, FaultRule},
    journal::{journal_body, redact_form, redact_headers, Journal, JournalEntry, BODY_KEPT_BYTES},
};

/// Body limit of [`start`] and the default of [`SimOptions::max_body_bytes`]: 2 MiB (axum's own
/// default, which [`start`] applied through its extractors before).
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Default of [`SimOptions::journal_entries`].
pub const DEFAULT_JOURNAL_ENTRIES: usize = 10_000;

/// Default of [`SimOptions::journal_bytes`]: 8 MiB.
pub const DEFAULT_JOURNAL_BYTES: usize = 8 * 1024 * 1024;

/// Default of [`SimOptions::header_read_timeout`].
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default of [`SimOptions::body_read_timeout`].
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default of [`SimOptions::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// Largest read buffer of a connection, so the largest request head (ASP.NET Core's own
/// header limit is 32 KiB).
const MAX_HEAD_BYTES: usize = 32 * 1024;

/// Names the logical route of a request from its head and (possibly partial) body, e.g. a SOAP
/// gateway from the `SOAPAction` header or the first element inside `Body`.
pub type RouteOf = Arc<dyn Fn(&Parts, &[u8]) -> Option<String> + Send + Sync>;

/// Builds the answer to an injected [`Fault::Status`] or [`Fault::TooManyRequests`] in the
/// vendor's own shape: given the status, returns the response (its body and content type). The
/// kit then sets the status and, for a 429, the `Retry-After` header itself.
pub type FaultBody = Arc<dyn Fn(StatusCode) -> Response<Body> + Send + Sync>;

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
    /// Most journal entries kept; older ones are dropped and counted ([`Journal::dropped`]).
    pub journal_entries: usize,
    /// Most bytes (bodies, queries, headers) the journal keeps; older entries are dropped first.
    pub journal_bytes: usize,
    /// Time a client has to send a request head, counted from the connection's first byte
    /// wait (idle keep-alive connections included); the connection is then closed.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request body; the kit then answers `408` and closes.
    pub body_read_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Port on 127.0.0.1 to listen on; 0 (the default) takes a free one.
    pub port: u16,
    /// Serve the control API ([`crate::control`]) under `/_sim` with these vendor events.
    pub control: Option<Arc<dyn crate::control::VendorEvents>>,
    /// The vendor's shape of an injected status; `None` (the default) answers a small
    /// `application/problem+json` body.
    pub fault_body: Option<FaultBody>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            redact_headers: Vec::new(),
            redact_fields: Vec::new(),
            route_of: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            journal_entries: DEFAULT_JOURNAL_ENTRIES,
            journal_bytes: DEFAULT_JOURNAL_BYTES,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            port: 0,
            control: None,
            fault_body: None,
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
            .field("journal_entries", &self.journal_entries)
            .field("journal_bytes", &self.journal_bytes)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("port", &self.port)
            .field("control", &self.control.is_some())
            .field("fault_body", &self.fault_body.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

impl SimOptions {
    /// Serves the control API under `/_sim` with `events` (`loyalty sim --control`).
    pub fn control(mut self, events: Arc<dyn crate::control::VendorEvents>) -> Self {
        self.control = Some(events);
        self
    }

    /// Answers injected statuses (and 429s) with `f`, in the vendor's shape, instead of the
    /// default problem-details body.
    pub fn fault_body<F>(mut self, f: F) -> Self
    where
        F: Fn(StatusCode) -> Response<Body> + Send + Sync + 'static,
    {
        self.fault_body = Some(Arc::new(f));
        self
    }

    /// Listens on `port` of 127.0.0.1 (0 takes a free one): `loyalty sim --port`.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

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

    /// Sets the journal's capacity in entries and in bytes (each at least 1).
    pub fn journal_capacity(mut self, entries: usize, bytes: usize) -> Self {
        self.journal_entries = entries.max(1);
        self.journal_bytes = bytes.max(1);
        self
    }

    /// Sets the time a client has to send a request head.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets the time a client has to send a request body.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Sets how many connections are served at once (at least 1).
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
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
    /// Bytes read, or announced by `Content-Length`, when the server stopped reading (more
    /// than `limit`; the client may have sent more).
    pub seen: usize,
}

/// How the middleware reads and journals bodies.
struct Mode {
    fields: Vec<String>,
    route_of: Option<RouteOf>,
    limit: usize,
    body_timeout: Duration,
    /// [`start`]: the router knows nothing of [`Oversized`], so the kit answers `413` itself.
    answer_oversized: bool,
    /// The vendor's shape of injected statuses ([`SimOptions::fault_body`]).
    fault_body: Option<FaultBody>,
}

impl Mode {
    /// The answer to an injected `status`: the vendor's shape, or problem details.
    fn fault(&self, status: StatusCode) -> Response<Body> {
        let mut r = match &self.fault_body {
            Some(f) => f(status),
            None => problem(status),
        };
        *r.status_mut() = status;
        r
    }
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mode")
            .field("fields", &self.fields)
            .field("limit", &self.limit)
            .field("body_timeout", &self.body_timeout)
            .field("answer_oversized", &self.answer_oversized)
            .field("fault_body", &self.fault_body.as_ref().map(|_| "<fn>"))
            .finish_non_exhaustive()
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
            exact_path: false,
            route: None,
            fault,
            remaining: times,
        });
    }

    /// Like [`Self::inject`], but only requests whose path is exactly `path` (query not
    /// considered) fail: for a simulator without route names whose paths prefix each other
    /// (eManage `…/products/prices` and `…/products/prices/{countryCode}`).
    pub fn inject_path(&self, method: &str, path: &str, fault: Fault, times: Option<u32>) {
        if times == Some(0) {
            return;
        }
        self.faults().push(FaultRule {
            method: method.to_string(),
            path_prefix: path.to_string(),
            exact_path: true,
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
            exact_path: false,
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

/// Starts `router` on 127.0.0.1 with an ephemeral port, behind the journal and fault middleware,
/// with the bounds of [`SimOptions::default`]. `redact_headers` names extra headers (besides
/// `authorization` and `cookie`) whose values never reach the journal; `client_secret` fields
/// are redacted however they are encoded. A body above [`DEFAULT_MAX_BODY_BYTES`] is answered
/// `413` with a small problem-details body by the kit, since the router cannot know.
pub async fn start(router: Router, clock: SimClock, redact_headers: &[&str]) -> std::io::Result<SimServer> {
    start_on_port(router, clock, redact_headers, 0, None).await
}

/// [`start`] on `port` of 127.0.0.1 (0 takes a free one), with the control API when
/// `control` names the vendor's events.
pub async fn start_on_port(
    router: Router,
    clock: SimClock,
    redact_headers: &[&str],
    port: u16,
    control: Option<Arc<dyn crate::control::VendorEvents>>,
) -> std::io::Result<SimServer> {
    let mut options = SimOptions::default()
        .redact_headers(redact_headers.iter().copied())
        .redact_fields(["client_secret"])
        .port(port);
    options.control = control;
    launch(router, clock, options, true).await
}

/// Starts `router` like [`start`], with [`SimOptions`]: field redaction, route names, and a body
/// limit answered by the router itself. axum's own default body limit is switched off for this
/// router, so only `max_body_bytes` applies; the journal keeps at most the first
/// [`crate::journal::BODY_KEPT_BYTES`] of each body.
pub async fn start_with(router: Router, clock: SimClock, options: SimOptions) -> std::io::Result<SimServer> {
    launch(router, clock, options, false).await
}

async fn launch(
    router: Router,
    clock: SimClock,
    options: SimOptions,
    answer_oversized: bool,
) -> std::io::Result<SimServer> {
    let SimOptions {
        redact_headers,
        redact_fields,
        route_of,
        max_body_bytes,
        journal_entries,
        journal_bytes,
        header_read_timeout,
        body_read_timeout,
        max_connections,
        port,
        control,
        fault_body,
    } = options;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        base_url: format!("http://{addr}"),
        clock,
        journal: Journal::with_capacity(journal_entries, journal_bytes),
        faults: Mutex::new(Vec::new()),
        redact: redact_headers,
        mode: Mode {
            fields: redact_fields,
            route_of,
            limit: max_body_bytes,
            body_timeout: body_read_timeout,
            answer_oversized,
            fault_body,
        },
        shutdown: tx,
    });
    let handle = SimHandle { shared };
    let mut app = router
        .layer(DefaultBodyLimit::disable())
        // Inside the journal middleware, so the journal records the 500 of a panicking handler.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(handle.clone(), sim_middleware));
    // Merged after the middleware: control requests are neither journaled nor faulted.
    if let Some(events) = control {
        app = app.merge(crate::control::router(handle.clone(), events));
    }
    // Outermost as well: a panic in the middleware or the control API answers 500 too.
    let app = app.layer(CatchPanicLayer::custom(panic_response));
    let limits = Limits { header_read_timeout, max_connections: max_connections.max(1) };
    let task = tokio::spawn(serve(listener, app, limits, rx));
    Ok(SimServer { handle, task: Some(task) })
}

/// Connection-level bounds of the serve loop.
#[derive(Clone, Copy, Debug)]
struct Limits {
    header_read_timeout: Duration,
    max_connections: usize,
}

/// Resolves once the shutdown flag is set (the watch guard is dropped before it returns, so the
/// future stays `Send`).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Accepts connections (at most `max_connections` at once) and serves each with hyper's HTTP/1
/// builder and a header read timeout, until `stop` turns true; then lets open connections
/// finish their current request. Dropping the task aborts every connection.
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stopped(&mut stop) => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors or a connection reset while queued: try again shortly.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let mut stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_buf_size(MAX_HEAD_BYTES);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let stopped = tokio::select! {
                _ = conn.as_mut() => false,
                _ = stopped(&mut stop) => true,
            };
            if stopped {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        });
    }
    while connections.join_next().await.is_some() {}
}

/// Records the request, applies any matching fault, and records the status actually sent.
async fn sim_middleware(State(h): State<SimHandle>, req: Request, next: Next) -> Response<Body> {
    // The reserved prefix: a simulator's own views there (SessionM's stored transactions) are
    // how a test looks at the vendor, not something the vendor received, so a fault on `/`
    // never hits them and the journal never shows them.
    if reserved(req.uri().path()) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let headers = redact_headers(&parts.headers, &h.shared.redact);
    let mode = &h.shared.mode;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let read = tokio::time::timeout(mode.body_timeout, read_capped(body, mode.limit, declared)).await;
    let timed_out = read.is_err();
    let (bytes, oversized) = read.unwrap_or_default();
    let route = mode.route_of.as_ref().and_then(|f| f(&parts, &bytes));
    let seen = oversized.map_or(bytes.len(), |o| o.seen);
    let body_text = journal_body(&bytes, seen, oversized.is_none() && !timed_out, &mode.fields);
    let query = parts.uri.query().map(|q| redact_form(q, &mode.fields));
    let body = match oversized {
        Some(o) => {
            parts.extensions.insert(o);
            Body::empty()
        }
        None => Body::from(bytes),
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
    if timed_out {
        // Simulator decision: a body that does not arrive in time is answered 408 and the
        // connection closed (ASP.NET Core's minimum body data rate does much the same).
        let mut r = problem(StatusCode::REQUEST_TIMEOUT);
        r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        entry.status = r.status().as_u16();
        h.shared.journal.push(entry);
        return r;
    }
    if mode.answer_oversized && oversized.is_some() {
        let mut r = problem(StatusCode::PAYLOAD_TOO_LARGE);
        r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        entry.status = r.status().as_u16();
        h.shared.journal.push(entry);
        return r;
    }
    let fault = fault::take(&mut h.faults(), &method, &path, route.as_deref());
    let req = Request::from_parts(parts, body);
    // The request has fully arrived: from here on it is carried out whatever the client does.
    // hyper drops this future when the client hangs up, so the work runs in its own task and
    // only the wait for its answer is dropped: a real server finishes a request whose caller
    // went away, which is what "the vendor acted, the client did not hear" needs (a latency
    // past the client's timeout on a call that writes).
    let work = tokio::spawn(answer(h.clone(), fault, req, next, entry));
    match work.await {
        Ok(resp) => resp,
        // Only a panic outside the router (whose own panics answer 500 already) ends here.
        Err(_) => panic_response(Box::new("the request task failed")),
    }
}

/// Whether `path` is under the simulator's reserved prefix (`/_sim`).
fn reserved(path: &str) -> bool {
    path.strip_prefix(crate::control::PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Applies `fault` (if any) to a request that has fully arrived, runs the router unless the
/// fault says otherwise, and journals `entry` with the status actually sent. Runs in a task of
/// its own (see [`sim_middleware`]), so it completes even when the client is gone.
async fn answer(
    h: SimHandle,
    fault: Option<Fault>,
    req: Request,
    next: Next,
    mut entry: JournalEntry,
) -> Response<Body> {
    let mode = &h.shared.mode;
    let resp = match fault {
        None => next.run(req).await,
        Some(Fault::Latency(d)) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Some(Fault::Status(s)) => {
            mode.fault(StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut r = mode.fault(StatusCode::TOO_MANY_REQUESTS);
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
/// [`Oversized`]; an unreadable body counts as empty. A body whose `declared` length is above
/// the limit is read up to the limit too (so a small client gets its answer before the
/// connection closes), but only what the journal keeps of it is buffered.
async fn read_capped(mut body: Body, limit: usize, declared: Option<usize>) -> (Bytes, Option<Oversized>) {
    let announced_oversized = declared.is_some_and(|n| n > limit);
    let keep = if announced_oversized { limit.min(BODY_KEPT_BYTES) } else { limit.saturating_add(1) };
    // The frames themselves are kept (no growing buffer), and joined once at the end.
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut kept = 0usize;
    let mut seen = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(frame) = frame else {
            return (Bytes::new(), None);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        let take = data.len().min(keep.saturating_sub(kept));
        if take > 0 {
            chunks.push(data.slice(..take));
            kept += take;
        }
        if seen > limit {
            // Only what the journal shows of an oversized body is kept past this point.
            let seen = declared.map_or(seen, |n| n.max(seen));
            return (join(chunks, BODY_KEPT_BYTES), Some(Oversized { limit, seen }));
        }
    }
    if announced_oversized {
        // The client announced more than it sent; what it announced is still past the limit.
        return (join(chunks, BODY_KEPT_BYTES), Some(Oversized { limit, seen: declared.unwrap_or(seen) }));
    }
    (join(chunks, usize::MAX), None)
}

/// The first `max` bytes of `chunks` as one buffer.
fn join(chunks: Vec<Bytes>, max: usize) -> Bytes {
    if chunks.len() == 1 && chunks[0].len() <= max {
        return chunks.into_iter().next().unwrap_or_default();
    }
    let total = chunks.iter().map(Bytes::len).sum::<usize>().min(max);
    let mut out = Vec::with_capacity(total);
    for c in &chunks {
        let room = total - out.len();
        if room == 0 {
            break;
        }
        out.extend_from_slice(&c[..c.len().min(room)]);
    }
    Bytes::from(out)
}

/// The answer to a handler that panicked: `500`, plain text, instead of a dropped connection.
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let mut r = Response::new(Body::from("internal error"));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(fault_body: Option<FaultBody>) -> Mode {
        Mode {
            fields: Vec::new(),
            route_of: None,
            limit: DEFAULT_MAX_BODY_BYTES,
            body_timeout: DEFAULT_BODY_READ_TIMEOUT,
            answer_oversized: false,
            fault_body,
        }
    }

    #[test]
    fn an_injected_status_is_problem_details_unless_the_simulator_gives_its_own_shape() {
        let default = mode(None).fault(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(default.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(default.headers()[header::CONTENT_TYPE], "application/problem+json");
        let text: FaultBody = Arc::new(|_| {
            let mut r = Response::new(Body::from("down"));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            // The kit, not the hook, decides the status.
            *r.status_mut() = StatusCode::OK;
            r
        });
        let own = mode(Some(text)).fault(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(own.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(own.headers()[header::CONTENT_TYPE], "text/plain");
    }
}
