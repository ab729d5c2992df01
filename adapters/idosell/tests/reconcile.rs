//! Checklist 19 / §3.5 against G7 answers the simulator does not give: after a `placeOrder`
//! whose outcome is unknown, the shop's reference is looked up with G7, whose reply need not
//! repeat the reference (§5 G7 answers status, shipments, courier and dispatch date; §9.1:
//! optional elements may be missing). An order found that way is never placed a second time.
#![cfg(feature = "simulator")]

use std::sync::atomic::{AtomicUsize, Ordering};

use loyalty_core::{Context, DropshipOrder, Provider, WriteEffect};
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
/// is unknown to the shop), and whose G7 answers `g7` once an order exists.
struct Wholesaler {
    imports: AtomicUsize,
    placed: AtomicUsize,
    lookups: AtomicUsize,
    g7: &'static str,
}

impl Wholesaler {
    const fn new(g7: &'static str) -> Wholesaler {
        Wholesaler {
            imports: AtomicUsize::new(0),
            placed: AtomicUsize::new(0),
            lookups: AtomicUsize::new(0),
            g7,
        }
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
            } else {
                reply("getOrderStatus", 0, &orders(self.g7))
            }
        } else {
            reply("unknown", 99, "")
        }
    }

    /// Places `SHOP-RECON-1` through an adapter pointed at this wholesaler.
    async fn place(&'static self) -> loyalty_core::Result<loyalty_core::PlacedOrder> {
        let answer = move |_: &str, _: &str, body: &str| (200, "text/xml; charset=utf-8", self.answer(body));
        let base = loyalty_sim::stub::serve(answer).await.unwrap();
        let adapter = IdosellAdapter::new(simulated::config_for(&base, Names::default()).unwrap()).unwrap();
        let order = DropshipOrder::new("SHOP-RECON-1", simulated::demo_recipient(), "10".to_string())
            .with_line("COF-500", Decimal::from(2));
        adapter.fulfilment().unwrap().place_order(&Context::new(), &order).await
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
