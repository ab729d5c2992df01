//! The shop's pages over plain HTTP (no browser), on `loyalty serve` over the memory provider:
//! refusals from the API shown as readable text, never a panic.

use std::net::SocketAddr;
use std::sync::Arc;

use loyalty_core::checkout::MemoryCheckoutStore;
use loyalty_storefront::{app, StorefrontConfig};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

const API_KEY: &str = "storefront-pages-test-key-0123456789";

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// `loyalty serve` over the memory demo store; its base URL.
async fn api() -> String {
    let provider = Arc::new(loyalty_memory::MemoryProvider::demo());
    let opened = loyalty_config::Opened::new(provider, Arc::new(MemoryCheckoutStore::new()));
    let key = loyalty_serve::ApiKey::new(API_KEY).expect("key");
    format!("http://{}", serve(loyalty_serve::router(opened, loyalty_serve::ServeSettings::new(key))).await)
}

/// The shop on [`api`]; its base URL.
async fn shop() -> String {
    shop_on(&api().await).await
}

async fn shop_on(api: &str) -> String {
    let config = StorefrontConfig { api: api.parse().expect("url"), api_key: API_KEY.into() };
    format!("http://{}", serve(app(config)).await)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// The value of the first `name="…" value="…"` input on a page.
fn input_value(page: &str, name: &str) -> String {
    let at = page.find(&format!(r#"name="{name}" value=""#)).unwrap_or_else(|| panic!("no {name} in {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').expect("closing quote")].to_string()
}

fn cookie_value(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        c.strip_prefix(&format!("{name}=")).map(|v| v.split(';').next().unwrap_or("").to_string())
    })
}

#[tokio::test]
async fn registration_refusal_shows_each_reason_beside_its_field() {
    let base = shop().await;
    let r = client()
        .post(format!("{base}/register"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "idempotency_key=reg-refused&email=not-an-address&phone=%2B4798000001&consent.order_history=true",
        )
        .send()
        .await
        .expect("shop answers");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.expect("page");
    for field in ["email", "segment.seg-birthday", "consent.membership"] {
        assert!(page.contains(&format!(r#"data-error-for="{field}""#)), "no reason beside {field}:\n{page}");
    }
    // The typed values stay; the corrected form goes under a new key.
    assert!(page.contains(r#"value="not-an-address""#));
    assert_ne!(input_value(&page, "idempotency_key"), "reg-refused");
}

#[tokio::test]
async fn double_submitted_registration_makes_one_member() {
    let base = shop().await;
    let form = "idempotency_key=reg-twice&email=twice%40example.com&phone=%2B4798000002\
                &segment.seg-birthday=1990-05-17&consent.membership=true&consent.order_history=true";
    let mut members = Vec::new();
    for _ in 0..2 {
        let r = client()
            .post(format!("{base}/register"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("shop answers");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
        assert_eq!(r.headers()[LOCATION], "/me");
        members.push(cookie_value(&r, "member").expect("member cookie"));
    }
    assert_eq!(members[0], members[1], "the second submit replays the first");
}

#[tokio::test]
async fn payment_other_than_the_prepared_total_is_a_readable_message() {
    let base = shop().await;
    let http = client();
    let cart = "cart=COF-500:1";
    let page =
        http.get(format!("{base}/checkout")).header(COOKIE, cart).send().await.unwrap().text().await.unwrap();
    let order = input_value(&page, "order");
    let review = http
        .post(format!("{base}/checkout/review"))
        .header(COOKIE, cart)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("order={order}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(input_value(&review, "amount"), "12900", "the prepared total:\n{review}");
    let r = http
        .post(format!("{base}/checkout/buy"))
        .header(COOKIE, cart)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("order={order}&amount=100&currency=NOK"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"id="problem""#) && page.contains("does not equal the prepared total"), "{page}");
}

#[tokio::test]
async fn pages_say_the_loyalty_service_cannot_be_reached_when_it_is_down() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let base = shop_on(&format!("http://{closed}")).await;
    let r = client().get(format!("{base}/register")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = r.text().await.unwrap();
    assert!(page.contains("The loyalty service cannot be reached") && page.contains("try again"), "{page}");
    let r = client().get(format!("{base}/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the catalogue needs no API");
}

#[tokio::test]
async fn a_price_change_at_buy_shows_both_totals_and_asks_to_confirm_the_new_one() {
    use axum::routing::post;
    // A stand-in for the API whose commit answers `price_changed` (a hold lapsed and the
    // coupon was taken): 129.00 shown, 103.20 → 129.00 now.
    let cart = "cart=COF-500:1";
    let priced = loyalty_core::pricing::price(&one_coffee(), &[], &[], chrono::Utc::now()).expect("priced");
    let answer = serde_json::json!({
        "status": "price_changed",
        "old_total": {"minor": 10_320, "currency": "NOK"},
        "new_total": {"minor": 12_900, "currency": "NOK"},
        "changes": ["offer c-coffee20: hold expired and the offer was taken"],
        "prepared": {"order": "o-1", "revision": 2, "member": null, "signed_up": false, "offers": [],
                     "priced": priced, "holds": [], "notes": []},
    });
    let fake = axum::Router::new()
        .route("/v1/checkouts/{order}/commit", post(move || async move { axum::Json(answer.clone()) }));
    let base = shop_on(&format!("http://{}", serve(fake).await)).await;
    let r = client()
        .post(format!("{base}/checkout/buy"))
        .header(COOKIE, cart)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("order=o-1&amount=10320&currency=NOK")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("it was 103.20 NOK, it is now 129.00 NOK. Nothing was charged."), "{page}");
    assert!(page.contains("hold expired and the offer was taken"), "{page}");
    assert_eq!(input_value(&page, "amount"), "12900", "the buy button now pays the new total");
    assert_eq!(input_value(&page, "order"), "o-1", "under the same order");
}

/// One coffee, as the shop sends it.
fn one_coffee() -> loyalty_core::Basket {
    use loyalty_core::{Basket, Currency, Line, Money};
    Basket::new(Currency::NOK).with_line(
        Line::new("1", "COF-500", rust_decimal::Decimal::ONE, Money::new(12_900, Currency::NOK))
            .with_name("Coffee 500 g"),
    )
}

/// Puts one coffee through checkout and review; the order id and the review page.
async fn reviewed_order(base: &str, http: &reqwest::Client, cart: &str) -> (String, String) {
    let page =
        http.get(format!("{base}/checkout")).header(COOKIE, cart).send().await.unwrap().text().await.unwrap();
    let order = input_value(&page, "order");
    let review = http
        .post(format!("{base}/checkout/review"))
        .header(COOKIE, cart)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("order={order}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (order, review)
}

#[tokio::test]
async fn changing_the_order_aborts_it_and_returns_to_checkout() {
    let base = shop().await;
    let http = client();
    let (order, _) = reviewed_order(&base, &http, "cart=COF-500:1").await;
    let r = http
        .post(format!("{base}/checkout/abort"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("order={order}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(r.headers()[LOCATION], "/checkout");
}

#[tokio::test]
async fn a_double_click_on_buy_lands_both_on_the_one_receipt() {
    let api = api().await;
    let base = shop_on(&api).await;
    let http = client();
    let cart = "cart=COF-500:1";
    let (order, review) = reviewed_order(&base, &http, cart).await;
    let amount = input_value(&review, "amount");
    let mut receipts = Vec::new();
    for _ in 0..2 {
        let r = http
            .post(format!("{base}/checkout/buy"))
            .header(COOKIE, cart)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("order={order}&amount={amount}&currency=NOK"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
        receipts.push(r.headers()[LOCATION].to_str().unwrap().to_string());
    }
    assert_eq!(receipts, [format!("/receipt/{order}"), format!("/receipt/{order}")]);
    // Another shop process has no copy of the answer: it reads the API's checkout record.
    for shop in [base, shop_on(&api).await] {
        let page = http.get(format!("{shop}{}", receipts[0])).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(r#"<strong id="total">129.00 NOK</strong>"#), "{page}");
        assert!(!page.contains("You earned"), "a guest earns no points:\n{page}");
    }
}
