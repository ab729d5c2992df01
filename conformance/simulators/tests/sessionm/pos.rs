//! POS container, auth and `request_id` idempotency (§2, §3.1, §3.2, §7.5).

use loyalty_sim::sessionm::PosErrorStatus;

use super::*;

fn lookup_kari() -> Value {
    json!({"email": demo::USER_EMAIL})
}

// Checklist 2.
#[tokio::test]
async fn pos_call_without_basic_header_is_401() {
    let t = sim().await;
    let (s, v) = t.send(Method::POST, "/api/2.0/lookup", None, Some(t.envelope(lookup_kari()))).await;
    assert_eq!(s, 401);
    assert_eq!(code(&v), "unauthorized");
}

// Checklist 2.
#[tokio::test]
async fn pos_call_with_wrong_secret_is_401_with_basic_challenge() {
    let t = sim().await;
    let r = t
        .http
        .post(t.url("/api/2.0/lookup"))
        .basic_auth(demo::POS_KEY, Some("wrong"))
        .json(&t.envelope(lookup_kari()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"SessionM\"");
}

// Checklist 2: each family has its own credentials.
#[tokio::test]
async fn pos_call_with_connect_or_core_credentials_is_401() {
    let t = sim().await;
    for auth in [CONNECT, CORE] {
        let (s, _) =
            t.send(Method::POST, "/api/2.0/lookup", Some(auth), Some(t.envelope(lookup_kari()))).await;
        assert_eq!(s, 401);
    }
}

// Checklist 1: Content-Type application/json is mandatory (§2).
#[tokio::test]
async fn pos_call_without_json_content_type_is_400() {
    let t = sim().await;
    let r = t
        .http
        .post(t.url("/api/2.0/lookup"))
        .basic_auth(POS.0, Some(POS.1))
        .header("content-type", "text/plain")
        .body(t.envelope(lookup_kari()).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "unsupported_content_type");
}

#[tokio::test]
async fn pos_body_that_is_not_json_is_400() {
    let t = sim().await;
    let r = t
        .http
        .post(t.url("/api/2.0/lookup"))
        .basic_auth(POS.0, Some(POS.1))
        .header("content-type", "application/json")
        .body("{\"store_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

// Checklist 3: success is status "OK" with a payload.
#[tokio::test]
async fn pos_success_answers_status_upper_case_ok() {
    let t = sim().await;
    let (s, v) = t.pos("lookup", lookup_kari()).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("OK")));
    assert!(v.get("errors").is_none());
}

// Checklist 1: `culture` is the one optional member of the container (§3.1): a lookup without
// it is answered like any other.
#[tokio::test]
async fn pos_lookup_without_culture_answers_ok() {
    let t = sim().await;
    let mut body = t.envelope(lookup_kari());
    assert!(body.as_object_mut().unwrap().remove("culture").is_some());
    let (s, v) = t.pos_body("lookup", body).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("OK")), "{v}");
    assert!(v.get("errors").is_none(), "{v}");
    assert_eq!(ok(&v)["user"]["id"], demo::USER_ID);
}

// Checklist 1: the container needs store_id, client_id, request_id, request_payload.
#[tokio::test]
async fn pos_container_without_request_id_is_validation_error_naming_it() {
    let t = sim().await;
    let mut body = t.envelope(lookup_kari());
    body.as_object_mut().unwrap().remove("request_id");
    let (s, v) = t.pos_body("lookup", body).await;
    assert_eq!((s, code(&v)), (200, "validation"));
    assert!(v["errors"]["fields"]["request_id"].is_array(), "{v}");
}

// Checklist 1: a misspelled container member is refused (strict simulator).
#[tokio::test]
async fn pos_container_with_misspelled_member_is_refused() {
    let t = sim().await;
    let mut body = t.envelope(lookup_kari());
    let payload = body.as_object_mut().unwrap().remove("request_payload").unwrap();
    body["requestPayload"] = payload;
    let (_, v) = t.pos_body("lookup", body).await;
    assert_eq!(code(&v), "validation");
    assert!(
        v["errors"]["fields"]["requestPayload"].is_array()
            && v["errors"]["fields"]["request_payload"].is_array()
    );
}

#[tokio::test]
async fn pos_unknown_client_id_is_refused() {
    let t = sim().await;
    let mut body = t.envelope(lookup_kari());
    body["client_id"] = json!(demo::RETAILER_ID);
    let (_, v) = t.pos_body("lookup", body).await;
    assert_eq!(code(&v), "invalid_client_id");
}

#[tokio::test]
async fn pos_unknown_store_is_refused() {
    let t = sim().await;
    let (_, v) = t.pos_body("lookup", t.envelope_at("NOPE-1", lookup_kari())).await;
    assert_eq!(code(&v), "store_not_found");
}

// Checklist 3 / §8.3: business errors are HTTP 200 with status "error".
#[tokio::test]
async fn pos_business_error_is_http_200_with_error_status() {
    let t = sim().await;
    let (s, v) = t.pos("lookup", json!({"email": "nobody@example.com"})).await;
    assert_eq!((s, v["status"].as_str(), code(&v)), (200, Some("error"), "user_not_found"));
    assert!(v["errors"]["message"].is_string());
}

