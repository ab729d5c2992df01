//! No credential or card data reaches a journal, a config `Debug`, an error `Display`, a
//! fixture or a snapshot: the client id (`X_CID`, kept secret although shop pages
//! show it, §3), card numbers and security codes.

mod common;

use std::time::Duration;

use common::*;
use loyalty_core::{CartId, ErrorKind, Provider};
use loyalty_emanage::{CapturePolicy, EmanageAdapter};
use loyalty_http::Secret;
use loyalty_sim::emanage::demo;
use loyalty_sim::JournalEntry;

/// The replay tests' client id.
const REPLAY_CID: &str = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";

/// What must never be written anywhere.
fn forbidden() -> Vec<&'static str> {
    vec![demo::CID, REPLAY_CID, demo::PAN_APPROVE, demo::PAN_DECLINE, demo::PAN_3DS]
}

fn entry_text(e: &JournalEntry) -> String {
    format!("{} {} {:?} {:?} {}", e.method, e.path, e.query, e.headers, e.body)
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect()
}

#[tokio::test]
async fn simulator_journal_holds_no_client_id_and_no_card_data() {
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let declined = env.cart(&[(P0, 1)]).await;
    env.carts().checkout(&ctx(), &declined.id, &card(demo::PAN_DECLINE)).await.unwrap();
    env.carts().get(&ctx(), &cart.id).await.unwrap();
    let entries = env.journal().entries();
    assert!(entries.iter().any(|e| e.path.ends_with("/checkout")));
    for e in entries {
        let text = entry_text(&e);
        for f in forbidden() {
            assert!(!text.contains(f), "journal leaks a secret: {text}");
        }
        assert!(!text.contains(&format!("\"cvv\":\"{}\"", demo::CARD_CVV)), "journal leaks the cvv: {text}");
    }
}

#[tokio::test]
async fn config_and_adapter_debug_hide_the_client_id() {
    let env = start().await;
    let c = config(env.server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    assert!(!format!("{c:?}").contains(demo::CID));
    assert!(!format!("{:?}", env.adapter).contains(demo::CID));
}

#[tokio::test]
async fn a_refused_client_id_never_shows_in_the_error() {
    let env = start().await;
    let wrong = "0badc1d0-1111-4222-8333-444444444444";
    let mut c = config(env.server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    c.cid = Secret::new(wrong);
    let adapter = EmanageAdapter::new(c).unwrap();
    let err = adapter.carts().unwrap().get(&ctx(), &CartId::new(wrong)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{err}");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("0badc1d0") && !text.contains(demo::CID), "{text}");
    }
}

#[test]
fn card_details_never_print() {
    let payment = card(demo::PAN_APPROVE);
    let text = format!("{payment:?}");
    assert!(!text.contains(demo::PAN_APPROVE) && !text.contains(demo::CARD_CVV), "{text}");
}

#[test]
fn fixtures_and_snapshots_hold_no_secret() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = files_under(&root.join("../../conformance/fixtures/emanage"));
    let fixtures = files.len();
    files.extend(files_under(&root.join("tests/snapshots")));
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        for f in forbidden() {
            assert!(!text.contains(f), "{} leaks a secret", path.display());
        }
        for line in text.lines().filter(|l| l.to_ascii_lowercase().starts_with("x_cid:")) {
            assert_eq!(line.trim(), "x_cid: [redacted]", "{} records a client id", path.display());
        }
        assert!(!text.contains("\"creditcard\": \"4"), "{} records a card number", path.display());
    }
    assert!(fixtures >= 15 && files.len() > fixtures, "fixtures {fixtures}, files {}", files.len());
}
