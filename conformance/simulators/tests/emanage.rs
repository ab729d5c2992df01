//! eManage simulator behaviour, one rule per test, over real HTTP against a started simulator
//! (the eManage contract §3-§15 and its conformance checklist; "checklist N" names the item).

#[path = "emanage/cart.rs"]
mod cart;
#[path = "emanage/checkout.rs"]
mod checkout;
#[path = "emanage/discount.rs"]
mod discount;
#[path = "emanage/orders.rs"]
mod orders;
#[path = "emanage/reads.rs"]
mod reads;
#[path = "emanage/upgrades.rs"]
mod upgrades;

use std::time::Duration;

use loyalty_sim::{
    emanage::{demo, EmanageProbe, EmanageSettings, EmanageSim, SessionStatus, SessionView},
    Fault, SimClock, SimServer,
};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub struct T {
    pub server: SimServer,
    pub probe: EmanageProbe,
    pub http: reqwest::Client,
}

pub async fn sim_with(settings: EmanageSettings) -> T {
    let (server, probe) = EmanageSim::start_with_probe(settings, SimClock::default()).await.unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    T { server, probe, http }
}

pub async fn sim() -> T {
    sim_with(EmanageSettings::default()).await
}

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// The catalogue price of a demo cart product, as the price list shows it.
pub fn price_of(product: i64) -> Decimal {
    match product {
        demo::PRODUCT_BASIC => demo::PRICE_BASIC,
        demo::PRODUCT_UPGRADE => demo::PRICE_UPGRADE,
        demo::PRODUCT_PREMIUM => demo::PRICE_PREMIUM,
        demo::PRODUCT_TIER_100 => demo::PRICE_TIER_100,
        demo::PRODUCT_TIER_60 => demo::PRICE_TIER_60,
        demo::PRODUCT_TIER_33_33 => demo::PRICE_TIER_33_33,
        demo::PRODUCT_NOT_QUALIFYING => demo::PRICE_NOT_QUALIFYING,
        _ => panic!("no demo price for {product}"),
    }
}

/// A cart line as clients send it, price from the catalogue.
pub fn line(product: i64, quantity: u32) -> Value {
    json!({"productId": product, "quantity": quantity, "price": price_of(product).to_string().parse::<f64>().unwrap(),
           "shippingMethodId": demo::SHIPPING_METHOD})
}

/// An upgrade line (§7.1): the new product's line plus the preview fields.
pub fn upgrade_line(from: i64, to: i64, quantity: u32) -> Value {
    let mut v = line(to, quantity);
    v["upgradePreviewProductId"] = json!(from);
    v["upgradePreviewQuantity"] = json!(quantity);
    v["upgradeParentSessionId"] = Value::Null;
    v
}

pub fn card(pan: &str) -> Value {
    json!({"name": "Ada Lovelace", "creditcard": pan, "creditCardBrand": "visa",
           "expiration": demo::CARD_EXPIRATION, "cvv": demo::CARD_CVV})
}

pub fn address() -> Value {
    json!({"firstName": "Ada", "lastName": "Lovelace", "address1": "1 Main St", "address2": null,
           "city": "Springfield", "zipCode": "90210", "state": "CA", "countryCode": "US", "phoneNumber": "5550100"})
}

pub fn cart_path(rest: &str) -> String {
    format!("/api/shoppingcart/{}{rest}", demo::WEB_KEY)
}

