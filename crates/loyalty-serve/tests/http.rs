//! `loyalty serve` over real HTTP on the memory provider: the key, problem details,
//! idempotency keys (also across a restart on SQLite), the checkout's money rules, limits, CORS.

use std::sync::Arc;

use loyalty_config::Opened;
use loyalty_core::checkout::{CheckoutStore, MemoryCheckoutStore};
use loyalty_memory::demo;
use loyalty_serve::{router, ApiKey, ServeSettings};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const KEY: &str = "test-key-0123456789abcdef";

struct Served {
    base: String,
    http: Client,
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).bearer_auth(KEY).send().await.unwrap()
    }

    async fn post(&self, path: &str, key: Option<&str>, body: Value) -> reqwest::Response {
        let mut r = self.http.post(self.url(path)).bearer_auth(KEY).json(&body);
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        r.send().await.unwrap()
    }
}

async fn start_on(store: Arc<dyn CheckoutStore>, settings: ServeSettings) -> Served {
    let provider = Arc::new(loyalty_memory::MemoryProvider::demo());
    start_with(Opened::new(provider, store), settings).await
}

async fn start_with(opened: Opened, settings: ServeSettings) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(opened, settings);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Served { base: format!("http://{addr}"), http: Client::new() }
}

/// The service on `provider` (kept by the test to inject faults) and a fresh memory store.
async fn start_on_provider(provider: &loyalty_memory::MemoryProvider) -> Served {
    let opened = Opened::new(Arc::new(provider.clone()), Arc::new(MemoryCheckoutStore::new()));
    start_with(opened, ServeSettings::new(ApiKey::new(KEY).unwrap())).await
}

async fn start() -> Served {
    start_on(Arc::new(MemoryCheckoutStore::new()), ServeSettings::new(ApiKey::new(KEY).unwrap())).await
}

async fn problem(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    assert_eq!(ct.as_deref(), Some("application/problem+json"), "status {status}");
    (status, r.json().await.unwrap())
}

fn basket() -> Value {
    json!({"currency": "NOK", "lines": [
        {"line_id": "1", "product_id": demo::PRODUCT_COFFEE, "sku": null, "name": "Coffee",
         "quantity": "2", "unit_price": {"minor": 12900, "currency": "NOK"}, "tax_rate": null},
        {"line_id": "2", "product_id": demo::PRODUCT_MUG, "sku": null, "name": "Mug",
         "quantity": "1", "unit_price": {"minor": 9900, "currency": "NOK"}, "tax_rate": null}
    ]})
}

fn member_lookup() -> Value {
    json!({"kind": "provider_id", "value": demo::MEMBER_ID})
}

#[tokio::test]
async fn only_health_is_open_and_every_other_path_needs_the_key() {
    let s = start().await;
    let health = s.http.get(s.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["provider"], "memory");
    for path in ["/v1/capabilities", "/openapi.json", "/v1/members?id=m-1001", "/v1/no-such-thing"] {
        let (status, p) = problem(s.http.get(s.url(path)).send().await.unwrap()).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(p["kind"], "unauthorized");
        let (status, _) =
            problem(s.http.get(s.url(path)).bearer_auth("wrong-key-0123456789").send().await.unwrap()).await;
        assert_eq!(status, 401, "{path}");
    }
    let r = s.http.post(s.url("/v1/members")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_eq!(s.get("/v1/capabilities").await.status(), 200);
    let r = s.http.get(s.url("/v1/capabilities")).header("X-API-Key", KEY).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .http
        .get(s.url("/v1/capabilities"))
        .header("X-API-Key", "wrong-key-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_field_the_endpoint_does_not_know_is_refused_at_any_depth() {
    let s = start().await;
    let reg = json!({"emial": "typo@example.com", "consents": {"membership": true, "order_history": true,
        "marketing_sms": false, "marketing_email": false}});
    let (status, p) = problem(s.post("/v1/members", Some("typo-1"), reg).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (400, Some("emial")), "{p}");
    let mut b = basket();
    b["lines"][1]["discount_code"] = json!("X");
    let prep = json!({"basket": b, "sign_up": {"email": "a@example.com", "nick": "a"}});
    let (status, p) = problem(s.post("/v1/checkouts/o-typo/prepare", Some("o-typo"), prep).await).await;
    assert_eq!(status, 400);
    assert_eq!(p["field"], "basket.lines[1].discount_code", "{p}");
    // Known fields may be null or empty; an unknown one may not, whatever its value.
    let ok = s.post("/v1/price", None, json!({"basket": basket(), "member": null, "confirmed": []})).await;
    assert_eq!(ok.status(), 200);
    let (status, p) =
        problem(s.post("/v1/price", None, json!({"basket": basket(), "coupons": null})).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (400, Some("coupons")), "{p}");
    // Inside a tagged value, written before or after its tag.
    for lookup in [
        json!({"kind": "phone", "value": {"country_code": "+47", "number": "41234567", "ext": "1"}}),
        json!({"value": {"country_code": "+47", "number": "41234567", "ext": "1"}, "kind": "phone"}),
    ] {
        let prep = json!({"basket": basket(), "member": lookup});
        let (status, p) =
            problem(s.post("/v1/checkouts/o-typo-2/prepare", Some("o-typo-2"), prep).await).await;
        assert_eq!(status, 400, "{p}");
        assert!(p["detail"].as_str().unwrap_or_default().contains("ext"), "{p}");
    }
    // One JSON document: something after it is not dropped either.
    let text = format!("{} {{}}", json!({"basket": basket()}));
    let r = s.http.post(s.url("/v1/price")).bearer_auth(KEY).header("content-type", "application/json");
    let (status, p) = problem(r.body(text).send().await.unwrap()).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (400, Some("body")), "{p}");
}

#[tokio::test]
async fn errors_are_problem_details_with_kind_temporary_and_effect() {
    let s = start().await;
    let (status, p) = problem(s.get("/v1/members?email=nobody@example.com").await).await;
    assert_eq!(status, 404);
    assert_eq!(p["kind"], "not_found");
    assert_eq!(p["type"], "urn:loyalty-bridge:problem:not_found");
    assert_eq!(p["temporary"], false);
    assert_eq!(p["effect"], "rejected_before_acting");
    assert_eq!(p["status"], 404);

    let (status, p) = problem(s.get("/v1/members?phone=12").await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("phone")));

    // A body of the wrong shape names the path of the bad field.
    let mut b = basket();
    b["lines"][1]["quantity"] = json!(["two"]);
    let (status, p) = problem(s.post("/v1/price", None, json!({"basket": b})).await).await;
    assert_eq!(status, 400);
    assert_eq!(p["kind"], "invalid");
    assert!(p["field"].as_str().unwrap().starts_with("basket.lines[1].quantity"), "{p}");

    // Quantities are plain decimal strings: an exponent or a separator is refused naming the
    // field, never read as 1000 or 20.
    for bad in ["1e3", "2_0", " 2"] {
        let mut b = basket();
        b["lines"][1]["quantity"] = json!(bad);
        let (status, p) = problem(s.post("/v1/price", None, json!({"basket": b})).await).await;
        assert_eq!(status, 400, "{bad}: {p}");
        assert!(p["field"].as_str().unwrap().starts_with("basket.lines[1].quantity"), "{bad}: {p}");
    }
    let ret = json!({"order": "o-1", "return_id": "o-1-r9", "lines": [{"line_id": "2", "quantity": "1e0"}]});
    let (status, p) = problem(s.post("/v1/returns", Some("ret-sci"), ret).await).await;
    assert_eq!(status, 400, "{p}");
    assert!(p["field"].as_str().unwrap().starts_with("lines[0].quantity"), "{p}");

    let (status, p) = problem(s.post("/v1/offers", None, json!({"membr": "x"})).await).await;
    assert_eq!(status, 400);
    assert!(p["reason"].as_str().unwrap().contains("membr"), "{p}");
}

