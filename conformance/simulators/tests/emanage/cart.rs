//! Shopping-cart session API, rows 1-5 (the eManage contract §6.4, §10).

use super::*;

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[tokio::test]
async fn new_returns_the_session_id_as_a_bare_guid_string() {
    // checklist 2
    let t = sim().await;
    let (s, v) = t.new_cart_raw(json!({"product": line(demo::PRODUCT_BASIC, 1)})).await;
    assert_eq!(s, 200);
    let sid = v.as_str().expect("a bare JSON string");
    assert!(is_guid(sid), "{sid}");
}

#[tokio::test]
async fn session_ids_are_deterministic() {
    let a = sim().await.new_cart(demo::PRODUCT_BASIC, 1).await;
    let b = sim().await.new_cart(demo::PRODUCT_BASIC, 1).await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn new_accepts_the_addendum_body_with_pascal_case_and_numeric_strings() {
    // checklist 3: the addendum's own example (§7.1).
    let t = sim().await;
    let body = json!({"Product": {"productId": "918325", "price": "100", "quantity": "1", "shippingMethodId": "145"},
                      "customerIP": "203.0.113.7", "behaviorId": 2});
    let (s, v) = t.post(&cart_path("/new?behaviorId=2"), body).await;
    assert_eq!(s, 200, "{v}");
    let cart = t.cart(v.as_str().unwrap()).await;
    assert_eq!(cart["products"][0]["productId"], demo::PRODUCT_BASIC);
    assert_eq!(cart["products"][0]["quantity"], 1);
}

#[tokio::test]
async fn keys_and_number_forms_are_interchangeable() {
    // checklist 3: `product` / `Product`, `918325` / `"918325"`, likewise price, quantity and
    // shipping method, and PascalCase inner keys.
    let t = sim().await;
    let bodies = [
        json!({"product": {"productId": 918325, "price": 100, "quantity": 1, "shippingMethodId": 145}}),
        json!({"Product": {"ProductId": "918325", "Price": "100.00", "Quantity": "1", "ShippingMethodId": "145"}}),
        json!({"PRODUCT": {"productid": 918325, "price": "1e2", "quantity": 1.0, "shippingmethodid": "145"}}),
    ];
    for b in bodies {
        let (s, v) = t.new_cart_raw(b.clone()).await;
        assert_eq!(s, 200, "{b} -> {v}");
    }
}

#[tokio::test]
async fn fractional_quantity_is_400_naming_quantity() {
    let t = sim().await;
    let mut l = line(demo::PRODUCT_BASIC, 1);
    l["quantity"] = json!("1.5");
    let (s, v) = t.new_cart_raw(json!({"product": l})).await;
    assert_eq!(s, 400);
    assert!(v["modelState"]["quantity"].is_array(), "{v}");
}

#[tokio::test]
async fn behavior_id_2_in_the_query_creates_a_test_cart() {
    // checklist 4
    let t = sim().await;
    let (_, v) =
        t.post(&cart_path("/new?behaviorId=2"), json!({"product": line(demo::PRODUCT_BASIC, 1)})).await;
    let sid = v.as_str().unwrap();
    assert!(t.session(sid).test);
    assert_eq!(t.cart(sid).await["test"], true);
    let live = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    assert!(!t.session(&live).test);
}

#[tokio::test]
async fn behavior_id_2_on_add_flags_the_cart_as_test() {
    // checklist 4: `add` with behaviorId=2 (query and body in the addendum).
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let (s, _) = t
        .post(&cart_path(&format!("/add?sessionId={sid}&behaviorId=2")), line(demo::PRODUCT_TIER_60, 1))
        .await;
    assert_eq!(s, 200);
    assert!(t.session(&sid).test);
}

#[tokio::test]
async fn cart_get_lists_products_with_unit_price_quantity_and_shipping_price() {
    // checklist 5
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 2).await;
    let mut express = line(demo::PRODUCT_UPGRADE, 1);
    express["shippingMethodId"] = json!(demo::SHIPPING_METHOD_EXPRESS);
    t.add(&sid, express).await;
    let v = t.cart(&sid).await;
    let p = &v["products"];
    assert_eq!(p[0]["productId"], demo::PRODUCT_BASIC);
    assert_eq!(p[0]["productName"], "Glow Serum - 1 bottle");
    assert_eq!(
        (&p[0]["price"], &p[0]["quantity"], &p[0]["shippingPrice"]),
        (&json!(100), &json!(2), &json!(0))
    );
    assert_eq!((&p[1]["price"], &p[1]["shippingPrice"]), (&json!(120), &n("9.95")));
    // Simulator extras (§6.4 notes).
    assert_eq!(
        (&v["subtotal"], &v["shippingTotal"], &v["discountTotal"], &v["total"]),
        (&json!(320), &n("9.95"), &json!(0), &n("329.95"))
    );
}

