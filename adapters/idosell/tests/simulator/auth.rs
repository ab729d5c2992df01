//! Keys, login and sessions (§3; checklist 1-8, 25).

use std::sync::Arc;
use std::time::Duration;

use loyalty_core::{ErrorKind, ManualClock, Provider};
use loyalty_http::Secret;
use loyalty_idosell::auth::sha1_hex;
use loyalty_idosell::CodeType;
use loyalty_sim::idosell::{demo, IdosellSettings};
use loyalty_sim::SimClock;

use crate::common::*;

async fn stock_ok(adapter: &loyalty_idosell::IdosellAdapter) -> Result<(), loyalty_core::Error> {
    adapter.fulfilment().unwrap().stock(&ctx(), &[line(demo::COFFEE_INTERNAL, "1")]).await.map(|_| ())
}

#[tokio::test]
async fn login_on_the_worked_example_day_is_accepted() {
    // Checklist 1 and 6: on 2024-03-15 the demo password's key is c191…; G1 answers a session.
    let env = start_at(IdosellSettings::default(), SimClock::at(at(2024, 3, 15, 12, 0, 0))).await;
    stock_ok(env.adapter()).await.unwrap();
    assert_eq!(env.count("G1"), 1);
    assert_eq!(env.adapter().sessions_opened(), 1);
}

#[tokio::test]
async fn an_account_with_a_non_ascii_password_logs_in_with_the_utf8_key() {
    // Checklist 3: zażółć-gęślą hashed as UTF-8 is accepted; its ISO-8859-2 digest is refused (1).
    let env = start_at(IdosellSettings::default(), SimClock::at(at(2024, 3, 15, 12, 0, 0))).await;
    assert!(env.sim.probe.add_account("sklep-pl", "zażółć-gęślą", demo::DROPSHIPPING_KEY));
    let mut config = env.config();
    config.login = "sklep-pl".into();
    config.password_sha1 = Secret::new(sha1_hex("zażółć-gęślą".as_bytes()));
    let clock = Arc::new(loyalty_idosell::simulated::SimulatedClock(env.clock.clone()));
    stock_ok(&env.other_adapter(config.clone(), clock.clone())).await.unwrap();

    let latin2: Vec<u8> = vec![0x7a, 0x61, 0xbf, 0xf3, 0xb3, 0xe6, 0x2d, 0x67, 0xea, 0xb6, 0x6c, 0xb1];
    config.password_sha1 = Secret::new(sha1_hex(&latin2));
    let err = stock_ok(&env.other_adapter(config, clock)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{err}");
    assert_eq!(err.vendor_code(), Some("1"));
}

#[tokio::test]
async fn an_upper_case_digest_in_the_configuration_still_logs_in() {
    // Checklist 4 and 25: the inner digest can replace the password; it enters the key lower case.
    let env = start().await;
    let config = loyalty_idosell::IdosellConfig::builder()
        .with_base_url(env.sim.server.base_url())
        .with_login(demo::LOGIN)
        .with_password_sha1(Secret::new(demo::PASSWORD_SHA1.to_uppercase()))
        .with_dropshipping_key(Secret::new(demo::DROPSHIPPING_KEY))
        .with_code_type(CodeType::Internal)
        .build()
        .unwrap();
    let clock = Arc::new(loyalty_idosell::simulated::SimulatedClock(env.clock.clone()));
    stock_ok(&env.other_adapter(config, clock)).await.unwrap();
}

#[tokio::test]
async fn the_key_date_is_taken_in_warsaw_not_utc() {
    // Checklist 5: at 2024-03-15T23:30:00Z the expected key is the 20240316 one.
    let env = start_at(IdosellSettings::default(), SimClock::at(at(2024, 3, 15, 23, 30, 0))).await;
    stock_ok(env.adapter()).await.unwrap();
    // An adapter told to date its key in UTC sends the 20240315 key, which is refused; 23:30
    // is half an hour from midnight, so no second try with the other day's key.
    let mut utc = env.config();
    utc.key_time_zone = chrono_tz::UTC;
    let clock = Arc::new(loyalty_idosell::simulated::SimulatedClock(env.clock.clone()));
    let err = stock_ok(&env.other_adapter(utc, clock)).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Unauthorized, Some("1")));
    assert_eq!(env.count("G1"), 2, "one login each, no retry outside the midnight window");
}

#[tokio::test]
async fn a_wrong_login_is_unauthorized_and_not_retried() {
    // Checklist 6.
    let env = start().await;
    let mut config = env.config();
    config.login = "nobody".into();
    let clock = Arc::new(loyalty_idosell::simulated::SimulatedClock(env.clock.clone()));
    let err = stock_ok(&env.other_adapter(config, clock)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized);
    assert_eq!(env.count("G1"), 1);
    assert_eq!(env.count("G2"), 0, "nothing is sent without a session");
}

