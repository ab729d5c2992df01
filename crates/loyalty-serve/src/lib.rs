//! `loyalty serve`: the bridge over HTTP, for shops not written in Rust.
//!
//! The same provider, checkout store and checkout flow as the library, as JSON endpoints
//! (`docs/serve.md` lists them; `/openapi.json` describes them). Every request but
//! `GET /health` needs `Authorization: Bearer <key>` (or `X-API-Key`); every write an `Idempotency-Key`; errors
//! are RFC 9457 problem details carrying the core error's kind, temporary flag and write effect.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use loyalty_core::checkout::MemoryCheckoutStore;
//! use loyalty_serve::{router, ApiKey, ServeSettings};
//!
//! let provider = Arc::new(loyalty_memory::MemoryProvider::demo());
//! let opened = loyalty_config::Opened::new(provider, Arc::new(MemoryCheckoutStore::new()));
//! let settings = ServeSettings::new(ApiKey::new("a-long-enough-test-key")?);
//! let app: axum::Router = router(opened, settings);
//! # let _ = app;
//! # Ok::<(), loyalty_core::Error>(()) }).unwrap();
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// Handlers' helpers return a ready `Response` as their error, sent to axum at once: boxing it
// would only add an allocation to every refusal.
#![allow(clippy::result_large_err)]

pub mod api;
mod auth;
mod idempotency;
mod inflight;
mod objects;
mod payment;
pub mod problem;
mod responses;
mod routes;
mod settings;
pub mod text;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use loyalty_config::Opened;
use loyalty_core::checkout::Checkout;

pub use idempotency::{
    is_valid_key as is_valid_idempotency_key, HEADER as IDEMPOTENCY_KEY,
    MAX_KEY_LEN as MAX_IDEMPOTENCY_KEY_LEN, REPLAYED as IDEMPOTENT_REPLAYED,
};
pub use problem::Problem;
pub use settings::{
    ApiKey, ServeSettings, DEFAULT_KEY_ENV, DEFAULT_LISTEN, DEFAULT_MAX_BODY, DEFAULT_SHUTDOWN_GRACE,
    MIN_KEY_LEN,
};
pub use text::safe_text;

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) opened: Opened,
    pub(crate) checkout: Checkout<'static>,
    pub(crate) payments: Arc<payment::ShopPayments>,
    pub(crate) locks: idempotency::KeyLocks,
    pub(crate) api_key: ApiKey,
    /// The handlers under way, which [`serve`] waits for when stopping.
    pub(crate) inflight: Arc<inflight::InFlight>,
}

impl AppState {
    /// Runs `work` once per `(operation, key)` ([`idempotency::once`]), handing it the state, a
    /// context carrying the key, and whether an earlier attempt under the key ended without an
    /// answer.
    async fn once<F, Fut>(
        self: &Arc<Self>,
        operation: &str,
        key: String,
        fingerprint: String,
        work: F,
    ) -> Response
    where
        F: FnOnce(Arc<AppState>, loyalty_core::Context, bool) -> Fut,
        Fut: std::future::Future<Output = idempotency::Reply>,
    {
        let now = self.opened.clock.now();
        let ctx = loyalty_core::Context::new().with_idempotency_key(key.clone());
        let state = self.clone();
        let run = move |resumed| work(state, ctx, resumed);
        idempotency::once(&*self.opened.store, &self.locks, now, operation, &key, fingerprint, run).await
    }
}

/// The service over `opened`: every route, the API-key check, the body limit and (when
/// origins are configured) CORS. [`serve`] also runs the checkout's background work.
pub fn router(opened: Opened, settings: ServeSettings) -> Router {
    build(opened, settings).0
}

/// How often [`serve`] drains the outbox and sweeps abandoned holds.
pub const TICK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves on `listener` until `shutdown` completes, and every [`TICK_EVERY`] runs the
/// checkout's background work (resend pending sales, release holds of abandoned checkouts,
/// finish interrupted ones).
///
/// Once `shutdown` completes it accepts no more connections and returns when the requests
/// under way have finished, those whose client hung up included (a write is never cut off
/// because its client gave up), and the background work has finished its round; at most
/// [`ServeSettings::shutdown_grace`] after `shutdown` completed. What still runs then is logged
/// (method and path of each request) and cut off when the caller exits.
///
/// # Errors
/// The listener's I/O errors.
pub async fn serve(
    listener: tokio::net::TcpListener,
    opened: Opened,
    settings: ServeSettings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = settings.shutdown_grace;
    let (app, state) = build(opened, settings);
    let (stop_ticks, mut stopping) = tokio::sync::watch::channel(false);
    let ticking = state.clone();
    let mut ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(TICK_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Stopping is seen between rounds only: a round under way (a resend at the vendor)
            // runs to its end.
            tokio::select! {
                _ = every.tick() => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
            match ticking.checkout.tick(&loyalty_core::Context::new()).await {
                Ok(report) => tracing::debug!(?report, "checkout tick"),
                Err(e) => tracing::warn!(error = %e, "checkout tick failed; next one retries"),
            }
        }
    });
    // When the signal came: the grace counts from it.
    let (signalled, signal_at) = tokio::sync::watch::channel(None);
    let shutdown = async move {
        shutdown.await;
        signalled.send_replace(Some(tokio::time::Instant::now()));
    };
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown);
    let past_grace = async {
        let mut signal_at = signal_at.clone();
        match signal_at.wait_for(Option::is_some).await.map(|at| *at) {
            Ok(Some(at)) => tokio::time::sleep_until(at + grace).await,
            _ => std::future::pending().await,
        }
    };
    let (served, cut_off) = tokio::select! {
        served = std::future::IntoFuture::into_future(served) => (served, false),
        // Connections still open (a client slow to send its request) past the grace.
        () = past_grace => (Ok(()), true),
    };
    // Stopped by an error rather than a signal: the grace counts from now.
    let deadline = signal_at.borrow().unwrap_or_else(tokio::time::Instant::now) + grace;
    let _ = stop_ticks.send(true);
    let finished = tokio::time::timeout_at(deadline, async {
        state.inflight.idle().await;
        let _ = (&mut ticker).await;
    })
    .await;
    if finished.is_err() || cut_off {
        let requests = state.inflight.running();
        tracing::error!(
            grace_s = grace.as_secs_f64(),
            ?requests,
            background_work = !ticker.is_finished(),
            "stopping after the grace period with work still under way: it is cut off \
             (a write may have reached the vendor; repeat it with the same Idempotency-Key)"
        );
    }
    ticker.abort();
    served
}