#[tokio::test]
async fn found_members_offers_and_price_answer_json() {
    let s = start().await;
    let r = s.get(&format!("/v1/members?phone=%2B47{}", demo::MEMBER_PHONE)).await;
    assert_eq!(r.status(), 200);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["id"], demo::MEMBER_ID);
    // A `+` a client forgot to escape arrives as a space: still the same phone.
    let r = s.get(&format!("/v1/members?phone=+47{}", demo::MEMBER_PHONE)).await;
    let body = r.json::<Value>().await.unwrap();
    assert_eq!(body["id"], demo::MEMBER_ID, "{body}");
    let (status, p) =
        problem(s.http.delete(s.url("/v1/members")).bearer_auth(KEY).send().await.unwrap()).await;
    assert_eq!((status.as_u16(), p["kind"].as_str()), (405, Some("invalid")));

    let offers: Value = s
        .post("/v1/offers", None, json!({"member": demo::MEMBER_ID, "basket": basket()}))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = offers.as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&demo::COUPON_COFFEE20) && ids.contains(&demo::STAMP_COFFEE), "{ids:?}");

    let priced: Value = s
        .post("/v1/price", None, json!({"member": demo::MEMBER_ID, "basket": basket()}))
        .await
        .json()
        .await
        .unwrap();
    assert!(priced["total_discount"]["minor"].as_i64().unwrap() > 0, "{priced}");
    assert_eq!(
        priced["total"]["minor"].as_i64().unwrap() + priced["total_discount"]["minor"].as_i64().unwrap(),
        2 * 12900 + 9900
    );

    let form: Value = s.get("/v1/registration-form").await.json().await.unwrap();
    let names: Vec<&str> =
        form["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(&names[names.len() - 2..], ["consent.membership", "consent.order_history"]);
}

#[tokio::test]
async fn a_write_without_a_key_is_refused_and_a_repeat_gets_the_stored_answer() {
    let s = start().await;
    let reg = json!({"phone": {"country_code": "+47", "number": "49900001"}, "email": "ola@example.com",
        "first_name": "Ola", "consents": {"membership": true, "order_history": true,
        "marketing_sms": false, "marketing_email": false}});
    let (status, p) = problem(s.post("/v1/members", None, reg.clone()).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (400, Some("Idempotency-Key")));

    let first = s.post("/v1/members", Some("reg-1"), reg.clone()).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    let again = s.post("/v1/members", Some("reg-1"), reg.clone()).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);

    let mut other = reg.clone();
    other["email"] = json!("someone.else@example.com");
    let (status, p) = problem(s.post("/v1/members", Some("reg-1"), other).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("Idempotency-Key")));

    // A phone as one international number reads as well as the split form.
    let text_phone = json!({"phone": "+4749900009", "email": "text.phone@example.com",
        "consents": {"membership": true, "order_history": true, "marketing_sms": false, "marketing_email": false}});
    let r = s.post("/v1/members", Some("reg-text-phone"), text_phone).await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().await.unwrap()["phone"],
        json!({"country_code": "+47", "number": "49900009"})
    );
    let (status, p) =
        problem(s.post("/v1/members", Some("reg-bad-phone"), json!({"phone": "12"})).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (400, Some("phone")), "{p}");

    // A definite refusal is stored too: the same request under its key gets the same refusal.
    let (status, p) = problem(s.post("/v1/members", Some("reg-2"), reg.clone()).await).await;
    let (status2, p2) = problem(s.post("/v1/members", Some("reg-2"), reg).await).await;
    assert_eq!((status, &p), (status2, &p2));
    assert_eq!(p["kind"], "conflict", "{p}");
}

