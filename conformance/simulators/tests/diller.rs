//! Diller simulator behaviour, one rule per test, against a started simulator (diller.md §2-§7
//! and the conformance checklist).

#[path = "diller/checklist.rs"]
mod checklist;
#[path = "diller/contract.rs"]
mod contract;
#[path = "diller/route_faults.rs"]
mod route_faults;
#[path = "diller/stamp_windows.rs"]
mod stamp_windows;

use std::time::Duration;

use loyalty_sim::{
    diller::{demo, DillerProbe, DillerSettings, DillerSim, RestartOn},
    SimClock, SimServer,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct T {
    server: SimServer,
    probe: DillerProbe,
    http: reqwest::Client,
    token: String,
}

const STORE: &str = "/api/v2.0/stores/demo-client";

fn member_path(rest: &str) -> String {
    format!("{STORE}/members/{}{rest}", demo::MEMBER_ID)
}

async fn sim_with(settings: DillerSettings) -> T {
    let (server, probe) = DillerSim::start_with_probe(settings, SimClock::default()).await.unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let mut t = T { server, probe, http, token: String::new() };
    t.token = t.fetch_token().await;
    t
}

async fn sim() -> T {
    sim_with(DillerSettings::default()).await
}

impl T {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    async fn fetch_token(&self) -> String {
        let r = self
            .http
            .post(self.url("/connect/token"))
            .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&scope=api.retailer")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self.http.request(method, self.url(path)).bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn token_raw(&self, auth: Option<(&str, &str)>, body: &str) -> (StatusCode, Value) {
        let mut rb = self
            .http
            .post(self.url("/connect/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string());
        if let Some((id, secret)) = auth {
            rb = rb.basic_auth(id, Some(secret));
        }
        let r = rb.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn t1(&self, body: Value) -> (StatusCode, Value) {
        self.post(&member_path("/transactions"), body).await
    }

    async fn member_coupon(&self, code: &str) -> Value {
        let (_, list) = self.get(&member_path("/coupons")).await;
        list.as_array().unwrap().iter().find(|c| c["code"] == code).cloned().unwrap_or(Value::Null)
    }
}

fn sale(ext: &str) -> Value {
    json!({
        "external_id": ext, "created_at": "2026-01-15T13:00:00+01:00", "total": 349.0, "currency": "NOK",
        "department_id": "web",
        "details": [{"product": {"external_id": "COF-500", "sku": "COF-500", "name": "Coffee 500 g"},
                     "quantity": 2, "unit_price": 199.5, "discount": 50.0, "total_price": 349.0}]
    })
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

// ------------------------------------------------------------------ auth (checklist 1-4)

#[tokio::test]
async fn token_response_carries_access_token_expires_in_type_and_scope() {
    let t = sim().await;
    let (s, v) = t
        .token_raw(
            Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
            "grant_type=client_credentials&scope=api.retailer",
        )
        .await;
    assert_eq!(s, 200);
    assert!(v["access_token"].as_str().is_some_and(|a| !a.is_empty()));
    assert_eq!(
        (v["expires_in"].as_u64(), v["token_type"].as_str(), v["scope"].as_str()),
        (Some(3600), Some("Bearer"), Some("api.retailer"))
    );
}

#[tokio::test]
async fn token_expires_on_the_sim_clock() {
    let t = sim().await;
    assert_eq!(t.get(STORE).await.0, 200);
    t.server.handle().clock().advance(Duration::from_secs(3600));
    let (s, v) = t.get(STORE).await;
    assert_eq!(s, 401);
    assert_eq!(v, Value::String(String::new()));
}

#[tokio::test]
async fn expired_tokens_are_pruned_when_a_new_one_is_issued() {
    let t = sim().await;
    for _ in 0..3 {
        t.fetch_token().await;
    }
    assert_eq!(t.probe.tokens_issued(), 4, "four live tokens");
    t.server.handle().clock().advance(std::time::Duration::from_secs(3601));
    t.fetch_token().await;
    assert_eq!(t.probe.tokens_issued(), 1, "only the new token is kept");
}

#[tokio::test]
async fn token_lifetime_setting_is_reported_in_expires_in() {
    let mut settings = DillerSettings::default();
    settings.token_expires_in_secs = 60;
    let t = sim_with(settings).await;
    let (_, v) = t
        .token_raw(
            Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
            "grant_type=client_credentials&scope=api.retailer",
        )
        .await;
    assert_eq!(v["expires_in"], 60);
}

#[tokio::test]
async fn call_without_bearer_is_401_empty_with_www_authenticate() {
    let t = sim().await;
    let r = t.http.get(t.url(STORE)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert!(r.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn call_with_unknown_or_empty_bearer_is_401() {
    let t = sim().await;
    for auth in ["Bearer nope", "Bearer ", "Bearer"] {
        let r = t.http.get(t.url(STORE)).header("authorization", auth).send().await.unwrap();
        assert_eq!(r.status(), 401, "{auth}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer", "{auth}");
        assert!(r.text().await.unwrap().is_empty(), "{auth}: empty body");
    }
}

#[tokio::test]
async fn wrong_secret_is_invalid_client() {
    let t = sim().await;
    let (s, v) = t
        .token_raw(Some((demo::CLIENT_ID, "wrong")), "grant_type=client_credentials&scope=api.retailer")
        .await;
    assert_eq!((s.as_u16(), v), (400, json!({"error": "invalid_client"})));
}

#[tokio::test]
async fn other_scope_is_invalid_scope() {
    let t = sim().await;
    let (s, v) = t
        .token_raw(
            Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
            "grant_type=client_credentials&scope=api.admin",
        )
        .await;
    assert_eq!((s.as_u16(), v), (400, json!({"error": "invalid_scope"})));
}

#[tokio::test]
async fn client_secret_post_accepted_by_default_but_not_when_strict() {
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        demo::CLIENT_ID,
        demo::CLIENT_SECRET
    );
    let t = sim().await;
    assert_eq!(t.token_raw(None, &body).await.0, 200);
    let mut strict = DillerSettings::default();
    strict.accept_client_secret_post = false;
    t.probe.set_settings(strict);
    assert_eq!(t.token_raw(None, &body).await.1, json!({"error": "invalid_client"}));
}

#[tokio::test]
async fn token_requests_are_counted_and_journal_has_no_secret() {
    let t = sim().await;
    assert_eq!(t.probe.token_requests(), 1);
    let dump = format!("{:?}", t.server.handle().journal().entries());
    assert!(!dump.contains(demo::CLIENT_SECRET));
    assert!(!dump.contains(&t.token));
}

// ------------------------------------------------------------------ stores

#[tokio::test]
async fn store_is_nok_oslo_with_points_ratio_one() {
    let t = sim().await;
    let (s, v) = t.get(STORE).await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["currency"].as_str(), v["time_zone"].as_str(), v["culture"].as_str()),
        (Some("NOK"), Some("Europe/Oslo"), Some("nb-NO"))
    );
    assert_eq!(v["points_system"]["enabled"], true);
    assert_eq!(v["points_system"]["currency_points_ratio"].as_f64(), Some(1.0));
    let (_, list) = t.get("/api/v2.0/stores").await;
    assert_eq!(list[0]["id"], demo::STORE_ID);
}

#[tokio::test]
async fn unknown_store_is_400_problem_or_404_when_strict() {
    let t = sim().await;
    let (s, v) = t.get("/api/v2.0/stores/nope").await;
    assert_eq!(s, 400);
    assert_eq!(v["status"], 400);
    let mut strict = DillerSettings::default();
    strict.strict_404 = true;
    t.probe.set_settings(strict);
    assert_eq!(t.get("/api/v2.0/stores/nope/segments").await.0, 404);
}

#[tokio::test]
async fn segments_cover_all_five_types_with_options() {
    let t = sim().await;
    let (_, v) = t.get(&format!("{STORE}/segments")).await;
    let types: Vec<&str> = v.as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["Text", "DateTime", "Radio", "Checkbox", "Dropdown"]);
    assert_eq!(v[3]["options"][0], json!({"id": 41, "text": "Coffee"}));
}

#[tokio::test]
async fn create_department_returns_whole_list() {
    let t = sim().await;
    let (s, v) = t.post(&format!("{STORE}/departments"), json!({"id": "pos-2", "name": "Register 2"})).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = v.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["web", "pos-1", "pos-2"]);
}

#[tokio::test]
async fn membership_levels_are_listed() {
    let t = sim().await;
    let (_, v) = t.get(&format!("{STORE}/membership-level")).await;
    assert_eq!(
        v,
        json!([{"id": 1, "name": "Member", "points": 0}, {"id": 2, "name": "Gold", "points": 1000}])
    );
}

#[tokio::test]
async fn unknown_route_is_404_problem() {
    let t = sim().await;
    let (s, v) = t.get("/api/v2.0/nothing-here").await;
    assert_eq!(s, 404);
    assert_eq!(v["status"], 404);
}

// ------------------------------------------------------------------ search (checklist 6, 7)

#[tokio::test]
async fn search_by_encoded_phone_finds_member_and_ignores_empty_email() {
    let t = sim().await;
    let (s, v) = t.get(&format!("{STORE}/members/search?email=&phone=%2B4741234567")).await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["id"], demo::MEMBER_ID);
}

#[tokio::test]
async fn search_by_national_phone_uses_store_country() {
    let t = sim().await;
    let (_, v) = t.get(&format!("{STORE}/members/search?phone=41234567")).await;
    assert_eq!(v[0]["id"], demo::MEMBER_ID);
}

#[tokio::test]
async fn search_by_email_and_identifier_value() {
    let t = sim().await;
    let (_, a) = t.get(&format!("{STORE}/members/search?email={}", demo::MEMBER_EMAIL)).await;
    let (_, b) = t.get(&format!("{STORE}/members/search?identifierValue={}", demo::MEMBER_IDENTIFIER)).await;
    assert_eq!(a[0]["id"], demo::MEMBER_ID);
    assert_eq!(b[0]["id"], demo::MEMBER_ID);
}

#[tokio::test]
async fn search_without_match_is_empty_array_or_400_when_configured() {
    let t = sim().await;
    assert_eq!(
        t.get(&format!("{STORE}/members/search?phone=%2B4799999999")).await,
        (StatusCode::OK, json!([]))
    );
    let mut s = DillerSettings::default();
    s.search_no_match_is_error = true;
    t.probe.set_settings(s);
    assert_eq!(t.get(&format!("{STORE}/members/search?phone=%2B4799999999")).await.0, 400);
}

#[tokio::test]
async fn search_needs_exactly_one_key() {
    let t = sim().await;
    assert_eq!(t.get(&format!("{STORE}/members/search")).await.0, 400);
    assert_eq!(t.get(&format!("{STORE}/members/search?phone=41234567&email=a%40b.no")).await.0, 400);
}

// ------------------------------------------------------------------ members (checklist 8-12, 24, 26, 28)

#[tokio::test]
async fn enroll_without_department_id_is_400_problem_with_errors() {
    let t = sim().await;
    let (s, v) = t
        .post(
            &format!("{STORE}/members/enroll"),
            json!({"phone": {"country_code": "+47", "number": "40000001"}}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(v["errors"]["department_id"].is_array(), "{v}");
    for k in ["type", "title", "status", "detail", "instance", "traceId"] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
}

#[tokio::test]
async fn enroll_without_phone_number_names_the_field_path() {
    let t = sim().await;
    let (s, v) = t
        .post(
            &format!("{STORE}/members/enroll"),
            json!({"phone": {"country_code": "+47"}, "department_id": "web"}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(v["errors"]["phone.number"].is_array(), "{v}");
}

#[tokio::test]
async fn camel_case_body_fields_are_ignored_so_required_fields_are_missing() {
    let t = sim().await;
    let (s, v) = t
        .post(
            &format!("{STORE}/members/enroll"),
            json!({"phone": {"countryCode": "+47", "number": "40000001"}, "departmentId": "web"}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(v["errors"]["phone.country_code"].is_array() && v["errors"]["department_id"].is_array(), "{v}");
}

#[tokio::test]
async fn invalid_json_body_is_400_problem() {
    let t = sim().await;
    let r = t
        .http
        .post(t.url(&format!("{STORE}/members")))
        .bearer_auth(&t.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["errors"].is_object());
}

#[tokio::test]
async fn enroll_creates_unactivated_member_findable_by_activation_token() {
    let t = sim().await;
    let (s, m) = t
        .post(
            &format!("{STORE}/members/enroll"),
            json!({"phone": {"country_code": "+47", "number": "40000001"}, "department_id": "pos-1"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(m["consent"]["gdpr_accepted"], false);
    let id = m["id"].as_str().unwrap();
    assert!(id.starts_with("m_") && id.len() == 14);
    let token = t.probe.activation_token(id).unwrap();
    let (_, found) = t.get(&format!("{STORE}/members/search?activationToken={token}")).await;
    assert_eq!(found[0]["id"], id);
}

#[tokio::test]
async fn enroll_of_existing_unactivated_phone_returns_same_member_with_new_token() {
    let t = sim().await;
    let body = json!({"phone": {"country_code": "+47", "number": "40000002"}, "department_id": "web"});
    let (_, first) = t.post(&format!("{STORE}/members/enroll"), body.clone()).await;
    let id = first["id"].as_str().unwrap().to_string();
    let old = t.probe.activation_token(&id).unwrap();
    let (s, again) = t.post(&format!("{STORE}/members/enroll"), body).await;
    assert_eq!((s.as_u16(), again["id"].as_str()), (200, Some(id.as_str())));
    assert_ne!(t.probe.activation_token(&id).unwrap(), old);
}

#[tokio::test]
async fn enroll_of_activated_phone_returns_existing_member_by_default() {
    let t = sim().await;
    let (s, v) = t
        .post(
            &format!("{STORE}/members/enroll"),
            json!({"phone": {"country_code": "+47", "number": "41234567"}, "department_id": "web"}),
        )
        .await;
    assert_eq!((s.as_u16(), v["id"].as_str()), (200, Some(demo::MEMBER_ID)));
}

#[tokio::test]
async fn register_accepts_date_only_birth_date_and_lower_case_gender() {
    let t = sim().await;
    let (s, v) = t
        .post(&format!("{STORE}/members"), json!({
            "phone": {"country_code": "+47", "number": "40000003"}, "first_name": "Ola", "birth_date": "1990-05-17",
            "gender": "male", "consent": {"gdpr_accepted": true, "save_order_history": true},
            "department_ids": [], "segments": [{"segment_id": 3, "value": "", "selected_options": [31]}]
        }))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["gender"], "Male");
    assert!(v["birth_date"].as_str().unwrap().starts_with("1990-05-17T00:00:00"));
    assert_eq!(v["segments"][0]["type"], "Radio");
}

#[tokio::test]
async fn register_without_phone_is_400() {
    let t = sim().await;
    let (s, v) = t.post(&format!("{STORE}/members"), json!({"first_name": "Ola"})).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["phone"].is_array());
}

#[tokio::test]
async fn register_with_wrong_types_is_400() {
    let t = sim().await;
    let (s, v) = t.post(&format!("{STORE}/members"), json!({"phone": {"country_code": "+47", "number": "40000004"}, "first_name": 5, "gender": "Robot"})).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["first_name"].is_array() && v["errors"]["gender"].is_array(), "{v}");
}

#[tokio::test]
async fn register_of_existing_phone_is_400() {
    let t = sim().await;
    let (s, _) = t
        .post(&format!("{STORE}/members"), json!({"phone": {"country_code": "+47", "number": "41234567"}}))
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn member_response_always_carries_gender() {
    let t = sim().await;
    let (_, v) = t
        .post(&format!("{STORE}/members"), json!({"phone": {"country_code": "+47", "number": "40000005"}}))
        .await;
    assert_eq!(v["gender"], "NotShared");
    let (_, k) = t.get(&member_path("")).await;
    assert_eq!(k["gender"], "Female");
}

#[tokio::test]
async fn update_is_full_replacement_and_ignores_phone() {
    let t = sim().await;
    let (s, v) = t.put(&member_path(""), json!({"first_name": "Kari", "last_name": "Nordmann", "phone": {"country_code": "+46", "number": "700000000"}, "consent": {"gdpr_accepted": true}})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["email"], Value::Null);
    assert_eq!(v["phone"], json!({"country_code": "+47", "number": "41234567"}));
    assert_eq!(t.get(&member_path("")).await.1["email"], Value::Null);
}

#[tokio::test]
async fn delete_hides_member_from_search_and_get() {
    let t = sim().await;
    let (s, v) = t.call(Method::DELETE, &member_path(""), None).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)));
    assert_eq!(t.get(&format!("{STORE}/members/search?phone=%2B4741234567")).await.1, json!([]));
    let (s, p) = t.get(&member_path("")).await;
    assert_eq!((s.as_u16(), &p["status"]), (400, &json!(400)));
}

#[tokio::test]
async fn dependents_post_creates_replaces_and_deletes() {
    let t = sim().await;
    let (s, v) = t
        .post(
            &member_path("/dependents"),
            json!([{"id": 0, "name": "Nora", "birthdate": "2020-01-01", "gender": "Female"}]),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v, Value::String(String::new()));
    let (_, list) = t.get(&member_path("/dependents")).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "seeded dependent 1 was missing from the list, so deleted");
    assert_eq!(list[0]["name"], "Nora");
    assert_ne!(list[0]["id"], 0);
    let id = list[0]["id"].clone();
    t.post(&member_path("/dependents"), json!([{"id": id, "name": "Nora B", "birthdate": "2020-01-01"}]))
        .await;
    assert_eq!(t.get(&member_path("/dependents")).await.1[0]["name"], "Nora B");
}

#[tokio::test]
async fn dependent_with_long_name_or_bad_birthdate_is_400() {
    let t = sim().await;
    let long = "x".repeat(51);
    assert_eq!(
        t.post(&member_path("/dependents"), json!([{"id": 0, "name": long, "birthdate": "2020-01-01"}]))
            .await
            .0,
        400
    );
    assert_eq!(
        t.post(&member_path("/dependents"), json!([{"id": 0, "name": "A", "birthdate": "01.01.2020"}]))
            .await
            .0,
        400
    );
    assert_eq!(
        t.post(&member_path("/dependents"), json!([{"id": 0, "name": "A", "birthdate": "2020-02-30"}]))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn login_otp_then_verification_succeeds_once() {
    let t = sim().await;
    assert_eq!(t.post(&member_path("/login-otp"), json!({})).await.1["is_ok"], true);
    assert_eq!(
        t.post(&member_path("/login-otp-verification"), json!({"otp_code": 1})).await.1["is_ok"],
        false
    );
    assert_eq!(
        t.post(&member_path("/login-otp-verification"), json!({"otp_code": demo::OTP_CODE})).await.1["is_ok"],
        true
    );
}

#[tokio::test]
async fn reset_phone_changes_number_after_verification() {
    let t = sim().await;
    let phone = json!({"country_code": "+47", "number": "49999999"});
    assert_eq!(t.post(&member_path("/reset-phone"), phone.clone()).await.1["is_ok"], true);
    let (_, v) = t
        .post(&member_path("/reset-phone-verification"), json!({"phone": phone, "otp_code": demo::OTP_CODE}))
        .await;
    assert_eq!(v["is_ok"], true);
    assert_eq!(t.get(&member_path("")).await.1["phone"]["number"], "49999999");
}

#[tokio::test]
async fn widget_and_invitations_have_their_shapes() {
    let t = sim().await;
    assert!(t.get(&member_path("/widgets/profile")).await.1["details_url"].is_string());
    assert_eq!(t.get(&member_path("/invited-friends")).await.1[0]["is_accepted"], true);
    let (_, v) =
        t.get(&member_path(&format!("/invited-friend?invitationToken={}", demo::INVITATION_TOKEN))).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(t.get(&member_path("/invited-friend?invitationToken=zzz")).await.1, json!([]));
}

// ------------------------------------------------------------------ coupons (checklist 13-16, 24)

#[tokio::test]
async fn store_coupons_hide_expired_unless_also_inactive() {
    let t = sim().await;
    let codes = |v: Value| {
        v.as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert!(!codes(t.get(&format!("{STORE}/coupons")).await.1).contains(&demo::COUPON_EXPIRED.to_string()));
    assert!(codes(t.get(&format!("{STORE}/coupons?alsoInactive=1")).await.1)
        .contains(&demo::COUPON_EXPIRED.to_string()));
    assert!(codes(t.get(&format!("{STORE}/coupons?alsoInactive=TRUE")).await.1)
        .contains(&demo::COUPON_EXPIRED.to_string()));
    assert_eq!(t.get(&format!("{STORE}/coupons?alsoInactive=maybe")).await.0, 400);
}

#[tokio::test]
async fn member_coupon_has_exact_enum_strings_and_times_redeemed() {
    let t = sim().await;
    let c = t.member_coupon(demo::COUPON_SUMMER10).await;
    assert_eq!((c["discount_type"].as_str(), c["type"].as_str()), (Some("Percentage"), Some("Standard")));
    assert_eq!((c["max_redemptions"].as_u64(), c["times_redeemed"].as_u64()), (Some(1), Some(0)));
    assert!(c["valid_to"].as_str().unwrap().starts_with("2100-"));
    assert_eq!(t.member_coupon(demo::COUPON_FIXED50).await["discount_type"], "Fixed");
    assert_eq!(t.member_coupon(demo::COUPON_COFFEE20).await["product_ids"], json!(["COF-500"]));
}

#[tokio::test]
async fn validate_usable_coupon_is_ok() {
    let t = sim().await;
    let (s, v) = t.get(&member_path("/coupons/SUMMER10/validate")).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)));
}

#[tokio::test]
async fn validate_expired_coupon_is_not_ok_with_details() {
    let t = sim().await;
    let (s, v) = t.get(&member_path("/coupons/WINTER15/validate")).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(false)));
    assert!(v["details"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn validate_coupon_not_available_to_member_is_not_ok() {
    let t = sim().await;
    assert_eq!(t.get(&member_path("/coupons/GOLD100/validate")).await.1["is_ok"], false);
}

#[tokio::test]
async fn validate_unknown_code_is_400() {
    let t = sim().await;
    assert_eq!(t.get(&member_path("/coupons/NOPE/validate")).await.0, 400);
}

#[tokio::test]
async fn coupon_refusal_is_400_when_configured() {
    let t = sim().await;
    let mut s = DillerSettings::default();
    s.coupon_refusal_is_error = true;
    t.probe.set_settings(s);
    assert_eq!(t.get(&member_path("/coupons/WINTER15/validate")).await.0, 400);
}

#[tokio::test]
async fn reserve_for_second_order_refused_while_first_holds() {
    let t = sim().await;
    let reserve = |tx: &str| json!({"channel": "Web", "external_transaction_id": tx});
    assert_eq!(t.post(&member_path("/coupons/SUMMER10/reserve"), reserve("A")).await.1["is_ok"], true);
    assert_eq!(t.post(&member_path("/coupons/SUMMER10/reserve"), reserve("B")).await.1["is_ok"], false);
    assert_eq!(t.probe.reservations("SUMMER10"), vec!["A".to_string()]);
}

#[tokio::test]
async fn validate_is_not_ok_while_reserved() {
    let t = sim().await;
    t.post(&member_path("/coupons/SUMMER10/reserve"), json!({"external_transaction_id": "A"})).await;
    assert_eq!(t.get(&member_path("/coupons/SUMMER10/validate")).await.1["is_ok"], false);
}

#[tokio::test]
async fn cancel_reservation_frees_coupon_for_other_order() {
    let t = sim().await;
    t.post(&member_path("/coupons/SUMMER10/reserve"), json!({"external_transaction_id": "A"})).await;
    let (s, v) = t
        .post(&member_path("/coupons/SUMMER10/cancel-reservation"), json!({"external_transaction_id": "A"}))
        .await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)));
    assert_eq!(
        t.post(&member_path("/coupons/SUMMER10/reserve"), json!({"external_transaction_id": "B"})).await.1
            ["is_ok"],
        true
    );
}

#[tokio::test]
async fn reserve_again_with_same_transaction_is_noop_success() {
    let t = sim().await;
    for _ in 0..2 {
        assert_eq!(
            t.post(&member_path("/coupons/SUMMER10/reserve"), json!({"external_transaction_id": "A"}))
                .await
                .1["is_ok"],
            true
        );
    }
    assert_eq!(t.probe.reservations("SUMMER10").len(), 1);
}

#[tokio::test]
async fn cancel_reservation_with_nothing_reserved_succeeds() {
    let t = sim().await;
    assert_eq!(
        t.post(&member_path("/coupons/SUMMER10/cancel-reservation"), json!({"external_transaction_id": "Z"}))
            .await
            .1["is_ok"],
        true
    );
}

// ------------------------------------------------------------------ transactions (checklist 16-21)

#[tokio::test]
async fn transaction_with_coupon_raises_times_redeemed() {
    let t = sim().await;
    let (s, v) = t.t1(with(sale("Order-1"), "coupon_codes", json!(["SUMMER10"]))).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.member_coupon("SUMMER10").await["times_redeemed"], 1);
    assert_eq!(t.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "SUMMER10"), Some(1));
}

#[tokio::test]
async fn transaction_with_coupon_on_a_line_raises_times_redeemed() {
    let t = sim().await;
    let mut body = sale("Order-1");
    body["details"][0]["coupon_codes"] = json!(["COFFEE20"]);
    assert_eq!(t.t1(body).await.0, 200);
    assert_eq!(t.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "COFFEE20"), Some(1));
}

