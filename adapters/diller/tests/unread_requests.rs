//! Replies by which the server says it did not read the request at all: 413 (payload too
//! large; the simulator answers it above 256 KiB), 414 (URI too long) and 415 (unsupported
//! media type). Nothing was acted on, and the same request will never be taken: a refusal
//! before acting (`Invalid` naming the body), never an unknown write. Read as "maybe booked",
//! a T1 too large for Diller stayed in the outbox and was resent forever.

mod common;

use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutRequest, Delivery, SimulatedPayment};
use loyalty_core::{Basket, Context, Currency, ErrorKind, Line, MemberLookup, Phone, WriteEffect};
use loyalty_diller::decode::reply_error;
use loyalty_sim::diller::demo;
use loyalty_sim::Fault;

use common::transactions_path;

#[test]
fn payload_too_large_uri_too_long_and_unsupported_media_type_are_refused_before_acting() {
    let replies: [(u16, &[u8]); 4] = [
        (
            413,
            br#"{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.11","title":"Payload Too Large","status":413,"detail":"The request body is larger than the 262144 bytes this server accepts.","instance":null}"#,
        ),
        (
            415,
            br#"{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.13","title":"Unsupported Media Type","status":415,"detail":null,"instance":null}"#,
        ),
        // A proxy in front of Diller answers in its own shape: the status alone decides.
        (413, b"<html><body>413 Request Entity Too Large</body></html>"),
        (414, b""),
    ];
    for (status, body) in replies {
        let e = reply_error("transactions.send", status, body).expect("an error");
        assert_eq!(e.effect(), WriteEffect::RejectedBeforeActing, "{status}: {e:?}");
        assert!(!e.is_temporary(), "{status}: the same request will never be taken: {e:?}");
        assert!(matches!(e.kind(), ErrorKind::Invalid { field, .. } if field == "body"), "{status}: {e:?}");
        assert!(e.message().contains(&status.to_string()), "{status}: {e}");
    }
}

/// At checkout: the customer paid, Diller will never take this T1, so the sale is refused once
/// (reported, not queued) instead of waiting in the outbox to be resent forever.
#[tokio::test]
async fn a_sale_diller_would_not_read_is_refused_once_not_resent_forever() {
    let env = common::start().await;
    let payment = Arc::new(SimulatedPayment::new());
    let checkout =
        Checkout::new(Arc::new(&env.adapter), payment.clone(), Arc::new(common::Bridge(env.clock.clone())));
    env.handle().inject("POST", &transactions_path(), Fault::Status(413), Some(1));
    let basket = Basket::new(Currency::NOK).with_line(Line::new(
        "l1",
        "BOOK-1",
        common::dec("1"),
        common::nok("349.00"),
    ));
    let req = CheckoutRequest::new("o-large", basket)
        .identify(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .department(demo::DEPARTMENT_ID);
    let out = checkout.complete(&Context::new(), &req).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, Delivery::Refused { .. }), "{:?}", out.delivery);
    assert_eq!(payment.captures(), 1, "the sale stands");
    assert!(checkout.pending().await.unwrap().is_empty(), "nothing waits in the outbox");
    assert!(checkout.resend_pending(&Context::new()).await.is_empty());
    assert_eq!(env.journal().count("POST", &transactions_path()), 1, "sent once, never again");
    assert!(!env.probe.transaction_exists("o-large"));
}
