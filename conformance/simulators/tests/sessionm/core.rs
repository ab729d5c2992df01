//! Core customer profiles (§5.7, §6).

use loyalty_sim::sessionm::CodeCase;

use super::*;

fn new_user(email: &str, phone: &str, dob: &str) -> Value {
    json!({"user": {"email": email, "first_name": "Nora", "last_name": "Berg", "dob": dob, "opted_in": "true",
                    "external_id": format!("CARD-{email}"), "external_id_type": demo::EXTERNAL_ID_TYPE,
                    "phone_numbers": [{"phone_number": phone, "phone_type": "mobile", "preference_flags": ["primary"]}]}})
}

// Checklist 22.
#[tokio::test]
async fn core_create_answers_ok_with_the_new_user_id() {
    let t = sim().await;
    let (s, v) =
        t.core(Method::POST, "/users", Some(new_user("nora@example.com", "4791111111", "1990-05-17"))).await;
    assert_eq!((s, &v["status"]), (200, &json!("ok")));
    let id = v["user"]["id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(id, id.to_ascii_lowercase());
    assert_eq!(v["user"]["opted_in"], true, "string \"true\" accepted");
    let (_, got) = t.core(Method::GET, &format!("/users/{id}"), None).await;
    assert_eq!(got["user"]["email"], "nora@example.com");
}

// Checklist 22 and 23: 13 or younger → HTTP 200, status "error", a validation code.
#[tokio::test]
async fn core_create_with_dob_making_user_thirteen_is_a_validation_error() {
    let t = sim().await;
    // The clock is at 2026-01-15: born 2013-01-15 is exactly 13.
    let (s, v) =
        t.core(Method::POST, "/users", Some(new_user("kid@example.com", "4792222222", "2013-01-15"))).await;
    assert_eq!((s, &v["status"], code(&v)), (200, &json!("error"), "validation"));
    assert!(v["errors"]["user"]["dob"].is_array(), "{v}");
    let (_, v) =
        t.core(Method::POST, "/users", Some(new_user("teen@example.com", "4792222223", "2012-01-15"))).await;
    assert_eq!(v["status"], "ok", "14 is old enough");
}

// Checklist 23: codes are lower case on the wire by default...
#[tokio::test]
async fn core_unknown_user_is_404_with_lower_case_user_not_found() {
    let t = sim().await;
    let (s, v) = t.core(Method::GET, "/users/00000000-0000-4000-8000-000000000000", None).await;
    assert_eq!((s, &v["status"], code(&v)), (404, &json!("error"), "user_not_found"));
}

// ...and upper case with the setting (checklist 23: adapters compare case-insensitively).
#[tokio::test]
async fn core_error_codes_are_upper_case_with_setting() {
    let mut s = SessionmSettings::default();
    s.core_error_code_case = CodeCase::Upper;
    let t = sim_with(s).await;
    let (_, v) = t.core(Method::GET, "/external/users/CARD-9999", None).await;
    assert_eq!(code(&v), "USER_NOT_FOUND");
}

#[tokio::test]
async fn core_get_by_external_id_with_identifiers_and_incentives() {
    let t = sim().await;
    let (s, v) = t
        .core(
            Method::GET,
            &format!(
                "/external/users/{}?show_identifiers=true&expand_incentives=true",
                demo::USER_EXTERNAL_ID
            ),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let u = &v["user"];
    assert_eq!((&u["id"], &u["email"]), (&json!(demo::USER_ID), &json!(demo::USER_EMAIL)));
    assert_eq!(u["identifiers"][0]["external_id"], demo::USER_EXTERNAL_ID);
    assert_eq!(u["phone_numbers"][0]["phone_number"], demo::USER_PHONE);
}

// §5.7 [K]: expanded, the user carries the tier fields and `tier_details` with the tier levels
// and the point balances in the §4.2 shape (the simulator has no tiers: nulls, no levels).
#[tokio::test]
async fn core_expanded_user_has_the_tier_fields_and_balances_inside_tier_details() {
    let t = sim().await;
    let (s, v) = t.core(Method::GET, &format!("/users/{}?expand_incentives=true", demo::USER_ID), None).await;
    assert_eq!(s, 200);
    let u = v["user"].as_object().unwrap();
    for k in ["tier", "tier_system", "tier_points", "tier_entered_at", "tier_resets_at"] {
        assert_eq!(u.get(k), Some(&Value::Null), "{k}");
    }
    let details = &u["tier_details"];
    assert_eq!(details["tier_levels"], json!([]));
    let balances = &details["point_account_balances"];
    assert_eq!(balances["summary"]["total_points"], 250);
    assert_eq!(balances["summary"]["life_time_points"], 1250);
    assert_eq!(balances["details"][0]["point_account_id"], demo::POINT_ACCOUNT_ID);
    assert!(balances["details"][0]["available_balance"].is_number());
    assert!(!u.contains_key("point_account_balances"), "not at the top level");
    // Not expanded: none of them.
    let (_, v) = t.core(Method::GET, &format!("/users/{}", demo::USER_ID), None).await;
    assert!(v["user"].get("tier_details").is_none() && v["user"].get("tier").is_none());
}

// §5.7 [K]: the user object names `auth_token`; the simulator issues none.
#[tokio::test]
async fn core_user_carries_auth_token() {
    let t = sim().await;
    for path in [format!("/users/{}", demo::USER_ID), format!("/external/users/{}", demo::USER_EXTERNAL_ID)] {
        let (_, v) = t.core(Method::GET, &path, None).await;
        assert_eq!(v["user"].get("auth_token"), Some(&Value::Null), "{path}");
    }
    let (_, v) = t
        .core(
            Method::POST,
            "/users",
            Some(json!({"user": {"email": "ola@example.com", "first_name": "Ola"}})),
        )
        .await;
    assert_eq!(v["user"].get("auth_token"), Some(&Value::Null));
}

// Checklist 24: an empty list removes every phone number and reads back as null.
#[tokio::test]
async fn core_put_with_empty_phone_numbers_reads_back_null() {
    let t = sim().await;
    let path = format!("/users/{}", demo::USER_ID);
    let (s, v) = t.core(Method::PUT, &path, Some(json!({"user": {"phone_numbers": []}}))).await;
    assert_eq!((s, &v["status"]), (200, &json!("ok")));
    let (_, v) = t.core(Method::GET, &path, None).await;
    assert_eq!(v["user"]["phone_numbers"], Value::Null);
    let (_, v) = t.pos("lookup", json!({"phone": demo::USER_PHONE})).await;
    assert_eq!(code(&v), "user_not_found");
}

// §6 [K]: phone_numbers is replaced wholesale.
#[tokio::test]
async fn core_put_replaces_phone_numbers_wholesale() {
    let t = sim().await;
    let path = format!("/external/users/{}", demo::USER_EXTERNAL_ID);
    let body = json!({"user": {"phone_numbers": [{"phone_number": "4798765432", "phone_type": "mobile"}]}});
    t.core(Method::PUT, &path, Some(body)).await;
    let (_, v) = t.core(Method::GET, &path, None).await;
    assert_eq!(v["user"]["phone_numbers"].as_array().unwrap().len(), 1);
    assert_eq!(v["user"]["phone_numbers"][0]["phone_number"], "4798765432");
}

// Checklist 24: re-sending identical data answers 200.
#[tokio::test]
async fn core_identical_put_is_a_harmless_200() {
    let t = sim().await;
    let path = format!("/users/{}", demo::USER_ID);
    let body = json!({"user": {"first_name": "Kari", "last_name": "Nordmann", "email": demo::USER_EMAIL}});
    let (s1, a) = t.core(Method::PUT, &path, Some(body.clone())).await;
    t.advance_secs(60);
    let (s2, b) = t.core(Method::PUT, &path, Some(body)).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(a, b, "nothing changed, not even updated_at");
}

// Checklist 25: two profiles may share a phone number.
#[tokio::test]
async fn core_second_profile_with_the_same_phone_is_allowed() {
    let t = sim().await;
    let (_, v) = t
        .core(Method::POST, "/users", Some(new_user("other@example.com", demo::USER_PHONE, "1990-01-01")))
        .await;
    assert_eq!(v["status"], "ok");
}

// §8.3 alternative: phone uniqueness enforced.
#[tokio::test]
async fn core_shared_phone_is_refused_with_setting() {
    let mut s = SessionmSettings::default();
    s.core_phone_unique = true;
    let t = sim_with(s).await;
    let (s, v) = t
        .core(Method::POST, "/users", Some(new_user("other@example.com", demo::USER_PHONE, "1990-01-01")))
        .await;
    assert_eq!((s, code(&v)), (200, "phone_taken"));
    let body = json!({"user": {"phone_numbers": [{"phone_number": demo::USER_PHONE}]}});
    let (_, v) = t.core(Method::PUT, &format!("/users/{}", demo::OLA_USER_ID), Some(body)).await;
    assert_eq!(code(&v), "phone_taken");
}

// Checklist 25: a second profile with an e-mail in use is refused.
#[tokio::test]
async fn core_second_profile_with_an_email_in_use_is_refused() {
    let t = sim().await;
    let (s, v) = t
        .core(
            Method::POST,
            "/users",
            Some(new_user(&demo::USER_EMAIL.to_uppercase(), "4793333333", "1990-01-01")),
        )
        .await;
    assert_eq!((s, &v["status"], code(&v)), (200, &json!("error"), "email_taken"));
}

// Checklist 25, §6 [D], §8.3: an e-mail identifies at most one profile on update too, in the
// Core error shape; a profile keeping its own e-mail (even one two seeded profiles share)
// is a harmless 200.
#[tokio::test]
async fn core_put_taking_an_email_in_use_is_refused() {
    let t = sim().await;
    let ola = format!("/users/{}", demo::OLA_USER_ID);
    let body = json!({"user": {"email": demo::USER_EMAIL.to_uppercase()}});
    let (s, v) = t.core(Method::PUT, &ola, Some(body.clone())).await;
    assert_eq!((s, &v["status"], code(&v)), (200, &json!("error"), "email_taken"));
    let (s, v) = t.core(Method::PUT, "/external/users/CARD-0002", Some(body)).await;
    assert_eq!((s, code(&v)), (200, "email_taken"));
    let (_, v) = t.core(Method::GET, &ola, None).await;
    assert_eq!(v["user"]["email"], "ola.nordmann@example.com");
    assert_eq!(t.probe.users_by_email(demo::SHARED_EMAIL).len(), 2, "the seed shares one");
    let (s, v) = t
        .core(
            Method::PUT,
            &format!("/users/{}", demo::PER_USER_ID),
            Some(json!({"user": {"email": demo::SHARED_EMAIL, "first_name": "Per"}})),
        )
        .await;
    assert_eq!((s, &v["status"]), (200, &json!("ok")), "{v}");
}

#[tokio::test]
async fn core_body_without_user_wrapper_is_missing_data() {
    let t = sim().await;
    let (s, v) = t.core(Method::POST, "/users", Some(json!({"email": "x@example.com"}))).await;
    assert_eq!((s, code(&v)), (200, "missing_data"));
}

#[tokio::test]
async fn core_unknown_user_member_is_refused() {
    let t = sim().await;
    let (_, v) = t
        .core(Method::POST, "/users", Some(json!({"user": {"email": "x@example.com", "mobile": "47"}})))
        .await;
    assert_eq!(code(&v), "validation");
    assert!(v["errors"]["user"]["mobile"].is_array());
}

// §2, §6: Core has its own credentials; the path's api_key must be the tenant's.
#[tokio::test]
async fn core_call_with_wrong_secret_is_401_access_denied() {
    let t = sim().await;
    let path = format!("/priv/v1/apps/{}/users/{}", demo::API_KEY, demo::USER_ID);
    let (s, v) = t.send(Method::GET, &path, Some((demo::API_KEY, "wrong")), None).await;
    assert_eq!((s, code(&v)), (401, "access_denied"));
    let (s, _) = t.send(Method::GET, &path, Some(POS), None).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn core_path_with_another_api_key_is_401() {
    let t = sim().await;
    let (s, v) =
        t.send(Method::GET, &format!("/priv/v1/apps/other/users/{}", demo::USER_ID), Some(CORE), None).await;
    assert_eq!((s, code(&v)), (401, "invalid_api_key"));
}

#[tokio::test]
async fn core_created_user_is_found_by_pos_lookup() {
    let t = sim().await;
    let (_, v) =
        t.core(Method::POST, "/users", Some(new_user("nora@example.com", "4791111111", "1990-05-17"))).await;
    let (_, l) = t.pos("lookup", json!({"email": "nora@example.com"})).await;
    assert_eq!(ok(&l)["user_id"], v["user"]["id"]);
    assert_eq!(ok(&l)["offers"], json!([]));
}
