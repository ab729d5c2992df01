//! Issue 17 item 6: a password or query token written into any adapter's base URL is not
//! printed by the `Debug` of its configuration, its builder or the adapter.
use serde_json::json;

const PW: &str = "URLPASSW0RD";
const Q: &str = "QUERYTOKEN9";

fn url(host: &str) -> String {
    format!("https://user:{PW}@{host}/api?key={Q}")
}

fn assert_clean(what: &str, shown: &str) {
    assert!(!shown.contains(PW) && !shown.contains(Q), "{what} Debug leaks a URL secret: {shown}");
}

#[cfg(feature = "sessionm")]
#[test]
fn sessionm_config_debug_redacts_url_credentials() {
    let c = loyalty_sessionm::SessionmConfig::from_value(json!({
        "pos_base_url": url("pos.example"), "pos_key": "pos-user", "pos_secret": "p",
        "connect_base_url": url("con.example"), "connect_key": "connect-user", "connect_secret": "c",
        "core_base_url": url("core.example"), "api_key": "k", "s2s_secret": "s",
        "retailer_id": "0A1B2C3D-0000-4000-8000-000000000001", "client_id": "client-1", "store_id": "store-1",
        "currency": "USD"
    }))
    .unwrap();
    assert_clean("SessionmConfig", &format!("{c:?}"));
    assert_clean("SessionmAdapter", &format!("{:?}", loyalty_sessionm::SessionmAdapter::new(c).unwrap()));
    let b = loyalty_sessionm::SessionmConfig::builder()
        .with_pos(url("pos.example"), "pos-user", loyalty_http::Secret::new("p"))
        .with_core(url("core.example"), loyalty_http::Secret::new("k"), loyalty_http::Secret::new("s"));
    assert_clean("SessionmConfigBuilder", &format!("{b:?}"));
}

#[cfg(feature = "emanage")]
#[test]
fn emanage_config_debug_redacts_url_credentials() {
    let c = loyalty_emanage::EmanageConfig::from_value(json!({
        "base_url": url("x.example"), "cid": "11111111-2222-4333-8444-555555555555",
        "web_key": "A3F1C2D4-5E6F-4A7B-8C9D-0E1F2A3B4C5D", "currency": "USD"
    }))
    .unwrap();
    assert_clean("EmanageConfig", &format!("{c:?}"));
    assert_clean("EmanageAdapter", &format!("{:?}", loyalty_emanage::EmanageAdapter::new(c).unwrap()));
    let b = loyalty_emanage::EmanageConfig::builder().with_base_url(url("x.example"));
    assert_clean("EmanageConfigBuilder", &format!("{b:?}"));
}

#[cfg(feature = "idosell")]
#[test]
fn idosell_config_debug_redacts_url_credentials() {
    let c = loyalty_idosell::IdosellConfig::from_value(json!({
        "base_url": url("x.example"), "login": "a", "password": "b", "dropshipping_key": "k"
    }))
    .unwrap();
    assert_clean("IdosellConfig", &format!("{c:?}"));
    assert_clean("IdosellAdapter", &format!("{:?}", loyalty_idosell::IdosellAdapter::new(c).unwrap()));
    let b = loyalty_idosell::IdosellConfig::builder().with_base_url(url("x.example"));
    assert_clean("IdosellConfigBuilder", &format!("{b:?}"));
}

#[cfg(feature = "diller")]
#[test]
fn diller_config_debug_redacts_url_credentials() {
    let c = loyalty_diller::DillerConfig::from_value(json!({
        "base_url": url("x.example"), "client_id": "a", "client_secret": "b", "store_id": "s"
    }))
    .unwrap();
    assert_clean("DillerConfig", &format!("{c:?}"));
}
