//! Conformance checklist items and the §4.5 worked example, over HTTP with the default settings
//! (§7.5) unless a test says otherwise: bodies every field of which is optional may be left
//! out, enum strings, enroll and update validation, coupon use on a line, the store-wide
//! uniqueness of `external_id`, and coupon paths by code.

use loyalty_sim::diller::{demo, DillerSettings};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{member_path, sale, sim, sim_with, with, STORE, T};

impl T {
    /// POST with no body at all: no `Content-Type`, `Content-Length: 0`.
    async fn post_empty(&self, path: &str) -> (StatusCode, Value) {
        let r = self.http.post(self.url(path)).bearer_auth(&self.token).send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// The member's `times_redeemed` of `code`, read over HTTP (C2).
    async fn times_redeemed(&self, member: &str, code: &str) -> Value {
        let (s, list) = self.get(&format!("{STORE}/members/{member}/coupons")).await;
        assert_eq!(s, 200, "{list}");
        let coupon = list.as_array().unwrap().iter().find(|c| c["code"] == code).cloned();
        coupon.unwrap_or_else(|| panic!("{code} listed for {member}: {list}"))["times_redeemed"].clone()
    }

    /// The member's `membership_detail.points`, read over HTTP (M2).
    async fn points(&self, member: &str) -> f64 {
        let (s, m) = self.get(&format!("{STORE}/members/{member}")).await;
        assert_eq!(s, 200, "{m}");
        m["membership_detail"]["points"].as_f64().unwrap_or_else(|| panic!("points in {m}"))
    }
}

fn assert_problem(v: &Value, status: u16) {
    for k in ["type", "title", "status", "detail", "instance"] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
    assert_eq!(v["status"], status, "{v}");
}

// ------------------------------------------------------------------ bodies left out (§1 "Body optionality")

#[tokio::test]
async fn cancel_with_no_body_cancels_the_sale() {
    let t = sim().await;
    let (s, v) = t.t1(with(sale("Order-1234"), "coupon_codes", json!(["SUMMER10"]))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(t.times_redeemed(demo::MEMBER_ID, "SUMMER10").await, 1);
    // CancelationReason {reason, origin}: both optional (§5.6).
    let path = format!("{STORE}/transactions/Order-1234/cancel");
    let (s, v) = t.post_empty(&path).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.probe.transaction_cancelled("Order-1234"), Some(true));
    assert_eq!(t.times_redeemed(demo::MEMBER_ID, "SUMMER10").await, 0, "the coupon use is reversed");
    // A second cancel, also without a body, is the usual 400 (checklist 18).
    let (s, v) = t.post_empty(&path).await;
    assert_eq!(s, 400, "{v}");
    assert_problem(&v, 400);
}

#[tokio::test]
async fn coupon_cancel_reservation_with_no_body_releases_the_reservation_without_an_id() {
    let t = sim().await;
    let reserve = member_path("/coupons/SUMMER10/reserve");
    let cancel = member_path("/coupons/SUMMER10/cancel-reservation");
    assert_eq!(t.post(&reserve, json!({"external_transaction_id": "A"})).await.1["is_ok"], true);
    // No body = `{}`: no external_transaction_id, so only a reservation without one is freed.
    let (s, v) = t.post_empty(&cancel).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.probe.reservations("SUMMER10"), ["A"]);
    assert_eq!(t.post(&cancel, json!({"external_transaction_id": "A"})).await.1["is_ok"], true);
    assert_eq!(t.post(&reserve, json!({})).await.1["is_ok"], true);
    assert_eq!(t.probe.reservations("SUMMER10"), [""]);
    let (s, v) = t.post_empty(&cancel).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert!(t.probe.reservations("SUMMER10").is_empty());
}

#[tokio::test]
async fn stamp_cancel_reservation_with_no_body_releases_the_reservation_without_an_id() {
    let t = sim().await;
    let (s, v) = t.post(&member_path("/stamp-cards/17/reserve"), json!({"channel": "POS"})).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.probe.stamp_reservations(demo::MEMBER_ID, 17), [""]);
    let (s, v) = t.post_empty(&member_path("/stamp-cards/17/cancel-reservation")).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert!(t.probe.stamp_reservations(demo::MEMBER_ID, 17).is_empty());
}

