//! Stamp cards are usable only inside their validity window, both ends on the injected clock:
//! K2 hides a card outside it, K3 answers `is_ok: false` and T1 refuses the stamp line naming
//! `stamp_card_id` (diller.md §4.4, §5.5, §5.8, §6.1 rule 9).

use chrono::{TimeZone, Utc};
use loyalty_sim::{
    diller::{demo, DillerSettings, DillerSim},
    SimClock,
};
use serde_json::{json, Value};

use super::{member_path, sale, with, T};

/// A simulator on `clock`, its token taken once the clock is where the test wants it.
async fn sim_on(clock: &SimClock, at: chrono::DateTime<Utc>) -> T {
    let (server, probe) =
        DillerSim::start_with_probe(DillerSettings::default(), clock.clone()).await.unwrap();
    clock.set(at);
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().unwrap();
    let mut t = T { server, probe, http, token: String::new() };
    t.token = t.fetch_token().await;
    t
}

fn reservation() -> Value {
    json!({"channel": "web", "external_transaction_id": "Order-W"})
}

fn coffee_stamps(act: &str) -> Value {
    json!([{"stamp_card_id": demo::STAMP_CARD_COFFEE, "action": act, "count": 1}])
}

fn listed(cards: &Value) -> bool {
    cards.as_array().unwrap().iter().any(|c| c["id"] == demo::STAMP_CARD_COFFEE)
}

/// Past the seeded cards' `valid_to` (2100-01-01 00:00 +01:00).
fn after_the_window() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2100, 6, 1, 12, 0, 0).unwrap()
}

/// Before the seeded cards' `valid_from` (2025-01-01 00:00 +01:00).
fn before_the_window() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 12, 31, 22, 59, 59).unwrap()
}

async fn assert_card_unusable(t: &T) {
    let (_, cards) = t.get(&member_path("/stamp-cards")).await;
    assert!(!listed(&cards), "K2 hides the inactive card: {cards}");
    let k3 = format!("/stamp-cards/{}/reserve", demo::STAMP_CARD_COFFEE);
    let (s, v) = t.post(&member_path(&k3), reservation()).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(false)), "{v}");
    assert!(v["details"].as_str().unwrap().contains("not active"), "{v}");
    assert!(t.probe.stamp_reservations(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE).is_empty());
    let (s, v) = t.t1(with(sale("Order-W"), "stamp_cards", coffee_stamps("collected"))).await;
    assert_eq!(s.as_u16(), 400, "{v}");
    assert!(v["errors"]["stamp_cards[0].stamp_card_id"].is_array(), "T1 names the stamp card: {v}");
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE).unwrap_or(0), 0);
}

#[tokio::test]
async fn an_expired_stamp_card_takes_no_reservation_and_no_stamps() {
    let clock = SimClock::default();
    let t = sim_on(&clock, after_the_window()).await;
    assert_card_unusable(&t).await;
}

#[tokio::test]
async fn a_stamp_card_not_yet_valid_takes_no_reservation_and_no_stamps() {
    let clock = SimClock::default();
    let t = sim_on(&clock, before_the_window()).await;
    assert_card_unusable(&t).await;
}

#[tokio::test]
async fn an_expired_stamp_card_cannot_be_spent_on_a_sale_line_either() {
    let clock = SimClock::default();
    let t = sim_on(&clock, SimClock::default().now()).await;
    // Stamps collected while the card was valid...
    let six = json!([{"stamp_card_id": demo::STAMP_CARD_COFFEE, "action": "collected", "count": 6}]);
    assert_eq!(t.t1(with(sale("Order-1"), "stamp_cards", six)).await.0, 200);
    clock.set(after_the_window());
    let t = T { token: t.fetch_token().await, ..t };
    // ...cannot be spent once it has expired, at line level too.
    let mut body = sale("Order-2");
    body["details"][0]["stamp_cards"] = coffee_stamps("deducted");
    let (s, v) = t.t1(body).await;
    assert_eq!(s.as_u16(), 400, "{v}");
    assert!(v["errors"]["details[0].stamp_cards[0].stamp_card_id"].is_array(), "{v}");
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, demo::STAMP_CARD_COFFEE), Some(6));
}

#[tokio::test]
async fn a_stamp_card_is_usable_at_both_ends_of_its_window() {
    let clock = SimClock::default();
    let from = Utc.with_ymd_and_hms(2024, 12, 31, 23, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2099, 12, 31, 23, 0, 0).unwrap();
    for (at, ext) in [(from, "Order-F"), (to, "Order-T")] {
        let t = sim_on(&clock, at).await;
        let k3 = format!("/stamp-cards/{}/reserve", demo::STAMP_CARD_COFFEE);
        let (s, v) = t.post(&member_path(&k3), reservation()).await;
        assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "at {at}: {v}");
        let (s, v) = t.t1(with(sale(ext), "stamp_cards", coffee_stamps("collected"))).await;
        assert_eq!(s.as_u16(), 200, "at {at}: {v}");
    }
}