#[tokio::test]
async fn used_up_coupon_in_transaction_is_400() {
    let t = sim().await;
    t.t1(with(sale("Order-1"), "coupon_codes", json!(["SUMMER10"]))).await;
    assert_eq!(t.t1(with(sale("Order-2"), "coupon_codes", json!(["SUMMER10"]))).await.0, 400);
    assert_eq!(t.get(&member_path("/coupons/SUMMER10/validate")).await.1["is_ok"], false);
}

#[tokio::test]
async fn transaction_stamp_cards_collected_raises_stamps() {
    let t = sim().await;
    let body = with(
        sale("Order-1"),
        "stamp_cards",
        json!([{"stamp_card_id": 17, "action": "collected", "count": 2}]),
    );
    assert_eq!(t.t1(body).await.0, 200);
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(2));
    let (_, cards) = t.get(&member_path("/stamp-cards")).await;
    let card = cards.as_array().unwrap().iter().find(|c| c["id"] == 17).unwrap().clone();
    assert_eq!(card["stamps_collected"], 2);
}

#[tokio::test]
async fn stamp_count_zero_or_negative_is_400() {
    let t = sim().await;
    for n in [0, -1] {
        let body = with(
            sale(&format!("Order-{n}")),
            "stamp_cards",
            json!([{"stamp_card_id": 17, "action": "collected", "count": n}]),
        );
        let (s, v) = t.t1(body).await;
        assert_eq!(s, 400);
        assert!(v["errors"]["stamp_cards[0].count"].is_array(), "{v}");
    }
    assert!(!t.probe.transaction_exists("Order-0"));
}