impl T {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// A Web Sales call with the demo `X_CID`.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self.http.request(method, self.url(path)).header("X_CID", demo::CID);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        read(rb.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn new_cart_raw(&self, body: Value) -> (StatusCode, Value) {
        self.post(&cart_path("/new"), body).await
    }

    /// A new session with one line; returns its id.
    pub async fn new_cart(&self, product: i64, quantity: u32) -> String {
        let (s, v) =
            self.new_cart_raw(json!({"product": line(product, quantity), "customerIP": "203.0.113.7"})).await;
        assert_eq!(s, 200, "{v}");
        v.as_str().unwrap().to_string()
    }

    pub async fn add(&self, sid: &str, body: Value) -> (StatusCode, Value) {
        self.post(&cart_path(&format!("/add?sessionId={sid}")), body).await
    }

    pub async fn cart(&self, sid: &str) -> Value {
        let (s, v) = self.get(&cart_path(&format!("?sessionId={sid}"))).await;
        assert_eq!(s, 200, "{v}");
        v
    }

    pub async fn customer(&self, sid: &str) {
        let body = json!({"email": "ada@example.com", "useShippingAddressForBilling": true, "shippingAddress": address()});
        let (s, v) = self.post(&cart_path(&format!("/customers/new?sessionId={sid}")), body).await;
        assert_eq!(s, 200, "{v}");
    }

    pub async fn checkout(&self, sid: &str, payment: Value) -> (StatusCode, Value) {
        let body =
            json!({"behaviorId": 1, "sessionId": sid, "payment": payment, "fraudSessionId": "kount-1"});
        self.post(&cart_path("/checkout"), body).await
    }

    /// A cart with these lines, paid by `payment` (customer given first).
    pub async fn cart_with(&self, lines: &[(i64, u32)]) -> String {
        let sid = self.new_cart(lines[0].0, lines[0].1).await;
        for (p, q) in &lines[1..] {
            let (s, v) = self.add(&sid, line(*p, *q)).await;
            assert_eq!(s, 200, "{v}");
        }
        sid
    }

    /// A cart with these lines, paid by card.
    pub async fn paid_cart(&self, lines: &[(i64, u32)], pan: &str) -> String {
        let sid = self.cart_with(lines).await;
        self.customer(&sid).await;
        let (s, v) = self.checkout(&sid, card(pan)).await;
        assert_eq!((s.as_u16(), &v["success"]), (200, &json!(true)), "{v}");
        sid
    }

    /// A cart with these lines, paid by PayPal (processor 5) and confirmed.
    pub async fn paid_offline(&self, lines: &[(i64, u32)]) -> String {
        let sid = self.cart_with(lines).await;
        self.customer(&sid).await;
        let (s, v) = self.checkout(&sid, json!({"paymentProcessorId": demo::PROCESSOR_PAYPAL})).await;
        assert_eq!(s, 200, "{v}");
        assert!(self.probe.confirm_payment(&sid));
        sid
    }

    pub async fn upgrade(&self, sid: &str, from: i64, to: i64, quantity: u32) -> (StatusCode, Value) {
        self.add(sid, upgrade_line(from, to, quantity)).await
    }

    pub fn session(&self, sid: &str) -> SessionView {
        self.probe.session(sid).unwrap()
    }

    pub fn advance(&self, secs: u64) {
        self.server.handle().clock().advance(Duration::from_secs(secs));
    }
}

