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
async fn latency_past_the_client_timeout_still_runs_the_handler() {
    // A reply lost past the client's timeout is the ambiguous case every write must survive:
    // the server acted, the client did not hear. hyper drops the connection's future when the
    // client hangs up, so the kit must carry the request out regardless (as a real server
    // finishes a request whose caller went away), and journal the answer it sent to no one.
    let (s, hits) = counting_server().await;
    s.handle().inject("POST", "/count", Fault::Latency(Duration::from_millis(600)), Some(1));
    let c = reqwest::Client::builder().timeout(Duration::from_millis(150)).build().unwrap();
    let e = c.post(format!("{}/count", s.base_url())).send().await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "still waiting");
    let mut ran = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if hits.load(std::sync::atomic::Ordering::SeqCst) == 1 && !s.handle().journal().entries().is_empty() {
            ran = true;
            break;
        }
    }
    assert!(ran, "the delayed request never ran after the client gave up");
    assert_eq!(s.handle().journal().entries()[0].status, 200, "the answer nobody read is journaled");
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

// ------------------------------------------------------------------ start_with (options)

mod with_options {
    use std::time::Duration;

    use axum::{body::Bytes, extract::Extension, routing, Router};
    use loyalty_sim::{
        journal::BODY_KEPT_BYTES,
        server::{start_with, SimOptions},
        Fault, Oversized, SimClock, SimServer,
    };

    /// Echoes the body length, or `oversized <limit> <seen>` when the kit flagged it.
    async fn echo(oversized: Option<Extension<Oversized>>, body: Bytes) -> String {
        match oversized {
            Some(Extension(o)) => format!("oversized {} {} {}", o.limit, o.seen, body.len()),
            None => format!("len {}", body.len()),
        }
    }

    async fn server(limit: usize) -> SimServer {
        let router = Router::new().route("/gate", routing::post(echo));
        let options = SimOptions::default()
            .redact_headers(["X-Api-Key"])
            .redact_fields(["client_secret", "systemKey", "sessionKey", "password"])
            .max_body_bytes(limit)
            .route_of(|parts, body| {
                if let Some(a) = parts.headers.get("soapaction").and_then(|v| v.to_str().ok()) {
                    return Some(a.trim_matches('"').to_string());
                }
                let text = String::from_utf8_lossy(body);
                text.contains("<ns1:placeOrder").then(|| "placeOrder".to_string())
            });
        start_with(router, SimClock::default(), options).await.unwrap()
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
    }

