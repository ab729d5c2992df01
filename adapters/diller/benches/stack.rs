//! The adapter stack against bare HTTP: the same Diller simulator route driven by the adapter
//! and by a bare reqwest client sending the byte-identical requests (captured from the
//! simulator's journal), at concurrency 1 and 64, with a production-like tracing subscriber
//! installed. Prints median and p99 latency per iteration, throughput, and allocations per
//! iteration for both, and the ratios adapter / bare.
//!
//! `cargo bench -p loyalty-diller --features simulator --bench stack`
//! (`LOYALTY_BENCH_ITERS`, default 2,000 iterations per concurrency level).
//!
//! One iteration is a member lookup by phone and the member's offer list (coupons and stamp
//! cards): three vendor calls. The transaction send is not in it yet.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loyalty_core::{Context, MemberId, MemberLookup, Phone, Provider};
use loyalty_diller::simulated;
use loyalty_sim::diller::{demo, DillerSettings};
use loyalty_sim::SimClock;

/// Counts allocations so each side's allocations per iteration can be reported.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: defers every call to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One captured request: method, path with query, body.
#[derive(Clone)]
struct Captured {
    method: reqwest::Method,
    url: String,
    body: Option<String>,
}

struct Figures {
    median: Duration,
    p99: Duration,
    per_sec: f64,
    allocs: f64,
}

async fn run<F, Fut>(iterations: usize, concurrency: usize, f: F) -> Figures
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let per_task = iterations / concurrency;
    let allocs_before = ALLOCATIONS.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let t = Instant::now();
                f().await;
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.expect("task"));
    }
    let elapsed = started.elapsed();
    let allocs = (ALLOCATIONS.load(Ordering::Relaxed) - allocs_before) as f64 / times.len() as f64;
    times.sort();
    Figures {
        median: times[times.len() / 2],
        p99: times[times.len() * 99 / 100],
        per_sec: times.len() as f64 / elapsed.as_secs_f64(),
        allocs,
    }
}

fn main() {
    let iterations: usize =
        std::env::var("LOYALTY_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    // Production-like logging: INFO spans and events, written to a sink.
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::INFO).with_writer(std::io::sink).finish();
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let sim =
            simulated::start_with(DillerSettings::default(), SimClock::real()).await.expect("simulator");
        let base = sim.server.base_url().to_string();
        let adapter = Arc::new(sim.adapter);
        let phone = Phone::parse_e164(demo::MEMBER_PHONE).expect("demo phone");
        let ctx = Context::new().with_department(demo::DEPARTMENT_ID);

        // One adapter iteration, captured from the journal for the bare client.
        let one = {
            let (adapter, phone, ctx) = (adapter.clone(), phone.clone(), ctx.clone());
            move || {
                let (adapter, phone, ctx) = (adapter.clone(), phone.clone(), ctx.clone());
                async move {
                    let members = adapter.members().expect("members");
                    let m =
                        members.find(&ctx, &MemberLookup::Phone(phone)).await.expect("find").expect("member");
                    let offers = adapter.offers().expect("offers");
                    offers.list(&ctx, Some(&MemberId::new(m.id.as_str())), None).await.expect("offers");
                }
            }
        };
        one().await;
        let journal = sim.server.handle().journal();
        journal.clear();
        one().await;
        let captured: Vec<Captured> = journal
            .entries()
            .into_iter()
            .filter(|e| !e.path.contains("token"))
            .map(|e| Captured {
                method: e.method.parse().expect("method"),
                url: match &e.query {
                    Some(q) => format!("{base}{}?{q}", e.path),
                    None => format!("{base}{}", e.path),
                },
                body: (!e.body.is_empty()).then(|| e.body.clone()),
            })
            .collect();
        assert_eq!(captured.len(), 3, "one iteration is three vendor calls");

        let http = reqwest::Client::builder().no_proxy().build().expect("client");
        let token: serde_json::Value = http
            .post(format!("{base}/connect/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", demo::CLIENT_ID),
                ("client_secret", demo::CLIENT_SECRET),
                ("scope", demo::SCOPE),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let bearer = format!("Bearer {}", token["access_token"].as_str().expect("access_token"));
        let bare = {
            let (http, captured, bearer) = (http.clone(), Arc::new(captured), bearer.clone());
            move || {
                let (http, captured, bearer) = (http.clone(), captured.clone(), bearer.clone());
                async move {
                    for c in captured.iter() {
                        let mut rq = http.request(c.method.clone(), &c.url).header("authorization", &bearer);
                        if let Some(b) = &c.body {
                            rq = rq.header("content-type", "application/json").body(b.clone());
                        }
                        let r = rq.send().await.expect("send");
                        let _ = r.bytes().await.expect("body");
                    }
                }
            }
        };

        println!(
            "adapter stack vs bare reqwest on the Diller simulator, {iterations} iterations (3 calls each)"
        );
        println!(
            "{:>6} {:>8} {:>12} {:>12} {:>12} {:>12}",
            "conc", "side", "median", "p99", "iter/s", "allocs/iter"
        );
        for concurrency in [1usize, 64] {
            let b = run(iterations, concurrency, bare.clone()).await;
            let a = run(iterations, concurrency, one.clone()).await;
            for (side, f) in [("bare", &b), ("adapter", &a)] {
                println!(
                    "{concurrency:>6} {side:>8} {:>12?} {:>12?} {:>12.0} {:>12.0}",
                    f.median, f.p99, f.per_sec, f.allocs
                );
            }
            println!(
                "{concurrency:>6} {:>8} latency {:.2}x, throughput {:.2}x, allocations {:.2}x",
                "ratio",
                a.median.as_secs_f64() / b.median.as_secs_f64(),
                a.per_sec / b.per_sec,
                a.allocs / b.allocs
            );
        }
    });
}