pub async fn read(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A JSON number for a decimal, as the simulator writes it.
pub fn n(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

// ------------------------------------------------------------------ auth (§3, checklist 1)

#[tokio::test]
async fn call_without_x_cid_is_401_with_message() {
    // checklist 1
    let t = sim().await;
    let r = t.http.get(t.url(&cart_path("?sessionId=x"))).send().await.unwrap();
    let (s, v) = read(r).await;
    assert_eq!(s, 401);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
}

#[tokio::test]
async fn unknown_x_cid_is_401() {
    // checklist 1
    let t = sim().await;
    for cid in ["00000000-0000-4000-8000-000000000000", "not-a-guid", ""] {
        let r = t
            .http
            .get(t.url(&format!("/api/campaigns/{}/products/prices", demo::WEB_KEY)))
            .header("X_CID", cid)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{cid}");
    }
}

#[tokio::test]
async fn x_cid_header_name_is_accepted_in_any_letter_case() {
    // checklist 1
    let t = sim().await;
    for name in ["X_CID", "x_cid", "X_Cid"] {
        let r = t
            .http
            .get(t.url(&format!("/api/campaigns/{}/products/prices", demo::WEB_KEY)))
            .header(name, demo::CID)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
    }
}

#[tokio::test]
async fn x_cid_in_upper_case_is_the_same_client() {
    // §3: GUIDs are seen in both cases.
    let t = sim().await;
    let r = t
        .http
        .get(t.url(&format!("/api/campaigns/{}/products/prices", demo::WEB_KEY.to_uppercase())))
        .header("X_CID", demo::CID.to_uppercase())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn hyphenated_x_cid_header_counts_as_missing() {
    // §3: the name has an underscore; `X-CID` is another header.
    let t = sim().await;
    let r = t
        .http
        .get(t.url(&format!("/api/campaigns/{}/products/prices", demo::WEB_KEY)))
        .header("X-CID", demo::CID)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn web_key_of_another_client_is_404_with_message() {
    // §10: a web key not belonging to the CID.
    let t = sim().await;
    let (s, v) = t.get(&format!("/api/campaigns/{}/products/prices", demo::OTHER_WEB_KEY)).await;
    assert_eq!(s, 404);
    assert!(v["message"].is_string());
    let r = t
        .http
        .get(t.url(&format!("/api/campaigns/{}/products/prices", demo::OTHER_WEB_KEY)))
        .header("X_CID", demo::OTHER_CID)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn unknown_web_key_is_404() {
    let t = sim().await;
    let (s, _) = t.get("/api/campaigns/11111111-2222-4333-8444-555555555555/products/prices").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_verb_is_405_with_message() {
    let t = sim().await;
    let (s, v) = t.get("/api/nothing/here").await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (404, true));
    let (s, v) = t.call(Method::DELETE, &cart_path("/new"), None).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (405, true));
}

#[tokio::test]
async fn journal_never_contains_cid_card_data_or_reporting_password() {
    let t = sim().await;
    let sid = t.paid_cart(&[(demo::PRODUCT_BASIC, 1)], demo::PAN_APPROVE).await;
    t.http
        .post(t.url("/auth"))
        .basic_auth(demo::REPORTING_USER, Some(demo::REPORTING_PASSWORD))
        .send()
        .await
        .unwrap();
    let dump = format!("{:?}", t.server.handle().journal().entries());
    assert!(dump.contains(&sid), "the journal records the calls");
    for secret in [demo::CID, demo::PAN_APPROVE, demo::REPORTING_PASSWORD] {
        assert!(!dump.contains(secret), "{secret} leaked: {dump}");
    }
    assert!(!dump.contains(&format!("\"cvv\":\"{}\"", demo::CARD_CVV)), "{dump}");
}

// ------------------------------------------------------------------ campaign reads (§6.1, §5.3)

#[tokio::test]
async fn prices_object_form_has_prices_location_and_campaign_name() {
    let t = sim().await;
    let (s, v) = t.get(&format!("/api/campaigns/{}/products/prices", demo::WEB_KEY)).await;
    assert_eq!(s, 200);
    assert_eq!(v["location"], json!({"countryCode": "US", "regionCode": "CA"}));
    assert!(v["campaignName"].is_string());
    let ids: Vec<i64> =
        v["prices"].as_array().unwrap().iter().map(|p| p["productId"].as_i64().unwrap()).collect();
    assert!(ids.contains(&demo::PRODUCT_BASIC) && ids.contains(&demo::PRODUCT_PREMIUM), "{ids:?}");
}

#[tokio::test]
async fn price_object_has_pascal_case_prices_and_first_shipping_method() {
    // §5.3
    let t = sim().await;
    let (_, v) = t.get(&format!("/api/campaigns/{}/products/prices", demo::WEB_KEY)).await;
    let p = v["prices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["productId"] == demo::PRODUCT_UPGRADE)
        .unwrap()
        .clone();
    assert_eq!(p["productPrices"]["DiscountedPrice"], json!({"Value": 120, "FormattedValue": "$120.00"}));
    assert_eq!(p["productPrices"]["FullRetailPrice"]["Value"], 300);
    assert_eq!(p["productPrices"]["UnitDiscountRate"]["Value"], 60);
    assert_eq!(p["quantity"], 2);
    assert_eq!(p["shippings"][0]["shippingMethodId"], demo::SHIPPING_METHOD);
    assert_eq!(p["shippings"][0]["price"], 0);
}

#[tokio::test]
async fn prices_with_country_are_a_bare_array_and_empty_for_other_countries() {
    // §5.3: the older `/{countryCode}` variant.
    let t = sim().await;
    let (s, v) = t.get(&format!("/api/campaigns/{}/products/prices/us", demo::WEB_KEY)).await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 7);
    let (_, v) = t.get(&format!("/api/campaigns/{}/products/prices/FR", demo::WEB_KEY)).await;
    assert_eq!(v, json!([]));
}

#[tokio::test]
async fn location_answers_country_and_region_code() {
    let t = sim().await;
    let (s, v) = t.get(&format!("/api/campaigns/{}/customers/location", demo::WEB_KEY)).await;
    assert_eq!((s.as_u16(), &v["countryCode"], &v["regionCode"]), (200, &json!("US"), &json!("CA")));
}

#[tokio::test]
async fn upsells_list_upsell_url_of_each_step() {
    let t = sim().await;
    let (_, v) = t.get(&format!("/api/campaigns/{}/upsells", demo::WEB_KEY_OFFER)).await;
    assert!(v[0]["upsellUrl"].as_str().is_some_and(|u| u.starts_with("https://")), "{v}");
    let (_, v) = t.get(&format!("/api/campaigns/{}/upsells", demo::WEB_KEY)).await;
    assert_eq!(v, json!([]));
}

#[tokio::test]
async fn campaign_change_is_served_after_the_cache_staleness() {
    // §1 / §15.2 campaign-cache staleness: default 0 serves at once; here 30 minutes.
    let mut settings = EmanageSettings::default();
    settings.campaign_cache_staleness_secs = 1800;
    let t = sim_with(settings).await;
    assert!(t.probe.set_product_price(demo::WEB_KEY, demo::PRODUCT_BASIC, d("90")));
    let price = |v: &Value| {
        v["prices"].as_array().unwrap().iter().find(|p| p["productId"] == demo::PRODUCT_BASIC).unwrap()
            ["productPrices"]["DiscountedPrice"]["Value"]
            .clone()
    };
    let (_, v) = t.get(&format!("/api/campaigns/{}/products/prices", demo::WEB_KEY)).await;
    assert_eq!(price(&v), 100);
    t.advance(1800);
    let (_, v) = t.get(&format!("/api/campaigns/{}/products/prices", demo::WEB_KEY)).await;
    assert_eq!(price(&v), 90);
}

#[tokio::test]
async fn campaign_change_is_served_at_once_by_default() {
    let t = sim().await;
    t.probe.set_product_price(demo::WEB_KEY, demo::PRODUCT_BASIC, d("90"));
    let (s, _) = t.new_cart_raw(json!({"product": line(demo::PRODUCT_BASIC, 1)})).await;
    assert_eq!(s, 400, "the old price is refused at once");
}

// ------------------------------------------------------------------ faults (kit)

#[tokio::test]
async fn injected_503_on_checkout_leaves_the_cart_unpaid() {
    let t = sim().await;
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 1)]).await;
    t.customer(&sid).await;
    t.server.handle().inject("POST", &cart_path("/checkout"), Fault::Status(503), Some(1));
    let (s, _) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!(s, 503);
    assert_eq!(t.cart(&sid).await["status"], "Open");
}

#[tokio::test]
async fn injected_429_carries_retry_after_and_a_message_body() {
    // §10: throttling is 429 + `Retry-After` with `{ "message": "..." }`.
    let t = sim().await;
    let path = format!("/api/campaigns/{}/products/prices", demo::WEB_KEY);
    t.server.handle().inject("GET", &path, Fault::TooManyRequests { retry_after_secs: 7 }, Some(1));
    let r = t.http.get(t.url(&path)).header("X_CID", demo::CID).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, "7"));
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let (_, v) = read(r).await;
    assert!(v["message"].is_string(), "{v}");
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
}