#[tokio::test]
async fn concurrent_repeats_under_one_key_register_once() {
    let s = Arc::new(start().await);
    let form = json!({"email": "sara@example.com", "phone": "+4749900002", "segment.seg-birthday": "1990-04-01",
        "consent.membership": true, "consent.order_history": true});
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            let form = form.clone();
            tokio::spawn(async move {
                let r = s.post("/v1/members/registration", Some("form-1"), form).await;
                (r.status(), r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        ids.insert(body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "one member registered: {ids:?}");
}

#[tokio::test]
async fn a_refused_registration_form_names_every_field() {
    let s = start().await;
    let (status, p) = problem(
        s.post("/v1/members/registration", Some("form-bad"), json!({"email": "nope", "phone": "12"})).await,
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(
        fields.contains(&"email") && fields.contains(&"phone") && fields.contains(&"consent.membership"),
        "{fields:?}"
    );
}

#[tokio::test]
async fn checkout_over_http_charges_the_prepared_total_once() {
    let s = start().await;
    let prep = json!({"basket": basket(), "member": member_lookup(), "confirmed": [demo::COUPON_SUMMER10]});
    // The key of a checkout write is its order id.
    let (status, p) =
        problem(s.post("/v1/checkouts/o-1/prepare", Some("something-else"), prep.clone()).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("Idempotency-Key")));

    let prepared: Value =
        s.post("/v1/checkouts/o-1/prepare", Some("o-1"), prep.clone()).await.json().await.unwrap();
    let total = prepared["priced"]["total"].clone();
    assert!(prepared["priced"]["total_discount"]["minor"].as_i64().unwrap() > 0, "{prepared}");
    // The same basket again: the prepared checkout as it stands.
    let again = s.post("/v1/checkouts/o-1/prepare", Some("o-1"), prep).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["priced"]["total"], total);

    // A payment of another amount records nothing.
    let short = json!({"minor": total["minor"].as_i64().unwrap() - 1, "currency": "NOK"});
    let (status, p) = problem(
        s.post(
            "/v1/checkouts/o-1/commit",
            Some("o-1"),
            json!({"payment": {"reference": "psp-1", "amount": short}}),
        )
        .await,
    )
    .await;
    assert_eq!((status.as_u16(), p["kind"].as_str()), (409, Some("conflict")));
    let record: Value = s.get("/v1/checkouts/o-1").await.json().await.unwrap();
    assert_eq!(record["state"], "prepared", "{record}");

    let pay = json!({"payment": {"reference": "psp-1", "amount": total}});
    let done: Value =
        s.post("/v1/checkouts/o-1/commit", Some("o-1"), pay.clone()).await.json().await.unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["charged"], total);
    assert_eq!(done["delivery"]["status"], "sent");
    // A double click: the first result, one sale.
    let twice: Value = s.post("/v1/checkouts/o-1/commit", Some("o-1"), pay).await.json().await.unwrap();
    assert_eq!(twice["transaction"], done["transaction"]);
    let (status, p) =
        problem(s.post("/v1/checkouts/o-1/prepare", Some("o-1"), json!({"basket": basket()})).await).await;
    assert_eq!((status.as_u16(), p["kind"].as_str()), (409, Some("conflict")));

    // A return under its own id; a repeat gets the same outcome.
    let ret = json!({"order": "o-1", "return_id": "o-1-r1", "lines": [{"line_id": "2", "quantity": "1"}]});
    let (status, _) = problem(s.post("/v1/returns", Some("o-1"), ret.clone()).await).await;
    assert_eq!(status, 422);
    let first = s.post("/v1/returns", Some("o-1-r1"), ret.clone()).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let repeat = s.post("/v1/returns", Some("o-1-r1"), ret).await;
    assert_eq!(repeat.headers()["idempotent-replayed"], "true");
    assert_eq!(repeat.json::<Value>().await.unwrap(), first);

    let pending: Value = s.get("/v1/pending").await.json().await.unwrap();
    assert_eq!(pending, json!([]));
}

#[tokio::test]
async fn an_aborted_checkout_releases_its_holds_and_can_be_prepared_again() {
    let s = start().await;
    let prep = json!({"basket": basket(), "member": member_lookup()});
    assert_eq!(s.post("/v1/checkouts/o-2/prepare", Some("o-2"), prep.clone()).await.status(), 200);
    let r = s
        .http
        .post(s.url("/v1/checkouts/o-2/abort"))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "o-2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let record: Value = s.get("/v1/checkouts/o-2").await.json().await.unwrap();
    assert_eq!(record["state"], "aborted");
    assert_eq!(s.post("/v1/checkouts/o-2/prepare", Some("o-2"), prep).await.status(), 200);
    let (status, _) = problem(
        s.post(
            "/v1/checkouts/o-9/commit",
            Some("o-9"),
            json!({"payment": {"reference": "x", "amount": {"minor": 1, "currency": "NOK"}}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn stored_answers_survive_a_restart_on_sqlite() {
    let dir = tempfile::Builder::new().prefix("loyalty-serve-").tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("restart.db").display());
    let provider = Arc::new(loyalty_memory::MemoryProvider::demo());
    let settings = || ServeSettings::new(ApiKey::new(KEY).unwrap());
    let reg = json!({"email": "per@example.com", "phone": {"country_code": "+47", "number": "49900003"},
        "consents": {"membership": true, "order_history": true, "marketing_sms": false, "marketing_email": false}});
    let first: Value = {
        let store = loyalty_store::open(&url).await.unwrap();
        let s = start_with(Opened::new(provider.clone(), store), settings()).await;
        s.post("/v1/members", Some("restart-1"), reg.clone()).await.json().await.unwrap()
    };
    let store = loyalty_store::open(&url).await.unwrap();
    let s = start_with(Opened::new(provider, store), settings()).await;
    let again = s.post("/v1/members", Some("restart-1"), reg).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
}

#[tokio::test]
async fn oversized_bodies_get_413_and_cors_is_off_unless_configured() {
    let mut settings = ServeSettings::new(ApiKey::new(KEY).unwrap());
    settings.max_body_bytes = 2048;
    let s = start_on(Arc::new(MemoryCheckoutStore::new()), settings).await;
    let big = json!({"basket": {"currency": "NOK", "lines": [], "padding": "x".repeat(4096)}});
    let (status, p) = problem(s.post("/v1/price", None, big).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (413, Some("body")));
    assert_eq!(allowed_origin(&s, "https://shop.example").await, None);

    let mut settings = ServeSettings::new(ApiKey::new(KEY).unwrap());
    settings.cors_origins = vec!["https://shop.example".parse().unwrap()];
    let s = start_on(Arc::new(MemoryCheckoutStore::new()), settings).await;
    assert_eq!(allowed_origin(&s, "https://shop.example").await.as_deref(), Some("https://shop.example"));
    assert_eq!(allowed_origin(&s, "https://evil.example").await, None);
}

/// The `Access-Control-Allow-Origin` the service answers a keyed read from `origin` with.
async fn allowed_origin(s: &Served, origin: &str) -> Option<String> {
    let r =
        s.http.get(s.url("/v1/capabilities")).bearer_auth(KEY).header("Origin", origin).send().await.unwrap();
    r.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned())
}

#[test]
fn settings_read_the_key_from_the_named_variable_and_never_show_it() {
    let table = json!({"api_key_env": "SHOP_KEY", "max_body_bytes": 4096, "listen": "127.0.0.1:9000"});
    let s =
        ServeSettings::from_config_with(Some(&table), |name| (name == "SHOP_KEY").then(|| KEY.to_string()))
            .unwrap();
    assert_eq!(s.max_body_bytes, 4096);
    assert!(!format!("{s:?}").contains(KEY));
    let e = ServeSettings::from_config_with(Some(&table), |_| None).unwrap_err();
    assert!(e.to_string().contains("SHOP_KEY"), "{e}");
    let e = ServeSettings::from_config_with(Some(&table), |_| Some("short".into())).unwrap_err();
    assert!(!e.to_string().contains("short\""), "{e}");
    let e = ServeSettings::from_config_with(Some(&json!({"listn": "x"})), |_| Some(KEY.into())).unwrap_err();
    assert!(e.to_string().contains("listn"), "{e}");
    // `serve = 5` instead of a `[serve]` table: the field is the section itself.
    let e = ServeSettings::from_config_with(Some(&json!(5)), |_| Some(KEY.into())).unwrap_err();
    assert!(matches!(e.kind(), loyalty_core::ErrorKind::Invalid { field, .. } if field == "serve"), "{e}");
}

fn payment_of(total: &Value, reference: &str) -> Value {
    json!({"payment": {"reference": reference, "amount": total}})
}

#[tokio::test]
async fn an_order_left_charging_before_its_payment_was_taken_finishes_on_the_next_commit() {
    let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
    let s = start_on(store.clone(), ServeSettings::new(ApiKey::new(KEY).unwrap())).await;
    let prep = json!({"basket": basket(), "member": member_lookup()});
    let prepared: Value =
        s.post("/v1/checkouts/o-c1/prepare", Some("o-c1"), prep).await.json().await.unwrap();
    let total = prepared["priced"]["total"].clone();
    // The instance that took the commit stopped right after writing `charging` (no payment
    // recorded yet); its lease has lapsed.
    let order = loyalty_core::TransactionId::new("o-c1");
    let stored = store.load(&order).await.unwrap().unwrap();
    let mut rec = stored.value;
    rec.state = loyalty_core::checkout::CheckoutState::Charging;
    rec.due_at = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
    assert!(store.save(&rec, Some(stored.version)).await.unwrap().is_some());

    // The shop repeats its commit with its payment: the sale is recorded once.
    let done = s.post("/v1/checkouts/o-c1/commit", Some("o-c1"), payment_of(&total, "psp-c1")).await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["charged"], total);
    let again = s.post("/v1/checkouts/o-c1/commit", Some("o-c1"), payment_of(&total, "psp-c1")).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["transaction"], done["transaction"]);
}

#[tokio::test]
async fn a_prepare_repeated_with_a_sign_up_enrols_the_guest_instead_of_replaying() {
    let s = start().await;
    let guest = json!({"basket": basket()});
    let first: Value = s.post("/v1/checkouts/o-g1/prepare", Some("o-g1"), guest).await.json().await.unwrap();
    assert_eq!(first["signed_up"], false);
    let sign_up = json!({"basket": basket(), "sign_up": {
        "email": "guest-g1@example.com", "phone": {"country_code": "+47", "number": "49900071"},
        "consents": {"membership": true, "order_history": true, "marketing_sms": false, "marketing_email": false}}});
    let second = s.post("/v1/checkouts/o-g1/prepare", Some("o-g1"), sign_up).await;
    assert_eq!(second.status(), 200);
    assert!(second.headers().get("idempotent-replayed").is_none(), "another request is not a replay");
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["signed_up"], true, "{second}");
    assert!(second["member"]["id"].is_string(), "{second}");
}

#[tokio::test]
async fn price_follows_the_checkouts_rules_for_guests_and_offers_it_cannot_apply() {
    // A provider that lists no offers for guests: a guest's basket is priced without them.
    let provider = Arc::new(loyalty_memory::MemoryProvider::demo().redeclared(|c| c.guest_offers = false));
    let s = start_with(
        Opened::new(provider, Arc::new(MemoryCheckoutStore::new())),
        ServeSettings::new(ApiKey::new(KEY).unwrap()),
    )
    .await;
    let r = s.post("/v1/price", None, json!({"basket": basket()})).await;
    assert_eq!(r.status(), 200);
    let priced: Value = r.json().await.unwrap();
    assert_eq!(priced["total"], priced["total_gross"], "{priced}");

    // A coupon in another currency is reported, and the rest is priced.
    let provider = loyalty_memory::MemoryProvider::demo();
    provider.add_offer_for_everyone(loyalty_core::Offer::new(
        "c-eur",
        "5 EUR off",
        loyalty_core::OfferKind::Coupon {
            discount: loyalty_core::Discount::Fixed(loyalty_core::Money::new(
                500,
                loyalty_core::Currency::EUR,
            )),
            scope: loyalty_core::Scope::Basket,
        },
    ));
    let s = start_with(
        Opened::new(Arc::new(provider), Arc::new(MemoryCheckoutStore::new())),
        ServeSettings::new(ApiKey::new(KEY).unwrap()),
    )
    .await;
    let r = s.post("/v1/price", None, json!({"basket": basket(), "member": demo::MEMBER_ID})).await;
    assert_eq!(r.status(), 200);
    let priced: Value = r.json().await.unwrap();
    let set_aside = priced["not_applied"].as_array().unwrap();
    assert!(
        set_aside.iter().any(|n| n["offer_id"] == "c-eur" && n["reason"].as_str().unwrap().contains("EUR")),
        "{priced}"
    );
    assert!(
        priced["total_discount"]["minor"].as_i64().unwrap() > 0,
        "the member's other offers apply: {priced}"
    );
}

#[tokio::test]
async fn bad_paths_content_types_and_keys_get_problems() {
    let s = start().await;
    // A path parameter that is not UTF-8 once decoded.
    let (status, p) = problem(s.get("/v1/members/%FF").await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (400, Some("path")));
    // A form post is told the body must be JSON.
    let r = s
        .http
        .post(s.url("/v1/price"))
        .bearer_auth(KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("basket=1")
        .send()
        .await
        .unwrap();
    let (status, p) = problem(r).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (415, Some("Content-Type")));
    // JSON sent without a content type is read.
    let r = s.http.post(s.url("/v1/price")).bearer_auth(KEY).body(json!({"basket": basket()}).to_string());
    assert_eq!(r.send().await.unwrap().status(), 200);
    // The scheme name is case-insensitive.
    let r = s.http.get(s.url("/v1/capabilities")).header("authorization", format!("bearer {KEY}"));
    assert_eq!(r.send().await.unwrap().status(), 200);
    // OPTIONS needs the key like any other method when CORS is off.
    for path in ["/v1/members", "/v1/nope"] {
        let r = s.http.request(reqwest::Method::OPTIONS, s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
}

#[tokio::test]
async fn a_registration_repeated_after_a_lost_reply_answers_the_member_created_once() {
    let provider = loyalty_memory::MemoryProvider::demo();
    let s = start_on_provider(&provider).await;
    let before = provider.member_count();
    let reg = json!({"email": "lost-reply@example.com", "phone": {"country_code": "+47", "number": "49900091"},
        "consents": {"membership": true, "order_history": true, "marketing_sms": false, "marketing_email": false}});
    // The vendor registers the member, but its reply never arrives.
    provider.lose_reply_next("members.register");
    let (status, p) = problem(s.post("/v1/members", Some("reg-lost-1"), reg.clone()).await).await;
    assert_eq!(
        (status.as_u16(), p["effect"].as_str(), p["temporary"].as_bool()),
        (503, Some("unknown"), Some(true))
    );
    // The shop repeats with the same key: the member the first attempt created, not a conflict
    // and not a second member.
    let again = s.post("/v1/members", Some("reg-lost-1"), reg).await;
    assert_eq!(again.status(), 201);
    let member: Value = again.json().await.unwrap();
    assert_eq!(member["email"], "lost-reply@example.com");
    assert_eq!(provider.member_count(), before + 1);
}

fn one_line(product: &str, minor: i64) -> Value {
    json!({"currency": "NOK", "lines": [
        {"line_id": "1", "product_id": product, "sku": null, "name": product,
         "quantity": "1", "unit_price": {"minor": minor, "currency": "NOK"}, "tax_rate": null}]})
}

#[tokio::test]
async fn a_commit_naming_an_older_revision_is_refused_and_records_nothing() {
    let s = start().await;
    // Tab 1 shows a mug; tab 2 prepares the same order again with another item at the price.
    let first: Value = s
        .post(
            "/v1/checkouts/o-rev/prepare",
            Some("o-rev"),
            json!({"basket": one_line(demo::PRODUCT_MUG, 9900)}),
        )
        .await
        .json()
        .await
        .unwrap();
    let second: Value = s
        .post("/v1/checkouts/o-rev/prepare", Some("o-rev"), json!({"basket": one_line("OTHER-9", 9900)}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((first["revision"].as_u64(), second["revision"].as_u64()), (Some(1), Some(2)));
    let mut pay = payment_of(&first["priced"]["total"], "psp-rev");
    pay["revision"] = json!(1);
    let (status, p) = problem(s.post("/v1/checkouts/o-rev/commit", Some("o-rev"), pay.clone()).await).await;
    assert_eq!((status.as_u16(), p["kind"].as_str()), (409, Some("conflict")), "{p}");
    let record: Value = s.get("/v1/checkouts/o-rev").await.json().await.unwrap();
    assert_eq!(record["state"], "prepared", "{record}");
    // The revision shown now commits.
    pay["revision"] = json!(2);
    let done = s.post("/v1/checkouts/o-rev/commit", Some("o-rev"), pay.clone()).await;
    assert_eq!(done.status(), 200);
    // A repeat with another payment under the order's key is another request: refused.
    let mut other = pay.clone();
    other["payment"]["reference"] = json!("psp-other");
    let (status, p) = problem(s.post("/v1/checkouts/o-rev/commit", Some("o-rev"), other).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("Idempotency-Key")), "{p}");
    let again = s.post("/v1/checkouts/o-rev/commit", Some("o-rev"), pay).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
}

fn registration(email: &str, number: &str) -> Value {
    json!({"email": email, "phone": {"country_code": "+47", "number": number},
        "consents": {"membership": true, "order_history": true, "marketing_sms": false, "marketing_email": false}})
}

#[tokio::test]
async fn a_key_freed_by_a_temporary_failure_stays_free_when_the_clock_is_set_back() {
    use loyalty_core::{Error, ErrorKind, ManualClock};
    let provider = loyalty_memory::MemoryProvider::demo();
    let clock = Arc::new(ManualClock::at(demo::start()));
    let opened = Opened::new(Arc::new(provider.clone()), Arc::new(MemoryCheckoutStore::new()))
        .with_clock(clock.clone());
    let s = start_with(opened, ServeSettings::new(ApiKey::new(KEY).unwrap())).await;
    provider.fail_next("members.register", Error::new(ErrorKind::Unavailable, "memory", "members.register"));
    let reg = registration("clock@example.com", "49900777");
    let (status, _) = problem(s.post("/v1/members", Some("clk-1"), reg.clone()).await).await;
    assert_eq!(status, 503);
    // NTP steps the clock back a minute: the repeat runs, it does not wait for the clock.
    clock.set(demo::start() - chrono::Duration::minutes(1));
    assert_eq!(s.post("/v1/members", Some("clk-1"), reg).await.status(), 201);
}

#[tokio::test]
async fn an_answer_whose_effect_is_unknown_is_not_the_keys_final_answer() {
    use loyalty_core::{Error, ErrorKind};
    let provider = loyalty_memory::MemoryProvider::demo();
    let s = start_on_provider(&provider).await;
    provider.fail_next("members.register", Error::new(ErrorKind::Protocol, "memory", "members.register"));
    let reg = registration("proto@example.com", "49900778");
    let (status, p) = problem(s.post("/v1/members", Some("proto-1"), reg.clone()).await).await;
    assert_eq!((status.as_u16(), p["effect"].as_str()), (502, Some("unknown")));
    // The repeat runs again (resumed: it looks for the member first) instead of replaying 502.
    assert_eq!(s.post("/v1/members", Some("proto-1"), reg).await.status(), 201);
}

#[tokio::test]
async fn a_key_used_on_one_endpoint_is_refused_on_another() {
    let s = start().await;
    let reg = registration("one.key@example.com", "49900779");
    assert_eq!(s.post("/v1/members", Some("shared-key"), reg).await.status(), 201);
    let form = json!({"email": "two.key@example.com", "phone": "+4749900780",
        "consent.membership": "on", "consent.order_history": "on"});
    let (status, p) = problem(s.post("/v1/members/registration", Some("shared-key"), form).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("Idempotency-Key")), "{p}");
    // A body-less write too (its OpenAPI operation lists the 422).
    let r = s.http.post(s.url("/v1/pending/resend")).bearer_auth(KEY).header("Idempotency-Key", "shared-key");
    let (status, p) = problem(r.send().await.unwrap()).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("Idempotency-Key")), "{p}");
}

#[tokio::test]
async fn a_return_of_no_units_says_so_and_a_return_under_the_orders_id_is_refused() {
    let s = start().await;
    let prep = json!({"basket": basket(), "member": member_lookup()});
    let prepared: Value =
        s.post("/v1/checkouts/o-ret/prepare", Some("o-ret"), prep).await.json().await.unwrap();
    let pay = payment_of(&prepared["priced"]["total"], "psp-ret");
    assert_eq!(s.post("/v1/checkouts/o-ret/commit", Some("o-ret"), pay).await.status(), 200);
    let ret = |id: &str, qty: &str| json!({"order": "o-ret", "return_id": id, "lines": [{"line_id": "2", "quantity": qty}]});
    let (status, p) = problem(s.post("/v1/returns", Some("o-ret-r0"), ret("o-ret-r0", "0")).await).await;
    assert_eq!(status, 422);
    assert!(p["reason"].as_str().unwrap().contains("must be more than 0"), "{p}");
    let (status, p) = problem(s.post("/v1/returns", Some("o-ret"), ret("o-ret", "1")).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("return_id")), "{p}");
    let record: Value = s.get("/v1/checkouts/o-ret").await.json().await.unwrap();
    assert_eq!(record["state"], "sent", "the sale stands: {record}");
}