// §8.3 alternative: business errors as HTTP 400.
#[tokio::test]
async fn pos_business_error_is_http_400_with_setting() {
    let mut s = SessionmSettings::default();
    s.pos_business_error_status = PosErrorStatus::Http400;
    let t = sim_with(s).await;
    let (status, v) = t.pos("lookup", json!({"email": "nobody@example.com"})).await;
    assert_eq!((status, code(&v)), (400, "user_not_found"));
}

// Checklist 14: same request_id and body → the stored response, no second effect.
#[tokio::test]
async fn same_request_id_and_body_replays_stored_response_without_second_effect() {
    let t = sim().await;
    let body = t
        .envelope(json!({"offer_lookup_code": demo::UO_FIXED_CHECK, "offer_lookup_type": "UserOfferId",
                                 "transaction": basket("T-REPLAY", &[(demo::ITEM_COFFEE, 1)])}));
    let (_, first) = t.pos_body("redeem", body.clone()).await;
    assert_eq!(ok(&first)["status"], "redeemed");
    t.advance_secs(60);
    let (s, second) = t.pos_body("redeem", body).await;
    assert_eq!(s, 200);
    assert_eq!(second, first, "byte-identical replay, applied_time included");
    // A second, fresh redeem would fail: the replay did not run the operation again.
    let (_, fresh) = t.redeem(demo::UO_FIXED_CHECK, basket("T-REPLAY", &[(demo::ITEM_COFFEE, 1)])).await;
    assert_eq!(code(&fresh), "offer_not_available");
}

// Checklist 14: same request_id with another body is rejected.
#[tokio::test]
async fn same_request_id_with_different_body_is_rejected() {
    let t = sim().await;
    let body = t.envelope(lookup_kari());
    t.pos_body("lookup", body.clone()).await;
    let mut other = body.clone();
    other["request_payload"] = json!({"phone": demo::USER_PHONE});
    let (_, v) = t.pos_body("lookup", other).await;
    assert_eq!(code(&v), "request_id_reused");
    // On another operation the same id is rejected too.
    let (_, v) = t.pos_body("unlock", body).await;
    assert_eq!(code(&v), "request_id_reused");
}

// §7.5: a request whose id is still being processed → "pending processing".
#[tokio::test]
async fn request_id_still_in_flight_answers_pending_processing() {
    let t = sim().await;
    let body = t
        .envelope(json!({"offer_lookup_code": demo::UO_FIXED_CHECK, "offer_lookup_type": "UserOfferId",
                                 "transaction": basket("T-PEND", &[(demo::ITEM_COFFEE, 1)])}));
    t.probe.hold_processing();
    let (http, url, first_body) = (t.http.clone(), t.url("/api/2.0/lock"), body.clone());
    let first = tokio::spawn(async move {
        let r = http.post(url).basic_auth(POS.0, Some(POS.1)).json(&first_body).send().await.unwrap();
        r.json::<Value>().await.unwrap()
    });
    tokio::time::timeout(Duration::from_secs(5), t.probe.wait_until_held(1)).await.unwrap();
    let (_, second) = t.pos_body("lock", body.clone()).await;
    assert_eq!(code(&second), "pending_processing");
    t.probe.release_processing();
    let first = first.await.unwrap();
    assert_eq!(ok(&first)["status"], "locked");
    let (_, third) = t.pos_body("lock", body).await;
    assert_eq!(third, first);
}

// §7.5 / §8.3: the replay window is 24 hours of simulator clock.
#[tokio::test]
async fn request_id_is_forgotten_after_twenty_four_hours() {
    let t = sim().await;
    let body = t.envelope(lookup_kari());
    t.pos_body("lookup", body.clone()).await;
    let id = body["request_id"].as_str().unwrap().to_string();
    t.advance_secs(24 * 3600 - 1);
    assert!(t.probe.request_ids().contains(&id));
    t.advance_secs(1);
    assert!(!t.probe.request_ids().contains(&id));
    let mut other = body;
    other["request_payload"] = json!({"phone": demo::USER_PHONE});
    let (_, v) = t.pos_body("lookup", other).await;
    assert_eq!(ok(&v)["user_id"], demo::USER_ID);
}

// §8.3: the replay window is a setting.
#[tokio::test]
async fn replay_window_setting_shortens_the_window() {
    let mut s = SessionmSettings::default();
    s.replay_window_secs = 60;
    let t = sim_with(s).await;
    let body = t.envelope(lookup_kari());
    t.pos_body("lookup", body.clone()).await;
    t.advance_secs(60);
    assert!(t.probe.request_ids().is_empty());
}

// §5.8: field-validation details name the JSON path.
#[tokio::test]
async fn validation_error_names_nested_field_paths() {
    let t = sim().await;
    let mut b = basket("T-VAL", &[(demo::ITEM_COFFEE, 1)]);
    b["items"][0].as_object_mut().unwrap().remove("item_id");
    let (_, v) = t.lock(demo::UO_FIXED_CHECK, b).await;
    assert_eq!(code(&v), "validation");
    assert!(v["errors"]["fields"]["request_payload.transaction.items[0].item_id"].is_array(), "{v}");
}