#[tokio::test]
async fn releases_with_no_body_need_a_transaction_id_when_set() {
    let mut settings = DillerSettings::default();
    settings.reservations_require_transaction_id = true;
    let t = sim_with(settings).await;
    for path in ["/coupons/SUMMER10/cancel-reservation", "/stamp-cards/17/cancel-reservation"] {
        let (s, v) = t.post_empty(&member_path(path)).await;
        assert_eq!(s, 400, "{path}: {v}");
        assert!(v["errors"]["external_transaction_id"].is_array(), "{path}: {v}");
    }
}

#[tokio::test]
async fn refund_with_no_body_is_read_as_an_empty_object() {
    let t = sim().await;
    assert_eq!(t.t1(sale("Order-1")).await.0, 200);
    // Every refund field is optional in the swagger; the simulator still wants `total` (as
    // in T1), so the answer is the validation error naming it, not one about the body.
    let (s, v) = t.post_empty(&member_path("/transactions/Order-1/refund")).await;
    assert_eq!(s, 400, "{v}");
    assert_problem(&v, 400);
    assert!(v["errors"]["total"].is_array(), "{v}");
    assert_eq!(v["errors"].as_object().unwrap().len(), 1, "{v}");
    assert_eq!(t.probe.transaction_cancelled("Order-1"), Some(false));
}

#[tokio::test]
async fn reserves_with_no_body_hold_under_no_transaction_id() {
    // C4 and K3 bodies are all optional too (§5.4, §5.5): no body is a reservation without an id.
    let t = sim().await;
    let (s, v) = t.post_empty(&member_path("/coupons/SUMMER10/reserve")).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.probe.reservations("SUMMER10"), [""]);
    let (s, v) = t.post_empty(&member_path("/stamp-cards/17/reserve")).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.probe.stamp_reservations(demo::MEMBER_ID, 17), [""]);
}

#[tokio::test]
async fn endpoints_whose_body_has_a_required_field_still_refuse_no_body() {
    let t = sim().await;
    // EnrollMemberRequest requires phone and department_id (§5.2).
    let (s, v) = t.post_empty(&format!("{STORE}/members/enroll")).await;
    assert_eq!(s, 400, "{v}");
    assert_problem(&v, 400);
}

// ------------------------------------------------------------------ enums (checklist 24)

