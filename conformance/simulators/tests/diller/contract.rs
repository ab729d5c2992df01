//! Contract audit fixes, over HTTP: fields the swagger leaves optional are optional (with the
//! stricter reading behind named settings), every other simulator choice is a named setting,
//! K4 can be removed, a reversal keeps a stamp card within its size, double bookings are kept
//! whole, and negative sales take points back.

use loyalty_sim::diller::{demo, DillerSettings, DuplicateTransaction, RestartOn, SearchKeys, StampLock};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{member_path, sale, sim, sim_with, with, STORE};

fn stamps(card: i64, act: &str, n: i64) -> Value {
    json!([{"stamp_card_id": card, "action": act, "count": n}])
}

fn settings(f: impl FnOnce(&mut DillerSettings)) -> DillerSettings {
    let mut s = DillerSettings::default();
    f(&mut s);
    s
}

/// A negative sale of one coffee line: `total` and the line total are `amount` (below zero).
fn negative_sale(ext: &str, amount: i64) -> Value {
    json!({
        "external_id": ext, "total": amount, "currency": "NOK",
        "details": [{"product": {"external_id": "COF-500"}, "quantity": -1, "unit_price": -amount,
                     "total_price": amount}]
    })
}

// ------------------------------------------------------------------ optional fields (§5.2-§5.5)

#[tokio::test]
async fn a_coupon_reservation_without_a_transaction_id_is_kept_under_no_id_and_released_without_one() {
    let t = sim().await;
    let reserve = member_path("/coupons/SUMMER10/reserve");
    let cancel = member_path("/coupons/SUMMER10/cancel-reservation");
    // CouponReservationRequest: every field optional (§4.3 C4 [SDK]).
    let (s, v) = t.post(&reserve, json!({})).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.probe.reservations("SUMMER10"), [""]);
    // It blocks other transactions like any reservation.
    assert_eq!(t.post(&reserve, json!({"external_transaction_id": "B"})).await.1["is_ok"], false);
    // A release naming another id leaves it; one without an id frees it (C5 body optional).
    assert_eq!(t.post(&cancel, json!({"external_transaction_id": "B"})).await.1["is_ok"], true);
    assert_eq!(t.probe.reservations("SUMMER10"), [""]);
    assert_eq!(t.post(&cancel, json!({"external_transaction_id": null})).await.1["is_ok"], true);
    assert!(t.probe.reservations("SUMMER10").is_empty());
    assert_eq!(t.post(&reserve, json!({"external_transaction_id": "B"})).await.1["is_ok"], true);
}

#[tokio::test]
async fn a_stamp_reservation_without_a_transaction_id_is_accepted_and_released_without_one() {
    let t = sim().await;
    let (s, v) = t.post(&member_path("/stamp-cards/17/reserve"), json!({"channel": "POS"})).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.probe.stamp_reservations(demo::MEMBER_ID, 17), [""]);
    assert_eq!(t.post(&member_path("/stamp-cards/17/cancel-reservation"), json!({})).await.0, 200);
    assert!(t.probe.stamp_reservations(demo::MEMBER_ID, 17).is_empty());
}

#[tokio::test]
async fn reservations_require_a_transaction_id_only_when_set() {
    let t = sim_with(settings(|s| s.reservations_require_transaction_id = true)).await;
    for path in [
        "/coupons/SUMMER10/reserve",
        "/coupons/SUMMER10/cancel-reservation",
        "/stamp-cards/17/reserve",
        "/stamp-cards/17/cancel-reservation",
    ] {
        let (s, v) = t.post(&member_path(path), json!({"channel": "POS"})).await;
        assert_eq!(s, 400, "{path}: {v}");
        assert!(v["errors"]["external_transaction_id"].is_array(), "{path}: {v}");
    }
}