/// Two services on one store while a provider switch rolls out: the same prepare asked of the
/// service running the new provider is not answered from the first provider's record (its
/// commit would be refused there): it is a 409 naming both providers.
#[tokio::test]
async fn a_prepared_order_of_another_provider_is_not_replayed() {
    let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
    let settings = || ServeSettings::new(ApiKey::new(KEY).unwrap());
    let first = start_on(store.clone(), settings()).await;
    let switched = loyalty_memory::MemoryProvider::demo().redeclared(|_| {}).named("other");
    let second = start_with(Opened::new(Arc::new(switched), store), settings()).await;
    let prep = json!({"basket": basket(), "member": member_lookup(), "confirmed": [demo::COUPON_SUMMER10]});
    let r = first.post("/v1/checkouts/o-sw/prepare", Some("o-sw"), prep.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, p) = problem(second.post("/v1/checkouts/o-sw/prepare", Some("o-sw"), prep).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{p}");
    assert!(p["detail"].as_str().is_some_and(|d| d.contains("memory") && d.contains("other")), "{p}");
}

/// Two commits of one order naming different payments at once (two tabs, or a double submit
/// that made two card authorizations): the order records one sale with one payment; the
/// other commit is a 422 saying its payment was not used, never "completed" (the shop
/// captures a payment when its commit answers completed). A repeat of the winner is still
/// answered as completed.
#[tokio::test]
async fn two_commits_with_different_payments_complete_one_and_refuse_the_other() {
    let s = Arc::new(start().await);
    for i in 0..12 {
        let order = format!("o-two-{i}");
        let prep = json!({"basket": basket(), "member": member_lookup()});
        let prepared: Value =
            s.post(&format!("/v1/checkouts/{order}/prepare"), Some(&order), prep).await.json().await.unwrap();
        let total = prepared["priced"]["total"].clone();
        let commit = |reference: &'static str| {
            let (s, total, order) = (s.clone(), total.clone(), order.clone());
            tokio::spawn(async move {
                let body = json!({"payment": {"reference": reference, "amount": total}});
                let r = s.post(&format!("/v1/checkouts/{order}/commit"), Some(&order), body).await;
                (r.status(), r.json::<Value>().await.unwrap())
            })
        };
        let (a, b) = (commit("psp-A"), commit("psp-B"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let completed: Vec<&str> = [("psp-A", &a), ("psp-B", &b)]
            .iter()
            .filter(|(_, (st, v))| *st == StatusCode::OK && v["status"] == "completed")
            .map(|(r, _)| *r)
            .collect();
        assert_eq!(completed.len(), 1, "{order}: {a:?} / {b:?}");
        let loser = if completed[0] == "psp-A" { &b } else { &a };
        assert_eq!(loser.0, StatusCode::UNPROCESSABLE_ENTITY, "{order}: {loser:?}");
        let record: Value = s.get(&format!("/v1/checkouts/{order}")).await.json().await.unwrap();
        assert_eq!(record["authorization"]["id"], completed[0], "{record}");
        let again = s
            .post(
                &format!("/v1/checkouts/{order}/commit"),
                Some(&order),
                json!({"payment": {"reference": completed[0], "amount": total}}),
            )
            .await;
        assert_eq!(again.status(), StatusCode::OK, "the winner's repeat");
    }
}

/// A confirmed offer the provider does not list now (used up, expired, a guest's coupon) is
/// priced as the checkout's prepare prices it: left out and reported as not applied, not a
/// refusal of the whole price.
#[tokio::test]
async fn price_leaves_out_a_confirmed_offer_not_listed_as_prepare_does() {
    let s = start().await;
    let body = json!({"basket": basket(), "member": demo::MEMBER_ID, "confirmed": ["no-such-coupon"]});
    let r = s.post("/v1/price", None, body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let priced: Value = r.json().await.unwrap();
    let not_applied = priced["not_applied"].as_array().unwrap();
    assert!(not_applied.iter().any(|n| n["offer_id"] == "no-such-coupon"), "{priced}");
}

/// A pricing refusal names the part of the request at fault, not just `basket`.
#[tokio::test]
async fn a_pricing_refusal_names_the_line_and_field_at_fault() {
    let s = start().await;
    let mut b = basket();
    b["lines"][1]["quantity"] = json!("-2");
    let (status, p) = problem(s.post("/v1/price", None, json!({"basket": b.clone()})).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("basket.lines[1].quantity")), "{p}");
    let (status, p) = problem(
        s.post("/v1/checkouts/o-neg/prepare", Some("o-neg"), json!({"basket": b, "member": member_lookup()}))
            .await,
    )
    .await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("basket.lines[1].quantity")), "{p}");
}