#[tokio::test]
async fn register_with_non_binary_gender_answers_non_binary() {
    let t = sim().await;
    let (s, v) = t
        .post(
            &format!("{STORE}/members"),
            json!({"phone": {"country_code": "+47", "number": "40000011"}, "gender": "NonBinary"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["gender"], "NonBinary");
    let id = v["id"].as_str().unwrap();
    assert_eq!(t.get(&format!("{STORE}/members/{id}")).await.1["gender"], "NonBinary");
}

// ------------------------------------------------------------------ enroll (checklist 8)

#[tokio::test]
async fn enroll_without_phone_is_400_problem_naming_phone() {
    let t = sim().await;
    let (s, v) = t.post(&format!("{STORE}/members/enroll"), json!({"department_id": "web"})).await;
    assert_eq!(s, 400, "{v}");
    assert_problem(&v, 400);
    assert!(v["errors"]["phone"].is_array(), "{v}");
    assert!(!v["errors"]["phone"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["errors"].get("department_id").is_none(), "department_id was sent: {v}");
}

// ------------------------------------------------------------------ coupons (checklist 13, 16)

#[tokio::test]
async fn a_coupon_on_a_line_raises_times_redeemed_in_the_member_coupon_list() {
    let t = sim().await;
    assert_eq!(t.times_redeemed(demo::MEMBER_ID, "SUMMER10").await, 0);
    let mut body = sale("Order-1");
    body["details"][0]["coupon_codes"] = json!(["SUMMER10"]);
    let (s, v) = t.t1(body).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.times_redeemed(demo::MEMBER_ID, "SUMMER10").await, 1);
}

#[tokio::test]
async fn coupon_paths_take_the_code_so_a_numeric_id_is_an_unknown_code() {
    let t = sim().await;
    // 5521 is SUMMER10's numeric id (§5.4 example); the paths carry the code (§4.3 C3).
    let id = demo::COUPON_SUMMER10_ID;
    let (s, v) = t.get(&member_path(&format!("/coupons/{id}/validate"))).await;
    assert_eq!(s, 400, "{v}");
    assert_problem(&v, 400);
    let (s, v) = t
        .post(&member_path(&format!("/coupons/{id}/reserve")), json!({"external_transaction_id": "A"}))
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(t.probe.reservations("SUMMER10").is_empty());
    let (s, v) = t.get(&member_path("/coupons/SUMMER10/validate")).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
}

// ------------------------------------------------------------------ transactions (checklist 20)

#[tokio::test]
async fn an_external_id_is_unique_in_the_store_not_per_member() {
    let t = sim().await;
    let (s, other) = t
        .post(
            &format!("{STORE}/members"),
            json!({"phone": {"country_code": "+47", "number": "40000012"},
                   "consent": {"gdpr_accepted": true, "save_order_history": true}}),
        )
        .await;
    assert_eq!(s, 200, "{other}");
    let other = other["id"].as_str().unwrap().to_string();
    assert_ne!(other, demo::MEMBER_ID);
    assert_eq!(t.t1(sale("Order-1")).await.0, 200);
    let before = t.points(&other).await;
    let (s, v) = t.post(&format!("{STORE}/members/{other}/transactions"), sale("Order-1")).await;
    assert_eq!(s, 400, "{v}");
    assert_problem(&v, 400);
    assert!(v.to_string().contains("duplicate"), "{v}");
    assert_eq!(t.probe.transaction_bookings("Order-1"), 1);
    assert_eq!(t.points(&other).await, before, "nothing booked for the second member");
    // Another id is fine for the second member.
    assert_eq!(t.post(&format!("{STORE}/members/{other}/transactions"), sale("Order-2")).await.0, 200);
}

// ------------------------------------------------------------------ dates (checklist 26)

#[tokio::test]
async fn update_accepts_a_date_only_birth_date() {
    let t = sim().await;
    let (s, v) = t
        .put(
            &member_path(""),
            json!({"first_name": "Kari", "birth_date": "1990-05-17", "consent": {"gdpr_accepted": true}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["birth_date"].as_str().is_some_and(|d| d.starts_with("1990-05-17T00:00:00")), "{v}");
    let (_, m) = t.get(&member_path("")).await;
    assert!(m["birth_date"].as_str().is_some_and(|d| d.starts_with("1990-05-17T00:00:00")), "{m}");
}

// ------------------------------------------------------------------ §4.5 worked example

#[tokio::test]
async fn the_magento_transaction_of_section_4_5_is_accepted_as_written() {
    let t = sim().await;
    let (_, store) = t.get(STORE).await;
    let ratio = store["points_system"]["currency_points_ratio"].as_f64().unwrap();
    let before = t.points(demo::MEMBER_ID).await;
    // Verbatim from §4.5; the seed has SUMMER10 and the `web` department, so no id changes.
    let body: Value = serde_json::from_str(
        r##"{
  "external_id": "MAGENTO_#100000123", "created_at": "2024-02-20T14:03:11+01:00",
  "payment_details": [ { "payment_method": "Card", "sub_total": 349.0 } ],
  "send_email_receipt": false,
  "total": 349.0, "total_tax": 69.8, "total_discount": 50.0, "currency": "NOK",
  "origin": { "system_id": "MAGENTO_#1", "employee_id": "", "department_id": "web", "channel": "OnlineStore" },
  "department_id": "web",
  "details": [
    {
      "product": { "external_id": "42", "sku": "COF-500", "name": "Coffee 500 g" },
      "quantity": 2, "unit_price": 199.5, "unit_measure": "", "tax_percentage": 25.0,
      "discount": 50.0, "total_price": 349.0
    }
  ],
  "coupon_codes": ["SUMMER10"],
  "stamp_card_ids": []
}"##,
    )
    .unwrap();
    let (s, v) = t.t1(body).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.times_redeemed(demo::MEMBER_ID, "SUMMER10").await, 1);
    // points = floor(total × currency_points_ratio), no non-eligible line (§7.3).
    assert_eq!(t.points(demo::MEMBER_ID).await - before, (349.0 * ratio).floor());
    assert_eq!(t.points(demo::MEMBER_ID).await - before, 349.0, "the demo store's ratio is 1");
    assert!(t.probe.transaction_exists("MAGENTO_#100000123"));
    // The `#` travels percent-encoded in T2's path.
    let (s, v) = t.post(&format!("{STORE}/transactions/MAGENTO_%23100000123/cancel"), json!({})).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.times_redeemed(demo::MEMBER_ID, "SUMMER10").await, 0);
    assert_eq!(t.points(demo::MEMBER_ID).await, before);
}