fn build(opened: Opened, settings: ServeSettings) -> (Router, Arc<AppState>) {
    let payments = Arc::new(payment::ShopPayments::new(opened.store.clone()));
    let checkout = opened.checkout(payments.clone());
    let state = Arc::new(AppState {
        opened,
        checkout,
        payments,
        locks: idempotency::KeyLocks::default(),
        api_key: settings.api_key.clone(),
        inflight: Arc::default(),
    });
    let mut app = Router::new()
        .route("/health", get(routes::health))
        .route("/openapi.json", get(routes::openapi))
        .route("/v1/capabilities", get(routes::capabilities))
        .route("/v1/members", get(routes::find_member).post(routes::register))
        .route("/v1/members/registration", post(routes::register_form))
        .route("/v1/members/{id}", get(routes::get_member).patch(routes::update_member))
        .route("/v1/segments", get(routes::segments))
        .route("/v1/registration-form", get(routes::form))
        .route("/v1/offers", post(routes::offers))
        .route("/v1/price", post(routes::price))
        .route("/v1/checkouts/{order}", get(routes::checkout_status))
        .route("/v1/checkouts/{order}/prepare", post(routes::prepare))
        .route("/v1/checkouts/{order}/commit", post(routes::commit))
        .route("/v1/checkouts/{order}/abort", post(routes::abort))
        .route("/v1/returns", post(routes::returns))
        .route("/v1/pending", get(routes::pending))
        .route("/v1/pending/resend", post(routes::resend))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.inflight.clone(), auth::detached))
        .layer(axum::middleware::from_fn(routes::json_bodies_only))
        // Every path but /health, unknown ones included, needs the key: a caller without it
        // learns nothing about what exists.
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_key))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(axum::middleware::from_fn(auth::log_request))
        .with_state(state.clone());
    if !settings.cors_origins.is_empty() {
        app = app.layer(auth::cors(settings.cors_origins));
    }
    (app, state)
}

/// The OpenAPI 3.1 document of the service, generated from the handlers' annotations and the
/// core types' schemas (`docs/openapi.json` is a committed copy a test keeps equal).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    Document::openapi()
}

/// [`openapi_document`] as pretty JSON, as committed in `docs/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = openapi_document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Loyalty Bridge",
        description = "The bridge over HTTP: members, offers, pricing, checkout and returns over the configured loyalty provider. Every endpoint but /health needs `Authorization: Bearer <key>` (or the header `X-API-Key`); every write an `Idempotency-Key`; request bodies are read strictly (an unknown field is a 400 naming it). Errors are RFC 9457 problem details (application/problem+json) carrying the core error kind, whether it is temporary and whether a write may have reached the vendor. Money is integer minor units with a currency.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        routes::health, routes::openapi, routes::capabilities, routes::find_member, routes::get_member,
        routes::register, routes::register_form, routes::update_member, routes::segments, routes::form,
        routes::offers, routes::price, routes::prepare, routes::commit, routes::abort,
        routes::checkout_status, routes::returns, routes::pending, routes::resend
    ),
    components(schemas(Problem, api::ShopPayment, api::ReturnedLine)),
    modifiers(&BearerKey),
    security(("api_key" = []), ("api_key_header" = [])),
    tags(
        (name = "service", description = "Health, capabilities, this document"),
        (name = "members", description = "Find, register and update members; segments and the registration form"),
        (name = "offers", description = "Offers for a member or a basket, and pricing"),
        (name = "checkout", description = "Prepare, commit and abort a checkout; returns; the outbox")
    )
)]
struct Document;

struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The key named by [serve] api_key_env in loyalty.toml"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "The same key in a header of its own, for clients that cannot send a Bearer token",
            ))),
        );
    }
}
