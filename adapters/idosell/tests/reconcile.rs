//! Checklist 19 / §3.5 against G7 answers the simulator does not give: after a `placeOrder`
//! whose outcome is unknown, the shop's reference is looked up with G7, whose reply need not
//! repeat the reference (§5 G7 answers status, shipments, courier and dispatch date; §9.1:
//! optional elements may be missing). An order found that way is never placed a second time,
//! and a G7 success that says nothing about the orders (no results element) is no licence to
//! place again.
#![cfg(feature = "simulator")]

use std::sync::atomic::{AtomicUsize, Ordering};

use loyalty_core::{Context, DropshipOrder, ErrorKind, OrderId, Provider, WriteEffect};
use loyalty_idosell::names::Names;
use loyalty_idosell::{simulated, IdosellAdapter};
use rust_decimal::Decimal;

const ENVELOPE: &str = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body>"#;
const END: &str = "</SOAP-ENV:Body></SOAP-ENV:Envelope>";

fn reply(method: &str, code: i64, inner: &str) -> String {
    format!(
        "{ENVELOPE}<ns1:{method}Response xmlns:ns1=\"{method}\"><response><errors><faultCode>{code}</faultCode>\
         <faultString></faultString></errors>{inner}</response></ns1:{method}Response>{END}"
    )
}

/// G7's list of orders.
fn orders(items: &str) -> String {
    format!("<Results><orders SOAP-ENC:arrayType=\"ns1:orderType[]\" xsi:type=\"SOAP-ENC:Array\">{items}</orders></Results>")
}

/// A wholesaler whose first `placeOrder` places the order but whose reply is cut (the outcome
/// is unknown to the shop), and whose G7 answers `g7` once an order exists: the orders inside
/// `Results` ([`Wholesaler::new`]), or `g7` as the whole reply content ([`Wholesaler::bare`]).
struct Wholesaler {
    imports: AtomicUsize,
    placed: AtomicUsize,
    lookups: AtomicUsize,
    g7: &'static str,
    wrap: bool,
}

impl Wholesaler {
    const fn new(g7: &'static str) -> Wholesaler {
        Wholesaler {
            imports: AtomicUsize::new(0),
            placed: AtomicUsize::new(0),
            lookups: AtomicUsize::new(0),
            g7,
            wrap: true,
        }
    }

    /// G7 answers faultCode 0 and `content` after the `errors` block, as it is.
    const fn bare(content: &'static str) -> Wholesaler {
        Wholesaler { wrap: false, ..Wholesaler::new(content) }
    }

    fn answer(&self, body: &str) -> String {
        if body.contains("Authenticate>") {
            reply("Authenticate", 0, "<sessionKey>5f2b1c3d4e5f60718293a4b5c6d7e8f901234567</sessionKey>")
        } else if body.contains("basketImport>") {
            self.imports.fetch_add(1, Ordering::SeqCst);
            reply("basketImport", 0, "<results><products><product><code>COF-500</code><faultCode>0</faultCode></product></products><basketLines>1</basketLines></results>")
        } else if body.contains("placeOrder>") {
            let n = self.placed.fetch_add(1, Ordering::SeqCst) + 1;
            let full = reply(
                "placeOrder",
                0,
                &format!("<results><orderId>W-{n}</orderId><status>new</status></results>"),
            );
            if n == 1 {
                // Placed, but the reply is lost half-way.
                full[..full.len() / 2].to_string()
            } else {
                full
            }
        } else if body.contains("getOrderStatus>") {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            if self.placed.load(Ordering::SeqCst) == 0 {
                reply("getOrderStatus", 2, "")
            } else if self.wrap {
                reply("getOrderStatus", 0, &orders(self.g7))
            } else {
                reply("getOrderStatus", 0, self.g7)
            }
        } else {
            reply("unknown", 99, "")
        }
    }

    /// An adapter pointed at this wholesaler.
    async fn adapter(&'static self) -> IdosellAdapter {
        let answer = move |_: &str, _: &str, body: &str| (200, "text/xml; charset=utf-8", self.answer(body));
        let base = loyalty_sim::stub::serve(answer).await.unwrap();
        IdosellAdapter::new(simulated::config_for(&base, Names::default()).unwrap()).unwrap()
    }

    /// Places `SHOP-RECON-1` through `adapter`.
    async fn place_with(adapter: &IdosellAdapter) -> loyalty_core::Result<loyalty_core::PlacedOrder> {
        let order = DropshipOrder::new("SHOP-RECON-1", simulated::demo_recipient(), "10".to_string())
            .with_line("COF-500", Decimal::from(2));
        adapter.fulfilment().unwrap().place_order(&Context::new(), &order).await
    }

    /// Places `SHOP-RECON-1` through an adapter pointed at this wholesaler.
    async fn place(&'static self) -> loyalty_core::Result<loyalty_core::PlacedOrder> {
        Self::place_with(&self.adapter().await).await
    }

