//! Retry rules: which failures are retried, how long to wait, and when to give up.
#![allow(clippy::result_large_err)] // loyalty_core::Error is large by design

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use chrono::TimeZone;
use common::{client, fast_config, serve, Counter};
use loyalty_core::{Context, ErrorKind, WriteEffect};
use loyalty_http::{Call, Retry};
use serde_json::json;

/// A route answering `statuses[n]` to its n-th hit (the last one repeats).
fn scripted(statuses: &'static [u16], hits: Counter) -> axum::routing::MethodRouter {
    let handler = move || {
        let n = hits.hit() as usize;
        let status = statuses[(n - 1).min(statuses.len() - 1)];
        async move { StatusCode::from_u16(status).unwrap() }
    };
    get(handler.clone()).post(handler)
}

/// Serves `status` with `Retry-After: 1` once, then 200; returns the gap between the two
/// attempts a GET made.
async fn gap_after_refusal(status: StatusCode) -> Duration {
    let arrivals = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let seen = arrivals.clone();
    let router = Router::new().route(
        "/members/1",
        get(move || {
            let mut seen = seen.lock().unwrap();
            seen.push(Instant::now());
            let response = if seen.len() == 1 {
                (status, [(header::RETRY_AFTER, "1")]).into_response()
            } else {
                StatusCode::OK.into_response()
            };
            async move { response }
        }),
    );
    let base = serve(router).await;
    let http = client(fast_config(base));
    let reply = http.send(&Context::new(), Call::get("members.get", "/members/1")).await.unwrap();
    assert_eq!(reply.status, 200);
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 2);
    arrivals[1] - arrivals[0]
}

#[tokio::test]
async fn retry_after_one_second_is_honoured() {
    let gap = gap_after_refusal(StatusCode::TOO_MANY_REQUESTS).await;
    eprintln!("second attempt arrived {gap:?} after the first");
    assert!(gap >= Duration::from_secs(1), "second attempt after {gap:?}");
}

#[tokio::test]
async fn retry_after_past_the_deadline_fails_at_once_with_rate_limited() {
    let hits = Counter::default();
    let counted = hits.clone();
    let router = Router::new().route(
        "/members/1",
        get(move || {
            counted.hit();
            async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "30")]) }
        }),
    );
    let base = serve(router).await;
    let http = client(fast_config(base));
    let ctx = Context::new().with_deadline(tokio::time::Instant::now() + Duration::from_secs(5));

    let started = Instant::now();
    let err = http.send(&ctx, Call::get("members.get", "/members/1")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(err.kind(), &ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(30)) });
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn a_retry_after_date_is_measured_on_the_clients_clock() {
    // The vendor's date is 30 s after the (simulated) now, far in the system clock's past.
    let router = Router::new().route(
        "/members/1",
        get(|| async {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "Thu, 15 Jan 2026 12:00:30 GMT")])
        }),
    );
    let base = serve(router).await;
    let clock = loyalty_core::ManualClock::at(chrono::Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap());
    let http = client(fast_config(base).with_clock(Arc::new(clock)));
    let ctx = Context::new().with_deadline(tokio::time::Instant::now() + Duration::from_secs(5));

    let err = http.send(&ctx, Call::get("members.get", "/members/1")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(30)) });
}

#[tokio::test]
async fn post_whose_response_times_out_is_not_retried_and_effect_unknown() {
    let hits = Counter::default();
    let counted = hits.clone();
    let router = Router::new().route(
        "/transactions",
        post(move || {
            counted.hit();
            async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                StatusCode::CREATED
            }
        }),
    );
    let base = serve(router).await;
    let http = client(fast_config(base).with_attempt_timeout(Duration::from_millis(200)));

    let call = Call::post("transactions.send", "/transactions").json(json!({ "id": "t-1" }));
    let err = http.send(&Context::new(), call).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(err.effect(), WriteEffect::Unknown);
    assert_eq!(err.attempts(), 1);
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn get_whose_response_times_out_is_retried_within_attempt_timeout() {
    let hits = Counter::default();
    let counted = hits.clone();
    let router = Router::new().route(
        "/members/1",
        get(move || {
            let n = counted.hit();
            async move {
                if n == 1 {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                StatusCode::OK
            }
        }),
    );
    let base = serve(router).await;
    let http = client(fast_config(base).with_attempt_timeout(Duration::from_millis(200)));

    let started = Instant::now();
    let reply = http.send(&Context::new(), Call::get("members.get", "/members/1")).await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(hits.get(), 2);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn get_503_is_retried_then_succeeds() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/offers", scripted(&[503, 503, 200], hits.clone()))).await;
    let http = client(fast_config(base));

    let reply = http.send(&Context::new(), Call::get("offers.list", "/offers")).await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(hits.get(), 3);
}

#[tokio::test]
async fn final_error_keeps_last_cause_and_attempt_count() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/offers", scripted(&[503], hits.clone()))).await;
    let http = client(fast_config(base).with_max_attempts(3));

    let err = http.send(&Context::new(), Call::get("offers.list", "/offers")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert!(err.message().contains("503"), "{err}");
    assert_eq!(err.attempts(), 3);
    assert_eq!(hits.get(), 3);
}

#[tokio::test]
async fn write_refused_before_acting_is_retried() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/holds", scripted(&[429, 201], hits.clone()))).await;
    let http = client(fast_config(base));

    let call = Call::post("holds.hold", "/holds").json(json!({ "offer": "o-1" }));
    let reply = http.send(&Context::new(), call).await.unwrap();
    assert_eq!(reply.status, 201);
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn an_unsent_only_write_answered_429_goes_to_the_caller_at_once() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/checkout", scripted(&[429, 201], hits.clone()))).await;
    let http = client(fast_config(base));

    let call = Call::post("carts.checkout", "/checkout").json(json!({ "card": "x" })).retry(Retry::Unsent);
    let err = http.send(&Context::new(), call).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
    assert!(err.is_temporary(), "the caller may repeat it: {err}");
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn an_unsent_only_write_is_retried_after_a_connect_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let base = url::Url::parse(&format!("http://{addr}/")).unwrap();
    let http = client(fast_config(base).with_max_attempts(3));

    let call = Call::post("carts.checkout", "/checkout").json(json!({ "card": "x" })).retry(Retry::Unsent);
    let err = http.send(&Context::new(), call).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert_eq!(err.attempts(), 3);
}

