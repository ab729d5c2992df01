//! G1 `Authenticate`, keys and sessions (§3; checklist items 1–8).

use std::time::Duration;

use chrono::NaiveDate;
use loyalty_sim::{
    idosell::{demo, system_key, Gateway, IdosellSettings, Reauthenticate, SessionExpiry},
    SimClock,
};

use super::support::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn at_noon(y: i32, m: u32, d: u32) -> T {
    sim_at(IdosellSettings::default(), SimClock::at(at(y, m, d, 11, 0))).await
}

#[tokio::test]
async fn key_for_2024_03_15_is_accepted_on_that_day() {
    // Checklist 1.
    let t = at_noon(2024, 3, 15).await;
    assert_eq!(system_key(demo::PASSWORD_SHA1, day(2024, 3, 15)), "c191b89132502577a63cfa7517dfa5380f6441c4");
    let r = t.authenticate(demo::LOGIN, "c191b89132502577a63cfa7517dfa5380f6441c4").await;
    assert_eq!(r.fault_code(), 0, "{}", r.body);
}

#[tokio::test]
async fn key_for_2024_03_16_is_accepted_next_day_and_the_old_one_refused() {
    // Checklist 1.
    let t = at_noon(2024, 3, 16).await;
    assert_eq!(t.authenticate(demo::LOGIN, "2d90c00cb9aa8651ef72025eb042ba806bee8751").await.fault_code(), 0);
    assert_eq!(t.authenticate(demo::LOGIN, "c191b89132502577a63cfa7517dfa5380f6441c4").await.fault_code(), 1);
}

#[tokio::test]
async fn keys_for_test_and_secret_on_2024_01_01() {
    // Checklist 2.
    let t = at_noon(2024, 1, 1).await;
    t.probe.add_account("konto-test", "test", "ds-test");
    t.probe.add_account("konto-secret", "secret", "ds-secret");
    assert_eq!(
        t.authenticate("konto-test", "22b53c7b1168a3cb57cd8de0dea4cc4e34634cc8").await.fault_code(),
        0
    );
    assert_eq!(
        t.authenticate("konto-secret", "f4024f4cb97cd005284e7dec4789082aed00c706").await.fault_code(),
        0
    );
}

#[tokio::test]
async fn utf8_password_key_is_accepted_and_iso_8859_2_key_refused_with_1() {
    // Checklist 3.
    let t = at_noon(2024, 3, 15).await;
    t.probe.add_account("konto-pl", "zażółć-gęślą", "ds-pl");
    assert_eq!(t.authenticate("konto-pl", "84e54e2e66adf812f1ab018e2e9680c12813fc60").await.fault_code(), 1);
    assert_eq!(t.authenticate("konto-pl", "14a8b3e2822c6cf15a8f9264ad26ad9e01fe57bf").await.fault_code(), 0);
}

#[tokio::test]
async fn unpadded_day_key_is_refused_with_1() {
    // Checklist 4: 5 March 2024 as `2024035`.
    let t = at_noon(2024, 3, 5).await;
    assert_eq!(t.authenticate(demo::LOGIN, "8b6d361279c598003a1c88d571fc1c8e7658a167").await.fault_code(), 1);
    assert_eq!(t.authenticate(demo::LOGIN, "72fe7b602393f583d6abd87eb5f81df6d0aa90e9").await.fault_code(), 0);
}

#[tokio::test]
async fn upper_cased_inner_digest_key_is_refused_with_1() {
    // Checklist 4.
    let t = at_noon(2024, 3, 15).await;
    assert_eq!(t.authenticate(demo::LOGIN, "f0ae167018503a2bb5fbcb110386b45c4cb1196d").await.fault_code(), 1);
}

#[tokio::test]
async fn key_date_is_the_warsaw_date() {
    // Checklist 5: 2024-03-15T23:30Z is 2024-03-16 00:30 in Warsaw.
    let t = sim_at(IdosellSettings::default(), SimClock::at(at(2024, 3, 15, 23, 30))).await;
    assert_eq!(t.authenticate(demo::LOGIN, "c191b89132502577a63cfa7517dfa5380f6441c4").await.fault_code(), 1);
    assert_eq!(t.authenticate(demo::LOGIN, "2d90c00cb9aa8651ef72025eb042ba806bee8751").await.fault_code(), 0);
}

#[tokio::test]
async fn key_zone_setting_changes_the_date() {
    // §3.3 [S]: any IANA zone.
    let s = settings(|s| s.system_key_time_zone = "UTC".into());
    let t = sim_at(s, SimClock::at(at(2024, 3, 15, 23, 30))).await;
    assert_eq!(t.authenticate(demo::LOGIN, "c191b89132502577a63cfa7517dfa5380f6441c4").await.fault_code(), 0);
}

