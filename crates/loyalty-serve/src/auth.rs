//! The API key check and CORS.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::problem::Problem;
use crate::AppState;

/// The header that may carry the key instead of `Authorization: Bearer` (what many PHP HTTP
/// clients are set up to send).
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

/// The only path open without the key.
pub(crate) const OPEN_PATH: &str = "/health";

/// Lets a request through when it carries `Authorization: Bearer <key>` or `X-API-Key: <key>`;
/// answers 401 otherwise.
/// The comparison takes the same time wherever the keys differ; the key is never logged.
pub(crate) async fn require_key(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == OPEN_PATH || request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let headers = request.headers();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .or_else(|| headers.get(API_KEY_HEADER).map(|v| v.as_bytes()))
        .unwrap_or_default();
    if bool::from(given.ct_eq(state.api_key.as_bytes())) {
        return next.run(request).await;
    }
    let detail = if given.is_empty() {
        "this endpoint needs the API key: Authorization: Bearer <key> (or X-API-Key: <key>)"
    } else {
        "the API key is not the one configured"
    };
    let mut response =
        Problem::service(StatusCode::UNAUTHORIZED, "unauthorized", "serve.auth", detail).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// One log line per request: method, path, status, time. Never headers or query strings, so
/// neither the key nor a customer's phone or e-mail reaches the log.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}

/// CORS for the configured origins only.
pub(crate) fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH])
        .allow_headers([
            header::AUTHORIZATION,
            header::HeaderName::from_static(API_KEY_HEADER),
            header::CONTENT_TYPE,
            header::HeaderName::from_static(crate::idempotency::HEADER),
        ])
        .expose_headers([header::HeaderName::from_static(crate::idempotency::REPLAYED), header::RETRY_AFTER])
}
