//! Kit behaviour: clock, journal redaction and every fault kind, over a tiny router.

use std::time::Duration;

use axum::{routing::get, routing::post, Router};
use loyalty_sim::{server::start, Fault, SimClock};

async fn counting_server() -> (loyalty_sim::SimServer, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h2 = hits.clone();
    let router = Router::new()
        .route("/ping", get(|| async { "{\"pong\":true}" }))
        .route(
            "/count",
            post(move || {
                let h = h2.clone();
                async move {
                    h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    "{\"counted\":true}"
                }
            }),
        )
        .route("/connect/token", post(|| async { "{}" }));
    let server = start(router, SimClock::default(), &["x-api-key"]).await.unwrap();
    (server, hits)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap()
}

#[tokio::test]
async fn journal_records_method_path_query_and_status() {
    let (s, _) = counting_server().await;
    let r = client().get(format!("{}/ping?a=1", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let e = &s.handle().journal().entries()[0];
    assert_eq!(
        (e.method.as_str(), e.path.as_str(), e.query.as_deref(), e.status),
        ("GET", "/ping", Some("a=1"), 200)
    );
    assert_eq!(e.at, SimClock::default().now());
}

#[tokio::test]
async fn journal_redacts_authorization_listed_headers_and_client_secret() {
    let (s, _) = counting_server().await;
    client()
        .post(format!("{}/connect/token", s.base_url()))
        .header("authorization", "Basic c2VjcmV0")
        .header("x-api-key", "k-123")
        .header("cookie", "session=abc")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=demo&client_secret=demo-secret-9f8e7d")
        .send()
        .await
        .unwrap();
    let e = &s.handle().journal().entries()[0];
    let dump = format!("{e:?}");
    assert!(
        !dump.contains("demo-secret-9f8e7d")
            && !dump.contains("c2VjcmV0")
            && !dump.contains("k-123")
            && !dump.contains("abc"),
        "{dump}"
    );
    assert!(e.body.contains("client_secret=[redacted]"));
    assert!(e.headers.contains(&("authorization".into(), "[redacted]".into())));
}

#[tokio::test]
async fn journal_count_and_clear() {
    let (s, _) = counting_server().await;
    for _ in 0..3 {
        client().get(format!("{}/ping", s.base_url())).send().await.unwrap();
    }
    let j = s.handle().journal();
    assert_eq!(j.count("get", "/pi"), 3);
    assert_eq!(j.count("POST", "/ping"), 0);
    j.clear();
    assert!(j.entries().is_empty());
}

#[tokio::test]
async fn status_fault_answers_problem_without_running_handler() {
    let (s, hits) = counting_server().await;
    s.handle().inject("POST", "/count", Fault::Status(503), Some(1));
    let r = client().post(format!("{}/count", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], 503);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(s.handle().journal().entries()[0].status, 503);
}

#[tokio::test]
async fn fault_applies_only_for_given_times() {
    let (s, hits) = counting_server().await;
    s.handle().inject("POST", "/count", Fault::Status(500), Some(2));
    let url = format!("{}/count", s.base_url());
    let codes: Vec<u16> = futures_free_seq(&url, 3).await;
    assert_eq!(codes, vec![500, 500, 200]);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

async fn futures_free_seq(url: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(client().post(url).send().await.unwrap().status().as_u16());
    }
    out
}

#[tokio::test]
async fn clear_faults_restores_normal_answers() {
    let (s, _) = counting_server().await;
    s.handle().inject("*", "/", Fault::Status(502), None);
    s.handle().clear_faults();
    let r = client().get(format!("{}/ping", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let (s, hits) = counting_server().await;
    s.handle().inject("POST", "/count", Fault::TooManyRequests { retry_after_secs: 7 }, None);
    let r = client().post(format!("{}/count", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn malformed_body_runs_handler_then_breaks_json() {
    let (s, hits) = counting_server().await;
    s.handle().inject("POST", "/count", Fault::MalformedBody, Some(1));
    let r = client().post(format!("{}/count", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn truncated_body_sends_first_half() {
    let (s, hits) = counting_server().await;
    s.handle().inject("POST", "/count", Fault::TruncatedBody, Some(1));
    let r = client().post(format!("{}/count", s.base_url())).send().await.unwrap();
    let text = r.text().await.unwrap();
    assert_eq!(text, &"{\"counted\":true}"[..8]);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn drop_connection_fails_send_and_skips_handler() {
    let (s, hits) = counting_server().await;
    s.handle().inject("POST", "/count", Fault::DropConnection, Some(1));
    let r = client().post(format!("{}/count", s.base_url())).send().await;
    let e = r.expect_err("connection should be closed");
    assert!(!e.is_timeout(), "{e:?}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(s.handle().journal().entries()[0].status, 0);
    // The server keeps serving afterwards.
    assert_eq!(client().post(format!("{}/count", s.base_url())).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn hang_makes_client_timeout_fire() {
    let (s, hits) = counting_server().await;
    s.handle().inject("POST", "/count", Fault::Hang, Some(1));
    let c = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().unwrap();
    let e = c.post(format!("{}/count", s.base_url())).send().await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(s.handle().journal().entries()[0].status, 0);
    s.shutdown().await;
}

#[tokio::test]
async fn latency_delays_then_answers() {
    let (s, hits) = counting_server().await;
    s.handle().inject("POST", "/count", Fault::Latency(Duration::from_millis(150)), Some(1));
    let t = std::time::Instant::now();
    let r = client().post(format!("{}/count", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn handle_clock_is_the_server_clock() {
    let (s, _) = counting_server().await;
    let h = s.handle();
    h.clock().advance(Duration::from_secs(60));
    client().get(format!("{}/ping", s.base_url())).send().await.unwrap();
    assert_eq!(h.journal().entries()[0].at.to_rfc3339(), "2026-01-15T12:01:00+00:00");
}

#[tokio::test]
async fn base_url_is_loopback() {
    let (s, _) = counting_server().await;
    assert!(s.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(s.base_url(), s.handle().base_url());
}