/// Ids the checkout never takes (a control character) have no record: 404 for a read, 422
/// naming the field for a return, on every store alike.
#[tokio::test]
async fn an_order_id_with_a_control_character_is_not_found_and_a_return_of_it_invalid() {
    let s = start().await;
    let r = s.get("/v1/checkouts/o%00x").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let ret =
        json!({"order": "o\u{1}x", "return_id": "r-ctl-1", "lines": [{"line_id": "1", "quantity": "1"}]});
    let (status, p) = problem(s.post("/v1/returns", Some("r-ctl-1"), ret).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (422, Some("order")), "{p}");
}

/// A registration carrying someone else's phone, repeated after an attempt that ended without
/// an answer: the repeat looks the member up first, and must not answer with the stranger that
/// phone belongs to (their name and e-mail would go to whoever typed the number).
#[tokio::test]
async fn a_repeated_registration_does_not_answer_a_stranger_found_by_phone() {
    use loyalty_core::{Error, ErrorKind};
    let provider = loyalty_memory::MemoryProvider::demo();
    let s = start_on_provider(&provider).await;
    provider.fail_next("members.register", Error::new(ErrorKind::Protocol, "memory", "members.register"));
    let reg = registration("someone.else@example.com", demo::MEMBER_PHONE);
    let (status, _) = problem(s.post("/v1/members", Some("stranger-1"), reg.clone()).await).await;
    assert_eq!(status, 502);
    let again = s.post("/v1/members", Some("stranger-1"), reg).await;
    let status = again.status();
    let body: Value = again.json().await.unwrap();
    assert_ne!(status, StatusCode::CREATED, "answered a stranger's record: {body}");
    assert_ne!(body["id"], demo::MEMBER_ID, "{body}");
}

