//! The Diller simulator under hostile input: secrets however they are encoded, oversized bodies
//! and bad percent-encoding, each answered in Diller's own shape after the auth check.

use std::time::Duration;

use loyalty_sim::{
    diller::{demo, DillerSettings, DillerSim, MAX_BODY_BYTES},
    SimClock, SimServer,
};
use reqwest::StatusCode;
use serde_json::Value;

const STORE: &str = "/api/v2.0/stores/demo-client";

async fn sim() -> SimServer {
    DillerSim::start(DillerSettings::default(), SimClock::default()).await.unwrap()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

async fn token(s: &SimServer) -> String {
    let r = http()
        .post(format!("{}/connect/token", s.base_url()))
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=api.retailer")
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

/// Status, content type and body of a reply.
async fn read(r: reqwest::Response) -> (StatusCode, String, Value) {
    let status = r.status();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = r.text().await.unwrap();
    (status, ct, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn percent_encoded_client_secret_never_reaches_the_journal() {
    let s = sim().await;
    let secret = demo::CLIENT_SECRET.replace('-', "%2D");
    let body = format!("grant_type=client_credentials&client_id=demo-client&client%5Fsecret={secret}");
    let r = http()
        .post(format!("{}/connect/token", s.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the secret was accepted, so it was really sent");
    let dump = format!("{:?}", s.handle().journal().entries());
    assert!(!dump.contains("9f8e7d"), "{dump}");
    assert!(dump.contains("client%5Fsecret=[redacted]"), "{dump}");
}

#[tokio::test]
async fn secret_in_a_json_body_with_an_escaped_key_is_redacted() {
    let s = sim().await;
    let t = token(&s).await;
    http()
        .post(format!("{}{STORE}/departments", s.base_url()))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(r#"{"id":"x","name":"y","client\u005fsecret":"leak-42","password":"pw-17"}"#)
        .send()
        .await
        .unwrap();
    let dump = format!("{:?}", s.handle().journal().entries());
    assert!(!dump.contains("leak-42") && !dump.contains("pw-17"), "{dump}");
}

#[tokio::test]
async fn oversized_body_without_a_token_is_401_first() {
    let s = sim().await;
    let r = http()
        .post(format!("{}{STORE}/departments", s.base_url()))
        .header("content-type", "application/json")
        .body(vec![b' '; MAX_BODY_BYTES + 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn oversized_body_is_413_problem_details() {
    let s = sim().await;
    let t = token(&s).await;
    // 3 MiB: between the old 2 MiB extractor limit and 16 MiB, once answered in plain text.
    let r = http()
        .post(format!("{}{STORE}/departments", s.base_url()))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(vec![b'{'; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    let (status, ct, body) = read(r).await;
    assert_eq!(status, 413);
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    assert_eq!(body["status"], 413, "{body}");
    let entry = s.handle().journal().entries().pop().unwrap();
    assert_eq!(entry.status, 413);
    assert!(entry.body.len() < 70 * 1024, "the journal keeps a capped prefix only");
}

#[tokio::test]
async fn body_above_16_mib_is_413_not_an_empty_body() {
    let s = sim().await;
    let t = token(&s).await;
    let r = http()
        .post(format!("{}{STORE}/departments", s.base_url()))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(vec![b'x'; 17 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    let (status, _, body) = read(r).await;
    assert_eq!(status, 413, "{body}");
    assert!(!body.to_string().contains("non-empty"), "{body}");
}

#[tokio::test]
async fn bad_percent_encoding_in_the_path_is_400_problem_details() {
    let s = sim().await;
    let t = token(&s).await;
    let r = http()
        .get(format!("{}{STORE}/members/%FF%FE/coupons", s.base_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let (status, ct, body) = read(r).await;
    assert_eq!(status, 400);
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    assert_eq!(body["status"], 400, "{body}");
}

#[tokio::test]
async fn bad_percent_encoding_without_a_token_is_401() {
    let s = sim().await;
    let r = http().get(format!("{}{STORE}/members/%FF/coupons", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_body_at_the_limit_is_read_whole() {
    let s = sim().await;
    let t = token(&s).await;
    let mut body = br#"{"id":"big","name":""#.to_vec();
    body.resize(MAX_BODY_BYTES - 2, b'n');
    body.extend_from_slice(br#""}"#);
    let r = http()
        .post(format!("{}{STORE}/departments", s.base_url()))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

// ------------------------------------------------------------------ amounts past the decimal range

fn member_path(rest: &str) -> String {
    format!("{STORE}/members/{}{rest}", demo::MEMBER_ID)
}

/// Posts a JSON body with a fresh token; answers status, content type and body.
async fn post_json(s: &SimServer, path: &str, body: Value) -> (StatusCode, String, Value) {
    let t = token(s).await;
    read(http().post(format!("{}{path}", s.base_url())).bearer_auth(&t).json(&body).send().await.unwrap())
        .await
}

fn number(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// A sale of one line whose amounts are given as JSON number text.
fn sale(ext: &str, quantity: &str, unit_price: &str, line_total: &str, total: &str) -> Value {
    serde_json::json!({
        "external_id": ext, "total": number(total), "currency": "NOK",
        "details": [{"product": {"external_id": "COF-500"}, "quantity": number(quantity),
                     "unit_price": number(unit_price), "total_price": number(line_total)}]
    })
}

/// A 400 problem-details reply whose `errors` names `field`.
fn assert_names(reply: &(StatusCode, String, Value), field: &str) {
    let (status, ct, body) = reply;
    assert_eq!(*status, 400, "{body}");
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    assert!(body["errors"][field].is_array(), "{field} in {body}");
}

#[tokio::test]
async fn line_quantity_times_price_past_the_decimal_range_is_a_validation_error() {
    let s = sim().await;
    let body = sale("Order-1", "1000000000000000", "1000000000000000", "1", "1");
    let reply = post_json(&s, &member_path("/transactions"), body).await;
    assert_names(&reply, "details[0].quantity");
}

#[tokio::test]
async fn points_past_the_decimal_range_are_a_validation_error_on_total() {
    let s = sim().await;
    // The non-eligible gift card's negative total makes total − excluded pass the range.
    let body = serde_json::json!({
        "external_id": "Order-1", "total": number("5e28"),
        "details": [{"product": {"external_id": "GIFT-CARD"}, "quantity": 1,
                     "unit_price": number("-5e28"), "total_price": number("-5e28")}]
    });
    let reply = post_json(&s, &member_path("/transactions"), body).await;
    assert_names(&reply, "total");
}

#[tokio::test]
async fn a_balance_pushed_past_the_decimal_range_refuses_the_sale() {
    let (s, probe) =
        DillerSim::start_with_probe(DillerSettings::default(), SimClock::default()).await.unwrap();
    let first =
        post_json(&s, &member_path("/transactions"), sale("Order-1", "1", "5e28", "5e28", "5e28")).await;
    assert_eq!(first.0, 200, "{}", first.2);
    let before = probe.member_points(demo::MEMBER_ID);
    let second =
        post_json(&s, &member_path("/transactions"), sale("Order-2", "1", "5e28", "5e28", "5e28")).await;
    assert_names(&second, "total");
    assert_eq!(probe.member_points(demo::MEMBER_ID), before, "nothing changed");
}

#[tokio::test]
async fn refunds_summing_past_the_decimal_range_exceed_the_original() {
    let s = sim().await;
    let ok = post_json(&s, &member_path("/transactions"), sale("Order-1", "1", "5e28", "5e28", "5e28")).await;
    assert_eq!(ok.0, 200, "{}", ok.2);
    let path = member_path("/transactions/Order-1/refund");
    let refund = |id: &str| serde_json::json!({"external_id": id, "total": number("4e28")});
    let first = post_json(&s, &path, refund("R-1")).await;
    assert_eq!(first.0, 200, "{}", first.2);
    // 4e28 + 4e28 passes the decimal range: certainly more than the original total.
    let second = post_json(&s, &path, refund("R-2")).await;
    assert_eq!(second.0, 400, "{}", second.2);
    assert!(second.2.to_string().contains("exceed"), "{}", second.2);
}

/// §7.5: the token's `expires_in` may be "any number of seconds": a lifetime past the last
/// date chrono holds is a token that never lapses, issued with the configured `expires_in`,
/// not a panic answered 500.
#[tokio::test]
async fn a_token_lifetime_of_any_size_is_issued() {
    for secs in [10_000_000_000_000_u64, u64::MAX] {
        let mut settings = DillerSettings::default();
        settings.token_expires_in_secs = secs;
        let s = DillerSim::start(settings, SimClock::default()).await.unwrap();
        let r = http()
            .post(format!("{}/connect/token", s.base_url()))
            .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
            .form(&[("grant_type", "client_credentials"), ("scope", demo::SCOPE)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "expires_in {secs}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["expires_in"].as_u64(), Some(secs), "{body}");
        let bearer = body["access_token"].as_str().unwrap().to_owned();
        let member = http()
            .get(format!("{}{STORE}/members?phone=%2B4791234567", s.base_url()))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
        assert_ne!(member.status(), StatusCode::UNAUTHORIZED, "the token is live");
    }
}