#[tokio::test]
async fn a_department_without_id_or_name_is_created_unless_set_strict() {
    let t = sim().await;
    let (s, v) = t.post(&format!("{STORE}/departments"), json!({"name": "Register 3"})).await;
    assert_eq!(s, 200, "{v}");
    let created = v.as_array().unwrap().last().unwrap().clone();
    assert!(created["id"].as_str().is_some_and(|id| id.starts_with("d_")), "{created}");
    assert_eq!(created["name"], "Register 3");
    let (s, v) = t.post(&format!("{STORE}/departments"), json!({"id": "pos-9"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.as_array().unwrap().last().unwrap(), &json!({"id": "pos-9", "name": null}));

    let t = sim_with(settings(|s| s.departments_require_id_and_name = true)).await;
    let (s, v) = t.post(&format!("{STORE}/departments"), json!({})).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["id"].is_array() && v["errors"]["name"].is_array(), "{v}");
}

#[tokio::test]
async fn an_otp_verification_without_a_code_is_not_ok_unless_set_strict() {
    let t = sim().await;
    t.post(&member_path("/login-otp"), json!({})).await;
    let (s, v) = t.post(&member_path("/login-otp-verification"), json!({})).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(false)), "{v}");
    let phone = json!({"country_code": "+47", "number": "49999999"});
    t.post(&member_path("/reset-phone"), phone.clone()).await;
    let (s, v) = t.post(&member_path("/reset-phone-verification"), json!({"phone": phone})).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(false)), "{v}");
    let (s, v) = t.post(&member_path("/reset-phone-verification"), json!({"otp_code": demo::OTP_CODE})).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(false)), "{v}");

    let t = sim_with(settings(|s| s.otp_verification_fields_required = true)).await;
    for path in ["/login-otp-verification", "/reset-phone-verification"] {
        let (s, v) = t.post(&member_path(path), json!({"phone": phone})).await;
        assert_eq!(s, 400, "{path}");
        assert!(v["errors"]["otp_code"].is_array(), "{path}: {v}");
    }
    let (s, v) = t.post(&member_path("/reset-phone-verification"), json!({"otp_code": demo::OTP_CODE})).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["phone"].is_array(), "{v}");
}

// ------------------------------------------------------------------ K4 removed (§4.4)

#[tokio::test]
async fn k4_answers_404_once_removed() {
    let t = sim_with(settings(|s| s.k4_removed = true)).await;
    let reserve = member_path("/stamp-cards/17/reserve");
    assert_eq!(t.post(&reserve, json!({"external_transaction_id": "Q"})).await.1["is_ok"], true);
    let (s, _) = t
        .post(&member_path("/stamp-cards/17/cancel-reservation"), json!({"external_transaction_id": "Q"}))
        .await;
    assert_eq!(s, 404);
    // The reservation lives until the sale with the same id (§4.4 [I]).
    assert_eq!(t.probe.stamp_reservations(demo::MEMBER_ID, 17), ["Q"]);
    assert_eq!(t.t1(sale("Q")).await.0, 200);
    assert!(t.probe.stamp_reservations(demo::MEMBER_ID, 17).is_empty());
}

// ------------------------------------------------------------------ reversals keep cards whole

#[tokio::test]
async fn cancelling_a_redemption_after_later_stamps_never_overfills_a_restartable_card() {
    let t = sim().await;
    assert_eq!(t.t1(with(sale("A"), "stamp_cards", stamps(17, "collected", 3))).await.0, 200);
    assert_eq!(t.t1(with(sale("B"), "stamp_cards", stamps(17, "deducted", 3))).await.0, 200);
    assert_eq!(t.t1(with(sale("C"), "stamp_cards", stamps(17, "collected", 5))).await.0, 200);
    assert_eq!(t.post(&format!("{STORE}/transactions/B/cancel"), json!({})).await.0, 200);
    // 5 + 3 given back would be 8 of 6: the card stands full, waiting for its reward.
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(6));
    let (_, cards) = t.get(&member_path("/stamp-cards")).await;
    let card = cards.as_array().unwrap().iter().find(|c| c["id"] == 17).cloned().unwrap();
    assert!(card["stamps_collected"].as_u64() <= card["required_stamps"].as_u64(), "{card}");

    // Restarting on fill, the overflow carries over instead.
    let t = sim_with(settings(|s| s.restartable_card_restarts_on = RestartOn::Fill)).await;
    t.t1(with(sale("A"), "stamp_cards", stamps(17, "collected", 3))).await;
    t.t1(with(sale("B"), "stamp_cards", stamps(17, "deducted", 3))).await;
    t.t1(with(sale("C"), "stamp_cards", stamps(17, "collected", 5))).await;
    assert_eq!(t.post(&format!("{STORE}/transactions/B/cancel"), json!({})).await.0, 200);
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(2));
}

#[tokio::test]
async fn cancelling_a_deduction_never_overfills_a_one_time_card() {
    let t = sim().await;
    t.t1(with(sale("A"), "stamp_cards", stamps(18, "collected", 2))).await;
    t.t1(with(sale("B"), "stamp_cards", stamps(18, "deducted", 2))).await;
    t.t1(with(sale("C"), "stamp_cards", stamps(18, "collected", 3))).await;
    assert_eq!(t.post(&format!("{STORE}/transactions/B/cancel"), json!({})).await.0, 200);
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 18), Some(4));
}

// ------------------------------------------------------------------ double booking (§7.5)

