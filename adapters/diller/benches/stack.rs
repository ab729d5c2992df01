//! The adapter stack against bare HTTP: the same Diller simulator route driven by the adapter
//! and by a bare reqwest client sending the byte-identical requests (captured from the
//! simulator's journal), at concurrency 1 and 64, with a production-like tracing subscriber
//! installed. Prints median and p99 latency per iteration, throughput, allocations per
//! iteration and per call, and CPU time per iteration (`getrusage`) for both, and the ratios
//! adapter / bare.
//!
//! `cargo bench -p loyalty-diller --features simulator --bench stack`
//! (`LOYALTY_BENCH_ITERS`, default 2,000 iterations per round; `LOYALTY_BENCH_ROUNDS`, default 3
//! rounds per side and concurrency level, alternating bare and adapter; each side reports its
//! best round, metric by metric, so a burst of load from elsewhere on the machine does not
//! decide the ratio; `LOYALTY_BENCH_SIDE=bare` or `adapter` runs one side only, to profile it
//! alone, e.g. under callgrind).
//!
//! One iteration is four vendor calls: a member lookup by phone, the member's offer list
//! (coupons and stamp cards) and a transaction send (T1) under a new transaction id. The bare
//! side sends the bytes the adapter sent for one captured transaction with the id substituted
//! (checked against a second captured send before measuring).
//!
//! The simulator runs in the same process, so allocations and CPU time include its share (the
//! same for both sides); the difference between the sides is the adapter stack. The adapter
//! side also clones a prepared `Transaction` per iteration to give it a new id (about ten
//! allocations, the caller's work).
//!
//! Before/after figures, allocations per step and what is left: `docs/performance.md`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loyalty_core::Context;
use loyalty_core::{
    pricing, Basket, Currency, Line, MemberId, MemberLookup, Money, Phone, Provider, Transaction,
    TransactionId,
};
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

/// One captured request: method, path with query, the headers the client chose, body.
#[derive(Clone)]
struct Captured {
    method: reqwest::Method,
    url: String,
    headers: reqwest::header::HeaderMap,
    body: Option<String>,
}

struct Figures {
    median: Duration,
    p99: Duration,
    per_sec: f64,
    allocs: f64,
    cpu: Duration,
}

/// The better of two rounds of one side, metric by metric (allocations do not vary).
fn best(kept: Option<Figures>, round: Figures) -> Figures {
    let Some(kept) = kept else { return round };
    Figures {
        median: kept.median.min(round.median),
        p99: kept.p99.min(round.p99),
        per_sec: kept.per_sec.max(round.per_sec),
        allocs: kept.allocs.min(round.allocs),
        cpu: kept.cpu.min(round.cpu),
    }
}

/// CPU time (user + system) of the whole process so far.
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Vendor calls per iteration.
const CALLS: usize = 4;

async fn run<F, Fut>(iterations: usize, concurrency: usize, f: F) -> Figures
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let per_task = iterations / concurrency;
    let allocs_before = ALLOCATIONS.load(Ordering::Relaxed);
    let cpu_before = cpu_time();
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
    let cpu = (cpu_time() - cpu_before) / times.len() as u32;
    let allocs = (ALLOCATIONS.load(Ordering::Relaxed) - allocs_before) as f64 / times.len() as f64;
    times.sort();
    Figures {
        median: times[times.len() / 2],
        p99: times[times.len() * 99 / 100],
        per_sec: times.len() as f64 / elapsed.as_secs_f64(),
        allocs,
        cpu,
    }
}

