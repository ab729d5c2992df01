//! What the HTTP face costs: `loyalty serve` on the memory provider under 64 concurrent
//! clients against the same calls made in-process, for pricing and for a checkout (prepare
//! then commit, a new order each time). Prints requests per second, median and p99 latency
//! for each side, and the ratios. One checkout operation is two HTTP requests (prepare, commit).
//!
//! `cargo bench -p loyalty-serve --bench load` (`LOYALTY_BENCH_ITERS`, default 6,400 per
//! operation and side; `LOYALTY_BENCH_CLIENTS`, default 64).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use loyalty_config::Opened;
use loyalty_core::checkout::{
    Authorization, Authorized, Checkout, CheckoutRequest, MemoryCheckoutStore, Payment, PaymentKey,
};
use loyalty_core::{Basket, Context, Currency, Line, MemberId, Money, TransactionId};
use loyalty_memory::{demo, MemoryProvider};
use loyalty_serve::{router, ApiKey, ServeSettings};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const KEY: &str = "bench-key-0123456789abcdef";

struct Figures {
    per_sec: f64,
    median: Duration,
    p99: Duration,
}

async fn run<F, Fut>(iterations: usize, clients: usize, f: F) -> Figures
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicU64::new(0));
    let per_client = iterations / clients;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (f, next) = (f.clone(), next.clone());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    f(n).await;
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.expect("client"));
    }
    let elapsed = started.elapsed();
    times.sort();
    Figures {
        per_sec: times.len() as f64 / elapsed.as_secs_f64(),
        median: times[times.len() / 2],
        p99: times[times.len() * 99 / 100],
    }
}

fn basket() -> Basket {
    let nok = |minor| Money::new(minor, Currency::NOK);
    Basket::new(Currency::NOK)
        .with_line(Line::new("1", demo::PRODUCT_COFFEE, Decimal::from(2), nok(12_900)))
        .with_line(Line::new("2", demo::PRODUCT_MUG, Decimal::ONE, nok(9_900)))
        .with_line(Line::new("3", demo::PRODUCT_SOCKS, Decimal::from(3), nok(4_900)))
}

/// The in-process side's payment: approves what it is asked (the HTTP side checks the shop's
/// amount against the total, which costs nothing measurable).
struct Approve;

#[async_trait]
impl Payment for Approve {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> loyalty_core::Result<Authorized> {
        Ok(Authorized::Approved(Authorization { id: format!("bench-{key}"), amount }))
    }
    async fn resume(&self, a: &Authorization) -> loyalty_core::Result<Authorized> {
        Ok(Authorized::Approved(a.clone()))
    }
    async fn capture(&self, _: &Authorization) -> loyalty_core::Result<()> {
        Ok(())
    }
    async fn void(&self, _: &Authorization) -> loyalty_core::Result<()> {
        Ok(())
    }
    async fn refund(&self, _: &Authorization, _: &TransactionId, _: Money) -> loyalty_core::Result<()> {
        Ok(())
    }
}

fn print(what: &str, http: &Figures, inproc: &Figures) {
    println!(
        "{what:<9} http {:>8.0} ops/s  median {:>8.2?}  p99 {:>8.2?} | in-process {:>8.0} ops/s  median {:>8.2?}  p99 {:>8.2?} | throughput {:.2}x, p99 {:.1}x",
        http.per_sec,
        http.median,
        http.p99,
        inproc.per_sec,
        inproc.median,
        inproc.p99,
        http.per_sec / inproc.per_sec,
        http.p99.as_secs_f64() / inproc.p99.as_secs_f64(),
    );
}

fn main() {
    let env =
        |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let iterations = env("LOYALTY_BENCH_ITERS", 6_400);
    let clients = env("LOYALTY_BENCH_CLIENTS", 64);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let provider = Arc::new(MemoryProvider::demo());
        let opened = Opened::new(provider.clone(), Arc::new(MemoryCheckoutStore::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = router(opened.clone(), ServeSettings::new(ApiKey::new(KEY).expect("key")));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().expect("client");
        let basket_json = serde_json::to_value(basket()).expect("basket");
        println!(
            "loyalty serve on the memory provider, {clients} concurrent clients, {iterations} calls per side"
        );

        // Pricing: the member's offers, then the engine.
        let price_body = Arc::new(json!({"member": demo::MEMBER_ID, "basket": basket_json}));
        let h = (http.clone(), base.clone());
        let http_price = run(iterations, clients, move |_| {
            let (http, base, body) = (h.0.clone(), h.1.clone(), price_body.clone());
            async move {
                let r = http
                    .post(format!("{base}/v1/price"))
                    .bearer_auth(KEY)
                    .json(&*body)
                    .send()
                    .await
                    .expect("price");
                assert!(r.status().is_success(), "{}", r.status());
                r.bytes().await.expect("body");
            }
        })
        .await;
        let p = opened.provider.clone();
        let inproc_price = run(iterations, clients, move |_| {
            let p = p.clone();
            async move {
                let member = MemberId::new(demo::MEMBER_ID);
                let b = basket();
                let offers = p
                    .offers()
                    .expect("offers")
                    .list(&Context::new(), Some(&member), Some(&b))
                    .await
                    .expect("list");
                let priced =
                    loyalty_core::pricing::price(&b, &offers, &[], chrono::Utc::now()).expect("price");
                std::hint::black_box(serde_json::to_vec(&priced).expect("json"));
            }
        })
        .await;
        print("price", &http_price, &inproc_price);

        // Checkout: prepare then commit a guest's order, a new order id each time.
        let h = (http.clone(), base.clone());
        let body = Arc::new(json!({"basket": basket_json}));
        let http_checkout = run(iterations, clients, move |n| {
            let (http, base, body) = (h.0.clone(), h.1.clone(), body.clone());
            async move {
                let order = format!("http-{n}");
                let prepared: Value = http
                    .post(format!("{base}/v1/checkouts/{order}/prepare"))
                    .bearer_auth(KEY)
                    .header("Idempotency-Key", &order)
                    .json(&*body)
                    .send()
                    .await
                    .expect("prepare")
                    .json()
                    .await
                    .expect("prepared");
                let total = prepared["priced"]["total"].clone();
                let done: Value = http
                    .post(format!("{base}/v1/checkouts/{order}/commit"))
                    .bearer_auth(KEY)
                    .header("Idempotency-Key", &order)
                    .json(&json!({"payment": {"reference": format!("psp-{n}"), "amount": total}}))
                    .send()
                    .await
                    .expect("commit")
                    .json()
                    .await
                    .expect("completion");
                assert_eq!(done["status"], "completed", "{done}");
            }
        })
        .await;
        let checkout: Arc<Checkout<'static>> = Arc::new(opened.checkout(Arc::new(Approve)));
        let inproc_checkout = run(iterations, clients, move |n| {
            let checkout = checkout.clone();
            async move {
                let request = CheckoutRequest::new(format!("inproc-{n}"), basket());
                let prepared = checkout.prepare(&Context::new(), &request).await.expect("prepare");
                std::hint::black_box(serde_json::to_vec(&prepared).expect("json"));
                let done = checkout.commit(&Context::new(), &prepared).await.expect("commit");
                std::hint::black_box(serde_json::to_vec(&done).expect("json"));
            }
        })
        .await;
        print("checkout", &http_checkout, &inproc_checkout);
    });
}
