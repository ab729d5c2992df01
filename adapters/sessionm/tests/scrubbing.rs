//! No credential reaches a journal, a config or adapter `Debug`, an error `Display` or a
//! fixture. The Core API key is a path segment by SessionM's design (§6), so the
//! vendor sees it in paths; it still never appears in `Debug` output or errors.

mod common;

use std::time::Duration;

use common::*;
use loyalty_core::{Context, ErrorKind, MemberLookup, Provider, RedeemRequest};
use loyalty_http::Secret;
use loyalty_sessionm::SessionmAdapter;
use loyalty_sim::sessionm::demo;
use loyalty_sim::JournalEntry;

/// Standard base64, written out here so the test does not trust the code under test.
fn base64(text: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
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

/// What must never be written anywhere: the three secrets and the Basic credentials built
/// from them.
fn forbidden() -> Vec<String> {
    vec![
        demo::POS_SECRET.to_string(),
        demo::CONNECT_SECRET.to_string(),
        demo::S2S_SECRET.to_string(),
        base64(&format!("{}:{}", demo::POS_KEY, demo::POS_SECRET)),
        base64(&format!("{}:{}", demo::CONNECT_KEY, demo::CONNECT_SECRET)),
        base64(&format!("{}:{}", demo::API_KEY, demo::S2S_SECRET)),
    ]
}

fn entry_text(e: &JournalEntry) -> String {
    format!("{} {} {:?} {:?} {}", e.method, e.path, e.query, e.headers, e.body)
}

#[tokio::test]
async fn simulator_journal_holds_no_credentials() {
    let env = start().await;
    let ctx = Context::new();
    let b = basket(&[(demo::ITEM_COFFEE, "2"), (demo::ITEM_MUG, "1")]);
    env.adapter.members().unwrap().find(&ctx, &MemberLookup::Email(demo::USER_EMAIL.into())).await.unwrap();
    env.adapter.members().unwrap().get(&ctx, &env.kari()).await.unwrap();
    env.adapter.offers().unwrap().list(&ctx, Some(&env.kari()), None).await.unwrap();
    let hold = lock(&env, &wallet_offer(demo::UO_FIXED_CHECK), "T-1", &b).await.unwrap();
    let req = RedeemRequest::new(env.kari(), wallet_offer(demo::UO_PERCENT_CHECK)).with_basket(b.clone());
    let red = env.adapter.redemptions().unwrap().redeem(&ctx, &req).await.unwrap();
    env.adapter.redemptions().unwrap().reinstate(&ctx, &red).await.unwrap();
    env.adapter.transactions().unwrap().send(&ctx, &sale(&env, "T-1", &b, &[hold])).await.unwrap();
    let entries = env.journal().entries();
    assert!(entries.len() >= 7);
    for e in entries {
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
async fn config_and_adapter_debug_hide_the_secrets_and_the_api_key() {
    let env = start().await;
    let c = config(env.server.base_url(), Duration::from_secs(5));
    for text in [format!("{c:?}"), format!("{:?}", env.adapter)] {
        for f in forbidden().iter().chain([&demo::API_KEY.to_string()]) {
            assert!(!text.contains(f.as_str()), "{f} in {text}");
        }
    }
}

#[tokio::test]
async fn errors_from_wrong_credentials_name_no_credential() {
    let env = start().await;
    let mut wrong = config(env.server.base_url(), Duration::from_secs(5));
    wrong.pos_secret = Secret::new("wrong-pos-secret-123");
    wrong.s2s_secret = Secret::new("wrong-s2s-secret-456");
    let adapter = SessionmAdapter::new(wrong).unwrap();
    let pos =
        adapter.members().unwrap().find(&Context::new(), &MemberLookup::Email(demo::USER_EMAIL.into())).await;
    let core = adapter.members().unwrap().get(&Context::new(), &env.kari()).await;
    for err in [pos.unwrap_err(), core.unwrap_err()] {
        assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{err}");
        for text in [err.to_string(), format!("{err:?}")] {
            for f in [
                "wrong-pos-secret-123",
                "wrong-s2s-secret-456",
                demo::API_KEY,
                demo::POS_SECRET,
                demo::S2S_SECRET,
            ] {
                assert!(!text.contains(f), "{f} in {text}");
            }
        }
    }
}

#[test]
fn fixtures_and_snapshots_hold_no_credentials() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let replay_secrets = ["replay-pos-secret", "replay-connect-secret", "replay-s2s-secret"];
    let mut seen = 0;
    for dir in [root.join("../../conformance/fixtures/sessionm"), root.join("tests/snapshots")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for f in forbidden().iter().map(String::as_str).chain(replay_secrets) {
                assert!(!text.contains(f), "{} leaks a credential", path.display());
            }
            assert!(
                !text.to_ascii_lowercase().contains("authorization: basic"),
                "{} records credentials",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(seen > 25, "files checked: {seen}");
}