fn main() {
    let iterations: usize =
        std::env::var("LOYALTY_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    // One side only (`bare` or `adapter`), to profile each alone.
    let side = std::env::var("LOYALTY_BENCH_SIDE").ok();
    let side = side.as_deref();
    let rounds: usize =
        std::env::var("LOYALTY_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    // Production-like logging: INFO and above, written to a sink (the per-call span is DEBUG).
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

        // A one-line sale of the demo member with no offers, so sending it again and again
        // changes no coupon or stamp card; each send gets a new id.
        let member = adapter
            .members()
            .expect("members")
            .find(&ctx, &MemberLookup::Phone(phone.clone()))
            .await
            .expect("find")
            .expect("member");
        let template = {
            let price = Money::parse("49.90", Currency::NOK).expect("price");
            let basket = Basket::new(Currency::NOK).with_line(Line::new(
                "l1",
                "BENCH-1",
                rust_decimal::Decimal::ONE,
                price,
            ));
            let priced = pricing::price(&basket, &[], &[], chrono::Utc::now()).expect("priced");
            Transaction::from_priced(
                TransactionId::new("bench-template"),
                chrono::Utc::now(),
                Some(MemberId::new(member.id.as_str())),
                &basket,
                &priced,
                &[],
            )
            .expect("transaction")
        };
        let ids = Arc::new(AtomicUsize::new(0));
        let new_id =
            |ids: &AtomicUsize, side: &str| format!("bench-{side}-{}", ids.fetch_add(1, Ordering::Relaxed));

        // One adapter iteration, captured from the journal for the bare client.
        let one = {
            let (adapter, phone, ctx, template, ids) =
                (adapter.clone(), phone.clone(), ctx.clone(), Arc::new(template), ids.clone());
            move || {
                let (adapter, phone, ctx, template, ids) =
                    (adapter.clone(), phone.clone(), ctx.clone(), template.clone(), ids.clone());
                async move {
                    let members = adapter.members().expect("members");
                    let m =
                        members.find(&ctx, &MemberLookup::Phone(phone)).await.expect("find").expect("member");
                    let offers = adapter.offers().expect("offers");
                    offers.list(&ctx, Some(&MemberId::new(m.id.as_str())), None).await.expect("offers");
                    let mut sale = (*template).clone();
                    sale.id = TransactionId::new(new_id(&ids, "a"));
                    adapter.transactions().expect("transactions").send(&ctx, &sale).await.expect("send");
                }
            }
        };
        one().await;
        let journal = sim.server.handle().journal();
        let capture = || {
            journal
                .entries()
                .into_iter()
                .filter(|e| !e.path.contains("token"))
                .map(|e| Captured {
                    method: e.method.parse().expect("method"),
                    url: match &e.query {
                        Some(q) => format!("{base}{}?{q}", e.path),
                        None => format!("{base}{}", e.path),
                    },
                    headers: e
                        .headers
                        .iter()
                        // hyper writes host and length itself; the bearer (redacted in the
                        // journal) is set once the bare side has its token.
                        .filter(|(name, _)| !matches!(name.as_str(), "host" | "content-length"))
                        .map(|(name, value)| {
                            (
                                reqwest::header::HeaderName::from_bytes(name.as_bytes())
                                    .expect("header name"),
                                reqwest::header::HeaderValue::from_str(value).expect("header value"),
                            )
                        })
                        .collect(),
                    body: (!e.body.is_empty()).then(|| e.body.clone()),
                })
                .collect::<Vec<Captured>>()
        };
        journal.clear();
        let first_id = format!("bench-a-{}", ids.load(Ordering::Relaxed));
        one().await;
        let captured = capture();
        assert_eq!(captured.len(), CALLS, "one iteration is four vendor calls");
        journal.clear();
        let second_id = format!("bench-a-{}", ids.load(Ordering::Relaxed));
        one().await;
        let again = capture();
        let sent_headers = |journal: &loyalty_sim::Journal| {
            let entries = journal.entries();
            journal.clear();
            entries
                .into_iter()
                .filter(|e| !e.path.contains("token"))
                .map(|e| {
                    e.headers.into_iter().filter(|(name, _)| name != "content-length").collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        journal.clear();
        one().await;
        let adapter_headers = sent_headers(&journal);
        let (reads, send) = captured.split_at(CALLS - 1);
        let send = send[0].clone();
        let sale_body = send.body.clone().expect("transaction body");
        assert!(sale_body.contains(&format!("\"{first_id}\"")), "the body carries the transaction id");
        // The bare side's substitution reproduces what the adapter sends for another id.
        assert_eq!(
            sale_body.replace(&first_id, &second_id),
            again[CALLS - 1].body.clone().expect("second transaction body"),
            "bare transaction bytes match the adapter's"
        );
        let (sale_head, sale_tail) = {
            let (head, tail) = sale_body.split_once(&first_id).expect("id in body");
            (head.to_owned(), tail.to_owned())
        };
        assert!(!sale_tail.contains(&first_id), "the id appears once");

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
        let bearer = reqwest::header::HeaderValue::from_str(&format!(
            "Bearer {}",
            token["access_token"].as_str().expect("access_token")
        ))
        .expect("bearer");
        // The adapter's headers, in its order, with the bare side's own bearer.
        let with_bearer = |mut c: Captured| {
            *c.headers.get_mut("authorization").expect("the adapter sent authorization") = bearer.clone();
            c
        };
        let reads: Vec<Captured> = reads.iter().cloned().map(with_bearer).collect();
        let send = with_bearer(send);
        let bare = {
            let (http, reads) = (http.clone(), Arc::new(reads));
            let (send, head, tail, ids) =
                (Arc::new(send), Arc::new(sale_head), Arc::new(sale_tail), ids.clone());
            move || {
                let (http, reads) = (http.clone(), reads.clone());
                let (send, head, tail, ids) = (send.clone(), head.clone(), tail.clone(), ids.clone());
                async move {
                    for c in reads.iter() {
                        let mut rq = http.request(c.method.clone(), &c.url).headers(c.headers.clone());
                        if let Some(b) = &c.body {
                            rq = rq.body(b.clone());
                        }
                        let r = rq.send().await.expect("send");
                        let _ = r.bytes().await.expect("body");
                    }
                    let id = new_id(&ids, "b");
                    let mut body = String::with_capacity(head.len() + id.len() + tail.len());
                    body.push_str(&head);
                    body.push_str(&id);
                    body.push_str(&tail);
                    let r = http
                        .request(send.method.clone(), &send.url)
                        .headers(send.headers.clone())
                        .body(body)
                        .send()
                        .await
                        .expect("send");
                    assert!(r.status().is_success(), "bare transaction recorded");
                    let _ = r.bytes().await.expect("body");
                }
            }
        };
        bare().await;
        assert_eq!(sent_headers(&journal), adapter_headers, "bare headers match the adapter's");

        println!(
            "adapter stack vs bare reqwest on the Diller simulator, best of {rounds} alternating rounds of \
             {iterations} iterations ({CALLS} calls each)"
        );
        println!(
            "{:>6} {:>8} {:>12} {:>12} {:>10} {:>12} {:>12} {:>12}",
            "conc", "side", "median", "p99", "iter/s", "allocs/iter", "allocs/call", "cpu/iter"
        );
        for concurrency in [1usize, 64] {
            // Rounds alternate the sides, so a burst of load from elsewhere on the machine
            // hits both; each side keeps its best round, metric by metric.
            let (mut b, mut a) = (None, None);
            for _ in 0..rounds {
                if side != Some("adapter") {
                    b = Some(best(b, run(iterations, concurrency, bare.clone()).await));
                }
                if side != Some("bare") {
                    a = Some(best(a, run(iterations, concurrency, one.clone()).await));
                }
            }
            for (name, f) in [("bare", &b), ("adapter", &a)] {
                let Some(f) = f else { continue };
                println!(
                    "{concurrency:>6} {name:>8} {:>12?} {:>12?} {:>10.0} {:>12.0} {:>12.1} {:>12?}",
                    f.median,
                    f.p99,
                    f.per_sec,
                    f.allocs,
                    f.allocs / CALLS as f64,
                    f.cpu
                );
            }
            // With one side only there is nothing to compare.
            let (Some(b), Some(a)) = (b, a) else { continue };
            println!(
                "{concurrency:>6} {:>8} latency {:.2}x, throughput {:.2}x, allocations {:.2}x, cpu {:.2}x",
                "ratio",
                a.median.as_secs_f64() / b.median.as_secs_f64(),
                a.per_sec / b.per_sec,
                a.allocs / b.allocs,
                a.cpu.as_secs_f64() / b.cpu.as_secs_f64()
            );
        }
    });
}
