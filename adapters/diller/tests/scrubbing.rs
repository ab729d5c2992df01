//! No credential reaches a journal, a config `Debug`, an error `Display` or a fixture
//!.

mod common;

use std::time::Duration;

use common::*;
use loyalty_core::{Context, ErrorKind, MemberId, Provider};
use loyalty_diller::DillerAdapter;
use loyalty_http::Secret;
use loyalty_sim::diller::demo;
use loyalty_sim::replay::{Fixture, ReplayServer};
use loyalty_sim::{Fault, JournalEntry};

/// What must never be written anywhere: the secret, and the Basic credential built from it.
fn forbidden() -> Vec<String> {
    use base64_free::encode;
    vec![demo::CLIENT_SECRET.to_string(), encode(&format!("{}:{}", demo::CLIENT_ID, demo::CLIENT_SECRET))]
}

/// Standard base64, written out here so the test does not trust the code under test.
mod base64_free {
    pub fn encode(text: &str) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = text.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &x)| acc | (u32::from(x) << (16 - 8 * i)));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

fn entry_text(e: &JournalEntry) -> String {
    format!("{} {} {:?} {:?} {}", e.method, e.path, e.query, e.headers, e.body)
}

#[tokio::test]
async fn simulator_journal_holds_no_credentials() {
    let env = start().await;
    let ctx = Context::new();
    env.adapter.members().unwrap().get(&ctx, &env.member()).await.unwrap();
    let tx = transaction(&env, "Order-Scrub", &[("BOOK-1", "1", "10.00")], &[]);
    env.adapter.transactions().unwrap().send(&ctx, &tx).await.unwrap();
    for e in env.journal().entries() {
        let text = entry_text(&e);
        for f in forbidden() {
            assert!(!text.contains(&f), "journal leaks a credential: {text}");
        }
        for (k, v) in &e.headers {
            if k == "authorization" {
                assert_eq!(v, "[redacted]");
            }
        }
    }
}

#[tokio::test]
async fn access_token_never_reaches_the_journal_or_errors() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/fixtures/diller");
    let fixtures = vec![
        Fixture::load(dir.join("token.http")).unwrap(),
        Fixture::load(dir.join("m2_get_member.http")).unwrap(),
    ];
    let token = "fixture-access-token";
    let server = ReplayServer::start(fixtures).await.unwrap();
    server.handle().inject("GET", "/api/", Fault::MalformedBody, Some(1));
    // The fixtures were written for a store of its own id.
    let mut replay_config = config(server.base_url(), Duration::from_secs(5));
    replay_config.store_id = "demo-store".into();
    let adapter = DillerAdapter::new(replay_config).unwrap();
    let err =
        adapter.members().unwrap().get(&Context::new(), &MemberId::new("m_Ao1bPoZRRV7Y")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    assert!(!err.to_string().contains(token) && !format!("{err:?}").contains(token));
    adapter.members().unwrap().get(&Context::new(), &MemberId::new("m_Ao1bPoZRRV7Y")).await.unwrap();
    for e in server.requests() {
        assert!(!entry_text(&e).contains(token), "journal leaks the token: {}", entry_text(&e));
    }
}

#[tokio::test]
async fn config_debug_and_error_display_hide_the_secret() {
    let env = start().await;
    let c = config(env.server.base_url(), Duration::from_secs(5));
    assert!(!format!("{c:?}").contains(demo::CLIENT_SECRET));
    assert!(!format!("{:?}", env.adapter).contains(demo::CLIENT_SECRET));
    let mut wrong = c.clone();
    wrong.client_secret = Secret::new("wrong-secret-123");
    let adapter = DillerAdapter::new(wrong).unwrap();
    let err = adapter.members().unwrap().get(&Context::new(), &env.member()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{err}");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("wrong-secret-123") && !text.contains(demo::CLIENT_SECRET), "{text}");
    }
}

#[test]
fn fixtures_hold_no_credentials() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/fixtures/diller");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for f in forbidden() {
            assert!(!text.contains(&f), "{} leaks a credential", path.display());
        }
        assert!(
            !text.to_ascii_lowercase().contains("authorization:"),
            "{} records an authorization header",
            path.display()
        );
        seen += 1;
    }
    assert!(seen > 20, "fixtures found: {seen}");
}