#[tokio::test]
async fn injected_server_faults_are_plain_text_or_empty() {
    // §10: a server fault (500 / 503) is plain text or empty, never a JSON envelope.
    let t = sim().await;
    let path = format!("/api/campaigns/{}/products/prices", demo::WEB_KEY);
    for status in [500u16, 503] {
        t.server.handle().inject("GET", &path, Fault::Status(status), Some(1));
        let r = t.http.get(t.url(&path)).header("X_CID", demo::CID).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"), "{status}");
        let text = r.text().await.unwrap();
        assert!(!text.is_empty() && serde_json::from_str::<Value>(&text).is_err(), "{text}");
    }
    let mut settings = EmanageSettings::default();
    settings.server_fault_body = loyalty_sim::emanage::ServerFaultBody::Empty;
    let t = sim_with(settings).await;
    t.server.handle().inject("GET", &path, Fault::Status(500), Some(1));
    let r = t.http.get(t.url(&path)).header("X_CID", demo::CID).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert_eq!(r.text().await.unwrap(), "");
}

#[tokio::test]
async fn without_extras_the_cart_get_is_the_contract_s_five_fields_only() {
    // `cart_extras = false`: what the live API may send (§6.4 row 5, §17 question 2).
    let mut settings = EmanageSettings::default();
    settings.cart_extras = false;
    let t = sim_with(settings).await;
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 2)]).await;
    let v = t.cart(&sid).await;
    assert_eq!(
        v,
        json!({"products": [{"productId": demo::PRODUCT_BASIC, "productName": "Glow Serum - 1 bottle",
                             "price": 100, "quantity": 2, "shippingPrice": 0}]})
    );
}