#[tokio::test]
async fn obsolete_stamp_card_ids_count_one_stamp_each() {
    let t = sim().await;
    assert_eq!(t.t1(with(sale("Order-1"), "stamp_card_ids", json!([17, 17, 17]))).await.0, 200);
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(3));
}

#[tokio::test]
async fn restartable_card_keeps_its_stamps_until_the_reward_is_taken() {
    let t = sim().await;
    let stamps = |act: &str, n: i64| json!([{"stamp_card_id": 17, "action": act, "count": n}]);
    assert_eq!(t.t1(with(sale("Order-1"), "stamp_cards", stamps("collected", 6))).await.0, 200);
    // Full, but not redeemed: it stays full (§7.3 resets it when the full card is redeemed).
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(6));
    let (_, cards) = t.get(&member_path("/stamp-cards")).await;
    let card = cards.as_array().unwrap().iter().find(|c| c["id"] == 17).cloned().unwrap();
    assert_eq!(card["stamps_collected"], 6, "{card}");
    assert_eq!(t.t1(with(sale("Order-2"), "stamp_cards", stamps("deducted", 6))).await.0, 200);
    // Redeemed: the restartable card starts over and stays in K2.
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(0));
    let (_, cards) = t.get(&member_path("/stamp-cards")).await;
    assert!(cards.as_array().unwrap().iter().any(|c| c["id"] == 17));
}