    async fn post(s: &SimServer, path: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let r = client().post(format!("{}{path}", s.base_url())).body(body).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    #[tokio::test]
    async fn query_and_percent_encoded_form_keys_are_redacted() {
        let s = server(1024).await;
        post(&s, "/gate?a=1&systemKey=abc123&x=2", "client%5Fsecret=s3cr3t&auth%5BsessionKey%5D=k9&keep=1")
            .await;
        let e = &s.handle().journal().entries()[0];
        assert_eq!(e.query.as_deref(), Some("a=1&systemKey=[redacted]&x=2"));
        assert_eq!(e.body, "client%5Fsecret=[redacted]&auth%5BsessionKey%5D=[redacted]&keep=1");
    }

    #[tokio::test]
    async fn json_secrets_are_redacted_at_any_depth_and_type() {
        let s = server(1024).await;
        let body =
            r#"{"a":{"b":[{"sessionKey":"k1","n":1}]},"password":{"x":"y"},"systemKey":123,"keep":"v"}"#;
        post(&s, "/gate", body).await;
        let e = &s.handle().journal().entries()[0];
        assert_eq!(
            e.body,
            r#"{"a":{"b":[{"sessionKey":"[redacted]","n":1}]},"password":"[redacted]","systemKey":"[redacted]","keep":"v"}"#
        );
    }

    #[tokio::test]
    async fn xml_secrets_are_redacted_whatever_the_prefix_and_attributes() {
        let s = server(4096).await;
        let body = r#"<?xml version="1.0"?><SOAP-ENV:Envelope><SOAP-ENV:Body><ns1:Authenticate><request><login>shop</login><ns1:systemKey>c191b891</ns1:systemKey><sessionKey xsi:type="xsd:string">abcdef</sessionKey><x password="pw1" keep="k"/></request></ns1:Authenticate></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
        post(&s, "/gate", body).await;
        let e = &s.handle().journal().entries()[0];
        assert!(
            !e.body.contains("c191b891") && !e.body.contains("abcdef") && !e.body.contains("pw1"),
            "{}",
            e.body
        );
        assert!(e.body.contains("<ns1:systemKey>[redacted]</ns1:systemKey>"), "{}", e.body);
        assert!(
            e.body.contains(r#"<sessionKey xsi:type="xsd:string">[redacted]</sessionKey>"#),
            "{}",
            e.body
        );
        assert!(e.body.contains(r#"<x password="[redacted]" keep="k"/>"#), "{}", e.body);
        assert!(e.body.contains("<login>shop</login>"));
    }

    #[tokio::test]
    async fn listed_headers_are_redacted() {
        let s = server(1024).await;
        client().post(format!("{}/gate", s.base_url())).header("x-api-key", "k-77").send().await.unwrap();
        let e = &s.handle().journal().entries()[0];
        assert!(e.headers.contains(&("x-api-key".into(), "[redacted]".into())));
    }

    #[tokio::test]
    async fn route_of_names_the_journal_entry() {
        let s = server(1024).await;
        client()
            .post(format!("{}/gate", s.base_url()))
            .header("SOAPAction", "\"getCouriers\"")
            .send()
            .await
            .unwrap();
        post(&s, "/gate", "<e><b><ns1:placeOrder/></b></e>").await;
        post(&s, "/gate", "plain").await;
        let j = s.handle().journal();
        let routes: Vec<_> = j.entries().into_iter().map(|e| e.route).collect();
        assert_eq!(routes, vec![Some("getCouriers".into()), Some("placeOrder".into()), None]);
        assert_eq!(j.count_route("placeOrder"), 1);
    }

    #[tokio::test]
    async fn route_fault_hits_only_that_route_for_given_times() {
        let s = server(1024).await;
        s.handle().inject_route("placeOrder", Fault::Status(503), Some(1));
        let order = "<e><ns1:placeOrder/></e>";
        assert_eq!(post(&s, "/gate", "other").await.0, 200);
        assert_eq!(post(&s, "/gate", order).await.0, 503);
        assert_eq!(post(&s, "/gate", order).await.0, 200);
        let statuses: Vec<_> =
            s.handle().journal().entries().iter().map(|e| (e.route.clone(), e.status)).collect();
        assert_eq!(statuses[1], (Some("placeOrder".into()), 503));
    }

    #[tokio::test]
    async fn oversized_body_reaches_handler_empty_with_extension() {
        let s = server(1000).await;
        let (status, text) = post(&s, "/gate", vec![b'a'; 5000]).await;
        assert_eq!(status, 200);
        let parts: Vec<&str> = text.split(' ').collect();
        assert_eq!(parts[0], "oversized", "{text}");
        assert_eq!(parts[1], "1000");
        assert!(parts[2].parse::<usize>().unwrap() > 1000);
        assert_eq!(parts[3], "0", "handler body must be empty");
    }

    #[tokio::test]
    async fn body_at_the_limit_is_handed_over_whole() {
        let s = server(1000).await;
        assert_eq!(post(&s, "/gate", vec![b'a'; 1000]).await.1, "len 1000");
    }

    #[tokio::test]
    async fn axum_default_limit_does_not_cut_in_before_max_body_bytes() {
        let s = server(4 * 1024 * 1024).await;
        let n = 3 * 1024 * 1024;
        assert_eq!(post(&s, "/gate", vec![b'a'; n]).await.1, format!("len {n}"));
    }

    #[tokio::test]
    async fn journal_keeps_first_64_kib_and_notes_the_cut() {
        let s = server(1024 * 1024).await;
        post(&s, "/gate", vec![b'a'; 200_000]).await;
        let body = &s.handle().journal().entries()[0].body;
        assert!(body.starts_with(&"a".repeat(BODY_KEPT_BYTES)));
        assert!(
            body.ends_with("[journal: body cut after 65536 of 200000 bytes]"),
            "{}",
            &body[BODY_KEPT_BYTES..]
        );
    }

    #[tokio::test]
    async fn journal_of_an_oversized_body_is_capped_too() {
        let s = server(100_000).await;
        post(&s, "/gate", vec![b'a'; 300_000]).await;
        let body = &s.handle().journal().entries()[0].body;
        assert!(body.len() < BODY_KEPT_BYTES + 100);
        assert!(body.contains("[journal: body cut after 65536 of at least"), "{}", &body[BODY_KEPT_BYTES..]);
    }

    #[tokio::test]
    async fn secret_straddling_the_cut_is_still_redacted() {
        let s = server(1024 * 1024).await;
        let mut body = format!("<r>{}<sessionKey>", "x".repeat(BODY_KEPT_BYTES - 20));
        body.push_str(&"S".repeat(100));
        body.push_str("</sessionKey></r>");
        post(&s, "/gate", body).await;
        let kept = &s.handle().journal().entries()[0].body;
        assert!(!kept.contains("SSS"), "secret prefix leaked");
    }
}

// ------------------------------------------------------------------ bounds

mod bounds {
    use std::time::{Duration, Instant};

    use axum::{body::Bytes, routing, Router};
    use loyalty_sim::{
        server::{start, start_with, SimOptions, DEFAULT_MAX_BODY_BYTES},
        SimClock, SimServer,
    };
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpStream,
    };

    fn router() -> Router {
        Router::new()
            .route("/echo", routing::post(|body: Bytes| async move { format!("len {}", body.len()) }))
    }

    async fn server(options: SimOptions) -> SimServer {
        start_with(router(), SimClock::default(), options).await.unwrap()
    }

    async fn connect(s: &SimServer) -> TcpStream {
        TcpStream::connect(s.base_url().trim_start_matches("http://")).await.unwrap()
    }

    /// Reads until the server closes; returns what it sent and how long that took.
    async fn until_closed(mut c: TcpStream) -> (String, Duration) {
        let t = Instant::now();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut out)).await;
        (String::from_utf8_lossy(&out).into_owned(), t.elapsed())
    }

    #[tokio::test]
    async fn idle_connection_is_closed_after_the_header_timeout() {
        let s = server(SimOptions::default().header_read_timeout(Duration::from_millis(200))).await;
        let (_, took) = until_closed(connect(&s).await).await;
        assert!(took < Duration::from_secs(3), "{took:?}");
    }

    #[tokio::test]
    async fn half_sent_head_is_closed_after_the_header_timeout() {
        let s = server(SimOptions::default().header_read_timeout(Duration::from_millis(200))).await;
        let mut c = connect(&s).await;
        c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le").await.unwrap();
        let (_, took) = until_closed(c).await;
        assert!(took < Duration::from_secs(3), "{took:?}");
    }

    #[tokio::test]
    async fn slow_body_is_answered_408() {
        let s = server(SimOptions::default().body_read_timeout(Duration::from_millis(200))).await;
        let mut c = connect(&s).await;
        c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc").await.unwrap();
        let (reply, took) = until_closed(c).await;
        assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
        assert!(took < Duration::from_secs(3), "{took:?}");
        assert_eq!(s.handle().journal().entries()[0].status, 408);
    }

    #[tokio::test]
    async fn connections_above_the_limit_wait_for_a_free_one() {
        let options =
            SimOptions::default().max_connections(1).header_read_timeout(Duration::from_millis(300));
        let s = server(options).await;
        let idle = connect(&s).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let t = Instant::now();
        let r =
            reqwest::Client::new().post(format!("{}/echo", s.base_url())).body("abc").send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "len 3");
        assert!(t.elapsed() >= Duration::from_millis(150), "served before the idle connection left");
        drop(idle);
    }

