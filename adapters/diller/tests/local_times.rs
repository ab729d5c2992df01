//! Offset-less coupon dates read in the store's time zone (§6.3: date-times may come without an
//! offset) around daylight-saving transitions: a local time the zone skips or shows twice still
//! gives a validity window, and never fails the member's offer list.

use chrono::{DateTime, TimeZone, Utc};
use loyalty_core::{Currency, Offer};
use loyalty_diller::{decode, wire};

fn oslo() -> wire::OfferContext {
    wire::OfferContext { time_zone: chrono_tz::Europe::Oslo, currency: Currency::NOK }
}

/// A C2 reply with one coupon valid from `valid_from` to `valid_to`, written as given.
fn coupons(valid_from: &str, valid_to: &str) -> Vec<Offer> {
    let body = format!(
        r#"[{{"id":1,"code":"SPRING","title":"Spring","valid_from":"{valid_from}","valid_to":"{valid_to}",
        "type":"Standard","discount_type":"Percentage","discount_value":10.0,"max_redemptions":1,
        "product_ids":[],"times_redeemed":0}}]"#
    );
    decode::member_coupons("offers.list", body.as_bytes(), &oslo()).expect("the offer list reads")
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

// Europe/Oslo, 2026-03-29: 02:00 local jumps to 03:00 (01:00 UTC); 2026-10-25: 03:00 local
// goes back to 02:00 (01:00 UTC), so 02:00-03:00 happens twice.

#[test]
fn a_start_in_the_spring_forward_gap_begins_when_the_gap_ends() {
    let offers = coupons("2026-03-29T02:30:00", "2026-04-30T23:59:59");
    assert_eq!(offers[0].valid_from, Some(utc(2026, 3, 29, 1, 0)), "03:00 +02:00, the first instant after");
    // Either side of the gap a local time keeps its one instant.
    let offers = coupons("2026-03-29T01:59:59", "2026-03-29T03:00:00");
    assert_eq!(offers[0].valid_from, Some(Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 59).unwrap()));
    assert_eq!(offers[0].valid_to, Some(utc(2026, 3, 29, 1, 0)));
}

#[test]
fn an_end_in_the_spring_forward_gap_ends_when_the_gap_ends() {
    let offers = coupons("2026-03-01T00:00:00", "2026-03-29T02:30:00");
    assert_eq!(offers[0].valid_to, Some(utc(2026, 3, 29, 1, 0)));
}

#[test]
fn a_fall_back_time_starts_at_its_first_and_ends_at_its_second_occurrence() {
    // 02:30 local is 00:30 UTC (summer time, +02:00) and again 01:30 UTC (+01:00).
    let offers = coupons("2026-10-25T02:30:00", "2026-10-25T02:30:00");
    assert_eq!(offers[0].valid_from, Some(utc(2026, 10, 25, 0, 30)));
    assert_eq!(offers[0].valid_to, Some(utc(2026, 10, 25, 1, 30)));
}
