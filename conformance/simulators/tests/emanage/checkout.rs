//! Customer, checkout and payment outcomes (the eManage contract §6.3, §6.4 rows 6-7, §10, §11,
//! §14).

use loyalty_sim::emanage::SessionStatus;

use super::*;

async fn ready_cart(t: &T) -> String {
    let sid = t.cart_with(&[(demo::PRODUCT_BASIC, 1)]).await;
    t.customer(&sid).await;
    sid
}

#[tokio::test]
async fn checkout_without_customer_is_409() {
    // §6.4 row 6: checkout requires customers/new first.
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let (s, v) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (409, true), "{v}");
}

#[tokio::test]
async fn customer_without_shipping_zip_is_400_naming_the_field() {
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let mut a = address();
    a.as_object_mut().unwrap().remove("zipCode");
    let body =
        json!({"email": "ada@example.com", "useShippingAddressForBilling": true, "shippingAddress": a});
    let (s, v) = t.post(&cart_path(&format!("/customers/new?sessionId={sid}")), body).await;
    assert_eq!((s.as_u16(), v["modelState"]["shippingAddress.zipCode"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn separate_billing_requires_a_billing_address() {
    let t = sim().await;
    let sid = t.new_cart(demo::PRODUCT_BASIC, 1).await;
    let body = json!({"email": "ada@example.com", "useShippingAddressForBilling": "false", "shippingAddress": address()});
    let (s, v) = t.post(&cart_path(&format!("/customers/new?sessionId={sid}")), body).await;
    assert_eq!((s.as_u16(), v["modelState"]["billingAddress"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn approved_card_pays_the_cart_and_answers_numbers_and_descriptor() {
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let (s, v) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!(s, 200);
    assert_eq!(v["success"], true);
    assert!(v["shoppingCartNumber"].is_u64() && v["orderNumber"].is_string(), "{v}");
    assert_eq!(v["descriptor"], demo::DESCRIPTOR);
    assert_eq!(v["callBackUrl"], Value::Null);
    assert_eq!(v["paymentContinueResult"]["actionUrl"], "");
    let view = t.session(&sid);
    assert_eq!((view.status, view.captured()), (SessionStatus::Paid, d("100")));
    assert_eq!(view.shipments, [(demo::PRODUCT_BASIC, 1)]);
}

#[tokio::test]
async fn declined_card_is_200_success_false_with_null_order_number() {
    // checklist 24
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let (s, v) = t.checkout(&sid, card(demo::PAN_DECLINE)).await;
    assert_eq!(s, 200);
    assert_eq!((&v["success"], &v["orderNumber"]), (&json!(false), &Value::Null));
    assert!(v["message"].is_string());
    assert_eq!(t.session(&sid).status, SessionStatus::Open);
}

#[tokio::test]
async fn checkout_may_be_retried_after_a_decline() {
    // §14: declined → Open (retry allowed).
    let t = sim().await;
    let sid = ready_cart(&t).await;
    t.checkout(&sid, card(demo::PAN_DECLINE)).await;
    let (_, v) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!(v["success"], true);
    assert_eq!(t.session(&sid).declines, 1);
}

#[tokio::test]
async fn card_failing_luhn_or_expired_is_declined() {
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let (_, v) = t.checkout(&sid, card("4111111111111112")).await;
    assert_eq!(v["success"], false);
    let mut expired = card(demo::PAN_APPROVE);
    expired["expiration"] = json!("12/2025");
    let (_, v) = t.checkout(&sid, expired).await;
    assert_eq!(v["success"], false);
}

#[tokio::test]
async fn malformed_card_fields_are_400_naming_them() {
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let payment = json!({"creditcard": "4111-abc", "expiration": "2030-12", "cvv": "12"});
    let (s, v) = t.checkout(&sid, payment).await;
    assert_eq!(s, 400);
    let ms = v["modelState"].as_object().unwrap();
    for k in ["payment.creditcard", "payment.expiration", "payment.cvv"] {
        assert!(ms.contains_key(k), "{k}: {v}");
    }
}

#[tokio::test]
async fn three_d_secure_card_answers_an_action_url_and_awaits_confirmation() {
    // §6.3 client decision order: paymentContinueResult.actionUrl non-empty.
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let (_, v) = t.checkout(&sid, card(demo::PAN_3DS)).await;
    assert_eq!(v["success"], true);
    assert_eq!(v["callBackUrl"], Value::Null);
    let url = v["paymentContinueResult"]["actionUrl"].as_str().unwrap();
    assert!(url.starts_with(t.server.base_url()), "{url}");
    assert_eq!(t.session(&sid).status, SessionStatus::AwaitingPayment);
    // The cart read back while it waits repeats the continuation (a simulator extra).
    assert_eq!(t.cart(&sid).await["paymentContinueResult"]["actionUrl"], json!(url));
    assert!(t.probe.confirm_payment(&sid));
    assert_eq!(t.session(&sid).captured(), d("100"));
}

#[tokio::test]
async fn redirect_processor_answers_call_back_url_and_tracking_number() {
    // §6.3: processors 5, 31, 25, 33, 34 pay off-site.
    let t = sim().await;
    for processor in [5, 31, 25, 33, 34] {
        let sid = ready_cart(&t).await;
        let (_, v) = t.checkout(&sid, json!({"paymentProcessorId": processor})).await;
        assert_eq!(v["success"], true, "{processor}");
        assert!(v["callBackUrl"].as_str().is_some_and(|u| u.contains("/__sim/payments/")), "{v}");
        assert!(v["trackingNumber"].is_string());
        assert_eq!(v["paymentProcessorId"], processor);
        assert_eq!(t.cart(&sid).await["status"], "AwaitingPayment");
    }
}

#[tokio::test]
async fn a_gift_card_covering_the_amount_pays_the_cart_and_its_balance_goes_down() {
    // §6.3 processor 62 with `GiftCardNumber` (next to `payment`, §6.4 row 9).
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let body = json!({"behaviorId": 1, "sessionId": sid, "payment": {"paymentProcessorId": "62"},
                      "GiftCardNumber": demo::GIFT_CARD_100, "fraudSessionId": "kount-1"});
    let (s, v) = t.post(&cart_path("/checkout"), body).await;
    assert_eq!(
        (s.as_u16(), v["success"].clone(), v["paymentProcessorId"].clone()),
        (200, json!(true), json!(62)),
        "{v}"
    );
    assert!(v["shoppingCartNumber"].is_number(), "{v}");
    assert_eq!((t.session(&sid).status, t.session(&sid).captured()), (SessionStatus::Paid, d("100")));
    // The card is spent: a second cart of 100 is declined.
    let other = ready_cart(&t).await;
    let body = json!({"sessionId": other, "payment": {"paymentProcessorId": 62, "giftCardNumber": demo::GIFT_CARD_100}});
    let (s, v) = t.post(&cart_path("/checkout"), body).await;
    assert_eq!(
        (s.as_u16(), v["success"].clone(), v["orderNumber"].clone()),
        (200, json!(false), Value::Null),
        "{v}"
    );
    assert_eq!(t.session(&other).status, SessionStatus::Open);
}

#[tokio::test]
async fn a_gift_card_payment_needs_its_number() {
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let (s, v) = t.checkout(&sid, json!({"paymentProcessorId": 62})).await;
    assert_eq!((s.as_u16(), v["modelState"]["GiftCardNumber"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn an_unlisted_processor_is_400_naming_it() {
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let (s, v) = t.checkout(&sid, json!({"paymentProcessorId": "77"})).await;
    assert_eq!((s.as_u16(), v["modelState"]["payment.paymentProcessorId"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn redirect_is_confirmed_through_the_simulator_route() {
    // The confirmation path is not shown (§15.1); the simulator's stand-in is a route under the
    // reserved prefix.
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let (_, v) = t.checkout(&sid, json!({"paymentProcessorId": 5})).await;
    let url = v["callBackUrl"].as_str().unwrap().to_string();
    let (s, page) = read(t.http.get(&url).send().await.unwrap()).await;
    assert_eq!((s.as_u16(), &page["status"], &page["amount"]), (200, &json!("AwaitingPayment"), &json!(100)));
    let (s, ok) = read(t.http.post(format!("{url}/approve")).send().await.unwrap()).await;
    assert_eq!((s.as_u16(), &ok["success"]), (200, &json!(true)));
    assert_eq!(ok["address"]["zipCode"], "90210");
    assert_eq!(t.session(&sid).status, SessionStatus::Paid);
    let (s, _) = read(t.http.post(format!("{url}/approve")).send().await.unwrap()).await;
    assert_eq!(s, 409, "a second confirmation finds nothing awaiting");
}

#[tokio::test]
async fn abandoned_redirect_sends_the_cart_back_to_open() {
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let (_, v) = t.checkout(&sid, json!({"paymentProcessorId": 31})).await;
    let url = v["callBackUrl"].as_str().unwrap().to_string();
    let (s, _) = read(t.http.post(format!("{url}/cancel")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(t.session(&sid).status, SessionStatus::Open);
}

#[tokio::test]
async fn unconfirmed_redirect_goes_back_to_open_after_thirty_minutes() {
    // §14, §15.2 redirect payment timeout.
    let t = sim().await;
    let sid = ready_cart(&t).await;
    t.checkout(&sid, json!({"paymentProcessorId": 5})).await;
    t.advance(29 * 60 + 59);
    assert_eq!(t.cart(&sid).await["status"], "AwaitingPayment");
    t.advance(1);
    assert_eq!(t.cart(&sid).await["status"], "Open");
    assert!(!t.probe.confirm_payment(&sid), "too late to confirm");
    let (_, v) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!(v["success"], true, "checkout may be retried");
}

#[tokio::test]
async fn redirect_timeout_setting_changes_the_window() {
    // §15.2 alternative: any duration.
    let mut settings = EmanageSettings::default();
    settings.redirect_timeout_secs = 300;
    let t = sim_with(settings).await;
    let sid = ready_cart(&t).await;
    t.checkout(&sid, json!({"paymentProcessorId": 5})).await;
    t.advance(300);
    assert_eq!(t.session(&sid).status, SessionStatus::Open);
}

#[tokio::test]
async fn awaiting_or_paid_cart_refuses_another_checkout_with_409() {
    let t = sim().await;
    let sid = ready_cart(&t).await;
    t.checkout(&sid, json!({"paymentProcessorId": 5})).await;
    let (s, _) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!(s, 409);
    t.probe.confirm_payment(&sid);
    let (s, _) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!(s, 409);
    assert_eq!(t.session(&sid).captures.len(), 1, "one charge");
}

#[tokio::test]
async fn checkout_of_an_empty_cart_is_409() {
    let t = sim().await;
    let sid = ready_cart(&t).await;
    t.call(Method::DELETE, &cart_path(&format!("/remove?sessionId={sid}&productId=918325")), None).await;
    let (s, _) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn checkout_of_an_unknown_session_is_404() {
    let t = sim().await;
    let (s, _) = t.checkout("0f8fad5b-d9cb-469f-a165-70867728950e", card(demo::PAN_APPROVE)).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn checkout_with_behavior_id_2_flags_the_cart_as_test() {
    // checklist 4 (the flag also shows in reporting, see orders.rs).
    let t = sim().await;
    let sid = ready_cart(&t).await;
    let body = json!({"behaviorId": "2", "sessionId": sid, "payment": card(demo::PAN_APPROVE)});
    let (_, v) = t.post(&cart_path("/checkout"), body).await;
    assert_eq!(v["success"], true);
    assert!(t.session(&sid).test);
}