#[tokio::test]
async fn a_full_restartable_card_stays_full_until_redeemed_unless_set_to_restart_on_fill() {
    let stamps = |act: &str, n: i64| json!([{"stamp_card_id": 17, "action": act, "count": n}]);
    let t = sim().await;
    assert_eq!(t.t1(with(sale("Order-1"), "stamp_cards", stamps("collected", 8))).await.0, 200);
    // K2 never shows more than the card needs; the reward waits.
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(6));
    assert_eq!(t.t1(with(sale("Order-2"), "stamp_cards", stamps("deducted", 6))).await.0, 200);
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(0));
    // A cancel of the redemption gives the reward back.
    assert_eq!(t.post(&format!("{STORE}/transactions/Order-2/cancel"), json!({})).await.0, 200);
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(6));

    let mut settings = DillerSettings::default();
    settings.restartable_card_restarts_on = RestartOn::Fill;
    let t = sim_with(settings).await;
    assert_eq!(t.t1(with(sale("Order-1"), "stamp_cards", stamps("collected", 8))).await.0, 200);
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(2));
}

#[tokio::test]
async fn one_time_card_stays_full_then_drops_out_after_reward() {
    let t = sim().await;
    t.t1(with(
        sale("Order-1"),
        "stamp_cards",
        json!([{"stamp_card_id": 18, "action": "collected", "count": 5}]),
    ))
    .await;
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 18), Some(4));
    t.t1(with(
        sale("Order-2"),
        "stamp_cards",
        json!([{"stamp_card_id": 18, "action": "deducted", "count": 4}]),
    ))
    .await;
    let (_, cards) = t.get(&member_path("/stamp-cards")).await;
    assert!(!cards.as_array().unwrap().iter().any(|c| c["id"] == 18));
}