/// The vendor refusing the bridge's own credentials is about the configuration, not the
/// request: not the key's final answer, so the shop's repeat runs once the operator has fixed
/// the credentials, instead of replaying the refusal for ever.
#[tokio::test]
async fn a_refusal_of_the_bridges_credentials_is_not_replayed_to_the_repeat() {
    use loyalty_core::{Error, ErrorKind};
    let provider = loyalty_memory::MemoryProvider::demo();
    let s = start_on_provider(&provider).await;
    provider.fail_next("members.register", Error::new(ErrorKind::Unauthorized, "memory", "members.register"));
    let reg = registration("creds@example.com", "49900781");
    let (status, p) = problem(s.post("/v1/members", Some("creds-1"), reg.clone()).await).await;
    assert_eq!((status.as_u16(), p["kind"].as_str()), (502, Some("unauthorized")), "{p}");
    let again = s.post("/v1/members", Some("creds-1"), reg).await;
    assert_eq!(again.status(), StatusCode::CREATED);
}

/// `serve` on `opened`, stopped when `stop` fires, as a task.
async fn serving(
    opened: Opened,
    settings: ServeSettings,
) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(loyalty_serve::serve(listener, opened, settings, async move {
        let _ = stopped.await;
    }));
    (base, stop, server)
}