#[tokio::test]
async fn a_double_booking_keeps_both_and_a_cancel_reverses_both() {
    let t = sim_with(settings(|s| s.duplicate_transaction = DuplicateTransaction::Accept)).await;
    let mut body = with(sale("Order-1"), "coupon_codes", json!(["COFFEE20"]));
    body["stamp_cards"] = stamps(17, "collected", 2);
    assert_eq!(t.t1(body.clone()).await.0, 200);
    assert_eq!(t.t1(body).await.0, 200);
    assert_eq!(t.probe.transaction_bookings("Order-1"), 2);
    assert_eq!(t.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "COFFEE20"), Some(2));
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(4));
    assert_eq!(t.probe.member_points(demo::MEMBER_ID), Some(Decimal::from(250 + 349 * 2)));
    assert_eq!(t.post(&format!("{STORE}/transactions/Order-1/cancel"), json!({})).await.0, 200);
    assert_eq!(t.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "COFFEE20"), Some(0));
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(0));
    assert_eq!(t.probe.member_points(demo::MEMBER_ID), Some(Decimal::from(250)));
    assert_eq!(t.probe.transaction_cancelled("Order-1"), Some(true));
    assert_eq!(t.post(&format!("{STORE}/transactions/Order-1/cancel"), json!({})).await.0, 400);
}

#[tokio::test]
async fn a_refund_of_a_double_booking_may_reach_both_bookings() {
    let t = sim_with(settings(|s| s.duplicate_transaction = DuplicateTransaction::Accept)).await;
    t.t1(sale("Order-1")).await;
    t.t1(sale("Order-1")).await;
    let refund = |id: &str, total: i64| json!({"external_id": id, "total": total, "currency": "NOK"});
    let path = member_path("/transactions/Order-1/refund");
    assert_eq!(t.post(&path, refund("R-1", 500)).await.0, 200);
    assert_eq!(t.probe.transaction_refunded("Order-1"), Some(Decimal::from(500)));
    assert_eq!(t.probe.member_points(demo::MEMBER_ID), Some(Decimal::from(250 + 698 - 500)));
    assert_eq!(t.post(&path, refund("R-2", 199)).await.0, 400);
    assert_eq!(t.post(&path, refund("R-2", 198)).await.0, 200);
}

// ------------------------------------------------------------------ negative sales (docs/architecture.md, returns)

#[tokio::test]
async fn a_negative_sale_takes_points_back_but_never_below_zero() {
    let t = sim().await;
    assert_eq!(t.t1(sale("Order-1")).await.0, 200);
    assert_eq!(t.probe.member_points(demo::MEMBER_ID), Some(Decimal::from(599)));
    let (s, v) = t.t1(negative_sale("Return-1", -100)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(t.probe.member_points(demo::MEMBER_ID), Some(Decimal::from(499)));
    assert_eq!(t.t1(negative_sale("Return-2", -1000)).await.0, 200);
    assert_eq!(t.probe.member_points(demo::MEMBER_ID), Some(Decimal::ZERO));
    // Cancelling it gives back what it took, not what it asked for.
    assert_eq!(t.post(&format!("{STORE}/transactions/Return-2/cancel"), json!({})).await.0, 200);
    assert_eq!(t.probe.member_points(demo::MEMBER_ID), Some(Decimal::from(499)));

    let t = sim_with(settings(|s| s.negative_totals_take_points_back = false)).await;
    assert_eq!(t.t1(negative_sale("Return-1", -100)).await.0, 200);
    assert_eq!(t.probe.member_points(demo::MEMBER_ID), Some(Decimal::from(250)));
}

// ------------------------------------------------------------------ simulator choices as settings

#[tokio::test]
async fn a_foreign_currency_is_refused_unless_set_otherwise() {
    let t = sim().await;
    let (s, v) = t.t1(with(sale("Order-1"), "currency", json!("SEK"))).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["currency"].is_array(), "{v}");
    let t = sim_with(settings(|s| s.reject_foreign_currency = false)).await;
    assert_eq!(t.t1(with(sale("Order-1"), "currency", json!("SEK"))).await.0, 200);
}

#[tokio::test]
async fn unknown_departments_are_refused_unless_set_otherwise() {
    let t = sim().await;
    assert_eq!(t.t1(with(sale("Order-1"), "department_id", json!("nope"))).await.0, 400);
    let enroll = json!({"phone": {"country_code": "+47", "number": "45555555"}, "department_id": "nope"});
    assert_eq!(t.post(&format!("{STORE}/members/enroll"), enroll.clone()).await.0, 400);
    let t = sim_with(settings(|s| s.reject_unknown_departments = false)).await;
    assert_eq!(t.t1(with(sale("Order-1"), "department_id", json!("nope"))).await.0, 200);
    let (s, v) = t.post(&format!("{STORE}/members/enroll"), enroll).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["department_ids"], json!(["nope"]));
}