#[tokio::test]
async fn a_login_a_minute_early_for_warsaw_midnight_retries_with_the_next_days_key() {
    // §3.3: the adapter's clock says 23:59:30 in Warsaw, the wholesaler's 00:00:30.
    let env = start_at(IdosellSettings::default(), SimClock::at(at(2024, 3, 15, 23, 0, 30))).await;
    let skewed = Arc::new(Fixed(ManualClock::at(at(2024, 3, 15, 22, 59, 30))));
    let adapter = env.other_adapter(env.config(), skewed);
    stock_ok(&adapter).await.unwrap();
    assert_eq!(env.count("G1"), 2, "the 20240315 key was refused, the 20240316 one accepted");
    assert_eq!(env.count("G2"), 1);
}

#[tokio::test]
async fn a_skew_outside_two_minutes_of_midnight_is_not_papered_over() {
    let env = start_at(IdosellSettings::default(), SimClock::at(at(2024, 3, 15, 23, 5, 0))).await;
    let skewed = Arc::new(Fixed(ManualClock::at(at(2024, 3, 15, 22, 55, 0))));
    let err = stock_ok(&env.other_adapter(env.config(), skewed)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized);
    assert_eq!(env.count("G1"), 1);
}

#[tokio::test]
async fn the_session_is_renewed_twelve_minutes_after_login_not_before() {
    // Checklist 7: a key lives 15 minutes of simulator time; the adapter renews at ~12.
    let env = start().await;
    stock_ok(env.adapter()).await.unwrap();
    env.clock.advance(Duration::from_secs(11 * 60 + 59));
    stock_ok(env.adapter()).await.unwrap();
    assert_eq!(env.count("G1"), 1);
    env.clock.advance(Duration::from_secs(1));
    stock_ok(env.adapter()).await.unwrap();
    assert_eq!(env.count("G1"), 2);
    assert!(env.entries("G2").iter().all(|e| e.status == 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_authenticate() {
    // Checklist 7.
    let env = Arc::new(start().await);
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let env = env.clone();
            tokio::spawn(async move { stock_ok(env.adapter()).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(env.count("G1"), 1);
    assert_eq!(env.count("G2"), 20);
}

#[tokio::test]
async fn a_session_fault_reauthenticates_once_and_replays_the_write() {
    // Checklist 7 and 19: the wholesaler ends sessions after 5 minutes, not 15; the adapter
    // still holds its key, gets fault 3, logs in again and replays placeOrder once.
    let env = start_with(settings(serde_json::json!({"session_lifetime_secs": 300}))).await;
    stock_ok(env.adapter()).await.unwrap();
    env.clock.advance(Duration::from_secs(6 * 60));
    let placed = env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-SESSION")).await.unwrap();
    assert!(!placed.duplicate);
    assert_eq!(env.count("G1"), 2);
    // G3 refused with the stale key and replayed; G4 went out once with the fresh one.
    assert_eq!(env.routes(), ["G1", "G2", "G3", "G1", "G3", "G4"]);
    assert_eq!(env.sim.probe.orders(demo::LOGIN).len(), 2, "the seeded order and this one");
}

#[tokio::test]
async fn a_wrong_dropshipping_key_is_forbidden_without_a_new_login() {
    // Checklist 8: valid session, wrong dropshippingKey → 4.
    let env = start().await;
    let mut config = env.config();
    config.dropshipping_key = Secret::new("ds-wrong-key-0000");
    let clock = Arc::new(loyalty_idosell::simulated::SimulatedClock(env.clock.clone()));
    let err = stock_ok(&env.other_adapter(config, clock)).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Forbidden, Some("4")));
    assert_eq!(env.count("G1"), 1);
}

#[tokio::test]
async fn an_account_without_dropshipping_is_forbidden() {
    // Checklist 8: the account logs in, but every gateway answers 4.
    let env = start().await;
    let mut config = env.config();
    config.login = demo::DISABLED_LOGIN.into();
    config.password_sha1 = Secret::new(sha1_hex(demo::DISABLED_PASSWORD.as_bytes()));
    config.dropshipping_key = Secret::new(demo::DISABLED_DROPSHIPPING_KEY);
    let clock = Arc::new(loyalty_idosell::simulated::SimulatedClock(env.clock.clone()));
    let adapter = env.other_adapter(config, clock);
    let err =
        adapter.fulfilment().unwrap().couriers(&ctx(), &loyalty_core::CourierQuery::all()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Forbidden);
}

#[tokio::test]
async fn renumbered_faults_keep_their_classes_through_the_shared_table() {
    // §9.3: fault numbers live in the one names table; renumbering the simulator's session and
    // dropshipping-key faults changes the adapter's table with them.
    let json = serde_json::json!({"session_lifetime_secs": 300, "names": {"faults": {"session": 17, "dropshipping": 40}}});
    let env = start_with(settings(json)).await;
    stock_ok(env.adapter()).await.unwrap();
    env.clock.advance(Duration::from_secs(6 * 60));
    stock_ok(env.adapter()).await.unwrap();
    assert_eq!(env.count("G1"), 2, "fault 17 is the session class: one new login, one replay");
    let mut config = env.config();
    config.dropshipping_key = Secret::new("ds-wrong-key-0000");
    let clock = Arc::new(loyalty_idosell::simulated::SimulatedClock(env.clock.clone()));
    let err = stock_ok(&env.other_adapter(config, clock)).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Forbidden, Some("40")));
}

#[tokio::test]
async fn a_session_fault_on_place_order_itself_reauthenticates_and_replays_it_once() {
    // Checklist 19 (second half): G4 answers the session fault (3) once; the wholesaler refused
    // before acting, so the adapter logs in again and replays placeOrder alone (the basket G3
    // filled is still there), never asking G7, and one order results, not a duplicate.
    let env = start().await;
    env.sim.probe.fail_call(loyalty_sim::idosell::Gateway::PlaceOrder, 1, 3);
    let placed = env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-G4-SESSION")).await.unwrap();
    assert!(!placed.duplicate);
    assert_eq!(env.routes(), ["G1", "G3", "G4", "G1", "G4"]);
    assert_eq!(env.count("G7"), 0, "a session fault is no unknown outcome: no lookup");
    assert_eq!(env.adapter().sessions_opened(), 2);
    assert_eq!(env.sim.probe.sessions_issued(demo::LOGIN), 2, "the replay went out under a new session");
    assert_eq!(env.sim.probe.calls(loyalty_sim::idosell::Gateway::PlaceOrder), 2);
    assert!(env.entries("G4").iter().all(|e| e.status == 200));
    let orders = env.sim.probe.orders(demo::LOGIN);
    assert_eq!(orders.len(), 2, "the seeded order and one placement");
    assert_eq!(placed.order_id.as_str(), orders[1]);
    assert_eq!(env.sim.probe.reserved(demo::COFFEE_INTERNAL), Some(dec("2")), "reserved once");
    assert_eq!(env.sim.probe.order_status(placed.order_id.as_str()).as_deref(), Some("new"));
}

#[tokio::test]
async fn a_second_session_fault_on_the_replayed_place_order_is_unauthorized() {
    // Checklist 19: the replay is made once; when it too answers 3 the call fails as
    // Unauthorized with the vendor's code, G4 went out exactly twice, and nothing is looked up
    // (a session fault is a refusal before acting, not an unknown outcome).
    let env = start().await;
    env.sim.probe.fail_call(loyalty_sim::idosell::Gateway::PlaceOrder, 1, 3);
    env.sim.probe.fail_call(loyalty_sim::idosell::Gateway::PlaceOrder, 2, 3);
    let reserved = env.sim.probe.reserved(demo::COFFEE_INTERNAL);
    let err = env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-G4-SESSION-2")).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Unauthorized, Some("3")), "{err}");
    assert_eq!(err.effect(), loyalty_core::WriteEffect::RejectedBeforeActing, "{err}");
    assert_eq!(env.count("G4"), 2);
    assert_eq!(env.count("G7"), 0);
    assert_eq!(env.routes(), ["G1", "G3", "G4", "G1", "G4"]);
    assert_eq!(env.sim.probe.orders(demo::LOGIN).len(), 1, "only the seeded order");
    assert_eq!(env.sim.probe.reserved(demo::COFFEE_INTERNAL), reserved, "nothing reserved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_at_the_renewal_point_share_one_new_authenticate() {
    // Checklist 7: after login, 20 stock checks at once when the session is 12 minutes old
    // (the renewal point) renew it once between them: two Authenticate calls in all.
    let env = Arc::new(start().await);
    stock_ok(env.adapter()).await.unwrap();
    assert_eq!(env.count("G1"), 1);
    env.clock.advance(Duration::from_secs(12 * 60));
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let env = env.clone();
            tokio::spawn(async move { stock_ok(env.adapter()).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(env.count("G1"), 2, "{:?}", env.routes());
    assert_eq!(env.adapter().sessions_opened(), 2);
    assert_eq!(env.sim.probe.sessions_issued(demo::LOGIN), 2);
    assert_eq!(env.count("G2"), 21);
    assert!(env.entries("G2").iter().all(|e| e.status == 200));
    let routes = env.routes();
    assert_eq!(&routes[..3], ["G1", "G2", "G1"], "the renewal comes before any of the 20");
}