#[tokio::test]
async fn duplicate_add_is_409_and_update_with_the_summed_quantity_succeeds() {
    // checklist 6
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let (s, v) = t.add(&sid, line(demo::PRODUCT_BASIC, 1)).await;
    assert_eq!(s, 409);
    assert!(v["message"].is_string());
    let (s, _) = t
        .call(Method::PUT, &cart_path(&format!("/update?sessionId={sid}&productId=918325&quantity=2")), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.session(&sid).lines, [(demo::PRODUCT_BASIC, 2)]);
}

#[tokio::test]
async fn duplicate_add_merges_quantities_under_the_merge_setting() {
    // §15.2 alternative: merge quantities.
    let mut settings = EmanageSettings::default();
    settings.duplicate_add = loyalty_sim::emanage::DuplicateAdd::Merge;
    let t = sim_with(settings).await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let (s, _) = t.add(&sid, line(demo::PRODUCT_BASIC, 2)).await;
    assert_eq!(s, 200);
    assert_eq!(t.session(&sid).lines, [(demo::PRODUCT_BASIC, 3)]);
}

#[tokio::test]
async fn wrong_price_on_new_is_400_with_model_state_naming_price() {
    // checklist 7
    let t = sim().await;
    let mut l = line(demo::PRODUCT_BASIC, 1);
    l["price"] = json!("99.99");
    let (s, v) = t.new_cart_raw(json!({"product": l})).await;
    assert_eq!(s, 400);
    assert_eq!(v["message"], "The request is invalid.");
    assert!(v["modelState"]["price"][0].is_string(), "{v}");
}