#[tokio::test]
async fn deducting_more_stamps_than_collected_is_400() {
    let t = sim().await;
    let (s, _) = t
        .t1(with(
            sale("Order-1"),
            "stamp_cards",
            json!([{"stamp_card_id": 17, "action": "deducted", "count": 1}]),
        ))
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn duplicate_external_id_is_400() {
    let t = sim().await;
    assert_eq!(t.t1(sale("Order-1")).await.0, 200);
    let (s, v) = t.t1(sale("Order-1")).await;
    assert_eq!(s, 400);
    assert!(v.to_string().contains("duplicate"));
}

#[tokio::test]
async fn line_total_must_match_quantity_times_price_minus_discount() {
    let t = sim().await;
    let mut body = sale("Order-1");
    body["details"][0]["total_price"] = json!(399.0);
    let (s, v) = t.t1(body).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["details[0].total_price"].is_array(), "{v}");
}

#[tokio::test]
async fn integer_and_string_amounts_are_accepted() {
    let t = sim().await;
    let mut body = sale("Order-1");
    body["total"] = json!(349);
    body["details"][0]["total_price"] = json!("349.0000");
    assert_eq!(t.t1(body).await.0, 200);
}

#[tokio::test]
async fn transaction_without_external_id_is_400() {
    let t = sim().await;
    let mut body = sale("x");
    body.as_object_mut().unwrap().remove("external_id");
    let (s, v) = t.t1(body).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["external_id"].is_array());
}

