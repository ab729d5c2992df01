//! Faults, journal scrubbing and settings files on the SessionM simulator.

use loyalty_sim::{
    sessionm::{ExpiredLockDiscount, PosErrorStatus, StateMismatch, TotalsMismatch, UnknownFields},
    Fault,
};

use super::*;

// A malformed body after the operation ran; a retry with the same request_id gets the stored,
// well-formed answer without a second effect (§7.5).
#[tokio::test]
async fn malformed_body_fault_then_retry_with_same_request_id_replays_the_answer() {
    let t = sim().await;
    t.server.handle().inject("POST", "/api/2.0/redeem", Fault::MalformedBody, Some(1));
    let body = t
        .envelope(json!({"offer_lookup_code": demo::UO_FIXED_CHECK, "offer_lookup_type": "UserOfferId",
                                 "transaction": basket("T1", &[(demo::ITEM_COFFEE, 1)])}));
    let (s, v) = t.pos_body("redeem", body.clone()).await;
    assert_eq!(s, 200);
    assert!(v.is_string(), "not JSON: {v}");
    let (_, v) = t.pos_body("redeem", body).await;
    assert_eq!(ok(&v)["status"], "redeemed");
    assert_eq!(t.server.handle().journal().count("POST", "/api/2.0/redeem"), 2);
}

#[tokio::test]
async fn status_fault_on_a_connect_route_skips_the_handler() {
    let t = sim().await;
    t.server.handle().inject("POST", "/incentives/", Fault::Status(503), Some(1));
    let (s, _) = t
        .connect(
            "/incentives/api/1.0/user_points/all_balances",
            json!({"retailer_id": demo::RETAILER_ID, "user_id": demo::USER_ID}),
        )
        .await;
    assert_eq!(s, 503);
}

#[tokio::test]
async fn too_many_requests_fault_carries_retry_after_on_pos() {
    let t = sim().await;
    t.server.handle().inject(
        "POST",
        "/api/2.0/lock",
        Fault::TooManyRequests { retry_after_secs: 3 },
        Some(1),
    );
    let r = t
        .http
        .post(t.url("/api/2.0/lock"))
        .basic_auth(POS.0, Some(POS.1))
        .json(&t.envelope(json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, "3"));
    assert!(t.probe.request_ids().is_empty(), "the handler did not run");
}

#[tokio::test]
async fn dropped_connection_on_a_core_route_changes_nothing() {
    let t = sim().await;
    t.server.handle().inject("POST", "/priv/", Fault::DropConnection, Some(1));
    let r = t
        .http
        .post(t.url(&format!("/priv/v1/apps/{}/users", demo::API_KEY)))
        .basic_auth(CORE.0, Some(CORE.1))
        .json(&json!({"user": {"email": "drop@example.com"}}))
        .send()
        .await;
    assert!(r.is_err());
    assert!(t.probe.users_by_email("drop@example.com").is_empty());
}

#[tokio::test]
async fn hang_fault_makes_the_client_timeout_fire() {
    let t = sim().await;
    t.server.handle().inject("POST", "/api/2.0/send_transaction", Fault::Hang, Some(1));
    let c = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().unwrap();
    let e = c
        .post(t.url("/api/2.0/send_transaction"))
        .basic_auth(POS.0, Some(POS.1))
        .json(&json!({}))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
}

// No secret of any family (POS secret, Connect secret, Core S2S secret, their Basic strings)
// reaches the journal.
#[tokio::test]
async fn journal_never_contains_a_secret() {
    let t = sim().await;
    t.pos("lookup", json!({"email": demo::USER_EMAIL})).await;
    t.wallet().await;
    t.core(Method::GET, &format!("/users/{}", demo::USER_ID), None).await;
    t.send(Method::POST, "/api/2.0/lookup", Some((demo::POS_KEY, "guess")), Some(json!({}))).await;
    let entries = t.server.handle().journal().entries();
    assert_eq!(entries.len(), 4);
    let dump = format!("{entries:?}");
    use base64::Engine as _;
    for (k, s) in [POS, CONNECT, CORE] {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{k}:{s}"));
        assert!(!dump.contains(s) && !dump.contains(&basic), "{s} leaked: {dump}");
    }
    assert!(entries.iter().all(|e| e.headers.contains(&("authorization".into(), "[redacted]".into()))));
}