#[tokio::test]
async fn an_open_cart_is_priced_from_the_campaign_s_current_price_and_charged_at_it() {
    // §6.4 notes: the server re-prices from the campaign; §1: a change reaches it when served.
    let t = sim().await;
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 1)]).await;
    assert!(t.probe.set_product_price(demo::WEB_KEY, demo::PRODUCT_BASIC, d("90")));
    let v = t.cart(&sid).await;
    assert_eq!((v["products"][0]["price"].clone(), v["total"].clone()), (json!(90), json!(90)));
    t.customer(&sid).await;
    let (s, v) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!((s.as_u16(), v["success"].clone()), (200, json!(true)), "{v}");
    assert_eq!(t.session(&sid).captured(), d("90"));
    // Once paid, a later change no longer moves what the cart shows.
    assert!(t.probe.set_product_price(demo::WEB_KEY, demo::PRODUCT_BASIC, d("80")));
    assert_eq!(t.cart(&sid).await["products"][0]["price"], json!(90));
}

#[tokio::test]
async fn a_setting_keeps_an_open_line_at_the_price_it_was_added_with() {
    let mut settings = EmanageSettings::default();
    settings.reprice_open_carts = false;
    let t = sim_with(settings).await;
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 1)]).await;
    assert!(t.probe.set_product_price(demo::WEB_KEY, demo::PRODUCT_BASIC, d("90")));
    assert_eq!(t.cart(&sid).await["products"][0]["price"], json!(100));
}

#[tokio::test]
async fn truncated_checkout_reply_still_pays_and_the_cart_read_back_shows_it() {
    // checklist 25 is about the adapter; the simulator makes the ambiguous case: the charge is
    // made, the reply is cut, and reading the cart back shows Paid.
    let t = sim().await;
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 1)]).await;
    t.customer(&sid).await;
    t.server.handle().inject("POST", &cart_path("/checkout"), Fault::TruncatedBody, Some(1));
    let (s, v) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!(s, 200);
    assert!(v.is_string(), "the body no longer parses: {v}");
    assert_eq!(t.cart(&sid).await["status"], "Paid");
    assert_eq!(t.session(&sid).captured(), d("100"));
}