    #[tokio::test]
    async fn journal_keeps_its_capacity_and_counts_what_it_dropped() {
        let s = server(SimOptions::default().journal_capacity(3, 1 << 20)).await;
        let c = reqwest::Client::new();
        for i in 0..5 {
            c.post(format!("{}/echo", s.base_url())).body(format!("{i}")).send().await.unwrap();
        }
        let j = s.handle().journal();
        let bodies: Vec<String> = j.entries().into_iter().map(|e| e.body).collect();
        assert_eq!(bodies, vec!["2", "3", "4"]);
        assert_eq!(j.dropped(), 2);
    }

    #[tokio::test]
    async fn start_answers_an_oversized_body_413_itself() {
        let s = start(router(), SimClock::default(), &[]).await.unwrap();
        let c = reqwest::Client::new();
        let r = c
            .post(format!("{}/echo", s.base_url()))
            .body(vec![b'a'; DEFAULT_MAX_BODY_BYTES + 1])
            .send()
            .await;
        let r = r.unwrap();
        assert_eq!(r.status(), 413);
        assert!(r.headers()["content-type"].to_str().unwrap().contains("problem+json"));
        let r = c.post(format!("{}/echo", s.base_url())).body(vec![b'a'; 1000]).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "len 1000");
    }

    #[tokio::test]
    async fn start_redacts_a_percent_encoded_client_secret() {
        let s = start(router(), SimClock::default(), &[]).await.unwrap();
        reqwest::Client::new()
            .post(format!("{}/echo?client%5Fsecret=q-1", s.base_url()))
            .body("client_id=a&client%5Fsecret=b-2")
            .send()
            .await
            .unwrap();
        let e = &s.handle().journal().entries()[0];
        assert_eq!(e.body, "client_id=a&client%5Fsecret=[redacted]");
        assert_eq!(e.query.as_deref(), Some("client%5Fsecret=[redacted]"));
    }
}

async fn boom() -> &'static str {
    panic!("simulator bug (deliberate, in a test)")
}

#[tokio::test]
async fn a_panicking_handler_answers_500_in_plain_text_and_the_server_keeps_serving() {
    let router = Router::new().route("/boom", get(boom)).route("/ping", get(|| async { "pong" }));
    let s = start(router, SimClock::default(), &[]).await.unwrap();
    for _ in 0..2 {
        let r = client().get(format!("{}/boom", s.base_url())).send().await.unwrap();
        assert_eq!(r.status(), 500);
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
        assert_eq!(r.text().await.unwrap(), "internal error");
    }
    let r = client().get(format!("{}/ping", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let statuses: Vec<u16> = s.handle().journal().entries().iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![500, 500, 200]);
}