/// A limit on how long a step that must end may take, so a regression fails instead of hanging.
const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_waits_for_a_write_whose_client_hung_up_and_its_answer_is_kept() {
    let provider = loyalty_memory::MemoryProvider::demo();
    let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
    let opened = Opened::new(Arc::new(provider.clone()), store.clone());
    let (base, stop, server) = serving(opened, ServeSettings::new(ApiKey::new(KEY).unwrap())).await;
    // A registration under way at the vendor ...
    let pause = provider.pause_next("members.register");
    let impatient = Client::builder().timeout(std::time::Duration::from_millis(300)).build().unwrap();
    let reg = registration("late@example.com", "49900555");
    let sent = impatient
        .post(format!("{base}/v1/members"))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "reg-late")
        .json(&reg)
        .send();
    let sent = tokio::spawn(sent);
    tokio::time::timeout(HANG_GUARD, pause.reached()).await.expect("the registration reached the vendor");
    // ... whose client gives up, and then the operator stops the service.
    assert!(sent.await.unwrap().is_err(), "the client hung up");
    stop.send(()).unwrap();
    // Its connection is gone, nothing else is open: only the write keeps `serve` from returning.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!server.is_finished(), "serve() returned while the write was still at the vendor");
    pause.release();
    tokio::time::timeout(HANG_GUARD, server)
        .await
        .expect("serve() returns once the write ended")
        .unwrap()
        .unwrap();

    // The write ran to its end and its answer was stored: a repeat after a restart on the same
    // store gets it, and the member exists once.
    let before = provider.member_count();
    let opened = Opened::new(Arc::new(provider.clone()), store);
    let s = start_with(opened, ServeSettings::new(ApiKey::new(KEY).unwrap())).await;
    let again = s.post("/v1/members", Some("reg-late"), reg).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let member: Value = again.json().await.unwrap();
    assert_eq!(member["email"], "late@example.com");
    assert_eq!(provider.member_count(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_gives_up_on_a_write_still_running_after_the_grace() {
    let provider = loyalty_memory::MemoryProvider::demo();
    let opened = Opened::new(Arc::new(provider.clone()), Arc::new(MemoryCheckoutStore::new()));
    let mut settings = ServeSettings::new(ApiKey::new(KEY).unwrap());
    settings.shutdown_grace = std::time::Duration::from_millis(200);
    let (base, stop, server) = serving(opened, settings).await;
    // Held at the vendor and never let go.
    let pause = provider.pause_next("members.register");
    let impatient = Client::builder().timeout(std::time::Duration::from_millis(300)).build().unwrap();
    let sent = impatient
        .post(format!("{base}/v1/members"))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "reg-stuck")
        .json(&registration("stuck@example.com", "49900556"))
        .send();
    let sent = tokio::spawn(sent);
    tokio::time::timeout(HANG_GUARD, pause.reached()).await.expect("the registration reached the vendor");
    assert!(sent.await.unwrap().is_err(), "the client hung up");
    stop.send(()).unwrap();
    // The grace is an upper bound: `serve` returns, and the caller may exit.
    tokio::time::timeout(HANG_GUARD, server)
        .await
        .expect("serve() returns after the grace")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_bad_value_in_a_problem_is_cut_and_its_control_characters_escaped() {
    let s = start().await;
    // A 200 KB quantity: the answer quotes the start of it, cut with `…`, in `detail` and in
    // `reason`, not the whole value twice.
    let mut b = basket();
    b["lines"][0]["quantity"] = json!("9".repeat(200_000));
    let r = s.post("/v1/price", None, json!({"member": null, "basket": b, "confirmed": []})).await;
    let (status, p) = problem(r).await;
    assert_eq!(status, 400);
    assert_eq!(p["field"], "basket.lines[0].quantity");
    for text in [&p["detail"], &p["reason"]] {
        let text = text.as_str().unwrap();
        assert!(text.len() < 400 && text.contains(&format!("{}…", "9".repeat(80))), "{text}");
    }
    // A terminal escape, a C1 control and a line separator in a value are shown escaped.
    let mut b = basket();
    b["lines"][0]["quantity"] = json!("1\u{1b}[2J\u{9b}\u{2028}");
    let r = s.post("/v1/price", None, json!({"member": null, "basket": b, "confirmed": []})).await;
    let (status, p) = problem(r).await;
    assert_eq!(status, 400);
    for text in [&p["detail"], &p["reason"]] {
        let text = text.as_str().unwrap();
        assert!(!text.chars().any(|c| c.is_control() || c == '\u{2028}'), "{text:?}");
        assert!(text.contains(r"1\u{1b}[2J\u{9b}\u{2028}"), "{text}");
    }
    // An unknown field's name, likewise, in `field` too.
    let mut b = basket();
    b["lines"][0][format!("x\u{7}{}", "y".repeat(200_000))] = json!(1);
    let r = s.post("/v1/price", None, json!({"member": null, "basket": b, "confirmed": []})).await;
    let (status, p) = problem(r).await;
    assert_eq!(status, 400);
    let field = p["field"].as_str().unwrap();
    assert!(
        field.starts_with(r"basket.lines[0].x\u{7}yyy") && field.ends_with('…') && field.len() < 200,
        "{field}"
    );
    assert!(p["detail"].as_str().unwrap().len() < 400);
}

#[tokio::test]
async fn a_control_character_in_a_contact_field_is_refused_naming_it_before_the_vendor() {
    let provider = loyalty_memory::MemoryProvider::demo();
    let s = start_on_provider(&provider).await;
    let before = provider.member_count();
    let reg = |field: &str, value: Value| {
        let mut r = registration("ctl@example.com", "49900557");
        r[field] = value;
        r
    };
    let refused = [
        (reg("email", json!("a\u{0}@x.no")), "email", "U+0000"),
        (reg("first_name", json!("Kari\u{1b}[2J")), "first_name", "U+001B"),
        (reg("address", json!({"street": "Storgata 1\nH0101"})), "address.street", "U+000A"),
        (reg("phone", json!({"country_code": "+47", "number": "4990\u{7}0557"})), "phone.number", "U+0007"),
    ];
    for (i, (body, field, shown)) in refused.into_iter().enumerate() {
        let (status, p) = problem(s.post("/v1/members", Some(&format!("ctl-{i}")), body).await).await;
        assert_eq!(
            (status.as_u16(), p["kind"].as_str(), p["field"].as_str()),
            (400, Some("invalid"), Some(field))
        );
        assert!(p["reason"].as_str().unwrap().contains(shown), "{p}");
    }
    // A guest's sign-up at checkout and a profile update, likewise.
    let prepare = json!({"basket": basket(), "member": null, "confirmed": [], "department": null,
        "sign_up": reg("last_name", json!("N\u{85}"))});
    let (status, p) = problem(s.post("/v1/checkouts/o-ctl/prepare", Some("o-ctl"), prepare).await).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (400, Some("sign_up.last_name")));
    let r = s
        .http
        .patch(s.url(&format!("/v1/members/{}", demo::MEMBER_ID)))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "ctl-upd")
        .json(&json!({"email": "k\u{7}@example.com"}))
        .send()
        .await
        .unwrap();
    let (status, p) = problem(r).await;
    assert_eq!((status.as_u16(), p["field"].as_str()), (400, Some("email")));
    // The registration form names the field among its errors.
    let form = json!({"email": "a\u{0}@x.no", "phone": "+4749900557",
        "consent.membership": true, "consent.order_history": true});
    let (status, p) = problem(s.post("/v1/members/registration", Some("ctl-form"), form).await).await;
    assert_eq!(status, 422);
    assert_eq!(p["errors"][0]["field"], "email", "{p}");
    assert_eq!(provider.member_count(), before, "nothing reached the vendor");
}