#[tokio::test]
async fn a_checkout_delayed_past_the_client_timeout_is_still_carried_out() {
    // §14 "delay beyond the client timeout", §10 retry safety: the vendor takes the money and
    // the reply never reaches the client. The client hanging up must not cancel the checkout,
    // or the ambiguous timeout checklist 25 is about could never be set up.
    let t = sim().await;
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 1)]).await;
    t.customer(&sid).await;
    let latency = Fault::Latency(Duration::from_millis(800));
    t.server.handle().inject("POST", &cart_path("/checkout"), latency, Some(1));
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().unwrap();
    let body =
        json!({"behaviorId": 1, "sessionId": sid, "payment": card(demo::PAN_APPROVE), "fraudSessionId": "k"});
    let e = impatient
        .post(t.url(&cart_path("/checkout")))
        .header("X_CID", demo::CID)
        .json(&body)
        .send()
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(t.session(&sid).status, SessionStatus::Open, "not yet: the reply is still delayed");
    let mut paid = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if t.session(&sid).status == SessionStatus::Paid {
            paid = true;
            break;
        }
    }
    assert!(paid, "the delayed checkout never ran");
    assert_eq!(t.session(&sid).captured(), d("100"));
    assert_eq!(t.cart(&sid).await["status"], "Paid", "reading the cart back shows it");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_with_a_message() {
    // §10's ASP.NET-like `{ "message": … }`: a well-formed request larger than the simulator's
    // body limit (the kit's 2 MiB) is refused as too large, not as an empty body (the kit
    // hands the route an empty body and says so), whatever its content type says.
    let t = sim().await;
    let pad = "x".repeat(loyalty_sim::server::DEFAULT_MAX_BODY_BYTES + 1);
    let body = json!({"product": line(demo::PRODUCT_BASIC, 1), "customerIP": pad}).to_string();
    for content_type in ["application/json", "text/plain"] {
        let r = t
            .http
            .post(t.url(&cart_path("/new")))
            .header("X_CID", demo::CID)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (s, v) = read(r).await;
        assert_eq!(s.as_u16(), 413, "{content_type}: {v}");
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
        assert!(v["message"].as_str().is_some_and(|m| m.contains("limit")), "{v}");
    }
    // Who is calling is still checked first.
    let r = t.http.post(t.url(&cart_path("/new"))).body(body).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(t.probe.session_ids().is_empty(), "no session was created");
}

#[tokio::test]
async fn dropped_connection_on_add_changes_nothing() {
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    t.server.handle().inject("POST", &cart_path("/add"), Fault::DropConnection, Some(1));
    let r = t
        .http
        .post(t.url(&cart_path(&format!("/add?sessionId={sid}"))))
        .header("X_CID", demo::CID)
        .json(&line(demo::PRODUCT_UPGRADE, 1))
        .send()
        .await;
    assert!(r.is_err());
    assert_eq!(t.session(&sid).lines, [(demo::PRODUCT_BASIC, 1)]);
}

// ------------------------------------------------------------------ simulator-only settings

#[tokio::test]
async fn sim_prefix_and_location_settings_move_the_extras() {
    let mut settings = EmanageSettings::default();
    settings.sim_prefix = "/_emanage_sim".into();
    settings.location =
        loyalty_sim::emanage::Location { country_code: "CA".into(), region_code: "ON".into() };
    let t = sim_with(settings).await;
    let (_, v) = t.get(&format!("/api/campaigns/{}/customers/location", demo::WEB_KEY)).await;
    assert_eq!((&v["countryCode"], &v["regionCode"]), (&json!("CA"), &json!("ON")));
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 1)]).await;
    t.customer(&sid).await;
    let (_, v) = t.checkout(&sid, json!({"paymentProcessorId": 5})).await;
    let url = v["callBackUrl"].as_str().unwrap().to_string();
    assert!(url.starts_with(&t.url("/_emanage_sim/payments/")), "{url}");
    let (s, _) = read(t.http.post(format!("{url}/approve")).send().await.unwrap()).await;
    assert_eq!(s, 200);
}
