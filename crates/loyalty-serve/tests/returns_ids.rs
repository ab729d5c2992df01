//! `POST /v1/returns` over real HTTP on the memory provider: the checkout's return ledger, not a
//! stored answer, decides what a return id means. A refusal that changed nothing (a sale still
//! in the outbox, a line not in the order, a mistyped order id) leaves the id for the request
//! put right; a return id another order's return used is a `409` naming that order; a repeat of
//! a finished return gets its outcome again without acting twice.

use std::sync::Arc;

use loyalty_config::Opened;
use loyalty_core::checkout::MemoryCheckoutStore;
use loyalty_core::{Error, ErrorKind, TransactionId};
use loyalty_memory::{demo, MemoryProvider};
use loyalty_serve::{router, ApiKey, ServeSettings};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const KEY: &str = "returns-key-0123456789abcdef";

struct Served {
    base: String,
    http: Client,
}

impl Served {
    async fn post(&self, path: &str, key: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Prepares and commits `order` (two coffees and a mug) and gives the commit's answer.
    async fn sell(&self, order: &str) -> Value {
        let prep = json!({"basket": basket(), "member": {"kind": "provider_id", "value": demo::MEMBER_ID}});
        let prepared = self.post(&format!("/v1/checkouts/{order}/prepare"), order, prep).await;
        assert_eq!(prepared.status(), StatusCode::OK);
        let prepared: Value = prepared.json().await.unwrap();
        let pay =
            json!({"payment": {"reference": format!("psp-{order}"), "amount": prepared["priced"]["total"]}});
        let done = self.post(&format!("/v1/checkouts/{order}/commit"), order, pay).await;
        assert_eq!(done.status(), StatusCode::OK);
        done.json().await.unwrap()
    }

    /// Returns one unit of `line` of `order` under `id`: status, whether replayed, body.
    async fn give_back(&self, order: &str, id: &str, line: &str) -> (StatusCode, bool, Value) {
        let ret = json!({"order": order, "return_id": id, "lines": [{"line_id": line, "quantity": "1"}]});
        let r = self.post("/v1/returns", id, ret).await;
        let replayed = r.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
        (r.status(), replayed, r.json().await.unwrap())
    }
}

async fn start(provider: &MemoryProvider) -> Served {
    let opened = Opened::new(Arc::new(provider.clone()), Arc::new(MemoryCheckoutStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(opened, ServeSettings::new(ApiKey::new(KEY).unwrap()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Served { base: format!("http://{addr}"), http: Client::new() }
}

fn basket() -> Value {
    json!({"currency": "NOK", "lines": [
        {"line_id": "1", "product_id": demo::PRODUCT_COFFEE, "quantity": "2",
         "unit_price": {"minor": 12900, "currency": "NOK"}},
        {"line_id": "2", "product_id": demo::PRODUCT_MUG, "quantity": "1",
         "unit_price": {"minor": 9900, "currency": "NOK"}}
    ]})
}

#[tokio::test]
async fn a_return_refused_while_its_sale_waits_in_the_outbox_goes_through_after_the_resend() {
    let provider = MemoryProvider::demo();
    let s = start(&provider).await;
    provider
        .fail_next("transactions.send", Error::new(ErrorKind::Unavailable, "memory", "transactions.send"));
    let done = s.sell("o-out").await;
    assert_eq!(done["delivery"]["status"], "pending", "{done}");

    let (status, _, p) = s.give_back("o-out", "o-out-r1", "2").await;
    assert_eq!(status, StatusCode::CONFLICT, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("resend it first"), "{p}");
    assert_eq!(p["temporary"], true, "it passes once the sale is resent: {p}");

    let resent: Value = s.post("/v1/pending/resend", "resend-1", Value::Null).await.json().await.unwrap();
    assert_eq!(resent[0]["status"], "sent", "{resent}");

    // The same return, as the shop repeats it: processed now, not the first refusal replayed.
    let (status, replayed, outcome) = s.give_back("o-out", "o-out-r1", "2").await;
    assert_eq!((status, replayed), (StatusCode::OK, false), "{outcome}");
}

#[tokio::test]
async fn a_return_refused_before_acting_leaves_its_id_for_the_request_put_right() {
    let provider = MemoryProvider::demo();
    let s = start(&provider).await;
    s.sell("o-fix").await;

    // A line the order does not have, then a mistyped order id: each changes nothing.
    let (status, _, p) = s.give_back("o-fix", "o-fix-r1", "9").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (status, _, p) = s.give_back("o-fxi", "o-fix-r1", "2").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{p}");

    let order = TransactionId::new("o-fix");
    assert!(provider.refunds(&order).is_empty());
    let (status, replayed, first) = s.give_back("o-fix", "o-fix-r1", "2").await;
    assert_eq!((status, replayed), (StatusCode::OK, false), "the id is still free: {first}");
    let refunds = provider.refunds(&order);
    assert_eq!(refunds.len(), 1, "the return reached the provider");

    // A repeat of the finished return: its outcome again, acted once.
    let (status, replayed, again) = s.give_back("o-fix", "o-fix-r1", "2").await;
    assert_eq!((status, replayed), (StatusCode::OK, true), "{again}");
    assert_eq!(again, first);
    assert_eq!(provider.refunds(&order), refunds);
}

#[tokio::test]
async fn a_return_id_another_orders_return_used_is_409_naming_that_order() {
    let provider = MemoryProvider::demo();
    let s = start(&provider).await;
    s.sell("o-a").await;
    s.sell("o-b").await;
    let (status, _, outcome) = s.give_back("o-a", "RET-1", "2").await;
    assert_eq!(status, StatusCode::OK, "{outcome}");

    let (status, _, p) = s.give_back("o-b", "RET-1", "2").await;
    assert_eq!((status, p["kind"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("order o-a"), "{p}");

    // The same id for other goods of the same order: a conflict too, not the first outcome.
    let (status, _, p) = s.give_back("o-a", "RET-1", "1").await;
    assert_eq!((status, p["kind"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{p}");
}
