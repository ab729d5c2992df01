//! Session credentials carried in the body (IdoSell's `sessionKey`): the body is rebuilt per
//! attempt, a session fault re-authenticates and replays once, garbage keys are never cached.
#![allow(clippy::result_large_err)] // loyalty_core::Error is large by design

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use common::{fast_config, serve, Counter};
use loyalty_core::{Context, Error, ErrorKind, WriteEffect};
use loyalty_http::{
    default_classify, Call, ClassifyInput, Credentials, HttpClient, HttpConfig, Retry, Secret, Session,
    SessionAuth, SessionSource,
};
use url::Url;

/// A vendor with a login route issuing `key-<n>` (or a fixed garbage key) and an `/op` route
/// that reads the key from the body (`key=<k>;payload`) and answers `fault:session` in a 200
/// when it does not know the key, as IdoSell does inside its `errors` block.
#[derive(Clone, Default)]
struct Vendor {
    logins: Counter,
    valid: Arc<Mutex<HashSet<String>>>,
    bodies: Arc<Mutex<Vec<String>>>,
    garbage: Arc<Mutex<bool>>,
    refuse_all: Arc<Mutex<bool>>,
}

impl Vendor {
    fn router(&self) -> Router {
        let login = self.clone();
        let op = self.clone();
        Router::new()
            .route(
                "/login",
                post(move || {
                    let v = login.clone();
                    async move {
                        let n = v.logins.hit();
                        if *v.garbage.lock().unwrap() {
                            // A maintenance page where the key should be: a key is opaque
                            // text, but not one with line breaks.
                            return "<html>\n<body>maintenance</body>\n</html>\n".to_string();
                        }
                        let key = format!("key-{n}");
                        v.valid.lock().unwrap().insert(key.clone());
                        key
                    }
                }),
            )
            .route(
                "/op",
                post(move |body: String| {
                    let v = op.clone();
                    async move {
                        v.bodies.lock().unwrap().push(body.clone());
                        let key = body.strip_prefix("key=").and_then(|b| b.split(';').next()).unwrap_or("");
                        if *v.refuse_all.lock().unwrap() || !v.valid.lock().unwrap().contains(key) {
                            "fault:session".to_string()
                        } else {
                            "ok".to_string()
                        }
                    }
                }),
            )
    }

    /// Forgets every key issued so far (the vendor's sessions ended).
    fn revoke_all(&self) {
        self.valid.lock().unwrap().clear();
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}

#[derive(Debug)]
struct Login {
    url: Url,
}

#[async_trait]
impl SessionSource for Login {
    async fn open(&self, client: &reqwest::Client, _ctx: &Context) -> Result<Session, Error> {
        let key = client
            .post(self.url.clone())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| {
                Error::new(ErrorKind::Unavailable, "test", "auth.token").with_message(e.to_string())
            })?
            .text()
            .await
            .map_err(|e| {
                Error::new(ErrorKind::Unavailable, "test", "auth.token").with_message(e.to_string())
            })?;
        Ok(Session { key: Secret::new(key), expires_at: Utc::now() + chrono::Duration::minutes(15) })
    }
}

/// The vendor's session fault inside a 200 is classified as `Unauthorized`.
fn classify(input: &ClassifyInput<'_>) -> Option<Error> {
    if input.body == b"fault:session" {
        return Some(Error::new(ErrorKind::Unauthorized, input.provider, input.operation));
    }
    default_classify(input)
}

fn client(base: &Url, config: HttpConfig) -> (HttpClient, Arc<SessionAuth<Login>>) {
    let auth = Arc::new(SessionAuth::new(
        "test",
        Login { url: base.join("login").unwrap() },
        Duration::from_secs(180),
    ));
    let http = HttpClient::new("test", config, auth.clone(), Arc::new(classify)).unwrap();
    (http, auth)
}

/// A call whose body carries the attempt's session key.
fn op(retry: Retry) -> Call {
    Call::post("fulfilment.place_order", "/op")
        .built("text/plain", |c: &Credentials| {
            let key = c.body_token.as_ref().ok_or_else(|| {
                Error::invalid("test", "fulfilment.place_order", "session", "no session key")
            })?;
            Ok(format!("key={};payload", key.expose()).into_bytes())
        })
        .retry(retry)
}

#[tokio::test]
async fn session_fault_reauthenticates_once_and_the_replay_carries_the_fresh_key() {
    let vendor = Vendor::default();
    let base = serve(vendor.router()).await;
    let (http, auth) = client(&base, fast_config(base.clone()));
    http.send(&Context::new(), op(Retry::Write)).await.unwrap();
    vendor.revoke_all();

    let reply = http.send(&Context::new(), op(Retry::Write)).await.unwrap();
    assert_eq!(reply.text(), "ok");
    assert_eq!(auth.opens(), 2);
    assert_eq!(vendor.bodies(), ["key=key-1;payload", "key=key-1;payload", "key=key-2;payload"]);
}