#[tokio::test]
async fn write_5xx_is_not_retried() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/transactions", scripted(&[503, 201], hits.clone()))).await;
    let http = client(fast_config(base));

    let call = Call::post("transactions.send", "/transactions").json(json!({ "id": "t-1" }));
    let err = http.send(&Context::new(), call).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(err.effect(), WriteEffect::Unknown);
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn idempotent_write_5xx_is_retried() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/transactions", scripted(&[503, 201], hits.clone()))).await;
    let http = client(fast_config(base));

    let call = Call::post("transactions.send", "/transactions")
        .json(json!({ "id": "t-1" }))
        .retry(Retry::IdempotentWrite);
    let reply = http.send(&Context::new(), call).await.unwrap();
    assert_eq!(reply.status, 201);
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn permanent_error_is_not_retried() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/members/1", scripted(&[404, 200], hits.clone()))).await;
    let http = client(fast_config(base));

    let err = http.send(&Context::new(), Call::get("members.get", "/members/1")).await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(hits.get(), 1);
}

#[tokio::test]
async fn connect_failure_is_not_sent_so_a_write_is_retried_up_to_max_attempts() {
    // A port nothing listens on: bind, note the port, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let base = url::Url::parse(&format!("http://{addr}/")).unwrap();
    let http = client(fast_config(base).with_max_attempts(3));

    let call = Call::post("transactions.send", "/transactions").json(json!({ "id": "t-1" }));
    let err = http.send(&Context::new(), call).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert_eq!(err.attempts(), 3);
}

#[tokio::test]
async fn oversized_body_is_refused_before_sending() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/orders", scripted(&[201], hits.clone()))).await;
    let http = client(fast_config(base).with_max_request_bytes(64));

    let call = Call::post("fulfilment.place_order", "/orders").json(json!({ "note": "x".repeat(100) }));
    let err = http.send(&Context::new(), call).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "body"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn expired_deadline_sends_nothing() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/offers", scripted(&[200], hits.clone()))).await;
    let http = client(fast_config(base));
    let ctx = Context::new().with_deadline(tokio::time::Instant::now());

    let err = http.send(&ctx, Call::get("offers.list", "/offers")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn a_retry_after_too_large_to_wait_for_is_rate_limited_not_a_panic() {
    let base = serve(Router::new().route(
        "/members/1",
        get(|| async {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "18446744073709551615")], "")
                .into_response()
        }),
    ))
    .await;
    let http = client(fast_config(base));
    let err = http.send(&Context::new(), Call::get("members.get", "/members/1")).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
}

/// RFC 9110 gives delay seconds no upper bound: a value past `u64` is the vendor asking for a
/// wait no call outlives, so the call gives up at once with the wait named, as for
/// `u64::MAX`, instead of reading it as no `Retry-After` and asking again at once.
#[tokio::test]
async fn a_retry_after_beyond_u64_is_a_wait_too_long_not_an_immediate_retry() {
    let hits = Counter::default();
    let counted = hits.clone();
    let base = serve(Router::new().route(
        "/members/1",
        get(move || {
            counted.hit();
            async {
                (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "100000000000000000000")], "")
                    .into_response()
            }
        }),
    ))
    .await;
    let http = client(fast_config(base));
    let err = http.send(&Context::new(), Call::get("members.get", "/members/1")).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(u64::MAX)), "{err:?}");
    assert_eq!(hits.get(), 1, "asked again against a wait of ~3e12 years");
}