#[tokio::test]
async fn unknown_zone_setting_fails_start() {
    let s = settings(|s| s.system_key_time_zone = "Mars/Olympus".into());
    let e = loyalty_sim::idosell::IdosellSim::start(s, SimClock::default()).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn yesterdays_key_is_refused_just_after_midnight_by_default() {
    // §3.3 [S] strict default: 2024-03-16 00:00:30 Warsaw.
    let t = sim_at(
        IdosellSettings::default(),
        SimClock::at(at(2024, 3, 15, 23, 0) + chrono::Duration::seconds(30)),
    )
    .await;
    assert_eq!(t.authenticate(demo::LOGIN, "c191b89132502577a63cfa7517dfa5380f6441c4").await.fault_code(), 1);
}

#[tokio::test]
async fn grace_setting_accepts_yesterdays_key_for_n_seconds_after_midnight() {
    // §3.3 [S] lenient alternative.
    let s = settings(|s| s.previous_day_key_grace_secs = 120);
    let clock = SimClock::at(at(2024, 3, 15, 23, 0) + chrono::Duration::seconds(30));
    let t = sim_at(s, clock.clone()).await;
    assert_eq!(t.authenticate(demo::LOGIN, "c191b89132502577a63cfa7517dfa5380f6441c4").await.fault_code(), 0);
    assert_eq!(t.authenticate(demo::LOGIN, "2d90c00cb9aa8651ef72025eb042ba806bee8751").await.fault_code(), 0);
    clock.advance(Duration::from_secs(120));
    assert_eq!(t.authenticate(demo::LOGIN, "c191b89132502577a63cfa7517dfa5380f6441c4").await.fault_code(), 1);
}

#[tokio::test]
async fn authenticate_answers_0_empty_fault_string_and_40_hex_session_key() {
    // Checklist 6.
    let t = sim().await;
    let r = t.authenticate(demo::LOGIN, &t.today_key()).await;
    assert_eq!((r.status, r.fault_code(), r.fault_string()), (200, 0, String::new()));
    let key = r.tag("sessionKey").unwrap();
    assert!(
        key.len() == 40 && key.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "{key}"
    );
}

#[tokio::test]
async fn wrong_login_or_key_answers_1() {
    // Checklist 6.
    let t = sim().await;
    assert_eq!(t.authenticate("nieznany", &t.today_key()).await.fault_code(), 1);
    assert_eq!(t.authenticate(demo::LOGIN, &"0".repeat(40)).await.fault_code(), 1);
    assert_eq!(t.authenticate(demo::LOGIN, &t.today_key().to_uppercase()).await.fault_code(), 1);
    let missing = t.raw(Gateway::Authenticate, &format!("<login>{}</login>", demo::LOGIN)).await;
    assert_eq!(missing.fault_code(), 1);
}

#[tokio::test]
async fn session_expiry_field_is_sent_only_when_named() {
    // §5 G1: an expiry is only "possibly present" (names table).
    let t = sim().await;
    assert!(t.authenticate(demo::LOGIN, &t.today_key()).await.tag("sessionExpires").is_none());
    let mut s = IdosellSettings::default();
    s.names.session_expiry = Some("sessionExpires".into());
    t.probe.set_settings(s);
    let r = t.authenticate(demo::LOGIN, &t.today_key()).await;
    assert_eq!(r.tag("sessionExpires").as_deref(), Some("2026-01-15 13:15:00"));
}

#[tokio::test]
async fn session_is_accepted_for_fifteen_minutes_then_answers_3() {
    // Checklist 7.
    let t = sim().await;
    let s = t.login().await;
    t.clock.advance(Duration::from_secs(15 * 60 - 1));
    assert_eq!(t.call_as(Gateway::GetCouriers, &s, demo::DROPSHIPPING_KEY, "").await.fault_code(), 0);
    t.clock.advance(Duration::from_secs(1));
    assert_eq!(t.call_as(Gateway::GetCouriers, &s, demo::DROPSHIPPING_KEY, "").await.fault_code(), 3);
}

#[tokio::test]
async fn absolute_lifetime_ignores_use() {
    // §3.5 [S] default: absolute from issue.
    let t = sim().await;
    let s = t.login().await;
    t.clock.advance(Duration::from_secs(10 * 60));
    assert_eq!(t.call_as(Gateway::GetCouriers, &s, demo::DROPSHIPPING_KEY, "").await.fault_code(), 0);
    t.clock.advance(Duration::from_secs(6 * 60));
    assert_eq!(t.call_as(Gateway::GetCouriers, &s, demo::DROPSHIPPING_KEY, "").await.fault_code(), 3);
}

#[tokio::test]
async fn sliding_setting_extends_the_session_on_use() {
    // §3.5 [S] alternative.
    let t = sim_with(settings(|s| s.session_expiry = SessionExpiry::Sliding)).await;
    let s = t.login().await;
    t.clock.advance(Duration::from_secs(10 * 60));
    assert_eq!(t.call_as(Gateway::GetCouriers, &s, demo::DROPSHIPPING_KEY, "").await.fault_code(), 0);
    t.clock.advance(Duration::from_secs(10 * 60));
    assert_eq!(t.call_as(Gateway::GetCouriers, &s, demo::DROPSHIPPING_KEY, "").await.fault_code(), 0);
    t.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(t.call_as(Gateway::GetCouriers, &s, demo::DROPSHIPPING_KEY, "").await.fault_code(), 3);
}

#[tokio::test]
async fn reauthenticate_leaves_older_keys_valid() {
    // §3.5 [S] default.
    let t = sim().await;
    let first = t.login().await;
    let second = t.login().await;
    assert_ne!(first, second);
    assert_eq!(t.call_as(Gateway::GetCouriers, &first, demo::DROPSHIPPING_KEY, "").await.fault_code(), 0);
    assert_eq!(t.probe.sessions_issued(demo::LOGIN), 2);
}

#[tokio::test]
async fn revoke_setting_invalidates_older_keys_on_reauthenticate() {
    // §3.5 [S] alternative.
    let t = sim_with(settings(|s| s.reauthenticate = Reauthenticate::RevokeOlderKeys)).await;
    let first = t.login().await;
    let second = t.login().await;
    assert_eq!(t.call_as(Gateway::GetCouriers, &first, demo::DROPSHIPPING_KEY, "").await.fault_code(), 3);
    assert_eq!(t.call_as(Gateway::GetCouriers, &second, demo::DROPSHIPPING_KEY, "").await.fault_code(), 0);
}

/// Minimal valid params per gateway, so only the keys decide the answer.
fn some_params(g: Gateway) -> String {
    let coffee = products(&[line(demo::COFFEE_INTERNAL, "internal", "1")]);
    match g {
        Gateway::CheckAvailability | Gateway::BasketImport => params(&coffee),
        Gateway::PlaceOrder => order(RECIPIENT_PL, demo::COURIER_DOMESTIC, None),
        Gateway::GetCouriersForOrder => {
            params(&format!("{coffee}<address><country>PL</country><postcode>00-838</postcode></address>"))
        }
        Gateway::SetClientAddress => params("<addressId>1</addressId><address><city>Łódź</city></address>"),
        _ => String::new(),
    }
}

#[tokio::test]
async fn every_gateway_but_authenticate_answers_4_without_or_with_a_wrong_dropshipping_key() {
    // Checklist 8.
    let t = sim().await;
    let s = t.login().await;
    for g in Gateway::ALL.into_iter().skip(1) {
        let missing = t.raw(g, &format!("<sessionKey>{s}</sessionKey>{}", some_params(g))).await;
        assert_eq!(missing.fault_code(), 4, "{g:?} {}", missing.body);
        assert_eq!(t.call_as(g, &s, "ds-wrong", &some_params(g)).await.fault_code(), 4, "{g:?}");
    }
}

#[tokio::test]
async fn a_bad_session_answers_3_whatever_the_dropshipping_key() {
    // Checklist 8: the session is checked first.
    let t = sim().await;
    for g in Gateway::ALL.into_iter().skip(1) {
        for ds in [demo::DROPSHIPPING_KEY, "ds-wrong", ""] {
            let r = t.call_as(g, &"ab".repeat(20), ds, &some_params(g)).await;
            assert_eq!(r.fault_code(), 3, "{g:?} {ds}");
        }
        let r = t.raw(g, &format!("<dropshippingKey>{}</dropshippingKey>", demo::DROPSHIPPING_KEY)).await;
        assert_eq!(r.fault_code(), 3, "{g:?} without sessionKey");
    }
}

#[tokio::test]
async fn account_without_dropshipping_answers_4_even_with_its_key() {
    // §3.4 [S]: dropshipping not enabled → 4.
    let t = sim().await;
    let date = t.clock.now().with_timezone(&chrono_tz::Europe::Warsaw).date_naive();
    let inner = loyalty_sim::idosell::sha1_hex(demo::DISABLED_PASSWORD.as_bytes());
    let r = t.authenticate(demo::DISABLED_LOGIN, &system_key(&inner, date)).await;
    assert_eq!(r.fault_code(), 0);
    let s = r.tag("sessionKey").unwrap();
    assert_eq!(
        t.call_as(Gateway::GetCouriers, &s, demo::DISABLED_DROPSHIPPING_KEY, "").await.fault_code(),
        4
    );
}

#[tokio::test]
async fn another_accounts_dropshipping_key_answers_4() {
    let t = sim().await;
    let s = t.login().await;
    assert_eq!(t.call_as(Gateway::GetCouriers, &s, demo::OTHER_DROPSHIPPING_KEY, "").await.fault_code(), 4);
}