    fn counts(&self) -> (usize, usize, usize) {
        (
            self.imports.load(Ordering::SeqCst),
            self.placed.load(Ordering::SeqCst),
            self.lookups.load(Ordering::SeqCst),
        )
    }
}

#[tokio::test]
async fn a_lost_placement_found_by_g7_without_its_reference_is_that_order_not_placed_again() {
    static W: Wholesaler = Wholesaler::new("<item><orderId>W-1</orderId><status>new</status></item>");
    let placed = W.place().await.unwrap();
    assert_eq!(placed.order_id.as_str(), "W-1");
    assert_eq!(W.counts(), (1, 1, 1), "imported, placed and looked up once each");
}

#[tokio::test]
async fn several_orders_without_the_reference_leave_the_outcome_unknown_and_nothing_is_placed_again() {
    static W: Wholesaler = Wholesaler::new(
        "<item><orderId>W-1</orderId><status>new</status></item><item><orderId>W-7</orderId><status>finished</status></item>",
    );
    let err = W.place().await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert!(err.message().contains("2 orders (W-1, W-7) answered for reference \"SHOP-RECON-1\""), "{err}");
    assert_eq!(W.counts(), (1, 1, 1), "never imported and placed again on a guess");
}

#[tokio::test]
async fn an_order_repeating_another_reference_is_not_the_one_looked_up() {
    // The only order answered names another reference: this one was not placed, so it is
    // placed (once more) as after an empty answer.
    static W: Wholesaler = Wholesaler::new(
        "<item><orderId>W-0</orderId><status>new</status><shopOrderReference>SHOP-OTHER</shopOrderReference></item>",
    );
    let placed = W.place().await.unwrap();
    assert_eq!(placed.order_id.as_str(), "W-2");
    assert_eq!(W.counts(), (2, 2, 1));
}

#[tokio::test]
async fn an_order_repeating_the_reference_wins_over_one_without() {
    static W: Wholesaler = Wholesaler::new(
        "<item><orderId>W-5</orderId><status>new</status></item><item><orderId>W-1</orderId><status>new</status><shopOrderReference> SHOP-RECON-1 </shopOrderReference></item>",
    );
    let placed = W.place().await.unwrap();
    assert_eq!(placed.order_id.as_str(), "W-1");
    assert_eq!(W.counts(), (1, 1, 1));
}

#[tokio::test]
async fn a_g7_success_without_a_results_element_leaves_a_lost_placement_unknown() {
    // faultCode 0 and the orders outside any results element: the reply says nothing about
    // which orders exist. Read as "none", the lost placement would be placed a second time
    // (a second order, paid twice); it stays `Unknown` instead, as G4/G5/G6/G8 refuse such a
    // reply, and `order_status` does not claim the order does not exist.
    static W: Wholesaler = Wholesaler::bare(
        "<orders SOAP-ENC:arrayType=\"ns1:orderType[1]\" xsi:type=\"SOAP-ENC:Array\"><item><orderId>W-1</orderId><status>new</status><shopOrderReference>SHOP-RECON-1</shopOrderReference></item></orders>",
    );
    let adapter = W.adapter().await;
    let err = Wholesaler::place_with(&adapter).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert!(err.message().contains("Results: missing from a successful reply"), "{err}");
    assert_eq!(W.counts(), (1, 1, 1), "never imported and placed again on a reply that says nothing");

    let status = adapter.fulfilment().unwrap().order_status(&Context::new(), &OrderId::new("W-1")).await;
    let err = status.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
}

#[tokio::test]
async fn a_g7_results_element_spelled_result_is_read() {
    // The captured admin reply (contract §2.1, §6.1 "the `result(s)` element") writes the
    // singular `result`: the order under it is found, not placed again.
    static W: Wholesaler = Wholesaler::bare(
        "<result xsi:type=\"ns1:resultType\"><orders SOAP-ENC:arrayType=\"ns1:orderType[1]\" xsi:type=\"SOAP-ENC:Array\"><item><orderId>W-1</orderId><status>new</status><shopOrderReference>SHOP-RECON-1</shopOrderReference></item></orders></result>",
    );
    let adapter = W.adapter().await;
    let placed = Wholesaler::place_with(&adapter).await.unwrap();
    assert_eq!(placed.order_id.as_str(), "W-1");
    assert_eq!(W.counts(), (1, 1, 1));
    let status = adapter.fulfilment().unwrap().order_status(&Context::new(), &OrderId::new("W-1")).await;
    assert!(status.is_ok(), "{status:?}");
}

#[tokio::test]
async fn an_empty_g7_results_element_is_no_orders() {
    // `<Results/>` with faultCode 0 answers "none", like faultCode 2: placed once more.
    static W: Wholesaler = Wholesaler::bare("<Results/>");
    let placed = W.place().await.unwrap();
    assert_eq!(placed.order_id.as_str(), "W-2");
    assert_eq!(W.counts(), (2, 2, 1));
}
