//! Campaign reads, customers, e-mail validation and gift cards (the eManage contract §6.1,
//! §6.2): taxes, coupons, lead capture, `verify-email`, gift-card balance with `iam-basic`.

use super::*;

fn campaign_path(rest: &str) -> String {
    format!("/api/campaigns/{}{rest}", demo::WEB_KEY)
}

fn tax_of(v: &Value, product: i64) -> Value {
    v["productsTaxes"].as_array().unwrap().iter().find(|t| t["productId"] == product).unwrap()["tax"]
        ["taxValue"]
        .clone()
}

#[tokio::test]
async fn taxes_answer_each_product_s_tax_at_the_state_s_rate() {
    // §6.1: `{ productsTaxes: [ { productId, tax: { taxValue } } ] }`; US-CA 7.25 %.
    let t = sim().await;
    let (s, v) = t.get(&campaign_path("/taxes/US/CA")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(tax_of(&v, demo::PRODUCT_BASIC), n("7.25"));
    assert_eq!(tax_of(&v, demo::PRODUCT_TIER_33_33), n("2.42"), "33.33 × 7.25 % half-up");
    // With a coupon the tax is on the discounted price: 90 × 7.25 % = 6.525 → 6.53.
    let (_, v) = t.get(&campaign_path(&format!("/taxes/us/ca?coupon={}", demo::COUPON))).await;
    assert_eq!(tax_of(&v, demo::PRODUCT_BASIC), n("6.53"));
    // A state without a rate pays none; an unknown coupon is 404.
    let (_, v) = t.get(&campaign_path("/taxes/US/OR")).await;
    assert_eq!(tax_of(&v, demo::PRODUCT_BASIC), json!(0));
    let (s, v) = t.get(&campaign_path("/taxes/US/CA?coupon=NOPE")).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (404, true), "{v}");
}

#[tokio::test]
async fn a_coupon_answers_its_discount_and_minimal_purchase_in_the_campaign_currency() {
    // §6.1: `{ discount, formattedMinimalPurchase, … }`.
    let t = sim().await;
    let (s, v) = t.get(&campaign_path(&format!("/coupons/{}?currencyCode=USD", demo::COUPON))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["discount"].clone(), v["formattedMinimalPurchase"].clone()), (json!(10), json!("$50.00")));
    let (s, v) = t.get(&campaign_path("/coupons/NOPE?currencyCode=USD")).await;
    assert_eq!(s.as_u16(), 404, "{v}");
    let (s, v) = t.get(&campaign_path(&format!("/coupons/{}", demo::COUPON))).await;
    assert_eq!((s.as_u16(), v["modelState"]["currencyCode"].is_array()), (400, true), "{v}");
    let (s, v) = t.get(&campaign_path(&format!("/coupons/{}?currencyCode=EUR", demo::COUPON))).await;
    assert_eq!((s.as_u16(), v["modelState"]["currencyCode"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn a_lead_is_captured_and_its_fields_are_checked() {
    // §6.2: `POST customers/{wk}` with `{ email, customerIdentificationTypeId,
    // customerIdentificationValue }`.
    let t = sim().await;
    let path = format!("/api/customers/{}", demo::WEB_KEY);
    let body = json!({"email": "ada@example.com", "customerIdentificationTypeId": 4,
                      "customerIdentificationValue": "Demo Cart Shop"});
    let (s, v) = t.post(&path, body).await;
    assert_eq!((s.as_u16(), v["success"].clone()), (200, json!(true)), "{v}");
    let (s, v) = t.post(&path, json!({"email": "ada@example.com"})).await;
    assert_eq!(s, 400, "{v}");
    let state = &v["modelState"];
    assert!(
        state["customerIdentificationTypeId"].is_array() && state["customerIdentificationValue"].is_array(),
        "{v}"
    );
    // Another client's campaign is 404, as everywhere (§10).
    let (s, _) = t.post(&format!("/api/customers/{}", demo::OTHER_WEB_KEY), json!({})).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn verify_email_answers_whether_the_address_looks_deliverable() {
    // §6.2: `GET validation/verify-email/?email=…`, with `X_CID` like every Web Sales call.
    let t = sim().await;
    let (s, v) = t.get("/api/validation/verify-email/?email=ada@example.com").await;
    assert_eq!((s.as_u16(), v["isValid"].clone()), (200, json!(true)), "{v}");
    let (_, v) = t.get("/api/validation/verify-email/?email=ada@localhost").await;
    assert_eq!(v["isValid"], json!(false));
    let (s, v) = t.get("/api/validation/verify-email/").await;
    assert_eq!((s.as_u16(), v["modelState"]["email"].is_array()), (400, true), "{v}");
    let r = t.http.get(t.url("/api/validation/verify-email/?email=a@b.c")).send().await.unwrap();
    assert_eq!(r.status(), 401, "no X_CID");
}

#[tokio::test]
async fn gift_card_balance_needs_the_iam_basic_key() {
    // §3, §6.2: `GET giftcards/balance/{code}` with `Authorization: iam-basic <GUID>`.
    let t = sim().await;
    let url = t.url(&format!("/api/giftcards/balance/{}", demo::GIFT_CARD_25));
    let call = |auth: Option<String>| {
        let mut rb = t.http.get(&url).header("X_CID", demo::CID);
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        async move { read(rb.send().await.unwrap()).await }
    };
    let (s, v) = call(Some(format!("iam-basic {}", demo::IAM_BASIC_KEY))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!({"balance": 25, "canPayShipping": false}));
    let (s, _) = call(Some(format!("IAM-BASIC {}", demo::IAM_BASIC_KEY.to_uppercase()))).await;
    assert_eq!(s, 200, "scheme and GUID in any letter case");
    let (s, _) = call(None).await;
    assert_eq!(s, 401);
    let (s, _) = call(Some(format!("Bearer {}", demo::IAM_BASIC_KEY))).await;
    assert_eq!(s, 401);
    let (s, _) = call(Some("iam-basic 00000000-0000-4000-8000-000000000000".into())).await;
    assert_eq!(s, 401);
    let unknown = t.url("/api/giftcards/balance/NOPE");
    let r = t
        .http
        .get(unknown)
        .header("X_CID", demo::CID)
        .header("Authorization", format!("iam-basic {}", demo::IAM_BASIC_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The key never reaches the journal.
    let journal = t.server.handle().journal().entries();
    assert!(journal.iter().all(|e| e.headers.iter().all(|(_, v)| !v.contains(demo::IAM_BASIC_KEY))));
}

// ------------------------------------------------------------------ faults on one price list

#[tokio::test]
async fn an_exact_path_fault_on_the_price_list_leaves_the_country_price_list_working() {
    // eManage names no routes; `…/products/prices` is a prefix of `…/prices/{countryCode}`, so
    // only a whole-path rule fails the first alone.
    let t = sim().await;
    let prices = campaign_path("/products/prices");
    t.server.handle().inject_path("GET", &prices, Fault::Status(503), None);
    assert_eq!(t.get(&prices).await.0, 503);
    let (s, v) = t.get(&campaign_path("/products/prices/US")).await;
    assert_eq!(s, 200, "{v}");
    t.server.handle().clear_faults();
    // A prefix rule still hits both.
    t.server.handle().inject("GET", &prices, Fault::Status(503), None);
    assert_eq!(t.get(&campaign_path("/products/prices/US")).await.0, 503);
}