#[tokio::test]
async fn several_search_keys_must_all_match_when_set() {
    let both = format!("{STORE}/members/search?phone=%2B4741234567&email={}", demo::MEMBER_EMAIL);
    let t = sim().await;
    assert_eq!(t.get(&both).await.0, 400);
    let t = sim_with(settings(|s| s.search_keys = SearchKeys::AllMustMatch)).await;
    let (s, v) = t.get(&both).await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["id"], demo::MEMBER_ID);
    let (_, v) =
        t.get(&format!("{STORE}/members/search?phone=%2B4741234567&email=other%40example.com")).await;
    assert_eq!(v, json!([]));
    assert_eq!(t.get(&format!("{STORE}/members/search")).await.0, 400);
}

#[tokio::test]
async fn a_stamp_reservation_locks_only_its_stamps_when_set() {
    let reserve = member_path("/stamp-cards/17/reserve");
    let t = sim().await;
    assert_eq!(t.post(&reserve, json!({"external_transaction_id": "A"})).await.1["is_ok"], true);
    assert_eq!(t.post(&reserve, json!({"external_transaction_id": "B"})).await.1["is_ok"], false);

    let t = sim_with(settings(|s| s.stamp_reservation_locks = StampLock::Stamps)).await;
    t.t1(with(sale("Order-1"), "stamp_cards", stamps(17, "collected", 3))).await;
    assert_eq!(t.post(&reserve, json!({"external_transaction_id": "A"})).await.1["is_ok"], true);
    assert_eq!(t.post(&reserve, json!({"external_transaction_id": "A"})).await.1["is_ok"], true);
    assert_eq!(t.post(&reserve, json!({"external_transaction_id": "B"})).await.1["is_ok"], true);
    // Three stamps, three held (two by A, one by B): C may spend none of them.
    let (s, v) = t.t1(with(sale("C"), "stamp_cards", stamps(17, "deducted", 1))).await;
    assert_eq!(s, 400, "{v}");
    // B may spend the stamps nobody else holds: three minus A's two.
    assert_eq!(t.t1(with(sale("B"), "stamp_cards", stamps(17, "deducted", 2))).await.0, 400);
    assert_eq!(t.t1(with(sale("B"), "stamp_cards", stamps(17, "deducted", 1))).await.0, 200);
}

#[tokio::test]
async fn a_zero_refund_is_refused_unless_set_otherwise() {
    let body = json!({"external_id": "R-1", "total": 0, "currency": "NOK"});
    let t = sim().await;
    t.t1(sale("Order-1")).await;
    assert_eq!(t.post(&member_path("/transactions/Order-1/refund"), body.clone()).await.0, 400);
    let t = sim_with(settings(|s| s.refund_total_must_be_positive = false)).await;
    t.t1(sale("Order-1")).await;
    assert_eq!(t.post(&member_path("/transactions/Order-1/refund"), body).await.0, 200);
    let negative = json!({"external_id": "R-2", "total": -5, "currency": "NOK"});
    assert_eq!(t.post(&member_path("/transactions/Order-1/refund"), negative).await.0, 400);
}

#[tokio::test]
async fn an_email_without_at_is_refused_unless_set_otherwise() {
    let body = json!({"phone": {"country_code": "+47", "number": "46666666"}, "email": "not-an-address"});
    let t = sim().await;
    let (s, v) = t.post(&format!("{STORE}/members"), body.clone()).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["email"].is_array(), "{v}");
    let t = sim_with(settings(|s| s.email_requires_at = false)).await;
    let (s, v) = t.post(&format!("{STORE}/members"), body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["email"], "not-an-address");
}

#[test]
fn new_settings_read_from_snake_case_toml_and_default_to_the_contract() {
    let s: DillerSettings = toml::from_str(
        "k4_removed = true\nsearch_keys = \"all_must_match\"\nstamp_reservation_locks = \"stamps\"\n\
         reservations_require_transaction_id = true",
    )
    .unwrap();
    assert!(s.k4_removed && s.reservations_require_transaction_id);
    assert_eq!((s.search_keys, s.stamp_reservation_locks), (SearchKeys::AllMustMatch, StampLock::Stamps));
    let d = DillerSettings::default();
    assert!(!d.reservations_require_transaction_id && !d.departments_require_id_and_name);
    assert!(!d.otp_verification_fields_required && !d.k4_removed);
    assert!(d.reject_foreign_currency && d.reject_unknown_departments && d.email_requires_at);
    assert!(d.refund_total_must_be_positive && d.negative_totals_take_points_back);
}