#[tokio::test]
async fn transaction_earns_floor_total_times_ratio_points() {
    let t = sim().await;
    let before = t.probe.member_points(demo::MEMBER_ID).unwrap();
    let mut body = sale("Order-1");
    body["total"] = json!(349.9);
    body["details"][0]["total_price"] = json!(349.0);
    t.t1(body).await;
    assert_eq!(t.probe.member_points(demo::MEMBER_ID).unwrap() - before, rust_decimal::Decimal::from(349));
}

#[tokio::test]
async fn non_eligible_lines_earn_no_points() {
    let t = sim().await;
    let before = t.probe.member_points(demo::MEMBER_ID).unwrap();
    let body = json!({"external_id": "Order-G", "total": 500.0, "details": [
        {"product": {"external_id": "GIFT-CARD"}, "quantity": 1, "unit_price": 500.0, "total_price": 500.0}]});
    assert_eq!(t.t1(body).await.0, 200);
    assert_eq!(t.probe.member_points(demo::MEMBER_ID).unwrap(), before);
}

#[tokio::test]
async fn cancel_by_external_id_reverses_coupons_stamps_and_points() {
    let t = sim().await;
    let before = t.probe.member_points(demo::MEMBER_ID).unwrap();
    let mut body = with(sale("Order-1234"), "coupon_codes", json!(["SUMMER10"]));
    body["stamp_cards"] = json!([{"stamp_card_id": 17, "action": "collected", "count": 2}]);
    t.t1(body).await;
    let (s, v) = t
        .post(&format!("{STORE}/transactions/Order-1234/cancel"), json!({"reason": "customer return"}))
        .await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)));
    assert_eq!(t.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "SUMMER10"), Some(0));
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(0));
    assert_eq!(t.probe.member_points(demo::MEMBER_ID).unwrap(), before);
    assert_eq!(t.probe.transaction_cancelled("Order-1234"), Some(true));
}

