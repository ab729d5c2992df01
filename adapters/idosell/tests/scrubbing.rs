//! No credential reaches a journal, a log line, a config or adapter `Debug`, an error
//! `Display`, a fixture or a snapshot (checklist 25).

#![cfg(feature = "simulator")]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::*;
use loyalty_core::{CourierQuery, Provider};
use loyalty_http::Secret;
use loyalty_idosell::simulated::SimulatedClock;
use loyalty_sim::idosell::{demo, sha1_hex, system_key};

/// What must never be written anywhere: the password, its digest, the dropshipping key, and
/// the derived keys of the days the tests run on.
fn forbidden(env: &Env) -> Vec<String> {
    let today = env.clock.now().with_timezone(&chrono_tz::Europe::Warsaw).date_naive();
    vec![
        demo::PASSWORD.to_string(),
        demo::PASSWORD_SHA1.to_string(),
        demo::DROPSHIPPING_KEY.to_string(),
        system_key(demo::PASSWORD_SHA1, today),
        // The simulator's first session keys (deterministic, §3.5 [S]).
        sha1_hex(b"idosell-sim-session-1"),
        sha1_hex(b"idosell-sim-session-2"),
    ]
}

async fn busy(env: &Env) {
    let f = env.fulfilment();
    f.stock(&ctx(), &[line(demo::COFFEE_INTERNAL, "1")]).await.unwrap();
    let placed = f.place_order(&ctx(), &coffee_order("SHOP-SCRUB")).await.unwrap();
    env.clock.advance(std::time::Duration::from_secs(13 * 60));
    f.order_status(&ctx(), &placed.order_id).await.unwrap();
}

#[tokio::test]
async fn simulator_journal_holds_no_credentials() {
    let env = start().await;
    busy(&env).await;
    assert_eq!(env.count("G1"), 2, "two sessions were used");
    for e in env.journal().entries() {
        let text = format!("{} {} {:?} {:?} {}", e.method, e.path, e.query, e.headers, e.body);
        for f in forbidden(&env) {
            assert!(!text.contains(&f), "journal leaks a credential: {text}");
        }
    }
}

/// The binary's one log sink. A global subscriber, because a thread-scoped one misses events
/// at callsites another test's thread cached as uninteresting first; every test's lines land
/// here, and none may hold a credential either.
fn captured() -> &'static Captured {
    static SINK: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    SINK.get_or_init(|| {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this binary");
        captured
    })
}

#[tokio::test]
async fn log_lines_hold_no_credentials() {
    let captured = captured();
    let env = start().await;
    busy(&env).await;
    // A refused call logs its cause too.
    let mut wrong = env.config();
    wrong.dropshipping_key = Secret::new("ds-wrong-key-for-logs");
    let adapter = env.other_adapter(wrong, Arc::new(SimulatedClock(env.clock.clone())));
    adapter.fulfilment().unwrap().couriers(&ctx(), &CourierQuery::all()).await.unwrap_err();
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(logs.contains("loyalty_http"), "nothing was logged:\n{logs}");
    for f in forbidden(&env).into_iter().chain(["ds-wrong-key-for-logs".to_string()]) {
        assert!(!logs.contains(&f), "a log line leaks a credential:\n{logs}");
    }
}

#[tokio::test]
async fn config_and_adapter_debug_hide_the_secrets() {
    let env = start().await;
    busy(&env).await;
    for text in [format!("{:?}", env.config()), format!("{:?}", env.adapter())] {
        for f in forbidden(&env) {
            assert!(!text.contains(&f), "{text}");
        }
    }
}

#[tokio::test]
async fn errors_never_quote_a_credential() {
    let env = start().await;
    let clock = Arc::new(SimulatedClock(env.clock.clone()));
    let mut wrong_key = env.config();
    wrong_key.dropshipping_key = Secret::new("ds-wrong-key-123");
    let mut wrong_password = env.config();
    wrong_password.password_sha1 = Secret::new(sha1_hex(b"not-the-password"));
    for (config, secret) in [(wrong_key, "ds-wrong-key-123"), (wrong_password, "not-the-password")] {
        let adapter = env.other_adapter(config, clock.clone());
        let err = adapter.fulfilment().unwrap().couriers(&ctx(), &CourierQuery::all()).await.unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(secret), "{text}");
            for f in forbidden(&env) {
                assert!(!text.contains(&f), "{text}");
            }
        }
    }
}

fn files(dir: &str) -> Vec<(PathBuf, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

#[test]
fn fixtures_and_snapshots_hold_no_credentials() {
    let secrets = [
        demo::PASSWORD,
        demo::PASSWORD_SHA1,
        demo::DROPSHIPPING_KEY,
        "replay-password",
        "replay-ds-key-31337",
        // The replay session key, recorded in the login reply only.
        "5f2b1c3d4e5f60718293a4b5c6d7e8f901234567",
    ];
    let fixtures = files("../../conformance/fixtures/idosell");
    let snapshots = files("tests/snapshots");
    assert!(
        fixtures.len() >= 12 && snapshots.len() >= 8,
        "{} fixtures, {} snapshots",
        fixtures.len(),
        snapshots.len()
    );
    for (path, text) in fixtures.iter().chain(&snapshots) {
        let is_login_reply = path.ends_with("g1_authenticate.http");
        for s in secrets {
            if is_login_reply && s.starts_with("5f2b") {
                // The reply that hands the session key over must carry it, in the response only.
                let request = text.split("### response").next().unwrap();
                assert!(!request.contains(s), "{} sends the session key", path.display());
                continue;
            }
            assert!(!text.contains(s), "{} leaks {s}", path.display());
        }
        // Every key element is redacted.
        for element in ["sessionKey", "dropshippingKey", "systemKey"] {
            for (i, _) in text.match_indices(&format!("<{element} ")) {
                let rest = &text[i..];
                let content = &rest[rest.find('>').unwrap() + 1..rest.find("</").unwrap()];
                let reply_key =
                    is_login_reply && element == "sessionKey" && text[..i].contains("### response");
                assert!(
                    content == "[redacted]" || reply_key,
                    "{} records a {element}: {content}",
                    path.display()
                );
            }
        }
    }
}
