//! Hostile XML: an `id` attribute nothing refers to costs no memory. A reply that holds the
//! text `href` anywhere (a comment will do) is read as a tree with SOAP-encoding references
//! resolved (SOAP 1.1 §5.4.1); the reader once kept a deep copy of every element carrying an
//! `id` as soon as it was read, referenced or not, so ids nested up to the 64-level limit
//! multiplied a reply's memory by up to its depth (a 2 MiB reply peaked at about 5 times the
//! same reply without the ids; 16 MiB, 2.6 GB). Only elements some `href` names are kept now.
//!
//! The peak is measured by a counting global allocator, so this file holds one test (the
//! binary's other threads would count too) and measures bytes, not time.
#![cfg(feature = "simulator")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use loyalty_core::{Context, CourierQuery, Provider};
use loyalty_idosell::simulated;
use loyalty_sim::idosell::IdosellSettings;

/// The system allocator, counting the bytes live now and the peak since it was last reset.
struct Counting;
static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to `System` unchanged; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let n = NOW.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(n, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        NOW.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const ENV: &str = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>"#;
const END: &str = "</SOAP-ENV:Body></SOAP-ENV:Envelope>";

/// A G5 success whose results carry 2 MiB of elements nested 55 deep (below the 64-level
/// limit), each with an `id` attribute or, for comparison, an ordinary one; a comment names
/// `href`, so the reply is read with references resolved.
fn couriers_reply(ids: bool) -> String {
    let attr = if ids { "id" } else { "ix" };
    let mut s = String::from(ENV);
    s.push_str(
        "<ns1:getCouriersResponse xmlns:ns1=\"x\"><response><errors><faultCode>0</faultCode>\
         <faultString></faultString></errors><results><couriers></couriers><extra><!-- href -->",
    );
    let mut n = 0u64;
    while s.len() < 2 << 20 {
        for _ in 0..55 {
            s.push_str(&format!("<a {attr}=\"{n}\">"));
            n += 1;
        }
        for _ in 0..55 {
            s.push_str("</a>");
        }
    }
    s.push_str("</extra></results></response></ns1:getCouriersResponse>");
    s.push_str(END);
    s
}

fn login() -> String {
    format!(
        "{ENV}<ns1:authenticateResponse xmlns:ns1=\"x\"><response><errors><faultCode>0</faultCode>\
         <faultString></faultString></errors><sessionKey>0123456789abcdef0123456789abcdef01234567</sessionKey>\
         </response></ns1:authenticateResponse>{END}"
    )
}

static WITH_IDS: OnceLock<String> = OnceLock::new();
static WITHOUT_IDS: OnceLock<String> = OnceLock::new();

/// The peak bytes allocated while the adapter lists the couriers of a wholesaler answering
/// `answer` (the login included).
async fn peak_of(answer: fn(&str) -> String) -> usize {
    let base = loyalty_sim::stub::serve(move |_: &str, _: &str, body: &str| {
        (200, "text/xml; charset=utf-8", answer(body))
    })
    .await
    .unwrap();
    let names = simulated::names_of(&IdosellSettings::default());
    let adapter = loyalty_idosell::IdosellAdapter::new(simulated::config_for(&base, names).unwrap()).unwrap();
    let f = adapter.fulfilment().unwrap();
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let got = f.couriers(&Context::new(), &CourierQuery::all()).await;
    assert!(got.is_ok(), "{got:?}");
    PEAK.load(Ordering::Relaxed).saturating_sub(before)
}

#[tokio::test(flavor = "current_thread")]
async fn ids_nothing_refers_to_cost_no_more_than_the_tree_itself() {
    WITH_IDS.get_or_init(|| couriers_reply(true));
    WITHOUT_IDS.get_or_init(|| couriers_reply(false));
    let plain =
        peak_of(|b| if b.contains("systemKey") { login() } else { WITHOUT_IDS.get().unwrap().clone() }).await;
    let with_ids =
        peak_of(|b| if b.contains("systemKey") { login() } else { WITH_IDS.get().unwrap().clone() }).await;
    println!("peak without ids {plain} B, with ids {with_ids} B");
    // The same tree either way: the ids are read and dropped. A quarter's slack for what the
    // two runs allocate differently besides (the stub server, the attribute names); a copy per
    // element with an id was about five times.
    assert!(
        with_ids <= plain + plain / 4,
        "the same 2 MiB reply peaks at {} KiB with id attributes against {} KiB without",
        with_ids >> 10,
        plain >> 10
    );
}