#[tokio::test]
async fn second_cancel_is_400() {
    let t = sim().await;
    t.t1(sale("Order-1234")).await;
    let path = format!("{STORE}/transactions/Order-1234/cancel");
    assert_eq!(t.post(&path, json!({"reason": "x"})).await.0, 200);
    assert_eq!(t.post(&path, json!({"reason": "x"})).await.0, 400);
}

#[tokio::test]
async fn cancel_of_unknown_transaction_is_400() {
    let t = sim().await;
    assert_eq!(t.post(&format!("{STORE}/transactions/nope/cancel"), json!({})).await.0, 400);
}

#[tokio::test]
async fn transaction_releases_stamp_reservations_of_same_external_id() {
    let t = sim().await;
    t.post(&member_path("/stamp-cards/17/reserve"), json!({"external_transaction_id": "Order-9"})).await;
    assert_eq!(t.probe.stamp_reservations(demo::MEMBER_ID, 17), vec!["Order-9".to_string()]);
    t.t1(sale("Order-9")).await;
    assert!(t.probe.stamp_reservations(demo::MEMBER_ID, 17).is_empty());
}

#[tokio::test]
async fn a_stamp_reserved_by_one_transaction_cannot_be_reserved_by_another() {
    let t = sim().await;
    let reserve = |tx: &str| json!({"external_transaction_id": tx});
    let path = member_path("/stamp-cards/17/reserve");
    assert_eq!(t.post(&path, reserve("A")).await.1["is_ok"], true);
    // The same transaction may reserve more (one per unit, §4.4 K3 [MAG]).
    assert_eq!(t.post(&path, reserve("A")).await.1["is_ok"], true);
    let (s, v) = t.post(&path, reserve("B")).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(false)), "{v}");
    assert_eq!(t.probe.stamp_reservations(demo::MEMBER_ID, 17), ["A", "A"]);
    // Released (K4): another transaction can have it.
    t.post(&member_path("/stamp-cards/17/cancel-reservation"), reserve("A")).await;
    assert_eq!(t.post(&path, reserve("B")).await.1["is_ok"], true);
}

#[tokio::test]
async fn a_reserved_stamp_cannot_be_spent_by_another_transaction() {
    let t = sim().await;
    // The one-time tea card (4 stamps), three collected.
    let stamps = |act: &str, n: i64| json!([{"stamp_card_id": 18, "action": act, "count": n}]);
    assert_eq!(t.t1(with(sale("Order-1"), "stamp_cards", stamps("collected", 3))).await.0, 200);
    t.post(&member_path("/stamp-cards/18/reserve"), json!({"external_transaction_id": "Order-A"})).await;
    let (s, v) = t.t1(with(sale("Order-B"), "stamp_cards", stamps("deducted", 3))).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["errors"]["stamp_cards[0].stamp_card_id"].is_array(), "{v}");
    assert!(!t.probe.transaction_exists("Order-B"));
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 18), Some(3));
    // Collecting is not using a reserved stamp; the holder itself may spend it.
    assert_eq!(t.t1(with(sale("Order-C"), "stamp_cards", stamps("collected", 1))).await.0, 200);
    assert_eq!(t.t1(with(sale("Order-A"), "stamp_cards", stamps("deducted", 4))).await.0, 200);
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 18), Some(0));
}

#[tokio::test]
async fn deprecated_stamp_cancel_reservation_still_releases() {
    let t = sim().await;
    t.post(&member_path("/stamp-cards/17/reserve"), json!({"external_transaction_id": "Q"})).await;
    t.post(&member_path("/stamp-cards/17/reserve"), json!({"external_transaction_id": "Q"})).await;
    assert_eq!(t.probe.stamp_reservations(demo::MEMBER_ID, 17).len(), 2);
    assert_eq!(
        t.post(&member_path("/stamp-cards/17/cancel-reservation"), json!({"external_transaction_id": "Q"}))
            .await
            .1["is_ok"],
        true
    );
    assert!(t.probe.stamp_reservations(demo::MEMBER_ID, 17).is_empty());
}

#[tokio::test]
async fn refund_leaves_coupons_and_stamps_unchanged() {
    let t = sim().await;
    let mut body = with(sale("Order-1"), "coupon_codes", json!(["SUMMER10"]));
    body["stamp_cards"] = json!([{"stamp_card_id": 17, "action": "collected", "count": 2}]);
    t.t1(body).await;
    let (s, v) = t
        .post(
            &member_path("/transactions/Order-1/refund"),
            json!({"external_id": "R-1", "reason": "damaged", "total": 100.0, "currency": "NOK"}),
        )
        .await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)), "{v}");
    assert_eq!(t.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "SUMMER10"), Some(1));
    assert_eq!(t.probe.stamps_collected(demo::MEMBER_ID, 17), Some(2));
    assert_eq!(t.probe.transaction_refunded("Order-1"), Some(rust_decimal::Decimal::from(100)));
}

