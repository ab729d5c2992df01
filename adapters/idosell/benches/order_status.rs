//! Decoding a large G7 `getOrderStatus` reply: throughput (MB/s) and peak memory against the
//! reply's size. Run with `cargo bench -p loyalty-idosell`.
//!
//! A counting global allocator records the bytes live at any moment; the peak measured while
//! decoding, minus what was live before (the reply itself), is what the decoder needs. The
//! decoder walks the reply once and keeps one order's tree at a time, so its peak should be
//! the decoded statuses plus a small constant, not a multiple of the reply.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use loyalty_idosell::decode;
use loyalty_idosell::names::Names;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A G7 reply of `orders` orders as the wholesaler writes it (SOAP 1.1 rpc/encoded, `Results`
/// key, two shipment numbers per dispatched order).
fn reply(orders: usize) -> Vec<u8> {
    let mut s = String::with_capacity(orders * 1_400 + 1_024);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ns1=\"getOrderStatus\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:SOAP-ENC=\"http://schemas.xmlsoap.org/soap/encoding/\" SOAP-ENV:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><SOAP-ENV:Body><ns1:getOrderStatusResponse><response xsi:type=\"ns1:responseType\"><errors xsi:type=\"ns1:errorsType\"><faultCode xsi:type=\"xsd:int\">0</faultCode><faultString xsi:type=\"xsd:string\"></faultString></errors><Results xsi:type=\"ns1:ResultsType\">");
    let _ = write!(s, "<orders SOAP-ENC:arrayType=\"ns1:orderType[{orders}]\" xsi:type=\"SOAP-ENC:Array\">");
    for i in 0..orders {
        let dispatched = i % 2 == 0;
        let (status, ships, date) = if dispatched {
            (
                "wait_for_receive",
                format!(
                    "<item xsi:type=\"xsd:string\">00340434{i:08}0001</item><item xsi:type=\"xsd:string\">00340434{i:08}0002</item>"
                ),
                "2024-03-16 14:05:00",
            )
        } else {
            ("new", String::new(), "")
        };
        let n = if dispatched { 2 } else { 0 };
        let _ = write!(
            s,
            "<item xsi:type=\"ns1:orderType\"><orderId xsi:type=\"xsd:string\">W-2024-{i:06}</orderId><orderSerialNumber xsi:type=\"xsd:int\">{i}</orderSerialNumber><shopOrderReference xsi:type=\"xsd:string\">SHOP-{i}</shopOrderReference><status xsi:type=\"xsd:string\">{status}</status><courierId xsi:type=\"xsd:int\">10</courierId><courierName xsi:type=\"xsd:string\">Kurier DPD</courierName><shipmentNumbers SOAP-ENC:arrayType=\"xsd:string[{n}]\" xsi:type=\"SOAP-ENC:Array\">{ships}</shipmentNumbers><dispatchDate xsi:type=\"xsd:string\">{date}</dispatchDate><orderDate xsi:type=\"xsd:string\">2024-03-15 13:00:00</orderDate><addressId xsi:type=\"xsd:int\">{i}</addressId><products SOAP-ENC:arrayType=\"ns1:orderProductType[1]\" xsi:type=\"SOAP-ENC:Array\"><item xsi:type=\"ns1:orderProductType\"><code xsi:type=\"xsd:string\">COF-500</code><codeType xsi:type=\"xsd:string\">internal</codeType><name xsi:type=\"xsd:string\">Kawa ziarnista 500 g</name><quantity xsi:type=\"xsd:float\">2</quantity><comment xsi:type=\"xsd:string\"></comment><attachments SOAP-ENC:arrayType=\"xsd:string[0]\" xsi:type=\"SOAP-ENC:Array\"></attachments></item></products><productsGross xsi:type=\"xsd:float\">69.98</productsGross><deliveryCost xsi:type=\"xsd:float\">15.55</deliveryCost><orderTotal xsi:type=\"xsd:float\">85.53</orderTotal><currency xsi:type=\"xsd:string\">PLN</currency></item>"
        );
    }
    s.push_str(
        "</orders></Results></response></ns1:getOrderStatusResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>\n",
    );
    s.into_bytes()
}

fn main() {
    let names = Names::default();
    let zone = chrono_tz::Europe::Warsaw;
    println!("| reply | orders | best time | throughput | decoder peak | peak / reply |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for orders in [800, 8_000, 40_000] {
        let body = reply(orders);
        let mb = body.len() as f64 / (1024.0 * 1024.0);
        let mut best = f64::MAX;
        let mut peak_extra = 0usize;
        for _ in 0..3 {
            let before = LIVE.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            let started = Instant::now();
            let statuses = decode::order_statuses(&names, zone, &body).expect("the reply decodes");
            let secs = started.elapsed().as_secs_f64();
            peak_extra = peak_extra.max(PEAK.load(Ordering::Relaxed) - before);
            assert_eq!(statuses.len(), orders);
            assert!(statuses[0].dispatched && statuses[0].shipments.len() == 2);
            best = best.min(secs);
            drop(statuses);
        }
        println!(
            "| {:.1} MiB | {orders} | {:.1} ms | {:.0} MiB/s | {:.2} MiB | {:.2} |",
            mb,
            best * 1000.0,
            mb / best,
            peak_extra as f64 / (1024.0 * 1024.0),
            peak_extra as f64 / body.len() as f64
        );
    }
}