#[tokio::test]
async fn wrong_or_missing_price_on_add_is_400_naming_price() {
    // checklist 7
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let mut l = line(demo::PRODUCT_UPGRADE, 1);
    l["price"] = json!(100);
    let (s, v) = t.add(&sid, l.clone()).await;
    assert_eq!((s.as_u16(), v["modelState"]["price"].is_array()), (400, true), "{v}");
    l.as_object_mut().unwrap().remove("price");
    let (s, v) = t.add(&sid, l).await;
    assert_eq!((s.as_u16(), v["modelState"]["price"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn price_check_off_uses_the_catalogue_price() {
    // §15.2 alternative: price check off.
    let mut settings = EmanageSettings::default();
    settings.price_check = loyalty_sim::emanage::PriceCheck::Off;
    let t = sim_with(settings).await;
    let mut l = line(demo::PRODUCT_BASIC, 1);
    l["price"] = json!(1);
    let (s, v) = t.new_cart_raw(json!({"product": l})).await;
    assert_eq!(s, 200);
    assert_eq!(t.cart(v.as_str().unwrap()).await["products"][0]["price"], 100);
}

#[tokio::test]
async fn unknown_session_is_404_with_a_message() {
    // checklist 8
    let t = sim().await;
    let (s, v) = t.get(&cart_path("?sessionId=0f8fad5b-d9cb-469f-a165-70867728950e")).await;
    assert_eq!(s, 404);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    let (s, _) = t.add("0f8fad5b-d9cb-469f-a165-70867728950e", line(demo::PRODUCT_BASIC, 1)).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn session_of_another_campaign_is_404() {
    // checklist 8 / §10: a session belongs to its campaign's web key.
    let t = sim().await;
    let (_, v) = t
        .post(
            &format!("/api/shoppingcart/{}/new", demo::WEB_KEY_SECOND),
            json!({"product": line(demo::PRODUCT_BASIC, 1)}),
        )
        .await;
    let other = v.as_str().unwrap();
    let (s, _) = t.get(&cart_path(&format!("?sessionId={other}"))).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_session_id_that_is_not_a_guid_is_an_unknown_session_and_a_missing_one_is_400() {
    // Checklist 8, §10: an unknown sessionId is 404 with a message, whatever its shape.
    let t = sim().await;
    let (s, v) = t.get(&cart_path("?sessionId=abc")).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (404, true), "{v}");
    let (s, v) =
        t.call(Method::PUT, &cart_path("/update?sessionId=abc&productId=918325&quantity=1"), None).await;
    assert_eq!(s.as_u16(), 404, "{v}");
    let (s, v) = t.call(Method::DELETE, &cart_path("/remove?sessionId=abc&productId=918325"), None).await;
    assert_eq!(s.as_u16(), 404, "{v}");
    let (s, v) = t.add("abc", line(demo::PRODUCT_BASIC, 1)).await;
    assert_eq!(s.as_u16(), 404, "{v}");
    let body = json!({"email": "ada@example.com", "useShippingAddressForBilling": true, "shippingAddress": address()});
    let (s, v) = t.post(&cart_path("/customers/new?sessionId=abc"), body).await;
    assert_eq!(s.as_u16(), 404, "{v}");
    let (s, v) = t.checkout("abc", card(demo::PAN_APPROVE)).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (404, true), "{v}");
    let (s, v) = t.get(&cart_path("")).await;
    assert_eq!((s.as_u16(), v["modelState"]["sessionId"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn unknown_product_is_404() {
    let t = sim().await;
    let l = json!({"productId": 1, "quantity": 1, "price": 1, "shippingMethodId": 145});
    let (s, v) = t.new_cart_raw(json!({"product": l})).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (404, true));
}

#[tokio::test]
async fn shipping_method_of_no_product_is_400_naming_it() {
    let t = sim().await;
    let mut l = line(demo::PRODUCT_BASIC, 1);
    l["shippingMethodId"] = json!(999);
    let (s, v) = t.new_cart_raw(json!({"product": l})).await;
    assert_eq!((s.as_u16(), v["modelState"]["shippingMethodId"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn missing_required_fields_are_each_named_in_model_state() {
    let t = sim().await;
    let (s, v) = t.new_cart_raw(json!({"product": {"productId": 918325}})).await;
    assert_eq!(s, 400);
    let ms = v["modelState"].as_object().unwrap();
    assert!(ms.contains_key("quantity") && ms.contains_key("shippingMethodId"), "{v}");
    let (s, v) = t.new_cart_raw(json!({"customerIP": "203.0.113.7"})).await;
    assert_eq!((s.as_u16(), v["modelState"]["product"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn misspelled_required_field_is_refused_not_guessed() {
    // Unknown members are ignored as ASP.NET does; the required one is then missing.
    let t = sim().await;
    let (s, v) = t
        .new_cart_raw(
            json!({"product": {"productld": 918325, "quantity": 1, "price": 100, "shippingMethodId": 145}}),
        )
        .await;
    assert_eq!((s.as_u16(), v["modelState"]["productId"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn malformed_json_is_400_and_a_non_json_body_is_415() {
    let t = sim().await;
    let r = t
        .http
        .post(t.url(&cart_path("/new")))
        .header("X_CID", demo::CID)
        .header("content-type", "application/json")
        .body("{\"product\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = t
        .http
        .post(t.url(&cart_path("/new")))
        .header("X_CID", demo::CID)
        .header("content-type", "text/plain")
        .body("product=918325")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}

#[tokio::test]
async fn update_to_zero_is_400_and_of_a_missing_product_is_404() {
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let (s, v) = t
        .call(Method::PUT, &cart_path(&format!("/update?sessionId={sid}&productId=918325&quantity=0")), None)
        .await;
    assert_eq!((s.as_u16(), v["modelState"]["quantity"].is_array()), (400, true), "{v}");
    let (s, _) = t
        .call(Method::PUT, &cart_path(&format!("/update?sessionId={sid}&productId=918446&quantity=1")), None)
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn remove_deletes_the_line() {
    let t = sim().await;
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 1), (demo::PRODUCT_UPGRADE, 1)]).await;
    let (s, _) =
        t.call(Method::DELETE, &cart_path(&format!("/remove?sessionId={sid}&productId=918325")), None).await;
    assert_eq!(s, 200);
    assert_eq!(t.session(&sid).lines, [(demo::PRODUCT_UPGRADE, 1)]);
    let (s, _) =
        t.call(Method::DELETE, &cart_path(&format!("/remove?sessionId={sid}&productId=918325")), None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn query_parameter_names_are_matched_in_any_case() {
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let (s, _) = t
        .call(Method::PUT, &cart_path(&format!("/update?SessionId={sid}&ProductId=918325&Quantity=3")), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.session(&sid).lines, [(demo::PRODUCT_BASIC, 3)]);
}

#[tokio::test]
async fn plain_add_update_and_remove_on_a_paid_session_are_409() {
    // checklist 9
    let t = sim().await;
    let sid = t.paid_cart(&[(demo::PRODUCT_BASIC, 1)], demo::PAN_APPROVE).await;
    let (s, v) = t.add(&sid, line(demo::PRODUCT_UPGRADE, 1)).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (409, true));
    let (s, _) = t
        .call(Method::PUT, &cart_path(&format!("/update?sessionId={sid}&productId=918325&quantity=2")), None)
        .await;
    assert_eq!(s, 409);
    let (s, _) =
        t.call(Method::DELETE, &cart_path(&format!("/remove?sessionId={sid}&productId=918325")), None).await;
    assert_eq!(s, 409);
    assert_eq!(t.session(&sid).lines, [(demo::PRODUCT_BASIC, 1)]);
}

/// The cart GET without the session's own id, to compare two sessions' carts.
fn without_session_id(mut v: Value) -> Value {
    v.as_object_mut().expect("a cart object").remove("sessionId");
    v
}

#[tokio::test]
async fn addendum_string_body_and_numeric_lower_case_body_give_equal_carts() {
    // checklist 3: `Product` with numeric strings (the addendum's form, §7.1) and `product`
    // with JSON numbers (the clients' form) open the same cart: 918325 × 2 at 100.
    let t = sim().await;
    let pascal = json!({"Product": {"productId": "918325", "price": "100", "quantity": "2",
                                    "shippingMethodId": "145"}});
    let lower =
        json!({"product": {"productId": 918325, "price": 100, "quantity": 2, "shippingMethodId": 145}});
    let mut carts = Vec::new();
    for body in [pascal, lower] {
        let (s, v) = t.new_cart_raw(body.clone()).await;
        assert_eq!(s, 200, "{body} -> {v}");
        let sid = v.as_str().expect("a bare session id").to_string();
        assert_eq!(t.session(&sid).lines, [(918_325, 2)]);
        carts.push(t.cart(&sid).await);
    }
    let p = &carts[0]["products"];
    assert_eq!(p.as_array().map(Vec::len), Some(1), "{p}");
    assert_eq!(
        (&p[0]["productId"], &p[0]["quantity"], &p[0]["price"]),
        (&json!(918_325), &json!(2), &json!(100)),
        "{p}"
    );
    assert_eq!(carts[0]["total"], json!(200));
    assert_ne!(carts[0]["sessionId"], carts[1]["sessionId"]);
    let second = without_session_id(carts.pop().unwrap());
    let first = without_session_id(carts.pop().unwrap());
    assert_eq!(first, second);
}

#[tokio::test]
async fn a_refused_add_with_behavior_id_2_leaves_a_live_cart_live() {
    // checklist 4: `behaviorId=2` flags the cart only when the add is taken. Each refusal
    // here (409 duplicate, 404 product, 400 price, 409 paid, 400 preview quantity) leaves
    // the live cart live, in the probe and in the cart GET's `test`.
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let t = &t;
    let add_test = |body: Value| {
        let path = cart_path(&format!("/add?sessionId={sid}&behaviorId=2"));
        async move { t.post(&path, body).await }
    };
    let (s, v) = add_test(line(demo::PRODUCT_BASIC, 1)).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (409, true), "duplicate: {v}");
    let mut unknown = line(demo::PRODUCT_BASIC, 1);
    unknown["productId"] = json!(999_999);
    let (s, _) = add_test(unknown).await;
    assert_eq!(s, 404, "unknown product");
    let mut forged = line(demo::PRODUCT_UPGRADE, 1);
    forged["price"] = json!(1);
    let (s, v) = add_test(forged).await;
    assert_eq!((s.as_u16(), v["modelState"]["price"].is_array()), (400, true), "price: {v}");
    assert!(!t.session(&sid).test, "no refused add flags the cart");
    assert_eq!(t.cart(&sid).await["test"], false);
    assert_eq!(t.session(&sid).lines, [(demo::PRODUCT_BASIC, 1)]);

    // Paid live: a plain add (409) and an upgrade above the line (400) are refused too.
    t.customer(&sid).await;
    let (s, v) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!((s.as_u16(), &v["success"]), (200, &json!(true)), "{v}");
    let (s, _) = add_test(line(demo::PRODUCT_UPGRADE, 1)).await;
    assert_eq!(s, 409, "plain add on a paid cart");
    let mut too_many = upgrade_line(demo::PRODUCT_BASIC, demo::PRODUCT_UPGRADE, 1);
    too_many["upgradePreviewQuantity"] = json!(2);
    let (s, v) = add_test(too_many).await;
    assert_eq!((s.as_u16(), v["modelState"]["upgradePreviewQuantity"].is_array()), (400, true), "{v}");
    assert!(!t.session(&sid).test, "still live after refused adds on the paid cart");

    // The same add taken flags it.
    let (s, v) = add_test(upgrade_line(demo::PRODUCT_BASIC, demo::PRODUCT_UPGRADE, 1)).await;
    assert_eq!(s, 200, "{v}");
    assert!(t.session(&sid).test);
    assert_eq!(t.cart(&sid).await["test"], true);
}