/// A profile update on the embedded default must not give a member an e-mail another member
/// has (ignoring case), as a registration with it is refused: two members with one e-mail
/// make `GET /v1/members?email=` answer either for the other's login. A blank e-mail is
/// refused naming `email` rather than stored.
#[tokio::test]
async fn a_profile_update_to_another_members_email_is_a_conflict() {
    let s = start().await;
    let kari: Value = s.get(&format!("/v1/members?id={}", demo::MEMBER_ID)).await.json().await.unwrap();
    let taken = kari["email"].as_str().unwrap().to_string();
    let other: Value = s
        .post("/v1/members", Some("dup-reg-1"), registration("someone.else@example.com", "49900781"))
        .await
        .json()
        .await
        .unwrap();
    let other_id = other["id"].as_str().unwrap();
    let (status, _) =
        problem(s.post("/v1/members", Some("dup-reg-2"), registration(&taken, "49900782")).await).await;
    assert_eq!(status, 409, "a registration with a taken e-mail");
    let patch = |key: &str, body: Value| {
        s.http
            .patch(s.url(&format!("/v1/members/{other_id}")))
            .bearer_auth(KEY)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let (status, p) =
        problem(patch("dup-upd-1", json!({"email": taken.to_uppercase()})).await.unwrap()).await;
    assert_eq!(
        (status.as_u16(), p["kind"].as_str()),
        (409, Some("conflict")),
        "two members share {taken}: {p}"
    );
    let (status, p) = problem(patch("dup-upd-2", json!({"email": ""})).await.unwrap()).await;
    assert_eq!(p["field"], "email", "{status}: {p}");
    let read: Value = s.get(&format!("/v1/members?id={other_id}")).await.json().await.unwrap();
    assert_eq!(read["email"], "someone.else@example.com");
}
