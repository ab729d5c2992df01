//! Soak: the Diller simulator under 200 hostile connections while a client keeps fetching
//! tokens. Prints the process's resident memory (VmRSS) at start, peak and end, and whether
//! tokens kept being served. Goal: RSS under 100 MB.
//!
//! `cargo bench -p loyalty-sim --bench soak` (30 s; `SOAK_SECS` and `SOAK_CONNECTIONS` change
//! the duration and the number of hostile connections). Only loopback is used; every loop
//! stops at the deadline.
//!
//! Hostile kinds, spread evenly over the connections, each reconnecting when the simulator
//! closes on it: garbage bytes, half-sent request heads, huge bodies (a 1 GiB
//! `Content-Length`, and chunked bodies with no length), slowloris heads (a byte a second) and
//! slow bodies.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use loyalty_sim::{
    diller::{demo, DillerSettings, DillerSim},
    SimClock,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Resident memory of this process in KiB, from `/proc/self/status`.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 / 1024.0)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Default)]
struct Counters {
    attacks: AtomicU64,
    tokens_ok: AtomicU64,
    tokens_failed: AtomicU64,
    longest_token_ms: AtomicU64,
    longest_gap_ms: AtomicU64,
}

/// One hostile connection's behaviour, repeated until `deadline`.
async fn attack(kind: usize, addr: String, deadline: Instant, counters: Arc<Counters>, garbage: Arc<[u8]>) {
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Ok(mut c)) = tokio::time::timeout(left, TcpStream::connect(&addr)).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        counters.attacks.fetch_add(1, Ordering::Relaxed);
        let run = async {
            match kind {
                // Garbage bytes, then read whatever comes back.
                0 => {
                    c.write_all(&garbage[..4096]).await?;
                }
                // A half-sent head, then silence.
                1 => {
                    c.write_all(b"POST /connect/token HTTP/1.1\r\nHost: sim\r\nContent-Le").await?;
                }
                // A huge body with a 1 GiB Content-Length, sent as fast as the server reads.
                2 => {
                    c.write_all(
                        b"POST /api/v2.0/stores/demo-client/departments HTTP/1.1\r\nHost: sim\r\n\
                          Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n",
                    )
                    .await?;
                    loop {
                        c.write_all(&garbage).await?;
                    }
                }
                // A huge chunked body with no length at all.
                3 => {
                    c.write_all(
                        b"POST /connect/token HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: chunked\r\n\r\n",
                    )
                    .await?;
                    loop {
                        c.write_all(b"10000\r\n").await?;
                        c.write_all(&garbage).await?;
                        c.write_all(b"\r\n").await?;
                    }
                }
                // Slowloris: a head trickled out a byte a second.
                4 => {
                    for b in b"GET /api/v2.0/stores HTTP/1.1\r\nHost: sim\r\nX-Slow: ".iter().cycle() {
                        c.write_all(&[*b]).await?;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                // A slow body: a complete head, then a byte a second.
                _ => {
                    c.write_all(
                        b"POST /connect/token HTTP/1.1\r\nHost: sim\r\n\
                          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
                    )
                    .await?;
                    loop {
                        c.write_all(b"a").await?;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            let mut sink = [0u8; 4096];
            while c.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        };
        let _ = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), run).await;
    }
}

/// Fetches tokens one after another until `deadline`, recording failures, the slowest fetch
/// and the longest time without a token.
async fn fetch_tokens(base_url: String, deadline: Instant, counters: Arc<Counters>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build().expect("client");
    let mut last_ok = Instant::now();
    while Instant::now() < deadline {
        let started = Instant::now();
        let reply = http
            .post(format!("{base_url}/connect/token"))
            .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&scope=api.retailer")
            .send()
            .await;
        let ok = match reply {
            Ok(r) if r.status() == 200 => {
                r.json::<serde_json::Value>().await.ok().is_some_and(|v| v["access_token"].is_string())
            }
            _ => false,
        };
        let took = started.elapsed().as_millis() as u64;
        counters.longest_token_ms.fetch_max(took, Ordering::Relaxed);
        if ok {
            counters.tokens_ok.fetch_add(1, Ordering::Relaxed);
            counters.longest_gap_ms.fetch_max(last_ok.elapsed().as_millis() as u64, Ordering::Relaxed);
            last_ok = Instant::now();
        } else {
            counters.tokens_failed.fetch_add(1, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn main() {
    let secs = env_or("SOAK_SECS", 30);
    let connections = env_or("SOAK_CONNECTIONS", 200) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let start_rss = rss_kib();
        let server =
            DillerSim::start(DillerSettings::default(), SimClock::default()).await.expect("simulator");
        let base_url = server.base_url().to_string();
        let addr = base_url.trim_start_matches("http://").to_string();
        println!("soak: {connections} hostile connections for {secs} s against {base_url}");

        let counters = Arc::new(Counters::default());
        let deadline = Instant::now() + Duration::from_secs(secs);
        let peak = Arc::new(AtomicU64::new(start_rss));
        let sampler = {
            let peak = peak.clone();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    peak.fetch_max(rss_kib(), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        // One shared garbage buffer: the attackers' own memory stays out of the figures.
        let garbage: Arc<[u8]> =
            (0..65_536u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let mut tasks = Vec::new();
        for i in 0..connections {
            tasks.push(tokio::spawn(attack(
                i % 6,
                addr.clone(),
                deadline,
                counters.clone(),
                garbage.clone(),
            )));
        }
        let client = tokio::spawn(fetch_tokens(base_url.clone(), deadline, counters.clone()));
        for t in tasks {
            let _ = t.await;
        }
        let _ = client.await;
        let _ = sampler.await;
        // Let closed connections and their buffers go before the last reading.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let end_rss = rss_kib();
        let journal = server.handle().journal();
        let (entries, dropped, kept) = (journal.entries().len(), journal.dropped(), journal.bytes());
        server.shutdown().await;

        let peak = peak.load(Ordering::Relaxed).max(end_rss);
        let ok = counters.tokens_ok.load(Ordering::Relaxed);
        let failed = counters.tokens_failed.load(Ordering::Relaxed);
        println!("hostile connections opened: {}", counters.attacks.load(Ordering::Relaxed));
        println!("RSS start {}  peak {}  end {}", mb(start_rss), mb(peak), mb(end_rss));
        println!(
            "tokens served: {ok}, failed: {failed}, slowest fetch {} ms, longest gap without a token {} ms",
            counters.longest_token_ms.load(Ordering::Relaxed),
            counters.longest_gap_ms.load(Ordering::Relaxed)
        );
        println!("journal: {entries} entries kept ({}), {dropped} dropped", mb(kept as u64 / 1024));
        let kept_serving = ok > 0 && failed == 0;
        println!(
            "goal RSS under 100 MB: {}; tokens kept being served: {}",
            if peak < 100 * 1024 { "met" } else { "missed" },
            if kept_serving { "yes" } else { "no" }
        );
    });
}
