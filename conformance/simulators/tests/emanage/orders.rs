//! Single-offer orders (the eManage contract §6.3), the reporting API (§12) and the settings
//! file (§15.2).

use super::*;

fn main_order(pan: &str) -> Value {
    json!({
        "productId": demo::PRODUCT_OFFER, "shippingMethodId": demo::SHIPPING_METHOD, "couponCode": "", "comment": "",
        "useShippingAddressForBilling": true,
        "customer": {"email": "ada@example.com", "phoneNumber": "5550100", "firstName": "Ada", "lastName": "Lovelace"},
        "payment": card(pan), "shippingAddress": address(), "billingAddress": null, "funnelBoxId": 0,
        "analyticsV2": {"referringUrl": "", "landingUrl": "https://shop.example/", "userStringData64": ""},
        "antiFraud": {"sessionId": "kount-1"}
    })
}

fn upsell_order(main: &Value) -> Value {
    json!({
        "campaignUpsell": {"webKey": demo::WEB_KEY_OFFER, "relatedOrderNumber": main["orderNumber"]},
        "productId": demo::PRODUCT_UPSELL, "shippingMethodId": demo::SHIPPING_METHOD, "comment": "",
        "useShippingAddressForBilling": true, "funnelBoxId": 0, "antiFraud": {"sessionId": "kount-1"},
        "customer": {"email": "ada@example.com"},
        "payment": {"cardId": main["cardId"], "callBackParam": "?step=2"},
        "shippingAddress": {"id": main["customerResult"]["shippingAddressId"]}
    })
}

async fn place(t: &T, web_key: &str, query: &str, body: Value) -> (StatusCode, Value) {
    t.post(&format!("/api/orders/{web_key}{query}"), body).await
}

#[tokio::test]
async fn main_order_is_paid_and_answers_the_fields_clients_read() {
    let t = sim().await;
    let (s, v) = place(&t, demo::WEB_KEY_OFFER, "", main_order(demo::PAN_APPROVE)).await;
    assert_eq!(s, 200);
    assert_eq!(v["success"], true);
    assert!(v["orderNumber"].is_string() && v["cardId"].is_u64(), "{v}");
    assert!(v["customerResult"]["customerId"].is_u64() && v["customerResult"]["shippingAddressId"].is_u64());
    assert!(v["upsells"][0]["upsellUrl"].is_string());
    assert_eq!(v["paymentContinueResult"]["actionUrl"], "");
    let o = t.probe.order(v["orderNumber"].as_str().unwrap()).unwrap();
    assert_eq!((o.paid, o.amount, o.test), (true, demo::PRICE_OFFER, false));
}

#[tokio::test]
async fn pascal_case_order_body_is_accepted() {
    // §6.3: one deployed page posts PascalCase keys.
    let t = sim().await;
    let body = json!({
        "ProductId": demo::PRODUCT_OFFER, "ShippingMethodId": demo::SHIPPING_METHOD,
        "Customer": {"Email": "ada@example.com"},
        "Payment": {"Name": "Ada", "CreditCard": demo::PAN_APPROVE, "Expiration": demo::CARD_EXPIRATION, "Cvv": "123"},
        "ShippingAddress": {"FirstName": "Ada", "LastName": "L", "Address1": "1 Main", "City": "X", "ZipCode": "1", "CountryCode": "US"}
    });
    let (s, v) = place(&t, demo::WEB_KEY_OFFER, "", body).await;
    assert_eq!((s.as_u16(), &v["success"]), (200, &json!(true)), "{v}");
}

#[tokio::test]
async fn declined_order_is_200_success_false_with_null_order_number() {
    // §10 card declined row
    let t = sim().await;
    let (s, v) = place(&t, demo::WEB_KEY_OFFER, "", main_order(demo::PAN_DECLINE)).await;
    assert_eq!((s.as_u16(), &v["success"], &v["orderNumber"]), (200, &json!(false), &Value::Null));
}

#[tokio::test]
async fn behavior_id_2_makes_a_test_order() {
    // §11
    let t = sim().await;
    let (_, v) = place(&t, demo::WEB_KEY_OFFER, "?behaviorId=2", main_order(demo::PAN_APPROVE)).await;
    assert!(t.probe.order(v["orderNumber"].as_str().unwrap()).unwrap().test);
}