// §8.3: the defaults are the contract's table.
#[test]
fn default_settings_are_the_contract_table() {
    let s = SessionmSettings::default();
    assert_eq!((s.lock_ttl_secs, s.replay_window_secs, s.points_delay_secs), (900, 86_400, 0));
    assert_eq!(s.expired_lock_discount, ExpiredLockDiscount::RedeemIfAvailable);
    assert_eq!((s.unlock_not_locked, s.reinstate_not_redeemed), (StateMismatch::Error, StateMismatch::Error));
    assert_eq!(s.mismatched_totals, TotalsMismatch::Warn);
    assert_eq!(s.pos_business_error_status, PosErrorStatus::Http200);
    assert!(!s.core_phone_unique);
    assert_eq!((s.store_currency.as_str(), s.points_per_currency_unit), ("NOK", Decimal::ONE));
    assert_eq!(s.unknown_fields, UnknownFields::Reject);
}

#[test]
fn settings_file_overrides_any_subset() {
    let s: SessionmSettings = toml::from_str(
        "lock_ttl_secs = 300\nexpired_lock_discount = \"reject\"\npoints_per_currency_unit = \"0.5\"\nunknown_fields = \"ignore\"\n",
    )
    .unwrap();
    assert_eq!(s.lock_ttl_secs, 300);
    assert_eq!(s.expired_lock_discount, ExpiredLockDiscount::Reject);
    assert_eq!(s.points_per_currency_unit, "0.5".parse().unwrap());
    assert_eq!(s.unknown_fields, UnknownFields::Ignore);
    assert_eq!(s.replay_window_secs, 86_400, "unset keys keep their default");
    let j: SessionmSettings =
        serde_json::from_value(json!({"pos_business_error_status": "http400"})).unwrap();
    assert_eq!(j.pos_business_error_status, PosErrorStatus::Http400);
}

#[test]
fn settings_file_with_unknown_key_is_refused() {
    let e = toml::from_str::<SessionmSettings>("lock_ttl = 300\n").unwrap_err();
    assert!(e.to_string().contains("lock_ttl"), "{e}");
}

// Setting alternative: unknown members ignored.
#[tokio::test]
async fn unknown_fields_are_ignored_with_setting() {
    let mut s = SessionmSettings::default();
    s.unknown_fields = UnknownFields::Ignore;
    let t = sim_with(s).await;
    let mut b = closed(basket("T1", &[(demo::ITEM_COFFEE, 1)]), "2026-01-15T12:00:00Z", vec![]);
    b["currency"] = json!("NOK");
    ok(&t.send_transaction(b).await.1);
}

#[tokio::test]
async fn probe_can_issue_an_offer_and_adjust_points() {
    let t = sim().await;
    let id = t
        .probe
        .issue_offer(demo::OLA_USER_ID, demo::UO_FIXED_CHECK, t.clock().now() + chrono::Duration::days(30))
        .unwrap();
    let (_, v) = t.pos("lookup", json!({"user_id": demo::OLA_USER_ID})).await;
    assert_eq!(ok(&v)["offers"][0]["user_offer_id"], json!(id));
    assert!(t.probe.adjust_points(demo::OLA_USER_ID, Decimal::from(25)));
    assert_eq!(t.probe.points(demo::OLA_USER_ID), Some(Decimal::from(25)));
}

#[tokio::test]
async fn unknown_route_is_404_json() {
    let t = sim().await;
    let (s, v) = t.send(Method::POST, "/api/2.0/cancel", Some(POS), Some(json!({}))).await;
    assert_eq!((s, code(&v)), (404, "not_found"));
    let (s, _) = t.send(Method::GET, "/api/2.0/lookup", Some(POS), None).await;
    assert_eq!(s, 405);
}

// The simulator's own views under `/_sim` are how a test looks at the vendor: a fault on `/`
// never hits them and the journal never shows them, with or without the control API.
#[tokio::test]
async fn the_simulators_own_views_are_neither_faulted_nor_journaled() {
    let t = sim().await;
    t.server.handle().inject("GET", "/", Fault::Status(503), None);
    for path in ["/_sim/transactions", "/_sim/warnings"] {
        let (s, v) = t.send(Method::GET, path, None, None).await;
        assert_eq!(s, 200, "{path}: {v}");
        assert_eq!(v["status"], "ok", "{path}: {v}");
    }
    assert_eq!(t.server.handle().journal().count("GET", "/_sim"), 0);
    // The vendor's own paths are still faulted.
    let (s, _) = t.send(Method::GET, "/priv/v1/apps/x/users/u", None, None).await;
    assert_eq!(s, 503);
}
