//! Every recorded request in `conformance/fixtures/{sessionm,diller,emanage}` is one the vendor
//! contract accepts: replayed on the simulator written from that contract (the fixture's ids
//! mapped onto the simulator's demo tenant), it draws no validation refusal the fixture did
//! not record itself, and a refusal the fixture records is one the simulator gives too. A
//! fixture whose request the contract refuses documents a wire the vendor would never answer
//! as recorded.

use std::time::Duration;

use loyalty_sim::{
    diller::{demo as dl, DillerSettings, DillerSim},
    emanage::{demo as em, EmanageSettings, EmanageSim},
    replay::Fixture,
    sessionm::{demo as sm, SessionmSettings, SessionmSim},
    SimClock,
};
use reqwest::Method;
use serde_json::{json, Value};

fn fixtures(vendor: &str) -> Vec<Fixture> {
    let dir = format!("{}/../fixtures/{vendor}", env!("CARGO_MANIFEST_DIR"));
    let all = Fixture::load_dir(dir).unwrap();
    assert!(!all.is_empty(), "no {vendor} fixtures");
    all
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// How a vendor says "your request is invalid", if `body` (answered with `status`) says so.
type Refusal = fn(u16, &Value) -> Option<String>;

/// Diller: a 400 ValidationProblemDetails with field errors (§5.8).
fn diller_refusal(status: u16, body: &Value) -> Option<String> {
    let errors = body.get("errors")?.as_object()?;
    (status == 400 && !errors.is_empty()).then(|| Value::Object(errors.clone()).to_string())
}

/// SessionM: an `errors` object whose code is one of the request-shape codes (POS, Connect and
/// Core alike).
fn sessionm_refusal(_status: u16, body: &Value) -> Option<String> {
    let code = body.get("errors")?.get("code")?.as_str()?;
    let shape = ["validation", "invalid_json", "unsupported_content_type", "missing_data", "argument_error"];
    shape.iter().any(|c| c.eq_ignore_ascii_case(code)).then(|| body["errors"].to_string())
}

/// eManage: a 400 whose `modelState` names the fields (§10).
fn emanage_refusal(status: u16, body: &Value) -> Option<String> {
    let state = body.get("modelState").or_else(|| body.get("ModelState"))?;
    (status == 400).then(|| state.to_string())
}

/// The problem with one replayed fixture, if any: a validation refusal the recording does not
/// show, or a recorded refusal (a forged price, a duplicate) the simulator does not give.
fn judge(f: &Fixture, status: u16, text: &str, refusal: Refusal) -> Option<String> {
    let got = refusal(status, &json_of(text));
    let recorded = refusal(f.response.status, &json_of(&f.response.body));
    match (recorded, got) {
        (None, Some(got)) => {
            Some(format!("{}: recorded {}, simulator refuses {status} {got}", f.name, f.response.status))
        }
        (Some(rec), None) => {
            Some(format!("{}: recorded refusal {rec}, simulator answers {status} {text}", f.name))
        }
        _ => None,
    }
}

fn request(c: &reqwest::Client, f: &Fixture, url: String, body: String) -> reqwest::RequestBuilder {
    let method = Method::from_bytes(f.request.method.as_bytes()).unwrap();
    let mut rb = c.request(method, url);
    for (k, v) in &f.request.headers {
        if !matches!(k.as_str(), "x_cid" | "authorization" | "host" | "content-length") {
            rb = rb.header(k.as_str(), v.as_str());
        }
    }
    if !body.is_empty() {
        rb = rb.body(body);
    }
    rb
}

fn report(vendor: &str, refused: Vec<String>) {
    assert!(
        refused.is_empty(),
        "{vendor} fixture requests the contract's simulator refuses:\n{}",
        refused.join("\n")
    );
}

#[tokio::test]
async fn sessionm_fixture_requests_pass_the_simulator_validation() {
    let c = http();
    // The fixtures' tenant and seed ids, as the simulator's demo tenant names them.
    let ids = [
        ("store-1", sm::STORE_ID),
        ("client-1", sm::CLIENT_ID),
        ("0A1B2C3D-0000-4000-8000-000000000001", sm::RETAILER_ID),
        ("replay-api-key", sm::API_KEY),
        ("5d2f6c1e-8a4b-4c3d-9e2f-1a2b3c4d5e6f", sm::USER_ID),
        ("9c1a0001-bb00-4000-8000-000000000001", sm::UO_FIXED_CHECK),
        ("9c1a0003-bb00-4000-8000-000000000003", sm::UO_BXGY_FIXED),
        ("9c1a0004-bb00-4000-8000-000000000004", sm::UO_TTL),
        ("TTL-4M8P2Z", sm::TTL_CODE),
        ("CARD-7001", sm::USER_EXTERNAL_ID),
    ];
    let map = |s: &str| ids.iter().fold(s.to_string(), |acc, (from, to)| acc.replace(from, to));
    let mut refused = Vec::new();
    for f in fixtures("sessionm") {
        // A simulator each: the fixtures reuse request ids, which one tenant refuses as replays.
        let server = SessionmSim::start(SessionmSettings::default(), SimClock::default()).await.unwrap();
        let path = map(&f.request.path_and_query);
        let (key, secret) = if path.starts_with("/api/") {
            (sm::POS_KEY, sm::POS_SECRET)
        } else if path.starts_with("/priv/") {
            (sm::API_KEY, sm::S2S_SECRET)
        } else {
            (sm::CONNECT_KEY, sm::CONNECT_SECRET)
        };
        let rb = request(&c, &f, format!("{}{path}", server.base_url()), map(&f.request.body));
        let rb = if f.response.status == 401 { rb } else { rb.basic_auth(key, Some(secret)) };
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        refused.extend(judge(&f, status, &r.text().await.unwrap(), sessionm_refusal));
    }
    report("SessionM", refused);
}

async fn diller_token(c: &reqwest::Client, base: &str) -> String {
    let v: Value = c
        .post(format!("{base}/connect/token"))
        .basic_auth(dl::CLIENT_ID, Some(dl::CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=api.retailer")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn diller_fixture_requests_pass_the_simulator_validation() {
    let server = DillerSim::start(DillerSettings::default(), SimClock::default()).await.unwrap();
    let c = http();
    let base = server.base_url().to_string();
    let token = diller_token(&c, &base).await;
    let mut refused = Vec::new();
    // In name order, so a duplicate follows its original and a refused reservation the first.
    for f in fixtures("diller") {
        let path =
            f.request.path_and_query.replace("/stores/demo-store", &format!("/stores/{}", dl::STORE_ID));
        let rb = request(&c, &f, format!("{base}{path}"), f.request.body.clone());
        let rb = if f.request.path() == "/connect/token" {
            rb.basic_auth(dl::CLIENT_ID, Some(dl::CLIENT_SECRET))
        } else {
            rb.bearer_auth(&token)
        };
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        refused.extend(judge(&f, status, &r.text().await.unwrap(), diller_refusal));
    }
    report("Diller", refused);
}

/// The fixtures' cart sessions (the open one and an upgrade session).
const EM_SESSION: &str = "3f6c1b2e-8a4d-4c7f-9e2b-5d1a0c8e7f63";
const EM_CHILD: &str = "7b2e9d41-0c3a-4f6e-8d5b-1a9c7e3f2b80";
const EM_WEB_KEY: &str = "0f4c2a9e-6b1d-4e8a-9c3f-2d5b7a1e8c40";

async fn em_call(c: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    let r = c.post(format!("{base}/api/shoppingcart/{}{path}", em::WEB_KEY)).header("x_cid", em::CID);
    let r = r.json(&body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "set-up {path}");
    r.json().await.unwrap_or(Value::Null)
}

/// A fresh session as the fixtures find it: one line of 918325 and the customer given; paid
/// when the fixture works on a paid cart (an upgrade, or a new session upgrading it).
async fn em_session(c: &reqwest::Client, base: &str, paid: bool) -> String {
    let line = json!({"productId": em::PRODUCT_BASIC, "quantity": 1, "price": "100", "shippingMethodId": em::SHIPPING_METHOD});
    let query = if paid { "?behaviorId=2" } else { "" };
    let sid = em_call(c, base, &format!("/new{query}"), json!({"product": line})).await;
    let sid = sid.as_str().unwrap().to_string();
    let customer = json!({"email": "ada@example.com", "useShippingAddressForBilling": true, "shippingAddress": {
        "firstName": "Ada", "lastName": "Lovelace", "address1": "1 Main St", "city": "Springfield",
        "zipCode": "90210", "state": "CA", "countryCode": "US"}});
    em_call(c, base, &format!("/customers/new?sessionId={sid}"), customer).await;
    if paid {
        let payment = json!({"name": "Ada Lovelace", "creditcard": em::PAN_APPROVE, "creditCardBrand": "visa",
            "expiration": em::CARD_EXPIRATION, "cvv": em::CARD_CVV});
        let body =
            json!({"behaviorId": 2, "sessionId": sid, "payment": payment, "fraudSessionId": "kount-1"});
        em_call(c, base, "/checkout", body).await;
    }
    sid
}

#[tokio::test]
async fn emanage_fixture_requests_pass_the_simulator_validation() {
    let server = EmanageSim::start(EmanageSettings::default(), SimClock::default()).await.unwrap();
    let c = http();
    let base = server.base_url().to_string();
    let mut refused = Vec::new();
    for f in fixtures("emanage") {
        let sid = em_session(&c, &base, f.name.contains("upgrade")).await;
        let child = em_session(&c, &base, false).await;
        let recorded = json_of(&f.response.body);
        // The recorded card data is redacted; the decline fixture used the declining card.
        let pan = if recorded["success"] == false { em::PAN_DECLINE } else { em::PAN_APPROVE };
        let map = |s: &str| {
            s.replace(EM_WEB_KEY, em::WEB_KEY)
                .replace(EM_SESSION, &sid)
                .replace(EM_CHILD, &child)
                .replace("\"creditcard\": \"[redacted]\"", &format!("\"creditcard\": \"{pan}\""))
                .replace("\"cvv\": \"[redacted]\"", &format!("\"cvv\": \"{}\"", em::CARD_CVV))
        };
        let rb = request(&c, &f, format!("{base}{}", map(&f.request.path_and_query)), map(&f.request.body));
        let cid = if f.response.status == 401 { "00000000-0000-4000-8000-000000000000" } else { em::CID };
        let r = rb.header("x_cid", cid).send().await.unwrap();
        let status = r.status().as_u16();
        refused.extend(judge(&f, status, &r.text().await.unwrap(), emanage_refusal));
    }
    report("eManage", refused);
}
