//! Races a double-clicking or retrying shop causes over HTTP: a repeat that arrives while the
//! first request is still at the vendor waits for it, and gets its answer marked
//! `Idempotent-Replayed: true` (docs/serve.md), so the shop acts on one answer.

use std::sync::Arc;
use std::time::Duration;

use loyalty_config::Opened;
use loyalty_core::checkout::MemoryCheckoutStore;
use loyalty_core::TransactionId;
use loyalty_memory::{demo, MemoryProvider, Pause};
use loyalty_serve::{router, ApiKey, ServeSettings};
use reqwest::Client;
use serde_json::{json, Value};

const KEY: &str = "test-key-0123456789abcdef";

async fn start(provider: &MemoryProvider) -> String {
    let opened = Opened::new(Arc::new(provider.clone()), Arc::new(MemoryCheckoutStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(opened, ServeSettings::new(ApiKey::new(KEY).unwrap()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn basket() -> Value {
    json!({"currency": "NOK", "lines": [
        {"line_id": "1", "product_id": demo::PRODUCT_COFFEE, "quantity": "2", "unit_price": {"minor": 12900, "currency": "NOK"}},
        {"line_id": "2", "product_id": demo::PRODUCT_MUG, "quantity": "1", "unit_price": {"minor": 9900, "currency": "NOK"}}
    ]})
}

fn prepare_body() -> Value {
    json!({"basket": basket(), "member": {"kind": "provider_id", "value": demo::MEMBER_ID}})
}

/// Status, whether marked `Idempotent-Replayed: true`, and the body.
struct Answer {
    status: u16,
    replayed: bool,
    body: Value,
}

async fn post(base: &str, path: &str, key: &str, body: Value) -> Answer {
    let r = Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(KEY)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let replayed = match r.headers().get("idempotent-replayed") {
        Some(v) => {
            assert_eq!(v, "true");
            true
        }
        None => false,
    };
    Answer { status, replayed, body: r.json().await.unwrap_or(Value::Null) }
}

/// Sends `body` twice: the second while the first waits at `pause` (a vendor round trip),
/// released once the second had time to reach the order. Both answers, first first.
async fn twice_at_once(base: &str, path: &str, key: &str, body: Value, pause: &[Pause]) -> (Answer, Answer) {
    let send = || {
        let (base, path, key, body) = (base.to_owned(), path.to_owned(), key.to_owned(), body.clone());
        tokio::spawn(async move { post(&base, &path, &key, body).await })
    };
    let first = send();
    let reached = async {
        match pause {
            [one] => one.reached().await,
            [a, b] => tokio::select! { () = a.reached() => {}, () = b.reached() => {} },
            _ => unreachable!("one or two pauses"),
        }
    };
    tokio::time::timeout(Duration::from_secs(5), reached)
        .await
        .expect("the first request reaches the vendor");
    let second = send();
    // Not an assertion on time: however late the second arrives, one answer must be fresh.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for p in pause {
        p.release();
    }
    (first.await.unwrap(), second.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_double_clicked_prepare_prices_the_order_once_and_its_answer_commits() {
    let provider = MemoryProvider::demo();
    let base = start(&provider).await;
    // The stamp card and the automatic coupon are held: the first prepare is inside its first
    // hold call when the second arrives.
    let pause = provider.pause_next("holds.hold");
    let (a, b) = twice_at_once(&base, "/v1/checkouts/o-dc/prepare", "o-dc", prepare_body(), &[pause]).await;
    assert_eq!((a.status, b.status), (200, 200), "{} | {}", a.body, b.body);
    assert_eq!(a.body["revision"], b.body["revision"], "one pricing answered twice");
    assert_eq!(a.body["priced"], b.body["priced"]);
    assert_eq!(
        [a.replayed, b.replayed].iter().filter(|r| **r).count(),
        1,
        "the answer the repeat waited for is a replay, the first is not"
    );
    // The shop shows either answer and the customer pays it.
    let pay = json!({"payment": {"reference": "psp-dc", "amount": a.body["priced"]["total"]},
        "revision": a.body["revision"]});
    let done = post(&base, "/v1/checkouts/o-dc/commit", "o-dc", pay).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "completed", "{}", done.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_repeated_while_the_sale_is_sent_is_marked_a_replay() {
    let provider = MemoryProvider::demo();
    let base = start(&provider).await;
    let prepared = post(&base, "/v1/checkouts/o-cc/prepare", "o-cc", prepare_body()).await;
    assert_eq!(prepared.status, 200);
    let pay = json!({"payment": {"reference": "psp-cc", "amount": prepared.body["priced"]["total"]}});
    let pause = provider.pause_next("transactions.send");
    let (a, b) = twice_at_once(&base, "/v1/checkouts/o-cc/commit", "o-cc", pay, &[pause]).await;
    assert_eq!((a.status, b.status), (200, 200), "{} | {}", a.body, b.body);
    assert_eq!(a.body, b.body, "the repeat gets the first result");
    assert_eq!((a.replayed, b.replayed), (false, true), "only the commit that made the sale is fresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_return_repeated_while_under_way_is_refunded_once_and_marked_a_replay() {
    let provider = MemoryProvider::demo();
    let base = start(&provider).await;
    let prepared = post(&base, "/v1/checkouts/o-rr/prepare", "o-rr", prepare_body()).await;
    let pay = json!({"payment": {"reference": "psp-rr", "amount": prepared.body["priced"]["total"]}});
    let committed = post(&base, "/v1/checkouts/o-rr/commit", "o-rr", pay).await;
    assert_eq!(committed.status, 200, "{}", committed.body);
    let ret = json!({"order": "o-rr", "return_id": "o-rr-r1", "lines": [{"line_id": "2", "quantity": "1"}]});
    // The demo provider refunds a line (or cancels and resends): whichever it does first.
    let pauses = [provider.pause_next("transactions.refund"), provider.pause_next("transactions.cancel")];
    let (a, b) = twice_at_once(&base, "/v1/returns", "o-rr-r1", ret, &pauses).await;
    assert_eq!((a.status, b.status), (200, 200), "{} | {}", a.body, b.body);
    assert_eq!(a.body, b.body, "the repeat gets the first outcome");
    // The shop pays refunds back from the outcome: only one answer may present it as fresh.
    assert_eq!((a.replayed, b.replayed), (false, true));
    let refunds = provider.refunds(&TransactionId::new("o-rr"));
    assert_eq!(refunds.len(), 1, "returned at the provider once: {refunds:?}");
}