/// An auth strategy whose credentials arrive exactly at the call's deadline.
#[derive(Debug)]
struct LateAuth(tokio::time::Instant);

#[async_trait::async_trait]
impl loyalty_http::Auth for LateAuth {
    async fn headers(
        &self,
        _: &reqwest::Client,
        _: &Context,
    ) -> Result<Vec<(String, String)>, loyalty_core::Error> {
        tokio::time::sleep_until(self.0).await;
        Ok(Vec::new())
    }

    async fn invalidate(&self) -> bool {
        false
    }
}

/// Credentials that take the whole budget leave nothing for the attempt: the write is not sent
/// at all (`NotSent`, repeatable) rather than sent with no time to hear the answer (`Unknown`).
#[tokio::test]
async fn credentials_that_take_the_whole_budget_send_nothing() {
    let hits = Counter::default();
    let counted = hits.clone();
    let base = serve(Router::new().route(
        "/tx",
        post(move || {
            counted.hit();
            async { "ok" }
        }),
    ))
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
    let http = common::client_with(fast_config(base), Arc::new(LateAuth(deadline)));
    let ctx = Context::new().with_deadline(deadline);
    let err = http.send(&ctx, Call::post("transactions.send", "/tx").json(json!({}))).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::NotSent, "{err}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(hits.get(), 0, "an attempt went out with no time left");
}

#[tokio::test]
async fn a_reply_larger_than_the_limit_is_not_read() {
    let big = "x".repeat(64 * 1024);
    let base = serve(Router::new().route("/members/1", get(move || async move { big.clone() }))).await;
    let http = client(fast_config(base.clone()).with_max_reply_bytes(16 * 1024).with_max_attempts(1));
    let err = http.send(&Context::new(), Call::get("members.get", "/members/1")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");
    assert_eq!(err.effect(), WriteEffect::Unknown);
    assert!(err.message().contains("larger than 16384 bytes"), "{err}");
    // Within the limit it is read whole.
    let http = client(fast_config(base).with_max_reply_bytes(64 * 1024));
    let reply = http.send(&Context::new(), Call::get("members.get", "/members/1")).await.unwrap();
    assert_eq!(reply.body.len(), 64 * 1024);
}

#[tokio::test]
async fn a_streamed_reply_without_a_length_stops_at_the_limit() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A server streaming 1 KiB chunks without a length, for ever (a broken proxy).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut head = [0u8; 1024];
        let _ = s.read(&mut head).await;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await;
        let chunk = format!("400\r\n{}\r\n", "y".repeat(1024));
        while s.write_all(chunk.as_bytes()).await.is_ok() {}
    });
    let base = url::Url::parse(&format!("http://{addr}/")).unwrap();
    let http = client(fast_config(base).with_max_reply_bytes(10 * 1024).with_max_attempts(1));
    let err = http.send(&Context::new(), Call::get("feed.get", "/feed")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");
    assert!(err.message().contains("larger than 10240 bytes"), "{err}");
}

#[tokio::test]
async fn a_503_with_retry_after_waits_as_asked_before_the_next_attempt() {
    let gap = gap_after_refusal(StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(gap >= Duration::from_secs(1), "second attempt after {gap:?} (backoff alone is 5-20 ms)");
}

/// Credentials for the first attempt; every later fetch is refused (a password changed while
/// the call was retried).
#[derive(Debug, Default)]
struct OnceThenRefused(Counter);

#[async_trait::async_trait]
impl loyalty_http::Auth for OnceThenRefused {
    async fn headers(
        &self,
        _client: &reqwest::Client,
        _ctx: &Context,
    ) -> Result<Vec<(String, String)>, loyalty_core::Error> {
        if self.0.hit() == 1 {
            return Ok(Vec::new());
        }
        Err(loyalty_core::Error::new(ErrorKind::Unauthorized, "test", "auth.token").with_temporary(false))
    }
    async fn invalidate(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn a_retried_write_whose_later_attempt_sends_nothing_still_says_the_first_may_have_arrived() {
    let hits = Counter::default();
    let base = serve(Router::new().route("/transactions", scripted(&[503, 201], hits.clone()))).await;
    let http = common::client_with(fast_config(base), Arc::new(OnceThenRefused::default()));
    let call = Call::post("transactions.send", "/transactions")
        .json(json!({ "id": "t-1" }))
        .retry(Retry::IdempotentWrite);
    let err = http.send(&Context::new(), call).await.unwrap_err();
    assert_eq!(hits.get(), 1, "the second attempt had no credentials");
    assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{err}");
    assert_eq!(err.effect(), WriteEffect::Unknown, "the 503'd attempt may have acted: {err}");
    assert!(err.message().contains("earlier attempt may have reached"), "{err}");
}