#[tokio::test]
async fn refund_over_original_total_is_400() {
    let t = sim().await;
    t.t1(sale("Order-1")).await;
    assert_eq!(
        t.post(&member_path("/transactions/Order-1/refund"), json!({"external_id": "R-1", "total": 300.0}))
            .await
            .0,
        200
    );
    assert_eq!(
        t.post(&member_path("/transactions/Order-1/refund"), json!({"external_id": "R-2", "total": 50.0}))
            .await
            .0,
        400
    );
}

// ------------------------------------------------------------------ non-eligible products (checklist 22, 23)

#[tokio::test]
async fn non_eligible_list_is_paginated_and_validates_limits() {
    let t = sim().await;
    let (s, v) = t.get(&format!("{STORE}/non-eligible-products?offset=0&limit=10")).await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["total_records"].as_u64(), v["offset"].as_u64(), v["limit"].as_u64()),
        (Some(1), Some(0), Some(10))
    );
    assert_eq!(v["data"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["data"][0]["id"], 1, "{v}");
    // A second item: a page of one holds one, the next page the other.
    let (s, _) = t
        .post(&format!("{STORE}/non-eligible-products"), json!([{"product_id": "P-2", "subsystem": "All"}]))
        .await;
    assert_eq!(s, 200);
    let (_, first) = t.get(&format!("{STORE}/non-eligible-products?offset=0&limit=1")).await;
    assert_eq!(first["data"].as_array().map(Vec::len), Some(1), "{first}");
    assert_eq!(first["total_records"], 2, "{first}");
    let (_, second) = t.get(&format!("{STORE}/non-eligible-products?offset=1&limit=1")).await;
    assert_eq!(second["data"].as_array().map(Vec::len), Some(1), "{second}");
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);
    let (_, past) = t.get(&format!("{STORE}/non-eligible-products?offset=2&limit=10")).await;
    assert_eq!(past["data"], json!([]), "{past}");
    for q in ["limit=0", "limit=101", "offset=-1"] {
        let (s, v) = t.get(&format!("{STORE}/non-eligible-products?{q}")).await;
        assert_eq!((s.as_u16(), &v["is_ok"]), (400, &json!(false)), "{q}");
    }
}

#[tokio::test]
async fn non_eligible_add_of_101_items_is_400() {
    let t = sim().await;
    let items: Vec<Value> =
        (0..101).map(|i| json!({"product_id": format!("P{i}"), "subsystem": "Loyalty"})).collect();
    let (s, v) = t.post(&format!("{STORE}/non-eligible-products"), Value::Array(items)).await;
    assert_eq!(s, 400);
    assert!(v[0]["errors"].is_array());
}

#[tokio::test]
async fn non_eligible_add_returns_created_items() {
    let t = sim().await;
    let (s, v) = t
        .post(
            &format!("{STORE}/non-eligible-products"),
            json!([{"product_id_prefix": "TOB-", "subsystem": "loyalty", "expires_at": "2027-01-01"}]),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!((v[0]["subsystem"].as_str(), v[0]["id"].as_i64()), (Some("Loyalty"), Some(2)));
}

#[tokio::test]
async fn non_eligible_partial_update_is_207_with_statuses() {
    let t = sim().await;
    let (s, v) = t
        .put(
            &format!("{STORE}/non-eligible-products"),
            json!([
        {"id": 1, "product_id": "GIFT-CARD", "subsystem": "All", "description": "Gift cards"},
        {"id": 99, "product_id": "X", "subsystem": "All"}]),
        )
        .await;
    assert_eq!(s, 207);
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!((v[0]["id"].as_i64(), v[1]["id"].as_i64()), (Some(1), Some(99)), "{v}");
    assert_eq!((v[0]["status"].as_bool(), v[1]["status"].as_bool()), (Some(true), Some(false)));
    assert!(v[0]["errors"].as_array().is_some_and(Vec::is_empty), "{v}");
    assert!(!v[1]["errors"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn non_eligible_update_all_good_is_action_response() {
    let t = sim().await;
    let (s, v) = t
        .put(
            &format!("{STORE}/non-eligible-products"),
            json!([{"id": 1, "product_id": "GIFT-CARD", "subsystem": "All"}]),
        )
        .await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (200, &json!(true)));
}

#[tokio::test]
async fn non_eligible_delete_unknown_is_400_action_response() {
    let t = sim().await;
    assert_eq!(
        t.call(Method::DELETE, &format!("{STORE}/non-eligible-products/1"), None).await.1["is_ok"],
        true
    );
    let (s, v) = t.call(Method::DELETE, &format!("{STORE}/non-eligible-products/1"), None).await;
    assert_eq!((s.as_u16(), &v["is_ok"]), (400, &json!(false)));
}

// ------------------------------------------------------------------ stamp cards listing

#[tokio::test]
async fn store_stamp_cards_list_both_cards() {
    let t = sim().await;
    let (_, v) = t.get(&format!("{STORE}/stamp-cards?alsoInactive=false")).await;
    let card = &v[0];
    assert_eq!(
        (card["id"].as_i64(), card["required_stamps"].as_u64(), card["is_restartable"].as_bool()),
        (Some(17), Some(6), Some(true))
    );
    assert_eq!(card["product_ids"], json!(["COF-500"]));
    assert_eq!(v[1]["is_restartable"], false);
}

#[tokio::test]
async fn fault_injection_works_on_diller_routes() {
    let t = sim().await;
    t.server.handle().inject(
        "POST",
        &format!("{STORE}/members/{}/transactions", demo::MEMBER_ID),
        loyalty_sim::Fault::MalformedBody,
        Some(1),
    );
    let (s, v) = t.t1(sale("Order-F")).await;
    assert_eq!(s, 200);
    assert!(v.is_string(), "body is not JSON");
    assert!(t.probe.transaction_exists("Order-F"), "handler ran");
}