#[tokio::test]
async fn upsell_is_its_own_order_on_the_upsell_campaign_charged_to_the_card_on_file() {
    // §6.3: posted to the upsell campaign's web key, linked to the main order.
    let t = sim().await;
    let (_, main) = place(&t, demo::WEB_KEY_OFFER, "", main_order(demo::PAN_APPROVE)).await;
    let (s, v) = place(&t, demo::WEB_KEY_UPSELL, "", upsell_order(&main)).await;
    assert_eq!((s.as_u16(), &v["success"]), (200, &json!(true)), "{v}");
    assert_eq!(v["customerResult"], main["customerResult"]);
    let o = t.probe.order(v["orderNumber"].as_str().unwrap()).unwrap();
    assert_eq!(o.related_order.as_deref(), main["orderNumber"].as_str());
    assert_eq!((o.web_key.as_str(), o.amount), (demo::WEB_KEY_UPSELL, demo::PRICE_UPSELL));
}

#[tokio::test]
async fn upsell_with_a_card_not_on_file_is_400_and_an_unknown_main_order_404() {
    let t = sim().await;
    let (_, main) = place(&t, demo::WEB_KEY_OFFER, "", main_order(demo::PAN_APPROVE)).await;
    let mut body = upsell_order(&main);
    body["payment"]["cardId"] = json!(1);
    let (s, v) = place(&t, demo::WEB_KEY_UPSELL, "", body).await;
    assert_eq!((s.as_u16(), v["modelState"]["payment.cardId"].is_array()), (400, true), "{v}");
    let mut body = upsell_order(&main);
    body["campaignUpsell"]["relatedOrderNumber"] = json!("1");
    let (s, _) = place(&t, demo::WEB_KEY_UPSELL, "", body).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn upsell_on_the_upgrade_failure_card_is_declined() {
    // §11 table: charges on file fail for that card.
    let t = sim().await;
    let (_, main) = place(&t, demo::WEB_KEY_OFFER, "", main_order(demo::PAN_UPGRADE_CHARGE_FAILS)).await;
    let (_, v) = place(&t, demo::WEB_KEY_UPSELL, "", upsell_order(&main)).await;
    assert_eq!(v["success"], false);
}

#[tokio::test]
async fn paypal_order_answers_a_call_back_url_and_is_paid_on_approval() {
    let t = sim().await;
    let mut body = main_order(demo::PAN_APPROVE);
    body["payment"] = json!({"paymentProcessorId": 5});
    let (_, v) = place(&t, demo::WEB_KEY_OFFER, "", body).await;
    let url = v["callBackUrl"].as_str().unwrap().to_string();
    let number = v["orderNumber"].as_str().unwrap().to_string();
    assert!(!t.probe.order(&number).unwrap().paid);
    let (s, _) = read(t.http.post(format!("{url}/approve")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert!(t.probe.order(&number).unwrap().paid);
}

#[tokio::test]
async fn orders_on_a_shopping_cart_campaign_are_404() {
    let t = sim().await;
    let (s, _) = place(&t, demo::WEB_KEY, "", main_order(demo::PAN_APPROVE)).await;
    assert_eq!(s, 404);
}

// ------------------------------------------------------------------ reporting (§12)

async fn token(t: &T) -> String {
    let r = t
        .http
        .post(t.url("/auth"))
        .basic_auth(demo::REPORTING_USER, Some(demo::REPORTING_PASSWORD))
        .send()
        .await
        .unwrap();
    let (s, v) = read(r).await;
    assert_eq!(s, 200, "{v}");
    v["token"].as_str().unwrap().to_string()
}

async fn export(t: &T, token: &str, page: u32, size: u32) -> (StatusCode, Value) {
    let url = t.url(&format!("/order/export/{page}/{size}?StartDate=2026-01-15&EndDate=2026-01-15"));
    read(t.http.get(url).bearer_auth(token).send().await.unwrap()).await
}

#[tokio::test]
async fn reporting_auth_with_wrong_password_is_401() {
    let t = sim().await;
    let r = t.http.post(t.url("/auth")).basic_auth(demo::REPORTING_USER, Some("nope")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn export_lists_paid_carts_and_orders_and_flags_test_ones() {
    // checklist 4: test carts are flagged `test: true` in reporting.
    let t = sim().await;
    let live = t.paid_cart(&[(demo::PRODUCT_BASIC, 1)], demo::PAN_APPROVE).await;
    let (_, v) =
        t.post(&cart_path("/new?behaviorId=2"), json!({"product": line(demo::PRODUCT_BASIC, 1)})).await;
    let test_cart = v.as_str().unwrap().to_string();
    t.customer(&test_cart).await;
    t.checkout(&test_cart, card(demo::PAN_APPROVE)).await;
    place(&t, demo::WEB_KEY_OFFER, "?behaviorId=2", main_order(demo::PAN_APPROVE)).await;
    let tok = token(&t).await;
    let (s, v) = export(&t, &tok, 1, 10).await;
    assert_eq!((s.as_u16(), &v["hasMoreToExport"]), (200, &json!(false)), "{v}");
    let csv = t.http.get(v["link"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    let number = |sid: &str| t.session(sid).order_number.unwrap();
    assert!(
        rows.iter().any(|r| r.starts_with(&number(&live)) && r.ends_with(",paid,100,USD,false")),
        "{csv}"
    );
    assert!(rows.iter().any(|r| r.starts_with(&number(&test_cart)) && r.ends_with(",true")), "{csv}");
    assert!(rows[2].ends_with(",true"), "the test order: {csv}");
}

#[tokio::test]
async fn export_pages_say_whether_more_follow() {
    let t = sim().await;
    for _ in 0..3 {
        t.paid_cart(&[(demo::PRODUCT_BASIC, 1)], demo::PAN_APPROVE).await;
    }
    let tok = token(&t).await;
    let (_, v) = export(&t, &tok, 1, 2).await;
    assert_eq!((&v["hasMoreToExport"], &v["nextExport"]), (&json!(true), &json!(2)));
    let (_, v) = export(&t, &tok, 2, 2).await;
    assert_eq!((&v["hasMoreToExport"], &v["nextExport"]), (&json!(false), &Value::Null));
}

#[tokio::test]
async fn export_of_the_largest_page_number_answers_no_next_page() {
    // A well-formed page number at the top of the range: nothing left, and no overflow.
    let t = sim().await;
    let tok = token(&t).await;
    let url = t.url(&format!("/order/export/{}/10?StartDate=2026-01-15&EndDate=2026-01-15", u64::MAX));
    let (s, v) = read(t.http.get(url).bearer_auth(&tok).send().await.unwrap()).await;
    assert_eq!(
        (s.as_u16(), &v["hasMoreToExport"], &v["nextExport"]),
        (200, &json!(false), &Value::Null),
        "{v}"
    );
}

#[tokio::test]
async fn reporting_token_expires_after_sixty_minutes_of_sim_clock() {
    // §3, §15.2 reporting token lifetime
    let t = sim().await;
    let tok = token(&t).await;
    t.advance(59 * 60);
    assert_eq!(export(&t, &tok, 1, 10).await.0, 200);
    t.advance(60);
    assert_eq!(export(&t, &tok, 1, 10).await.0, 401);
}

#[tokio::test]
async fn reporting_token_lifetime_setting_is_honoured() {
    // §15.2 alternative: any duration.
    let mut settings = EmanageSettings::default();
    settings.reporting_token_lifetime_secs = 60;
    let t = sim_with(settings).await;
    let tok = token(&t).await;
    t.advance(60);
    assert_eq!(export(&t, &tok, 1, 10).await.0, 401);
}

#[tokio::test]
async fn export_without_a_token_is_401_and_the_api_variant_is_served() {
    let t = sim().await;
    let r =
        t.http.get(t.url("/order/export/1/10?StartDate=2026-01-01&EndDate=2026-01-31")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let tok = token(&t).await;
    let url = t.url("/api/orders/export/1/10?StartDate=2026-01-01&EndDate=2026-01-31");
    let (s, v) = read(t.http.get(url).bearer_auth(&tok).send().await.unwrap()).await;
    assert_eq!((s.as_u16(), v["link"].is_string()), (200, true));
}

// ------------------------------------------------------------------ settings file (§15.2)

#[test]
fn settings_file_overrides_a_subset_and_refuses_unknown_keys() {
    let s: EmanageSettings = toml::from_str(
        r#"
        upgrade_capture_policy = "literal"
        duplicate_add = "merge"
        price_check = "off"
        offline_upgrade_creation = "client_created"
        redirect_timeout_secs = 600
        currency = "EUR"

        [progressive_discount]
        count = "lines"
        mode = "marginal_unit"
        tiers = [{ min_units = 1, percent = 10 }, { min_units = 2, percent = "12.5" }]

        [test_pans]
        decline = "4000000000009995"
        "#,
    )
    .unwrap();
    assert_eq!(s.redirect_timeout_secs, 600);
    assert_eq!(s.max_upgrade_charge_attempts, 3, "untouched keys keep their defaults");
    assert_eq!(s.progressive_discount.tiers[1].percent, d("12.5"));
    assert_eq!(s.test_pans.approve, demo::PAN_APPROVE);
    assert!(toml::from_str::<EmanageSettings>("max_attempts = 2").is_err());
    assert!(toml::from_str::<EmanageSettings>("[progressive_discount]\nmodes = \"all_units\"").is_err());
}

#[tokio::test]
async fn currency_setting_drives_the_formatted_value() {
    let mut settings = EmanageSettings::default();
    settings.currency = "EUR".into();
    let t = sim_with(settings).await;
    let (_, v) = t.get(&format!("/api/campaigns/{}/products/prices", demo::WEB_KEY)).await;
    assert_eq!(v["prices"][0]["productPrices"]["DiscountedPrice"]["FormattedValue"], "€100.00");
}

#[tokio::test]
async fn decline_card_of_the_table_is_configurable() {
    // §15.2: test PAN table configurable.
    let mut settings = EmanageSettings::default();
    settings.test_pans.decline = demo::PAN_APPROVE.into();
    let t = sim_with(settings).await;
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 1)]).await;
    t.customer(&sid).await;
    let (_, v) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!(v["success"], false);
}

#[tokio::test]
async fn carts_made_test_by_body_only_new_or_by_add_query_are_flagged_test_in_the_export() {
    // checklist 4, §11: `behaviorId: 2` in the `new` body alone (no query), and a live cart
    // whose `add?…&behaviorId=2` was taken, both checked out with `behaviorId: 1`, are both
    // `test` rows; a live cart stays `false`.
    let t = sim().await;
    let body = json!({"product": line(demo::PRODUCT_BASIC, 1), "behaviorId": 2});
    let (s, v) = t.post(&cart_path("/new"), body).await;
    assert_eq!(s, 200, "{v}");
    let by_body = v.as_str().unwrap().to_string();
    assert!(t.session(&by_body).test);
    let by_add = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    assert!(!t.session(&by_add).test, "opened live");
    let (s, v) = t
        .post(&cart_path(&format!("/add?sessionId={by_add}&behaviorId=2")), line(demo::PRODUCT_TIER_60, 1))
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(t.session(&by_add).test);
    for sid in [&by_body, &by_add] {
        t.customer(sid).await;
        let (s, v) = t.checkout(sid, card(demo::PAN_APPROVE)).await;
        assert_eq!((s.as_u16(), &v["success"]), (200, &json!(true)), "{v}");
    }
    let live = t.paid_cart(&[(demo::PRODUCT_BASIC, 1)], demo::PAN_APPROVE).await;
    let tok = token(&t).await;
    let (s, v) = export(&t, &tok, 1, 10).await;
    assert_eq!(s, 200, "{v}");
    let csv = t.http.get(v["link"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let test_col = header.iter().position(|h| *h == "test").expect("a test column");
    let cart_col = header.iter().position(|h| *h == "shoppingCartNumber").expect("a cart column");
    let status_col = header.iter().position(|h| *h == "status").expect("a status column");
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|r| r.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    let flag = |sid: &str| {
        let number = t.session(sid).shopping_cart_number.unwrap().to_string();
        let row = rows.iter().find(|r| r[cart_col] == number).unwrap_or_else(|| panic!("{sid}: {csv}"));
        (row[test_col].to_string(), row[status_col].to_string())
    };
    assert_eq!(flag(&by_body), ("true".to_string(), "paid".to_string()), "{csv}");
    assert_eq!(flag(&by_add), ("true".to_string(), "paid".to_string()), "{csv}");
    assert_eq!(flag(&live), ("false".to_string(), "paid".to_string()), "{csv}");
}