#[tokio::test]
async fn a_second_session_fault_is_returned_after_one_reauthentication() {
    let vendor = Vendor::default();
    *vendor.refuse_all.lock().unwrap() = true;
    let base = serve(vendor.router()).await;
    let (http, auth) = client(&base, fast_config(base.clone()));

    let err = http.send(&Context::new(), op(Retry::Read)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized);
    assert_eq!(err.attempts(), 2);
    assert_eq!(auth.opens(), 2, "one re-authentication, no more");
    assert_eq!(vendor.bodies().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_refused_with_one_stale_key_share_one_renewal() {
    let vendor = Vendor::default();
    let base = serve(vendor.router()).await;
    let (http, auth) = client(&base, fast_config(base.clone()));
    http.send(&Context::new(), op(Retry::Read)).await.unwrap();
    vendor.revoke_all();

    let calls: Vec<_> = (0..20)
        .map(|_| {
            let http = http.clone();
            tokio::spawn(async move { http.send(&Context::new(), op(Retry::Read)).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().text(), "ok");
    }
    assert_eq!(auth.opens(), 2, "twenty refused calls renewed the session once");
    assert_eq!(vendor.logins.get(), 2);
}

#[tokio::test]
async fn garbage_session_key_is_a_protocol_error_sent_nowhere_and_never_cached() {
    let vendor = Vendor::default();
    *vendor.garbage.lock().unwrap() = true;
    let base = serve(vendor.router()).await;
    let (http, auth) = client(&base, fast_config(base.clone()));

    let err = http.send(&Context::new(), op(Retry::Read)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert!(!err.to_string().contains("maintenance"), "{err}");
    assert!(vendor.bodies().is_empty(), "a call went out with a garbage key");

    *vendor.garbage.lock().unwrap() = false;
    http.send(&Context::new(), op(Retry::Read)).await.unwrap();
    assert_eq!(auth.opens(), 2, "the garbage key was not cached");
    assert_eq!(vendor.bodies(), ["key=key-2;payload"]);
}

#[tokio::test]
async fn built_body_over_the_limit_is_refused_before_sending() {
    let vendor = Vendor::default();
    let base = serve(vendor.router()).await;
    let (http, _auth) = client(&base, fast_config(base.clone()).with_max_request_bytes(64));
    let big = Call::post("fulfilment.place_order", "/op").built("text/plain", |c: &Credentials| {
        let key = c.body_token.as_ref().map(Secret::expose).unwrap_or_default();
        Ok(format!("key={key};{}", "x".repeat(100)).into_bytes())
    });
    let err = http.send(&Context::new(), big).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "body"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert_eq!(err.attempts(), 1);
    assert!(vendor.bodies().is_empty());
}

#[tokio::test]
async fn a_builder_refusal_sends_nothing() {
    let vendor = Vendor::default();
    let base = serve(vendor.router()).await;
    let (http, _auth) = client(&base, fast_config(base.clone()));
    let refused = Call::post("fulfilment.place_order", "/op")
        .built("text/plain", |_: &Credentials| Err(Error::invalid("test", "x", "lines", "no lines")));
    let err = http.send(&Context::new(), refused).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "lines"), "{err}");
    assert_eq!(err.operation(), "fulfilment.place_order");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert!(vendor.bodies().is_empty());
}

/// A login that fails after 100 ms, counting its tries.
#[derive(Debug, Clone, Default)]
struct FailingLogin(Counter);

#[async_trait]
impl SessionSource for FailingLogin {
    async fn open(&self, _client: &reqwest::Client, _ctx: &Context) -> Result<Session, Error> {
        self.0.hit();
        tokio::time::sleep(Duration::from_millis(100)).await;
        Err(Error::new(ErrorKind::Unauthorized, "test", "auth.token").with_message("login refused"))
    }
}

/// Callers waiting on a login that fails share its failure instead of each logging in again,
/// also when they carry a deadline (every checkout and service call does) that the failure
/// never came near: only a login cut by the caller's own deadline is that caller's alone.
#[tokio::test]
async fn callers_with_a_deadline_waiting_on_a_failing_login_share_its_failure() {
    let logins = Counter::default();
    let base = serve(Vendor::default().router()).await;
    let auth = Arc::new(SessionAuth::new("test", FailingLogin(logins.clone()), Duration::from_secs(60)));
    let http =
        HttpClient::new("test", fast_config(base).with_max_attempts(1), auth, Arc::new(classify)).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let http = http.clone();
            tokio::spawn(
                async move { http.send(&Context::new().with_deadline(deadline), op(Retry::Read)).await },
            )
        })
        .collect();
    for call in calls {
        let err = call.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{err}");
        assert_eq!(err.effect(), WriteEffect::NotSent, "{err}");
    }
    assert_eq!(logins.get(), 1, "one login for twenty callers with a deadline");
}
