//! The API key check and CORS.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::inflight::InFlight;
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
    // No exception for OPTIONS: with CORS configured its layer answers preflights before
    // this check; without it, an OPTIONS request is like any other.
    if request.uri().path() == OPEN_PATH {
        return next.run(request).await;
    }
    let headers = request.headers();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| bearer_token(v.as_bytes()))
        .or_else(|| headers.get(API_KEY_HEADER).map(|v| v.as_bytes()))
        .unwrap_or_default();
    // Digests compared, not the keys: `ct_eq` answers at once for inputs of unequal length,
    // which would tell a caller the key's length.
    if bool::from(Sha256::digest(given).ct_eq(&Sha256::digest(state.api_key.as_bytes()))) {
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

/// The token of an `Authorization: Bearer <token>` value; the scheme name is case-insensitive
/// (RFC 9110 §11.1).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    scheme.eq_ignore_ascii_case(b"bearer ").then(|| rest.trim_ascii_start())
}

/// Runs the handler as a task of its own and waits for it, so a client that hangs up does not
/// cancel a write half-way (the idempotent answer is still stored, the checkout step still
/// saved); a handler that panics answers a 500 problem instead of dropping the connection.
/// The task counts in `inflight` until it ends, so [`crate::serve`] waits for it when the
/// service stops, even after its client has gone.
pub(crate) async fn detached(
    State(inflight): State<Arc<InFlight>>,
    request: Request,
    next: Next,
) -> Response {
    let handler = inflight.start(format!("{} {}", request.method(), request.uri().path()));
    let run = async move {
        let response = next.run(request).await;
        drop(handler);
        response
    };
    match tokio::spawn(run).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(panicked = e.is_panic(), "request handler failed");
            let mut problem = Problem::service(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "serve.request",
                "the service failed while answering; check the request's state before repeating it \
                 (a write repeated with the same Idempotency-Key is answered once)",
            );
            // It may have acted before it failed.
            problem.effect = "unknown".into();
            problem.into_response()
        }
    }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use axum::routing::get;
    use axum::Router;

    use super::*;

    async fn served(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    async fn panics() -> &'static str {
        panic!("a bug")
    }

    #[tokio::test]
    async fn a_client_hanging_up_does_not_cancel_the_work_and_a_panic_is_a_problem() {
        static FINISHED: AtomicBool = AtomicBool::new(false);
        let app = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    FINISHED.store(true, Ordering::SeqCst);
                    "done"
                }),
            )
            .route("/panics", get(panics))
            .layer(axum::middleware::from_fn_with_state(Arc::new(InFlight::default()), detached));
        let base = served(app).await;
        let http = reqwest::Client::builder().timeout(Duration::from_millis(30)).build().unwrap();
        assert!(http.get(format!("{base}/slow")).send().await.is_err(), "the client gave up");
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(FINISHED.load(Ordering::SeqCst), "the handler ran to its end");

        let r = reqwest::get(format!("{base}/panics")).await.unwrap();
        assert_eq!(r.status(), 500);
        assert_eq!(r.headers()["content-type"], crate::problem::PROBLEM_JSON);
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["effect"], "unknown");
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        assert_eq!(bearer_token(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"bEARER abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"Basic abc"), None);
        assert_eq!(bearer_token(b"Bear"), None);
    }
}
